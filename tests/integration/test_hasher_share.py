"""Registration must not starve logins: taken names never reach the
hasher, and one client address gets only a share of the hasher queue."""

import pytest

import wardenlib as W

HASHER_QUEUE = 8


@pytest.fixture(scope="module")
def shared(workdir, daemon):
    """A wardend of its own (same database and keys), so that the hasher's
    counts are this module's alone: a small hasher queue, hashes slow
    enough that a flood is really in flight at once, and X-Forwarded-For
    believed from 127.0.0.1 so that the tests can play client addresses."""
    try:
        d = W.Daemon(workdir, "shared", key_dir=daemon.key_dir,
                     hasher_queue=str(HASHER_QUEUE), hasher_workers="1",
                     argon2_memory="64M", argon2_iterations="3",
                     trusted_proxies="127.0.0.1")
        d.start(timeout=30)
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    yield d
    alive = d.alive()
    status = d.stop(timeout=10)
    assert alive and status == 0, "shared wardend: alive=%r exit=%r; log:\n%s" % (
        alive, status, W.log_tail(d.log))


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
