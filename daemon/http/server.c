/*
 * The evhttp server: its limits and hooks, the general callback that
 * turns each request into a context and hands it on, and its end.  See
 * http.h for the rules.
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "clock.h"
#include "config.h"
#include "connlimit.h"
#include "cors.h"
#include "evwipe.h"
#include "http.h"
#include "http_int.h"
#include "log.h"
#include "problem.h"
#include "route.h"
#include "util.h"

/* ---- the general callback ---- */

void
http_req_run(struct http_req *r)
{
	r->route->handler(r);
}

/*
 * The steps of the general callback, in order.  A step that answers the
 * request itself (a 4xx or a 500) returns -1: the context is then the
 * reply's, and the steps after it do not run.
 */

/* Makes the context of evreq and links it to the server and to libevent's
 * callbacks.  NULL (a 500 sent) when out of memory. */
static struct http_req *
req_make(struct http_server *srv, struct evhttp_request *evreq)
{
	struct http_conn	*c;
	struct http_req		*r;

	if ((c = conn_of_request(srv, evreq)) == NULL ||
	    (r = calloc(1, sizeof(*r))) == NULL) {
		log_error("out of memory");
		evhttp_send_error(evreq, 500, NULL);
		return NULL;
	}
	clock_now(&r->start);
	r->evreq = evreq;
	r->method = evhttp_request_get_command(evreq);
	req_link(srv, r);
	evhttp_request_set_on_complete_cb(evreq, req_on_complete, r);
	r->conn = c;
	conn_request_begins(c, r);
	return r;
}

/* The request id: the client's X-Request-Id when sane, else a new one. */
static void
req_identify(struct http_req *r)
{
	const char	*id;

	id = evhttp_find_header(evhttp_request_get_input_headers(r->evreq),
	    "X-Request-Id");
	if (id != NULL && http_reqid_valid(id))
		str_copy(r->id, id, sizeof(r->id));
	else
		uuid_random(r->id);
}

/* r->peer, and r->remote: the peer or, behind a trusted proxy, the
 * client it names in X-Forwarded-For. */
static void
req_resolve_client(const struct http_server *srv, struct http_req *r)
{
	struct evhttp_connection *evcon;
	char			*xff = NULL;

	evcon = evhttp_request_get_connection(r->evreq);
	http_peer_addr(evcon != NULL ? evhttp_connection_get_addr(evcon) : NULL,
	    r->peer);
	if (http_trust_has(&srv->trust, r->peer))
		xff = http_xff_join(evhttp_request_get_input_headers(r->evreq));
	http_client_addr(&srv->trust, r->peer, xff, r->remote);
	free(xff);
}

/* 413 for a body over max_body_size (libevent has cut off the larger
 * ones already, HTTP_BODY_HARD_SLACK). */
static int
req_check_body_size(const struct http_server *srv, struct http_req *r)
{
	struct evbuffer	*body = evhttp_request_get_input_buffer(r->evreq);
	char		 detail[80];

	if (evbuffer_get_length(body) <= srv->max_body)
		return 0;
	str_printf(detail, sizeof(detail), "the body is larger than %zu bytes",
	    srv->max_body);
	req_refuse(r, PROBLEM_PAYLOAD_TOO_LARGE, detail);
	return -1;
}

/* Stands in for a route whose {x:uuid} did not match: the caller shows
 * what the route asks for, then learns there is no such resource. */
static void
h_no_such_resource(struct http_req *r)
{
	/* Logged and counted as the unknown path it is. */
	r->route = NULL;
	req_reply_problem(r, PROBLEM_NOT_FOUND, "no such resource");
}

static const struct route no_such_resource[] = {
	[ROUTE_AUTH_BEARER] = { EVHTTP_REQ_GET, "/", h_no_such_resource,
	    ROUTE_AUTH_BEARER },
	[ROUTE_AUTH_ADMIN] = { EVHTTP_REQ_GET, "/", h_no_such_resource,
	    ROUTE_AUTH_ADMIN },
};

/* Finds the route of the method and path (404, 405 with Allow; OPTIONS
 * answered here), adds the CORS headers, and keeps the raw query string
 * for the handler. */
static int
req_route(const struct http_server *srv, struct http_req *r)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(r->evreq);
	struct route_match	 m;
	enum route_result	 res;
	const char		*query;
	char			 allow[80];
	bool			 cors;

	res = route_match(srv->routes, srv->nroutes, r->method,
	    uri != NULL ? evhttp_uri_get_path(uri) : NULL, &m);
	if (res == ROUTE_NOT_FOUND && m.auth != ROUTE_AUTH_NONE) {
		r->route = &no_such_resource[m.auth];
		return 0;
	}
	if (res == ROUTE_NOT_FOUND) {
		req_refuse(r, PROBLEM_NOT_FOUND, "no such resource");
		return -1;
	}
	cors = cors_route_has(srv, m.pattern);
	route_allow_header(m.allow | EVHTTP_REQ_OPTIONS, allow, sizeof(allow));
	if (r->method == EVHTTP_REQ_OPTIONS && res != ROUTE_FOUND) {
		cors_options(srv, r, allow, cors);
		return -1;
	}
	if (cors)
		cors_decorate(srv, r);
	if (res == ROUTE_METHOD_NOT_ALLOWED) {
		http_set_header(r, "Allow", allow);
		req_refuse(r, PROBLEM_METHOD_NOT_ALLOWED,
		    "the method is not allowed on this resource");
		return -1;
	}
	r->route = m.route;
	r->params = m.params;
	if (uri != NULL && (query = evhttp_uri_get_query(uri)) != NULL &&
	    (r->query = strdup(query)) == NULL) {
		req_refuse(r, PROBLEM_INTERNAL, NULL);
		return -1;
	}
	return 0;
}

/* Copies the body into r->body (NUL-terminated; NULL when empty), then
 * wipes it in libevent's buffer (evwipe.h): one copy, ours, which
 * request.c wipes when it frees the context. */
static int
req_take_body(struct http_req *r)
{
	struct evbuffer	*body = evhttp_request_get_input_buffer(r->evreq);
	size_t		 len = evbuffer_get_length(body);

	if (len == 0)
		return 0;
	if ((r->body = malloc(len + 1)) == NULL ||
	    evwipe_remove(body, r->body, len) == -1) {
		free(r->body);
		r->body = NULL;
		req_refuse(r, PROBLEM_INTERNAL, NULL);
		return -1;
	}
	r->body[len] = '\0';
	r->body_len = len;
	return 0;
}

/* Starts the handler's deadline (request_timeout) and hands r to the
 * dispatch hook, or to the route's handler when there is none. */
static void
req_dispatch(struct http_server *srv, struct http_req *r)
{
	if ((r->deadline = evtimer_new(srv->base, req_on_deadline, r)) == NULL ||
	    evtimer_add(r->deadline, srv->deadline_tv) == -1)
		log_warn("request %s: no handler deadline", r->id);
	if (srv->dispatch != NULL)
		srv->dispatch(r, srv->dispatch_arg);
	else
		http_req_run(r);
}

/* evhttp_set_gencb: a whole request (head and body) has arrived. */
static void
on_request(struct evhttp_request *evreq, void *arg)
{
	struct http_server	*srv = arg;
	struct http_req		*r;

	if ((r = req_make(srv, evreq)) == NULL)
		return;
	req_identify(r);
	req_resolve_client(srv, r);
	if (head_check(r) == -1 ||
	    req_check_body_size(srv, r) == -1 ||
	    req_route(srv, r) == -1 ||
	    req_take_body(r) == -1)
		return;
	req_dispatch(srv, r);
	/* r may be gone now. */
}

/* ---- the server ---- */

/* What cfg asks of the server, checked, before any of it is applied. */
struct limits {
	struct http_trust	 trust;
	struct http_cors	 cors;
	struct timeval		 io_tv;		/* libevent's read and write */
	const struct timeval	*deadline_tv;	/* request_timeout */
	const struct timeval	*read_tv;	/* read_timeout */
	size_t			 max_body;
	size_t			 max_header;
	unsigned long long	 nofile;	/* the open-file limit */
	unsigned int		 max_conns;	/* max_connections */
	unsigned int		 max_per;	/* ..._per_address */
};

static int
limits_from_cfg(struct event_base *base, const struct cfg *cfg,
    struct limits *l, char *err, size_t errlen)
{
	struct timeval	 tv;
	struct rlimit	 rl;

	if (http_trust_parse(&l->trust, cfg->trusted_proxies.v,
	    cfg->trusted_proxies.n, err, errlen) == -1 ||
	    http_cors_parse(&l->cors, cfg->cors_origins.v,
	    cfg->cors_origins.n, err, errlen) == -1)
		return -1;
	l->io_tv.tv_sec = cfg->request_timeout > 0 ? cfg->request_timeout : 30;
	l->io_tv.tv_usec = 0;
	tv.tv_sec = cfg->read_timeout > 0 ? cfg->read_timeout : 30;
	tv.tv_usec = 0;
	if ((l->deadline_tv = event_base_init_common_timeout(base,
	    &l->io_tv)) == NULL ||
	    (l->read_tv = event_base_init_common_timeout(base, &tv)) == NULL) {
		str_copy(err, "cannot set the request timeouts", errlen);
		return -1;
	}
	l->max_body = cfg->max_body_size;
	l->max_header = cfg->max_header_size;
	/* 0 in cfg: from the open-file limit (connlimit_derive()). */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		l->nofile = CONNLIMIT_MAX;
	else
		l->nofile = (unsigned long long)rl.rlim_cur;
	l->max_conns = cfg->max_connections;
	l->max_per = cfg->max_connections_per_address;
	connlimit_derive(l->nofile, cfg->database_pool, &l->max_conns,
	    &l->max_per);
	return 0;
}

/* For the connections and requests that arrive from now on. */
static void
limits_apply(struct http_server *srv, const struct limits *l)
{
	srv->trust = l->trust;
	srv->cors = l->cors;
	srv->deadline_tv = l->deadline_tv;
	srv->read_tv = l->read_tv;
	srv->max_body = l->max_body;
	evhttp_set_max_body_size(srv->http,
	    (ev_ssize_t)(l->max_body + HTTP_BODY_HARD_SLACK));
	evhttp_set_max_headers_size(srv->http, (ev_ssize_t)l->max_header);
	evhttp_set_timeout_tv(srv->http, &l->io_tv);
	conn_set_caps(srv, l->max_conns, l->max_per);
	log_info("http: at most %u connections, %u from one address "
	    "(open-file limit %llu)", l->max_conns, l->max_per, l->nofile);
}

struct http_server *
http_server_new(struct event_base *base, const struct cfg *cfg,
    const struct route *routes, size_t n, char *err, size_t errlen)
{
	struct http_server	*srv;
	struct limits		 l;
	struct sigaction	 sa;
	struct group		*gr;

	if (route_table_check(routes, n, err, errlen) == -1 ||
	    limits_from_cfg(base, cfg, &l, err, errlen) == -1)
		return NULL;
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		str_copy(err, "out of memory", errlen);
		return NULL;
	}
	/* A client that leaves before its response is written must be a
	 * write error for libevent, not a SIGPIPE that ends the daemon. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);

	srv->base = base;
	srv->routes = routes;
	srv->nroutes = n;
	srv->listen_mode = cfg->listen_mode & 07777;
	srv->listen_gid = (gid_t)-1;
	if (cfg->listen_group != NULL && cfg->listen_group[0] != '\0') {
		if ((gr = getgrnam(cfg->listen_group)) == NULL) {
			str_printf(err, errlen, "listen_group: no group \"%s\"",
			    cfg->listen_group);
			free(srv);
			return NULL;
		}
		srv->listen_gid = gr->gr_gid;
	}

	if ((srv->http = evhttp_new(base)) == NULL) {
		str_copy(err, "cannot create the HTTP server", errlen);
		free(srv);
		return NULL;
	}
	if (conn_server_init(srv, err, errlen) == -1) {
		evhttp_free(srv->http);
		free(srv);
		return NULL;
	}
	limits_apply(srv, &l);
	/* Every method libevent parses, so that the route table answers
	 * 405 itself instead of libevent's 501. */
	evhttp_set_allowed_methods(srv->http, HTTP_ALL_METHODS);
	evhttp_set_default_content_type(srv->http, NULL);
	evhttp_set_gencb(srv->http, on_request, srv);
	return srv;
}

int
http_server_set_limits(struct http_server *srv, const struct cfg *cfg,
    char *err, size_t errlen)
{
	struct limits	 l;

	if (limits_from_cfg(srv->base, cfg, &l, err, errlen) == -1)
		return -1;
	limits_apply(srv, &l);
	return 0;
}

void
http_server_set_dispatch(struct http_server *srv, http_dispatch_fn *fn,
    void *arg)
{
	srv->dispatch = fn;
	srv->dispatch_arg = arg;
}

void
http_server_set_cors_routes(struct http_server *srv,
    const char *const *patterns, size_t n)
{
	srv->cors_routes = patterns;
	srv->ncors_routes = n;
}

void
http_server_set_observer(struct http_server *srv, http_observe_fn *fn,
    void *arg)
{
	srv->observe = fn;
	srv->observe_arg = arg;
}

void
http_server_set_problem_pages(struct http_server *srv, const char *prefix,
    http_problem_page_fn *fn, void *arg)
{
	srv->page_prefix = prefix;
	srv->page_fn = fn;
	srv->page_arg = arg;
}

size_t
http_server_inflight(const struct http_server *srv)
{
	return srv->nlive;
}

void
http_server_free(struct http_server *srv)
{
	struct http_req	*r;

	if (srv == NULL)
		return;
	http_server_stop_listening(srv);
	/* Closes every connection: conn.c tells each context still on one
	 * that it is gone, and those whose handler has replied are freed. */
	evhttp_free(srv->http);
	conn_server_free(srv);
	/* The rest wait for their handlers (http.h, rule 3); cut them loose
	 * from the server and the event base. */
	while ((r = srv->live) != NULL) {
		req_unlink(r);
		r->srv = NULL;
		if (r->deadline != NULL) {
			event_free(r->deadline);
			r->deadline = NULL;
		}
	}
	free(srv);
}
