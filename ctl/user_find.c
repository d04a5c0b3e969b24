/*
 * The user an operator names: by id, username or e-mail address.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "ctl.h"
#include "fields.h"
#include "util.h"

int
ctl_user_find(PGconn *conn, const char *name, bool lock, struct ctl_user *u)
{
	static const char by_id[] =
	    "SELECT id, username, email, is_active FROM users"
	    " WHERE id = $1::uuid";
	static const char by_name[] =
	    "SELECT id, username, email, is_active FROM users"
	    " WHERE lower(username) = lower($1)";
	static const char by_email[] =
	    "SELECT id, username, email, is_active FROM users"
	    " WHERE lower(email) = lower($1)";
	char		 sql[256], lower[FIELD_UUID_LEN + 1];
	const char	*v[1] = { name }, *base;
	PGresult	*res;
	size_t		 i;

	memset(u, 0, sizeof(*u));
	/* Ids are compared as text by the user: take any case. */
	if (strlen(name) == FIELD_UUID_LEN) {
		for (i = 0; i < FIELD_UUID_LEN; i++)
			lower[i] = (name[i] >= 'A' && name[i] <= 'F') ?
			    (char)(name[i] - 'A' + 'a') : name[i];
		lower[i] = '\0';
	} else
		lower[0] = '\0';
	if (field_is_uuid(lower)) {
		base = by_id;
		v[0] = lower;
	} else if (strchr(name, '@') != NULL)
		base = by_email;
	else
		base = by_name;
	if (str_printf(sql, sizeof(sql), "%s%s", base,
	    lock ? " FOR UPDATE" : "") == -1)
		return CTL_EXIT_FAIL;
	if ((res = ctl_query(conn, sql, 1, v)) == NULL)
		return CTL_EXIT_FAIL;
	if (PQntuples(res) != 1) {
		PQclear(res);
		fprintf(stderr, PROG ": no such user: %s\n", name);
		return CTL_EXIT_NOTFOUND;
	}
	if (str_copy(u->id, PQgetvalue(res, 0, 0), sizeof(u->id)) == -1 ||
	    str_copy(u->username, PQgetvalue(res, 0, 1),
	    sizeof(u->username)) == -1 ||
	    str_copy(u->email, PQgetvalue(res, 0, 2), sizeof(u->email)) == -1) {
		PQclear(res);
		fprintf(stderr, PROG ": a user row out of bounds\n");
		return CTL_EXIT_FAIL;
	}
	u->active = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	PQclear(res);
	return 0;
}
