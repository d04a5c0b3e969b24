"""The login portal's account pages (OIDC.md, "The login portal";
ACCOUNTS.md): /ui/register, /ui/forgot, /ui/reset-password and
/ui/verify-email over HTTP (CSRF and Origin refused, the API's validation
messages and identical answers, links that opening never spends), the
login page's notices, then register -> sign in and forgot -> mail ->
reset -> sign in in a headless Chromium at desktop and phone widths."""

import html
import os
import re

import pytest

import htmlcheck
import mailbox as MB
import wardenlib as W
from pageshots import shots
from test_portal_login import Portal, error_text, field

RESET_LIMIT = 3
BAD_FORM = "This form has expired or did not come from this site. Please try again."
SENT = ("If an account has this address, a mail is on its way with a link "
        "to choose a new password.")
BAD_LINK = "This link is invalid, expired or already used."


@pytest.fixture(scope="module")
def own(workdir, daemon):
    """A wardend of this module's that writes its mail to a folder, where
    each test's X-Forwarded-For is an address of its own."""
    box = os.path.join(workdir, "portal-accounts-mail")
    mb = MB.DirMailbox(box)
    d = W.start_own(workdir, daemon, "portal_accounts",
                    mail_transport="dir:" + box,
                    mail_template_dir=os.path.join(W.repo_top(), "etc", "mail"),
                    public_url="{base}",
                    mail_rate="3",
                    addr_reset_limit=str(RESET_LIMIT),
                    trusted_proxies="127.0.0.1")
    d.mb = mb
    yield d
    W.stop_own(d)


def body(r):
    return r.body.decode()


def field_error(r, name):
    m = re.search(r'<p class="field-error" id="%s-error">([^<]*)</p>' % name, body(r))
    return html.unescape(m.group(1)) if m else None


def notice(r):
    m = re.search(r'<p class="notice" role="status">([^<]*)</p>', body(r))
    return m.group(1) if m else None


def page_text(r):
    m = re.search(r"<h1>[^<]*</h1>\s*(?:<p[^>]*>[^<]*</p>\s*)*", body(r))
    return m.group(0) if m else ""


def assert_page(r, status):
    assert r.status == status, r
    assert r.content_type.startswith("text/html"), r
    assert "default-src 'none'" in (r.header("Content-Security-Policy") or "")
    assert r.header("X-Frame-Options") == "DENY"
    assert "no-store" in (r.header("Cache-Control") or "")
    htmlcheck.assert_valid_html(body(r))
    htmlcheck.assert_inputs_labelled(body(r))


def api_field_message(r, name):
    W.assert_problem(r, 422, "validation")
    for e in r.json()["errors"]:
        if e.get("field") == name:
            return e["message"]
    raise AssertionError((name, r.json()))


def sentence(msg):
    return msg[0].upper() + msg[1:] + "."


def user_form(username=None, password=None, **kw):
    username = username or W.uniq("preg")
    password = password or W.strong_password()
    f = {"username": username, "email": "%s@example.test" % username,
         "full_name": "", "password": password, "password2": password}
    f.update(kw)
    return f


def users_named(username):
    return int(W.psql("SELECT count(*) FROM users WHERE username = '%s'" % username)[0])


# ---- the forms ----

def test_the_forms_render_with_a_token_and_labels(own):
    p = Portal(own)
    for path in ("/ui/register", "/ui/forgot"):
        r = p.get(path)
        assert_page(r, 200)
        assert len(field(r, "csrf")) == 43
    # Links: the login page leads to both.
    r = p.get("/ui/login")
    assert "/ui/forgot" in body(r) and "/ui/register" in body(r)


def test_a_bad_or_missing_token_gets_the_bad_link_page(own):
    p = Portal(own)
    for path in ("/ui/reset-password", "/ui/reset-password?token=" + "A" * 43,
                 "/ui/reset-password?token=short"):
        r = p.get(path)
        assert_page(r, 400)
        assert error_text(r) == BAD_LINK, body(r)
        assert '/ui/forgot">' in body(r)
    r = p.get("/ui/verify-email")
    assert_page(r, 400)
    assert error_text(r) == BAD_LINK


# ---- CSRF and Origin ----

@pytest.mark.parametrize("path", ["/ui/register", "/ui/forgot", "/ui/reset-password",
                                  "/ui/verify-email"])
@pytest.mark.parametrize("case", ["wrong", "missing", "foreign-origin", "no-pre-cookie"])
def test_a_form_not_from_our_pages_is_403_and_does_nothing(own, path, case):
    p = Portal(own)
    token = p.csrf("/ui/forgot")
    form = user_form()
    form.update({"csrf": token, "token": "A" * 43})
    headers = None
    if case == "wrong":
        form["csrf"] = "A" * 43
    elif case == "missing":
        del form["csrf"]
    elif case == "foreign-origin":
        headers = {"Origin": "https://evil.example"}
    else:
        p.jar.clear()
    before = len(own.mb.messages())
    r = p.post(path, form, headers=headers)
    assert_page(r, 403)
    assert error_text(r) == BAD_FORM, body(r)
    assert form["password"] not in body(r)
    assert users_named(form["username"]) == 0
    assert len(own.mb.messages()) == before


# ---- register ----

def test_register_shows_the_apis_messages_next_to_their_fields(own):
    p = Portal(own)
    weak = user_form(username="x", password="short", password2="short",
                     email="not-an-address")
    api = own.client.register_raw(weak["username"], weak["email"], weak["password"])
    r = p.post("/ui/register", dict(weak, csrf=p.csrf("/ui/register")))
    assert_page(r, 422)
    assert error_text(r)
    for name in ("username", "email", "password"):
        assert field_error(r, name) == sentence(api_field_message(api, name)), body(r)
    assert field(r, "email") == "not-an-address"
    assert 'aria-describedby="username-error"' in body(r)
    assert 'value="short"' not in body(r)
    # The confirmation must match.
    f = user_form(password2="Other-" + W.strong_password())
    r = p.post("/ui/register", dict(f, csrf=p.csrf("/ui/register")))
    assert_page(r, 422)
    assert field_error(r, "password2") == "The two passwords do not match."
    assert field(r, "username") == f["username"]
    assert users_named(f["username"]) == 0


def test_register_a_taken_name_is_told_at_its_field(own):
    p = Portal(own)
    u = own.client.new_user("ptaken", login=False)
    f = user_form(username=u.username)
    f["email"] = "other-" + u.email
    r = p.post("/ui/register", dict(f, csrf=p.csrf("/ui/register")))
    assert_page(r, 409)
    assert field_error(r, "username") == "The username is taken."
    f = user_form(email=u.email.upper())
    r = p.post("/ui/register", dict(f, csrf=p.csrf("/ui/register")))
    assert_page(r, 409)
    assert field_error(r, "email") == "The e-mail address is already registered."


def test_register_then_verify_from_the_mail_then_sign_in(own):
    p = Portal(own)
    f = user_form(full_name="Ada Lovelace")
    r = p.post("/ui/register", dict(f, csrf=p.csrf("/ui/register")))
    assert r.status == 303, r
    assert r.header("Location") == own.base + "/ui/login?notice=created"
    r = p.get("/ui/login?notice=created")
    assert_page(r, 200)
    assert notice(r).startswith("Account created: check your mail"), body(r)
    uid = W.psql("SELECT id FROM users WHERE username = '%s'" % f["username"])[0]
    assert W.psql("SELECT full_name FROM users WHERE id = '%s'" % uid) == ["Ada Lovelace"]
    url, token = own.mb.wait_for(f["email"])[0].link("verify-email")
    path = url[len(own.base):]
    # Opening the link (twice) spends nothing: a button.
    for _ in range(2):
        r = p.get(path)
        assert_page(r, 200)
        assert field(r, "token") == token
        assert "Verify my address" in body(r)
    assert W.psql("SELECT email_verified FROM users WHERE id = '%s'" % uid) == ["f"]
    r = p.post("/ui/verify-email", {"csrf": field(r, "csrf"), "token": token})
    assert_page(r, 200)
    assert "is verified" in body(r)
    assert W.psql("SELECT email_verified FROM users WHERE id = '%s'" % uid) == ["t"]
    r = p.post("/ui/verify-email", {"csrf": p.csrf("/ui/forgot"), "token": token})
    assert_page(r, 400)
    assert error_text(r) == BAD_LINK
    r = p.login(f["username"], f["password"])
    assert r.status == 303, r


def test_the_login_notices_are_the_servers_own_texts(own):
    p = Portal(own)
    r = p.get("/ui/login?notice=reset")
    assert notice(r) == "Your password has been changed: sign in with the new one."
    r = p.get("/ui/login?notice=verified")
    assert notice(r) == "Your e-mail address is verified."
    for q in ("%3Cscript%3E", "created%00", "", "Reset"):
        r = p.get("/ui/login?notice=" + q)
        assert_page(r, 200)
        assert notice(r) is None and "<script>" not in body(r), q


def test_register_is_404_when_registration_is_closed(workdir, daemon):
    d = W.start_own(workdir, daemon, "portal_closed", registration="closed")
    try:
        p = Portal(d)
        r = p.get("/ui/register")
        assert_page(r, 404)
        f = user_form()
        r = p.post("/ui/register", dict(f, csrf=p.csrf("/ui/login")))
        assert_page(r, 404)
        assert users_named(f["username"]) == 0
        assert "/ui/register" not in body(p.get("/ui/login"))
    finally:
        W.stop_own(d)


# ---- forgot and reset ----

def forgot(p, address):
    return p.post("/ui/forgot", {"csrf": p.csrf("/ui/forgot"), "email": address})


def test_forgot_answers_alike_for_known_and_unknown_addresses(own):
    u = own.client.new_user("pforgot", login=False)
    own.mb.wait_for(u.email)           # the verification mail
    known = forgot(Portal(own), u.email)
    unknown = forgot(Portal(own), "nobody-%s@example.test" % W.uniq())
    assert_page(known, 200)
    assert known.status == unknown.status
    assert body(known) == body(unknown)
    assert SENT in body(known)
    own.mb.wait_for(u.email, subject="password")
    # A malformed address: the API's message at its field.
    api = own.client.post("/api/v1/auth/password/forgot", json_body={"email": "nope"})
    r = forgot(Portal(own), "nope")
    assert_page(r, 422)
    assert field_error(r, "email") == sentence(api_field_message(api, "email"))


def test_forgot_past_the_address_limit_is_429_with_retry_after(own):
    p = Portal(own)
    for i in range(RESET_LIMIT + 1):
        r = forgot(p, "nobody-%s@example.test" % W.uniq())
        if i < RESET_LIMIT:
            assert r.status == 200, (i, r)
    assert_page(r, 429)
    assert int(r.header("Retry-After")) >= 1
    assert "too many" in error_text(r).lower()
    # The API's limit is the same count.
    api = own.client.post("/api/v1/auth/password/forgot",
                          json_body={"email": "a@example.test"},
                          headers={"X-Forwarded-For": p.addr})
    W.assert_problem(api, 429, "rate-limited")


def test_reset_from_the_mail_link(own):
    u = own.client.new_user("preset", login=False)
    p = Portal(own)
    assert forgot(p, u.email).status == 200
    url, token = own.mb.wait_for(u.email, subject="password")[0].link("reset-password")
    assert url.startswith(own.base + "/ui/reset-password?token=")
    path = url[len(own.base):]
    for _ in range(2):        # opening it spends nothing
        r = p.get(path)
        assert_page(r, 200)
        assert field(r, "token") == token
    csrf = field(r, "csrf")
    # Confirmation, then the API's own password rules.
    r = p.post("/ui/reset-password", {"csrf": csrf, "token": token,
                                      "password": "a" * 20, "password2": "b" * 20})
    assert_page(r, 422)
    assert field_error(r, "password2") == "The two passwords do not match."
    api = own.client.post("/api/v1/auth/password/reset",
                          json_body={"token": token, "new_password": u.username})
    r = p.post("/ui/reset-password", {"csrf": csrf, "token": token,
                                      "password": u.username, "password2": u.username})
    assert_page(r, 422)
    assert field_error(r, "password") == sentence(api_field_message(api, "new_password"))
    assert field(r, "token") == token
    pw = W.strong_password()
    r = p.post("/ui/reset-password", {"csrf": csrf, "token": token,
                                      "password": pw, "password2": pw})
    assert r.status == 303, r
    assert r.header("Location") == own.base + "/ui/login?notice=reset"
    W.assert_oauth_error(own.client.login_raw(u.username, u.password), "invalid_grant")
    assert own.client.login_raw(u.username, pw).status == 200
    # Spent: the bad link's page, pointing at /ui/forgot.
    r = p.post("/ui/reset-password", {"csrf": csrf, "token": token,
                                      "password": pw, "password2": pw})
    assert_page(r, 400)
    assert error_text(r) == BAD_LINK and '/ui/forgot">' in body(r)
    r = p.get(path)
    assert_page(r, 400)
    assert "password_reset" in W.psql(
        "SELECT event FROM audit_events WHERE user_id = '%s'" % u.id)


# ---- in a browser ----

def unexpected(errors, allowed):
    """The console errors but the failed loads expected: (status, path)."""
    return [e for e in errors
            if not any("status of %d" % st in e and path in e for st, path in allowed)]


def _shots(browser, artifacts, name):
    return shots(browser, artifacts, name)


def test_register_then_sign_in_in_a_browser(browser, own, artifacts):
    base = own.base
    username = W.uniq("pbreg")
    pw = W.strong_password()
    browser.goto(base + "/ui/login")
    browser.click("a[href$='/ui/register']")
    assert browser.status() == 200
    _shots(browser, artifacts, "register")
    browser.fill("#username", username)
    browser.fill("#email", username + "@example.test")
    browser.fill("#password", pw)
    browser.fill("#password2", "Other-" + pw)
    browser.submit("form")
    assert browser.status() == 422
    assert "do not match" in browser.text("#password2-error")
    _shots(browser, artifacts, "register-error")
    assert browser.attr("#username", "value") == username
    browser.fill("#password", pw)
    browser.fill("#password2", pw)
    browser.submit("form")
    assert browser.url() == base + "/ui/login?notice=created", browser.url()
    assert "Account created" in browser.text(".notice")
    _shots(browser, artifacts, "login-created")
    browser.fill("#username", username)
    browser.fill("#password", pw)
    browser.submit("form")
    assert browser.url() == base + "/ui/account", browser.url()
    cookie = browser.cookie("warden_session")
    assert cookie is not None and cookie["httpOnly"], browser.cookies()
    W.SECRETS.add_issued(cookie["value"], -1)   # in no recorded response
    # The form's 422 and the account page (not on this branch) expected.
    errors = unexpected(browser.console_errors(), ((422, "/ui/register"),
                                                   (404, "/ui/account")))
    assert errors == [], browser.console_errors()


def test_forgot_mail_reset_then_sign_in_in_a_browser(browser, own, artifacts):
    base = own.base
    u = own.client.new_user("pbreset", login=False)
    browser.goto(base + "/ui/login")
    browser.click("a[href$='/ui/forgot']")
    assert browser.status() == 200
    _shots(browser, artifacts, "forgot")
    browser.fill("#email", u.email)
    browser.submit("form")
    assert browser.status() == 200
    assert "a mail is on its way" in browser.text("main")
    _shots(browser, artifacts, "forgot-sent")
    url, token = own.mb.wait_for(u.email, subject="password")[0].link("reset-password")
    browser.goto(url)
    assert browser.status() == 200
    _shots(browser, artifacts, "reset-password")
    pw = W.strong_password()
    browser.fill("#password", pw)
    browser.fill("#password2", pw)
    browser.submit("form")
    assert browser.url() == base + "/ui/login?notice=reset", browser.url()
    assert "password has been changed" in browser.text(".notice")
    _shots(browser, artifacts, "login-reset")
    browser.fill("#username", u.username)
    browser.fill("#password", pw)
    browser.submit("form")
    assert browser.url() == base + "/ui/account", browser.url()
    cookie = browser.cookie("warden_session")
    assert cookie is not None, browser.cookies()
    W.SECRETS.add_issued(cookie["value"], -1)
    # The spent link's page.
    browser.goto(url)
    assert browser.status() == 400
    _shots(browser, artifacts, "reset-password-spent")
    errors = unexpected(browser.console_errors(), ((400, "/ui/reset-password"),
                                                   (404, "/ui/account")))
    assert errors == [], browser.console_errors()
