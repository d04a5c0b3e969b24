"""One client address may attempt only addr_register_limit registrations
per addr_register_window: past it, 429 with Retry-After before any work,
while other addresses register as before."""

import pytest

import wardenlib as W

LIMIT = 3


@pytest.fixture(scope="module")
def limited(workdir, daemon):
    """A wardend of its own with a small registration limit, believing
    X-Forwarded-For from 127.0.0.1 so that the tests can play addresses."""
    d = W.start_own(workdir, daemon, "register-limit",
                    addr_register_limit=str(LIMIT), addr_register_window="10m",
                    trusted_proxies="127.0.0.1")
    yield d
    W.stop_own(d)


def _register(c, addr, username=None, body=None):
    username = username or W.uniq("lim")
    if body is None:
        body = {"username": username, "email": username + "@example.test",
                "password": W.strong_password()}
    return c.post("/api/v1/users", json_body=body,
                  headers={"X-Forwarded-For": addr})


def test_an_address_past_its_limit_gets_429_with_retry_after(limited):
    c = limited.client
    taken = W.uniq("lim")
    assert _register(c, "198.51.100.7", taken).status == 201
    # Taken names and bad bodies count as attempts too.
    assert _register(c, "198.51.100.7", taken).status == 409
    assert _register(c, "198.51.100.7", body={"username": "-"}).status == 422
    r = _register(c, "198.51.100.7")
    W.assert_problem(r, 429, "rate-limited")
    retry = r.header("Retry-After")
    assert retry is not None and retry.isdigit() and 1 <= int(retry) <= 600, r
    # Still refused, and nothing was created meanwhile.
    name = W.uniq("lim")
    assert _register(c, "198.51.100.7", name).status == 429
    assert W.psql("SELECT count(*) FROM users WHERE username = '%s'" % name) == ["0"]


def test_other_addresses_register_meanwhile(limited):
    c = limited.client
    for i in range(LIMIT):
        assert _register(c, "198.51.100.8").status == 201
    assert _register(c, "198.51.100.8").status == 429
    assert _register(c, "198.51.100.9").status == 201


def test_an_ipv6_network_counts_as_one_address(limited):
    c = limited.client
    for i in range(LIMIT):
        assert _register(c, "2001:db8:7:7::%x" % (i + 1)).status == 201
    r = _register(c, "2001:db8:7:7::ff")
    W.assert_problem(r, 429, "rate-limited")
