"""Login throttling per account and per client address, and clients that
go away mid-request."""

import socket
import time

import pytest

import wardenlib as W

ADDR_LIMIT = 3


@pytest.fixture(scope="module")
def limited(workdir, daemon):
    """A second wardend (same database and keys) with a low per-address
    limit that believes X-Forwarded-For from 127.0.0.1, so the tests can
    play several client addresses without blocking the main daemon."""
    d = W.start_own(workdir, daemon, "limited",
                    addr_login_limit=str(ADDR_LIMIT), addr_login_window="1m",
                    trusted_proxies="127.0.0.1")
    yield d
    W.stop_own(d)


@pytest.fixture(scope="module")
def slow(workdir, daemon):
    """A wardend whose hashes take long enough that a burst of logins is
    really in flight at once (the main one hashes with 1M in a few ms)."""
    d = W.start_own(workdir, daemon, "slow", argon2_memory="64M",
                    argon2_iterations="3", hasher_workers="1")
    yield d
    W.stop_own(d)


def test_guesses_in_flight_cannot_outrun_the_account_lock(slow):
    """Failures are recorded after the hash: a right password sent while
    wrong ones for the same account are still being verified, past what
    the lock allows, is refused like a locked account."""
    import concurrent.futures
    c = slow.client
    u = c.new_user("burst", login=False)
    wrong = W.LOGIN_MAX_FAILURES + 1

    def attempt(pw):
        return c.login_raw(u.username, pw).status

    with concurrent.futures.ThreadPoolExecutor(max_workers=wrong + 1) as pool:
        guesses = [pool.submit(attempt, "Wrong-%d-%s" % (i, u.password))
                   for i in range(wrong)]
        # Wait, by the daemon's own count, until enough wrong ones are at
        # the hasher to use up the allowance; a fixed sleep could let the
        # right one overtake them on a slow machine.
        deadline = time.monotonic() + 30
        while c.hash_queue_depth() < W.LOGIN_MAX_FAILURES:
            assert time.monotonic() < deadline, \
                "the wrong guesses never reached the hasher together"
            time.sleep(0.01)
        right = pool.submit(attempt, u.password)
        assert [g.result() for g in guesses] == [400] * wrong
        assert right.result() == 400


def test_account_locks_after_max_failures_and_unlocks_later(client, user):
    descs = set()
    for _ in range(W.LOGIN_MAX_FAILURES):
        b = W.assert_oauth_error(client.login_raw(user.username, "Wrong-" + user.password),
                                 "invalid_grant")
        descs.add(b.get("error_description"))
    # locked: the right password fails too, with the same answer
    b = W.assert_oauth_error(client.login_raw(user.username, user.password), "invalid_grant")
    descs.add(b.get("error_description"))
    assert len(descs) == 1, descs
    # a lock does not touch sessions already open
    assert user.me().status == 200
    rows = W.psql("select event from audit_events where user_id = '%s'" % user.id)
    assert "login_failed" in rows, rows
    time.sleep(W.LOGIN_LOCKOUT_MAX + 0.5)
    r = client.login_raw(user.username, user.password)
    assert r.status == 200, "still locked after login_lockout_max: %r" % r


def test_a_successful_login_resets_the_failure_count(client, user):
    for _ in range(W.LOGIN_MAX_FAILURES - 1):
        W.assert_oauth_error(client.login_raw(user.username, "Wrong-" + user.password),
                             "invalid_grant")
    assert client.login_raw(user.username, user.password).status == 200
    W.assert_oauth_error(client.login_raw(user.username, "Wrong-" + user.password),
                         "invalid_grant")
    assert client.login_raw(user.username, user.password).status == 200


def test_failures_from_one_address_get_429(limited):
    c = limited.client
    u = c.new_user("addr", login=False)
    attacker = {"X-Forwarded-For": "203.0.113.7"}
    for i in range(ADDR_LIMIT):
        r = c.login_raw(W.uniq("ghost"), W.strong_password(), headers=attacker)
        W.assert_oauth_error(r, "invalid_grant")
    r = c.login_raw(W.uniq("ghost"), W.strong_password(), headers=attacker)
    b = W.assert_oauth_error(r, "too_many_requests", status=429)
    retry = r.header("Retry-After")
    assert retry and retry.isdigit() and 1 <= int(retry) <= 60, r
    assert r.header("X-Request-Id") and r.header("X-Content-Type-Options") == "nosniff"
    # the right password from that address is refused as well
    r = c.login_raw(u.username, u.password, headers=attacker)
    W.assert_oauth_error(r, "too_many_requests", status=429)
    # another address is not affected, nor is the account
    r = c.login_raw(u.username, u.password, headers={"X-Forwarded-For": "198.51.100.9"})
    assert r.status == 200, r
    assert b.get("error") == "too_many_requests"


def test_wrong_current_passwords_count_against_the_address(limited, daemon):
    """A stolen access token must not let its holder guess the password at
    hashing speed through the routes that ask for it."""
    c = limited.client
    # Logged in through the session's wardend: 127.0.0.1's count is shared
    # by every host on the database, and this one's limit is low.
    u = daemon.client.new_user("guess")
    thief = {"X-Forwarded-For": "203.0.113.99"}
    for _ in range(ADDR_LIMIT):
        r = c.request("POST", "/api/v1/users/me/password", token=u.access,
                      json_body={"current_password": "Wrong-" + u.password,
                                 "new_password": W.strong_password()},
                      headers=thief)
        W.assert_problem(r, 403, "forbidden")
    r = c.request("DELETE", "/api/v1/users/me", token=u.access,
                  json_body={"password": u.password}, headers=thief)
    W.assert_problem(r, 429, "rate-limited")
    assert r.header("Retry-After"), r
    # the account itself is untouched
    assert u.me().status == 200


def test_parallel_failures_cannot_outrun_the_address_limit(limited):
    """Attempts are charged when they start: a burst sent at once gets no
    more past the check than the limit allows."""
    import concurrent.futures
    c = limited.client
    burst = {"X-Forwarded-For": "203.0.113.42"}

    def attempt(_):
        return c.login_raw(W.uniq("ghost"), W.strong_password(), headers=burst).status

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(attempt, range(12)))
    assert statuses.count(400) <= ADDR_LIMIT, statuses
    assert statuses.count(429) >= 12 - ADDR_LIMIT, statuses


def test_forwarded_for_from_an_untrusted_peer_is_ignored(client):
    # the main daemon trusts no proxy: a spoofed header changes nothing and
    # its limit (100000) is not reached; the request is answered normally
    r = client.login_raw(W.uniq("ghost"), W.strong_password(),
                         headers={"X-Forwarded-For": "203.0.113.7"})
    W.assert_oauth_error(r, "invalid_grant")


def _raw(daemon, data, read=False):
    s = socket.create_connection((daemon.host, daemon.port), timeout=10)
    try:
        s.sendall(data)
        if read:
            return s.recv(65536)
    finally:
        s.close()
    return None


def test_client_disconnecting_mid_body_does_not_hurt_the_daemon(daemon, client):
    for _ in range(5):
        _raw(daemon, b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
             b"\r\nContent-Length: 400\r\n\r\n{\"username\":\"abc")
    _raw(daemon, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")       # half a header
    _raw(daemon, b"")                                          # connect and go
    assert client.get("/healthz").status == 200
    assert daemon.alive()


def test_client_disconnecting_before_the_answer_does_not_hurt_the_daemon(daemon, client):
    u = client.new_user("gone", login=False)
    body = ("grant_type=password&username=%s&password=%s" % (u.username, u.password)).encode()
    req = (b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: "
           b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    for _ in range(5):
        _raw(daemon, req)
    time.sleep(0.5)   # let the hasher finish the abandoned logins
    assert client.get("/healthz").status == 200
    assert client.get("/readyz").status == 200
    assert client.login_raw(u.username, u.password).status == 200
    assert daemon.alive()


def test_pipelined_requests_are_answered_in_order(daemon):
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: one\r\n\r\n" \
          b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: two\r\nConnection: close\r\n\r\n"
    s = socket.create_connection((daemon.host, daemon.port), timeout=10)
    data = b""
    try:
        s.sendall(req)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    assert data.count(b"HTTP/1.1 200") == 2, data
    assert data.lower().index(b"x-request-id: one") < data.lower().index(b"x-request-id: two")


@pytest.mark.parametrize("framing", [
    b"Content-Length: 5\r\nContent-Length: 200\r\n",
    b"Content-Length: +5\r\n",
    b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
])
def test_ambiguous_length_cannot_smuggle_a_request(daemon, client, framing):
    """RFC 9112 6.3: a Content-Length said twice, not as digits, or beside
    Transfer-Encoding is a framing error: one 400, the connection closed,
    and the request hidden behind it never runs."""
    smuggled = W.uniq("smuggled")
    hidden = ('{"username":"%s","email":"%s@example.test","password":"%s"}'
              % (smuggled, smuggled, W.strong_password())).encode()
    data = (b"POST /api/v1/auth/revoke HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n" + framing +
            b"\r\ntoken" +
            b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(hidden) + hidden)
    with socket.create_connection((daemon.host, daemon.port), timeout=10) as s:
        s.sendall(data)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    assert got.startswith(b"HTTP/1.1 400 "), got
    assert got.count(b"HTTP/1.1 ") == 1, got
    assert b"Connection: close" in got, got
    r = client.post("/api/v1/users", json_body={"username": smuggled,
                                                "email": smuggled + "@example.test",
                                                "password": W.strong_password()})
    assert r.status == 201, "the smuggled registration ran: %r" % r
