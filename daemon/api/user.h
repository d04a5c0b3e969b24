/*
 * The user row as handlers see it, read from PostgreSQL with USER_COLUMNS
 * and written out as the API's user object.  Never holds the password
 * hash: the few handlers that need it select it on its own.
 */
#ifndef WARDEN_USER_H
#define WARDEN_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

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
	char		created_at[USER_TIME_MAX];
	char		updated_at[USER_TIME_MAX];
};

/*
 * The select list that user_from_row() reads, USER_NCOLUMNS columns, for
 * a query on "users" (unqualified column names).
 */
#define USER_COLUMNS							\
	"id, username, email, full_name, array_to_string(roles, ','), "	\
	"is_active, token_version, "					\
	"to_char(created_at AT TIME ZONE 'UTC', "			\
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "				\
	"to_char(updated_at AT TIME ZONE 'UTC', "			\
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define USER_NCOLUMNS	9

/*
 * Reads row of res, starting at column col, into *u.  Returns 0, or -1
 * when a value does not fit its field (the database's constraints make
 * that a bug, which the caller answers with 500).
 */
int	user_from_row(const PGresult *res, int row, int col, struct user *u);

/* The API's user object for u; NULL when memory runs out. */
cJSON	*user_to_json(const struct user *u);

/* True when u holds role. */
bool	user_has_role(const struct user *u, const char *role);

#endif
