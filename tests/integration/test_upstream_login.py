"""Signing in through an upstream OpenID provider (issue 15), walked by
hand against fake_oidc.FakeOidc: the start (state, nonce, PKCE, the
binding cookie), the callback that ends in a session, the account it
signs in to (a new one, the same one again, one linked by a verified
e-mail, or none: 409, 403), the client's authentication at the token
endpoint (secret basic and post, private_key_jwt signed by the hasher,
checked by the fake provider against warden's JWKS), the provider's key
algorithms and a rotated key."""

import json
import re
import urllib.parse
import urllib.request
import uuid

import pytest

import upstreamlib as U
import wardenlib as W
from fake_oidc import ASSERTION_TYPE, FakeOidc, b64url, b64url_decode

SECRET = "basic-" + uuid.uuid4().hex
POST_SECRET = "post-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def idp():
    f = FakeOidc("RS256")
    f.add_client("warden-basic", secret=SECRET)
    f.add_client("warden-post", secret=POST_SECRET)
    f.add_client("warden-jwt")          # jwks_uri: the daemon's, once known
    f.add_client("warden-jwt-ed")
    yield f
    f.close()


@pytest.fixture(scope="module")
def es_idp():
    f = FakeOidc("ES256")
    f.add_client("warden-es", secret=SECRET)
    yield f
    f.close()


@pytest.fixture(scope="module")
def ed_idp():
    f = FakeOidc("EdDSA")
    f.add_client("warden-ed", secret=SECRET)
    yield f
    f.close()


@pytest.fixture(scope="module")
def wd(workdir, daemon, idp, es_idp, ed_idp):
    providers = {
        "fake": U.oidc_provider(idp, "warden-basic", SECRET, display_name="Fake OIDC"),
        "fakelink": U.oidc_provider(idp, "warden-basic", SECRET,
                                    display_name="Fake Link", link_by_email=True),
        "fakepost": U.oidc_provider(idp, "warden-post", POST_SECRET,
                                    client_auth="client_secret_post"),
        "fakejwt": U.oidc_provider(idp, "warden-jwt", client_auth="private_key_jwt"),
        "fakejwted": U.oidc_provider(idp, "warden-jwt-ed", client_auth="private_key_jwt",
                                     assertion_alg="EdDSA"),
        "nosignup": U.oidc_provider(idp, "warden-basic", SECRET, signup=False),
        "fake-es": U.oidc_provider(es_idp, "warden-es", SECRET),
        "fake-ed": U.oidc_provider(ed_idp, "warden-ed", SECRET),
    }
    d = U.start_with_providers(workdir, daemon, "upstream_login", providers)
    idp.clients["warden-jwt"].jwks_uri = U.jwks_url(d)
    idp.clients["warden-jwt-ed"].jwks_uri = U.jwks_url(d)
    yield d
    W.stop_own(d)


@pytest.fixture
def fresh(idp):
    """The provider good again, for a subject of its own with a username
    and an e-mail of their own (email_verified true)."""
    name = W.uniq("up")
    idp.reset(sub="sub-" + name, preferred_username=name.upper(),
              email="%s@idp.example" % name, email_verified=True, name="Up Stream")
    return name


def session_cookie(r):
    for v in r.header_all("Set-Cookie"):
        if v.startswith(U.SESSION_COOKIE + "="):
            return v
    return None


def cookie_attrs(set_cookie):
    out = {}
    for part in set_cookie.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        out[k.lower()] = v
    return out


# ---- the login page and the start ----

def test_the_login_page_offers_each_provider_keeping_rd(wd):
    b = U.Browser(wd)
    r = b.get("/ui/login?rd=" + urllib.parse.quote("/ui/account?from=page", safe=""))
    assert r.status == 200, r
    page = r.body.decode()
    links = re.findall(r'<a class="button provider" href="([^"]*)">([^<]*)</a>', page)
    by_path = {urllib.parse.urlsplit(h.replace("&amp;", "&")).path: (h, t)
               for h, t in links}
    assert set(by_path) >= {"/ui/login/fake", "/ui/login/fakelink", "/ui/login/fake-ed"}, links
    href, text = by_path["/ui/login/fake"]
    assert text.strip() == "Sign in with Fake OIDC", links
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(href.replace("&amp;", "&")).query)
    assert q.get("rd") and q["rd"][0].endswith("/ui/account?from=page"), href


def test_start_sends_the_browser_to_the_provider_with_state_nonce_and_s256(wd, idp, fresh):
    b = U.Browser(wd)
    r = b.start("fake")
    assert r.status == 303, r
    loc = r.header("Location")
    assert loc.startswith(idp.authorization_endpoint + "?"), loc
    q = U.authorize_params(r)
    assert q["response_type"] == "code"
    assert q["client_id"] == "warden-basic"
    assert q["redirect_uri"] == wd.base + U.CALLBACK % "fake", q
    assert "openid" in q["scope"].split(), q
    assert q["code_challenge_method"] == "S256", q
    assert W.B64URL_RE.match(q["code_challenge"]) and len(q["code_challenge"]) == 43, q
    assert len(q["state"]) >= 22 and len(q["nonce"]) >= 22, q
    # A second start: a state, a nonce and a challenge of its own.
    q2 = U.authorize_params(U.Browser(wd).start("fake"))
    for k in ("state", "nonce", "code_challenge"):
        assert q[k] != q2[k], k
    sets = [v for v in r.header_all("Set-Cookie") if v.startswith(U.BINDING_COOKIE + "=")]
    assert len(sets) == 1, r
    a = cookie_attrs(sets[0])
    assert "httponly" in a and a.get("samesite", "").lower() == "lax", sets
    assert a.get("path") == "/ui/login/", sets
    assert a.get("max-age") == "600", sets


def test_an_unknown_provider_is_a_404_page(wd):
    b = U.Browser(wd)
    for path in ("/ui/login/nosuch", "/ui/login/nosuch/callback?code=x&state=y"):
        r = b.get(path)
        assert r.status == 404, r
        assert r.content_type == "text/html", r
        assert not any(v.startswith(U.BINDING_COOKIE + "=") for v in r.header_all("Set-Cookie"))


# ---- the account signed in to ----

def test_a_first_sign_in_makes_an_account_without_password_with_its_identity(wd, idp, fresh):
    users0 = U.users_count()
    mark = U.audit_mark()
    b = U.Browser(wd)
    _, back, r = b.sign_in("fake")
    assert r.status == 303, "%r\n%s" % (r, W.log_tail(wd.log))
    assert r.header("Location") == wd.base + "/ui/account", r
    sc = session_cookie(r)
    assert sc is not None, r
    a = cookie_attrs(sc)
    assert "httponly" in a, sc
    assert U.BINDING_COOKIE not in b.jar, "the binding cookie outlived its sign-in"
    acct = b.get("/ui/account")
    assert acct.status == 200, acct
    assert U.users_count() == users0 + 1
    uid = U.identity_owner("fake", "sub-" + fresh)
    assert uid is not None
    assert U.identities_of(uid) == [("fake", "sub-" + fresh, "%s@idp.example" % fresh)]
    row = U.user_row(uid)
    assert row["username"] == fresh.lower(), row
    assert row["email"] == "%s@idp.example" % fresh, row
    assert row["has_password"] is False, row
    assert row["email_verified"] is True, row
    events = [(e, u) for e, u, _ in U.audit_after(mark) if u == uid]
    assert ("upstream_signup", uid) in events, events
    assert U.failures_after(mark) == []
    # The account page lists the identity.
    page = acct.body.decode()
    assert "Linked sign-in providers" in page, page
    assert "Fake OIDC" in page and "%s@idp.example" % fresh in page, page
    # The code served once at the provider.
    assert idp.token_requests[-1]["outcome"] == "ok", idp.token_requests[-1]
    assert idp.token_requests[-1]["auth_method"] == "client_secret_basic"


def test_a_password_never_opens_an_account_made_by_a_provider(wd, idp, fresh):
    b = U.Browser(wd)
    _, _, r = b.sign_in("fake")
    assert r.status == 303, r
    uid = U.identity_owner("fake", "sub-" + fresh)
    username = U.user_row(uid)["username"]
    for pw in ("!", "", "x" * 12):
        lr = wd.client.login_raw(username, pw)
        assert lr.status in (400, 401), lr


def test_a_second_sign_in_of_the_identity_opens_the_same_account(wd, idp, fresh):
    _, _, r = U.Browser(wd).sign_in("fake")
    assert r.status == 303, r
    uid = U.identity_owner("fake", "sub-" + fresh)
    users = U.users_count()
    mark = U.audit_mark()
    # The provider's e-mail changed meanwhile: still the same account.
    idp.claims["email"] = "changed-%s@idp.example" % fresh
    b = U.Browser(wd)
    _, _, r = b.sign_in("fake")
    assert r.status == 303, r
    assert b.signed_in()
    assert U.users_count() == users
    assert U.identity_owner("fake", "sub-" + fresh) == uid
    assert len(U.identities_of(uid)) == 1
    events = [e for e, u, _ in U.audit_after(mark) if u == uid]
    assert "upstream_login" in events and "upstream_signup" not in events, events
    # The session is this account's.
    me = b.get("/ui/account").body.decode()
    assert U.user_row(uid)["username"] in me


def test_the_sign_in_ends_at_rd_and_never_at_a_foreign_one(wd, fresh):
    b = U.Browser(wd)
    _, _, r = b.sign_in("fake", rd="/ui/account?from=rd")
    assert r.status == 303, r
    assert r.header("Location") == wd.base + "/ui/account?from=rd", r
    b = U.Browser(wd)
    _, _, r = b.sign_in("fake", rd="https://evil.example/steal")
    assert r.status == 303, r
    assert r.header("Location") == wd.base + "/ui/account", r


def test_a_taken_username_gets_a_number(wd, idp, fresh):
    _, _, r = U.Browser(wd).sign_in("fake")
    assert r.status == 303, r
    first = U.user_row(U.identity_owner("fake", "sub-" + fresh))["username"]
    idp.reset(sub="sub2-" + fresh, preferred_username=fresh,
              email="second-%s@idp.example" % fresh, email_verified=True)
    _, _, r = U.Browser(wd).sign_in("fake")
    assert r.status == 303, r
    second = U.user_row(U.identity_owner("fake", "sub2-" + fresh))["username"]
    assert first == fresh.lower() and second == fresh.lower() + "-2", (first, second)


def test_link_by_email_links_a_verified_email_to_its_account(wd, idp):
    u = wd.client.new_user("lbe", login=False)
    # The account proved its address too (as a mailed link would).
    W.psql("UPDATE users SET email_verified = true WHERE id = '%s'" % u.id)
    users = U.users_count()
    mark = U.audit_mark()
    idp.reset(sub="sub-" + u.username, email=u.email, email_verified=True)
    b = U.Browser(wd)
    _, _, r = b.sign_in("fakelink")
    assert r.status == 303, "%r\n%s" % (r, W.log_tail(wd.log))
    assert b.signed_in()
    assert U.users_count() == users
    assert U.identity_owner("fakelink", "sub-" + u.username) == u.id
    events = [e for e, uid, _ in U.audit_after(mark) if uid == u.id]
    assert "identity_linked" in events, events
    # The password still works too.
    assert wd.client.login_raw(u.username, u.password).status == 200


def test_link_by_email_never_links_to_an_account_that_has_not_verified_its_email(wd, idp):
    """Pre-hijacking: an account registered with someone's address it never
    proved does not receive their identity, verified as it is upstream."""
    u = wd.client.new_user("lbeh", login=False)
    users, ids = U.users_count(), U.identities_count()
    mark = U.audit_mark()
    idp.reset(sub="sub-" + u.username, email=u.email, email_verified=True)
    b = U.Browser(wd)
    _, _, r = b.sign_in("fakelink")
    assert r.status == 409, r
    assert session_cookie(r) is None, r
    assert not b.signed_in()
    assert U.users_count() == users and U.identities_count() == ids
    assert U.failures_after(mark, "fakelink") == ["email_taken"]


def test_link_by_email_never_links_an_email_the_provider_has_not_verified(wd, idp):
    u = wd.client.new_user("lbeu", login=False)
    # Verified here: only the provider's email_verified false stands in the way.
    W.psql("UPDATE users SET email_verified = true WHERE id = '%s'" % u.id)
    users, ids = U.users_count(), U.identities_count()
    mark = U.audit_mark()
    idp.reset(sub="sub-" + u.username, email=u.email, email_verified=False)
    b = U.Browser(wd)
    _, _, r = b.sign_in("fakelink")
    assert r.status == 409, r
    assert r.content_type == "text/html", r
    assert session_cookie(r) is None, r
    assert not b.signed_in()
    assert U.users_count() == users and U.identities_count() == ids
    assert U.identity_owner("fakelink", "sub-" + u.username) is None
    assert U.failures_after(mark, "fakelink") == ["email_taken"]


def test_an_email_taken_without_link_by_email_is_409_and_links_nothing(wd, idp):
    u = wd.client.new_user("taken", login=False)
    users, ids = U.users_count(), U.identities_count()
    mark = U.audit_mark()
    idp.reset(sub="sub-" + u.username, email=u.email.upper(), email_verified=True)
    b = U.Browser(wd)
    _, _, r = b.sign_in("fake")
    assert r.status == 409, r
    assert "password" in r.body.decode().lower(), r   # says how to link instead
    assert session_cookie(r) is None
    assert U.users_count() == users and U.identities_count() == ids
    assert U.failures_after(mark, "fake") == ["email_taken"]


def test_a_provider_without_signup_is_403_and_makes_nothing(wd, idp, fresh):
    users, ids = U.users_count(), U.identities_count()
    mark = U.audit_mark()
    b = U.Browser(wd)
    _, _, r = b.sign_in("nosignup")
    assert r.status == 403, r
    assert session_cookie(r) is None
    assert U.users_count() == users and U.identities_count() == ids
    assert U.failures_after(mark, "nosignup") == ["signup_closed"]


def test_closed_registration_is_403_and_makes_nothing(workdir, daemon, idp, fresh):
    d = U.start_with_providers(
        workdir, daemon, "upstream_closed",
        {"fake": U.oidc_provider(idp, "warden-basic", SECRET)}, registration="closed")
    try:
        users, ids = U.users_count(), U.identities_count()
        mark = U.audit_mark()
        b = U.Browser(d)
        _, _, r = b.sign_in("fake")
        assert r.status == 403, r
        assert session_cookie(r) is None
        assert U.users_count() == users and U.identities_count() == ids
        assert U.failures_after(mark, "fake") == ["signup_closed"]
    finally:
        W.stop_own(d)


# ---- the client's authentication at the token endpoint ----

def test_client_secret_post_sends_the_secret_in_the_form(wd, idp, fresh):
    b = U.Browser(wd)
    _, _, r = b.sign_in("fakepost")
    assert r.status == 303, r
    rec = idp.token_requests[-1]
    assert rec["auth_method"] == "client_secret_post", rec
    assert rec["authorization"] is None, rec
    assert rec["form"].get("client_id") == "warden-post", rec


def test_the_token_request_carries_code_verifier_and_redirect_uri(wd, idp, fresh):
    b = U.Browser(wd)
    _, back, r = b.sign_in("fake")
    assert r.status == 303, r
    rec = idp.token_requests[-1]
    assert rec["form"]["grant_type"] == "authorization_code", rec
    assert rec["form"]["redirect_uri"] == wd.base + U.CALLBACK % "fake", rec
    assert rec["content_type"].startswith(W.FORM), rec
    # The fake checked the verifier against the challenge: a success is
    # the proof (a wrong verifier is invalid_grant, test_upstream_negative).
    assert rec["outcome"] == "ok", rec


@pytest.mark.parametrize("provider,client,alg", [("fakejwt", "warden-jwt", "RS256"),
                                                 ("fakejwted", "warden-jwt-ed", "EdDSA")])
def test_private_key_jwt_assertion_signed_by_the_hasher_is_accepted(wd, idp, fresh,
                                                                    provider, client, alg):
    b = U.Browser(wd)
    _, _, r = b.sign_in(provider)
    assert r.status == 303, "%r\n%s" % (r, W.log_tail(wd.log))
    assert b.signed_in()
    rec = idp.token_requests[-1]
    assert rec["auth_method"] == "private_key_jwt", rec
    assert rec.get("assertion_verified") is True, rec
    assert rec["form"].get("client_assertion_type") == ASSERTION_TYPE, rec
    h, c = rec["assertion_header"], rec["assertion_claims"]
    assert h["alg"] == alg, h
    assert c["iss"] == c["sub"] == client, c
    assert c["aud"] == idp.token_endpoint or c["aud"] == [idp.token_endpoint], c
    assert 0 < c["exp"] - c["iat"] <= 60, c
    assert isinstance(c["jti"], str) and len(c["jti"]) >= 16, c
    kids = [k["kid"] for k in json.load(urllib.request.urlopen(U.jwks_url(wd)))["keys"]]
    assert h["kid"] in kids, (h, kids)


def test_the_fake_provider_refuses_a_tampered_or_replayed_assertion(wd, idp, fresh):
    """The fake really verifies warden's assertion: the one it accepted,
    changed, or sent again, is invalid_client."""
    _, _, r = U.Browser(wd).sign_in("fakejwt")
    assert r.status == 303, r
    good = idp.token_requests[-1]["client_assertion"]
    h, p, s = good.split(".")
    claims = json.loads(b64url_decode(p))
    claims["exp"] += 30
    changed_claims = h + "." + b64url(json.dumps(claims).encode()) + "." + s
    sig = bytearray(b64url_decode(s))
    sig[-1] ^= 1
    changed_sig = h + "." + p + "." + b64url(bytes(sig))
    for assertion, why in ((changed_claims, "bad signature"),
                           (changed_sig, "bad signature"),
                           (good, "assertion replayed")):
        form = urllib.parse.urlencode({
            "grant_type": "authorization_code", "code": "x", "redirect_uri": "x",
            "client_id": "warden-jwt", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion}).encode()
        req = urllib.request.Request(idp.token_endpoint, data=form)
        try:
            urllib.request.urlopen(req)
            raise AssertionError("the fake took a %s" % why)
        except urllib.error.HTTPError as e:
            assert e.code == 401, e.code
            assert json.loads(e.read())["error"] == "invalid_client"
        assert idp.token_requests[-1]["why"] == why, idp.token_requests[-1]


def test_an_audience_array_with_azp_is_accepted(wd, idp, fresh):
    idp.defect = "aud_array_azp"
    b = U.Browser(wd)
    _, _, r = b.sign_in("fake")
    assert r.status == 303, "%r\n%s" % (r, W.log_tail(wd.log, 20))
    assert U.identity_owner("fake", "sub-" + fresh) is not None


# ---- the provider's keys ----

@pytest.mark.parametrize("provider", ["fake-es", "fake-ed"])
def test_id_tokens_signed_es256_and_eddsa_are_accepted(wd, es_idp, ed_idp, provider):
    f = es_idp if provider == "fake-es" else ed_idp
    name = W.uniq("alg")
    f.reset(sub="sub-" + name, preferred_username=name, email="%s@idp.example" % name,
            email_verified=True)
    b = U.Browser(wd)
    _, _, r = b.sign_in(provider)
    assert r.status == 303, "%r\n%s" % (r, W.log_tail(wd.log))
    assert b.signed_in()
    assert U.identity_owner(provider, "sub-" + name) is not None


def test_a_rotated_provider_key_is_fetched_again(wd, es_idp):
    """The first sign-in caches the key set; after the provider rotates its
    key, a token with the new kid makes warden fetch the set once more."""
    name = W.uniq("rot")
    es_idp.reset(sub="sub-" + name, email="%s@idp.example" % name, email_verified=True)
    _, _, r = U.Browser(wd).sign_in("fake-es")
    assert r.status == 303, r
    es_idp.rotate()
    before = es_idp.jwks_requests
    _, _, r = U.Browser(wd).sign_in("fake-es")
    assert r.status == 303, "%r\n%s" % (r, W.log_tail(wd.log))
    assert es_idp.jwks_requests == before + 1, (before, es_idp.jwks_requests)


# ---- secrets ----

def test_no_code_token_state_or_secret_reaches_the_log_or_a_page(wd, idp, fresh):
    """Last of the module: what the providers issued (codes, access and ID
    tokens), the states and nonces warden sent, and the client secrets are
    in no line of the daemon's log, and no page warden answered (a state
    only in the Location of the 303 that carried it)."""
    _, _, r = U.Browser(wd).sign_in("fake")
    assert r.status == 303, r
    with open(wd.log, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    secrets_ = list(idp.issued) + [SECRET, POST_SECRET]
    for a in idp.authorizations:
        secrets_ += [a.get("state"), a.get("nonce")]
    secrets_ = [s for s in secrets_ if s]
    assert len(secrets_) > 10, secrets_
    for s in secrets_:
        assert s not in log, "a secret in the log: %s..." % s[:8]
    for resp in W.SECRETS.responses:
        if resp.path.startswith("/ui/login/"):
            body = resp.body.decode("utf-8", "replace")
            for s in secrets_:
                assert s not in body, (resp, s[:8])
