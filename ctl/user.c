/*
 * wardenctl user list and user show: users as a table or as JSON, never
 * a password hash (its format, a word, at most) nor a token.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "ctl.h"
#include "fields.h"
#include "table.h"
#include "util.h"

/* The columns of a user that list and show share, in this order. */
#define USER_COLS							\
	"id, username, email, full_name, array_to_string(roles, ','),"	\
	" is_active, email_verified, totp_confirmed_at IS NOT NULL, "	\
	CTL_TS("created_at") ", " CTL_TS("updated_at")
enum {
	C_ID, C_USERNAME, C_EMAIL, C_FULL_NAME, C_ROLES, C_ACTIVE,
	C_VERIFIED, C_MFA, C_CREATED, C_UPDATED, C_NUSER
};

/* Rows fetched from the cursor at a time. */
#define LIST_PAGE	1000

static bool
col_bool(const PGresult *res, int row, int c)
{
	return !PQgetisnull(res, row, c) &&
	    strcmp(PQgetvalue(res, row, c), "t") == 0;
}

/* A JSON array of the comma-separated names of s. */
static cJSON *
names_array(const char *s)
{
	cJSON	*a = cJSON_CreateArray();
	char	*copy, *p, *name;

	if (a == NULL || s == NULL || *s == '\0')
		return a;
	if ((copy = strdup(s)) == NULL) {
		cJSON_Delete(a);
		return NULL;
	}
	for (p = copy; (name = strsep(&p, ",")) != NULL;)
		cJSON_AddItemToArray(a, cJSON_CreateString(name));
	free(copy);
	return a;
}

/* The user object of the API (with email_verified and mfa) from a row. */
static cJSON *
user_json(const PGresult *res, int row)
{
	cJSON	*o = cJSON_CreateObject(), *mfa;
	const char *fn = ctl_col(res, row, C_FULL_NAME);

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "id", ctl_col(res, row, C_ID));
	cJSON_AddStringToObject(o, "username", ctl_col(res, row, C_USERNAME));
	cJSON_AddStringToObject(o, "email", ctl_col(res, row, C_EMAIL));
	if (fn != NULL)
		cJSON_AddStringToObject(o, "full_name", fn);
	else
		cJSON_AddNullToObject(o, "full_name");
	cJSON_AddItemToObject(o, "roles",
	    names_array(ctl_col(res, row, C_ROLES)));
	cJSON_AddBoolToObject(o, "is_active", col_bool(res, row, C_ACTIVE));
	cJSON_AddBoolToObject(o, "email_verified",
	    col_bool(res, row, C_VERIFIED));
	mfa = names_array(col_bool(res, row, C_MFA) ? "totp" : "");
	cJSON_AddItemToObject(o, "mfa", mfa);
	cJSON_AddStringToObject(o, "created_at", ctl_col(res, row, C_CREATED));
	cJSON_AddStringToObject(o, "updated_at", ctl_col(res, row, C_UPDATED));
	return o;
}

/* One page of the cursor to the table or the JSON array.  The number of
 * rows, or -1. */
static int
list_page(PGresult *res, struct table *t, bool *first)
{
	int	 i, n = PQntuples(res);

	for (i = 0; i < n; i++) {
		if (t == NULL) {
			if (table_json_item(stdout, user_json(res, i),
			    first) == -1)
				return -1;
			continue;
		}
		const char *cells[] = {
			ctl_col(res, i, C_ID), ctl_col(res, i, C_USERNAME),
			ctl_col(res, i, C_EMAIL), ctl_col(res, i, C_ROLES),
			col_bool(res, i, C_ACTIVE) ? "yes" : "no",
			col_bool(res, i, C_MFA) ? "totp" : "",
			ctl_col(res, i, C_CREATED),
		};
		if (table_add(t, cells) == -1)
			return -1;
	}
	if (t != NULL && table_print(t, stdout) == -1)
		return -1;
	return n;
}

int
cmd_user_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "query", required_argument, NULL, 'q' },
		{ "role", required_argument, NULL, 'r' },
		{ "disabled", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* Keyset order (created_at, id), as the admin API's pages; a cursor
	 * hands the rows over a page at a time, however many there are. */
	static const char declare[] =
	    "DECLARE users_list NO SCROLL CURSOR FOR SELECT " USER_COLS
	    " FROM users"
	    " WHERE ($1 = '' OR starts_with(lower(username), lower($1))"
	    " OR starts_with(lower(email), lower($1)))"
	    " AND ($2 = '' OR $2 = ANY (roles))"
	    " AND (NOT $3::bool OR NOT is_active)"
	    " ORDER BY created_at, id";
	static const char *const headers[] = {
		"ID", "USERNAME", "EMAIL", "ROLES", "ACTIVE", "MFA", "CREATED",
	};
	const char	*query = "", *role = "", *v[3];
	bool		 disabled = false, json = false, first = true;
	struct table	*t = NULL;
	PGconn		*conn = NULL;
	PGresult	*res;
	int		 ch, n, rc = CTL_EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "q:r:djh", opts, NULL)) != -1) {
		switch (ch) {
		case 'q':
			query = optarg;
			break;
		case 'r':
			role = optarg;
			break;
		case 'd':
			disabled = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_bad_option(ctl, argv);
		}
	}
	if (ctl_operands(ctl, argc - optind) == -1)
		return CTL_EXIT_USAGE;
	if (strlen(query) > FIELD_EMAIL_MAX) {
		fprintf(stderr, PROG ": --query: at most %d bytes\n",
		    FIELD_EMAIL_MAX);
		return CTL_EXIT_USAGE;
	}
	if (*role != '\0' && !field_is_role(role)) {
		fprintf(stderr, PROG ": --role: not a role name: 1 to 32 of "
		    "a-z 0-9 _ -\n");
		return CTL_EXIT_USAGE;
	}
	if (!json && (t = table_new(sizeof(headers) / sizeof(headers[0]),
	    headers)) == NULL)
		return CTL_EXIT_FAIL;
	if ((conn = ctl_connect(ctl)) == NULL || ctl_begin(conn) == -1)
		goto out;
	v[0] = query;
	v[1] = role;
	v[2] = disabled ? "t" : "f";
	if (ctl_exec(conn, declare, 3, v) == -1)
		goto rollback;
	if (json && table_json_begin(stdout, &first) == -1)
		goto rollback;
	do {
		if ((res = ctl_query(conn, "FETCH " STRINGIFY(LIST_PAGE)
		    " FROM users_list", 0, NULL)) == NULL)
			goto rollback;
		n = list_page(res, t, &first);
		PQclear(res);
		if (n == -1)
			goto rollback;
	} while (n == LIST_PAGE);
	if (json && table_json_end(stdout) == -1)
		goto rollback;
	ctl_rollback(conn);	/* it only read */
	rc = CTL_EXIT_OK;
	goto out;
rollback:
	ctl_rollback(conn);
out:
	PQfinish(conn);
	table_free(t);
	return rc;
}

/* The columns show adds to USER_COLS. */
#define SHOW_COLS							\
	", failed_logins, " CTL_TS("locked_until") ", "		\
	CTL_TS("last_failed_at") ", CASE WHEN password_hash = '!'"	\
	" THEN 'none' WHEN password_hash LIKE"				\
	" '$warden$%' THEN 'warden' ELSE 'imported' END,"		\
	" (SELECT count(*) FROM login_devices d WHERE d.user_id = users.id"	\
	" AND d.locked_until > now()),"					\
	" (SELECT count(DISTINCT family) FROM refresh_tokens r"	\
	" WHERE r.user_id = users.id AND r.revoked_at IS NULL"		\
	" AND r.used_at IS NULL AND r.expires_at > now()),"		\
	" token_version, locked_until > now(),"				\
	" (SELECT string_agg(provider || ' ' || subject, ', '"		\
	" ORDER BY linked_at, id) FROM identities i"			\
	" WHERE i.user_id = users.id),"					\
	" (SELECT coalesce(json_agg(json_build_object('id', id,"	\
	" 'provider', provider, 'subject', subject, 'email', email,"	\
	" 'linked_at', " CTL_TS("linked_at") ") ORDER BY linked_at, id),"	\
	" '[]') FROM identities i WHERE i.user_id = users.id)"
enum {
	C_FAILED = C_NUSER, C_LOCKED_UNTIL, C_LAST_FAILED, C_HASH,
	C_LOCKED_DEVICES, C_SESSIONS, C_TOKEN_VERSION, C_LOCKED,
	C_IDENTITIES, C_IDENTITIES_JSON
};

static int
show_json(const PGresult *res)
{
	cJSON	*o = user_json(res, 0);
	const char *lu = ctl_col(res, 0, C_LOCKED_UNTIL);
	const char *lf = ctl_col(res, 0, C_LAST_FAILED);

	if (o == NULL)
		return table_json_print(stdout, NULL);
	cJSON_AddNumberToObject(o, "failed_logins",
	    strtod(ctl_col(res, 0, C_FAILED), NULL));
	if (lu != NULL)
		cJSON_AddStringToObject(o, "locked_until", lu);
	else
		cJSON_AddNullToObject(o, "locked_until");
	if (lf != NULL)
		cJSON_AddStringToObject(o, "last_failed_at", lf);
	else
		cJSON_AddNullToObject(o, "last_failed_at");
	cJSON_AddBoolToObject(o, "locked", col_bool(res, 0, C_LOCKED));
	cJSON_AddNumberToObject(o, "locked_devices",
	    strtod(ctl_col(res, 0, C_LOCKED_DEVICES), NULL));
	cJSON_AddNumberToObject(o, "active_sessions",
	    strtod(ctl_col(res, 0, C_SESSIONS), NULL));
	cJSON_AddNumberToObject(o, "token_version",
	    strtod(ctl_col(res, 0, C_TOKEN_VERSION), NULL));
	cJSON_AddStringToObject(o, "password_format", ctl_col(res, 0, C_HASH));
	cJSON_AddItemToObject(o, "identities",
	    cJSON_Parse(ctl_col(res, 0, C_IDENTITIES_JSON)));
	return table_json_print(stdout, o);
}

static int
show_text(const PGresult *res)
{
	static const char *const keys[] = {
		"id", "username", "email", "full name", "roles", "active",
		"email verified", "mfa", "created", "updated",
		"failed logins", "locked until", "last failed",
		"locked devices", "active sessions", "token version",
		"password format", "identities",
	};
	const char *values[] = {
		ctl_col(res, 0, C_ID), ctl_col(res, 0, C_USERNAME),
		ctl_col(res, 0, C_EMAIL), ctl_col(res, 0, C_FULL_NAME),
		ctl_col(res, 0, C_ROLES),
		col_bool(res, 0, C_ACTIVE) ? "yes" : "no",
		col_bool(res, 0, C_VERIFIED) ? "yes" : "no",
		col_bool(res, 0, C_MFA) ? "totp" : "none",
		ctl_col(res, 0, C_CREATED), ctl_col(res, 0, C_UPDATED),
		ctl_col(res, 0, C_FAILED), ctl_col(res, 0, C_LOCKED_UNTIL),
		ctl_col(res, 0, C_LAST_FAILED), ctl_col(res, 0, C_LOCKED_DEVICES),
		ctl_col(res, 0, C_SESSIONS), ctl_col(res, 0, C_TOKEN_VERSION),
		ctl_col(res, 0, C_HASH), ctl_col(res, 0, C_IDENTITIES),
	};

	return table_pairs(stdout, sizeof(keys) / sizeof(keys[0]), keys,
	    values);
}

int
cmd_user_show(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_user	 u;
	bool		 json = false;
	PGconn		*conn;
	PGresult	*res;
	const char	*v[1];
	int		 rc;

	if (ctl_getopt_json(ctl, argc, argv, &json, &rc) == -1)
		return rc;
	if ((conn = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_FAIL;
	if ((rc = ctl_user_find(conn, argv[optind], false, &u)) != 0)
		goto out;
	v[0] = u.id;
	rc = CTL_EXIT_FAIL;
	if ((res = ctl_query(conn, "SELECT " USER_COLS SHOW_COLS
	    " FROM users WHERE id = $1", 1, v)) == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		fprintf(stderr, PROG ": no such user: %s\n", argv[optind]);
		rc = CTL_EXIT_NOTFOUND;
	} else if ((json ? show_json(res) : show_text(res)) == 0)
		rc = CTL_EXIT_OK;
	PQclear(res);
out:
	PQfinish(conn);
	return rc;
}
