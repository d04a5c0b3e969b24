/*
 * The API's field rules applied to input, with the message that says why a
 * value fails, built from the limits of common/fields.h.  Nothing here
 * knows HTTP: the API puts a message into a 422 problem, wardenctl prints
 * it.  Each check answers whether the value passes and, when it does not,
 * writes a message ("must be ...") into msg.
 */
#ifndef WARDEN_VALIDATE_H
#define WARDEN_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#define VALIDATE_MSG_MAX	128

struct blocklist;

bool	validate_username(const char *v, char msg[VALIDATE_MSG_MAX]);
bool	validate_email(const char *v, char msg[VALIDATE_MSG_MAX]);
bool	validate_full_name(const char *v, char msg[VALIDATE_MSG_MAX]);

/* Each of the n roles a role name, no duplicates, at most PROTO_ROLES_MAX. */
bool	validate_roles(const char *const *roles, size_t n,
	    char msg[VALIDATE_MSG_MAX]);

/*
 * A new password of len bytes: min_length..FIELD_PASSWORD_MAX bytes of
 * valid UTF-8, not equal (ASCII case ignored) to username or email (either
 * may be NULL), not on the blocklist (may be NULL).
 */
bool	validate_password(const char *pw, size_t len, unsigned int min_length,
	    const char *username, const char *email,
	    const struct blocklist *bl, char msg[VALIDATE_MSG_MAX]);

/*
 * Copies code without its blanks and '-' (as people type "123 456") into
 * out (len bytes); true when it is then a TOTP code: 6 digits.  Anything
 * else is taken for a recovery code, which the hasher normalises.
 */
bool	validate_totp_code(const char *code, char *out, size_t len);

#endif
