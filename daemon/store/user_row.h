/*
 * A row of the users table as the rest of wardend sees it.  It never holds
 * the password hash: the few intents that need it (users.h) hand it to
 * their callback on its own, in memory wiped right after.
 */
#ifndef WARDEN_STORE_USER_ROW_H
#define WARDEN_STORE_USER_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields.h"
#include "proto.h"

#define USER_TIME_MAX	32	/* "2026-11-23T10:00:00Z" */

struct user {
	char		id[PROTO_UUID_LEN + 1];
	char		username[FIELD_USERNAME_MAX + 1];
	char		email[FIELD_EMAIL_MAX + 1];
	bool		has_full_name;
	char		full_name[FIELD_FULL_NAME_MAX * 4 + 1];	/* UTF-8 */
	size_t		nroles;
	char		roles[PROTO_ROLES_MAX][PROTO_ROLE_MAX + 1];
	bool		is_active;
	uint32_t	token_version;
	bool		email_verified;
	bool		totp;		/* an active (confirmed) TOTP factor */
	char		created_at[USER_TIME_MAX];
	char		updated_at[USER_TIME_MAX];
};

#endif
