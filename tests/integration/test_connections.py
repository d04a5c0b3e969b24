"""Connection exhaustion: one client address cannot take every connection,
nobody gets more than max_connections, and a client that never finishes
its request head is cut off, while other clients are served throughout.

Every client here is on the loopback: 127.0.0.1, 127.0.0.2, ... are all
this host's, so a test plays several client addresses by binding its
sockets to them."""

import select
import socket
import time

import pytest

import wardenlib as W

PER_ADDRESS = 4
TOTAL = 10
WAIT = 30           # seconds a test waits for what is due at once


@pytest.fixture(scope="module")
def capped(workdir, daemon):
    """A wardend with small connection caps (and a read_timeout that
    leaves the tests' idle connections alone)."""
    d = W.start_own(workdir, daemon, "capped",
               max_connections=str(TOTAL),
               max_connections_per_address=str(PER_ADDRESS),
               read_timeout="5m")
    yield d
    W.stop_own(d)


@pytest.fixture(scope="module")
def deadline(workdir, daemon):
    """A wardend with a short read_timeout, and libevent's own timeouts
    (request_timeout) far longer, so that only the deadline can cut a
    slow client off."""
    d = W.start_own(workdir, daemon, "deadline", read_timeout="2s",
               request_timeout="1h")
    yield d
    W.stop_own(d)


def connect(d, source="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(WAIT)
    s.bind((source, 0))
    s.connect((d.host, d.port))
    return s


def read_all(s):
    """Everything until the server closes (b"" when it closes at once)."""
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def assert_refused(d, source="127.0.0.1"):
    """A connection from source is answered 503 with Retry-After and
    closed, without being asked anything."""
    s = connect(d, source)
    try:
        data = read_all(s)
    finally:
        s.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 503 "), data
    assert "\r\nRetry-After: 1" in head, data
    assert "\r\nContent-Type: application/problem+json" in head, data
    assert "\r\nX-Request-Id: " in head, data


def ask(s, close=False):
    """GET /readyz on the open connection s; True when answered 200.  With
    close, asks the server to close the connection after its answer, and
    reads until it has: the server has let go of it when this returns."""
    s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n%s\r\n"
              % (b"Connection: close\r\n" if close else b""))
    if close:
        data = read_all(s)
    else:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.startswith(b"HTTP/1.1 200 ")


def served(d, source="127.0.0.1"):
    """A connection from source is answered 200, then closed."""
    s = connect(d, source)
    try:
        return ask(s, close=True)
    finally:
        s.close()


def release(conns):
    """Closes the connections, each after a last request: the server has
    let go of them all when this returns."""
    for s in conns:
        try:
            ask(s, close=True)
        finally:
            s.close()


def refusal_lines(d):
    with open(d.log, "rb") as f:
        return [line for line in f.read().decode("utf-8", "replace").splitlines()
                if 'msg="connections refused"' in line]


def test_one_address_cannot_take_every_connection(capped):
    lines = len(refusal_lines(capped))
    # Idle connections from 127.0.0.1, up to its cap: the server accepts
    # them in order, so the ones below come after them.
    idle = [connect(capped) for _ in range(PER_ADDRESS)]
    try:
        for _ in range(2 * PER_ADDRESS):
            assert_refused(capped)
        # another client is served meanwhile
        assert served(capped, "127.0.0.2")
        # and the idle connections were kept: each is served when it asks
        for s in idle:
            assert ask(s)
    finally:
        release(idle)
    # once they are closed, 127.0.0.1 is served again
    assert served(capped)
    # refused and logged, but in fewer lines than refusals
    new = refusal_lines(capped)[lines:]
    assert new, "no refusal logged"
    assert len(new) < 2 * PER_ADDRESS, new
    assert "over_max_connections_per_address=" in new[0], new


def test_nobody_gets_more_than_max_connections(capped):
    # TOTAL connections from several addresses, none over its own cap
    idle = [connect(capped, "127.0.0.%d" % (10 + i // PER_ADDRESS))
            for i in range(TOTAL)]
    try:
        assert_refused(capped, "127.0.0.99")
        # the connections in are served
        for s in idle:
            assert ask(s)
    finally:
        release(idle)
    assert served(capped, "127.0.0.99")


def test_a_slow_client_that_never_ends_its_head_is_dropped(deadline):
    """One header byte every 0.2 s keeps libevent's read timeout from ever
    running out; the deadline for a whole request cuts it off all the
    same, long before its head reaches max_header_size."""
    s = connect(deadline)
    dropped = False
    answer = b""
    try:
        s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        sent = 0
        give_up = time.monotonic() + 120
        while time.monotonic() < give_up and sent < 4096:
            try:
                s.sendall(b"a")
                sent += 1
            except (BrokenPipeError, ConnectionResetError):
                dropped = True
                break
            if sent == 3:
                # meanwhile, others are served, from its address too
                assert served(deadline, "127.0.0.1")
            readable, _, _ = select.select([s], [], [], 0.2)
            if readable:
                answer = read_all(s)
                dropped = True
                break
    finally:
        s.close()
    assert dropped, "a slow client kept its connection for 2 minutes"
    assert answer == b"", answer


def test_a_client_that_sends_nothing_is_dropped(deadline):
    s = connect(deadline)
    try:
        assert read_all(s) == b""
    finally:
        s.close()
    assert served(deadline)
