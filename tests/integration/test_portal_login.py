"""POST /ui/login, /ui/login/totp and /ui/logout (OIDC.md, "Browser
sessions", "The login portal"): the CSRF token of the pre-login cookie and
the Origin check, the token endpoint's login behind it (identical answers,
back-off, per-address limit), a session cookie made new at each login,
the TOTP step, logout; then the flow in a headless Chromium."""

import os
import re
import urllib.parse

import pytest

import htmlcheck
import wardenlib as W
from pageshots import shots
from test_mfa import enrolled, step_start, totp

MAX_FAILURES = 3
ADDR_LIMIT = 8
BAD_LOGIN = "The username or password is incorrect."


@pytest.fixture(scope="module")
def own(workdir, daemon):
    """A wardend of this module's, where each test's X-Forwarded-For is an
    address of its own, so that failures here never meet another test's
    per-address limit."""
    d = W.start_own(workdir, daemon, "portal_login",
                    login_max_failures=str(MAX_FAILURES),
                    login_lockout_max="60s",
                    addr_login_limit=str(ADDR_LIMIT),
                    trusted_proxies="127.0.0.1")
    yield d
    W.stop_own(d)


_addr = [10]


class Portal:
    """A browser by hand: its cookies, its address, its Origin."""

    def __init__(self, own):
        self.c = own.client
        self.origin = "http://127.0.0.1:%d" % own.port
        _addr[0] += 1
        self.addr = "198.51.100.%d" % _addr[0]
        self.jar = {}

    def _headers(self, extra=None):
        h = {"X-Forwarded-For": self.addr, "Origin": self.origin}
        if self.jar:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.jar.items())
        h.update(extra or {})
        return h

    def _keep(self, r):
        for v in r.header_all("Set-Cookie"):
            name, value = v.split(";")[0].split("=", 1)
            if value == "" or "Max-Age=0" in v:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return r

    def get(self, path):
        return self._keep(self.c.get(path, headers=self._headers()))

    def post(self, path, form, headers=None):
        return self._keep(self.c.post(path, form=form, headers=self._headers(headers)))

    def csrf(self, path="/ui/login"):
        r = self.get(path)
        assert r.status == 200, r
        return field(r, "csrf")

    def login(self, username, password, rd="", headers=None):
        return self.post("/ui/login", {"csrf": self.csrf(), "rd": rd,
                                       "username": username, "password": password},
                         headers=headers)


def field(r, name):
    tag = re.search(r'<input[^>]* name="%s"[^>]*>' % name, r.body.decode())
    assert tag, (name, r.body.decode())
    m = re.search(r' value="([^"]*)"', tag.group(0))
    assert m, tag.group(0)
    return m.group(1)


def error_text(r):
    m = re.search(r'<p class="error" id="error" role="alert">([^<]*)</p>', r.body.decode())
    return m.group(1) if m else None


def sessions_of(uid, live=True):
    cond = " AND revoked_at IS NULL" if live else ""
    return int(W.psql("SELECT count(*) FROM browser_sessions WHERE user_id = '%s'%s"
                      % (uid, cond))[0])


def session_set_cookie(r):
    for v in r.header_all("Set-Cookie"):
        if v.startswith("warden_session="):
            return v
    return None


# ---- CSRF and Origin ----

@pytest.mark.parametrize("case", ["wrong", "missing", "foreign-origin", "no-pre-cookie"])
def test_a_form_not_from_our_pages_is_403_and_starts_no_session(own, case):
    p = Portal(own)
    u = own.client.new_user("pcsrf", login=False)
    form = {"csrf": p.csrf(), "rd": "", "username": u.username, "password": u.password}
    headers = None
    if case == "wrong":
        form["csrf"] = "A" * 43
    elif case == "missing":
        del form["csrf"]
    elif case == "foreign-origin":
        headers = {"Origin": "https://evil.example"}
    else:
        p.jar.clear()
    r = p.post("/ui/login", form, headers=headers)
    assert r.status == 403, r
    assert r.content_type.startswith("text/html"), r
    assert error_text(r), r.body
    assert session_set_cookie(r) is None
    assert len(field(r, "csrf")) == 43
    assert sessions_of(u.id, live=False) == 0


# ---- refusals ----

def test_a_wrong_password_and_an_unknown_user_get_the_same_page(own):
    p = Portal(own)
    u = own.client.new_user("pwrong", login=False)
    r = p.login(u.username, "Wrong-" + u.password)
    assert r.status == 400, r
    assert error_text(r) == BAD_LOGIN, r.body
    assert field(r, "username") == u.username
    assert u.password not in r.body.decode() and "Wrong-" not in r.body.decode()
    assert len(field(r, "csrf")) == 43
    assert session_set_cookie(r) is None
    nobody = W.uniq("nobody")
    r2 = p.login(nobody, "Wrong-" + u.password)
    assert r2.status == 400 and error_text(r2) == BAD_LOGIN, r2
    assert field(r2, "username") == nobody
    assert sessions_of(u.id, live=False) == 0
    events = W.psql("SELECT detail->>'reason' FROM audit_events WHERE user_id = '%s'"
                    " AND event = 'login_failed'" % u.id)
    assert events == ["wrong_password"], events


def test_a_locked_account_is_refused_like_a_wrong_password(own):
    p = Portal(own)
    u = own.client.new_user("plock", login=False)
    for _ in range(MAX_FAILURES):
        r = p.login(u.username, "Wrong-" + u.password)
        assert r.status == 400, r
    # Locked now: the right password gets the wrong one's page, as the
    # token endpoint answers it.
    r = p.login(u.username, u.password)
    assert r.status == 400 and error_text(r) == BAD_LOGIN, r
    assert session_set_cookie(r) is None
    api = own.client.login_raw(u.username, u.password,
                               headers={"X-Forwarded-For": p.addr})
    W.assert_oauth_error(api, "invalid_grant")
    assert sessions_of(u.id, live=False) == 0


def test_the_owners_browser_still_signs_in_while_others_lock_the_account(own):
    """The device cookie (OWASP device cookies, docs/login-lockout.md) of a
    login on the portal comes back to the portal's forms: a browser that
    signed in before is judged by its own failures, not by the lock that
    someone else's guesses put on the account."""
    u = own.client.new_user("pdevice", login=False)
    owner = Portal(own)
    r = owner.login(u.username, u.password)
    assert r.status == 303, r
    device = [v for v in r.header_all("Set-Cookie") if v.startswith("warden_device=")]
    assert len(device) == 1 and "; Path=/ui/login;" in device[0], device
    assert "HttpOnly" in device[0] and "SameSite=Strict" in device[0], device
    W.SECRETS.add_device(owner.jar["warden_device"])
    W.SECRETS.add_issued(owner.jar["warden_session"], r.index)
    thief = Portal(own)
    for _ in range(MAX_FAILURES):
        assert thief.login(u.username, "Wrong-" + u.password).status == 400
    # Locked for the thief, even with the right password ...
    r = thief.login(u.username, u.password)
    assert r.status == 400 and error_text(r) == BAD_LOGIN, r
    # ... not for the owner's browser, which presents its device cookie.
    r = owner.login(u.username, u.password)
    assert r.status == 303, r
    W.SECRETS.add_issued(owner.jar["warden_session"], r.index)


def test_too_many_failures_from_an_address_get_429_with_retry_after(own):
    p = Portal(own)
    u = own.client.new_user("plimit", login=False)
    for i in range(ADDR_LIMIT + 2):
        r = p.login(u.username, "Wrong-" + u.password)
        if r.status == 429:
            break
        assert r.status == 400, r
    assert r.status == 429, "no limit after %d failures" % (i + 1)
    assert int(r.header("Retry-After")) >= 1, r
    assert r.content_type.startswith("text/html"), r
    assert "too many failed logins" in (error_text(r) or "").lower(), r.body
    assert field(r, "username") == u.username
    # The token endpoint answers this address alike.
    api = own.client.login_raw(u.username, u.password,
                               headers={"X-Forwarded-For": p.addr})
    assert api.status == 429, api
    # So does a right password through the portal: no session.
    r2 = p.login(u.username, u.password)
    assert r2.status == 429 and session_set_cookie(r2) is None, r2
    assert sessions_of(u.id, live=False) == 0


# ---- success, fixation, logout ----

def test_a_login_starts_a_new_session_and_logout_ends_it(own):
    p = Portal(own)
    u = own.client.new_user("pok", login=False)
    rd = p.origin + "/ui/static/warden.css"
    # A session cookie planted in the browser before the login.
    planted = W.b64url(os.urandom(32))
    p.jar["warden_session"] = planted
    r = p.login(u.username, u.password, rd=rd)
    assert r.status == 303, r
    assert r.header("Location") == rd
    sc = session_set_cookie(r)
    assert sc is not None, r
    attrs = [a.strip() for a in sc.split(";")]
    assert "HttpOnly" in attrs and "SameSite=Lax" in attrs and "Path=/" in attrs, sc
    value = sc.split(";")[0].split("=", 1)[1]
    assert len(value) == 43 and value != planted
    assert value not in (p.jar.get("warden_pre"), planted)
    W.SECRETS.add_issued(value, r.index)
    assert "Max-Age=%d" % (7 * 86400) in attrs, sc
    assert sessions_of(u.id) == 1
    amr = W.psql("SELECT amr FROM browser_sessions WHERE user_id = '%s'" % u.id)
    assert amr == ["{pwd}"], amr
    # The token endpoint's audit of a login, and the session's; no
    # refresh token.
    events = W.psql("SELECT event FROM audit_events WHERE user_id = '%s'"
                    " AND event IN ('login_ok', 'session_started')"
                    " ORDER BY at, id" % u.id)
    assert events == ["login_ok", "session_started"], events
    assert W.psql("SELECT count(*) FROM refresh_tokens WHERE user_id = '%s'"
                  % u.id) == ["0"]
    # A second login makes another cookie again.
    p.jar["warden_session"] = value
    r2 = p.login(u.username, u.password)
    assert r2.status == 303, r2
    assert r2.header("Location") == p.origin + "/ui/account"
    value2 = session_set_cookie(r2).split(";")[0].split("=", 1)[1]
    W.SECRETS.add_issued(value2, r2.index)
    assert value2 != value
    assert sessions_of(u.id) == 2
    # Logout: the session's own CSRF token.
    bad = p.post("/ui/logout", {"csrf": "A" * 43})
    assert bad.status == 403, bad
    assert sessions_of(u.id) == 2
    token = csrf_of_session(own, p)
    out = p.post("/ui/logout", {"csrf": token})
    assert out.status == 303, out
    assert out.header("Location") == p.origin + "/ui/login"
    clear = session_set_cookie(out)
    assert clear is not None and "Max-Age=0" in clear, out
    assert sessions_of(u.id) == 1
    assert "warden_session" not in p.jar


def csrf_of_session(own, p):
    """The session's form token as csrf.h derives it (no page shows one
    yet): base64url of keyed BLAKE2b-256 of the label and its NUL, the
    cookie as key."""
    import hashlib
    key = p.jar["warden_session"].encode()
    mac = hashlib.blake2b(b"warden-csrf-session\0", key=key, digest_size=32).digest()
    return W.b64url(mac)


def test_rd_of_someone_else_goes_to_the_account_page(own):
    p = Portal(own)
    u = own.client.new_user("prd", login=False)
    r = p.login(u.username, u.password, rd="https://evil.example/")
    assert r.status == 303 and r.header("Location") == p.origin + "/ui/account", r
    W.SECRETS.add_issued(session_set_cookie(r).split(";")[0].split("=", 1)[1], r.index)


# ---- the TOTP step ----

def test_a_second_factor_gets_the_totp_page_then_a_session_with_otp(own, daemon):
    # Made through the session's wardend: this one's per-address limit is
    # low, and 127.0.0.1's count is shared by every host on the database.
    u, secret, _codes = enrolled(daemon.client)
    p = Portal(own)
    rd = p.origin + "/ui/login"
    r = p.login(u.username, u.password, rd=rd)
    assert r.status == 200, r
    body = r.body.decode()
    assert 'autocomplete="one-time-code"' in body and 'inputmode="numeric"' in body
    mfa = field(r, "mfa_token")
    assert len(mfa) == 43
    # Not registered as shown once: every TOTP page of this login holds
    # it, as the form's hidden field.
    assert field(r, "rd") == rd
    assert session_set_cookie(r) is None
    # A wrong code: the page again, same token, the error.
    wrong = "000000" if totp(secret, step_start(+1)) != "000000" else "111111"
    r2 = p.post("/ui/login/totp", {"csrf": field(r, "csrf"), "rd": rd,
                                   "mfa_token": mfa, "code": wrong})
    assert r2.status == 400 and error_text(r2) == "The code is wrong.", r2
    assert field(r2, "mfa_token") == mfa
    # No CSRF: 403.
    r3 = p.post("/ui/login/totp", {"rd": rd, "mfa_token": mfa, "code": totp(secret)})
    assert r3.status == 403, r3
    # The enrolment used this step's code: the next step's is new.
    r4 = p.post("/ui/login/totp", {"csrf": field(r2, "csrf"), "rd": rd,
                                   "mfa_token": mfa, "code": totp(secret, step_start(+1))})
    assert r4.status == 303 and r4.header("Location") == rd, r4
    sc = session_set_cookie(r4)
    assert sc and "HttpOnly" in sc, r4
    W.SECRETS.add_issued(sc.split(";")[0].split("=", 1)[1], r4.index)
    amr = W.psql("SELECT amr FROM browser_sessions WHERE user_id = '%s'" % u.id)
    assert amr == ["{pwd,otp}"], amr
    # The token is spent.
    r5 = p.post("/ui/login/totp", {"csrf": field(r2, "csrf"), "rd": rd,
                                   "mfa_token": mfa, "code": totp(secret, step_start(+1))})
    assert r5.status == 400, r5


def test_a_recovery_code_on_the_second_step_starts_a_session_once(own, daemon):
    u, _secret, codes = enrolled(daemon.client)
    p = Portal(own)
    r = p.login(u.username, u.password)
    assert r.status == 200, r
    body = r.body.decode()
    # The folded second form, labelled, beside the authenticator's.
    assert '<label for="recovery_code">' in body and 'name="recovery_code"' in body, body
    htmlcheck.assert_inputs_labelled(body)
    mfa = field(r, "mfa_token")
    # A wrong one: the page again, as for a wrong authenticator code.
    r2 = p.post("/ui/login/totp", {"csrf": field(r, "csrf"), "rd": "",
                                   "mfa_token": mfa, "recovery_code": "AAAAA-AAAAA"})
    assert r2.status == 400 and error_text(r2) == "The code is wrong.", r2
    # A right one, as typed with a dash and in lower case.
    typed = (codes[0][:5] + "-" + codes[0][5:]).lower()
    r3 = p.post("/ui/login/totp", {"csrf": field(r2, "csrf"), "rd": "",
                                   "mfa_token": mfa, "recovery_code": typed})
    assert r3.status == 303, r3
    sc = session_set_cookie(r3)
    assert sc, r3
    W.SECRETS.add_issued(sc.split(";")[0].split("=", 1)[1], r3.index)
    amr = W.psql("SELECT amr FROM browser_sessions WHERE user_id = '%s'" % u.id)
    assert len(amr) == 1 and "pwd" in amr[0], amr
    # Spent: the same code does not start a second session.
    p2 = Portal(own)
    r4 = p2.login(u.username, u.password)
    r5 = p2.post("/ui/login/totp", {"csrf": field(r4, "csrf"), "rd": "",
                                    "mfa_token": field(r4, "mfa_token"),
                                    "recovery_code": codes[0]})
    assert r5.status == 400 and error_text(r5) == "The code is wrong.", r5


# ---- in a browser ----

def _shots(browser, artifacts, name):
    return shots(browser, artifacts, name)


def test_the_login_in_a_browser(browser, daemon, client, artifacts):
    base = "http://127.0.0.1:%d" % daemon.port
    u = client.new_user("pbrowser", login=False)
    rd = base + "/ui/static/warden.css"
    # A wrong password first: the error page.
    browser.goto(base + "/ui/login?rd=" + urllib.parse.quote(rd, safe=""))
    browser.fill("#username", u.username)
    browser.fill("#password", "Wrong-" + u.password)
    browser.submit("form")
    assert browser.status() == 400
    assert BAD_LOGIN in browser.text("#error")
    _shots(browser, artifacts, "login-error")
    browser.set_viewport(1280, 800)
    assert browser.attr("#username", "value") == u.username
    browser.fill("#password", u.password)
    browser.submit("form")
    assert browser.url() == rd, browser.url()
    cookie = browser.cookie("warden_session")
    assert cookie is not None and cookie["httpOnly"], browser.cookies()
    W.SECRETS.add_issued(cookie["value"], -1)   # in no recorded response
    # The 400 of the wrong password's page is the one expected error.
    errors = [e for e in browser.console_errors()
              if not ("status of 400" in e and e.endswith("/ui/login)"))]
    assert errors == [], browser.console_errors()


def test_the_totp_page_in_a_browser(browser, daemon, client, artifacts):
    base = "http://127.0.0.1:%d" % daemon.port
    u, secret, _codes = enrolled(client)
    rd = base + "/ui/account"
    browser.goto(base + "/ui/login?rd=" + urllib.parse.quote(rd, safe=""))
    browser.fill("#username", u.username)
    browser.fill("#password", u.password)
    browser.submit("form")
    assert browser.status() == 200
    assert browser.exists("#code")
    _shots(browser, artifacts, "login-totp")
    # The recovery code's form unfolds without a script.
    browser.click("details.alternative summary", navigate=False)
    assert browser.evaluate("document.querySelector('details.alternative').open")
    _shots(browser, artifacts, "login-totp-recovery")
    browser.set_viewport(1280, 800)
    browser.fill("#code", totp(secret, step_start(+1)))
    browser.submit("form")
    assert browser.url() == rd, browser.url()
    assert browser.exists("h1"), browser.html()
    assert browser.cookie("warden_session") is not None
    W.SECRETS.add_issued(browser.cookie("warden_session")["value"], -1)
    assert browser.console_errors() == [], browser.console_errors()


def test_a_login_in_a_browser_lands_on_another_host_of_the_session_domain(
        browser, workdir, daemon, artifacts):
    """After the login form's POST, the browser follows the 303 to rd on
    another origin (an application host under session_domain): a
    Content-Security-Policy form-action would make Chromium refuse that
    redirect."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class App(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>app</title><h1 id=app>the application</h1>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    app = ThreadingHTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    d = W.start_own(workdir, daemon, "portal_cross_host", public_url="{base}",
                    session_domain="app.test")
    try:
        u = d.client.new_user("pcross", login=False)
        rd = "http://www.app.test:%d/landing?a=1" % app.server_address[1]
        browser.goto("%s/ui/login?rd=%s" % (d.base, urllib.parse.quote(rd, safe="")))
        browser.fill("#username", u.username)
        browser.fill("#password", u.password)
        browser.submit("form")
        assert browser.url() == rd, browser.url()
        assert browser.text("#app") == "the application"
        W.SECRETS.add_issued(browser.cookie("warden_session")["value"], -1)
    finally:
        W.stop_own(d)
        app.shutdown()


def test_a_server_failure_on_a_form_is_a_page_not_json(workdir, daemon):
    """Whatever fails behind a form (here the database, held by a lock past
    the request deadline), the browser gets the portal's page, with the
    status and no internals; the JSON problem is for API clients."""
    import subprocess
    import time
    d = W.start_own(workdir, daemon, "portal_deadline", request_timeout="1s")
    try:
        u = d.client.new_user("pfail", login=False)
        p = Portal(d)
        csrf = p.csrf()
        hold = subprocess.Popen(
            ["/usr/bin/psql", W.database_url(), "-X", "-q", "-c",
             "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; "
             "SELECT pg_sleep(4); COMMIT;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while W.psql("SELECT count(*) FROM pg_locks WHERE relation = "
                         "'users'::regclass AND mode = 'AccessExclusiveLock' "
                         "AND granted") != ["1"]:
                assert time.monotonic() < deadline, "the lock was not taken"
                time.sleep(0.05)
            r = p.post("/ui/login", {"csrf": csrf, "rd": "", "username": u.username,
                                     "password": u.password})
        finally:
            hold.wait(timeout=30)
        assert r.status == 503, r
        assert r.content_type == "text/html", r
        assert b"Not available right now" in r.body, r.body
        assert b"problem" not in r.body and b"urn:warden" not in r.body, r.body
        assert "script-src" not in (r.header("Content-Security-Policy") or "x")
        assert "default-src 'none'" in (r.header("Content-Security-Policy") or ""), r
        htmlcheck.assert_valid_html(r.body.decode())
        # The API keeps its JSON problems.
        r = d.client.get("/api/v1/users/me")
        assert r.content_type == "application/problem+json", r
    finally:
        W.stop_own(d)
