"""What the standards say of the token, revocation, metadata and bearer
routes, each test citing its section: what client libraries rely on."""

import base64
import json
import socket

import wardenlib as W


CLIENT_ID = "warden"    # the default client_id


def basic(client_id, secret="anything"):
    raw = ("%s:%s" % (client_id, secret)).encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def assert_oauth_error(r, status, error):
    assert r.status == status, r
    assert r.content_type == W.JSON, r
    assert r.json()["error"] == error, r
    assert r.header("Cache-Control") == "no-store", r
    assert r.header("Pragma") == "no-cache", r


# ---- the token endpoint ---------------------------------------------------

def test_token_ignores_unrecognized_parameters(client, user):
    """RFC 6749 3.2: "The authorization server MUST ignore unrecognized
    request parameters" (here RFC 8707 resource, audience, state, scope)."""
    extra = {"resource": "https://api.example.test/", "audience": "x",
             "state": "s", "scope": "openid", "nonsense": "1"}
    form = {"grant_type": "password", "username": user.username,
            "password": user.password}
    form.update(extra)
    r = client.token(form)
    assert r.status == 200, r
    form = {"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"]}
    form.update(extra)
    r = client.token(form, as_json=True)
    assert r.status == 200, r


def test_token_accepts_its_client_by_body_or_basic(client, user):
    """RFC 6749 2.3.1: client_id and client_secret in the body, or HTTP
    Basic; the public client's secret is not checked (2.1)."""
    for form, headers in (
            ({"client_id": CLIENT_ID}, None),
            ({"client_id": CLIENT_ID, "client_secret": "s"}, None),
            ({}, basic(CLIENT_ID)),
            ({"client_id": CLIENT_ID}, basic(CLIENT_ID, "other"))):
        body = {"grant_type": "password", "username": user.username,
                "password": user.password}
        body.update(form)
        r = client.token(body, headers=headers)
        assert r.status == 200, (form, headers, r)


def test_token_refuses_another_client(client, user):
    """RFC 6749 5.2: an unknown client is invalid_client (401, with the
    scheme it may authenticate with in WWW-Authenticate)."""
    body = {"grant_type": "password", "username": user.username,
            "password": user.password}
    r = client.token(dict(body, client_id="someone-else"))
    assert_oauth_error(r, 401, "invalid_client")
    r = client.token(body, headers=basic("someone-else"))
    assert_oauth_error(r, 401, "invalid_client")
    assert r.header("WWW-Authenticate", ).startswith("Basic"), r
    r = client.token(body, headers={"Authorization": "Basic !!!"})
    assert_oauth_error(r, 401, "invalid_client")


def test_token_refuses_two_ways_of_client_authentication(client, user):
    """RFC 6749 2.3: "The client MUST NOT use more than one authentication
    method in each request"."""
    body = {"grant_type": "password", "username": user.username,
            "password": user.password, "client_secret": "s"}
    r = client.token(body, headers=basic(CLIENT_ID))
    assert_oauth_error(r, 400, "invalid_request")


def test_token_other_media_type_is_415_oauth_error(client):
    """RFC 6749 3.2 names the form encoding; the answer stays an OAuth
    error (5.2 body, 5.1 cache headers) with the status that says why."""
    r = client.post("/api/v1/auth/token", body="grant_type=password",
                    content_type="text/plain")
    assert_oauth_error(r, 415, "invalid_request")


def test_access_token_has_client_id_claim(client, user):
    """RFC 9068 2.2: client_id is a required claim of a JWT access token."""
    claims = W.jwt_parts(user.access)[1]
    assert claims["client_id"] == CLIENT_ID, claims


# ---- revocation -----------------------------------------------------------

def test_revoke_ignores_unrecognized_parameters(client, user):
    """RFC 6749 3.2 applies to RFC 7009's endpoint: authlib and
    openid-client send client_id with a public client's revocation."""
    r = client.post("/api/v1/auth/revoke",
                    form={"token": user.refresh, "client_id": CLIENT_ID,
                          "token_type_hint": "refresh_token", "extra": "1"})
    assert r.status == 200, r
    r = client.refresh_raw(user.refresh)
    assert_oauth_error(r, 400, "invalid_grant")


def test_revoke_answers_json(client, user):
    """RFC 7009 2.2: 200 whatever the token; the body is an empty JSON
    object so that clients that parse every answer do not fail."""
    for token in (user.refresh, "not-a-token"):
        r = client.post("/api/v1/auth/revoke", form={"token": token})
        assert r.status == 200, r
        assert r.content_type == W.JSON, r
        assert r.json() == {}, r
        assert r.header("Cache-Control") == "no-store", r


def test_revoke_takes_a_form_only(client, user):
    """RFC 7009 2.1: "application/x-www-form-urlencoded"; JSON is 415."""
    r = client.post("/api/v1/auth/revoke", json_body={"token": user.refresh})
    assert_oauth_error(r, 415, "invalid_request")


def test_revoke_refuses_another_client(client, user):
    """RFC 7009 2.1: the server checks the client the token was issued to."""
    r = client.post("/api/v1/auth/revoke", form={"token": user.refresh,
                                                 "client_id": "someone-else"})
    assert_oauth_error(r, 401, "invalid_client")
    assert client.refresh_raw(user.refresh).status == 200


# ---- RFC 8414 metadata ----------------------------------------------------

def test_authorization_server_metadata(daemon, client, user):
    """RFC 8414 3.2: the metadata names the issuer of the tokens and where
    the endpoints are (from public_url, by default the listen address)."""
    r = client.get("/.well-known/oauth-authorization-server")
    assert r.status == 200, r
    assert r.content_type == W.JSON, r
    m = r.json()
    base = "http://%s:%d" % (daemon.host, daemon.port)
    assert m["issuer"] == W.ISSUER == W.jwt_parts(user.access)[1]["iss"], m
    assert m["token_endpoint"] == base + "/oauth2/token", m
    assert m["revocation_endpoint"] == base + "/oauth2/revoke", m
    assert m["jwks_uri"] == base + "/.well-known/jwks.json", m
    assert m["grant_types_supported"] == ["authorization_code", "refresh_token", "password",
                                          "urn:warden:grant-type:mfa"], m
    assert m["response_types_supported"] == ["code"], m
    assert "none" in m["token_endpoint_auth_methods_supported"], m
    assert client.get("/.well-known/jwks.json").status == 200


# ---- RFC 6750 errors of bearer routes --------------------------------------

def test_missing_role_is_insufficient_scope(client, user):
    """RFC 6750 3.1: insufficient_scope, 403."""
    r = client.get("/api/v1/users", token=user.access)
    assert r.status == 403, r
    assert r.header("WWW-Authenticate") == 'Bearer error="insufficient_scope"', r
    r = client.get("/api/v1/auth/verify?role=admin", token=user.access)
    assert r.status == 403, r
    assert r.header("WWW-Authenticate") == 'Bearer error="insufficient_scope"', r


def test_malformed_id_needs_authentication_first(client, user, admin):
    """RFC 9110 15.5.2 and 15.5.5: a route that needs a token answers 401
    before it says whether the resource exists; with one, 403 or 404."""
    r = client.get("/api/v1/users/not-a-uuid")
    assert r.status == 401, r
    assert r.header("WWW-Authenticate") == "Bearer", r
    r = client.get("/api/v1/users/not-a-uuid", token=user.access)
    assert r.status == 403, r
    r = client.get("/api/v1/users/not-a-uuid", token=admin.access)
    assert r.status == 404, r


def test_patch_takes_merge_patch_json(client, user):
    """RFC 7396 3: a JSON merge patch is application/merge-patch+json."""
    r = client.patch("/api/v1/users/me", body=json.dumps({"full_name": "M. P."}),
                     content_type="application/merge-patch+json", token=user.access)
    assert r.status == 200, r
    assert r.json()["full_name"] == "M. P.", r
    r = client.post("/api/v1/users", body=json.dumps({}),
                    content_type="application/merge-patch+json")
    assert r.status == 415, r


# ---- HTTP -----------------------------------------------------------------

def raw_status(daemon, request):
    with socket.create_connection((daemon.host, daemon.port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


def test_http11_without_host_is_400(daemon):
    """RFC 9112 3.2: "A server MUST respond with a 400 (Bad Request) status
    code to any HTTP/1.1 request message that lacks a Host header field and
    to any that contains more than one Host header field line"."""
    assert raw_status(daemon, b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n") == 400
    assert raw_status(daemon, b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n"
                              b"Connection: close\r\n\r\n") == 400
    assert raw_status(daemon, b"GET /healthz HTTP/1.1\r\nHost: a\r\n"
                              b"Connection: close\r\n\r\n") == 200


def test_options_names_the_methods_without_cors_configured(client):
    """RFC 9110 9.3.7: OPTIONS answers with the resource's methods; with
    no cors_origins, no origin is let in."""
    r = client.request("OPTIONS", "/api/v1/auth/token",
                       headers={"Origin": "https://app.example.test",
                                "Access-Control-Request-Method": "POST"})
    assert r.status == 204, r
    assert r.header("Allow") == "POST, OPTIONS", r
    assert r.header("Access-Control-Allow-Origin") is None, r
