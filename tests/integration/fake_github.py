"""A GitHub-shaped OAuth 2.0 server (no OpenID) for the social-login
tests, answering as GitHub documents ("Authorizing OAuth apps"):

  GET  /login/oauth/authorize       302 straight back to redirect_uri with
                                    code and state (or error=access_denied)
  POST /login/oauth/access_token    form-encoded answer by default
                                    (access_token=..&scope=..&token_type=bearer),
                                    JSON with Accept: application/json; an
                                    error is a 200 whose body has an "error"
                                    member (bad_verification_code, ...)
  GET  /user                        "Authorization: Bearer T" or "token T":
                                    {"id": 12345, "login": "octocat", ...}
  GET  /user/emails                 [{"email", "primary", "verified"}]

The client authenticates with client_id and client_secret in the form
(GitHub's way) or with HTTP Basic; PKCE S256 is checked when the
authorization carried a code_challenge."""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeGitHub:
    """Tests set user (the /user answer), emails (the /user/emails
    answer), authorize_error, and read token_requests and user_requests."""

    def __init__(self, client_id="gh-client", client_secret="gh-secret"):
        self.client_id = client_id
        self.client_secret = client_secret
        self.user = {"id": 12345, "login": "octocat", "name": "The Octocat",
                     "email": "octocat@github.example"}
        self.emails = [{"email": "octocat@github.example", "primary": True,
                        "verified": True, "visibility": "public"}]
        self.authorize_error = None
        self.token_error = None          # an error code /access_token answers
        self.user_status = 200           # what /user answers a good token
        self.lock = threading.Lock()
        self.codes = {}
        self.tokens = set()
        self.authorizations = []
        self.token_requests = []
        self.user_requests = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                fake._get(self)

            def do_POST(self):
                fake._post(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    authorization_endpoint = property(lambda s: s.base + "/login/oauth/authorize")
    token_endpoint = property(lambda s: s.base + "/login/oauth/access_token")
    userinfo_endpoint = property(lambda s: s.base + "/user")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    @staticmethod
    def _send(h, status, body=b"", ctype="application/json; charset=utf-8", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        h.send_response(status)
        if body:
            h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def _get(self, h):
        u = urllib.parse.urlsplit(h.path)
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        if u.path == "/login/oauth/authorize":
            return self._authorize(h, q)
        if u.path in ("/user", "/user/emails"):
            auth = h.headers.get("Authorization") or ""
            scheme, _, tok = auth.partition(" ")
            with self.lock:
                self.user_requests.append({"path": u.path, "scheme": scheme,
                                           "accept": h.headers.get("Accept"),
                                           "user_agent": h.headers.get("User-Agent")})
                ok = scheme.lower() in ("bearer", "token") and tok in self.tokens
            if not ok:
                return self._send(h, 401, {
                    "message": "Requires authentication",
                    "documentation_url": "https://docs.github.com/rest"})
            if self.user_status != 200:
                return self._send(h, self.user_status, {"message": "Bad credentials"})
            return self._send(h, 200, self.user if u.path == "/user" else self.emails)
        return self._send(h, 404, {"message": "Not Found"})

    def _authorize(self, h, q):
        with self.lock:
            self.authorizations.append(dict(q))
        redirect_uri = q.get("redirect_uri")
        back = {}
        if self.authorize_error:
            back["error"] = self.authorize_error
            back["error_description"] = "The user has denied your application access."
        elif q.get("client_id") != self.client_id:
            return self._send(h, 404, "Not Found", "text/plain")
        else:
            code = secrets.token_hex(10)
            with self.lock:
                self.codes[code] = {"redirect_uri": redirect_uri, "used": False,
                                    "code_challenge": q.get("code_challenge"),
                                    "scope": q.get("scope", "")}
            back["code"] = code
        if "state" in q:
            back["state"] = q["state"]
        sep = "&" if "?" in redirect_uri else "?"
        return self._send(h, 302, headers={
            "Location": redirect_uri + sep + urllib.parse.urlencode(back)})

    def _post(self, h):
        u = urllib.parse.urlsplit(h.path)
        n = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(n) if n else b""
        if u.path != "/login/oauth/access_token":
            return self._send(h, 404, {"message": "Not Found"})
        form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"),
                                           keep_blank_values=True))
        wants_json = "application/json" in (h.headers.get("Accept") or "")
        rec = {"accept": h.headers.get("Accept"), "t": time.monotonic(),
               "basic": (h.headers.get("Authorization") or "").startswith("Basic ")}
        with self.lock:
            self.token_requests.append(rec)
        answer = self._token(h, form)
        rec["outcome"] = answer.get("error", "ok")
        # GitHub answers 200 even for errors, with an "error" member.
        if wants_json:
            return self._send(h, 200, answer)
        return self._send(h, 200, urllib.parse.urlencode(answer),
                          "application/x-www-form-urlencoded; charset=utf-8")

    def _token(self, h, form):
        cid, sec = form.get("client_id"), form.get("client_secret")
        auth = h.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            cid, _, sec = base64.b64decode(auth[6:]).decode().partition(":")
            cid, sec = urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(sec)
        if cid != self.client_id or sec is None or not hmac.compare_digest(
                sec, self.client_secret):
            return {"error": "incorrect_client_credentials",
                    "error_description": "The client_id and/or client_secret passed "
                                         "are incorrect."}
        if self.token_error:
            return {"error": self.token_error,
                    "error_description": "as the test asked",
                    "error_uri": "https://docs.github.com/apps/troubleshooting"}
        code = form.get("code") or ""
        with self.lock:
            g = self.codes.get(code)
            if g is None or g["used"]:
                return {"error": "bad_verification_code",
                        "error_description": "The code passed is incorrect or expired."}
            g["used"] = True
        if g["redirect_uri"] is not None and form.get("redirect_uri") != g["redirect_uri"]:
            return {"error": "redirect_uri_mismatch",
                    "error_description": "The redirect_uri MUST match the registered "
                                         "callback URL for this application."}
        if g["code_challenge"]:
            v = form.get("code_verifier") or ""
            if b64url(hashlib.sha256(v.encode()).digest()) != g["code_challenge"]:
                return {"error": "bad_verification_code",
                        "error_description": "The code passed is incorrect or expired."}
        tok = "gho_" + secrets.token_hex(18)
        with self.lock:
            self.tokens.add(tok)
        return {"access_token": tok, "scope": g["scope"], "token_type": "bearer"}
