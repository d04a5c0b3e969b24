/*
 * The API's field rules applied to request input, with the messages that
 * go into a 422 problem.  Each check adds at most one error for its field
 * to pf and answers whether the value passed.
 */
#ifndef WARDEN_VALIDATE_H
#define WARDEN_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

struct blocklist;
struct problem_fields;

bool	validate_username(struct problem_fields *pf, const char *field,
	    const char *v);
bool	validate_email(struct problem_fields *pf, const char *field,
	    const char *v);
bool	validate_full_name(struct problem_fields *pf, const char *field,
	    const char *v);

/* Each of the n roles a role name, no duplicates, at most PROTO_ROLES_MAX. */
bool	validate_roles(struct problem_fields *pf, const char *field,
	    const char *const *roles, size_t n);

/*
 * A new password of len bytes: min_length..FIELD_PASSWORD_MAX bytes of
 * valid UTF-8, not equal (ASCII case ignored) to username or email (either
 * may be NULL), not on the blocklist (may be NULL).
 */
bool	validate_password(struct problem_fields *pf, const char *field,
	    const char *pw, size_t len, unsigned int min_length,
	    const char *username, const char *email,
	    const struct blocklist *bl);

#endif
