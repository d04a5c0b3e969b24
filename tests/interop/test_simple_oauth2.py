"""simple-oauth2 (npm, 5.x): a client of the resource owner password
grant, which sends client_id and client_secret with every request and
parses every answer as strict JSON."""

import pytest

from conftest import assert_ok, js

SCRIPT = "simple-oauth2.js"


@pytest.mark.parametrize("method,secret", [("body", ""), ("header", "not-a-secret")])
def test_simple_oauth2_password_refresh_revoke(node_modules, base_url, user, method,
                                               secret):
    """RFC 6749 2.3.1: the client authenticates with client_id warden and
    a client_secret in the body (authorizationMethod body) or in Basic
    (header); warden's client is public, so any secret is ignored (3.2.1).
    RFC 6749 4.3.2, 5.1: getToken; 6: refresh rotates; RFC 7009 2.1 and
    2.2: revoke and revokeAll (which also revokes the access token, an
    answer of 200) answer 200 with a JSON body this library can read, and
    the revoked refresh token then answers invalid_grant (RFC 6749 5.2)."""
    out = assert_ok(js(node_modules, SCRIPT, "flow", base=base_url, method=method,
                       secret=secret, username=user.username, password=user.password))
    first, second, third = out["first"], out["second"], out["third"]
    for t in (first, second, third):
        assert t["token_type"].lower() == "bearer", t
        assert t["access_token"] and t["refresh_token"], t
    assert len({first["refresh_token"], second["refresh_token"],
                third["refresh_token"]}) == 3, out
    assert out["expired"] is False, out
    assert out["revoke_answer"] == {}, out
    for k in ("refresh_after_revoke", "refresh_after_revoke_all"):
        e = out[k]
        assert e is not None and e["status"] == 400, (k, e)
        assert e["payload"]["error"] == "invalid_grant", (k, e)


def test_simple_oauth2_reads_invalid_grant(node_modules, base_url, user):
    """RFC 6749 5.2: a wrong password answers 400 application/json
    invalid_grant with Cache-Control: no-store (5.1), which
    simple-oauth2 throws as an HTTP error carrying the JSON payload.  (The
    client authenticates in Basic here, so that this reads the error alone:
    the body method is test_simple_oauth2_password_refresh_revoke's.)"""
    out = assert_ok(js(node_modules, SCRIPT, "wrong_password", base=base_url,
                       method="header", secret="not-a-secret",
                       username=user.username, password=user.password))
    e = out["thrown"]
    assert e is not None and e["status"] == 400, out
    assert e["payload"]["error"] == "invalid_grant", e
    assert isinstance(e["payload"].get("error_description", ""), str), e
    assert "no-store" in e["headers"].get("cache-control", ""), e
