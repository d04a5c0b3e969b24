"""requests-oauthlib (Debian's python3-requests-oauthlib, on oauthlib):
the password grant with LegacyApplicationClient, then the user API through
the session, and the automatic refresh of an expired token."""

import json

import pytest
from oauthlib.oauth2 import InvalidGrantError, LegacyApplicationClient
from requests_oauthlib import OAuth2Session

from conftest import CLIENT_ID


def logged_in(base_url, user, include_client_id):
    s = OAuth2Session(client=LegacyApplicationClient(client_id=CLIENT_ID))
    t = s.fetch_token(base_url + "/api/v1/auth/token", username=user.username,
                      password=user.password, include_client_id=include_client_id)
    return s, t


@pytest.mark.parametrize("include_client_id", [True, None])
def test_requests_oauthlib_password_grant(base_url, user, include_client_id):
    """RFC 6749 4.3.2 and 5.1: LegacyApplicationClient's password grant,
    with client_id in the body (include_client_id, 2.3.1 for a public
    client) or, oauthlib's default, in Basic with an empty secret (2.3.1;
    warden accepts Basic for its own client id, any secret); RFC 6750 2.1:
    the session's requests carry the token."""
    s, t = logged_in(base_url, user, include_client_id)
    assert t["token_type"].lower() == "bearer" and t["refresh_token"], t
    r = s.get(base_url + "/api/v1/users/me")
    assert r.status_code == 200 and r.json()["username"] == user.username, r.text


def test_requests_oauthlib_user_api(base_url, user):
    """The user API through an OAuth2Session (RFC 6750 2.1): GET, PATCH
    (application/json and RFC 7396 application/merge-patch+json) and
    DELETE of /users/me, the forward-auth check (204 and the X-Auth-*
    headers), and logout, after which the refresh token answers
    invalid_grant (RFC 6749 5.2)."""
    s, t = logged_in(base_url, user, True)
    me = base_url + "/api/v1/users/me"
    r = s.patch(me, json={"full_name": "Ada Lovelace"})
    assert r.status_code == 200 and r.json()["full_name"] == "Ada Lovelace", r.text
    r = s.patch(me, data=json.dumps({"full_name": "Ada King"}),
                headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["full_name"] == "Ada King", r.text
    assert s.get(me).json()["full_name"] == "Ada King"
    r = s.get(base_url + "/api/v1/auth/verify")
    assert r.status_code == 204, r.text
    assert r.headers["X-Auth-User-Id"] == user.id, r.headers
    assert r.headers["X-Auth-Username"] == user.username, r.headers
    assert "X-Auth-Roles" in r.headers, r.headers
    r = s.post(base_url + "/api/v1/auth/logout")
    assert r.status_code == 204, r.text
    with pytest.raises(InvalidGrantError):
        s.refresh_token(base_url + "/api/v1/auth/token", refresh_token=t["refresh_token"],
                        client_id=CLIENT_ID)
    # A fresh login, then the account is deleted with its password.
    s, _ = logged_in(base_url, user, True)
    r = s.delete(me, json={"password": user.password})
    assert r.status_code == 204, r.text
    assert s.get(me).status_code == 401
    with pytest.raises(InvalidGrantError):
        logged_in(base_url, user, True)


def test_requests_oauthlib_auto_refresh(base_url, user):
    """RFC 6749 6: a session whose token has expired refreshes it at
    auto_refresh_url (client_id in the body, auto_refresh_kwargs) before
    its request, hands the rotated token to token_updater, and the request
    succeeds with the new access token.  requests-oauthlib 1.3 also puts the
    request's own keyword arguments (allow_redirects=True, from
    Session.get) into the refresh body: RFC 6749 3.2, "The authorization
    server MUST ignore unrecognized request parameters"."""
    _, t = logged_in(base_url, user, True)
    t = dict(t, expires_in=-30)
    t.pop("expires_at", None)
    updates = []
    s = OAuth2Session(CLIENT_ID, token=t,
                      auto_refresh_url=base_url + "/api/v1/auth/token",
                      auto_refresh_kwargs={"client_id": CLIENT_ID},
                      token_updater=updates.append)
    r = s.get(base_url + "/api/v1/users/me")
    assert r.status_code == 200 and r.json()["id"] == user.id, r.text
    assert len(updates) == 1, updates
    assert updates[0]["refresh_token"] != t["refresh_token"], updates
    assert updates[0]["access_token"] != t["access_token"], updates


def test_requests_oauthlib_reads_invalid_grant(base_url, user):
    """RFC 6749 5.2: a wrong password is invalid_grant, which oauthlib
    raises as InvalidGrantError."""
    s = OAuth2Session(client=LegacyApplicationClient(client_id=CLIENT_ID))
    with pytest.raises(InvalidGrantError):
        s.fetch_token(base_url + "/api/v1/auth/token", username=user.username,
                      password=user.password + "-wrong", include_client_id=True)
