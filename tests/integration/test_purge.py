"""The periodic purge of expired rows (daemon/api/purger.c): what no request
can use any more goes, what still can stays, and audit events go only with a
retention.  A host of the module's own purges every second."""

import os
import re
import time

import pytest

import wardenlib as W


@pytest.fixture(scope="module")
def purging(daemon, workdir):
    d = W.start_own(workdir, daemon, "purging", purge_interval="1s",
                    audit_retention="1h")
    yield d
    W.stop_own(d)


def _hash():
    return "decode('%s', 'hex')" % os.urandom(32).hex()


def _refresh(user, expires):
    return W.psql(
        "INSERT INTO refresh_tokens (user_id, family, token_hash, expires_at) "
        "VALUES ('%s', gen_random_uuid(), %s, now() + interval '%s') RETURNING id"
        % (user.id, _hash(), expires))[0]


def _session(user, idle, absolute):
    return W.psql(
        "INSERT INTO browser_sessions (token_hash, user_id, token_version, "
        "idle_expires_at, expires_at) SELECT %s, id, token_version, "
        "now() + interval '%s', now() + interval '%s' FROM users WHERE id = '%s' "
        "RETURNING id" % (_hash(), idle, absolute, user.id))[0]


def _link(user, purpose, expires):
    W.psql("INSERT INTO one_time_tokens (user_id, purpose, token_hash, token_version, "
           "email, expires_at) SELECT id, '%s', %s, token_version, email, "
           "now() + interval '%s' FROM users WHERE id = '%s'"
           % (purpose, _hash(), expires, user.id))
    return purpose


def _audit(user, age):
    return W.psql("INSERT INTO audit_events (at, user_id, event) VALUES "
                  "(now() - interval '%s', '%s', 'logout') RETURNING id"
                  % (age, user.id))[0]


def _exists(table, column, value, user):
    return W.psql("SELECT count(*) FROM %s WHERE %s = '%s' AND user_id = '%s'"
                  % (table, column, value, user.id)) == ["1"]


def _purged_total(d, table):
    body = d.client.get("/metrics").body.decode()
    m = re.search(r'^warden_purged_rows_total\{table="%s"\} (\d+)$' % table, body, re.M)
    assert m, body
    return int(m.group(1))


def test_audit_events_are_kept_without_a_retention(daemon, workdir, client):
    """A host without audit_retention purges, and never an audit event.
    (Runs before the module's host with a retention is started.)"""
    d = W.start_own(workdir, daemon, "keeping", purge_interval="1s")
    try:
        u = client.new_user("keep")
        old = _audit(u, "3650 days")
        expired = _refresh(u, "-2 days")
        deadline = time.monotonic() + 20
        while _exists("refresh_tokens", "id", expired, u) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _exists("refresh_tokens", "id", expired, u), "no purge ran"
        assert _exists("audit_events", "id", old, u)
        assert _purged_total(d, "audit_events") == 0
    finally:
        W.stop_own(d)


def test_expired_rows_are_purged_and_live_ones_kept(purging, daemon, client):
    u = client.new_user("purge")
    # Either host may purge a row (the session's every minute): their sum.
    before = sum(_purged_total(d, "refresh_tokens") for d in (purging, daemon))
    gone = {
        "refresh": _refresh(u, "-2 days"),
        "idle": _session(u, "-1 minute", "1 day"),
        "absolute": _session(u, "-2 hours", "-1 hour"),
        "audit": _audit(u, "2 hours"),
    }
    _link(u, "password_reset", "-1 minute")
    kept = {
        # A day's grace past its expiry before a refresh token goes.
        "refresh recently expired": ("refresh_tokens", "id", _refresh(u, "-1 hour")),
        "refresh live": ("refresh_tokens", "id", _refresh(u, "1 day")),
        "session live": ("browser_sessions", "id", _session(u, "1 hour", "1 day")),
        "audit recent": ("audit_events", "id", _audit(u, "10 minutes")),
        "link live": ("one_time_tokens", "purpose", _link(u, "verify_email", "1 hour")),
    }

    def all_gone():
        return (not _exists("refresh_tokens", "id", gone["refresh"], u)
                and not _exists("browser_sessions", "id", gone["idle"], u)
                and not _exists("browser_sessions", "id", gone["absolute"], u)
                and not _exists("audit_events", "id", gone["audit"], u)
                and not _exists("one_time_tokens", "purpose", "password_reset", u))
    deadline = time.monotonic() + 20
    while not all_gone() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert all_gone(), "expired rows still there after 20 s of 1 s purges"
    for name, (table, column, value) in kept.items():
        assert _exists(table, column, value, u), name
    assert sum(_purged_total(d, "refresh_tokens") for d in (purging, daemon)) > before
    # The user's own login still works: nothing of it was touched.
    assert u.me().status == 200
