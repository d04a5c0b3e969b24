"""Helpers of the integration tests: the daemon under test, an HTTP client
(stdlib http.client only), and the session's registry of secrets.

Every response the client receives is recorded, and every password, refresh
token and log file the tests see is registered, so that the last module
(test_zz_secrets.py) can check that no secret ever leaked into a response
or a log line.
"""

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import pwd
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid

ISSUER = "http://warden.test"
AUDIENCE = "warden-tests"
ACCESS_TTL = 900
REFRESH_GRACE = 4.0          # seconds, refresh_grace in the config: room for a slow run
LOGIN_MAX_FAILURES = 3
LOGIN_LOCKOUT_MAX = 4.0      # seconds, login_lockout_max
BLOCKLIST = "/usr/share/john/password.lst"

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
REQID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
B64URL_RE = re.compile(r"^[A-Za-z0-9_-]+$")

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
PROBLEM = "application/problem+json"


def repo_top():
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def build_dir():
    b = os.environ.get("BUILD", "build/release")
    return b if os.path.isabs(b) else os.path.join(repo_top(), b)


def binary(name):
    return os.path.join(build_dir(), name)


def uniq(prefix="u"):
    """A unique, valid username (<= 32 chars)."""
    return "%s%s" % (prefix, uuid.uuid4().hex[:12])


def strong_password():
    """A password that breaks no rule and is registered as a secret."""
    pw = "Pw-" + uuid.uuid4().hex + "-x"
    SECRETS.add_password(pw)
    return pw


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token):
    h, p, _ = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p))


# ---------------------------------------------------------------------------
# The registry of secrets and captured traffic.

class Registry:
    def __init__(self):
        self.lock = threading.Lock()
        self.passwords = set()
        self.link_tokens = set()   # of mailed links: passwords too, but the
                                   # link's own page carries its token
                                   # back in a hidden field
        self.refresh_tokens = {}   # token -> index of the response that issued it
        self.device_tokens = set()  # handed out with logins (and back)
        self.issued = {}           # secret -> index of the one response that
                                   # may hold it (TOTP secrets, recovery
                                   # codes, mfa tokens)
        self.responses = []        # Resp objects, in order
        self.logs = []             # paths of daemon logs
        self.tool_outputs = []     # text printed by wardenctl / hasher --keygen

    def add_password(self, pw):
        with self.lock:
            self.passwords.add(pw)

    def add_link_token(self, token):
        with self.lock:
            self.passwords.add(token)
            self.link_tokens.add(token)

    def add_response(self, resp):
        with self.lock:
            resp.index = len(self.responses)
            self.responses.append(resp)
        return resp.index

    def add_refresh(self, token, index):
        with self.lock:
            self.refresh_tokens.setdefault(token, index)

    def add_issued(self, secret, index):
        with self.lock:
            self.issued.setdefault(secret, index)

    def add_device(self, token):
        with self.lock:
            self.device_tokens.add(token)


SECRETS = Registry()


# ---------------------------------------------------------------------------
# HTTP

class Resp:
    def __init__(self, method, path, status, reason, headers, body):
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        self.headers = headers          # http.client.HTTPMessage
        self.body = body
        self.index = None

    def header(self, name):
        return self.headers.get(name)

    def header_all(self, name):
        return self.headers.get_all(name) or []

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def raw_headers_text(self):
        return "\n".join("%s: %s" % (k, v) for k, v in self.headers.items())

    def __repr__(self):
        b = self.body[:300]
        return "<%s %s -> %d %s %r>" % (self.method, self.path, self.status,
                                        dict(self.headers.items()), b)


class Client:
    def __init__(self, host, port):
        self.host = host
        self.port = port

    def request(self, method, path, body=None, headers=None, token=None,
                json_body=None, form=None, content_type=None, timeout=30):
        hdrs = {}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs["Content-Type"] = JSON
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = FORM
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        if headers:
            hdrs.update(headers)
        if isinstance(body, str):
            body = body.encode()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            try:
                conn.request(method, path, body=body, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                # The server may answer (413) and close before reading it all.
                pass
            r = conn.getresponse()
            data = r.read()
            resp = Resp(method, path, r.status, r.reason, r.headers, data)
        finally:
            conn.close()
        idx = SECRETS.add_response(resp)
        if (path.split("?")[0] == "/api/v1/auth/token" and resp.status == 200
                and resp.content_type == JSON):
            try:
                b = resp.json()
            except ValueError:
                b = {}
            rt = b.get("refresh_token")
            if isinstance(rt, str) and rt:
                SECRETS.add_refresh(rt, idx)
            dt = b.get("device_token")
            if isinstance(dt, str) and dt:
                SECRETS.add_device(dt)
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def hash_queue_depth(self):
        """Hash and verify requests outstanding at the hasher, by the
        daemon's own count (/metrics): how a test knows that requests it
        sent are in flight, without guessing with a sleep."""
        r = self.get("/metrics")
        assert r.status == 200, r
        for line in r.body.decode().splitlines():
            if line.startswith('warden_hasher_queue_depth{kind="hash"} '):
                return int(line.split()[-1])
        raise AssertionError("no hash queue depth in /metrics")

    def metric(self, name, default=None):
        """The value of one sample of /metrics, by its name and labels
        ('warden_x_total{result="hit"}'); default when there is no such
        sample (None: that fails)."""
        r = self.get("/metrics")
        assert r.status == 200, r
        for line in r.body.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        assert default is not None, "no %s in /metrics" % name
        return default

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # --- domain helpers -------------------------------------------------

    def register_raw(self, username, email, password, full_name=None, **extra):
        body = {"username": username, "email": email, "password": password}
        if full_name is not None:
            body["full_name"] = full_name
        body.update(extra)
        return self.post("/api/v1/users", json_body=body)

    def token(self, form, as_json=False, headers=None):
        if as_json:
            return self.post("/api/v1/auth/token", json_body=form, headers=headers)
        return self.post("/api/v1/auth/token", form=form, headers=headers)

    def login_raw(self, username, password, headers=None):
        return self.token({"grant_type": "password", "username": username,
                           "password": password}, headers=headers)

    def refresh_raw(self, refresh_token):
        return self.token({"grant_type": "refresh_token",
                           "refresh_token": refresh_token})

    def login(self, username, password):
        r = self.login_raw(username, password)
        assert r.status == 200, r
        return r.json()

    def new_user(self, prefix="u", full_name=None, login=True):
        """Registers (and logs in) a fresh user."""
        username = uniq(prefix)
        email = "%s@example.test" % username
        pw = strong_password()
        r = self.register_raw(username, email, pw, full_name=full_name)
        assert r.status == 201, r
        u = User(self, r.json(), pw)
        if login:
            u.login()
        return u


class User:
    def __init__(self, client, obj, password):
        self.c = client
        self.obj = obj
        self.id = obj["id"]
        self.username = obj["username"]
        self.email = obj["email"]
        self.password = password
        self.access = None
        self.refresh = None

    def login(self):
        t = self.c.login(self.username, self.password)
        self.access = t["access_token"]
        self.refresh = t["refresh_token"]
        return t

    def me(self):
        return self.c.get("/api/v1/users/me", token=self.access)


# ---------------------------------------------------------------------------
# Token forging, to probe the verifier.

def load_signing_key(key_dir):
    """(kid, Ed25519PrivateKey) of the current signing key in key_dir
    (hasher/keys.h: `current` names it; sign-<kid>.key is the 64-byte
    libsodium secret key, seed || public key)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    kid = None
    with open(os.path.join(key_dir, "current")) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[0] == "sign":
                kid = parts[1]
    assert kid, "no current signing key in %s" % key_dir
    with open(os.path.join(key_dir, "sign-%s.key" % kid), "rb") as f:
        sk = f.read()
    assert len(sk) == 64, "sign-%s.key is %d bytes, want 64" % (kid, len(sk))
    return kid, Ed25519PrivateKey.from_private_bytes(sk[:32])


def forge(header, claims, private_key=None, alg_sig=None):
    """A compact JWS with the given header and claims, signed with an
    Ed25519 private key, or with alg_sig(signing_input) -> bytes, or
    unsigned (empty signature) when neither is given."""
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    if private_key is not None:
        sig = private_key.sign(signing_input.encode())
    elif alg_sig is not None:
        sig = alg_sig(signing_input.encode())
    else:
        sig = b""
    return signing_input + "." + b64url(sig)


def hs256(secret):
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


# ---------------------------------------------------------------------------
# The daemon.

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def database_url():
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is unset: run tests/integration/run "
                           "(it starts a throwaway PostgreSQL)")
    return url


def pg_socket_owner(url):
    """The user owning the PostgreSQL socket directory of url (the host=
    parameter of a pgtmp URL), or None."""
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    host = (q.get("host") or [None])[0]
    if not host or not host.startswith("/"):
        return None
    return pwd.getpwuid(os.stat(host).st_uid).pw_name


def at_once(n, fn, timeout=120):
    """fn(i) for i in 0..n-1 on n threads let go together (a barrier):
    the list of what each returned, or the exception it raised."""
    import threading
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - the caller judges it
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results


def psql(sql):
    out = subprocess.run(["/usr/bin/psql", database_url(), "-X", "-At", "-v",
                          "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError("psql failed: %s" % out.stderr)
    return [line for line in out.stdout.split("\n") if line != ""]


@contextlib.contextmanager
def listeners_paused():
    """Pauses (SIGSTOP) the PostgreSQL backend of every wardend's LISTEN
    connection, so that no notification reaches any wardend until the block
    ends: what a host must know of its own writes is then proved without a
    race against the notification.  Skips unless the database is a local
    one of this machine (reached over a Unix socket, its backends
    postgres processes we may signal)."""
    import pytest
    rows = psql("SELECT pid FROM pg_stat_activity WHERE application_name = "
                "'wardend-listen' AND inet_server_addr() IS NULL")
    pids = [int(p) for p in rows]
    if not pids:
        pytest.skip("no local PostgreSQL backend to pause")
    stopped = []
    try:
        for pid in pids:
            try:
                with open("/proc/%d/comm" % pid) as f:
                    if not f.read().startswith("postgres"):
                        pytest.skip("pid %d is not a local postgres" % pid)
                os.kill(pid, signal.SIGSTOP)
            except (OSError, PermissionError) as e:
                pytest.skip("cannot pause PostgreSQL's backend: %s" % e)
            stopped.append(pid)
        yield
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)


def log_tail(path, n=60):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError as e:
        return "(no log: %s)" % e
    return "\n".join(lines[-n:])


class Daemon:
    """One wardend, run in the foreground with its stderr in a log file."""

    DEFAULTS = {
        "argon2_memory": "1M",
        "argon2_iterations": "1",
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "access_token_ttl": "15m",
        "refresh_grace": "%ds" % REFRESH_GRACE,
        "login_max_failures": str(LOGIN_MAX_FAILURES),
        "login_lockout_max": "%ds" % LOGIN_LOCKOUT_MAX,
        "addr_login_limit": "100000",
        "addr_login_window": "1m",
        "addr_register_limit": "100000",
        "email_change_limit": "100000",
        "addr_reset_limit": "100000",
        # The templates of the tree (make install puts them in /etc).
        "mail_template_dir": os.path.join(repo_top(), "etc", "mail"),
        "ui_dir": os.path.join(repo_top(), "etc", "ui"),
        "password_blocklist": BLOCKLIST,
        "log_level": "info",
    }

    def __init__(self, workdir, name="main", key_dir=None, **overrides):
        self.name = name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.key_dir = key_dir or make_keys(os.path.join(workdir, "keys"))
        self.port = free_port()
        self.host = "127.0.0.1"
        self.conf = os.path.join(self.dir, "warden.conf")
        self.log = os.path.join(self.dir, "wardend.log")
        self.proc = None
        settings = dict(self.DEFAULTS)
        settings.update({
            "listen": "%s:%d" % (self.host, self.port),
            "database_url": database_url(),
            "key_dir": self.key_dir,
            "hasher_path": binary("warden-hasher"),
        })
        if os.geteuid() == 0:
            chroot = os.path.join(workdir, "empty")
            os.makedirs(chroot, exist_ok=True)
            os.chmod(chroot, 0o755)
            settings["hasher_chroot"] = chroot
            settings["hasher_user"] = "nobody"
            settings["user"] = pg_socket_owner(database_url()) or "nobody"
        settings.update({k: v for k, v in overrides.items() if v is not None})
        # "{base}" in a value stands for this daemon's own URL, known only
        # now that the port is chosen (issuer, public_url).
        self.base = "http://%s:%d" % (self.host, self.port)
        settings = {k: v.replace("{base}", self.base) if isinstance(v, str) else v
                    for k, v in settings.items()}
        self.settings = settings
        with open(self.conf, "w") as f:
            f.write("# written by tests/integration\n")
            for k, v in settings.items():
                vals = v if isinstance(v, list) else [v]
                for one in vals:
                    s = str(one)
                    if s == "" or any(c.isspace() for c in s):
                        s = '"%s"' % s
                    f.write("%s %s\n" % (k, s))
        SECRETS.logs.append(self.log)
        self.client = Client(self.host, self.port)

    def _spawn(self):
        exe = binary("wardend")
        if not os.access(exe, os.X_OK):
            raise RuntimeError("%s is not built (make %s)" % (exe, exe))
        env = {k: v for k, v in os.environ.items() if not k.startswith("WARDEN_")}
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([exe, "-f", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=logf, env=env,
                                     cwd="/", start_new_session=True)
        logf.close()

    def start(self, timeout=30.0):
        self._spawn()
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("wardend (%s) exited with %d during start-up; log:\n%s"
                                   % (self.name, self.proc.returncode, log_tail(self.log)))
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
                # Connection: close, so that the probe's connection is
                # gone when start() returns (a test may count them).
                conn.request("GET", "/readyz", headers={"Connection": "close"})
                r = conn.getresponse()
                r.read()
                conn.close()
                last = r.status
                if r.status == 200:
                    return self
            except OSError as e:
                last = e
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("wardend (%s) not ready within %.0f s (last: %r); log:\n%s"
                           % (self.name, timeout, last, log_tail(self.log)))

    def start_serving(self, timeout=30.0):
        """Starts it and returns once /healthz answers: serving, whether or
        not /readyz would say ready."""
        self._spawn()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("wardend (%s) exited with %d during start-up; log:\n%s"
                                   % (self.name, self.proc.returncode, log_tail(self.log)))
            try:
                if self.client.get("/healthz").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("wardend (%s) not serving within %.0f s; log:\n%s"
                           % (self.name, timeout, log_tail(self.log)))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM; returns the exit status (None when it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def wardenctl(self, *args, stdin=None, timeout=60):
        exe = binary("wardenctl")
        if not os.access(exe, os.X_OK):
            raise RuntimeError("%s is not built" % exe)
        env = {k: v for k, v in os.environ.items() if not k.startswith("WARDEN_")}
        out = subprocess.run([exe, "-f", self.conf] + list(args), input=stdin,
                             capture_output=True, text=True, timeout=timeout, env=env)
        SECRETS.tool_outputs.append(out.stdout + out.stderr)
        return out


def start_session(workdir, name, **settings):
    """A suite's own wardend, with keys of its own; a failed start fails
    the test with the log.  Stop it with stop_own()."""
    import pytest
    try:
        d = Daemon(workdir, name, **settings)
        d.start(timeout=30)
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    return d


def create_admin(daemon):
    """An admin created by `wardenctl create-admin`, logged in: a User
    with .access and .refresh."""
    import pytest
    username = uniq("admin")
    pw = strong_password()
    out = daemon.wardenctl("create-admin", username, "%s@example.test" % username,
                           stdin="%s\n%s\n" % (pw, pw))
    if out.returncode != 0:
        pytest.fail("wardenctl create-admin failed (%d):\n%s%s"
                    % (out.returncode, out.stdout, out.stderr), pytrace=False)
    c = daemon.client
    t = c.login(username, pw)
    me = c.get("/api/v1/users/me", token=t["access_token"])
    assert me.status == 200, me
    u = User(c, me.json(), pw)
    u.access = t["access_token"]
    u.refresh = t["refresh_token"]
    assert "admin" in u.obj["roles"], u.obj
    return u


def start_own(workdir, daemon, name, **settings):
    """A wardend of a module's own, on the session's database and keys,
    with settings over the defaults; a failed start fails the test."""
    import pytest
    try:
        d = Daemon(workdir, name, key_dir=daemon.key_dir, **settings)
        d.start(timeout=30)
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    return d


def stop_own(d):
    """Stops a start_own() wardend and checks it lived and exited 0."""
    alive = d.alive()
    status = d.stop(timeout=10)
    assert alive and status == 0, "%s wardend: alive=%r exit=%r; log:\n%s" % (
        d.name, alive, status, log_tail(d.log))


def make_keys(key_dir):
    if os.path.exists(os.path.join(key_dir, "current")):
        return key_dir
    exe = binary("warden-hasher")
    if not os.access(exe, os.X_OK):
        raise RuntimeError("%s is not built" % exe)
    out = subprocess.run([exe, "--keygen", key_dir], capture_output=True, text=True,
                         timeout=60)
    SECRETS.tool_outputs.append(out.stdout + out.stderr)
    if out.returncode != 0:
        raise RuntimeError("warden-hasher --keygen failed (%d): %s"
                           % (out.returncode, out.stderr))
    return key_dir


def new_workdir():
    d = tempfile.mkdtemp(prefix="warden-it.")
    os.chmod(d, 0o755)   # the hasher's chroot lives below, root-owned
    return d


def artifacts_dir(workdir, test_name):
    """A folder for what a test leaves to be looked at (screenshots, page
    sources): WORKDIR/artifacts/TEST_NAME, kept with the workdir when a
    test of the session failed."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", test_name).strip("_")[:120] or "test"
    d = os.path.join(workdir, "artifacts", safe)
    os.makedirs(d, exist_ok=True)
    return d


# ---------------------------------------------------------------------------
# Assertions shared by the test modules.

def assert_problem(r, status, name):
    """r is an RFC 9457 problem of type urn:warden:problem:NAME."""
    assert r.status == status, r
    assert r.content_type == PROBLEM, r
    p = r.json()
    assert isinstance(p, dict), r
    assert p.get("type") == "urn:warden:problem:" + name, r
    assert isinstance(p.get("title"), str) and p["title"], r
    assert p.get("status") == status, r
    assert isinstance(p.get("detail"), str), r
    return p


def assert_validation(r, field=None):
    p = assert_problem(r, 422, "validation")
    if field is not None:
        errs = p.get("errors")
        assert isinstance(errs, list) and errs, r
        fields = [e.get("field") for e in errs if isinstance(e, dict)]
        assert field in fields, "want an error on %r: %r" % (field, r)
        for e in errs:
            assert isinstance(e.get("message"), str) and e["message"], r
    return p


def assert_oauth_error(r, error, status=400):
    assert r.status == status, r
    assert r.content_type == JSON, r
    b = r.json()
    assert b.get("error") == error, r
    assert set(b) <= {"error", "error_description", "error_uri"}, r
    return b


def assert_user_object(obj):
    assert isinstance(obj, dict), obj
    for k in ("id", "username", "email", "full_name", "roles", "is_active",
              "created_at", "updated_at"):
        assert k in obj, "user object lacks %r: %r" % (k, obj)
    assert UUID_RE.match(obj["id"]), obj
    assert isinstance(obj["roles"], list), obj
    assert isinstance(obj["is_active"], bool), obj
    assert TS_RE.match(obj["created_at"]) and TS_RE.match(obj["updated_at"]), obj
    for k in obj:
        lk = k.lower()
        assert "password" not in lk and "hash" not in lk and "token" not in lk, obj
