"""What the fault cases share: a PostgreSQL cluster of the suite's own on a
tmpfs (so that it can be restarted, slowed and filled up), the mixed load
of registrations, logins, refreshes and reads whose every answer is logged,
and the check of that log against the database.

The daemon, the HTTP client and psql are tests/integration/wardenlib.py's.
Runs as root: it mounts a tmpfs, and PostgreSQL runs as `postgres`.
"""

import hashlib
import json
import os
import pwd
import random
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import wardenlib as W  # noqa: E402

PGTMP = os.path.join(W.repo_top(), "scripts", "pgtmp")
HTTP_TIMEOUT = 30.0     # a request unanswered this long is a hang


def mono():
    return time.monotonic()


def pg_bindir():
    best = None
    for v in os.listdir("/usr/lib/postgresql"):
        d = "/usr/lib/postgresql/%s/bin" % v
        if v.isdigit() and os.access(d + "/pg_ctl", os.X_OK):
            if best is None or int(v) > best[0]:
                best = (int(v), d)
    if best is None:
        raise RuntimeError("no PostgreSQL server in /usr/lib/postgresql")
    return best[1]


def pct(values, p):
    """The p-th percentile (nearest rank) of values, or 0."""
    if not values:
        return 0.0
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def rt_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------------------
# The cluster.

class Cluster:
    """A durable pgtmp cluster (fsync and synchronous_commit on: an
    immediate restart must not lose what was acknowledged) whose data
    directory is on a tmpfs mounted for it."""

    def __init__(self, size_mb=160):
        self.work = tempfile.mkdtemp(prefix="warden-faults.")
        os.chmod(self.work, 0o755)
        self.mnt = os.path.join(self.work, "pg")
        os.makedirs(self.mnt)
        subprocess.run(["mount", "-t", "tmpfs", "-o",
                        "size=%dm,mode=0755" % size_mb, "warden-faults", self.mnt],
                       check=True)
        self.mounted = True
        self.dir = os.path.join(self.mnt, "data")
        self.filler = os.path.join(self.mnt, "filler")
        self.bindir = pg_bindir()
        env = dict(os.environ, PGTMP_DURABLE="1")
        out = subprocess.run([PGTMP, "start", self.dir], env=env,
                             capture_output=True, text=True, timeout=180)
        if out.returncode != 0:
            raise RuntimeError("pgtmp start failed: %s" % out.stderr)
        self.url = out.stdout.strip()
        self.owner = pwd.getpwuid(os.stat(self.dir).st_uid)
        os.environ["DATABASE_URL"] = self.url
        self.keys = W.make_keys(os.path.join(self.work, "keys"))

    def as_owner(self, args, timeout=120):
        return subprocess.run(
            ["setpriv", "--reuid=%d" % self.owner.pw_uid,
             "--regid=%d" % self.owner.pw_gid, "--init-groups", "--"] + args,
            cwd="/", capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL)

    def pg_ctl(self, *args, timeout=120):
        return self.as_owner([self.bindir + "/pg_ctl", "-D", self.dir] + list(args),
                             timeout=timeout)

    def restart(self, mode):
        out = self.pg_ctl("-m", mode, "-w", "-t", "60", "-l",
                          os.path.join(self.dir, "server.log"), "restart")
        if out.returncode != 0:
            raise RuntimeError("pg_ctl restart -m %s: %s%s\n%s" % (
                mode, out.stdout, out.stderr, self.log_tail()))

    def running(self):
        return self.pg_ctl("status").returncode == 0

    def log_tail(self, n=30):
        return W.log_tail(os.path.join(self.dir, "server.log"), n)

    def free_bytes(self):
        st = os.statvfs(self.mnt)
        return st.f_bavail * st.f_frsize

    def fill(self):
        """Fills the tmpfs up to the last byte; returns what was free."""
        free = self.free_bytes()
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            try:
                os.posix_fallocate(fd, 0, max(free - 65536, 4096))
            except OSError:
                pass
            os.lseek(fd, 0, os.SEEK_END)
            block = b"\0" * 4096
            while True:
                try:
                    if os.write(fd, block) <= 0:
                        break
                except OSError:
                    break
        finally:
            os.close(fd)
        return free

    def unfill(self):
        if os.path.exists(self.filler):
            os.unlink(self.filler)

    def close(self):
        self.unfill()
        subprocess.run([PGTMP, "stop", self.dir], capture_output=True, timeout=180)
        if self.running():
            self.pg_ctl("-m", "immediate", "stop")
        if self.mounted:
            r = subprocess.run(["umount", self.mnt], capture_output=True)
            if r.returncode != 0:
                time.sleep(1)
                subprocess.run(["umount", "-l", self.mnt], capture_output=True)
            self.mounted = False


# ---------------------------------------------------------------------------
# Processes.

def children_map():
    kids = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                s = f.read()
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        fields = s[s.rindex(")") + 2:].split()
        kids.setdefault(int(fields[1]), []).append((int(p), comm, fields[0]))
    return kids


def descendants(pid):
    """(pid, comm, state) of every live descendant of pid."""
    kids = children_map()
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k[0])
    return out


def hasher_pid(d, timeout=10.0):
    """The pid of the running warden-hasher under wardend d (a child, or a
    grandchild through the privileged spawner)."""
    deadline = mono() + timeout
    while mono() < deadline:
        hs = [p for p, comm, st in descendants(d.proc.pid)
              if comm == "warden-hasher" and st not in ("Z", "X")]
        if len(hs) == 1:
            return hs[0]
        time.sleep(0.05)
    raise AssertionError("no single warden-hasher under wardend %d: %r"
                         % (d.proc.pid, descendants(d.proc.pid)))


def proc_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return False
    return s[s.rindex(")") + 2:].split()[0] not in ("Z", "X")


def metrics(d):
    """/metrics as {name{labels}: float}, or {} when it fails."""
    try:
        r = d.client.get("/metrics", timeout=5)
    except OSError:
        return {}
    if r.status != 200:
        return {}
    out = {}
    for line in r.body.decode().splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            try:
                out[k] = float(v)
            except ValueError:
                pass
    return out


def wait_for(pred, timeout, step=0.1):
    deadline = mono() + timeout
    while mono() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(step)
    return pred()


# ---------------------------------------------------------------------------
# The load and its log.

WRITES = ("register", "login", "refresh")


class Log:
    """Every answer the load received, in order: kind, method, path,
    status, Retry-After, start and end (monotonic and wall clock), and for
    a 2xx write what it wrote."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.entries = []
        self.f = open(path, "a")

    def add(self, e):
        with self.lock:
            self.entries.append(e)
            self.f.write(json.dumps(e, sort_keys=True) + "\n")
            self.f.flush()

    def close(self):
        self.f.close()

    def between(self, t0, t1=None, kinds=None):
        with self.lock:
            es = list(self.entries)
        return [e for e in es if e["t0"] >= t0 and (t1 is None or e["t0"] < t1)
                and (kinds is None or e["kind"] in kinds)]


class Account:
    def __init__(self, username, password, uid):
        self.username = username
        self.password = password
        self.id = uid
        self.access = None
        self.refresh = None     # the refresh token held, or None


class Load:
    """workers threads, each with accounts of its own (so that no two
    requests race for one refresh token), doing a mix of registrations,
    logins, refreshes and reads of /users/me; a prober logs one account in
    over and over for the recovery figure.  Every answer goes to log."""

    MIX = (("register", 2), ("login", 3), ("refresh", 3), ("read", 3))

    def __init__(self, d, log, workers=3, pause=0.03, probe=True):
        self.d = d
        self.log = log
        self.nworkers = workers
        self.pause = pause
        self.stop_ev = threading.Event()
        self.threads = []
        self.probe = probe
        self.ambiguous = []     # (kind, detail) of writes whose fate is unknown
        self.accounts = []
        self.alock = threading.Lock()
        self.mix = [k for k, w in self.MIX for _ in range(w)]

    def call(self, kind, method, path, account=None, **kw):
        c = W.Client(self.d.host, self.d.port)
        t0, w0 = mono(), time.time()
        e = {"kind": kind, "method": method, "path": path, "t0": t0, "wall0": w0,
             "user": account.username if account else None}
        r = None
        try:
            r = c.request(method, path, timeout=HTTP_TIMEOUT, **kw)
            e["status"] = r.status
            e["retry_after"] = r.header("Retry-After")
            if not 200 <= r.status < 300:
                e["body"] = r.body[:300].decode("utf-8", "replace")
        except Exception as ex:         # no answer: reset, refused, hang
            e["status"] = 0
            e["error"] = "%s: %s" % (type(ex).__name__, ex)
        e["t1"] = mono()
        e["wall1"] = time.time()
        e["dt"] = e["t1"] - t0
        return r, e

    # Each operation fills in what a 2xx wrote and logs the entry.

    def register(self, mine):
        name = W.uniq("f")
        pw = W.strong_password()
        r, e = self.call("register", "POST", "/api/v1/users",
                         json_body={"username": name, "email": name + "@example.test",
                                    "password": pw})
        e["user"] = name
        if r is not None and r.status == 201:
            a = Account(name, pw, r.json()["id"])
            e["user_id"] = a.id
            mine.append(a)
            with self.alock:
                self.accounts.append(a)
        elif e["status"] == 0 or e["status"] >= 500:
            self.ambiguous.append(("register", name))
        self.log.add(e)
        return e

    def _tokens(self, a, r, e):
        t = r.json()
        a.access = t["access_token"]
        a.refresh = t["refresh_token"]
        e["rt"] = rt_hash(a.refresh)
        e["user_id"] = W.jwt_parts(a.access)[1]["sub"]
        e["access"] = a.access

    def login(self, a, kind="login"):
        r, e = self.call(kind, "POST", "/api/v1/auth/token", account=a,
                         form={"grant_type": "password", "username": a.username,
                               "password": a.password})
        if r is not None and r.status == 200:
            self._tokens(a, r, e)
        elif e["status"] == 0 or e["status"] >= 500:
            self.ambiguous.append(("login", a.username))
        self.log.add(e)
        return e

    def refresh(self, a):
        old = a.refresh
        r, e = self.call("refresh", "POST", "/api/v1/auth/token", account=a,
                         form={"grant_type": "refresh_token", "refresh_token": old})
        e["old_rt"] = rt_hash(old)
        if r is not None and r.status == 200:
            self._tokens(a, r, e)
        elif e["status"] == 0 or e["status"] >= 500:
            # Rotated or not: unknown.  A real client would retry; here
            # the family is left alone (a retry past refresh_grace would
            # be taken as reuse).
            self.ambiguous.append(("refresh", e["old_rt"]))
            e["abandoned"] = True
            a.refresh = None
        self.log.add(e)
        return e

    def read(self, a):
        r, e = self.call("read", "GET", "/api/v1/users/me", account=a, token=a.access)
        self.log.add(e)
        return e

    def worker(self, seed):
        rnd = random.Random(seed)
        mine = []
        while not self.stop_ev.is_set():
            kind = rnd.choice(self.mix) if mine else "register"
            a = rnd.choice(mine) if mine else None
            if kind == "login" or (kind in ("refresh", "read") and a.access is None):
                e = self.login(a)
            elif kind == "refresh" and a.refresh is None:
                e = self.login(a)
            elif kind == "refresh":
                e = self.refresh(a)
            elif kind == "read":
                e = self.read(a)
            else:
                e = self.register(mine)
            self.stop_ev.wait(self.pause if 0 < e["status"] < 500 else 0.1)

    def prober(self):
        name = W.uniq("probe")
        pw = W.strong_password()
        a = None
        while a is None and not self.stop_ev.is_set():
            r, e = self.call("register", "POST", "/api/v1/users",
                             json_body={"username": name, "email": name + "@example.test",
                                        "password": pw})
            e["user"] = name
            if r is not None and r.status == 201:
                a = Account(name, pw, r.json()["id"])
                e["user_id"] = a.id
            elif r is not None and r.status == 409:
                # Written by an answer we did not get: find it.
                rows = W.psql("SELECT id FROM users WHERE username = '%s'" % name)
                a = Account(name, pw, rows[0])
            self.log.add(e)
            if a is None:
                self.stop_ev.wait(0.1)
        while not self.stop_ev.is_set():
            self.login(a, kind="probe")
            self.stop_ev.wait(0.05)

    def start(self):
        for i in range(self.nworkers):
            t = threading.Thread(target=self.worker, args=(random.random(),), daemon=True)
            t.start()
            self.threads.append(t)
        if self.probe:
            t = threading.Thread(target=self.prober, daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(timeout=HTTP_TIMEOUT + 5)
        return not any(t.is_alive() for t in self.threads)

    def recovery(self, since, kinds=("probe", "login")):
        """Seconds from since until the end of the first successful login
        sent after it, or None."""
        ok = [e["t1"] for e in self.log.between(since, kinds=kinds) if e["status"] == 200]
        return min(ok) - since if ok else None


class Sampler:
    """Polls one path every period; keeps (t0, t1, status)."""

    def __init__(self, d, path, period=0.05, token=None):
        self.d, self.path, self.period, self.token = d, path, period, token
        self.samples = []
        self.stop_ev = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        c = W.Client(self.d.host, self.d.port)
        while not self.stop_ev.is_set():
            t0 = mono()
            try:
                st = c.get(self.path, token=self.token, timeout=HTTP_TIMEOUT,
                           headers={"Connection": "close"}).status
            except Exception:
                st = 0
            self.samples.append((t0, mono(), st))
            self.stop_ev.wait(self.period)

    def start(self):
        self.t.start()
        return self

    def stop(self):
        self.stop_ev.set()
        self.t.join(timeout=HTTP_TIMEOUT + 5)

    def latencies(self, t0, t1=None):
        return [b - a for a, b, st in self.samples
                if a >= t0 and (t1 is None or a < t1) and 200 <= st < 300]

    def statuses(self, t0, t1=None):
        return [st for a, b, st in self.samples if a >= t0 and (t1 is None or a < t1)]


# ---------------------------------------------------------------------------
# The log against the database.

def q(sql):
    return [line.split("|") for line in W.psql(sql)]


def check_db(log):
    """The client's log against the database.  Returns (lost, problems):
    lost counts acknowledged writes that are not there; problems lists
    every inconsistency, lost ones included."""
    problems = []
    lost = 0
    es = list(log.entries)

    users = {r[0]: r for r in q(
        "SELECT u.id, u.username, (SELECT count(*) FROM audit_events a"
        " WHERE a.user_id = u.id AND a.event = 'registered'),"
        " (SELECT count(*) FROM audit_events a WHERE a.user_id = u.id"
        " AND a.event = 'login_ok') FROM users u")}
    toks = {}
    by_id = {}
    for r in q("SELECT encode(token_hash, 'hex'), id, user_id, family,"
               " used_at IS NOT NULL, revoked_at IS NOT NULL, replaced_by,"
               " expires_at > now() FROM refresh_tokens"):
        t = {"hash": r[0], "id": r[1], "user": r[2], "family": r[3],
             "used": r[4] == "t", "revoked": r[5] == "t", "replaced_by": r[6] or None,
             "live": r[7] == "t"}
        toks[t["hash"]] = t
        by_id[t["id"]] = t

    # Every acknowledged write is there.
    logins_ok = {}
    for e in es:
        if e["status"] == 201 and e["kind"] == "register":
            u = users.get(e.get("user_id"))
            if u is None or u[1] != e["user"]:
                lost += 1
                problems.append("registered user %s (%s) is not in users"
                                % (e["user"], e.get("user_id")))
        if e["status"] == 200 and e["kind"] in ("login", "probe", "refresh"):
            t = toks.get(e["rt"])
            if t is None or t["user"] != e["user_id"]:
                lost += 1
                problems.append("%s of %s answered 200 at %.3f but its refresh "
                                "token is not in refresh_tokens"
                                % (e["kind"], e["user"], e["wall1"]))
                continue
            if e["kind"] != "refresh":
                logins_ok[e["user_id"]] = logins_ok.get(e["user_id"], 0) + 1
            else:
                old = toks.get(e["old_rt"])
                if old is None or not old["used"] or old["replaced_by"] != t["id"] \
                        or old["family"] != t["family"]:
                    lost += 1
                    problems.append("refresh of %s answered 200 but the old token "
                                    "is not spent and replaced by the new one: %r -> %r"
                                    % (e["user"], old, t))
    for uid, n in logins_ok.items():
        u = users.get(uid)
        if u is not None and int(u[3]) < n:
            problems.append("user %s: %d logins answered 200, %s login_ok events"
                            % (uid, n, u[3]))

    # Nothing half-done: every user has its 'registered' event.
    for uid, u in users.items():
        if int(u[2]) != 1:
            problems.append("user %s (%s) has %s 'registered' events"
                            % (uid, u[1], u[2]))

    # Families: one chain each, at most one live token, revoked as a whole.
    fams = {}
    targets = {}
    for t in toks.values():
        fams.setdefault(t["family"], []).append(t)
        if t["replaced_by"]:
            targets.setdefault(t["replaced_by"], []).append(t)
        if t["used"] != bool(t["replaced_by"]):
            problems.append("token %s: used=%s but replaced_by=%s"
                            % (t["id"], t["used"], t["replaced_by"]))
        if t["replaced_by"]:
            n = by_id.get(t["replaced_by"])
            if n is None or n["family"] != t["family"] or n["user"] != t["user"]:
                problems.append("token %s replaced by %s, which is not the next "
                                "of its family" % (t["id"], t["replaced_by"]))
    for tid, srcs in targets.items():
        if len(srcs) > 1:
            problems.append("token %s replaces %d tokens" % (tid, len(srcs)))
    for fam, ts in fams.items():
        current = [t for t in ts if not t["used"] and not t["revoked"] and t["live"]]
        if len(current) > 1:
            problems.append("family %s has %d live tokens" % (fam, len(current)))
        revoked = [t for t in ts if t["revoked"]]
        if revoked and len(revoked) != len(ts):
            problems.append("family %s: %d of %d tokens revoked (a family is "
                            "revoked whole)" % (fam, len(revoked), len(ts)))
        roots = [t for t in ts if t["id"] not in targets]
        if len(roots) != 1:
            problems.append("family %s has %d first tokens" % (fam, len(roots)))

    # What the client holds is what the database calls current.
    held = {}
    for e in es:
        if e["status"] == 200 and e["kind"] in ("login", "refresh"):
            held[e["user"], e["rt"]] = e
        if e["kind"] == "refresh":
            for k in [k for k in held if k[1] == e["old_rt"]]:
                del held[k]
    for (user, h), e in held.items():
        t = toks.get(h)
        if t is not None and (t["used"] or t["revoked"]):
            problems.append("the token %s's client holds (from %s at %.3f) is "
                            "used=%s revoked=%s" % (user, e["kind"], e["wall1"],
                                                    t["used"], t["revoked"]))
    return lost, problems


def ghosts(log):
    """Writes done although their request was answered 5xx or not at all:
    (registrations, logins).  The client was told to try again; the
    registration is there (a retry meets 409), the login issued a refresh
    token and recorded login_ok."""
    es = list(log.entries)
    names = [e["user"] for e in es
             if e["kind"] == "register" and (e["status"] == 0 or e["status"] >= 500)]
    regs = 0
    if names:
        regs = int(W.psql("SELECT count(*) FROM users WHERE username IN (%s)"
                          % ",".join("'%s'" % n for n in names))[0])
    ok = {}
    for e in es:
        if e["kind"] in ("login", "probe") and e["user"]:
            ok.setdefault(e["user"], 0)
            if e["status"] == 200:
                ok[e["user"]] += 1
    logins = 0
    if ok:
        for name, n in q("SELECT u.username, count(a.id) FROM users u JOIN audit_events a"
                         " ON a.user_id = u.id AND a.event = 'login_ok'"
                         " WHERE u.username IN (%s) GROUP BY 1"
                         % ",".join("'%s'" % n for n in ok)):
            logins += max(0, int(n) - ok[name])
    return regs, logins


def summary(entries):
    """Counts of an entry list: 2xx, 4xx, 500s, 503s (and their slowest),
    no answer, 503s lacking Retry-After, slowest answer."""
    s = {"n": len(entries), "2xx": 0, "4xx": 0, "500": 0, "503": 0, "other5xx": 0,
         "none": 0, "max503": 0.0, "no_retry_after": 0, "max": 0.0}
    for e in entries:
        st = e["status"]
        s["max"] = max(s["max"], e["dt"])
        if 200 <= st < 300:
            s["2xx"] += 1
        elif 400 <= st < 500:
            s["4xx"] += 1
        elif st == 500:
            s["500"] += 1
        elif st == 503:
            s["503"] += 1
            s["max503"] = max(s["max503"], e["dt"])
            if not e.get("retry_after"):
                s["no_retry_after"] += 1
        elif st >= 500:
            s["other5xx"] += 1
        else:
            s["none"] += 1
    return s


def describe(e):
    return "%s %s %s at %s -> %s in %.2f s%s" % (
        e["kind"], e["method"], e["path"],
        time.strftime("%H:%M:%S", time.gmtime(e["wall0"])) + ".%03d" % (e["wall0"] % 1 * 1000),
        e["status"], e["dt"], " (%s)" % (e.get("error") or e.get("body"))
        if e.get("error") or e.get("body") else "")


# ---------------------------------------------------------------------------
# The runner of a suite of cases.

class Failed(Exception):
    """A case cannot go on: its message is the problem."""

def run_cases(prog, cases, argv, make_suite, make_case, failure_logs,
              keep_env):
    """Runs the cases named in argv[1:] (default: all of cases, a list of
    (name, function)) on the suite make_suite() builds: for each, a
    make_case(suite, name) whose .problems and .figures the function
    fills.  Prints "PROG: NAME: figures" a case, each problem, the logs
    failure_logs(suite, case) lists as (title, path) for a case that
    failed, and "N passed, N failed".  suite.close() ends it; suite.work
    is kept when anything failed or keep_env is "1".  Returns the exit
    status."""
    import shutil
    import signal
    import traceback

    if os.geteuid() != 0:
        print("%s: run as root (PostgreSQL runs as postgres)" % prog)
        return 2
    names = argv[1:] or [n for n, _ in cases]
    unknown = set(names) - {n for n, _ in cases}
    if unknown:
        print("%s: no such case: %s" % (prog, " ".join(sorted(unknown))))
        return 2
    passed = failed = 0
    suite = None

    def on_term(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    try:
        suite = make_suite()
        for name, fn in cases:
            if name not in names:
                continue
            c = make_case(suite, name)
            t0 = mono()
            try:
                fn(c)
            except Failed as e:
                c.problems.append(str(e))
            except Exception:
                c.problems.append(traceback.format_exc())
            finally:
                try:
                    c.close()
                except Exception:
                    c.problems.append(traceback.format_exc())
            ok = not c.problems
            print("%s: %s: %s%s (%.0f s)" % (prog, name, c.figures or "no figures",
                                             "" if ok else " -- FAILED", mono() - t0))
            for p in c.problems:
                print("  - " + p.replace("\n", "\n    "))
            if not ok:
                for title, path in failure_logs(suite, c):
                    print("  %s, last lines:\n    %s" % (
                        title, W.log_tail(path, 25).replace("\n", "\n    ")))
            sys.stdout.flush()
            passed += ok
            failed += not ok
    except KeyboardInterrupt:
        print("%s: interrupted" % prog)
        failed += 1
    except Exception:
        traceback.print_exc()
        failed += 1
    finally:
        if suite is not None:
            suite.close()
            if failed or os.environ.get(keep_env) == "1":
                print("%s: logs kept in %s" % (prog, suite.work))
            else:
                shutil.rmtree(suite.work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
