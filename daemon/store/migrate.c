/*
 * Schema migrations with libpq's blocking API (start-up and wardenctl only).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "migrate.h"
#include "util.h"

/* pg_advisory_lock key of the migration runners: "wardenmg" in ASCII. */
#define MIGRATE_LOCK_SQL	"SELECT pg_advisory_lock(8601807405372878183)"
#define MIGRATE_UNLOCK_SQL	"SELECT pg_advisory_unlock(8601807405372878183)"

#define CREATE_TABLE_SQL \
	"CREATE TABLE schema_migrations (" \
	" version integer PRIMARY KEY," \
	" name text NOT NULL," \
	" applied_at timestamptz NOT NULL DEFAULT now())"

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	/* A truncated message is still a message. */
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Line (1-based) of the character at 1-based position pos of sql. */
static unsigned long
line_of(const char *sql, long pos)
{
	unsigned long line = 1;
	long chars = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)sql; *p != '\0'; p++) {
		if ((*p & 0xc0) != 0x80 && ++chars >= pos)
			break;
		if (*p == '\n')
			line++;
	}
	return line;
}

/* Describes the error of res (from running sql, NULL: not a file). */
static void
res_error(PGconn *conn, const PGresult *res, const char *what,
    const char *sql, char *err, size_t errlen)
{
	const char *msg = NULL, *state = NULL, *pos = NULL;
	char where[32] = "";
	char *end;
	long p;
	size_t n;

	if (res != NULL) {
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	}
	if (msg == NULL)
		msg = PQerrorMessage(conn);
	if (sql != NULL && pos != NULL) {
		p = strtol(pos, &end, 10);
		if (*end == '\0' && p > 0)
			(void)snprintf(where, sizeof(where), "line %lu: ",
			    line_of(sql, p));
	}
	seterr(err, errlen, "%s: %s%s%s%s%s", what, where, msg,
	    state != NULL ? " (SQLSTATE " : "", state != NULL ? state : "",
	    state != NULL ? ")" : "");
	/* libpq's own messages end with a newline. */
	n = strlen(err);
	while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
		err[--n] = '\0';
}

/* Runs sql; true when its result has status want. */
static bool
exec_ok(PGconn *conn, const char *sql, ExecStatusType want, const char *what,
    char *err, size_t errlen)
{
	PGresult *res = PQexec(conn, sql);
	bool ok = res != NULL && PQresultStatus(res) == want;

	if (!ok)
		res_error(conn, res, what, NULL, err, errlen);
	PQclear(res);
	return ok;
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Reads the applied versions, sorted, into *out (*n of them). */
static int
applied_versions(PGconn *conn, int **out, size_t *n, char *err, size_t errlen)
{
	PGresult *res;
	int *v = NULL, i, rows;
	long long x;
	const char *errstr;

	*out = NULL;
	*n = 0;
	res = PQexec(conn, "SELECT version FROM schema_migrations");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		res_error(conn, res, "schema_migrations", NULL, err, errlen);
		PQclear(res);
		return -1;
	}
	rows = PQntuples(res);
	if (rows > 0 && (v = reallocarray(NULL, (size_t)rows,
	    sizeof(*v))) == NULL) {
		seterr(err, errlen, "schema_migrations: out of memory");
		PQclear(res);
		return -1;
	}
	for (i = 0; i < rows; i++) {
		if (num_parse(PQgetvalue(res, i, 0), 0, 0x7fffffff, &x,
		    &errstr) == -1) {
			seterr(err, errlen, "schema_migrations: bad version");
			free(v);
			PQclear(res);
			return -1;
		}
		v[i] = (int)x;
	}
	PQclear(res);
	if (rows > 0)
		qsort(v, (size_t)rows, sizeof(*v), cmp_int);
	*out = v;
	*n = (size_t)rows;
	return 0;
}

static bool
has_version(const int *v, size_t n, int version)
{
	return n > 0 && bsearch(&version, v, n, sizeof(*v), cmp_int) != NULL;
}

/* Applies one migration in its own transaction. */
static int
apply_one(PGconn *conn, const struct migration *m, char *err, size_t errlen)
{
	PGresult *res;
	char version[16];
	const char *params[2];

	if (!exec_ok(conn, "BEGIN", PGRES_COMMAND_OK, m->name, err, errlen))
		return -1;
	res = PQexec(conn, m->sql);
	if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_EMPTY_QUERY)) {
		res_error(conn, res, m->name, m->sql, err, errlen);
		PQclear(res);
		goto rollback;
	}
	PQclear(res);
	if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
		seterr(err, errlen, "%s: must not end its transaction "
		    "(no BEGIN/COMMIT in migrations)", m->name);
		goto rollback;
	}

	(void)snprintf(version, sizeof(version), "%d", m->version);
	params[0] = version;
	params[1] = m->name;
	res = PQexecParams(conn, "INSERT INTO schema_migrations "
	    "(version, name) VALUES ($1, $2)", 2, NULL, params, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		res_error(conn, res, m->name, NULL, err, errlen);
		PQclear(res);
		goto rollback;
	}
	PQclear(res);
	res = PQexec(conn, "COMMIT");
	/* A COMMIT of a failed transaction answers ROLLBACK. */
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK ||
	    strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		res_error(conn, res, m->name, NULL, err, errlen);
		PQclear(res);
		goto rollback;
	}
	PQclear(res);
	return 0;
rollback:
	PQclear(PQexec(conn, "ROLLBACK"));
	return -1;
}

/* 1 when schema_migrations exists, 0 when not, -1 on error.  (Checked
 * rather than CREATE ... IF NOT EXISTS, which sends a notice.) */
static int
table_exists(PGconn *conn, char *err, size_t errlen)
{
	PGresult *res;
	int rc;

	res = PQexec(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1) {
		res_error(conn, res, "schema_migrations", NULL, err, errlen);
		PQclear(res);
		return -1;
	}
	rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return rc;
}

static int
check_list(const struct migration *list, size_t n, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct migration *m = &list[i];

		if (m->name == NULL || m->sql == NULL || m->version <= 0 ||
		    (i > 0 && m->version <= list[i - 1].version)) {
			seterr(err, errlen, "migration %zu: bad version or "
			    "order", i);
			return -1;
		}
		if (strlen(m->sql) != m->len) {
			seterr(err, errlen, "%s: holds a NUL byte", m->name);
			return -1;
		}
	}
	return 0;
}

int
migrate_apply(PGconn *conn, const struct migration *list, size_t n,
    char *err, size_t errlen)
{
	int *applied = NULL, count = 0;
	size_t napplied = 0, i;
	int newest_known = n > 0 ? list[n - 1].version : 0, exists;

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		seterr(err, errlen, "not connected to the database");
		return -1;
	}
	if (check_list(list, n, err, errlen) == -1)
		return -1;
	if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
		seterr(err, errlen, "the connection is inside a transaction");
		return -1;
	}
	/* Concurrent runners queue here; the lock goes with the session. */
	if (!exec_ok(conn, MIGRATE_LOCK_SQL, PGRES_TUPLES_OK,
	    "advisory lock", err, errlen))
		return -1;
	if ((exists = table_exists(conn, err, errlen)) == -1 ||
	    (exists == 0 && !exec_ok(conn, CREATE_TABLE_SQL, PGRES_COMMAND_OK,
	    "schema_migrations", err, errlen)) ||
	    applied_versions(conn, &applied, &napplied, err, errlen) == -1) {
		count = -1;
		goto out;
	}
	if (napplied > 0 && applied[napplied - 1] > newest_known)
		log_warn("the database has schema version %d, newer than "
		    "this program's %d", applied[napplied - 1], newest_known);
	for (i = 0; i < n; i++) {
		if (has_version(applied, napplied, list[i].version))
			continue;
		if (apply_one(conn, &list[i], err, errlen) == -1) {
			count = -1;
			goto out;
		}
		log_info("applied migration %s", list[i].name);
		count++;
	}
out:
	free(applied);
	PQclear(PQexec(conn, MIGRATE_UNLOCK_SQL));
	return count;
}

int
migrate_run(PGconn *conn, char *err, size_t errlen)
{
	return migrate_apply(conn, migrate_files, migrate_nfiles, err, errlen);
}

int
migrate_current(PGconn *conn, char *err, size_t errlen)
{
	PGresult *res;
	long long v;
	const char *errstr;
	int exists;

	if ((exists = table_exists(conn, err, errlen)) <= 0)
		return exists;
	res = PQexec(conn, "SELECT coalesce(max(version), 0) "
	    "FROM schema_migrations");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1) {
		res_error(conn, res, "schema_migrations", NULL, err, errlen);
		PQclear(res);
		return -1;
	}
	if (num_parse(PQgetvalue(res, 0, 0), 0, 0x7fffffff, &v,
	    &errstr) == -1) {
		seterr(err, errlen, "schema_migrations: bad version");
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return (int)v;
}
