/*
 * Checking what an upstream OpenID provider sends: its key set (RFC 7517)
 * and the ID tokens it signs (OpenID Connect Core 1.0, 3.1.3.7).  The
 * signature is OpenSSL's libcrypto (EVP_DigestVerify); nothing here signs
 * and nothing is hand-written crypto.
 *
 * Algorithms: RS256 (an RSA key of at least 2048 bits), ES256 (EC P-256;
 * the JWS's raw r||s turned into DER for libcrypto), EdDSA (OKP Ed25519).
 * Anything else, "none" and every HS* above all, is refused before a key
 * is looked at; a key serves only the algorithm of its type (an RSA key
 * never checks an HS256 token: no confusion of a public key as a secret).
 */
#ifndef WARDEN_ID_TOKEN_H
#define WARDEN_ID_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define JWK_SET_MAX_KEYS	32
#define ID_TOKEN_MAX		(16 * 1024)	/* bytes of a compact JWS */
#define ID_TOKEN_SUB_MAX	255
#define ID_TOKEN_EMAIL_MAX	254
#define ID_TOKEN_NAME_MAX	128
#define ID_TOKEN_LEEWAY		60	/* seconds of clock skew allowed */
#define ID_TOKEN_IAT_MAX_AGE	600	/* an iat older than this fails */

struct jwk_set;

/*
 * Parses a JWK Set's JSON (len bytes) into a key set.  Keys of other
 * types or curves, with "use" other than "sig", or that do not parse are
 * skipped (a key set may hold encryption keys); more than
 * JWK_SET_MAX_KEYS usable keys, or none, is an error.  Returns NULL with
 * the reason in err.
 */
struct jwk_set	*jwk_set_parse(const char *json, size_t len, char *err,
		    size_t errlen);
void		 jwk_set_free(struct jwk_set *ks);
size_t		 jwk_set_count(const struct jwk_set *ks);

/* What the token must say. */
struct id_token_expect {
	const char	*issuer;	/* iss, exactly */
	const char	*client_id;	/* in aud; azp, when present, is it */
	const char	*nonce;		/* nonce, exactly (compared in
					 * constant time) */
	time_t		 now;
};

/* What the caller may use of a verified token. */
struct id_token_claims {
	char		 sub[ID_TOKEN_SUB_MAX + 1];
	char		 email[ID_TOKEN_EMAIL_MAX + 1];		/* "" none */
	bool		 email_verified;	/* true only for JSON true */
	char		 preferred_username[ID_TOKEN_NAME_MAX + 1];
	char		 name[ID_TOKEN_NAME_MAX + 1];
	time_t		 exp;
	time_t		 iat;
};

enum id_token_result {
	ID_TOKEN_OK = 0,
	ID_TOKEN_MALFORMED,	/* not a compact JWS of JSON, or too long */
	ID_TOKEN_BAD_ALG,	/* none, HS*, or not RS256/ES256/EdDSA */
	ID_TOKEN_UNKNOWN_KEY,	/* no key of the set for its kid and alg:
				 * fetch the set again, once, and retry */
	ID_TOKEN_BAD_SIGNATURE,
	ID_TOKEN_BAD_CLAIMS,	/* iss, aud, azp, exp, iat, nonce or sub */
};

/*
 * Verifies the compact JWS token (len bytes) against keys and e.  The
 * key is the set's with the header's kid; without a kid, the only key of
 * the set that fits the alg.  Claims: iss equal to e->issuer; aud the
 * client id or an array holding it (with others, azp must be there); azp,
 * when present, the client id; exp after now - ID_TOKEN_LEEWAY; iat
 * present, not after now + ID_TOKEN_LEEWAY nor before now -
 * ID_TOKEN_IAT_MAX_AGE; nonce equal to e->nonce; sub a non-empty string
 * of at most ID_TOKEN_SUB_MAX bytes.  Fills *out on ID_TOKEN_OK (zeroed
 * otherwise) and writes a reason for a log (never the token) in why.
 */
enum id_token_result id_token_verify(const char *token, size_t len,
		    const struct jwk_set *keys, const struct id_token_expect *e,
		    struct id_token_claims *out, char *why, size_t whylen);

#endif
