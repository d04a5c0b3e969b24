"""Social login against an OpenID provider that no one here wrote: panva's
oidc-provider (npm, pinned in tests/interop/package-lock.json), run by
upstream.mjs beside this file, and wardends whose providers_dir names it.

    import oidc_provider as OP

    up = OP.Upstream(workdir, "panva")            # its port is chosen now
    site = OP.Site(workdir, daemon, "up_basic", up, name="panva",
                   auth="client_secret_basic")    # provider file + wardend
    up.start()                                    # knows the callback URL
    site.start()
    agent = OP.Agent()                            # a browser by hand
    r = agent.sign_in(site, "alice")              # warden's callback answer

- node_modules() runs tests/interop/npm-install (a no-op once installed:
  its stamp; it holds a lock, so that the interop suite, which `make check`
  runs beside this one, never installs into the same folder at once) and
  returns INTEROP_DIR/node_modules (default build/interop).
- Upstream: the oidc-provider process; its accounts come from the login
  name L: sub "L-sub", email L@example.test (verified unless L starts with
  "unverified"), preferred_username L.
- Site: a wardend of the test's, public_url its own address, with a
  providers_dir holding one provider file pointed at an Upstream (or any
  issuer), and the client registration the Upstream needs.
- Agent: requests.Session with one cookie jar for every host, following
  redirects by hand, filling oidc-provider's development login and consent
  forms (and warden's own login and consent pages, as USER).

Client secrets are registered with wardenlib's SECRETS (never in a warden
response or log line); warden's session cookies met are too."""

import json
import os
import re
import select
import subprocess
import time
import urllib.parse

import pytest
import requests

import wardenlib as W
from oidc_fixtures import allow_form, forms_of, login_form

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "upstream.mjs")

_modules = []


def node_modules():
    """INTEROP_DIR/node_modules, installed by tests/interop/npm-install."""
    if _modules:
        return _modules[0]
    top = W.repo_top()
    d = os.environ.get("INTEROP_DIR", "build/interop")
    d = d if os.path.isabs(d) else os.path.join(top, d)
    out = subprocess.run([os.path.join(top, "tests", "interop", "npm-install")],
                         env=dict(os.environ, INTEROP_DIR=d), capture_output=True,
                         text=True, timeout=1200)
    if out.returncode != 0:
        pytest.fail("tests/interop/npm-install failed (%d):\n%s%s"
                    % (out.returncode, out.stdout, out.stderr), pytrace=False)
    mods = os.path.join(d, "node_modules")
    if not os.path.isfile(os.path.join(mods, "oidc-provider", "package.json")):
        pytest.fail("%s has no oidc-provider after tests/interop/npm-install" % mods,
                    pytrace=False)
    _modules.append(mods)
    return mods


class Upstream:
    """oidc-provider on 127.0.0.1:PORT (PORT chosen at once, started by
    start() once its clients are known)."""

    def __init__(self, workdir, tag, conform=False):
        self.port = W.free_port()
        self.issuer = "http://127.0.0.1:%d" % self.port
        self.log = os.path.join(workdir, "%s-oidc-provider.log" % tag)
        self.conform = conform
        self.clients = []
        self.proc = None

    def add_client(self, **meta):
        if meta.get("client_secret"):
            W.SECRETS.add_issued(meta["client_secret"], -1)
        self.clients.append(meta)

    def start(self, timeout=30):
        """Starts it (again, after stop(): new keys, the same clients)."""
        conf = {"port": self.port, "modules": node_modules(), "clients": self.clients,
                "conform": self.conform}
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(["node", SCRIPT, json.dumps(conf)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=logf, start_new_session=True)
        logf.close()
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                line += chunk
                if b"listening %d" % self.port in line:
                    return self
                if not chunk:
                    break
            if self.proc.poll() is not None:
                break
        self.stop()
        pytest.fail("oidc-provider did not start (exit %r); its log:\n%s"
                    % (self.proc.returncode, W.log_tail(self.log)), pytrace=False)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc is not None:
            self.proc.stdout.close()

    def log_text(self):
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()


def provider_file(pdir, name, **kw):
    """PDIR/NAME.conf with the keywords KW (underscored as in the file;
    None values left out)."""
    os.makedirs(pdir, exist_ok=True)
    with open(os.path.join(pdir, name + ".conf"), "w") as f:
        f.write("# written by tests/integration/oidc_provider\n")
        for k, v in kw.items():
            if v is None:
                continue
            s = str(v)
            if any(c.isspace() for c in s):
                s = '"%s"' % s
            f.write("%s %s\n" % (k, s))


class OwnDatabaseDaemon(W.Daemon):
    """A wardend on the database of its database_url setting: wardend
    takes DATABASE_URL from the environment over the file's (config.c),
    and wardenlib passes the session's on."""

    def _spawn(self):
        old = os.environ.get("DATABASE_URL")
        os.environ["DATABASE_URL"] = self.settings["database_url"]
        try:
            super()._spawn()
        finally:
            if old is None:
                os.environ.pop("DATABASE_URL", None)
            else:
                os.environ["DATABASE_URL"] = old


class Site:
    """A wardend of a test's own with one upstream provider NAME at
    UPSTREAM_ISSUER (client
    CLIENT_ID, authenticated by AUTH: with SECRET, or private_key_jwt with
    ALG), written to its providers_dir when it starts; SETTINGS and
    DATABASE_URL over the daemon's defaults, public_url its own base."""

    def __init__(self, workdir, daemon, tag, upstream_issuer, name="panva",
                 display_name="Panva ID",
                 auth="client_secret_basic", secret=None, alg=None, client_id=None,
                 key_dir=None, database_url=None, extra=None, **settings):
        self.name = name
        self.pdir = os.path.join(workdir, tag, "providers")
        os.makedirs(self.pdir, exist_ok=True)
        self.client_id = client_id or "warden-%s" % tag.replace("_", "-")
        self.auth = auth
        self.secret = None
        if auth.startswith("client_secret"):
            self.secret = secret or W.uniq("secret") + W.uniq("x")
        self.conf = dict(display_name=display_name, issuer=upstream_issuer, client_auth=auth,
                         assertion_alg=alg, scopes="openid email profile")
        self.conf.update(extra or {})
        settings.setdefault("public_url", "{base}")
        settings.setdefault("trusted_proxies", "127.0.0.1")
        cls = W.Daemon
        if database_url:
            settings["database_url"] = database_url
            cls = OwnDatabaseDaemon
        self.d = cls(workdir, tag, key_dir=key_dir or daemon.key_dir,
                          providers_dir=self.pdir, **settings)
        self.base = self.d.base
        self.callback = "%s/ui/login/%s/callback" % (self.base, name)
        self.jwks_uri = self.base + "/.well-known/jwks.json"

    def register_with(self, up, auth, alg=None, **extra):
        """This site as a client of Upstream UP (EXTRA: more of its
        metadata, e.g. id_token_signed_response_alg)."""
        meta = {"client_id": self.client_id, "redirect_uris": [self.callback],
                "token_endpoint_auth_method": auth}
        if self.secret:
            meta["client_secret"] = self.secret
        if auth == "private_key_jwt":
            meta["jwks_uri"] = self.jwks_uri
            meta["token_endpoint_auth_signing_alg"] = alg or "RS256"
        meta.update(extra)
        up.add_client(**meta)

    def write_provider(self):
        """PROVIDERS_DIR/NAME.conf (and the secret's file) as they stand:
        client_id and secret may be set after the Site is made (when the
        provider registers the callback first)."""
        secret_file = None
        if self.secret is not None:
            W.SECRETS.add_issued(self.secret, -1)
            secret_file = os.path.join(self.pdir, "%s.secret" % self.name)
            with open(secret_file, "w") as f:
                f.write(self.secret + "\n")
            os.chmod(secret_file, 0o644)   # wardend may run as another user
        provider_file(self.pdir, self.name, client_id=self.client_id,
                      client_secret_file=secret_file, **self.conf)

    def start(self):
        """Writes the provider file and starts the wardend."""
        self.write_provider()
        try:
            self.d.start(timeout=30)
        except RuntimeError as e:
            pytest.fail(str(e), pytrace=False)
        return self

    def stop(self):
        W.stop_own(self.d)

    def url(self, path):
        return self.base + path


def is_under(url, base):
    return url == base or url.startswith(base + "/") or url.startswith(base + "?")


class Stuck(AssertionError):
    """The agent met a page it could not go on from."""


class Agent:
    """A browser by hand: one requests.Session (cookies of every host, as a
    browser keeps them), redirects followed one by one, the trail kept."""

    MAX_STEPS = 20

    def __init__(self):
        self.s = requests.Session()
        self.trail = []

    def trail_text(self):
        return "\n".join("  %s %s -> %s" % t for t in self.trail)

    def request(self, method, url, data=None, origin=None):
        headers = {"Origin": origin} if origin else {}
        r = self.s.request(method, url, data=data, headers=headers, allow_redirects=False,
                           timeout=30)
        self.trail.append((method, url.split("?")[0], r.status_code))
        for c in self.s.cookies:
            if "warden_session" in c.name:
                W.SECRETS.add_issued(c.value, -1)
        return r

    def cookie(self, name):
        for c in self.s.cookies:
            if c.name == name:
                return c
        return None

    def session_cookie(self):
        return self.cookie("warden_session")

    def walk(self, url, login=None, consent=True, stop=None, warden_user=None,
             wardens=(), before=None):
        """Goes to URL and on: redirects; at oidc-provider, its login form
        (as LOGIN) and consent form (continue, or abort when not CONSENT);
        at a warden of WARDENS (bases) its login form (as WARDEN_USER) and
        consent page (allow).  Returns the first response whose request URL
        STOP(url) accepts, or the first answer of a warden of WARDENS
        that is neither a redirect nor a form the agent fills; or the first
        URL that BEFORE(url) accepts, not asked for."""
        method, target, data, origin = "GET", url, None, None
        for _ in range(self.MAX_STEPS):
            if before is not None and before(target):
                return target
            r = self.request(method, target, data=data, origin=origin)
            if stop is not None and stop(target):
                return r
            if r.status_code in (301, 302, 303, 307, 308):
                target = urllib.parse.urljoin(target, r.headers["Location"])
                method, data, origin = "GET", None, None
                continue
            at_warden = any(is_under(target, b) for b in wardens)
            forms = forms_of(r.text) if "html" in r.headers.get("Content-Type", "") else []
            lf = login_form(forms)
            if at_warden:
                base = next(b for b in wardens if is_under(target, b))
                if lf is not None and warden_user is not None and r.status_code == 200:
                    data = {}
                    for n, v, t in lf["fields"]:
                        if t == "password":
                            data[n] = warden_user.password
                        elif t in ("text", "email") and n != "rd":
                            data[n] = warden_user.username
                        else:
                            data[n] = v
                    method, origin = "POST", base
                    target = urllib.parse.urljoin(target, lf["action"] or target)
                    continue
                f, b = allow_form(forms)
                if f is not None and r.status_code == 200 and consent:
                    data = {n: v for n, v, _ in f["fields"]}
                    if b.get("name"):
                        data[b["name"]] = b.get("value", "")
                    method, origin = "POST", base
                    target = urllib.parse.urljoin(target, f["action"] or target)
                    continue
                return r
            if r.status_code != 200:
                raise Stuck("%d at %s:\n%s\n%s" % (r.status_code, target, self.trail_text(),
                                                   r.text[:1500]))
            # oidc-provider's development interactions.
            if lf is not None:
                if login is None:
                    raise Stuck("the provider's login form, and no login:\n" + self.trail_text())
                data = {n: v for n, v, _ in lf["fields"]}
                data.update(login=login, password="any password")
                method, origin = "POST", None
                target = urllib.parse.urljoin(target, lf["action"])
                continue
            f, b = allow_form(forms)
            if f is not None:
                if consent:
                    data = {n: v for n, v, _ in f["fields"]}
                    method, origin = "POST", None
                    target = urllib.parse.urljoin(target, f["action"])
                else:
                    m = re.search(r'href="([^"]*/abort)"', r.text)
                    assert m, "no abort link on the consent page:\n" + r.text[:1500]
                    method, data, origin = "GET", None, None
                    target = urllib.parse.urljoin(target, m.group(1))
                continue
            raise Stuck("a page with no form to fill at %s:\n%s\n%s"
                        % (target, self.trail_text(), r.text[:1500]))
        raise Stuck("more than %d steps:\n%s" % (self.MAX_STEPS, self.trail_text()))

    def sign_in(self, site, login, rd=None, consent=True):
        """GET SITE's /ui/login/NAME[?rd=RD] and on through the provider:
        the answer of warden's callback (its redirect, or an error page)."""
        url = site.url("/ui/login/%s" % site.name)
        if rd is not None:
            url += "?rd=" + urllib.parse.quote(rd, safe="")
        return self.walk(url, login=login, consent=consent,
                         stop=lambda u: u.startswith(site.callback))


# ---- what the database says --------------------------------------------------

def q(s):
    return "'%s'" % s.replace("'", "''")


def identities(provider, subject, psql=W.psql):
    """(user_id, email) rows of identities for (PROVIDER, SUBJECT)."""
    rows = psql("SELECT user_id || '|' || coalesce(email, '') FROM identities"
                " WHERE provider = %s AND subject = %s" % (q(provider), q(subject)))
    return [tuple(r.split("|", 1)) for r in rows]


def user_row(uid, psql=W.psql):
    """username, email, email_verified, password_hash of user UID."""
    rows = psql("SELECT username || '|' || coalesce(email, '') || '|' || email_verified::text"
                " || '|' || password_hash FROM users WHERE id = %s" % q(uid))
    assert len(rows) == 1, (uid, rows)
    name, email, verified, ph = rows[0].split("|", 3)
    return {"username": name, "email": email, "email_verified": verified == "true",
            "password_hash": ph}


def audit(event, uid=None, since_id=0, psql=W.psql):
    """detail (parsed) of the audit events EVENT after id SINCE_ID (of UID)."""
    cond = " AND user_id = %s" % q(uid) if uid else ""
    rows = psql("SELECT coalesce(detail::text, 'null') FROM audit_events WHERE event = %s"
                " AND id > %d%s ORDER BY id" % (q(event), since_id, cond))
    return [json.loads(r) for r in rows]


def last_audit_id(psql=W.psql):
    return int(psql("SELECT coalesce(max(id), 0) FROM audit_events")[0])


def psql_at(url):
    """A psql(sql) like wardenlib's, against the database at URL."""
    def run(sql):
        out = subprocess.run(["/usr/bin/psql", url, "-X", "-At", "-v", "ON_ERROR_STOP=1",
                              "-c", sql], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError("psql failed: %s" % out.stderr)
        return [line for line in out.stdout.split("\n") if line != ""]
    return run


def new_database(tag):
    """A database of its own in the session's cluster (wardend migrates it
    at start), and its URL."""
    name = "%s_%s" % (tag, os.urandom(3).hex())
    W.psql("CREATE DATABASE %s" % name)
    return re.sub(r"/warden(?=\?|$)", "/" + name, W.database_url(), count=1)
