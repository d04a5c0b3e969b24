"""GET /api/v1/auth/verify with the portal's session cookie (OIDC.md,
"Forward-auth with a login page"): a live session passes with its user's
headers, answered from memory within session_check
(daemon/api/session_cache.h); a wrong, malformed or expired cookie is 401;
a session revoked in the database stops passing within session_check; a
disabled user stops at once (revocations); session_check 0 asks the
database every time.  The sessions are made directly in browser_sessions
(migration 0008), the portal's login not being needed for it.

The test daemons' public_url is http://127.0.0.1:port, so the cookie has
its development name, warden_session."""

import hashlib
import os
import time

import pytest

import wardenlib as W

VERIFY = "/api/v1/auth/verify"
COOKIE = "warden_session"
POLL = 0.05


def _new_session(user_id, idle="1 hour", absolute="1 day"):
    """A fresh cookie value and its browser_sessions row for user_id, at the
    user's token_version; idle may be negative (an expired session)."""
    token = W.b64url(os.urandom(32))
    assert len(token) == 43
    W.SECRETS.add_issued(token, -1)     # in no response, in no log
    digest = hashlib.sha256(token.encode()).hexdigest()
    rows = W.psql(
        "INSERT INTO browser_sessions (token_hash, user_id, token_version, "
        "idle_expires_at, expires_at) SELECT decode('%s', 'hex'), id, "
        "token_version, now() + interval '%s', now() + interval '%s' "
        "FROM users WHERE id = '%s' RETURNING id" % (digest, idle, absolute, user_id))
    assert rows[-1] == "INSERT 0 1", rows
    return token, rows[0]


def _verify(client, token, role=None, headers=None):
    h = {"Cookie": "%s=%s" % (COOKIE, token)}
    h.update(headers or {})
    return client.get(VERIFY + ("?role=" + role if role else ""), headers=h)


def _refused(client, token):
    r = _verify(client, token)
    assert r.status == 401, r
    assert r.header("X-Auth-User-Id") is None, r
    assert (r.header("WWW-Authenticate") or "").startswith("Bearer"), r
    W.assert_problem(r, 401, "unauthorized")
    return r


def _stops_within(client, token, seconds):
    """Polls verify; True as soon as the cookie is refused, False when it
    still passes after seconds."""
    deadline = time.monotonic() + seconds
    while True:
        r = _verify(client, token)
        assert r.status in (204, 401), r
        if r.status == 401:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)


@pytest.fixture(scope="module")
def quick(workdir):
    """A wardend that asks the database of a cookie at most every second."""
    d = W.start_session(workdir, "verify_cookie_1s", session_check="1s")
    yield d
    W.stop_own(d)


@pytest.fixture(scope="module")
def slow(workdir):
    """One that asks at most every hour: only revocations can stop a
    cookie it has seen."""
    d = W.start_session(workdir, "verify_cookie_1h", session_check="1h")
    yield d
    W.stop_own(d)


@pytest.fixture(scope="module")
def always(workdir):
    d = W.start_session(workdir, "verify_cookie_0", session_check="0s")
    yield d
    W.stop_own(d)


def test_a_live_session_passes_with_its_users_headers(quick, client):
    u = client.new_user("ck", login=False)
    token, _ = _new_session(u.id)
    for _ in range(3):      # the first from the database, then from memory
        r = _verify(quick.client, token)
        assert r.status == 204 and r.body == b"", r
        assert r.header("X-Auth-User-Id") == u.id, r
        assert r.header("X-Auth-Username") == u.username, r
        assert (r.header("X-Auth-Roles") or "") == "", r
        assert token not in r.raw_headers_text()


def test_role_is_checked_against_the_users_roles(quick, client, admin):
    u = client.new_user("ckrole", login=False)
    r = client.patch("/api/v1/users/" + u.id, json_body={"roles": ["reader"]},
                     token=admin.access)
    assert r.status == 200, r
    token, _ = _new_session(u.id)
    for _ in range(2):      # from the database, then from memory
        r = _verify(quick.client, token, role="admin")
        W.assert_problem(r, 403, "forbidden")
        assert r.header("X-Auth-User-Id") is None, r
        r = _verify(quick.client, token, role="reader")
        assert r.status == 204, r
        assert r.header("X-Auth-Roles") == "reader", r
    r = _verify(quick.client, token, role="not%20a%20role")
    assert r.status == 400, r


def test_wrong_malformed_and_expired_cookies_are_401(quick, client):
    u = client.new_user("ckbad", login=False)
    _refused(quick.client, W.b64url(os.urandom(32)))       # no such session
    for bad in ("x", "not-a-token!" * 4, "A" * 42, "A" * 44, "A" * 300,
                W.b64url(os.urandom(32))[:-1] + "=", "%00" * 43):
        _refused(quick.client, bad)
    expired, _ = _new_session(u.id, idle="-1 minute")
    _refused(quick.client, expired)
    ended, _ = _new_session(u.id, idle="-2 hours", absolute="-1 hour")
    _refused(quick.client, ended)
    # The production name is not the one of a loopback http public_url.
    live, _ = _new_session(u.id)
    r = quick.client.get(VERIFY, headers={"Cookie": "__Host-warden_session=" + live})
    assert r.status == 401, r
    # No cookie, no token: 401 as before.
    assert quick.client.get(VERIFY).status == 401


def test_a_bearer_header_wins_over_a_cookie(quick, client, user):
    other = client.new_user("ckbearer", login=False)
    token, _ = _new_session(other.id)
    assert _verify(quick.client, token).status == 204
    # A bad bearer is refused even with a live cookie.
    r = _verify(quick.client, token, headers={"Authorization": "Bearer garbage"})
    assert r.status == 401, r
    assert 'error="invalid_token"' in (r.header("WWW-Authenticate") or ""), r
    # A good one answers for its own user: the session daemons' keys differ,
    # so ask the daemon that signed it.
    r = _verify(client, token, headers={"Authorization": "Bearer " + user.access})
    assert r.status == 204, r
    assert r.header("X-Auth-User-Id") == user.id, r


def test_a_revoked_session_stops_within_session_check(quick, client):
    u = client.new_user("ckrev", login=False)
    token, sid = _new_session(u.id)
    assert _verify(quick.client, token).status == 204     # now in memory
    W.psql("UPDATE browser_sessions SET revoked_at = now() WHERE id = '%s'" % sid)
    # session_check is 1 s: 3 s of polling is the bound with room.
    assert _stops_within(quick.client, token, 3.0)
    for _ in range(3):
        _refused(quick.client, token)


def test_disabling_the_user_stops_a_remembered_cookie_at_once(slow, client, admin):
    u = client.new_user("ckdis", login=False)
    token, _ = _new_session(u.id)
    other_token, _ = _new_session(u.id)
    for t in (token, other_token):
        assert _verify(slow.client, t).status == 204      # in memory for 1 h
    r = client.patch("/api/v1/users/" + u.id, json_body={"is_active": False},
                     token=admin.access)
    assert r.status == 200, r
    # Only the notification can stop it now (session_check is an hour);
    # the revocation contract's bound is 1 s, polled for 3.
    assert _stops_within(slow.client, token, 3.0)
    _refused(slow.client, other_token)
    # Enabling the user does not bring the sessions back: disabling bumped
    # the token version they were made at.
    r = client.patch("/api/v1/users/" + u.id, json_body={"is_active": True},
                     token=admin.access)
    assert r.status == 200, r
    _refused(slow.client, token)


def test_session_check_0_sees_a_revocation_on_the_next_request(always, client):
    u = client.new_user("ck0", login=False)
    token, sid = _new_session(u.id)
    for _ in range(3):
        assert _verify(always.client, token).status == 204
    W.psql("UPDATE browser_sessions SET revoked_at = now() WHERE id = '%s'" % sid)
    _refused(always.client, token)


def test_a_remembered_cookie_is_answered_from_memory(slow, client):
    """The hot path: once the database has confirmed a session, a daemon
    whose session_check is an hour does not ask it again (a revocation made
    only in browser_sessions, unknown to revocations, is seen at its next
    check)."""
    u = client.new_user("ckmem", login=False)
    token, sid = _new_session(u.id)
    assert _verify(slow.client, token).status == 204
    W.psql("UPDATE browser_sessions SET revoked_at = now() WHERE id = '%s'" % sid)
    for _ in range(3):
        r = _verify(slow.client, token)
        assert r.status == 204, r
        assert r.header("X-Auth-User-Id") == u.id, r


# --- ?redirect=login: the login page for proxies that pass a 401 through
# as it is (Traefik's forwardAuth), from its X-Forwarded-* headers.

@pytest.fixture(scope="module")
def portal(workdir):
    """A wardend whose portal serves the hosts under app.test."""
    d = W.start_session(workdir, "verify_redirect", session_check="1s",
                        public_url="{base}", session_domain="app.test")
    yield d
    W.stop_own(d)


def _forwarded(host="www.app.test", uri="/page?a=1&b=2", proto="http",
               method="GET"):
    h = {"X-Forwarded-Proto": proto, "X-Forwarded-Host": host,
         "X-Forwarded-Uri": uri}
    if method is not None:
        h["X-Forwarded-Method"] = method
    return h


def _redirect(d, headers):
    return d.client.get(VERIFY + "?redirect=login", headers=headers)


def test_redirect_login_sends_a_browser_without_a_session_to_the_login_page(portal):
    login = portal.base + "/ui/login"
    r = _redirect(portal, _forwarded())
    assert r.status == 302, r
    assert r.header("Location") == (
        login + "?rd=http%3A%2F%2Fwww.app.test%2Fpage%3Fa%3D1%26b%3D2"), r
    assert "no-store" in (r.header("Cache-Control") or ""), r
    # The login page takes that rd back: the form carries it.
    page = portal.client.get(r.header("Location")[len(portal.base):])
    assert page.status == 200, page
    assert (b'name="rd" value="http://www.app.test/page?a&#61;1&amp;b&#61;2"'
            in page.body), page
    # HEAD, and a proxy that names no method, are redirected too.
    assert _redirect(portal, _forwarded(method="HEAD")).status == 302
    assert _redirect(portal, _forwarded(method=None)).status == 302
    # The parent domain itself and public_url's own host are acceptable.
    r = _redirect(portal, _forwarded(host="app.test", uri="/"))
    assert r.header("Location") == login + "?rd=http%3A%2F%2Fapp.test%2F", r


def test_redirect_login_drops_an_original_url_outside_session_domain(portal):
    login = portal.base + "/ui/login"
    for host, uri, proto in (
            ("evil.example", "/", "http"),
            ("app.test.evil.example", "/", "http"),
            ("www.app.test@evil.example", "/", "http"),
            ("evil.example\\.app.test", "/", "http"),
            ("evil.example/.app.test", "/", "http"),
            ("www.app.test", "x", "http"),
            ("www.app.test", "/", "javascript"),
            ("", "/", "http")):
        r = _redirect(portal, _forwarded(host=host, uri=uri, proto=proto))
        assert r.status == 302, (host, uri, proto, r)
        assert r.header("Location") == login, (host, uri, proto, r)
    # A path that starts with two slashes stays a path of the host.
    r = _redirect(portal, _forwarded(uri="//evil.example/"))
    assert r.header("Location") == (
        login + "?rd=http%3A%2F%2Fwww.app.test%2F%2Fevil.example%2F"), r
    # Without the forwarded headers, the login page alone.
    r = portal.client.get(VERIFY + "?redirect=login")
    assert r.status == 302 and r.header("Location") == login, r


def test_redirect_login_leaves_non_page_requests_and_presented_tokens_their_401(portal):
    # A form posted without a session: no redirect to a page it cannot
    # come back to with its body.
    r = _redirect(portal, _forwarded(method="POST"))
    W.assert_problem(r, 401, "unauthorized")
    # A client that presented a token hears what is wrong with it.
    h = _forwarded()
    h["Authorization"] = "Bearer garbage"
    r = _redirect(portal, h)
    assert r.status == 401, r
    assert 'error="invalid_token"' in (r.header("WWW-Authenticate") or ""), r
    # A value other than login is a malformed request.
    r = portal.client.get(VERIFY + "?redirect=yes", headers=_forwarded())
    W.assert_problem(r, 400, "malformed-request")


def test_redirect_login_passes_a_live_session_and_redirects_a_dead_one(portal, client):
    u = client.new_user("ckredir", login=False)
    token, sid = _new_session(u.id)
    h = _forwarded()
    h["Cookie"] = "%s=%s" % (COOKIE, token)
    r = _redirect(portal, h)
    assert r.status == 204 and r.header("X-Auth-User-Id") == u.id, r
    W.psql("DELETE FROM browser_sessions WHERE id = '%s'" % sid)
    deadline = time.monotonic() + 10
    while r.status == 204 and time.monotonic() < deadline:
        time.sleep(POLL)
        r = _redirect(portal, h)
    assert r.status == 302, r
    assert r.header("Location").startswith(portal.base + "/ui/login?rd="), r
