/*
 * One connection of the database pool: connecting without blocking
 * (PQconnectStart/Poll), sending a query, reading its answer, and
 * reconnecting with back-off when the connection fails.
 *
 * A server that stops answering without closing the connection (its
 * process or its host froze: the kernel may still acknowledge, so TCP
 * notices nothing) is noticed by a deadline: a query has the
 * statement_timeout that the server itself would have enforced and
 * QUERY_GRACE_MS more.  Past it the connection is dropped as lost, and so
 * are the pool's others that are up, on the same server: what they run
 * fails (NULL, 503 to the client, never sent again).
 */
#include <sys/queue.h>
#include <sys/time.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "db.h"
#include "db_impl.h"
#include "log.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	5000
#define DB_APP_NAME	"wardend"
#define QUERY_GRACE_MS	2000	/* past the statement_timeout */

static void	conn_lost(struct db_conn *, const char *);
static void	conn_next(struct db_conn *);

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

bool
db_conn_idle(const struct db_conn *c)
{
	return c->state == CONN_UP && c->cur == NULL;
}

static void
notice_cb(void *arg, const char *msg)
{
	size_t len = strlen(msg);

	if (len > 0 && msg[len - 1] == '\n')
		len--;
	log_debug("database notice: %.*s", (int)len, msg);
}

/* The back-off is over (down), or the attempt ran out of time
 * (connecting: pg_target.h). */
static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;

	if (c->state == CONN_CONNECTING) {
		pg_target_skip(&c->pool->target);
		conn_lost(c, "connecting timed out");
		return;
	}
	db_conn_start(c);
}

static void
deadline_clear(struct db_conn *c)
{
	if (c->deadline != NULL)
		evtimer_del(c->deadline);
}

/* The query in flight got no answer in time: the server is as good as
 * gone, for this connection and for the pool's others. */
static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn	*c = arg, *o;
	struct db_pool	*pool = c->pool;
	unsigned int	 i;

	if (c->state != CONN_UP || c->cur == NULL)
		return;
	conn_lost(c, "the server did not answer a query in time");
	for (i = 0; i < pool->size; i++) {
		o = &pool->conns[i];
		if (o != c && o->state == CONN_UP)
			conn_lost(o, "dropped: another connection found the "
			    "server unresponsive");
	}
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
	deadline_clear(c);
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
		db_req_fail_later(r, NULL);
	}
	conn_schedule(c);
	db_pool_check_down(pool);
}

void
db_conn_start(struct db_conn *c)
{
	/* After the url (pg_target.h): the options hold the url's own as
	 * well (db_pool_new()). */
	static const char *const keys[] = {
		"fallback_application_name", "options", NULL
	};
	const char *values[] = { DB_APP_NAME, c->pool->options, NULL };
	int64_t	 ms = pg_target_connect_ms(&c->pool->target);
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000) };

	if (c->pool->options == NULL)
		values[1] = NULL;	/* libpq ignores a NULL value */

	c->pg = pg_target_start(&c->pool->target, keys, values);
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
	evtimer_add(c->timer, &tv);
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
	evtimer_del(c->timer);
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

void
db_conn_send(struct db_conn *c, struct db_req *r)
{
	if (!PQsendQueryParams(c->pg, r->sql, r->nparams, NULL, r->values,
	    r->lengths, r->formats, r->result_format)) {
		if (PQstatus(c->pg) == CONNECTION_BAD) {
			c->cur = r;
			r->where = IN_FLIGHT;
			conn_lost(c, PQerrorMessage(c->pg));
		} else
			db_req_fail_later(r, PQmakeEmptyPGresult(c->pg,
			    PGRES_FATAL_ERROR));
		return;
	}
	c->pool->nqueries++;
	c->cur = r;
	r->where = IN_FLIGHT;
	if (c->pool->timeout > 0 && c->deadline != NULL) {
		struct timeval tv = { (time_t)c->pool->timeout +
		    QUERY_GRACE_MS / 1000, (QUERY_GRACE_MS % 1000) * 1000 };

		evtimer_add(c->deadline, &tv);
	}
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
		r = db_req_new(c->pool, "ROLLBACK", 0, NULL, NULL, NULL, 0);
		if (r == NULL) {
			conn_lost(c, "out of memory for ROLLBACK");
			return;
		}
		r->detached = true;
		db_conn_send(c, r);
		return;
	}
	if (ts != PQTRANS_IDLE) {
		conn_lost(c, "connection in an unknown state");
		return;
	}
	db_pump(c->pool);
}

/* The query in flight is complete: answer it and move on. */
static void
conn_complete(struct db_conn *c)
{
	struct db_req *r = c->cur;
	PGresult *res = c->cur_res;

	c->cur = NULL;
	c->cur_res = NULL;
	deadline_clear(c);
	db_req_deliver(r, res);
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

int
db_conn_init(struct db_conn *c, struct db_pool *pool)
{
	c->pool = pool;
	c->ev_fd = -1;
	c->state = CONN_DOWN;
	if ((c->timer = evtimer_new(pool->base, timer_cb, c)) == NULL ||
	    (c->deadline = evtimer_new(pool->base, deadline_cb, c)) == NULL)
		return -1;
	return 0;
}

struct db_req *
db_conn_close(struct db_conn *c)
{
	struct db_req *r = c->cur;

	conn_unwatch(c);
	if (c->timer != NULL)
		event_free(c->timer);
	c->timer = NULL;
	if (c->deadline != NULL)
		event_free(c->deadline);
	c->deadline = NULL;
	c->cur = NULL;
	PQclear(c->cur_res);
	c->cur_res = NULL;
	PQfinish(c->pg);
	c->pg = NULL;
	c->state = CONN_DOWN;
	return r;
}
