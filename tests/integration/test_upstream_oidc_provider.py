"""Social login (issue 15) against an OpenID provider no one here wrote:
panva's oidc-provider (tests/integration/oidc_provider/upstream.mjs), its
own development login and consent forms filled by a browser by hand
(requests).  A wardend of this module's names it in its providers_dir as
"panva" (client_secret_basic), another as "panvajwt" (private_key_jwt: the
hasher signs the assertion and oidc-provider checks it against warden's
own JWKS).

Proved: a first sign-in makes an account (no password) and its identity
row and starts a session; a second, in a fresh browser, finds the same
account; rd is kept through the provider; the subject, not the login name,
is what the identity is keyed on; private_key_jwt with RS256 and EdDSA;
ID tokens signed with RS256, ES256 and EdDSA; the provider's keys rotated
under warden's cached key set; claims that the provider gives at its
userinfo endpoint alone (its default); cancelling at the provider, a
replayed callback, a callback in another browser and a wrong client
secret each end on a readable error page with an upstream_login_failed
audit event."""

import re
import time
import urllib.parse

import pytest

import oidc_provider as OP
import wardenlib as W


@pytest.fixture(scope="module")
def up(workdir):
    u = OP.Upstream(workdir, "up_provider")
    yield u
    u.stop()


@pytest.fixture(scope="module")
def up_conform(workdir):
    """oidc-provider as it comes: the claims of the scopes email and
    profile only at its userinfo endpoint, not in the ID token (OpenID
    Connect Core 5.4)."""
    u = OP.Upstream(workdir, "up_conform", conform=True)
    yield u
    u.stop()


@pytest.fixture(scope="module")
def sites(workdir, daemon, up, up_conform):
    """name -> Site: basic (client_secret_basic), rs256 and eddsa
    (private_key_jwt), wrong (a secret oidc-provider does not know),
    es256id and eddsaid (ID tokens of those algorithms), byemail
    (link_by_email yes), conform (up_conform's client)."""
    s = {
        "conform": OP.Site(workdir, daemon, "up_conform", up_conform.issuer,
                           name="panvaconform"),
        "basic": OP.Site(workdir, daemon, "up_basic", up.issuer, name="panva"),
        "rs256": OP.Site(workdir, daemon, "up_rs256", up.issuer, name="panvajwt",
                         auth="private_key_jwt", alg="RS256"),
        "eddsa": OP.Site(workdir, daemon, "up_eddsa", up.issuer, name="panvajwt",
                         auth="private_key_jwt", alg="EdDSA"),
        "wrong": OP.Site(workdir, daemon, "up_wrong", up.issuer, name="panva"),
        "es256id": OP.Site(workdir, daemon, "up_es256id", up.issuer, name="panvaes"),
        "eddsaid": OP.Site(workdir, daemon, "up_eddsaid", up.issuer, name="panvaed"),
        "byemail": OP.Site(workdir, daemon, "up_byemail", up.issuer, name="panvamail",
                           extra={"link_by_email": "yes"}),
    }
    s["basic"].register_with(up, "client_secret_basic")
    s["rs256"].register_with(up, "private_key_jwt", alg="RS256")
    s["eddsa"].register_with(up, "private_key_jwt", alg="EdDSA")
    # The same client id as registered, another secret.
    wrong_secret = s["wrong"].secret
    s["wrong"].secret = W.uniq("other") + W.uniq("x")
    s["wrong"].register_with(up, "client_secret_basic")
    s["wrong"].secret = wrong_secret
    s["es256id"].register_with(up, "client_secret_basic",
                               id_token_signed_response_alg="ES256")
    s["eddsaid"].register_with(up, "client_secret_basic",
                               id_token_signed_response_alg="EdDSA")
    s["byemail"].register_with(up, "client_secret_basic")
    s["conform"].register_with(up_conform, "client_secret_basic")
    up.start()
    up_conform.start()
    started = []
    try:
        for site in s.values():
            started.append(site.start())
        yield s
    finally:
        for site in started:
            site.stop()


def landed(site, agent, r, where="/ui/account"):
    """R is the callback's 303 to WHERE, and the agent holds a session."""
    assert r.status_code == 303, (r.status_code, r.text[:2000], agent.trail_text())
    assert r.headers["Location"] in (where, site.url(where)), r.headers
    assert "warden_session=" in r.headers.get("Set-Cookie", ""), r.headers
    assert agent.session_cookie() is not None


def account_page(agent, site):
    r = agent.request("GET", site.url("/ui/account"))
    assert r.status_code == 200, (r.status_code, r.text[:1000])
    return r.text


def error_page(r, status):
    """R is an HTML page of STATUS a person can read, not a redirect."""
    assert r.status_code == status, (r.status_code, r.text[:2000])
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    assert "Location" not in r.headers, r.headers
    assert "<h1" in r.text, r.text[:2000]
    return r.text


def failed_reasons(provider, since):
    return [d.get("reason") for d in OP.audit("upstream_login_failed", since_id=since)
            if isinstance(d, dict) and d.get("provider") == provider]


def identity_of(provider, login):
    rows = OP.identities(provider, login + "-sub")
    assert len(rows) == 1, (provider, login, rows)
    return rows[0][0]


def test_a_first_sign_in_makes_an_account_with_its_identity_and_a_session(sites, up):
    site = sites["basic"]
    login = W.uniq("alice")
    since = OP.last_audit_id()
    agent = OP.Agent()
    r = agent.sign_in(site, login)
    landed(site, agent, r)

    rows = OP.identities("panva", login + "-sub")
    assert len(rows) == 1, rows
    uid, email = rows[0]
    assert email == login + "@example.test"
    u = OP.user_row(uid)
    assert u["username"] == login and u["email"] == login + "@example.test", u
    assert u["email_verified"] is True, u
    # An account made by a provider has no password: the sentinel that no
    # password matches.
    assert u["password_hash"] == "!", u
    assert len(OP.audit("upstream_signup", uid=uid, since_id=since)) == 1

    # The session is the new account's.
    assert login in account_page(agent, site)
    # oidc-provider's token endpoint took the code, the PKCE verifier and
    # the secret (the client is registered for client_secret_basic).
    assert "POST /token -> 200" in up.log_text()


def test_a_second_sign_in_in_a_fresh_browser_finds_the_same_account(sites):
    site = sites["basic"]
    login = W.uniq("bob")
    landed(site, a1 := OP.Agent(), a1.sign_in(site, login))
    uid = identity_of("panva", login)
    since = OP.last_audit_id()

    # Another browser: oidc-provider's login form again, the same subject.
    a2 = OP.Agent()
    r = a2.sign_in(site, login)
    landed(site, a2, r)
    assert identity_of("panva", login) == uid
    assert W.psql("SELECT count(*) FROM users WHERE username LIKE %s"
                  % OP.q(login + "%"))[0] == "1"
    assert len(OP.audit("upstream_login", uid=uid, since_id=since)) == 1
    assert OP.audit("upstream_signup", uid=uid, since_id=since) == []
    assert login in account_page(a2, site)
    # Two sessions of the one account, one a browser.
    assert a1.session_cookie().value != a2.session_cookie().value

    # The first browser again: oidc-provider remembers its session and
    # grant, no form at all; warden the account.
    r = a1.sign_in(site, None)
    landed(site, a1, r)
    assert identity_of("panva", login) == uid


def test_the_identity_is_keyed_on_the_subject_and_a_taken_username_gets_a_suffix(sites):
    """Two provider accounts with the same preferred_username (other
    subjects, other e-mails) are two warden accounts; the second's username
    is the first's with -2."""
    site = sites["basic"]
    name = W.uniq("carol")
    one, two = name + "@one.example.test", name + "@two.example.test"
    landed(site, a := OP.Agent(), a.sign_in(site, one))
    landed(site, b := OP.Agent(), b.sign_in(site, two))
    uid1, uid2 = identity_of("panva", one), identity_of("panva", two)
    assert uid1 != uid2
    assert OP.user_row(uid1)["username"] == name
    assert OP.user_row(uid2)["username"] == name + "-2"
    assert OP.user_row(uid2)["email"] == two


def test_rd_is_kept_through_the_provider(sites):
    site = sites["basic"]
    rd = site.url("/openapi.json?from=upstream")
    a = OP.Agent()
    r = a.sign_in(site, W.uniq("dave"), rd=rd)
    landed(site, a, r, where=rd[len(site.base):])


@pytest.mark.parametrize("alg", ["rs256", "eddsa"])
def test_private_key_jwt_signed_by_the_hasher_is_taken_by_oidc_provider(sites, up, alg):
    """The client is registered with private_key_jwt and warden's JWKS as
    its jwks_uri: oidc-provider refuses any other client authentication,
    so a session proves it verified warden's assertion (ALG)."""
    site = sites[alg]
    login = W.uniq("jwt" + alg)
    a = OP.Agent()
    r = a.sign_in(site, login)
    landed(site, a, r)
    uid = identity_of("panvajwt", login)
    assert login in account_page(a, site)
    assert OP.user_row(uid)["password_hash"] == "!"


@pytest.mark.parametrize("site_name,provider,alg", [("es256id", "panvaes", "ES256"),
                                                   ("eddsaid", "panvaed", "EdDSA")])
def test_id_tokens_signed_with_es256_and_eddsa_are_verified(sites, site_name, provider, alg):
    """oidc-provider signs this client's ID tokens with ALG (its P-256 or
    Ed25519 key): warden verifies them with the provider's JWKS."""
    site = sites[site_name]
    login = W.uniq("alg")
    a = OP.Agent()
    r = a.sign_in(site, login)
    landed(site, a, r)
    assert identity_of(provider, login)


@pytest.fixture
def rotating(workdir, daemon):
    """An oidc-provider and a wardend of their own: the test restarts the
    provider, which then signs with new keys under new kids."""
    u = OP.Upstream(workdir, "up_rotating")
    s = OP.Site(workdir, daemon, "up_rotating", u.issuer, name="panvarot")
    s.register_with(u, "client_secret_basic")
    u.start()
    try:
        s.start()
        yield u, s
        s.stop()
    finally:
        u.stop()


def test_new_keys_of_the_provider_are_fetched_when_an_id_token_names_one(rotating):
    """warden caches the provider's key set; an ID token under a kid it
    does not know makes it fetch the set again (once, at most every 10 s),
    and the sign-in goes through."""
    up, site = rotating
    landed(site, a := OP.Agent(), a.sign_in(site, W.uniq("rot")))
    t0 = time.monotonic()
    fetches = up.log_text().count("GET /jwks -> 200")
    assert fetches == 1, up.log_text()
    up.stop()
    up.start()
    # Past warden's minimum time between two fetches of the set.
    time.sleep(max(0.0, 11 - (time.monotonic() - t0)))
    login = W.uniq("rot")
    landed(site, b := OP.Agent(), b.sign_in(site, login))
    assert identity_of("panvarot", login)
    assert up.log_text().count("GET /jwks -> 200") == 2, up.log_text()


def password_account(site, email, verified):
    """An account with a password registered on SITE with EMAIL, its
    e-mail marked verified or not."""
    username = W.uniq("owner")
    pw = W.strong_password()
    r = site.d.client.register_raw(username, email, pw)
    assert r.status == 201, r
    uid = r.json()["id"]
    W.psql("UPDATE users SET email_verified = %s WHERE id = %s"
           % ("true" if verified else "false", OP.q(uid)))
    return uid


def test_an_e_mail_of_an_account_with_a_password_is_a_409_page(sites):
    """Without link_by_email, a first sign-in whose e-mail an account has
    already neither signs in to that account nor makes another."""
    site = sites["basic"]
    login = W.uniq("taken")
    owner = password_account(site, login + "@example.test", verified=True)
    since = OP.last_audit_id()
    a = OP.Agent()
    r = a.sign_in(site, login)
    page = error_page(r, 409)
    assert "link" in page.lower(), page[:2000]
    assert a.session_cookie() is None
    assert OP.identities("panva", login + "-sub") == []
    assert "email_taken" in failed_reasons("panva", since)
    assert OP.user_row(owner)["password_hash"] != "!"


def test_link_by_email_links_to_the_account_whose_e_mail_is_verified(sites):
    site = sites["byemail"]
    login = W.uniq("byemail")
    owner = password_account(site, login + "@example.test", verified=True)
    since = OP.last_audit_id()
    a = OP.Agent()
    landed(site, a, a.sign_in(site, login))
    assert identity_of("panvamail", login) == owner
    linked = OP.audit("identity_linked", uid=owner, since_id=since)
    assert len(linked) == 1 and linked[0].get("by") == "email", linked
    assert OP.audit("upstream_signup", since_id=since, uid=owner) == []


def test_link_by_email_never_links_to_an_account_whose_e_mail_is_unverified(sites):
    """Someone may register an account with another person's e-mail
    address (it stays unverified) and a password of their own, and wait:
    when that person signs in with the provider, which vouches for the
    address, linking the identity to the waiting account would give them
    the account (a pre-hijacked account).  The sign-in must not end in it."""
    site = sites["byemail"]
    login = W.uniq("victim")
    squatter = password_account(site, login + "@example.test", verified=False)
    a = OP.Agent()
    r = a.sign_in(site, login)
    rows = OP.identities("panvamail", login + "-sub")
    assert all(uid != squatter for uid, _ in rows), rows
    if r.status_code == 303:
        # A session, then, of another account than the squatter's.
        assert rows, r.headers
        page = account_page(a, site)
        assert OP.user_row(squatter)["username"] not in page
    else:
        error_page(r, 409)


def test_a_wrong_client_secret_ends_on_a_502_page(sites, up):
    site = sites["wrong"]
    login = W.uniq("eve")
    since = OP.last_audit_id()
    a = OP.Agent()
    r = a.sign_in(site, login)
    error_page(r, 502)
    assert a.session_cookie() is None
    assert OP.identities("panva", login + "-sub") == []
    assert "code_refused" in failed_reasons("panva", since), \
        OP.audit("upstream_login_failed", since_id=since)
    # The secret warden sent is no secret of oidc-provider's log either.
    assert site.secret not in up.log_text()


def test_cancelling_at_the_provider_ends_on_a_400_page(sites):
    site = sites["basic"]
    login = W.uniq("frank")
    since = OP.last_audit_id()
    a = OP.Agent()
    r = a.sign_in(site, login, consent=False)
    page = error_page(r, 400)
    assert re.search(r"cancel", page, re.I), page[:2000]
    assert a.session_cookie() is None
    assert OP.identities("panva", login + "-sub") == []
    assert "provider_error" in failed_reasons("panva", since)


def test_a_replayed_callback_ends_on_a_400_page(sites):
    site = sites["basic"]
    login = W.uniq("gina")
    a = OP.Agent()
    seen = []

    def stop(u):
        if u.startswith(site.callback):
            seen.append(u)
            return True
        return False

    r = a.walk(site.url("/ui/login/panva"), login=login, stop=stop)
    landed(site, a, r)
    since = OP.last_audit_id()
    r = a.request("GET", seen[0])
    error_page(r, 400)
    assert "state" in failed_reasons("panva", since)


def test_a_callback_in_another_browser_ends_on_a_400_page(sites):
    """The state is bound to the browser that started the sign-in (the
    warden_upstream cookie): a callback URL carried to another browser
    starts no session there and makes no account."""
    site = sites["basic"]
    login = W.uniq("hank")
    a = OP.Agent()
    # The first browser stops at the callback URL, unasked.
    url = a.walk(site.url("/ui/login/panva"), login=login,
                 before=lambda u: u.startswith(site.callback))
    since = OP.last_audit_id()
    other = OP.Agent()
    r = other.request("GET", url)
    error_page(r, 400)
    assert other.session_cookie() is None
    assert "binding" in failed_reasons("panva", since)
    assert OP.identities("panva", login + "-sub") == []


def test_the_provider_cookie_binds_the_browser_for_ten_minutes_on_login_paths(sites, up):
    site = sites["basic"]
    a = OP.Agent()
    r = a.request("GET", site.url("/ui/login/panva?rd=%2Fui%2Faccount"))
    assert r.status_code == 303, r.text[:1000]
    loc = r.headers["Location"]
    assert loc.startswith(up.issuer + "/auth?"), loc
    q = dict(urllib.parse.parse_qsl(loc.split("?", 1)[1]))
    assert q["response_type"] == "code" and q["client_id"] == site.client_id, q
    assert q["redirect_uri"] == site.callback, q
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43, q
    assert q["state"] and q["nonce"] and "openid" in q["scope"].split(), q
    sc = r.headers["Set-Cookie"]
    assert sc.startswith("warden_upstream="), sc
    low = sc.lower()
    assert "httponly" in low and "samesite=lax" in low and "path=/ui/login/" in low, sc
    assert "max-age=600" in low, sc


def test_an_unknown_provider_is_a_404_page(sites):
    r = OP.Agent().request("GET", sites["basic"].url("/ui/login/nosuch"))
    error_page(r, 404)


def test_claims_only_at_userinfo_still_give_the_account_its_email(sites, up_conform):
    """A provider may keep the e-mail and the username out of the ID token
    and answer them at its userinfo endpoint alone (OpenID Connect Core
    5.4: the claims of scope values, when an access token is issued; what
    oidc-provider does by default): the account still gets them."""
    site = sites["conform"]
    login = W.uniq("ivan")
    a = OP.Agent()
    r = a.sign_in(site, login)
    landed(site, a, r)
    uid = identity_of("panvaconform", login)
    u = OP.user_row(uid)
    assert u["email"] == login + "@example.test" and u["email_verified"] is True, u
    assert u["username"] == login, u
    assert "GET /me -> 200" in up_conform.log_text()
