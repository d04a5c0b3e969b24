"""wardenctl import and export: users of other systems, with hashes made
at test time by independent implementations (passlib, bcrypt, Django,
argon2-cffi, mkpasswd), come in, log in with their old passwords, and are
moved to warden's sealed Argon2id hash at that first login.  Malformed
lines are reported by number, the rest go in, and a re-run changes
nothing."""

import json
import os
import subprocess
import time
import uuid

import pytest

import wardenlib as W


def passlib_hash(scheme, password, **settings):
    from passlib import hash as ph
    h = getattr(ph, scheme)
    return (h.using(**settings) if settings else h).hash(password)


def django_hash(password):
    from django.conf import settings
    if not settings.configured:
        settings.configure(PASSWORD_HASHERS=[
            "django.contrib.auth.hashers.PBKDF2PasswordHasher"])
    from django.contrib.auth.hashers import make_password
    return make_password(password)


def mkpasswd(method, password):
    out = subprocess.run(["mkpasswd", "-m", method, "--stdin"], input=password,
                         capture_output=True, text=True, timeout=30, check=True)
    return out.stdout.strip()


def pybcrypt(password):
    import bcrypt
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()


# name -> a function of the password giving a hash in that format, made by
# an implementation that is not warden's.
MAKERS = {
    "bcrypt": lambda pw: pybcrypt(pw),
    "bcrypt_2y": lambda pw: passlib_hash("bcrypt", pw, rounds=5, ident="2y"),
    "argon2id": lambda pw: passlib_hash("argon2", pw, type="ID", memory_cost=1024,
                                        rounds=2, parallelism=2),
    "argon2i": lambda pw: passlib_hash("argon2", pw, type="I", memory_cost=1024,
                                       rounds=2, parallelism=1),
    "django_pbkdf2_sha256": django_hash,
    "pbkdf2_sha256": lambda pw: passlib_hash("pbkdf2_sha256", pw, rounds=2000),
    "pbkdf2_sha512": lambda pw: passlib_hash("pbkdf2_sha512", pw, rounds=2000),
    "sha512_crypt": lambda pw: mkpasswd("sha-512", pw),
    "yescrypt": lambda pw: mkpasswd("yescrypt", pw),
}


def write_lines(workdir, lines):
    path = os.path.join(workdir, "import-%s.jsonl" % uuid.uuid4().hex[:8])
    with open(path, "w") as f:
        for line in lines:
            f.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return path


def row(name, pw_hash, **extra):
    r = {"username": name, "email": name + "@example.test", "password_hash": pw_hash}
    r.update(extra)
    return r


def stored_hash(username):
    return W.psql("SELECT password_hash FROM users WHERE lower(username) = lower('%s')"
                  % username)[0]


def test_every_format_logs_in_and_is_upgraded_at_first_login(daemon, client, workdir):
    pw = "Old-passw0rd-" + uuid.uuid4().hex[:6]
    names = {fmt: W.uniq("im") for fmt in MAKERS}
    lines = [row(names[fmt], make(pw), full_name="Imported %s" % fmt,
                 roles=["staff"], email_verified=True)
             for fmt, make in MAKERS.items()]
    out = daemon.wardenctl("import", write_lines(workdir, lines))
    assert out.returncode == 0, out.stderr
    assert "%d imported" % len(lines) in out.stdout, out.stdout
    for fmt, name in names.items():
        before = stored_hash(name)
        assert not before.startswith("$warden$"), fmt
        # A wrong password fails and leaves the old hash in place.
        assert client.login_raw(name, pw + "x").status in (400, 401), fmt
        assert stored_hash(name) == before, fmt
        r = client.login_raw(name, pw)
        assert r.status == 200, (fmt, r)
        after = stored_hash(name)
        assert after.startswith("$warden$"), (fmt, "not upgraded")
        # The sealed hash takes the same password from now on.
        assert client.login_raw(name, pw).status == 200, fmt
        assert stored_hash(name) == after, fmt
        ev = W.psql("SELECT a.detail->>'from' FROM audit_events a JOIN users u "
                    "ON u.id = a.user_id WHERE u.username = '%s' "
                    "AND a.event = 'password_upgraded'" % name)
        assert len(ev) == 1 and ev[0], (fmt, ev)
        me = client.get("/api/v1/users/me", token=r.json()["access_token"]).json()
        assert me["roles"] == ["staff"] and me["email_verified"] is True, me
        assert me["full_name"] == "Imported %s" % fmt, me


def test_imports_are_audited_with_the_operator(daemon, workdir):
    name = W.uniq("ia")
    out = daemon.wardenctl("import", write_lines(workdir, [row(name, pybcrypt("x"))]))
    assert out.returncode == 0, out.stderr
    detail = json.loads(W.psql(
        "SELECT a.detail FROM audit_events a JOIN users u ON u.id = a.user_id "
        "WHERE u.username = '%s' AND a.event = 'imported'" % name)[0])
    assert detail["by"] == "wardenctl" and detail["operator"], detail
    assert detail["format"] == "bcrypt", detail


def test_malformed_lines_are_reported_by_number_and_the_rest_goes_in(daemon, workdir):
    good1, good2, dup = W.uniq("ok"), W.uniq("ok"), W.uniq("dp")
    bcrypt_hash = pybcrypt("pw")
    lines = [
        row(good1, bcrypt_hash),                                  # 1
        "{not json",                                              # 2
        row(W.uniq("uf"), "$md5$whatever$abc"),                   # 3 unknown format
        row(W.uniq("tr"), bcrypt_hash[:40]),                      # 4 truncated
        row(dup, bcrypt_hash),                                    # 5
        row(dup, bcrypt_hash, email=W.uniq("x") + "@example.test"),  # 6 duplicate
        row("-bad name", bcrypt_hash),                            # 7 field rule
        row(W.uniq("pf"), bcrypt_hash, password_format="yescrypt"),  # 8 wrong name
        row(W.uniq("um"), bcrypt_hash, colour="blue"),            # 9 unknown member
        "",                                                       # 10 blank: skipped
        row(W.uniq("ca"), bcrypt_hash, created_at="2024-02-30T00:00:00Z"),  # 11
        row(good2, bcrypt_hash, created_at="2021-06-01T08:30:00+02:00",
            is_active=False),                                     # 12
    ]
    path = write_lines(workdir, lines)
    out = daemon.wardenctl("import", path)
    assert out.returncode == 1, out
    err = out.stderr
    for n in (2, 3, 4, 6, 7, 8, 9, 11):
        assert "line %d:" % n in err, (n, err)
    for n in (1, 5, 10, 12):
        assert "line %d:" % n not in err, (n, err)
    assert "line 6: username: also on line 5" in err, err
    assert "line 9: unknown member \"colour\"" in err, err
    assert "3 imported, 0 already present, 8 rejected, of 12 lines" in out.stdout, out.stdout
    # No hash reaches the operator's terminal, even a rejected one.
    assert bcrypt_hash not in err and bcrypt_hash[:40] not in err
    assert W.psql("SELECT is_active, created_at = '2021-06-01T06:30:00Z' FROM users "
                  "WHERE username = '%s'" % good2) == ["f|t"]
    # A re-run is idempotent: nothing is added twice, nothing changes.
    count = W.psql("SELECT count(*) FROM users")[0]
    again = daemon.wardenctl("import", path)
    assert again.returncode == 1
    assert "0 imported, 3 already present, 8 rejected" in again.stdout, again.stdout
    assert W.psql("SELECT count(*) FROM users")[0] == count


def test_a_username_or_address_held_by_another_user_is_rejected(daemon, client, workdir):
    u = client.new_user("held", login=False)
    h = pybcrypt("pw")
    lines = [row(u.username, h, email=W.uniq("o") + "@example.test"),
             row(W.uniq("ne"), h, email=u.email),
             row(W.uniq("ni"), h, id=u.id)]
    out = daemon.wardenctl("import", write_lines(workdir, lines))
    assert out.returncode == 1
    assert "line 1: username: taken by a user with another e-mail address" in out.stderr
    assert "line 2: email: belongs to another user" in out.stderr
    assert "line 3: id: belongs to another user" in out.stderr
    assert "0 imported" in out.stdout


def test_dry_run_writes_nothing(daemon, workdir):
    name = W.uniq("dr")
    out = daemon.wardenctl("import", "--dry-run", write_lines(workdir, [row(name, pybcrypt("x"))]))
    assert out.returncode == 0, out.stderr
    assert "1 to import" in out.stdout and "dry run" in out.stdout, out.stdout
    assert W.psql("SELECT count(*) FROM users WHERE username = '%s'" % name) == ["0"]


def test_batches_go_in_whole_and_a_refused_batch_row_by_row(daemon, client, workdir):
    h = pybcrypt("pw")
    names = [W.uniq("bt") for _ in range(25)]
    lines = [row(n, h) for n in names]
    out = daemon.wardenctl("import", "--batch", "7", write_lines(workdir, lines))
    assert out.returncode == 0, out.stderr
    assert "25 imported" in out.stdout
    assert W.psql("SELECT count(*) FROM users WHERE username LIKE 'bt%%' AND username = ANY"
                  "('{%s}')" % ",".join(names)) == ["25"]


def test_a_batch_the_database_refuses_goes_row_by_row(daemon, workdir):
    """A rule of the database that no client check knows (here a CHECK
    added for the test) refuses the batch; its rows are then tried one at
    a time, and only the guilty line is rejected."""
    h = pybcrypt("pw")
    names = [W.uniq("rr") for _ in range(6)]
    lines = [row(n, h, full_name="Refuse me" if i == 2 else "Fine") for i, n in
             enumerate(names)]
    W.psql("ALTER TABLE users ADD CONSTRAINT test_refuse_me"
           " CHECK (full_name IS DISTINCT FROM 'Refuse me') NOT VALID")
    try:
        out = daemon.wardenctl("import", "--batch", "4", write_lines(workdir, lines))
    finally:
        W.psql("ALTER TABLE users DROP CONSTRAINT test_refuse_me")
    assert out.returncode == 1, out
    assert "line 3: the database refused it" in out.stderr, out.stderr
    assert "test_refuse_me" in out.stderr and h not in out.stderr
    assert "5 imported, 0 already present, 1 rejected, of 6 lines" in out.stdout, out.stdout
    assert W.psql("SELECT count(*) FROM users WHERE username = ANY('{%s}')"
                  % ",".join(names)) == ["5"]


def test_a_line_rejected_for_its_address_leaves_its_username_free(daemon, workdir):
    h = pybcrypt("pw")
    a, b = W.uniq("fr"), W.uniq("fr")
    lines = [row(a, h), row(b, h, email=a + "@example.test"), row(b, h)]
    out = daemon.wardenctl("import", write_lines(workdir, lines))
    assert "line 2: email: also on line 1" in out.stderr, out.stderr
    assert "line 3:" not in out.stderr, out.stderr
    assert "2 imported" in out.stdout, out.stdout


def test_export_then_import_restores_a_deleted_user_with_the_same_password(
        daemon, client, admin, workdir):
    u = client.new_user("ex")
    path = os.path.join(workdir, "export-%s.jsonl" % uuid.uuid4().hex[:8])
    out = daemon.wardenctl("export", path)
    assert out.returncode == 0, out.stderr
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    with open(path) as f:
        lines = [json.loads(line) for line in f]
    mine = [x for x in lines if x["username"] == u.username]
    assert len(mine) == 1 and mine[0]["id"] == u.id, mine
    assert mine[0]["password_format"] == "warden", mine
    assert set(mine[0]) == {"id", "username", "email", "full_name", "roles", "is_active",
                            "email_verified", "created_at", "password_hash",
                            "password_format"}
    # Export never overwrites.
    again = daemon.wardenctl("export", path)
    assert again.returncode == 1 and "never overwrites" in again.stderr
    # Everyone exported is already present: a full re-import is a no-op.
    out = daemon.wardenctl("import", path)
    assert out.returncode == 0, out.stderr
    assert "0 imported" in out.stdout, out.stdout
    r = client.delete("/api/v1/users/" + u.id, token=admin.access)
    assert r.status == 204, r
    one = write_lines(workdir, [mine[0]])
    out = daemon.wardenctl("import", one)
    assert out.returncode == 0, out.stderr
    assert "1 imported" in out.stdout
    # The sealed hash is bound to the id, which came back with it.
    assert client.login_raw(u.username, u.password).status == 200
    # A warden hash without its id cannot be opened: refused up front.
    del mine[0]["id"]
    mine[0]["username"], mine[0]["email"] = "x" + u.username[1:], "x" + u.email
    out = daemon.wardenctl("import", write_lines(workdir, [mine[0]]))
    assert out.returncode == 1 and "line 1: id: required with a warden hash" in out.stderr


def test_import_reads_standard_input_and_refuses_bad_usage(daemon):
    name = W.uniq("si")
    out = daemon.wardenctl("import", "-", stdin=json.dumps(row(name, pybcrypt("x"))) + "\n")
    assert out.returncode == 0, out.stderr
    assert "1 imported" in out.stdout
    assert daemon.wardenctl("import").returncode == 2
    assert daemon.wardenctl("import", "--batch", "0", "-").returncode == 2
    missing = daemon.wardenctl("import", "/nonexistent/users.jsonl")
    assert missing.returncode == 1 and "No such file" in missing.stderr


def metric(client, name):
    r = client.get("/metrics")
    assert r.status == 200, r
    for line in r.body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def test_metrics_count_the_hashes_left_until_none_is(workdir):
    """A daemon of its own, started after the import, so that its first
    count (at start; then once a minute) sees the imported hashes."""
    pw = "Count-me-" + uuid.uuid4().hex[:6]
    names = [W.uniq("mc") for _ in range(2)]
    d0 = W.start_session(workdir, "census0")
    try:
        path = write_lines(workdir, [row(n, pybcrypt(pw)) for n in names])
        out = d0.wardenctl("import", path)
        assert out.returncode == 0, out.stderr
    finally:
        W.stop_own(d0)
    left = int(W.psql("SELECT count(*) FROM users WHERE password_hash NOT LIKE '$warden$%'")[0])
    assert left >= 2
    d = W.start_session(workdir, "census1")
    try:
        for _ in range(50):
            if metric(d.client, "warden_legacy_password_hashes") is not None:
                break
            time.sleep(0.1)
        assert metric(d.client, "warden_legacy_password_hashes") == left
        for n in names:
            assert d.client.login_raw(n, pw).status == 200
        assert int(W.psql("SELECT count(*) FROM users WHERE password_hash "
                          "NOT LIKE '$warden$%'")[0]) == left - 2
    finally:
        W.stop_own(d)
