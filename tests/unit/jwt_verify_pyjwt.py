#!/usr/bin/python3
"""Independent check of warden's access tokens with PyJWT.

usage: jwt_verify_pyjwt.py JWT PUBKEY AUDIENCE ISSUER

PUBKEY is the raw 32-byte Ed25519 public key in base64url.  Verifies the
signature (EdDSA only), exp, iat, aud and iss, and the RFC 9068 header
typ "at+jwt".  Exits 0 when the token is good, 1 when it is not, and 2 when
this script cannot run (missing python3-jwt or python3-cryptography, bad
usage).
"""
import base64
import sys

try:
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PublicKey,
    )
except ImportError as e:
    print(f"jwt_verify_pyjwt: {e} (install python3-jwt and "
          "python3-cryptography: scripts/deps check)", file=sys.stderr)
    sys.exit(2)


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def main(argv):
    if len(argv) != 5:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    token, pub, audience, issuer = argv[1:]
    try:
        key = Ed25519PublicKey.from_public_bytes(b64url_decode(pub))
    except ValueError as e:
        print(f"jwt_verify_pyjwt: bad public key: {e}", file=sys.stderr)
        return 2
    try:
        header = jwt.get_unverified_header(token)
        if header.get("typ") != "at+jwt":
            raise jwt.InvalidTokenError(f"typ is {header.get('typ')!r}")
        claims = jwt.decode(
            token, key, algorithms=["EdDSA"], audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]})
    except (jwt.PyJWTError, ValueError) as e:
        print(f"jwt_verify_pyjwt: rejected: {e}", file=sys.stderr)
        return 1
    print(f"jwt_verify_pyjwt: ok sub={claims['sub']} jti={claims['jti']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
