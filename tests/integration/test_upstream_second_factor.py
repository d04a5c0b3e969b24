"""Social login and warden's own second factor: the provider stands for
the password, not for the TOTP code.  An account with a factor that signs
in through a provider gets the second-factor page, and only the right
code gives it a session; an account without one is signed in at once."""
import re
import uuid

import pytest

import upstreamlib as U
import wardenlib as W
from fake_oidc import FakeOidc
from test_mfa import enrolled, step_start, totp

SECRET = "basic-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def idp():
    f = FakeOidc("RS256")
    f.add_client("warden-2fa", secret=SECRET)
    yield f
    f.close()


@pytest.fixture(scope="module")
def wd(workdir, daemon, idp):
    providers = {"corp": U.oidc_provider(idp, "warden-2fa", SECRET,
                                         display_name="Corp", link_by_email=True)}
    d = U.start_with_providers(workdir, daemon, "upstream_2fa", providers)
    yield d
    W.stop_own(d)


def hidden(body, name):
    m = re.search(r'name="%s" value="([^"]*)"' % name, body)
    assert m, body
    return m.group(1)


def test_an_account_with_totp_gets_the_code_page_after_the_provider(wd, idp):
    u, secret, _ = enrolled(wd.client)
    W.psql("UPDATE users SET email_verified = true WHERE id = %s" % U._q(u.id))
    idp.reset(sub="sub-" + u.username, email=u.email, email_verified=True)
    b = U.Browser(wd)
    _, _, r = b.sign_in("corp")
    # The provider vouched; warden asks for its own second factor.
    assert r.status == 200, "%r\n%s" % (r, W.log_tail(wd.log))
    body = r.body.decode()
    assert 'action="%s/ui/login/totp"' % wd.base in body or \
        'action="/ui/login/totp"' in body or "/ui/login/totp" in body, body
    assert not b.signed_in()
    assert U.identity_owner("corp", "sub-" + u.username) == u.id
    token, csrf = hidden(body, "mfa_token"), hidden(body, "csrf")
    # A wrong code keeps the browser out.
    r = b.post("/ui/login/totp", {"csrf": csrf, "mfa_token": token,
                                       "code": "000000" if totp(secret) != "000000"
                                       else "111111", "rd": ""})
    assert r.status in (400, 401), r
    assert not b.signed_in()
    # The right one signs it in (the next step's: the enrolment spent
    # this one's).
    r = b.post("/ui/login/totp", {"csrf": csrf, "mfa_token": token,
                                  "code": totp(secret, step_start(1)), "rd": ""})
    assert r.status == 303, "%r\n%s" % (r, r.body.decode()[-1500:])
    assert b.signed_in()


def test_an_account_without_a_factor_is_signed_in_at_once(wd, idp):
    name = W.uniq("up2")
    idp.reset(sub="sub-" + name, preferred_username=name,
              email="%s@idp.example" % name, email_verified=True)
    b = U.Browser(wd)
    _, _, r = b.sign_in("corp")
    assert r.status == 303, r
    assert b.signed_in()
