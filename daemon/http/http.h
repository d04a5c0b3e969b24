/*
 * The HTTP server of wardend on libevent's evhttp: listeners, limits, the
 * request context, the access log, and the replies.  server.c holds the
 * server and its general callback, request.c the context and the replies,
 * conn.c the connections, listen.c the listeners, trust.c the client
 * address (trust.h).
 *
 * One struct http_server serves one route table (route.h) on any number of
 * listeners ("host:port", "[v6]:port", "unix:/path", or an inherited
 * listening fd).  For every request it
 *   - gives the request an id: the client's X-Request-Id when it is 1..64
 *     characters of [A-Za-z0-9._-], else a fresh random UUID;
 *   - finds the client's address: the peer, or, when the peer is one of
 *     cfg.trusted_proxies, the right-most address of X-Forwarded-For that
 *     is not itself a trusted proxy;
 *   - answers 413 (body over cfg.max_body_size), 404 and 405 (with Allow)
 *     itself, as application/problem+json;
 *   - else copies the body once into the context and hands the context to
 *     the dispatch hook, or straight to the route's handler;
 *   - wipes the body where libevent buffered it before libevent frees it
 *     (evwipe.h), whether it was taken or the request was refused;
 *   - adds X-Request-Id and X-Content-Type-Options: nosniff to the reply;
 *   - writes one access log line when the response has been sent (or the
 *     client has gone): request_id, method, route (the pattern, never the
 *     raw path or the query), status, duration_ms, remote.
 *
 * Limits: headers over cfg.max_header_size, malformed request lines and
 * methods libevent does not know are refused by libevent itself (400/501,
 * an HTML body, the connection closed), before any of this runs: those
 * get no request id and no access line.  Bodies over cfg.max_body_size get
 * the 413 problem from here as long as they stay under
 * HTTP_BODY_HARD_SLACK more; larger ones are cut off by libevent with its
 * own 413 (libevent 2.1 calls no user code for that case, and reading
 * an unbounded body just to answer in JSON would let any client make us
 * buffer it).  cfg.request_timeout bounds both a slow client (libevent's
 * read/write timeouts) and a slow handler: a request whose handler has not
 * replied by then is answered 503 (problem "unavailable", Retry-After: 1),
 * and the handler's late reply is dropped.  cfg.read_timeout bounds the
 * wait for a whole request, head and body, from the connection's accept
 * or its previous response: a connection that has not delivered one by
 * then is closed, however steadily it trickles (conn.c).  A connection
 * over cfg.max_connections, or cfg.max_connections_per_address from one
 * address (not counting trusted proxies and unix peers), is answered 503
 * and closed at once, before anything of it is read.
 *
 * LIFETIME OF A REQUEST CONTEXT (struct http_req)
 *
 *   Handlers are asynchronous: a handler may reply at once, or start
 *   database or hasher work and reply later from its callback.  The rules:
 *
 *   1. The server creates the context and passes it to the dispatch hook /
 *      handler.  From then on the handler side owns exactly one duty:
 *      to call exactly one reply function (http_reply_*(), problem_*())
 *      or http_req_abandon(), once, sooner or later.
 *   2. That call ends the handler's use of the context: after it returns
 *      the pointer may already be freed.  Do not touch it again; clear
 *      your own copies first.  Cancel work you started before replying
 *      (or let its callback find out through your own state).
 *   3. Until that call the context stays valid, whatever the client does.
 *      If the client disconnects, or the server shuts down, or the
 *      handler timeout answers first, the context is marked (r->gone, or
 *      http_req_answered() true) and the eventual reply is dropped
 *      silently: replying to a vanished client is safe and frees nothing
 *      twice.  Header accessors then return NULL.  (libevent stops
 *      reading a connection once its request is in, so a client that
 *      leaves is mostly noticed only when its response is written: a
 *      handler is not told early and need not check.)
 *   4. The server frees the context exactly once, when both the handler
 *      has replied and libevent is done with the connection's request
 *      (response written, or connection closed).  caller_free(caller) runs
 *      then.
 *
 *   Everything runs on the event loop thread; nothing here is thread-safe.
 *
 * HEAD is served by the GET handler; the server sends the headers and the
 * Content-Length of the body, never the body (nor one with 204 or 304).
 * http_server_new() ignores SIGPIPE when it is at its default, so that a
 * client gone before its response is a write error, not the daemon's end.
 *
 * Shutdown: http_server_stop_listening() stops accepting, the caller waits
 * until http_server_inflight() reaches 0 (or its drain timeout), then
 * http_server_free().  Contexts whose handlers have still not replied are
 * detached (their clients are gone) and freed when those handlers reply.
 */
#ifndef WARDEN_HTTP_H
#define WARDEN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "fields.h"
#include "route.h"
#include "trust.h"

struct cfg;
struct event;
struct event_base;
struct evhttp_request;
struct http_server;

#define HTTP_REQID_MAX		FIELD_PLAIN_NAME_MAX	/* bytes of a client's
							 * X-Request-Id */
/* See "Limits" above: what one connection may make us buffer past
 * max_body_size, so that it stays small (a 1 MiB slack let 400
 * connections take 420 MB). */
#define HTTP_BODY_HARD_SLACK	(16 * 1024)
#define HTTP_STATUS_GONE	499	/* logged when the client left first */

struct http_req;
/* A reply caught on its way out (http_reply_hook()): status, ctype (NULL
 * for none) and the body (data, len), valid during the call only. */
typedef void http_reply_hook_fn(struct http_req *r, int status,
    const char *ctype, const void *data, size_t len, void *arg);

struct http_req {
	/* --- read-only for handlers --- */
	struct http_server	*srv;		/* NULL once the server is freed */
	enum evhttp_cmd_type	 method;	/* as requested (HEAD stays HEAD) */
	const struct route	*route;		/* the matched row */
	struct route_params	 params;	/* {id} etc., see route_param() */
	char			 id[HTTP_REQID_MAX + 1];
	char			 remote[HTTP_ADDR_MAX];	/* the client, see above */
	char			 peer[HTTP_ADDR_MAX];	/* the socket's peer, or
							 * "unix" */
	struct timespec		 start;		/* CLOCK_MONOTONIC */
	char			*body;		/* NUL-terminated copy of the
						 * body, or NULL when empty;
						 * wiped when freed */
	size_t			 body_len;
	char			*query;		/* the raw query string (after
						 * '?', not decoded), or NULL */
	int			 status;	/* the status sent, 0 until then */
	bool			 gone;		/* the client left before its
						 * response was written */

	/* --- set by http_reply_hook() --- */
	http_reply_hook_fn	*hook;
	void			*hook_arg;

	/* --- the lead's authentication code owns these --- */
	void			*caller;	/* the authenticated caller */
	void			(*caller_free)(void *);	/* frees it, or NULL */

	/* --- private to the HTTP layer (request.c, server.c) --- */
	struct evhttp_request	*evreq;		/* NULL once answered or gone */
	struct http_conn	*conn;		/* NULL once written or gone */
	struct event		*deadline;
	bool			 handler_done;
	bool			 net_done;
	bool			 timed_out;
	struct http_req		*next, **prevp;	/* the server's live list */
};

/* Called for a matched request instead of route->handler: the place for
 * authentication.  It must end in http_req_run() or a reply (rule 1). */
typedef void http_dispatch_fn(struct http_req *r, void *arg);
/* Called once per request when its response is written or its client is
 * gone (r->status, r->gone, r->route): the place for metrics.  r is
 * read-only and valid only during the call. */
typedef void http_observe_fn(const struct http_req *r, double duration_ms,
    void *arg);

/*
 * Creates a server on base for the n rows of routes (static storage,
 * checked with route_table_check()), with its limits, timeouts and
 * trusted proxies from cfg (read now; cfg may be freed afterwards).
 * No listener yet.  Returns NULL with a reason in err.
 */
struct http_server *http_server_new(struct event_base *base,
	    const struct cfg *cfg, const struct route *routes, size_t n,
	    char *err, size_t errlen);

/*
 * Applies a reloaded cfg's limits (SIGHUP): max_body_size,
 * max_header_size, request_timeout, read_timeout, max_connections,
 * max_connections_per_address and trusted_proxies, for the connections
 * and requests that arrive from now on.  Returns 0, or -1
 * with a reason in err (a bad trusted proxy) and nothing changed.
 */
int	http_server_set_limits(struct http_server *srv, const struct cfg *cfg,
	    char *err, size_t errlen);

/* Sets the dispatch hook (NULL: call route->handler directly). */
void	http_server_set_dispatch(struct http_server *srv,
	    http_dispatch_fn *fn, void *arg);

/* The route patterns whose resources answer the origins of cors_origins
 * (cors.h); patterns (static storage) are the route table's.  OPTIONS is
 * answered on every resource, with a CORS preflight on these. */
void	http_server_set_cors_routes(struct http_server *srv,
	    const char *const *patterns, size_t n);

/* Sets the observer hook (NULL: none). */
void	http_server_set_observer(struct http_server *srv,
	    http_observe_fn *fn, void *arg);

/*
 * Writes the page (text/html) that stands for the problem answer of r
 * (status, the problem's JSON in data, len) into out, and may set
 * headers of r (those the problem set stay).  Returns 0, or -1 to send
 * the problem as it is.  It must not reply: it may run while r's handler
 * still holds r (a deadline).
 */
struct evbuffer;
typedef int http_problem_page_fn(struct http_req *r, int status,
    const void *data, size_t len, struct evbuffer *out, void *arg);

/*
 * Answers the problems (PROBLEM_CTYPE) of the requests whose path starts
 * with prefix (static storage) with fn's page instead, after the
 * request's own hook: the portal answers browsers with a page whichever
 * way the problem came (a failed database, a busy hasher, the handler's
 * deadline, an unknown path, a wrong method, a body too large).  The
 * page's buffer is wiped once sent.  NULL fn: none.
 */
void	http_server_set_problem_pages(struct http_server *srv,
	    const char *prefix, http_problem_page_fn *fn, void *arg);

/*
 * Binds and listens on one cfg.listen entry: "host:port" (a name may
 * resolve to several addresses: each is bound), "[v6]:port", or
 * "unix:/path" (a stale socket at path is removed, a live one is an error;
 * the new one gets mode cfg.listen_mode).  Port 0 picks a free port.
 * Returns 0, or -1 with a reason in err.
 */
int	http_listen(struct http_server *srv, const char *spec, char *err,
	    size_t errlen);

/* http_listen() on every entry of cfg.listen; stops at the first error. */
int	http_listen_all(struct http_server *srv, const struct cfg *cfg,
	    char *err, size_t errlen);

/*
 * Serves on an already bound, listening stream socket (systemd socket
 * activation); the server owns fd from now on, also on error.
 * Returns 0, or -1 with a reason in err.
 */
int	http_listen_fd(struct http_server *srv, int fd, char *err,
	    size_t errlen);

/*
 * Several front processes (daemon/fronts.h): set before http_listen(), the
 * TCP sockets this server binds get SO_REUSEPORT, so that after the fork
 * each other front can open its own on the same address with
 * http_reopen_own() and the kernel shares the connections out evenly (one
 * shared socket would give a burst of connections to whichever front
 * woke first).  Sockets from systemd and unix: sockets stay shared.
 * http_reopen_own() returns 0, or -1 with a reason in err.
 */
void	http_server_set_reuse_port(struct http_server *srv, bool on);
int	http_reopen_own(struct http_server *srv, char *err, size_t errlen);

/* Listening sockets so far, and the fd of the i-th (for getsockname()). */
size_t	http_listener_count(const struct http_server *srv);
int	http_listener_fd(const struct http_server *srv, size_t i);

/* Closes every listener (and removes the unix sockets it created); the
 * connections already open are served to the end. */
void	http_server_stop_listening(struct http_server *srv);

/* Requests whose context is still alive (not yet answered, or answered
 * but not yet written, or whose handler has not yet replied). */
size_t	http_server_inflight(const struct http_server *srv);

/* Client connections open now (accepted, not yet closed). */
size_t	http_server_connections(const struct http_server *srv);

/* Closes listeners and connections and frees the server; see "Shutdown". */
void	http_server_free(struct http_server *srv);

/* --- for the dispatch hook --- */

/* Runs the matched route's handler (after authentication succeeded). */
void	http_req_run(struct http_req *r);

/* --- reading the request (valid until the reply, rule 3) --- */

/* The value of request header name (case-insensitive; the first one when
 * repeated), or NULL when absent or the client is gone. */
const char *http_req_header(struct http_req *r, const char *name);

/* The value of path parameter name of the matched route, or NULL. */
const char *http_req_param(const struct http_req *r, const char *name);

/* True when the request's Content-Type is the media type type (ASCII
 * case-insensitive) with no parameter but an optional charset=utf-8
 * ("application/json; charset=UTF-8").  False when absent. */
bool	http_req_content_type_is(struct http_req *r, const char *type);

/* True once a response was handed to libevent or the client is gone: a
 * reply now would be dropped (rule 3). */
bool	http_req_answered(const struct http_req *r);

/* --- replying: each of these is the handler's one reply (rule 1) --- */

/*
 * Adds response header name: value (replacing an earlier one of that
 * name), before the reply.  Values with CR or LF are refused.
 * Returns 0, or -1 (also when the client is gone: ignore it).
 */
int	http_set_header(struct http_req *r, const char *name,
	    const char *value);

/* http_set_header() keeping the earlier ones of that name: for headers
 * that may repeat, such as Set-Cookie (RFC 6265 3). */
int	http_add_header(struct http_req *r, const char *name,
	    const char *value);

/* Cache-Control: no-store, for responses that carry tokens or user data;
 * with pragma also Pragma: no-cache (the token endpoint, RFC 6749 5.1). */
void	http_no_store(struct http_req *r, bool pragma);

/* Replies status with Content-Type ctype and the len bytes of data
 * (copied).  The other replies are built on this one. */
void	http_reply_raw(struct http_req *r, int status, const char *ctype,
	    const void *data, size_t len);

/* Replies status with body serialised (compact) as application/json;
 * takes ownership of body and frees it.  NULL body: 500 problem. */
void	http_reply_json(struct http_req *r, int status, cJSON *body);

/* http_reply_json() with Content-Type ctype (application/problem+json);
 * NULL body, or no memory to serialise it: the 500 problem. */
void	http_reply_doc(struct http_req *r, int status, const char *ctype,
	    cJSON *body);

/* Replies status with no body (204, 201 without one, ...). */
void	http_reply_empty(struct http_req *r, int status);

/* Replies status with text/plain; charset=utf-8 text. */
void	http_reply_text(struct http_req *r, int status, const char *text);

/* Ends the handler's duty without a reply: the client gets a 500 problem
 * if nothing was sent yet.  For paths that cannot build a reply. */
void	http_req_abandon(struct http_req *r);

/*
 * Routes r's next reply through fn instead of the wire: a handler that
 * runs another's code (the portal running an API operation) turns its
 * JSON answer into its own.  The hook fires once, is then cleared, and
 * must itself end in a reply of r (to which it may add headers: those
 * the caught reply set stay).  NULL fn clears it.
 */
void	http_reply_hook(struct http_req *r, http_reply_hook_fn *fn,
	    void *arg);

/* --- building blocks, exposed for tests --- */

/* True when s is a sane client request id: 1..64 of [A-Za-z0-9._-]. */
bool	http_reqid_valid(const char *s);

#endif
