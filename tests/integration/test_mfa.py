"""TOTP and recovery codes (ACCOUNTS.md), checked against oathtool (OATH
Toolkit, an implementation of its own) on the session's wardend."""

import re
import subprocess
import time

import pytest

import wardenlib as W

MFA_GRANT = "urn:warden:grant-type:mfa"


def totp(secret, at=None):
    """The code of secret at time at (default now), by oathtool."""
    at = int(time.time() if at is None else at)
    out = subprocess.run(["oathtool", "--totp", "-b", secret, "-N", "@%d" % at],
                         capture_output=True, text=True, timeout=10, check=True)
    return out.stdout.strip()


def step_start(offset=0):
    """A time inside the TOTP step offset steps from now."""
    return (int(time.time()) // 30 + offset) * 30 + 1


def enrol(c, u):
    r = c.post("/api/v1/users/me/mfa/totp", token=u.access,
               json_body={"password": u.password})
    assert r.status == 200, r
    W.SECRETS.add_issued(r.json()["secret"], r.index)
    return r.json()


def enrolled(c):
    """A logged-in user with an active TOTP factor: (user, secret, codes,
    the step offset of the last code used)."""
    u = c.new_user()
    e = enrol(c, u)
    r = c.post("/api/v1/users/me/mfa/totp/confirm", token=u.access,
               json_body={"code": totp(e["secret"])})
    assert r.status == 200, r
    codes = r.json()["recovery_codes"]
    for k in codes:
        W.SECRETS.add_issued(k, r.index)
    return u, e["secret"], codes


def mfa_token(c, u):
    r = c.login_raw(u.username, u.password)
    assert r.status == 403, r
    b = r.json()
    assert b["error"] == "mfa_required" and isinstance(b["error_description"], str), b
    assert r.header("Cache-Control") and "no-store" in r.header("Cache-Control")
    W.SECRETS.add_issued(b["mfa_token"], r.index)
    return b["mfa_token"]


def mfa_grant(c, token, otp=None, recovery=None, as_json=False):
    form = {"grant_type": MFA_GRANT, "mfa_token": token}
    if otp is not None:
        form["otp"] = otp
    if recovery is not None:
        form["recovery_code"] = recovery
    return c.token(form, as_json=as_json)


def test_enrolment_gives_a_secret_uri_and_qr_code_and_waits_for_a_code(client):
    u = client.new_user()
    e = enrol(client, u)
    assert re.fullmatch(r"[A-Z2-7]{32}", e["secret"]), e
    assert e["otpauth_uri"].startswith("otpauth://totp/")
    assert "secret=" + e["secret"] in e["otpauth_uri"]
    assert u.username in e["otpauth_uri"]
    assert e["qr_svg"].startswith("<svg") and "<script" not in e["qr_svg"]
    assert u.me().json()["mfa"] == [], "pending until confirmed"
    assert client.login_raw(u.username, u.password).status == 200
    r = client.post("/api/v1/users/me/mfa/totp/confirm", token=u.access,
                    json_body={"code": "000000" if totp(e["secret"]) != "000000" else "111111"})
    W.assert_validation(r, "code")


def test_enrolment_needs_the_password(client):
    u = client.new_user()
    r = client.post("/api/v1/users/me/mfa/totp", token=u.access,
                    json_body={"password": "wrong-" + u.password})
    W.assert_problem(r, 403, "forbidden")


def test_confirmation_gives_ten_single_use_recovery_codes(client):
    u, secret, codes = enrolled(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[A-Z2-7]{10}", k) for k in codes), codes
    assert u.me().json()["mfa"] == ["totp"]
    assert "mfa_enrolled" in W.psql(
        "SELECT event FROM audit_events WHERE user_id = '%s'" % u.id)
    # Confirming again: nothing is pending.
    r = client.post("/api/v1/users/me/mfa/totp/confirm", token=u.access,
                    json_body={"code": totp(secret)})
    W.assert_problem(r, 409, "conflict")


def test_a_password_alone_gets_mfa_required_then_the_code_gets_tokens(client, jwks):
    u, secret, _ = enrolled(client)
    tok = mfa_token(client, u)
    # The confirmation used this step's code: the next step's (within the
    # drift window) is new.
    r = mfa_grant(client, tok, otp=totp(secret, step_start(+1)))
    assert r.status == 200, r
    b = r.json()
    assert b["token_type"] == "Bearer" and b["refresh_token"]
    assert client.get("/api/v1/users/me", token=b["access_token"]).status == 200
    # Spent on success.
    W.assert_oauth_error(mfa_grant(client, tok, otp=totp(secret, step_start(+1))),
                         "invalid_grant")


def test_a_code_is_never_accepted_twice(client):
    u, secret, _ = enrolled(client)
    code = totp(secret, step_start(+1))
    assert mfa_grant(client, mfa_token(client, u), otp=code).status == 200
    W.assert_oauth_error(mfa_grant(client, mfa_token(client, u), otp=code), "invalid_grant")
    # Nor an older step's.
    W.assert_oauth_error(mfa_grant(client, mfa_token(client, u), otp=totp(secret)),
                         "invalid_grant")


def test_the_drift_window_is_one_step(client):
    u, secret, _ = enrolled(client)
    tok = mfa_token(client, u)
    W.assert_oauth_error(mfa_grant(client, tok, otp=totp(secret, step_start(+2))),
                         "invalid_grant")
    W.assert_oauth_error(mfa_grant(client, tok, otp=totp(secret, step_start(-2))),
                         "invalid_grant")
    assert mfa_grant(client, tok, otp=totp(secret, step_start(+1))).status == 200


def test_a_recovery_code_works_once(client):
    u, _, codes = enrolled(client)
    r = mfa_grant(client, mfa_token(client, u), recovery=codes[0].lower())
    assert r.status == 200, r
    W.assert_oauth_error(mfa_grant(client, mfa_token(client, u), recovery=codes[0]),
                         "invalid_grant")
    assert mfa_grant(client, mfa_token(client, u), recovery=codes[1],
                     as_json=True).status == 200
    assert "recovery_code_used" in W.psql(
        "SELECT event FROM audit_events WHERE user_id = '%s'" % u.id)


def test_an_expired_mfa_token_is_refused(client):
    u, secret, _ = enrolled(client)
    tok = mfa_token(client, u)
    W.psql("UPDATE mfa_tokens SET expires_at = now() - interval '1 second' "
           "WHERE user_id = '%s'" % u.id)
    W.assert_oauth_error(mfa_grant(client, tok, otp=totp(secret, step_start(+1))),
                         "invalid_grant")


def test_another_users_mfa_token_is_refused(client):
    a, _, _ = enrolled(client)
    b, secret_b, _ = enrolled(client)
    W.assert_oauth_error(mfa_grant(client, mfa_token(client, a),
                                   otp=totp(secret_b, step_start(+1))), "invalid_grant")
    assert mfa_grant(client, mfa_token(client, b),
                     otp=totp(secret_b, step_start(+1))).status == 200


def test_five_wrong_codes_kill_the_mfa_token(client):
    u, secret, codes = enrolled(client)
    tok = mfa_token(client, u)
    right = totp(secret, step_start(+1))
    wrong = "%06d" % ((int(right) + 1) % 1000000)
    for _ in range(5):
        W.assert_oauth_error(mfa_grant(client, tok, otp=wrong), "invalid_grant")
    W.assert_oauth_error(mfa_grant(client, tok, recovery=codes[0]), "invalid_grant")
    assert "mfa_failed" in W.psql(
        "SELECT event FROM audit_events WHERE user_id = '%s'" % u.id)


def test_a_password_change_voids_an_mfa_token(client):
    u, secret, codes = enrolled(client)
    tok = mfa_token(client, u)
    pw = W.strong_password()
    r = client.post("/api/v1/users/me/password", token=u.access,
                    json_body={"current_password": u.password, "new_password": pw})
    assert r.status == 204, r
    W.assert_oauth_error(mfa_grant(client, tok, recovery=codes[0]), "invalid_grant")


def test_the_mfa_grant_validates_its_parameters(client):
    for form in ({"grant_type": MFA_GRANT},
                 {"grant_type": MFA_GRANT, "mfa_token": "x"},
                 {"grant_type": MFA_GRANT, "mfa_token": "x", "otp": "1", "recovery_code": "2"}):
        W.assert_oauth_error(client.token(form), "invalid_request")
    W.assert_oauth_error(client.token({"grant_type": MFA_GRANT, "mfa_token": "A" * 43,
                                       "otp": "123456"}), "invalid_grant")


def test_new_recovery_codes_void_the_old_set(client):
    u, _, codes = enrolled(client)
    r = client.post("/api/v1/users/me/mfa/recovery-codes", token=u.access,
                    json_body={"password": u.password})
    assert r.status == 200, r
    new = r.json()["recovery_codes"]
    for k in new:
        W.SECRETS.add_issued(k, r.index)
    assert len(new) == 10 and not set(new) & set(codes)
    W.assert_oauth_error(mfa_grant(client, mfa_token(client, u), recovery=codes[2]),
                         "invalid_grant")
    assert mfa_grant(client, mfa_token(client, u), recovery=new[0]).status == 200


def test_removal_needs_the_password_and_a_code(client):
    u, secret, codes = enrolled(client)
    url = "/api/v1/users/me/mfa/totp"
    r = client.delete(url, token=u.access, json_body={"password": u.password,
                                                      "code": "12345678AB"})
    W.assert_validation(r, "code")
    r = client.delete(url, token=u.access, json_body={"password": "wrong" + u.password,
                                                      "code": codes[0]})
    W.assert_problem(r, 403, "forbidden")
    r = client.delete(url, token=u.access, json_body={"password": u.password,
                                                      "code": codes[0]})
    assert r.status == 204, r
    assert u.me().json()["mfa"] == []
    assert client.login_raw(u.username, u.password).status == 200
    assert "mfa_removed" in W.psql(
        "SELECT event FROM audit_events WHERE user_id = '%s'" % u.id)


def test_an_admin_removes_a_users_factors(client, admin):
    u, _, _ = enrolled(client)
    r = client.delete("/api/v1/users/%s/mfa" % u.id, token=u.access)
    W.assert_problem(r, 403, "forbidden")
    r = client.delete("/api/v1/users/%s/mfa" % u.id, token=admin.access)
    assert r.status == 204, r
    assert client.login_raw(u.username, u.password).status == 200
    r = client.delete("/api/v1/users/%s/mfa" % u.id, token=admin.access)
    W.assert_problem(r, 404, "not-found")
    detail = W.psql("SELECT detail->>'by' FROM audit_events WHERE user_id = '%s' "
                    "AND event = 'mfa_removed'" % u.id)
    assert detail == [admin.id]


def test_wrong_codes_count_toward_the_login_back_off(client):
    u, secret, codes = enrolled(client)
    right = totp(secret, step_start(+1))
    wrong = "%06d" % ((int(right) + 7) % 1000000)
    for _ in range(W.LOGIN_MAX_FAILURES):
        tok = mfa_token(client, u)
        W.assert_oauth_error(mfa_grant(client, tok, otp=wrong), "invalid_grant")
    # Locked: even the right password gets the same answer now.
    W.assert_oauth_error(client.login_raw(u.username, u.password), "invalid_grant")
