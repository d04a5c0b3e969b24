/*
 * wardenctl identity list and identity unlink: the identities at upstream
 * providers (social login) that accounts are linked to, and their end.
 * An account without a password keeps its last identity: unlinking it
 * would leave no way in (set a password first: user set-password, or a
 * reset link).
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

int
cmd_identity_list(struct ctl *ctl, int argc, char **argv)
{
	static const char sql[] =
	    "SELECT i.id, u.username, i.provider, i.subject,"
	    " coalesce(i.email, ''), " CTL_TS("i.linked_at") ", u.id"
	    " FROM identities i JOIN users u ON u.id = i.user_id"
	    " WHERE $1::uuid IS NULL OR i.user_id = $1::uuid"
	    " ORDER BY i.linked_at, i.id";
	static const char *const headers[] = {
		"ID", "USER", "PROVIDER", "SUBJECT", "EMAIL", "LINKED",
	};
	struct ctl_user	 u;
	struct table	*t = NULL;
	bool		 json = false, first;
	PGconn		*conn;
	PGresult	*res = NULL;
	const char	*v[1] = { NULL };
	cJSON		*o;
	int		 i, rc;

	if (ctl_getopt_json(ctl, argc, argv, &json, &rc) == -1)
		return rc;
	if ((conn = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_FAIL;
	if (optind < argc) {
		if ((rc = ctl_user_find(conn, argv[optind], false, &u)) != 0)
			goto out;
		v[0] = u.id;
	}
	rc = CTL_EXIT_FAIL;
	if ((res = ctl_query(conn, sql, 1, v)) == NULL)
		goto out;
	if (json) {
		if (table_json_begin(stdout, &first) == -1)
			goto out;
		for (i = 0; i < PQntuples(res); i++) {
			if ((o = cJSON_CreateObject()) != NULL) {
				cJSON_AddStringToObject(o, "id",
				    ctl_col(res, i, 0));
				cJSON_AddStringToObject(o, "user_id",
				    ctl_col(res, i, 6));
				cJSON_AddStringToObject(o, "username",
				    ctl_col(res, i, 1));
				cJSON_AddStringToObject(o, "provider",
				    ctl_col(res, i, 2));
				cJSON_AddStringToObject(o, "subject",
				    ctl_col(res, i, 3));
				table_json_string_or_null(o, "email",
				    ctl_col(res, i, 4));
				cJSON_AddStringToObject(o, "linked_at",
				    ctl_col(res, i, 5));
			}
			if (table_json_item(stdout, o, &first) == -1)
				goto out;
		}
		if (table_json_end(stdout) == -1)
			goto out;
	} else {
		if ((t = table_new(sizeof(headers) / sizeof(headers[0]),
		    headers)) == NULL)
			goto out;
		for (i = 0; i < PQntuples(res); i++) {
			const char *cells[] = {
				ctl_col(res, i, 0), ctl_col(res, i, 1),
				ctl_col(res, i, 2), ctl_col(res, i, 3),
				ctl_col(res, i, 4), ctl_col(res, i, 5),
			};
			if (table_add(t, cells) == -1)
				goto out;
		}
		if (table_print(t, stdout) == -1)
			goto out;
		if (PQntuples(res) == 0)
			fprintf(stderr, PROG ": no identity is linked%s%s\n",
			    v[0] != NULL ? " to " : "",
			    v[0] != NULL ? u.username : "");
	}
	rc = CTL_EXIT_OK;
out:
	PQclear(res);
	table_free(t);
	PQfinish(conn);
	return rc;
}

/* Unlinks identity id in the caller's transaction: 0 with what to say in
 * msg, or an exit status. */
static int
unlink_identity(PGconn *conn, const char *id, char *msg, size_t len)
{
	static const char sql[] =
	    "WITH i AS (SELECT i.id, i.user_id, i.provider, u.username,"
	    " u.password_hash <> '!' AS pw, (SELECT count(*) FROM identities o"
	    " WHERE o.user_id = i.user_id) AS n"
	    " FROM identities i JOIN users u ON u.id = i.user_id"
	    " WHERE i.id = $1::uuid FOR UPDATE OF u),"
	    " d AS (DELETE FROM identities WHERE id = $1::uuid"
	    " AND (SELECT pw OR n > 1 FROM i) RETURNING id)"
	    " SELECT user_id, provider, username, EXISTS (SELECT 1 FROM d)"
	    " FROM i";
	const char	*v[1] = { id };
	char		 detail[160], user_id[FIELD_UUID_LEN + 1];
	PGresult	*res;
	bool		 done;

	if ((res = ctl_query(conn, sql, 1, v)) == NULL)
		return CTL_EXIT_FAIL;
	if (PQntuples(res) != 1) {
		PQclear(res);
		fprintf(stderr, PROG ": no such identity: %s\n", id);
		return CTL_EXIT_NOTFOUND;
	}
	done = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	str_copy(user_id, PQgetvalue(res, 0, 0), sizeof(user_id));
	str_printf(detail, sizeof(detail), "{\"provider\":\"%s\","
	    "\"identity\":\"%s\",\"actor\":\"wardenctl\"}",
	    PQgetvalue(res, 0, 1), id);
	if (done)
		str_printf(msg, len, "identity %s (%s) of %s unlinked", id,
		    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	else
		fprintf(stderr, PROG ": identity unlink: it is the only way "
		    "%s signs in (no password, no other identity): set a "
		    "password first (user set-password, or user reset-link)\n",
		    PQgetvalue(res, 0, 2));
	PQclear(res);
	if (!done)
		return CTL_EXIT_FAIL;
	return ctl_audit(conn, user_id, "identity_unlinked", detail) == 0 ?
	    0 : CTL_EXIT_FAIL;
}

int
cmd_identity_unlink(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char		 msg[256];
	PGconn		*conn;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h')
			return ctl_help(ctl);
		return ctl_bad_option(ctl, argv);
	}
	if (ctl_operands(ctl, argc - optind) == -1)
		return CTL_EXIT_USAGE;
	if (!field_is_uuid(argv[optind])) {
		fprintf(stderr, PROG ": identity unlink: %s is not an identity "
		    "id (a UUID, as identity list shows)\n", argv[optind]);
		return CTL_EXIT_USAGE;
	}
	if ((conn = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_FAIL;
	if (ctl_begin(conn) == -1) {
		PQfinish(conn);
		return CTL_EXIT_FAIL;
	}
	rc = unlink_identity(conn, argv[optind], msg, sizeof(msg));
	if (rc == 0 && ctl_commit(conn) == -1)
		rc = CTL_EXIT_FAIL;
	if (rc == 0)
		printf("%s\n", msg);
	else
		ctl_rollback(conn);
	PQfinish(conn);
	return rc;
}
