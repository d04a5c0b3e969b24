"""Signing in through a plain OAuth 2.0 provider shaped as GitHub
(fake_github.FakeGitHub, `preset github` with its endpoints moved to the
fake): no nonce asked, the code exchanged for an access token, /user read
with it and mapped (login -> username, the numeric id -> subject, e-mail
never verified); GitHub's ways of failing (an error in a 200 answer, a
401 from /user, a user without a public e-mail, a cancelled sign-in)."""

import secrets
import uuid

import pytest

import upstreamlib as U
import wardenlib as W
from fake_github import FakeGitHub

SECRET = "gh-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def gh():
    f = FakeGitHub(client_id="Iv1.warden", client_secret=SECRET)
    yield f
    f.close()


@pytest.fixture(scope="module")
def wd(workdir, daemon, gh):
    d = U.start_with_providers(workdir, daemon, "upstream_github", {
        "github": {"preset": "github",
                   "authorization_endpoint": gh.authorization_endpoint,
                   "token_endpoint": gh.token_endpoint,
                   "userinfo_endpoint": gh.userinfo_endpoint,
                   "client_id": gh.client_id, "client_secret": SECRET,
                   "timeout": 3}})
    yield d
    W.stop_own(d)


@pytest.fixture
def octo(gh):
    """A GitHub user of its own: (login, id)."""
    login = "Octo-" + secrets.token_hex(5)
    uid = 10 ** 8 + secrets.randbelow(10 ** 9)
    gh.user = {"id": uid, "login": login, "name": "The Octocat",
               "email": "%s@github.example" % login.lower(), "type": "User",
               "node_id": "MDQ6VXNlcjE=", "site_admin": False}
    gh.authorize_error = None
    gh.token_error = None
    gh.user_status = 200
    return login, uid


class Nothing:
    def __init__(self):
        self.users = U.users_count()
        self.ids = U.identities_count()
        self.mark = U.audit_mark()

    def check(self, d, r, status, reason):
        assert r.status == status, "%r\n%s" % (r, W.log_tail(d.log, 20))
        assert r.content_type == "text/html", r
        assert not any(v.startswith(U.SESSION_COOKIE + "=") for v in r.header_all("Set-Cookie"))
        assert U.users_count() == self.users and U.identities_count() == self.ids
        assert U.failures_after(self.mark, "github") == [reason]


def test_the_start_asks_github_for_a_code_without_a_nonce(wd, gh, octo):
    r = U.Browser(wd).start("github")
    assert r.status == 303, r
    assert r.header("Location").startswith(gh.authorization_endpoint + "?"), r
    q = U.authorize_params(r)
    assert q["client_id"] == gh.client_id
    assert q["redirect_uri"] == wd.base + U.CALLBACK % "github"
    assert q["code_challenge_method"] == "S256" and q["code_challenge"]
    assert q["state"]
    assert "nonce" not in q, q
    assert "openid" not in q.get("scope", "").split(), q


def test_a_github_sign_in_maps_login_to_username_and_id_to_subject(wd, gh, octo):
    login, gid = octo
    users = U.users_count()
    b = U.Browser(wd)
    _, _, r = b.sign_in("github")
    assert r.status == 303, "%r\n%s" % (r, W.log_tail(wd.log, 30))
    assert b.signed_in()
    assert U.users_count() == users + 1
    uid = U.identity_owner("github", str(gid))
    assert uid is not None, U.identities_count()
    row = U.user_row(uid)
    assert row["username"] == login.lower(), row
    assert row["email"] == "%s@github.example" % login.lower(), row
    assert row["full_name"] == "The Octocat", row
    # GitHub's /user says nothing of verification: never verified.
    assert row["email_verified"] is False, row
    assert row["has_password"] is False, row
    # GitHub's answers as GitHub gives them: JSON asked for, the token sent
    # as a bearer.
    assert gh.token_requests[-1]["outcome"] == "ok", gh.token_requests[-1]
    assert "application/json" in (gh.token_requests[-1]["accept"] or "")
    ur = [u for u in gh.user_requests if u["path"] == "/user"][-1]
    assert ur["scheme"].lower() in ("bearer", "token"), ur


def test_the_same_github_id_signs_in_to_the_same_account_after_a_rename(wd, gh, octo):
    login, gid = octo
    _, _, r = U.Browser(wd).sign_in("github")
    assert r.status == 303, r
    uid = U.identity_owner("github", str(gid))
    users = U.users_count()
    gh.user = dict(gh.user, login=login + "-renamed", email="new-" + gh.user["email"])
    b = U.Browser(wd)
    _, _, r = b.sign_in("github")
    assert r.status == 303, r
    assert U.users_count() == users
    assert U.identity_owner("github", str(gid)) == uid


def test_a_github_user_with_an_email_of_an_account_is_409(wd, gh, octo):
    """GitHub's e-mail is never verified: it never links, even to the
    account that has it."""
    u = wd.client.new_user("ghtaken", login=False)
    gh.user = dict(gh.user, email=u.email)
    n = Nothing()
    _, _, r = U.Browser(wd).sign_in("github")
    n.check(wd, r, 409, "email_taken")


def test_github_s_error_in_a_200_answer_is_refused(wd, gh, octo):
    gh.token_error = "bad_verification_code"
    n = Nothing()
    _, _, r = U.Browser(wd).sign_in("github")
    n.check(wd, r, 502, "code_refused")


def test_a_401_from_github_s_user_endpoint_is_502(wd, gh, octo):
    gh.user_status = 401
    n = Nothing()
    _, _, r = U.Browser(wd).sign_in("github")
    n.check(wd, r, 502, "bad_answer")


def test_a_github_user_without_a_public_email_cannot_sign_up(wd, gh, octo):
    gh.user = dict(gh.user, email=None)
    n = Nothing()
    _, _, r = U.Browser(wd).sign_in("github")
    n.check(wd, r, 400, "no_email")


def test_a_cancelled_github_sign_in_is_400(wd, gh, octo):
    gh.authorize_error = "access_denied"
    n = Nothing()
    _, _, r = U.Browser(wd).sign_in("github")
    n.check(wd, r, 400, "provider_error")
    assert "cancel" in r.body.decode().lower()


def test_the_fake_answers_form_encoded_unless_asked_for_json(gh, octo):
    """fake_github answers as GitHub documents: a form by default, and an
    error as a 200 with an "error" member."""
    import urllib.parse
    import urllib.request
    body = urllib.parse.urlencode({"client_id": gh.client_id, "client_secret": SECRET,
                                   "code": "nope"}).encode()
    with urllib.request.urlopen(urllib.request.Request(gh.token_endpoint, data=body)) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
        q = urllib.parse.parse_qs(r.read().decode())
        assert q["error"] == ["bad_verification_code"], q
