/*
 * Helpers for unit tests that need PostgreSQL: the throwaway cluster of
 * `scripts/pgtmp run --` (DATABASE_URL), and a fresh database per test
 * program so that programs never see each other's tables.
 *
 * Without DATABASE_URL a test program fails (it never skips): call
 * dbt_require_url() first thing in main().
 *
 * The store's tests (test_store_*.c) also get a migrated database with a
 * pool of the daemon on a libevent loop: struct dbt_store.
 */
#ifndef WARDEN_TESTS_DBTEST_H
#define WARDEN_TESTS_DBTEST_H

#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "store/db.h"
#include "store/migrate.h"

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
 * A listening TCP socket on loopback that nobody accepts from: the kernel
 * completes the handshake and then the "server" says nothing, as a host
 * that went away behind a live network path would.  Writes to url (len
 * bytes) conninfo with that socket as the first of two hosts and the real
 * server of conninfo second, with connect_timeout=2.  Returns the socket
 * (close it after), or -1.
 */
static inline int
dbt_silent_first_host(const char *conninfo, char *url, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	PQconninfoOption *opts, *o;
	const char *host = NULL, *port = "5432";
	char	 hosts[1024], ports[64];
	int	 fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 16) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1 ||
	    (opts = PQconninfoParse(conninfo, NULL)) == NULL) {
		close(fd);
		return -1;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "host") == 0 && o->val != NULL)
			host = o->val;
		if (strcmp(o->keyword, "port") == 0 && o->val != NULL)
			port = o->val;
	}
	snprintf(hosts, sizeof(hosts), "127.0.0.1,%s",
	    host != NULL ? host : "/var/run/postgresql");
	snprintf(ports, sizeof(ports), "%u,%s", ntohs(sin.sin_port), port);
	snprintf(url, len, "%s", conninfo);
	dbt_conninfo_add(url, len, "host", hosts);
	dbt_conninfo_add(url, len, "port", ports);
	dbt_conninfo_add(url, len, "connect_timeout", "2");
	PQconninfoFree(opts);
	return fd;
}

/*
 * Sends sig to the server processes of database name whose application
 * is "wardend" or "wardend-listen" (the pool's and the listeners'
 * connections), through c.
 * Returns how many there were; a process already gone is fine.
 */
static inline int
dbt_signal_backends(PGconn *c, const char *name, int sig)
{
	const char *p[1] = { name };
	PGresult *res;
	int	 i, n;

	res = PQexecParams(c, "SELECT pid FROM pg_stat_activity WHERE "
	    "datname = $1 AND application_name IN ('wardend', "
	    "'wardend-listen')", 1, NULL, p,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++)
		(void)kill((pid_t)strtol(PQgetvalue(res, i, 0), NULL, 10), sig);
	PQclear(res);
	return n;
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

/* A fresh, migrated database, a blocking connection to look at it, and a
 * pool of the daemon on a loop of its own. */
struct dbt_store {
	char			 name[64];
	char			 conninfo[2048];
	PGconn			*ctl;
	struct event_base	*base;
	struct event		*tick;
	struct db_pool		*pool;
};

static inline void
dbt_tick(evutil_socket_t fd, short what, void *arg)
{
	/* Only there so that the loop never sleeps long. */
}

static inline long
dbt_ms_since(const struct timeval *t0)
{
	struct timeval now;

	gettimeofday(&now, NULL);
	return (now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_usec - t0->tv_usec) / 1000;
}

/* Runs s's loop until *counter >= target; false after timeout_ms (a
 * safeguard against a hang, not a measure). */
static inline bool
dbt_wait(struct dbt_store *s, const int *counter, int target,
    long timeout_ms)
{
	struct timeval t0;

	gettimeofday(&t0, NULL);
	while (*counter < target) {
		if (dbt_ms_since(&t0) > timeout_ms)
			return false;
		event_base_loop(s->base, EVLOOP_ONCE);
	}
	return true;
}

/*
 * Creates the database PREFIX_PID with every migration applied, and a pool
 * of size connections to it, up before this returns.  False on failure,
 * the reason on stderr.
 */
static inline bool
dbt_store_open(struct dbt_store *s, const char *prefix, unsigned int size)
{
	struct timeval tv = { 0, 50 * 1000 }, t0;
	struct db_stats st;
	char	 err[512];

	memset(s, 0, sizeof(*s));
	if (!dbt_create_db(prefix, s->name, sizeof(s->name), s->conninfo,
	    sizeof(s->conninfo)) || (s->ctl = dbt_connect(s->conninfo)) == NULL)
		return false;
	if (migrate_run(s->ctl, err, sizeof(err)) < 0) {
		fprintf(stderr, "dbtest: migrate: %s\n", err);
		return false;
	}
	if ((s->base = event_base_new()) == NULL ||
	    (s->tick = event_new(s->base, -1, EV_PERSIST, dbt_tick,
	    NULL)) == NULL || event_add(s->tick, &tv) == -1 ||
	    (s->pool = db_pool_new(s->base, s->conninfo, size, 0)) == NULL)
		return false;
	gettimeofday(&t0, NULL);
	do {
		if (dbt_ms_since(&t0) > 10000) {
			fprintf(stderr, "dbtest: the pool did not come up\n");
			return false;
		}
		event_base_loop(s->base, EVLOOP_ONCE);
		db_pool_stats(s->pool, &st);
	} while (st.up < size);
	return true;
}

/* Frees what dbt_store_open() made and drops the database. */
static inline void
dbt_store_close(struct dbt_store *s)
{
	db_pool_free(s->pool);
	if (s->tick != NULL)
		event_free(s->tick);
	if (s->base != NULL)
		event_base_free(s->base);
	PQfinish(s->ctl);
	if (s->name[0] != '\0')
		dbt_drop_db(s->name);
	memset(s, 0, sizeof(*s));
}

/* Empties the tables of the schema. */
static inline bool
dbt_store_clean(struct dbt_store *s)
{
	return dbt_exec(s->ctl, "TRUNCATE users, refresh_tokens, audit_events "
	    "CASCADE") == PGRES_COMMAND_OK;
}

/* The count(*)-like single number of sql with n text parameters; -1 on
 * error. */
static inline long
dbt_count(PGconn *c, const char *sql, int n, const char *const *params)
{
	char	 v[64];

	if (!dbt_value(c, sql, n, params, v, sizeof(v)))
		return -1;
	return strtol(v, NULL, 10);
}

#endif
