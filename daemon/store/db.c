/*
 * The database pool on the libevent loop, with libpq's asynchronous API:
 * the pool, its queue and its requests.  A connection's life is
 * db_conn.c; what both share is db_impl.h.
 */
#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "db.h"
#include "clock.h"
#include "db_impl.h"
#include "log.h"

#define DB_MAX_SIZE	1000

/* --- requests --------------------------------------------------------- */

static bool
param_is_text(const int *formats, int i)
{
	return formats == NULL || formats[i] == 0;
}

struct db_req *
db_req_new(struct db_pool *pool, const char *sql, int nparams,
    const char *const *values, const int *lengths, const int *formats,
    int result_format)
{
	struct db_req *r;
	size_t size, sqllen, n, plen;
	char *p;
	int i;

	if (sql == NULL || nparams < 0 || nparams > DB_MAX_PARAMS ||
	    (nparams > 0 && values == NULL) ||
	    (result_format != 0 && result_format != 1))
		return NULL;
	sqllen = strlen(sql) + 1;
	n = (size_t)nparams;
	size = sizeof(*r) + n * (sizeof(char *) + 2 * sizeof(int)) + sqllen;
	for (i = 0; i < nparams; i++) {
		if (formats != NULL && formats[i] != 0 && formats[i] != 1)
			return NULL;
		if (values[i] == NULL)
			continue;
		if (param_is_text(formats, i))
			plen = strlen(values[i]) + 1;
		else if (lengths == NULL || lengths[i] < 0)
			return NULL;
		else
			plen = (size_t)lengths[i];
		if (plen > SIZE_MAX - size)
			return NULL;
		size += plen;
	}
	if ((r = calloc(1, size)) == NULL)
		return NULL;
	r->size = size;
	r->pool = pool;
	r->nparams = nparams;
	r->result_format = result_format;
	p = (char *)(r + 1);
	r->values = (const char **)(void *)p;
	p += n * sizeof(char *);
	r->lengths = (int *)(void *)p;
	p += n * sizeof(int);
	r->formats = (int *)(void *)p;
	p += n * sizeof(int);
	for (i = 0; i < nparams; i++) {
		r->formats[i] = param_is_text(formats, i) ? 0 : 1;
		if (values[i] == NULL)
			continue;
		plen = r->formats[i] == 0 ? strlen(values[i]) + 1 :
		    (size_t)lengths[i];
		r->lengths[i] = r->formats[i] == 0 ? 0 : lengths[i];
		memcpy(p, values[i], plen);
		r->values[i] = p;
		p += plen;
	}
	memcpy(p, sql, sqllen);
	r->sql = p;
	return r;
}

static void
req_free(struct db_req *r)
{
	if (r == NULL)
		return;
	PQclear(r->res);
	/* The parameters may be stored hashes. */
	sodium_memzero(r, r->size);
	free(r);
}

void
db_req_deliver(struct db_req *r, PGresult *res)
{
	db_result_cb cb = r->cb;
	void *arg = r->arg;
	bool call = !r->detached;

	r->where = IN_NOWHERE;
	if (call)
		cb(res, arg);
	PQclear(res);
	req_free(r);
}

void
db_req_fail_later(struct db_req *r, PGresult *res)
{
	struct db_pool *pool = r->pool;

	if (res == NULL)
		pool->nfailed_reqs++;
	PQclear(r->res);
	r->res = res;
	r->where = IN_DONE;
	TAILQ_INSERT_TAIL(&pool->done, r, entry);
	pool->ndone++;
	event_active(pool->done_ev, EV_TIMEOUT, 0);
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_pool *pool = arg;
	struct db_req *r;
	PGresult *res;
	size_t n = pool->ndone;

	/* About as many as were there when we started: a callback that
	 * resubmits on error must not spin the loop here. */
	while (n-- > 0 && (r = TAILQ_FIRST(&pool->done)) != NULL) {
		TAILQ_REMOVE(&pool->done, r, entry);
		pool->ndone--;
		res = r->res;
		r->res = NULL;
		db_req_deliver(r, res);
	}
	if (!TAILQ_EMPTY(&pool->done))
		event_active(pool->done_ev, EV_TIMEOUT, 0);
}

/* --- the pool --------------------------------------------------------- */

static bool
pool_down(const struct db_pool *pool)
{
	return pool->nup == 0 && pool->nfailed == pool->size;
}

void
db_pool_check_down(struct db_pool *pool)
{
	struct db_req *r;

	if (!pool_down(pool))
		return;
	while ((r = TAILQ_FIRST(&pool->queue)) != NULL) {
		TAILQ_REMOVE(&pool->queue, r, entry);
		pool->nqueue--;
		db_req_fail_later(r, NULL);
	}
}

static struct db_conn *
pool_idle_conn(struct db_pool *pool)
{
	unsigned int i;

	for (i = 0; i < pool->size; i++)
		if (db_conn_idle(&pool->conns[i]))
			return &pool->conns[i];
	return NULL;
}

/* Sending calls no callback (a refusal is delivered on the next loop
 * turn). */
void
db_pump(struct db_pool *pool)
{
	struct db_conn *c;
	struct db_req *r;

	if (pool->closing)
		return;
	while ((r = TAILQ_FIRST(&pool->queue)) != NULL &&
	    (c = pool_idle_conn(pool)) != NULL) {
		TAILQ_REMOVE(&pool->queue, r, entry);
		pool->nqueue--;
		/* Its request has been answered by now: sent late, it
		 * would change what the client was told did not happen. */
		if (pool->timeout > 0 &&
		    clock_ms_since(&r->queued) >= 1000.0 * pool->timeout) {
			log_debug("database: a query waited %lld s in the "
			    "queue: dropped", (long long)pool->timeout);
			db_req_fail_later(r, NULL);
			continue;
		}
		db_conn_send(c, r);
	}
}

/* The connection options: the url's own (opts), then the server-side
 * bound of a statement.  NULL without a timeout; -1 when out of memory. */
static int
options_with_timeout(const PQconninfoOption *opts, int64_t timeout,
    char **out)
{
	const char *own = "";
	size_t	 len;

	*out = NULL;
	if (timeout <= 0)
		return 0;
	for (; opts->keyword != NULL; opts++)
		if (strcmp(opts->keyword, "options") == 0 && opts->val != NULL)
			own = opts->val;
	len = strlen(own) + 64;
	if ((*out = malloc(len)) == NULL)
		return -1;
	snprintf(*out, len, "%s%s-c statement_timeout=%lld", own,
	    own[0] != '\0' ? " " : "", (long long)timeout * 1000);
	return 0;
}

struct db_pool *
db_pool_new(struct event_base *base, const char *url, unsigned int size,
    int64_t timeout)
{
	struct db_pool *pool;
	PQconninfoOption *opts;
	char *errmsg = NULL, *options;
	unsigned int i;

	if (base == NULL || url == NULL || size == 0 || size > DB_MAX_SIZE) {
		log_error("database pool: bad arguments (size %u)", size);
		return NULL;
	}
	/* Check the URL now.  Never log it, it may hold a password: libpq's
	 * reason is dropped when it quotes the URL. */
	if ((opts = PQconninfoParse(url, &errmsg)) == NULL) {
		size_t n = errmsg != NULL ? strlen(errmsg) : 0;

		while (n > 0 && errmsg[n - 1] == '\n')
			errmsg[--n] = '\0';
		log_error("database_url is not a valid libpq URL or "
		    "conninfo string%s%s", errmsg != NULL &&
		    strstr(errmsg, url) == NULL ? ": " : "",
		    errmsg != NULL && strstr(errmsg, url) == NULL ? errmsg : "");
		PQfreemem(errmsg);
		return NULL;
	}
	if (options_with_timeout(opts, timeout, &options) == -1) {
		PQconninfoFree(opts);
		log_error("database pool: out of memory");
		return NULL;
	}
	PQconninfoFree(opts);

	if ((pool = calloc(1, sizeof(*pool))) == NULL) {
		free(options);
		return NULL;
	}
	pool->options = options;
	pool->timeout = timeout > 0 ? timeout : 0;
	pool->base = base;
	pool->size = size;
	pool->max_queue = DB_DEFAULT_MAX_QUEUE;
	TAILQ_INIT(&pool->queue);
	TAILQ_INIT(&pool->done);
	if (pg_target_init(&pool->target, url) == -1) {
		log_error("database_url: more than %d hosts, or out of memory",
		    PG_HOSTS_MAX);
		db_pool_free(pool);
		return NULL;
	}
	if ((pool->url = strdup(url)) == NULL ||
	    (pool->conns = calloc(size, sizeof(*pool->conns))) == NULL ||
	    (pool->done_ev = event_new(base, -1, 0, done_cb, pool)) == NULL)
		goto fail;
	for (i = 0; i < size; i++) {
		if (db_conn_init(&pool->conns[i], pool) == -1)
			goto fail;
	}
	for (i = 0; i < size; i++)
		db_conn_start(&pool->conns[i]);
	return pool;
fail:
	log_error("database pool: out of memory");
	db_pool_free(pool);
	return NULL;
}

/* db_pool_free: answers r with NULL now. */
static void
fail_now(struct db_req *r)
{
	PGresult *res = r->res;

	r->res = NULL;
	PQclear(res);
	db_req_deliver(r, NULL);
}

void
db_pool_free(struct db_pool *pool)
{
	struct db_req *r;
	unsigned int i;

	if (pool == NULL)
		return;
	pool->closing = true;
	for (i = 0; pool->conns != NULL && i < pool->size; i++) {
		if ((r = db_conn_close(&pool->conns[i])) != NULL)
			fail_now(r);
	}
	while ((r = TAILQ_FIRST(&pool->queue)) != NULL) {
		TAILQ_REMOVE(&pool->queue, r, entry);
		pool->nqueue--;
		fail_now(r);
	}
	while ((r = TAILQ_FIRST(&pool->done)) != NULL) {
		PGresult *res = r->res;

		TAILQ_REMOVE(&pool->done, r, entry);
		pool->ndone--;
		r->res = NULL;
		db_req_deliver(r, res);
	}
	if (pool->done_ev != NULL)
		event_free(pool->done_ev);
	free(pool->conns);
	free(pool->url);
	pg_target_free(&pool->target);
	free(pool->options);
	free(pool);
}

void
db_pool_set_max_queue(struct db_pool *pool, size_t max)
{
	pool->max_queue = max;
}

bool
db_pool_ready(const struct db_pool *pool)
{
	return pool != NULL && pool->nup > 0;
}

void
db_pool_stats(const struct db_pool *pool, struct db_stats *st)
{
	unsigned int i;

	memset(st, 0, sizeof(*st));
	st->size = pool->size;
	st->up = pool->nup;
	st->waiting = pool->nqueue;
	st->queries = pool->nqueries;
	st->failed = pool->nfailed_reqs;
	st->connect_failures = pool->nconnect_failures;
	for (i = 0; i < pool->size; i++) {
		if (pool->conns[i].cur != NULL)
			st->in_use++;
	}
}

/* Queues r for the pool (or fails it: down, full). */
static void
pool_submit(struct db_pool *pool, struct db_req *r)
{
	if (pool_down(pool)) {
		db_req_fail_later(r, NULL);
		return;
	}
	if (TAILQ_EMPTY(&pool->queue)) {
		struct db_conn *c = pool_idle_conn(pool);

		if (c != NULL) {
			db_conn_send(c, r);
			return;
		}
	}
	if (pool->nqueue >= pool->max_queue) {
		log_debug("database queue full (%zu waiting)", pool->nqueue);
		db_req_fail_later(r, NULL);
		return;
	}
	r->where = IN_POOL_QUEUE;
	clock_now(&r->queued);
	TAILQ_INSERT_TAIL(&pool->queue, r, entry);
	pool->nqueue++;
	db_pump(pool);
}

struct db_req *
db_query_params(struct db_pool *pool, const char *sql, int nparams,
    const char *const *values, const int *lengths, const int *formats,
    int result_format, db_result_cb cb, void *arg)
{
	struct db_req *r;

	if (pool == NULL || pool->closing || cb == NULL)
		return NULL;
	r = db_req_new(pool, sql, nparams, values, lengths, formats,
	    result_format);
	if (r == NULL)
		return NULL;
	r->cb = cb;
	r->arg = arg;
	pool_submit(pool, r);
	return r;
}

struct db_req *
db_query(struct db_pool *pool, const char *sql, int nparams,
    const char *const *params, db_result_cb cb, void *arg)
{
	return db_query_params(pool, sql, nparams, params, NULL, NULL, 0,
	    cb, arg);
}

void
db_cancel(struct db_req *r)
{
	if (r == NULL)
		return;
	switch (r->where) {
	case IN_POOL_QUEUE:
		TAILQ_REMOVE(&r->pool->queue, r, entry);
		r->pool->nqueue--;
		req_free(r);
		break;
	case IN_DONE:
		TAILQ_REMOVE(&r->pool->done, r, entry);
		r->pool->ndone--;
		req_free(r);
		break;
	case IN_FLIGHT:
		r->detached = true;
		break;
	case IN_NOWHERE:
		/* Being delivered: too late, and a caller's bug. */
		break;
	}
}
