"""Fixtures of the integration tests: one wardend for the session (most
tests share it), an admin made with wardenctl, a client, and a factory of
fresh users.  Run through tests/integration/run, which provides a throwaway
PostgreSQL in DATABASE_URL."""

import shutil

import pytest

import wardenlib as W
# The browser of the portal's tests: `browser`, `artifacts`.
from conftest_browser import (  # noqa: F401
    _chromium, artifacts, browser, pytest_runtest_makereport)


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
    d = W.start_session(workdir, "main")
    yield d
    W.stop_own(d)


@pytest.fixture(scope="session")
def client(daemon):
    return daemon.client


@pytest.fixture(scope="session")
def admin(daemon):
    """An admin created by `wardenctl create-admin`, logged in."""
    return W.create_admin(daemon)


@pytest.fixture
def user(client):
    """A fresh registered, logged-in user."""
    return client.new_user()


@pytest.fixture(scope="session")
def jwks(client):
    r = client.get("/.well-known/jwks.json")
    assert r.status == 200, r
    return r.json()
