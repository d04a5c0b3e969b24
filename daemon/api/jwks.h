/*
 * The RFC 7517 JSON Web Key Set served at /.well-known/jwks.json, built
 * from the hasher's public keys: its Ed25519 keys (RFC 8037 OKP keys),
 * then its RSA keys (RFC 7518 6.3.1, for RS256 ID tokens):
 *	{"keys":[{"kty":"OKP","crv":"Ed25519","x":"<base64url>","kid":"<kid>",
 *	  "use":"sig","alg":"EdDSA"}, ...,
 *	  {"kty":"RSA","n":"<base64url>","e":"<base64url>","kid":"<kid>",
 *	  "use":"sig","alg":"RS256"}, ...]}
 * each kind in the order the hasher listed it, with no whitespace.
 */
#ifndef WARDEN_JWKS_H
#define WARDEN_JWKS_H

#include <stddef.h>

#include "proto.h"

/*
 * Builds the document for keys (NULL or empty: {"keys":[]}).  Returns a
 * NUL-terminated string the caller frees with free(), with its length in
 * *len when len is not NULL; NULL when memory runs out.
 */
char	*jwks_build(const struct proto_pubkeys_ans *keys, size_t *len);

#endif
