"""Property-based test of the live wardend against its own OpenAPI document
(GET /openapi.json), in the manner of schemathesis: every operation of the
document is walked; valid inputs are generated from its request schemas
(a small JSON Schema -> hypothesis strategy builder, below) and invalid
ones by breaking them (wrong types, missing required members, unknown
members, over-long strings, bad query parameters, undocumented content
types, no or bad credentials); each request is sent, one at a time, and
its answer must be one the operation documents: the status, the content
type, the body against the schema of that status and content type, and
the documented headers.

Each property collects every distinct disagreement it meets before it
fails, so that one run shows them all; a disagreement names the request
and the answer.  Shrinking is off (the server is live and each example
costs requests), examples are derandomized, so a run is repeatable.

Operations that end the caller (logout, password change, DELETE
/users/me) run on throwaway users; admin writes only touch users made for
them, never the admin itself."""

import base64
import copy
import email
import email.policy
import glob
import hashlib
import hmac
import json
import os
import re
import socket
import struct
import time
import urllib.parse
import uuid

import pytest

# Imported, never importorskip'ed: a missing package fails the module.
import hypothesis  # noqa: E402
import hypothesis.configuration  # noqa: E402
import jsonschema  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import wardenlib as W  # noqa: E402  (conftest.py puts it on the path)

# Hypothesis keeps a cache (its Unicode tables) in a .hypothesis folder of
# the working directory, the work tree: build/ is where such things go.
hypothesis.configuration.set_hypothesis_home_dir(
    os.path.join(W.repo_top(), "build", "hypothesis"))

from conftest import CLIENT_ID  # noqa: E402

# Examples per property.  Each example is a request or two (plus a
# registration and a login for the operations that need a throwaway user).
VALID_EXAMPLES = 30
INVALID_EXAMPLES = 45

SETTINGS = settings(max_examples=VALID_EXAMPLES, deadline=None, derandomize=True,
                    database=None, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck), print_blob=False)

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# How each operation of the document is driven: who calls it, and whether
# it ends its caller or its target.  An operation of the document that is
# missing here fails test_every_operation_is_driven: decide these for it.
#   auth: "none", "bearer" (a user's access token), "admin",
#         "client_bearer" (an access token of a registered OpenID client)
#   caller: "shared" (one user for the module: nothing here ends it) or
#           "throwaway" (a fresh user per example)
#   target: for /users/{id}: "shared" (read-only: the module's user) or
#           "victim" (a user made for admin writes) or "fresh" (one per example)
#           or "fresh_mfa" (one per example, with a pending TOTP enrolment)
#   target: for /users/me/sessions/{id}: "own_session" (one of the caller's)
#   target: for /users/me/identities/{id}: "own_identity" (one linked to the
#           caller, written into the database: a link takes a provider)
#   target: for /users/{id}/identities/{identity}: "fresh_identity" (a user
#           made with a password and one identity)
DRIVERS = {
    "register": dict(auth="none"),
    "listUsers": dict(auth="admin"),
    "token": dict(auth="none"),
    "revoke": dict(auth="none"),
    "logout": dict(auth="bearer", caller="throwaway"),
    "verify": dict(auth="bearer", caller="shared"),
    "getMe": dict(auth="bearer", caller="shared"),
    "patchMe": dict(auth="bearer", caller="shared"),
    "deleteMe": dict(auth="bearer", caller="throwaway"),
    "changePassword": dict(auth="bearer", caller="throwaway"),
    "verifyEmail": dict(auth="none"),
    "forgotPassword": dict(auth="none"),
    "resetPassword": dict(auth="none"),
    "resendVerification": dict(auth="bearer", caller="throwaway"),
    "enrolTotp": dict(auth="bearer", caller="throwaway"),
    "confirmTotp": dict(auth="bearer", caller="throwaway"),
    "deleteTotp": dict(auth="bearer", caller="throwaway"),
    "renewRecoveryCodes": dict(auth="bearer", caller="throwaway"),
    "listSessions": dict(auth="bearer", caller="shared"),
    "deleteSession": dict(auth="bearer", caller="throwaway", target="own_session"),
    "deleteUserMfa": dict(auth="admin", target="fresh_mfa"),
    # identities at upstream providers: none is linked here (a link takes a
    # sign-in at a provider), so a delete is a 404 or a 409 and a list empty
    "listIdentities": dict(auth="bearer", caller="shared"),
    "deleteIdentity": dict(auth="bearer", caller="throwaway", target="own_identity"),
    "listUserIdentities": dict(auth="admin", target="shared"),
    "deleteUserIdentity": dict(auth="admin", target="fresh_identity"),
    "getUser": dict(auth="admin", target="shared"),
    "patchUser": dict(auth="admin", target="victim"),
    "deleteUser": dict(auth="admin", target="fresh"),
    "jwks": dict(auth="none"),
    "authorizationServerMetadata": dict(auth="none"),
    "openidConfiguration": dict(auth="none"),
    "openapi": dict(auth="none"),
    "healthz": dict(auth="none"),
    "readyz": dict(auth="none"),
    "metrics": dict(auth="none"),
    # The OpenID Connect provider's: driven without a registered client,
    # so their refusals (invalid_client, invalid_token) are what is checked
    # against the document; tests/integration/test_oidc_token.py drives
    # their successes with clients and codes of its own.
    "oauth2Token": dict(auth="none"),
    "userinfo": dict(auth="client_bearer"),
    "userinfoPost": dict(auth="client_bearer"),
    "introspect": dict(auth="none"),
    "oauth2Revoke": dict(auth="none"),
}

# Members whose rules go beyond what JSON Schema can say (the blocklist of
# common passwords, "not the username or the e-mail", a length in bytes):
# a schema-valid request may be refused with a 422 naming only these.
# A TOTP or recovery code is right or wrong by the authenticator, not by its shape.
RULES_BEYOND_SCHEMA = {"password", "new_password", "code"}

REQID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


# ---------------------------------------------------------------------------
# The document

class Doc:
    def __init__(self, spec):
        self.spec = spec
        self.resolver = jsonschema.RefResolver("", spec)
        self.ops = {}
        for path, item in spec["paths"].items():
            for m in METHODS:
                if m in item:
                    op = item[m]
                    params = [self.deref(p) for p in item.get("parameters", [])]
                    params += [self.deref(p) for p in op.get("parameters", [])]
                    self.ops[op["operationId"]] = Op(self, path, m.upper(), op, params)

    def deref(self, node):
        while isinstance(node, dict) and "$ref" in node:
            _, node = self.resolver.resolve(node["$ref"])
        return node

    def schema(self, s):
        """A schema with its $refs resolved at the top (for inspection)."""
        return self.deref(s)

    def validator(self, schema):
        return jsonschema.Draft202012Validator(
            schema, resolver=self.resolver,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    def errors(self, schema, value):
        return ["%s at %s" % (e.message[:200], "/".join(map(str, e.absolute_path)) or "/")
                for e in self.validator(schema).iter_errors(value)]


class Op:
    def __init__(self, doc, path, method, op, params):
        self.doc = doc
        self.path = path
        self.method = method
        self.op = op
        self.id = op["operationId"]
        self.params = params
        self.responses = {k: doc.deref(v) for k, v in op.get("responses", {}).items()}
        rb = doc.deref(op.get("requestBody")) if op.get("requestBody") else None
        self.body_required = bool(rb and rb.get("required"))
        self.media = dict(rb["content"]) if rb else {}
        sec = op.get("security", doc.spec.get("security", []))
        self.security = sec

    def __repr__(self):
        return "%s %s (%s)" % (self.method, self.path, self.id)

    def response_for(self, status):
        for key in (str(status), "%dXX" % (status // 100), "default"):
            if key in self.responses:
                return key, self.responses[key]
        return None, None


# ---------------------------------------------------------------------------
# JSON Schema -> hypothesis strategies (the subset the document uses)

# No lone surrogates (not UTF-8) and no NUL (refused everywhere: see
# info.description; broken_body sends it on purpose).
SAFE_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


def _merge_all_of(doc, schema):
    out = {}
    for part in schema["allOf"]:
        part = doc.deref(part)
        if "allOf" in part:
            part = _merge_all_of(doc, part)
        for k, v in part.items():
            if k == "properties":
                out.setdefault("properties", {}).update(v)
            elif k == "required":
                out["required"] = sorted(set(out.get("required", [])) | set(v))
            else:
                out[k] = v
    for k, v in schema.items():
        if k != "allOf":
            out[k] = v
    return out


def from_schema(doc, schema, max_string=64):
    """A strategy of values valid against schema.  Strings are kept short
    unless the schema asks for more (max_string), so examples stay cheap."""
    schema = doc.deref(schema)
    if schema is True or schema == {}:
        return st.one_of(st.none(), st.booleans(), st.integers(), st.text(SAFE_CHARS, max_size=8))
    if "allOf" in schema:
        return from_schema(doc, _merge_all_of(doc, schema), max_string)
    if "oneOf" in schema or "anyOf" in schema:
        branches = schema.get("oneOf") or schema.get("anyOf")
        return st.one_of([from_schema(doc, b, max_string) for b in branches])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    t = schema.get("type")
    if isinstance(t, list):
        return st.one_of([from_schema(doc, dict(schema, type=one), max_string) for one in t])
    if t == "null":
        return st.none()
    if t == "boolean":
        return st.booleans()
    if t == "integer":
        return st.integers(min_value=schema.get("minimum"), max_value=schema.get("maximum"))
    if t == "string":
        return _string(schema, max_string)
    if t == "array":
        items = from_schema(doc, schema.get("items", {}), max_string)
        lo = schema.get("minItems", 0)
        hi = min(schema.get("maxItems", lo + 4), lo + 4)
        if schema.get("uniqueItems"):
            return st.lists(items, min_size=lo, max_size=hi, unique_by=json.dumps)
        return st.lists(items, min_size=lo, max_size=hi)
    if t == "object" or "properties" in schema:
        return _object(doc, schema, max_string)
    raise AssertionError("from_schema: no strategy for %r" % (schema,))


def _utf8(s):
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _string(schema, max_string):
    lo = schema.get("minLength", 0)
    hi = schema.get("maxLength")
    cap = max(lo, max_string) if hi is None else min(hi, max(lo, max_string))
    if "pattern" in schema:
        s = st.from_regex(schema["pattern"], fullmatch=True)
        return s.filter(lambda v: lo <= len(v) <= (hi if hi is not None else 1 << 30)
                        and _utf8(v) and "\x00" not in v)
    if schema.get("format") == "uuid":
        return st.uuids().map(str)
    return st.text(SAFE_CHARS, min_size=lo, max_size=cap)


@st.composite
def _object_draw(draw, doc, schema, max_string):
    props = schema.get("properties", {})
    required = schema.get("required", [])
    out = {}
    for name in sorted(props):
        if name in required or draw(st.booleans()):
            out[name] = draw(from_schema(doc, props[name], max_string))
    mp = schema.get("minProperties", 0)
    optional = [n for n in sorted(props) if n not in out]
    while len(out) < mp and optional:
        name = draw(st.sampled_from(optional))
        optional.remove(name)
        out[name] = draw(from_schema(doc, props[name], max_string))
    return out


def _object(doc, schema, max_string):
    return _object_draw(doc, schema, max_string)


# ---------------------------------------------------------------------------
# Requests and their checks

class Sent:
    def __init__(self, method, path, headers, body, note):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.note = note

    def __repr__(self):
        h = {k: (v[:20] + "..." if k == "Authorization" else v) for k, v in self.headers.items()}
        b = self.body[:300] if self.body is not None else None
        return "%s %s %r body=%r [%s]" % (self.method, self.path, h, b, self.note)


def send(client, method, path, headers=None, body=None, note=""):
    s = Sent(method, path, dict(headers or {}), body, note)
    r = client.request(method, path, body=body, headers=s.headers)
    return s, r


def short(r):
    return "%d %s %r %r" % (r.status, r.header("Content-Type"),
                            {k: v for k, v in r.headers.items()
                             if k.lower() in ("www-authenticate", "allow", "cache-control",
                                              "retry-after", "location", "pragma")},
                            r.body[:300])


def media_matches(documented, got):
    """documented ("text/plain; version=0.0.4") matches the response's
    Content-Type: the same type/subtype, and the documented parameters."""
    def split(v):
        parts = [p.strip() for p in v.split(";")]
        params = {}
        for p in parts[1:]:
            if "=" in p:
                k, _, val = p.partition("=")
                params[k.strip().lower()] = val.strip().strip('"')
        return parts[0].lower(), params
    dt, dp = split(documented)
    gt, gp = split(got)
    return dt == gt and all(gp.get(k) == v for k, v in dp.items())


def check_response(doc, op, sent, r):
    """Every way r disagrees with what op documents: a list of
    (signature, message)."""
    out = []

    def bad(sig, msg):
        out.append(((op.id, r.status) + sig, "%s\n    request: %r\n    answer:  %s"
                    % (msg, sent, short(r))))

    # API.md: on every response.
    rid = r.header("X-Request-Id")
    if not rid or not REQID_RE.match(rid):
        bad(("x-request-id",), "X-Request-Id missing or malformed: %r" % rid)
    sent_rid = sent.headers.get("X-Request-Id")
    if sent_rid is not None and REQID_RE.match(sent_rid) and rid != sent_rid:
        bad(("x-request-id-echo",), "a sane X-Request-Id was not echoed")
    if sent_rid is not None and not REQID_RE.match(sent_rid) and rid == sent_rid:
        bad(("x-request-id-insane",), "an insane X-Request-Id was echoed")
    if r.header("X-Content-Type-Options") != "nosniff":
        bad(("nosniff",), "X-Content-Type-Options: nosniff missing")

    key, resp = op.response_for(r.status)
    if resp is None:
        bad(("undocumented-status",), "status %d is not documented (documented: %s)"
            % (r.status, ", ".join(sorted(op.responses))))
        return out

    for name, h in (resp.get("headers") or {}).items():
        h = doc.deref(h)
        v = r.header(name)
        if v is None:
            if h.get("required"):
                bad(("header-missing", name), "documented header %s missing" % name)
            continue
        hs = doc.schema(h.get("schema", {}))
        val = v
        if hs.get("type") == "integer":
            try:
                val = int(v)
            except ValueError:
                pass
        errs = doc.errors(h.get("schema", {}), val)
        if errs:
            bad(("header-schema", name), "header %s: %r breaks its schema: %s"
                % (name, v, "; ".join(errs)))

    content = resp.get("content") or {}
    ctype = r.header("Content-Type")
    if not content:
        if r.body:
            bad(("unexpected-body",), "status %s documents no body, got %d bytes (%s)"
                % (key, len(r.body), ctype))
        return out
    if not ctype:
        bad(("no-content-type",), "no Content-Type; documented: %s" % ", ".join(content))
        return out
    mt = next((k for k in content if media_matches(k, ctype)), None)
    if mt is None:
        bad(("content-type", ctype.split(";")[0]),
            "Content-Type %r is not documented for %s (documented: %s)"
            % (ctype, key, ", ".join(content)))
        return out
    schema = content[mt].get("schema")
    if schema is None:
        return out
    base = mt.split(";")[0].strip().lower()
    if base == "application/json" or base.endswith("+json"):
        try:
            value = json.loads(r.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            bad(("not-json",), "the body is not JSON: %s" % e)
            return out
    else:
        try:
            value = r.body.decode("utf-8")
        except UnicodeDecodeError:
            bad(("not-utf8",), "the body is not UTF-8")
            return out
    errs = doc.errors(schema, value)
    if errs:
        bad(("body-schema",) + tuple(sorted(set(e.split(" at ")[-1] for e in errs))),
            "the body breaks the schema of %s %s: %s" % (key, mt, "; ".join(errs[:5])))
    return out


class Collector:
    """Distinct disagreements met by one property, the first example of each."""

    def __init__(self):
        self.found = {}
        self.count = 0

    def add(self, items):
        for sig, msg in items:
            self.count += 1
            self.found.setdefault(sig, msg)

    def assert_empty(self, what):
        assert not self.found, "%s: %d distinct disagreements (%d in all):\n  %s" % (
            what, len(self.found), self.count, "\n  ".join(self.found.values()))


# ---------------------------------------------------------------------------
# Fixtures: the document and the people who call it

@pytest.fixture(scope="module")
def doc(client):
    r = client.get("/openapi.json")
    assert r.status == 200, r
    return Doc(r.json())


class Ctx:
    def __init__(self, client, admin, daemon):
        self.c = client
        self.admin = admin
        self.daemon = daemon
        self.mail_dir = daemon.mail_dir
        self._shared = None
        self._victim = None
        self._login = None
        self._oidc = None

    # A registered OpenID client, and codes and tokens of it: what the
    # /oauth2 operations need to succeed.
    OIDC_REDIRECT = "https://app.example.com/cb"

    def oidc(self):
        """The confidential client: {client_id, client_secret}."""
        if self._oidc is None:
            out = self.daemon.wardenctl(
                "client", "add", W.uniq("oap"), "--redirect-uri", self.OIDC_REDIRECT,
                "--scope", "openid profile email roles offline_access", "--json")
            assert out.returncode == 0, out.stderr
            self._oidc = json.loads(out.stdout)
            W.SECRETS.add_issued(self._oidc["client_secret"], -1)
        return self._oidc

    def oidc_basic(self):
        o = self.oidc()
        raw = "%s:%s" % (urllib.parse.quote_plus(o["client_id"]),
                         urllib.parse.quote_plus(o["client_secret"]))
        return "Basic " + base64.b64encode(raw.encode()).decode()

    def oidc_code(self):
        """A fresh code of a fresh user for the client: (code, verifier),
        made in the database as /oauth2/authorize would (the code's hash)."""
        u = self.c.new_user("oao", login=False)
        code = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
        verifier = base64.urlsafe_b64encode(os.urandom(48)).rstrip(b"=").decode()
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        W.psql("INSERT INTO oauth_codes (code_hash, client_id, user_id, token_version,"
               " redirect_uri, scopes, code_challenge, auth_time, expires_at)"
               " SELECT '\\x%s'::bytea, '%s', id, token_version, '%s',"
               " '{openid,profile,email,offline_access}', '%s', now(),"
               " now() + interval '60 seconds' FROM users WHERE id = '%s'"
               % (hashlib.sha256(code.encode()).hexdigest(), self.oidc()["client_id"],
                  self.OIDC_REDIRECT, challenge, u.id))
        W.SECRETS.add_issued(code, -1)
        return code, verifier

    def oidc_tokens(self):
        """An exchange's answer: access_token, refresh_token, id_token."""
        code, verifier = self.oidc_code()
        r = self.c.request("POST", "/oauth2/token",
                           form={"grant_type": "authorization_code", "code": code,
                                 "redirect_uri": self.OIDC_REDIRECT,
                                 "code_verifier": verifier},
                           headers={"Authorization": self.oidc_basic()})
        assert r.status == 200, short(r)
        return r.json()

    def shared(self):
        if self._shared is None:
            self._shared = self.c.new_user("oas")
        return self._shared

    def login_user(self):
        """Whose real credentials the token endpoint gets: not the shared
        user, whose failed logins (an over-long password with its real
        username) would lock it."""
        if self._login is None:
            self._login = self.c.new_user("oal", login=False)
        return self._login

    def throwaway(self):
        return self.c.new_user("oat")

    def victim(self):
        if self._victim is None:
            self._victim = self.c.new_user("oav", login=False)
        return self._victim


@pytest.fixture(scope="module")
def ctx(client, admin, daemon):
    return Ctx(client, admin, daemon)


def test_served_document_is_the_trees(doc):
    """/openapi.json is daemon/api/openapi.json as built: a stale wardend
    would make every other test here judge the wrong document."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "daemon", "api", "openapi.json")) as f:
        tree = json.load(f)
    assert doc.spec == tree, "wardend serves another document than daemon/api/openapi.json: rebuild"


def test_every_operation_is_driven(doc):
    """Every operation of the served document is walked below, and every
    driver names an operation of the document."""
    missing = sorted(set(doc.ops) - set(DRIVERS))
    stale = sorted(set(DRIVERS) - set(doc.ops))
    assert not missing, "operations of /openapi.json that this test does not drive: %s" % missing
    assert not stale, "drivers of operations that /openapi.json lacks: %s" % stale


def op_of(doc, op_id):
    if op_id not in doc.ops:
        pytest.fail("/openapi.json has no operation %s" % op_id, pytrace=False)
    return doc.ops[op_id]


# ---------------------------------------------------------------------------
# Building one request

def linked_identity(user_id):
    """The id of a new identity linked to user_id, written straight into
    the database (a real link takes a sign-in at a provider)."""
    return W.psql("INSERT INTO identities (user_id, provider, subject)"
                  " VALUES ('%s', 'props', '%s') RETURNING id"
                  % (user_id, uuid.uuid4()))[0]


def bearer_for(ctx, driver, caller):
    if driver["auth"] == "admin":
        return ctx.admin.access
    if driver["auth"] == "bearer":
        return caller.access
    if driver["auth"] == "client_bearer":
        return ctx.oidc_tokens()["access_token"]
    return None


def encode_body(media, value):
    base = media.split(";")[0].strip().lower()
    if base == "application/x-www-form-urlencoded":
        return urllib.parse.urlencode(value).encode()
    return json.dumps(value).encode()


def form_able(value):
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


@st.composite
def valid_request(draw, doc, op, ctx):
    """(method, path, headers, body, note, body_value) of a schema-valid
    request with real credentials, and what was fixed up to make it
    meaningful (a real password, a real refresh token, a real id)."""
    drv = DRIVERS[op.id]
    caller = None
    if drv.get("caller") == "shared":
        caller = ctx.shared()
    elif drv.get("caller") == "throwaway":
        caller = ctx.throwaway()
    headers = {}
    token = bearer_for(ctx, drv, caller)
    if token:
        headers["Authorization"] = "Bearer " + token
    note = []

    path = op.path
    query = {}
    fresh_identity = None
    for p in op.params:
        if p["in"] == "path":
            if drv.get("target") == "shared":
                v = draw(st.sampled_from([ctx.shared().id, None]))
            elif drv.get("target") == "victim":
                v = draw(st.sampled_from([ctx.victim().id, None]))
            elif drv.get("target") == "fresh":
                v = draw(st.sampled_from(["fresh", None]))
                if v == "fresh":
                    v = ctx.c.new_user("oaf", login=False).id
            elif drv.get("target") == "fresh_mfa":
                v = draw(st.sampled_from(["fresh", None]))
                if v == "fresh":
                    f = ctx.c.new_user("oam")
                    enrol_totp(ctx, f)
                    v = f.id
            elif drv.get("target") == "own_identity":
                v = draw(st.sampled_from(["own", None]))
                if v == "own":
                    v = linked_identity(caller.id)
            elif drv.get("target") == "fresh_identity":
                v = draw(st.sampled_from(["fresh", None])) if p["name"] == "id" else None
                if v == "fresh":
                    f = ctx.c.new_user("oai", login=False)
                    v = f.id
                    fresh_identity = linked_identity(f.id)
                elif p["name"] == "identity" and fresh_identity is not None:
                    v = fresh_identity
            elif drv.get("target") == "own_session":
                v = draw(st.sampled_from(["own", None]))
                if v == "own":
                    r = ctx.c.request("GET", "/api/v1/users/me/sessions",
                                      token=caller.access)
                    v = r.json()["items"][0]["id"]
            else:
                v = None
            if v is None:
                v = draw(from_schema(doc, p["schema"]))
                note.append("random %s" % p["name"])
            path = path.replace("{%s}" % p["name"], urllib.parse.quote(str(v), safe=""))
        elif p["in"] == "query":
            if p.get("required") or draw(st.booleans()):
                query[p["name"]] = draw(from_schema(doc, p["schema"]))
        elif p["in"] == "header" and p["name"] == "X-Request-Id":
            how = draw(st.sampled_from(["none", "sane", "insane"]))
            if how == "sane":
                headers["X-Request-Id"] = draw(st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True))
            elif how == "insane":
                headers["X-Request-Id"] = draw(st.sampled_from(["a" * 65, "a b", "a/b", "<x>", "ä"]))
    if query:
        path += "?" + urllib.parse.urlencode(query)

    body = None
    value = None
    if op.media:
        media = draw(st.sampled_from(sorted(op.media)))
        value = draw(from_schema(doc, op.media[media]["schema"]))
        value = draw(fixups(doc, op, ctx, caller, value, note, headers))
        if not form_able(value) and "form" in media:
            media = "application/json"
        body = encode_body(media, value)
        headers["Content-Type"] = media
    return op.method, path, headers, body, "; ".join(note), value


def enrol_totp(ctx, u):
    """Starts u's TOTP enrolment; its secret."""
    r = ctx.c.request("POST", "/api/v1/users/me/mfa/totp",
                      body=json.dumps({"password": u.password}).encode(),
                      headers={"Authorization": "Bearer " + u.access,
                               "Content-Type": "application/json"})
    assert r.status == 200, short(r)
    return r.json()["secret"]


def totp_now(secret):
    """RFC 6238: the code of now (SHA-1, 6 digits, 30 s)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7fffffff) % 1000000)


def confirm_totp(ctx, u):
    """Enrols and confirms u's TOTP factor."""
    secret = enrol_totp(ctx, u)
    r = ctx.c.request("POST", "/api/v1/users/me/mfa/totp/confirm",
                      body=json.dumps({"code": totp_now(secret)}).encode(),
                      headers={"Authorization": "Bearer " + u.access,
                               "Content-Type": "application/json"})
    assert r.status == 200, short(r)


def mailed_token(ctx, address, page, timeout=10.0):
    """The token of the newest link to /ui/<page> mailed to address (the
    daemon's mail_transport is a folder: conftest.py)."""
    want = re.compile(r"/ui/%s\?token=([A-Za-z0-9_-]{43})" % re.escape(page))
    deadline = time.monotonic() + timeout
    while True:
        found = None
        for path in sorted(glob.glob(os.path.join(ctx.mail_dir, "**", "*.eml"), recursive=True),
                           key=os.path.getmtime):
            with open(path, "rb") as f:
                m = email.message_from_binary_file(f, policy=email.policy.default)
            if address.lower() not in str(m.get("To", "")).lower():
                continue
            for part in m.walk():
                if part.get_content_maintype() == "text":
                    hit = want.search(part.get_content())
                    if hit:
                        found = hit.group(1)
        if found or time.monotonic() > deadline:
            assert found, "no /ui/%s link mailed to %s in %s" % (page, address, ctx.mail_dir)
            return found
        time.sleep(0.2)


@st.composite
def fixups(draw, doc, op, ctx, caller, value, note, headers):
    """Makes a generated body meaningful for the operation, some of the
    time: a caller's real password, a real refresh token, the client id."""
    value = copy.deepcopy(value)
    real = draw(st.booleans())
    if op.id in ("deleteMe",) and real:
        value["password"] = caller.password
        note.append("real password")
    elif op.id == "changePassword" and real:
        value["current_password"] = caller.password
        note.append("real current_password")
    elif op.id == "token":
        if real and value.get("grant_type") == "password":
            u = ctx.login_user()
            value["username"] = draw(st.sampled_from([u.username, u.email, u.username.upper()]))
            value["password"] = u.password
            note.append("real credentials")
        elif real and value.get("grant_type") == "refresh_token":
            u = ctx.c.new_user("oar")
            value["refresh_token"] = u.refresh
            note.append("real refresh token")
        how = draw(st.sampled_from(["as generated", "no client", "client_id", "basic"]))
        if how != "as generated":
            value.pop("client_id", None)
            value.pop("client_secret", None)
        if how == "client_id":
            value["client_id"] = CLIENT_ID
        elif how == "basic":
            secret = draw(st.sampled_from(["", "ignored"]))
            headers["Authorization"] = "Basic " + base64.b64encode(
                ("%s:%s" % (CLIENT_ID, secret)).encode()).decode()
        note.append("client: " + how)
    elif op.id == "oauth2Token" and real and value.get("grant_type") in (
            "authorization_code", "refresh_token"):
        for k in ("client_id", "client_secret", "code", "code_verifier", "redirect_uri",
                  "refresh_token"):
            value.pop(k, None)
        if value["grant_type"] == "authorization_code":
            value["code"], value["code_verifier"] = ctx.oidc_code()
            value["redirect_uri"] = ctx.OIDC_REDIRECT
            note.append("a real code")
        else:
            value["refresh_token"] = ctx.oidc_tokens()["refresh_token"]
            note.append("a client's real refresh token")
        value.pop("scope", None)
        headers["Authorization"] = ctx.oidc_basic()
    elif op.id in ("introspect", "oauth2Revoke") and real:
        value.pop("client_id", None)
        value.pop("client_secret", None)
        t = ctx.oidc_tokens()
        value["token"] = t[draw(st.sampled_from(["access_token", "refresh_token"]))]
        headers["Authorization"] = ctx.oidc_basic()
        note.append("the client's real token")
    elif op.id == "revoke" and real:
        u = ctx.c.new_user("oar")
        value["token"] = u.refresh
        note.append("real refresh token")
    elif op.id == "verifyEmail" and real:
        u = ctx.c.new_user("oae", login=False)
        value["token"] = mailed_token(ctx, u.email, "verify-email")
        note.append("real verification token")
    elif op.id == "forgotPassword" and real:
        value["email"] = ctx.c.new_user("oaw", login=False).email
        note.append("a real address")
    elif op.id == "resetPassword" and real:
        u = ctx.c.new_user("oaw", login=False)
        r = ctx.c.request("POST", "/api/v1/auth/password/forgot",
                          body=json.dumps({"email": u.email}).encode(),
                          headers={"Content-Type": "application/json"})
        assert r.status == 202, short(r)
        value["token"] = mailed_token(ctx, u.email, "reset-password")
        note.append("real reset token")
    elif op.id in ("enrolTotp", "renewRecoveryCodes") and real:
        if op.id == "renewRecoveryCodes":
            confirm_totp(ctx, caller)
            note.append("an active factor")
        value["password"] = caller.password
        note.append("real password")
    elif op.id == "confirmTotp" and real:
        value["code"] = totp_now(enrol_totp(ctx, caller))
        note.append("a pending enrolment, a real code")
    elif op.id == "deleteTotp" and real:
        enrol_totp(ctx, caller)
        value["password"] = caller.password
        note.append("a pending enrolment, real password")
    return value


def rejected_valid(op, r, sent_value, path):
    """A schema-valid request refused in a way the document cannot explain
    (415 for a documented media type, a 400/422 the schema should have
    ruled out).  Returns a message or None."""
    if r.status == 415:
        return "415 for a documented request media type"
    try:
        body = r.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if r.status == 422 and isinstance(body, dict):
        fields = {e.get("field") for e in body.get("errors", []) if isinstance(e, dict)}
        if not fields <= RULES_BEYOND_SCHEMA:
            return "422 for a schema-valid request on %s" % sorted(fields - RULES_BEYOND_SCHEMA)
    if r.status == 400 and isinstance(body, dict):
        if body.get("error") in ("invalid_grant",):
            return None          # wrong credentials: the schema cannot know
        if body.get("type") == "urn:warden:problem:invalid-token":
            return None          # a made-up one-time token: likewise
        if "after=" in path and body.get("type") == "urn:warden:problem:malformed-request":
            return None          # a made-up cursor
        return "400 for a schema-valid request: %s" % (body.get("error_description")
                                                         or body.get("detail"))
    return None


OP_IDS = sorted(DRIVERS)


@pytest.mark.parametrize("op_id", OP_IDS)
def test_valid_inputs(doc, ctx, client, op_id):
    """Schema-valid requests with real credentials get documented answers,
    and are not refused for what the schema allows."""
    op = op_of(doc, op_id)
    found = Collector()
    statuses = {}

    @SETTINGS
    @given(data=st.data())
    def prop(data):
        method, path, headers, body, note, value = data.draw(valid_request(doc, op, ctx))
        sent, r = send(client, method, path, headers, body, note)
        statuses[r.status] = statuses.get(r.status, 0) + 1
        found.add(check_response(doc, op, sent, r))
        why = rejected_valid(op, r, value, path)
        if why:
            found.add([((op.id, r.status, "rejected-valid", why[-60:]),
                        "%s\n    request: %r\n    answer:  %s" % (why, sent, short(r)))])

    prop()
    found.assert_empty("%r, valid inputs" % op)
    # The happy path was walked too, not only refusals.
    assert any(200 <= k < 300 for k in statuses), (
        "%r: no valid example succeeded; answers by status: %r" % (op, statuses))


# ---------------------------------------------------------------------------
# Invalid inputs

WRONG_TYPED = {
    "string": [123, True, [], {}, None],
    "boolean": ["true", 1, [], None],
    "integer": ["1", 1.5, True],
    "array": ["admin", {}, 1],
    "object": ["x", [], 1],
}


def _types(doc, schema):
    schema = doc.deref(schema)
    if "allOf" in schema:
        schema = _merge_all_of(doc, schema)
    t = schema.get("type")
    if t is None and "const" in schema:
        t = {str: "string", bool: "boolean", int: "integer"}.get(type(schema["const"]))
    if t is None and "enum" in schema:
        t = "string"
    return [t] if isinstance(t, str) else list(t or [])


def object_schema(doc, schema, value):
    """The object schema (of a oneOf, itself maybe of oneOfs) that value
    was generated from."""
    schema = doc.deref(schema)
    if "oneOf" in schema:
        for b in schema["oneOf"]:
            if not doc.errors(b, value):
                return object_schema(doc, b, value)
        return object_schema(doc, schema["oneOf"][0], value)
    if "allOf" in schema:
        return _merge_all_of(doc, schema)
    return schema


@st.composite
def broken_body(draw, doc, op, media, value):
    """(bytes, content type, what was broken) for a body that the schema
    (or the media type) refuses."""
    schema = op.media[media]["schema"]
    obj = object_schema(doc, schema, value)
    props = obj.get("properties", {})
    required = obj.get("required", [])
    kinds = ["not an object", "not JSON", "wrong member type", "duplicate member"]
    if required:
        kinds.append("missing required")
    if obj.get("additionalProperties") is False:
        kinds.append("unknown member")
    longable = [n for n in props if doc.deref(props[n]).get("maxLength") is not None]
    if longable:
        kinds.append("over-long string")
    if obj.get("minProperties"):
        kinds.append("empty object")
    patterned = [n for n in props if "pattern" in doc.deref(props[n])
                 or "format" in doc.deref(props[n])]
    if patterned:
        kinds += ["string against its pattern"] * 2
    stringy = [n for n in props if "string" in _types(doc, props[n])]
    if stringy:
        kinds.append("NUL in a string")
    kinds += ["too large", "too deep"]
    form = "form" in media
    if form:
        kinds = [k for k in kinds if k not in ("not an object", "not JSON", "wrong member type",
                                               "too deep")]
        kinds.append("malformed form")
    kind = draw(st.sampled_from(kinds))
    v = copy.deepcopy(value)
    if kind == "not an object":
        return json.dumps(draw(st.sampled_from([[], "x", 1, None, True, [v]]))).encode(), media, kind
    if kind == "not JSON":
        return draw(st.sampled_from([b'{"a":', b"{'a': 1}", b"\xff\xfe", b"", b"nul"])), media, kind
    if kind == "malformed form":
        return draw(st.sampled_from([b"%zz=1", b"a=%", b"=x", b"a=%00"])), media, kind
    if kind == "duplicate member":
        name = draw(st.sampled_from(sorted(v) or ["x"]))
        if form:
            raw = urllib.parse.urlencode(v) + "&" + urllib.parse.urlencode({name: v.get(name, "x")})
            return raw.encode(), media, kind + " " + name
        inner = json.dumps(v)[1:-1]
        dup = json.dumps({name: v.get(name, "x")})[1:-1]
        return ("{" + (inner + ", " if inner else "") + dup + "}").encode(), media, kind + " " + name
    if kind == "missing required":
        name = draw(st.sampled_from(sorted(required)))
        v.pop(name, None)
        kind += " " + name
    elif kind == "unknown member":
        name = draw(st.sampled_from(["is_admin", "id", "password_hash", "roles", "Username", "x"]))
        if name in props:
            name = "x_" + name
        v[name] = draw(st.sampled_from(["x", 1, True, None]))
        kind += " " + name
    elif kind == "wrong member type":
        name = draw(st.sampled_from(sorted(props)))
        types = _types(doc, props[name])
        choices = [w for t in types for w in WRONG_TYPED.get(t, [])
                   if not (w is None and "null" in types)]
        choices = [w for w in choices if not doc.errors(props[name], w) == []]
        v[name] = draw(st.sampled_from(choices or [[]]))
        kind += " " + name
    elif kind == "over-long string":
        name = draw(st.sampled_from(sorted(longable)))
        hi = doc.deref(props[name])["maxLength"]
        v[name] = "a" * (hi + draw(st.integers(1, 40)))
        kind += " " + name
    elif kind == "empty object":
        v = {}
    elif kind == "string against its pattern":
        name = draw(st.sampled_from(sorted(patterned)))
        bad = draw(st.one_of(st.sampled_from(PATTERN_BREAKERS), st.text(SAFE_CHARS, max_size=24)))
        hypothesis.assume(doc.errors(props[name], bad))
        v[name] = bad
        kind += " %s=%r" % (name, bad)
    elif kind == "NUL in a string":
        name = draw(st.sampled_from(sorted(stringy)))
        v[name] = draw(st.sampled_from(["\x00", "a\x00b", "Pw-0123456789\x00"]))
        kind += " " + name
    elif kind == "too large":
        # Over max_body_size (64 KiB): 413 before anything else.
        name = draw(st.sampled_from(sorted(props) or ["x"]))
        v[name] = "a" * (65 * 1024)
    elif kind == "too deep":
        # Over json_max_depth (32).
        name = draw(st.sampled_from(sorted(props) or ["x"]))
        v[name] = json.loads("[" * 40 + "]" * 40)
    if form:
        return urllib.parse.urlencode(v).encode(), media, kind
    return json.dumps(v).encode(), media, kind


# Strings that break the usual patterns (usernames, e-mail addresses, roles,
# names); each is used only where the member's schema refuses it.
PATTERN_BREAKERS = [
    "", "a", "ab", "_abc", ".abc", "-abc", "ab c", "abc\n", "a" * 33, "ab\u00e9c", "Admin",
    "a@b", "@b.c", "a@", "a b@c.d", "a@b..c", "a@-b.c", "a@b-.c", "a@b.c-", "a@b_c.d",
    "a@@b.c", "\u00e9@b.c", "a@b.c\u0000", "a@" + "b" * 64 + ".c", "x" * 65 + "@b.c",
    "line\u0001feed", "tab\there", "del\u007f", "c1\u0085", "not-a-uuid",
]

BAD_QUERY = {
    "limit": ["0", "201", "-1", "abc", "1.5", "", "99999999999999999999"],
    "after": ["", "!!!", "a" * 300],
    "q": ["a" * 255],
    "role": ["", "Admin", "a b", "x" * 33, "ä"],
    "redirect": ["", "yes", "LOGIN", "login2", "ä"],
}


@st.composite
def invalid_request(draw, doc, op, ctx):
    """A request the document refuses: a broken body, an undocumented
    content type, a bad query parameter, or an unknown one."""
    method, path, headers, body, note, value = draw(valid_request(doc, op, ctx))
    kinds = []
    qnames = [p["name"] for p in op.params if p["in"] == "query"]
    if qnames:
        # An operation that declares query parameters refuses others; one
        # that declares none ignores a query, as OpenAPI lets it.
        kinds += ["bad query parameter", "unknown query parameter"]
    if op.media:
        kinds += ["broken body"] * 3 + ["undocumented content type", "no content type"]
        if op.body_required:
            kinds.append("no body")
    assert kinds, "%r has nothing to break" % op
    kind = draw(st.sampled_from(kinds))
    base, _, qs = path.partition("?")
    query = urllib.parse.parse_qsl(qs, keep_blank_values=True)
    if kind == "unknown query parameter":
        query.append((draw(st.sampled_from(["x", "debug", "LIMIT", "admin"])), "1"))
        detail = kind
    elif kind == "bad query parameter":
        name = draw(st.sampled_from(qnames))
        query = [(k, v) for k, v in query if k != name]
        query.append((name, draw(st.sampled_from(BAD_QUERY[name]))))
        detail = "%s: %s" % (kind, name)
    elif kind == "broken body":
        media = headers["Content-Type"]
        body, headers["Content-Type"], detail = draw(broken_body(doc, op, media, value))
    elif kind == "undocumented content type":
        headers["Content-Type"] = draw(st.sampled_from(
            [m for m in ["text/plain", "application/xml", "multipart/form-data; boundary=x",
                         "application/json-patch+json", "application/x-www-form-urlencoded",
                         "application/merge-patch+json", "application/json"]
             if not any(media_matches(d, m) for d in op.media)]))
        detail = "Content-Type " + headers["Content-Type"]
    elif kind == "no content type":
        headers.pop("Content-Type", None)
        detail = kind
    elif kind == "no body":
        body = None
        headers.pop("Content-Type", None)
        detail = kind
    if query:
        path = base + "?" + urllib.parse.urlencode(query)
    else:
        path = base
    return method, path, headers, body, (note + "; " if note else "") + detail


@pytest.mark.parametrize("op_id", OP_IDS)
def test_invalid_inputs(doc, ctx, client, op_id):
    """Requests the document rules out are refused (4xx), with a documented
    answer."""
    op = op_of(doc, op_id)
    if not op.media and not any(p["in"] == "query" for p in op.params):
        # No body and no query to break: its invalid inputs are the
        # credentials of test_credentials and the ids of
        # test_user_id_not_a_uuid.
        assert not any(p["in"] == "path" for p in op.params) or "{id}" in op.path, op
        return
    found = Collector()

    @settings(SETTINGS, max_examples=INVALID_EXAMPLES)
    @given(data=st.data())
    def prop(data):
        method, path, headers, body, note = data.draw(invalid_request(doc, op, ctx))
        sent, r = send(client, method, path, headers, body, note)
        found.add(check_response(doc, op, sent, r))
        if not 400 <= r.status < 500:
            found.add([((op.id, r.status, "accepted-invalid", note.split(";")[-1].strip()[:30]),
                        "an invalid request was not refused with a 4xx\n"
                        "    request: %r\n    answer:  %s" % (sent, short(r)))])

    prop()
    found.assert_empty("%r, invalid inputs" % op)


# ---------------------------------------------------------------------------
# Credentials: none, bad, of the wrong kind, without the role

def secured(op):
    return op.security and not any(req == {} for req in op.security)


def needs_admin(op):
    return any("admin" in (req.get("bearerAuth") or []) for req in op.security)


@pytest.mark.parametrize("op_id", OP_IDS)
def test_credentials(doc, ctx, client, op_id):
    """Each secured operation refuses a missing, malformed, foreign or
    unprivileged credential with a documented 400, 401 or 403 and the
    WWW-Authenticate challenge RFC 6750 3.1 asks for."""
    op = op_of(doc, op_id)
    if not secured(op):
        # Nothing to refuse; the operation is covered by the other properties.
        assert DRIVERS[op_id]["auth"] == "none", "%r: driver says %s" % (op, DRIVERS[op_id])
        return
    found = Collector()
    path = re.sub(r"\{[a-z_]+\}", lambda _: str(uuid.uuid4()), op.path)
    body = None
    headers = {}
    if op.media:
        media = sorted(op.media)[0]
        headers["Content-Type"] = media
        body = b"{}"
    expired = W.forge({"alg": "EdDSA", "typ": "at+jwt", "kid": "nope"},
                      {"sub": str(uuid.uuid4()), "exp": 1})
    # RFC 6750 3.1: no credentials, or another scheme's, get the bare
    # challenge; a malformed Bearer header is 400 invalid_request.
    plain = r'^Bearer(\s+realm="[^"]*")?$'
    cases = [
        ("no credentials", None, 401, plain),
        ("basic credentials", "Basic " + base64.b64encode(b"a:b").decode(), 401, plain),
        ("garbage bearer", "Bearer not-a-jwt", 401, r'^Bearer\b.*error="invalid_token"'),
        ("forged bearer", "Bearer " + expired, 401, r'^Bearer\b.*error="invalid_token"'),
        ("Bearer without a token", "Bearer", 400, r'^Bearer\b.*error="invalid_request"'),
        ("empty bearer", "Bearer ", 400, r'^Bearer\b.*error="invalid_request"'),
        ("two tokens", "Bearer a b", 400, r'^Bearer\b.*error="invalid_request"'),
    ]
    if needs_admin(op):
        cases.append(("a user without the admin role", "Bearer " + ctx.shared().access, 403,
                      r'^Bearer\b.*error="insufficient_scope"'))
    if any(p["name"] == "role" for p in op.params):
        path += "?role=admin"
        cases.append(("a token without the role asked for", "Bearer " + ctx.shared().access,
                      403, r'^Bearer\b.*error="insufficient_scope"'))
    for what, auth, want, challenge in cases:
        h = dict(headers)
        if auth is not None:
            h["Authorization"] = auth
        sent, r = send(client, op.method, path, h, body, what)
        found.add(check_response(doc, op, sent, r))
        if r.status != want:
            found.add([((op.id, r.status, "status", what),
                        "%s: want %d\n    request: %r\n    answer:  %s"
                        % (what, want, sent, short(r)))])
            continue
        www = r.header("WWW-Authenticate") or ""
        if not re.search(challenge, www):
            found.add([((op.id, r.status, "challenge", what),
                        "%s: WWW-Authenticate %r does not match %r\n    request: %r\n"
                        "    answer:  %s" % (what, www, challenge, sent, short(r)))])
    found.assert_empty("%r, credentials" % op)


def test_user_id_not_a_uuid(doc, client, admin):
    """/users/{id} and /users/{id}/mfa with an id that is no UUID:
    authentication comes first (401 without a token), then the path (404
    for an admin)."""
    found = Collector()
    for op_id in ("getUser", "patchUser", "deleteUser", "deleteUserMfa"):
        op = op_of(doc, op_id)
        for bad in ("not-a-uuid", "0B6F2C1E-8A4D-4F3B-9C2E-1D5A7B9E0F12", "1", "%20"):
            path = op.path.replace("{id}", bad)
            h = {}
            body = None
            if op.media:
                h["Content-Type"] = "application/json"
                body = b'{"full_name": "x"}'
            for who, token, want in (("nobody", None, 401), ("admin", admin.access, 404)):
                hh = dict(h)
                if token:
                    hh["Authorization"] = "Bearer " + token
                sent, r = send(client, op.method, path, hh, body, who)
                found.add(check_response(doc, op, sent, r))
                if r.status != want:
                    found.add([((op_id, r.status, who), "%s: want %d\n    request: %r\n"
                                "    answer:  %s" % (who, want, sent, short(r)))])
    found.assert_empty("/api/v1/users/{id} with a bad id")


def test_oauth_endpoints_fixed_cases(doc, client, ctx):
    """What the document says of the OAuth endpoints, case by case, so that
    no draw of the generator can miss it: unknown parameters ignored,
    client_id and client_secret, Basic client authentication, 415 as an
    OAuth error, revocation's empty JSON object."""
    found = Collector()
    tok, rev = op_of(doc, "token"), op_of(doc, "revoke")
    u = ctx.login_user()
    basic = lambda cid, sec: "Basic " + base64.b64encode(("%s:%s" % (cid, sec)).encode()).decode()
    pw = {"grant_type": "password", "username": u.username, "password": u.password}
    F, J = "application/x-www-form-urlencoded", "application/json"

    def form(d):
        return urllib.parse.urlencode(d).encode()

    def js(d):
        return json.dumps(d).encode()

    def fresh_refresh():
        return ctx.c.new_user("oar").refresh

    cases = [
        ("token", "form, unknown parameter", {"Content-Type": F}, form(dict(pw, foo="bar")), 200, None),
        ("token", "JSON, unknown members", {"Content-Type": J}, js(dict(pw, foo=1, bar={"a": []})), 200, None),
        ("token", "form, client_id and client_secret", {"Content-Type": F},
         form(dict(pw, client_id=CLIENT_ID, client_secret="s3cr3t")), 200, None),
        ("token", "JSON, client_id and client_secret", {"Content-Type": J},
         js(dict(pw, client_id=CLIENT_ID, client_secret="s3cr3t")), 200, None),
        ("token", "Basic, the client, a secret", {"Content-Type": F,
         "Authorization": basic(CLIENT_ID, "whatever")}, form(pw), 200, None),
        ("token", "Basic, the client, no secret", {"Content-Type": F,
         "Authorization": basic(CLIENT_ID, "")}, form(pw), 200, None),
        ("token", "another client_id", {"Content-Type": F}, form(dict(pw, client_id="other")),
         401, "invalid_client"),
        ("token", "Basic, another client", {"Content-Type": F,
         "Authorization": basic("other", "x")}, form(pw), 401, "invalid_client"),
        ("token", "refresh grant, unknown parameter", {"Content-Type": F},
         form({"grant_type": "refresh_token", "refresh_token": fresh_refresh(), "x": "y"}), 200, None),
        ("token", "text/plain body", {"Content-Type": "text/plain"}, form(pw), 415, "invalid_request"),
        ("token", "no content type", {}, form(pw), 415, "invalid_request"),
        ("token", "duplicate parameter", {"Content-Type": F},
         form(pw) + b"&grant_type=password", 400, "invalid_request"),
        ("revoke", "a refresh token", {"Content-Type": F}, form({"token": fresh_refresh()}), 200, None),
        ("revoke", "unknown parameters", {"Content-Type": F},
         form({"token": "nope", "token_type_hint": "refresh_token", "foo": "bar"}), 200, None),
        ("revoke", "client_id", {"Content-Type": F},
         form({"token": "nope", "client_id": CLIENT_ID}), 200, None),
        ("revoke", "JSON body", {"Content-Type": J}, js({"token": "nope"}), 415, "invalid_request"),
        ("revoke", "no token", {"Content-Type": F}, form({"foo": "bar"}), 400, "invalid_request"),
    ]
    for which, what, headers, body, want, error in cases:
        op = tok if which == "token" else rev
        sent, r = send(client, "POST", op.path, headers, body, what)
        found.add(check_response(doc, op, sent, r))
        got_error = None
        try:
            got_error = r.json().get("error") if r.body else None
        except (ValueError, AttributeError):
            pass
        if r.status != want or (error and got_error != error):
            found.add([((which, what), "%s: want %d %s\n    request: %r\n    answer:  %s"
                        % (what, want, error or "", sent, short(r)))])
        elif which == "revoke" and want == 200 and r.body.strip() != b"{}":
            found.add([((which, what, "body"), "%s: want the body {}\n    answer: %s"
                        % (what, short(r)))])
    found.assert_empty("the OAuth endpoints")


def test_authorization_server_metadata(doc, client, base_url):
    """RFC 8414 3: the metadata names this server's own endpoints, and its
    issuer is the issuer of the tokens (the test daemon's issuer is its URL)."""
    op = op_of(doc, "authorizationServerMetadata")
    sent, r = send(client, "GET", op.path)
    found = Collector()
    found.add(check_response(doc, op, sent, r))
    found.assert_empty("the metadata")
    assert r.status == 200, short(r)
    m = r.json()
    assert m["issuer"] == base_url, m
    for k, path in (("token_endpoint", "/oauth2/token"),
                    ("revocation_endpoint", "/oauth2/revoke"),
                    ("authorization_endpoint", "/oauth2/authorize"),
                    ("jwks_uri", "/.well-known/jwks.json")):
        assert m[k] == base_url + path, (k, m)


def test_empty_merge_patch_changes_nothing(doc, client, ctx):
    """The document says an empty merge patch changes nothing (RFC 7396):
    the user object comes back as it was, updated_at included."""
    import time
    op = op_of(doc, "patchMe")
    u = ctx.throwaway()
    before = u.me().json()
    time.sleep(1.1)     # updated_at has whole seconds
    sent, r = send(client, "PATCH", op.path, {"Authorization": "Bearer " + u.access,
                                              "Content-Type": "application/json"}, b"{}", "")
    found = Collector()
    found.add(check_response(doc, op, sent, r))
    found.assert_empty("PATCH /users/me {}")
    assert r.status == 200 and r.json() == before, (
        "PATCH /api/v1/users/me {} changed the user:\n  before: %r\n  after:  %r" % (before, r.json()))


# ---------------------------------------------------------------------------
# Whole-path checks: methods, the document's own shape

def test_wrong_method(doc, client):
    """A method the document does not list on a path is 405, with an Allow
    that lists the documented methods (HEAD with GET, OPTIONS for CORS)."""
    found = Collector()
    by_path = {}
    for op in doc.ops.values():
        by_path.setdefault(op.path, []).append(op)
    for path, ops in sorted(by_path.items()):
        documented = {op.method for op in ops}
        concrete = re.sub(r"\{[a-z_]+\}", lambda _: str(uuid.uuid4()), path)
        for m in ("PUT", "POST", "DELETE", "PATCH"):
            if m in documented:
                continue
            sent, r = send(client, m, concrete, {"Content-Type": "application/json"}, b"{}", "")
            if path == "/metrics" and r.status == 404:
                continue     # metrics_listen may move it
            op = ops[0]
            found.add(check_response(doc, op, sent, r))
            if r.status != 405:
                found.add([((path, m, r.status), "%s %s: want 405\n    answer: %s"
                            % (m, path, short(r)))])
                continue
            allow = {a.strip().upper() for a in (r.header("Allow") or "").split(",") if a.strip()}
            extra = allow - documented - {"HEAD", "OPTIONS"}
            lacking = documented - allow
            if extra or lacking:
                found.add([((path, "allow"), "%s: Allow %r; documented %s (undocumented: %s, "
                            "lacking: %s)" % (path, r.header("Allow"), sorted(documented),
                                              sorted(extra), sorted(lacking)))])
    found.assert_empty("wrong methods")


def test_host_required(daemon):
    """RFC 9112 3.2: an HTTP/1.1 request without Host is 400."""
    s = socket.create_connection((daemon.host, daemon.port), timeout=10)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    status_line = data.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 400"), \
        "GET /healthz HTTP/1.1 without Host answered %r" % data[:300]


def test_cors(doc, client):
    """The paths the document marks x-cors answer a CORS preflight from the
    allowed origin with 204 and what the browser needs, and an actual
    request from it carries Access-Control-Allow-Origin and Vary: Origin;
    another origin gets no Access-Control-Allow-Origin (info.description)."""
    from conftest import ORIGIN
    found = Collector()
    cors = [p for p, item in doc.spec["paths"].items() if item.get("x-cors") is True]
    assert cors, "the document marks no path x-cors"
    for path in cors:
        methods = sorted(m.upper() for m in doc.spec["paths"][path] if m in METHODS)
        concrete = re.sub(r"\{[a-z_]+\}", lambda _: str(uuid.uuid4()), path)
        for m in methods:
            sent, r = send(client, "OPTIONS", concrete, {
                "Origin": ORIGIN, "Access-Control-Request-Method": m,
                "Access-Control-Request-Headers": "authorization, content-type"}, None, "preflight")
            allow_origin = r.header("Access-Control-Allow-Origin")
            allow_methods = {x.strip().upper() for x in
                             (r.header("Access-Control-Allow-Methods") or "").split(",")}
            allow_headers = {x.strip().lower() for x in
                             (r.header("Access-Control-Allow-Headers") or "").split(",")}
            if r.status != 204 or allow_origin != ORIGIN or m not in allow_methods \
                    or not {"authorization", "content-type"} <= allow_headers:
                found.add([((path, m, "preflight"), "preflight of %s %s: %s"
                            % (m, path, short(r)))])
    for path in ("/.well-known/jwks.json", "/healthz"):
        for origin, allowed in ((ORIGIN, path in cors), ("https://evil.example.test", False)):
            sent, r = send(client, "GET", path, {"Origin": origin}, None, "actual")
            acao = r.header("Access-Control-Allow-Origin")
            vary = {v.strip().lower() for v in (r.header("Vary") or "").split(",")}
            if allowed and (acao != origin or "origin" not in vary):
                found.add([((path, origin), "GET %s from %s: want Access-Control-Allow-Origin "
                            "and Vary: Origin; got %r, %r" % (path, origin, acao, r.header("Vary")))])
            if not allowed and acao is not None:
                found.add([((path, origin), "GET %s from %s: want no Access-Control-Allow-Origin,"
                            " got %r" % (path, origin, acao))])
    found.assert_empty("CORS")
