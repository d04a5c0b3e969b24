/*
 * The database pool: a fixed number of libpq connections driven by the
 * libevent loop through libpq's asynchronous API only (PQconnectStart/Poll,
 * PQsendQueryParams, PQconsumeInput/PQisBusy/PQgetResult, PQflush).  No
 * function here blocks on the server.
 *
 * Queries are always parameterised.  A query goes to an idle connection,
 * or waits in a bounded FIFO queue; past the bound, and while every
 * connection is down, it fails at once (the handler answers 503).
 *
 * Callbacks:
 * - are never called from inside the db_* call that submitted the request
 *   (an error is delivered from the event loop, on its next turn);
 * - are called exactly once per request unless it was cancelled with
 *   db_cancel();
 * - may submit and cancel freely (not db_pool_free()).
 *
 * A result callback gets the query's PGresult, owned by the pool and
 * cleared when the callback returns (PQresultStatus() tells success from a
 * SQL error such as a constraint violation: PQresultErrorField(res,
 * PG_DIAG_SQLSTATE)), or NULL when the connection failed before the answer
 * came (connection lost, server down, queue full, pool shutting down): the
 * query may or may not have run.
 *
 * One statement per query (the extended protocol); no COPY.  There are no
 * transactions across queries: what must change together is one
 * statement (WITH ... parts, as daemon/store writes them).  A transaction
 * that a query leaves open is rolled back before the connection serves
 * the next one.  Session settings (SET) would stay with a pooled
 * connection: do not use them.
 *
 * Connections that fail are reconnected with exponential back-off (100 ms
 * doubling up to 5 s, with jitter).  An attempt is bounded, and a URL may
 * name several hosts: after an attempt that ran out of time the next
 * starts at the following host (pg_target.h).  A query unanswered past
 * the timeout and 2 s more (a server that froze: no reset, and no
 * statement_timeout from it) drops its connection and the pool's others
 * that are up; what they ran is answered NULL.  libpq resolves host names
 * inside PQconnectStart: use a Unix socket or hostaddr= in the URL to keep
 * a DNS wait out of the loop.
 */
#ifndef WARDEN_DB_H
#define WARDEN_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct event_base;
struct db_pool;
struct db_req;

#define DB_MAX_PARAMS		1024	/* parameters of one query */
#define DB_DEFAULT_MAX_QUEUE	1024	/* requests waiting for a connection */

/* res: the result (owned by the pool) or NULL on a connection error. */
typedef void (*db_result_cb)(const PGresult *res, void *arg);

/*
 * Creates a pool of size (1..1000) connections to url (a libpq URL or
 * key=value conninfo string; application_name defaults to "wardend") and
 * starts connecting them on base.  Returns NULL, with the reason logged,
 * on a malformed url, a bad size or no memory.  Nothing blocks.
 *
 * timeout (seconds; 0 for none) is how long a query may take, all told:
 * one that waited that long in the queue fails (NULL) instead of being
 * sent, and the server cancels one that runs longer (statement_timeout,
 * set as a connection option beside the url's own).  Give it the
 * requests' deadline (request_timeout): a query whose request was already
 * answered 503 never changes anything afterwards.
 */
struct db_pool	*db_pool_new(struct event_base *base, const char *url,
		    unsigned int size, int64_t timeout);

/*
 * Closes every connection and frees the pool.  Each pending request's
 * callback is called at once with NULL; those callbacks must not use the
 * pool.  NULL is fine.
 */
void		 db_pool_free(struct db_pool *pool);

/* Sets the bound of the wait queue (default DB_DEFAULT_MAX_QUEUE; 0 means
 * that a request fails when no connection is idle). */
void		 db_pool_set_max_queue(struct db_pool *pool, size_t max);

/* True while at least one connection is up (for /readyz). */
bool		 db_pool_ready(const struct db_pool *pool);

struct db_stats {
	unsigned int	size;		/* connections configured */
	unsigned int	up;		/* connected */
	unsigned int	in_use;		/* running a query */
	size_t		waiting;	/* requests queued for a connection */
	uint64_t	queries;	/* queries sent to the server */
	uint64_t	failed;		/* requests answered with NULL */
	uint64_t	connect_failures; /* failed connects and lost conns */
};

/* Fills *st with the pool's current counters (for /metrics). */
void		 db_pool_stats(const struct db_pool *pool, struct db_stats *st);

/*
 * Runs sql (one statement, $1..$n placeholders) with nparams text
 * parameters (params[i] NULL for SQL NULL; copied, so the caller's memory
 * may go as soon as this returns) and text results, then calls cb(res,
 * arg).  Returns a handle for db_cancel(), valid until the callback has
 * been called or db_cancel() was; NULL (and no callback, ever) on bad
 * arguments or no memory.
 */
struct db_req	*db_query(struct db_pool *pool, const char *sql, int nparams,
		    const char *const *params, db_result_cb cb, void *arg);

/*
 * db_query() with the whole of PQsendQueryParams: lengths[i] (bytes, for
 * binary parameters) and formats[i] (0 text, 1 binary) may each be NULL
 * for all-text; result_format 0 text, 1 binary.
 */
struct db_req	*db_query_params(struct db_pool *pool, const char *sql,
		    int nparams, const char *const *values, const int *lengths,
		    const int *formats, int result_format, db_result_cb cb,
		    void *arg);

/*
 * Detaches the callback of a pending request (the client went away): a
 * request still queued is dropped without running; one already sent runs
 * to completion and its result is discarded.  req becomes invalid.  Never
 * call it from or after the request's callback.
 */
void		 db_cancel(struct db_req *req);

#endif
