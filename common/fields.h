/*
 * The field rules of the API (the User schema of daemon/api/openapi.json),
 * shared by the front's validation and the hasher's checks of what it
 * signs.  Each takes a NUL-terminated string and answers true when it
 * obeys the rule (NULL answers false).  The classes are ASCII byte
 * ranges, whatever the locale.
 */
#ifndef WARDEN_FIELDS_H
#define WARDEN_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#define FIELD_UUID_LEN		36	/* 8-4-4-4-12 */
#define FIELD_USERNAME_MIN	3
#define FIELD_USERNAME_MAX	32
#define FIELD_EMAIL_MAX		254
#define FIELD_EMAIL_LOCAL_MAX	64
#define FIELD_FULL_NAME_MAX	128	/* characters, not bytes */
#define FIELD_ROLE_MAX		32
#define FIELD_PASSWORD_MAX	1024	/* bytes */
#define FIELD_KID_MAX		64
#define FIELD_PLAIN_NAME_MAX	64
#define FIELD_CLIENT_ID_MAX	64	/* an OAuth client's id */
#define FIELD_NONCE_MAX		255	/* an OpenID Connect nonce */
#define FIELD_SCOPE_MAX		512	/* a space-separated scope list */

bool	field_is_uuid(const char *s);		/* lower-case, hyphenated */
bool	field_is_username(const char *s);	/* 3..32 of [A-Za-z0-9._-], first alnum */
bool	field_is_role(const char *s);		/* 1..32 of [a-z0-9_-] */

/* A key id, in a JWT header, the JWKS and the key files' names:
 * 1..FIELD_KID_MAX of [A-Za-z0-9_-] (no '.', so "sign-<kid>.key" parses
 * back). */
bool	field_is_kid(const char *s);

/*
 * A plain name: 1..FIELD_PLAIN_NAME_MAX of [A-Za-z0-9._-], safe to quote
 * anywhere (a log line, a problem detail, an RFC 6749
 * error_description) without escaping: request ids, parameter and member
 * names.  field_is_plain_char() is its character class alone.
 */
bool	field_is_plain_name(const char *s);
bool	field_is_plain_char(unsigned char c);

/*
 * A visible-ASCII token: 1..max bytes of 0x21..0x7e (RFC 6749's VSCHAR
 * without the space).  field_is_client_id() is it with
 * FIELD_CLIENT_ID_MAX: an OAuth client id, the aud of the tokens a
 * client is given.
 */
bool	field_is_vstoken(const char *s, size_t max);
bool	field_is_client_id(const char *s);

/* An OpenID Connect nonce as the hasher signs it: 1..FIELD_NONCE_MAX of
 * printable ASCII (0x20..0x7e), no control character. */
bool	field_is_nonce(const char *s);

/* An RFC 6749 3.3 scope: 1..FIELD_SCOPE_MAX bytes of scope tokens
 * (0x21, 0x23..0x5b, 0x5d..0x7e) separated by single spaces, no leading
 * or trailing space. */
bool	field_is_scope(const char *s);

/*
 * At most 254 bytes; exactly one '@'; a local part of 1..64 bytes of
 * printable ASCII (0x21..0x7e, so no spaces, controls or non-ASCII); a
 * domain of at least two dot-separated labels, each 1..63 of [A-Za-z0-9-]
 * and not starting or ending with '-'.
 */
bool	field_is_email(const char *s);

/* At most 128 code points of valid UTF-8 with no control character (C0,
 * DEL, C1: U+0000..U+001F, U+007F..U+009F).  "" is valid (no name). */
bool	field_is_full_name(const char *s);

/* True when the len bytes of s are well-formed UTF-8 (no overlongs, no
 * surrogates, nothing past U+10FFFF); NUL bytes make it false. */
bool	field_utf8_valid(const char *s, size_t len);

/* Characters (code points) in valid UTF-8 s. */
size_t	field_utf8_length(const char *s, size_t len);

#endif
