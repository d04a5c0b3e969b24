"""POST /api/v1/users: registration, the field rules at their boundaries,
malformed bodies, conflicts, size and media-type limits, and races."""

import uuid

import wardenlib as W

BLOCKLISTED = "password1"   # line 17 of /usr/share/john/password.lst, 9 bytes


def _email(tag=None):
    return "%s@example.test" % (tag or W.uniq("e"))


def _reg(client, username=None, email=None, password=None, **kw):
    username = username or W.uniq()
    return client.register_raw(username, email or _email(username),
                               password if password is not None else W.strong_password(), **kw)


def test_register_returns_201_location_and_user_object(client):
    name = W.uniq("reg")
    pw = W.strong_password()
    r = client.register_raw(name, name + "@Example.Test", pw, full_name="Alice Liddell")
    assert r.status == 201, r
    assert r.content_type == W.JSON, r
    u = r.json()
    W.assert_user_object(u)
    assert u["username"] == name
    assert u["email"] == name + "@Example.Test", "email must be stored as given"
    assert u["full_name"] == "Alice Liddell"
    assert u["roles"] == [] and u["is_active"] is True, u
    loc = r.header("Location") or ""
    assert loc.endswith("/api/v1/users/" + u["id"]), r
    assert "no-store" in (r.header("Cache-Control") or ""), r
    assert r.header("X-Content-Type-Options") == "nosniff", r


def test_register_without_full_name_is_accepted(client):
    r = _reg(client)
    assert r.status == 201, r
    assert r.json()["full_name"] in (None, ""), r


def test_username_length_boundaries(client):
    tag = uuid.uuid4().hex
    W.assert_validation(_reg(client, username=tag[:2]), "username")
    assert _reg(client, username=tag[2:5]).status == 201
    assert _reg(client, username=tag[:32]).status == 201
    W.assert_validation(_reg(client, username=("z" + tag)[:33]), "username")


def test_username_charset_and_first_character(client):
    tag = uuid.uuid4().hex[:10]
    W.assert_validation(_reg(client, username="." + tag), "username")
    W.assert_validation(_reg(client, username="-" + tag), "username")
    W.assert_validation(_reg(client, username="_" + tag), "username")
    W.assert_validation(_reg(client, username="a b" + tag), "username")
    W.assert_validation(_reg(client, username="a/" + tag), "username")
    W.assert_validation(_reg(client, username="\u00e9" + tag), "username")
    assert _reg(client, username="9a.b_c-" + tag).status == 201


def _long_email(total):
    """A unique e-mail address of exactly total bytes (local part 64 bytes,
    domain labels <= 63)."""
    local = (uuid.uuid4().hex * 2)[:64]
    rest = total - 64 - 1 - 4 - 2  # '@', '.com', two dots
    a = rest // 3
    b = rest // 3
    c = rest - a - b
    domain = "a" * a + "." + "b" * b + "." + "c" * c + ".com"
    e = local + "@" + domain
    assert len(e.encode()) == total and c <= 63
    return e


def test_email_length_boundaries(client):
    e254 = _long_email(254)
    r = _reg(client, email=e254)
    assert r.status == 201, r
    assert r.json()["email"] == e254
    W.assert_validation(_reg(client, email=_long_email(255)), "email")


def test_email_local_part_boundaries(client):
    assert _reg(client, email=(uuid.uuid4().hex * 2)[:64] + "@example.test").status == 201
    W.assert_validation(_reg(client, email=(uuid.uuid4().hex * 3)[:65] + "@example.test"), "email")


def test_email_shape_rules(client):
    tag = uuid.uuid4().hex[:10]
    for bad in ("%s@localhost" % tag,            # no dot in the domain
                "%sexample.test" % tag,           # no '@'
                "%s@a@example.test" % tag,        # two '@'
                "@example.test",                  # empty local part
                "%s @example.test" % tag,         # a space
                "%s\t@example.test" % tag,        # a control character
                "%s@exa_mple.test" % tag,         # bad domain label
                "%s@" % tag):
        W.assert_validation(_reg(client, email=bad), "email")


def test_password_length_boundaries(client):
    W.assert_validation(_reg(client, password="Zq8#kP1"), "password")      # 7 bytes
    assert _reg(client, password="Zq8#kP1w").status == 201                   # 8 bytes
    pw1024 = (uuid.uuid4().hex * 40)[:1024]
    W.SECRETS.add_password(pw1024)
    name = W.uniq("long")
    r = _reg(client, username=name, password=pw1024)
    assert r.status == 201, r
    # no truncation: the password is checked in full
    assert client.login_raw(name, pw1024).status == 200
    W.assert_oauth_error(client.login_raw(name, pw1024[:72]), "invalid_grant")
    W.assert_oauth_error(client.login_raw(name, pw1024[:-1] + "!"), "invalid_grant")
    W.assert_validation(_reg(client, password=pw1024 + "x"), "password")   # 1025 bytes


def test_password_must_not_equal_username_or_email(client):
    name = W.uniq("same")
    W.assert_validation(_reg(client, username=name, password=name), "password")
    email = name + "@example.test"
    W.assert_validation(_reg(client, username=name, email=email, password=email), "password")


def test_blocklisted_password_is_rejected(client):
    with open(W.BLOCKLIST, encoding="latin-1") as f:
        assert BLOCKLISTED in {line.rstrip("\n") for line in f}
    W.assert_validation(_reg(client, password=BLOCKLISTED), "password")


def test_password_must_be_valid_utf8(client):
    name = W.uniq()
    body = ('{"username":"%s","email":"%s@example.test","password":"' % (name, name)).encode() \
        + b"abc\xff\xfedefgh" + b'"}'
    r = client.post("/api/v1/users", body=body, content_type=W.JSON)
    W.assert_problem(r, 400, "malformed-request")


def test_full_name_length_boundaries_count_characters(client):
    r = _reg(client, full_name="\u00e9" * 128)   # 128 characters, 256 bytes
    assert r.status == 201, r
    assert r.json()["full_name"] == "\u00e9" * 128
    W.assert_validation(_reg(client, full_name="a" * 129), "full_name")


def test_full_name_control_characters_are_rejected(client):
    W.assert_validation(_reg(client, full_name="Alice\x01Liddell"), "full_name")
    W.assert_validation(_reg(client, full_name="Alice\nLiddell"), "full_name")


def test_unknown_member_is_422(client):
    W.assert_validation(_reg(client, roles=["admin"]))
    W.assert_validation(_reg(client, is_admin=True))


def test_missing_required_fields_are_422(client):
    r = client.post("/api/v1/users", json_body={"username": W.uniq()})
    p = W.assert_validation(r)
    fields = {e.get("field") for e in p.get("errors", [])}
    assert {"email", "password"} <= fields, p


def test_wrong_member_types_are_422(client):
    W.assert_validation(client.post("/api/v1/users", json_body={
        "username": 12345, "email": _email(), "password": W.strong_password()}), "username")


def test_several_invalid_fields_are_all_reported(client):
    r = client.post("/api/v1/users", json_body={"username": "x", "email": "nope",
                                                "password": "short"})
    p = W.assert_validation(r)
    fields = {e.get("field") for e in p["errors"]}
    assert {"username", "email", "password"} <= fields, p


def test_malformed_json_is_400(client):
    for body in (b'{"username":', b"", b"nul", b'{"a":1}x', b"{'a':1}"):
        r = client.post("/api/v1/users", body=body, content_type=W.JSON)
        W.assert_problem(r, 400, "malformed-request")


def test_json_that_is_not_an_object_is_400(client):
    for body in (b"[1,2]", b'"str"', b"42", b"null", b"true"):
        r = client.post("/api/v1/users", body=body, content_type=W.JSON)
        W.assert_problem(r, 400, "malformed-request")


def test_duplicate_member_is_400(client):
    name = W.uniq()
    body = ('{"username":"%s","username":"%sx","email":"%s@example.test","password":"%s"}'
            % (name, name, name, W.strong_password())).encode()
    r = client.post("/api/v1/users", body=body, content_type=W.JSON)
    W.assert_problem(r, 400, "malformed-request")


def _nested(depth):
    """An object nested depth levels deep in all (the object counts as 1)."""
    return ('{"full_name":' + "[" * (depth - 1) + "]" * (depth - 1) + "}").encode()


def test_json_deeper_than_32_is_400_and_32_is_parsed(client):
    W.assert_problem(client.post("/api/v1/users", body=_nested(33), content_type=W.JSON),
                     400, "malformed-request")
    W.assert_problem(client.post("/api/v1/users", body=_nested(5000), content_type=W.JSON),
                     400, "malformed-request")
    # depth 32 parses; the body then fails validation, not parsing
    W.assert_problem(client.post("/api/v1/users", body=_nested(32), content_type=W.JSON),
                     422, "validation")


def test_invalid_utf8_in_body_is_400(client):
    for body in (b'{"username":"\xff\xfe"}', b'{"us\xc3ername":"abc"}',
                 b'{"username":"\xed\xa0\x80abc"}'):
        r = client.post("/api/v1/users", body=body, content_type=W.JSON)
        W.assert_problem(r, 400, "malformed-request")


def test_taken_username_is_409_case_insensitively(client):
    name = W.uniq("dup")
    assert _reg(client, username=name).status == 201
    W.assert_problem(_reg(client, username=name), 409, "conflict")
    W.assert_problem(_reg(client, username=name.upper()), 409, "conflict")


def test_taken_email_is_409_case_insensitively(client):
    email = W.uniq("dupe") + "@example.test"
    assert _reg(client, email=email).status == 201
    W.assert_problem(_reg(client, email=email), 409, "conflict")
    W.assert_problem(_reg(client, email=email.upper()), 409, "conflict")


def test_body_over_64k_is_413(client):
    big = b'{"username":"' + b"a" * (64 * 1024 + 1) + b'"}'
    r = client.post("/api/v1/users", body=big, content_type=W.JSON)
    W.assert_problem(r, 413, "payload-too-large")
    assert client.get("/healthz").status == 200


def test_wrong_content_type_is_415(client):
    name = W.uniq()
    body = '{"username":"%s","email":"%s@example.test","password":"%s"}' % (
        name, name, W.strong_password())
    for ct in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        r = client.post("/api/v1/users", body=body, content_type=ct)
        W.assert_problem(r, 415, "unsupported-media-type")
    r = client.post("/api/v1/users", body=body)   # no Content-Type at all
    W.assert_problem(r, 415, "unsupported-media-type")


def test_json_content_type_with_charset_is_accepted(client):
    name = W.uniq()
    r = client.register_raw(name, name + "@example.test", W.strong_password())
    assert r.status == 201
    name = W.uniq()
    body = '{"username":"%s","email":"%s@example.test","password":"%s"}' % (
        name, name, W.strong_password())
    r = client.post("/api/v1/users", body=body, content_type="application/json; charset=utf-8")
    assert r.status == 201, r


def test_parallel_registrations_of_one_username_give_one_201(client):
    name = W.uniq("race")
    pw = W.strong_password()
    n = 20
    results = W.at_once(n, lambda i: client.register_raw(
        name, "%s-%d@example.test" % (name, i), pw))
    statuses = sorted(r.status if hasattr(r, "status") else repr(r) for r in results)
    assert statuses == [201] + [409] * (n - 1), statuses
    for r in results:
        if r.status == 409:
            W.assert_problem(r, 409, "conflict")
    assert W.psql("select count(*) from users where lower(username) = lower('%s')" % name) == ["1"]
