"""Fault injection against a live wardend, its hasher and PostgreSQL
(`make check-faults`, through tests/faults/run; run as root).

Each case starts a wardend of its own on the suite's PostgreSQL cluster
(faultlib.Cluster: durable, on a tmpfs), runs the mixed load of
faultlib.Load (registrations, logins, refreshes, reads; every answer
logged), injects one fault, lets the service recover, stops the load and
checks the log against the database (faultlib.check_db: every
acknowledged write there, nothing half-done, refresh families sound).
Each case prints one `faults: NAME: ...` line of figures, and the run ends
with `N passed, N failed`.

  hasher-kill      warden-hasher SIGKILLed: 503 + Retry-After within
                   hasher_timeout + margin, restarted, logins again within 1 s
  hasher-stop      warden-hasher SIGSTOPped for 10 s, then SIGCONT
  pg-restart-fast  pg_ctl restart -m fast: /readyz 503 then 200, the pool
  pg-restart-immediate                 reconnects, nothing acknowledged lost
  disk-full        the cluster's file system full: writes 503, reads go on,
                   writes come back when the space does
  disk-full-crash  the same across a checkpoint: PostgreSQL PANICs and stays
                   down until the space is back and it is started again
  db-slow          users locked (ACCESS EXCLUSIVE) for 30 s: request_timeout
                   holds, the pool does not leak, routes without the table
                   keep their latency
  wardend-kill     wardend SIGKILLed mid-load and started again
  clock-step       wardend's clock (libfaketime) +1 h, back, -1 h, back
  clock-step-all   the same seen by wardend and its hasher both

Arguments name the cases to run (default: all); FAULTS_KEEP=1 keeps the
work directory (logs, the client's log) after a passing run too.
"""

import email.utils
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as F  # noqa: E402
from faultlib import Failed, W, mono  # noqa: E402

HASHER_TIMEOUT = 2.0    # seconds, hasher_timeout of every daemon here
REQUEST_TIMEOUT = 3.0   # seconds, request_timeout
MARGIN = 2.0            # what a loaded 2-core machine adds to a bound
RECOVERY_MAX = 1.0      # the bound on service resuming after a hasher death
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


class Case:
    def __init__(self, suite, name):
        self.suite = suite
        self.name = name
        self.problems = []
        self.figures = ""
        self.daemons = []
        self.log = F.Log(os.path.join(suite.cluster.work, name + ".client.log"))

    def check(self, cond, what):
        if not cond:
            self.problems.append(what)
        return cond

    def daemon(self, env=None, **settings):
        conf = dict(hasher_timeout="%ds" % HASHER_TIMEOUT,
                    request_timeout="%ds" % REQUEST_TIMEOUT, log_level="info")
        conf.update(settings)
        d = W.Daemon(self.suite.cluster.work, self.name, key_dir=self.suite.cluster.keys,
                     **conf)
        saved = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        try:
            d.start(timeout=60)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.daemons.append(d)
        return d

    def load(self, d, **kw):
        return F.Load(d, self.log, **kw).start()

    def basic(self, entries, bound, allow_none=False, allow_4xx=False):
        """What holds under every fault: an answer to everything within
        bound, no 500, Retry-After on every 503, no client error."""
        s = F.summary(entries)
        slow = [e for e in entries if e["dt"] > bound]
        self.check(not slow, "%d answers slower than %.1f s, e.g. %s"
                   % (len(slow), bound, "; ".join(F.describe(e) for e in slow[:3])))
        if not allow_none:
            none = [e for e in entries if e["status"] == 0]
            self.check(not none, "%d requests got no answer, e.g. %s"
                       % (len(none), "; ".join(F.describe(e) for e in none[:3])))
        bad = [e for e in entries if e["status"] >= 500 and e["status"] != 503]
        self.check(not bad, "%d answers 5xx other than 503, e.g. %s"
                   % (len(bad), "; ".join(F.describe(e) for e in bad[:5])))
        self.check(s["no_retry_after"] == 0, "%d 503s without Retry-After"
                   % s["no_retry_after"])
        if not allow_4xx:
            c4 = [e for e in entries if 400 <= e["status"] < 500]
            self.check(not c4, "%d client errors, e.g. %s"
                       % (len(c4), "; ".join(F.describe(e) for e in c4[:5])))
        return s

    def db_check(self):
        lost, problems = F.check_db(self.log)
        for p in problems[:20]:
            self.problems.append("db: " + p)
        if len(problems) > 20:
            self.problems.append("db: ... %d more" % (len(problems) - 20))
        return lost, "%d registrations/%d logins" % F.ghosts(self.log)

    def close(self):
        for d in self.daemons:
            if d.alive():
                d.stop(timeout=15)
        self.log.close()


# ---------------------------------------------------------------------------
# The cases.

def hasher_kill(c):
    d = c.daemon()
    load = c.load(d)
    time.sleep(3)
    old = F.hasher_pid(d)
    t_kill = mono()
    os.kill(old, signal.SIGKILL)
    F.wait_for(lambda: load.recovery(t_kill) is not None, 15)
    time.sleep(2)
    c.check(load.stop(), "the load did not stop")
    rec = load.recovery(t_kill)
    new = F.hasher_pid(d)
    s = c.basic(c.log.entries, HASHER_TIMEOUT + MARGIN)
    c.check(new != old, "the hasher was not restarted (pid %d)" % old)
    c.check(rec is not None and rec <= RECOVERY_MAX,
            "service resumed %s s after the kill (bound %.1f s)" % (rec, RECOVERY_MAX))
    m = F.metrics(d)
    lost, ghost = c.db_check()
    c.check(lost == 0, "%d acknowledged writes lost" % lost)
    c.figures = ("recovery %s s, 503s %d (max %.2f s), 2xx %d, slowest %.2f s, "
                 "hasher restarts %d, lost %d, ghosts %s" % (
                     "%.2f" % rec if rec is not None else "never", s["503"], s["max503"],
                     s["2xx"], s["max"], m.get("warden_hasher_restarts_total", -1),
                     lost, ghost))


def hasher_stop(c):
    d = c.daemon()
    load = c.load(d)
    time.sleep(3)
    pid = F.hasher_pid(d)
    t_stop = mono()
    os.kill(pid, signal.SIGSTOP)
    time.sleep(10)
    cont_alive = F.proc_alive(pid)
    t_cont = mono()
    if cont_alive:
        os.kill(pid, signal.SIGCONT)
    F.wait_for(lambda: load.recovery(t_cont) is not None, 15)
    time.sleep(2)
    c.check(load.stop(), "the load did not stop")
    during = load.recovery(t_stop)
    rec = load.recovery(t_cont)
    new = F.hasher_pid(d)
    s = c.basic(c.log.entries, HASHER_TIMEOUT + MARGIN)
    c.check(rec is not None and rec <= RECOVERY_MAX,
            "service resumed %s s after SIGCONT (bound %.1f s)" % (rec, RECOVERY_MAX))
    lost, ghost = c.db_check()
    c.check(lost == 0, "%d acknowledged writes lost" % lost)
    during_stop = F.summary(c.log.between(t_stop, t_cont))
    c.figures = ("first login after SIGSTOP %s s (%s), after SIGCONT %s s, "
                 "503s %d (max %.2f s), 2xx %d (%d while stopped), lost %d, "
                 "ghosts %s" % (
                     "%.2f" % during if during is not None else "never",
                     "stopped hasher replaced, pid %d -> %d" % (pid, new) if new != pid
                     else "same hasher",
                     "%.2f" % rec if rec is not None else "never", s["503"], s["max503"],
                     s["2xx"], during_stop["2xx"], lost, ghost))


def pg_restart(mode):
    def case(c):
        cl = c.suite.cluster
        d = c.daemon()
        ready = F.Sampler(d, "/readyz").start()
        load = c.load(d)
        time.sleep(3)
        t_r = mono()
        cl.restart(mode)
        t_up = mono()
        back = F.wait_for(lambda: [a for a, b, st in ready.samples
                                   if a > t_up and st == 200], 30)
        time.sleep(2)
        c.check(load.stop(), "the load did not stop")
        ready.stop()
        st = ready.statuses(t_r)
        down = [a for a, b, s in ready.samples if a >= t_r and s == 503]
        c.check(down, "/readyz never said 503 during the restart (%r)" % sorted(set(st)))
        c.check(back, "/readyz never came back to 200")
        t_back = min(a for a, b, s in ready.samples if a > t_up and s == 200) if back else None
        size = F.wait_for(lambda: (lambda m: m.get('warden_db_pool_connections{state="up"}')
                                   == m.get("warden_db_pool_size") and m)(F.metrics(d)), 20)
        c.check(size, "the pool is not whole again 20 s after the restart: %s"
                % {k: v for k, v in F.metrics(d).items() if "pool" in k})
        s = c.basic(c.log.entries, REQUEST_TIMEOUT + MARGIN)
        rec = load.recovery(t_up)
        lost, ghost = c.db_check()
        c.check(lost == 0, "%d acknowledged writes lost" % lost)
        c.figures = ("pg_ctl restart %.2f s, /readyz 503 for %.2f s, first login %s s "
                     "after PostgreSQL was up, 503s %d (max %.2f s), 500s %d, 2xx %d, "
                     "lost %d, ghosts %s" % (
                         t_up - t_r, (t_back - min(down)) if down and t_back else 0.0,
                         "%.2f" % rec if rec is not None else "never",
                         s["503"], s["max503"], s["500"], s["2xx"], lost, ghost))
        if not back:
            c.problems.append("server log:\n" + cl.log_tail())
    return case


def disk_full(c):
    cl = c.suite.cluster
    d = c.daemon()
    reader = W.Client(d.host, d.port)
    load = c.load(d)
    time.sleep(3)
    # A fresh WAL segment first, so that what is left of it (16 MB) takes
    # the WAL written while the disk is full: PostgreSQL PANICs when it
    # cannot create a segment inside a critical section (a commit), and
    # that crash is not what this case is about (see the report).
    W.psql("CHECKPOINT")
    W.psql("SELECT pg_switch_wal()")
    W.psql("CHECKPOINT")
    u = W.Client(d.host, d.port).new_user("full")
    t_full = mono()
    free = cl.fill()
    # Reads while full.
    reads = []
    t_end = mono() + 10
    while mono() < t_end:
        for path, tok in (("/api/v1/users/me", u.access), ("/.well-known/jwks.json", None),
                          ("/healthz", None), ("/api/v1/auth/verify", u.access)):
            t0 = mono()
            try:
                st = reader.get(path, token=tok, timeout=F.HTTP_TIMEOUT).status
            except Exception as ex:
                st = "%s" % ex
            reads.append((path, st, mono() - t0))
        time.sleep(0.2)
    full_entries = c.log.between(t_full)
    pg_up_full = cl.running()
    t_free = mono()
    cl.unfill()
    # Writes come back.
    back = F.wait_for(lambda: [e for e in c.log.between(t_free, kinds=("register",))
                               if e["status"] == 201], 20)
    time.sleep(2)
    c.check(load.stop(), "the load did not stop")
    s = c.basic(c.log.entries, REQUEST_TIMEOUT + MARGIN)
    fs = F.summary([e for e in full_entries if e["t0"] < t_free and e["kind"] != "read"])
    bad_reads = [r for r in reads if not (isinstance(r[1], int) and 200 <= r[1] < 300)]
    c.check(not bad_reads, "%d of %d reads failed while full, e.g. %s"
            % (len(bad_reads), len(reads), bad_reads[:4]))
    c.check(fs["503"] > 0, "no write was refused while the disk was full")
    c.check(pg_up_full, "PostgreSQL died while the disk was full:\n" + cl.log_tail())
    c.check(back, "no registration succeeded within 20 s of the space coming back")
    lost, ghost = c.db_check()
    c.check(lost == 0, "%d acknowledged writes lost" % lost)
    integ = W.psql("SELECT count(*) FROM users") and W.psql(
        "SELECT count(*) FROM (SELECT lower(username) FROM users GROUP BY 1"
        " HAVING count(*) > 1) x")
    c.check(integ == ["0"], "duplicate usernames after the disk-full: %r" % integ)
    c.figures = ("filled %.1f MB, writes while full: 2xx %d, 503s %d (max %.2f s), "
                 "500s %d; reads while full %d/%d ok (max %.2f s); writes back after "
                 "%s s; 2xx %d, lost %d, ghosts %s" % (
                     free / 1e6, fs["2xx"], fs["503"], fs["max503"], fs["500"],
                     len(reads) - len(bad_reads), len(reads),
                     max(r[2] for r in reads) if reads else 0,
                     "%.2f" % (min(e["t1"] for e in back) - t_free) if back else "never",
                     s["2xx"], lost, ghost))


def disk_full_crash(c):
    """The data directory full at a checkpoint: PostgreSQL PANICs (the
    checkpointer cannot write pg_logical/replorigin_checkpoint.tmp), its
    crash recovery cannot checkpoint either and the postmaster exits.
    wardend must answer 503 meanwhile; once the space is back and the
    server started, nothing acknowledged may be missing."""
    cl = c.suite.cluster
    d = c.daemon()
    ready = F.Sampler(d, "/readyz").start()
    jwks = F.Sampler(d, "/.well-known/jwks.json", period=0.1).start()
    load = c.load(d)
    time.sleep(3)
    ckpt = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'"
    before = W.psql(ckpt)
    t_full = mono()
    free = cl.fill()
    try:
        W.psql("CHECKPOINT")
        checkpointed = True
    except RuntimeError:
        checkpointed = False
    # The postmaster either restarts its children (and recovers, if its
    # end-of-recovery checkpoint finds room) or exits.
    time.sleep(5)

    def checkpointer():
        try:
            return W.psql(ckpt)
        except RuntimeError:
            return None
    died = not cl.running()
    now = None if died else checkpointer()
    fate = ("exited" if died else "up, refusing connections" if now is None
            else "PANICked and restarted its processes" if now != before else "stayed up")
    cl.unfill()
    t_start = mono()
    if not cl.running():
        out = cl.pg_ctl("-w", "-t", "60", "-l", os.path.join(cl.dir, "server.log"), "start")
        c.check(out.returncode == 0, "PostgreSQL did not start again: %s%s\n%s"
                % (out.stdout, out.stderr, cl.log_tail()))
        fate += ", started again"
    t_up = mono()
    back = F.wait_for(lambda: [1 for a, b, st in ready.samples if a > t_up and st == 200], 30)
    F.wait_for(lambda: load.recovery(t_up) is not None, 15)
    time.sleep(2)
    c.check(load.stop(), "the load did not stop")
    ready.stop()
    jwks.stop()
    c.check(back, "/readyz never came back to 200")
    down = [a for a, b, st in ready.samples if a >= t_full and st == 503]
    c.check(not died or down, "/readyz never said 503 while PostgreSQL was down")
    bad_jwks = [st for st in jwks.statuses(t_full, t_up) if st != 200]
    c.check(not bad_jwks, "jwks failed while PostgreSQL was down: %r" % bad_jwks[:5])
    s = c.basic(c.log.entries, REQUEST_TIMEOUT + MARGIN)
    rec = load.recovery(t_up)
    lost, ghost = c.db_check()
    c.check(lost == 0, "%d acknowledged writes lost" % lost)
    c.figures = ("filled %.1f MB, CHECKPOINT %s, PostgreSQL %s, /readyz 503 for %.2f s, "
                 "up %.2f s after the space came back, first login %s s after, 503s %d "
                 "(max %.2f s), 500s %d, 2xx %d, lost %d, ghosts %s" % (
                     free / 1e6, "succeeded" if checkpointed else "failed", fate,
                     (max(down) - min(down)) if down else 0.0,
                     t_up - t_start, "%.2f" % rec if rec is not None else "never",
                     s["503"], s["max503"], s["500"], s["2xx"], lost, ghost))


def db_slow(c):
    cl = c.suite.cluster
    d = c.daemon()
    u = W.Client(d.host, d.port).new_user("slow")
    paths = (("healthz", "/healthz", None), ("jwks", "/.well-known/jwks.json", None),
             ("verify", "/api/v1/auth/verify", u.access))
    samplers = {n: F.Sampler(d, p, period=0.1, token=t).start() for n, p, t in paths}
    load = c.load(d)
    t_before = mono()
    time.sleep(5)
    hold = 30
    locker = subprocess.Popen(
        ["/usr/bin/psql", cl.url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
         "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(%d); COMMIT;"
         % hold], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    got = F.wait_for(lambda: W.psql(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
        " WHERE c.relname = 'users' AND l.mode = 'AccessExclusiveLock' AND l.granted")
        == ["1"], 10, step=0.05)
    t_lock = mono()
    c.check(got, "the lock was not taken")
    locker.wait(timeout=hold + 30)
    t_free = mono()
    # After the lock: everything works again, and the pool is whole.
    ok = F.wait_for(lambda: d.client.get("/readyz").status == 200, 10)
    c.check(ok, "/readyz not 200 after the lock went")
    quiet = F.wait_for(lambda: (lambda m: m and m.get('warden_db_pool_connections{state="in_use"}', 9)
                                <= 1 and m.get("warden_db_pool_waiting", 9) == 0 and m)(
                                    F.metrics(d)), 15)
    time.sleep(2)
    c.check(load.stop(), "the load did not stop")
    for s_ in samplers.values():
        s_.stop()
    m = F.metrics(d)
    pool = {k.split("{")[-1].rstrip("}") if "{" in k else k: v
            for k, v in m.items() if k.startswith("warden_db_pool")}
    c.check(quiet and m.get('warden_db_pool_connections{state="up"}') == m.get(
        "warden_db_pool_size"), "the pool is not whole and idle after the lock: %r" % pool)
    after = W.Client(d.host, d.port).new_user("after")
    c.check(after.access and after.me().status == 200, "no service after the lock")
    entries = c.log.entries
    c.basic(entries, REQUEST_TIMEOUT + MARGIN)
    locked = F.summary([e for e in entries if t_lock <= e["t0"] < t_free - REQUEST_TIMEOUT])
    figs = []
    for n, p, t in paths:
        bef = samplers[n].latencies(t_before, t_lock)
        dur = samplers[n].latencies(t_lock, t_free)
        bad = [st for st in samplers[n].statuses(t_lock, t_free) if not 200 <= st < 300]
        figs.append("%s p50/p99 %.3f/%.3f s before, %.3f/%.3f s during" % (
            n, F.pct(bef, 50), F.pct(bef, 99), F.pct(dur, 50), F.pct(dur, 99)))
        c.check(not bad, "%s answered %d times not 200 during the lock: %r"
                % (n, len(bad), sorted(set(bad))))
        # Far below request_timeout: not waiting for the lock.
        c.check(F.pct(dur, 99) < REQUEST_TIMEOUT / 3,
                "%s p99 during the lock %.3f s: it waits for the table"
                % (n, F.pct(dur, 99)))
    lost, ghost = c.db_check()
    c.check(lost == 0, "%d acknowledged writes lost" % lost)
    # Correct passwords refused as if the account were locked: attempts
    # answered 503 still running beside the new one (h_token.c,
    # account_allowance_spent).
    held_back = W.psql("SELECT count(*) FROM audit_events WHERE event = 'login_failed'"
                       " AND detail->>'reason' = 'locked'")[0]
    c.figures = ("lock %.1f s; during: 503s %d (max %.2f s), 2xx %d; %s; pool after: "
                 "%s; lost %d, ghosts %s, logins refused as locked %s" % (
                     t_free - t_lock, locked["503"], locked["max503"], locked["2xx"],
                     "; ".join(figs),
                     " ".join("%s=%g" % kv for kv in sorted(pool.items())), lost, ghost,
                     held_back))


def wardend_kill(c):
    d = c.daemon()
    load = c.load(d)
    time.sleep(3)
    hasher = F.hasher_pid(d)
    kids = [p for p, comm, st in F.descendants(d.proc.pid)]
    t_kill = mono()
    d.kill()
    t_dead = mono()
    d.start(timeout=60)
    t_up = mono()
    F.wait_for(lambda: load.recovery(t_up) is not None, 15)
    time.sleep(2)
    c.check(load.stop(), "the load did not stop")
    rec = load.recovery(t_kill)
    s = c.basic(c.log.entries, REQUEST_TIMEOUT + MARGIN, allow_none=True)
    orphans = F.wait_for(lambda: not [p for p in kids if F.proc_alive(p)], 10)
    c.check(orphans, "the old wardend's children outlived it: %r"
            % [(p, open("/proc/%d/comm" % p).read().strip()) for p in kids
               if F.proc_alive(p)])
    c.check(rec is not None, "no login succeeded after the restart")
    lost, ghost = c.db_check()
    c.check(lost == 0, "%d acknowledged writes lost" % lost)
    c.figures = ("restart %.2f s, first login %s s after the kill, unanswered %d, "
                 "503s %d, 2xx %d, old hasher %d gone: %s, lost %d, ghosts %s"
                 % (t_up - t_dead, "%.2f" % rec if rec is not None else "never",
                    s["none"], s["503"], s["2xx"], hasher, bool(orphans), lost, ghost))


def phase_figures(c, phases, ttl):
    """Checks the tokens minted and the logins of each (offset, t0, t1)
    phase; returns a figure per phase."""
    figs = []
    for offset, t0, t1 in phases:
        es = c.log.between(t0, t1)
        logins = [e for e in es if e["kind"] in ("login", "probe")]
        reads = [e for e in es if e["kind"] == "read"]
        refr = [e for e in es if e["kind"] == "refresh"]
        minted = [e for e in es if e["status"] == 200 and e.get("access")]
        skew = []
        for e in minted:
            claims = W.jwt_parts(e["access"])[1]
            life = claims["exp"] - claims["iat"]
            c.check(life == ttl, "a token minted at %s lives %d s (exp - iat), not %d"
                    % (offset, life, ttl))
            # exp against the real clock at minting: at most ttl + 1 h ahead.
            c.check(e["wall0"] - 3600 - 5 <= claims["exp"] <= e["wall1"] + ttl + 3600 + 5,
                    "a token minted at %s expires at %d, real time %d"
                    % (offset, claims["exp"], e["wall1"]))
            skew.append(claims["iat"] - e["wall1"])
        bad_logins = [e for e in logins if e["status"] != 200]
        bad_refr = [e for e in refr if e["status"] != 200]
        c.check(not bad_refr, "refreshes refused at %s: %s"
                % (offset, "; ".join(F.describe(e) for e in bad_refr[:3])))
        c.check(not bad_logins, "correct-password logins refused at %s: %s"
                % (offset, "; ".join(F.describe(e) for e in bad_logins[:3])))
        figs.append("%s: logins %d/%d, refreshes %d/%d, reads %d/%d ok, iat-real %+.0f s"
                    % (offset, len(logins) - len(bad_logins), len(logins),
                       len([e for e in refr if e["status"] == 200]), len(refr),
                       len([e for e in reads if e["status"] == 200]), len(reads),
                       sum(skew) / len(skew) if skew else 0))
    return figs


def clock_step(c):
    if not os.path.exists(FAKETIME_LIB):
        raise Failed("%s is missing: apt-get install -y faketime" % FAKETIME_LIB)
    stamp = os.path.join(c.suite.cluster.work, "faketime")

    offsets = {"+0": 0, "+1h": 3600, "-1h": -3600}

    def front_offset(d):
        """wardend's clock minus ours, by its Date header (1 s resolution)."""
        r = d.client.get("/healthz", timeout=5)
        return email.utils.parsedate_to_datetime(r.header("Date")).timestamp() - time.time()

    def step(offset, d=None):
        with open(stamp + ".tmp", "w") as f:
            f.write(offset + "\n")
        os.rename(stamp + ".tmp", stamp)
        if d is None:
            return
        # libfaketime reads the file again within FAKETIME_CACHE_DURATION.
        if not F.wait_for(lambda: abs(front_offset(d) - offsets[offset]) < 3, 10, 0.05):
            raise Failed("wardend's clock did not step to %s (Date says %+.0f s)"
                         % (offset, front_offset(d)))

    step("+0")
    env = {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME_TIMESTAMP_FILE": stamp,
           "FAKETIME_CACHE_DURATION": "1",
           "FAKETIME_DONT_FAKE_MONOTONIC": "1", "DONT_FAKE_MONOTONIC": "1"}
    # wardend alone: its hasher (which stamps iat and exp) keeps the real
    # clock, and could not read the file from its sandbox anyway.
    env["FAKETIME_ONLY_CMDS"] = "wardend"
    d = c.daemon(env=env)
    ttl = 900
    load = c.load(d)
    time.sleep(3)
    phases = []
    for offset in ("+1h", "+0", "-1h", "+0"):
        step(offset, d)
        t0 = mono()
        time.sleep(4)
        phases.append((offset, t0, mono()))
    time.sleep(1)
    c.check(load.stop(), "the load did not stop")
    s = c.basic(c.log.entries, REQUEST_TIMEOUT + MARGIN, allow_4xx=True)
    figs = phase_figures(c, phases, ttl)
    # Refresh works after the step back, with tokens from during the step.
    last = phases[-1]
    refr_back = [e for e in c.log.between(last[1], last[2]) if e["kind"] == "refresh"]
    c.check(refr_back and all(e["status"] == 200 for e in refr_back),
            "refreshes after the step back: %s" % sorted(e["status"] for e in refr_back))
    reads_back = [e for e in c.log.between(last[1], last[2]) if e["kind"] == "read"]
    c.check(all(e["status"] == 200 for e in reads_back),
            "reads after the step back: %s" % sorted(e["status"] for e in reads_back))
    lost, ghost = c.db_check()
    c.check(lost == 0, "%d acknowledged writes lost" % lost)
    c.figures = "%s; 2xx %d, 4xx %d, lost %d" % ("; ".join(figs), s["2xx"], s["4xx"], lost)


def clock_step_all(c):
    """wardend and its hasher both stepped, as by a step of the system
    clock (PostgreSQL is not): a daemon per offset, whose processes see
    the offset from STEP_AT to STEP_END seconds after they started
    (libfaketime's FAKETIME_START/STOP_AFTER_SECONDS: the sandboxed
    hasher cannot read a file that changes)."""
    if not os.path.exists(FAKETIME_LIB):
        raise Failed("%s is missing: apt-get install -y faketime" % FAKETIME_LIB)
    ttl = 900
    figs = []
    for offset, secs in (("+1h", 3600), ("-1h", -3600)):
        env = {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME": offset,
               "FAKETIME_START_AFTER_SECONDS": "8", "FAKETIME_STOP_AFTER_SECONDS": "16",
               "FAKETIME_DONT_FAKE_MONOTONIC": "1", "DONT_FAKE_MONOTONIC": "1"}
        d = c.daemon(env=env)
        load = c.load(d)

        def front():
            r = d.client.get("/healthz", timeout=5)
            return email.utils.parsedate_to_datetime(r.header("Date")).timestamp() - time.time()
        if not F.wait_for(lambda: abs(front() - secs) < 3, 20, 0.05):
            raise Failed("wardend's clock never stepped to %s" % offset)
        t0 = mono()
        if not F.wait_for(lambda: abs(front()) < 3, 20, 0.05):
            raise Failed("wardend's clock never stepped back from %s" % offset)
        t1 = mono()
        time.sleep(5)
        t2 = mono()
        c.check(load.stop(), "the load did not stop")
        d.stop()
        phases = [(offset, t0 + 1, t1 - 1), ("+0", t1 + 1, t2)]
        figs += phase_figures(c, phases, ttl)
        back = c.log.between(t1 + 1, t2)
        refr = [e for e in back if e["kind"] == "refresh"]
        c.check(refr and all(e["status"] == 200 for e in refr),
                "refreshes after the step back from %s: %s"
                % (offset, sorted(e["status"] for e in refr)))
    s_ = c.basic(c.log.entries, REQUEST_TIMEOUT + MARGIN, allow_4xx=True)
    lost, ghost = c.db_check()
    c.check(lost == 0, "%d acknowledged writes lost" % lost)
    c.figures = "%s; 2xx %d, 4xx %d, lost %d" % ("; ".join(figs), s_["2xx"], s_["4xx"], lost)


CASES = [
    ("hasher-kill", hasher_kill),
    ("hasher-stop", hasher_stop),
    ("pg-restart-fast", pg_restart("fast")),
    ("pg-restart-immediate", pg_restart("immediate")),
    ("db-slow", db_slow),
    ("wardend-kill", wardend_kill),
    ("clock-step", clock_step),
    ("clock-step-all", clock_step_all),
    ("disk-full", disk_full),
    ("disk-full-crash", disk_full_crash),
]


class Suite:
    """The cluster every case shares."""

    def __init__(self):
        self.cluster = F.Cluster()
        self.work = self.cluster.work

    def close(self):
        self.cluster.close()


def wardend_logs(suite, c):
    return [("wardend log (%s)" % d.log, d.log) for d in c.daemons]


def main(argv):
    return F.run_cases("faults", CASES, argv, Suite, Case, wardend_logs,
                       "FAULTS_KEEP")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
