/*
 * wardenctl export [FILE]: every user as a line of import_line.h's format,
 * oldest first, read through a cursor in one REPEATABLE READ snapshot so
 * that the file is one moment's state however long it takes.  The hashes
 * are warden's sealed ones (or imported ones not yet replaced): a sealed
 * hash is useful only to a warden that holds the same pepper keys, and is
 * bound to the user's id, which the line carries.  FILE is created with
 * mode 0600 and never overwritten; without it, standard output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "config.h"
#include "ctl.h"
#include "pwformat.h"

#define FETCH_ROWS	"1000"

enum {
	COL_ID, COL_USERNAME, COL_EMAIL, COL_FULL_NAME, COL_ROLES,
	COL_ACTIVE, COL_VERIFIED, COL_CREATED, COL_HASH
};

static const char cursor_sql[] =
    "DECLARE users_out NO SCROLL CURSOR FOR"
    " SELECT id, username, email, full_name, array_to_string(roles, ','),"
    "  is_active, email_verified,"
    "  to_char(created_at AT TIME ZONE 'UTC',"
    "   'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    "  password_hash"
    " FROM users ORDER BY created_at, id";

/* One row as a JSON line on out.  0 or -1. */
static int
write_row(FILE *out, const PGresult *res, int row)
{
	cJSON		*o, *roles;
	char		*text, *list, *r, *save = NULL;
	const char	*hash = PQgetvalue(res, row, COL_HASH), *fmt;
	int		 rc = -1;

	if ((o = cJSON_CreateObject()) == NULL)
		return -1;
	cJSON_AddStringToObject(o, "id", PQgetvalue(res, row, COL_ID));
	cJSON_AddStringToObject(o, "username",
	    PQgetvalue(res, row, COL_USERNAME));
	cJSON_AddStringToObject(o, "email", PQgetvalue(res, row, COL_EMAIL));
	if (PQgetisnull(res, row, COL_FULL_NAME))
		cJSON_AddNullToObject(o, "full_name");
	else
		cJSON_AddStringToObject(o, "full_name",
		    PQgetvalue(res, row, COL_FULL_NAME));
	roles = cJSON_AddArrayToObject(o, "roles");
	if ((list = strdup(PQgetvalue(res, row, COL_ROLES))) == NULL)
		goto out;
	for (r = strtok_r(list, ",", &save); r != NULL && roles != NULL;
	    r = strtok_r(NULL, ",", &save))
		cJSON_AddItemToArray(roles, cJSON_CreateString(r));
	free(list);
	cJSON_AddBoolToObject(o, "is_active",
	    strcmp(PQgetvalue(res, row, COL_ACTIVE), "t") == 0);
	cJSON_AddBoolToObject(o, "email_verified",
	    strcmp(PQgetvalue(res, row, COL_VERIFIED), "t") == 0);
	cJSON_AddStringToObject(o, "created_at",
	    PQgetvalue(res, row, COL_CREATED));
	cJSON_AddStringToObject(o, "password_hash", hash);
	if ((fmt = pwformat_name(pwformat_of(hash))) != NULL)
		cJSON_AddStringToObject(o, "password_format", fmt);
	if ((text = cJSON_PrintUnformatted(o)) == NULL)
		goto out;
	rc = fprintf(out, "%s\n", text) < 0 ? -1 : 0;
	sodium_memzero(text, strlen(text));
	free(text);
out:
	/* The tree holds a copy of the hash. */
	{
		cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "password_hash");

		if (cJSON_IsString(h))
			sodium_memzero(h->valuestring,
			    strlen(h->valuestring));
	}
	cJSON_Delete(o);
	return rc;
}

static FILE *
open_output(const char *path)
{
	FILE	*f;
	int	 fd;

	if (path == NULL || strcmp(path, "-") == 0)
		return stdout;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		fprintf(stderr, PROG ": %s: %s%s\n", path, strerror(errno),
		    errno == EEXIST ? " (export never overwrites a file)" :
		    "");
		return NULL;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(path);	/* ours, and empty */
	}
	return f;
}

int
cmd_export(struct ctl *ctl, int argc, char **argv)
{
	PGconn		*conn = NULL;
	PGresult	*res = NULL;
	FILE		*out = NULL;
	const char	*path = NULL;
	char		 detail[64];
	long		 total = 0;
	int		 i, n, rc = CTL_EXIT_FAIL;

	if (ctl_getopt_plain(ctl, argc, argv, &rc) == -1)
		return rc;
	rc = CTL_EXIT_FAIL;
	if (optind < argc && strcmp(argv[optind], "-") != 0)
		path = argv[optind];
	if ((conn = ctl_connect(ctl)) == NULL ||
	    ctl_db_migrate(conn, false) == -1)
		goto out;
	if ((out = open_output(path)) == NULL) {
		path = NULL;	/* not ours to remove */
		goto out;
	}
	if (ctl_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    0, NULL) == -1 || ctl_exec(conn, cursor_sql, 0, NULL) == -1)
		goto out;
	do {
		if ((res = ctl_query(conn, "FETCH " FETCH_ROWS " FROM "
		    "users_out", 0, NULL)) == NULL)
			goto out;
		n = PQntuples(res);
		for (i = 0; i < n; i++) {
			if (write_row(out, res, i) == -1) {
				fprintf(stderr, PROG ": write: %s\n",
				    strerror(errno));
				goto out;
			}
		}
		total += n;
		PQclear(res);
		res = NULL;
	} while (n > 0);
	ctl_rollback(conn);	/* read only: nothing to commit */
	if (fflush(out) == EOF || (out != stdout && fsync(fileno(out)) ==
	    -1)) {
		fprintf(stderr, PROG ": write: %s\n", strerror(errno));
		goto out;
	}
	snprintf(detail, sizeof(detail), "{\"users\":%ld}", total);
	if (ctl_audit(conn, NULL, "exported", detail) == -1)
		goto out;
	fprintf(stderr, PROG ": exported %ld user%s\n", total,
	    total == 1 ? "" : "s");
	rc = CTL_EXIT_OK;
out:
	PQclear(res);
	if (out != NULL && out != stdout)
		fclose(out);
	/* Half a file would pass for a whole one. */
	if (rc != 0 && path != NULL && out != NULL)
		unlink(path);
	PQfinish(conn);
	return rc;
}
