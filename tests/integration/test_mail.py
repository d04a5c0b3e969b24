"""Outgoing mail (ACCOUNTS.md, "Outgoing mail"): wardend drains the
mail_outbox table into a real SMTP server.  The flows that queue mail are
not needed: the tests insert rows into mail_outbox as those flows do."""

import json
import re
import time
import uuid

import pytest

import wardenlib as W
from smtplib_fixture import Relay


TEMPLATES = W.repo_top() + "/etc/mail"


def mail_settings(relay, **extra):
    s = {
        "mail_transport": relay.url,
        "smtp_starttls": "optional",
        "mail_template_dir": TEMPLATES,
        "mail_from": "warden@example.test",
        "public_url": "{base}",
    }
    s.update(extra)
    return s


@pytest.fixture(scope="module")
def relay():
    r = Relay()
    r.start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def mailer(workdir, daemon, relay):
    """A wardend of this module's own that sends through the relay (the
    session's wardend has mail off, so this is the only sender)."""
    W.psql("DELETE FROM mail_outbox")
    d = W.start_own(workdir, daemon, "mail", **mail_settings(relay, mail_max_age="1m"))
    yield d
    if d.alive():
        W.stop_own(d)


def queue(n=1, template="verify_email", created_sql="now()", next_sql="now()",
          claimed_sql="NULL"):
    """Inserts n rows as the flows do; returns their markers (one unique
    token in each link and recipient)."""
    markers = [uuid.uuid4().hex for _ in range(n)]
    values = ",".join(
        "('%s', 'user-%s@example.test', jsonb_build_object('link', "
        "'https://id.example.test/ui/verify-email?token=%s', 'username', "
        "'user-%s', 'expires_in', '1 day'), %s, %s, %s)"
        % (template, m, m, m, created_sql, next_sql, claimed_sql) for m in markers)
    W.psql("INSERT INTO mail_outbox (template, recipient, params, created_at, "
           "next_attempt_at, claimed_until) VALUES " + values)
    return markers


def marker_of(m):
    found = re.search(r"token=([0-9a-f]{32})", m["msg"].get_content())
    return found.group(1) if found else None


def delivered(relay, markers):
    want = set(markers)
    return [m for m in relay.received() if marker_of(m) in want]


def wait_delivered(relay, markers, timeout=20.0):
    want = set(markers)
    relay.wait_for(lambda msgs: want <= {marker_of(m) for m in msgs}, timeout)
    return delivered(relay, markers)


def outbox_count(markers):
    return int(W.psql("SELECT count(*) FROM mail_outbox WHERE params->>'link' "
                      "~ '(%s)$'" % "|".join(markers))[0])


def metric(d, name):
    r = d.client.get("/metrics")
    assert r.status == 200, r
    m = re.search(r"^%s (\S+)$" % re.escape(name), r.body.decode(), re.M)
    assert m, name
    return float(m.group(1))


def test_queued_message_is_delivered(mailer, relay):
    [mk] = queue(1)
    [m] = wait_delivered(relay, [mk])
    assert m["mail_from"] == "warden@example.test"
    assert m["rcpt_tos"] == ["user-%s@example.test" % mk]
    msg = m["msg"]
    assert msg["From"] == "warden@example.test"
    assert msg["To"] == "user-%s@example.test" % mk
    assert msg["Subject"] == "Confirm your e-mail address"
    assert msg["Date"] and msg["Message-ID"].startswith("<")
    assert msg["MIME-Version"] == "1.0"
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    body = msg.get_content()
    assert "Hello user-%s," % mk in body
    assert "https://id.example.test/ui/verify-email?token=%s\r\n" % mk in body
    assert "expires in 1 day" in body
    assert "{{" not in body
    # Deleted once the relay accepted it; the link never reached the log.
    deadline = time.monotonic() + 10
    while outbox_count([mk]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert outbox_count([mk]) == 0
    with open(mailer.log, encoding="utf-8", errors="replace") as f:
        log = f.read()
    assert mk not in log
    assert metric(mailer, "warden_mail_sent_total") >= 1


def test_every_template_renders(mailer, relay):
    for tpl, subject in (("password_reset", "Reset your password"),
                         ("email_changed", "Your e-mail address was changed")):
        [mk] = queue(1, template=tpl)
        relay.wait_for(lambda msgs: any(m["rcpt_tos"] == ["user-%s@example.test" % mk]
                                        for m in msgs))
        [m] = [m for m in relay.received()
               if m["rcpt_tos"] == ["user-%s@example.test" % mk]]
        assert m["msg"]["Subject"] == subject


def test_relay_down_then_up_delivers_each_once(mailer, relay):
    relay.stop()
    try:
        markers = queue(10)
        # Every row tried and rescheduled with its error.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            rows = W.psql("SELECT count(*) FROM mail_outbox WHERE attempts >= 1 AND "
                          "last_error IS NOT NULL AND claimed_until IS NULL AND "
                          "next_attempt_at > now() AND params->>'link' ~ '(%s)$'"
                          % "|".join(markers))
            if int(rows[0]) == 10:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the rows were not tried and rescheduled")
        assert metric(mailer, "warden_mail_failed_total") >= 10
        time.sleep(W_POLL + 1)
        assert metric(mailer, "warden_mail_queued") >= 10
        assert metric(mailer, "warden_mail_oldest_age_seconds") >= 1
        assert not delivered(relay, markers)
    finally:
        relay.start()
    # The back-off is 30 s for the first retry.
    got = wait_delivered(relay, markers, timeout=60)
    assert len(got) == 10 and len({marker_of(m) for m in got}) == 10
    time.sleep(1)
    assert len(delivered(relay, markers)) == 10
    assert outbox_count(markers) == 0


W_POLL = 5  # MAILER_POLL


def test_two_instances_never_send_twice(workdir, daemon, mailer, relay):
    second = W.start_own(workdir, daemon, "mail2", **mail_settings(relay))
    try:
        markers = queue(50)
        got = wait_delivered(relay, markers, timeout=60)
        time.sleep(1.5)
        got = delivered(relay, markers)
        assert len(got) == 50, "%d messages for 50 rows" % len(got)
        assert len({marker_of(m) for m in got}) == 50
        assert outbox_count(markers) == 0
        sent = metric(mailer, "warden_mail_sent_total") + metric(second, "warden_mail_sent_total")
        assert sent >= 50
    finally:
        W.stop_own(second)


def test_killed_wardend_loses_nothing(mailer, relay):
    mailer.kill()   # SIGKILL
    # Queued while no wardend runs, and rows a dead host had claimed
    # (their lease ran out).
    markers = queue(10) + queue(5, claimed_sql="now() - interval '1 second'")
    time.sleep(0.5)
    assert not delivered(relay, markers)
    mailer.start()
    got = wait_delivered(relay, markers, timeout=30)
    assert len(got) == 15
    assert outbox_count(markers) == 0


def test_too_old_is_given_up_and_audited(mailer, relay):
    # Older than mail_max_age (1m here), waiting for a retry.
    [mk] = queue(1, created_sql="now() - interval '2 minutes'",
                 next_sql="now() + interval '1 hour'")
    row_id = W.psql("SELECT id FROM mail_outbox WHERE params->>'link' LIKE '%%%s'" % mk)[0]
    deadline = time.monotonic() + 3 * W_POLL
    while outbox_count([mk]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert outbox_count([mk]) == 0
    rows = W.psql("SELECT detail FROM audit_events WHERE event = 'mail_failed' "
                  "AND (detail->>'outbox_id')::bigint = %s" % row_id)
    assert len(rows) == 1
    detail = json.loads(rows[0])
    assert detail["template"] == "verify_email"
    assert mk not in rows[0]            # never the link or its token
    assert not delivered(relay, [mk])
    assert metric(mailer, "warden_mail_given_up_total") >= 1
