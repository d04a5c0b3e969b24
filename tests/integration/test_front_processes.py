"""Several front processes (front_processes, daemon/fronts.h): every front
accepts its share of the connections, /metrics counts the requests of all of
them, a stop or reload signal reaches each, and a front that dies stops
the service with an error rather than leaving it short-handed."""

import os
import signal
import time

import pytest

import wardenlib as W

FRONTS = 3
HEALTHZ = 'warden_http_requests_total{route="/healthz",method="GET",status="200"}'


def _children(pid):
    """The pids of pid's children that run wardend."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == pid and comm == "wardend":
            out.append(int(entry))
    return sorted(out)


def _wait_for(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def _log_count(d, text):
    with open(d.log, errors="replace") as f:
        return f.read().count(text)


@pytest.fixture
def fronts(workdir, daemon):
    d = W.start_own(workdir, daemon, W.uniq("fronts"),
                    front_processes=str(FRONTS))
    yield d
    if d.alive():
        W.stop_own(d)


def test_the_configured_number_of_fronts_runs(fronts):
    assert _wait_for(lambda: len(_children(fronts.proc.pid)) == FRONTS - 1)


def test_each_fronts_hasher_hashes_on_its_share_of_the_cpus(fronts):
    share = max(1, (os.cpu_count() or 1) // FRONTS)
    line = "%d workers, queue of" % share
    assert _wait_for(lambda: _log_count(fronts, line) == FRONTS)


def _bytes_read(pid):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    raise AssertionError("no rchar in /proc/%d/io" % pid)


def test_every_front_takes_its_share_of_the_connections(fronts):
    """Each front listens on a socket of its own (SO_REUSEPORT), so that
    the kernel shares new connections out; one shared socket gave a burst
    of connections to whichever front woke first."""
    assert _wait_for(lambda: len(_children(fronts.proc.pid)) == FRONTS - 1)
    pids = [fronts.proc.pid] + _children(fronts.proc.pid)
    before = {p: _bytes_read(p) for p in pids}
    pad = "x" * 2048
    n = 150
    for _ in range(n):
        c = W.Client(fronts.host, fronts.port)
        assert c.get("/healthz", headers={"X-Pad": pad}).status == 200
    # Each front read the 2 KiB of at least a fifth of its even share.
    for p in pids:
        assert _bytes_read(p) - before[p] >= (n // FRONTS // 5) * 2048, \
            {q: _bytes_read(q) - before[q] for q in pids}


def test_metrics_count_the_requests_of_every_front(fronts):
    c = fronts.client
    before = c.metric(HEALTHZ, default=0)
    for _ in range(60):
        # A connection each: the kernel hands them to any front.
        assert W.Client(fronts.host, fronts.port).get("/healthz").status == 200
    assert _wait_for(lambda: c.metric(HEALTHZ) == before + 60, timeout=3)
    # The pool gauge adds up every front's share (published each second).
    assert _wait_for(lambda: c.metric("warden_db_pool_size") >=
                     FRONTS, timeout=5)


def test_a_reload_reaches_every_front(fronts):
    before = _log_count(fronts, "reload: configuration reloaded")
    os.kill(fronts.proc.pid, signal.SIGHUP)
    assert _wait_for(lambda: _log_count(fronts, "reload: configuration reloaded")
                     == before + FRONTS)


def test_a_stop_ends_every_front(fronts):
    kids = _children(fronts.proc.pid)
    assert len(kids) == FRONTS - 1
    W.stop_own(fronts)
    for pid in kids:
        assert not os.path.exists("/proc/%d/stat" % pid) or \
            _wait_for(lambda: not os.path.exists("/proc/%d" % pid), timeout=5)


def test_a_front_that_dies_stops_the_service_with_an_error(fronts):
    assert _wait_for(lambda: len(_children(fronts.proc.pid)) == FRONTS - 1)
    kids = _children(fronts.proc.pid)
    os.kill(kids[0], signal.SIGKILL)
    status = fronts.proc.wait(timeout=20)
    assert status == 1
    assert "a front process ended unasked" in open(fronts.log).read()
    for pid in kids[1:]:
        assert _wait_for(lambda: not os.path.exists("/proc/%d" % pid), timeout=5)
