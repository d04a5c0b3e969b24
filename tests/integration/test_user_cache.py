"""The user cache (daemon/api/user_cache.h): the bearer routes answer the
caller's row from memory, and a change made anywhere reaches every host's
memory at once: on two hosts sharing the database, a disable, a changed
role, a logout and an edited account on one host show on the other as
soon as PostgreSQL delivers its notification (polled for at most a
second), and on the host that made them on the very next request.  A host
whose listening connection is down answers nothing from memory."""

import time

import pytest

import wardenlib as W

ME = "/api/v1/users/me"
BOUND = 1.0     # seconds: as forward-auth's revocations (API.md)
HITS = 'warden_user_cache_lookups_total{result="hit"}'


def _within_bound(pred):
    deadline = time.monotonic() + BOUND
    while not pred():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture(scope="module")
def host_b(workdir, daemon):
    d = W.start_own(workdir, daemon, "usercache-b")
    yield d
    W.stop_own(d)


def _warm(client, user):
    """Reads the user twice, so that the second answer is the cache's."""
    for _ in range(2):
        r = client.get(ME, token=user.access)
        assert r.status == 200, r
    return r.json()


def test_a_callers_row_is_answered_from_memory(client, user):
    _warm(client, user)
    hits = client.metric(HITS)
    assert client.get(ME, token=user.access).status == 200
    assert client.metric(HITS) >= hits + 1


def test_a_disable_reaches_the_other_hosts_cache(client, admin, user, host_b):
    _warm(host_b.client, user)
    r = client.patch("/api/v1/users/" + user.id, json_body={"is_active": False},
                     token=admin.access)
    assert r.status == 200, r
    # This host at once, the other as soon as it hears.
    assert client.get(ME, token=user.access).status == 401
    assert _within_bound(lambda: host_b.client.get(ME, token=user.access).status == 401)


def test_a_changed_role_reaches_the_other_hosts_cache(client, admin, user, host_b):
    assert "auditor" not in _warm(host_b.client, user)["roles"]
    _warm(client, user)
    old = user.access
    r = client.patch("/api/v1/users/" + user.id,
                     json_body={"roles": ["user", "auditor"]}, token=admin.access)
    assert r.status == 200, r
    # A changed role ends the tokens that carried the old ones.
    assert client.get(ME, token=old).status == 401
    assert _within_bound(lambda: host_b.client.get(ME, token=old).status == 401)
    # A token with the new role is good on every host at once, though
    # host B may not have heard yet: it is newer than what it holds.
    user.login()
    for c in (client, host_b.client):
        r = c.get(ME, token=user.access)
        assert r.status == 200, r
        assert "auditor" in r.json()["roles"]


def test_a_logout_reaches_the_other_hosts_cache(client, user, host_b):
    _warm(host_b.client, user)
    _warm(client, user)
    r = client.post("/api/v1/auth/logout", token=user.access)
    assert r.status == 204, r
    assert client.get(ME, token=user.access).status == 401
    assert _within_bound(lambda: host_b.client.get(ME, token=user.access).status == 401)


def test_an_edited_account_shows_at_once_here_and_soon_there(client, user, host_b):
    _warm(host_b.client, user)
    _warm(client, user)
    name = "Renamed %s" % W.uniq("n")
    r = client.patch(ME, json_body={"full_name": name}, token=user.access)
    assert r.status == 200, r
    assert client.get(ME, token=user.access).json()["full_name"] == name
    assert _within_bound(lambda: host_b.client.get(ME, token=user.access)
                         .json().get("full_name") == name)


def test_a_change_behind_the_api_reaches_the_cache(client, user, host_b):
    _warm(host_b.client, user)
    out = host_b.wardenctl("user", "disable", user.username)
    assert out.returncode == 0, out.stdout + out.stderr
    assert _within_bound(lambda: host_b.client.get(ME, token=user.access).status == 401)
    assert _within_bound(lambda: client.get(ME, token=user.access).status == 401)


def test_a_change_while_the_listener_is_down_is_not_answered_from_memory(
        client, host_b):
    user = client.new_user("ucdrop")
    _warm(host_b.client, user)
    name = "Changed %s" % W.uniq("n")
    # Ends every wardend's LISTEN connections (waiting until each is gone),
    # then changes the row at once: its NOTIFY reaches nobody.
    out = W.psql("WITH t AS (SELECT count(*) FILTER (WHERE "
                 "pg_terminate_backend(pid, 5000)) AS n FROM pg_stat_activity "
                 "WHERE application_name = 'wardend-listen') "
                 "UPDATE users SET full_name = '%s', updated_at = now() "
                 "WHERE id = '%s' AND (SELECT n FROM t) >= 0 "
                 "RETURNING (SELECT n FROM t)" % (name, user.id))
    assert int(out[0]) >= 2, out
    # Down, the cache answers nothing; back, it starts empty.
    assert _within_bound(lambda: host_b.client.get(ME, token=user.access)
                         .json().get("full_name") == name)
    assert _within_bound(lambda: host_b.client.metric(
        "warden_user_cache_listening") == 1)
    # And hearing again: the next change is told as before.
    _warm(host_b.client, user)
    r = client.patch(ME, json_body={"full_name": "Again"}, token=user.access)
    assert r.status == 200, r
    assert _within_bound(lambda: host_b.client.get(ME, token=user.access)
                         .json().get("full_name") == "Again")
