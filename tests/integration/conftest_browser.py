"""The `browser` fixture: a headless Chromium (browser.py) for the tests of
the portal's pages, and `artifacts`, a folder kept for a failed test.

One Chromium serves the whole session and each test gets a fresh browser
context (Target.createBrowserContext: its own cookies, storage, cache,
default 1280x800 viewport and console log) with a blank page: a context
costs about half a second, a Chromium of its own twice that and more on a
busy machine.  A Chromium that died is started anew for the next test.

Nothing is skipped: without chromium the test fails and says which
apt-get line installs it.  When a test fails, a screenshot and the DOM of
its page are written to its artifacts folder, kept in the session's
workdir (printed at the end of the run)."""

import os

import pytest

import wardenlib as W
from browser import Browser, BrowserError


@pytest.fixture(scope="session")
def _chromium():
    holder = {}
    yield holder
    if holder.get("browser"):
        holder["browser"].close()


@pytest.fixture
def artifacts(workdir, request):
    return W.artifacts_dir(workdir, request.node.name)


@pytest.fixture
def browser(_chromium, request, workdir):
    b = _chromium.get("browser")
    if b is not None and b.alive():
        b.new_context()
    else:
        if b is not None:
            b.close()
        _chromium["browser"] = None
        try:
            # Names under app.test stand for other hosts on this one: the
            # portal's redirects to another origin are tried for real.
            b = _chromium["browser"] = Browser(
                args=["--host-resolver-rules=MAP *.app.test 127.0.0.1"])
        except BrowserError as e:
            pytest.fail(str(e), pytrace=False)
    yield b
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed and b.alive():
        d = W.artifacts_dir(workdir, request.node.name)
        try:
            b.screenshot(os.path.join(d, "failed.png"))
            with open(os.path.join(d, "failed.html"), "w") as f:
                f.write("<!-- %s -->\n%s" % (b.url(), b.html()))
        except BrowserError:
            pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Gives the fixtures the outcome of the test (item.rep_call)."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
