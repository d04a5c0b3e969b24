"""jose (npm, panva/jose 5): a resource server that verifies warden's
access tokens offline from its JWKS (RFC 9068 4, RFC 7517, RFC 8037)."""

from conftest import CLIENT_ID, assert_ok, js


def test_jose_verifies_access_token_from_jwks(node_modules, base_url, issuer, audience,
                                              tokens, user):
    """RFC 9068 2.1 and 4: the access token is a JWS with typ at+jwt and a
    kid, signed with an asymmetric algorithm (EdDSA, RFC 8037 3.1) by a key
    of the JWKS (RFC 7517 5; OKP keys, RFC 8037 2); RFC 9068 2.2: iss, exp,
    aud, sub, client_id, iat and jti are there, with iss the issuer and aud
    the audience the resource server expects."""
    out = assert_ok(js(node_modules, "jose.js", "verify", base=base_url,
                       token=tokens["access_token"], issuer=issuer, audience=audience))
    h, c = out["header"], out["claims"]
    assert h["alg"] == "EdDSA" and h["typ"] == "at+jwt" and h.get("kid"), h
    assert c["iss"] == issuer and c["client_id"] == CLIENT_ID, c
    assert c["sub"] == user.id, c
    aud = c["aud"] if isinstance(c["aud"], list) else [c["aud"]]
    assert audience in aud, c
    kids = {k["kid"] for k in out["keys"]}
    assert h["kid"] in kids, out["keys"]
    for k in out["keys"]:
        # Ed25519 keys for access tokens, RSA ones for RS256 ID tokens.
        assert (k["kty"], k.get("crv")) in (("OKP", "Ed25519"), ("RSA", None)), k
        assert k["type"] == "public" and not k["private"], k
    signer = [k for k in out["keys"] if k["kid"] == h["kid"]]
    assert signer and signer[0]["kty"] == "OKP", out["keys"]


def test_jose_refuses_tampered_tokens(node_modules, base_url, issuer, audience, tokens):
    """RFC 7515 5.2: a JWS whose payload or signature was changed does not
    validate; RFC 8725 3.1 and 2.1: alg "none" is refused; RFC 9068 4:
    a token for another audience or from another issuer is refused."""
    out = assert_ok(js(node_modules, "jose.js", "refused", base=base_url,
                       token=tokens["access_token"], issuer=issuer, audience=audience))
    r = out["refused"]
    assert r["claims_changed"] == "ERR_JWS_SIGNATURE_VERIFICATION_FAILED", r
    assert r["signature_changed"] == "ERR_JWS_SIGNATURE_VERIFICATION_FAILED", r
    assert r["alg_none"] is not None, r
    assert r["wrong_audience"] == "ERR_JWT_CLAIM_VALIDATION_FAILED", r
    assert r["wrong_issuer"] == "ERR_JWT_CLAIM_VALIDATION_FAILED", r
