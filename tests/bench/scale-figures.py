#!/usr/bin/env python3
"""The figures of capacity planning (docs/scaling.md), measured on one host:
for each kind of request, the CPU it costs wardend with its hasher and the
CPU it costs PostgreSQL (user and system time read from /proc, so the
figure does not move with whatever else the machine runs), the database
transactions that write, and the WAL it makes (what a synchronous
standby must receive before the answer); the connections a host holds, and
the average width of the rows that grow with users and logins.

Runs at the shipped Argon2id cost (19M, t=2) against $DATABASE_URL (make
bench runs it under scripts/pgtmp); as root or as the cluster's owner,
since it reads the PostgreSQL backends' /proc.  Not a test: it prints a
table (and SCALE_JSON=file writes it as JSON) and exits 0 unless a request
failed.  SCALE_N (default 60) requests of each kind, SCALE_PARALLEL
(default 4) at once.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import wardenlib as W  # noqa: E402

N = int(os.environ.get("SCALE_N", "60"))
PARALLEL = int(os.environ.get("SCALE_PARALLEL", "4"))
TICK = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()


def descendants(root):
    """root and every live process below it."""
    kids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                kids.setdefault(int(stat_fields(int(p))[1]), []).append(int(p))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu(pids):
    total = 0.0
    for p in pids:
        try:
            f = stat_fields(p)
            total += (int(f[11]) + int(f[12])) / TICK
        except (OSError, IndexError, ValueError):
            pass
    return total


def sql(q):
    return W.psql(q)[0]


def postmaster_pid():
    data = sql("SHOW data_directory")
    with open(os.path.join(data, "postmaster.pid")) as f:
        return int(f.readline())


def db_counters():
    """Transaction ids assigned (one per transaction that wrote) and WAL
    bytes of the whole cluster, both exact at once (pg_stat_database's
    counts reach it only seconds later)."""
    row = sql("SELECT pg_snapshot_xmax(pg_current_snapshot()) || ' ' ||"
              " pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")
    x, wal = row.split()
    return int(x), int(wal)


def run(n, parallel, fn):
    """fn(i) n times on parallel threads; the failures."""
    failures = []
    lock = threading.Lock()
    nxt = [0]

    def worker():
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= n:
                return
            try:
                fn(i)
            except Exception as e:  # noqa: BLE001 - counted, reported
                with lock:
                    failures.append(repr(e))
    ts = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return failures


def measure(d, pm, name, n, fn):
    front = descendants(d.proc.pid)
    pg = descendants(pm)
    x0, wal0 = db_counters()
    f0, p0, t0 = cpu(front), cpu(pg), time.monotonic()
    failures = run(n, PARALLEL, fn)
    f1, p1, t1 = cpu(front), cpu(pg), time.monotonic()
    x1, wal1 = db_counters()
    return {
        "request": name, "n": n, "failures": len(failures),
        "first_failure": failures[0] if failures else None,
        "wardend_ms": 1000.0 * (f1 - f0) / n,
        "postgres_ms": 1000.0 * (p1 - p0) / n,
        "write_transactions": (x1 - x0) / n,
        "wal_bytes": (wal1 - wal0) / n,
        "seconds": t1 - t0,
    }


def main():
    work = tempfile.mkdtemp(prefix="warden-scale.")
    d = W.Daemon(work, argon2_memory="19M", argon2_iterations="2",
                 log_level="warn", addr_login_limit="100000",
                 addr_register_limit="100000", purge_interval="1h")
    d.start()
    pm = postmaster_pid()
    rows = []
    try:
        c = d.client
        users = []
        lock = threading.Lock()

        def register(i):
            pw = W.strong_password()
            name = W.uniq("scale")
            r = c.register_raw(name, name + "@example.test", pw)
            assert r.status == 201, r
            with lock:
                users.append((name, pw))
        rows.append(measure(d, pm, "register", N, register))

        tokens = [None] * N

        def login(i):
            name, pw = users[i % len(users)]
            t = c.login(name, pw)
            tokens[i] = t
        rows.append(measure(d, pm, "login (password grant)", N, login))

        def refresh(i):
            r = c.refresh_raw(tokens[i]["refresh_token"])
            assert r.status == 200, r
        rows.append(measure(d, pm, "refresh", N, refresh))

        reads = 20 * N

        def me(i):
            r = c.get("/api/v1/users/me", token=tokens[i % N]["access_token"])
            assert r.status == 200, r
        rows.append(measure(d, pm, "GET /users/me", reads, me))

        def verify(i):
            r = c.get("/api/v1/auth/verify", token=tokens[i % N]["access_token"])
            assert r.status == 204, r
        rows.append(measure(d, pm, "GET /auth/verify", reads, verify))

        widths = {}
        for table in ("users", "refresh_tokens", "audit_events", "login_devices"):
            widths[table] = float(sql("SELECT coalesce(avg(pg_column_size(t.*)), 0)"
                                      " FROM %s t" % table))
        conns = W.psql("SELECT count(*) FROM pg_stat_activity WHERE"
                       " application_name LIKE 'wardend%'")[0]
    finally:
        d.stop()
    print("== scale figures: %d CPUs, %s, Argon2id 19M t=2, %d at once"
          % (os.cpu_count(), sql("SELECT version()").split(",")[0], PARALLEL))
    print("%-24s %10s %12s %12s %10s" % ("request", "wardend", "PostgreSQL",
                                         "write", "WAL"))
    print("%-24s %10s %12s %12s %10s" % ("", "CPU ms", "CPU ms", "transactions",
                                         "bytes"))
    bad = 0
    for r in rows:
        print("%-24s %10.2f %12.2f %12.2f %10.0f" % (
            r["request"], r["wardend_ms"], r["postgres_ms"],
            r["write_transactions"], r["wal_bytes"]))
        if r["failures"]:
            bad += 1
            print("scale: %d of %d %s failed, e.g. %s" % (
                r["failures"], r["n"], r["request"], r["first_failure"]))
    print("connections to PostgreSQL per host: %s" % conns)
    print("average row, bytes (before indexes and page overhead): %s" % ", ".join(
        "%s %.0f" % kv for kv in widths.items()))
    out = os.environ.get("SCALE_JSON")
    if out:
        with open(out, "w") as f:
            json.dump({"rows": rows, "connections_per_host": int(conns),
                       "row_bytes": widths,
                       "cpus": os.cpu_count()}, f, indent=1)
            f.write("\n")
    subprocess.run(["rm", "-rf", work], check=False)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
