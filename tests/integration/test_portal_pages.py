"""The login portal's pages as a browser gets them: the sign-in form with
its pre-login cookie and CSRF token, the strict headers, the stylesheet,
rd carried only when it is ours; then in a real headless Chromium at
desktop and phone widths: no CSP violation, valid HTML, every input
labelled, screenshots that are not blank."""

import os
import shutil
import urllib.parse

import htmlcheck
import pngcheck
import wardenlib as W


def test_the_login_page_has_its_headers_cookie_and_token(client):
    r = client.get("/ui/login")
    assert r.status == 200, r
    assert r.content_type.startswith("text/html"), r
    csp = r.header("Content-Security-Policy") or ""
    for directive in ("default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"):
        assert directive in csp, csp
    assert "script-src" not in csp and "unsafe" not in csp, csp
    assert r.header("X-Frame-Options") == "DENY"
    assert "no-store" in (r.header("Cache-Control") or "")
    cookie = r.header("Set-Cookie") or ""
    assert cookie.startswith("warden_pre="), cookie      # http to loopback: dev name
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
    body = r.body.decode()
    assert 'name="csrf" value="' in body
    token = body.split('name="csrf" value="')[1].split('"')[0]
    assert len(token) == 43, token
    # The same pre-login cookie gives the same token, and no new cookie.
    pre = cookie.split(";")[0]
    again = client.get("/ui/login", headers={"Cookie": pre})
    assert again.header("Set-Cookie") is None
    assert ('name="csrf" value="%s"' % token) in again.body.decode()


def test_rd_is_carried_only_when_it_is_ours(client, daemon):
    ours = "http://127.0.0.1:%d/ui/account" % daemon.port
    for rd, kept in ((ours, ours), ("/ui/account", None), ("//evil.example", ""),
                     ("https://evil.example/", ""), ("javascript:alert(1)", "")):
        r = client.get("/ui/login?rd=" + urllib.parse.quote(rd, safe=""))
        assert r.status == 200, r
        value = r.body.decode().split('name="rd" value="')[1].split('"')[0]
        if kept is None:
            assert value.endswith("/ui/account") and value.startswith("http://127.0.0.1"), value
        else:
            assert value == kept, (rd, value)


def test_the_stylesheet_is_served(client):
    r = client.get("/ui/static/warden.css")
    assert r.status == 200 and r.content_type.startswith("text/css"), r
    assert b"{" in r.body


def test_the_login_page_in_a_browser_at_desktop_and_phone_width(browser, daemon, artifacts):
    url = "http://127.0.0.1:%d/ui/login" % daemon.port
    browser.goto(url)
    assert browser.status() == 200
    html = browser.source()
    htmlcheck.assert_valid_html(html)
    htmlcheck.assert_inputs_labelled(html)
    for name, (w, h, mobile) in (("desktop", (1280, 800, False)), ("phone", (360, 740, True))):
        browser.set_viewport(w, h, mobile=mobile)
        browser.goto(url)
        path = os.path.join(artifacts, "login-%s.png" % name)
        browser.screenshot(path)
        pngcheck.assert_not_blank(path)
        # WARDEN_SCREENSHOTS=docs/screenshots refreshes the committed set.
        if os.environ.get("WARDEN_SCREENSHOTS"):
            shutil.copy(path, os.environ["WARDEN_SCREENSHOTS"])
    assert browser.console_errors() == [], browser.console_errors()
