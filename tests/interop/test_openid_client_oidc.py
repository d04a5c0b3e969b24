"""openid-client (npm, 5.x) as an OpenID Connect relying party of warden
(OIDC.md, "OpenID Connect provider"): discovery, the authorization code
flow with PKCE S256, nonce and state, the id_token validated by the
library itself, userinfo, refresh (offline_access), revocation, a code
used twice, and RP-initiated logout to the registered
post_logout_redirect_uri.

The script builds the authorization URL (code_start); the user logs in and
allows the consent page through oidc_fixtures.Portal's scripted form posts
(the portal's own forms, read generically); the script then finishes the
flow from the callback URL (code_finish)."""

import urllib.parse

import pytest

import wardenlib as W
from conftest import assert_ok, js
from oidc_fixtures import Portal, add_client, authorize_url, pkce_pair

SCRIPT = "openid-client.js"
SCOPES = ["openid", "profile", "email", "offline_access"]


def _rp(daemon, alg, public=False):
    port = W.free_port()
    c = add_client(daemon, "openid-client " + alg,
                   "http://127.0.0.1:%d/cb" % port, public=public,
                   post_logout_uris="http://127.0.0.1:%d/bye" % port,
                   scopes=SCOPES, alg=alg)
    c["redirect_uri"] = "http://127.0.0.1:%d/cb" % port
    c["post_logout_uri"] = "http://127.0.0.1:%d/bye" % port
    return c


def _params(issuer, c, alg):
    return dict(issuer=issuer, client_id=c["client_id"],
                client_secret=c.get("client_secret"), redirect_uri=c["redirect_uri"],
                post_logout_uri=c["post_logout_uri"], alg=alg)


def test_openid_client_discovers_the_openid_provider(node_modules, daemon, issuer):
    """Discovery 1.0 3 and 4.3: /.well-known/openid-configuration names
    the issuer it was fetched under, the endpoints, response type code
    only, PKCE S256 only, the client authentication methods, RS256 among
    the id_token algorithms (the one every client must accept), and the
    RFC 9207 iss parameter."""
    c = _rp(daemon, "RS256")
    out = assert_ok(js(node_modules, SCRIPT, "code_start", **_params(issuer, c, "RS256")))
    m = out["metadata"]
    assert m["issuer"] == issuer, m
    for k in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
              "revocation_endpoint", "introspection_endpoint", "end_session_endpoint"):
        assert m.get(k, "").startswith(issuer + "/"), (k, m)
    assert m["response_types_supported"] == ["code"], m
    assert m["code_challenge_methods_supported"] == ["S256"], m
    assert {"client_secret_basic", "client_secret_post", "none"} <= set(
        m["token_endpoint_auth_methods_supported"]), m
    assert "RS256" in m["id_token_signing_alg_values_supported"], m
    assert {"openid", "profile", "email", "roles", "offline_access"} <= set(
        m["scopes_supported"]), m
    assert m.get("authorization_response_iss_parameter_supported") is True, m
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(out["url"]).query))
    assert q["code_challenge_method"] == "S256" and q["nonce"] and q["state"], q


@pytest.mark.parametrize("alg,public", [("RS256", False), ("EdDSA", False), ("RS256", True)])
def test_openid_client_code_flow_refresh_revoke_logout(node_modules, daemon, issuer, user,
                                                      alg, public):
    """OIDC Core 3.1 with RFC 7636: the code flow with PKCE S256; 3.1.3.7:
    openid-client validates the id_token (signature by the JWKS key of the
    client's algorithm, iss, aud, exp, nonce); 5.3: userinfo names the same
    sub, with the profile and email claims; 12: refresh with
    offline_access; RFC 7009: the revoked refresh token is refused; RFC
    6749 4.1.2: a code used twice is invalid_grant; RP-initiated logout 1.0
    2 and 3: the end-session URL brings the browser to the registered
    post_logout_redirect_uri with its state, and the portal's session is
    over (prompt=none then answers login_required)."""
    c = _rp(daemon, alg, public=public)
    p = _params(issuer, c, alg)
    start = assert_ok(js(node_modules, SCRIPT, "code_start", **p))
    portal = Portal(daemon)
    cb, q = portal.authorize(start["url"], user, c["redirect_uri"])
    assert q.get("code") and q.get("state") == start["state"], q
    assert q.get("iss") == issuer, q            # RFC 9207 2

    logout_state = "bye-" + start["state"]
    out = assert_ok(js(node_modules, SCRIPT, "code_finish", callback_url=cb,
                       code_verifier=start["code_verifier"], nonce=start["nonce"],
                       state=start["state"], logout_state=logout_state, **p))
    idt = out["id_token"]
    assert idt["header"]["alg"] == alg and idt["header"].get("kid"), idt
    cl = idt["claims"]
    assert cl["iss"] == issuer and cl["aud"] in (c["client_id"], [c["client_id"]]), cl
    assert cl["sub"] == user.id and cl["nonce"] == start["nonce"], cl
    assert isinstance(cl["auth_time"], int) and cl["auth_time"] <= cl["iat"] < cl["exp"], cl
    assert cl["preferred_username"] == user.username and cl["email"] == user.email, cl
    assert isinstance(cl.get("email_verified"), bool), cl

    ui = out["userinfo"]
    assert ui["sub"] == user.id, ui
    assert ui["preferred_username"] == user.username and ui["email"] == user.email, ui

    first = out["first"]
    assert first["token_type"].lower() == "bearer" and first["has_refresh"], first
    assert first["access"]["claims"]["aud"] in (c["client_id"], [c["client_id"]]), first
    assert first["access"]["claims"]["client_id"] == c["client_id"], first
    assert set(first["scope"].split()) == set(SCOPES), first

    second = out["second"]
    assert second and second["rotated"], out
    assert second["access"]["claims"]["sub"] == user.id, second
    if second["claims"] is not None:        # an id_token on refresh: same sub
        assert second["claims"]["sub"] == user.id, second

    e = out["refresh_revoked"]
    assert e and e["op_error"] and e["error"] == "invalid_grant", e
    e = out["code_reused"]
    assert e and e["op_error"] and e["error"] == "invalid_grant", e

    # RP-initiated logout, followed with the portal's cookie.
    end = out["end_session_url"]
    assert end.startswith(issuer + "/"), end
    got = portal.follow(end, c["post_logout_uri"], user=None)
    base, _, query = got.partition("?")
    assert base == c["post_logout_uri"], got
    assert dict(urllib.parse.parse_qsl(query)).get("state") == logout_state, got

    # The session is over: prompt=none goes back to the client with
    # login_required (OIDC Core 3.1.2.6).
    verifier, challenge = pkce_pair()
    url = authorize_url(daemon, c["client_id"], c["redirect_uri"], challenge=challenge,
                        state="after-logout", nonce="n", prompt="none")
    _, q = portal.authorize(url, None, c["redirect_uri"])
    assert q.get("error") == "login_required" and q.get("state") == "after-logout", q
