/*
 * One line of a user file (`wardenctl import`, `wardenctl export`): a JSON
 * object, parsed once into a typed struct with every field checked by the
 * API's own rules.  The members:
 *
 *	username	required, the API's username rule
 *	email		required, the API's e-mail rule
 *	password_hash	required, a hash in a format pwformat_of() knows
 *	password_format	optional, the format's name; when given it must be
 *			the format the hash is in
 *	id		optional UUID (lower-case); required with a "warden"
 *			hash, which is sealed to the user's id
 *	full_name	optional string or null
 *	roles		optional array of role names (at most 32)
 *	is_active	optional boolean, default true
 *	email_verified	optional boolean, default false
 *	created_at	optional RFC 3339 time ("2024-05-01T12:00:00Z",
 *			fractions and offsets allowed), default the import's
 *
 * Any other member, a member given twice or a value of the wrong type
 * refuses the line.  The password hash never appears in a reason.
 */
#ifndef WARDEN_CTL_IMPORT_LINE_H
#define WARDEN_CTL_IMPORT_LINE_H

#include <stdbool.h>
#include <stddef.h>

#include "fields.h"
#include "proto.h"
#include "pwformat.h"

#define IMPORT_LINE_MAX		(16 * 1024)	/* bytes, without the newline */
#define IMPORT_ROLES_MAX	32
#define IMPORT_TIME_MAX		40		/* an RFC 3339 time, bounded */
#define IMPORT_WHY_MAX		160

struct import_user {
	char		 id[FIELD_UUID_LEN + 1];	/* "" when absent */
	char		 username[FIELD_USERNAME_MAX + 1];
	char		 email[FIELD_EMAIL_MAX + 1];
	char		*full_name;			/* NULL when absent */
	char		 roles[IMPORT_ROLES_MAX][FIELD_ROLE_MAX + 1];
	size_t		 nroles;
	bool		 is_active;
	bool		 email_verified;
	char		 created_at[IMPORT_TIME_MAX + 1]; /* "" when absent */
	char		 password_hash[PROTO_STORED_MAX + 1];
	enum pw_format	 format;
};

/*
 * Parses the len bytes of line into *u.  Returns 0, or -1 with a reason
 * for the operator in why (IMPORT_WHY_MAX bytes, naming the member).  On
 * success u->full_name is malloc'd (or NULL): import_user_clear() frees
 * it and wipes the hash.
 */
int	import_line_parse(const char *line, size_t len, struct import_user *u,
	    char *why);

void	import_user_clear(struct import_user *u);

/* True when s is an RFC 3339 date-time between the years 1 and 9999:
 * YYYY-MM-DD"T"hh:mm:ss, an optional fraction of 1..6 digits, and "Z" or
 * an offset ±hh:mm ("t", "z" and a blank for "T" are accepted too). */
bool	import_time_valid(const char *s);

#endif
