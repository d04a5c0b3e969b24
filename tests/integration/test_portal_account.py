"""GET /ui/account and its forms (OIDC.md, "The login portal";
ACCOUNTS.md, "TOTP"): a page of a session, the API's own operations
behind the session's CSRF token and the Origin check (password change
with a new session for this browser, TOTP enrolment with its QR code,
recovery codes shown once, removal, sessions ended one by one); then the
pages in a headless Chromium."""

import base64
import html
import os
import re

import pytest

import wardenlib as W
from pageshots import shots
from test_mfa import step_start, totp
from test_portal_login import (Portal, csrf_of_session, error_text, field,
                               session_set_cookie)


@pytest.fixture(scope="module")
def own(workdir, daemon):
    d = W.start_own(workdir, daemon, "portal_account",
                    trusted_proxies="127.0.0.1")
    yield d
    W.stop_own(d)


def signed_in(own, prefix="pacct", user=None):
    """A Portal signed in as a new user (or user): (portal, user)."""
    p = Portal(own)
    u = user or own.client.new_user(prefix, login=False)
    r = p.login(u.username, u.password)
    assert r.status == 303, r
    W.SECRETS.add_issued(p.jar["warden_session"], r.index)
    return p, u


def notice_text(r):
    m = re.search(r'<p class="notice" id="notice" role="status">([^<]*)</p>', r.body.decode())
    return m.group(1) if m else None


def session_ids(r):
    return re.findall(r'<input type="hidden" name="id" value="([^"]*)">', r.body.decode())


def account(p):
    r = p.get("/ui/account")
    assert r.status == 200, r
    return r


def post(p, path, form, headers=None):
    form = dict(form)
    form.setdefault("csrf", csrf_of_session(None, p))
    return p.post(path, form, headers=headers)


def keep_new_cookie(p, r):
    sc = session_set_cookie(r)
    if sc is not None:
        W.SECRETS.add_issued(sc.split(";")[0].split("=", 1)[1], r.index)


# ---- the page ----

def test_without_a_live_session_the_page_sends_to_the_login(own):
    p = Portal(own)
    r = p.get("/ui/account")
    assert r.status == 303, r
    assert r.header("Location") == p.origin + "/ui/login?rd=%2Fui%2Faccount"
    p.jar["warden_session"] = W.b64url(os.urandom(32))
    r = p.get("/ui/account")
    assert r.status == 303 and r.header("Location").endswith("/ui/login?rd=%2Fui%2Faccount"), r
    # A POST without a session: the same.
    r = p.post("/ui/account/password", {"csrf": "A" * 43})
    assert r.status == 303, r


def test_the_page_shows_the_user_and_this_browser(own):
    c = own.client
    p = Portal(own)
    u = c.new_user("pshow", full_name="Ada Lovelace", login=False)
    r = p.login(u.username, u.password)
    assert r.status == 303 and r.header("Location") == p.origin + "/ui/account", r
    W.SECRETS.add_issued(p.jar["warden_session"], r.index)
    r = account(p)
    body = r.body.decode()
    assert r.content_type.startswith("text/html")
    assert "frame-ancestors 'none'" in r.header("Content-Security-Policy")
    assert u.username in body and u.email in body and "Ada Lovelace" in body
    assert "not verified" in body
    assert "this browser" in body
    assert field(r, "csrf") == csrf_of_session(own, p)
    assert "Set up" in body and "/ui/account/totp/delete" not in body
    assert 'action="%s/ui/logout"' % p.origin in body
    assert len(session_ids(r)) == 1


@pytest.mark.parametrize("case", ["wrong", "missing", "foreign-origin", "pre-login-token"])
def test_a_form_not_from_our_pages_is_refused(own, case):
    p, u = signed_in(own, "pcsrf")
    form = {"current_password": u.password, "new_password": "Another-" + u.password,
            "confirm_password": "Another-" + u.password,
            "csrf": csrf_of_session(own, p)}
    headers = None
    if case == "wrong":
        form["csrf"] = "A" * 43
    elif case == "missing":
        del form["csrf"]
    elif case == "foreign-origin":
        headers = {"Origin": "https://evil.example"}
    else:
        form["csrf"] = p.csrf()    # the login form's, not the session's
    r = p.post("/ui/account/password", form, headers=headers)
    assert r.status == 403, r
    assert error_text(r), r.body
    assert u.password not in r.body.decode()
    # Nothing changed: the old password still works.
    assert own.client.login_raw(u.username, u.password).status == 200


# ---- password ----

def test_a_password_change_keeps_this_browser_signed_in(own):
    c = own.client
    p, u = signed_in(own, "ppw")
    other, _ = signed_in(own, user=u)
    new = "Changed-" + u.password
    # Wrong current password: 403, nothing echoed.
    r = post(p, "/ui/account/password", {"current_password": "Wrong-" + u.password,
                                         "new_password": new, "confirm_password": new})
    assert r.status == 403, r
    assert "wrong" in error_text(r).lower(), error_text(r)
    assert new not in r.body.decode() and u.password not in r.body.decode()
    # The two new ones differ: 400.
    r = post(p, "/ui/account/password", {"current_password": u.password,
                                         "new_password": new, "confirm_password": new + "x"})
    assert r.status == 400 and "do not match" in error_text(r), r
    # Too weak: the API's validation, as a sentence.
    r = post(p, "/ui/account/password", {"current_password": u.password,
                                         "new_password": "short", "confirm_password": "short"})
    assert r.status == 422 and error_text(r).startswith("New password"), r
    old_cookie = p.jar["warden_session"]
    r = post(p, "/ui/account/password", {"current_password": u.password,
                                         "new_password": new, "confirm_password": new})
    assert r.status == 200, r
    assert notice_text(r).startswith("Password changed"), r.body
    keep_new_cookie(p, r)
    assert p.jar["warden_session"] != old_cookie
    assert new not in r.body.decode()
    assert field(r, "csrf") == csrf_of_session(own, p)
    # This browser: still signed in, on its new session; the other: out.
    assert len(session_ids(account(p))) == 1
    assert other.get("/ui/account").status == 303
    # The old password fails, the new works.
    assert c.login_raw(u.username, u.password).status == 400
    assert c.login_raw(u.username, new).status == 200


# ---- TOTP ----

def qr_svg_of(r):
    m = re.search(r'<img id="qr" src="([^"]*)"', r.body.decode())
    assert m, r.body.decode()
    src = html.unescape(m.group(1))
    assert src.startswith("data:image/svg+xml;base64,"), src[:60]
    svg = base64.b64decode(src.split(",", 1)[1], validate=True).decode()
    assert "<svg" in svg and "</svg>" in svg, svg[:200]
    return svg


def codes_of(r):
    return re.findall(r"<li><code>([^<]*)</code></li>", r.body.decode())


def test_totp_enrolment_codes_once_then_login_needs_the_code(own):
    p, u = signed_in(own, "ptotp")
    r = post(p, "/ui/account/totp", {"password": "Wrong-" + u.password})
    assert r.status == 403 and error_text(r), r
    r = post(p, "/ui/account/totp", {"password": u.password})
    assert r.status == 200, r
    qr_svg_of(r)
    secret = re.search(r'<code class="secret" id="secret">([A-Z2-7]+)</code>', r.body.decode()).group(1)
    W.SECRETS.add_issued(secret, r.index)
    assert u.password not in r.body.decode()
    # A wrong code: the account page says so.
    wrong = "000000" if totp(secret) != "000000" else "111111"
    r = post(p, "/ui/account/totp/confirm", {"code": wrong})
    assert r.status == 422 and error_text(r), r
    r = post(p, "/ui/account/totp/confirm", {"code": totp(secret)})
    assert r.status == 200, r
    codes = codes_of(r)
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    for k in codes:
        W.SECRETS.add_issued(k, r.index)
    assert "only once" in r.body.decode()
    # Shown once: the account page has none of them, and offers removal.
    r = account(p)
    body = r.body.decode()
    assert not any(k in body for k in codes)
    assert "/ui/account/totp/delete" in body and "/ui/account/recovery-codes" in body
    assert 'action="%s/ui/account/totp"' % p.origin not in body
    # A login now needs the second step.
    q = Portal(own)
    r = q.login(u.username, u.password)
    assert r.status == 200 and len(field(r, "mfa_token")) == 43, r
    assert session_set_cookie(r) is None
    # New recovery codes: the password, then a new set.
    r = post(p, "/ui/account/recovery-codes", {"password": "Wrong-" + u.password})
    assert r.status == 403, r
    r = post(p, "/ui/account/recovery-codes", {"password": u.password})
    assert r.status == 200, r
    fresh = codes_of(r)
    for k in fresh:
        W.SECRETS.add_issued(k, r.index)
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    # Removal: password and a code.
    r = post(p, "/ui/account/totp/delete", {"password": u.password, "code": wrong})
    assert r.status == 422 and error_text(r), r
    r = post(p, "/ui/account/totp/delete", {"password": u.password,
                                            "code": totp(secret, step_start(+1))})
    assert r.status == 200 and "removed" in notice_text(r), r
    assert "/ui/account/totp/delete" not in r.body.decode()
    r = Portal(own).login(u.username, u.password)
    assert r.status == 303, r
    keep_new_cookie(p, r)


# ---- sessions ----

def test_ending_another_session(own):
    p, u = signed_in(own, "psess")
    q, _ = signed_in(own, user=u)
    r = account(p)
    ids = session_ids(r)
    assert len(ids) == 2, ids
    r2 = account(q)
    mine = [i for i in session_ids(r2)]
    # q's own id is the one p does not mark as this browser.
    body = r.body.decode()
    theirs = [i for i in ids if not re.search(
        r'this browser</span></p>(?:(?!</li>).)*name="id" value="%s"' % i, body, re.S)]
    assert len(theirs) == 1, body
    assert theirs[0] in mine
    bad = p.post("/ui/account/sessions/end", {"csrf": "A" * 43, "id": theirs[0]})
    assert bad.status == 403, bad
    assert q.get("/ui/account").status == 200
    r = post(p, "/ui/account/sessions/end", {"id": theirs[0]})
    assert r.status == 200 and notice_text(r) == "Session ended.", r
    assert session_ids(r) == [i for i in ids if i != theirs[0]]
    assert q.get("/ui/account").status == 303
    r = post(p, "/ui/account/sessions/end", {"id": theirs[0]})
    assert r.status == 404 and error_text(r), r
    # An id that is no session's at all, or none: the same page, no error.
    for bad_id in ("not-a-uuid", "", "1' OR '1'='1"):
        r = post(p, "/ui/account/sessions/end", {"id": bad_id})
        assert r.status == 404 and error_text(r) == "That session has already ended.", r
    r = post(p, "/ui/account/sessions/end", {})
    assert r.status == 404, r
    # Ending this browser's own: signed out.
    own_id = session_ids(r)[0]
    r = post(p, "/ui/account/sessions/end", {"id": own_id})
    assert r.status == 303 and "/ui/login" in r.header("Location"), r
    assert "warden_session" not in p.jar


# ---- in a browser ----

def _shots(browser, artifacts, name):
    return shots(browser, artifacts, name)


def test_the_account_pages_in_a_browser(browser, daemon, client, artifacts):
    base = "http://127.0.0.1:%d" % daemon.port
    u = client.new_user("pabrowser", full_name="Grace Hopper", login=False)
    browser.goto(base + "/ui/account")
    assert browser.url().startswith(base + "/ui/login?rd="), browser.url()
    browser.fill("#username", u.username)
    browser.fill("#password", u.password)
    browser.submit("form")
    assert browser.url() == base + "/ui/account", browser.url()
    W.SECRETS.add_issued(browser.cookie("warden_session")["value"], -1)
    assert u.username in browser.text("body")
    _shots(browser, artifacts, "account")
    # Set up: the QR code, drawn.
    browser.fill("#setup_password", u.password)
    browser.submit('form[action$="/ui/account/totp"]')
    assert browser.status() == 200
    src = browser.attr("#qr", "src")
    assert src.startswith("data:image/svg+xml;base64,"), src[:60]
    svg = base64.b64decode(src.split(",", 1)[1]).decode()
    assert "<svg" in svg
    assert browser.evaluate("document.getElementById('qr').complete && "
                            "document.getElementById('qr').naturalWidth > 0")
    secret = browser.text("#secret").strip()
    W.SECRETS.add_issued(secret, -1)
    _shots(browser, artifacts, "totp-setup")
    browser.fill("#code", totp(secret))
    browser.submit('form[action$="/ui/account/totp/confirm"]')
    assert browser.status() == 200
    codes = re.findall(r"<code>([^<]*)</code>", browser.source())
    assert len(codes) == 10, codes
    for k in codes:
        W.SECRETS.add_issued(html.unescape(k), -1)
    _shots(browser, artifacts, "recovery-codes")
    browser.goto(base + "/ui/account")
    assert browser.exists("#remove_code")
    _shots(browser, artifacts, "account-totp")
    errors = browser.console_errors()
    assert errors == [], errors
