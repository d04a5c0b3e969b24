#!/usr/bin/env python3
"""The real, sandboxed warden-hasher against a compromised wardend.

Each test starts warden-hasher the way production does (spawn mode: fork
and exec with the connected socket on fd 3 and `-f config`; split mode:
`-l` on hasher_socket) and speaks the protocol of common/proto.h as a
hostile front would: malformed frames, out-of-range sizes, floods, slow
peers, and well-formed requests with hostile values.

Run as root (as CI is), the hasher starts as root with hasher_user nobody
and an empty chroot, as deployed; a second pass then runs the tests marked
`both` with the hasher unprivileged from the start (as nobody).  Run as
anyone else, the one pass is unprivileged.

What holds for every hasher a test starts, checked when it ends
(Hasher.finish), whatever the test did to it:
  - it exited 0 or 1 (spawn mode; wardend restarts it either way), never
    by a signal: no crash, no seccomp kill, no core dump;
  - no byte of a signing key's seed or of the pepper, raw, hex or base64,
    in anything it sent or logged; no password we sent and no token it
    signed in its log;
  - every R_SIGN verified with python3-cryptography against the key from
    PUBKEYS (itself checked against the key files), with the header and
    claims the hasher owns: iss, aud, client_id as configured, whatever
    was asked; exp - iat <= access_token_ttl; jti fresh and echoed;
  - every R_SIGN answer has a log line "signed" with its sub, jti,
    username and roles;
  - every log line parses (JSON or logfmt): nothing we sent split or
    forged one.

Prints `ok`/`FAIL` per test and `N passed, N failed` last; exits 1 when
anything failed.  BUILD names the build folder (default build/release),
HOSTILE_ONLY a substring of the tests to run.
"""

import base64
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import wire as W  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("BUILD", "build/release")
HASHER = os.path.join(ROOT, BUILD, "warden-hasher")

ISSUER = "https://issuer.hostile.test"
AUDIENCE = "hostile-audience"
CLIENT_ID = "hostile-client"
TTL = 300			# access_token_ttl of the default configuration
SEND_TIMEOUT = 5.0		# SERVER_SEND_TIMEOUT_MS of hasher/server.h
MAX_CONNS = 8			# SERVER_MAX_CONNS
# Generous: the machine is shared, and a deadline here only turns a hang
# into a failure.
TIMEOUT = float(os.environ.get("HOSTILE_TIMEOUT", "30"))

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                     r"[0-9a-f]{12}$")
CLAIMS = {"iss", "aud", "sub", "client_id", "iat", "exp", "jti", "username",
          "roles", "ver", "email_verified"}


class Failure(AssertionError):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def new_uuid():
    return str(uuid.uuid4())


# The API's field rules (common/fields.c), to know what the hasher must
# refuse.
def plain_char(c):
    return c.isascii() and (c.isalnum() or c in "._-")


def is_username(u):
    return (3 <= len(u) <= W.USERNAME_MAX and u[0].isascii() and
            u[0].isalnum() and all(plain_char(c) for c in u))


def is_role(r):
    return (1 <= len(r) <= W.ROLE_MAX and
            all(c.isascii() and (c.isdigit() or "a" <= c <= "z" or c in "_-")
                for c in r))


# ------------------------------------------------------------------ keys

class Keys:
    """The key directory as --keygen wrote it: what must never leak (each
    signing seed and pepper) and the public keys they derive."""

    def __init__(self, d):
        self.dir = d
        self.secrets = []
        self.pk = {}
        cur = {}
        with open(os.path.join(d, "current")) as f:
            for line in f:
                k, v = line.split()
                cur[k] = v
        self.current = cur["sign"]
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as f:
                data = f.read()
            if name.startswith("sign-") and name.endswith(".key"):
                check(len(data) == 64, "%s holds %d bytes" % (name, len(data)))
                seed = data[:32]
                pk = Ed25519PrivateKey.from_private_bytes(seed).public_key()
                raw = pk.public_bytes(serialization.Encoding.Raw,
                                      serialization.PublicFormat.Raw)
                check(raw == data[32:], "%s: public half is not the seed's"
                      % name)
                self.pk[name[5:-4]] = raw
                self.secrets.append(("seed of " + name, seed))
            elif name.startswith("pepper-") and name.endswith(".key"):
                self.secrets.append(("pepper " + name, data))
        check(self.secrets and self.pk, "no keys in " + d)

    def patterns(self):
        """(label, bytes) to look for: every secret whole in raw, hex and
        base64 forms, and every 8-byte window of it raw and in hex."""
        out = []
        for label, sec in self.secrets:
            out.append((label, sec))
            out.append((label + " (hex)", sec.hex().encode()))
            out.append((label + " (HEX)", sec.hex().upper().encode()))
            out.append((label + " (base64)",
                        base64.b64encode(sec).rstrip(b"=")))
            out.append((label + " (base64url)",
                        base64.urlsafe_b64encode(sec).rstrip(b"=")))
            for i in range(0, len(sec) - 7):
                out.append(("%s bytes %d..%d" % (label, i, i + 7),
                            sec[i:i + 8]))
                out.append(("%s bytes %d..%d (hex)" % (label, i, i + 7),
                            sec[i:i + 8].hex().encode()))
        return out


# ------------------------------------------------------------------ envs

class Env:
    """Where the hashers of one pass live: keys, an empty chroot, configs,
    logs.  privileged: we are root and the hasher drops to nobody into the
    chroot itself; otherwise it runs as `user` (nobody when we are root)
    from the start."""

    def __init__(self, base, privileged):
        self.privileged = privileged
        self.name = "root+chroot" if privileged else "unprivileged"
        self.dir = tempfile.mkdtemp(prefix=("priv-" if privileged else
                                            "unpriv-"), dir=base)
        self.run_as = None
        if os.geteuid() == 0 and not privileged:
            pw = pwd.getpwnam("nobody")
            self.run_as = (pw.pw_uid, pw.pw_gid)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.chroot = None
        if privileged:
            self.chroot = os.path.join(self.dir, "empty")
            os.mkdir(self.chroot, 0o755)
            os.chmod(self.chroot, 0o755)
        keydir = os.path.join(self.dir, "keys")
        r = subprocess.run([HASHER, "--keygen", keydir], capture_output=True,
                           env=clean_env(), **self.user_kwargs())
        check(r.returncode == 0, "keygen: %r" % r.stderr)
        self.keys = Keys(keydir)
        # The front's uid, which split mode accepts: ours.
        self.front_user = pwd.getpwuid(os.geteuid()).pw_name

    def user_kwargs(self):
        if self.run_as is None:
            return {}
        return dict(user=self.run_as[0], group=self.run_as[1],
                    extra_groups=[])

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WARDEN_") and
           k not in ("CREDENTIALS_DIRECTORY", "LISTEN_PID", "LISTEN_FDS",
                     "LISTEN_FDNAMES")}
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    return env


# ------------------------------------------------------------------ logs

LOGFMT_RE = re.compile(r'([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|[^ "]*)(?: |$)')


def parse_line(line, fmt):
    """A log line as a dict; None when it does not parse."""
    if fmt == "json":
        try:
            d = json.loads(line)
        except ValueError:
            return None
        return d if isinstance(d, dict) else None
    d, pos = {}, 0
    for m in LOGFMT_RE.finditer(line):
        if m.start() != pos:
            return None
        v = m.group(2)
        if v.startswith('"'):
            v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        d[m.group(1)] = v
        pos = m.end()
    return d if pos == len(line) and d else None


# ------------------------------------------------------------------ hasher

class Hasher:
    """One warden-hasher process, its configuration, log and the bytes it
    sent; finish() makes the checks every test shares."""

    seq = 0

    def __init__(self, env, split=False, **conf):
        Hasher.seq += 1
        self.env, self.split = env, split
        self.name = "h%03d" % Hasher.seq
        self.conf = dict(key_dir=env.keys.dir, issuer=ISSUER,
                         audience=AUDIENCE, client_id=CLIENT_ID,
                         access_token_ttl="%ds" % TTL, argon2_memory="64K",
                         argon2_iterations=1, hasher_workers=2,
                         hasher_queue=64, log_format="json",
                         log_level="info")
        if env.privileged:
            self.conf.update(hasher_user="nobody", hasher_chroot=env.chroot)
        if split:
            self.conf.update(hasher_socket=os.path.join(env.dir, self.name +
                                                        ".sock"),
                             user=env.front_user)
        self.conf.update(conf)
        self.ttl = parse_dur(self.conf["access_token_ttl"])
        self.conf_path = os.path.join(env.dir, self.name + ".conf")
        self.log_path = os.path.join(env.dir, self.name + ".log")
        with open(self.conf_path, "w") as f:
            for k, v in self.conf.items():
                f.write('%s "%s"\n' % (k, v))
        self.transcript = bytearray()	# everything it sent us
        self.lock = threading.Lock()
        self.signed = []		# (sub, jti, username, roles) signed
        self.jtis = set()
        self.jwts = []			# every token it signed
        self.sent_secrets = []		# passwords we sent
        self.violations = []		# found on reader threads
        self.pubkeys = None
        self.conns = []
        self.proc = None
        self.stopped_by_us = False
        LIVE.append(self)

    def start(self):
        """Starts it; in spawn mode returns the connected front."""
        args = [HASHER, "-f", self.conf_path] + (["-l"] if self.split else [])
        logf = open(self.log_path, "ab")
        kw = dict(stdout=logf, stderr=logf, env=clean_env(), cwd=self.env.dir,
                  **self.env.user_kwargs())
        try:
            if self.split:
                self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                             **kw)
                return None
            ours, theirs = socket.socketpair(socket.AF_UNIX,
                                             socket.SOCK_STREAM)
            # As hasher_spawn() does: the connected socket on fd 3.
            self.proc = subprocess.Popen(
                ["/bin/sh", "-c", 'exec "$0" "$@" 3<&0 </dev/null'] + args,
                stdin=theirs, **kw)
            theirs.close()
        finally:
            logf.close()
        c = Conn(self, ours)
        self.conns.append(c)
        return c

    def connect(self, hello=True):
        """Split mode: a new connection to hasher_socket."""
        path = self.conf["hasher_socket"]
        deadline = time.monotonic() + TIMEOUT
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                check(self.proc.poll() is None,
                      "hasher exited %r before listening" % self.proc.returncode)
                check(time.monotonic() < deadline, "no socket " + path)
                time.sleep(0.05)
        c = Conn(self, s)
        self.conns.append(c)
        if hello:
            c.hello()
        return c

    def wait_exit(self, timeout=TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure("%s still running %.0f s after its front went away"
                          % (self.name, timeout))

    def stop(self):
        """Split mode has no end but a signal: ours, so not a crash."""
        if self.proc.poll() is None:
            self.stopped_by_us = True
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(TIMEOUT)

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read()

    def log_records(self):
        out = []
        for line in self.log_text().decode("utf-8", "replace").splitlines():
            d = parse_line(line, self.conf["log_format"])
            check(d is not None, "%s: log line does not parse: %r"
                  % (self.name, line[:200]))
            out.append(d)
        return out

    def log_has(self, msg, **fields):
        for d in self.log_records():
            if d.get("msg") == msg and all(d.get(k) == v
                                           for k, v in fields.items()):
                return True
        return False

    def finish(self, expect_exit=None):
        """Closes our ends, waits for the process, and makes the shared
        checks.  expect_exit: 0 or 1 in spawn mode, None for either."""
        for c in self.conns:
            c.close()
        if self.split:
            check(self.proc.poll() is None, "%s (split) died: %r"
                  % (self.name, self.proc.returncode))
            self.stop()
            rc = self.proc.returncode
            check(rc in (0, 1, -signal.SIGTERM),
                  "%s ended with %r" % (self.name, rc))
        else:
            rc = self.wait_exit()
            check(rc >= 0, "%s killed by signal %d (a crash or the sandbox)"
                  % (self.name, -rc))
            check(rc in (0, 1), "%s exited %d" % (self.name, rc))
            if expect_exit is not None:
                check(rc == expect_exit, "%s exited %d, not %d"
                      % (self.name, rc, expect_exit))
        check(not self.violations, "; ".join(self.violations[:5]))
        self.check_secrets()
        self.check_sign_log()
        for d in (self.env.dir, self.env.chroot):
            if d:
                cores = [n for n in os.listdir(d) if n.startswith("core")]
                check(not cores, "core files in %s: %r" % (d, cores))
        return rc

    def check_secrets(self):
        log = self.log_text()
        sent = bytes(self.transcript)
        for label, pat in self.env.keys.patterns():
            check(pat not in sent, "%s in the hasher's answers" % label)
            check(pat not in log, "%s in the hasher's log" % label)
        for pw in self.sent_secrets:
            if len(pw) >= 12:
                check(pw not in log, "a password we sent is in the log")
        for jwt in self.jwts:
            check(jwt.encode() not in log, "a signed token is in the log")

    def check_sign_log(self):
        if not self.signed:
            return
        logged = {}
        for d in self.log_records():
            if d.get("msg") == "signed":
                logged[d.get("jti")] = (d.get("sub"), d.get("jti"),
                                        d.get("username"), d.get("roles"))
        missing = [t for t in self.signed if logged.get(t[1]) != t]
        check(not missing, "%d of %d signatures have no log line with their "
              "sub, jti, username and roles (first: %r, logged %r)"
              % (len(missing), len(self.signed), missing[0],
                 logged.get(missing[0][1])) if missing else "")

    # -- every R_SIGN, wherever it arrives --

    def audit_sign(self, ans):
        """The checks every signature gets; returns (header, claims).
        Records a violation rather than raising: it may run on a reader
        thread."""
        try:
            h, c = verify_jwt(self, ans)
        except Failure as e:
            with self.lock:
                self.violations.append(str(e))
            return None, None
        with self.lock:
            self.signed.append((c["sub"], ans["jti"], c["username"],
                                ",".join(c["roles"])))
            self.jwts.append(ans["jwt"])
            if ans["jti"] in self.jtis:
                self.violations.append("jti %s signed twice" % ans["jti"])
            self.jtis.add(ans["jti"])
        return h, c


def parse_dur(v):
    v = str(v)
    mult = dict(s=1, m=60, h=3600, d=86400)
    if v[-1] in mult:
        return int(v[:-1]) * mult[v[-1]]
    return int(v)


def verify_jwt(h, ans):
    jwt = ans["jwt"]
    parts = jwt.split(".")
    check(len(parts) == 3, "token of %d parts" % len(parts))
    try:
        hdr = json.loads(b64url_dec(parts[0]))
        claims = json.loads(b64url_dec(parts[1]))
        sig = b64url_dec(parts[2])
    except ValueError as e:
        raise Failure("token does not decode: %s" % e)
    keys = h.pubkeys
    if keys is None:	# no PUBKEYS asked on this hasher: the key files
        keys = {k: dict(pk=v, current=(k == h.env.keys.current))
                for k, v in h.env.keys.pk.items()}
    cur = [k for k, v in keys.items() if v["current"]]
    check(hdr == {"alg": "EdDSA", "typ": "at+jwt", "kid": cur[0]},
          "header %r" % hdr)
    try:
        Ed25519PublicKey.from_public_bytes(keys[hdr["kid"]]["pk"]).verify(
            sig, (parts[0] + "." + parts[1]).encode())
    except InvalidSignature:
        raise Failure("signature does not verify with the PUBKEYS key")
    check(set(claims) == CLAIMS, "claims %r" % sorted(claims))
    check(claims["iss"] == h.conf["issuer"], "iss %r" % claims["iss"])
    check(claims["aud"] == h.conf["audience"], "aud %r" % claims["aud"])
    check(claims["client_id"] == h.conf["client_id"],
          "client_id %r" % claims["client_id"])
    for k in ("iat", "exp", "ver"):
        check(isinstance(claims[k], int) and not isinstance(claims[k], bool),
              "%s is not an integer: %r" % (k, claims[k]))
    check(isinstance(claims["email_verified"], bool),
          "email_verified is not a boolean: %r" % claims["email_verified"])
    check(0 < claims["exp"] - claims["iat"] <= h.ttl,
          "exp - iat = %d past access_token_ttl %d"
          % (claims["exp"] - claims["iat"], h.ttl))
    check(abs(claims["iat"] - time.time()) < 120, "iat %d is not now"
          % claims["iat"])
    check(claims["jti"] == ans["jti"] and UUID_RE.match(ans["jti"]),
          "jti %r, answer's %r" % (claims["jti"], ans["jti"]))
    check(claims["exp"] == ans["exp"], "exp %d, answer's %d"
          % (claims["exp"], ans["exp"]))
    check(UUID_RE.match(claims["sub"]), "sub %r" % claims["sub"])
    check(len(jwt) <= W.JWT_MAX, "token of %d bytes" % len(jwt))
    return hdr, claims


# ------------------------------------------------------------------ conns

class Conn:
    """One front connection.  Every byte received goes to the hasher's
    transcript; every R_SIGN is audited."""

    def __init__(self, h, sock):
        self.h, self.sock = h, sock
        self.buf = bytearray()
        self.closed = False

    def send(self, data, timeout=TIMEOUT):
        self.sock.settimeout(timeout)
        self.sock.sendall(data)

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("no answer within %.0f s" % TIMEOUT)
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(65536)
            except ConnectionResetError:
                d = b""
            if not d:
                return False
            with self.h.lock:
                self.h.transcript += d
            self.buf += d
        return True

    def frame(self, timeout=TIMEOUT):
        """(type, id, decoded answer), or None on EOF between frames."""
        deadline = time.monotonic() + timeout
        if not self._fill(W.HEADER, deadline):
            check(not self.buf, "EOF inside a header")
            return None
        n, id_, t, res = W.struct.unpack(">IIHH", bytes(self.buf[:12]))
        check(res == 0, "answer with reserved bits 0x%04x" % res)
        check(n <= W.MAX_PAYLOAD, "answer of %d bytes" % n)
        check(self._fill(12 + n, deadline), "EOF inside an answer")
        p = bytes(self.buf[12:12 + n])
        del self.buf[:12 + n]
        try:
            ans = W.decode(t, p)
        except (ValueError, W.struct.error, UnicodeDecodeError) as e:
            raise Failure("answer %s does not decode: %s"
                          % (W.NAME.get(t, hex(t)), e))
        if t == W.T["R_SIGN"]:
            self.h.audit_sign(ans)
        return t, id_, ans

    def expect(self, type_, id_=None, timeout=TIMEOUT):
        f = self.frame(timeout)
        check(f is not None, "EOF instead of %s" % type_)
        t, i, ans = f
        check(t == W.T[type_], "%s (%r) instead of %s"
              % (W.NAME.get(t, hex(t)), ans, type_))
        if id_ is not None:
            check(i == id_, "answer id %d, not %d" % (i, id_))
        return ans

    def expect_error(self, code, id_=None):
        ans = self.expect("R_ERROR", id_)
        check(ans["code"] == code, "error %r, not code %d" % (ans, code))
        return ans

    def expect_eof(self, timeout=TIMEOUT, allow=()):
        """The hasher must drop us: EOF, with at most the answers of
        allow before it."""
        while True:
            f = self.frame(timeout)
            if f is None:
                return
            check(W.NAME.get(f[0]) in allow, "%s (%r) instead of EOF"
                  % (W.NAME.get(f[0], hex(f[0])), f[2]))

    def hello(self):
        self.send(W.hello())
        ans = self.expect("R_HELLO", 0)
        check(ans["version"] == W.VERSION, "R_HELLO %r" % ans)
        if self.h.pubkeys is None:
            self.pubkeys()
        return self

    def pubkeys(self, id_=7):
        self.send(W.pubkeys_req(id_))
        ans = self.expect("R_PUBKEYS", id_)
        keys = {k["kid"]: k for k in ans["keys"]}
        check(len(keys) == len(ans["keys"]), "a kid twice in PUBKEYS")
        check({k: v["pk"] for k, v in keys.items()} == self.h.env.keys.pk,
              "PUBKEYS is not the key files' public keys")
        check([k for k, v in keys.items() if v["current"]] ==
              [self.h.env.keys.current], "PUBKEYS marks %r current"
              % [k for k, v in keys.items() if v["current"]])
        if self.h.pubkeys is None:
            self.h.pubkeys = keys
        check(keys == self.h.pubkeys, "PUBKEYS changed")
        return keys

    def sign(self, sub=None, username="alice", roles=("admin",), ver=1,
             ttl=0, id_=11):
        sub = sub or new_uuid()
        self.send(W.sign_req(sub, username, list(roles), ver, ttl, id_))
        ans = self.expect("R_SIGN", id_)
        _, claims = verify_jwt(self.h, ans)
        check(claims["sub"] == sub and claims["username"] == username and
              claims["roles"] == list(roles) and claims["ver"] == ver,
              "claims %r are not the ones asked" % claims)
        want = self.h.ttl if ttl == 0 or ttl > self.h.ttl else ttl
        check(claims["exp"] - claims["iat"] == want,
              "ttl %d asked, %d given, %d expected"
              % (ttl, claims["exp"] - claims["iat"], want))
        return claims

    def hash(self, user_id, password, id_=21):
        self.h.sent_secrets.append(bytes(password))
        self.send(W.hash_req(user_id, password, id_))
        return self.expect("R_HASH", id_)["stored"]

    def verify(self, user_id, password, stored, id_=22, timeout=TIMEOUT):
        self.h.sent_secrets.append(bytes(password))
        self.send(W.verify_req(user_id, password, stored, id_))
        return self.expect("R_VERIFY", id_, timeout)

    def close(self):
        if not self.closed:
            self.closed = True
            self.sock.close()


# ------------------------------------------------------------------ runner

TESTS = []
LIVE = []	# every Hasher started, for kill_leftovers()


def test(both=False):
    def deco(fn):
        TESTS.append((fn.__name__[5:], fn, both))
        return fn
    return deco


def spawn(env, **conf):
    h = Hasher(env, **conf)
    return h, h.start()


def proc_status(pid):
    d = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            d[k] = v.strip()
    return d


# ------------------------------------------------------------------ tests:
# start-up and lock-down

@test(both=True)
def test_locked_down(env):
    """After start-up: seccomp filter, no-new-privs, not dumpable, no core
    size, no capabilities; as root also nobody and the chroot."""
    h, c = spawn(env)
    c.hello()
    pid = h.proc.pid
    st = proc_status(pid)
    check(st["Seccomp"] == "2", "Seccomp: %s" % st["Seccomp"])
    check(st["NoNewPrivs"] == "1", "NoNewPrivs: %s" % st["NoNewPrivs"])
    check(int(st["CapEff"], 16) == 0, "CapEff %s" % st["CapEff"])
    uids = set(st["Uid"].split())
    check(uids != {"0"} and "0" not in uids, "uids %s" % st["Uid"])
    if env.privileged or env.run_as:
        nobody = str(pwd.getpwnam("nobody").pw_uid)
        check(uids == {nobody}, "uids %s, not nobody" % st["Uid"])
    # The files under /proc/PID of a process that is not dumpable belong
    # to root, whatever its uid.
    check(os.stat("/proc/%d/status" % pid).st_uid == 0,
          "/proc/%d/status not root's: the hasher is dumpable" % pid)
    with open("/proc/%d/limits" % pid) as f:
        core = [l for l in f if l.startswith("Max core file size")]
    check(core and core[0].split()[4:6] == ["0", "0"], "core limit %r" % core)
    if env.privileged:
        try:
            root = os.readlink("/proc/%d/root" % pid)
        except PermissionError:
            root = None
        if root is not None:
            check(os.path.realpath(root) == os.path.realpath(env.chroot),
                  "root is %s, not the chroot" % root)
    c.sign()
    h.finish(expect_exit=0)


@test(both=True)
def test_good_requests(env):
    """Every message type well formed: the baseline the rest departs from."""
    h, c = spawn(env)
    c.hello()
    uid = new_uuid()
    stored = c.hash(uid, b"correct horse battery")
    check(stored.startswith("$warden$v=1$k="), "stored %r" % stored)
    check(c.verify(uid, b"correct horse battery", stored) ==
          dict(match=True, rehash=""), "the right password does not match")
    check(not c.verify(uid, b"correct horse batterz", stored)["match"],
          "a wrong password matches")
    c.sign(roles=("admin", "user"), ttl=60)
    h.finish(expect_exit=0)


def totp_code(secret_b32, t):
    """RFC 6238 (SHA-1, 6 digits, 30 s) by the book, independently of
    liboath."""
    import hashlib
    import hmac
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, (int(t) // 30).to_bytes(8, "big"),
                   hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    v = int.from_bytes(mac[off:off + 4], "big") & 0x7FFFFFFF
    return "%06d" % (v % 1000000)


@test(both=True)
def test_totp_and_recovery(env):
    """The second-factor requests under the real sandbox: TOTP secrets
    made and checked against the hasher's own clock (liboath must need no
    system call the filter forbids), replays and another user's blob
    refused; recovery sets and their hashes."""
    h, c = spawn(env)
    c.hello()
    uid, other = new_uuid(), new_uuid()
    s = W.s
    c.send(W.frame("TOTP_NEW", s(uid), 31))
    ans = c.expect("R_TOTP_NEW", 31)
    secret, sealed = ans["secret"], ans["sealed"]
    check(re.fullmatch(r"[A-Z2-7]{32}", secret) is not None,
          "secret %r" % secret)
    check(sealed.startswith("$wtotp$v=1$k="), "sealed %r" % sealed)
    code = totp_code(secret, time.time())
    c.send(W.frame("TOTP_CHECK", s(uid) + s(sealed) + s(code) + W.u32(0), 32))
    ans = c.expect("R_TOTP_CHECK", 32)
    check(ans["match"] and abs(ans["step"] - int(time.time()) // 30) <= 1,
          "a right code: %r" % ans)
    step = ans["step"]
    c.send(W.frame("TOTP_CHECK", s(uid) + s(sealed) + s(code) +
                   W.u32(step), 33))
    check(c.expect("R_TOTP_CHECK", 33) == dict(match=False, step=0),
          "a replayed step was accepted")
    c.send(W.frame("TOTP_CHECK", s(other) + s(sealed) + s(code) + W.u32(0),
                   34))
    c.expect_error(W.ERR_INVALID, 34)
    c.send(W.frame("TOTP_CHECK", s(uid) + s(sealed) + s("12a456") +
                   W.u32(0), 35))
    c.expect_error(W.ERR_INVALID, 35)
    c.send(W.frame("TOTP_NEW", s("not-a-uuid"), 36))
    c.expect_error(W.ERR_INVALID, 36)

    c.send(W.frame("RECOVERY_NEW", s(uid), 41))
    ans = c.expect("R_RECOVERY_NEW", 41)
    codes, hashes = ans["codes"], ans["hashes"]
    check(len(codes) == 10 and len(set(hashes)) == 10 and
          all(re.fullmatch(r"[A-Z2-7]{10}", x) for x in codes) and
          all(re.fullmatch(r"[0-9a-f]{64}", x) for x in hashes),
          "recovery set %r" % ans)
    typed = codes[3][:5].lower() + "-" + codes[3][5:]
    c.send(W.frame("RECOVERY_HASH", s(uid) + s(typed), 42))
    check(c.expect("R_RECOVERY_HASH", 42)["hash"] == hashes[3],
          "a typed code does not hash to its stored hash")
    c.send(W.frame("RECOVERY_HASH", s(other) + s(codes[3]), 43))
    check(c.expect("R_RECOVERY_HASH", 43)["hash"] not in hashes,
          "another user's hash is the same")
    c.send(W.frame("RECOVERY_HASH", s(uid) + s("ABCDE1"), 44))
    c.expect_error(W.ERR_INVALID, 44)
    h.finish(expect_exit=0)


# ------------------------------------------------------------------ tests:
# malformed frames; each must end the connection (spawn mode: exit 1)

UID = "0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7b"
SIGN_OK = W.sign_payload(UID, "alice", ["admin"], 1, 60)
TOKEN_URL = "https://idp.example/oauth2/token"
F = W.frame

# name: (hello first?, bytes, how the connection ends: "closed" when we
# close our side after sending (a truncated frame), reason in the log)
MALFORMED = {
    "TOTP_CHECK over its maximum": (True, F("TOTP_CHECK", bytes(
        W.TOTP_CHECK_MAX + 1)), "out of bounds"),
    "TOTP_CHECK code of 7 digits": (True, F("TOTP_CHECK", W.s(UID) +
        W.s("$wtotp$") + W.s("1234567") + W.u32(0)), "bad payload"),
    "R_TOTP_NEW as a request": (True, F("R_TOTP_NEW", W.s("A" * 32) +
        W.s("x")), "unknown type"),
    "RECOVERY_HASH with a byte left over": (True, F("RECOVERY_HASH",
        W.s(UID) + W.s("ABCDEFGHIJ") + b"\0"), "bad payload"),
    "reserved bits on HELLO": (False, F("HELLO", W.u32(1), reserved=1),
                               "reserved"),
    "reserved bit 15 on PUBKEYS": (True, F("PUBKEYS", b"", reserved=0x8000),
                                   "reserved"),
    "reserved bits on SIGN": (True, F("SIGN", SIGN_OK, reserved=0xffff),
                              "reserved"),
    "length cap + 1, no payload": (False, W.header("HELLO", W.MAX_PAYLOAD + 1),
                                   "cap"),
    "length 2^32 - 1, no payload": (True, W.header("SIGN", 0xffffffff),
                                    "cap"),
    "length 2^31, no payload": (True, W.header("HASH", 0x80000000), "cap"),
    "type 0": (True, F(0x0000, b""), "unknown type"),
    "type 13": (True, F(0x000d, b""), "unknown type"),
    "TOTP_NEW of 0 bytes": (True, F(0x0006, b""), "out of bounds"),
    "type 0x00ff": (True, F(0x00ff, W.u32(1)), "unknown type"),
    "type 0x7fff": (True, F(0x7fff, b""), "unknown type"),
    "type 0x8000": (True, F(0x8000, b""), "unknown type"),
    "type 0xffff": (True, F(0xffff, b""), "unknown type"),
    "R_HELLO as the first frame": (False, F("R_HELLO", W.u32(1)),
                                   "unknown type"),
    "R_HASH as a request": (True, F("R_HASH", W.s("$warden$v=1$k=x$AAAA")),
                            "unknown type"),
    "R_VERIFY as a request": (True, F("R_VERIFY", b"\1" + W.s("")),
                              "unknown type"),
    "R_SIGN as a request": (True, F("R_SIGN", W.s("a.b.c") + W.s(UID) +
                                    W.u32(1)), "unknown type"),
    "R_PUBKEYS as a request": (True, F("R_PUBKEYS", W.u32(0)),
                               "unknown type"),
    "R_ERROR as a request": (True, F("R_ERROR", W.u32(3) + W.s("busy")),
                             "unknown type"),
    "SIGN before HELLO": (False, F("SIGN", SIGN_OK), "before HELLO"),
    "PUBKEYS before HELLO": (False, W.pubkeys_req(), "before HELLO"),
    "HASH before HELLO": (False, W.hash_req(UID, b"pw"), "before HELLO"),
    "HELLO twice": (True, W.hello(), "HELLO repeated"),
    "HELLO of 0 bytes": (False, F("HELLO", b""), "out of bounds"),
    "HELLO of 3 bytes": (False, F("HELLO", b"\0\0\1"), "out of bounds"),
    "HELLO of 5 bytes": (False, F("HELLO", W.u32(1) + b"\0"),
                         "out of bounds"),
    "HELLO of the largest payload": (False, F("HELLO", bytes(W.MAX_PAYLOAD)),
                                     "out of bounds"),
    "header cut at 5 bytes": (False, W.hello()[:5], "closed"),
    "payload cut in half": (True, F("SIGN", SIGN_OK)[:12 + len(SIGN_OK) // 2],
                            "closed"),
    "PUBKEYS with a payload": (True, F("PUBKEYS", b"\0"), "out of bounds"),
    "HASH under its minimum": (True, F("HASH", W.u32(0)), "out of bounds"),
    "HASH over its maximum": (True, F("HASH", W.s(UID) + W.s(bytes(
        W.HASH_MAX - 40 - 4 + 1))), "out of bounds"),
    "HASH of the largest payload": (True, F("HASH", bytes(W.MAX_PAYLOAD)),
                                    "out of bounds"),
    "HASH user id of 37 bytes": (True, F("HASH", W.s(UID + "0") + W.s("pw")),
                                 "bad payload"),
    "HASH password of 1025 bytes": (True, F("HASH", W.s(UID[:-1]) +
                                           W.s(b"p" * 1025)), "bad payload"),
    "HASH string length 2^32 - 1": (True, F("HASH", W.u32(0xffffffff) +
                                           b"x" * 60), "bad payload"),
    "HASH string longer than the payload": (True, F("HASH", W.s(UID) +
                                                   W.u32(200) + b"x" * 10),
                                            "bad payload"),
    "HASH with a byte left over": (True, F("HASH", W.s(UID) + W.s("pw") +
                                          b"\0"), "bad payload"),
    "HASH NUL in the user id": (True, F("HASH", W.s(UID[:5] + "\0" + UID[6:])
                                       + W.s("pw")), "bad payload"),
    "VERIFY stored of 513 bytes": (True, F("VERIFY", W.s(UID) + W.s("pw") +
                                          W.s(b"$" * 513)), "bad payload"),
    "VERIFY without its stored field": (True, F("VERIFY", W.s(UID) +
                                               W.s("password")),
                                        "bad payload"),
    "SIGN under its minimum": (True, F("SIGN", bytes(W.SIGN_MIN - 1)),
                               "out of bounds"),
    "SIGN over its maximum": (True, F("SIGN", bytes(W.SIGN_MAX + 1)),
                              "out of bounds"),
    "SIGN with 33 roles": (True, F("SIGN", W.sign_payload(
        UID, "alice", ["r%d" % i for i in range(33)], 1, 60)), "bad payload"),
    "SIGN role count 2^32 - 1": (True, F("SIGN", W.sign_payload(
        UID, "alice", [], 1, 60, nroles=0xffffffff)), "bad payload"),
    "SIGN role count past the roles": (True, F("SIGN", W.sign_payload(
        UID, "alice", ["admin"], 1, 60, nroles=2)), "bad payload"),
    "SIGN role count short of the roles": (True, F("SIGN", W.sign_payload(
        UID, "alice", ["admin", "ops"], 1, 60, nroles=1)), "bad payload"),
    "SIGN role of 33 bytes": (True, F("SIGN", W.sign_payload(
        UID, "alice", ["a" * 33], 1, 60)), "bad payload"),
    "SIGN username of 33 bytes": (True, F("SIGN", W.sign_payload(
        UID, "a" * 33, ["admin"], 1, 60)), "bad payload"),
    "SIGN NUL in the username": (True, F("SIGN", W.sign_payload(
        UID, "ali\0ce", ["admin"], 1, 60)), "bad payload"),
    "SIGN NUL in a role": (True, F("SIGN", W.sign_payload(
        UID, "alice", ["adm\0in"], 1, 60)), "bad payload"),
    "SIGN sub of 37 bytes": (True, F("SIGN", W.sign_payload(
        UID + "0", "alice", ["admin"], 1, 60)), "bad payload"),
    "SIGN ttl cut off": (True, F("SIGN", SIGN_OK[:-4]), "bad payload"),
    "SIGN_ASSERTION under its minimum": (True, F("SIGN_ASSERTION", bytes(
        W.SIGN_ASSERTION_MIN - 1)), "out of bounds"),
    "SIGN_ASSERTION over its maximum": (True, F("SIGN_ASSERTION", bytes(
        W.SIGN_ASSERTION_MAX + 1)), "out of bounds"),
    "SIGN_ASSERTION alg 3": (True, W.sign_assertion_req(
        "w", TOKEN_URL, alg=3), "bad payload"),
    "SIGN_ASSERTION empty client_id": (True, W.sign_assertion_req(
        "", TOKEN_URL), "bad payload"),
    "SIGN_ASSERTION blank in client_id": (True, W.sign_assertion_req(
        "warden 1", TOKEN_URL), "bad payload"),
    "SIGN_ASSERTION CR LF in aud": (True, W.sign_assertion_req(
        "w", TOKEN_URL + "\r\nmsg=forged"), "bad payload"),
    "SIGN_ASSERTION client_id of 256 bytes": (True, W.sign_assertion_req(
        "c" * 256, TOKEN_URL), "bad payload"),
    "SIGN_ASSERTION with a byte left over": (True, F(
        "SIGN_ASSERTION", b"\1" + W.s("w") + W.s(TOKEN_URL) + b"\0"),
        "bad payload"),
    "random bytes first": (False, bytes.fromhex(
        "9f3a0c77e1d24b58a6f0c3e2917d4b6a") * 4, "cap"),
}


def run_malformed(c, hello_first, data, how):
    if hello_first:
        c.hello()
    try:
        c.send(data)
    except (BrokenPipeError, ConnectionResetError):
        pass	# dropped while we were still writing: fine
    if how == "closed":
        c.sock.shutdown(socket.SHUT_WR)
    c.expect_eof()


def malformed_test(name, hello_first, data, how):
    def fn(env):
        h, c = spawn(env)
        run_malformed(c, hello_first, data, how)
        h.finish(expect_exit=1)
        reason = {"closed": "truncated frame",
                  "reserved": "length over the cap or reserved bits set",
                  "cap": "length over the cap or reserved bits set",
                  "unknown type": "unknown type",
                  "before HELLO": "request before HELLO",
                  "HELLO repeated": "HELLO repeated",
                  "out of bounds": "length out of bounds",
                  "bad payload": "bad payload"}[how]
        check(h.log_has("malformed frame, dropping the connection",
                        reason=reason),
              "no log line for the malformed frame (reason %s)" % reason)
    fn.__name__ = "test_malformed: " + name
    return fn


for _n, (_hf, _d, _how) in MALFORMED.items():
    test(both=_n in ("length 2^32 - 1, no payload", "SIGN with 33 roles"))(
        malformed_test(_n, _hf, _d, _how))


@test()
def test_other_versions(env):
    """HELLO of another version: our R_HELLO, then dropped."""
    for v in (0, 1, W.VERSION + 1, 0x7fffffff, 0xffffffff):
        h, c = spawn(env)
        c.send(W.hello(v))
        ans = c.expect("R_HELLO", 0)
        check(ans["version"] == W.VERSION, "R_HELLO %r" % ans)
        c.expect_eof()
        h.finish(expect_exit=1)
        check(h.log_has("peer speaks protocol version %d, we %d: dropping it"
                        % (v, W.VERSION)), "no log line for version %d" % v)


@test(both=True)
def test_restart_after_abuse(env):
    """A dropped hasher exits 1 and wardend starts a fresh one: same keys,
    same public keys, correct tokens."""
    h, c = spawn(env)
    c.hello()
    first = dict(h.pubkeys)
    c.send(F(0x4242, b"x"))
    c.expect_eof()
    h.finish(expect_exit=1)
    h2, c2 = spawn(env)
    c2.hello()
    check(h2.pubkeys == first, "the restarted hasher publishes other keys")
    c2.sign()
    h2.finish(expect_exit=0)


# ------------------------------------------------------------------ tests:
# well-formed requests with fields that break their rules: R_ERROR
# INVALID, the connection goes on

WEIRD_USERNAMES = [
    "ab", "-alice", ".alice", "_alice", "al ice", 'al"ice', "al\\ice",
    "ali\nce", "alice\x7f", "\u00e5lice", "alice\u202e", "al\u0000",
    '", "roles": ["admin"], "x": "', "${jndi:ldap://x}", "a" * 32,
    "A.b-c_9", "alice%00", "admin", "root", "0" * 3, "\xff\xfe\xfd",
]
WEIRD_ROLES = ["Admin", "", "a b", 'x"y', "admin\n", "\u0430dmin", "a" * 32,
               "a-b_c9", "*", "admin,user"]


@test(both=True)
def test_invalid_fields(env):
    h, c = spawn(env)
    c.hello()
    i = 100
    for uid in ("", "x" * 36, UID.upper(), UID.replace("-", "") + "0000",
                "0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7g", " " + UID[1:]):
        i += 1
        c.send(W.hash_req(uid, b"password", i))
        c.expect_error(W.ERR_INVALID, i)
        i += 1
        c.send(W.verify_req(uid, b"password", "", i))
        c.expect_error(W.ERR_INVALID, i)
        i += 1
        c.send(W.sign_req(uid, "alice", ["admin"], 1, 60, i))
        c.expect_error(W.ERR_INVALID, i)
    for name in WEIRD_USERNAMES:
        raw = name.encode("utf-8", "surrogateescape")
        if len(raw) > W.USERNAME_MAX or b"\0" in raw:
            continue	# a malformed frame: the table above
        i += 1
        c.send(W.frame("SIGN", W.sign_payload(UID, raw, ["user"], 1, 60), i))
        if is_username(name):
            ans = c.expect("R_SIGN", i)
            _, claims = verify_jwt(h, ans)
            check(claims["username"] == name and claims["roles"] == ["user"],
                  "username %r signed as %r" % (name, claims))
        else:
            c.expect_error(W.ERR_INVALID, i)
    for role in WEIRD_ROLES:
        i += 1
        c.send(W.sign_req(UID, "alice", ["user", role], 1, 60, i))
        if is_role(role):
            ans = c.expect("R_SIGN", i)
            _, claims = verify_jwt(h, ans)
            check(claims["roles"] == ["user", role], "roles %r" % claims)
        else:
            c.expect_error(W.ERR_INVALID, i)
    i += 1
    c.send(W.sign_req(UID, "alice", ["admin", "user", "admin"], 1, 60, i))
    c.expect_error(W.ERR_INVALID, i)
    c.sign()	# and the connection still works
    h.finish(expect_exit=0)


@test(both=True)
def test_sign_assertion(env):
    """Client assertions for an upstream provider (RFC 7523): EdDSA
    verified with the PUBKEYS key, RS256 named in the header, the claims
    exactly iss = sub = client_id (quotes and all), aud, jti, iat and exp a
    minute later; a non-URL aud is INVALID; the log names the client, never
    the token."""
    h, c = spawn(env)
    c.hello()
    cid = 'warden"\\idp'
    jtis = set()
    for i, alg in enumerate((W.ALG_EDDSA, W.ALG_RS256, W.ALG_EDDSA)):
        c.send(W.sign_assertion_req(cid, TOKEN_URL, alg, 300 + i))
        jwt = c.expect("R_SIGN_ASSERTION", 300 + i)["jwt"]
        h.jwts.append(jwt)
        parts = jwt.split(".")
        check(len(parts) == 3, "assertion of %d parts" % len(parts))
        hdr = json.loads(b64url_dec(parts[0]))
        claims = json.loads(b64url_dec(parts[1]))
        if alg == W.ALG_EDDSA:
            cur = [k for k, v in h.pubkeys.items() if v["current"]]
            check(hdr == {"alg": "EdDSA", "typ": "JWT", "kid": cur[0]},
                  "header %r" % hdr)
            try:
                Ed25519PublicKey.from_public_bytes(
                    h.pubkeys[cur[0]]["pk"]).verify(
                    b64url_dec(parts[2]),
                    (parts[0] + "." + parts[1]).encode())
            except InvalidSignature:
                raise Failure("assertion does not verify")
        else:
            check(hdr.get("alg") == "RS256" and hdr.get("typ") == "JWT" and
                  set(hdr) == {"alg", "typ", "kid"}, "header %r" % hdr)
        check(list(claims) == ["iss", "sub", "aud", "jti", "iat", "exp"],
              "claims %r" % list(claims))
        check(claims["iss"] == cid and claims["sub"] == cid and
              claims["aud"] == TOKEN_URL, "claims %r" % claims)
        check(claims["exp"] - claims["iat"] == 60, "exp - iat %d"
              % (claims["exp"] - claims["iat"]))
        check(abs(claims["iat"] - time.time()) < 120, "iat is not now")
        check(UUID_RE.match(claims["jti"]) and claims["jti"] not in jtis,
              "jti %r" % claims["jti"])
        jtis.add(claims["jti"])
    for i, aud in enumerate(("ftp://idp.example/token", "idp.example",
                             "https://")):
        c.send(W.sign_assertion_req("w", aud, W.ALG_RS256, 310 + i))
        c.expect_error(W.ERR_INVALID, 310 + i)
    c.sign()	# and the connection still works
    h.finish(expect_exit=0)
    # logfmt as the harness reads it: the escapes stay in the value
    logged = cid.replace("\\", "\\\\").replace('"', '\\"')
    check(h.log_has("signed client assertion", client_id=logged,
                    aud=TOKEN_URL), "no log line for the assertion")


# ------------------------------------------------------------------ tests:
# SIGN with hostile values: the hasher signs what the front asserts, within
# its bounds

@test(both=True)
def test_sign_admin_for_anyone(env):
    """Admin tokens for users that exist nowhere: signed (the hasher knows
    no users), with the hasher's iss, aud, lifetime and a log line each."""
    h, c = spawn(env)
    c.hello()
    subs = [new_uuid() for _ in range(10)] + [
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "00000000-0000-4000-8000-000000000000"]
    for n, sub in enumerate(subs):
        c.sign(sub=sub, username="root", roles=("admin",), ver=n,
               ttl=0xffffffff, id_=1000 + n)
    h.finish(expect_exit=0)
    check(len(h.signed) == len(subs), "%d signatures" % len(h.signed))


@test(both=True)
def test_sign_lifetimes(env):
    """ttl 0 and past access_token_ttl give access_token_ttl; less is
    kept; nothing gives more."""
    h, c = spawn(env)
    c.hello()
    for n, ttl in enumerate((0, 1, 2, TTL - 1, TTL, TTL + 1, 3600, 86401,
                             0x7fffffff, 0x80000000, 0xfffffffe,
                             0xffffffff)):
        c.sign(ttl=ttl, id_=2000 + n)
    h.finish(expect_exit=0)


@test()
def test_sign_lifetime_bounds_of_config(env):
    """The clamp follows access_token_ttl at both ends of its range."""
    for conf_ttl in ("30s", "24h"):
        h, c = spawn(env, access_token_ttl=conf_ttl)
        c.hello()
        for n, ttl in enumerate((0, 29, 31, 86399, 86400, 86401,
                                 0xffffffff)):
            c.sign(ttl=ttl, id_=3000 + n)
        h.finish(expect_exit=0)


@test()
def test_sign_extremes(env):
    """Largest username, 32 roles of 32 bytes, ver at both ends, no
    roles: exact claims, a token within PROTO_JWT_MAX."""
    h, c = spawn(env)
    c.hello()
    roles = tuple(("r%02d" % i) + "x" * 29 for i in range(W.ROLES_MAX))
    c.sign(username="Z" * 32, roles=roles, ver=0xffffffff, ttl=0xffffffff,
           id_=0xffffffff)
    c.sign(username="abc", roles=(), ver=0, ttl=1, id_=0)
    h.finish(expect_exit=0)


@test()
def test_config_claims_win(env):
    """A front cannot choose iss or aud: other configured values show in
    every token, whatever is asked."""
    h, c = spawn(env, issuer="https://other.example/realm",
                 audience="other-aud", client_id="other-client")
    c.hello()
    c.sign(username="iss", roles=("aud",))
    h.finish(expect_exit=0)


# ------------------------------------------------------------------ tests:
# HASH and VERIFY with hostile values

@test(both=True)
def test_hash_extremes(env):
    h, c = spawn(env)
    c.hello()
    uid, other = new_uuid(), new_uuid()
    big = bytes((i * 7 + 1) % 256 for i in range(W.PASSWORD_MAX - 3)) + \
        b"\0\xff\0"
    stored = c.hash(uid, big, id_=1)
    check(c.verify(uid, big, stored, id_=2)["match"],
          "the largest password does not verify")
    check(not c.verify(uid, big[:-1], stored, id_=3)["match"],
          "a prefix of it matches")
    check(not c.verify(uid, big[:-1] + b"\1", stored, id_=4)["match"],
          "a changed last byte matches")
    check(not c.verify(other, big, stored, id_=5)["match"],
          "a hash copied onto another user matches")
    empty = c.hash(uid, b"", id_=6)
    check(c.verify(uid, b"", empty, id_=7)["match"], "empty does not verify")
    check(not c.verify(uid, b"\0", empty, id_=8)["match"], "NUL matches empty")
    check(not c.verify(uid, big, "", id_=9)["match"], "dummy verify matched")
    h.finish(expect_exit=0)


def bad_stored(kid):
    a = "$argon2id$v=19$m=%s,t=%s,p=%s$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43
    return [
        "x", "$", "$warden$", "$warden$v=1$k=", "$warden$v=1$k=$",
        "$warden$v=1$k=nosuchkey$AAAA", "$warden$v=1$k=%s$" % kid,
        "$warden$v=1$k=%s$%s" % (kid, "A" * 40),
        "$warden$v=1$k=%s$%s" % (kid, "!" * 100),
        "$warden$v=1$k=%s$%s" % (kid, "A" * (W.STORED_MAX - 15 - len(kid))),
        "$warden$v=1$k=%s" % ("k" * 400), "$warden$v=2$k=%s$AAAA" % kid,
        "A" * W.STORED_MAX, "\xff" * 100,
        "$argon2id$", a % (4294967295, 1, 1), a % (262145, 1, 1),
        a % (64, 4294967295, 1), a % (64, 17, 1), a % (64, 1, 255),
        a % (64, 0, 1), a % (64, 1, 0), a % ("-1", 1, 1),
        a % ("00000000064", 1, 1), a % ("64 ", 1, 1),
        "$argon2i$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43,
        "$argon2id$v=16$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43,
        "$2b$", "$2b$31$" + "A" * 53, "$2b$17$" + "A" * 53,
        "$2y$99$" + "A" * 53, "$2a$03$" + "A" * 53, "$2b$04$" + "A" * 54,
        "$2b$04$" + "\xff" * 53, "$2x$04$" + "A" * 53,
        "$1$salt$hash", "$6$salt$" + "A" * 86, "$5$rounds=999999999$s$h",
    ]


@test(both=True)
def test_verify_bad_stored(env):
    """Hostile stored hashes (a database attacker writes these too): each
    a quick no, never a hang, an oversized allocation or a crash."""
    h, c = spawn(env)
    c.hello()
    kid = [n[7:-4] for n in os.listdir(env.keys.dir)
           if n.startswith("pepper-")][0]
    uid = new_uuid()
    for n, stored in enumerate(bad_stored(kid)):
        raw = stored.encode("latin-1")
        if len(raw) > W.STORED_MAX:
            raw = raw[:W.STORED_MAX]
        t0 = time.monotonic()
        ans = c.verify(uid, b"password", raw, id_=5000 + n)
        took = time.monotonic() - t0
        check(ans == dict(match=False, rehash=""),
              "stored %r answered %r" % (stored[:40], ans))
        check(took < 10, "stored %r took %.1f s" % (stored[:40], took))
    c.sign()
    h.finish(expect_exit=0)


# ------------------------------------------------------------------ tests:
# floods

def pipeline(c, reqs, read_n=None):
    """Writes reqs from a thread while reading the answers here; returns
    {id: (type, answer)} and fails on a repeated or missing id."""
    err = []

    def writer():
        try:
            for r in reqs:
                c.send(r)
        except OSError as e:
            err.append(e)
    t = threading.Thread(target=writer)
    t.start()
    got = {}
    for _ in range(read_n if read_n is not None else len(reqs)):
        f = c.frame()
        check(f is not None, "EOF after %d answers" % len(got))
        check(f[1] not in got, "id %d answered twice" % f[1])
        got[f[1]] = (f[0], f[2])
    t.join()
    check(not err, "writing: %s" % (err and err[0]))
    return got


@test(both=True)
def test_flood_pipelined_signs(env):
    """3000 SIGN and PUBKEYS pipelined on one connection: each answered
    once, with its id, each token checked and logged."""
    h, c = spawn(env)
    c.hello()
    reqs, n = [], 3000
    for i in range(1, n + 1):
        if i % 10 == 0:
            reqs.append(W.pubkeys_req(i))
        else:
            reqs.append(W.sign_req(new_uuid(), "user%d" % i, ["admin"], i,
                                   i * 7919, i))
    got = pipeline(c, reqs)
    check(sorted(got) == list(range(1, n + 1)), "ids missing")
    for i, (t, ans) in got.items():
        check(W.NAME[t] == ("R_PUBKEYS" if i % 10 == 0 else "R_SIGN"),
              "id %d answered %s" % (i, W.NAME[t]))
    h.finish(expect_exit=0)
    check(len(h.signed) == n - n // 10, "%d signatures" % len(h.signed))


@test()
def test_flood_hashes_busy(env):
    """200 HASH pipelined at a queue of 5: BUSY for what does not fit,
    every id answered once; SIGN is not held up behind the hashing; the
    connection serves afterwards."""
    h, c = spawn(env, hasher_workers=1, hasher_queue=1, argon2_memory="4M")
    c.hello()
    n = 200
    reqs = [W.hash_req(new_uuid(), b"flood password %d" % i, i)
            for i in range(1, n + 1)]
    reqs.append(W.sign_req(UID, "alice", ["admin"], 1, 60, n + 1))
    got = pipeline(c, reqs)
    busy = [i for i, (t, a) in got.items()
            if W.NAME[t] == "R_ERROR" and a["code"] == W.ERR_BUSY]
    hashed = [i for i, (t, a) in got.items() if W.NAME[t] == "R_HASH"]
    check(len(busy) + len(hashed) == n, "answers: %r" %
          sorted({W.NAME[t] for t, _ in got.values()}))
    check(busy, "a queue of 5 took 200 hashes")
    check(W.NAME[got[n + 1][0]] == "R_SIGN", "SIGN answered %r" % (got[n + 1],))
    uid = new_uuid()
    check(c.verify(uid, b"after", c.hash(uid, b"after", id_=n + 2),
                   id_=n + 3)["match"], "no service after the flood")
    h.finish(expect_exit=0)


@test()
def test_slow_writer(env):
    """A SIGN written one byte at a time is served; a front is not dropped
    for being slow to send."""
    h, c = spawn(env)
    c.hello()
    req = W.sign_req(UID, "alice", ["admin"], 1, 60, 77)
    for b in req:
        c.send(bytes([b]))
        time.sleep(0.01)
    ans = c.expect("R_SIGN", 77)
    check(verify_jwt(h, ans)[1]["sub"] == UID, "sub")
    h.finish(expect_exit=0)


def drain(c):
    """Reads, and so checks, every whole answer left before EOF; a front
    dropped mid-answer may hold the start of one more."""
    while True:
        try:
            if c.frame() is None:
                return
        except Failure as e:
            if "EOF inside" in str(e):
                return
            raise


def stall(c, n=20000):
    """Pipelines SIGNs and reads nothing; returns the writer thread."""
    def writer():
        try:
            for i in range(n):
                c.send(W.sign_req(UID, "staller", ["admin"], 1, 60, i),
                       timeout=3 * SEND_TIMEOUT + TIMEOUT)
        except OSError:
            pass	# dropped
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    return t


@test()
def test_slow_reader(env):
    """A front that stops reading is dropped after the send timeout; what
    reached it is valid and every signature it got is logged."""
    h, c = spawn(env)
    c.hello()
    t0 = time.monotonic()
    t = stall(c)
    time.sleep(SEND_TIMEOUT + 1)
    rc = h.wait_exit(TIMEOUT)
    check(rc == 1, "exit %d" % rc)
    check(time.monotonic() - t0 < SEND_TIMEOUT + TIMEOUT, "too slow a drop")
    t.join(TIMEOUT)
    drain(c)
    h.finish(expect_exit=1)
    check(h.log_has("front took no answer for 5000 ms: dropping it"),
          "no log line for the stalled front")
    check(h.signed, "nothing signed before the stall")


# ------------------------------------------------------------------ tests:
# split mode: one hasher, many connections

@test(both=True)
def test_split_abuse_then_serve(env):
    """Every malformed frame of the table, each on a fresh connection of
    one split-mode hasher: each connection is dropped and a steady one
    keeps getting correct tokens in between."""
    h = Hasher(env, split=True)
    h.start()
    good = h.connect()
    for n, (name, (hf, data, how)) in enumerate(MALFORMED.items()):
        bad = h.connect(hello=False)
        try:
            run_malformed(bad, hf, data, how)
        except Failure as e:
            raise Failure("%s: %s" % (name, e))
        bad.close()
        good.sign(id_=n)
    check(h.proc.poll() is None, "died")
    h.connect().sign()
    h.finish()


@test()
def test_split_connection_flood(env):
    """More connections than SERVER_MAX_CONNS: the extra ones are closed,
    the first ones served, and slots come back when they close."""
    h = Hasher(env, split=True)
    h.start()
    conns = [h.connect(hello=False) for _ in range(2 * MAX_CONNS)]
    time.sleep(0.5)
    served = 0
    for c in conns:
        try:
            c.send(W.hello())
            f = c.frame()
        except (BrokenPipeError, ConnectionResetError):
            f = None
        if f is not None:
            check(W.NAME[f[0]] == "R_HELLO", "answer %r" % (f,))
            served += 1
    check(served == MAX_CONNS, "%d connections served, not %d"
          % (served, MAX_CONNS))
    check(h.log_has("already %d connections: refused one" % MAX_CONNS),
          "no log line for the refused connections")
    for c in conns:
        c.close()
    time.sleep(0.5)
    again = [h.connect() for _ in range(MAX_CONNS)]
    for n, c in enumerate(again):
        c.sign(id_=n)
    h.finish()


@test()
def test_split_churn_with_work_in_flight(env):
    """Connections that queue hashes and vanish: their descriptors come
    back (at worst after the EMFILE pause), and a full set of
    connections is served afterwards."""
    h = Hasher(env, split=True, hasher_workers=1, argon2_memory="1M")
    h.start()
    for i in range(60):
        c = h.connect()
        c.send(b"".join(W.hash_req(new_uuid(), b"churn password", j)
                        for j in range(4)))
        c.close()
    conns = [h.connect() for _ in range(MAX_CONNS)]
    for n, c in enumerate(conns):
        c.sign(id_=n)
    h.finish()


@test()
def test_split_slowloris(env):
    """A frame dribbled one byte at a time on one connection, and every
    slot but one held by connections that sent half a header, do not
    delay another connection."""
    h = Hasher(env, split=True)
    h.start()
    good = h.connect()
    holders = []
    for _ in range(MAX_CONNS - 2):
        c = h.connect()
        c.send(W.hello()[:6])	# half of a second HELLO's header
        holders.append(c)
    slow = h.connect()
    req = W.sign_req(UID, "slowpoke", ["admin"], 1, 60, 5)
    stop = threading.Event()

    def dribble():
        for b in req:
            if stop.is_set():
                return
            slow.send(bytes([b]))
            time.sleep(0.05)
    t = threading.Thread(target=dribble, daemon=True)
    t.start()
    worst = 0.0
    for n in range(20):
        t0 = time.monotonic()
        good.sign(id_=n)
        worst = max(worst, time.monotonic() - t0)
    t.join(TIMEOUT)
    check(slow.expect("R_SIGN", 5), "slow SIGN")
    check(worst < 3.0, "a SIGN took %.2f s beside the slow writers" % worst)
    h.finish()


@test()
def test_split_slow_reader(env):
    """A connection that stops reading stalls the I/O thread at most the
    send timeout, is then dropped, and the others carry on."""
    h = Hasher(env, split=True)
    h.start()
    good = h.connect()
    bad = h.connect()
    stall(bad)
    time.sleep(1)
    t0 = time.monotonic()
    good.sign(id_=1)
    took = time.monotonic() - t0
    check(took < SEND_TIMEOUT + 5, "a SIGN waited %.1f s behind a front "
          "that reads nothing" % took)
    deadline = time.monotonic() + SEND_TIMEOUT + TIMEOUT
    while not h.log_has("front took no answer for 5000 ms: dropping it"):
        check(time.monotonic() < deadline, "the stalled front not dropped")
        time.sleep(0.2)
    good.sign(id_=2)
    drain(bad)
    h.finish()


# ------------------------------------------------------------------ tests:
# the audit trail under each logging configuration

@test()
def test_signatures_logged_logfmt(env):
    h, c = spawn(env, log_format="logfmt")
    c.hello()
    for n in range(5):
        c.sign(id_=n)
    h.finish(expect_exit=0)


@test()
def test_signatures_logged_at_warn(env):
    """log_level warn (or error) quiets the hasher, not its audit trail:
    every signature is still logged."""
    for level in ("warn", "error"):
        h, c = spawn(env, log_level=level)
        c.hello()
        for n in range(3):
            c.sign(id_=n)
        h.finish(expect_exit=0)


# ------------------------------------------------------------------ main

def main():
    if not os.access(HASHER, os.X_OK):
        print("hostile-front: %s is not built" % HASHER, file=sys.stderr)
        return 2
    only = os.environ.get("HOSTILE_ONLY", "")
    base = tempfile.mkdtemp(prefix="warden-hostile-")
    os.chmod(base, 0o755)
    passes = [True, False] if os.geteuid() == 0 else [False]
    passed = failed = 0
    try:
        for privileged in passes:
            env = Env(base, privileged)
            for name, fn, both in TESTS:
                if only and only not in name:
                    continue
                if not both and privileged != passes[0]:
                    continue
                label = "%s [%s]" % (name, env.name)
                t0 = time.monotonic()
                try:
                    fn(env)
                except Exception as e:	# a failure, whatever its kind
                    failed += 1
                    print("FAIL %s: %s" % (label, e), flush=True)
                    if not isinstance(e, Failure):
                        traceback.print_exc(file=sys.stdout)
                else:
                    passed += 1
                    print("ok   %s (%.1f s)" % (label, time.monotonic() - t0),
                          flush=True)
                finally:
                    kill_leftovers()
            env.cleanup()
    finally:
        if failed and os.environ.get("HOSTILE_KEEP"):
            print("kept " + base)
        else:
            shutil.rmtree(base, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def kill_leftovers():
    """Hashers a failed test left running: ours, by pid."""
    for h in LIVE:
        if h.proc is not None and h.proc.poll() is None:
            h.proc.kill()
            h.proc.wait()
        for c in h.conns:
            c.close()
    LIVE.clear()

if __name__ == "__main__":
    sys.exit(main())
