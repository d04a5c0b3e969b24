"""Authlib (Debian's python3-authlib) as a second OpenID Connect client of
warden: OAuth2Session runs the authorization code flow with PKCE S256
(authlib.integrations.requests_client), authlib.jose validates the
id_token against the JWKS, and a confidential client introspects the
tokens (RFC 7662).  The user logs in and allows the consent page through
oidc_fixtures.Portal's scripted form posts."""

import time

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

import wardenlib as W
from oidc_fixtures import Portal, add_client

SCOPE = "openid profile email offline_access"


@pytest.fixture
def metadata(issuer):
    r = requests.get(issuer + "/.well-known/openid-configuration", timeout=10)
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["issuer"] == issuer, m
    return m


def _client(daemon, alg="RS256", public=False):
    port = W.free_port()
    redirect = "http://127.0.0.1:%d/callback" % port
    c = add_client(daemon, "authlib " + alg, redirect, public=public,
                   scopes=SCOPE.split(), alg=alg)
    c["redirect_uri"] = redirect
    return c


def _session(c, method=None):
    secret = c.get("client_secret")
    method = method or ("client_secret_basic" if secret else "none")
    return OAuth2Session(client_id=c["client_id"], client_secret=secret,
                         token_endpoint_auth_method=method,
                         revocation_endpoint_auth_method=method,
                         redirect_uri=c["redirect_uri"], scope=SCOPE,
                         code_challenge_method="S256")


def _code_flow(daemon, metadata, user, c, method=None):
    """The code flow: the authorization URL by authlib (state, nonce,
    code_challenge of the verifier), the login and consent by the portal's
    forms, fetch_token with the verifier.  Returns (session, token, nonce)."""
    s = _session(c, method)
    verifier = generate_token(48)
    nonce = generate_token(20)
    url, state = s.create_authorization_url(metadata["authorization_endpoint"],
                                            code_verifier=verifier, nonce=nonce)
    assert "code_challenge_method=S256" in url and "code_challenge=" in url, url
    cb, q = Portal(daemon).authorize(url, user, c["redirect_uri"])
    assert q.get("state") == state and q.get("code"), q
    assert q.get("iss") == metadata["issuer"], q
    token = s.fetch_token(metadata["token_endpoint"], authorization_response=cb,
                          code_verifier=verifier)
    return s, token, nonce


def _verify_id_token(metadata, c, token, nonce):
    """authlib.jose: the signature against the JWKS, and OIDC Core 3.1.3.7's
    claims (iss, aud, exp, iat, nonce, at_hash) by CodeIDToken."""
    jwks = requests.get(metadata["jwks_uri"], timeout=10).json()
    keys = JsonWebKey.import_key_set(jwks)
    claims = jwt.decode(token["id_token"], keys, claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True,
                                                "value": metadata["issuer"]},
                                        "aud": {"essential": True,
                                                "value": c["client_id"]}},
                        claims_params={"nonce": nonce, "client_id": c["client_id"],
                                       "access_token": token["access_token"]})
    claims.validate(now=int(time.time()), leeway=5)
    return claims


@pytest.mark.parametrize("alg", ["RS256", "EdDSA"])
def test_authlib_code_flow_with_pkce_and_id_token(daemon, metadata, user, alg):
    """RFC 7636 with OAuth2Session's code_challenge_method S256; OIDC Core
    3.1.3.3: the token response holds an id_token that authlib.jose
    validates against the JWKS (the header's kid names a key of the set);
    5.3: userinfo with the access token (GET, and POST as a form body)."""
    c = _client(daemon, alg)
    s, token, nonce = _code_flow(daemon, metadata, user, c)
    assert token["token_type"].lower() == "bearer" and token.get("refresh_token"), token
    claims = _verify_id_token(metadata, c, token, nonce)
    assert claims["sub"] == user.id, claims
    assert W.jwt_parts(token["id_token"])[0]["alg"] == alg
    assert claims["preferred_username"] == user.username and claims["email"] == user.email

    r = s.get(metadata["userinfo_endpoint"])
    assert r.status_code == 200, r.text
    assert r.json()["sub"] == user.id and r.json()["email"] == user.email, r.json()
    r = requests.post(metadata["userinfo_endpoint"], timeout=10,
                      data={"access_token": token["access_token"]})
    assert r.status_code in (200, 400, 401), r.text   # the body form is optional (RFC 6750 2.2)

    # Refresh with offline_access (OIDC Core 12.1).
    t2 = s.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert t2["access_token"] != token["access_token"], t2
    assert t2.get("refresh_token") and t2["refresh_token"] != token["refresh_token"], t2


def test_authlib_public_client_code_flow(daemon, metadata, user):
    """RFC 7636 and RFC 8252 8.4: a public client (token endpoint auth
    `none`) runs the same flow, PKCE standing in for the secret."""
    c = _client(daemon, public=True)
    _, token, nonce = _code_flow(daemon, metadata, user, c)
    assert _verify_id_token(metadata, c, token, nonce)["sub"] == user.id


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_confidential_client_introspects(daemon, metadata, user, method):
    """RFC 7662 2.1 and 2.2: a confidential client introspects its access
    and refresh tokens (active, client_id, sub, scope, exp, token_type);
    RFC 7009 2.1: once revoked, both answer active false; 2.2 of RFC 7662:
    an unknown token is active false, not an error."""
    c = _client(daemon)
    s, token, _ = _code_flow(daemon, metadata, user, c, method=method)
    url = metadata["introspection_endpoint"]

    r = s.introspect_token(url, token=token["access_token"], token_type_hint="access_token")
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["active"] is True, a
    assert a["client_id"] == c["client_id"] and a["sub"] == user.id, a
    assert set(a["scope"].split()) == set(SCOPE.split()), a
    assert isinstance(a["exp"], int) and a["exp"] > time.time(), a

    r = s.introspect_token(url, token=token["refresh_token"], token_type_hint="refresh_token")
    assert r.status_code == 200 and r.json()["active"] is True, r.text

    r = s.introspect_token(url, token="not-a-token-" + generate_token(20))
    assert r.status_code == 200 and r.json() == {"active": False}, r.text

    r = s.revoke_token(metadata["revocation_endpoint"], token=token["refresh_token"],
                       token_type_hint="refresh_token")
    assert r.status_code == 200, r.text
    r = s.introspect_token(url, token=token["refresh_token"], token_type_hint="refresh_token")
    assert r.status_code == 200 and r.json()["active"] is False, r.text


def test_authlib_public_client_may_not_introspect(daemon, metadata, user):
    """OIDC.md: introspection is for confidential clients only; a public
    client (no secret to authenticate with) is answered 401
    invalid_client (RFC 7662 2.1, RFC 6749 5.2)."""
    c = _client(daemon, public=True)
    s, token, _ = _code_flow(daemon, metadata, user, c)
    r = s.introspect_token(metadata["introspection_endpoint"], token=token["access_token"])
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_client", r.text
