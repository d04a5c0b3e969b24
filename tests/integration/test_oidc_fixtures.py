"""The helpers of the OpenID Connect tests (oidc_fixtures.py) against what
exists of them without the provider's endpoints: `wardenctl client add
--json` as add_client() reads it, the portal's login by scripted form posts,
and the generic reading of a consent form (any hidden field, the button
whose value means allow)."""

import re

import pytest

import wardenlib as W
from oidc_fixtures import (OidcError, Portal, add_client, allow_form, forms_of,
                           login_form, pkce_pair)


@pytest.fixture(scope="module")
def own(workdir, daemon):
    d = W.start_own(workdir, daemon, "oidc_fixtures", issuer="{base}", public_url="{base}")
    yield d
    W.stop_own(d)


def test_add_client_reads_wardenctl_json(own):
    c = add_client(own, "Fixture app", ["https://app.example/cb", "http://127.0.0.1:9/cb"],
                   post_logout_uris="https://app.example/", scopes=["openid", "email"],
                   alg="EdDSA")
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", c["client_id"]), c
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", c["client_secret"]), c
    assert c["public"] is False and c["name"] == "Fixture app", c
    p = add_client(own, "Fixture CLI", "http://127.0.0.1:9/cb", public=True, skip_consent=True)
    assert p["client_secret"] is None and p["public"] is True, p
    row = W.psql("SELECT array_to_string(scopes, ',') || ' ' || id_token_signed_response_alg"
                 " FROM oauth_clients WHERE client_id = '%s'" % c["client_id"])
    assert row == ["openid,email EdDSA"], row
    with pytest.raises(OidcError):
        add_client(own, "Bad", "http://app.example/cb")   # http off loopback


def test_portal_logs_in_by_form_posts_and_comes_back_to_rd(own):
    u = own.client.new_user("oidcfx", login=False)
    p = Portal(own)
    loc = p.login(u, rd="/ui/account")
    assert loc == own.base + "/ui/account", loc
    assert "warden_session" in p.jar, p.jar
    r = p.get("/ui/account")
    assert r.status == 200 and u.username in r.body.decode(), r


def test_follow_logs_in_on_the_way_and_names_a_page_it_cannot_go_on_from(own):
    """follow() posts the login page as the user on its way, and fails,
    with the trail of pages, on a page with no login or consent form."""
    u = own.client.new_user("oidcfy", login=False)
    p = Portal(own)
    with pytest.raises(OidcError) as e:
        p.follow(own.base + "/ui/login?rd=/ui/account", "http://127.0.0.1:9/", user=u)
    assert "POST /ui/login -> 303" in str(e.value), e.value
    assert "GET /ui/account -> 200" in str(e.value), e.value


CONSENT = """<!doctype html><html><body>
<h1>Allow Grafana?</h1>
<form method="post" action="/oauth2/authorize/consent">
<input type="hidden" name="csrf" value="c-123">
<input type="hidden" name="request" value="r-456">
<input type="checkbox" name="remember" value="1" checked>
<button type="submit" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="allow">Allow</button>
</form></body></html>"""

CONSENT_TWO_FORMS = """<form method="post" action="/x/deny"><input type="hidden" name="t" value="1">
<input type="submit" value="Cancel"></form>
<form method="post" action="/x/ok"><input type="hidden" name="t" value="2">
<button>Yes, continue</button></form>"""


def test_consent_forms_are_read_generically():
    f, b = allow_form(forms_of(CONSENT))
    assert f["action"] == "/oauth2/authorize/consent" and f["method"] == "post"
    assert dict((n, v) for n, v, _ in f["fields"]) == {"csrf": "c-123", "request": "r-456",
                                                     "remember": "1"}
    assert (b["name"], b["value"]) == ("decision", "allow")
    f, b = allow_form(forms_of(CONSENT_TWO_FORMS))
    assert f["action"] == "/x/ok" and b["text"].strip() == "Yes, continue"
    assert login_form(forms_of(CONSENT)) is None


def test_pkce_pair_is_s256_of_the_verifier():
    """RFC 7636 appendix B's example."""
    import hashlib
    v, c = pkce_pair()
    assert 43 <= len(v) <= 128 and W.b64url(hashlib.sha256(v.encode()).digest()) == c
    assert W.b64url(hashlib.sha256(b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").digest()) \
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
