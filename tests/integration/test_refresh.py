"""Refresh-token rotation, reuse detection, the grace window, concurrent
refreshes, and RFC 7009 revocation."""

import time

import wardenlib as W


def _refresh_ok(client, rt):
    r = client.refresh_raw(rt)
    assert r.status == 200, r
    assert "no-store" in (r.header("Cache-Control") or "")
    assert (r.header("Pragma") or "").lower() == "no-cache"
    b = r.json()
    assert b["refresh_token"] != rt
    assert b["token_type"].lower() == "bearer"
    return b


def test_refresh_rotates_and_spends_the_old_token(client, user):
    seen = {user.refresh}
    rt = user.refresh
    for _ in range(3):
        b = _refresh_ok(client, rt)
        assert b["refresh_token"] not in seen
        seen.add(b["refresh_token"])
        claims = W.jwt_parts(b["access_token"])[1]
        assert claims["sub"] == user.id
        assert client.get("/api/v1/users/me", token=b["access_token"]).status == 200
        rt = b["refresh_token"]
    W.assert_oauth_error(client.refresh_raw(user.refresh), "invalid_grant")


def test_refresh_with_json_body(client, user):
    r = client.token({"grant_type": "refresh_token", "refresh_token": user.refresh}, as_json=True)
    assert r.status == 200, r


def test_spent_token_within_grace_is_refused_without_revoking_family(client, user):
    new = _refresh_ok(client, user.refresh)["refresh_token"]
    r = client.refresh_raw(user.refresh)          # benign race: within the grace window
    W.assert_oauth_error(r, "invalid_grant")
    newer = _refresh_ok(client, new)["refresh_token"]   # the family lives on
    _refresh_ok(client, newer)


def test_reuse_after_grace_revokes_the_whole_family(client, user):
    mid = _refresh_ok(client, user.refresh)["refresh_token"]
    newest = _refresh_ok(client, mid)["refresh_token"]
    time.sleep(W.REFRESH_GRACE + 0.7)
    W.assert_oauth_error(client.refresh_raw(user.refresh), "invalid_grant")
    # the newest, never used, token of the family is dead too
    W.assert_oauth_error(client.refresh_raw(newest), "invalid_grant")
    # another session (family) of the same user is untouched
    other = client.login(user.username, user.password)
    _refresh_ok(client, other["refresh_token"])


def test_concurrent_refreshes_of_one_token_exactly_one_wins(client, user):
    n = 8
    results = W.at_once(n, lambda i: client.refresh_raw(user.refresh))
    ok = [r for r in results if getattr(r, "status", None) == 200]
    assert len(ok) == 1, [getattr(r, "status", r) for r in results]
    for r in results:
        if r is not ok[0]:
            W.assert_oauth_error(r, "invalid_grant")
    # the losers were within the grace window: the winner's token still works
    _refresh_ok(client, ok[0].json()["refresh_token"])


def test_revoke_known_token_is_200_and_it_no_longer_refreshes(client, user):
    r = client.post("/api/v1/auth/revoke", form={"token": user.refresh})
    assert r.status == 200, r
    assert r.header("X-Request-Id")
    W.assert_oauth_error(client.refresh_raw(user.refresh), "invalid_grant")


def test_revoke_with_type_hint_is_200(client, user):
    r = client.post("/api/v1/auth/revoke", form={"token": user.refresh,
                                                  "token_type_hint": "refresh_token"})
    assert r.status == 200, r
    W.assert_oauth_error(client.refresh_raw(user.refresh), "invalid_grant")


def test_revoke_unknown_token_is_200(client):
    assert client.post("/api/v1/auth/revoke", form={"token": "B" * 43}).status == 200
    assert client.post("/api/v1/auth/revoke", form={"token": "garbage!"}).status == 200


def test_revoke_twice_is_200(client, user):
    assert client.post("/api/v1/auth/revoke", form={"token": user.refresh}).status == 200
    assert client.post("/api/v1/auth/revoke", form={"token": user.refresh}).status == 200


def test_revoke_without_token_is_invalid_request(client):
    W.assert_oauth_error(client.post("/api/v1/auth/revoke", form={}), "invalid_request")


def test_refresh_tokens_are_not_stored_in_clear(client, user):
    rows = W.psql("select row_to_json(r)::text from refresh_tokens r where user_id = '%s'"
                  % user.id)
    assert rows, "no refresh_tokens row for the user"
    for row in rows:
        assert user.refresh not in row
