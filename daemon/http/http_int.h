/*
 * The HTTP layer's own parts, shared by its files and by nothing else:
 * the server object and the calls between server.c (the server and its
 * general callback), request.c (contexts and replies), conn.c (the client
 * connections) and listen.c (the listening sockets).  daemon/api uses
 * http.h only.
 */
#ifndef WARDEN_HTTP_INT_H
#define WARDEN_HTTP_INT_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include <event2/util.h>

#include "connlimit.h"
#include "cors.h"
#include "http.h"
#include "problem.h"
#include "trust.h"
#include "unix_listen.h"

struct evhttp;
struct evhttp_bound_socket;
struct http_conn;
struct evhttp_connection;
struct evhttp_request;
struct timeval;

/* Every method libevent parses, so that the route table answers 405
 * itself instead of libevent's 501. */
#define HTTP_ALL_METHODS	(EVHTTP_REQ_GET | EVHTTP_REQ_POST |	\
	EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |		\
	EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |	\
	EVHTTP_REQ_PATCH)

struct listener {
	struct evhttp_bound_socket *bound;
	int		 fd;
	bool		 own_inet;	/* a TCP socket bound here */
	char		*unix_path;	/* created by us: removed on close */
	struct unix_listen_id unix_id;	/* the file we created there */
};

struct http_server {
	struct event_base	*base;
	struct evhttp		*http;
	const struct route	*routes;
	size_t			 nroutes;
	size_t			 max_body;
	unsigned int		 listen_mode;
	gid_t			 listen_gid;	/* (gid_t)-1: leave it */
	const struct timeval	*deadline_tv;	/* a common timeout */
	struct http_trust	 trust;
	struct http_cors	 cors;		/* cors_origins */
	const char *const	*cors_routes;	/* patterns that answer them */
	size_t			 ncors_routes;

	http_dispatch_fn	*dispatch;
	void			*dispatch_arg;
	http_observe_fn		*observe;
	void			*observe_arg;
	const char		*page_prefix;	/* problem pages: see */
	http_problem_page_fn	*page_fn;	/* http_server_set_problem_pages() */
	void			*page_arg;

	struct listener		*ls;
	size_t			 nls;
	bool			 reuse_port;	/* http_server_set_reuse_port() */
	struct event		*resume;	/* after an accept() pause */
	int			 accept_errno;	/* of the last pause */
	struct http_server	*next_accepting;	/* listen.c's list */

	struct http_req		*live;		/* contexts not yet freed */
	size_t			 nlive;

	/* conn.c */
	const struct timeval	*read_tv;	/* read_timeout, a common
						 * timeout */
	struct event		*adopt;		/* runs conn_on_adopt() */
	struct http_conn	*pending;	/* accepted, not yet adopted */
	struct http_conn	**pending_tail;	/* where the next one goes */
	struct http_conn	*conns;		/* tracked connections */
	size_t			 nconns;
	struct http_conn	**byfd;		/* the same, by fd */
	size_t			 nbyfd;
	struct connlimit	*limit;		/* the caps and counts */
	struct event		*connlog;	/* the held refusals' line */
	char			 last_refused[HTTP_ADDR_MAX];
	char			*busy;		/* the 503 body, over a cap */
	size_t			 busy_len;
};

/* --- conn.c --- */

/* Tracks srv's connections from their accept (evhttp_set_bevcb).
 * Returns 0, or -1 with a reason in err. */
int	conn_server_init(struct http_server *srv, char *err, size_t errlen);

/* After evhttp_free(): lets go of what is left of the tracking. */
void	conn_server_free(struct http_server *srv);

/* The caps for the connections accepted from now on. */
void	conn_set_caps(struct http_server *srv, unsigned int total,
	    unsigned int per);

/* Counts a refusal or an accept() pause (v) for the throttled log line;
 * peer, when not NULL, is named in it as the last refused. */
void	conn_note(struct http_server *srv, enum connlimit_verdict v,
	    const char *peer);

/* The tracked connection evreq arrived on (tracked now if it was not),
 * or NULL (no memory, or no connection). */
struct http_conn *conn_of_request(struct http_server *srv,
	    struct evhttp_request *evreq);

/* r is c's request until conn_request_ends(); c's read deadline stops. */
void	conn_request_begins(struct http_conn *c, struct http_req *r);

/* c's request has been written: c waits read_timeout for the next. */
void	conn_request_ends(struct http_conn *c);

/* --- cors_reply.c --- */

/* Does the resource of pattern answer other origins (cors_origins)? */
bool	cors_route_has(const struct http_server *srv, const char *pattern);

/* The CORS headers of an answer on such a resource: Vary: Origin always,
 * and for an allowed origin Access-Control-Allow-Origin and -Expose-
 * Headers. */
void	cors_decorate(const struct http_server *srv, struct http_req *r);

/* Answers OPTIONS on a resource: Allow: allow (RFC 9110 9.3.7) and, when
 * cors and the origin is allowed, the answer to a preflight. */
void	cors_options(const struct http_server *srv, struct http_req *r,
	    const char *allow, bool cors);

/* --- head.c --- */

/*
 * The checks of a request's head before it is routed: one Host for
 * HTTP/1.1 (RFC 9112 3.2), and framing that no proxy can read another
 * way (RFC 9112 6.3): a single Content-Length of digits only, not with
 * Transfer-Encoding.  Returns 0, or -1 after refusing r (400, with
 * Connection: close after a framing error: what follows on the
 * connection cannot be trusted to be a request).
 */
int	head_check(struct http_req *r);

/* --- request.c --- */

/* Answers r before its handler saw it (a 4xx or a 500), wiping the body
 * that was not taken. */
void	req_refuse(struct http_req *r, enum problem_type t,
	    const char *detail);

/* Puts r on srv's list of live contexts (http_server_inflight()). */
void	req_link(struct http_server *srv, struct http_req *r);

/* Takes r off its server's list (when freed, or when the server goes). */
void	req_unlink(struct http_req *r);

/* evhttp_request_set_on_complete_cb: r's response has been written. */
void	req_on_complete(struct evhttp_request *evreq, void *r);

/* r's connection goes down before r was written (the client left, a
 * write failed, or the server is being freed); from conn.c. */
void	req_conn_closed(struct http_req *r);

/* r's handler deadline (srv->deadline_tv) ran out: answers 503. */
void	req_on_deadline(evutil_socket_t fd, short what, void *r);

/* The server's own errors (404, 405, 413, 500): replies with the
 * catalogue's body for t; counts as the handler's reply (rule 1). */
void	req_reply_problem(struct http_req *r, enum problem_type t,
	    const char *detail);

#endif
