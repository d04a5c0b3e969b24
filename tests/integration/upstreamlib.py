"""Helpers of the social-login tests (issue 15): providers' files in a
providers_dir of a test's own, a wardend started with it (registration
open), a browser by hand that walks the flow through an upstream provider
that answers /authorize with a redirect at once (fake_oidc.py,
fake_github.py), and readers of the rows the flow leaves (users,
identities, audit events).

The daemon reads its providers at start-up only: a module writes its
providers, then starts its daemon (start_with_providers)."""

import http.client
import json
import os
import urllib.parse

import wardenlib as W
from oidc_fixtures import Portal

CALLBACK = "/ui/login/%s/callback"
BINDING_COOKIE = "warden_upstream"
SESSION_COOKIE = "warden_session"


# ---- providers' files --------------------------------------------------------

def _conf_value(v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    s = str(v)
    if s == "" or any(c.isspace() for c in s):
        s = '"%s"' % s
    return s


def write_provider(providers_dir, name, client_secret=None, **settings):
    """Writes providers_dir/NAME.conf with the given keywords (in the
    order given; True/False as yes/no).  client_secret, when given, goes
    to a file of its own (mode 0600, outside providers_dir so that it is
    not taken for a provider) named by client_secret_file.  Returns the
    file's path."""
    os.makedirs(providers_dir, exist_ok=True)
    if client_secret is not None:
        sdir = providers_dir.rstrip("/") + ".secrets"
        os.makedirs(sdir, exist_ok=True)
        spath = os.path.join(sdir, name + ".secret")
        fd = os.open(spath, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(client_secret + "\n")
        W.SECRETS.add_password(client_secret)
        settings.setdefault("client_secret_file", spath)
    path = os.path.join(providers_dir, name + ".conf")
    with open(path, "w") as f:
        f.write("# written by tests/integration (upstreamlib)\n")
        for k, v in settings.items():
            if v is None:
                continue
            f.write("%s %s\n" % (k, _conf_value(v)))
    return path


def oidc_provider(fake, client_id="warden", client_secret=None, **settings):
    """The keywords of an oidc provider served by fake (a FakeOidc):
    issuer (discovery does the rest), client_id, client auth (a secret
    when client_secret is given, else private_key_jwt), short timeout."""
    s = {"kind": "oidc", "display_name": settings.pop("display_name", "Fake OIDC"),
         "issuer": fake.issuer, "client_id": client_id}
    if client_secret is not None:
        s["client_auth"] = settings.pop("client_auth", "client_secret_basic")
        s["client_secret"] = client_secret
    s["timeout"] = settings.pop("timeout", 3)
    s.update(settings)
    return s


def make_providers_dir(workdir, name, providers):
    """workdir/NAME.providers holding one file per entry of providers
    ({provider name: keywords for write_provider})."""
    pdir = os.path.join(workdir, name + ".providers")
    os.makedirs(pdir, exist_ok=True)
    for pname, settings in providers.items():
        write_provider(pdir, pname, **dict(settings))
    return pdir


def start_with_providers(workdir, daemon, name, providers, **settings):
    """A wardend of a module's own (session database and keys) with a
    providers_dir holding providers and registration open (unless
    settings say otherwise); a failed start fails the test."""
    pdir = make_providers_dir(workdir, name, providers)
    settings.setdefault("registration", "open")
    return W.start_own(workdir, daemon, name, providers_dir=pdir, **settings)


def jwks_url(d):
    """The daemon's own JWKS, where a provider checks warden's
    private_key_jwt assertions (the client's jwks_uri)."""
    return (d.settings.get("public_url") or d.base) + "/.well-known/jwks.json"


# ---- the browser by hand -----------------------------------------------------

def _get_absolute(url, headers=None, timeout=30):
    """GET url (anywhere: a fake provider) without following redirects:
    (status, headers, body)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        path = u.path or "/"
        if u.query:
            path += "?" + u.query
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


class Browser(Portal):
    """oidc_fixtures.Portal (cookies, Origin) with the steps of an
    upstream sign-in."""

    def start(self, provider, rd=None):
        """GET /ui/login/PROVIDER[?rd=]: the response (303 to the
        provider when all is well)."""
        path = "/ui/login/%s" % provider
        if rd is not None:
            path += "?rd=" + urllib.parse.quote(rd, safe="")
        return self.get(path)

    def at_provider(self, authorize_url):
        """What the provider's /authorize answers (a fake one redirects at
        once): the URL it sends the browser back to."""
        status, headers, body = _get_absolute(authorize_url)
        assert status in (302, 303), (authorize_url, status, body[:300])
        return headers["Location"]

    def callback(self, url):
        return self.get(url)

    def sign_in(self, provider, rd=None):
        """The whole round: start, the provider, the callback.  Returns
        (start response, callback URL, callback response)."""
        r = self.start(provider, rd)
        assert r.status == 303, "%r\n%s" % (r, self._trail())
        back = self.at_provider(r.header("Location"))
        return r, back, self.callback(back)

    def signed_in(self):
        """True when the jar's session opens the account page."""
        return self.get("/ui/account").status == 200

    def csrf_of(self, path="/ui/account"):
        """The csrf field of a page of the portal."""
        import re
        r = self.get(path)
        assert r.status == 200, r
        m = re.search(r'<input[^>]* name="csrf"[^>]* value="([^"]*)"', r.body.decode())
        if not m:
            m = re.search(r'<input[^>]* value="([^"]*)"[^>]* name="csrf"', r.body.decode())
        assert m, r.body.decode()
        return m.group(1)


def authorize_params(r):
    """The query of a 303 to the provider's authorization endpoint, one
    value per name."""
    loc = r.header("Location")
    assert loc, r
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query, keep_blank_values=True)
    return {k: v[0] for k, v in q.items()}


def with_query(url, **changes):
    """url with query parameters replaced (None removes one)."""
    u = urllib.parse.urlsplit(url)
    q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
    for k, v in changes.items():
        if v is None:
            q.pop(k, None)
        else:
            q[k] = v
    return urllib.parse.urlunsplit(u._replace(query=urllib.parse.urlencode(q)))


# ---- rows --------------------------------------------------------------------

def _q(s):
    return "'" + str(s).replace("'", "''") + "'"


def count(sql):
    return int(W.psql(sql)[0])


def users_count():
    return count("SELECT count(*) FROM users")


def identities_count():
    return count("SELECT count(*) FROM identities")


def identities_of(user_id):
    """[(provider, subject, email)] of a user, by provider, subject."""
    rows = W.psql("SELECT provider || chr(9) || subject || chr(9) || coalesce(email, '') "
                  "FROM identities WHERE user_id = %s ORDER BY provider, subject"
                  % _q(user_id))
    return [tuple(r.split("\t")) for r in rows]


def identity_owner(provider, subject):
    """The user id owning (provider, subject), or None."""
    rows = W.psql("SELECT user_id FROM identities WHERE provider = %s AND subject = %s"
                  % (_q(provider), _q(subject)))
    return rows[0] if rows else None


def user_row(user_id):
    """{username, email, email_verified, full_name, has_password,
    is_active} of a user, or None."""
    rows = W.psql("SELECT json_build_object('username', username, 'email', email, "
                  "'email_verified', email_verified, 'full_name', full_name, "
                  "'has_password', password_hash <> '!', 'is_active', is_active) "
                  "FROM users WHERE id = %s" % _q(user_id))
    return json.loads(rows[0]) if rows else None


def user_id_by_email(email):
    rows = W.psql("SELECT id FROM users WHERE lower(email) = lower(%s)" % _q(email))
    return rows[0] if rows else None


def audit_mark():
    """The last audit event's id: audit_after(mark) gives what came next."""
    return count("SELECT coalesce(max(id), 0) FROM audit_events")


def audit_after(mark, event=None):
    """[(event, user_id or None, detail dict or None)] after mark, in order."""
    cond = "" if event is None else " AND event = %s" % _q(event)
    rows = W.psql("SELECT json_build_object('event', event, 'user_id', user_id, "
                  "'detail', detail) FROM audit_events WHERE id > %d%s ORDER BY id"
                  % (mark, cond))
    out = []
    for r in rows:
        o = json.loads(r)
        out.append((o["event"], o["user_id"], o["detail"]))
    return out


def failures_after(mark, provider=None):
    """The reasons of upstream_login_failed events after mark (of one
    provider when given)."""
    out = []
    for _, _, detail in audit_after(mark, "upstream_login_failed"):
        detail = detail or {}
        if provider is None or detail.get("provider") == provider:
            out.append(detail.get("reason"))
    return out
