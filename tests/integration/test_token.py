"""POST /api/v1/auth/token with the password grant: bodies, identifiers,
RFC 6749 errors, the issued JWT and its verification with PyJWT."""

import json
import subprocess
import time

import jwt
import pytest

import wardenlib as W


def _assert_token_response(r):
    assert r.status == 200, r
    assert r.content_type == W.JSON, r
    assert "no-store" in (r.header("Cache-Control") or ""), r
    assert (r.header("Pragma") or "").lower() == "no-cache", r
    b = r.json()
    assert isinstance(b["access_token"], str) and b["access_token"].count(".") == 2, b
    assert b["token_type"].lower() == "bearer", b
    assert b["expires_in"] == W.ACCESS_TTL, b
    rt = b["refresh_token"]
    assert W.B64URL_RE.match(rt) and len(W.b64url_decode(rt)) >= 32, "refresh token shape"
    return b


def test_password_grant_with_form_body(client, user):
    _assert_token_response(client.login_raw(user.username, user.password))


def test_password_grant_with_json_body(client, user):
    r = client.token({"grant_type": "password", "username": user.username,
                      "password": user.password}, as_json=True)
    _assert_token_response(r)


def test_login_by_username_in_any_case(client, user):
    _assert_token_response(client.login_raw(user.username.upper(), user.password))
    _assert_token_response(client.login_raw(user.username.swapcase(), user.password))


def test_login_by_email_in_any_case(client, user):
    _assert_token_response(client.login_raw(user.email, user.password))
    _assert_token_response(client.login_raw(user.email.upper(), user.password))


def test_each_login_issues_distinct_tokens(client, user):
    a = client.login(user.username, user.password)
    b = client.login(user.username, user.password)
    assert a["refresh_token"] != b["refresh_token"]
    assert W.jwt_parts(a["access_token"])[1]["jti"] != W.jwt_parts(b["access_token"])[1]["jti"]


def test_access_token_header_and_claims(client, user):
    t0 = int(time.time())
    tok = client.login(user.username, user.password)["access_token"]
    header, claims = W.jwt_parts(tok)
    assert header.get("alg") == "EdDSA", header
    assert header.get("typ") == "at+jwt", header
    assert isinstance(header.get("kid"), str) and header["kid"], header
    for k in ("iss", "aud", "sub", "iat", "exp", "jti", "username", "roles", "ver"):
        assert k in claims, "claim %s missing: %r" % (k, claims)
    assert claims["iss"] == W.ISSUER
    assert claims["aud"] == W.AUDIENCE or claims["aud"] == [W.AUDIENCE]
    assert claims["sub"] == user.id
    assert claims["username"] == user.username
    assert claims["roles"] == []
    assert isinstance(claims["ver"], int)
    assert isinstance(claims["jti"], str) and claims["jti"]
    assert abs(claims["iat"] - t0) <= 5, claims
    assert claims["exp"] - claims["iat"] == W.ACCESS_TTL, claims
    for secret in ("password", "email", "hash"):
        assert secret not in claims


def test_access_token_verifies_with_pyjwt_against_jwks(client, user, jwks):
    tok = client.login(user.username, user.password)["access_token"]
    kid = jwt.get_unverified_header(tok)["kid"]
    keys = [k for k in jwks["keys"] if k["kid"] == kid]
    assert len(keys) == 1, "kid %s not in the JWKS" % kid
    key = jwt.PyJWK(keys[0])
    claims = jwt.decode(tok, key.key, algorithms=["EdDSA"], audience=W.AUDIENCE,
                        issuer=W.ISSUER,
                        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]})
    assert claims["sub"] == user.id
    # a changed payload no longer verifies
    h, p, s = tok.split(".")
    c2 = dict(claims, roles=["admin"])
    forged = h + "." + W.b64url(json.dumps(c2).encode()) + "." + s
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, key.key, algorithms=["EdDSA"], audience=W.AUDIENCE)


def test_unsupported_grant_type(client):
    b = W.assert_oauth_error(client.token({"grant_type": "client_credentials"}),
                             "unsupported_grant_type")
    assert "error_description" in b
    W.assert_oauth_error(client.token({"grant_type": "nonsense", "username": "a",
                                       "password": "b"}), "unsupported_grant_type")


def test_missing_parameters_are_invalid_request(client, user):
    W.assert_oauth_error(client.token({}), "invalid_request")
    W.assert_oauth_error(client.token({"username": user.username, "password": user.password}),
                         "invalid_request")
    W.assert_oauth_error(client.token({"grant_type": "password", "username": user.username}),
                         "invalid_request")
    W.assert_oauth_error(client.token({"grant_type": "password", "password": user.password}),
                         "invalid_request")
    W.assert_oauth_error(client.token({"grant_type": "refresh_token"}), "invalid_request")
    W.assert_oauth_error(client.token({"grant_type": "password", "username": user.username},
                                      as_json=True), "invalid_request")


def test_repeated_parameter_is_invalid_request(client, user):
    body = "grant_type=password&username=%s&username=%s&password=%s" % (
        user.username, user.username, user.password)
    W.assert_oauth_error(client.post("/api/v1/auth/token", body=body, content_type=W.FORM),
                         "invalid_request")


def test_wrong_password_unknown_user_and_disabled_user_answer_alike(client, admin):
    victim = client.new_user("dis")
    other = client.new_user("wrong")
    r1 = client.login_raw(other.username, "Wrong-" + other.password)
    r2 = client.login_raw(W.uniq("ghost"), W.strong_password())
    r = client.patch("/api/v1/users/" + victim.id, json_body={"is_active": False},
                     token=admin.access)
    assert r.status == 200, r
    r3 = client.login_raw(victim.username, victim.password)
    descs = set()
    for r in (r1, r2, r3):
        b = W.assert_oauth_error(r, "invalid_grant")
        descs.add(b.get("error_description"))
        assert r.header("X-Request-Id") and r.header("X-Content-Type-Options") == "nosniff"
    assert len(descs) == 1, "the three failures must read the same: %r" % descs


def test_token_errors_carry_no_store(client):
    r = client.login_raw(W.uniq("ghost"), W.strong_password())
    W.assert_oauth_error(r, "invalid_grant")
    assert "no-store" in (r.header("Cache-Control") or ""), r


def test_bad_refresh_token_is_invalid_grant(client):
    W.assert_oauth_error(client.refresh_raw("A" * 43), "invalid_grant")
    W.assert_oauth_error(client.refresh_raw("not a token"), "invalid_grant")


def test_malformed_json_token_body_is_invalid_request(client):
    r = client.post("/api/v1/auth/token", body=b'{"grant_type":', content_type=W.JSON)
    assert r.status == 400, r
    assert r.json().get("error") == "invalid_request", r


def _login_while_row_changes(client, user, change):
    """Logs in while another transaction holds the user's row with change
    made and commits it only once the login has verified the password."""
    marker = "race%s" % W.uniq("")
    script = ("BEGIN;\nUPDATE users SET %s WHERE id = '%s';\n"
              "SELECT pg_sleep(2) AS %s;\nCOMMIT;\n" % (change, user.id, marker))
    p = subprocess.Popen(["/usr/bin/psql", W.database_url(), "-X", "-q", "-v",
                          "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        p.stdin.write(script)
        p.stdin.close()
        deadline = time.monotonic() + 10
        while not W.psql("SELECT 1 FROM pg_stat_activity WHERE state = 'active'"
                         " AND query LIKE '%%AS %s%%' AND pid <> pg_backend_pid()"
                         % marker):
            assert time.monotonic() < deadline, "the row-holding transaction did not start"
            time.sleep(0.05)
        # the lookup reads the old row; the write that issues the tokens
        # waits for the change to commit
        r = client.login_raw(user.username, user.password)
    finally:
        assert p.wait(timeout=30) == 0, p.stderr.read()
    return r


@pytest.mark.parametrize("change", [
    "password_hash = password_hash || 'x', token_version = token_version + 1",
    "is_active = false, token_version = token_version + 1",
])
def test_login_racing_a_password_change_or_disabling_issues_no_tokens(client, change):
    u = client.new_user("race", login=False)
    r = _login_while_row_changes(client, u, change)
    W.assert_oauth_error(r, "invalid_grant")
    assert W.psql("SELECT count(*) FROM refresh_tokens WHERE user_id = '%s'" % u.id) == ["0"]
