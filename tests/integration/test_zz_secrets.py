"""Runs last (module order is alphabetical): nothing the session captured,
no response body or header, no line of the daemons' logs, no output of
wardenctl, holds a password used, a refresh token issued (outside the one
response that issued it) or a stored password hash; no log line holds a
device token."""

import re

import pytest

import wardenlib as W


@pytest.fixture(scope="module")
def stored_hashes(daemon):
    """The stored password hashes; "!" (an account made by an upstream
    sign-in, without a password) is no hash and is left out."""
    return [h for h in W.psql("select password_hash from users") if h and h != "!"]


def _response_texts():
    for resp in W.SECRETS.responses:
        yield resp.index, resp, resp.body.decode("utf-8", "replace") + "\n" + resp.raw_headers_text()


def _log_texts(daemon):
    for path in W.SECRETS.logs:
        try:
            with open(path, "rb") as f:
                yield path, f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            continue


def test_the_session_recorded_traffic_and_secrets(daemon, request):
    if request.session.testscollected < 100:
        pytest.skip("meaningful only after the whole suite")
    assert len(W.SECRETS.responses) > 100, "too little traffic recorded to mean anything"
    assert len(W.SECRETS.passwords) > 10
    assert len(W.SECRETS.refresh_tokens) > 10


# The portal's pages of a mailed link, whose form carries the link's token
# back (ACCOUNTS.md: only the form's POST spends it).
LINK_PAGES = ("/ui/reset-password", "/ui/verify-email")


def test_no_response_contains_a_password(daemon):
    pws = sorted(W.SECRETS.passwords)
    for _, resp, text in _response_texts():
        link_page = resp.path.split("?")[0] in LINK_PAGES
        for pw in pws:
            if link_page and pw in W.SECRETS.link_tokens:
                continue
            assert pw not in text, "a password in %s %s -> %d" % (resp.method, resp.path, resp.status)


def test_no_response_contains_a_refresh_token_but_the_one_that_issued_it(daemon):
    tokens = dict(W.SECRETS.refresh_tokens)
    for idx, resp, text in _response_texts():
        for tok, issuer in tokens.items():
            if idx != issuer:
                assert tok not in text, "refresh token leaked in %s %s -> %d" % (
                    resp.method, resp.path, resp.status)


def test_no_response_contains_an_issued_secret_but_the_one_that_issued_it(daemon):
    """TOTP secrets, recovery codes and mfa tokens are shown once."""
    issued = dict(W.SECRETS.issued)
    for idx, resp, text in _response_texts():
        for secret, issuer in issued.items():
            if idx != issuer:
                assert secret not in text, "an issued secret in %s %s -> %d" % (
                    resp.method, resp.path, resp.status)


def test_no_response_contains_a_stored_hash(daemon, stored_hashes):
    assert stored_hashes, "no password hashes in users"
    for _, resp, text in _response_texts():
        assert "$argon2" not in text and "$warden$" not in text, resp
        for h in stored_hashes:
            assert h not in text, resp


def test_stored_hashes_are_sealed_argon2id(stored_hashes):
    """Every hash is sealed but those that wardenctl import brought in and
    whose users have not logged in since (test_import.py)."""
    waiting = set(W.psql(
        "SELECT u.password_hash FROM users u WHERE EXISTS (SELECT 1 FROM audit_events a"
        " WHERE a.user_id = u.id AND a.event = 'imported') AND NOT EXISTS (SELECT 1"
        " FROM audit_events a WHERE a.user_id = u.id AND a.event = 'password_upgraded')"))
    for h in stored_hashes:
        if h not in waiting:
            assert h.startswith("$warden$v=1$k="), "unsealed hash: %s..." % h[:16]
        for pw in W.SECRETS.passwords:
            assert pw not in h


def test_logs_hold_no_secret(daemon, stored_hashes):
    pws = sorted(W.SECRETS.passwords)
    toks = list(W.SECRETS.refresh_tokens)
    devs = list(W.SECRETS.device_tokens) + list(W.SECRETS.issued)
    checked = 0
    for path, text in _log_texts(daemon):
        checked += 1
        for lineno, line in enumerate(text.splitlines(), 1):
            for pw in pws:
                assert pw not in line, "%s:%d holds a password" % (path, lineno)
            for tok in toks:
                assert tok not in line, "%s:%d holds a refresh token" % (path, lineno)
            for dev in devs:
                assert dev not in line, "%s:%d holds a device token or an issued " \
                    "secret" % (path, lineno)
            for h in stored_hashes:
                assert h not in line, "%s:%d holds a stored hash" % (path, lineno)
    assert checked >= 1


def test_tool_output_holds_no_password(daemon):
    for out in W.SECRETS.tool_outputs:
        for pw in W.SECRETS.passwords:
            assert pw not in out


def test_access_log_lines_have_the_documented_fields(daemon):
    with open(daemon.log, "rb") as f:
        lines = f.read().decode("utf-8", "replace").splitlines()
    access = [l for l in lines if "request_id=" in l and "status=" in l]
    assert access, "no access lines:\n" + "\n".join(lines[-20:])
    for l in access:
        assert re.search(r"(^| )ts=\S+", l) and re.search(r" level=\S+", l), l
        for k in ("request_id", "method", "route", "status", "duration_ms"):
            assert re.search(r"(^| )%s=" % k, l), "access line lacks %s: %s" % (k, l)
    # the request id a client sent appears in the access log
    sent = [r.header("X-Request-Id") for r in W.SECRETS.responses if r.path == "/healthz"]
    assert any(("request_id=" + rid) in "\n".join(access) or ('request_id="%s"' % rid) in
               "\n".join(access) for rid in sent if rid)


def test_every_recorded_response_carried_request_id_and_nosniff(daemon):
    for resp in W.SECRETS.responses:
        assert resp.header("X-Request-Id"), resp
        assert W.REQID_RE.match(resp.header("X-Request-Id")), resp
        assert resp.header("X-Content-Type-Options") == "nosniff", resp


def test_every_recorded_error_response_is_a_problem_or_an_oauth_error(daemon):
    for resp in W.SECRETS.responses:
        if resp.status < 400 or resp.method == "HEAD":
            continue
        path = resp.path.split("?")[0]
        if path in ("/api/v1/auth/token", "/api/v1/auth/revoke", "/oauth2/token",
                    "/oauth2/revoke", "/oauth2/introspect"):
            if resp.content_type == W.JSON:
                assert "error" in resp.json(), resp
            else:
                assert resp.content_type == W.PROBLEM, resp
        elif path == "/api/v1/auth/verify":
            continue
        elif path == "/readyz":
            # Not ready: which part is down, for the balancer's health check.
            assert resp.status == 503 and set(resp.json()) == {"database", "hasher"}, resp
        elif ((path.startswith("/ui/") or path in ("/oauth2/authorize", "/oauth2/logout"))
              and resp.content_type.startswith("text/html")):
            # The portal answers people (OIDC.md): its page again, with
            # the error in words and the pages' strict headers; so do
            # the OpenID pages, for what cannot go back to a client.
            assert 'role="alert"' in resp.body.decode(), resp
            assert resp.header("Content-Security-Policy"), resp
        else:
            assert resp.content_type == W.PROBLEM, resp
            p = resp.json()
            assert p.get("status") == resp.status and p.get("type", "").startswith(
                "urn:warden:problem:"), resp


def test_daemons_still_alive_at_the_end(daemon, client):
    assert daemon.alive()
    assert client.get("/healthz").status == 200
