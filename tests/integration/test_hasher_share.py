"""Registration must not starve logins: taken names never reach the
hasher, and one client address gets only a share of the hasher queue."""

import concurrent.futures
import threading
import time

import pytest

import wardenlib as W

HASHER_QUEUE = 8


@pytest.fixture(scope="module")
def shared(workdir, daemon):
    """A wardend of its own (same database and keys), so that the hasher's
    counts are this module's alone: a small hasher queue, hashes slow
    enough that a flood is really in flight at once, and X-Forwarded-For
    believed from 127.0.0.1 so that the tests can play client addresses."""
    d = W.start_own(workdir, daemon, "shared",
                    hasher_queue=str(HASHER_QUEUE), hasher_workers="1",
                    argon2_memory="64M", argon2_iterations="3",
                    trusted_proxies="127.0.0.1")
    yield d
    W.stop_own(d)


def _metric(client, name):
    """The value of one sample of /metrics, by its name and labels."""
    r = client.get("/metrics")
    assert r.status == 200, r
    for line in r.body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError("no %s in /metrics" % name)


def _hashes_answered(client):
    """Hash and verify requests the hasher has answered so far."""
    return int(_metric(client, 'warden_hasher_operation_duration_seconds_count{kind="hash"}'))


def test_taken_names_are_refused_without_hashing(shared):
    c = shared.client
    u = c.new_user("taken", login=False)
    before = _hashes_answered(c)
    for i in range(5):
        r = c.register_raw(u.username.upper(), "other%d-%s" % (i, u.email),
                           W.strong_password())
        p = W.assert_problem(r, 409, "conflict")
        assert "username" in p["detail"], r
        r = c.register_raw(W.uniq("free"), u.email.upper(), W.strong_password())
        p = W.assert_problem(r, 409, "conflict")
        assert "e-mail" in p["detail"], r
    assert _hashes_answered(c) == before
    # a free name still registers (and is hashed)
    c.new_user("free", login=False)
    assert _hashes_answered(c) == before + 1


SHARE = max(2, HASHER_QUEUE // 4)      # hshare_limit(): the flooder's slots
FLOODERS = 12                           # more than the whole queue


def _register_from(c, headers):
    name = W.uniq("flood")
    return c.post("/api/v1/users", headers=headers,
                  json_body={"username": name, "email": "%s@example.test" % name,
                             "password": W.strong_password()})


def _wait_for_depth(c, depth):
    deadline = time.monotonic() + 30
    while c.hash_queue_depth() < depth:
        assert time.monotonic() < deadline, "the flood never reached the hasher"
        time.sleep(0.01)


def test_a_flooding_address_gets_429_and_logins_from_others_succeed(shared):
    c = shared.client
    u = c.new_user("victim", login=False)
    flooder = {"X-Forwarded-For": "203.0.113.66"}
    victim = {"X-Forwarded-For": "198.51.100.66"}
    stop = threading.Event()
    answers = []
    lock = threading.Lock()

    def flood():
        while not stop.is_set():
            r = _register_from(c, flooder)
            with lock:
                answers.append(r)
            if r.status == 429:
                time.sleep(0.05)      # pace the refused ones; not a measure

    threads = [threading.Thread(target=flood) for _ in range(FLOODERS)]
    for t in threads:
        t.start()
    try:
        _wait_for_depth(c, SHARE)
        # Only the flooder hashes now: it never holds more than its share.
        depths = [c.hash_queue_depth() for _ in range(20)]
        logins = [c.login_raw(u.username, u.password, headers=victim)
                  for _ in range(3)]
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert max(depths) <= SHARE, depths
    assert [r.status for r in logins] == [200] * 3, logins
    statuses = [r.status for r in answers]
    assert set(statuses) <= {201, 429}, statuses
    assert statuses.count(429) >= 1, statuses
    assert statuses.count(201) >= 1, statuses
    for r in answers:
        if r.status == 429:
            W.assert_problem(r, 429, "rate-limited")
            retry = r.header("Retry-After")
            assert retry and retry.isdigit() and int(retry) >= 1, r
    # Its slots come back with the answers: the flooder may register again.
    deadline = time.monotonic() + 30
    while c.hash_queue_depth() > 0:
        assert time.monotonic() < deadline, "hashes still in flight"
        time.sleep(0.01)
    assert _register_from(c, flooder).status == 201


def test_a_burst_of_logins_from_one_address_gets_too_many_requests(shared):
    c = shared.client
    burst = {"X-Forwarded-For": "203.0.113.67"}
    n = 8
    barrier = threading.Barrier(n)

    def attempt(_):
        barrier.wait()
        return c.login_raw(W.uniq("ghost"), W.strong_password(), headers=burst)

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        answers = list(pool.map(attempt, range(n)))
    statuses = [r.status for r in answers]
    # Unknown users: a dummy verification each, or refused before it.
    assert set(statuses) <= {400, 429}, statuses
    assert statuses.count(429) >= 1, statuses
    for r in answers:
        if r.status == 429:
            W.assert_oauth_error(r, "too_many_requests", status=429)
            assert r.header("Retry-After"), r
        else:
            W.assert_oauth_error(r, "invalid_grant")
