"""CORS as a browser meets it (the Fetch standard, https://fetch.spec.whatwg.org/):
an application on ORIGIN calls warden's API with fetch().  Each test sends
what the browser sends and applies the browser's own checks to the answer:
the CORS-preflight fetch (Fetch 4.8) and the CORS check (Fetch 4.9), in
credentials mode "same-origin" (a bearer token is a header, not a
credential in the Fetch sense, so no Access-Control-Allow-Credentials)."""

from conftest import ORIGIN

OTHER = "https://elsewhere.example.test"
SAFELISTED_METHODS = {"GET", "HEAD", "POST"}


def split_list(value):
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def cors_check(r, origin):
    """Fetch 4.9 CORS check, for credentials mode other than "include":
    Access-Control-Allow-Origin is present, one value, and `*` or the
    serialized origin."""
    acao = r.header_all("Access-Control-Allow-Origin")
    return len(acao) == 1 and acao[0] in ("*", origin)


def preflight_ok(r, origin, method, headers):
    """Fetch 4.8 CORS-preflight fetch, steps after the response: a CORS
    check and an ok status (200-299); the method is in
    Access-Control-Allow-Methods or safelisted; each non-safelisted header
    is in Access-Control-Allow-Headers (compared case-insensitively; `*`
    never covers Authorization)."""
    if not (cors_check(r, origin) and 200 <= r.status <= 299):
        return False
    methods = split_list(r.header("Access-Control-Allow-Methods"))
    if method not in SAFELISTED_METHODS and method not in methods and "*" not in methods:
        return False
    allowed = {h.lower() for h in split_list(r.header("Access-Control-Allow-Headers"))}
    for h in headers:
        h = h.lower()
        if h not in allowed and (h == "authorization" or "*" not in allowed):
            return False
    return True


def vary_has_origin(r):
    vary = []
    for v in r.header_all("Vary"):
        vary += [x.lower() for x in split_list(v)]
    return "origin" in vary or "*" in vary


def preflight(client, path, origin, method, headers):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        # Fetch 4.8 step 3: the sorted, lowercased, comma-separated names.
        h["Access-Control-Request-Headers"] = ",".join(sorted(x.lower() for x in headers))
    return client.request("OPTIONS", path, headers=h)


def test_cors_preflight_token_endpoint(client):
    """Fetch 3.2.2, 3.2.3 and 4.8: a JSON-bodied POST to the token endpoint
    from the allowed origin is preflighted (Content-Type application/json
    is not a CORS-safelisted request-header, 2.2.2); the answer is an ok
    status (204), allows the origin, POST and content-type, says Vary:
    Origin (Fetch 3.2.5: the answer depends on the Origin), and does not
    allow credentials."""
    r = preflight(client, "/api/v1/auth/token", ORIGIN, "POST", ["Content-Type"])
    assert r.status == 204, r
    assert preflight_ok(r, ORIGIN, "POST", ["Content-Type"]), r
    assert r.header("Access-Control-Allow-Origin") == ORIGIN, r
    assert vary_has_origin(r), r
    assert r.header("Access-Control-Allow-Credentials") is None, r


def test_cors_preflight_bearer_route(client):
    """Fetch 4.8: a PATCH of /users/me with Authorization and a JSON body
    passes the preflight: PATCH and both header names are allowed
    (Authorization by name: Fetch 3.2.3, `*` does not cover it)."""
    hdrs = ["Authorization", "Content-Type"]
    r = preflight(client, "/api/v1/users/me", ORIGIN, "PATCH", hdrs)
    assert r.status == 204, r
    assert preflight_ok(r, ORIGIN, "PATCH", hdrs), r
    assert "authorization" in {h.lower() for h in
                               split_list(r.header("Access-Control-Allow-Headers"))}, r
    assert vary_has_origin(r), r
    assert r.header("Access-Control-Allow-Credentials") is None, r


def test_cors_actual_responses(client, user):
    """Fetch 4.9: every answer the application reads passes the CORS check,
    errors included (a failed login's RFC 6749 5.2 body must be readable);
    Fetch 3.2.5: each says Vary: Origin; no Access-Control-Allow-Credentials
    (Fetch 3.2.3, credentials mode is not "include")."""
    o = {"Origin": ORIGIN}
    ok = client.login_raw(user.username, user.password, headers=o)
    bad = client.login_raw(user.username, user.password + "-wrong", headers=o)
    assert ok.status == 200 and bad.status == 400, (ok, bad)
    me = client.get("/api/v1/users/me", token=ok.json()["access_token"], headers=o)
    assert me.status == 200, me
    nobody = client.get("/api/v1/users/me", token="x.y.z", headers=o)
    assert nobody.status == 401, nobody
    for r in (ok, bad, me, nobody):
        assert cors_check(r, ORIGIN), r
        assert r.header("Access-Control-Allow-Origin") == ORIGIN, r
        assert vary_has_origin(r), r
        assert r.header("Access-Control-Allow-Credentials") is None, r


def test_cors_other_origin_refused(client, user):
    """Fetch 4.8 and 4.9: an origin that is not listed in cors_origins gets
    no Access-Control-Allow-Origin, so its preflight fails and its reads
    are network errors in the browser."""
    r = preflight(client, "/api/v1/auth/token", OTHER, "POST", ["Content-Type"])
    assert r.header("Access-Control-Allow-Origin") is None, r
    assert not preflight_ok(r, OTHER, "POST", ["Content-Type"]), r
    a = client.login_raw(user.username, user.password, headers={"Origin": OTHER})
    assert a.status == 200, a
    assert a.header("Access-Control-Allow-Origin") is None, a
    assert not cors_check(a, OTHER), a
