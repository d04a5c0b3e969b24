"""The OpenID Connect provider's back channel: the authorization_code
grant at /oauth2/token with each client authentication, PKCE, single-use
codes, ID tokens checked against the JWKS, refresh of a client's family,
userinfo, introspection (RFC 7662) and revocation (RFC 7009).  Codes are
written straight into oauth_codes as codes_insert writes them (the SHA-256
of the code), so that no authorization endpoint is needed."""

import base64
import hashlib
import json
import secrets
import time
import urllib.parse

import pytest
from jwcrypto import jwk, jws

import wardenlib as W

REDIRECT = "https://app.example.com/cb"


def _client(daemon, *extra):
    out = daemon.wardenctl("client", "add", W.uniq("app"), "--redirect-uri", REDIRECT,
                           "--redirect-uri", "http://127.0.0.1:8080/cb", "--json", *extra)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def conf(daemon):
    return _client(daemon, "--scope", "openid profile email roles offline_access")


@pytest.fixture(scope="module")
def public(daemon):
    return _client(daemon, "--public", "--scope", "openid profile email offline_access")


@pytest.fixture(scope="module")
def eddsa(daemon):
    return _client(daemon, "--id-token-alg", "EdDSA")


def _verifier():
    return secrets.token_urlsafe(48)


def _challenge(v):
    return base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=").decode()


def _code(cl, user, scopes="openid profile email", nonce="n-0S6", verifier=None,
          redirect=REDIRECT, ttl=60, auth_time=None):
    code = secrets.token_urlsafe(32)
    verifier = verifier or _verifier()
    h = hashlib.sha256(code.encode()).hexdigest()
    arr = "{" + ",".join(scopes.split()) + "}"
    W.psql("INSERT INTO oauth_codes (code_hash, client_id, user_id, token_version,"
           " redirect_uri, scopes, nonce, code_challenge, auth_time, expires_at, created_at)"
           " SELECT '\\x%s'::bytea, '%s', id, token_version, '%s', '%s', %s, '%s',"
           " to_timestamp(%d), now() + interval '%d seconds', now() - interval '1 second'"
           " FROM users WHERE id = '%s'"
           % (h, cl["client_id"], redirect, arr,
              "'%s'" % nonce if nonce else "NULL", _challenge(verifier),
              auth_time or int(time.time()) - 5, ttl, user.id))
    return code, verifier


def _basic(cid, secret):
    raw = "%s:%s" % (urllib.parse.quote_plus(cid), urllib.parse.quote_plus(secret))
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def _exchange(client, cl, code, verifier, redirect=REDIRECT, how="basic", path="/oauth2/token"):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect}
    if verifier is not None:
        form["code_verifier"] = verifier
    headers = None
    if how == "basic":
        headers = _basic(cl["client_id"], cl["client_secret"])
    elif how == "post":
        form.update(client_id=cl["client_id"], client_secret=cl["client_secret"])
    elif how == "none":
        form["client_id"] = cl["client_id"]
    return client.post(path, form=form, headers=headers)


def _verify_id(jwks, token):
    keys = jwk.JWKSet.from_json(json.dumps(jwks))
    s = jws.JWS()
    s.deserialize(token)
    s.verify(keys.get_key(s.jose_header["kid"]))
    return json.loads(s.payload), s.jose_header


def _refresh(client, cl, rt, how="basic", **extra):
    form = {"grant_type": "refresh_token", "refresh_token": rt, **extra}
    headers = None
    if how == "basic":
        headers = _basic(cl["client_id"], cl["client_secret"])
    else:
        form["client_id"] = cl["client_id"]
    return client.post("/oauth2/token", form=form, headers=headers)


@pytest.mark.parametrize("how", ["basic", "post"])
def test_code_exchange_gives_verified_id_token_with_every_claim(client, conf, jwks, how, daemon):
    u = client.new_user(full_name="Ada Lovelace")
    W.psql("UPDATE users SET roles = '{ops}' WHERE id = '%s'" % u.id)
    auth_time = int(time.time()) - 30
    code, v = _code(conf, u, scopes="openid profile email roles", auth_time=auth_time)
    r = _exchange(client, conf, code, v, how=how)
    assert r.status == 200, r
    assert "no-store" in r.header("Cache-Control")
    b = r.json()
    assert b["token_type"] == "Bearer" and b["expires_in"] > 0
    assert b["scope"] == "openid profile email roles"
    assert "refresh_token" not in b
    claims, header = _verify_id(jwks, b["id_token"])
    assert header["alg"] == "RS256"
    assert claims["iss"] == daemon.settings["issuer"]
    assert claims["sub"] == u.id and claims["aud"] == conf["client_id"]
    assert claims["nonce"] == "n-0S6" and claims["auth_time"] == auth_time
    assert claims["amr"] == ["pwd"]
    assert claims["preferred_username"] == u.username and claims["name"] == "Ada Lovelace"
    assert claims["email"] == u.email and claims["email_verified"] in (True, False)
    assert claims["roles"] == ["ops"]
    half = hashlib.sha256(b["access_token"].encode()).digest()[:16]
    assert claims["at_hash"] == base64.urlsafe_b64encode(half).rstrip(b"=").decode()
    at = W.jwt_parts(b["access_token"])[1]
    assert at["aud"] == conf["client_id"] and at["scope"] == b["scope"]


def test_basic_credentials_are_form_decoded(client, conf):
    # RFC 6749 2.3.1: id and secret are form-encoded before base64; a
    # secret of ours needs no escape, so every character is escaped here
    # ('-' as %2D, '_' as %5F, ...) and must still match.
    u = client.new_user(login=False)
    code, v = _code(conf, u)
    esc = lambda s: "".join("%%%02X" % ord(ch) for ch in s)
    raw = "%s:%s" % (esc(conf["client_id"]), esc(conf["client_secret"]))
    headers = {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": v}
    assert client.post("/oauth2/token", form=form, headers=headers).status == 200


def test_public_client_with_none_and_api_alias(client, public):
    u = client.new_user(login=False)
    code, v = _code(public, u, scopes="openid")
    r = _exchange(client, public, code, v, how="none", path="/api/v1/auth/token")
    assert r.status == 200, r
    assert r.json()["scope"] == "openid"


def test_eddsa_id_token(client, eddsa, jwks):
    u = client.new_user(login=False)
    code, v = _code(eddsa, u)
    r = _exchange(client, eddsa, code, v)
    assert r.status == 200, r
    claims, header = _verify_id(jwks, r.json()["id_token"])
    assert header["alg"] == "EdDSA" and claims["aud"] == eddsa["client_id"]
    # No at_hash: its hash for EdDSA is one that clients disagree on.
    assert "at_hash" not in claims, claims


def test_code_without_nonce_gives_id_token_without_nonce(client, conf, jwks):
    u = client.new_user(login=False)
    code, v = _code(conf, u, nonce=None)
    r = _exchange(client, conf, code, v)
    assert r.status == 200, r
    claims, _ = _verify_id(jwks, r.json()["id_token"])
    assert "nonce" not in claims and claims["sub"] == u.id, claims


def test_userinfo_does_not_read_a_token_from_the_form_body(client, conf):
    # RFC 6750 2.2 (the form body) is optional and not served: only the
    # Authorization header carries the token.
    u = client.new_user(login=False)
    code, v = _code(conf, u, scopes="openid")
    at = _exchange(client, conf, code, v).json()["access_token"]
    r = client.post("/oauth2/userinfo", form={"access_token": at})
    assert r.status == 401 and r.header("WWW-Authenticate").startswith("Bearer"), r


def test_wrong_pkce_verifier_is_invalid_grant(client, conf):
    u = client.new_user(login=False)
    code, _ = _code(conf, u)
    W.assert_oauth_error(_exchange(client, conf, code, _verifier()), "invalid_grant")


def test_missing_verifier_is_refused(client, public):
    u = client.new_user(login=False)
    code, _ = _code(public, u)
    W.assert_oauth_error(_exchange(client, public, code, None, how="none"), "invalid_request")


@pytest.mark.parametrize("bad", ["a" * 42, "a" * 129, "a" * 42 + "+", "a" * 42 + "="])
def test_verifier_shape_rules(client, conf, bad):
    u = client.new_user(login=False)
    code, _ = _code(conf, u, verifier="a" * 43)
    W.assert_oauth_error(_exchange(client, conf, code, bad), "invalid_grant")
    # The right verifier still works: a wrong shape spends nothing.
    assert _exchange(client, conf, code, "a" * 43).status == 200


def test_verifier_of_128_allowed_characters(client, conf):
    u = client.new_user(login=False)
    v = ("AZaz09-._~" * 13)[:128]
    code, _ = _code(conf, u, verifier=v)
    assert _exchange(client, conf, code, v).status == 200


def test_code_used_twice_revokes_the_first_tokens(client, conf):
    u = client.new_user(login=False)
    code, v = _code(conf, u, scopes="openid offline_access")
    r = _exchange(client, conf, code, v)
    assert r.status == 200, r
    first = r.json()
    W.assert_oauth_error(_exchange(client, conf, code, v), "invalid_grant")
    W.assert_oauth_error(_refresh(client, conf, first["refresh_token"]), "invalid_grant")
    r = client.get("/oauth2/userinfo", token=first["access_token"])
    assert r.status == 401 and "invalid_token" in r.header("WWW-Authenticate")


def test_code_of_another_client(client, conf, eddsa):
    u = client.new_user(login=False)
    code, v = _code(conf, u)
    W.assert_oauth_error(_exchange(client, eddsa, code, v), "invalid_grant")


@pytest.mark.parametrize("uri", [REDIRECT[:-1] + "d", REDIRECT + "/",
                                 "https://app.example.com:8443/cb"])
def test_redirect_uri_must_match_exactly(client, conf, uri):
    u = client.new_user(login=False)
    code, v = _code(conf, u)
    W.assert_oauth_error(_exchange(client, conf, code, v, redirect=uri), "invalid_grant")


def test_redirect_uri_with_another_port(client, conf):
    u = client.new_user(login=False)
    code, v = _code(conf, u, redirect="http://127.0.0.1:8080/cb")
    W.assert_oauth_error(_exchange(client, conf, code, v, redirect="http://127.0.0.1:8081/cb"),
                         "invalid_grant")


def test_expired_code(client, conf):
    u = client.new_user(login=False)
    code, v = _code(conf, u, ttl=1)
    time.sleep(2)
    W.assert_oauth_error(_exchange(client, conf, code, v), "invalid_grant")


@pytest.mark.parametrize("how", ["none", "wrong"])
def test_confidential_client_must_authenticate(client, conf, how):
    u = client.new_user(login=False)
    code, v = _code(conf, u)
    cl = dict(conf, client_secret="x" * 43) if how == "wrong" else conf
    r = _exchange(client, cl, code, v, how="basic" if how == "wrong" else "none")
    W.assert_oauth_error(r, "invalid_client", 401)
    assert r.header("WWW-Authenticate").startswith("Basic")
    # Nothing was spent: the right client still gets its tokens.
    assert _exchange(client, conf, code, v).status == 200


def test_two_authentication_methods_at_once(client, conf):
    u = client.new_user(login=False)
    code, v = _code(conf, u)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": v, "client_secret": conf["client_secret"]}
    r = client.post("/oauth2/token", form=form,
                    headers=_basic(conf["client_id"], conf["client_secret"]))
    W.assert_oauth_error(r, "invalid_client", 401)


def test_offline_access_refresh_gives_new_id_token(client, conf, jwks):
    u = client.new_user(login=False)
    code, v = _code(conf, u, scopes="openid email offline_access")
    b = _exchange(client, conf, code, v).json()
    assert "refresh_token" in b
    r = _refresh(client, conf, b["refresh_token"])
    assert r.status == 200, r
    n = r.json()
    assert n["refresh_token"] != b["refresh_token"]
    claims, _ = _verify_id(jwks, n["id_token"])
    assert "nonce" not in claims and claims["sub"] == u.id and claims["email"] == u.email
    assert W.jwt_parts(n["access_token"])[1]["aud"] == conf["client_id"]
    # Narrower is fine, wider is not.
    r = _refresh(client, conf, n["refresh_token"], scope="openid")
    assert r.status == 200 and r.json()["scope"] == "openid", r
    W.assert_oauth_error(_refresh(client, conf, r.json()["refresh_token"], scope="openid profile"),
                         "invalid_scope")


def test_client_family_is_no_one_elses(client, conf, public, user):
    u = client.new_user(login=False)
    code, v = _code(conf, u, scopes="openid offline_access")
    rt = _exchange(client, conf, code, v).json()["refresh_token"]
    W.assert_oauth_error(_refresh(client, public, rt, how="none"), "invalid_grant")
    W.assert_oauth_error(client.refresh_raw(rt), "invalid_grant")
    W.assert_oauth_error(_refresh(client, conf, user.refresh), "invalid_grant")
    # The first-party refresh is as it was.
    assert client.refresh_raw(user.refresh).status == 200


def test_userinfo_claims_by_scope(client, conf):
    u = client.new_user(full_name="Grace Hopper", login=False)
    code, v = _code(conf, u, scopes="openid email")
    at = _exchange(client, conf, code, v).json()["access_token"]
    for method in ("GET", "POST"):
        r = client.request(method, "/oauth2/userinfo", token=at)
        assert r.status == 200, r
        assert r.json() == {"sub": u.id, "email": u.email,
                            "email_verified": r.json()["email_verified"]}
    code, v = _code(conf, u, scopes="openid profile")
    at = _exchange(client, conf, code, v).json()["access_token"]
    assert client.get("/oauth2/userinfo", token=at).json() == {
        "sub": u.id, "preferred_username": u.username, "name": "Grace Hopper"}


def test_userinfo_refusals(client, conf, user):
    u = client.new_user(login=False)
    code, v = _code(conf, u, scopes="profile offline_access")
    at = _exchange(client, conf, code, v).json()["access_token"]
    r = client.get("/oauth2/userinfo", token=at)
    assert r.status == 403 and "insufficient_scope" in r.header("WWW-Authenticate")
    # A first-party token is no client's.
    r = client.get("/oauth2/userinfo", token=user.access)
    assert r.status == 401 and "invalid_token" in r.header("WWW-Authenticate")
    r = client.get("/oauth2/userinfo", token="not.a.token")
    assert r.status == 401 and "invalid_token" in r.header("WWW-Authenticate")
    r = client.get("/oauth2/userinfo")
    assert r.status == 401 and r.header("WWW-Authenticate").startswith("Bearer")


def test_first_party_api_refuses_a_client_access_token(client, conf):
    u = client.new_user(login=False)
    code, v = _code(conf, u)
    at = _exchange(client, conf, code, v).json()["access_token"]
    assert client.get("/api/v1/users/me", token=at).status == 401


def _introspect(client, cl, token, how="basic", **extra):
    form = {"token": token, **extra}
    headers = None
    if how == "basic":
        headers = _basic(cl["client_id"], cl["client_secret"])
    else:
        form["client_id"] = cl["client_id"]
    return client.post("/oauth2/introspect", form=form, headers=headers)


def test_introspection(client, conf, eddsa, public, user):
    u = client.new_user(login=False)
    code, v = _code(conf, u, scopes="openid offline_access")
    b = _exchange(client, conf, code, v).json()
    r = _introspect(client, conf, b["access_token"], token_type_hint="access_token")
    assert r.status == 200, r
    a = r.json()
    assert a["active"] is True and a["client_id"] == conf["client_id"]
    assert a["sub"] == u.id and a["username"] == u.username
    assert a["scope"] == "openid offline_access" and a["token_type"] == "Bearer"
    assert {"exp", "iat", "iss", "jti", "aud"} <= set(a)
    a = _introspect(client, conf, b["refresh_token"]).json()
    assert a["active"] is True and a["token_type"] == "refresh_token"
    # Another client's, a first-party token, garbage: inactive.
    assert _introspect(client, eddsa, b["access_token"]).json() == {"active": False}
    assert _introspect(client, conf, user.access).json() == {"active": False}
    assert _introspect(client, conf, "garbage").json() == {"active": False}
    W.assert_oauth_error(_introspect(client, public, b["access_token"], how="none"),
                         "invalid_client", 401)


def test_revoke_refresh_token_ends_its_family(client, conf):
    u = client.new_user(login=False)
    code, v = _code(conf, u, scopes="openid offline_access")
    rt = _exchange(client, conf, code, v).json()["refresh_token"]
    r = client.post("/oauth2/revoke", form={"token": rt, "token_type_hint": "refresh_token"},
                    headers=_basic(conf["client_id"], conf["client_secret"]))
    assert r.status == 200, r
    W.assert_oauth_error(_refresh(client, conf, rt), "invalid_grant")
    assert _introspect(client, conf, rt).json() == {"active": False}


def test_revoke_unknown_token_and_unsupported_type(client, conf, public):
    r = client.post("/oauth2/revoke", form={"token": "nothing", "client_id": public["client_id"]})
    assert r.status == 200, r
    r = client.post("/oauth2/revoke", form={"token": "x", "token_type_hint": "id_token"},
                    headers=_basic(conf["client_id"], conf["client_secret"]))
    W.assert_oauth_error(r, "unsupported_token_type")


def test_a_clients_access_token_tells_the_client_nothing_beyond_its_scopes(client, conf):
    """The client reads its access token: no username, roles or
    email_verified there, whatever the scopes; userinfo answers by scope."""
    u = client.new_user(login=False)
    W.psql("UPDATE users SET roles = '{ops}' WHERE id = '%s'" % u.id)
    code, v = _code(conf, u, scopes="openid")
    b = _exchange(client, conf, code, v).json()
    at = W.jwt_parts(b["access_token"])[1]
    for claim in ("username", "roles", "email_verified", "email", "preferred_username"):
        assert claim not in at, at
    assert at["sub"] == u.id and at["scope"] == "openid"
    r = client.get("/oauth2/userinfo", headers={"Authorization": "Bearer " + b["access_token"]})
    assert r.status == 200 and r.json() == {"sub": u.id}, r


def test_the_id_token_says_the_class_of_the_login(client, conf, jwks):
    u = client.new_user(login=False)
    code, v = _code(conf, u)
    claims, _ = _verify_id(jwks, _exchange(client, conf, code, v).json()["id_token"])
    assert claims["acr"] == "urn:warden:acr:password" and claims["amr"] == ["pwd"], claims


def test_the_first_party_revoke_leaves_a_clients_family_alone(client, conf):
    """/api/v1/auth/revoke has no client authentication: it cannot end
    what a registered client holds (RFC 7009 2.1)."""
    u = client.new_user(login=False)
    code, v = _code(conf, u, scopes="openid offline_access")
    rt = _exchange(client, conf, code, v).json()["refresh_token"]
    r = client.post("/api/v1/auth/revoke", form={"token": rt})
    assert r.status == 200, r
    r = _refresh(client, conf, rt)
    assert r.status == 200, r


def test_oauth2_revoke_answers_the_first_party_client_as_the_api_does(client):
    """Discovery names /oauth2/revoke for every client: a first-party
    refresh token sent there without a registered client is revoked."""
    u = client.new_user()
    r = client.post("/oauth2/revoke", form={"token": u.refresh})
    assert r.status == 200, r
    r = client.token({"grant_type": "refresh_token", "refresh_token": u.refresh})
    W.assert_oauth_error(r, "invalid_grant")
