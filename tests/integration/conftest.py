"""Fixtures of the integration tests: one wardend for the session (most
tests share it), an admin made with wardenctl, a client, and a factory of
fresh users.  Run through tests/integration/run, which provides a throwaway
PostgreSQL in DATABASE_URL."""

import shutil

import pytest

import wardenlib as W


KEPT = []


@pytest.fixture(scope="session")
def workdir(request):
    """Config, keys and daemon logs; kept for a look when a test failed."""
    d = W.new_workdir()
    yield d
    if request.session.testsfailed:
        KEPT.append(d)
    else:
        shutil.rmtree(d, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    for d in KEPT:
        terminalreporter.write_line("warden integration: logs and config kept in %s" % d)


@pytest.fixture(scope="session")
def daemon(workdir):
    try:
        d = W.Daemon(workdir, "main")
        d.start(timeout=30)
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    yield d
    alive = d.alive()
    status = d.stop(timeout=10)
    assert alive, "wardend died during the session; log:\n" + W.log_tail(d.log)
    assert status == 0, ("wardend did not exit 0 within 10 s of SIGTERM (%r); log:\n%s"
                         % (status, W.log_tail(d.log)))


@pytest.fixture(scope="session")
def client(daemon):
    return daemon.client


@pytest.fixture(scope="session")
def admin(daemon):
    """An admin created by `wardenctl create-admin`, logged in."""
    username = W.uniq("admin")
    email = "%s@example.test" % username
    pw = W.strong_password()
    out = daemon.wardenctl("create-admin", username, email, stdin="%s\n%s\n" % (pw, pw))
    if out.returncode != 0:
        pytest.fail("wardenctl create-admin failed (%d):\n%s%s"
                    % (out.returncode, out.stdout, out.stderr), pytrace=False)
    c = daemon.client
    t = c.login(username, pw)
    me = c.get("/api/v1/users/me", token=t["access_token"])
    assert me.status == 200, me
    u = W.User(c, me.json(), pw)
    u.access = t["access_token"]
    u.refresh = t["refresh_token"]
    assert "admin" in u.obj["roles"], u.obj
    return u


@pytest.fixture
def user(client):
    """A fresh registered, logged-in user."""
    return client.new_user()


@pytest.fixture(scope="session")
def jwks(client):
    r = client.get("/.well-known/jwks.json")
    assert r.status == 200, r
    return r.json()
