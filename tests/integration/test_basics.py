"""Health, readiness, discovery documents, routing errors and the headers
every response carries."""

import re
import socket
import urllib.parse

import wardenlib as W


def test_healthz_answers_200_ok_as_text(client):
    r = client.get("/healthz")
    assert r.status == 200, r
    assert r.content_type == "text/plain", r
    assert r.body.strip() == b"ok", r


def test_readyz_answers_200_when_database_and_hasher_are_up(client):
    r = client.get("/readyz")
    assert r.status == 200, r


def test_metrics_is_prometheus_text(client):
    client.get("/healthz")
    r = client.get("/metrics")
    assert r.status == 200, r
    assert r.content_type == "text/plain", r
    text = r.body.decode()
    assert "# TYPE " in text, r
    for line in text.splitlines():
        if line and not line.startswith("#"):
            assert re.match(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+( \d+)?$", line), line


def test_jwks_lists_ed25519_and_rsa_signing_keys(jwks):
    assert set(jwks) == {"keys"}, jwks
    assert jwks["keys"], jwks
    kids = set()
    kinds = []
    for k in jwks["keys"]:
        kinds.append(k["kty"])
        if k["kty"] == "OKP":
            assert k["crv"] == "Ed25519" and k["alg"] == "EdDSA", k
            assert W.B64URL_RE.match(k["x"]) and len(W.b64url_decode(k["x"])) == 32, k
        else:
            # RS256 for ID tokens: a 3072-bit modulus, e 65537
            assert k["kty"] == "RSA" and k["alg"] == "RS256", k
            assert W.B64URL_RE.match(k["n"]) and len(W.b64url_decode(k["n"])) == 384, k
            assert k["e"] == "AQAB", k
        assert k["use"] == "sig", k
        assert isinstance(k["kid"], str) and k["kid"], k
        for private in ("d", "p", "q", "dp", "dq", "qi"):
            assert private not in k, "a private key in the JWKS: %r" % k
        kids.add(k["kid"])
    assert len(kids) == len(jwks["keys"])
    # the OKP keys first, then the RSA ones, one of each at least
    assert kinds == sorted(kinds, key=lambda t: t != "OKP"), kinds
    assert "OKP" in kinds and "RSA" in kinds, kinds


def test_jwks_response_is_json_with_standard_headers(client):
    r = client.get("/.well-known/jwks.json")
    assert r.status == 200 and r.content_type in (W.JSON, "application/jwk-set+json"), r
    assert r.header("X-Content-Type-Options") == "nosniff", r


API_ROUTES = {
    "/api/v1/users": {"post", "get"},
    "/api/v1/auth/token": {"post"},
    "/api/v1/auth/revoke": {"post"},
    "/api/v1/auth/logout": {"post"},
    "/api/v1/auth/verify": {"get"},
    "/api/v1/users/me": {"get", "patch", "delete"},
    "/api/v1/users/me/password": {"post"},
    "/api/v1/users/{}": {"get", "patch", "delete"},
    "/.well-known/jwks.json": {"get"},
    "/openapi.json": {"get"},
    "/healthz": {"get"},
    "/readyz": {"get"},
    "/metrics": {"get"},
}


def test_openapi_is_3_1_and_documents_every_route(client):
    r = client.get("/openapi.json")
    assert r.status == 200 and r.content_type == W.JSON, r
    doc = r.json()
    assert isinstance(doc.get("openapi"), str) and doc["openapi"].startswith("3.1"), doc.get("openapi")
    assert isinstance(doc.get("info"), dict), "openapi lacks info"
    paths = doc.get("paths")
    assert isinstance(paths, dict) and paths
    base = ""
    servers = doc.get("servers") or []
    if servers and isinstance(servers[0], dict):
        base = urllib.parse.urlsplit(servers[0].get("url") or "").path.rstrip("/")
    seen = {}
    for p, ops in paths.items():
        norm = re.sub(r"\{[^}]*\}", "{}", p)
        for cand in (norm, base + norm):
            seen.setdefault(cand, set()).update(k.lower() for k in ops)
    for path, methods in API_ROUTES.items():
        assert path in seen, "openapi.json lacks %s" % path
        assert methods <= seen[path], "openapi.json %s lacks %s" % (path, methods - seen[path])


def test_unknown_path_is_404_problem(client):
    W.assert_problem(client.get("/api/v1/nothing-here"), 404, "not-found")
    W.assert_problem(client.get("/api/v2/users"), 404, "not-found")


def test_wrong_method_is_405_with_allow(client):
    cases = [
        ("PUT", "/api/v1/users/me", {"GET", "PATCH", "DELETE"}),
        ("DELETE", "/healthz", {"GET"}),
        ("GET", "/api/v1/auth/token", {"POST"}),
        ("PUT", "/api/v1/users", {"GET", "POST"}),
    ]
    for method, path, want in cases:
        r = client.request(method, path)
        assert r.status == 405, r
        assert r.content_type == W.PROBLEM, r
        allow = {m.strip().upper() for m in (r.header("Allow") or "").split(",") if m.strip()}
        assert want <= allow, "%s %s: Allow %r, want %r" % (method, path, allow, want)


def test_sane_client_request_id_is_echoed(client):
    rid = "it-Req.1_" + W.uniq("")
    r = client.get("/healthz", headers={"X-Request-Id": rid})
    assert r.header("X-Request-Id") == rid, r
    r = client.get("/api/v1/nope", headers={"X-Request-Id": rid})
    assert r.header("X-Request-Id") == rid, r


def test_insane_client_request_id_is_replaced(client):
    for bad in ("has space", "x" * 65, "semi;colon", "<script>", "\u00e9t\u00e9".encode().decode("latin-1")):
        r = client.get("/healthz", headers={"X-Request-Id": bad})
        rid = r.header("X-Request-Id")
        assert rid and rid != bad, (bad, r)
        assert W.REQID_RE.match(rid), (bad, rid)


def test_generated_request_ids_are_sane_and_distinct(client):
    ids = {client.get("/healthz").header("X-Request-Id") for _ in range(5)}
    assert len(ids) == 5, ids
    for rid in ids:
        assert rid and W.REQID_RE.match(rid), rid


def test_every_response_has_nosniff_and_request_id(client):
    for path in ("/healthz", "/readyz", "/openapi.json", "/.well-known/jwks.json",
                 "/api/v1/users/me", "/api/v1/nope"):
        r = client.get(path)
        assert r.header("X-Content-Type-Options") == "nosniff", r
        assert r.header("X-Request-Id"), r


def test_head_is_served_for_get_routes(client):
    r = client.request("HEAD", "/healthz")
    assert r.status == 200 and r.body == b"", r


def test_oversized_headers_are_refused_and_the_daemon_keeps_serving(daemon, client):
    s = socket.create_connection((daemon.host, daemon.port), timeout=10)
    try:
        req = (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 +
               b"\r\nConnection: close\r\n\r\n")
        try:
            s.sendall(req)
            data = s.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
    finally:
        s.close()
    assert data == b"" or data.startswith(b"HTTP/1.1 431") or data.startswith(b"HTTP/1.0 431") \
        or b" 400 " in data.split(b"\r\n")[0], data[:200]
    assert client.get("/healthz").status == 200
