/*
 * The server's client connections, from accept() to close: each one is
 * known from the moment libevent accepts it, before it sends a byte, so
 * that it can be held to a deadline (read_timeout).
 *
 * libevent 2.1 tells evhttp's user of a connection only through its first
 * request, and calls nothing when one is accepted but the bufferevent
 * callback (evhttp_set_bevcb), which runs before the connection exists.
 * So: that callback makes the bufferevent, keeps a reference to it and
 * wakes conn_on_adopt(), which runs on the same turn of the loop, after
 * libevent has built the connection around the bufferevent and before
 * anything is read from it.  There the bufferevent's callback argument is
 * the evhttp_connection (evhttp sets it so; conn_adopt() checks that it
 * points back to the bufferevent and to our evhttp), and the connection
 * gets its close callback, which stays ours until it is freed: the
 * request on it is told from here (req_conn_closed()).
 *
 * The caps: a connection that would be one more than max_connections,
 * or than max_connections_per_address from its peer's address, is
 * answered 503 (problem "unavailable", Retry-After: 1, in one
 * non-blocking write: nothing is read of it) and closed at once.  Peers
 * that are trusted proxies, and unix socket peers, stand for many clients
 * and count against the total only.  Refusals are logged at most once
 * every CONNLIMIT_LOG_INTERVAL seconds, with their numbers.
 *
 * The deadline: a connection must deliver a whole request, head and body,
 * within read_timeout of being accepted or of its previous response
 * being written; else it is closed.  A client that sends one byte at a
 * time outlasts libevent's timeouts, which only bound the wait for the
 * next read; it does not outlast this.  While a request is being handled
 * and answered, the handler deadline and libevent's write timeout apply.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "clock.h"
#include "connlimit.h"
#include "http.h"
#include "http_int.h"
#include "log.h"
#include "problem.h"
#include "trust.h"
#include "util.h"

struct http_conn {
	struct http_server	*srv;
	struct bufferevent	*bev;	/* referenced by us until adopted */
	struct evhttp_connection *evcon;	/* NULL until adopted */
	int			 fd;
	char			 peer[HTTP_ADDR_MAX];
	struct connlimit_key	 key;	/* the peer's, for the caps */
	bool			 counted;	/* by connlimit_take() */
	bool			 per_address;	/* against the address's cap */
	struct http_req		*req;	/* the request being served */
	struct event		*idle;	/* read_timeout, between requests */
	struct http_conn	*next, **prevp;	/* srv->pending or srv->conns */
};

/* The pending connections, in the order they were accepted: the caps
 * are applied in that order, so that of two connections from one client
 * the later one is refused, never the earlier. */
static void
pending_push(struct http_server *srv, struct http_conn *c)
{
	c->next = NULL;
	c->prevp = NULL;
	*srv->pending_tail = c;
	srv->pending_tail = &c->next;
}

static struct http_conn *
pending_pop(struct http_server *srv)
{
	struct http_conn *c;

	if ((c = srv->pending) == NULL)
		return NULL;
	if ((srv->pending = c->next) == NULL)
		srv->pending_tail = &srv->pending;
	c->next = NULL;
	return c;
}

static void
conn_link(struct http_conn **head, struct http_conn *c)
{
	c->next = *head;
	if (*head != NULL)
		(*head)->prevp = &c->next;
	c->prevp = head;
	*head = c;
}

static void
conn_unlink(struct http_conn *c)
{
	if (c->prevp == NULL)
		return;
	*c->prevp = c->next;
	if (c->next != NULL)
		c->next->prevp = c->prevp;
	c->next = NULL;
	c->prevp = NULL;
}

/* Files c under its fd, for conn_of_request(). */
static int
byfd_set(struct http_server *srv, int fd, struct http_conn *c)
{
	struct http_conn **v;
	size_t		 n;

	if (fd < 0)
		return -1;
	if ((size_t)fd >= srv->nbyfd) {
		n = srv->nbyfd > 0 ? srv->nbyfd : 64;
		while (n <= (size_t)fd)
			n *= 2;
		if ((v = reallocarray(srv->byfd, n, sizeof(*v))) == NULL)
			return -1;
		memset(v + srv->nbyfd, 0, (n - srv->nbyfd) * sizeof(*v));
		srv->byfd = v;
		srv->nbyfd = n;
	}
	srv->byfd[fd] = c;
	return 0;
}

/* Waits read_timeout for c's next request. */
static void
conn_idle_start(struct http_conn *c)
{
	if (c->idle != NULL && evtimer_add(c->idle, c->srv->read_tv) == -1)
		log_warn("connection from %s: no read deadline", c->peer);
}

/* Forgets c: its fd, its timer, its place on the server.  Not its
 * connection, which is libevent's to free. */
static void
conn_release(struct http_conn *c)
{
	struct http_server *srv = c->srv;

	if (srv != NULL) {
		if (c->fd >= 0 && (size_t)c->fd < srv->nbyfd &&
		    srv->byfd[c->fd] == c)
			srv->byfd[c->fd] = NULL;
		if (c->evcon != NULL)
			srv->nconns--;
		if (c->counted)
			connlimit_release(srv->limit, &c->key, c->per_address);
	}
	conn_unlink(c);
	if (c->idle != NULL)
		event_free(c->idle);
	free(c);
}

/* evhttp_connection_set_closecb: libevent closes c's connection (the
 * client left, a timeout, an error, or the server is being freed). */
static void
conn_on_close(struct evhttp_connection *evcon, void *arg)
{
	struct http_conn *c = arg;
	struct http_req	*r;

	evhttp_connection_set_closecb(evcon, NULL, NULL);
	if ((r = c->req) != NULL) {
		c->req = NULL;
		req_conn_closed(r);
	}
	conn_release(c);
}

/* c sent no whole request within read_timeout. */
static void
conn_on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;

	log_debug("connection from %s: no whole request within the read "
	    "timeout; closed", c->peer);
	/* conn_on_close() runs, and frees c. */
	evhttp_connection_free(c->evcon);
}

/*
 * Makes c the tracker of evcon (an accepted connection on fd): its close
 * callback, its fd, its deadline.  Returns 0, or -1 (no memory; c is
 * then the caller's and evcon untouched).
 */
static int
conn_track(struct http_server *srv, struct http_conn *c,
    struct evhttp_connection *evcon, int fd)
{
	c->srv = srv;
	c->fd = fd;
	if ((c->idle = evtimer_new(srv->base, conn_on_idle, c)) == NULL ||
	    byfd_set(srv, fd, c) == -1) {
		if (c->idle != NULL)
			event_free(c->idle);
		c->idle = NULL;
		return -1;
	}
	c->evcon = evcon;
	srv->nconns++;
	conn_link(&srv->conns, c);
	evhttp_connection_set_closecb(evcon, conn_on_close, c);
	return 0;
}

/* Seconds on the monotonic clock, the refusals' log line's. */
static time_t
mono_now(void)
{
	struct timespec	 ts;

	clock_now(&ts);
	return ts.tv_sec;
}

static void
conn_log(const struct http_server *srv, const struct connlimit_refusals *r)
{
	char	 total[24], address[24], paused[24];

	snprintf(total, sizeof(total), "%lu", r->total);
	snprintf(address, sizeof(address), "%lu", r->address);
	snprintf(paused, sizeof(paused), "%lu", r->paused);
	log_event(LOG_WARN, "connections refused",
	    "over_max_connections", total,
	    "over_max_connections_per_address", address,
	    "last_remote", srv->last_refused[0] != '\0' ?
	    srv->last_refused : "-",
	    "accept_paused", paused,
	    r->paused > 0 ? "accept_error" : NULL,
	    strerror(srv->accept_errno),
	    NULL);
}

/* The line held back by conn_note() is due. */
static void
conn_on_log(evutil_socket_t unused, short what, void *arg)
{
	struct http_server		*srv = arg;
	struct connlimit_refusals	 r;

	if (connlimit_flush(srv->limit, mono_now(), &r))
		conn_log(srv, &r);
}

void
conn_note(struct http_server *srv, enum connlimit_verdict v,
    const char *peer)
{
	struct connlimit_refusals r;
	struct timeval		 tv;
	time_t			 now = mono_now();

	if (peer != NULL)
		str_copy(srv->last_refused, peer, sizeof(srv->last_refused));
	if (connlimit_note(srv->limit, v, now, &r)) {
		conn_log(srv, &r);
		return;
	}
	if (evtimer_pending(srv->connlog, NULL))
		return;
	tv.tv_sec = connlimit_due(srv->limit) > now ?
	    connlimit_due(srv->limit) - now : 0;
	tv.tv_usec = 0;
	evtimer_add(srv->connlog, &tv);
}

/*
 * Answers a refused connection 503 in one non-blocking write, whatever
 * fits (nothing is read from it: it may hold a password), and closes it.
 */
static void
conn_refuse(struct http_server *srv, struct http_conn *c,
    struct evhttp_connection *evcon, enum connlimit_verdict v)
{
	struct iovec	 iov[2];
	struct msghdr	 mh;
	char		 head[320], id[37];
	int		 n;

	uuid_random(id);
	n = snprintf(head, sizeof(head), "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: " PROBLEM_CTYPE "\r\n"
	    "Content-Length: %zu\r\n"
	    "Retry-After: 1\r\n"
	    "X-Request-Id: %s\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Connection: close\r\n\r\n", srv->busy_len, id);
	if (n > 0 && (size_t)n < sizeof(head)) {
		iov[0].iov_base = head;
		iov[0].iov_len = (size_t)n;
		iov[1].iov_base = srv->busy;
		iov[1].iov_len = srv->busy_len;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = 2;
		(void)sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	conn_note(srv, v, c->peer);
	free(c);
	evhttp_connection_free(evcon);
}

/*
 * Counts c, from the address of evcon, against the caps.  Returns 0, or
 * -1 when c is over one: it is then answered, closed and freed.
 */
static int
conn_admit(struct http_server *srv, struct http_conn *c,
    struct evhttp_connection *evcon)
{
	const struct sockaddr	*sa = evhttp_connection_get_addr(evcon);
	enum connlimit_verdict	 v;

	connlimit_key(sa, &c->key);
	/* A proxy or a unix socket peer stands for many clients. */
	c->per_address = c->key.family != 0 &&
	    !http_trust_has(&srv->trust, c->peer);
	if ((v = connlimit_take(srv->limit, &c->key, c->per_address)) !=
	    CONNLIMIT_OK) {
		conn_refuse(srv, c, evcon, v);
		return -1;
	}
	c->counted = true;
	return 0;
}

/* A pending c whose bufferevent libevent has set up: finds its
 * connection and tracks it, or lets it go (libevent gave up on it). */
static void
conn_adopt(struct http_server *srv, struct http_conn *c)
{
	static bool		 warned;
	struct evhttp_connection *evcon;
	bufferevent_data_cb	 readcb = NULL;
	void			*cbarg = NULL;
	int			 fd;

	bufferevent_getcb(c->bev, &readcb, NULL, NULL, &cbarg);
	fd = bufferevent_getfd(c->bev);
	evcon = cbarg;
	/* libevent has freed it (its callbacks cleared), or never made a
	 * connection of it: then only our reference keeps it. */
	if (readcb == NULL || evcon == NULL || fd == -1) {
		bufferevent_decref(c->bev);
		free(c);
		return;
	}
	if (evhttp_connection_get_bufferevent(evcon) != c->bev ||
	    evhttp_connection_get_server(evcon) != srv->http) {
		if (!warned)
			log_error("this libevent does not let connections be "
			    "tracked: no read deadline");
		warned = true;
		bufferevent_decref(c->bev);
		free(c);
		return;
	}
	bufferevent_decref(c->bev);
	c->bev = NULL;
	c->fd = fd;
	http_peer_addr(evhttp_connection_get_addr(evcon), c->peer);
	if (conn_admit(srv, c, evcon) == -1)
		return;
	if (conn_track(srv, c, evcon, fd) == -1) {
		log_error("out of memory: connection closed");
		connlimit_release(srv->limit, &c->key, c->per_address);
		free(c);
		evhttp_connection_free(evcon);
		return;
	}
	conn_idle_start(c);
}

/* The pending connections of this turn of the loop. */
static void
conn_on_adopt(evutil_socket_t unused, short what, void *arg)
{
	struct http_server *srv = arg;
	struct http_conn *c;

	while ((c = pending_pop(srv)) != NULL)
		conn_adopt(srv, c);
}

/* evhttp_set_bevcb: libevent has accepted a connection and asks for its
 * bufferevent (no fd yet), made as evhttp makes its own. */
static struct bufferevent *
conn_on_accept(struct event_base *base, void *arg)
{
	struct http_server *srv = arg;
	struct bufferevent *bev;
	struct http_conn *c;

	if ((bev = bufferevent_socket_new(base, -1, 0)) == NULL)
		return NULL;
	/* Without memory to track it, the connection is served all the
	 * same; its first request tracks it (conn_of_request()). */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return bev;
	c->srv = srv;
	c->bev = bev;
	c->fd = -1;
	bufferevent_incref(bev);
	pending_push(srv, c);
	event_active(srv->adopt, EV_TIMEOUT, 0);
	return bev;
}

int
conn_server_init(struct http_server *srv, char *err, size_t errlen)
{
	cJSON	*o;

	srv->pending_tail = &srv->pending;
	if ((o = problem_json(PROBLEM_UNAVAILABLE,
	    "too many connections; try again")) != NULL)
		srv->busy = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (srv->busy == NULL ||
	    (srv->limit = connlimit_new(CONNLIMIT_MAX, CONNLIMIT_MAX)) ==
	    NULL ||
	    (srv->adopt = event_new(srv->base, -1, 0, conn_on_adopt,
	    srv)) == NULL ||
	    (srv->connlog = evtimer_new(srv->base, conn_on_log, srv)) ==
	    NULL) {
		str_copy(err, "cannot create the HTTP server", errlen);
		conn_server_free(srv);
		return -1;
	}
	srv->busy_len = strlen(srv->busy);
	evhttp_set_bevcb(srv->http, conn_on_accept, srv);
	return 0;
}

void
conn_set_caps(struct http_server *srv, unsigned int total, unsigned int per)
{
	connlimit_set(srv->limit, total, per);
}

void
conn_server_free(struct http_server *srv)
{
	struct connlimit_refusals r;
	struct http_conn *c;

	/* The last held refusals are not lost with the server. */
	if (srv->limit != NULL &&
	    connlimit_flush(srv->limit, connlimit_due(srv->limit), &r))
		conn_log(srv, &r);

	/* evhttp_free() has closed every connection: conn_on_close() has
	 * freed the tracked ones.  Any other is let go here. */
	while ((c = srv->conns) != NULL) {
		if (c->req != NULL)
			c->req->conn = NULL;
		c->srv = NULL;
		conn_release(c);
	}
	while ((c = pending_pop(srv)) != NULL) {
		bufferevent_decref(c->bev);
		free(c);
	}
	if (srv->adopt != NULL)
		event_free(srv->adopt);
	srv->adopt = NULL;
	if (srv->connlog != NULL)
		event_free(srv->connlog);
	srv->connlog = NULL;
	connlimit_free(srv->limit);
	srv->limit = NULL;
	cJSON_free(srv->busy);
	srv->busy = NULL;
	free(srv->byfd);
	srv->byfd = NULL;
	srv->nbyfd = 0;
	srv->nconns = 0;
}

struct http_conn *
conn_of_request(struct http_server *srv, struct evhttp_request *evreq)
{
	struct evhttp_connection *evcon;
	struct http_conn *c;
	int		 fd;

	if ((evcon = evhttp_request_get_connection(evreq)) == NULL)
		return NULL;
	fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	if (fd >= 0 && (size_t)fd < srv->nbyfd && srv->byfd[fd] != NULL &&
	    srv->byfd[fd]->evcon == evcon)
		return srv->byfd[fd];
	/* Accepted when there was no memory to track it: tracked, but not
	 * counted against the caps, which it has passed. */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	http_peer_addr(evhttp_connection_get_addr(evcon), c->peer);
	if (conn_track(srv, c, evcon, fd) == -1) {
		free(c);
		return NULL;
	}
	return c;
}

void
conn_request_begins(struct http_conn *c, struct http_req *r)
{
	evtimer_del(c->idle);
	c->req = r;
}

void
conn_request_ends(struct http_conn *c)
{
	c->req = NULL;
	/* If libevent keeps the connection for another request. */
	conn_idle_start(c);
}

size_t
http_server_connections(const struct http_server *srv)
{
	return srv->nconns;
}
