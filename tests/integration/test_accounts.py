"""E-mail verification and password reset (ACCOUNTS.md), against a wardend
of this module's own that writes its mail with the dir: transport."""

import os
import statistics
import time

import pytest

import mailbox as MB
import wardenlib as W

BAD_TOKEN = "the link is invalid, expired or already used"


def mail_settings(workdir, name, **extra):
    """Every wardend of the module writes to one folder: they share the
    database, so any of them may send any queued message."""
    box = os.path.join(workdir, "accounts-mail")
    s = {"mail_transport": "dir:" + box,
         "mail_template_dir": os.path.join(W.repo_top(), "etc", "mail"),
         "public_url": "{base}",
         "mail_rate": "3",
         "addr_reset_limit": "100000"}
    s.update(extra)
    return box, s


@pytest.fixture(scope="module")
def acct(workdir, daemon):
    box, s = mail_settings(workdir, "accounts")
    mb = MB.DirMailbox(box)
    d = W.start_own(workdir, daemon, "accounts", **s)
    yield d, mb
    W.stop_own(d)


@pytest.fixture(scope="module")
def strict(workdir, daemon):
    box, s = mail_settings(workdir, "strict", email_verification="required",
                           addr_reset_limit="3")
    mb = MB.DirMailbox(box)
    d = W.start_own(workdir, daemon, "strict", **s)
    yield d, mb
    W.stop_own(d)


def new_user(c):
    return c.new_user(login=False)


def verify(c, token):
    return c.post("/api/v1/auth/email/verify", json_body={"token": token})


# --- verification ----------------------------------------------------------

def test_registration_mails_a_link_that_verifies_the_address(acct):
    d, mb = acct
    u = new_user(d.client)
    assert u.obj["email_verified"] is False and u.obj["mfa"] == []
    m = mb.wait_for(u.email)[0]
    url, token = m.link("verify-email")
    assert url.startswith(d.base + "/ui/verify-email?token=")
    assert u.username in m.text
    r = verify(d.client, token)
    assert r.status == 204, r
    u.login()
    assert u.me().json()["email_verified"] is True
    events = W.psql("SELECT event FROM audit_events WHERE user_id = '%s' ORDER BY at, id"
                    % u.id)
    assert "verification_sent" in events and "email_verified" in events


def test_a_verification_link_works_once(acct):
    d, mb = acct
    u = new_user(d.client)
    _, token = mb.wait_for(u.email)[0].link()
    assert verify(d.client, token).status == 204
    W.assert_problem(verify(d.client, token), 400, "invalid-token")


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "!" * 43, "A" * 44])
def test_unknown_and_malformed_tokens_get_one_answer(acct, token):
    d, _ = acct
    r = verify(d.client, token)
    W.assert_problem(r, 400, "invalid-token")
    assert r.json()["detail"] == BAD_TOKEN


def test_sending_again_replaces_the_link(acct):
    d, mb = acct
    u = new_user(d.client)
    _, first = mb.wait_for(u.email)[0].link()
    u.login()
    r = d.client.post("/api/v1/users/me/email/verification", token=u.access)
    assert r.status == 202, r
    _, second = mb.wait_for(u.email, count=2)[1].link()
    assert second != first
    W.assert_problem(verify(d.client, first), 400, "invalid-token")
    assert verify(d.client, second).status == 204
    r = d.client.post("/api/v1/users/me/email/verification", token=u.access)
    W.assert_problem(r, 409, "conflict")


def test_mail_rate_bounds_the_mails_of_one_account(acct):
    d, mb = acct
    u = new_user(d.client)        # the registration's mail is the first
    u.login()
    codes = [d.client.post("/api/v1/users/me/email/verification", token=u.access).status
             for _ in range(3)]
    assert codes == [202, 202, 429], codes
    mb.wait_for(u.email, count=3)
    time.sleep(0.5)
    assert len(mb.to(u.email)) == 3


def test_a_new_address_is_unverified_and_the_old_one_is_told(acct):
    d, mb = acct
    u = new_user(d.client)
    _, token = mb.wait_for(u.email)[0].link()
    assert verify(d.client, token).status == 204
    u.login()
    new = "new-" + u.email
    r = d.client.patch("/api/v1/users/me", json_body={"email": new}, token=u.access)
    assert r.status == 200, r
    assert r.json()["email_verified"] is False
    notice = mb.wait_for(u.email, count=2)[1]
    assert notice.link() is None, "a notice carries no token"
    _, token2 = mb.wait_for(new)[0].link("verify-email")
    assert verify(d.client, token2).status == 204
    assert u.me().json()["email_verified"] is True


def test_a_link_sent_to_an_old_address_does_not_verify_the_new_one(acct, admin):
    d, mb = acct
    u = new_user(d.client)
    _, token = mb.wait_for(u.email)[0].link()
    r = d.client.patch("/api/v1/users/%s" % u.id, json_body={"email": "x" + u.email},
                       token=admin.access)
    assert r.status == 200, r
    W.assert_problem(verify(d.client, token), 400, "invalid-token")


# --- email_verification required -----------------------------------------

def test_required_refuses_an_unverified_login_after_the_password(strict):
    d, mb = strict
    u = new_user(d.client)
    first = mb.wait_for(u.email)[0]
    r = d.client.login_raw(u.username, "wrong-" + u.password)
    W.assert_oauth_error(r, "invalid_grant")
    assert "verified" not in r.json().get("error_description", "")
    r = d.client.login_raw(u.username, u.password)
    W.assert_oauth_error(r, "invalid_grant")
    assert r.json()["error_description"] == "e-mail address not verified"
    # The refusal sends a fresh link, as the first may be lost.
    _, token = mb.wait_for(u.email, count=2)[1].link()
    assert token != first.link()[1]
    assert verify(d.client, token).status == 204
    assert d.client.login_raw(u.username, u.password).status == 200


# --- password reset ---------------------------------------------------------

def forgot(c, address):
    return c.post("/api/v1/auth/password/forgot", json_body={"email": address})


def reset(c, token, pw):
    return c.post("/api/v1/auth/password/reset",
                  json_body={"token": token, "new_password": pw})


def test_reset_from_the_mail_ends_every_session(acct):
    d, mb = acct
    u = new_user(d.client)
    u.login()
    old_access, old_refresh = u.access, u.refresh
    r = forgot(d.client, u.email.upper())
    assert r.status == 202 and r.body == b"", r
    m = mb.wait_for(u.email, subject="password")[0]
    url, token = m.link("reset-password")
    assert url.startswith(d.base + "/ui/reset-password?token=")
    pw = W.strong_password()
    r = reset(d.client, token, pw)
    assert r.status == 204, r
    assert d.client.get("/api/v1/users/me", token=old_access).status == 401
    W.assert_oauth_error(d.client.refresh_raw(old_refresh), "invalid_grant")
    W.assert_oauth_error(d.client.login_raw(u.username, u.password), "invalid_grant")
    assert d.client.login_raw(u.username, pw).status == 200
    W.assert_problem(reset(d.client, token, W.strong_password()), 400, "invalid-token")
    assert "password_reset" in W.psql(
        "SELECT event FROM audit_events WHERE user_id = '%s'" % u.id)


def test_a_reset_refuses_the_old_token_here_before_any_notification(acct):
    """The reset is found by its token, not by its caller: the host that
    made it forgets the account's cached row itself, without waiting for
    PostgreSQL's notification (paused here)."""
    d, mb = acct
    u = new_user(d.client)
    u.login()
    for _ in range(2):      # the second answer is the user cache's
        assert u.me().status == 200
    assert forgot(d.client, u.email).status == 202
    _, token = mb.wait_for(u.email, subject="password")[0].link("reset-password")
    with W.listeners_paused():
        assert reset(d.client, token, W.strong_password()).status == 204
        assert d.client.get("/api/v1/users/me", token=u.access).status == 401


def test_a_verification_shows_here_before_any_notification(acct):
    d, mb = acct
    u = new_user(d.client)
    _, token = mb.wait_for(u.email)[0].link("verify-email")
    u.login()
    for _ in range(2):
        assert u.me().json()["email_verified"] is False
    with W.listeners_paused():
        assert verify(d.client, token).status == 204
        assert u.me().json()["email_verified"] is True


def test_a_refused_new_password_leaves_the_link_working(acct):
    d, mb = acct
    u = new_user(d.client)
    assert forgot(d.client, u.email).status == 202
    _, token = mb.wait_for(u.email, subject="password")[0].link()
    W.assert_validation(reset(d.client, token, "short"), "new_password")
    W.assert_validation(reset(d.client, token, u.username), "new_password")
    assert reset(d.client, token, W.strong_password()).status == 204


def test_reset_clears_the_login_back_off(acct):
    d, mb = acct
    u = new_user(d.client)
    for _ in range(W.LOGIN_MAX_FAILURES + 1):
        d.client.login_raw(u.username, "wrong-password-x")
    assert forgot(d.client, u.email).status == 202
    _, token = mb.wait_for(u.email, subject="password")[0].link()
    pw = W.strong_password()
    assert reset(d.client, token, pw).status == 204
    assert d.client.login_raw(u.username, pw).status == 200


def test_a_password_change_voids_a_reset_link(acct):
    d, mb = acct
    u = new_user(d.client)
    u.login()
    assert forgot(d.client, u.email).status == 202
    _, token = mb.wait_for(u.email, subject="password")[0].link()
    pw = W.strong_password()
    r = d.client.post("/api/v1/users/me/password", token=u.access,
                      json_body={"current_password": u.password, "new_password": pw})
    assert r.status == 204, r
    W.assert_problem(reset(d.client, token, W.strong_password()), 400, "invalid-token")


def test_forgot_says_nothing_of_whether_an_address_is_registered(acct):
    d, mb = acct
    u = new_user(d.client)
    unknown = W.uniq("nobody") + "@example.test"
    a, b = forgot(d.client, u.email), forgot(d.client, unknown)
    assert (a.status, a.body, a.content_type) == (b.status, b.body, b.content_type) == \
        (202, b"", "")
    mb.wait_for(u.email, subject="password")
    time.sleep(0.5)
    assert mb.to(unknown) == []


def test_forgot_takes_the_same_time_for_any_address(workdir, daemon):
    """Within noise: the medians of alternating requests for a registered
    and an unknown address differ by less than the spread of either."""
    box, s = mail_settings(workdir, "timing", mail_rate="1000")
    MB.DirMailbox(box)
    d = W.start_own(workdir, daemon, "timing", **s)
    try:
        known = [new_user(d.client) for _ in range(3)]
        t_known, t_unknown = [], []
        for i in range(60):
            for addr, out in ((known[i % 3].email, t_known),
                              (W.uniq("ghost") + "@example.test", t_unknown)):
                t0 = time.perf_counter()
                assert forgot(d.client, addr).status == 202
                out.append(time.perf_counter() - t0)
        mk, mu = statistics.median(t_known), statistics.median(t_unknown)
        spread = max(statistics.quantiles(t_known, n=4)[2] - statistics.quantiles(t_known, n=4)[0],
                     statistics.quantiles(t_unknown, n=4)[2] - statistics.quantiles(t_unknown, n=4)[0],
                     0.002)
        assert abs(mk - mu) < 2 * spread, (mk, mu, spread)
    finally:
        W.stop_own(d)


def test_forgot_is_limited_per_client_address(strict):
    d, _ = strict
    codes = [forgot(d.client, W.uniq("lim") + "@example.test").status for _ in range(4)]
    assert codes == [202, 202, 202, 429], codes


def test_forgot_validates_the_address(acct):
    d, _ = acct
    W.assert_validation(d.client.post("/api/v1/auth/password/forgot",
                                      json_body={"email": "not-an-address"}), "email")


# --- without mail ---------------------------------------------------------

def test_without_mail_the_flows_that_need_it_answer_503(client):
    """The session's wardend has mail_transport off (the default)."""
    r = client.post("/api/v1/auth/password/forgot", json_body={"email": "a@example.test"})
    W.assert_problem(r, 503, "unavailable")
    assert r.header("Retry-After")
    u = client.new_user()
    assert u.obj["email_verified"] is False
    r = client.post("/api/v1/users/me/email/verification", token=u.access)
    W.assert_problem(r, 503, "unavailable")

