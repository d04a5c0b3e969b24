"""oauth4webapi (npm, 2.x): discovery, the password grant through the
generic token endpoint request, RFC 9068 validation of the access token,
refresh, revocation and RFC 6750 challenges, as this strict library reads
them."""

from conftest import CLIENT_ID, assert_ok, js

SCRIPT = "oauth4webapi.mjs"


def test_oauth4webapi_discovery(node_modules, base_url, issuer):
    """RFC 8414 3 (the well-known URI of an issuer without a path) and 3.3
    (the issuer in the metadata is the issuer the client asked for), which
    processDiscoveryResponse checks."""
    out = assert_ok(js(node_modules, SCRIPT, "discover", base=base_url, issuer=issuer))
    m = out["metadata"]
    assert m["issuer"] == issuer, m
    assert m["token_endpoint"] == base_url + "/oauth2/token", m
    assert m["revocation_endpoint"] == base_url + "/oauth2/revoke", m
    assert m["jwks_uri"] == base_url + "/.well-known/jwks.json", m


def test_oauth4webapi_discovered_flow(node_modules, base_url, issuer, audience, user):
    """RFC 8414 2: a client configured only by the metadata logs in,
    validates, refreshes and revokes (as test_oauth4webapi_flow)."""
    out = assert_ok(js(node_modules, SCRIPT, "flow", base=base_url, issuer=issuer,
                       audience=audience, discover=True, username=user.username,
                       password=user.password))
    assert "oauth_error" not in out, out
    assert out["claims"]["client_id"] == CLIENT_ID, out


def test_oauth4webapi_flow(node_modules, base_url, issuer, audience, user):
    """RFC 6749 4.3 and 5.1: the password grant (a public client sends its
    client_id, 2.3 and 3.2.1); RFC 9068 4: validateJwtAccessToken accepts
    the access token (typ at+jwt, iss, exp, aud, sub, iat, jti and
    client_id present, 2.2); RFC 6750 2.1: it opens /users/me; RFC 6749 6:
    the refresh rotates; RFC 7009 2.2: the revocation answers 200 (and,
    with a body, application/json), after which the refresh token is dead
    (invalid_grant, RFC 6749 5.2)."""
    out = assert_ok(js(node_modules, SCRIPT, "flow", base=base_url, issuer=issuer,
                       audience=audience, username=user.username, password=user.password))
    assert "oauth_error" not in out, out
    first, second, claims = out["first"], out["second"], out["claims"]
    assert first["token_type"].lower() == "bearer", first
    assert first["header"]["typ"] == "at+jwt", first
    assert claims["client_id"] == CLIENT_ID and claims["sub"] == user.id, claims
    assert claims["iss"] == issuer, claims
    assert out["me"]["status"] == 200 and out["me"]["body"]["id"] == user.id, out["me"]
    assert second["refresh_token"] != first["refresh_token"], out
    assert out["revoke"]["status"] == 200 and out["revoke"]["error"] is None, out["revoke"]
    assert (out["revoke"]["content_type"] or "").split(";")[0] == "application/json", \
        out["revoke"]
    e = out["refresh_revoked"].get("oauth_error")
    assert e and e["error"] == "invalid_grant", out["refresh_revoked"]


def test_oauth4webapi_reads_errors(node_modules, base_url, issuer, user, tokens):
    """RFC 6749 5.2: a wrong password is invalid_grant.  RFC 6750 3 and
    3.1: a bearer route answers a bad token 401 with a Bearer challenge,
    error="invalid_token"; a request in another scheme (Basic) 401 with a
    Bearer challenge and no error code (3.1: "If the request lacks any
    authentication information (e.g., ... attempted using an unsupported
    authentication method), the resource server SHOULD NOT include an error
    code"); a malformed Bearer header (two tokens) 400 invalid_request; a
    token without the role 403 with error="insufficient_scope"."""
    out = assert_ok(js(node_modules, SCRIPT, "errors", base=base_url, issuer=issuer,
                       username=user.username, password=user.password,
                       access_token=tokens["access_token"]))
    assert out["wrong_password"].get("error") == "invalid_grant", out

    def bearer_error(case, status, error):
        c = out[case]
        assert c["status"] == status, (case, c)
        bearer = [x for x in c["challenges"] if x["scheme"] == "bearer"]
        assert bearer, (case, c)
        assert bearer[0]["parameters"].get("error") == error, (case, c)

    bearer_error("bad_token", 401, "invalid_token")
    bearer_error("basic", 401, None)
    bearer_error("malformed", 400, "invalid_request")
    bearer_error("not_admin", 403, "insufficient_scope")
