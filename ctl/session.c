/*
 * wardenctl session list and session revoke: a user's refresh-token
 * families (one per login, each token rotated into the next) and their
 * end.  Revoking one family ends that login's refresh tokens; --all does
 * what the API's logout does: every family revoked and the token version
 * bumped, so that the access tokens already issued stop passing too.
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
cmd_session_list(struct ctl *ctl, int argc, char **argv)
{
	/*
	 * A family is revoked when any of its tokens is (the store treats
	 * it so), expired when its newest token is, spent when every token
	 * was used (the last rotation failed half-way), else active.
	 */
	static const char sql[] =
	    "SELECT family, " CTL_TS("min(created_at)") ","
	    " CASE WHEN count(*) > 1 THEN " CTL_TS("max(created_at)") " END,"
	    " " CTL_TS("max(expires_at)") ","
	    " CASE WHEN bool_or(revoked_at IS NOT NULL) THEN 'revoked'"
	    " WHEN max(expires_at) <= now() THEN 'expired'"
	    " WHEN bool_and(used_at IS NOT NULL) THEN 'spent'"
	    " ELSE 'active' END, count(*)"
	    " FROM refresh_tokens WHERE user_id = $1"
	    " GROUP BY family ORDER BY min(created_at), family";
	static const char *const headers[] = {
		"FAMILY", "CREATED", "LAST ROTATED", "EXPIRES", "STATE",
		"TOKENS",
	};
	struct ctl_user	 u;
	struct table	*t = NULL;
	bool		 json = false, first;
	PGconn		*conn;
	PGresult	*res = NULL;
	const char	*v[1];
	cJSON		*o;
	int		 i, rc;

	if (ctl_getopt_json(ctl, argc, argv, &json, &rc) == -1)
		return rc;
	if ((conn = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_FAIL;
	if ((rc = ctl_user_find(conn, argv[optind], false, &u)) != 0)
		goto out;
	rc = CTL_EXIT_FAIL;
	v[0] = u.id;
	if ((res = ctl_query(conn, sql, 1, v)) == NULL)
		goto out;
	if (json) {
		if (table_json_begin(stdout, &first) == -1)
			goto out;
		for (i = 0; i < PQntuples(res); i++) {
			if ((o = cJSON_CreateObject()) != NULL) {
				cJSON_AddStringToObject(o, "family",
				    ctl_col(res, i, 0));
				cJSON_AddStringToObject(o, "user_id", u.id);
				cJSON_AddStringToObject(o, "created_at",
				    ctl_col(res, i, 1));
				table_json_string_or_null(o, "last_rotated_at",
				    ctl_col(res, i, 2));
				cJSON_AddStringToObject(o, "expires_at",
				    ctl_col(res, i, 3));
				cJSON_AddStringToObject(o, "state",
				    ctl_col(res, i, 4));
				cJSON_AddNumberToObject(o, "tokens",
				    strtod(ctl_col(res, i, 5), NULL));
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
				ctl_col(res, i, 0), ctl_col(res, i, 1), ctl_col(res, i, 2),
				ctl_col(res, i, 3), ctl_col(res, i, 4), ctl_col(res, i, 5),
			};
			if (table_add(t, cells) == -1)
				goto out;
		}
		if (table_print(t, stdout) == -1)
			goto out;
		if (PQntuples(res) == 0)
			fprintf(stderr, PROG ": %s has no refresh-token "
			    "families\n", u.username);
	}
	rc = CTL_EXIT_OK;
out:
	PQclear(res);
	table_free(t);
	PQfinish(conn);
	return rc;
}

/* Revokes the family id: 0 with what to say in msg, or an exit
 * status. */
static int
revoke_family(PGconn *conn, const char *id, char *msg, size_t len)
{
	static const char sql[] =
	    "WITH f AS (SELECT user_id FROM refresh_tokens WHERE family = $1"
	    " LIMIT 1),"
	    " rv AS (UPDATE refresh_tokens SET revoked_at = now()"
	    " WHERE family = $1 AND revoked_at IS NULL RETURNING 1)"
	    " SELECT user_id, (SELECT count(*) FROM rv) FROM f";
	const char	*v[1] = { id };
	char		 detail[128], user_id[FIELD_UUID_LEN + 1];
	PGresult	*res;
	int		 n;

	if ((res = ctl_query(conn, sql, 1, v)) == NULL)
		return CTL_EXIT_FAIL;
	if ((n = PQntuples(res)) == 1) {
		str_copy(user_id, PQgetvalue(res, 0, 0), sizeof(user_id));
		str_printf(detail, sizeof(detail),
		    "{\"family\":\"%s\",\"tokens\":%s}", id,
		    PQgetvalue(res, 0, 1));
		str_printf(msg, len, "session %s revoked (%s live token%s)", id,
		    PQgetvalue(res, 0, 1),
		    strcmp(PQgetvalue(res, 0, 1), "1") == 0 ? "" : "s");
	}
	PQclear(res);
	if (n != 1) {
		fprintf(stderr, PROG ": no such session: %s\n", id);
		return CTL_EXIT_NOTFOUND;
	}
	return ctl_audit(conn, user_id, "session_revoked", detail) == 0 ?
	    0 : CTL_EXIT_FAIL;
}

/* Ends every session of the user name, as the API's logout does: 0 with
 * what to say in msg, or an exit status. */
static int
revoke_all(PGconn *conn, const char *name, char *msg, size_t len)
{
	static const char sql[] =
	    "WITH b AS (UPDATE users SET token_version = token_version + 1,"
	    " updated_at = now() WHERE id = $1 RETURNING id),"
	    " rv AS (UPDATE refresh_tokens SET revoked_at = now()"
	    " WHERE user_id = $1 AND revoked_at IS NULL RETURNING 1)"
	    " SELECT count(*) FROM rv";
	struct ctl_user	 u;
	const char	*v[1];
	char		 detail[64];
	PGresult	*res;
	int		 rc;

	if ((rc = ctl_user_find(conn, name, true, &u)) != 0)
		return rc;
	v[0] = u.id;
	if ((res = ctl_query(conn, sql, 1, v)) == NULL)
		return CTL_EXIT_FAIL;
	str_printf(detail, sizeof(detail), "{\"all\":true,\"tokens\":%s}",
	    PQgetvalue(res, 0, 0));
	str_printf(msg, len, "every session of %s ended (%s live refresh "
	    "token%s revoked; its access tokens refused from now)", u.username,
	    PQgetvalue(res, 0, 0),
	    strcmp(PQgetvalue(res, 0, 0), "1") == 0 ? "" : "s");
	PQclear(res);
	return ctl_audit(conn, u.id, "session_revoked", detail) == 0 ?
	    0 : CTL_EXIT_FAIL;
}

int
cmd_session_revoke(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool		 all = false;
	char		 msg[256];
	PGconn		*conn;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			all = true;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_bad_option(ctl, argv);
		}
	}
	if (ctl_operands(ctl, argc - optind) == -1)
		return CTL_EXIT_USAGE;
	if (!all && !field_is_uuid(argv[optind])) {
		fprintf(stderr, PROG ": session revoke: %s is not a family id "
		    "(a UUID, as session list shows); --all USER ends every "
		    "session of a user\n", argv[optind]);
		return CTL_EXIT_USAGE;
	}
	if ((conn = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_FAIL;
	if (ctl_begin(conn) == -1) {
		PQfinish(conn);
		return CTL_EXIT_FAIL;
	}
	rc = all ? revoke_all(conn, argv[optind], msg, sizeof(msg)) :
	    revoke_family(conn, argv[optind], msg, sizeof(msg));
	if (rc == 0 && ctl_commit(conn) == -1)
		rc = CTL_EXIT_FAIL;
	if (rc == 0)
		printf("%s\n", msg);
	if (rc != 0)
		ctl_rollback(conn);
	PQfinish(conn);
	return rc;
}
