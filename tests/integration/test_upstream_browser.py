"""Social login in headless Chromium through panva's oidc-provider
(tests/integration/oidc_provider): the login page's "Sign in with ..."
button, oidc-provider's own login and consent forms, and warden's account
page with the linked identity; then a password account linking a provider
from its account page and unlinking it.  Screenshots: upstream-login,
upstream-account, upstream-linked (WARDEN_SCREENSHOTS=docs/screenshots
refreshes the README's set)."""

import pytest

import oidc_provider as OP
import wardenlib as W
from pageshots import shots

DISPLAY = "Panva ID"


@pytest.fixture(scope="module")
def site(workdir, daemon):
    up = OP.Upstream(workdir, "up_browser")
    s = OP.Site(workdir, daemon, "up_browser", up.issuer, name="panva", display_name=DISPLAY)
    s.register_with(up, "client_secret_basic")
    up.start()
    s.up = up
    try:
        s.start()
        yield s
        s.stop()
    finally:
        up.stop()


def at_provider(browser, site, what):
    url = browser.url()
    assert url.startswith(site.up.issuer + "/interaction/"), (what, url)


def provider_login(browser, site, login):
    """oidc-provider's login form, then its consent form."""
    at_provider(browser, site, "login form")
    browser.fill("input[name=login]", login)
    browser.fill("input[name=password]", "any password")
    browser.submit("form")
    at_provider(browser, site, "consent form")
    assert "Continue" in browser.text("form"), browser.html()
    browser.submit("form")


def test_sign_in_with_the_provider_in_a_browser_lands_on_the_account(
        site, browser, artifacts):
    login = W.uniq("brenda")
    browser.goto(site.url("/ui/login"))
    assert browser.status() == 200
    button = "a.button.provider[href^='%s/ui/login/panva']" % site.base
    assert browser.text(button).strip() == "Sign in with " + DISPLAY, browser.html()
    shots(browser, artifacts, "upstream-login")

    browser.click(button)
    provider_login(browser, site, login)

    assert browser.url() == site.url("/ui/account"), browser.url()
    assert browser.status() == 200
    c = browser.cookie("warden_session")
    assert c is not None and c["httpOnly"], browser.cookies()
    W.SECRETS.add_issued(c["value"], -1)
    page = browser.text()
    assert login in page, page
    assert "Linked sign-in providers" in page, page
    section = browser.text("section[aria-labelledby=h-identities]")
    assert DISPLAY in section and login + "@example.test" in section, section
    rows = OP.identities("panva", login + "-sub")
    assert len(rows) == 1, rows
    shots(browser, artifacts, "upstream-account")
    # None of warden's pages logged an error (oidc-provider's own pages ask
    # for a web font that this machine cannot reach).
    errors = [e for e in browser.console_errors() if "fonts.googleapis.com" not in e]
    assert errors == [], errors


def test_a_password_account_links_the_provider_and_unlinks_it(
        site, browser, artifacts):
    u = site.d.client.new_user("linker", login=False)
    login = W.uniq("linked")
    browser.goto(site.url("/ui/login"))
    browser.fill("#username", u.username)
    browser.fill("#password", u.password)
    browser.submit("form")
    assert browser.url() == site.url("/ui/account"), browser.url()
    W.SECRETS.add_issued(browser.cookie("warden_session")["value"], -1)

    link = "form[action$='/ui/account/identities/link'] button.provider"
    assert browser.text(link).strip() == "Link " + DISPLAY, browser.html()
    browser.click(link)
    provider_login(browser, site, login)

    assert browser.url() == site.url("/ui/account"), browser.url()
    rows = OP.identities("panva", login + "-sub")
    assert rows and rows[0][0] == u.id, rows
    section = "section[aria-labelledby=h-identities]"
    assert login + "@example.test" in browser.text(section), browser.text(section)
    shots(browser, artifacts, "upstream-linked")

    # A password remains: the identity can go.
    unlink = "form[action$='/ui/account/identities/unlink'] button"
    browser.click(unlink)
    # The account page again (rendered as the answer to the form, as the
    # page's other forms are), saying so.
    assert browser.status() == 200 and "Identity unlinked." in browser.text(), browser.url()
    assert OP.identities("panva", login + "-sub") == []
    assert login + "@example.test" not in browser.text(section)
    assert "No provider is linked" in browser.text(section)
