"""Refresh-token rotation across hosts (issue 17): one refresh token
presented at the same moment to two wardend hosts on one database is
rotated exactly once; the other host refuses it as a spent token within
the grace window (API.md: invalid_grant, the family left alive), and the
family is never left half-rotated: every spent token names the one that
replaced it, and exactly one token of the family is live."""


import pytest

import wardenlib as W

ROUNDS = 25


@pytest.fixture(scope="module")
def two(workdir, daemon):
    ds = [W.start_own(workdir, daemon, "refresh-host-%d" % i) for i in range(2)]
    yield ds
    for d in ds:
        W.stop_own(d)


def _rows(family):
    rows = W.psql("SELECT id, used_at IS NOT NULL, revoked_at IS NOT NULL, "
                  "coalesce(replaced_by::text, '') FROM refresh_tokens "
                  "WHERE family = '%s' ORDER BY created_at, id" % family)
    return [tuple(r.split("|")) for r in rows]


def _assert_whole(family, rotations):
    rows = _rows(family)
    ids = {r[0] for r in rows}
    assert len(rows) == rotations + 1, rows
    live = [r for r in rows if r[1] == "f" and r[2] == "f"]
    assert len(live) == 1, rows
    for rid, used, revoked, replaced in rows:
        assert revoked == "f", rows
        if used == "t":
            assert replaced in ids and replaced != rid, rows
        else:
            assert replaced == "", rows
    # One chain: each token is replaced by one other, and no two by the same.
    replaced = [r[3] for r in rows if r[3]]
    assert len(replaced) == len(set(replaced)) == rotations, rows


def test_one_refresh_token_at_once_on_two_hosts_rotates_exactly_once(two, daemon):
    u = daemon.client.new_user("rhosts")
    rt = u.refresh
    family = None
    for rnd in range(ROUNDS):
        results = W.at_once(2, lambda i, token=rt: two[i].client.refresh_raw(token))
        ok = [r for r in results if getattr(r, "status", None) == 200]
        assert len(ok) == 1, (rnd, [getattr(r, "status", r) for r in results])
        loser = results[1] if results[0] is ok[0] else results[0]
        W.assert_oauth_error(loser, "invalid_grant")
        rt = ok[0].json()["refresh_token"]
        if family is None:
            family = W.psql("SELECT family FROM refresh_tokens WHERE user_id = '%s'"
                            % u.id)[0]
        _assert_whole(family, rnd + 1)
    # The losers were within the grace window: the family lives on, on
    # either host.
    for d in two:
        r = d.client.refresh_raw(rt)
        assert r.status == 200, r
        rt = r.json()["refresh_token"]
    _assert_whole(family, ROUNDS + 2)
