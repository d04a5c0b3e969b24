"""Many hosts on one PostgreSQL cluster (`make check-ha`, through
tests/ha/run; run as root).

The suite builds what docs/scaling.md describes, on loopback: a PostgreSQL
primary and a standby made from it with pg_basebackup, streaming and
synchronous (synchronous_standby_names, synchronous_commit on, fsync on);
three wardend hosts whose database_url names both servers with libpq's
multi-host syntax and target_session_attrs=read-write; a real nginx with
the three in one upstream.  The mixed load of tests/faults/faultlib.py
(registrations, logins, refreshes, reads; every answer logged) runs
through nginx, and each case checks the log against the database
(faultlib.check_db: every acknowledged write there, nothing half-done,
every refresh family whole).

  host-kill   one wardend SIGKILLed mid-load: nothing acknowledged lost,
              nginx sends the load to the two others, which carry it
  failover    every process of the primary SIGKILLed mid-load (a machine
              that dies), the standby promoted two seconds later: nothing
              acknowledged lost, the gap answered 503 with Retry-After (or
              nginx's 502 when it found no host), /readyz 503 on every host
              while there is no primary and 200 after, logins again within
              10 s of the promotion, and a logout on one host after the
              failover still reaches the others' forward-auth (the
              revocation listeners found the new primary)
  failover-frozen  the same on a fresh pair, but the primary's processes
              SIGSTOPped (a host that froze: no reset, its kernel still
              acknowledges): the pool's query deadline and the listeners'
              heartbeat leave it, and the connections pass over it to the
              promoted standby

Each case prints one `ha: NAME: ...` line of figures; the run ends with
`N passed, N failed`.  HA_KEEP=1 keeps the work directory.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "faults"))
import faultlib as F  # noqa: E402
from faultlib import W, mono  # noqa: E402

REQUEST_TIMEOUT = 3.0   # seconds, request_timeout of every host
RESUME_MAX = 10.0       # the bound on service after the promotion
NGINX = "/usr/sbin/nginx"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Node:
    """One PostgreSQL server of the pair, run by the postgres user."""

    def __init__(self, work, name):
        self.dir = os.path.join(work, name)
        self.port = free_port()
        self.bindir = F.pg_bindir()
        self.owner = pwd.getpwnam("postgres")
        # Its data directory, empty, and its log beside it, the owner's.
        logs = os.path.join(work, "pglogs")
        for d in (self.dir, logs):
            os.makedirs(d, mode=0o700, exist_ok=True)
            shutil.chown(d, "postgres", "postgres")
        self.log = os.path.join(logs, name + ".log")

    def run(self, args, timeout=120):
        out = subprocess.run(
            ["setpriv", "--reuid=%d" % self.owner.pw_uid,
             "--regid=%d" % self.owner.pw_gid, "--init-groups", "--"] + args,
            cwd="/", capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL)
        if out.returncode != 0:
            raise RuntimeError("%s: %s%s" % (" ".join(args), out.stdout, out.stderr))
        return out.stdout

    def settings(self, extra=""):
        with open(os.path.join(self.dir, "postgresql.auto.conf"), "a") as f:
            f.write("listen_addresses = '127.0.0.1'\nport = %d\n"
                    "unix_socket_directories = ''\nfsync = on\n"
                    "synchronous_commit = on\nwal_level = replica\n"
                    "max_wal_senders = 4\nhot_standby = on\n"
                    "max_connections = 60\n%s" % (self.port, extra))

    def start(self):
        self.run([self.bindir + "/pg_ctl", "-D", self.dir, "-l", self.log, "-w",
                  "-t", "60", "start"])

    def stop(self):
        subprocess.run(["setpriv", "--reuid=%d" % self.owner.pw_uid,
                        "--regid=%d" % self.owner.pw_gid, "--init-groups", "--",
                        self.bindir + "/pg_ctl", "-D", self.dir, "-m", "immediate",
                        "stop"], capture_output=True, timeout=60, cwd="/")

    def sql(self, q):
        out = subprocess.run(["/usr/bin/psql", "-X", "-At", "-h", "127.0.0.1", "-p",
                              str(self.port), "-U", "postgres", "-d", "warden",
                              "-c", q], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError("psql: %s" % out.stderr)
        return out.stdout.strip()

    def pids(self):
        """The postmaster and every process below it."""
        with open(os.path.join(self.dir, "postmaster.pid")) as f:
            pm = int(f.readline())
        return [pm] + [p for p, _, _ in F.descendants(pm)]


class Pair:
    """A primary and its synchronous streaming standby."""

    def __init__(self, work):
        self.primary = Node(work, "primary")
        self.standby = Node(work, "standby")
        p, s = self.primary, self.standby
        p.run([p.bindir + "/initdb", "-D", p.dir, "-U", "postgres", "--auth=trust",
               "-E", "UTF8", "--locale=C.UTF-8"])
        # Trust on loopback, replication included (initdb's default lines).
        # Synchronous only once the standby is there: until then every
        # commit would wait for it.
        p.settings()
        p.start()
        p.run(["/usr/bin/psql", "-X", "-h", "127.0.0.1", "-p", str(p.port), "-U",
               "postgres", "-d", "postgres", "-c", "CREATE DATABASE warden"])
        p.run([p.bindir + "/pg_basebackup", "-h", "127.0.0.1", "-p", str(p.port),
               "-U", "postgres", "-D", s.dir, "-R", "-X", "stream",
               "--checkpoint=fast"])
        s.settings("primary_conninfo = 'host=127.0.0.1 port=%d user=postgres "
                   "application_name=standby1'\n" % p.port)
        s.start()
        p.sql("ALTER SYSTEM SET synchronous_standby_names = 'standby1'")
        p.sql("SELECT pg_reload_conf()")
        if not F.wait_for(lambda: p.sql("SELECT sync_state FROM pg_stat_replication")
                          == "sync", 30):
            raise RuntimeError("the standby did not become synchronous")
        self.url = ("host=127.0.0.1,127.0.0.1 port=%d,%d dbname=warden user=postgres "
                    "target_session_attrs=read-write connect_timeout=2"
                    % (p.port, s.port))
        os.environ["DATABASE_URL"] = self.url

    def close(self):
        self.primary.stop()
        self.standby.stop()


class Proxy:
    """nginx in front of the hosts: one upstream, the defaults of
    docs/scaling.md (never a POST retried on another host once sent)."""

    def __init__(self, work, hosts):
        self.dir = os.path.join(work, "nginx")
        for d in ("logs", "tmp"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        self.host = "127.0.0.1"
        self.port = free_port()
        servers = "".join("\t\tserver 127.0.0.1:%d max_fails=1 fail_timeout=2s;\n"
                          % h.port for h in hosts)
        n = self.dir
        conf = os.path.join(n, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""user root;
daemon off;
worker_processes 1;
pid %(n)s/nginx.pid;
error_log %(n)s/logs/error.log warn;
events { worker_connections 512; }
http {
	access_log off;
	client_body_temp_path %(n)s/tmp/body;
	proxy_temp_path %(n)s/tmp/proxy;
	fastcgi_temp_path %(n)s/tmp/fastcgi;
	uwsgi_temp_path %(n)s/tmp/uwsgi;
	scgi_temp_path %(n)s/tmp/scgi;
	upstream warden {
%(servers)s		keepalive 16;
	}
	server {
		listen 127.0.0.1:%(port)d;
		location / {
			proxy_pass http://warden;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host $host;
			proxy_connect_timeout 1s;
			proxy_read_timeout 30s;
			proxy_next_upstream error timeout;
		}
	}
}
""" % {"n": n, "servers": servers, "port": self.port})
        self.proc = subprocess.Popen([NGINX, "-p", n, "-c", conf, "-e",
                                      os.path.join(n, "logs", "error.log")],
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(n, "logs", "stderr"), "w"))
        if not F.wait_for(self.answers, 15):
            raise RuntimeError("nginx did not start: %s" % W.log_tail(
                os.path.join(n, "logs", "error.log")))

    def answers(self):
        try:
            return W.Client(self.host, self.port).get("/healthz", timeout=2).status == 200
        except OSError:
            return False

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Suite:
    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="warden-ha.")
        os.chmod(self.work, 0o755)
        self.pair = self.proxy = None
        self.hosts = []
        self.keys = W.make_keys(os.path.join(self.work, "keys"))
        self.build("a")

    def build(self, tag):
        """A fresh pair, three hosts on it and nginx, under work/tag."""
        self.tag = tag
        where = os.path.join(self.work, tag)
        os.makedirs(where, mode=0o755)
        try:
            self.pair = Pair(where)
            self.hosts = [self.host("host%d" % i) for i in range(3)]
            self.proxy = Proxy(where, self.hosts)
        except BaseException:
            self.close()
            raise

    def rebuild(self, tag):
        self.close()
        self.pair = self.proxy = None
        self.hosts = []
        self.build(tag)

    def host(self, name):
        d = W.Daemon(os.path.join(self.work, self.tag), name, key_dir=self.keys,
                     request_timeout="%ds" % REQUEST_TIMEOUT, hasher_timeout="2s",
                     database_pool="3")
        d.start(timeout=60)
        return d

    def close(self):
        for d in self.hosts:
            if d.alive():
                d.stop(timeout=15)
        if self.proxy is not None:
            self.proxy.close()
        if self.pair is not None:
            self.pair.close()


class Case:
    def __init__(self, suite, name):
        self.suite = suite
        self.name = name
        self.problems = []
        self.figures = ""
        self.log = F.Log(os.path.join(suite.work, name + ".client.log"))

    def check(self, cond, what):
        if not cond:
            self.problems.append(what)
        return cond

    def sound(self, entries, allow_502):
        """No answer slower than request_timeout and a margin, no 500, no
        client error, Retry-After on every 503, nginx's 502 only for the
        entries allow_502(e) allows."""
        s = F.summary(entries)
        slow = [e for e in entries if e["dt"] > REQUEST_TIMEOUT + 3]
        self.check(not slow, "%d answers slower than %.0f s, e.g. %s" % (
            len(slow), REQUEST_TIMEOUT + 3, "; ".join(F.describe(e) for e in slow[:3])))
        bad = [e for e in entries if e["status"] == 500 or 400 <= e["status"] < 500
               or (e["status"] in (502, 504) and not allow_502(e))
               or e["status"] not in (0, 502, 503, 504) and e["status"] >= 500]
        self.check(not bad, "%d wrong answers, e.g. %s" % (
            len(bad), "; ".join(F.describe(e) for e in bad[:5])))
        self.check(s["no_retry_after"] == 0, "%d 503s without Retry-After"
                   % s["no_retry_after"])
        return s

    def close(self):
        self.log.close()

    def db_check(self):
        lost, problems = F.check_db(self.log)
        for p in problems[:20]:
            self.problems.append("db: " + p)
        return lost


def host_kill(c):
    s = c.suite
    load = F.Load(s.proxy, c.log, workers=4).start()
    time.sleep(4)
    victim = s.hosts[1]
    t_kill = mono()
    victim.kill()
    time.sleep(5)
    c.check(load.stop(), "the load did not stop")
    entries = c.log.entries
    # A request the killed host had taken when it died gets nginx's 502:
    # nginx does not send a POST it has sent once to another host.
    st = c.sound(entries, allow_502=lambda e: e["t0"] <= t_kill <= e["t1"])
    after = F.summary([e for e in entries if e["t0"] > t_kill + 1])
    c.check(after["2xx"] > 0 and after["503"] == 0 and after["none"] == 0,
            "after the kill the two others did not carry the load: %r" % after)
    lost = c.db_check()
    c.check(lost == 0, "%d acknowledged writes lost" % lost)
    c.figures = ("2xx %d before the kill, %d after (503s %d, nginx 502s %d for "
                 "requests the host had when it died, no answer %d), lost %d" % (
                     len([e for e in entries if e["t0"] < t_kill
                          and 200 <= e["status"] < 300]),
                     after["2xx"], st["503"], st["other5xx"], st["none"], lost))
    # The next case has three hosts again.
    s.hosts[1] = s.host("host1b")
    s.proxy.close()
    s.proxy = Proxy(os.path.join(s.work, s.tag), s.hosts)


def signal_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def failover(c):
    lose_primary(c, signal.SIGKILL, "killed", gap=2)


def failover_frozen(c):
    # A primary of its own: the one before is gone.
    c.suite.rebuild("b")
    lose_primary(c, signal.SIGSTOP, "frozen", gap=REQUEST_TIMEOUT + 4)


def lose_primary(c, sig, how, gap):
    """Every process of the primary gets sig (SIGKILL: a machine that
    died; SIGSTOP: one that froze, whose kernel still acknowledges), and
    the standby is promoted gap seconds later, under load."""
    s = c.suite
    p, sb = s.pair.primary, s.pair.standby
    ready = [F.Sampler(d, "/readyz", period=0.1).start() for d in s.hosts]
    load = F.Load(s.proxy, c.log, workers=4).start()
    time.sleep(4)
    victims = p.pids()
    t_kill = mono()
    signal_all(victims, sig)
    time.sleep(gap)
    t_promote = mono()
    sb.run([sb.bindir + "/pg_ctl", "-D", sb.dir, "-w", "-t", "60", "promote"])
    t_promoted = mono()
    try:
        check_after_promotion(c, load, ready, how, gap, t_kill, t_promote,
                              t_promoted)
    finally:
        # Fencing, as a cluster manager does it: the old primary never
        # comes back as one.
        signal_all(victims, signal.SIGKILL)


def check_after_promotion(c, load, ready, how, gap, t_kill, t_promote, t_promoted):
    s = c.suite
    F.wait_for(lambda: load.recovery(t_promoted) is not None, 20)
    time.sleep(3)
    c.check(load.stop(), "the load did not stop")
    for r in ready:
        r.stop()
    rec = load.recovery(t_promoted)
    c.check(rec is not None and rec <= RESUME_MAX,
            "logins resumed %s s after the promotion (bound %.0f s)" % (rec, RESUME_MAX))

    for i, r in enumerate(ready):
        down = [a for a, b, st in r.samples if t_kill <= a < t_promote and st == 503]
        up = [a for a, b, st in r.samples if a > t_promoted and st == 200]
        c.check(down, "host%d: /readyz never said 503 without a primary" % i)
        c.check(up, "host%d: /readyz not 200 again after the promotion" % i)

    entries = c.log.entries
    st = c.sound(entries, allow_502=lambda e: True)
    gap_s = gap
    gap = F.summary([e for e in entries if t_kill <= e["t0"] < t_promoted])

    # The listeners follow the primary: a logout on one host after the
    # failover reaches forward-auth on another.
    a, b = s.hosts[0].client, s.hosts[2].client
    u = a.new_user("after")
    c.check(b.get("/api/v1/auth/verify", token=u.access).status == 204,
            "the new user's token is not accepted by another host")
    c.check(a.post("/api/v1/auth/logout", token=u.access).status == 204,
            "logout failed after the failover")
    refused = F.wait_for(lambda: b.get("/api/v1/auth/verify",
                                       token=u.access).status == 401, 20)
    c.check(refused, "a logout after the failover did not reach the other host")

    lost = c.db_check()
    c.check(lost == 0, "%d acknowledged writes lost" % lost)
    ghosts = F.ghosts(c.log)
    c.figures = ("primary %s, standby promoted %d s later; logins again "
                 "%s s after the promotion; in the gap: 2xx %d, 503s %d, "
                 "nginx 502s %d, no answer %d; 500s %d; lost %d of %d "
                 "acknowledged writes; ghosts %d registrations/%d logins" % (
                     how, gap_s, "%.2f" % rec if rec is not None else "never",
                     gap["2xx"],
                     gap["503"], gap["other5xx"], gap["none"], st["500"], lost,
                     len([e for e in entries if 200 <= e["status"] < 300
                          and e["kind"] != "read"]), ghosts[0], ghosts[1]))


CASES = [("host-kill", host_kill), ("failover", failover),
         ("failover-frozen", failover_frozen)]


def make_suite():
    t0 = mono()
    suite = Suite()
    print("ha: a primary, its synchronous standby, three hosts and nginx "
          "up in %.0f s" % (mono() - t0))
    return suite


def host_logs(suite, c):
    return [("%s log" % d.name, d.log) for d in suite.hosts]


def main(argv):
    return F.run_cases("ha", CASES, argv, make_suite, Case, host_logs, "HA_KEEP")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
