"""The per-address limits hold across hosts (issue 17): three wardend
hosts on one database count one client address's attempts together
(table address_limits), so the address is stopped at the configured
limit in total, not three times it, by whichever host it asks; a success
forgives its attempt; and a restarted host still refuses the address.

Each test plays an address of its own through X-Forwarded-For (the hosts
trust 127.0.0.1), so its count starts from nothing."""

import itertools

import pytest

import wardenlib as W

LIMIT = 6
HOSTS = 3
ADDRS = itertools.count(1)


@pytest.fixture(scope="module")
def hosts(workdir, daemon):
    ds = [W.start_own(workdir, daemon, "shared-limits-%d" % i,
                      addr_login_limit=str(LIMIT), addr_login_window="1m",
                      addr_register_limit=str(LIMIT),
                      addr_register_window="10m",
                      trusted_proxies="127.0.0.1")
          for i in range(HOSTS)]
    yield ds
    for d in ds:
        W.stop_own(d)


def _addr():
    return "198.51.100.%d" % (100 + next(ADDRS))


def _bad_login(d, addr):
    return d.client.login_raw(W.uniq("nobody"), "not the password",
                              headers={"X-Forwarded-For": addr})


def _row(scope, addr):
    return W.psql("SELECT count FROM address_limits WHERE scope = '%s' "
                  "AND addr = '%s'" % (scope, addr))


def _assert_limited(r):
    assert r.status == 429, r
    retry = r.header("Retry-After")
    assert retry is not None and retry.isdigit() and 1 <= int(retry) <= 60, r


def test_failed_logins_spread_over_three_hosts_stop_at_the_limit_in_total(hosts):
    addr = _addr()
    answers = [_bad_login(hosts[i % HOSTS], addr) for i in range(HOSTS * LIMIT)]
    assert [r.status for r in answers[:LIMIT]] == [400] * LIMIT, answers
    for r in answers[LIMIT:]:
        _assert_limited(r)
    # Every host refuses it now, not only the one that saw the last.
    for d in hosts:
        _assert_limited(_bad_login(d, addr))
    # The count: the limit, plus one for "refused at least once".
    assert _row("login", addr) == [str(LIMIT + 1)]


def test_failed_logins_sent_at_once_to_three_hosts_pass_the_limit_in_total(hosts):
    addr = _addr()
    per_host = LIMIT
    n = HOSTS * per_host
    results = W.at_once(n, lambda i: _bad_login(hosts[i % HOSTS], addr))
    statuses = [getattr(r, "status", r) for r in results]
    assert all(s in (400, 429) for s in statuses), statuses
    tried = statuses.count(400)
    assert tried <= LIMIT, statuses
    # What the burst left (a 429 of a full hasher share is forgiven) is
    # used up one by one, over the hosts, to exactly the limit.
    i = 0
    while True:
        r = _bad_login(hosts[i % HOSTS], addr)
        i += 1
        if r.status == 429:
            break
        assert r.status == 400, r
        tried += 1
        assert tried <= LIMIT
    assert tried == LIMIT, statuses


def test_a_successful_login_on_another_host_forgives_its_attempt(hosts, daemon):
    u = daemon.client.new_user("shared", login=False)
    addr = _addr()
    for i in range(LIMIT - 1):
        assert _bad_login(hosts[i % HOSTS], addr).status == 400
    r = hosts[1].client.login_raw(u.username, u.password,
                                  headers={"X-Forwarded-For": addr})
    assert r.status == 200, r
    assert _row("login", addr) == [str(LIMIT - 1)]
    # The attempt the success took back is there for the next failure.
    assert _bad_login(hosts[2], addr).status == 400
    _assert_limited(_bad_login(hosts[0], addr))
    # And a right password is refused too once the address is over.
    _assert_limited(hosts[1].client.login_raw(
        u.username, u.password, headers={"X-Forwarded-For": addr}))


def test_the_limit_survives_a_host_restart(hosts):
    addr = _addr()
    for i in range(LIMIT):
        assert _bad_login(hosts[i % HOSTS], addr).status == 400
    _assert_limited(_bad_login(hosts[0], addr))
    # A restarted host remembers nothing: the database does.
    d = hosts[0]
    assert d.stop(timeout=10) == 0
    d.start(timeout=30)
    _assert_limited(_bad_login(d, addr))
    for other in hosts[1:]:
        _assert_limited(_bad_login(other, addr))


def test_registrations_spread_over_three_hosts_stop_at_the_limit_in_total(hosts):
    addr = _addr()
    answers = []
    for i in range(HOSTS * LIMIT):
        name = W.uniq("shreg")
        answers.append(hosts[i % HOSTS].client.post(
            "/api/v1/users", json_body={
                "username": name, "email": name + "@example.test",
                "password": W.strong_password()},
            headers={"X-Forwarded-For": addr}))
    assert [r.status for r in answers[:LIMIT]] == [201] * LIMIT, answers
    for r in answers[LIMIT:]:
        W.assert_problem(r, 429, "rate-limited")
        retry = r.header("Retry-After")
        assert retry is not None and retry.isdigit() and 1 <= int(retry) <= 600, r
    assert _row("register", addr) == [str(LIMIT + 1)]


def test_a_count_that_fails_is_answered_503_and_lets_nothing_through(hosts, daemon):
    u = daemon.client.new_user("shared503", login=False)
    addr = _addr()
    W.psql("ALTER TABLE address_limits RENAME TO address_limits_away")
    try:
        r = hosts[0].client.login_raw(u.username, u.password,
                                      headers={"X-Forwarded-For": addr})
        W.assert_problem(r, 503, "unavailable")
        assert r.header("Retry-After") == "1", r
        assert "refresh_token" not in r.body.decode()
    finally:
        W.psql("ALTER TABLE address_limits_away RENAME TO address_limits")
    r = hosts[0].client.login_raw(u.username, u.password,
                                  headers={"X-Forwarded-For": addr})
    assert r.status == 200, r
