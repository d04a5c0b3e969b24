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
 * The deadline: a connection must deliver a whole request, head and body,
 * within read_timeout of being accepted or of its previous response
 * being written; else it is closed.  A client that sends one byte at a
 * time outlasts libevent's timeouts, which only bound the wait for the
 * next read; it does not outlast this.  While a request is being handled
 * and answered, the handler deadline and libevent's write timeout apply.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "http.h"
#include "http_int.h"
#include "log.h"
#include "trust.h"
#include "util.h"

struct http_conn {
	struct http_server	*srv;
	struct bufferevent	*bev;	/* referenced by us until adopted */
	struct evhttp_connection *evcon;	/* NULL until adopted */
	int			 fd;
	char			 peer[HTTP_ADDR_MAX];
	struct http_req		*req;	/* the request being served */
	struct event		*idle;	/* read_timeout, between requests */
	struct http_conn	*next, **prevp;	/* srv->pending or srv->conns */
};

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
	http_peer_addr(evhttp_connection_get_addr(evcon), c->peer);
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
	if (conn_track(srv, c, evcon, fd) == -1) {
		log_error("out of memory: connection closed");
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

	while ((c = srv->pending) != NULL) {
		conn_unlink(c);
		conn_adopt(srv, c);
	}
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
	conn_link(&srv->pending, c);
	event_active(srv->adopt, EV_TIMEOUT, 0);
	return bev;
}

int
conn_server_init(struct http_server *srv, char *err, size_t errlen)
{
	if ((srv->adopt = event_new(srv->base, -1, 0, conn_on_adopt,
	    srv)) == NULL) {
		str_copy(err, "cannot create the HTTP server", errlen);
		return -1;
	}
	evhttp_set_bevcb(srv->http, conn_on_accept, srv);
	return 0;
}

void
conn_server_free(struct http_server *srv)
{
	struct http_conn *c;

	/* evhttp_free() has closed every connection: conn_on_close() has
	 * freed the tracked ones.  Any other is let go here. */
	while ((c = srv->conns) != NULL) {
		if (c->req != NULL)
			c->req->conn = NULL;
		c->srv = NULL;
		conn_release(c);
	}
	while ((c = srv->pending) != NULL) {
		conn_unlink(c);
		bufferevent_decref(c->bev);
		free(c);
	}
	if (srv->adopt != NULL)
		event_free(srv->adopt);
	srv->adopt = NULL;
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
	/* Accepted when there was no memory to track it. */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
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
