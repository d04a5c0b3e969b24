"""The OpenID provider's browser side (OIDC.md, "OpenID Connect
provider"): discovery, /oauth2/authorize (RFC 6749 4.1, RFC 7636, OpenID
Connect Core 3.1.2, RFC 9207 iss) with its consent page, and RP-initiated
logout (/oauth2/logout), driven over HTTP by hand; then the code flow in a
headless Chromium with screenshots of the consent page."""

import html
import hashlib
import json
import os
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import wardenlib as W
from test_portal_login import Portal, csrf_of_session, field

REDIRECT = "https://app.example.com/cb"
LOGOUT_TO = "https://app.example.com/bye"


@pytest.fixture(scope="module")
def own(workdir, daemon):
    d = W.start_own(workdir, daemon, "oidc_authorize", trusted_proxies="127.0.0.1")
    yield d
    W.stop_own(d)


def add_client(own, *extra, redirect=REDIRECT):
    out = own.wardenctl("client", "add", "App %s" % W.uniq("c"), "--redirect-uri", redirect,
                        "--post-logout-uri", LOGOUT_TO, "--json", *extra)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)["client_id"]


@pytest.fixture(scope="module")
def client_id(own):
    return add_client(own, "--scope", "openid profile email offline_access")


def pkce():
    verifier = W.b64url(os.urandom(32))
    return verifier, W.b64url(hashlib.sha256(verifier.encode()).digest())


def params(cid, **kw):
    p = {"response_type": "code", "client_id": cid, "redirect_uri": REDIRECT,
         "scope": "openid profile", "state": "st-" + W.uniq("s"), "nonce": "n-1",
         "code_challenge": pkce()[1], "code_challenge_method": "S256"}
    p.update(kw)
    return {k: v for k, v in p.items() if v is not None}


def authorize(p, q, raw=None):
    return p.get("/oauth2/authorize?" + (raw if raw is not None else urllib.parse.urlencode(q)))


def issuer(own):
    return own.client.get("/.well-known/openid-configuration").json()["issuer"]


def query_of(location):
    u = urllib.parse.urlsplit(location)
    return urllib.parse.urlunsplit(u._replace(query="")), dict(urllib.parse.parse_qsl(u.query))


def assert_error_page(r):
    assert r.status == 400, r
    assert r.header("Location") is None, r
    assert "text/html" in r.header("Content-Type"), r
    assert "Sign-in request refused" in r.body.decode(), r.body


def assert_error_redirect(own, r, q, error):
    assert r.status == 302, r
    where, got = query_of(r.header("Location"))
    assert where == q["redirect_uri"], r.header("Location")
    assert got.get("error") == error, got
    assert got.get("state") == q["state"] and got.get("iss") == issuer(own), got
    return got


def signed_in(own):
    p = Portal(own)
    u = own.client.new_user("oidcz", login=False)
    r = p.login(u.username, u.password)
    assert r.status == 303, r
    W.SECRETS.add_issued(p.jar["warden_session"], r.index)
    return p, u


def consent_form(r):
    """The consent page's fields, as a browser would send them back."""
    body = r.body.decode()
    form = re.search(r'<form method="post" action="[^"]*/ui/consent".*?</form>', body, re.S)
    assert form, body
    fields = {}
    for tag in re.findall(r'<input type="hidden"[^>]*>', form.group(0)):
        name = re.search(r'name="([^"]*)"', tag).group(1)
        value = re.search(r'value="([^"]*)"', tag).group(1)
        fields[name] = __import__("html").unescape(value)
    return fields


def code_of(own, r, q):
    assert r.status == 302, (r, r.body)
    where, got = query_of(r.header("Location"))
    assert where == q["redirect_uri"], r.header("Location")
    assert set(got) == {"code", "state", "iss"}, got
    assert got["state"] == q["state"] and got["iss"] == issuer(own)
    W.SECRETS.add_issued(got["code"], r.index)
    return got["code"]


# ---- discovery ----

def test_discovery_documents_are_one_and_name_the_endpoints(own):
    a = own.client.get("/.well-known/openid-configuration")
    b = own.client.get("/.well-known/oauth-authorization-server")
    assert a.status == 200 and b.status == 200
    m = a.json()
    assert m == b.json()
    base = "http://127.0.0.1:%d" % own.port
    assert m["authorization_endpoint"] == base + "/oauth2/authorize"
    assert m["token_endpoint"] == base + "/oauth2/token"
    assert m["userinfo_endpoint"] == base + "/oauth2/userinfo"
    assert m["introspection_endpoint"] == base + "/oauth2/introspect"
    assert m["revocation_endpoint"] == base + "/oauth2/revoke"
    assert m["end_session_endpoint"] == base + "/oauth2/logout"
    assert m["jwks_uri"] == base + "/.well-known/jwks.json"
    assert m["response_types_supported"] == ["code"]
    assert m["response_modes_supported"] == ["query"]
    assert m["code_challenge_methods_supported"] == ["S256"]
    assert m["scopes_supported"] == ["openid", "profile", "email", "roles", "offline_access"]
    assert {"authorization_code", "refresh_token"} <= set(m["grant_types_supported"])
    assert set(m["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic", "client_secret_post", "none"}
    assert m["id_token_signing_alg_values_supported"] == ["RS256", "EdDSA"]
    assert m["subject_types_supported"] == ["public"]
    assert m["authorization_response_iss_parameter_supported"] is True
    assert {"sub", "nonce", "auth_time", "email"} <= set(m["claims_supported"])
    assert m["introspection_endpoint_auth_methods_supported"]


# ---- faults answered with a page, never a redirect ----

@pytest.mark.parametrize("case", ["unknown-client", "no-client", "no-redirect", "one-character",
                                  "trailing-slash", "other-port", "repeated-redirect"])
def test_a_bad_client_or_redirect_uri_is_a_page_and_no_redirect(own, client_id, case):
    p = Portal(own)
    q = params(client_id)
    raw = None
    if case == "unknown-client":
        q["client_id"] = W.b64url(os.urandom(16))
    elif case == "no-client":
        del q["client_id"]
    elif case == "no-redirect":
        del q["redirect_uri"]
    elif case == "one-character":
        q["redirect_uri"] = REDIRECT[:-1] + "x"
    elif case == "trailing-slash":
        q["redirect_uri"] = REDIRECT + "/"
    elif case == "other-port":
        q["redirect_uri"] = "https://app.example.com:8443/cb"
    elif case == "repeated-redirect":
        raw = urllib.parse.urlencode(q) + "&redirect_uri=" + urllib.parse.quote(REDIRECT, safe="")
    assert_error_page(authorize(p, q, raw))


# ---- faults answered at the redirect URI ----

@pytest.mark.parametrize("case,error", [
    ("no-pkce", "invalid_request"), ("plain-pkce", "invalid_request"),
    ("no-method", "invalid_request"), ("short-challenge", "invalid_request"),
    ("token-response", "unsupported_response_type"), ("no-response-type", "invalid_request"),
    ("no-openid", "invalid_scope"), ("unknown-scope", "invalid_scope"),
    ("scope-not-the-clients", "invalid_scope"), ("repeated-scope", "invalid_request"),
    ("request-object", "request_not_supported"), ("request-uri", "request_uri_not_supported"),
    ("prompt-none-and-login", "invalid_request"),
    ("bad-max-age", "invalid_request"), ("long-nonce", "invalid_request"),
    ("non-ascii-nonce", "invalid_request"),
])
def test_a_bad_request_goes_back_to_the_client_with_state_and_iss(own, client_id, case, error):
    p = Portal(own)
    q = params(client_id)
    raw = None
    if case == "no-pkce":
        del q["code_challenge"], q["code_challenge_method"]
    elif case == "plain-pkce":
        q["code_challenge_method"] = "plain"
    elif case == "no-method":
        del q["code_challenge_method"]
    elif case == "short-challenge":
        q["code_challenge"] = "abc"
    elif case == "token-response":
        q["response_type"] = "token"
    elif case == "no-response-type":
        del q["response_type"]
    elif case == "no-openid":
        q["scope"] = "profile email"
    elif case == "unknown-scope":
        q["scope"] = "openid admin"
    elif case == "scope-not-the-clients":
        q["scope"] = "openid roles"
    elif case == "repeated-scope":
        raw = urllib.parse.urlencode(q) + "&scope=openid"
    elif case == "request-object":
        q["request"] = "eyJhbGciOiJub25lIn0.e30."
    elif case == "request-uri":
        q["request_uri"] = "https://app.example.com/request.jwt"
    elif case == "prompt-none-and-login":
        q["prompt"] = "none login"
    elif case == "bad-max-age":
        q["max_age"] = "-1"
    elif case == "long-nonce":      # the ID token could not carry it
        q["nonce"] = "n" * 256
    elif case == "non-ascii-nonce":
        q["nonce"] = "n\u00e9"
    assert_error_redirect(own, authorize(p, q, raw), q, error)


def test_a_public_client_without_pkce_is_refused(own):
    out = own.wardenctl("client", "add", "Public %s" % W.uniq("c"), "--public",
                        "--redirect-uri", REDIRECT, "--json")
    assert out.returncode == 0, out.stderr
    cid = json.loads(out.stdout)["client_id"]
    p, _ = signed_in(own)
    q = params(cid)
    del q["code_challenge"], q["code_challenge_method"]
    got = assert_error_redirect(own, authorize(p, q), q, "invalid_request")
    assert "PKCE" in got["error_description"]


def test_redirect_uri_with_a_query_keeps_it(own):
    cid = add_client(own, redirect="https://app.example.com/cb?tenant=a")
    p = Portal(own)
    q = params(cid, redirect_uri="https://app.example.com/cb?tenant=a", prompt="none")
    r = authorize(p, q)
    assert r.status == 302
    loc = r.header("Location")
    assert loc.startswith("https://app.example.com/cb?tenant=a&error=login_required&"), loc


def test_redirect_uri_with_another_query_is_a_page_and_no_redirect(own):
    cid = add_client(own, redirect="https://app.example.com/cb?tenant=a")
    for uri in ("https://app.example.com/cb?tenant=b", "https://app.example.com/cb",
                "https://app.example.com/cb?tenant=a&x=1"):
        assert_error_page(authorize(Portal(own), params(cid, redirect_uri=uri)))


# ---- parameters a client may send that warden does not act on ----

def test_unknown_and_optional_parameters_are_ignored(own):
    # RFC 6749 3.1: unknown parameters are ignored; OpenID Connect Core
    # 3.1.2.1: display, ui_locales, claims_locales, acr_values, login_hint
    # and id_token_hint are optional, and claims (5.5) is not supported
    # (claims_parameter_supported false); none of them stops the flow.
    cid = add_client(own, "--skip-consent")
    p, _ = signed_in(own)
    for extra in ({"display": "page"}, {"display": "popup"},
                  {"ui_locales": "fr-CA fr en"}, {"claims_locales": "de"},
                  {"acr_values": "urn:mace:incommon:iap:silver"},
                  {"login_hint": "someone@example.com"},
                  {"claims": json.dumps({"id_token": {"name": {"essential": True}}})},
                  {"id_token_hint": "not.a.token"},
                  {"vendor_extension": "x", "another": ""}):
        q = params(cid, **extra)
        code_of(own, authorize(p, q), q)


def test_scope_order_does_not_matter(own):
    cid = add_client(own, "--skip-consent")
    p, _ = signed_in(own)
    q = params(cid, scope="email openid profile")
    code = code_of(own, authorize(p, q), q)
    row = W.psql("SELECT scopes::text FROM oauth_codes WHERE code_hash = sha256('%s'::bytea)"
                 % code)
    assert row and set(row[0].strip("{}").split(",")) == {"openid", "profile", "email"}, row


def test_code_flow_without_nonce_succeeds(own):
    cid = add_client(own, "--skip-consent")
    p, _ = signed_in(own)
    q = params(cid, nonce=None)
    assert "nonce" not in q
    code = code_of(own, authorize(p, q), q)
    assert W.psql("SELECT nonce IS NULL FROM oauth_codes WHERE code_hash = sha256('%s'::bytea)"
                  % code) == ["t"]


def test_prompt_none_with_a_session_and_a_grant_answers_a_code(own):
    cid = add_client(own, "--skip-consent")
    p, _ = signed_in(own)
    q = params(cid, prompt="none")
    code_of(own, authorize(p, q), q)


def test_max_age_not_past_keeps_the_session(own):
    cid = add_client(own, "--skip-consent")
    p, _ = signed_in(own)
    time.sleep(1.1)
    q = params(cid, max_age="10000")
    code = code_of(own, authorize(p, q), q)
    # No new login: the code carries the session's login time.
    rows = W.psql("SELECT auth_time <= created_at - interval '1 second' FROM oauth_codes"
                  " WHERE code_hash = sha256('%s'::bytea)" % code)
    assert rows == ["t"], rows


# ---- no session ----

def test_prompt_none_without_a_session_is_login_required_at_the_client(own, client_id):
    q = params(client_id, prompt="none")
    assert_error_redirect(own, authorize(Portal(own), q), q, "login_required")


def test_without_a_session_the_login_page_comes_back_to_authorize(own, client_id):
    p = Portal(own)
    u = own.client.new_user("oidcz", login=False)
    q = params(client_id)
    r = authorize(p, q)
    assert r.status == 302, r
    loc = r.header("Location")
    assert loc.startswith(p.origin + "/ui/login?rd=%2Foauth2%2Fauthorize%3F"), loc
    rd = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))["rd"]
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(rd).query))
    assert back == q
    # The login page carries rd, and the login goes there.
    page = p.get(loc[len(p.origin):])
    assert page.status == 200 and html.unescape(field(page, "rd")) == p.origin + rd
    r = p.login(u.username, u.password, rd=rd)
    assert r.status == 303 and r.header("Location") == p.origin + rd, r
    W.SECRETS.add_issued(p.jar["warden_session"], r.index)
    r = p.get(rd)
    assert r.status == 200 and "/ui/consent" in r.body.decode(), r


# ---- a session: consent and the code ----

def test_consent_allow_gives_a_code_stored_only_as_its_hash(own, client_id):
    p, u = signed_in(own)
    q = params(client_id, scope="openid profile email")
    r = authorize(p, q)
    assert r.status == 200, r
    body = r.body.decode()
    assert "See your e-mail address" in body and "Allow" in body and "Deny" in body
    # No form-action: the POST ends in a redirect to the client (page.h).
    assert "form-action" not in r.header("Content-Security-Policy"), r
    form = consent_form(r)
    form["decision"] = "allow"
    r = p.post("/ui/consent", form)
    code = code_of(own, r, q)
    rows = W.psql("SELECT encode(code_hash, 'hex'), nonce, code_challenge, scopes::text,"
                  " session_id IS NOT NULL FROM oauth_codes WHERE client_id = '%s'"
                  " AND user_id = '%s'" % (client_id, u.id))
    assert len(rows) == 1, rows
    row = rows[0].split("|")
    assert row[0] == hashlib.sha256(code.encode()).hexdigest()
    assert code not in rows[0]
    assert row[1] == "n-1" and row[2] == q["code_challenge"] and row[4] == "t", row
    assert int(W.psql("SELECT count(*) FROM audit_events WHERE user_id = '%s'"
                      " AND event IN ('consent_granted', 'code_issued')" % u.id)[0]) == 2
    # The consent is remembered: the next request goes straight to a code,
    # unless prompt=consent asks again.
    q2 = params(client_id, scope="openid email")
    code_of(own, authorize(p, q2), q2)
    q3 = params(client_id, scope="openid email", prompt="consent")
    assert authorize(p, q3).status == 200
    # A scope not granted yet: the page again; with prompt=none, consent_required.
    q4 = params(client_id, scope="openid offline_access", prompt="none")
    assert_error_redirect(own, authorize(p, q4), q4, "consent_required")


def test_consent_deny_is_access_denied(own, client_id):
    p, _ = signed_in(own)
    q = params(client_id)
    form = consent_form(authorize(p, q))
    form["decision"] = "deny"
    assert_error_redirect(own, p.post("/ui/consent", form), q, "access_denied")


def test_skip_consent_goes_straight_to_the_code(own):
    cid = add_client(own, "--skip-consent")
    p, _ = signed_in(own)
    q = params(cid)
    code_of(own, authorize(p, q), q)
    # POST with a form body, as Core 3.1.2.1 allows.
    q = params(cid)
    code_of(own, p.post("/oauth2/authorize", q), q)


@pytest.mark.parametrize("case", ["no-csrf", "wrong-csrf", "foreign-origin", "changed-redirect"])
def test_a_consent_post_not_from_our_page_is_refused(own, client_id, case):
    p, _ = signed_in(own)
    q = params(client_id)
    form = consent_form(authorize(p, q))
    form["decision"] = "allow"
    headers = None
    if case == "no-csrf":
        del form["csrf"]
    elif case == "wrong-csrf":
        form["csrf"] = "A" * 43
    elif case == "foreign-origin":
        headers = {"Origin": "https://evil.example"}
    elif case == "changed-redirect":
        form["redirect_uri"] = "https://evil.example/cb"
    r = p.post("/ui/consent", form, headers=headers)
    assert r.header("Location") is None, r
    assert r.status in (400, 403), r
    assert int(W.psql("SELECT count(*) FROM oauth_codes WHERE client_id = '%s'"
                      " AND redirect_uri = '%s' AND created_at > now() - interval '5 s'"
                      " AND user_id IN (SELECT user_id FROM browser_sessions"
                      " WHERE token_hash = sha256('%s'::bytea))"
                      % (client_id, REDIRECT, p.jar["warden_session"]))[0]) == 0


@pytest.mark.parametrize("ask", [{"prompt": "login"}, {"max_age": "0"}])
def test_prompt_login_and_max_age_force_one_fresh_login_and_no_loop(own, ask):
    cid = add_client(own, "--skip-consent")
    p, u = signed_in(own)
    time.sleep(1.1)
    q = params(cid, **ask)
    r = authorize(p, q)
    assert r.status == 302 and "/ui/login?rd=" in r.header("Location"), r
    rd = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.header("Location")).query))["rd"]
    r = p.login(u.username, u.password, rd=rd)
    assert r.status == 303, r
    W.SECRETS.add_issued(p.jar["warden_session"], r.index)
    # Two seconds on: the login is older than max_age=0 (the session's
    # time is whole seconds), yet the mark says it is the one asked for.
    time.sleep(2.1)
    code_of(own, p.get(rd), q)
    # A mark written by hand cannot make an old login fresh.
    stale = rd.replace("warden_login_at=", "warden_login_at=1")
    r = p.get(stale)
    assert r.status == 302 and "/ui/login?rd=" in r.header("Location"), r


# ---- logout ----

def forged_hint(cid):
    from cryptography.hazmat.primitives.asymmetric import ed25519
    key = ed25519.Ed25519PrivateKey.generate()
    head = W.b64url(json.dumps({"alg": "EdDSA", "typ": "JWT", "kid": "x"}).encode())
    body = W.b64url(json.dumps({"iss": "https://evil.example", "sub": "x", "aud": cid,
                                "exp": int(time.time()) + 300, "iat": int(time.time())}).encode())
    sig = W.b64url(key.sign((head + "." + body).encode()))
    return head + "." + body + "." + sig


def session_live(p):
    return W.psql("SELECT count(*) FROM browser_sessions WHERE revoked_at IS NULL"
                  " AND token_hash = sha256('%s'::bytea)" % p.jar["warden_session"])[0] == "1"


def test_logout_with_a_registered_uri_asks_then_ends_the_session(own, client_id):
    p, _ = signed_in(own)
    token = p.jar["warden_session"]
    q = {"client_id": client_id, "post_logout_redirect_uri": LOGOUT_TO, "state": "s1"}
    r = p.get("/oauth2/logout?" + urllib.parse.urlencode(q))
    assert r.status == 200 and "Sign out?" in r.body.decode(), r
    assert session_live(p)
    # The confirmation without the session's token does nothing.
    form = dict(q, confirm="yes", csrf="A" * 43)
    r = p.post("/oauth2/logout", form)
    assert r.status == 403 and session_live(p), r
    form["csrf"] = field_value(r_page := p.get("/oauth2/logout?" + urllib.parse.urlencode(q)), "csrf")
    assert r_page.status == 200
    r = p.post("/oauth2/logout", form)
    assert r.status == 302 and r.header("Location") == LOGOUT_TO + "?state=s1", r
    assert "warden_session" not in p.jar
    p.jar["warden_session"] = token
    assert not session_live(p)


def field_value(r, name):
    return field(r, name)


def test_logout_with_an_unregistered_uri_is_a_page_and_no_redirect(own, client_id):
    p, _ = signed_in(own)
    for uri in (LOGOUT_TO + "/", "https://evil.example/bye"):
        r = p.get("/oauth2/logout?" + urllib.parse.urlencode(
            {"client_id": client_id, "post_logout_redirect_uri": uri}))
        assert r.status == 400 and r.header("Location") is None, r
        assert session_live(p)
    # Without a client to judge it by: refused too.
    r = p.get("/oauth2/logout?" + urllib.parse.urlencode({"post_logout_redirect_uri": LOGOUT_TO}))
    assert r.status == 400 and r.header("Location") is None, r


def test_logout_with_a_hint_of_another_issuer_is_a_page(own, client_id):
    p, _ = signed_in(own)
    r = p.get("/oauth2/logout?" + urllib.parse.urlencode(
        {"id_token_hint": forged_hint(client_id), "post_logout_redirect_uri": LOGOUT_TO}))
    assert r.status == 400 and r.header("Location") is None, r
    assert "not an ID token of this server" in r.body.decode()
    assert session_live(p)


def test_logout_with_nothing_asks_then_says_signed_out(own):
    p, _ = signed_in(own)
    r = p.get("/oauth2/logout")
    assert r.status == 200 and "Sign out?" in r.body.decode(), r
    r = p.post("/oauth2/logout", {"confirm": "yes", "csrf": csrf_of_session(None, p),
                                  "client_id": "", "post_logout_redirect_uri": "", "state": ""})
    assert r.status == 200 and "You have been signed out." in r.body.decode(), r
    # No session at all: signed out already, nothing asked.
    r = Portal(own).get("/oauth2/logout")
    assert r.status == 200 and "You have been signed out." in r.body.decode(), r


# ---- in a browser ----

class _Catcher(BaseHTTPRequestHandler):
    hits = []

    def do_GET(self):
        _Catcher.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!doctype html><title>app</title><p id=done>back</p>")

    def log_message(self, *a):
        pass


@pytest.fixture
def catcher():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Catcher)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d/cb" % srv.server_address[1]
    srv.shutdown()


def test_a_browser_goes_through_login_and_consent_to_the_client(own, catcher, browser, artifacts):
    from pageshots import shots
    cid = add_client(own, redirect=catcher)
    u = own.client.new_user("oidcb", login=False)
    base = "http://127.0.0.1:%d" % own.port
    q = params(cid, redirect_uri=catcher, scope="openid profile email")
    browser.goto(base + "/oauth2/authorize?" + urllib.parse.urlencode(q))
    assert "/ui/login" in browser.url(), browser.url()
    browser.fill("#username", u.username)
    browser.fill("#password", u.password)
    browser.click('form[action$="/ui/login"] button')
    assert browser.exists('form[action$="/ui/consent"]'), browser.html()
    shots(browser, artifacts, "consent")
    browser.click('button[value="allow"]')
    url = browser.url()
    assert url.startswith(catcher + "?code="), url
    got = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    W.SECRETS.add_issued(got["code"], 0)
    assert got["state"] == q["state"] and got["iss"] == issuer(own)
