"""The browser harness (browser.py, pngcheck.py, htmlcheck.py) proved on a
tiny site served by Python's http.server: a form that POSTs and is
redirected to a page echoing the field, under a strict
Content-Security-Policy that must block the page's inline script."""

import html
import http.server
import os
import re
import signal
import threading
import time
import urllib.parse

import pytest

import browser as browser_mod
import htmlcheck
import pngcheck
from browser import Browser, BrowserError

CSP = "default-src 'self'"

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%(title)s</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header><h1>%(title)s</h1></header>
<main>
%(body)s
</main>
</body>
</html>
"""

FORM = """<form id="echo" method="post" action="/submit">
<label for="name">Your name</label>
<input id="name" name="name" autocomplete="name" required>
<button id="go" type="submit">Send</button>
</form>
<script>document.title = "inline script ran";</script>"""

STYLE = b"""body { margin: 0; font: 16px sans-serif; background: #fff; }
header { background: #1d4e89; color: #fff; padding: 24px; }
main { padding: 24px; }
form, p { border: 4px solid #e0a100; padding: 16px; max-width: 40em; }
"""


def page(title, body):
    return (PAGE % {"title": html.escape(title), "body": body}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, body=b"", ctype="text/html; charset=utf-8", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/form":
            self.send(200, page("Echo", FORM),
                      headers=[("Set-Cookie", "visit=1; Path=/; HttpOnly; SameSite=Lax")])
        elif u.path == "/result":
            name = q.get("name", [""])[0]
            self.send(200, page("Result", '<p id="said">Hello, %s!</p>' % html.escape(name)))
        elif u.path == "/style.css":
            self.send(200, STYLE, ctype="text/css")
        elif u.path == "/white":
            self.send(200, b'<!DOCTYPE html><html lang="en"><title>w</title></html>')
        elif u.path == "/slow":
            time.sleep(3)
            self.send(200, page("Slow", "<p>late</p>"))
        else:
            self.send(404, page("Not found", "<p>no such page</p>"))

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        name = form.get("name", [""])[0]
        self.send(303, headers=[
            ("Location", "/result?" + urllib.parse.urlencode({"name": name})),
            ("Set-Cookie", "said=%s; Path=/; SameSite=Strict" % urllib.parse.quote(name))])


@pytest.fixture(scope="module")
def site():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_form_is_filled_submitted_and_redirected(browser, site):
    browser.goto(site + "/form")
    assert browser.url() == site + "/form"
    assert browser.status() == 200
    assert browser.text("h1") == "Echo"
    browser.fill("#name", 'Zoë "quoted" </script>')
    browser.submit("form#echo")
    assert browser.url() == site + "/result?" + urllib.parse.urlencode(
        {"name": 'Zoë "quoted" </script>'})
    assert browser.status() == 200
    assert browser.text("#said") == 'Hello, Zoë "quoted" </script>!'
    cookies = {c["name"]: c for c in browser.cookies()}
    assert cookies["visit"]["value"] == "1" and cookies["visit"]["httpOnly"]
    assert urllib.parse.unquote(cookies["said"]["value"]) == 'Zoë "quoted" </script>'
    assert cookies["said"]["sameSite"] == "Strict"


def test_click_submits_with_real_mouse_events(browser, site):
    browser.goto(site + "/form")
    browser.fill("#name", "clicker")
    browser.click("#go")
    assert browser.text("#said") == "Hello, clicker!"


def test_each_test_gets_a_fresh_context(browser, site):
    assert browser.url() == "about:blank"
    assert browser.cookies() == []
    assert browser.console_errors() == []
    assert browser.evaluate("[innerWidth, innerHeight]") == [1280, 800]


def test_invalid_form_is_not_submitted(browser, site):
    browser.goto(site + "/form")
    with pytest.raises(BrowserError, match=r"submit form#echo at .*/form: .*invalid.*name"):
        browser.submit("form#echo")


def test_csp_blocks_the_inline_script_and_says_so(browser, site):
    browser.goto(site + "/form")
    assert browser.evaluate("document.title") == "Echo", "the inline script ran"
    assert browser.headers().get("content-security-policy") == CSP
    errors = browser.console_errors()
    assert any("Content Security Policy" in e for e in errors), errors


def test_screenshots_at_desktop_and_phone_width(browser, site, artifacts):
    browser.goto(site + "/form")
    desktop = browser.screenshot(os.path.join(artifacts, "desktop.png"))
    assert pngcheck.assert_not_blank(desktop)[0] == 1280

    browser.set_viewport(360, 740, mobile=True)
    assert browser.evaluate("innerWidth") == 360
    phone = browser.screenshot(os.path.join(artifacts, "phone.png"))
    w, h = pngcheck.assert_not_blank(phone)
    assert w == 360 and h >= 740, (w, h)


def test_white_page_screenshot_is_blank(browser, site, artifacts):
    browser.goto(site + "/white")
    shot = browser.screenshot(os.path.join(artifacts, "white.png"))
    with pytest.raises(AssertionError, match="looks blank"):
        pngcheck.assert_not_blank(shot)


def test_errors_name_the_action_and_the_url(browser, site):
    browser.goto(site + "/form")
    with pytest.raises(BrowserError, match=r"text #missing at %s/form: .*no element" % site):
        browser.text("#missing")
    with pytest.raises(BrowserError, match=r"goto http://127.0.0.1:9/: net::ERR_UNSAFE_PORT"):
        browser.goto("http://127.0.0.1:9/")
    t0 = time.monotonic()
    with pytest.raises(BrowserError, match=r"goto %s/slow.*within 1 s" % site):
        browser.goto(site + "/slow", timeout=1)
    assert time.monotonic() - t0 < 2.5


def test_missing_chromium_fails_with_the_install_line(monkeypatch):
    monkeypatch.delenv("WARDEN_CHROMIUM", raising=False)
    monkeypatch.setattr(browser_mod, "CANDIDATES", ("/nonexistent/chromium",))
    with pytest.raises(BrowserError, match="apt-get install -y --no-install-recommends chromium"):
        Browser()


def test_a_dead_chromium_is_reported_and_cleaned_up(site):
    b = Browser()
    try:
        assert b.start_seconds < 30
        b.goto(site + "/form")
        profile = b.dir
        os.killpg(b.pid, signal.SIGKILL)
        with pytest.raises(BrowserError, match="chromium has exited"):
            b.goto(site + "/result")
    finally:
        b.close()
    assert not os.path.exists(profile)
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if profile.encode() in f.read():
                    left.append(pid)
        except OSError:
            pass
    assert left == [], "chromium processes left behind"


def test_page_source_passes_the_html_checks(browser, site):
    browser.goto(site + "/form")
    src = browser.source()
    assert src.startswith("<!DOCTYPE html>")
    htmlcheck.assert_valid_html(src)
    htmlcheck.assert_inputs_labelled(src)
    htmlcheck.assert_inputs_labelled(browser.html())


# -- the checks alone, on images and documents written by hand ------------

def test_png_decoder_reads_every_filter_type(tmp_path):
    rows = [[((x * 7 + y) % 256, (x * y) % 256, (255 - x) % 256) for x in range(23)]
            for y in range(11)]
    path = pngcheck.write_png(str(tmp_path / "f.png"), rows, filters=(0, 1, 2, 3, 4))
    img = pngcheck.read_png(path)
    assert (img.width, img.height) == (23, 11)
    assert [[tuple(p) for p in r] for r in img.pixels] == rows


def test_blank_png_fails_and_striped_png_passes(tmp_path):
    white = [[(255, 255, 255)] * 40 for _ in range(30)]
    blank = pngcheck.write_png(str(tmp_path / "blank.png"), white, filters=(4,))
    with pytest.raises(AssertionError, match="looks blank: 40x30, 1 colour"):
        pngcheck.assert_not_blank(blank)
    colours = [(255, 255, 255), (29, 78, 137), (224, 161, 0)]
    striped = [[colours[(x // 4) % 3] for x in range(40)] for _ in range(30)]
    ok = pngcheck.write_png(str(tmp_path / "striped.png"), striped, filters=(1, 2, 3))
    assert pngcheck.assert_not_blank(ok) == (40, 30)
    # two colours, or a speck of a third, is still blank
    speck = [row[:] for row in white]
    speck[3][3] = (0, 0, 0)
    speck[4][4] = (9, 9, 9)
    with pytest.raises(AssertionError, match="looks blank"):
        pngcheck.assert_not_blank(pngcheck.write_png(str(tmp_path / "s.png"), speck))


GOOD = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<form method="post" action="/login">
<input type="hidden" name="csrf" value="x">
<label for="u">Username</label>
<input id="u" name="username" autocapitalize="none">
<label>Password <input type="password" name="password"></label>
<input name="code" inputmode="numeric" aria-label="Code">
<span id="t">Country</span><select name="c" aria-labelledby="t"><option>NZ</option></select>
<span class="icon"></span>
<button type="submit">Sign in</button>
</form>
</body>
</html>
"""


def test_html_checks_pass_a_good_page():
    htmlcheck.assert_valid_html(GOOD)
    htmlcheck.assert_inputs_labelled(GOOD)


@pytest.mark.parametrize("bad, why", [
    (GOOD.replace("<!DOCTYPE html>\n", ""), "does not start with <!DOCTYPE html>"),
    (GOOD.replace("<!DOCTYPE html>", '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN">'),
     "does not start with <!DOCTYPE html>"),
    (GOOD.replace("</form>", ""), "missing </form>"),
    (GOOD.replace("<title>Sign in</title>", ""), "title"),
    (GOOD.replace('id="u"', 'id="u" frobnicate="1"'), 'proprietary attribute "frobnicate"'),
    (GOOD.replace('<span class="icon"></span>', "<p>x</b>"), "discarding unexpected </b>"),
    (GOOD.replace('name="code"', 'id="u" name="code"'), 'anchor "u" already defined'),
    (GOOD.replace("<body>", '<body><img src="/logo.png">'), 'lacks "alt"'),
    (GOOD.replace("<body>", "<body><blink>x</blink>"), "blink"),
], ids=["no-doctype", "html4-doctype", "unclosed-form", "no-title", "unknown-attribute",
        "stray-end-tag", "duplicate-id", "img-without-alt", "obsolete-element"])
def test_html_check_fails(bad, why):
    with pytest.raises(AssertionError, match=why):
        htmlcheck.assert_valid_html(bad)


@pytest.mark.parametrize("bad, which", [
    (GOOD.replace('<label for="u">Username</label>', ""), '<input id="u" name="username">'),
    (GOOD.replace('<label for="u">Username</label>', '<label for="u"></label>'), 'id="u"'),
    (GOOD.replace(' aria-label="Code"', ""), '<input name="code">'),
    (GOOD.replace(' aria-label="Code"', ' aria-label=" "'), '<input name="code">'),
    (GOOD.replace('aria-labelledby="t"', 'aria-labelledby="nowhere"'), '<select name="c">'),
    (GOOD.replace("</form>", "<textarea name=note></textarea></form>"), "<textarea"),
], ids=["no-label", "empty-label", "no-aria-label", "blank-aria-label",
        "labelledby-nothing", "bare-textarea"])
def test_label_check_fails(bad, which):
    with pytest.raises(AssertionError, match="without a label: .*" + re.escape(which)):
        htmlcheck.assert_inputs_labelled(bad)
