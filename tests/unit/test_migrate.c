/*
 * Migrations against a real PostgreSQL (DATABASE_URL): the embedded list,
 * a first run on an empty database, a second run that does nothing,
 * concurrent runners serialised by the advisory lock, and a failing file
 * that leaves no trace.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "dbtest.h"
#include "log.h"
#include "store/migrate.h"

/* A fresh database for one test. */
struct fresh {
	char	 name[64];
	char	 conninfo[2048];
	PGconn	*conn;
};

static int
fresh_setup(void **state)
{
	static int seq;
	struct fresh *f = calloc(1, sizeof(*f));
	char prefix[32];

	if (f == NULL)
		return -1;
	snprintf(prefix, sizeof(prefix), "test_migrate%d", seq++);
	if (!dbt_create_db(prefix, f->name, sizeof(f->name), f->conninfo,
	    sizeof(f->conninfo)) || (f->conn = dbt_connect(f->conninfo)) ==
	    NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
fresh_teardown(void **state)
{
	struct fresh *f = *state;

	PQfinish(f->conn);
	dbt_drop_db(f->name);
	free(f);
	return 0;
}

static long
count(PGconn *c, const char *sql)
{
	char v[64];

	if (!dbt_value(c, sql, 0, NULL, v, sizeof(v)))
		return -1;
	return strtol(v, NULL, 10);
}

static void
test_embedded_list(void **state)
{
	size_t i;

	assert_true(migrate_nfiles >= 1);
	for (i = 0; i < migrate_nfiles; i++) {
		const struct migration *m = &migrate_files[i];
		char num[5];

		assert_non_null(m->name);
		assert_non_null(m->sql);
		assert_int_equal(strlen(m->sql), m->len);
		assert_true(m->len > 0);
		/* NNNN_name.sql with NNNN == version. */
		assert_true(strlen(m->name) > 9);
		memcpy(num, m->name, 4);
		num[4] = '\0';
		assert_int_equal(strtol(num, NULL, 10), m->version);
		assert_int_equal(m->name[4], '_');
		assert_string_equal(m->name + strlen(m->name) - 4, ".sql");
		if (i > 0)
			assert_true(m->version > migrate_files[i - 1].version);
	}
	assert_int_equal(migrate_files[0].version, 1);
	assert_string_equal(migrate_files[0].name, "0001_init.sql");
}

static void
test_apply_then_noop(void **state)
{
	struct fresh *f = *state;
	char err[512] = "", v[64];
	PGresult *r;
	size_t i;

	assert_int_equal(migrate_current(f->conn, err, sizeof(err)), 0);
	assert_int_equal(migrate_run(f->conn, err, sizeof(err)),
	    (int)migrate_nfiles);
	assert_string_equal(err, "");
	assert_int_equal(migrate_current(f->conn, err, sizeof(err)),
	    migrate_files[migrate_nfiles - 1].version);

	/* schema_migrations lists every file, in order. */
	r = PQexec(f->conn, "SELECT version, name, applied_at <= now() "
	    "FROM schema_migrations ORDER BY version");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(r), (int)migrate_nfiles);
	for (i = 0; i < migrate_nfiles; i++) {
		assert_int_equal(strtol(PQgetvalue(r, (int)i, 0), NULL, 10),
		    migrate_files[i].version);
		assert_string_equal(PQgetvalue(r, (int)i, 1),
		    migrate_files[i].name);
		assert_string_equal(PQgetvalue(r, (int)i, 2), "t");
	}
	PQclear(r);

	/* The tables of the design are there. */
	assert_true(dbt_value(f->conn, "SELECT to_regclass('users') IS NOT NULL "
	    "AND to_regclass('refresh_tokens') IS NOT NULL "
	    "AND to_regclass('audit_events') IS NOT NULL", 0, NULL, v,
	    sizeof(v)));
	assert_string_equal(v, "t");

	/* Again: nothing to do, nothing changes. */
	assert_int_equal(migrate_run(f->conn, err, sizeof(err)), 0);
	assert_int_equal(count(f->conn, "SELECT count(*) FROM schema_migrations"),
	    (long)migrate_nfiles);
	/* The advisory lock is released, the session idle. */
	assert_int_equal(count(f->conn, "SELECT count(*) FROM pg_locks "
	    "WHERE locktype = 'advisory'"), 0);
	assert_int_equal(PQtransactionStatus(f->conn), PQTRANS_IDLE);
}

#define RUNNERS 4

static void
test_concurrent_runners(void **state)
{
	struct fresh *f = *state;
	pid_t pids[RUNNERS];
	int i, status, total = 0;

	/* Let the children start together: they all wait for this lock. */
	assert_int_equal(dbt_exec(f->conn,
	    "SELECT pg_advisory_lock(8601807405372878183)"), PGRES_TUPLES_OK);
	for (i = 0; i < RUNNERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] != -1);
		if (pids[i] == 0) {
			char err[512];
			PGconn *c = PQconnectdb(f->conninfo);
			int rc;

			if (PQstatus(c) != CONNECTION_OK)
				_exit(200);
			rc = migrate_run(c, err, sizeof(err));
			if (rc < 0)
				fprintf(stderr, "runner: %s\n", err);
			PQfinish(c);
			_exit(rc < 0 ? 201 : rc);
		}
	}
	/* Wait until every runner is queued on the lock, then let go. */
	for (i = 0; i < 200; i++) {
		if (count(f->conn, "SELECT count(*) FROM pg_locks WHERE "
		    "locktype = 'advisory' AND NOT granted") == RUNNERS)
			break;
		usleep(50 * 1000);
	}
	assert_int_equal(dbt_exec(f->conn,
	    "SELECT pg_advisory_unlock(8601807405372878183)"), PGRES_TUPLES_OK);
	for (i = 0; i < RUNNERS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_true(WEXITSTATUS(status) <= (int)migrate_nfiles);
		total += WEXITSTATUS(status);
	}
	/* Exactly one runner applied each file. */
	assert_int_equal(total, (int)migrate_nfiles);
	assert_int_equal(count(f->conn, "SELECT count(*) FROM schema_migrations"),
	    (long)migrate_nfiles);
}

static void
test_failure_leaves_no_trace(void **state)
{
	struct fresh *f = *state;
	static const struct migration bad[] = {
		{ 1, "0001_a.sql", "CREATE TABLE a (x int);", 23 },
		{ 2, "0002_b.sql", "CREATE TABLE b (x int);\n"
		    "SELECT nosuchcolumn FROM b;", 51 },
	};
	static const struct migration good[] = {
		{ 1, "0001_a.sql", "CREATE TABLE a (x int);", 23 },
		{ 2, "0002_b.sql", "CREATE TABLE b (x int);", 23 },
	};
	char err[512] = "", v[64];

	assert_int_equal(strlen(bad[1].sql), bad[1].len);
	assert_int_equal(migrate_apply(f->conn, bad, 2, err, sizeof(err)), -1);
	/* The reason names the file, the line and the server's words. */
	assert_non_null(strstr(err, "0002_b.sql: line 2: "));
	assert_non_null(strstr(err, "nosuchcolumn"));
	assert_non_null(strstr(err, "SQLSTATE 42703"));

	/* 0001 stays applied; 0002 left nothing behind. */
	assert_true(dbt_value(f->conn, "SELECT to_regclass('a') IS NOT NULL "
	    "AND to_regclass('b') IS NULL", 0, NULL, v, sizeof(v)));
	assert_string_equal(v, "t");
	assert_int_equal(count(f->conn, "SELECT count(*) FROM schema_migrations"),
	    1);
	assert_int_equal(count(f->conn, "SELECT count(*) FROM pg_locks "
	    "WHERE locktype = 'advisory'"), 0);
	assert_int_equal(PQtransactionStatus(f->conn), PQTRANS_IDLE);

	/* Fixed, the file applies. */
	assert_int_equal(migrate_apply(f->conn, good, 2, err, sizeof(err)), 1);
	assert_int_equal(count(f->conn, "SELECT count(*) FROM schema_migrations"),
	    2);
}

static void
test_transaction_control_refused(void **state)
{
	struct fresh *f = *state;
	static const struct migration m[] = {
		{ 1, "0001_c.sql", "ROLLBACK;", 9 },
	};
	char err[512] = "";

	assert_int_equal(migrate_apply(f->conn, m, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0001_c.sql: must not end"));
	assert_int_equal(migrate_current(f->conn, err, sizeof(err)), 0);
}

static void
test_bad_lists(void **state)
{
	struct fresh *f = *state;
	static const struct migration order[] = {
		{ 2, "0002_a.sql", "SELECT 1;", 9 },
		{ 1, "0001_b.sql", "SELECT 1;", 9 },
	};
	static const struct migration nul[] = {
		{ 1, "0001_a.sql", "SELECT 1;", 12 },
	};
	char err[512] = "";

	assert_int_equal(migrate_apply(f->conn, order, 2, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "order"));
	assert_int_equal(migrate_apply(f->conn, nul, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(migrate_apply(NULL, order, 0, err, sizeof(err)), -1);
	/* Nothing was touched. */
	assert_int_equal(migrate_current(f->conn, err, sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_list),
		cmocka_unit_test_setup_teardown(test_apply_then_noop,
		    fresh_setup, fresh_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_runners,
		    fresh_setup, fresh_teardown),
		cmocka_unit_test_setup_teardown(test_failure_leaves_no_trace,
		    fresh_setup, fresh_teardown),
		cmocka_unit_test_setup_teardown(test_transaction_control_refused,
		    fresh_setup, fresh_teardown),
		cmocka_unit_test_setup_teardown(test_bad_lists,
		    fresh_setup, fresh_teardown),
	};

	dbt_require_url("test_migrate");
	log_init("test_migrate", LOG_WARN, false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
