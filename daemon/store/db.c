/*
 * The database pool on the libevent loop, with libpq's asynchronous API.
 *
 * Each connection is DOWN (waiting out its back-off), CONNECTING (driven
 * by PQconnectPoll) or UP.  An UP connection runs at most one query at a
 * time (conn->cur), taken from the pool's FIFO (pool->queue).  Errors that
 * arise inside an API call are handed to the loop (pool->done) so that no
 * callback ever runs inside the call that submitted its request.
 */
#include <sys/queue.h>
#include <sys/time.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "db.h"
#include "log.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	5000
#define DB_MAX_SIZE	1000
#define DB_APP_NAME	"wardend"

enum req_where {
	IN_NOWHERE,
	IN_POOL_QUEUE,	/* pool->queue */
	IN_FLIGHT,	/* conn->cur */
	IN_DONE,	/* pool->done, delivered on the next loop turn */
};

struct db_req {
	TAILQ_ENTRY(db_req) entry;
	struct db_pool	*pool;
	enum req_where	 where;
	db_result_cb	 cb;
	void		*arg;
	bool		 detached;	/* no callback: cancelled or internal */
	PGresult	*res;		/* what IN_DONE delivers */

	const char	*sql;
	int		 nparams;
	int		 result_format;
	const char	**values;
	int		*lengths;
	int		*formats;
	/* the arrays, the parameters and the SQL text follow */
};

TAILQ_HEAD(req_list, db_req);

enum conn_state {
	CONN_DOWN,
	CONN_CONNECTING,
	CONN_UP,
};

struct db_conn {
	struct db_pool	*pool;
	PGconn		*pg;
	enum conn_state	 state;
	struct event	*ev;		/* socket, for ev_what on ev_fd */
	int		 ev_fd;
	short		 ev_what;
	struct event	*timer;		/* reconnect back-off */
	unsigned int	 backoff;	/* failures in a row */
	bool		 failed;	/* failed since it was last up */
	struct db_req	*cur;		/* query in flight */
	PGresult	*cur_res;
};

struct db_pool {
	struct event_base *base;
	char		*url;
	unsigned int	 size;
	struct db_conn	*conns;
	unsigned int	 nup;
	unsigned int	 nfailed;
	struct req_list	 queue;
	size_t		 nqueue;
	size_t		 max_queue;
	struct req_list	 done;
	size_t		 ndone;
	struct event	*done_ev;
	bool		 closing;
	uint64_t	 nqueries;
	uint64_t	 nfailed_reqs;
	uint64_t	 nconnect_failures;
};

static void	conn_start(struct db_conn *);
static void	conn_lost(struct db_conn *, const char *);
static void	conn_next(struct db_conn *);
static void	pump(struct db_pool *);

/* --- requests --------------------------------------------------------- */

static bool
param_is_text(const int *formats, int i)
{
	return formats == NULL || formats[i] == 0;
}

static struct db_req *
req_new(struct db_pool *pool, const char *sql, int nparams,
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
	free(r);
}

/* Calls r's callback (unless detached) with res, then frees both. */
static void
req_deliver(struct db_req *r, PGresult *res)
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

/* Hands r, answered by res (NULL: failed), to the next loop turn. */
static void
req_fail_later(struct db_req *r, PGresult *res)
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
		req_deliver(r, res);
	}
	if (!TAILQ_EMPTY(&pool->done))
		event_active(pool->done_ev, EV_TIMEOUT, 0);
}

/* --- connections ------------------------------------------------------ */

static void
conn_io_cb(evutil_socket_t fd, short what, void *arg);

/* Watches the connection's current socket for what (EV_READ/EV_WRITE). */
static int
conn_watch(struct db_conn *c, short what)
{
	int fd = PQsocket(c->pg);

	if (fd < 0)
		return -1;
	if (c->ev != NULL && c->ev_fd == fd && c->ev_what == what)
		return 0;
	if (c->ev != NULL)
		event_free(c->ev);
	c->ev = event_new(c->pool->base, fd, what | EV_PERSIST, conn_io_cb, c);
	if (c->ev == NULL || event_add(c->ev, NULL) == -1)
		return -1;
	c->ev_fd = fd;
	c->ev_what = what;
	return 0;
}

static void
conn_unwatch(struct db_conn *c)
{
	if (c->ev != NULL)
		event_free(c->ev);
	c->ev = NULL;
	c->ev_fd = -1;
	c->ev_what = 0;
}

static bool
conn_idle(const struct db_conn *c)
{
	return c->state == CONN_UP && c->cur == NULL;
}

static bool
pool_down(const struct db_pool *pool)
{
	return pool->nup == 0 && pool->nfailed == pool->size;
}

/* Fails everything waiting for a connection once none is left. */
static void
pool_check_down(struct db_pool *pool)
{
	struct db_req *r;

	if (!pool_down(pool))
		return;
	while ((r = TAILQ_FIRST(&pool->queue)) != NULL) {
		TAILQ_REMOVE(&pool->queue, r, entry);
		pool->nqueue--;
		req_fail_later(r, NULL);
	}
}

static void
notice_cb(void *arg, const char *msg)
{
	size_t len = strlen(msg);

	if (len > 0 && msg[len - 1] == '\n')
		len--;
	log_debug("database notice: %.*s", (int)len, msg);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_start(arg);
}

static void
conn_schedule(struct db_conn *c)
{
	unsigned int shift = c->backoff < 8 ? c->backoff : 8;
	uint32_t ms = BACKOFF_MIN_MS << shift;
	struct timeval tv;

	if (c->timer == NULL)
		return;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	/* Jitter, so that a pool does not reconnect in lock step. */
	ms = ms / 2 + arc4random_uniform(ms / 2 + 1);
	if (c->backoff < UINT32_MAX)
		c->backoff++;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

static void
conn_mark_failed(struct db_conn *c)
{
	if (!c->failed) {
		c->failed = true;
		c->pool->nfailed++;
	}
}

/*
 * The connection failed (or never came up): what it ran fails; it
 * reconnects after a back-off.
 */
static void
conn_lost(struct db_conn *c, const char *why)
{
	struct db_pool *pool = c->pool;
	struct db_req *r;
	char msg[512];
	size_t len;

	/* Truncation is fine: it is a log line. */
	(void)snprintf(msg, sizeof(msg), "%s",
	    why != NULL && *why != '\0' ? why : "unknown error");
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	if (c->state == CONN_UP)
		log_warn("database connection lost: %s", msg);
	else if (!c->failed)
		log_warn("database connection failed: %s", msg);
	else
		log_debug("database connection failed again: %s", msg);

	pool->nconnect_failures++;
	conn_unwatch(c);
	if (c->state == CONN_UP)
		pool->nup--;
	c->state = CONN_DOWN;
	PQfinish(c->pg);
	c->pg = NULL;
	conn_mark_failed(c);

	if ((r = c->cur) != NULL) {
		c->cur = NULL;
		PQclear(c->cur_res);
		c->cur_res = NULL;
		req_fail_later(r, NULL);
	}
	conn_schedule(c);
	pool_check_down(pool);
}

static void
conn_start(struct db_conn *c)
{
	static const char *const keys[] = {
		"dbname", "fallback_application_name", NULL
	};
	const char *values[] = { c->pool->url, DB_APP_NAME, NULL };

	c->pg = PQconnectStartParams(keys, values, 1);
	if (c->pg == NULL) {
		conn_lost(c, "out of memory");
		return;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	PQsetNoticeProcessor(c->pg, notice_cb, c);
	c->state = CONN_CONNECTING;
	/* libpq: behave as if PQconnectPoll had said PGRES_POLLING_WRITING. */
	if (conn_watch(c, EV_WRITE) == -1)
		conn_lost(c, "cannot watch the socket");
}

static void
conn_up(struct db_conn *c)
{
	struct db_pool *pool = c->pool;

	if (PQsetnonblocking(c->pg, 1) == -1) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	if (conn_watch(c, EV_READ) == -1) {
		conn_lost(c, "cannot watch the socket");
		return;
	}
	c->state = CONN_UP;
	pool->nup++;
	if (c->failed) {
		c->failed = false;
		pool->nfailed--;
		log_info("database connection re-established");
	}
	c->backoff = 0;
	conn_next(c);
}

static void
conn_connect_poll(struct db_conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		if (conn_watch(c, EV_READ) == -1)
			conn_lost(c, "cannot watch the socket");
		break;
	case PGRES_POLLING_WRITING:
		if (conn_watch(c, EV_WRITE) == -1)
			conn_lost(c, "cannot watch the socket");
		break;
	case PGRES_POLLING_OK:
		conn_up(c);
		break;
	default:
		conn_lost(c, PQerrorMessage(c->pg));
		break;
	}
}

/* Flushes what libpq holds; watches for writability while some remains.
 * Returns -1 when the connection was lost. */
static int
conn_flush(struct db_conn *c)
{
	int rc = PQflush(c->pg);

	if (rc == -1) {
		conn_lost(c, PQerrorMessage(c->pg));
		return -1;
	}
	if (conn_watch(c, rc == 1 ? EV_READ | EV_WRITE : EV_READ) == -1) {
		conn_lost(c, "cannot watch the socket");
		return -1;
	}
	return 0;
}

/* Sends r on the idle connection c.  A send refused with the connection
 * still good answers r (later) with libpq's error as a result. */
static void
conn_send(struct db_conn *c, struct db_req *r)
{
	if (!PQsendQueryParams(c->pg, r->sql, r->nparams, NULL, r->values,
	    r->lengths, r->formats, r->result_format)) {
		if (PQstatus(c->pg) == CONNECTION_BAD) {
			c->cur = r;
			r->where = IN_FLIGHT;
			conn_lost(c, PQerrorMessage(c->pg));
		} else
			req_fail_later(r, PQmakeEmptyPGresult(c->pg,
			    PGRES_FATAL_ERROR));
		return;
	}
	c->pool->nqueries++;
	c->cur = r;
	r->where = IN_FLIGHT;
	conn_flush(c);
}

/*
 * The connection has nothing in flight: roll back a transaction that a
 * query left open (a lone "BEGIN"), or give it to the pool's queue.
 */
static void
conn_next(struct db_conn *c)
{
	struct db_req *r;
	PGTransactionStatusType ts;

	if (c->state != CONN_UP || c->cur != NULL)
		return;
	ts = PQtransactionStatus(c->pg);
	if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
		r = req_new(c->pool, "ROLLBACK", 0, NULL, NULL, NULL, 0);
		if (r == NULL) {
			conn_lost(c, "out of memory for ROLLBACK");
			return;
		}
		r->detached = true;
		conn_send(c, r);
		return;
	}
	if (ts != PQTRANS_IDLE) {
		conn_lost(c, "connection in an unknown state");
		return;
	}
	pump(c->pool);
}

/* The query in flight is complete: answer it and move on. */
static void
conn_complete(struct db_conn *c)
{
	struct db_req *r = c->cur;
	PGresult *res = c->cur_res;

	c->cur = NULL;
	c->cur_res = NULL;
	req_deliver(r, res);
	conn_next(c);
}

static void
conn_read(struct db_conn *c)
{
	PGnotify *n;
	PGresult *res;
	ExecStatusType st;

	if (!PQconsumeInput(c->pg)) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	while ((n = PQnotifies(c->pg)) != NULL)
		PQfreemem(n);
	if (c->ev_what & EV_WRITE) {
		/* libpq: after reading, try to flush again. */
		if (conn_flush(c) == -1)
			return;
	}
	if (c->cur == NULL) {
		if (PQstatus(c->pg) == CONNECTION_BAD)
			conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	while (!PQisBusy(c->pg)) {
		if ((res = PQgetResult(c->pg)) == NULL) {
			conn_complete(c);
			return;
		}
		st = PQresultStatus(res);
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT ||
		    st == PGRES_COPY_BOTH) {
			PQclear(res);
			conn_lost(c, "COPY is not supported by the pool");
			return;
		}
		/* One statement, one result; should more come, an error wins. */
		if (c->cur_res == NULL)
			c->cur_res = res;
		else if (st == PGRES_FATAL_ERROR &&
		    PQresultStatus(c->cur_res) != PGRES_FATAL_ERROR) {
			PQclear(c->cur_res);
			c->cur_res = res;
		} else
			PQclear(res);
	}
}

static void
conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;

	if (c->state == CONN_CONNECTING) {
		conn_connect_poll(c);
		return;
	}
	if (c->state != CONN_UP)
		return;
	if ((what & EV_WRITE) && conn_flush(c) == -1)
		return;
	if (what & EV_READ)
		conn_read(c);
}

/* --- the pool --------------------------------------------------------- */

static struct db_conn *
pool_idle_conn(struct db_pool *pool)
{
	unsigned int i;

	for (i = 0; i < pool->size; i++)
		if (conn_idle(&pool->conns[i]))
			return &pool->conns[i];
	return NULL;
}

/* Gives idle connections to the queue's head.  Sending calls no
 * callback (a refusal is delivered on the next loop turn). */
static void
pump(struct db_pool *pool)
{
	struct db_conn *c;
	struct db_req *r;

	if (pool->closing)
		return;
	while ((r = TAILQ_FIRST(&pool->queue)) != NULL &&
	    (c = pool_idle_conn(pool)) != NULL) {
		TAILQ_REMOVE(&pool->queue, r, entry);
		pool->nqueue--;
		conn_send(c, r);
	}
}

struct db_pool *
db_pool_new(struct event_base *base, const char *url, unsigned int size)
{
	struct db_pool *pool;
	PQconninfoOption *opts;
	char *errmsg = NULL;
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
	PQconninfoFree(opts);

	if ((pool = calloc(1, sizeof(*pool))) == NULL)
		return NULL;
	pool->base = base;
	pool->size = size;
	pool->max_queue = DB_DEFAULT_MAX_QUEUE;
	TAILQ_INIT(&pool->queue);
	TAILQ_INIT(&pool->done);
	if ((pool->url = strdup(url)) == NULL ||
	    (pool->conns = calloc(size, sizeof(*pool->conns))) == NULL ||
	    (pool->done_ev = event_new(base, -1, 0, done_cb, pool)) == NULL)
		goto fail;
	for (i = 0; i < size; i++) {
		struct db_conn *c = &pool->conns[i];

		c->pool = pool;
		c->ev_fd = -1;
		if ((c->timer = evtimer_new(base, timer_cb, c)) == NULL)
			goto fail;
	}
	for (i = 0; i < size; i++)
		conn_start(&pool->conns[i]);
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
	req_deliver(r, NULL);
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
		struct db_conn *c = &pool->conns[i];

		conn_unwatch(c);
		if (c->timer != NULL)
			event_free(c->timer);
		c->timer = NULL;
		if ((r = c->cur) != NULL) {
			c->cur = NULL;
			PQclear(c->cur_res);
			c->cur_res = NULL;
			fail_now(r);
		}
		PQfinish(c->pg);
		c->pg = NULL;
		c->state = CONN_DOWN;
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
		req_deliver(r, res);
	}
	if (pool->done_ev != NULL)
		event_free(pool->done_ev);
	free(pool->conns);
	free(pool->url);
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
		req_fail_later(r, NULL);
		return;
	}
	if (TAILQ_EMPTY(&pool->queue)) {
		struct db_conn *c = pool_idle_conn(pool);

		if (c != NULL) {
			conn_send(c, r);
			return;
		}
	}
	if (pool->nqueue >= pool->max_queue) {
		log_debug("database queue full (%zu waiting)", pool->nqueue);
		req_fail_later(r, NULL);
		return;
	}
	r->where = IN_POOL_QUEUE;
	TAILQ_INSERT_TAIL(&pool->queue, r, entry);
	pool->nqueue++;
	pump(pool);
}

struct db_req *
db_query_params(struct db_pool *pool, const char *sql, int nparams,
    const char *const *values, const int *lengths, const int *formats,
    int result_format, db_result_cb cb, void *arg)
{
	struct db_req *r;

	if (pool == NULL || pool->closing || cb == NULL)
		return NULL;
	r = req_new(pool, sql, nparams, values, lengths, formats,
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
