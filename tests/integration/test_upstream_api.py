"""The identities an account is linked to (issue 15): linking from the
account page, the API (the caller's list and unlink, the admin's view),
the account page's unlink, and wardenctl identity list/unlink and user
show; an account's last way to sign in (no password, one identity) is
never unlinked, by anyone."""

import json
import re
import uuid

import pytest

import upstreamlib as U
import wardenlib as W
from fake_oidc import FakeOidc

SECRET = "api-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def idp():
    f = FakeOidc("RS256")
    f.add_client("warden-api", secret=SECRET)
    yield f
    f.close()


@pytest.fixture(scope="module")
def wd(workdir, daemon, idp):
    d = U.start_with_providers(workdir, daemon, "upstream_api", {
        "apiidp": U.oidc_provider(idp, "warden-api", SECRET, display_name="API IdP"),
        "apiidp2": U.oidc_provider(idp, "warden-api", SECRET, display_name="Second IdP")})
    yield d
    W.stop_own(d)


def new_subject(idp, email=None):
    name = W.uniq("api")
    idp.reset(sub="sub-" + name, preferred_username=name,
              email=email or "%s@idp.example" % name, email_verified=True)
    return "sub-" + name


def link_from_account(b, provider):
    """POST the account page's link form (signed in): the callback's
    response, after the round at the provider."""
    csrf = b.csrf_of("/ui/account")
    r = b.post("/ui/account/identities/link", {"csrf": csrf, "provider": provider})
    assert r.status == 303, "%r\n%s" % (r, b._trail())
    back = b.at_provider(r.header("Location"))
    return b.callback(back)


def password_user_linked(wd, idp, provider="apiidp"):
    """A registered user (with a password), logged in on the portal, who
    linked an identity at provider: (user, browser, subject)."""
    u = wd.client.new_user("apil")
    b = U.Browser(wd)
    loc = b.login(u)
    assert loc, b._trail()
    sub = new_subject(idp, email="other-" + u.email)
    r = link_from_account(b, provider)
    assert r.status == 303, "%r\n%s" % (r, W.log_tail(wd.log, 20))
    assert r.header("Location") == wd.base + "/ui/account", r
    assert U.identity_owner(provider, sub) == u.id
    return u, b, sub


def upstream_only_user(wd, idp, provider="apiidp"):
    """An account made by a sign-in at provider (no password): (user id,
    browser signed in, subject)."""
    sub = new_subject(idp)
    b = U.Browser(wd)
    _, _, r = b.sign_in(provider)
    assert r.status == 303, "%r\n%s" % (r, W.log_tail(wd.log, 20))
    uid = U.identity_owner(provider, sub)
    assert uid and U.user_row(uid)["has_password"] is False
    return uid, b, sub


def identity_id(provider, subject):
    return W.psql("SELECT id FROM identities WHERE provider = '%s' AND subject = '%s'"
                  % (provider, subject))[0]


# ---- linking from the account page ----

def test_linking_from_the_account_page_links_the_identity_to_the_signed_in_user(wd, idp):
    users = U.users_count()
    mark = U.audit_mark()
    u, b, sub = password_user_linked(wd, idp)
    assert U.users_count() == users + 1          # the registration only
    events = [e for e, uid, _ in U.audit_after(mark) if uid == u.id]
    assert "identity_linked" in events, events
    page = b.get("/ui/account").body.decode()
    assert "API IdP" in page and "other-" + u.email in page, page
    # The identity now signs in to this account.
    idp.reset(sub=sub, email="whatever@idp.example", email_verified=True)
    b2 = U.Browser(wd)
    _, _, r = b2.sign_in("apiidp")
    assert r.status == 303, r
    assert U.identity_owner("apiidp", sub) == u.id
    assert U.users_count() == users + 1


def test_linking_an_identity_of_another_account_is_409(wd, idp):
    uid, _, sub = upstream_only_user(wd, idp)
    u = wd.client.new_user("apio")
    b = U.Browser(wd)
    b.login(u)
    idp.reset(sub=sub, email="x@idp.example", email_verified=True)
    mark = U.audit_mark()
    r = link_from_account(b, "apiidp")
    assert r.status == 409, r
    assert U.identity_owner("apiidp", sub) == uid
    assert U.failures_after(mark, "apiidp") == ["linked_elsewhere"]


# ---- the API ----

def test_me_identities_lists_each_identity(wd, idp):
    u, _, sub = password_user_linked(wd, idp)
    r = wd.client.get("/api/v1/users/me/identities", token=u.access)
    assert r.status == 200, r
    assert r.content_type == W.JSON
    body = r.json()
    assert body.get("has_password") is True, body
    items = body["items"]
    assert len(items) == 1, body
    it = items[0]
    assert set(it) == {"id", "provider", "subject", "email", "linked_at"}, it
    assert W.UUID_RE.match(it["id"]) and it["id"] == identity_id("apiidp", sub)
    assert it["provider"] == "apiidp" and it["subject"] == sub, it
    assert it["email"] == "other-" + u.email, it
    assert W.TS_RE.match(it["linked_at"]), it


def test_me_identities_unlink_is_204_and_audited(wd, idp):
    u, _, sub = password_user_linked(wd, idp)
    iid = identity_id("apiidp", sub)
    mark = U.audit_mark()
    r = wd.client.delete("/api/v1/users/me/identities/" + iid, token=u.access)
    assert r.status == 204, r
    assert U.identity_owner("apiidp", sub) is None
    assert wd.client.get("/api/v1/users/me/identities", token=u.access).json()["items"] == []
    events = [e for e, uid, _ in U.audit_after(mark) if uid == u.id]
    assert events == ["identity_unlinked"], events
    # Again: it is gone.
    W.assert_problem(wd.client.delete("/api/v1/users/me/identities/" + iid, token=u.access),
                     404, "not-found")


def test_unlinking_an_unknown_or_anothers_identity_is_404(wd, idp):
    u, _, _ = password_user_linked(wd, idp)
    other, _, osub = password_user_linked(wd, idp)
    for iid in (str(uuid.uuid4()), identity_id("apiidp", osub)):
        r = wd.client.delete("/api/v1/users/me/identities/" + iid, token=u.access)
        W.assert_problem(r, 404, "not-found")
    assert U.identity_owner("apiidp", osub) == other.id
    r = wd.client.delete("/api/v1/users/me/identities/not-a-uuid", token=u.access)
    assert r.status == 404, r
    r = wd.client.get("/api/v1/users/me/identities")
    assert r.status == 401, r


def test_the_last_way_in_is_never_unlinked_through_the_api(wd, idp):
    """An account without a password (its hash made the '!' of an account
    made by a provider, under a bearer it had before) keeps its only
    identity: 409."""
    u, _, sub = password_user_linked(wd, idp)
    W.psql("UPDATE users SET password_hash = '!' WHERE id = '%s'" % u.id)
    r = wd.client.get("/api/v1/users/me/identities", token=u.access)
    assert r.status == 200, r
    assert r.json()["has_password"] is False, r
    iid = identity_id("apiidp", sub)
    r = wd.client.delete("/api/v1/users/me/identities/" + iid, token=u.access)
    W.assert_problem(r, 409, "conflict")
    assert U.identity_owner("apiidp", sub) == u.id


def test_an_account_with_two_identities_unlinks_one_on_the_account_page(wd, idp):
    uid, b, sub = upstream_only_user(wd, idp)
    sub2 = new_subject(idp)
    r = link_from_account(b, "apiidp2")
    assert r.status == 303, r
    assert U.identity_owner("apiidp2", sub2) == uid
    page = b.get("/ui/account").body.decode()
    assert "Second IdP" in page and "API IdP" in page, page
    # One goes...
    r = b.post("/ui/account/identities/unlink",
               {"csrf": b.csrf_of(), "id": identity_id("apiidp2", sub2)})
    assert r.status in (200, 303), r
    assert U.identity_owner("apiidp2", sub2) is None
    # ...the last stays: a 409 page.
    r = b.post("/ui/account/identities/unlink",
               {"csrf": b.csrf_of(), "id": identity_id("apiidp", sub)})
    assert r.status == 409, r
    assert r.content_type == "text/html"
    assert U.identity_owner("apiidp", sub) == uid


def test_the_account_page_unlink_needs_its_csrf_field(wd, idp):
    u, b, sub = password_user_linked(wd, idp)
    r = b.post("/ui/account/identities/unlink",
               {"csrf": "A" * 43, "id": identity_id("apiidp", sub)})
    assert r.status == 403, r
    assert U.identity_owner("apiidp", sub) == u.id


def test_the_admin_lists_and_unlinks_a_users_identities(wd, idp, admin):
    u, _, sub = password_user_linked(wd, idp)
    r = wd.client.get("/api/v1/users/%s/identities" % u.id, token=admin.access)
    assert r.status == 200, r
    body = r.json()
    assert body["has_password"] is True
    assert [(i["provider"], i["subject"]) for i in body["items"]] == [("apiidp", sub)], body
    # Not for a user who is no admin.
    r = wd.client.get("/api/v1/users/%s/identities" % u.id, token=u.access)
    assert r.status == 403, r
    r = wd.client.get("/api/v1/users/%s/identities" % uuid.uuid4(), token=admin.access)
    W.assert_problem(r, 404, "not-found")
    iid = body["items"][0]["id"]
    r = wd.client.delete("/api/v1/users/%s/identities/%s" % (u.id, iid), token=u.access)
    assert r.status == 403, r
    mark = U.audit_mark()
    r = wd.client.delete("/api/v1/users/%s/identities/%s" % (u.id, iid), token=admin.access)
    assert r.status == 204, r
    assert U.identity_owner("apiidp", sub) is None
    assert "identity_unlinked" in [e for e, uid, _ in U.audit_after(mark) if uid == u.id]


def test_the_admin_cannot_unlink_an_accounts_last_way_in(wd, idp, admin):
    uid, _, sub = upstream_only_user(wd, idp)
    r = wd.client.get("/api/v1/users/%s/identities" % uid, token=admin.access)
    assert r.status == 200 and r.json()["has_password"] is False, r
    r = wd.client.delete("/api/v1/users/%s/identities/%s" % (uid, identity_id("apiidp", sub)),
                         token=admin.access)
    W.assert_problem(r, 409, "conflict")
    assert U.identity_owner("apiidp", sub) == uid


# ---- wardenctl ----

def ctl(d, *args, rc=0):
    out = d.wardenctl(*args)
    assert out.returncode == rc, "wardenctl %s: exit %d, want %d\n%s%s" % (
        " ".join(args), out.returncode, rc, out.stdout, out.stderr)
    return out


def test_wardenctl_identity_list_shows_a_users_identities(wd, idp):
    u, _, sub = password_user_linked(wd, idp)
    out = ctl(wd, "identity", "list", u.username, "--json")
    items = json.loads(out.stdout)
    assert [(i["provider"], i["subject"], i["username"], i["user_id"]) for i in items] == \
        [("apiidp", sub, u.username, u.id)], items
    assert items[0]["id"] == identity_id("apiidp", sub)
    out = ctl(wd, "identity", "list", u.username)
    assert re.search(r"\bapiidp\b.*\b%s\b" % re.escape(sub), out.stdout), out.stdout
    out = ctl(wd, "identity", "list")
    assert sub in out.stdout
    ctl(wd, "identity", "list", "nosuchuser-" + uuid.uuid4().hex[:8], rc=3)


def test_wardenctl_user_show_lists_identities(wd, idp):
    uid, _, sub = upstream_only_user(wd, idp)
    out = ctl(wd, "user", "show", uid, "--json")
    o = json.loads(out.stdout)
    assert [(i["provider"], i["subject"]) for i in o["identities"]] == [("apiidp", sub)], o
    assert o["password_format"] == "none", o
    out = ctl(wd, "user", "show", uid)
    assert "apiidp " + sub in out.stdout, out.stdout


def test_wardenctl_identity_unlink_unlinks_but_never_the_last_way_in(wd, idp):
    u, _, sub = password_user_linked(wd, idp)
    iid = identity_id("apiidp", sub)
    mark = U.audit_mark()
    ctl(wd, "identity", "unlink", iid)
    assert U.identity_owner("apiidp", sub) is None
    ev = [(e, d) for e, uid, d in U.audit_after(mark) if uid == u.id]
    assert [e for e, _ in ev] == ["identity_unlinked"], ev
    assert ev[0][1].get("by") == "wardenctl", ev
    ctl(wd, "identity", "unlink", iid, rc=3)
    ctl(wd, "identity", "unlink", "not-an-id", rc=2)
    uid, _, sub2 = upstream_only_user(wd, idp)
    out = ctl(wd, "identity", "unlink", identity_id("apiidp", sub2), rc=1)
    assert "only way" in out.stderr, out.stderr
    assert U.identity_owner("apiidp", sub2) == uid
