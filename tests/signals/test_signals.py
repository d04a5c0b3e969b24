"""Signals of a live wardend: SIGHUP reloads the log level, the key set
(the hasher restarts, the JWKS follows) and the hashing policy, and keeps
the running configuration when the new one is broken; SIGTERM lets a
request in flight finish, refuses new connections and exits 0 within
shutdown_timeout.  Each step is checked on a NOTIFY_SOCKET made here.
Run through tests/signals/run (a throwaway PostgreSQL in DATABASE_URL).

The tests share one daemon and run in file order."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import wardenlib as W  # noqa: E402


class Notify:
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        # wardend opens its socket as root but sends after dropping to
        # `user`: a file system socket must let that user write.
        os.chmod(path, 0o777)
        self.seen = []

    def expect(self, key, timeout=30.0):
        """The next message holding key=..., as a dict; earlier messages
        are kept in self.seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            msg = dict(line.split("=", 1) for line in data.split("\n") if "=" in line)
            self.seen.append(msg)
            if key in msg:
                return msg
        raise AssertionError("no %s on NOTIFY_SOCKET within %.0f s (seen: %r)"
                             % (key, timeout, self.seen))

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def env():
    workdir = W.new_workdir()
    notify = Notify(os.path.join(workdir, "notify.sock"))
    # hasher_timeout: the slow hash of the SIGTERM test must not time out
    # on a loaded machine.
    d = W.Daemon(workdir, "signals", shutdown_timeout="20s",
                 hasher_timeout="60s")
    os.environ["NOTIFY_SOCKET"] = notify.path
    try:
        d.start(timeout=30)
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    finally:
        del os.environ["NOTIFY_SOCKET"]
    yield d, notify
    d.kill()
    notify.close()
    shutil.rmtree(workdir, ignore_errors=True)


def write_conf(d, **changes):
    settings = dict(d.settings)
    settings.update(changes)
    with open(d.conf, "w") as f:
        for k, v in settings.items():
            vals = v if isinstance(v, list) else [v]
            for one in vals:
                s = str(one)
                if s == "" or any(c.isspace() for c in s):
                    s = '"%s"' % s
                f.write("%s %s\n" % (k, s))
    d.settings = settings


def log_text(d):
    with open(d.log, "rb") as f:
        return f.read().decode("utf-8", "replace")


def kid_of(token):
    return W.jwt_parts(token)[0]["kid"]


def wait_for(what, pred, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def jwks_kids(client):
    r = client.get("/.well-known/jwks.json")
    assert r.status == 200, r
    return {k["kid"] for k in r.json()["keys"]}


def hup(d, notify):
    d.proc.send_signal(signal.SIGHUP)
    m = notify.expect("RELOADING")
    assert m["RELOADING"] == "1"
    usec = int(m["MONOTONIC_USEC"])
    now = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
    assert 0 < now - usec < 30e6, (usec, now)
    assert notify.expect("READY")["READY"] == "1"


def test_ready_is_notified(env):
    d, notify = env
    m = notify.expect("READY")
    assert m["READY"] == "1"
    assert m.get("STATUS", "").startswith("serving"), m


def test_reload_log_level_and_keys(env):
    d, notify = env
    c = d.client
    u = c.new_user("sig")
    old_token = u.access
    old_kid = kid_of(old_token)
    assert jwks_kids(c) == {old_kid} or old_kid in jwks_kids(c)
    assert "level=debug" not in log_text(d)

    out = subprocess.run([W.binary("warden-hasher"), "--keygen", d.key_dir],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    new_kid = re.search(r"^sign (\S+)$", out.stdout, re.M).group(1)
    assert new_kid != old_kid
    write_conf(d, log_level="debug")
    hup(d, notify)

    wait_for("the new kid in the JWKS", lambda: new_kid in jwks_kids(c))
    assert old_kid in jwks_kids(c)
    # Debug lines appear from now on (the hasher's restart logs some).
    wait_for("debug lines", lambda: "level=debug" in log_text(d))

    t = wait_for("a login", lambda: c.login_raw(u.obj["username"], u.password)
                 if c.get("/readyz").status == 200 else None)
    assert t.status == 200, t
    assert kid_of(t.json()["access_token"]) == new_kid
    # A token signed with the old key still verifies.
    assert c.get("/api/v1/users/me", token=old_token).status == 200
    assert c.get("/api/v1/users/me", token=t.json()["access_token"]).status == 200


def test_broken_config_keeps_the_running_one(env):
    d, notify = env
    good = dict(d.settings)
    with open(d.conf, "a") as f:
        f.write("no_such_keyword 1\n")
    before = len(log_text(d))
    hup(d, notify)
    tail = log_text(d)[before:]
    assert "keeping the running configuration" in tail, tail
    assert "no_such_keyword" in tail, tail
    assert d.alive()
    assert d.client.get("/healthz").status == 200
    assert d.client.get("/readyz").status == 200
    assert d.client.new_user("sig2").access
    write_conf(d, **good)


def test_sigterm_drains_a_slow_request(env):
    d, notify = env
    c = d.client
    # A hashing policy slow enough to keep a registration in flight; the
    # reload restarts the hasher with it (its self-test hashes once).
    write_conf(d, argon2_memory="256M", argon2_iterations="10")
    hup(d, notify)
    wait_for("/readyz", lambda: c.get("/readyz").status == 200, timeout=60)

    result = {}

    def register():
        name = W.uniq("slow")
        r = c.register_raw(name, "%s@example.test" % name, W.strong_password())
        result["status"] = r.status
        result["at"] = time.monotonic()

    th = threading.Thread(target=register)
    th.start()
    # In flight means at the hasher, by the daemon's own count.
    wait_for("the registration at the hasher",
             lambda: c.hash_queue_depth() >= 1 or not th.is_alive())
    assert th.is_alive(), "the registration finished too fast to be in flight"
    sent = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    assert notify.expect("STOPPING")["STOPPING"] == "1"
    time.sleep(0.2)
    assert d.alive(), "wardend died: %r\n%s" % (d.proc.poll(), W.log_tail(d.log))
    # No new connections once STOPPING is said.
    with pytest.raises(OSError):
        s = socket.create_connection((d.host, d.port), timeout=2)
        s.close()
    th.join(timeout=25)
    assert not th.is_alive(), "the request in flight never finished"
    assert result["status"] == 201, result
    assert result["at"] > sent
    status = d.proc.wait(timeout=25)
    assert status == 0, W.log_tail(d.log)
    assert time.monotonic() - sent < 20 + 2
    log = log_text(d)
    assert "no new connections" in log and "msg=stopped" in log, W.log_tail(d.log)
    print("registration took %.2f s after SIGTERM" % (result["at"] - sent))
