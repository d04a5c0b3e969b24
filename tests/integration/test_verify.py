"""GET /api/v1/auth/verify, the forward-auth endpoint, and the verifier's
refusals (RFC 8725): forged, expired, foreign, unsigned and HMAC tokens."""

import json
import os
import signal
import time
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import wardenlib as W

VERIFY = "/api/v1/auth/verify"


@pytest.fixture(scope="module")
def signing_key(daemon):
    return W.load_signing_key(daemon.key_dir)


def _claims(user, **over):
    now = int(time.time())
    c = {"iss": W.ISSUER, "aud": W.AUDIENCE, "sub": user.id, "iat": now, "exp": now + 600,
         "jti": str(uuid.uuid4()), "username": user.username, "roles": [],
         "ver": W.jwt_parts(user.access)[1]["ver"]}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def _header(kid, **over):
    h = {"alg": "EdDSA", "typ": "at+jwt", "kid": kid}
    h.update(over)
    return {k: v for k, v in h.items() if v is not None}


def _refused(client, token):
    r = client.get(VERIFY, token=token)
    assert r.status == 401, r
    assert r.header("X-Auth-User-Id") is None, r
    www = r.header("WWW-Authenticate") or ""
    assert www.startswith("Bearer") and 'error="invalid_token"' in www, r
    r = client.get("/api/v1/users/me", token=token)
    assert r.status == 401, r


def test_verify_answers_204_with_identity_headers(client, user):
    r = client.get(VERIFY, token=user.access)
    assert r.status == 204 and r.body == b"", r
    assert r.header("X-Auth-User-Id") == user.id
    assert r.header("X-Auth-Username") == user.username
    assert (r.header("X-Auth-Roles") or "") == "", r
    assert r.header("X-Request-Id")


def test_verify_lists_roles_comma_separated(client, admin):
    target = client.new_user("roles", login=False)
    r = client.patch("/api/v1/users/" + target.id, json_body={"roles": ["reader", "writer"]},
                     token=admin.access)
    assert r.status == 200, r
    target.login()
    r = client.get(VERIFY, token=target.access)
    assert r.status == 204, r
    roles = sorted(x.strip() for x in r.header("X-Auth-Roles").split(","))
    assert roles == ["reader", "writer"], r
    assert client.get(VERIFY + "?role=writer", token=target.access).status == 204
    assert client.get(VERIFY + "?role=admin", token=target.access).status == 403


def test_verify_without_token_is_401(client):
    r = client.get(VERIFY)
    assert r.status == 401, r
    assert (r.header("WWW-Authenticate") or "").startswith("Bearer")


def test_verify_with_bad_token_is_401(client, user):
    _refused(client, "garbage")
    _refused(client, user.access[:-4] + ("AAAA" if not user.access.endswith("AAAA") else "BBBB"))


def test_verify_role_admin_is_403_for_a_user_and_204_for_the_admin(client, user, admin):
    r = client.get(VERIFY + "?role=admin", token=user.access)
    W.assert_problem(r, 403, "forbidden")
    r = client.get(VERIFY + "?role=admin", token=admin.access)
    assert r.status == 204, r
    assert "admin" in r.header("X-Auth-Roles").split(",")


def test_forged_token_with_the_real_key_is_accepted(client, user, signing_key, jwks):
    """The control for the refusals below: our forging matches the daemon's key."""
    kid, sk = signing_key
    x = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert any(k["kid"] == kid and W.b64url_decode(k["x"]) == x for k in jwks["keys"])
    r = client.get(VERIFY, token=W.forge(_header(kid), _claims(user), sk))
    assert r.status == 204, r
    r = client.get(VERIFY, token=W.forge(_header(kid, alg="Ed25519"), _claims(user), sk))
    assert r.status == 204, "RFC 9864 alg name Ed25519 must be accepted: %r" % r


def test_expired_token_is_401(client, user, signing_key):
    kid, sk = signing_key
    now = int(time.time())
    _refused(client, W.forge(_header(kid), _claims(user, iat=now - 1000, exp=now - 300), sk))


def test_token_from_the_future_is_401(client, user, signing_key):
    kid, sk = signing_key
    now = int(time.time())
    _refused(client, W.forge(_header(kid), _claims(user, iat=now + 3600, exp=now + 4000), sk))


def test_wrong_issuer_audience_or_type_is_401(client, user, signing_key):
    kid, sk = signing_key
    _refused(client, W.forge(_header(kid), _claims(user, iss="http://evil.test"), sk))
    _refused(client, W.forge(_header(kid), _claims(user, aud="other-service"), sk))
    _refused(client, W.forge(_header(kid, typ="JWT"), _claims(user), sk))
    _refused(client, W.forge(_header(kid), _claims(user, exp=None), sk))


def test_unknown_kid_is_401(client, user, signing_key):
    kid, sk = signing_key
    _refused(client, W.forge(_header("no-such-kid"), _claims(user), sk))
    _refused(client, W.forge(_header(None), _claims(user), sk))


def test_token_signed_by_another_key_with_the_same_kid_is_401(client, user, jwks):
    kid = W.jwt_parts(user.access)[0]["kid"]
    other = Ed25519PrivateKey.generate()
    _refused(client, W.forge(_header(kid), _claims(user), other))


def test_alg_none_is_401(client, user):
    kid = W.jwt_parts(user.access)[0]["kid"]
    _refused(client, W.forge(_header(kid, alg="none"), _claims(user)))
    _refused(client, W.forge(_header(kid, alg="None"), _claims(user)))
    # the real token's header and claims, its signature stripped
    h, p, _ = user.access.split(".")
    _refused(client, W.b64url(b'{"alg":"none","typ":"at+jwt","kid":"%s"}' % kid.encode())
             + "." + p + ".")
    _refused(client, h + "." + p + ".")


def test_hmac_with_the_public_key_as_secret_is_401(client, user, jwks):
    kid = W.jwt_parts(user.access)[0]["kid"]
    x = [k["x"] for k in jwks["keys"] if k["kid"] == kid][0]
    for secret in (W.b64url_decode(x), x.encode()):
        for alg in ("HS256",):
            _refused(client, W.forge(_header(kid, alg=alg), _claims(user), alg_sig=W.hs256(secret)))


def test_forged_roles_need_a_signature(client, user):
    h, p, s = user.access.split(".")
    claims = W.jwt_parts(user.access)[1]
    claims["roles"] = ["admin"]
    p2 = W.b64url(json.dumps(claims).encode())
    _refused(client, h + "." + p2 + "." + s)


def test_token_of_a_stale_version_is_401_on_bearer_routes(client, user, signing_key):
    kid, sk = signing_key
    tok = W.forge(_header(kid), _claims(user, ver=_claims(user)["ver"] + 1000), sk)
    r = client.get("/api/v1/users/me", token=tok)
    assert r.status == 401, r


def test_tokens_and_the_jwks_wait_with_503_until_the_hasher_has_sent_its_keys(
        daemon, workdir, user):
    """A wardend just started serves before its hasher has answered: a valid
    token then hears 503 and Retry-After (come back), never 401 (throw the
    token away), and the JWKS is not published empty."""
    slow = os.path.join(workdir, "slow-hasher.sh")
    with open(slow, "w") as f:
        f.write("#!/bin/sh\nsleep 30\nexec %s \"$@\"\n" % W.binary("warden-hasher"))
    os.chmod(slow, 0o755)
    d = W.Daemon(workdir, "slow-hasher", key_dir=daemon.key_dir, hasher_path=slow)
    d.start_serving()
    try:
        r = d.client.get("/readyz")
        assert r.status == 503, r
        for path in (VERIFY, "/api/v1/users/me"):
            r = d.client.get(path, token=user.access)
            assert r.status == 503, (path, r)
            assert r.header("Retry-After") == "1", (path, r)
            assert r.header("X-Auth-User-Id") is None, r
        r = d.client.get("/.well-known/jwks.json")
        assert r.status == 503 and r.header("Retry-After") == "1", r
        # No token at all is still a plain 401: nothing to wait for.
        assert d.client.get(VERIFY).status == 401
    finally:
        # The whole group: the hasher's spawner and the sleeping script.
        os.killpg(d.proc.pid, signal.SIGKILL)
        d.proc.wait(timeout=10)
