"""Authlib (Debian's python3-authlib): OAuth2Session's password grant,
refresh and revocation, and authlib.jose verifying the access token from
the JWKS."""

import base64
import json

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.jose.errors import BadSignatureError

from conftest import CLIENT_ID

METHODS = [("none", None), ("client_secret_post", "not-a-secret"),
           ("client_secret_basic", "not-a-secret")]


def session(method, secret):
    return OAuth2Session(client_id=CLIENT_ID, client_secret=secret,
                         token_endpoint_auth_method=method)


@pytest.mark.parametrize("method,secret", METHODS)
def test_authlib_password_refresh_revoke(base_url, user, method, secret):
    """RFC 6749 4.3.2 and 5.1: fetch_token with the password grant, the
    client authenticated as `method` (2.3.1, 3.2.1: a public client's
    secret is ignored); RFC 6750 2.1: the session calls /users/me with it;
    RFC 6749 6: refresh_token rotates; RFC 7009 2.1 and 2.2: revoke_token
    (sending client_id) answers 200, and the revoked refresh token then
    answers invalid_grant (RFC 6749 5.2)."""
    token_url = base_url + "/api/v1/auth/token"
    s = session(method, secret)
    t1 = s.fetch_token(token_url, grant_type="password", username=user.username,
                       password=user.password)
    assert t1["token_type"].lower() == "bearer" and t1["refresh_token"], t1
    me = s.get(base_url + "/api/v1/users/me")
    assert me.status_code == 200 and me.json()["id"] == user.id, me.text
    t2 = s.refresh_token(token_url, refresh_token=t1["refresh_token"])
    assert t2["refresh_token"] != t1["refresh_token"], t2
    r = s.revoke_token(base_url + "/api/v1/auth/revoke", token=t2["refresh_token"],
                       token_type_hint="refresh_token")
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.headers.get("Content-Type", "").split(";")[0] == "application/json", r.headers
    assert r.json() == {}, r.text
    with pytest.raises(OAuthError) as e:
        s.refresh_token(token_url, refresh_token=t2["refresh_token"])
    assert e.value.error == "invalid_grant", e.value


def test_authlib_reads_invalid_grant(base_url, user):
    """RFC 6749 5.2: a wrong password is invalid_grant, an OAuthError."""
    s = session("none", None)
    with pytest.raises(OAuthError) as e:
        s.fetch_token(base_url + "/api/v1/auth/token", grant_type="password",
                      username=user.username, password=user.password + "-wrong")
    assert e.value.error == "invalid_grant", e.value


def test_authlib_jose_verifies_access_token(base_url, issuer, audience, tokens, user):
    """RFC 9068 2.1, 2.2 and 4: authlib.jose verifies the EdDSA at+jwt token
    with the JWKS key its kid names, and its iss, aud and exp; a changed
    payload is refused (RFC 7515 5.2)."""
    keys = JsonWebKey.import_key_set(requests.get(base_url + "/.well-known/jwks.json",
                                                  timeout=10).json())
    opts = {"iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": audience},
            "exp": {"essential": True}, "sub": {"essential": True},
            "client_id": {"essential": True, "value": CLIENT_ID}}
    claims = jwt.decode(tokens["access_token"], keys, claims_options=opts)
    claims.validate()
    assert claims.header["typ"] == "at+jwt" and claims.header["alg"] == "EdDSA", claims.header
    assert claims["sub"] == user.id, claims
    h, c, s = tokens["access_token"].split(".")
    forged = json.loads(base64.urlsafe_b64decode(c + "=" * (-len(c) % 4)))
    forged["sub"] = "00000000-0000-0000-0000-000000000000"
    c = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(BadSignatureError):
        jwt.decode("%s.%s.%s" % (h, c, s), keys, claims_options=opts)
