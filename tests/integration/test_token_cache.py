"""The verified-token cache (daemon/api/token_cache.h): a token checked
once is answered from memory the next time, and memory never lets through
what the token alone would not: a logout, a disable or a tampered copy of
a cached token is refused at once, on forward-auth and on the bearer
routes alike."""

VERIFY = "/api/v1/auth/verify"
HITS = 'warden_token_cache_lookups_total{result="hit"}'
MISSES = 'warden_token_cache_lookups_total{result="miss"}'


def _tampered(token):
    """The token with the last character of its signature changed."""
    last = "A" if token[-1] != "A" else "B"
    return token[:-1] + last


def test_a_token_seen_before_is_answered_from_the_cache(client, user):
    assert client.get(VERIFY, token=user.access).status == 204
    hits = client.metric(HITS)
    for _ in range(3):
        assert client.get(VERIFY, token=user.access).status == 204
    assert client.get("/api/v1/users/me", token=user.access).status == 200
    assert client.metric(HITS) >= hits + 4


def test_a_tampered_copy_of_a_cached_token_is_refused(client, user):
    assert client.get(VERIFY, token=user.access).status == 204
    misses = client.metric(MISSES)
    bad = _tampered(user.access)
    assert client.get(VERIFY, token=bad).status == 401
    assert client.get("/api/v1/users/me", token=bad).status == 401
    assert client.metric(MISSES) >= misses + 2


def test_a_logout_refuses_a_cached_token_at_once(client, user):
    assert client.get(VERIFY, token=user.access).status == 204
    assert client.get("/api/v1/users/me", token=user.access).status == 200
    r = client.post("/api/v1/auth/logout", token=user.access)
    assert r.status == 204, r
    # The bearer routes read the user's token version on this very host.
    assert client.get("/api/v1/users/me", token=user.access).status == 401


def test_a_disabled_users_cached_token_is_refused(client, admin, user):
    assert client.get("/api/v1/users/me", token=user.access).status == 200
    r = client.patch("/api/v1/users/" + user.id,
                     json_body={"is_active": False}, token=admin.access)
    assert r.status == 200, r
    assert client.get("/api/v1/users/me", token=user.access).status == 401

