"""mail_transport dir: (development and tests): each message becomes an
.eml file, written under a temporary name and renamed into place."""

import email
import email.policy
import os
import time
import uuid

import wardenlib as W


def test_dir_transport_writes_eml(workdir, daemon):
    W.psql("DELETE FROM mail_outbox")
    maildir = os.path.join(workdir, "maildir")
    os.makedirs(maildir, exist_ok=True)
    owner = W.pg_socket_owner(W.database_url()) if os.geteuid() == 0 else None
    if owner:
        import pwd
        pw = pwd.getpwnam(owner)
        os.chown(maildir, pw.pw_uid, pw.pw_gid)
    d = W.start_own(workdir, daemon, "maildir",
                    mail_transport="dir:" + maildir,
                    mail_template_dir=W.repo_top() + "/etc/mail",
                    public_url="https://id.example.test")
    try:
        mk = uuid.uuid4().hex
        W.psql("INSERT INTO mail_outbox (template, recipient, params) VALUES "
               "('password_reset', 'dir-%s@example.test', jsonb_build_object("
               "'link', 'https://id.example.test/ui/reset-password?token=%s', "
               "'username', 'dir', 'expires_in', '30 minutes'))" % (mk, mk))
        deadline = time.monotonic() + 15
        files = []
        while time.monotonic() < deadline:
            files = [f for f in os.listdir(maildir) if f.endswith(".eml")]
            if files:
                break
            time.sleep(0.1)
        assert len(files) == 1, os.listdir(maildir)
        assert not [f for f in os.listdir(maildir) if f.startswith(".")]
        name = files[0]
        assert name.split("-", 1)[0].isdigit()
        with open(os.path.join(maildir, name), "rb") as f:
            raw = f.read()
        assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        # mail_from unset: warden@ the host of public_url.
        assert msg["From"] == "warden@id.example.test"
        assert msg["To"] == "dir-%s@example.test" % mk
        assert msg["Subject"] == "Reset your password"
        assert ("https://id.example.test/ui/reset-password?token=%s" % mk
                in msg.get_content())
        assert "30 minutes" in msg.get_content()
        time.sleep(0.5)
        assert W.psql("SELECT count(*) FROM mail_outbox")[0] == "0"
    finally:
        W.stop_own(d)
