"""What one connection can make wardend hold in memory: its body limit
and a small slack (http.h, HTTP_BODY_HARD_SLACK), not a megabyte.  The
attack: many connections each sending all but the last byte of the
largest body that is read at all."""

import os
import socket

import pytest

import wardenlib as W


CONNS = 300
MAX_BODY = 64 * 1024
SLACK = 16 * 1024


@pytest.fixture(scope="module")
def roomy(workdir, daemon):
    d = W.start_own(workdir, daemon, "memory", max_connections="4000",
                    max_connections_per_address="4000")
    yield d
    W.stop_own(d)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def head(length):
    return (b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % length)


def test_a_body_past_the_slack_is_refused_before_it_is_read(roomy):
    """The old 1 MiB slack: a declared length there is now refused at
    once, from the head alone."""
    with socket.create_connection((roomy.host, roomy.port), timeout=10) as s:
        s.sendall(head(MAX_BODY + 1024 * 1024))
        got = s.recv(4096)
    assert got.startswith(b"HTTP/1.1 413"), got


def test_connections_holding_bodies_cost_their_limit_only(roomy):
    pid = roomy.proc.pid
    before = rss_kib(pid)
    length = MAX_BODY + SLACK - 1
    conns = []
    try:
        for _ in range(CONNS):
            s = socket.create_connection((roomy.host, roomy.port), timeout=10)
            s.sendall(head(length) + b"x" * (length - 1))
            conns.append(s)
        # Every body is in: a request behind them all is answered.
        assert roomy.client.get("/healthz").status == 200
        grown = rss_kib(pid) - before
        per_conn = grown / CONNS
        print("memory: %d connections holding %d-byte bodies: +%d KiB RSS, %.0f KiB each"
              % (CONNS, length - 1, grown, per_conn))
        # Their bodies are at most max_body_size + slack each (80 KiB);
        # 1.06 MiB each before.
        assert per_conn < 2 * (MAX_BODY + SLACK) / 1024, per_conn
    finally:
        for s in conns:
            s.close()
    assert roomy.client.get("/healthz").status == 200
