"""jwcrypto (Debian's python3-jwcrypto): the JWKS as a JWKSet and the
access token verified as a JWT (RFC 7517, RFC 7519 7.2, RFC 9068 4)."""

import json
import urllib.request

import pytest
from jwcrypto import jwk, jws, jwt

from conftest import CLIENT_ID


def jwks(base_url):
    with urllib.request.urlopen(base_url + "/.well-known/jwks.json", timeout=10) as r:
        assert r.headers.get_content_type() in ("application/json",
                                                "application/jwk-set+json"), r.headers
        return jwk.JWKSet.from_json(r.read())


def verify(base_url, token, issuer, audience):
    t = jwt.JWT(jwt=token, key=jwks(base_url), algs=["EdDSA"],
                check_claims={"iss": issuer, "aud": audience, "exp": None,
                              "sub": None, "jti": None, "client_id": CLIENT_ID})
    return json.loads(t.header), json.loads(t.claims)


def test_jwcrypto_verifies_access_token(base_url, issuer, audience, tokens, user):
    """RFC 7517 5: the JWKS is a set of public keys with kids, OKP Ed25519
    (RFC 8037 2) for access tokens and RSA for RS256 ID tokens; RFC 9068
    2.1, 2.2 and 4: the access token (typ at+jwt) validates against the
    Ed25519 key its kid names, with its claims."""
    ks = jwks(base_url)
    for k in ks["keys"]:
        d = json.loads(k.export_public())
        assert d.get("kid") and ((d["kty"] == "OKP" and d["crv"] == "Ed25519")
                                 or (d["kty"] == "RSA" and d["alg"] == "RS256")), d
        assert not k.has_private, d
    header, claims = verify(base_url, tokens["access_token"], issuer, audience)
    assert header["typ"] == "at+jwt" and header["alg"] == "EdDSA", header
    assert ks.get_key(header["kid"]) is not None, header
    assert claims["sub"] == user.id, claims


def test_jwcrypto_refuses_tampered_token(base_url, issuer, audience, tokens):
    """RFC 7515 5.2: a changed signature does not validate; RFC 7519 4.1.3
    and RFC 9068 4: another audience is refused."""
    h, c, s = tokens["access_token"].split(".")
    tampered = "%s.%s.%s" % (h, c, ("A" if s[0] != "A" else "B") + s[1:])
    with pytest.raises(jws.InvalidJWSSignature):
        verify(base_url, tampered, issuer, audience)
    with pytest.raises(jwt.JWTInvalidClaimValue):
        verify(base_url, tokens["access_token"], issuer, "someone-else")
