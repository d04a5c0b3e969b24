"""A small OpenID provider for the social-login tests: a threaded
http.server on 127.0.0.1 (a port of its own) that asks nobody to log in.

  /.well-known/openid-configuration, /jwks
  /authorize   302 straight back to redirect_uri with a code and the
               state (or error=... when the test says so); records the
               request (nonce, code_challenge...)
  /token       checks the code (single use, client, redirect_uri), PKCE
               (S256), the client's authentication (client_secret_basic,
               client_secret_post, or private_key_jwt: the assertion is
               verified against the client's jwks_uri, aud = this token
               endpoint), and answers an ID token with the defect the test
               chose (DEFECTS), or a 500, or nothing for a while (hang)
  /userinfo    the claims, for the bearer of an access token it issued

Keys: RS256 (RSA 2048), ES256 (P-256) or EdDSA (Ed25519), made with
python3-cryptography when the server starts."""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature, encode_dss_signature)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# What can be wrong with the ID token /token answers.
DEFECTS = ("good", "wrong_aud", "wrong_nonce", "no_nonce", "expired", "iat_future",
           "iat_old", "unknown_key", "alg_none", "hs256_public_key", "wrong_iss",
           "bad_signature", "no_sub", "aud_array_no_azp",
           "aud_array_azp")     # the last one is no defect: a token to accept


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


def _int_b64(n, length=None):
    length = length or (n.bit_length() + 7) // 8
    return b64url(n.to_bytes(length, "big"))


def _b64_int(s):
    return int.from_bytes(b64url_decode(s), "big")


class Key:
    """A signing key of one JOSE alg, its kid and its public JWK."""

    def __init__(self, alg="RS256", kid=None):
        self.alg = alg
        self.kid = kid or "k-" + secrets.token_hex(6)
        if alg == "RS256":
            self.priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg == "ES256":
            self.priv = ec.generate_private_key(ec.SECP256R1())
        elif alg == "EdDSA":
            self.priv = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(alg)
        self.pub = self.priv.public_key()

    def jwk(self):
        j = {"kid": self.kid, "use": "sig", "alg": self.alg}
        if self.alg == "RS256":
            n = self.pub.public_numbers()
            j.update(kty="RSA", n=_int_b64(n.n), e=_int_b64(n.e))
        elif self.alg == "ES256":
            n = self.pub.public_numbers()
            j.update(kty="EC", crv="P-256", x=_int_b64(n.x, 32), y=_int_b64(n.y, 32))
        else:
            raw = self.pub.public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
            j.update(kty="OKP", crv="Ed25519", x=b64url(raw))
        return j

    def public_pem(self):
        return self.pub.public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, data):
        if self.alg == "RS256":
            return self.priv.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if self.alg == "ES256":
            r, s = decode_dss_signature(self.priv.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return self.priv.sign(data)


def jws(header, claims, sign=None):
    """A compact JWS; sign(signing_input) -> signature bytes, or none."""
    si = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
          b64url(json.dumps(claims, separators=(",", ":")).encode()))
    sig = sign(si.encode()) if sign is not None else b""
    return si + "." + b64url(sig)


def verify_jws(token, jwks):
    """Checks a compact JWS against a JWKS (dict): (header, claims), or
    raises ValueError saying why not.  RS256, ES256 and EdDSA only."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS")
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    sig = b64url_decode(parts[2])
    data = (parts[0] + "." + parts[1]).encode()
    alg = header.get("alg")
    kid = header.get("kid")
    keys = [k for k in jwks.get("keys", []) if k.get("kid") == kid]
    if not keys:
        raise ValueError("kid %r not in the JWKS" % kid)
    k = keys[0]
    try:
        if alg == "RS256" and k.get("kty") == "RSA":
            pub = rsa.RSAPublicNumbers(_b64_int(k["e"]), _b64_int(k["n"])).public_key()
            pub.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "ES256" and k.get("kty") == "EC":
            pub = ec.EllipticCurvePublicNumbers(_b64_int(k["x"]), _b64_int(k["y"]),
                                                ec.SECP256R1()).public_key()
            if len(sig) != 64:
                raise ValueError("ES256 signature of %d bytes" % len(sig))
            der = encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                       int.from_bytes(sig[32:], "big"))
            pub.verify(der, data, ec.ECDSA(hashes.SHA256()))
        elif alg == "EdDSA" and k.get("kty") == "OKP" and k.get("crv") == "Ed25519":
            pub = ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(k["x"]))
            pub.verify(sig, data)
        else:
            raise ValueError("alg %r with a %r key" % (alg, k.get("kty")))
    except InvalidSignature:
        raise ValueError("bad signature") from None
    return header, claims


class Client:
    """A client registered with the fake provider."""

    def __init__(self, client_id, secret=None, jwks_uri=None):
        self.client_id = client_id
        self.secret = secret
        self.jwks_uri = jwks_uri     # for private_key_jwt; may be set later


class FakeOidc:
    """The provider.  Tests set, between sign-ins:
        defect          one of DEFECTS (the ID token /token answers)
        token_mode      "ok" | "500" | "hang" (answers after hang_seconds,
                        or when release() is called)
        authorize_error None, or an error code /authorize sends back
        claims          claims of the next ID tokens (sub, email, ...)
    and read: authorizations (the /authorize queries), token_requests
    (what each /token call was, and how it ended)."""

    def __init__(self, alg="RS256", clients=(), issuer_path=""):
        self.key = Key(alg)
        self.other_key = Key(alg)        # never published
        self.clients = {c.client_id: c for c in clients}
        self.defect = "good"
        self.token_mode = "ok"
        self.hang_seconds = 30.0
        self._release = threading.Event()
        self.authorize_error = None
        self.claims = {"sub": "sub-" + secrets.token_hex(4), "email": None,
                       "email_verified": False}
        self.lock = threading.Lock()
        self.codes = {}                  # code -> dict
        self.access_tokens = {}          # token -> claims
        self.assertion_jtis = set()
        self.authorizations = []
        self.token_requests = []
        self.jwks_requests = 0
        self.issued = []                 # every code, token and ID token given
        self.discovery_requests = 0
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
        self.issuer = self.base + issuer_path
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    # --- control ----------------------------------------------------------

    def add_client(self, client_id, secret=None, jwks_uri=None):
        c = Client(client_id, secret, jwks_uri)
        self.clients[client_id] = c
        return c

    def reset(self, **claims):
        """Back to a good provider, for a new subject (claims override)."""
        self.defect = "good"
        self.token_mode = "ok"
        self.authorize_error = None
        self._release.clear()
        self.claims = {"sub": "sub-" + secrets.token_hex(4), "email": None,
                       "email_verified": False}
        self.claims.update(claims)

    def rotate(self):
        """A new signing key, published in place of the old one."""
        self.key = Key(self.key.alg)

    def release(self):
        """Lets hanging /token calls answer now."""
        self._release.set()

    def close(self):
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def authorization_endpoint(self):
        return self.base + "/authorize"

    @property
    def token_endpoint(self):
        return self.base + "/token"

    @property
    def jwks_uri(self):
        return self.base + "/jwks"

    @property
    def userinfo_endpoint(self):
        return self.base + "/userinfo"

    def discovery(self):
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "userinfo_endpoint": self.userinfo_endpoint,
            "jwks_uri": self.jwks_uri,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [self.key.alg],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic", "client_secret_post", "private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "EdDSA"],
            "code_challenge_methods_supported": ["S256"],
        }

    # --- HTTP -------------------------------------------------------------

    @staticmethod
    def _send(h, status, body=b"", ctype="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        h.send_response(status)
        if body or status not in (204, 302, 303):
            h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def _get(self, h):
        u = urllib.parse.urlsplit(h.path)
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        path = u.path
        prefix = urllib.parse.urlsplit(self.issuer).path
        if path == prefix + "/.well-known/openid-configuration":
            with self.lock:
                self.discovery_requests += 1
            return self._send(h, 200, self.discovery())
        if path == "/jwks":
            with self.lock:
                self.jwks_requests += 1
            return self._send(h, 200, {"keys": [self.key.jwk()]})
        if path == "/authorize":
            return self._authorize(h, q)
        if path == "/userinfo":
            auth = h.headers.get("Authorization") or ""
            tok = auth[7:] if auth.startswith("Bearer ") else None
            with self.lock:
                claims = self.access_tokens.get(tok)
            if claims is None:
                return self._send(h, 401, {"error": "invalid_token"},
                                  headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return self._send(h, 200, claims)
        return self._send(h, 404, {"error": "not_found"})

    def _authorize(self, h, q):
        with self.lock:
            self.authorizations.append(dict(q))
        redirect_uri = q.get("redirect_uri")
        if not redirect_uri:
            return self._send(h, 400, "no redirect_uri", "text/plain")
        back = {}
        if self.authorize_error:
            back["error"] = self.authorize_error
        elif (q.get("response_type") != "code" or q.get("client_id") not in self.clients
              or q.get("code_challenge_method") != "S256" or not q.get("code_challenge")):
            back["error"] = "invalid_request"
        else:
            code = secrets.token_urlsafe(24)
            with self.lock:
                self.codes[code] = {
                    "client_id": q["client_id"], "redirect_uri": redirect_uri,
                    "nonce": q.get("nonce"), "code_challenge": q["code_challenge"],
                    "scope": q.get("scope"), "used": False,
                    "claims": dict(self.claims)}
            back["code"] = code
            self.issued.append(code)
        if "state" in q:
            back["state"] = q["state"]
        sep = "&" if "?" in redirect_uri else "?"
        return self._send(h, 302, headers={
            "Location": redirect_uri + sep + urllib.parse.urlencode(back)})

    def _post(self, h):
        u = urllib.parse.urlsplit(h.path)
        n = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(n) if n else b""
        if u.path != "/token":
            return self._send(h, 404, {"error": "not_found"})
        form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"),
                                           keep_blank_values=True))
        rec = {"form": {k: v for k, v in form.items()
                        if k not in ("client_secret", "client_assertion", "code_verifier")},
               "authorization": h.headers.get("Authorization"),
               "content_type": h.headers.get("Content-Type"),
               "auth_method": None, "outcome": None,
               "t_start": time.monotonic(), "t_end": None}
        with self.lock:
            self.token_requests.append(rec)
        status, body = self._token(h, form, rec)
        rec["outcome"] = body.get("error", "ok") if isinstance(body, dict) else str(status)
        rec["t_end"] = time.monotonic()
        try:
            self._send(h, status, body)
        except OSError:
            rec["outcome"] = "client gone"

    def _client_auth(self, h, form, rec):
        """The authenticated client id, or raises ValueError."""
        auth = h.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            rec["auth_method"] = "client_secret_basic"
            try:
                cid, _, sec = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                raise ValueError("basic credentials unreadable") from None
            cid = urllib.parse.unquote_plus(cid)
            sec = urllib.parse.unquote_plus(sec)
            c = self.clients.get(cid)
            if c is None or c.secret is None or not hmac.compare_digest(c.secret, sec):
                raise ValueError("wrong client or secret (basic)")
            return cid
        if "client_assertion" in form:
            rec["auth_method"] = "private_key_jwt"
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                raise ValueError("client_assertion_type %r" % form.get("client_assertion_type"))
            return self._check_assertion(form["client_assertion"], form.get("client_id"), rec)
        if "client_secret" in form:
            rec["auth_method"] = "client_secret_post"
            c = self.clients.get(form.get("client_id"))
            if c is None or c.secret is None or not hmac.compare_digest(
                    c.secret, form["client_secret"]):
                raise ValueError("wrong client or secret (post)")
            return c.client_id
        rec["auth_method"] = "none"
        c = self.clients.get(form.get("client_id"))
        if c is None or c.secret is not None or c.jwks_uri is not None:
            raise ValueError("no client authentication")
        return c.client_id

    def _check_assertion(self, assertion, form_client_id, rec):
        try:
            header = json.loads(b64url_decode(assertion.split(".")[0]))
            claims = json.loads(b64url_decode(assertion.split(".")[1]))
        except Exception:
            raise ValueError("assertion unreadable") from None
        rec["client_assertion"] = assertion
        rec["assertion_header"] = header
        rec["assertion_claims"] = claims
        cid = claims.get("iss")
        c = self.clients.get(cid)
        if c is None or c.jwks_uri is None:
            raise ValueError("assertion of unknown client %r" % cid)
        if form_client_id is not None and form_client_id != cid:
            raise ValueError("client_id and assertion disagree")
        with urllib.request.urlopen(c.jwks_uri, timeout=10) as resp:
            jwks = json.loads(resp.read())
        verify_jws(assertion, jwks)
        now = time.time()
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if claims.get("sub") != cid:
            raise ValueError("assertion sub != iss")
        if self.token_endpoint not in auds and self.issuer not in auds:
            raise ValueError("assertion aud %r" % aud)
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= now or exp > now + 600:
            raise ValueError("assertion exp %r" % exp)
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise ValueError("assertion without jti")
        with self.lock:
            if jti in self.assertion_jtis:
                raise ValueError("assertion replayed")
            self.assertion_jtis.add(jti)
        rec["assertion_verified"] = True
        return cid

    def _token(self, h, form, rec):
        if self.token_mode == "500":
            return 500, {"error": "server_error"}
        if self.token_mode == "hang":
            self._release.wait(self.hang_seconds)
        try:
            cid = self._client_auth(h, form, rec)
        except ValueError as e:
            rec["why"] = str(e)
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        code = form.get("code") or ""
        with self.lock:
            g = self.codes.get(code)
            if g is None or g["used"]:
                rec["why"] = "code unknown or used"
                return 400, {"error": "invalid_grant"}
            g["used"] = True
        if g["client_id"] != cid or g["redirect_uri"] != form.get("redirect_uri"):
            rec["why"] = "client or redirect_uri"
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier") or ""
        if b64url(hashlib.sha256(verifier.encode()).digest()) != g["code_challenge"]:
            rec["why"] = "PKCE"
            return 400, {"error": "invalid_grant"}
        access = secrets.token_urlsafe(24)
        claims = {k: v for k, v in g["claims"].items() if v is not None}
        idt = self.id_token(cid, g["nonce"], claims)
        with self.lock:
            self.access_tokens[access] = claims
            self.issued += [access, idt]
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": 300,
                     "scope": g["scope"] or "openid", "id_token": idt}

    def id_token(self, client_id, nonce, claims, defect=None):
        defect = defect or self.defect
        now = int(time.time())
        c = {"iss": self.issuer, "aud": client_id, "iat": now, "exp": now + 300}
        if nonce is not None:
            c["nonce"] = nonce
        c.update(claims)
        header = {"alg": self.key.alg, "typ": "JWT", "kid": self.key.kid}
        key = self.key
        if defect == "wrong_aud":
            c["aud"] = "someone-else"
        elif defect == "wrong_nonce":
            c["nonce"] = secrets.token_urlsafe(16)
        elif defect == "no_nonce":
            c.pop("nonce", None)
        elif defect == "expired":
            c["iat"] = now - 1200
            c["exp"] = now - 600
        elif defect == "iat_future":
            c["iat"] = now + 3600
            c["exp"] = now + 7200
        elif defect == "iat_old":
            c["iat"] = now - 3600
        elif defect == "no_sub":
            c.pop("sub", None)
        elif defect == "aud_array_no_azp":
            c["aud"] = [client_id, "someone-else"]
        elif defect == "aud_array_azp":
            c["aud"] = [client_id, "someone-else"]
            c["azp"] = client_id
        elif defect == "wrong_iss":
            c["iss"] = "http://evil.example"
        elif defect == "unknown_key":
            key = self.other_key
            header["kid"] = key.kid
        elif defect == "alg_none":
            return jws({"alg": "none", "typ": "JWT"}, c)
        elif defect == "hs256_public_key":
            secret = self.key.public_pem()
            return jws({"alg": "HS256", "typ": "JWT", "kid": self.key.kid}, c,
                       lambda d: hmac.new(secret, d, hashlib.sha256).digest())
        elif defect == "bad_signature":
            tok = jws(header, c, key.sign)
            h_, p_, s_ = tok.split(".")
            sig = bytearray(b64url_decode(s_))
            sig[0] ^= 1
            return "%s.%s.%s" % (h_, p_, b64url(bytes(sig)))
        elif defect != "good":
            raise ValueError(defect)
        return jws(header, c, key.sign)
