/*
 * Helpers for unit tests that need PostgreSQL: the throwaway cluster of
 * `scripts/pgtmp run --` (DATABASE_URL), and a fresh database per test
 * program so that programs never see each other's tables.
 *
 * Without DATABASE_URL a test program fails (it never skips): call
 * dbt_require_url() first thing in main().
 */
#ifndef WARDEN_TESTS_DBTEST_H
#define WARDEN_TESTS_DBTEST_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

/* Exits with status 1 and a clear message when DATABASE_URL is unset. */
static inline const char *
dbt_require_url(const char *prog)
{
	const char *url = getenv("DATABASE_URL");

	if (url == NULL || *url == '\0') {
		fprintf(stderr, "%s: FAILED: DATABASE_URL is not set.  These "
		    "tests need a PostgreSQL server: run them with "
		    "`make check`, or `scripts/pgtmp run -- %s`.\n", prog, prog);
		exit(1);
	}
	return url;
}

static inline void
dbt_quiet(void *arg, const char *msg)
{
	/* "database ... does not exist, skipping" and the like. */
}

/* Blocking connection to conninfo (a URL or key=value string), with the
 * server's notices and warnings silenced; NULL with the reason on stderr. */
static inline PGconn *
dbt_connect(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "dbtest: connect: %s",
		    c != NULL ? PQerrorMessage(c) : "out of memory\n");
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, dbt_quiet, NULL);
	return c;
}

/* Runs sql; the result's status when there is one, else PGRES_FATAL_ERROR.
 * Prints unexpected errors when verbose. */
static inline ExecStatusType
dbt_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (st == PGRES_FATAL_ERROR)
		fprintf(stderr, "dbtest: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	return st;
}

/* The single value of a one-row query with text parameters, copied into
 * out; false (and out "") on error or no row. */
static inline bool
dbt_value(PGconn *c, const char *sql, int n, const char *const *params,
    char *out, size_t outlen)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	bool ok = r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK &&
	    PQntuples(r) == 1 && PQnfields(r) >= 1;

	out[0] = '\0';
	if (ok)
		snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
	else
		fprintf(stderr, "dbtest: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	return ok;
}

/* Appends key='value' (quoted as conninfo wants) to buf. */
static inline void
dbt_conninfo_add(char *buf, size_t len, const char *key, const char *val)
{
	size_t n = strlen(buf);
	const char *p;

	n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s='",
	    n > 0 ? " " : "", key);
	for (p = val; *p != '\0' && n + 3 < len; p++) {
		if (*p == '\'' || *p == '\\')
			buf[n++] = '\\';
		buf[n++] = *p;
	}
	if (n + 2 <= len) {
		buf[n++] = '\'';
		buf[n] = '\0';
	}
}

/*
 * Creates a fresh, empty database named PREFIX_PID and writes its name to
 * name and a conninfo string for it (the server and user of DATABASE_URL)
 * to conninfo.  A database of that name left by an earlier run is dropped
 * first.  Returns false on failure.
 */
static inline bool
dbt_create_db(const char *prefix, char *name, size_t namelen,
    char *conninfo, size_t cilen)
{
	PGconn *c;
	PQconninfoOption *opts, *o;
	char sql[256];
	bool ok;

	if ((c = dbt_connect(getenv("DATABASE_URL"))) == NULL)
		return false;
	snprintf(name, namelen, "%s_%ld", prefix, (long)getpid());
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
	    name);
	ok = dbt_exec(c, sql) == PGRES_COMMAND_OK;
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	ok = ok && dbt_exec(c, sql) == PGRES_COMMAND_OK;
	conninfo[0] = '\0';
	if (ok && (opts = PQconninfo(c)) != NULL) {
		for (o = opts; o->keyword != NULL; o++) {
			if (o->val == NULL || *o->val == '\0' ||
			    strcmp(o->keyword, "dbname") == 0)
				continue;
			dbt_conninfo_add(conninfo, cilen, o->keyword, o->val);
		}
		dbt_conninfo_add(conninfo, cilen, "dbname", name);
		PQconninfoFree(opts);
	}
	PQfinish(c);
	return ok && conninfo[0] != '\0';
}

/* Drops the database name, closing whatever is still connected to it. */
static inline void
dbt_drop_db(const char *name)
{
	PGconn *c;
	char sql[256];

	if ((c = dbt_connect(getenv("DATABASE_URL"))) == NULL)
		return;
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
	    name);
	(void)dbt_exec(c, sql);
	PQfinish(c);
}

#endif
