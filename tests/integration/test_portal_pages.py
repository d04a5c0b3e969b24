"""The login portal's pages as a browser gets them: the sign-in form with
its pre-login cookie and CSRF token, the strict headers, the stylesheet,
rd carried only when it is ours; then in a real headless Chromium at
desktop and phone widths: no CSP violation, valid HTML, every input
labelled, screenshots that are not blank."""

import urllib.parse

from pageshots import shots
import htmlcheck


def test_the_login_page_has_its_headers_cookie_and_token(client):
    r = client.get("/ui/login")
    assert r.status == 200, r
    assert r.content_type.startswith("text/html"), r
    csp = r.header("Content-Security-Policy") or ""
    for directive in ("default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"):
        assert directive in csp, csp
    # No form-action: see test_a_login_in_a_browser_lands_on_another_host_...
    assert "form-action" not in csp, csp
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


def _css_blocks(text):
    """The stylesheet's blocks as (depth, prelude) in order, comments
    taken out; fails on a brace that closes nothing or a block left open.
    A rule opened inside a rule is refused: only an at-rule (@media,
    @supports) holds rules."""
    import re
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    stack, blocks, start = [], [], 0
    for i, ch in enumerate(text):
        if ch == "{":
            prelude = " ".join(text[start:i].split())
            if stack and not stack[-1].startswith("@"):
                raise AssertionError("rule %r opened inside %r" % (prelude, stack[-1]))
            stack.append(prelude)
            blocks.append((len(stack), prelude))
            start = i + 1
        elif ch == "}":
            assert stack, "a '}' that closes nothing at offset %d" % i
            stack.pop()
            start = i + 1
        elif ch == ";":
            start = i + 1
    assert not stack, "blocks left open: %r" % stack
    return blocks


def test_the_stylesheet_is_served_and_well_formed(client):
    r = client.get("/ui/static/warden.css")
    assert r.status == 200 and r.content_type.startswith("text/css"), r
    blocks = _css_blocks(r.body.decode())
    assert (1, "body") in blocks and (1, ".hint") in blocks, blocks
    # One rule a selector: a second would override the first unseen.
    top = [p for d, p in blocks if d == 1 and not p.startswith("@")]
    assert len(top) == len(set(top)), sorted(p for p in top if top.count(p) > 1)


def test_the_stylesheet_check_finds_an_unclosed_rule():
    import pytest
    with pytest.raises(AssertionError):
        _css_blocks("a { color: red;\n.b { color: blue; }")
    with pytest.raises(AssertionError):
        _css_blocks("a { color: red; }}")
    assert _css_blocks("@media (x) { a { b: c; } }") == [(1, "@media (x)"), (2, "a")]


def test_the_login_page_in_a_browser_at_desktop_and_phone_width(browser, daemon, artifacts):
    url = "http://127.0.0.1:%d/ui/login" % daemon.port
    browser.goto(url)
    assert browser.status() == 200
    shots(browser, artifacts, "login")
    assert browser.console_errors() == [], browser.console_errors()


def test_the_servers_own_refusals_under_ui_are_pages(client):
    """An unknown path and a wrong method under /ui/ are the portal's
    message page with their status; elsewhere, problems."""
    for method, path, status, heading in (
            ("GET", "/ui/no-such-page", 404, b"Page not found"),
            ("GET", "/ui/logout", 405, b"Page not found")):
        r = client.request(method, path)
        assert r.status == status, r
        assert r.content_type == "text/html", r
        assert b"<h1>" + heading + b"</h1>" in r.body, r.body
        assert "default-src 'none'" in (r.header("Content-Security-Policy") or ""), r
        htmlcheck.assert_valid_html(r.body.decode())
    r = client.get("/api/v1/no-such-thing")
    assert r.status == 404 and r.content_type == "application/problem+json", r
