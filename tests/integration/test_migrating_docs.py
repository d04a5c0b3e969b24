"""The commands of docs/migrating.md, run as printed: a FastAPI service's
users table with passlib bcrypt hashes, Django's auth_user with Django's
own PBKDF2 hashes, and a Keycloak realm export with PBKDF2 and Argon2
credentials.  Each source is built at test time by an implementation that
is not warden's, moved with the one documented command, and its users log
in with their old passwords."""

import base64
import hashlib
import json
import os
import re
import subprocess
import uuid

import pytest

import wardenlib as W

DOC = os.path.join(W.repo_top(), "docs", "migrating.md")
PASSWORD = "Legacy-pass-4821"


def doc_command(name):
    """The shell block that follows '<!-- test: NAME -->' in the doc."""
    with open(DOC) as f:
        text = f.read()
    m = re.search(r"<!-- test: %s -->\n```sh\n(.*?)\n```" % re.escape(name), text, re.S)
    assert m, "docs/migrating.md has no block '%s'" % name
    return m.group(1)


def new_database(tag):
    """A database of its own beside warden's, and its URL."""
    name = "legacy_%s_%s" % (tag, uuid.uuid4().hex[:6])
    W.psql("CREATE DATABASE %s" % name)
    url = W.database_url()
    return name, re.sub(r"/warden(?=\?|$)", "/" + name, url, count=1)


def psql_at(url, sql):
    subprocess.run(["/usr/bin/psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, capture_output=True, text=True, timeout=30)


def run_doc(daemon, workdir, name, env, cwd=None):
    """Runs the doc's block with `wardenctl` on PATH meaning this daemon's."""
    bindir = os.path.join(workdir, "docbin")
    os.makedirs(bindir, exist_ok=True)
    wrapper = os.path.join(bindir, "wardenctl")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec '%s' -f '%s' \"$@\"\n" % (W.binary("wardenctl"), daemon.conf))
    os.chmod(wrapper, 0o755)
    full = {k: v for k, v in os.environ.items() if not k.startswith("WARDEN_")}
    full.update(env)
    full["PATH"] = bindir + ":" + full["PATH"]
    out = subprocess.run(["bash", "-o", "pipefail", "-c", doc_command(name)], env=full,
                         cwd=cwd, capture_output=True, text=True, timeout=120)
    W.SECRETS.tool_outputs.append(out.stdout + out.stderr)
    return out


def assert_logs_in(client, username):
    r = client.login_raw(username, PASSWORD)
    assert r.status == 200, (username, r)
    h = W.psql("SELECT password_hash FROM users WHERE username = '%s'" % username)[0]
    assert h.startswith("$warden$"), username


def test_fastapi_users_move_with_the_documented_command(daemon, client, workdir):
    from passlib.context import CryptContext
    ctx = CryptContext(schemes=["bcrypt"], bcrypt__rounds=5)
    db, url = new_database("fastapi")
    names = [W.uniq("fa") for _ in range(3)]
    psql_at(url, "CREATE TABLE users (id serial PRIMARY KEY, username text, email text, "
                 "full_name text, hashed_password text, is_active boolean, "
                 "is_superuser boolean, created_at timestamp DEFAULT now())")
    for i, n in enumerate(names):
        psql_at(url, "INSERT INTO users (username, email, full_name, hashed_password, "
                     "is_active, is_superuser, created_at) VALUES ('%s', '%s@example.test', "
                     "'Fast %d', '%s', true, %s, '2023-03-0%d 10:00:00')"
                % (n, n, i, ctx.hash(PASSWORD), "true" if i == 0 else "false", i + 1))
    out = run_doc(daemon, workdir, "fastapi", {"OLD_DATABASE_URL": url})
    assert out.returncode == 0, out.stderr
    assert "3 imported" in out.stdout, out.stdout
    assert W.psql("SELECT roles FROM users WHERE username = '%s'" % names[0]) == ["{admin}"]
    assert W.psql("SELECT created_at = '2023-03-02 10:00:00+00' FROM users "
                  "WHERE username = '%s'" % names[1]) == ["t"]
    for n in names:
        assert_logs_in(client, n)


def test_django_users_move_with_the_documented_command(daemon, client, workdir):
    from django.conf import settings
    if not settings.configured:
        settings.configure(PASSWORD_HASHERS=[
            "django.contrib.auth.hashers.PBKDF2PasswordHasher"])
    from django.contrib.auth.hashers import make_password
    db, url = new_database("django")
    psql_at(url, "CREATE TABLE auth_user (id serial PRIMARY KEY, password varchar(128), "
                 "last_login timestamptz, is_superuser boolean, username varchar(150), "
                 "first_name varchar(150), last_name varchar(150), email varchar(254), "
                 "is_staff boolean, is_active boolean, date_joined timestamptz)")
    good, unusable = W.uniq("dj"), W.uniq("dj")
    rows = [(good, make_password(PASSWORD), "Ada", "Lovelace", "true"),
            (unusable, "!unusable", "", "", "false"),
            ("has@sign", make_password(PASSWORD), "", "", "false")]
    for n, h, first, last, su in rows:
        psql_at(url, "INSERT INTO auth_user (password, is_superuser, username, first_name, "
                     "last_name, email, is_staff, is_active, date_joined) VALUES "
                     "('%s', %s, '%s', '%s', '%s', '%s@example.test', false, true, now())"
                % (h, su, n, first, last, n.replace("@", "-")))
    out = run_doc(daemon, workdir, "django", {"DJANGO_DATABASE_URL": url})
    # The '@' username is named and rejected; the unusable one left out.
    assert out.returncode == 1, out
    assert "1 imported, 0 already present, 1 rejected, of 2 lines" in out.stdout, out.stdout
    assert "line 2: username" in out.stderr, out.stderr
    assert W.psql("SELECT full_name, roles FROM users WHERE username = '%s'" % good) == \
        ["Ada Lovelace|{admin}"]
    assert_logs_in(client, good)


def keycloak_pbkdf2(password, alg="sha256", iterations=27500):
    """A credential as Keycloak stores it: standard base64 of the salt and
    of a 512-bit derived key (its PBKDF2 provider's default)."""
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac(alg, password.encode(), salt, iterations, dklen=64)
    return {"type": "password", "createdDate": 1700000000000,
            "secretData": json.dumps({"value": base64.b64encode(key).decode(),
                                      "salt": base64.b64encode(salt).decode(),
                                      "additionalParameters": {}}),
            "credentialData": json.dumps({"hashIterations": iterations,
                                          "algorithm": "pbkdf2-" + alg,
                                          "additionalParameters": {}})}


def keycloak_argon2(password):
    import argon2.low_level as a
    salt = os.urandom(16)
    raw = a.hash_secret_raw(password.encode(), salt, time_cost=3, memory_cost=7168,
                            parallelism=1, hash_len=32, type=a.Type.ID)
    return {"type": "password", "createdDate": 1700000000000,
            "secretData": json.dumps({"value": base64.b64encode(raw).decode(),
                                      "salt": base64.b64encode(salt).decode(),
                                      "additionalParameters": {}}),
            "credentialData": json.dumps({
                "hashIterations": -1, "algorithm": "argon2",
                "additionalParameters": {"hashLength": ["32"], "memory": ["7168"],
                                         "type": ["id"], "version": ["1.3"],
                                         "iterations": ["3"], "parallelism": ["1"]}})}


def test_keycloak_realm_export_moves_with_the_documented_command(daemon, client, workdir):
    names = [W.uniq("kc") for _ in range(4)]
    users = [
        {"username": names[0], "email": names[0] + "@example.test", "enabled": True,
         "emailVerified": True, "firstName": "Kay", "lastName": "Cloak",
         "createdTimestamp": 1690000000123, "realmRoles": ["ops", "Default Roles"],
         "credentials": [keycloak_pbkdf2(PASSWORD)]},
        {"username": names[1], "email": names[1] + "@example.test", "enabled": True,
         "createdTimestamp": 1690000000123,
         "credentials": [keycloak_pbkdf2(PASSWORD, "sha512", 30000)]},
        {"username": names[2], "email": names[2] + "@example.test", "enabled": True,
         "createdTimestamp": 1690000000123, "credentials": [keycloak_argon2(PASSWORD)]},
        # No password credential (a federated user): not exported.
        {"username": names[3], "email": names[3] + "@example.test", "enabled": True,
         "createdTimestamp": 1690000000123, "credentials": []},
    ]
    d = os.path.join(workdir, "kc-" + uuid.uuid4().hex[:6])
    os.makedirs(d)
    with open(os.path.join(d, "realm.json"), "w") as f:
        json.dump({"realm": "test", "users": users}, f)
    out = run_doc(daemon, workdir, "keycloak", {}, cwd=d)
    assert out.returncode == 0, out.stderr
    assert "3 imported" in out.stdout, out.stdout
    assert W.psql("SELECT full_name, roles, email_verified FROM users WHERE username = '%s'"
                  % names[0]) == ["Kay Cloak|{ops}|t"]
    assert W.psql("SELECT count(*) FROM users WHERE username = '%s'" % names[3]) == ["0"]
    for n in names[:3]:
        assert_logs_in(client, n)
