"""The caller's own account: /users/me, logout, password change, deletion,
and bearer authentication failures."""

import wardenlib as W


def _assert_401_invalid_token(r):
    W.assert_problem(r, 401, "unauthorized")
    www = r.header("WWW-Authenticate") or ""
    assert www.startswith("Bearer") and 'error="invalid_token"' in www, r


def test_get_me_returns_the_user_object(client, user):
    r = user.me()
    assert r.status == 200 and r.content_type == W.JSON, r
    assert "no-store" in (r.header("Cache-Control") or ""), r
    obj = r.json()
    W.assert_user_object(obj)
    assert obj["id"] == user.id and obj["username"] == user.username
    assert obj["email"] == user.email


def test_no_token_is_401_with_plain_bearer_challenge(client):
    for method, path in (("GET", "/api/v1/users/me"), ("POST", "/api/v1/auth/logout"),
                         ("GET", "/api/v1/users"), ("GET", "/api/v1/auth/verify")):
        r = client.request(method, path)
        if path != "/api/v1/auth/verify":
            W.assert_problem(r, 401, "unauthorized")
        assert r.status == 401, r
        www = r.header("WWW-Authenticate") or ""
        assert www.startswith("Bearer") and "error=" not in www, r


def test_bad_token_is_401_with_invalid_token_challenge(client, user):
    _assert_401_invalid_token(client.get("/api/v1/users/me", token="garbage"))
    _assert_401_invalid_token(client.get("/api/v1/users/me", token="a.b.c"))
    h, p, s = user.access.split(".")
    _assert_401_invalid_token(client.get("/api/v1/users/me", token=h + "." + p + "." + s[::-1]))
    _assert_401_invalid_token(client.get("/api/v1/users/me", token=user.refresh))


def test_non_bearer_authorization_is_401_without_error_code(client, user):
    """RFC 6750 3: a request "attempted using an unsupported authentication
    method" gets the challenge without an error code."""
    r = client.get("/api/v1/users/me", headers={"Authorization": "Basic " + W.b64url(b"a:b")})
    assert r.status == 401, r
    assert r.headers.get("WWW-Authenticate") == "Bearer", r


def test_malformed_bearer_header_is_400_invalid_request(client, user):
    """RFC 6750 3.1: a request that is "missing a required parameter ... or
    is otherwise malformed" is 400 with error="invalid_request"."""
    for value in ("Bearer", "Bearer ", "Bearer a b"):
        r = client.get("/api/v1/users/me", headers={"Authorization": value})
        assert r.status == 400, (value, r)
        assert r.headers.get("WWW-Authenticate") == 'Bearer error="invalid_request"', r


def test_bearer_scheme_is_case_insensitive(client, user):
    r = client.get("/api/v1/users/me", headers={"Authorization": "bearer " + user.access})
    assert r.status == 200, r


def test_patch_me_changes_email_and_full_name(client, user):
    new_email = W.uniq("new") + "@Example.Test"
    r = client.patch("/api/v1/users/me", json_body={"email": new_email, "full_name": "Bob B."},
                     token=user.access)
    assert r.status == 200, r
    obj = r.json()
    W.assert_user_object(obj)
    assert obj["email"] == new_email and obj["full_name"] == "Bob B."
    assert obj["updated_at"] >= obj["created_at"]
    assert user.me().json()["email"] == new_email
    assert client.login_raw(new_email.lower(), user.password).status == 200
    r = client.patch("/api/v1/users/me", json_body={"full_name": "Only Name"}, token=user.access)
    assert r.status == 200 and r.json()["email"] == new_email, r


def test_patch_me_with_taken_email_is_409(client, user):
    other = client.new_user("oth", login=False)
    r = client.patch("/api/v1/users/me", json_body={"email": other.email.upper()},
                     token=user.access)
    W.assert_problem(r, 409, "conflict")
    assert user.me().json()["email"] == user.email


def test_patch_me_rejects_invalid_and_unknown_members(client, user):
    W.assert_validation(client.patch("/api/v1/users/me", json_body={"email": "nope"},
                                     token=user.access), "email")
    W.assert_validation(client.patch("/api/v1/users/me", json_body={"full_name": "x" * 129},
                                     token=user.access), "full_name")
    W.assert_validation(client.patch("/api/v1/users/me", json_body={"roles": ["admin"]},
                                     token=user.access))
    W.assert_validation(client.patch("/api/v1/users/me", json_body={"is_active": True},
                                     token=user.access))
    W.assert_validation(client.patch("/api/v1/users/me", json_body={"username": W.uniq()},
                                     token=user.access))
    assert user.me().json()["roles"] == []


def test_patch_me_requires_json(client, user):
    r = client.patch("/api/v1/users/me", body="full_name=x", content_type=W.FORM,
                     token=user.access)
    W.assert_problem(r, 415, "unsupported-media-type")


def test_logout_ends_the_session(client, user):
    second = client.login(user.username, user.password)
    r = client.post("/api/v1/auth/logout", token=user.access)
    assert r.status == 204 and r.body == b"", r
    _assert_401_invalid_token(user.me())
    _assert_401_invalid_token(client.get("/api/v1/users/me", token=second["access_token"]))
    W.assert_oauth_error(client.refresh_raw(user.refresh), "invalid_grant")
    W.assert_oauth_error(client.refresh_raw(second["refresh_token"]), "invalid_grant")
    # logging in again works
    user.login()
    assert user.me().status == 200


def test_password_change_ends_every_session(client, user):
    old_pw = user.password
    old_access, old_refresh = user.access, user.refresh
    new_pw = W.strong_password()
    r = client.post("/api/v1/users/me/password",
                    json_body={"current_password": old_pw, "new_password": new_pw},
                    token=user.access)
    assert r.status == 204 and r.body == b"", r
    _assert_401_invalid_token(client.get("/api/v1/users/me", token=old_access))
    W.assert_oauth_error(client.refresh_raw(old_refresh), "invalid_grant")
    W.assert_oauth_error(client.login_raw(user.username, old_pw), "invalid_grant")
    t = client.login(user.username, new_pw)
    assert client.get("/api/v1/users/me", token=t["access_token"]).status == 200


def test_password_change_with_wrong_current_password_is_403(client, user):
    r = client.post("/api/v1/users/me/password",
                    json_body={"current_password": "Wrong-" + user.password,
                               "new_password": W.strong_password()},
                    token=user.access)
    W.assert_problem(r, 403, "forbidden")
    assert user.me().status == 200
    assert client.login_raw(user.username, user.password).status == 200


def test_password_change_to_a_rule_breaking_password_is_422(client, user):
    for bad in ("short", user.username, user.email, "password1", "x" * 1025):
        r = client.post("/api/v1/users/me/password",
                        json_body={"current_password": user.password, "new_password": bad},
                        token=user.access)
        W.assert_validation(r, "new_password")
    assert user.me().status == 200
    assert client.login_raw(user.username, user.password).status == 200


def test_password_change_without_token_is_401(client):
    r = client.post("/api/v1/users/me/password",
                    json_body={"current_password": "a" * 10, "new_password": "b" * 10})
    W.assert_problem(r, 401, "unauthorized")


def test_delete_me_with_wrong_password_is_403(client, user):
    r = client.delete("/api/v1/users/me", json_body={"password": "Wrong-" + user.password},
                      token=user.access)
    W.assert_problem(r, 403, "forbidden")
    assert user.me().status == 200


def test_delete_me_removes_the_account(client, user):
    r = client.delete("/api/v1/users/me", json_body={"password": user.password},
                      token=user.access)
    assert r.status == 204 and r.body == b"", r
    _assert_401_invalid_token(user.me())
    W.assert_oauth_error(client.login_raw(user.username, user.password), "invalid_grant")
    W.assert_oauth_error(client.refresh_raw(user.refresh), "invalid_grant")
    assert W.psql("select count(*) from users where id = '%s'" % user.id) == ["0"]
    assert W.psql("select count(*) from refresh_tokens where user_id = '%s'" % user.id) == ["0"]
    # the name is free again
    r = client.register_raw(user.username, user.email, W.strong_password())
    assert r.status == 201, r
