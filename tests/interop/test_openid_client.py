"""openid-client (npm, 5.x): a relying party that discovers warden's
metadata, logs in with the password grant, refreshes and revokes, with
each client authentication method it offers for a client without keys."""

import pytest

from conftest import CLIENT_ID, assert_ok, js

SCRIPT = "openid-client.js"


def test_openid_client_discovers_metadata(node_modules, base_url, issuer):
    """RFC 8414 3 and 3.3: the metadata at /.well-known/oauth-authorization-server
    names the issuer (equal to the URL it was fetched under, less the
    well-known suffix), the token, revocation and JWKS endpoints, the
    grants and the client authentication methods."""
    out = assert_ok(js(node_modules, SCRIPT, "discover", base=base_url))
    m = out["metadata"]
    assert m["issuer"] == issuer == base_url, m
    assert m["token_endpoint"] == base_url + "/oauth2/token", m
    assert m["revocation_endpoint"] == base_url + "/oauth2/revoke", m
    assert m["jwks_uri"] == base_url + "/.well-known/jwks.json", m
    assert {"password", "refresh_token"} <= set(m["grant_types_supported"]), m
    assert "none" in m["token_endpoint_auth_methods_supported"], m


def test_openid_client_discovered_issuer_logs_in(node_modules, base_url, issuer, user):
    """RFC 8414 2 and 3: a client configured only by the discovered
    metadata reaches the token and revocation endpoints (RFC 6749 4.3,
    6; RFC 7009 2)."""
    out = assert_ok(js(node_modules, SCRIPT, "flow", base=base_url, issuer=issuer,
                       discover=True, username=user.username, password=user.password))
    assert out["first"]["claims"]["client_id"] == CLIENT_ID, out


@pytest.mark.parametrize("method,secret", [
    ("none", None),
    ("client_secret_post", "not-a-secret"),
    ("client_secret_basic", "not-a-secret"),
])
def test_openid_client_password_refresh_revoke(node_modules, base_url, issuer, user,
                                              method, secret):
    """RFC 6749 4.3.2 and 5.1: the password grant answers a Bearer token
    set; 2.3.1 and 3.2.1: the client authenticates as `method` (warden's
    first-party client is public: a client_secret in the body (post) or in
    Basic is ignored, the client_id must be the configured one); 6 and
    10.4: the refresh token rotates; RFC 7009 2.1: the revoked refresh
    token then answers invalid_grant (RFC 6749 5.2) as an OPError."""
    params = dict(base=base_url, issuer=issuer, method=method,
                  username=user.username, password=user.password)
    if secret is not None:
        params["secret"] = secret
    out = assert_ok(js(node_modules, SCRIPT, "flow", **params))
    first, second = out["first"], out["second"]
    for ts in (first, second):
        assert ts["token_type"].lower() == "bearer", ts
        assert isinstance(ts["expires_in"], int) and ts["expires_in"] > 0, ts
        assert not ts["expired"], ts
        assert ts["header"]["typ"] == "at+jwt", ts
        assert ts["claims"]["client_id"] == CLIENT_ID, ts
        assert ts["claims"]["sub"] == user.id, ts
    assert second["refresh_token"] != first["refresh_token"], out
    assert second["access_token"] != first["access_token"], out
    e = out["refresh_revoked"]
    assert e is not None and e["op_error"] and e["error"] == "invalid_grant", e


def test_openid_client_ignores_unknown_parameters(node_modules, base_url, issuer, user):
    """RFC 6749 3.2: "The authorization server MUST ignore unrecognized
    request parameters": resource (RFC 8707 2), audience, state and scope
    sent along a password grant do not make it fail."""
    out = assert_ok(js(node_modules, SCRIPT, "flow", base=base_url, issuer=issuer,
                       username=user.username, password=user.password,
                       extra={"resource": base_url + "/api", "audience": "x",
                              "state": "s-1", "scope": "openid profile"}))
    assert out["first"]["claims"]["sub"] == user.id, out


def test_openid_client_reads_invalid_grant(node_modules, base_url, issuer, user):
    """RFC 6749 5.2: a wrong password answers 400 invalid_grant, which
    openid-client reports as an OPError with `error` set."""
    out = assert_ok(js(node_modules, SCRIPT, "grant_error", base=base_url, issuer=issuer,
                       username=user.username, password=user.password + "-wrong"))
    e = out["thrown"]
    assert e is not None and e["op_error"], out
    assert e["error"] == "invalid_grant" and e["status"] == 400, e


def test_openid_client_other_client_id_is_invalid_client(node_modules, base_url, issuer,
                                                         user):
    """RFC 6749 5.2: a client_id that is not warden's client answers 401
    invalid_client, an OPError."""
    out = assert_ok(js(node_modules, SCRIPT, "grant_error", base=base_url, issuer=issuer,
                       client_id="someone-else", username=user.username,
                       password=user.password))
    e = out["thrown"]
    assert e is not None and e["op_error"], out
    assert e["error"] == "invalid_client" and e["status"] == 401, e
