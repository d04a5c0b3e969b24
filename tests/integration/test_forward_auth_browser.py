"""Forward-auth with a login page (OIDC.md), end to end in headless
Chromium: a real nginx running the shipped example etc/nginx/warden.conf
(rewritten only at its "selftest:" markers, as tests/nginx-selftest does),
a wardend behind it whose public_url is nginx's address, and an upstream
application that shows the X-Auth-* headers it got.

A protected URL with a query string sends the browser to /ui/login with rd,
the login brings it back to exactly that URL, the application sees the
user; after logout, and after a session revoked in the database (within
session_check, 1 s here), the protected URL sends it to the login page
again.  Portal and application share nginx's host and port, so the
development cookie warden_session of the portal is the application's too."""

import html
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import wardenlib as W
from pageshots import shots

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class _App(BaseHTTPRequestHandler):
    """The protected application: a page naming who nginx says it is."""

    def do_GET(self):
        names = ("X-Auth-User-Id", "X-Auth-Username", "X-Auth-Roles")
        rows = "".join("<tr><th>%s</th><td id=\"%s\">%s</td></tr>"
                       % (n, n.lower(), html.escape(self.headers.get(n) or ""))
                       for n in names)
        # The names of the cookies it got: never the portal's session.
        cookies = sorted(c.split("=", 1)[0].strip()
                         for c in (self.headers.get("Cookie") or "").split(";") if c.strip())
        rows += "<tr><th>Cookies</th><td id=\"cookies\">%s</td></tr>" % html.escape(
            " ".join(cookies))
        body = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<title>The application</title></head>"
                "<body style=\"font-family: sans-serif; margin: 0\">"
                "<h1 style=\"background: #234; color: #fff; padding: 1em\">"
                "The protected application</h1>"
                "<p id=\"path\" style=\"padding: 0 1em\">%s</p>"
                "<table style=\"margin: 1em\">%s</table></body></html>"
                % (html.escape(self.path), rows)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def render_example(nginx_port, warden_port, app_port):
    """etc/nginx/warden.conf with its selftest: markers rewritten for
    loopback without TLS, as tests/nginx-selftest does."""
    path = os.path.join(W.repo_top(), "etc", "nginx", "warden.conf")
    with open(path) as f:
        lines = f.read().split("\n")
    base = "http://127.0.0.1:%d" % nginx_port
    out = []
    for line in lines:
        if line.endswith("# selftest:tls"):
            continue
        if line.endswith("# selftest:listen"):
            line = re.sub(r"listen [^;]*;", "listen 127.0.0.1:%d;" % nginx_port, line)
        elif line.endswith("# selftest:warden"):
            line = re.sub(r"server unix:[^;]*;", "server 127.0.0.1:%d;" % warden_port, line)
        elif line.endswith("# selftest:app"):
            line = re.sub(r"server [^;]*;", "server 127.0.0.1:%d;" % app_port, line)
        elif line.endswith("# selftest:login"):
            assert "https://app.example/" in line, line
            line = line.replace("https://app.example/", base + "/")
        out.append(line)
    return "\n".join(out)


@pytest.fixture(scope="module")
def site(workdir, daemon):
    if not os.access(NGINX, os.X_OK):
        pytest.fail("nginx not found (Debian: apt-get install nginx)", pytrace=False)
    nport = W.free_port()
    base = "http://127.0.0.1:%d" % nport
    d = W.start_own(workdir, daemon, "forward_auth", session_check="1s",
                    public_url=base, trusted_proxies="127.0.0.1")
    app = ThreadingHTTPServer(("127.0.0.1", 0), _App)
    t = threading.Thread(target=app.serve_forever, daemon=True)
    t.start()
    n = os.path.join(workdir, "forward_auth_nginx")
    for sub in ("tmp", "logs"):
        os.makedirs(os.path.join(n, sub), exist_ok=True)
    with open(os.path.join(n, "warden.conf"), "w") as f:
        f.write(render_example(nport, d.port, app.server_address[1]))
    with open(os.path.join(n, "nginx.conf"), "w") as f:
        if os.geteuid() == 0:
            f.write("user root;\n")
        f.write("""daemon off;
worker_processes 1;
pid {n}/nginx.pid;
error_log {n}/logs/error.log info;
events {{ worker_connections 64; }}
http {{
	access_log {n}/logs/access.log;
	client_body_temp_path {n}/tmp/body;
	proxy_temp_path {n}/tmp/proxy;
	fastcgi_temp_path {n}/tmp/fastcgi;
	uwsgi_temp_path {n}/tmp/uwsgi;
	scgi_temp_path {n}/tmp/scgi;
	include {n}/warden.conf;
}}
""".format(n=n))
    args = [NGINX, "-p", n, "-c", os.path.join(n, "nginx.conf"),
            "-e", os.path.join(n, "logs", "error.log")]
    t_out = subprocess.run(args + ["-t"], capture_output=True, text=True, timeout=30)
    assert t_out.returncode == 0, t_out.stderr
    logf = open(os.path.join(n, "logs", "stderr.log"), "ab")
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                            start_new_session=True)
    logf.close()
    deadline = time.monotonic() + 15
    while True:
        assert proc.poll() is None, "nginx exited: %s" % W.log_tail(
            os.path.join(n, "logs", "error.log"))
        try:
            import http.client
            c = http.client.HTTPConnection("127.0.0.1", nport, timeout=2)
            c.request("GET", "/openapi.json", headers={"Connection": "close"})
            if c.getresponse().status == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "nginx not up"
        time.sleep(0.1)
    yield base, d
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    app.shutdown()
    app.server_close()
    W.stop_own(d)


def _shots(browser, artifacts, name):
    return shots(browser, artifacts, name, check_html=False)


def _at_login(browser, base, protected):
    url = browser.url()
    assert url.startswith(base + "/ui/login?"), url
    assert browser.exists("#username") and browser.exists("#password")
    # The form carries the whole original URL back, query and all.
    assert browser.attr("input[name=rd]", "value") == protected


def _login(browser, u):
    browser.fill("#username", u.username)
    browser.fill("#password", u.password)
    browser.submit("form")
    c = browser.cookie("warden_session")
    assert c is not None and c["httpOnly"], browser.cookies()
    W.SECRETS.add_issued(c["value"], -1)   # in no recorded response
    return c["value"]


def _poll_until_login(browser, protected, base, deadline_s=15):
    deadline = time.monotonic() + deadline_s
    while True:
        browser.goto(protected)
        if browser.url().startswith(base + "/ui/login?"):
            return
        assert time.monotonic() < deadline, "still let in: %s" % browser.url()
        time.sleep(0.2)


def test_a_browser_logs_in_through_nginx_and_comes_back(site, browser, artifacts):
    base, d = site
    u = d.client.new_user("fabrowser", login=False)
    protected = base + "/app/page?a=1&b=2"

    # No session: the login page, rd the protected URL, query and all.
    browser.goto(protected)
    _at_login(browser, base, protected)
    assert browser.status() == 200
    _shots(browser, artifacts, "login")

    # The login brings the browser back to exactly that URL, and the
    # application saw who it is.
    cookie = _login(browser, u)
    assert browser.url() == protected, browser.url()
    assert browser.text("#path") == "/app/page?a=1&b=2"
    assert browser.text("#x-auth-user-id") == u.id
    assert browser.text("#x-auth-username") == u.username
    # The browser holds the session cookie, nginx keeps it from the
    # application; a cookie of the application's own passes.
    assert cookie and "warden_session" not in browser.text("#cookies"), browser.text("#cookies")
    browser.evaluate("document.cookie = 'app_pref=1; path=/'")
    browser.goto(protected)
    got = browser.text("#cookies").split()
    assert "app_pref" in got and "warden_session" not in got, got
    _shots(browser, artifacts, "protected")

    # Sign out on the account page.
    browser.goto(base + "/ui/account")
    assert browser.exists('form[action$="/ui/logout"]'), browser.html()
    browser.submit('form[action$="/ui/logout"]')
    assert browser.url() == base + "/ui/login", browser.url()
    assert browser.cookie("warden_session") is None, browser.cookies()
    browser.goto(protected)
    _at_login(browser, base, protected)

    # A session revoked in the database stops passing within session_check.
    _login(browser, u)
    assert browser.url() == protected, browser.url()
    assert browser.text("#x-auth-user-id") == u.id
    W.psql("UPDATE browser_sessions SET revoked_at = now()"
           " WHERE user_id = '%s' AND revoked_at IS NULL" % u.id)
    _poll_until_login(browser, protected, base)
    _at_login(browser, base, protected)


def test_rd_unencoded_and_encoded_come_to_the_same(site):
    """/ui/login reads an rd starting "http://" as written to the end of the
    query (the nginx example's), and an encoded one as any parameter."""
    base, d = site
    want = base + "/app/page?a=1&b=2"
    c = d.client
    for query in ("rd=" + want, "rd=" + urllib.parse.quote(want, safe="")):
        r = c.get("/ui/login?" + query)
        assert r.status == 200, r
        m = re.search(r'<input[^>]* name="rd"[^>]*value="([^"]*)"', r.body.decode())
        assert m and html.unescape(m.group(1)) == want, (query, m and m.group(1))
