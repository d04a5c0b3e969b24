"""Reading the mail wardend sent, for the integration tests: a dir:
transport's .eml files, or what an SMTP server received.  Links and the
tokens in them are registered as secrets (test_zz_secrets.py)."""

import email
import email.policy
import email.utils
import glob
import os
import re
import time

import wardenlib as W

LINK_RE = re.compile(r"(https?://\S+/ui/(verify-email|reset-password)\?token=([A-Za-z0-9_-]{43}))")


class Message:
    def __init__(self, raw):
        self.raw = raw
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.to = str(self.msg["To"] or "")
        self.subject = str(self.msg["Subject"] or "")
        body = self.msg.get_body(preferencelist=("plain",))
        self.text = body.get_content() if body is not None else ""

    def link(self, kind=None):
        """(url, token) of the message's link (of the given page), or None."""
        for m in LINK_RE.finditer(self.text):
            if kind is None or m.group(2) == kind:
                W.SECRETS.add_link_token(m.group(3))
                return m.group(1), m.group(3)
        return None


class DirMailbox:
    """The messages of a dir: transport, oldest first."""

    def __init__(self, path):
        self.path = path
        os.makedirs(path, exist_ok=True)
        os.chmod(path, 0o777)

    def messages(self):
        out = []
        for f in sorted(glob.glob(os.path.join(self.path, "*.eml")),
                        key=lambda p: (os.path.getmtime(p), p)):
            with open(f, "rb") as fh:
                out.append(Message(fh.read()))
        return out

    def to(self, address):
        return [m for m in self.messages()
                if email.utils.parseaddr(m.to)[1].lower() == address.lower()]

    def wait_for(self, address, count=1, timeout=15.0, subject=None):
        """The messages to address once there are count of them (matching
        subject, a substring, when given); fails after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            got = [m for m in self.to(address)
                   if subject is None or subject.lower() in m.subject.lower()]
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError("%d message(s) to %s within %.0f s, %d wanted; "
                                     "all: %r" % (len(got), address, timeout, count,
                                                  [(m.to, m.subject) for m in self.messages()]))
            time.sleep(0.1)


def outbox_rows(where="true"):
    """Rows of mail_outbox still queued (template, recipient)."""
    return W.psql("SELECT template || ' ' || recipient FROM mail_outbox WHERE "
                  + where + " ORDER BY id")
