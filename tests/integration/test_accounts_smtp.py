"""The whole password reset through a real SMTP server (aiosmtpd), in a
module of its own: while it runs no other wardend with a mail transport
shares the database's outbox (test_accounts.py's are stopped)."""

import os

import mailbox as MB
import wardenlib as W
from smtplib_fixture import Relay
from test_accounts import forgot, reset


def test_verification_and_reset_through_a_real_smtp_server(workdir, daemon):
    """The mails cross aiosmtpd: the verification link verifies; the reset
    link's token resets the password, every old session is gone and the
    new password logs in."""
    relay = Relay()
    relay.start()
    d = W.start_own(workdir, daemon, "accounts-smtp", mail_transport=relay.url,
                    smtp_starttls="optional", public_url="{base}",
                    mail_template_dir=os.path.join(W.repo_top(), "etc", "mail"),
                    addr_reset_limit="100000")
    try:
        u = d.client.new_user()
        old_access, old_refresh = u.access, u.refresh

        # The registration's verification mail crosses the relay too.
        def verify_mail(msgs):
            return [m for m in msgs if u.email in m["rcpt_tos"]
                    and "confirm" in str(m["msg"]["Subject"]).lower()]
        m = verify_mail(relay.wait_for(lambda ms: verify_mail(ms)))[0]
        found = MB.LINK_RE.search(m["msg"].get_body(preferencelist=("plain",)).get_content())
        assert found and found.group(2) == "verify-email"
        W.SECRETS.add_password(found.group(3))
        r = d.client.post("/api/v1/auth/email/verify", json_body={"token": found.group(3)})
        assert r.status == 204, r
        assert u.me().json()["email_verified"] is True
        assert forgot(d.client, u.email).status == 202

        def reset_mail(msgs):
            return [m for m in msgs if u.email in m["rcpt_tos"]
                    and "password" in str(m["msg"]["Subject"]).lower()]
        m = reset_mail(relay.wait_for(lambda ms: reset_mail(ms)))[0]
        text = m["msg"].get_body(preferencelist=("plain",)).get_content()
        found = MB.LINK_RE.search(text)
        assert found and found.group(2) == "reset-password", text
        token = found.group(3)
        W.SECRETS.add_password(token)
        assert found.group(1).startswith(d.base + "/ui/reset-password?token=")

        pw = W.strong_password()
        assert reset(d.client, token, pw).status == 204
        assert d.client.get("/api/v1/users/me", token=old_access).status == 401
        W.assert_oauth_error(d.client.refresh_raw(old_refresh), "invalid_grant")
        W.assert_oauth_error(d.client.login_raw(u.username, u.password), "invalid_grant")
        assert d.client.login_raw(u.username, pw).status == 200
    finally:
        W.stop_own(d)
        relay.stop()
