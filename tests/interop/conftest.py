"""Fixtures of the interop suite: one wardend for the session, configured
as an application on another origin would meet it (CORS allowed for
ORIGIN), an admin made with wardenctl, fresh users, and the npm packages'
folder.  Run through tests/interop/run, which installs the npm packages and
provides a throwaway PostgreSQL in DATABASE_URL.

The daemon helpers are the integration suite's (tests/integration/
wardenlib.py): one way to start a wardend, not two."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import wardenlib as W  # noqa: E402

# The daemon listens on plain HTTP on the loopback: the Python OAuth
# clients refuse http:// URLs unless told (RFC 6749 3.1 wants TLS in
# production; these variables are the libraries' own switches).
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


# The browser application's origin that the daemon lets in (cors_origins).
ORIGIN = "https://app.example.test"
# The public client that the password and refresh grants serve.
CLIENT_ID = "warden"

KEPT = []

# The Python modules of the suite and the Debian packages that install
# them (scripts/deps check installs them all).
MODULES = {
    "jwt": "python3-jwt", "cryptography": "python3-cryptography",
    "jwcrypto": "python3-jwcrypto", "authlib": "python3-authlib",
    "requests_oauthlib": "python3-requests-oauthlib", "requests": "python3-requests",
    "hypothesis": "python3-hypothesis", "jsonschema": "python3-jsonschema",
}


def pytest_sessionstart(session):
    missing = sorted({deb for mod, deb in MODULES.items()
                      if importlib.util.find_spec(mod) is None})
    if missing:
        pytest.exit("warden interop: missing Debian packages: %s\n"
                    "install them as root with (or run 'scripts/deps check'):\n"
                    "  apt-get update && apt-get install -y --no-install-recommends %s"
                    % (" ".join(missing), " ".join(missing)), returncode=1)


@pytest.fixture(scope="session")
def workdir(request):
    d = W.new_workdir()
    yield d
    if request.session.testsfailed:
        KEPT.append(d)
    else:
        shutil.rmtree(d, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    for d in KEPT:
        terminalreporter.write_line("warden interop: logs and config kept in %s" % d)


@pytest.fixture(scope="session")
def daemon(workdir):
    # The issuer is the daemon's URL, as RFC 8414 3 wants it.  Mail goes
    # to a folder (one .eml a message), where the tests read the links of
    # e-mail verification and password reset; mail_rate high enough that
    # the properties of those routes meet their happy path.
    mail = os.path.join(workdir, "mail")
    os.makedirs(mail, exist_ok=True)
    os.chmod(mail, 0o777)  # wardend may run as another user (root runs)
    d = W.start_session(workdir, "interop", cors_origins=ORIGIN, issuer="{base}",
                        public_url="{base}", client_id=CLIENT_ID,
                        mail_transport="dir:" + mail, mail_rate="1000")
    d.mail_dir = mail
    yield d
    W.stop_own(d)


@pytest.fixture(scope="session")
def base_url(daemon):
    return daemon.base


@pytest.fixture(scope="session")
def client(daemon):
    return daemon.client


@pytest.fixture(scope="session")
def issuer(daemon):
    """The iss of the daemon's tokens (its base URL here)."""
    return daemon.settings["issuer"]


@pytest.fixture(scope="session")
def audience(daemon):
    """The aud of the daemon's access tokens (wardenlib's AUDIENCE)."""
    return daemon.settings["audience"]


@pytest.fixture
def tokens(client, user):
    """The token response of a fresh user's password grant."""
    return client.login(user.username, user.password)


@pytest.fixture(scope="session")
def admin(daemon):
    """An admin created by `wardenctl create-admin`, logged in."""
    return W.create_admin(daemon)


@pytest.fixture
def user(client):
    """A fresh registered user (username, password), not logged in."""
    return client.new_user(login=False)


@pytest.fixture(scope="session")
def node_modules():
    """The npm packages that tests/interop/npm-install put in INTEROP_DIR."""
    d = os.path.abspath(os.path.join(os.environ.get("INTEROP_DIR", "build/interop"),
                                     "node_modules"))
    if not os.path.isdir(d):
        pytest.fail("%s is missing: run tests/interop/npm-install" % d, pytrace=False)
    return d


def js(node_modules, script, step, **params):
    """Runs STEP of tests/interop/js/SCRIPT with PARAMS (as JSON); returns
    the object it printed.  The scripts print {"ok": false, "thrown": ...}
    when the library threw: assert_ok() fails with it."""
    return run_node(node_modules, script, step, json.dumps(params))


def assert_ok(out):
    assert out.get("ok") is True, "the client library threw: %s" % json.dumps(
        out.get("thrown"), indent=1) + "\n" + out.get("stack", "")
    return out


def run_node(node_modules, script, *args, timeout=60):
    """Runs tests/interop/js/SCRIPT with node, the packages on its path;
    returns its stdout parsed as JSON (the scripts print one object)."""
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, NODE_PATH=node_modules)
    p = subprocess.run(["node", os.path.join(here, "js", script)] + list(args),
                       capture_output=True, text=True, timeout=timeout, env=env)
    if p.returncode != 0:
        pytest.fail("node %s exited %d:\n%s%s" % (script, p.returncode, p.stdout,
                                                  p.stderr), pytrace=False)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        pytest.fail("node %s printed no JSON:\n%s%s" % (script, p.stdout, p.stderr),
                    pytrace=False)
