/*
 * The field rules of the OpenID Connect provider's clients and codes
 * (migration 0009_oidc.sql keeps the same bounds), shared by wardenctl,
 * which registers clients, and wardend, which checks what a request names
 * against them: client ids and names, redirect URIs, scopes, and a
 * client's secret.
 */
#ifndef WARDEN_OIDC_CLIENT_H
#define WARDEN_OIDC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "fields.h"
#include "secret_token.h"

#define OIDC_CLIENT_ID_MIN	22	/* 128 random bits, base64url */
#define OIDC_CLIENT_ID_MAX	64
#define OIDC_CLIENT_NAME_MAX	100	/* characters */
#define OIDC_CLIENT_NAME_BYTES	(OIDC_CLIENT_NAME_MAX * 4)
#define OIDC_URIS_MAX		16	/* redirect URIs of a client, each list */
#define OIDC_URI_MAX		2000	/* bytes of one */
#define OIDC_NONCE_MAX		FIELD_NONCE_MAX	/* the hasher signs no more */
#define OIDC_CHALLENGE_LEN	43	/* PKCE S256: base64url of a SHA-256 */
#define OIDC_CODE_TTL		60	/* seconds an authorization code lives */
#define OIDC_ALG_MAX		5	/* "RS256", "EdDSA" */

/* A client secret: a secret token (secret_token.h), shown once. */
#define OIDC_SECRET_LEN		SECRET_TOKEN_LEN

/* The scopes a client may be allowed and a user may grant, as bits. */
#define OIDC_SCOPE_OPENID		0x01u
#define OIDC_SCOPE_PROFILE		0x02u
#define OIDC_SCOPE_EMAIL		0x04u
#define OIDC_SCOPE_ROLES		0x08u
#define OIDC_SCOPE_OFFLINE_ACCESS	0x10u
#define OIDC_SCOPES_ALL			0x1fu
#define OIDC_SCOPES_DEFAULT						\
	(OIDC_SCOPE_OPENID | OIDC_SCOPE_PROFILE | OIDC_SCOPE_EMAIL)
/* Room for every scope name, separated, with the braces of a literal. */
#define OIDC_SCOPES_TEXT_MAX	48

/* The bit of scope name (len bytes, not NUL-terminated), or 0 when it is
 * not one of ours. */
unsigned	oidc_scope_bit(const char *name, size_t len);

/*
 * The bits of s, scope names separated by sep (' ' as in a request's
 * scope parameter, ',' as in a PostgreSQL array's text).  A repeated name
 * counts once.  0 into *bits and 0 returned, or -1 when s holds a name
 * that is not a scope, or an empty one (two separators in a row).  ""
 * gives no bits.
 */
int		oidc_scopes_parse(const char *s, char sep, unsigned *bits);

/* The names of bits, in the order of the OIDC_SCOPE_* bits, separated by
 * sep, into out (always fits OIDC_SCOPES_TEXT_MAX); "" for none. */
void		oidc_scopes_text(unsigned bits, char sep,
		    char out[OIDC_SCOPES_TEXT_MAX]);

/* The PostgreSQL array literal of bits: "{openid,profile}". */
void		oidc_scopes_literal(unsigned bits,
		    char out[OIDC_SCOPES_TEXT_MAX]);

/*
 * A redirect URI that a client may register (RFC 6749 3.1.2, RFC 8252
 * 7.3, OpenID Connect Core 3.1.2.1): absolute, of scheme https, or http
 * when its host is a loopback one (127.0.0.1, [::1], localhost); a host,
 * no user-info, a port of 1..65535 if any; no fragment; at most
 * OIDC_URI_MAX bytes of the characters of RFC 3986 (no space, control,
 * backslash or non-ASCII byte), each '%' starting an escape.  The scheme
 * and the loopback names are lower-case: matching is exact.  NULL false.
 */
bool		oidc_redirect_uri_ok(const char *uri);

/* A client's name: 1..OIDC_CLIENT_NAME_MAX characters of UTF-8, no
 * control character. */
bool		oidc_client_name_ok(const char *name);

/* A client id as wardenctl makes them: OIDC_CLIENT_ID_MIN..
 * OIDC_CLIENT_ID_MAX of [A-Za-z0-9_-].  Check a presented id with it
 * before asking the database. */
bool		oidc_client_id_ok(const char *id);

/* A new random client id (OIDC_CLIENT_ID_MIN characters). */
void		oidc_client_id_new(char out[OIDC_CLIENT_ID_MIN + 1]);

/* "RS256" or "EdDSA": an id_token_signed_response_alg we sign with. */
bool		oidc_alg_ok(const char *alg);

/*
 * True when the len bytes of secret are the secret whose hash literal
 * (secret_token.h) is stored, compared in constant time (sodium_memcmp).
 * False for a stored "" (a public client) and for anything that cannot
 * be one of our secrets.
 */
bool		oidc_secret_ok(const char *stored, const char *secret,
		    size_t len);

#endif
