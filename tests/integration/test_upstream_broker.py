"""Warden between two OpenID parties (issue 15), by a browser by hand:

- as a broker: an application registered in warden (an OIDC client of
  warden's) sends the user to warden's /oauth2/authorize; the user signs
  in with the upstream provider (panva's oidc-provider) from warden's login
  page, allows the application on warden's consent page, and the
  application gets its code and then tokens naming the warden account;
- as the upstream of another warden: a second wardend, with a database
  and keys of its own, has the first as a provider (the first registered
  it with `wardenctl client add`); a user of the first signs in to the
  second through it, and the second's identity names the first's subject
  (the user's id there)."""

import base64
import html
import json
import os
import re
import urllib.parse

import pytest

import oidc_provider as OP
import wardenlib as W
from oidc_fixtures import add_client, authorize_url, pkce_pair

APP = "https://app.example.test/cb"


@pytest.fixture(scope="module")
def broker(workdir, daemon):
    up = OP.Upstream(workdir, "up_broker")
    s = OP.Site(workdir, daemon, "up_broker", up.issuer, name="panva",
                display_name="Panva ID", issuer="{base}")
    s.register_with(up, "client_secret_basic")
    up.start()
    try:
        s.start()
        yield s
        s.stop()
    finally:
        up.stop()


def discovery(d):
    r = d.client.get("/.well-known/openid-configuration")
    assert r.status == 200, r
    return r.json()


def provider_link(page, base, name):
    m = re.search(r'<a class="button provider" href="([^"]*)">', page)
    assert m, page[:3000]
    href = html.unescape(m.group(1))
    assert href.startswith("%s/ui/login/%s" % (base, name)), href
    return href


def exchange(d, cl, code, verifier, redirect):
    meta = discovery(d)
    token_path = urllib.parse.urlsplit(meta["token_endpoint"]).path
    raw = "%s:%s" % (urllib.parse.quote_plus(cl["client_id"]),
                     urllib.parse.quote_plus(cl["client_secret"]))
    r = d.client.post(token_path, form={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
        "code_verifier": verifier},
        headers={"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()})
    assert r.status == 200, r
    return meta, r.json()


def test_an_application_of_warden_gets_tokens_for_a_user_who_signed_in_upstream(broker):
    site = broker
    cl = add_client(site.d, W.uniq("app"), APP, scopes=["openid profile email"])
    verifier, challenge = pkce_pair()
    url = authorize_url(site.d, cl["client_id"], APP, challenge=challenge,
                        state="st-broker", nonce="n-broker")
    login = W.uniq("broker")
    agent = OP.Agent()

    # No session: warden's login page, with the provider's button, whose
    # rd is the authorization request.
    r = agent.walk(url, wardens=(site.base,))
    assert r.status_code == 200 and "Sign in with Panva ID" in r.text, r.text[:2000]
    href = provider_link(r.text, site.base, "panva")
    rd = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(href).query)).get("rd", "")
    assert "/oauth2/authorize?" in rd, href

    # Through oidc-provider, back to the authorization request, warden's
    # consent page (allowed), and to the application with a code.
    got = agent.walk(href, login=login, wardens=(site.base,),
                     before=lambda u: u.startswith(APP))
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(got).query))
    assert q.get("state") == "st-broker" and q.get("code"), (got, agent.trail_text())
    assert q.get("iss") == site.base, q
    W.SECRETS.add_issued(q["code"], -1)

    uid = OP.identities("panva", login + "-sub")
    assert len(uid) == 1, uid
    uid = uid[0][0]

    meta, tok = exchange(site.d, cl, q["code"], verifier, APP)
    _, claims = W.jwt_parts(tok["id_token"])
    assert claims["iss"] == site.base and claims["aud"] in (cl["client_id"], [cl["client_id"]])
    assert claims["sub"] == uid and claims["nonce"] == "n-broker", claims
    assert claims.get("email") == login + "@example.test", claims
    userinfo = urllib.parse.urlsplit(meta["userinfo_endpoint"]).path
    r = site.d.client.get(userinfo, token=tok["access_token"])
    assert r.status == 200 and r.json()["sub"] == uid, r


# ---- a warden as the upstream of another -------------------------------------

@pytest.fixture(scope="module")
def first(workdir, daemon):
    d = W.start_own(workdir, daemon, "up_first", issuer="{base}", public_url="{base}")
    yield d
    W.stop_own(d)


@pytest.mark.parametrize("alg", ["RS256", "EdDSA"])
def test_a_user_of_one_warden_signs_in_to_another_through_it(workdir, daemon, first, alg):
    tag = "up_second_" + alg.lower()
    url2 = OP.new_database(tag)
    second = OP.Site(workdir, daemon, tag, first.base, name="first",
                     display_name="First warden",
                     key_dir=W.make_keys(os.path.join(workdir, tag + "_keys")),
                     database_url=url2)
    cl = add_client(first, "Second warden %s" % alg, second.callback,
                    scopes=["openid email profile"], alg=alg)
    second.client_id = cl["client_id"]
    second.secret = cl["client_secret"]
    second.start()
    try:
        psql2 = OP.psql_at(url2)
        u = first.client.new_user("upfirst", login=False)
        agent = OP.Agent()
        start = second.url("/ui/login/first")
        r = agent.walk(start, warden_user=u, wardens=(first.base, second.base),
                       stop=lambda v: v.startswith(second.callback))
        assert r.status_code == 303, (r.status_code, r.text[:2000], agent.trail_text())
        assert r.headers["Location"] in ("/ui/account", second.url("/ui/account")), r.headers

        # The second's identity names the first's subject: the user's id.
        rows = OP.identities("first", u.id, psql=psql2)
        assert len(rows) == 1, rows
        uid2, email = rows[0]
        assert email == u.email
        assert uid2 != u.id
        row = OP.user_row(uid2, psql=psql2)
        assert row["username"] == u.username and row["password_hash"] == "!", row
        # The first never verified this e-mail: nor does the second.
        assert row["email_verified"] is False, row
        page = agent.request("GET", second.url("/ui/account"))
        assert page.status_code == 200 and u.username in page.text
        # Nothing of it in the first's database but the user it was.
        assert W.psql("SELECT count(*) FROM identities WHERE subject = %s"
                      % OP.q(u.id))[0] == "0"
        # The second made the account (a sign-up of its own).
        assert OP.audit("upstream_signup", uid=uid2, psql=psql2), \
            json.dumps(OP.audit("upstream_login_failed", psql=psql2))
    finally:
        second.stop()
