"""Apache's mod_auth_openidc (Debian's libapache2-mod-auth-openidc) as a
relying party of warden (OIDC.md, "What proves it"), end to end in
headless Chromium: a real apache2, configured in this test's folder, protects
/protected/ with `AuthType openid-connect` against a wardend whose issuer
and public_url are its own address; a CGI behind it prints the claims that
the module hands it (OIDC_CLAIM_*).

The browser opens the protected URL, Apache sends it to warden's
/oauth2/authorize, warden to its login page; the user logs in and allows
the consent page, warden sends the browser back to Apache's redirect URI
with the code, mod_auth_openidc exchanges it (client_secret_basic, PKCE
S256), validates the id_token against the JWKS, calls userinfo, and
serves the page with the user's claims.

mod_auth_openidc over plain http on the loopback: OIDCCookieSameSite On,
since with it Off the module marks its cookies SameSite=None, which
Chromium drops without Secure (the example in the README is https)."""

import html
import http.client
import json
import os
import secrets
import shutil
import subprocess
import time


import pytest

import wardenlib as W
from oidc_fixtures import add_client, allow_form, forms_of
from pageshots import shots

APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
INSTALL = "apt-get install -y --no-install-recommends apache2 libapache2-mod-auth-openidc"

# The modules the configuration needs, and nothing else (mod_log_config and
# mod_unixd are built into Debian's apache2).
LOAD = [("mpm_event_module", "mod_mpm_event.so"), ("authn_core_module", "mod_authn_core.so"),
        ("authz_core_module", "mod_authz_core.so"), ("authz_user_module", "mod_authz_user.so"),
        ("alias_module", "mod_alias.so"), ("cgid_module", "mod_cgid.so"),
        ("auth_openidc_module", "mod_auth_openidc.so")]

CLAIMS_CGI = r"""#!/usr/bin/python3
# The protected page: the claims mod_auth_openidc put in the environment.
import html, os
names = ("REMOTE_USER", "OIDC_CLAIM_sub", "OIDC_CLAIM_preferred_username",
         "OIDC_CLAIM_email", "OIDC_CLAIM_email_verified", "OIDC_CLAIM_iss")
rows = "".join('<tr><th>%s</th><td id="%s">%s</td></tr>' % (n, n.lower(),
               html.escape(os.environ.get(n, ""))) for n in names)
print("Content-Type: text/html; charset=utf-8")
print()
print('<!doctype html><html lang="en"><head><meta charset="utf-8">'
      '<meta name="viewport" content="width=device-width, initial-scale=1">'
      '<title>Protected by mod_auth_openidc</title></head>'
      '<body style="font-family: sans-serif; margin: 0">'
      '<h1 style="background: #532; color: #fff; padding: 1em">Protected by Apache'
      ' and mod_auth_openidc</h1><table style="margin: 1em">%s</table></body></html>' % rows)
"""


def apache_conf(d, port, issuer, client_id, client_secret, passphrase):
    """An httpd.conf whose ServerRoot is D: Listen on the loopback port,
    the minimal modules, a public file, and /protected/ behind
    mod_auth_openidc serving the claims CGI."""
    redirect = "http://127.0.0.1:%d/protected/redirect_uri" % port
    lines = ['ServerRoot "%s"' % d, "ServerName 127.0.0.1", "Listen 127.0.0.1:%d" % port,
             'PidFile "%s/run/apache2.pid"' % d, 'DefaultRuntimeDir "%s/run"' % d,
             'ErrorLog "%s/logs/error.log"' % d, "LogLevel warn auth_openidc:info",
             'LogFormat "%h %u \\"%r\\" %>s" short',
             'CustomLog "%s/logs/access.log" short' % d]
    lines += ['LoadModule %s "%s/%s"' % (m, MODULES, f) for m, f in LOAD]
    if os.geteuid() == 0:
        # Apache's children and the CGI daemon leave root for these.
        lines += ["User www-data", "Group www-data"]
    lines += [
        'ScriptSock "%s/run/cgid.sock"' % d,
        'DocumentRoot "%s/htdocs"' % d,
        "<Directory />", "  Require all denied", "</Directory>",
        '<Directory "%s/htdocs">' % d, "  Require all granted", "</Directory>",
        'ScriptAlias /protected/ "%s/cgi-bin/"' % d,
        "",
        "# mod_auth_openidc: the README's example, over http on the loopback.",
        "OIDCProviderMetadataURL %s/.well-known/openid-configuration" % issuer,
        "OIDCClientID %s" % client_id,
        "OIDCClientSecret %s" % client_secret,
        "OIDCRedirectURI %s" % redirect,
        "OIDCCryptoPassphrase %s" % passphrase,
        'OIDCScope "openid email profile"',
        "OIDCPKCEMethod S256",
        "OIDCProviderTokenEndpointAuth client_secret_basic",
        "OIDCRemoteUserClaim preferred_username",
        "OIDCCookieSameSite On",
        '<Directory "%s/cgi-bin">' % d,
        "  AuthType openid-connect",
        "  Require valid-user",
        "</Directory>",
        "<Location /protected/>",
        "  AuthType openid-connect",
        "  Require valid-user",
        "</Location>",
    ]
    return "\n".join(lines) + "\n", redirect


def _get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", path, headers={"Connection": "close"})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


@pytest.fixture(scope="module")
def site(workdir, daemon):
    if not (os.access(APACHE, os.X_OK) and
            os.path.exists(os.path.join(MODULES, "mod_auth_openidc.so"))):
        pytest.fail("apache2 or mod_auth_openidc is missing: run `%s` as root "
                    "(or `scripts/deps check`)" % INSTALL, pytrace=False)
    d = W.start_own(workdir, daemon, "oidc_apache", issuer="{base}", public_url="{base}")
    port = W.free_port()
    root = os.path.join(workdir, "oidc_apache_httpd")
    for sub in ("run", "logs", "htdocs", "cgi-bin"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    with open(os.path.join(root, "htdocs", "public.txt"), "w") as f:
        f.write("public\n")
    cgi = os.path.join(root, "cgi-bin", "claims")
    with open(cgi, "w") as f:
        f.write(CLAIMS_CGI)
    os.chmod(cgi, 0o755)
    redirect = "http://127.0.0.1:%d/protected/redirect_uri" % port
    client = add_client(d, "Apache", redirect, scopes=["openid", "profile", "email"],
                        alg="RS256")
    conf_text, _ = apache_conf(root, port, d.base, client["client_id"],
                               client["client_secret"], secrets.token_urlsafe(32))
    conf = os.path.join(root, "httpd.conf")
    with open(conf, "w") as f:
        f.write(conf_text)
    os.chmod(conf, 0o600)   # it holds the client secret
    env = {k: v for k, v in os.environ.items() if not k.startswith("APACHE_")}
    t = subprocess.run([APACHE, "-f", conf, "-t"], capture_output=True, text=True,
                       timeout=30, env=env)
    assert t.returncode == 0, "apache2 -t:\n%s%s" % (t.stdout, t.stderr)
    logf = open(os.path.join(root, "logs", "stderr.log"), "ab")
    proc = subprocess.Popen([APACHE, "-f", conf, "-DFOREGROUND"], stdin=subprocess.DEVNULL,
                            stdout=logf, stderr=logf, env=env, start_new_session=True)
    logf.close()
    deadline = time.monotonic() + 15
    while True:
        assert proc.poll() is None, "apache2 exited %s:\n%s" % (
            proc.returncode, W.log_tail(os.path.join(root, "logs", "error.log")))
        try:
            if _get(port, "/public.txt")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "apache2 not up:\n%s" % W.log_tail(
            os.path.join(root, "logs", "error.log"))
        time.sleep(0.1)
    site = {"base": "http://127.0.0.1:%d" % port, "port": port, "root": root, "conf": conf,
            "daemon": d, "client": client, "redirect_uri": redirect, "proc": proc}
    yield site
    proc.terminate()    # SIGTERM: apache2 stops its children and exits
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait(timeout=10)
    W.stop_own(d)


def test_apache_with_mod_auth_openidc_starts_on_the_generated_config(site):
    """The configuration passes `apache2 -t` (checked by the fixture),
    apache2 runs with mod_auth_openidc loaded, serves the public file, and
    keeps the CGI behind the module: the claims page is never served
    without a login."""
    out = subprocess.run([APACHE, "-f", site["conf"], "-t", "-D", "DUMP_MODULES"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "auth_openidc_module (shared)" in out.stdout, out.stdout
    assert _get(site["port"], "/public.txt")[:1] == (200,)
    status, headers, body = _get(site["port"], "/protected/claims")
    assert status != 200 and b"OIDC_CLAIM" not in body, (status, headers, body[:300])


def _click_allow(browser):
    """Clicks the consent page's allow button, found as oidc_fixtures
    finds it: the submit button whose value or text means allow."""
    f, b = allow_form(forms_of(browser.html()))
    assert f is not None, browser.html()
    browser.evaluate(
        "(() => { const want = %s; for (const el of document.querySelectorAll("
        "'button, input[type=submit]')) { const t = (el.value || '') + ' ' + el.textContent;"
        " if (t.trim() === want.trim()) { el.setAttribute('data-test-allow', '1'); return; } }"
        " throw new Error('no allow button'); })()"
        % json.dumps("%s %s" % (b.get("value") or "", b.get("text") or "")))
    browser.click("[data-test-allow]")


def test_a_browser_logs_in_to_apache_through_warden(site, browser, artifacts):
    d = site["daemon"]
    u = d.client.new_user("apacheu", login=False)
    protected = site["base"] + "/protected/claims"

    # Apache sends the browser to warden's authorization endpoint, and
    # warden, without a session, to its login page.
    browser.goto(protected)
    assert browser.url().startswith(d.base + "/ui/login?"), "%s\n%s" % (
        browser.url(), W.log_tail(os.path.join(site["root"], "logs", "error.log")))
    shots(browser, artifacts, "login")
    browser.fill("#username", u.username)
    browser.fill("#password", u.password)
    browser.submit("form")
    c = browser.cookie("warden_session")
    assert c is not None, browser.cookies()
    W.SECRETS.add_issued(c["value"], -1)

    # The consent page, then Apache's page with the user's claims.
    if browser.url().startswith(d.base + "/"):
        shots(browser, artifacts, "consent")
        text = browser.text()
        assert "Apache" in text, text          # names the client
        _click_allow(browser)
    assert browser.url() == protected, "%s\n%s" % (browser.url(), W.log_tail(
        os.path.join(site["root"], "logs", "error.log")))
    assert browser.status() == 200
    assert browser.text("#oidc_claim_sub") == u.id
    assert browser.text("#oidc_claim_preferred_username") == u.username
    assert browser.text("#oidc_claim_email") == u.email
    assert browser.text("#oidc_claim_iss") == d.base
    assert browser.text("#remote_user") == u.username
    shots(browser, artifacts, "protected", check_html=False)

    # The session of mod_auth_openidc is Apache's own: the page again
    # needs no trip to warden.
    browser.goto(protected)
    assert browser.url() == protected and browser.text("#oidc_claim_sub") == u.id
    assert html.unescape(browser.text("#oidc_claim_email")) == u.email
