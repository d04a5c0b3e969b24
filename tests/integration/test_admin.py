"""The admin API: listing with keyset pagination, get, patch, delete."""

import urllib.parse
import uuid

import wardenlib as W

USERS = "/api/v1/users"


def test_non_admin_is_403_on_admin_routes(client, user, admin):
    for method, path in (("GET", USERS), ("GET", USERS + "/" + admin.id),
                         ("PATCH", USERS + "/" + user.id), ("DELETE", USERS + "/" + admin.id)):
        body = {"roles": ["admin"]} if method == "PATCH" else None
        r = client.request(method, path, token=user.access, json_body=body)
        W.assert_problem(r, 403, "forbidden")
    assert admin.me().status == 200
    assert user.me().json()["roles"] == []


def test_admin_routes_without_token_are_401(client, admin):
    W.assert_problem(client.get(USERS), 401, "unauthorized")
    W.assert_problem(client.get(USERS + "/" + admin.id), 401, "unauthorized")


def test_list_paginates_by_keyset_in_creation_order(client, admin):
    prefix = "pg" + uuid.uuid4().hex[:8] + "-"
    created = []
    for i in range(7):
        name = "%s%d" % (prefix, i)
        r = client.register_raw(name, name + "@example.test", W.strong_password())
        assert r.status == 201, r
        created.append(r.json()["id"])
    pages = []
    url = USERS + "?limit=3&q=" + prefix
    for _ in range(10):
        r = client.get(url, token=admin.access)
        assert r.status == 200 and r.content_type == W.JSON, r
        assert "no-store" in (r.header("Cache-Control") or ""), r
        b = r.json()
        assert set(b) >= {"items", "next"}, b
        for item in b["items"]:
            W.assert_user_object(item)
            assert item["username"].startswith(prefix)
        pages.append(b)
        if b["next"] is None:
            break
        assert isinstance(b["next"], str) and b["next"]
        url = USERS + "?limit=3&q=" + prefix + "&after=" + b["next"]
    sizes = [len(p["items"]) for p in pages]
    assert sizes == [3, 3, 1], sizes
    ids = [it["id"] for p in pages for it in p["items"]]
    assert len(ids) == len(set(ids)), "duplicates across pages"
    assert ids == created, "not in creation order"
    assert pages[-1]["next"] is None


def test_list_q_matches_an_email_prefix(client, admin):
    u = client.new_user("mq", login=False)
    q = urllib.parse.quote(u.email[:len(u.username) + 3], safe="")
    r = client.get(USERS + "?q=" + q, token=admin.access)
    assert r.status == 200, r
    assert [it["id"] for it in r.json()["items"]] == [u.id]


def test_list_without_parameters_defaults(client, admin):
    r = client.get(USERS, token=admin.access)
    assert r.status == 200, r
    b = r.json()
    assert 1 <= len(b["items"]) <= 50
    r = client.get(USERS + "?limit=1", token=admin.access)
    assert r.status == 200 and len(r.json()["items"]) == 1 and r.json()["next"], r
    assert client.get(USERS + "?limit=200", token=admin.access).status == 200


def test_list_limit_out_of_range_is_422(client, admin):
    for lim in ("0", "201", "1000000"):
        r = client.get(USERS + "?limit=" + lim, token=admin.access)
        W.assert_problem(r, 422, "validation")


def test_list_malformed_limit_or_cursor_is_400(client, admin):
    W.assert_problem(client.get(USERS + "?limit=abc", token=admin.access), 400, "malformed-request")
    for cur in ("***", "%00%ff", "x" * 300):
        r = client.get(USERS + "?after=" + cur, token=admin.access)
        W.assert_problem(r, 400, "malformed-request")


def test_cursor_out_of_range_is_400_not_500(client, admin):
    """A cursor whose time no row can have (past year 9999, up to
    INT64_MAX microseconds) is not one of ours: 400, never the database's
    out-of-range error as a 500."""
    for us in (2**63 - 1, 253402300800000000, 10**19):
        cur = W.b64url(("%d:%s" % (us, uuid.uuid4())).encode())
        r = client.get(USERS + "?after=" + cur, token=admin.access)
        W.assert_problem(r, 400, "malformed-request")
    cur = W.b64url(("%d:%s" % (253402300799999999, uuid.uuid4())).encode())
    r = client.get(USERS + "?after=" + cur, token=admin.access)
    assert r.status == 200 and r.json()["items"] == [], r


def test_get_user_by_id(client, admin, user):
    r = client.get(USERS + "/" + user.id, token=admin.access)
    assert r.status == 200, r
    assert "no-store" in (r.header("Cache-Control") or ""), r
    obj = r.json()
    W.assert_user_object(obj)
    assert obj["id"] == user.id and obj["username"] == user.username


def test_get_unknown_or_non_uuid_id_is_404(client, admin):
    W.assert_problem(client.get(USERS + "/" + str(uuid.uuid4()), token=admin.access),
                     404, "not-found")
    for bad in ("not-a-uuid", "123", str(uuid.uuid4()).upper(), str(uuid.uuid4()) + "0"):
        W.assert_problem(client.get(USERS + "/" + bad, token=admin.access), 404, "not-found")
    W.assert_problem(client.patch(USERS + "/" + str(uuid.uuid4()), json_body={"full_name": "x"},
                                  token=admin.access), 404, "not-found")
    W.assert_problem(client.delete(USERS + "/" + str(uuid.uuid4()), token=admin.access),
                     404, "not-found")


def test_patch_roles_are_carried_in_new_tokens(client, admin, user):
    r = client.patch(USERS + "/" + user.id, json_body={"roles": ["reader"]}, token=admin.access)
    assert r.status == 200, r
    assert r.json()["roles"] == ["reader"]
    user.login()
    assert W.jwt_parts(user.access)[1]["roles"] == ["reader"]
    assert user.me().json()["roles"] == ["reader"]


def test_patch_bad_roles_or_fields_are_422(client, admin, user):
    for body, field in (({"roles": ["Bad Role"]}, "roles"), ({"roles": ["x" * 33]}, "roles"),
                        ({"roles": [""]}, "roles"), ({"roles": "admin"}, "roles"),
                        ({"is_active": "no"}, "is_active"), ({"email": "bad"}, "email"),
                        ({"password": W.strong_password()}, None)):
        r = client.patch(USERS + "/" + user.id, json_body=body, token=admin.access)
        W.assert_validation(r, field)


def test_patch_email_and_full_name(client, admin, user):
    email = W.uniq("adm") + "@example.test"
    r = client.patch(USERS + "/" + user.id, json_body={"email": email, "full_name": "Set By Admin"},
                     token=admin.access)
    assert r.status == 200, r
    assert r.json()["email"] == email and r.json()["full_name"] == "Set By Admin"
    other = client.new_user("tk", login=False)
    r = client.patch(USERS + "/" + user.id, json_body={"email": other.email}, token=admin.access)
    W.assert_problem(r, 409, "conflict")


def test_disabling_a_user_kills_its_tokens_and_logins(client, admin, user):
    wrong = client.login_raw(user.username, "Wrong-" + user.password)
    r = client.patch(USERS + "/" + user.id, json_body={"is_active": False}, token=admin.access)
    assert r.status == 200 and r.json()["is_active"] is False, r
    r = user.me()
    assert r.status == 401, r
    W.assert_oauth_error(client.refresh_raw(user.refresh), "invalid_grant")
    b = W.assert_oauth_error(client.login_raw(user.username, user.password), "invalid_grant")
    assert b.get("error_description") == wrong.json().get("error_description")
    # re-enabling lets the user log in again
    r = client.patch(USERS + "/" + user.id, json_body={"is_active": True}, token=admin.access)
    assert r.status == 200, r
    user.login()
    assert user.me().status == 200


def test_delete_user_then_404(client, admin, user):
    r = client.delete(USERS + "/" + user.id, token=admin.access)
    assert r.status == 204 and r.body == b"", r
    W.assert_problem(client.get(USERS + "/" + user.id, token=admin.access), 404, "not-found")
    W.assert_problem(client.delete(USERS + "/" + user.id, token=admin.access), 404, "not-found")
    assert user.me().status == 401
    W.assert_oauth_error(client.login_raw(user.username, user.password), "invalid_grant")


def test_admin_cannot_disable_demote_or_delete_itself(client, admin):
    """Recovery must never need the shell: an admin's own account is
    changed by another admin (409 here), and stays as it was."""
    me = USERS + "/" + admin.id
    r = client.patch(me, json_body={"is_active": False}, token=admin.access)
    W.assert_problem(r, 409, "conflict")
    r = client.patch(me, json_body={"roles": []}, token=admin.access)
    W.assert_problem(r, 409, "conflict")
    r = client.delete(me, token=admin.access)
    W.assert_problem(r, 409, "conflict")
    r = client.get(me, token=admin.access)
    assert r.status == 200 and r.json()["is_active"] and "admin" in r.json()["roles"], r
    # Other changes to itself are fine (a roles change would end its
    # tokens, which the session's other tests still use).
    r = client.patch(me, json_body={"full_name": "The Admin"}, token=admin.access)
    assert r.status == 200, r


def test_the_last_active_admin_stays_whoever_writes(client, admin):
    """The schema refuses a change that leaves no active admin, even one
    statement demoting them all (what a script or psql might do)."""
    try:
        W.psql("UPDATE users SET roles = '{}' WHERE 'admin' = ANY (roles)")
        raise AssertionError("every admin was demoted")
    except RuntimeError as e:
        assert "last active admin" in str(e), e
    r = client.get(USERS + "/" + admin.id, token=admin.access)
    assert r.status == 200 and "admin" in r.json()["roles"], r
