/*
 * LISTEN on a connection of its own (notify.h): the same asynchronous
 * connect as the pool's (db_conn.c), then one LISTEN, then reading, and
 * every HEARTBEAT_MS a "SELECT 1" that must be answered before the next:
 * a server whose process or host froze sends no reset (its kernel may
 * even acknowledge), and without the heartbeat a listener on it would
 * wait for ever, deaf to the changes made on the new primary.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "log.h"
#include "notify.h"
#include "pg_target.h"

#define BACKOFF_MIN_MS	100
#define HEARTBEAT_MS	5000
#define BACKOFF_MAX_MS	5000
#define CHANNEL_MAX	63
#define NOTIFY_APP_NAME	"wardend-listen"	/* in pg_stat_activity */

enum notify_state {
	N_DOWN = 0,	/* waiting for the back-off timer */
	N_CONNECTING,	/* PQconnectPoll */
	N_LISTENING,	/* LISTEN sent, its answer awaited */
	N_UP,		/* LISTEN in force */
};

struct notify {
	struct event_base	*base;
	struct pg_target	 target;	/* the url (pg_target.h) */
	char			 sql[sizeof("LISTEN ") + CHANNEL_MAX];
	struct notify_cbs	 cbs;
	void			*arg;
	PGconn			*pg;
	enum notify_state	 state;
	struct event		*ev;
	int			 ev_fd;
	short			 ev_what;
	struct event		*timer;		/* back-off; while connecting
						 * and listening, the bound */
	unsigned int		 backoff;
	bool			 failed;	/* logged as failed already */
	bool			 ok;		/* LISTEN's result was OK */
	bool			 pinging;	/* a heartbeat unanswered */
	uint64_t		 failures;
};

static void	io_cb(evutil_socket_t, short, void *);
static int	flush(struct notify *);

static int
watch(struct notify *n, short what)
{
	int fd = PQsocket(n->pg);

	if (fd < 0)
		return -1;
	if (n->ev != NULL && n->ev_fd == fd && n->ev_what == what)
		return 0;
	if (n->ev != NULL)
		event_free(n->ev);
	n->ev = event_new(n->base, fd, what | EV_PERSIST, io_cb, n);
	if (n->ev == NULL || event_add(n->ev, NULL) == -1)
		return -1;
	n->ev_fd = fd;
	n->ev_what = what;
	return 0;
}

static void
unwatch(struct notify *n)
{
	if (n->ev != NULL)
		event_free(n->ev);
	n->ev = NULL;
	n->ev_fd = -1;
	n->ev_what = 0;
}

static void
schedule(struct notify *n)
{
	unsigned int shift = n->backoff < 8 ? n->backoff : 8;
	uint32_t ms = BACKOFF_MIN_MS << shift;
	struct timeval tv;

	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	ms = ms / 2 + arc4random_uniform(ms / 2 + 1);
	if (n->backoff < UINT32_MAX)
		n->backoff++;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(n->timer, &tv);
}

/* The connection failed or dropped: tell, close, reconnect later. */
static void
lost(struct notify *n, const char *why)
{
	char	 msg[512];
	size_t	 len;
	bool	 was_up = n->state == N_UP;

	(void)snprintf(msg, sizeof(msg), "%s",
	    why != NULL && *why != '\0' ? why : "unknown error");
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	if (was_up)
		log_warn("database listener lost: %s", msg);
	else if (!n->failed)
		log_warn("database listener failed: %s", msg);
	else
		log_debug("database listener failed again: %s", msg);
	n->failed = true;
	n->failures++;
	n->pinging = false;
	evtimer_del(n->timer);
	unwatch(n);
	PQfinish(n->pg);
	n->pg = NULL;
	n->state = N_DOWN;
	schedule(n);
	if (was_up && n->cbs.down != NULL)
		n->cbs.down(n->arg);
}

static void
notice_cb(void *arg, const char *msg)
{
	log_debug("database listener notice: %s", msg);
}

static void
start(struct notify *n)
{
	static const char *const keys[] = {
		"fallback_application_name", NULL
	};
	const char *values[] = { NOTIFY_APP_NAME, NULL };
	int64_t	 ms = pg_target_connect_ms(&n->target);
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000) };

	n->ok = false;
	/* Bounds the connection and LISTEN's answer (pg_target.h). */
	evtimer_add(n->timer, &tv);
	if ((n->pg = pg_target_start(&n->target, keys, values)) == NULL) {
		lost(n, "out of memory");
		return;
	}
	if (PQstatus(n->pg) == CONNECTION_BAD) {
		lost(n, PQerrorMessage(n->pg));
		return;
	}
	PQsetNoticeProcessor(n->pg, notice_cb, n);
	n->state = N_CONNECTING;
	if (watch(n, EV_WRITE) == -1)
		lost(n, "cannot watch the socket");
}

static void
arm(struct notify *n, int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000 * 1000) };

	evtimer_add(n->timer, &tv);
}

/* Up: the heartbeat, unless the last one is still unanswered. */
static void
heartbeat(struct notify *n)
{
	if (n->pinging) {
		lost(n, "the server did not answer the heartbeat in time");
		return;
	}
	if (!PQsendQuery(n->pg, "SELECT 1")) {
		lost(n, PQerrorMessage(n->pg));
		return;
	}
	n->pinging = true;
	arm(n, HEARTBEAT_MS);
	(void)flush(n);
}

/* The back-off is over (down), connecting or listening ran out of time,
 * or it is time for the heartbeat (up). */
static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;

	switch (n->state) {
	case N_CONNECTING:
	case N_LISTENING:
		pg_target_skip(&n->target);
		lost(n, "connecting timed out");
		break;
	case N_UP:
		heartbeat(n);
		break;
	case N_DOWN:
		start(n);
		break;
	}
}

/* Flushes libpq's output; watches for writing while some is left. */
static int
flush(struct notify *n)
{
	int rc = PQflush(n->pg);

	if (rc == -1) {
		lost(n, PQerrorMessage(n->pg));
		return -1;
	}
	if (watch(n, rc == 1 ? EV_READ | EV_WRITE : EV_READ) == -1) {
		lost(n, "cannot watch the socket");
		return -1;
	}
	return 0;
}

static void
connected(struct notify *n)
{
	if (PQsetnonblocking(n->pg, 1) == -1 ||
	    !PQsendQuery(n->pg, n->sql)) {
		lost(n, PQerrorMessage(n->pg));
		return;
	}
	n->state = N_LISTENING;
	(void)flush(n);
}

static void
connect_poll(struct notify *n)
{
	switch (PQconnectPoll(n->pg)) {
	case PGRES_POLLING_READING:
		if (watch(n, EV_READ) == -1)
			lost(n, "cannot watch the socket");
		break;
	case PGRES_POLLING_WRITING:
		if (watch(n, EV_WRITE) == -1)
			lost(n, "cannot watch the socket");
		break;
	case PGRES_POLLING_OK:
		connected(n);
		break;
	default:
		lost(n, PQerrorMessage(n->pg));
		break;
	}
}

/* Reads LISTEN's answer; up once it is complete and OK. */
static void
listen_result(struct notify *n)
{
	PGresult *res;

	while (!PQisBusy(n->pg)) {
		if ((res = PQgetResult(n->pg)) == NULL) {
			if (!n->ok) {
				lost(n, "LISTEN failed");
				return;
			}
			if (n->failed)
				log_info("database listener re-established");
			n->failed = false;
			n->backoff = 0;
			n->state = N_UP;
			arm(n, HEARTBEAT_MS);
			if (n->cbs.up != NULL)
				n->cbs.up(n->arg);
			return;
		}
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			n->ok = true;
		else {
			log_warn("database listener: %s",
			    PQresultErrorMessage(res));
			n->ok = false;
		}
		PQclear(res);
	}
}

static void
readable(struct notify *n)
{
	PGnotify *e;
	PGresult *res;

	if (!PQconsumeInput(n->pg)) {
		lost(n, PQerrorMessage(n->pg));
		return;
	}
	if ((n->ev_what & EV_WRITE) && flush(n) == -1)
		return;
	if (n->state == N_LISTENING) {
		listen_result(n);
		if (n->state != N_UP)
			return;
	}
	/* A result nobody asked for (an error the server sends before it
	 * closes): read and drop it. */
	while (!PQisBusy(n->pg) && (res = PQgetResult(n->pg)) != NULL)
		PQclear(res);
	/* The heartbeat's answer is in. */
	if (!PQisBusy(n->pg))
		n->pinging = false;
	while (n->state == N_UP && (e = PQnotifies(n->pg)) != NULL) {
		if (n->cbs.event != NULL)
			n->cbs.event(e->extra, n->arg);
		PQfreemem(e);
	}
	if (n->state == N_UP && PQstatus(n->pg) == CONNECTION_BAD)
		lost(n, PQerrorMessage(n->pg));
}

static void
io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;

	switch (n->state) {
	case N_CONNECTING:
		connect_poll(n);
		break;
	case N_LISTENING:
	case N_UP:
		if ((what & EV_WRITE) && flush(n) == -1)
			return;
		if (what & EV_READ)
			readable(n);
		break;
	case N_DOWN:
		break;
	}
}

static bool
channel_ok(const char *c)
{
	size_t len = strlen(c);

	if (len == 0 || len > CHANNEL_MAX || (c[0] >= '0' && c[0] <= '9'))
		return false;
	return strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789_") == len;
}

struct notify *
notify_new(struct event_base *base, const char *url, const char *channel,
    const struct notify_cbs *cbs, void *arg)
{
	struct notify *n;
	struct timeval now = { 0, 0 };

	if (!channel_ok(channel)) {
		log_error("database listener: bad channel name");
		return NULL;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL ||
	    pg_target_init(&n->target, url) == -1 ||
	    (n->timer = evtimer_new(base, timer_cb, n)) == NULL) {
		log_error("database listener: out of memory");
		notify_free(n);
		return NULL;
	}
	n->base = base;
	n->cbs = *cbs;
	n->arg = arg;
	n->ev_fd = -1;
	(void)snprintf(n->sql, sizeof(n->sql), "LISTEN %s", channel);
	/* Connect from the loop, so that no callback runs from here. */
	evtimer_add(n->timer, &now);
	return n;
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	unwatch(n);
	if (n->timer != NULL)
		event_free(n->timer);
	PQfinish(n->pg);
	pg_target_free(&n->target);
	free(n);
}

bool
notify_listening(const struct notify *n)
{
	return n != NULL && n->state == N_UP;
}

uint64_t
notify_failures(const struct notify *n)
{
	return n != NULL ? n->failures : 0;
}
