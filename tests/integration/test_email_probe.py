"""Changing one's e-mail address tells whether the new one is registered
(409 or 200): the rate of such changes is bounded per user and per client
address, so that the registered addresses cannot be probed at speed."""

import pytest

import wardenlib as W


LIMIT = 5


@pytest.fixture(scope="module")
def bounded(workdir, daemon):
    d = W.start_own(workdir, daemon, "email-limit", email_change_limit=str(LIMIT),
                    email_change_window="1h", trusted_proxies="127.0.0.1")
    yield d
    W.stop_own(d)


def change(client, user, email, addr):
    return client.patch("/api/v1/users/me", json_body={"email": email}, token=user.access,
                        headers={"X-Forwarded-For": addr})


def test_email_probing_is_bounded_per_user(bounded):
    c = bounded.client
    prober = c.new_user("prober")
    taken = c.new_user("victim")
    answers = [change(c, prober, "%s@example.test" % (taken.username if i % 2 else W.uniq("free")),
                      "198.51.100.%d" % i).status for i in range(LIMIT + 3)]
    # Each attempt counted, taken or free: then 429 whatever the address.
    assert all(s in (200, 409) for s in answers[:LIMIT]), answers
    assert 409 in answers[:LIMIT], answers
    r = change(c, prober, "%s@example.test" % taken.username, "198.51.100.200")
    W.assert_problem(r, 429, "rate-limited")
    assert int(r.header("Retry-After")) > 0, r
    # Other changes of the same user, and other users, go on.
    r = c.patch("/api/v1/users/me", json_body={"full_name": "P. Rober"}, token=prober.access)
    assert r.status == 200, r
    assert change(c, taken, W.uniq("new") + "@example.test", "198.51.100.201").status == 200


def test_email_probing_is_bounded_per_address(bounded):
    """Many accounts from one address share its bound."""
    c = bounded.client
    addr = "203.0.113.7"
    users = [c.new_user("many") for _ in range(LIMIT + 1)]
    statuses = [change(c, u, W.uniq("e") + "@example.test", addr).status for u in users]
    assert statuses[:LIMIT] == [200] * LIMIT, statuses
    assert statuses[LIMIT] == 429, statuses
