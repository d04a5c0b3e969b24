"""A real SMTP server for the tests of outgoing mail: aiosmtpd (Debian's
python3-aiosmtpd) on a free loopback port, without TLS (wardend then
needs smtp_starttls optional), keeping every message it accepted."""

import email
import email.policy
import threading
import time

from aiosmtpd.controller import Controller

import wardenlib as W


class _Handler:
    def __init__(self, relay):
        self.relay = relay

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        with self.relay.lock:
            self.relay.messages.append({
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "raw": envelope.original_content or envelope.content,
                "msg": msg,
            })
        return "250 OK"


class Relay:
    """start(), stop() (the relay is down: connections are refused) and
    start() again on the same port; messages holds what it accepted."""

    def __init__(self):
        self.port = W.free_port()
        self.lock = threading.Lock()
        self.messages = []
        self.controller = None

    @property
    def url(self):
        return "smtp://127.0.0.1:%d" % self.port

    def start(self):
        self.controller = Controller(_Handler(self), hostname="127.0.0.1",
                                     port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def received(self):
        with self.lock:
            return list(self.messages)

    def wait_for(self, pred, timeout=20.0):
        """Waits until pred(messages) is true; returns the messages."""
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.received()
            if pred(msgs):
                return msgs
            if time.monotonic() > deadline:
                raise AssertionError("relay: condition not met within %.0f s; "
                                     "%d messages received" % (timeout, len(msgs)))
            time.sleep(0.1)
