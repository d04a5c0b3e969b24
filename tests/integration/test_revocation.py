"""Revocation reaches forward-auth: GET /api/v1/auth/verify stops passing a
token within one second of a logout, a disable, a removed role or a
deletion of its user, on every host (daemon/api/revocations.h: PostgreSQL
NOTIFY from the trigger of migration 0002), also after the listening
connection dropped (the catch-up from user_changes)."""

import time

import pytest

import wardenlib as W

VERIFY = "/api/v1/auth/verify"
BOUND = 1.0     # seconds: the contract's bound (API.md, the verify row)
POLL = 0.05


def _passes(client, token, role=None):
    path = VERIFY + ("?role=" + role if role else "")
    r = client.get(path, token=token)
    assert r.status in (204, 401, 403), r
    return r.status == 204


def _passes_within_bound(client, token, role=None):
    deadline = time.monotonic() + BOUND
    while not _passes(client, token, role):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)
    return True


def _stops_within_bound(client, token, role=None):
    """Polls verify every 50 ms; True as soon as it refuses, False when it
    still passes after BOUND."""
    deadline = time.monotonic() + BOUND
    while True:
        if not _passes(client, token, role):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)


@pytest.fixture(scope="module")
def host_b(workdir, daemon):
    d = W.start_own(workdir, daemon, "revocation-b")
    yield d
    W.stop_own(d)


def test_logout_stops_verify(client, user):
    assert _passes(client, user.access)
    r = client.post("/api/v1/auth/logout", token=user.access)
    assert r.status == 204, r
    assert _stops_within_bound(client, user.access)
    # The same user's next login passes again.
    user.login()
    assert _passes_within_bound(client, user.access)


def test_disable_stops_verify(client, admin, user):
    assert _passes(client, user.access)
    r = client.patch("/api/v1/users/" + user.id, json_body={"is_active": False},
                     token=admin.access)
    assert r.status == 200, r
    assert _stops_within_bound(client, user.access)


def test_role_removal_stops_verify(client, admin, user):
    r = client.patch("/api/v1/users/" + user.id, json_body={"roles": ["editor"]},
                     token=admin.access)
    assert r.status == 200, r
    user.login()
    assert _passes_within_bound(client, user.access, "editor")
    r = client.patch("/api/v1/users/" + user.id, json_body={"roles": []},
                     token=admin.access)
    assert r.status == 200, r
    assert _stops_within_bound(client, user.access, "editor")


def test_role_removed_behind_the_api_stops_verify_of_that_role(client, admin, user):
    """A role taken away without a token version bump (an operator's SQL):
    ?role= checks the current roles, the token alone still passes."""
    r = client.patch("/api/v1/users/" + user.id, json_body={"roles": ["editor"]},
                     token=admin.access)
    assert r.status == 200, r
    user.login()
    assert _passes_within_bound(client, user.access, "editor")
    W.psql("UPDATE users SET roles = '{}' WHERE id = '%s'" % user.id)
    assert _stops_within_bound(client, user.access, "editor")
    r = client.get(VERIFY + "?role=editor", token=user.access)
    assert r.status == 403, r
    assert _passes(client, user.access)


def test_deletion_stops_verify(client, admin, user):
    assert _passes(client, user.access)
    r = client.delete("/api/v1/users/" + user.id, token=admin.access)
    assert r.status == 204, r
    assert _stops_within_bound(client, user.access)


def test_change_on_one_host_reaches_the_other(client, admin, host_b):
    user = client.new_user("revb")
    assert _passes(host_b.client, user.access)
    assert _passes(client, user.access)
    r = client.post("/api/v1/auth/logout", token=user.access)
    assert r.status == 204, r
    assert _stops_within_bound(host_b.client, user.access)

    other = client.new_user("revb")
    assert _passes(host_b.client, other.access)
    r = client.patch("/api/v1/users/" + other.id, json_body={"is_active": False},
                     token=admin.access)
    assert r.status == 200, r
    assert _stops_within_bound(host_b.client, other.access)


def test_change_while_the_listener_is_down_is_caught_up(client, host_b):
    user = client.new_user("revdrop")
    assert _passes(client, user.access)
    assert _passes(host_b.client, user.access)
    # Ends every wardend's LISTEN connection (waiting until each is gone),
    # then makes the change at once: its NOTIFY reaches nobody.
    out = W.psql("WITH t AS (SELECT count(*) FILTER (WHERE "
                 "pg_terminate_backend(pid, 5000)) AS n FROM pg_stat_activity "
                 "WHERE application_name = 'wardend-listen') "
                 "UPDATE users SET token_version = token_version + 1 "
                 "WHERE id = '%s' AND (SELECT n FROM t) >= 0 "
                 "RETURNING (SELECT n FROM t)" % user.id)
    assert int(out[0]) >= 2, out
    # Reconnecting takes a back-off of 50..100 ms: then the catch-up.
    assert _stops_within_bound(client, user.access)
    assert _stops_within_bound(host_b.client, user.access)
    deadline = time.monotonic() + 10
    while W.log_tail(host_b.log, 100000).count("revocations: caught up") < 2:
        assert time.monotonic() < deadline, W.log_tail(host_b.log)
        time.sleep(0.1)
    r = host_b.client.get("/metrics")
    assert r.status == 200, r
    assert b"\nwarden_revocation_listening 1\n" in r.body, r.body
    # And listening again: the next change is told as before.
    other = client.new_user("revdrop")
    assert _passes(host_b.client, other.access)
    r = client.post("/api/v1/auth/logout", token=other.access)
    assert r.status == 204, r
    assert _stops_within_bound(host_b.client, other.access)


def test_a_new_host_knows_the_changes_made_before_it_started(workdir, daemon, client):
    user = client.new_user("revnew")
    r = client.post("/api/v1/auth/logout", token=user.access)
    assert r.status == 204, r
    d = W.start_own(workdir, daemon, "revocation-c")
    try:
        # Ready (/readyz) only once caught up: no waiting needed.
        assert not _passes(d.client, user.access)
        fresh = client.new_user("revnew")
        assert _passes(d.client, fresh.access)
    finally:
        W.stop_own(d)
