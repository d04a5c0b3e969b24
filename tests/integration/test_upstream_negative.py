"""Every way an upstream sign-in must fail (issue 15), against
fake_oidc.FakeOidc: a state that is wrong, missing, of another browser or
used already; the provider's error; an ID token that must not be believed
(audience, nonce, expiry, iat, issuer, key, alg none, HS256 keyed with the
RSA public key, signature); a token endpoint that fails (502) or hangs
(504) while the daemon goes on serving others.  Each refusal is a page
with the contract's status, no session, one upstream_login_failed event
with its reason, and no user or identity made."""

import threading
import time
import uuid

import pytest

import upstreamlib as U
import wardenlib as W
from fake_oidc import FakeOidc

SECRET = "neg-" + uuid.uuid4().hex
TIMEOUT = 2          # seconds, the provider's timeout in its file


@pytest.fixture(scope="module")
def idp():
    f = FakeOidc("RS256")
    f.add_client("warden-neg", secret=SECRET)
    yield f
    f.close()


@pytest.fixture(scope="module")
def wd(workdir, daemon, idp):
    d = U.start_with_providers(workdir, daemon, "upstream_negative", {
        "neg": U.oidc_provider(idp, "warden-neg", SECRET, display_name="Neg IdP",
                               timeout=TIMEOUT),
        "neg2": U.oidc_provider(idp, "warden-neg", SECRET, display_name="Neg Two"),
        # Nothing listens there.
        "dead": {"issuer": "http://127.0.0.1:%d" % W.free_port(), "client_id": "x",
                 "client_secret": SECRET, "timeout": TIMEOUT}})
    yield d
    W.stop_own(d)


@pytest.fixture
def sub(idp):
    name = W.uniq("neg")
    idp.reset(sub="sub-" + name, preferred_username=name,
              email="%s@idp.example" % name, email_verified=True)
    return "sub-" + name


class Nothing:
    """What a refused sign-in must leave: no user, no identity, no session,
    one upstream_login_failed event of reason."""

    def __init__(self):
        self.users = U.users_count()
        self.ids = U.identities_count()
        self.mark = U.audit_mark()

    def check(self, d, r, status, reason, browser=None, provider="neg"):
        assert r.status == status, "%r\n%s" % (r, W.log_tail(d.log, 20))
        assert r.content_type == "text/html", r
        assert not any(v.startswith(U.SESSION_COOKIE + "=") for v in r.header_all("Set-Cookie")), r
        assert U.users_count() == self.users, "a user was made"
        assert U.identities_count() == self.ids, "an identity was made"
        got = U.failures_after(self.mark, provider)
        reasons = [reason] if isinstance(reason, str) else list(reason)
        assert len(got) == 1 and got[0] in reasons, got
        if browser is not None:
            assert not browser.signed_in()


# ---- the state and the browser binding ----

def test_a_callback_with_a_state_never_issued_is_400(wd, idp, sub):
    b = U.Browser(wd)
    r = b.start("neg")
    back = b.at_provider(r.header("Location"))
    tokens = len(idp.token_requests)
    n = Nothing()
    r = b.callback(U.with_query(back, state=W.b64url(uuid.uuid4().bytes * 2)))
    n.check(wd, r, 400, "state", b)
    assert len(idp.token_requests) == tokens, "the code was exchanged"


@pytest.mark.parametrize("state", [None, "", "short", "a" * 300, "bad state!"])
def test_a_callback_with_a_missing_or_malformed_state_is_400(wd, idp, sub, state):
    b = U.Browser(wd)
    r = b.start("neg")
    back = b.at_provider(r.header("Location"))
    n = Nothing()
    r = b.callback(U.with_query(back, state=state) if state is not None
                   else U.with_query(back, state=None))
    n.check(wd, r, 400, "state", b)


def test_a_callback_without_the_binding_cookie_is_400(wd, idp, sub):
    a = U.Browser(wd)
    r = a.start("neg")
    back = a.at_provider(r.header("Location"))
    tokens = len(idp.token_requests)
    n = Nothing()
    other = U.Browser(wd)                 # no cookie at all
    r = other.callback(back)
    n.check(wd, r, 400, "binding", other)
    assert len(idp.token_requests) == tokens, "the code was exchanged"


def test_a_callback_with_another_browsers_binding_is_400(wd, idp, sub):
    a = U.Browser(wd)
    back = a.at_provider(a.start("neg").header("Location"))
    b = U.Browser(wd)
    b.start("neg")                        # a binding cookie of its own
    assert U.BINDING_COOKIE in b.jar and b.jar[U.BINDING_COOKIE] != a.jar[U.BINDING_COOKIE]
    n = Nothing()
    r = b.callback(back)
    n.check(wd, r, 400, "binding", b)


def test_a_state_of_one_provider_is_refused_at_anothers_callback(wd, idp, sub):
    b = U.Browser(wd)
    back = b.at_provider(b.start("neg").header("Location"))
    tokens = len(idp.token_requests)
    n = Nothing()
    r = b.callback(back.replace(U.CALLBACK % "neg", U.CALLBACK % "neg2"))
    n.check(wd, r, 400, ("state", "binding"), b, provider="neg2")
    assert len(idp.token_requests) == tokens, "the code was exchanged"


def test_a_stolen_state_is_spent_by_the_thief_and_fails_for_the_owner_too(wd, idp, sub):
    """A callback of the wrong browser consumes the sign-in (the row serves
    once, either way): the owner starts again rather than racing it."""
    a = U.Browser(wd)
    back = a.at_provider(a.start("neg").header("Location"))
    r = U.Browser(wd).callback(back)
    assert r.status == 400, r
    n = Nothing()
    r = a.callback(back)
    n.check(wd, r, 400, "state", a)


def test_a_replayed_callback_is_400_and_the_code_is_not_exchanged_twice(wd, idp, sub):
    b = U.Browser(wd)
    back = b.at_provider(b.start("neg").header("Location"))
    r = b.callback(back)
    assert r.status == 303, "%r\n%s" % (r, W.log_tail(wd.log, 20))
    uid = U.identity_owner("neg", sub)
    tokens = len(idp.token_requests)
    n = Nothing()
    # The same URL again, in the same browser (its binding cookie is gone
    # after the success: put it back, as a replaying attacker would).
    b2 = U.Browser(wd)
    b2.jar = {U.BINDING_COOKIE: "x"}
    for br in (b, b2):
        r = br.callback(back)
        assert r.status == 400, r
    assert len(idp.token_requests) == tokens, "a replayed code reached the provider"
    assert U.users_count() == n.users and U.identities_count() == n.ids
    assert U.failures_after(n.mark, "neg") == ["state", "state"]
    assert U.identity_owner("neg", sub) == uid


def test_a_sign_in_row_lives_ten_minutes(wd, idp, sub):
    b = U.Browser(wd)
    back = b.at_provider(b.start("neg").header("Location"))
    q = U.with_query(back)
    # Aged by hand: the row's expiry is past.
    W.psql("UPDATE upstream_logins SET expires_at = now() - interval '1 second' "
           "WHERE expires_at > now() + interval '9 minutes'")
    n = Nothing()
    r = b.callback(q)
    n.check(wd, r, 400, "state", b)


def test_a_provider_that_cannot_be_reached_at_the_start_is_502(wd, sub):
    b = U.Browser(wd)
    n = Nothing()
    r = b.start("dead")
    n.check(wd, r, 502, "unreachable", b, provider="dead")
    assert not any(v.startswith(U.SESSION_COOKIE + "=") for v in r.header_all("Set-Cookie"))


# ---- the provider's answer ----

def test_access_denied_at_the_provider_is_400_cancelled(wd, idp, sub):
    idp.authorize_error = "access_denied"
    b = U.Browser(wd)
    back = b.at_provider(b.start("neg").header("Location"))
    assert "error=access_denied" in back and "code=" not in back, back
    n = Nothing()
    r = b.callback(back)
    n.check(wd, r, 400, "provider_error", b)
    assert "cancel" in r.body.decode().lower(), r.body.decode()


def test_a_provider_error_text_is_never_echoed(wd, idp, sub):
    idp.authorize_error = "<script>alert(1)</script>"
    b = U.Browser(wd)
    back = b.at_provider(b.start("neg").header("Location"))
    n = Nothing()
    r = b.callback(back)
    n.check(wd, r, 400, "provider_error", b)
    assert "<script>alert(1)" not in r.body.decode()


DEFECTS = ["wrong_aud", "wrong_nonce", "no_nonce", "expired", "iat_future", "iat_old",
           "unknown_key", "alg_none", "hs256_public_key", "wrong_iss", "bad_signature",
           "no_sub", "aud_array_no_azp"]


@pytest.mark.parametrize("defect", DEFECTS)
def test_an_id_token_that_must_not_be_believed_is_502(wd, idp, sub, defect):
    # A good sign-in first, so that the key set is cached: an unknown key
    # then makes warden fetch it once more, and no more.
    _, _, r = U.Browser(wd).sign_in("neg")
    assert r.status == 303, r
    idp.reset(sub=sub + "-x", email="x-%s@idp.example" % sub, email_verified=True)
    idp.defect = defect
    jwks = idp.jwks_requests
    b = U.Browser(wd)
    back = b.at_provider(b.start("neg").header("Location"))
    n = Nothing()
    r = b.callback(back)
    n.check(wd, r, 502, "bad_id_token", b)
    assert U.identity_owner("neg", sub + "-x") is None
    assert idp.token_requests[-1]["outcome"] == "ok"   # the fake answered
    refetched = idp.jwks_requests - jwks
    if defect == "unknown_key":
        assert refetched == 1, "the key set was fetched %d times, want once" % refetched
    else:
        assert refetched == 0, "the key set was fetched again for %s" % defect


def test_a_code_exchanged_with_the_wrong_pkce_verifier_is_refused(wd, idp, sub):
    """Warden sends the verifier it kept with the state; with another one
    (changed in the database) the provider refuses the code: 502."""
    b = U.Browser(wd)
    back = b.at_provider(b.start("neg").header("Location"))
    W.psql("UPDATE upstream_logins SET verifier = repeat('v', 43) "
           "WHERE expires_at > now() + interval '9 minutes'")
    n = Nothing()
    r = b.callback(back)
    n.check(wd, r, 502, "code_refused", b)
    assert idp.token_requests[-1].get("why") == "PKCE", idp.token_requests[-1]


def test_a_token_endpoint_answering_500_is_502(wd, idp, sub):
    idp.token_mode = "500"
    b = U.Browser(wd)
    back = b.at_provider(b.start("neg").header("Location"))
    n = Nothing()
    r = b.callback(back)
    n.check(wd, r, 502, "unreachable", b)


def test_a_sign_up_without_an_email_is_400(wd, idp, sub):
    idp.claims.pop("email")
    b = U.Browser(wd)
    back = b.at_provider(b.start("neg").header("Location"))
    n = Nothing()
    r = b.callback(back)
    n.check(wd, r, 400, "no_email", b)


def test_a_disabled_account_is_not_signed_in_by_its_identity(wd, idp, sub):
    _, _, r = U.Browser(wd).sign_in("neg")
    assert r.status == 303, r
    uid = U.identity_owner("neg", sub)
    W.psql("UPDATE users SET is_active = false WHERE id = '%s'" % uid)
    try:
        b = U.Browser(wd)
        back = b.at_provider(b.start("neg").header("Location"))
        n = Nothing()
        r = b.callback(back)
        n.check(wd, r, 403, "disabled", b)
    finally:
        W.psql("UPDATE users SET is_active = true WHERE id = '%s'" % uid)


def test_a_hanging_token_endpoint_is_504_and_the_daemon_serves_others_meanwhile(wd, idp, sub):
    idp.token_mode = "hang"
    idp.hang_seconds = TIMEOUT + 20
    b = U.Browser(wd)
    back = b.at_provider(b.start("neg").header("Location"))
    n = Nothing()
    tokens = len(idp.token_requests)
    out = {}

    def cb():
        t0 = time.monotonic()
        out["r"] = b.callback(back)
        out["t"] = time.monotonic() - t0
        out["end"] = time.monotonic()

    th = threading.Thread(target=cb)
    t_start = time.monotonic()
    th.start()
    try:
        # The daemon is waiting for the provider now.
        deadline = time.monotonic() + 10
        while len(idp.token_requests) == tokens and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(idp.token_requests) > tokens, "the code never reached the provider"
        lat = []
        done_at = None
        other = U.Browser(wd)
        for i in range(20):
            t0 = time.monotonic()
            rr = other.get("/ui/login") if i % 2 else wd.client.get("/healthz")
            lat.append(time.monotonic() - t0)
            assert rr.status == 200, rr
        done_at = time.monotonic()
        th.join(TIMEOUT + 15)
    finally:
        idp.release()
    assert not th.is_alive(), "the callback never answered"
    print("\nduring the provider's hang: %d requests, latency min %.1f ms, max %.1f ms,"
          " total %.2f s; the callback took %.2f s (timeout %d s)"
          % (len(lat), min(lat) * 1000, max(lat) * 1000, done_at - t_start, out["t"], TIMEOUT))
    assert done_at < out["end"], "the other requests waited for the hanging sign-in"
    n.check(wd, out["r"], 504, "timeout", b)
    assert out["t"] >= TIMEOUT - 0.5, out["t"]
    assert out["t"] < TIMEOUT + 10, out["t"]
