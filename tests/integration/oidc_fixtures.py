"""Helpers of the OpenID Connect tests (OIDC.md, "OpenID Connect
provider"), shared by the integration suite (Apache's mod_auth_openidc in
Chromium) and the interop suite (openid-client, authlib), which puts this
folder on its path:

    from oidc_fixtures import add_client, Portal, pkce_pair

- add_client(daemon, name, redirect_uris, ...) registers a client with
  `wardenctl client add ... --json` and returns its id and secret.
- Portal(daemon) is a browser by hand (stdlib http.client through
  wardenlib's Client): its cookies, its Origin.  Portal.authorize(url,
  user, redirect_uri) follows /oauth2/authorize through the login page and
  the consent page by scripted form posts, and returns the URL that the
  daemon sent the browser to at the client's redirect_uri (the callback
  with code, state and iss).  The forms are read generically: a form with
  a password field is the login form, a form whose submit button means
  "allow" is the consent form; every hidden field is posted back as it
  came, so the helper does not depend on the templates' exact names.
- Portal.follow(url, stop_prefix) follows redirects and forms the same way
  to any URL outside the daemon (RP-initiated logout's
  post_logout_redirect_uri).

Every session cookie and client secret met here is registered with
wardenlib's SECRETS, so that test_zz_secrets can check none leaked."""

import base64
import hashlib
import html.parser
import json
import os
import re
import secrets
import urllib.parse

import wardenlib as W

# The scopes the daemon knows (common/oidc_client.h).
ALL_SCOPES = ("openid", "profile", "email", "roles", "offline_access")

# A submit button whose value or text matches this means "allow" on the
# consent page; DENY wins when both match.
ALLOW = re.compile(r"\b(allow|approve|accept|authori[sz]e|grant|consent|yes|continue)\b", re.I)
DENY = re.compile(r"\b(deny|reject|refuse|decline|cancel|no)\b", re.I)

MAX_STEPS = 12


class OidcError(AssertionError):
    """The daemon answered something a browser could not go on from."""


def pkce_pair():
    """A PKCE code_verifier and its S256 code_challenge (RFC 7636 4.1, 4.2)."""
    verifier = W.b64url(secrets.token_bytes(32))
    challenge = W.b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    return verifier, challenge


def add_client(daemon, name, redirect_uris, public=False, post_logout_uris=(),
               scopes=None, skip_consent=False, alg=None):
    """`wardenctl client add NAME --redirect-uri URI... [--public]
    [--post-logout-uri URI...] [--scope S...] [--skip-consent]
    [--id-token-alg ALG] --json`: returns its JSON object (client_id, name,
    public, client_secret, None for a public client)."""
    if isinstance(redirect_uris, str):
        redirect_uris = [redirect_uris]
    if isinstance(post_logout_uris, str):
        post_logout_uris = [post_logout_uris]
    args = ["client", "add", name]
    for u in redirect_uris:
        args += ["--redirect-uri", u]
    if public:
        args.append("--public")
    for u in post_logout_uris:
        args += ["--post-logout-uri", u]
    for s in scopes or ():
        args += ["--scope", s]
    if skip_consent:
        args.append("--skip-consent")
    if alg:
        args += ["--id-token-alg", alg]
    args.append("--json")
    out = daemon.wardenctl(*args)
    if out.returncode != 0:
        raise OidcError("wardenctl %s exited %d:\n%s%s" % (" ".join(args), out.returncode,
                                                           out.stdout, out.stderr))
    c = json.loads(out.stdout)
    assert isinstance(c.get("client_id"), str) and c["client_id"], c
    assert (c.get("client_secret") is None) == bool(public), c
    if c.get("client_secret"):
        # Printed once by wardenctl; never in a response or a log line.
        W.SECRETS.add_issued(c["client_secret"], -1)
    return c


# ---- HTML forms ------------------------------------------------------------

class _Forms(html.parser.HTMLParser):
    """The forms of a page: action, method, fields (name, value, type) and
    submit buttons (name, value, text)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._form = None
        self._button = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                          "fields": [], "buttons": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            t = a.get("type", "text").lower()
            if t in ("submit", "image"):
                self._form["buttons"].append({"name": a.get("name"), "value": a.get("value", ""),
                                              "text": a.get("value", "")})
            elif t in ("checkbox", "radio"):
                if "checked" in a and a.get("name"):
                    self._form["fields"].append((a["name"], a.get("value", "on"), t))
            elif a.get("name"):
                self._form["fields"].append((a["name"], a.get("value", ""), t))
        elif tag == "button" and a.get("type", "submit").lower() == "submit":
            self._button = {"name": a.get("name"), "value": a.get("value", ""), "text": ""}
            self._form["buttons"].append(self._button)

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data

    def handle_endtag(self, tag):
        if tag == "button":
            self._button = None
        elif tag == "form":
            self._form = None


def forms_of(body):
    p = _Forms()
    p.feed(body)
    p.close()
    return p.forms


def _means(button, pattern):
    words = " ".join(str(button.get(k) or "") for k in ("value", "text", "name"))
    return bool(pattern.search(words))


def login_form(forms):
    for f in forms:
        if any(t == "password" for _, _, t in f["fields"]):
            return f
    return None


def allow_form(forms):
    """The form and the button of the consent page that allow."""
    for f in forms:
        for b in f["buttons"]:
            if _means(b, ALLOW) and not _means(b, DENY):
                return f, b
    return None, None


# ---- the browser by hand -----------------------------------------------------

class Portal:
    """A browser by hand against one daemon: its cookies and its Origin
    (the daemon's public_url, as every POST of the portal wants)."""

    def __init__(self, daemon, origin=None):
        self.d = daemon
        self.c = daemon.client
        self.base = daemon.base
        self.origin = origin or daemon.settings.get("public_url") or daemon.base
        self.jar = {}
        self.pages = []     # (method, url, status) of every step, for messages
        self.last = None    # the last response

    def _headers(self):
        h = {"Origin": self.origin}
        if self.jar:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.jar.items())
        return h

    def _keep(self, r):
        self.last = r
        for v in r.header_all("Set-Cookie"):
            name, value = v.split(";")[0].split("=", 1)
            name = name.strip()
            if value == "" or re.search(r";\s*max-age=0\b", v, re.I):
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
                if "session" in name:
                    W.SECRETS.add_issued(value, r.index)
        return r

    def _path(self, url):
        """URL as a path of the daemon, or None when it is elsewhere."""
        u = urllib.parse.urljoin(self.base + "/", url)
        if u == self.base or u.startswith(self.base + "/") or u.startswith(self.base + "?"):
            return u[len(self.base):] or "/"
        return None

    def get(self, url):
        path = self._path(url)
        assert path is not None, "not the daemon's URL: %s" % url
        r = self._keep(self.c.get(path, headers=self._headers()))
        self.pages.append(("GET", path, r.status))
        return r

    def post(self, url, form):
        path = self._path(url)
        assert path is not None, "not the daemon's URL: %s" % url
        r = self._keep(self.c.post(path, form=form, headers=self._headers()))
        self.pages.append(("POST", path, r.status))
        return r

    def _trail(self):
        return "\n".join("  %s %s -> %d" % p for p in self.pages)

    def login(self, user, rd=""):
        """Logs USER in on /ui/login (no authorization behind it): GET the
        page for its CSRF field and pre-login cookie, POST the form, and
        return the 303's Location.  The session cookie is then in the jar."""
        r = self.get("/ui/login" + ("?rd=" + urllib.parse.quote(rd, safe="") if rd else ""))
        assert r.status == 200, r
        f = login_form(forms_of(r.body.decode()))
        assert f is not None, r.body.decode()
        r = self._submit_login(r, f, user)
        assert r.status == 303, "%r\n%s" % (r, self._trail())
        return r.header("Location")

    def _submit_login(self, r, f, user):
        form = {}
        for name, value, t in f["fields"]:
            if t == "password":
                form[name] = user.password
            elif t in ("text", "email") and name != "rd":
                form[name] = user.username
            else:
                form[name] = value
        return self.post(f["action"] or r.path, form)

    def follow(self, url, stop_prefix, user=None, consent=True):
        """Follows URL through redirects, the login page (as USER) and the
        consent page (allowing it when CONSENT, else denying) until the
        daemon sends the browser to a URL starting with STOP_PREFIX, which
        it returns.  Fails with the trail of pages on anything else."""
        method, target, form = "GET", url, None
        for _ in range(MAX_STEPS):
            if self._path(target) is None:
                if target.startswith(stop_prefix):
                    return target
                raise OidcError("sent to %s, not under %s:\n%s" % (target, stop_prefix,
                                                                   self._trail()))
            r = self.get(target) if method == "GET" else self.post(target, form)
            if r.status in (301, 302, 303, 307):
                loc = r.header("Location")
                assert loc, r
                target = urllib.parse.urljoin(self.base + r.path, loc)
                if target.startswith(stop_prefix):
                    return target
                method, form = "GET", None
                continue
            body = r.body.decode("utf-8", "replace")
            if r.status != 200 or not r.content_type.startswith("text/html"):
                raise OidcError("%r\n%s" % (r, self._trail()))
            forms = forms_of(body)
            f = login_form(forms)
            if f is not None:
                if user is None:
                    raise OidcError("the login page, and no user to log in:\n" + self._trail())
                r2 = self._submit_login(r, f, user)
                if r2.status not in (302, 303):
                    raise OidcError("the login failed: %r\n%s" % (r2, self._trail()))
                target = urllib.parse.urljoin(self.base + r2.path, r2.header("Location"))
                method, form = "GET", None
                continue
            f, b = allow_form(forms)
            if f is None:
                raise OidcError("a page with no login or consent form:\n%s\n%s"
                                % (self._trail(), body[:2000]))
            if not consent:
                deny = [(g, c) for g in forms for c in g["buttons"] if _means(c, DENY)]
                assert deny, "the consent page has no deny button: %s" % forms
                f, b = deny[0]
            form = {name: value for name, value, _ in f["fields"]}
            if b.get("name"):
                form[b["name"]] = b.get("value", "")
            target = urllib.parse.urljoin(self.base + r.path, f["action"] or r.path)
            method = "POST" if f["method"] == "post" else "GET"
            if method == "GET":
                target += ("&" if "?" in target else "?") + urllib.parse.urlencode(form)
        raise OidcError("more than %d steps:\n%s" % (MAX_STEPS, self._trail()))

    def authorize(self, url, user, redirect_uri, consent=True):
        """Follows the authorization URL (the daemon's /oauth2/authorize)
        to the client's REDIRECT_URI and returns that URL and its query
        parameters (code, state, iss, or error...)."""
        got = self.follow(url, redirect_uri, user=user, consent=consent)
        base, _, query = got.partition("?")
        assert base == redirect_uri, (got, redirect_uri)
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        if "code" in params:
            # In the Location of the one answer that sent the browser on.
            W.SECRETS.add_issued(params["code"], self.last.index)
        return got, params


def authorize_url(daemon, client_id, redirect_uri, scope="openid profile email",
                  challenge=None, state=None, nonce=None, **extra):
    """An authorization request URL of the daemon (OIDC Core 3.1.2.1)."""
    q = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
         "scope": scope}
    if challenge is not None:
        q.update(code_challenge=challenge, code_challenge_method="S256")
    if state is not None:
        q["state"] = state
    if nonce is not None:
        q["nonce"] = nonce
    q.update(extra)
    return daemon.base + "/oauth2/authorize?" + urllib.parse.urlencode(q)


def random_token(n=16):
    return base64.urlsafe_b64encode(os.urandom(n)).rstrip(b"=").decode()
