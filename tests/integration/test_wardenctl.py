"""wardenctl's operator verbs (user, session, key, audit) against the real
database, their effects checked through the HTTP API of a running wardend:
what an operator does from the shell must hold for every client at once."""

import base64
import hashlib
import json
import os
import pwd
import re
import select
import signal
import subprocess
import time
import uuid

import pytest

import mailbox as MB
import wardenlib as W
from test_mfa import enrolled


def ctl(daemon, *args, stdin=None, rc=0):
    """Runs wardenctl with daemon's configuration; checks its exit status."""
    out = daemon.wardenctl(*args, stdin=stdin)
    assert out.returncode == rc, "wardenctl %s: exit %d, want %d\n%s%s" % (
        " ".join(args), out.returncode, rc, out.stdout, out.stderr)
    if rc != 0:
        # ours, after the log lines of a hasher it ran, if any
        assert any(l.startswith(("wardenctl: ", "usage: "))
                   for l in out.stderr.splitlines()), out.stderr
    return out


def operator():
    """Who ctl_operator() says runs wardenctl (ctl/db.c)."""
    name = pwd.getpwuid(os.getuid()).pw_name
    sudo = os.environ.get("SUDO_USER")
    if os.getuid() == 0 and sudo and len(sudo) < 32 and " " not in sudo:
        return "%s (sudo root)" % sudo
    return name


def events(user_id, event=None):
    """The audit events of a user, oldest first: (event, detail)."""
    rows = W.psql("SELECT event || ' ' || coalesce(detail::text, '{}') FROM "
                  "audit_events WHERE user_id = '%s' ORDER BY id" % user_id)
    out = [(r.split(" ", 1)[0], json.loads(r.split(" ", 1)[1])) for r in rows]
    return [e for e in out if event is None or e[0] == event]


def by_operator(user_id, event):
    evs = events(user_id, event)
    assert evs, "no %s event for %s" % (event, user_id)
    d = evs[-1][1]
    assert d.get("by") == "wardenctl" and d.get("operator") == operator(), d
    return d


def verify(c, token):
    return c.get("/api/v1/auth/verify", token=token)


def refused_within_a_second(c, token):
    deadline = time.monotonic() + 1.0
    while True:
        r = verify(c, token)
        if r.status == 401:
            return
        assert time.monotonic() < deadline, "still %d after a second" % r.status
        time.sleep(0.05)


def new_password():
    pw = W.strong_password()
    W.SECRETS.add_password(pw)
    return pw


def claims(access):
    return json.loads(W.b64url_decode(access.split(".")[1]))


# --- usage and exit statuses ----------------------------------------------

@pytest.mark.parametrize("args", [
    ("user",), ("user", "frobnicate"), ("user", "list", "extra"),
    ("user", "show"), ("user", "list", "--bogus"), ("user", "roles"),
    ("user", "add", "someone", "someone@example.test"),
    ("user", "add", "someone", "someone@example.test", "--password-stdin",
     "--send-reset"),
    ("user", "delete", "someone"),          # stdin is no terminal, no --yes
    ("user", "set-password", "someone"),    # no --password-stdin
    ("session", "revoke", "not-a-family"), ("session", "revoke"),
    ("audit", "tail", "-n", "0"), ("audit", "tail", "--event", "Bad-Event"),
    ("key", "list", "extra"), ("user", "list", "--role", "Not A Role"),
])
def test_bad_usage_exits_2(daemon, args):
    ctl(daemon, *args, stdin="", rc=2)


def test_help_of_a_verb(daemon):
    out = ctl(daemon, "user", "list", "--help")
    assert "--query" in out.stdout
    out = ctl(daemon, "-h")
    for verb in ("user list", "user reset-link", "session revoke", "key rotate",
                 "audit tail", "create-admin"):
        assert verb in out.stdout


@pytest.mark.parametrize("args", [
    ("user", "show", "no-such-user"), ("user", "disable", "no-such-user"),
    ("user", "roles", "no-such-user", "--add", "x"),
    ("user", "unlock", "nobody@example.test"),
    ("user", "show", str(uuid.uuid4())), ("user", "delete", "no-such-user", "--yes"),
    ("user", "reset-link", "no-such-user"), ("session", "list", "no-such-user"),
    ("session", "revoke", str(uuid.uuid4())),
    ("session", "revoke", "--all", "no-such-user"),
    ("audit", "tail", "--user", "no-such-user"),
])
def test_unknown_user_or_session_exits_3(daemon, args):
    out = ctl(daemon, *args, rc=3)
    assert "no such" in out.stderr


# --- user list and show ----------------------------------------------------

def test_list_streams_every_user_in_creation_order(daemon, client):
    mk = "lst" + uuid.uuid4().hex[:8]
    users = [client.new_user(prefix=mk, login=False) for _ in range(3)]
    ctl(daemon, "user", "roles", users[1].username, "--add", "lister")
    ctl(daemon, "user", "disable", users[2].username)

    everyone = json.loads(ctl(daemon, "user", "list", "--json").stdout)
    assert isinstance(everyone, list)
    assert [u["id"] for u in everyone] == W.psql(
        "SELECT id FROM users ORDER BY created_at, id")

    mine = json.loads(ctl(daemon, "user", "list", "--query", mk.upper(),
                          "--json").stdout)
    assert [u["id"] for u in mine] == [u.id for u in users]
    for u in mine:
        W.assert_user_object(u)
        assert u["mfa"] == [] and u["email_verified"] is False
    # a prefix of the address finds the same
    assert len(json.loads(ctl(daemon, "user", "list", "--query",
                              users[0].email[:12], "--json").stdout)) >= 1
    r = json.loads(ctl(daemon, "user", "list", "--query", mk, "--role",
                       "lister", "--json").stdout)
    assert [u["username"] for u in r] == [users[1].username]
    r = json.loads(ctl(daemon, "user", "list", "--query", mk, "--disabled",
                       "--json").stdout)
    assert [u["username"] for u in r] == [users[2].username]
    assert json.loads(ctl(daemon, "user", "list", "--query", "zz-none-" + mk,
                          "--json").stdout) == []

    text = ctl(daemon, "user", "list", "--query", mk).stdout.splitlines()
    assert text[0].split() == ["ID", "USERNAME", "EMAIL", "ROLES", "ACTIVE",
                               "MFA", "CREATED"]
    assert len(text) == 4
    # aligned: every row's EMAIL starts where the header's does
    col = text[0].index("EMAIL")
    for line, u in zip(text[1:], users):
        assert line[col:].startswith(u.email), text


def test_list_pages_past_the_cursor_size(daemon):
    """More rows than one FETCH (1000): all of them, once each."""
    mk = "bulk" + uuid.uuid4().hex[:6]
    W.psql("INSERT INTO users (username, email, password_hash) SELECT "
           "'%s' || i, '%s' || i || '@example.test', '$warden$v=1$k=x$x' "
           "FROM generate_series(1, 2100) AS i" % (mk, mk))
    try:
        out = json.loads(ctl(daemon, "user", "list", "--query", mk,
                             "--json").stdout)
        assert len(out) == 2100 and len({u["id"] for u in out}) == 2100
        lines = ctl(daemon, "user", "list", "--query", mk).stdout.splitlines()
        assert len(lines) == 2101
    finally:
        W.psql("DELETE FROM users WHERE username LIKE '%s%%'" % mk)


def test_show_by_name_id_or_address(daemon, client):
    u = client.new_user(full_name="Show Me")
    for name in (u.username, u.username.upper(), u.id, u.id.upper(),
                 u.email.upper()):
        s = json.loads(ctl(daemon, "user", "show", name, "--json").stdout)
        assert s["id"] == u.id and s["username"] == u.username
    # the API's user object, and what operators need besides
    W.assert_user_object({k: v for k, v in s.items()
                          if k not in ("password_format", "token_version")})
    assert s["full_name"] == "Show Me" and s["is_active"] is True
    assert s["mfa"] == [] and s["password_format"] == "warden"
    assert s["failed_logins"] == 0 and s["locked_until"] is None
    assert s["active_sessions"] == 1
    text = ctl(daemon, "user", "show", u.username).stdout
    assert re.search(r"^username: +%s$" % re.escape(u.username), text, re.M), text
    assert re.search(r"^password format: +warden$", text, re.M), text
    stored = W.psql("SELECT password_hash FROM users WHERE id = '%s'" % u.id)[0]
    assert stored not in text and "$warden$" not in text


# --- user add --------------------------------------------------------------

def test_add_with_a_password_from_stdin(daemon, client):
    name = W.uniq("added")
    pw = new_password()
    out = ctl(daemon, "user", "add", name, name + "@example.test", "--role",
              "ops", "--role", "billing", "--full-name", "Added One",
              "--password-stdin", stdin=pw + "\n")
    uid = out.stdout.strip()
    assert W.UUID_RE.match(uid)
    t = client.login(name, pw)
    assert claims(t["access_token"])["roles"] == ["ops", "billing"]
    me = client.get("/api/v1/users/me", token=t["access_token"]).json()
    assert me["full_name"] == "Added One" and me["id"] == uid
    assert by_operator(uid, "registered")["roles"] == ["ops", "billing"]
    assert W.psql("SELECT password_hash LIKE '$warden$v=1$%%' FROM users "
                  "WHERE id = '%s'" % uid) == ["t"]


def test_add_refuses_a_bad_password_or_a_taken_name(daemon, client):
    name = W.uniq("added")
    out = ctl(daemon, "user", "add", name, name + "@example.test",
              "--password-stdin", stdin="short\n", rc=1)
    assert "password" in out.stderr
    out = ctl(daemon, "user", "add", name, name + "@example.test",
              "--password-stdin", stdin=name + "\n", rc=1)
    out = ctl(daemon, "user", "add", name, name + "@example.test",
              "--password-stdin", stdin="basketball\n", rc=1)
    assert "common" in out.stderr
    assert W.psql("SELECT count(*) FROM users WHERE username = '%s'" % name) == ["0"]
    other = client.new_user(login=False)
    out = ctl(daemon, "user", "add", other.username.upper(), name + "@example.test",
              "--password-stdin", stdin=new_password() + "\n", rc=1)
    assert "already taken" in out.stderr
    out = ctl(daemon, "user", "add", "-bad-", name + "@example.test",
              "--send-reset", rc=2)
    out = ctl(daemon, "user", "add", name, name + "@example.test", "--send-reset",
              rc=1)
    assert "mail_transport" in out.stderr


@pytest.fixture(scope="module")
def maild(workdir, daemon):
    box = os.path.join(workdir, "wardenctl-mail")
    mb = MB.DirMailbox(box)
    d = W.start_own(workdir, daemon, "ctlmail", mail_transport="dir:" + box,
                    mail_template_dir=os.path.join(W.repo_top(), "etc", "mail"),
                    public_url="{base}")
    yield d, mb
    W.stop_own(d)


def test_add_with_a_reset_mail(maild):
    d, mb = maild
    name = W.uniq("mailed")
    addr = name + "@example.test"
    out = ctl(d, "user", "add", name, addr, "--send-reset")
    uid = out.stdout.strip()
    assert W.UUID_RE.match(uid)
    assert "queued" in out.stderr
    m = mb.wait_for(addr, subject="password")[0]
    url, token = m.link("reset-password")
    assert url.startswith(d.base + "/ui/reset-password?token=")
    assert "30 minutes" in m.text
    assert token not in out.stdout + out.stderr
    pw = new_password()
    r = d.client.post("/api/v1/auth/password/reset",
                      json_body={"token": token, "new_password": pw})
    assert r.status == 204, r
    assert d.client.login_raw(name, pw).status == 200
    kinds = [e for e, _ in events(uid)]
    assert kinds[:2] == ["registered", "password_reset_requested"], kinds
    by_operator(uid, "password_reset_requested")
    assert "password_reset" in kinds
    assert W.psql("SELECT count(*) FROM mail_sends WHERE user_id = '%s'" % uid) == ["1"]


# --- disable, enable, roles -------------------------------------------------

def test_disable_ends_sessions_and_enable_lets_in(daemon, client):
    u = client.new_user()
    assert verify(client, u.access).status == 204
    out = ctl(daemon, "user", "disable", u.username)
    assert "disabled" in out.stdout
    refused_within_a_second(client, u.access)
    W.assert_oauth_error(client.login_raw(u.username, u.password), "invalid_grant")
    W.assert_oauth_error(client.refresh_raw(u.refresh), "invalid_grant")
    by_operator(u.id, "disabled")
    assert "already disabled" in ctl(daemon, "user", "disable", u.id).stdout
    ctl(daemon, "user", "enable", u.username)
    by_operator(u.id, "enabled")
    t = client.login(u.username, u.password)
    assert verify(client, t["access_token"]).status == 204


def test_roles_add_and_remove(daemon, client):
    u = client.new_user()
    out = ctl(daemon, "user", "roles", u.username, "--add", "ops", "--add",
              "audit", "--add", "ops")
    assert out.stdout.strip() == "ops,audit"
    refused_within_a_second(client, u.access)     # a token of the old roles
    t = client.login(u.username, u.password)
    assert claims(t["access_token"])["roles"] == ["ops", "audit"]
    r = client.get("/api/v1/auth/verify?role=ops", token=t["access_token"])
    assert r.status == 204 and r.header("X-Auth-Roles") == "ops,audit", r
    d = by_operator(u.id, "roles_changed")
    assert d["from"] == [] and d["to"] == ["ops", "audit"]
    out = ctl(daemon, "user", "roles", u.username, "--remove", "ops", "--add", "x")
    assert out.stdout.strip() == "audit,x"
    assert ctl(daemon, "user", "roles", u.username).stdout.strip() == "audit,x"
    n = len(events(u.id, "roles_changed"))
    assert n == 2     # printing them changed nothing
    t = client.login(u.username, u.password)
    assert claims(t["access_token"])["roles"] == ["audit", "x"]


def test_the_last_admin_stays(daemon, admin):
    others = W.psql("SELECT id FROM users WHERE is_active AND 'admin' = ANY (roles) "
                    "AND id <> '%s'" % admin.id)
    for uid in others:
        ctl(daemon, "user", "roles", uid, "--remove", "admin")
    try:
        for args in (("user", "disable", admin.username),
                     ("user", "roles", admin.username, "--remove", "admin"),
                     ("user", "delete", admin.username, "--yes")):
            out = ctl(daemon, *args, rc=1)
            assert "last active admin" in out.stderr, out.stderr
        assert admin.me().status == 200
    finally:
        for uid in others:
            ctl(daemon, "user", "roles", uid, "--add", "admin")


# --- passwords and reset links ----------------------------------------------

def test_set_password_ends_sessions(daemon, client):
    u = client.new_user()
    pw = new_password()
    out = ctl(daemon, "user", "set-password", u.username, "--password-stdin",
              stdin=pw + "\n")
    assert pw not in out.stdout + out.stderr
    refused_within_a_second(client, u.access)
    W.assert_oauth_error(client.refresh_raw(u.refresh), "invalid_grant")
    W.assert_oauth_error(client.login_raw(u.username, u.password), "invalid_grant")
    assert client.login_raw(u.username, pw).status == 200
    by_operator(u.id, "password_changed")
    out = ctl(daemon, "user", "set-password", u.username, "--password-stdin",
              stdin="short\n", rc=1)
    assert client.login_raw(u.username, pw).status == 200


def test_reset_link_resets_through_the_api(daemon, client):
    u = client.new_user()
    out = ctl(daemon, "user", "reset-link", u.username)
    url = out.stdout.strip()
    assert url.startswith(daemon.base + "/ui/reset-password?token="), url
    token = url.split("token=", 1)[1]
    assert W.B64URL_RE.match(token) and len(token) == 43
    assert token not in out.stderr
    d = by_operator(u.id, "reset_link_issued")
    assert W.TS_RE.match(d["expires_at"])
    # a second link voids the first
    url2 = ctl(daemon, "user", "reset-link", u.username).stdout.strip()
    token2 = url2.split("token=", 1)[1]
    pw = new_password()
    reset = lambda t: client.post("/api/v1/auth/password/reset",
                                  json_body={"token": t, "new_password": pw})
    W.assert_problem(reset(token), 400, "invalid-token")
    assert reset(token2).status == 204
    refused_within_a_second(client, u.access)
    assert client.login_raw(u.username, pw).status == 200
    W.assert_problem(reset(token2), 400, "invalid-token")
    ctl(daemon, "user", "disable", u.username)
    out = ctl(daemon, "user", "reset-link", u.username, rc=1)
    assert "disabled" in out.stderr


# --- unlock, mfa-reset, delete ----------------------------------------------

def test_unlock_lets_a_locked_account_in(daemon, client):
    u = client.new_user(login=False)
    for _ in range(W.LOGIN_MAX_FAILURES):
        W.assert_oauth_error(client.login_raw(u.username, "wrong" + u.password),
                             "invalid_grant")
    assert W.psql("SELECT locked_until > now() FROM users WHERE id = '%s'"
                  % u.id) == ["t"]
    # a lock long enough that the test is not racing its end
    W.psql("UPDATE users SET locked_until = now() + interval '1 hour' "
           "WHERE id = '%s'" % u.id)
    W.assert_oauth_error(client.login_raw(u.username, u.password), "invalid_grant")
    s = json.loads(ctl(daemon, "user", "show", u.username, "--json").stdout)
    assert s["locked"] is True and s["failed_logins"] >= W.LOGIN_MAX_FAILURES
    ctl(daemon, "user", "unlock", u.username)
    assert client.login_raw(u.username, u.password).status == 200
    s = json.loads(ctl(daemon, "user", "show", u.username, "--json").stdout)
    assert s["locked"] is False and s["failed_logins"] == 0
    by_operator(u.id, "unlocked")


def test_mfa_reset_removes_the_second_factor(daemon, client):
    u, secret, codes = enrolled(client)
    assert client.login_raw(u.username, u.password).status == 403
    s = json.loads(ctl(daemon, "user", "show", u.username, "--json").stdout)
    assert s["mfa"] == ["totp"]
    out = ctl(daemon, "user", "mfa-reset", u.username)
    assert "removed" in out.stdout
    assert client.login_raw(u.username, u.password).status == 200
    assert W.psql("SELECT count(*) FROM recovery_codes WHERE user_id = '%s'"
                  % u.id) == ["0"]
    assert by_operator(u.id, "mfa_removed")["factor"] == "totp"
    assert "no second factor" in ctl(daemon, "user", "mfa-reset", u.id).stdout


def test_delete(daemon, client):
    u = client.new_user()
    ctl(daemon, "user", "delete", u.username, stdin="", rc=2)
    assert client.login_raw(u.username, u.password).status == 200
    ctl(daemon, "user", "delete", u.username, "--yes")
    refused_within_a_second(client, u.access)
    W.assert_oauth_error(client.login_raw(u.username, u.password), "invalid_grant")
    ctl(daemon, "user", "show", u.id, rc=3)
    d = by_operator(u.id, "deleted")
    assert d["username"] == u.username


# --- sessions -----------------------------------------------------------------

def test_session_list_and_revoke(daemon, client):
    u = client.new_user()
    first_refresh = u.refresh
    second = client.login(u.username, u.password)
    fams = json.loads(ctl(daemon, "session", "list", u.username, "--json").stdout)
    assert len(fams) == 2 and all(f["state"] == "active" for f in fams), fams
    for f in fams:
        assert W.UUID_RE.match(f["family"]) and W.TS_RE.match(f["created_at"])
        assert W.TS_RE.match(f["expires_at"]) and f["last_rotated_at"] is None
    # a rotation shows
    rot = client.refresh_raw(second["refresh_token"])
    assert rot.status == 200, rot
    second_refresh = rot.json()["refresh_token"]
    fams = json.loads(ctl(daemon, "session", "list", u.username, "--json").stdout)
    assert sorted(f["tokens"] for f in fams) == [1, 2]
    table = ctl(daemon, "session", "list", u.username).stdout.splitlines()
    assert table[0].split()[:2] == ["FAMILY", "CREATED"] and len(table) == 3

    # the first login's family: found by its one token
    first_fam = [f["family"] for f in fams if f["tokens"] == 1][0]
    out = ctl(daemon, "session", "revoke", first_fam)
    assert "revoked" in out.stdout
    W.assert_oauth_error(client.refresh_raw(first_refresh), "invalid_grant")
    r = client.refresh_raw(second_refresh)
    assert r.status == 200, r
    second_refresh = r.json()["refresh_token"]
    d = by_operator(u.id, "session_revoked")
    assert d["family"] == first_fam and d["tokens"] == 1
    states = {f["family"]: f["state"] for f in json.loads(
        ctl(daemon, "session", "list", u.id, "--json").stdout)}
    assert states[first_fam] == "revoked"

    access = r.json()["access_token"]
    assert verify(client, access).status == 204
    ctl(daemon, "session", "revoke", "--all", u.username)
    W.assert_oauth_error(client.refresh_raw(second_refresh), "invalid_grant")
    refused_within_a_second(client, access)
    assert by_operator(u.id, "session_revoked")["all"] is True
    assert client.login_raw(u.username, u.password).status == 200


# --- keys -----------------------------------------------------------------------

def thumbprint(k):
    """RFC 7638: the SHA-256 of the required members in order."""
    if k["kty"] == "RSA":
        jwk = '{"e":"%s","kty":"RSA","n":"%s"}' % (k["e"], k["n"])
    else:
        jwk = '{"crv":"Ed25519","kty":"OKP","x":"%s"}' % k["x"]
    return base64.urlsafe_b64encode(hashlib.sha256(jwk.encode()).digest()
                                    ).rstrip(b"=").decode()


def jwks_kids(d):
    r = d.client.get("/.well-known/jwks.json")
    assert r.status == 200, r
    return {k["kid"]: k for k in r.json()["keys"]}


def test_key_list_matches_the_jwks(daemon):
    keys = json.loads(ctl(daemon, "key", "list", "--json").stdout)
    signing = {k["kid"]: k for k in keys
               if k["kind"] in ("signing", "signing-rsa")}
    published = jwks_kids(daemon)
    assert set(signing) == set(published)
    for kid, k in signing.items():
        assert k["fingerprint"] == thumbprint(published[kid])
        assert (k["kind"] == "signing-rsa") == (published[kid]["kty"] == "RSA")
        assert W.TS_RE.match(k["created_at"])
    assert sum(k["current"] for k in keys if k["kind"] == "signing") == 1
    assert sum(k["current"] for k in keys if k["kind"] == "signing-rsa") == 1
    assert sum(k["current"] for k in keys if k["kind"] == "pepper") == 1
    peppers = [k for k in keys if k["kind"] == "pepper"]
    assert peppers and all(k["fingerprint"] is None for k in peppers)
    text = ctl(daemon, "key", "list").stdout
    assert text.splitlines()[0].split()[:4] == ["KIND", "KID", "STATE", "CREATED"]
    assert all(k["state"] == ("current" if k["current"] else "retired")
               and k["active_from"] is None for k in keys)
    # nothing secret: no key file's bytes in any encoding we print
    for f in os.listdir(daemon.key_dir):
        if f.endswith(".key"):
            with open(os.path.join(daemon.key_dir, f), "rb") as fh:
                raw = fh.read()
            for enc in (raw.hex(), base64.urlsafe_b64encode(raw).decode().rstrip("=")):
                assert enc[:16] not in text


def test_key_rotate_reaches_the_jwks_on_reload(workdir, daemon):
    kd = W.make_keys(os.path.join(workdir, "ctl-rotate-keys"))
    d = W.Daemon(workdir, "ctlkeys", key_dir=kd)
    try:
        d.start(timeout=30)
        before = set(jwks_kids(d))
        # --now: current at once, not key_publish_delay (10m) from now
        # (test_key_rotation_hosts.py covers the delayed rotation).
        out = ctl(d, "key", "rotate", "--now")
        m = re.match(r"sign (\S+)\npepper (\S+)\nrsa (\S+)\nfrom \d+\n",
                     out.stdout)
        assert m, out.stdout
        sign, pepper, rsa = m.groups()
        assert sign not in before and rsa not in before
        assert "reload" in out.stderr
        keys = json.loads(ctl(d, "key", "list", "--json").stdout)
        cur = {k["kind"]: k["kid"] for k in keys if k["current"]}
        assert cur == {"signing": sign, "pepper": pepper, "signing-rsa": rsa}
        ev = W.psql("SELECT detail::text FROM audit_events WHERE event = "
                    "'key_rotated' AND user_id IS NULL ORDER BY id DESC LIMIT 1")
        det = json.loads(ev[0])
        assert det["sign"] == sign and det["rsa"] == rsa
        assert det["operator"] == operator()
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        while sign not in jwks_kids(d) or rsa not in jwks_kids(d):
            assert time.monotonic() < deadline, "the new kid never showed"
            time.sleep(0.2)
        assert before <= set(jwks_kids(d))
        u = d.client.new_user()
        assert W.jwt_parts(u.access)[0]["kid"] == sign
    finally:
        W.stop_own(d)


# --- audit --------------------------------------------------------------------

def test_audit_tail(daemon, client):
    u = client.new_user()
    ctl(daemon, "user", "disable", u.username)
    ctl(daemon, "user", "enable", u.username)
    evs = json.loads(ctl(daemon, "audit", "tail", "-n", "3", "--user",
                         u.username, "--json").stdout)
    assert [e["event"] for e in evs] == ["login_ok", "disabled", "enabled"]
    assert [e["id"] for e in evs] == sorted(e["id"] for e in evs)
    assert evs[-1]["operator"] == operator() and evs[-1]["username"] == u.username
    assert evs[-1]["detail"]["by"] == "wardenctl"
    assert W.TS_RE.match(evs[-1]["at"])
    one = json.loads(ctl(daemon, "audit", "tail", "-n", "1", "--event",
                         "disabled", "--user", u.id, "--json").stdout)
    assert [e["event"] for e in one] == ["disabled"]
    text = ctl(daemon, "audit", "tail", "-n", "2", "--user", u.username).stdout
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["ID", "AT", "EVENT", "USER"] and len(lines) == 3
    assert operator().split()[0] in lines[2]


def test_audit_tail_follows(daemon, client):
    u = client.new_user(login=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDEN_")}
    p = subprocess.Popen([W.binary("wardenctl"), "-f", daemon.conf, "audit", "tail",
                          "-n", "1", "--follow", "--user", u.username, "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    def line():
        r, _, _ = select.select([p.stdout], [], [], 15)
        assert r, "no line from audit tail --follow within 15 s"
        return json.loads(p.stdout.readline())

    try:
        first = line()
        assert first["event"] == "registered"
        ctl(daemon, "user", "disable", u.username)
        nxt = line()
        assert nxt["event"] == "disabled" and nxt["id"] > first["id"]
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()

    # following a filter that matches nothing yet sees what comes
    ev = "mfa_removed"
    p = subprocess.Popen([W.binary("wardenctl"), "-f", daemon.conf, "audit", "tail",
                          "--follow", "--event", ev, "--user", u.username, "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    try:
        time.sleep(1.5)
        ctl(daemon, "user", "enable", u.username)
        W.psql("INSERT INTO audit_events (user_id, event) VALUES ('%s', '%s')"
               % (u.id, ev))
        got = line()
        assert got["event"] == ev and got["user_id"] == u.id
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()


def test_create_admin_audit_names_the_operator(admin):
    by_operator(admin.id, "registered")


def test_audit_follow_prints_an_event_whose_transaction_commits_late(daemon):
    """Ids are taken at insert, not at commit: an event with a lower id
    that commits after a higher one was printed still comes out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDEN_")}
    mark = uuid.uuid4().hex[:8]
    follower = subprocess.Popen(
        [W.binary("wardenctl"), "-f", daemon.conf, "audit", "tail", "--follow",
         "--event", "exported", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    slow = subprocess.Popen(["/usr/bin/psql", W.database_url(), "-X", "-q"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True)
    try:
        time.sleep(1.5)                 # the follower has its watermark
        slow.stdin.write("BEGIN; INSERT INTO audit_events (event, detail) VALUES "
                         "('exported', '{\"mark\": \"slow-%s\"}');\n" % mark)
        slow.stdin.flush()
        time.sleep(0.5)
        W.psql("INSERT INTO audit_events (event, detail) VALUES "
               "('exported', '{\"mark\": \"fast-%s\"}')" % mark)
        time.sleep(2.5)                 # fast is printed; slow is not visible
        slow.stdin.write("COMMIT;\n")
        slow.stdin.close()
        slow.wait(timeout=10)
        time.sleep(2.5)
    finally:
        follower.send_signal(signal.SIGINT)
        out, err = follower.communicate(timeout=10)
        if slow.poll() is None:
            slow.kill()
    marks = [json.loads(line)["detail"].get("mark") for line in out.splitlines()
             if line.strip()]
    assert "fast-" + mark in marks and "slow-" + mark in marks, (marks, err)
