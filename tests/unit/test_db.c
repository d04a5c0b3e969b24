/*
 * The asynchronous database pool on a real libevent loop against a real
 * PostgreSQL (DATABASE_URL): round trips with text and binary parameters,
 * queueing past the pool's size, the queue's bound, a transaction left
 * open, cancellation, SQL errors, and the server going away and coming
 * back.
 */
#include <sys/time.h>

#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <libpq-fe.h>

#include "store/db.h"
#include "store/pg_target.h"
#include "dbtest.h"
#include "log.h"

static char		 db_name[64];
static char		 conninfo[2048];
static PGconn		*ctl;		/* the test's own view of db_name */
static PGconn		*admin;		/* DATABASE_URL's database */

static struct event_base *base;
static struct event	*tick;
static int		 ndone;		/* answers so far */
static int		 seq;		/* completion order */

struct answer {
	int		 calls;
	bool		 null;
	ExecStatusType	 status;
	char		 value[256];	/* first row, last column */
	int		 len;
	char		 sqlstate[8];
	int		 order;
};

static void
answer_cb(const PGresult *res, void *arg)
{
	struct answer *a = arg;
	int col;

	a->calls++;
	a->order = seq++;
	ndone++;
	if (res == NULL) {
		a->null = true;
		return;
	}
	a->status = PQresultStatus(res);
	if (a->status == PGRES_TUPLES_OK && PQntuples(res) > 0) {
		col = PQnfields(res) - 1;
		a->len = PQgetlength(res, 0, col);
		if (a->len > (int)sizeof(a->value) - 1)
			a->len = (int)sizeof(a->value) - 1;
		memcpy(a->value, PQgetvalue(res, 0, col), (size_t)a->len);
		a->value[a->len] = '\0';
	}
	if (PQresultErrorField(res, PG_DIAG_SQLSTATE) != NULL)
		snprintf(a->sqlstate, sizeof(a->sqlstate), "%s",
		    PQresultErrorField(res, PG_DIAG_SQLSTATE));
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
}

static long
ms_since(const struct timeval *t0)
{
	struct timeval now;

	gettimeofday(&now, NULL);
	return (now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_usec - t0->tv_usec) / 1000;
}

/* Runs the loop until *counter >= target; false on time-out. */
static bool
wait_count(const int *counter, int target, long timeout_ms)
{
	struct timeval t0;

	gettimeofday(&t0, NULL);
	while (*counter < target) {
		if (ms_since(&t0) > timeout_ms)
			return false;
		event_base_loop(base, EVLOOP_ONCE);
	}
	return true;
}

/* Runs the loop until db_pool_ready() is want; false on time-out. */
static bool
wait_ready(struct db_pool *pool, bool want, long timeout_ms)
{
	struct timeval t0;

	gettimeofday(&t0, NULL);
	while (db_pool_ready(pool) != want) {
		if (ms_since(&t0) > timeout_ms)
			return false;
		event_base_loop(base, EVLOOP_ONCE);
	}
	return true;
}

/* Runs the loop for ms milliseconds. */
static void
spin(long ms)
{
	struct timeval t0;

	gettimeofday(&t0, NULL);
	while (ms_since(&t0) < ms)
		event_base_loop(base, EVLOOP_ONCE);
}

static struct db_pool *
pool_up(unsigned int size)
{
	struct db_pool *pool = db_pool_new(base, conninfo, size, 0);
	struct db_stats st;
	struct timeval t0;

	assert_non_null(pool);
	gettimeofday(&t0, NULL);
	do {
		assert_true(ms_since(&t0) < 10000);
		event_base_loop(base, EVLOOP_ONCE);
		db_pool_stats(pool, &st);
	} while (st.up < size);
	return pool;
}

static long
ctl_count(const char *sql)
{
	char v[64];

	assert_true(dbt_value(ctl, sql, 0, NULL, v, sizeof(v)));
	return strtol(v, NULL, 10);
}

/* Closes every pool connection to the test database from outside. */
static void
terminate_pool(void)
{
	const char *p[1] = { db_name };
	char v[32];

	assert_true(dbt_value(admin, "SELECT count(pg_terminate_backend(pid)) "
	    "FROM pg_stat_activity WHERE datname = $1 AND "
	    "application_name = 'wardend'", 1, p, v, sizeof(v)));
	assert_true(strtol(v, NULL, 10) >= 1);
}

static void
allow_connections(bool allow)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS %s",
	    db_name, allow ? "true" : "false");
	assert_int_equal(dbt_exec(admin, sql), PGRES_COMMAND_OK);
}

/* --- fixtures --------------------------------------------------------- */

static int
group_setup(void **state)
{
	struct timeval tv = { 0, 50 * 1000 };

	if (!dbt_create_db("test_db", db_name, sizeof(db_name), conninfo,
	    sizeof(conninfo)) || (ctl = dbt_connect(conninfo)) == NULL ||
	    (admin = dbt_connect(getenv("DATABASE_URL"))) == NULL)
		return -1;
	if (dbt_exec(ctl, "CREATE TABLE t (k text)") != PGRES_COMMAND_OK)
		return -1;
	/* A tick, so that the loop never sleeps long in EVLOOP_ONCE. */
	if ((base = event_base_new()) == NULL ||
	    (tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL)) == NULL ||
	    event_add(tick, &tv) == -1)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	event_free(tick);
	event_base_free(base);
	PQfinish(ctl);
	allow_connections(true);
	PQfinish(admin);
	dbt_drop_db(db_name);
	return 0;
}

static int
reset(void **state)
{
	ndone = 0;
	seq = 0;
	return dbt_exec(ctl, "TRUNCATE t") == PGRES_COMMAND_OK ? 0 : -1;
}

/* --- tests ------------------------------------------------------------ */

static void
test_round_trip(void **state)
{
	struct db_pool *pool = pool_up(2);
	struct answer a = { 0 }, b = { 0 }, c = { 0 };
	char param[16] = "41";
	const char *p[1] = { param };
	const char *pn[1] = { NULL };
	uint32_t be = htonl(41), got;
	const char *bv[1] = { (const char *)&be };
	int blen[1] = { 4 }, bfmt[1] = { 1 };

	assert_true(db_pool_ready(pool));
	assert_non_null(db_query(pool, "SELECT $1::int + 1", 1, p, answer_cb,
	    &a));
	/* Parameters are copied; the callback never runs inside the call. */
	snprintf(param, sizeof(param), "999");
	assert_int_equal(a.calls, 0);
	assert_non_null(db_query(pool, "SELECT $1::text IS NULL", 1, pn,
	    answer_cb, &b));
	assert_non_null(db_query_params(pool, "SELECT $1::int4 + 1", 1, bv,
	    blen, bfmt, 1, answer_cb, &c));
	assert_true(wait_count(&ndone, 3, 5000));

	assert_int_equal(a.calls, 1);
	assert_false(a.null);
	assert_int_equal(a.status, PGRES_TUPLES_OK);
	assert_string_equal(a.value, "42");
	assert_string_equal(b.value, "t");
	/* Binary in, binary out: a big-endian int4. */
	assert_int_equal(c.status, PGRES_TUPLES_OK);
	assert_int_equal(c.len, 4);
	memcpy(&got, c.value, 4);
	assert_int_equal(ntohl(got), 42);
	db_pool_free(pool);
}

#define NQ 10

static void
test_more_queries_than_connections(void **state)
{
	struct db_pool *pool = pool_up(2);
	struct answer a[NQ];
	struct db_stats st;
	char v[NQ][16];
	int i;

	memset(a, 0, sizeof(a));
	for (i = 0; i < NQ; i++) {
		const char *p[1] = { v[i] };

		snprintf(v[i], sizeof(v[i]), "%d", i);
		assert_non_null(db_query(pool, "SELECT $1::int FROM "
		    "pg_sleep(0.05)", 1, p, answer_cb, &a[i]));
	}
	db_pool_stats(pool, &st);
	assert_int_equal(st.size, 2);
	assert_int_equal(st.up, 2);
	assert_int_equal(st.in_use, 2);
	assert_int_equal(st.waiting, NQ - 2);
	assert_true(wait_count(&ndone, NQ, 10000));
	for (i = 0; i < NQ; i++) {
		assert_int_equal(a[i].calls, 1);
		assert_int_equal(a[i].status, PGRES_TUPLES_OK);
		assert_string_equal(a[i].value, v[i]);
	}
	db_pool_stats(pool, &st);
	assert_int_equal(st.waiting, 0);
	assert_int_equal(st.in_use, 0);
	assert_true(st.queries >= NQ);
	db_pool_free(pool);
}

static void
test_fifo(void **state)
{
	struct db_pool *pool = pool_up(1);
	struct answer a[5];
	int i;

	memset(a, 0, sizeof(a));
	for (i = 0; i < 5; i++)
		assert_non_null(db_query(pool, "SELECT 1", 0, NULL, answer_cb,
		    &a[i]));
	assert_true(wait_count(&ndone, 5, 5000));
	for (i = 0; i < 5; i++)
		assert_int_equal(a[i].order, i);
	db_pool_free(pool);
}

static void
test_queue_bound(void **state)
{
	struct db_pool *pool = pool_up(1);
	struct answer a[4], b[2];
	struct db_stats st;
	int i;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	db_pool_set_max_queue(pool, 2);
	/* One runs, two wait, the fourth is refused (on the next turn). */
	for (i = 0; i < 4; i++)
		assert_non_null(db_query(pool, "SELECT pg_sleep(0.1)", 0, NULL,
		    answer_cb, &a[i]));
	assert_int_equal(a[3].calls, 0);
	assert_true(wait_count(&ndone, 1, 5000));
	assert_true(a[3].null);
	assert_int_equal(a[0].calls, 0);
	assert_true(wait_count(&ndone, 4, 5000));
	for (i = 0; i < 3; i++) {
		assert_false(a[i].null);
		assert_int_equal(a[i].status, PGRES_TUPLES_OK);
	}
	db_pool_stats(pool, &st);
	assert_int_equal(st.failed, 1);

	/* A bound of 0: only an idle connection takes a query. */
	db_pool_set_max_queue(pool, 0);
	assert_non_null(db_query(pool, "SELECT 1", 0, NULL, answer_cb, &b[0]));
	assert_non_null(db_query(pool, "SELECT 2", 0, NULL, answer_cb, &b[1]));
	assert_true(wait_count(&ndone, 6, 5000));
	assert_string_equal(b[0].value, "1");
	assert_true(b[1].null);
	db_pool_free(pool);
}

static void
test_open_transaction_is_rolled_back(void **state)
{
	struct db_pool *pool = pool_up(1);
	struct answer a[2], c = { 0 };
	const char *p[1] = { "rollback-1" };

	memset(a, 0, sizeof(a));
	/* A query that leaves a transaction open: the pool rolls it back
	 * before the (only) connection serves anyone else. */
	assert_non_null(db_query(pool, "BEGIN ISOLATION LEVEL REPEATABLE READ",
	    0, NULL, answer_cb, &a[0]));
	assert_non_null(db_query(pool, "SELECT "
	    "current_setting('transaction_isolation')", 0, NULL, answer_cb,
	    &c));
	assert_true(wait_count(&ndone, 2, 5000));
	assert_int_equal(a[0].status, PGRES_COMMAND_OK);
	assert_string_equal(c.value, "read committed");

	/* So the next query is never part of it: its write commits. */
	assert_non_null(db_query(pool, "BEGIN", 0, NULL, answer_cb, &a[0]));
	assert_non_null(db_query(pool, "INSERT INTO t VALUES ($1)", 1, p,
	    answer_cb, &a[1]));
	assert_true(wait_count(&ndone, 4, 5000));
	assert_int_equal(a[1].status, PGRES_COMMAND_OK);
	assert_int_equal(ctl_count("SELECT count(*) FROM t WHERE k = "
	    "'rollback-1'"), 1);
	db_pool_free(pool);
}

/*
 * The pool's timeout: a statement stuck behind a lock is cancelled by the
 * server (57014) once it has run that long, and the query queued behind
 * it, which has waited as long by then, fails without ever being sent,
 * or, when the cancellation reaches the pool before its own wait has run
 * out (a loaded machine: the two deadlines are microseconds apart), is
 * sent and cancelled behind the same lock: its write never happens.
 */
static void
test_timeout_bounds_running_and_waiting_queries(void **state)
{
	struct db_pool *pool = db_pool_new(base, conninfo, 1, 1);
	struct answer stuck = { 0 }, queued = { 0 };
	const char *p[1] = { "after-timeout" };
	struct db_stats st;
	struct timeval t0;

	assert_non_null(pool);
	gettimeofday(&t0, NULL);
	do {
		assert_true(ms_since(&t0) < 10000);
		event_base_loop(base, EVLOOP_ONCE);
		db_pool_stats(pool, &st);
	} while (st.up < 1);
	assert_int_equal(dbt_exec(ctl, "BEGIN"), PGRES_COMMAND_OK);
	assert_int_equal(dbt_exec(ctl, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE"),
	    PGRES_COMMAND_OK);
	assert_non_null(db_query(pool, "SELECT count(*) FROM t", 0, NULL,
	    answer_cb, &stuck));
	assert_non_null(db_query(pool, "INSERT INTO t VALUES ($1)", 1, p,
	    answer_cb, &queued));
	assert_true(wait_count(&ndone, 2, 10000));
	assert_int_equal(dbt_exec(ctl, "COMMIT"), PGRES_COMMAND_OK);
	assert_string_equal(stuck.sqlstate, "57014");
	assert_true(queued.null || strcmp(queued.sqlstate, "57014") == 0);
	spin(200);
	assert_int_equal(ctl_count("SELECT count(*) FROM t WHERE k = "
	    "'after-timeout'"), 0);
	/* The connection serves again. */
	assert_non_null(db_query(pool, "SELECT 1", 0, NULL, answer_cb,
	    &stuck));
	assert_true(wait_count(&ndone, 3, 5000));
	assert_string_equal(stuck.value, "1");
	db_pool_free(pool);
}

/* The url's own options stay beside the statement timeout. */
static void
test_timeout_keeps_the_url_options(void **state)
{
	char	 url[2200];
	struct db_pool *pool;
	struct answer a = { 0 }, b = { 0 };

	snprintf(url, sizeof(url), "%s options='-c work_mem=1234kB'", conninfo);
	assert_non_null(pool = db_pool_new(base, url, 1, 7));
	assert_non_null(db_query(pool, "SELECT current_setting('work_mem')", 0,
	    NULL, answer_cb, &a));
	assert_non_null(db_query(pool,
	    "SELECT current_setting('statement_timeout')", 0, NULL, answer_cb,
	    &b));
	assert_true(wait_count(&ndone, 2, 10000));
	assert_string_equal(a.value, "1234kB");
	assert_string_equal(b.value, "7s");
	db_pool_free(pool);
}

/* A chain: each answer submits the next query from its callback. */
struct chain {
	struct db_pool	*pool;
	int		 left;
	int		 answers;
	bool		 failed;
};

static void
chain_cb(const PGresult *res, void *arg)
{
	struct chain *ch = arg;

	ch->answers++;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		ch->failed = true;
	if (--ch->left > 0 && db_query(ch->pool, "SELECT 1", 0, NULL,
	    chain_cb, ch) == NULL)
		ch->failed = true;
}

static void
test_reentrant_callbacks(void **state)
{
	struct db_pool *pool = pool_up(1);
	struct chain ch = { pool, 20, 0, false };
	struct answer a = { 0 };

	assert_non_null(db_query(pool, "SELECT 1", 0, NULL, chain_cb, &ch));
	/* Queued behind the chain's first query; the chain's next ones
	 * queue behind it in turn. */
	assert_non_null(db_query(pool, "SELECT 'after the first'", 0, NULL,
	    answer_cb, &a));
	assert_true(wait_count(&ch.answers, 20, 10000));
	assert_false(ch.failed);
	assert_true(wait_count(&ndone, 1, 5000));
	assert_string_equal(a.value, "after the first");
	db_pool_free(pool);
}

static void
test_cancel(void **state)
{
	struct db_pool *pool = pool_up(1);
	struct answer a[6];
	struct db_req *r;
	const char *p[1] = { "cancelled" };

	memset(a, 0, sizeof(a));
	/* In flight: it runs, nobody hears of it. */
	assert_non_null(r = db_query(pool, "SELECT pg_sleep(0.2)", 0, NULL,
	    answer_cb, &a[0]));
	db_cancel(r);
	/* Queued: it never runs. */
	assert_non_null(r = db_query(pool, "INSERT INTO t VALUES ($1)", 1, p,
	    answer_cb, &a[1]));
	db_cancel(r);
	assert_non_null(db_query(pool, "SELECT 3", 0, NULL, answer_cb, &a[2]));
	assert_true(wait_count(&ndone, 1, 5000));
	assert_string_equal(a[2].value, "3");
	assert_int_equal(a[0].calls, 0);
	assert_int_equal(a[1].calls, 0);
	assert_int_equal(ctl_count("SELECT count(*) FROM t"), 0);

	/* Refused (queue full) and cancelled before the refusal came. */
	db_pool_set_max_queue(pool, 0);
	assert_non_null(db_query(pool, "SELECT pg_sleep(0.1)", 0, NULL,
	    answer_cb, &a[3]));
	assert_non_null(r = db_query(pool, "SELECT 5", 0, NULL, answer_cb,
	    &a[4]));
	db_cancel(r);
	assert_true(wait_count(&ndone, 2, 5000));
	spin(50);
	assert_int_equal(a[3].calls, 1);
	assert_int_equal(a[4].calls, 0);
	db_pool_free(pool);
}

static void
test_sql_errors(void **state)
{
	struct db_pool *pool = pool_up(1);
	struct answer a[5];
	const char *p[1] = { "abc" };

	memset(a, 0, sizeof(a));
	assert_non_null(db_query(pool, "SELEC 1", 0, NULL, answer_cb, &a[0]));
	assert_non_null(db_query(pool, "SELECT 1/0", 0, NULL, answer_cb,
	    &a[1]));
	assert_non_null(db_query(pool, "SELECT $1::int", 1, p, answer_cb,
	    &a[2]));
	/* One statement per query: parameters need the extended protocol. */
	assert_non_null(db_query(pool, "SELECT 1; SELECT 2", 0, NULL,
	    answer_cb, &a[3]));
	assert_non_null(db_query(pool, "SELECT 'still fine'", 0, NULL,
	    answer_cb, &a[4]));
	assert_true(wait_count(&ndone, 5, 5000));
	assert_false(a[0].null);
	assert_int_equal(a[0].status, PGRES_FATAL_ERROR);
	assert_string_equal(a[0].sqlstate, "42601");
	assert_string_equal(a[1].sqlstate, "22012");
	assert_string_equal(a[2].sqlstate, "22P02");
	assert_int_equal(a[3].status, PGRES_FATAL_ERROR);
	assert_string_equal(a[3].sqlstate, "42601");
	assert_string_equal(a[4].value, "still fine");
	assert_true(db_pool_ready(pool));
	db_pool_free(pool);
}

static void
test_server_goes_away(void **state)
{
	struct db_pool *pool = pool_up(2);
	struct answer a = { 0 }, b = { 0 };
	struct db_stats st;
	struct timeval t0;

	assert_non_null(db_query(pool, "SELECT pg_sleep(30)", 0, NULL,
	    answer_cb, &a));
	spin(100);
	terminate_pool();
	/* The query in flight fails with NULL... */
	assert_true(wait_count(&ndone, 1, 5000));
	assert_int_equal(a.calls, 1);
	assert_true(a.null);
	/* ...the idle connection notices too (the server closes it)... */
	gettimeofday(&t0, NULL);
	do {
		assert_true(ms_since(&t0) < 5000);
		event_base_loop(base, EVLOOP_ONCE);
		db_pool_stats(pool, &st);
	} while (st.connect_failures < 2);
	/* ...and the pool comes back by itself. */
	assert_true(wait_ready(pool, true, 10000));
	assert_non_null(db_query(pool, "SELECT 'back'", 0, NULL, answer_cb,
	    &b));
	assert_true(wait_count(&ndone, 2, 10000));
	assert_string_equal(b.value, "back");
	db_pool_free(pool);
}

static void
test_server_down(void **state)
{
	struct db_pool *pool = pool_up(1);
	struct answer a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	struct timeval t0;

	assert_non_null(db_query(pool, "SELECT pg_sleep(30)", 0, NULL,
	    answer_cb, &a));
	assert_non_null(db_query(pool, "SELECT 2", 0, NULL, answer_cb, &b));
	spin(100);
	/* No way back in: every connection is gone and stays gone. */
	allow_connections(false);
	terminate_pool();
	assert_true(wait_count(&ndone, 2, 5000));
	assert_true(a.null);
	assert_true(b.null);
	assert_false(db_pool_ready(pool));
	spin(300);
	assert_false(db_pool_ready(pool));

	/* While down, requests fail at once rather than wait. */
	gettimeofday(&t0, NULL);
	assert_non_null(db_query(pool, "SELECT 3", 0, NULL, answer_cb, &c));
	assert_int_equal(c.calls, 0);
	assert_true(wait_count(&ndone, 3, 5000));
	assert_true(c.null);
	/* "At once": well under the 5 s a waiting request would take, with
	 * room for a slow sanitizer build on a loaded machine. */
	assert_true(ms_since(&t0) < 3000);

	/* The server takes connections again: the pool reconnects. */
	allow_connections(true);
	assert_true(wait_ready(pool, true, 15000));
	assert_non_null(db_query(pool, "SELECT 4", 0, NULL, answer_cb, &d));
	assert_true(wait_count(&ndone, 4, 5000));
	assert_string_equal(d.value, "4");
	db_pool_free(pool);
}

static void
test_free_with_pending(void **state)
{
	struct db_pool *pool = pool_up(1);
	struct answer a = { 0 }, b = { 0 };

	assert_non_null(db_query(pool, "SELECT pg_sleep(0.5)", 0, NULL,
	    answer_cb, &a));
	assert_non_null(db_query(pool, "SELECT 2", 0, NULL, answer_cb, &b));
	/* Every pending request hears of the end, at once. */
	db_pool_free(pool);
	assert_int_equal(a.calls, 1);
	assert_true(a.null);
	assert_int_equal(b.calls, 1);
	assert_true(b.null);
}

static void
test_bad_arguments(void **state)
{
	struct db_pool *pool;
	struct answer a = { 0 };
	const char *p[1] = { "x" };
	int len[1] = { -1 }, fmt[1] = { 1 }, badfmt[1] = { 7 };

	assert_null(db_pool_new(base, "postgresql://[::1", 1, 0));
	assert_null(db_pool_new(base, "nosuchoption=1", 1, 0));
	assert_null(db_pool_new(base, conninfo, 0, 0));
	assert_null(db_pool_new(NULL, conninfo, 1, 0));

	pool = pool_up(1);
	assert_null(db_query(pool, NULL, 0, NULL, answer_cb, &a));
	assert_null(db_query(pool, "SELECT 1", -1, NULL, answer_cb, &a));
	assert_null(db_query(pool, "SELECT 1", 1, NULL, answer_cb, &a));
	assert_null(db_query(pool, "SELECT 1", DB_MAX_PARAMS + 1, p, answer_cb,
	    &a));
	assert_null(db_query(pool, "SELECT 1", 0, NULL, NULL, &a));
	assert_null(db_query_params(pool, "SELECT $1", 1, p, len, fmt, 0,
	    answer_cb, &a));
	assert_null(db_query_params(pool, "SELECT $1", 1, p, NULL, badfmt, 0,
	    answer_cb, &a));
	assert_null(db_query_params(pool, "SELECT 1", 0, NULL, NULL, NULL, 2,
	    answer_cb, &a));
	spin(50);
	assert_int_equal(a.calls, 0);
	db_pool_free(pool);
	db_pool_free(NULL);
}


static void
test_host_lists_turn(void **state)
{
	char	 out[64];

	assert_int_equal(pg_list_rotate("a,b,c", 3, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "b,c,a");
	assert_int_equal(pg_list_rotate("a,b,c", 3, 2, out, sizeof(out)), 0);
	assert_string_equal(out, "c,a,b");
	assert_int_equal(pg_list_rotate("a,b,c", 3, 3, out, sizeof(out)), 0);
	assert_string_equal(out, "a,b,c");
	assert_int_equal(pg_list_rotate("host-one,h2", 2, 1, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "h2,host-one");
	assert_int_equal(pg_list_rotate("alone", 1, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "alone");
	/* Another count than the host list's, or no room: refused. */
	assert_int_equal(pg_list_rotate("a,b", 3, 1, out, sizeof(out)), -1);
	assert_int_equal(pg_list_rotate("a,b,c", 3, 1, out, 5), -1);
}

static void
test_target_reads_the_url(void **state)
{
	struct pg_target t;

	assert_int_equal(pg_target_init(&t, "host=a,b,c port=1,2,3 "
	    "connect_timeout=7 dbname=x"), 0);
	assert_int_equal(t.nhosts, 3);
	assert_int_equal(pg_target_connect_ms(&t), 7000);
	pg_target_skip(&t);
	pg_target_skip(&t);
	pg_target_skip(&t);
	assert_int_equal(t.first, 0);	/* round the list */
	pg_target_free(&t);

	assert_int_equal(pg_target_init(&t, "postgresql:///warden"), 0);
	assert_int_equal(t.nhosts, 1);
	assert_int_equal(pg_target_connect_ms(&t), PG_CONNECT_MS_DEFAULT);
	pg_target_skip(&t);
	assert_int_equal(t.first, 0);
	pg_target_free(&t);

	/* libpq's floor: connect_timeout=1 is 2 s. */
	assert_int_equal(pg_target_init(&t, "postgresql://h1:5,h2:6/w?"
	    "connect_timeout=1&target_session_attrs=read-write"), 0);
	assert_int_equal(t.nhosts, 2);
	assert_int_equal(pg_target_connect_ms(&t), 2000);
	pg_target_free(&t);

	assert_int_equal(pg_target_init(&t, "host=a,b,c,d,e,f,g,h,i,j,k,l,"
	    "m,n,o,p,q dbname=x"), -1);
}

/*
 * A first host that takes the TCP connection and then says nothing
 * (dbt_silent_first_host()) must not hold the pool: the attempt is bounded
 * and the next starts at the real server, the list's second host.
 */
static void
test_a_silent_first_host_is_passed_over(void **state)
{
	char	 url[4096];
	struct db_pool *pool;
	struct answer a = { 0 };
	int	 fd;

	assert_true((fd = dbt_silent_first_host(conninfo, url,
	    sizeof(url))) >= 0);
	assert_non_null(pool = db_pool_new(base, url, 1, 0));
	/* A safeguard against a hang, not a measure: without the bound the
	 * attempt waits for the silent host until TCP gives up (minutes). */
	assert_true(wait_ready(pool, true, 30000));
	assert_non_null(db_query(pool, "SELECT 5", 0, NULL, answer_cb, &a));
	assert_true(wait_count(&ndone, 1, 5000));
	assert_string_equal(a.value, "5");
	db_pool_free(pool);
	close(fd);
}

/*
 * The server stops answering with the connections open (its processes
 * stopped: no statement_timeout, no reset, and the kernel still
 * acknowledges): the query in flight fails with NULL once the timeout and
 * its grace are past, the idle connection is dropped with it (not
 * ready), and the pool comes back once the server does.
 */
static void
test_a_frozen_server_is_dropped(void **state)
{
	struct db_pool *pool = db_pool_new(base, conninfo, 2, 1);
	struct answer a = { 0 }, b = { 0 };
	struct db_stats st;
	struct timeval t0;

	assert_non_null(pool);
	gettimeofday(&t0, NULL);
	do {
		assert_true(ms_since(&t0) < 10000);
		event_base_loop(base, EVLOOP_ONCE);
		db_pool_stats(pool, &st);
	} while (st.up < 2);
	assert_int_equal(dbt_signal_backends(admin, db_name, SIGSTOP), 2);
	assert_non_null(db_query(pool, "SELECT 1", 0, NULL, answer_cb, &a));
	/* A safeguard, not a measure: the deadline is 1 s + 2 s. */
	assert_true(wait_count(&ndone, 1, 15000));
	assert_true(a.null);
	db_pool_stats(pool, &st);
	assert_int_equal(st.up, 0);
	assert_false(db_pool_ready(pool));
	/* The stopped processes go on, find their clients gone, and exit. */
	(void)dbt_signal_backends(admin, db_name, SIGCONT);
	assert_true(wait_ready(pool, true, 15000));
	assert_non_null(db_query(pool, "SELECT 'back'", 0, NULL, answer_cb,
	    &b));
	assert_true(wait_count(&ndone, 2, 5000));
	assert_string_equal(b.value, "back");
	db_pool_free(pool);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_round_trip, reset),
		cmocka_unit_test_setup(test_more_queries_than_connections, reset),
		cmocka_unit_test_setup(test_fifo, reset),
		cmocka_unit_test_setup(test_queue_bound, reset),
		cmocka_unit_test_setup(test_open_transaction_is_rolled_back,
		    reset),
		cmocka_unit_test_setup(test_reentrant_callbacks, reset),
		cmocka_unit_test_setup(test_cancel, reset),
		cmocka_unit_test_setup(test_sql_errors, reset),
		cmocka_unit_test_setup(test_server_goes_away, reset),
		cmocka_unit_test_setup(test_server_down, reset),
		cmocka_unit_test_setup(test_free_with_pending, reset),
		cmocka_unit_test_setup(test_bad_arguments, reset),
		cmocka_unit_test_setup(
		    test_timeout_bounds_running_and_waiting_queries, reset),
		cmocka_unit_test_setup(test_timeout_keeps_the_url_options,
		    reset),
		cmocka_unit_test(test_host_lists_turn),
		cmocka_unit_test(test_target_reads_the_url),
		cmocka_unit_test_setup(test_a_silent_first_host_is_passed_over,
		    reset),
		cmocka_unit_test_setup(test_a_frozen_server_is_dropped, reset),
	};

	dbt_require_url("test_db");
	log_init("test_db", LOG_ERROR, false);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
