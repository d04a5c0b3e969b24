"""Keys across hosts (issue 17, item 2): two wardend hosts share one key
directory; `wardenctl keygen` in the middle of a login load makes next
keys that each host publishes once it has reloaded, and that sign and seal
only from the instant written in the directory's current file.

Proved here, for EdDSA access tokens and for the RS256 id_tokens of an
OIDC client's refreshes: no token was ever unverifiable with the JWKS just
fetched from the other host; tokens switch to the new kid only from that instant
on (their iat says when the hasher signed them); a password hash sealed
with the new pepper on one host verifies on the other."""

import base64
import hashlib
import json
import os
import re
import secrets
import signal
import threading
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

import wardenlib as W

DELAY = 6   # key_publish_delay, seconds: room for the two reloads below


def jwks_fetch(client):
    """A fresh JWKS ({kid: jwk}); None while the host answers 503 (its
    hasher restarting on SIGHUP, keys not sent yet)."""
    r = client.get("/.well-known/jwks.json")
    if r.status == 503:
        return None
    assert r.status == 200, r
    return {k["kid"]: k for k in r.json()["keys"]}


def verifies(token, jwks):
    """True when the token's signature (EdDSA or RS256) verifies with the
    JWKS key its kid names."""
    header = W.jwt_parts(token)[0]
    k = jwks.get(header["kid"])
    signing_input, sig = token.rsplit(".", 1)
    data, sig = signing_input.encode(), W.b64url_decode(sig)
    try:
        if header["alg"] == "EdDSA" and k is not None and k["kty"] == "OKP":
            Ed25519PublicKey.from_public_bytes(
                W.b64url_decode(k["x"])).verify(sig, data)
            return True
        if header["alg"] == "RS256" and k is not None and k["kty"] == "RSA":
            num = lambda v: int.from_bytes(W.b64url_decode(v), "big")
            RSAPublicNumbers(num(k["e"]), num(k["n"])).public_key().verify(
                sig, data, padding.PKCS1v15(), hashes.SHA256())
            return True
    except InvalidSignature:
        pass
    return False


REDIRECT = "https://app.example.com/cb"


def oidc_refresh_token(host, user):
    """An OIDC client with offline_access and the refresh token of its
    first code exchange (the code written as codes_insert writes it, as
    test_oidc_token.py does): each refresh gives a new RS256 id_token."""
    out = host.wardenctl("client", "add", W.uniq("rot"), "--redirect-uri",
                         REDIRECT, "--scope", "openid offline_access",
                         "--json")
    assert out.returncode == 0, out.stderr
    cl = json.loads(out.stdout)
    W.SECRETS.add_issued(cl["client_secret"], -1)
    code = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(
        verifier.encode()).digest()).rstrip(b"=").decode()
    W.psql("INSERT INTO oauth_codes (code_hash, client_id, user_id,"
           " token_version, redirect_uri, scopes, nonce, code_challenge,"
           " auth_time, expires_at, created_at)"
           " SELECT '\\x%s'::bytea, '%s', id, token_version, '%s',"
           " '{openid,offline_access}', NULL, '%s', now(),"
           " now() + interval '60 seconds', now() - interval '1 second'"
           " FROM users WHERE id = '%s'"
           % (hashlib.sha256(code.encode()).hexdigest(), cl["client_id"],
              REDIRECT, challenge, user.id))
    r = host.client.post("/oauth2/token", form={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": REDIRECT, "code_verifier": verifier,
        "client_id": cl["client_id"], "client_secret": cl["client_secret"]})
    assert r.status == 200, r
    assert W.jwt_parts(r.json()["id_token"])[0]["alg"] == "RS256"
    return cl, r.json()["refresh_token"]


def pepper_kid(username):
    rows = W.psql("SELECT password_hash FROM users WHERE username = '%s'"
                  % username)
    m = re.match(r"\$warden\$v=1\$k=([A-Za-z0-9_-]+)\$", rows[0])
    assert m, rows[0][:20]
    return m.group(1)


class Load(threading.Thread):
    """Logs in on host i and checks every token against the JWKS fetched
    just then from the other host; alternates i."""

    def __init__(self, hosts, user, oidc):
        super().__init__(daemon=True)
        self.clients = [W.Client(h.host, h.port) for h in hosts]
        self.user = user
        self.cl, self.refresh = oidc
        self.stop = threading.Event()
        self.tokens = []        # (kid, iat, verified, host): access tokens
        self.id_tokens = []     # the same of RS256 id_tokens
        self.unavailable = 0    # 503s while a host reloaded
        self.error = None

    def run(self):
        i = 0
        try:
            while not self.stop.is_set():
                i ^= 1
                r = self.clients[i].login_raw(self.user.username,
                                              self.user.password)
                if r.status == 503:
                    self.unavailable += 1
                    continue
                assert r.status == 200, r
                tok = r.json()["access_token"]
                r = self.clients[i].post("/oauth2/token", form={
                    "grant_type": "refresh_token",
                    "refresh_token": self.refresh,
                    "client_id": self.cl["client_id"],
                    "client_secret": self.cl["client_secret"]})
                if r.status == 503:
                    self.unavailable += 1
                    continue
                assert r.status == 200, r
                self.refresh = r.json()["refresh_token"]
                idt = r.json()["id_token"]
                jwks = jwks_fetch(self.clients[1 - i])
                while jwks is None and not self.stop.is_set():
                    self.unavailable += 1
                    time.sleep(0.05)
                    jwks = jwks_fetch(self.clients[1 - i])
                if jwks is None:
                    break
                for t, into in ((tok, self.tokens), (idt, self.id_tokens)):
                    header, claims = W.jwt_parts(t)[:2]
                    into.append((header["kid"], claims["iat"],
                                 verifies(t, jwks), i))
        except BaseException as e:     # reported by the test
            self.error = e


def current_lines(key_dir):
    with open(os.path.join(key_dir, "current")) as f:
        return f.read().splitlines()


def test_rotation_under_load_across_two_hosts(workdir):
    kd = W.make_keys(os.path.join(workdir, "rotation-keys"))
    old = dict(l.split() for l in current_lines(kd))
    a = W.Daemon(workdir, "rot-a", key_dir=kd,
                 key_publish_delay="%ds" % DELAY)
    b = W.Daemon(workdir, "rot-b", key_dir=kd,
                 key_publish_delay="%ds" % DELAY)
    load = None
    try:
        a.start(timeout=30)
        b.start(timeout=30)
        user = a.client.new_user(prefix="rot")
        load = Load([a, b], user, oidc_refresh_token(a, user))
        load.start()
        while len(load.tokens) < 10:
            assert load.is_alive(), load.error
            time.sleep(0.05)

        out = a.wardenctl("keygen")
        assert out.returncode == 0, out.stderr
        m = re.match(r"sign (\S+)\npepper (\S+)\nrsa (\S+)\nfrom (\d+)\n",
                     out.stdout)
        assert m, out.stdout
        sign, pepper, rsa, start = m.group(1), m.group(2), m.group(3), \
            int(m.group(4))
        assert "reload every wardend" in out.stderr
        assert "next sign %s %d" % (sign, start) in current_lines(kd)
        a.proc.send_signal(signal.SIGHUP)
        time.sleep(1)                   # host B reloads a second later
        b.proc.send_signal(signal.SIGHUP)

        # Each host publishes the next key once it has reloaded, before
        # anything signs with it.
        for h in (a, b):
            deadline = time.monotonic() + 30
            while True:
                k = jwks_fetch(h.client)
                if k is not None and sign in k and rsa in k:
                    break
                assert time.monotonic() < deadline, "%s never published" \
                    % h.name
                time.sleep(0.1)

        # Keygen while the next keys are pending is refused, naming when
        # they take over; nothing is written.
        before = current_lines(kd)
        again = a.wardenctl("keygen")
        assert again.returncode != 0
        assert "take over at" in again.stderr and str(start) in again.stderr
        assert current_lines(kd) == before

        # Past the instant, until both hosts sign with the new key.
        deadline = time.monotonic() + DELAY + 60
        while ({h for (kid, _, _, h) in load.tokens if kid == sign} != {0, 1}
               or {h for (kid, _, _, h) in load.id_tokens
                   if kid == rsa} != {0, 1}):
            assert load.is_alive(), load.error
            assert time.monotonic() < deadline, "no token with the new kid"
            time.sleep(0.1)
        load.stop.set()
        load.join(timeout=30)
        assert load.error is None, load.error

        for toks, was, new in ((load.tokens, old["sign"], sign),
                               (load.id_tokens, old["rsa"], rsa)):
            bad = [t for t in toks if not t[2]]
            assert not bad, "tokens the other host's JWKS did not " \
                "verify: %r" % bad[:5]
            kids = {t[0] for t in toks}
            assert kids == {was, new}, kids
            for kid, iat, _, _ in toks:
                if kid == new:
                    assert iat >= start, (kid, iat, start)
                else:
                    assert iat < start, (kid, iat, start)

        # The pepper follows the same instant: the user's next login
        # reseals the hash with the new pepper on A; B verifies it.
        assert a.client.login_raw(user.username, user.password).status == 200
        deadline = time.monotonic() + 15
        while pepper_kid(user.username) != pepper:
            assert time.monotonic() < deadline, "never resealed"
            time.sleep(0.1)
        r = b.client.login_raw(user.username, user.password)
        assert r.status == 200, r
        # And a user registered on B now is sealed with it and logs in on A.
        fresh = b.client.new_user(prefix="rot", login=False)
        assert pepper_kid(fresh.username) == pepper
        assert a.client.login_raw(fresh.username, fresh.password).status \
            == 200

        # Due now: keygen makes the next keys current in the file, and
        # adds new next ones.
        out = a.wardenctl("keygen")
        assert out.returncode == 0, out.stderr
        lines = current_lines(kd)
        assert "sign %s" % sign in lines and "pepper %s" % pepper in lines
        assert any(l.startswith("next sign ") for l in lines)
        keys = json.loads(a.wardenctl("key", "list", "--json").stdout)
        state = {k["kid"]: k["state"] for k in keys}
        assert state[sign] == "current" and state[old["sign"]] == "retired"
        assert sorted(s for s in state.values()).count("next") == 3
    finally:
        if load is not None:
            load.stop.set()
            load.join(timeout=30)
        for h in (a, b):
            if h.proc is not None:
                W.stop_own(h)
