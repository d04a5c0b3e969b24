"""PyJWT (Debian's python3-jwt): a Python resource server verifying
warden's access tokens with PyJWKClient (RFC 9068 4, RFC 7517, RFC 8037)."""

import jwt
import pytest

from conftest import CLIENT_ID


def verify(base_url, token, issuer, audience):
    keys = jwt.PyJWKClient(base_url + "/.well-known/jwks.json")
    key = keys.get_signing_key_from_jwt(token)
    # RFC 9068 4: the resource server checks typ; PyJWT does not, so it is
    # checked here, on the header the signature covers.
    header = jwt.get_unverified_header(token)
    assert header.get("typ") == "at+jwt", header
    return jwt.decode(token, key.key, algorithms=["EdDSA"], audience=audience,
                      issuer=issuer,
                      options={"require": ["iss", "exp", "aud", "sub", "iat", "jti"]})


def test_pyjwt_verifies_access_token(base_url, issuer, audience, tokens, user):
    """RFC 9068 2.1, 2.2 and 4: an EdDSA (RFC 8037 3.1) JWS of typ at+jwt
    whose kid names a key of the JWKS (RFC 7517 4.5), with iss, aud, exp,
    sub, iat, jti and client_id."""
    claims = verify(base_url, tokens["access_token"], issuer, audience)
    assert claims["sub"] == user.id and claims["client_id"] == CLIENT_ID, claims


def test_pyjwt_refuses_tampered_token(base_url, issuer, audience, tokens):
    """RFC 7515 5.2: a payload changed under the signature does not
    validate; RFC 9068 4: another audience is refused."""
    h, c, s = tokens["access_token"].split(".")
    claims = jwt.utils.base64url_decode(c)
    forged = claims.replace(b'"sub":"', b'"sub":"0')
    assert forged != claims
    tampered = "%s.%s.%s" % (h, jwt.utils.base64url_encode(forged).decode(), s)
    with pytest.raises(jwt.InvalidSignatureError):
        verify(base_url, tampered, issuer, audience)
    with pytest.raises(jwt.InvalidAudienceError):
        verify(base_url, tokens["access_token"], issuer, "someone-else")
