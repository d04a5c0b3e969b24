"""GET /api/v1/users/me/sessions and DELETE /api/v1/users/me/sessions/{id}:
a user sees each login of an application (a refresh-token family) and ends
one; nobody ends another's."""

import uuid

import wardenlib as W

SESSIONS = "/api/v1/users/me/sessions"


def families(user):
    r = user.c.get(SESSIONS, token=user.access)
    assert r.status == 200 and r.content_type == W.JSON, r
    assert "no-store" in (r.header("Cache-Control") or "")
    items = r.json()["items"]
    for it in items:
        assert set(it) == {"id", "kind", "created_at", "last_seen_at", "address",
                           "user_agent", "current"}, it
    return items


def test_each_login_is_a_session_and_one_ends_by_id(client, user):
    first_refresh = user.refresh
    user.login()                       # a second login: a second family
    items = families(user)
    assert len(items) == 2, items
    assert all(it["kind"] == "refresh_token" and not it["current"] for it in items)
    # The newest is listed first: the second login's family.
    older = items[1]["id"]
    r = client.delete(SESSIONS + "/" + older, token=user.access)
    assert r.status == 204, r
    W.assert_oauth_error(client.refresh_raw(first_refresh), "invalid_grant")
    assert client.refresh_raw(user.refresh).status == 200
    assert [it["id"] for it in families(user)] != [older]
    W.assert_problem(client.delete(SESSIONS + "/" + older, token=user.access),
                     404, "not-found")


def test_a_session_of_another_user_is_not_found(client, user):
    other = client.new_user("so")
    theirs = families(other)[0]["id"]
    W.assert_problem(client.delete(SESSIONS + "/" + theirs, token=user.access),
                     404, "not-found")
    assert client.refresh_raw(other.refresh).status == 200
    W.assert_problem(client.delete(SESSIONS + "/" + str(uuid.uuid4()),
                                   token=user.access), 404, "not-found")


def test_sessions_need_a_token_and_an_id(client, user):
    W.assert_problem(client.get(SESSIONS), 401, "unauthorized")
    W.assert_problem(client.delete(SESSIONS + "/" + str(uuid.uuid4())), 401,
                     "unauthorized")
    r = client.delete(SESSIONS + "/not-a-uuid", token=user.access)
    assert r.status == 404, r


def test_logout_all_leaves_no_session(client, user):
    r = client.post("/api/v1/auth/logout", token=user.access)
    assert r.status == 204, r
    user.login()
    items = families(user)
    assert len(items) == 1, items
