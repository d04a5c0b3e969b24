/*
 * The evhttp server: listeners, limits, request contexts and their
 * lifetime, the access log, and the replies.  See http.h for the rules.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "problem.h"
#include "route.h"
#include "util.h"

#define HTTP_LISTEN_BACKLOG	511

#define HTTP_ALL_METHODS	(EVHTTP_REQ_GET | EVHTTP_REQ_POST |	\
	EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |		\
	EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |	\
	EVHTTP_REQ_PATCH)

struct listener {
	struct evhttp_bound_socket *bound;
	int		 fd;
	char		*unix_path;	/* created by us: removed on close */
	dev_t		 dev;
	ino_t		 ino;
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

	http_dispatch_fn	*dispatch;
	void			*dispatch_arg;
	http_observe_fn		*observe;
	void			*observe_arg;

	struct listener		*ls;
	size_t			 nls;

	struct http_req		*live;		/* contexts not yet freed */
	size_t			 nlive;
};

static void	req_send(struct http_req *, int, const char *, const void *,
		    size_t);

/* ---- small helpers ---- */

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return NULL;	/* libevent's own phrase */
	}
}

static double
elapsed_ms(const struct timespec *start)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

bool
http_reqid_valid(const char *s)
{
	size_t	 i;

	if (s == NULL)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == HTTP_REQID_MAX)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return i > 0;
}

/* ---- the context's lifetime ---- */

static void
req_link(struct http_server *srv, struct http_req *r)
{
	r->srv = srv;
	r->next = srv->live;
	if (srv->live != NULL)
		srv->live->prevp = &r->next;
	r->prevp = &srv->live;
	srv->live = r;
	srv->nlive++;
}

static void
req_unlink(struct http_req *r)
{
	if (r->prevp == NULL)
		return;
	*r->prevp = r->next;
	if (r->next != NULL)
		r->next->prevp = r->prevp;
	r->next = NULL;
	r->prevp = NULL;
	if (r->srv != NULL)
		r->srv->nlive--;
}

/* Frees r once both sides are done with it (http.h, rule 4). */
static void
req_maybe_free(struct http_req *r)
{
	if (!r->handler_done || !r->net_done)
		return;
	req_unlink(r);
	if (r->deadline != NULL)
		event_free(r->deadline);
	if (r->caller != NULL && r->caller_free != NULL)
		r->caller_free(r->caller);
	if (r->body != NULL) {
		explicit_bzero(r->body, r->body_len);
		free(r->body);
	}
	free(r->query);
	free(r);
}

static void
access_log(const struct http_req *r, int status, bool gone, double ms)
{
	char	 st[16], dur[32];

	str_printf(st, sizeof(st), "%d", status);
	str_printf(dur, sizeof(dur), "%.3f", ms);
	/* A NULL key ends the list: "client_gone" only when it is true. */
	log_event(LOG_INFO, "access",
	    "request_id", r->id,
	    "method", route_method_name(r->method),
	    "route", r->route != NULL ? r->route->pattern : "-",
	    "status", st,
	    "duration_ms", dur,
	    "remote", r->remote,
	    gone ? "client_gone" : NULL, "true",
	    NULL);
}

/* libevent is done with r's request: written (gone false) or the
 * connection closed first (gone true). */
static void
req_net_done(struct http_req *r, bool gone)
{
	double	 ms;

	if (r->net_done)
		return;
	r->net_done = true;
	if (gone) {
		r->gone = true;
		if (r->status == 0)
			r->status = HTTP_STATUS_GONE;
	}
	ms = elapsed_ms(&r->start);
	access_log(r, r->status, gone, ms);
	if (r->srv != NULL && r->srv->observe != NULL)
		r->srv->observe(r, ms, r->srv->observe_arg);
	req_maybe_free(r);
}

/* evhttp_request_set_on_complete_cb: the response has been written; the
 * request is freed by libevent right after. */
static void
on_complete(struct evhttp_request *evreq, void *arg)
{
	struct http_req		*r = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(evreq);

	if (evcon != NULL)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
	req_net_done(r, false);
}

/* evhttp_connection_set_closecb: the connection goes down while r is on
 * it (the client left, a write failed, or the server is being freed). */
static void
on_close(struct evhttp_connection *evcon, void *arg)
{
	struct http_req	*r = arg;

	evhttp_connection_set_closecb(evcon, NULL, NULL);
	if (r->evreq != NULL) {
		/* Not answered yet.  Still queued on the connection, the
		 * request is freed by libevent right after this callback;
		 * detached from it (EOF before the reply), it is ours. */
		if (evhttp_request_get_connection(r->evreq) == NULL)
			evhttp_request_free(r->evreq);
		r->evreq = NULL;
		if (r->deadline != NULL)
			evtimer_del(r->deadline);
	}
	req_net_done(r, true);
}

/* The handler did not answer within request_timeout. */
static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct http_req	*r = arg;
	cJSON		*o;
	char		*s = NULL;

	if (r->evreq == NULL)
		return;
	r->timed_out = true;
	log_event(LOG_WARN, "handler timeout", "request_id", r->id,
	    "route", r->route != NULL ? r->route->pattern : "-", NULL);
	if ((o = problem_json(PROBLEM_UNAVAILABLE,
	    "the request took too long; try again")) != NULL)
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	http_set_header(r, "Retry-After", "1");
	req_send(r, 503, "application/problem+json", s,
	    s != NULL ? strlen(s) : 0);
	cJSON_free(s);
}

/* ---- replies ---- */

/* Hands the response to libevent if the client is still there. */
static void
req_send(struct http_req *r, int status, const char *ctype,
    const void *data, size_t len)
{
	struct evhttp_request	*evreq = r->evreq;
	struct evkeyvalq	*h;
	struct evbuffer		*buf;

	if (evreq == NULL)
		return;
	r->evreq = NULL;
	if (r->deadline != NULL)
		evtimer_del(r->deadline);

	h = evhttp_request_get_output_headers(evreq);
	evhttp_remove_header(h, "X-Request-Id");
	evhttp_add_header(h, "X-Request-Id", r->id);
	evhttp_remove_header(h, "X-Content-Type-Options");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (ctype != NULL) {
		evhttp_remove_header(h, "Content-Type");
		evhttp_add_header(h, "Content-Type", ctype);
	}
	/* libevent 2.1 would write a body after HEAD too: keep it back, but
	 * say how long it is, as RFC 9110 9.3.2 allows. */
	if (status == 204 || status == 304 || status < 200)
		len = 0;
	else if (r->method == EVHTTP_REQ_HEAD) {
		char cl[24];

		str_printf(cl, sizeof(cl), "%zu", len);
		evhttp_remove_header(h, "Content-Length");
		evhttp_add_header(h, "Content-Length", cl);
		len = 0;
	}
	if ((buf = evbuffer_new()) == NULL ||
	    (len > 0 && evbuffer_add(buf, data, len) == -1)) {
		if (buf != NULL)
			evbuffer_free(buf);
		buf = NULL;
		status = 500;
		evhttp_remove_header(h, "Content-Type");
	}
	r->status = status;
	evhttp_send_reply(evreq, status, reason_phrase(status), buf);
	if (buf != NULL)
		evbuffer_free(buf);
}

void
http_reply_raw(struct http_req *r, int status, const char *ctype,
    const void *data, size_t len)
{
	if (r->handler_done) {
		log_error("request %s: a second reply, dropped", r->id);
		return;
	}
	r->handler_done = true;
	req_send(r, status, ctype, data, len);
	req_maybe_free(r);
}

/*
 * The server's own errors (404, 405, 413, 500): the catalogue's body for
 * t.  The handlers' replies are api/problem_reply.c's.
 */
static void
reply_problem(struct http_req *r, enum problem_type t, const char *detail)
{
	cJSON	*o;
	char	*s = NULL;

	if ((o = problem_json(t, detail)) != NULL)
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL) {
		http_reply_raw(r, 500, PROBLEM_CTYPE, problem_oom_body,
		    strlen(problem_oom_body));
		return;
	}
	http_reply_raw(r, problem_status(t), PROBLEM_CTYPE, s, strlen(s));
	cJSON_free(s);
}

void
http_reply_json(struct http_req *r, int status, cJSON *body)
{
	char	*s = NULL;

	if (body != NULL)
		s = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (s == NULL) {
		reply_problem(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	http_reply_raw(r, status, "application/json", s, strlen(s));
	cJSON_free(s);
}

void
http_reply_empty(struct http_req *r, int status)
{
	http_reply_raw(r, status, NULL, NULL, 0);
}

void
http_reply_text(struct http_req *r, int status, const char *text)
{
	http_reply_raw(r, status, "text/plain; charset=utf-8", text,
	    strlen(text));
}

void
http_req_abandon(struct http_req *r)
{
	reply_problem(r, PROBLEM_INTERNAL, NULL);
}

int
http_set_header(struct http_req *r, const char *name, const char *value)
{
	struct evkeyvalq *h;

	if (r->evreq == NULL)
		return -1;
	h = evhttp_request_get_output_headers(r->evreq);
	while (evhttp_remove_header(h, name) == 0)
		;
	return evhttp_add_header(h, name, value) == 0 ? 0 : -1;
}

void
http_no_store(struct http_req *r, bool pragma)
{
	http_set_header(r, "Cache-Control", "no-store");
	if (pragma)
		http_set_header(r, "Pragma", "no-cache");
}

bool
http_req_answered(const struct http_req *r)
{
	return r->evreq == NULL;
}

const char *
http_req_header(struct http_req *r, const char *name)
{
	if (r->evreq == NULL)
		return NULL;
	return evhttp_find_header(evhttp_request_get_input_headers(r->evreq),
	    name);
}

const char *
http_req_param(const struct http_req *r, const char *name)
{
	return route_param(&r->params, name);
}

static bool
ows(char c)
{
	return c == ' ' || c == '\t';
}

bool
http_req_content_type_is(struct http_req *r, const char *type)
{
	const char	*ct = http_req_header(r, "Content-Type"), *p;
	size_t		 tl = strlen(type);

	if (ct == NULL)
		return false;
	while (ows(*ct))
		ct++;
	if (strncasecmp(ct, type, tl) != 0)
		return false;
	p = ct + tl;
	while (ows(*p))
		p++;
	if (*p == '\0')
		return true;
	if (*p++ != ';')
		return false;
	while (ows(*p))
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return false;
	p += 8;
	if (strncasecmp(p, "utf-8", 5) == 0)
		p += 5;
	else if (strncasecmp(p, "\"utf-8\"", 7) == 0)
		p += 7;
	else
		return false;
	while (ows(*p))
		p++;
	return *p == '\0';
}

/* ---- the general callback ---- */

void
http_req_run(struct http_req *r)
{
	r->route->handler(r);
}

static void
on_request(struct evhttp_request *evreq, void *arg)
{
	struct http_server	*srv = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(evreq);
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(evreq);
	struct evkeyvalq	*in = evhttp_request_get_input_headers(evreq);
	struct evbuffer		*body = evhttp_request_get_input_buffer(evreq);
	struct route_match	 m;
	struct http_req		*r;
	const char		*id, *query;
	char			*xff = NULL, allow[80], detail[80];
	size_t			 len;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_error("out of memory");
		evhttp_send_error(evreq, 500, NULL);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->evreq = evreq;
	r->method = evhttp_request_get_command(evreq);
	req_link(srv, r);
	evhttp_request_set_on_complete_cb(evreq, on_complete, r);
	if (evcon != NULL)
		evhttp_connection_set_closecb(evcon, on_close, r);

	if ((id = evhttp_find_header(in, "X-Request-Id")) != NULL &&
	    http_reqid_valid(id))
		str_copy(r->id, id, sizeof(r->id));
	else
		uuid_random(r->id);

	http_peer_addr(evcon != NULL ? evhttp_connection_get_addr(evcon) : NULL,
	    r->peer);
	if (http_trust_has(&srv->trust, r->peer))
		xff = http_xff_join(in);
	http_client_addr(&srv->trust, r->peer, xff, r->remote);
	free(xff);

	if (uri != NULL && (query = evhttp_uri_get_query(uri)) != NULL &&
	    (r->query = strdup(query)) == NULL) {
		reply_problem(r, PROBLEM_INTERNAL, NULL);
		return;
	}

	if ((r->deadline = evtimer_new(srv->base, on_deadline, r)) == NULL ||
	    evtimer_add(r->deadline, srv->deadline_tv) == -1)
		log_warn("request %s: no handler deadline", r->id);

	len = evbuffer_get_length(body);
	if (len > srv->max_body) {
		str_printf(detail, sizeof(detail),
		    "the body is larger than %zu bytes", srv->max_body);
		reply_problem(r, PROBLEM_PAYLOAD_TOO_LARGE, detail);
		return;
	}

	switch (route_match(srv->routes, srv->nroutes, r->method,
	    uri != NULL ? evhttp_uri_get_path(uri) : NULL, &m)) {
	case ROUTE_NOT_FOUND:
		reply_problem(r, PROBLEM_NOT_FOUND, "no such resource");
		return;
	case ROUTE_METHOD_NOT_ALLOWED:
		route_allow_header(m.allow, allow, sizeof(allow));
		http_set_header(r, "Allow", allow);
		reply_problem(r, PROBLEM_METHOD_NOT_ALLOWED,
		    "the method is not allowed on this resource");
		return;
	case ROUTE_FOUND:
		break;
	}
	r->route = m.route;
	r->params = m.params;

	if (len > 0) {
		if ((r->body = malloc(len + 1)) == NULL ||
		    evbuffer_remove(body, r->body, len) != (int)len) {
			reply_problem(r, PROBLEM_INTERNAL, NULL);
			return;
		}
		r->body[len] = '\0';
		r->body_len = len;
	}

	if (srv->dispatch != NULL)
		srv->dispatch(r, srv->dispatch_arg);
	else
		http_req_run(r);
	/* r may be gone now. */
}

/* ---- the server ---- */

struct http_server *
http_server_new(struct event_base *base, const struct cfg *cfg,
    const struct route *routes, size_t n, char *err, size_t errlen)
{
	struct http_server	*srv;
	struct sigaction	 sa;
	struct timeval		 tv;

	if (route_table_check(routes, n, err, errlen) == -1)
		return NULL;
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		str_copy(err, "out of memory", errlen);
		return NULL;
	}
	if (http_trust_parse(&srv->trust, cfg->trusted_proxies.v,
	    cfg->trusted_proxies.n, err, errlen) == -1) {
		free(srv);
		return NULL;
	}
	/* A client that leaves before its response is written must be a
	 * write error for libevent, not a SIGPIPE that ends the daemon. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);

	srv->base = base;
	srv->routes = routes;
	srv->nroutes = n;
	srv->max_body = cfg->max_body_size;
	srv->listen_mode = cfg->listen_mode & 07777;
	srv->listen_gid = (gid_t)-1;
	if (cfg->listen_group != NULL && cfg->listen_group[0] != '\0') {
		struct group *gr = getgrnam(cfg->listen_group);

		if (gr == NULL) {
			str_printf(err, errlen, "listen_group: no group \"%s\"",
			    cfg->listen_group);
			free(srv);
			return NULL;
		}
		srv->listen_gid = gr->gr_gid;
	}

	tv.tv_sec = cfg->request_timeout > 0 ? cfg->request_timeout : 30;
	tv.tv_usec = 0;
	if ((srv->http = evhttp_new(base)) == NULL ||
	    (srv->deadline_tv = event_base_init_common_timeout(base,
	    &tv)) == NULL) {
		str_copy(err, "cannot create the HTTP server", errlen);
		if (srv->http != NULL)
			evhttp_free(srv->http);
		free(srv);
		return NULL;
	}
	/* Every method libevent parses, so that the route table answers
	 * 405 itself instead of libevent's 501. */
	evhttp_set_allowed_methods(srv->http, HTTP_ALL_METHODS);
	evhttp_set_max_body_size(srv->http,
	    (ev_ssize_t)(cfg->max_body_size + HTTP_BODY_HARD_SLACK));
	evhttp_set_max_headers_size(srv->http,
	    (ev_ssize_t)cfg->max_header_size);
	evhttp_set_timeout_tv(srv->http, &tv);
	evhttp_set_default_content_type(srv->http, NULL);
	evhttp_set_gencb(srv->http, on_request, srv);
	return srv;
}

int
http_server_set_limits(struct http_server *srv, const struct cfg *cfg,
    char *err, size_t errlen)
{
	struct http_trust	 trust;
	const struct timeval	*deadline;
	struct timeval		 tv;

	if (http_trust_parse(&trust, cfg->trusted_proxies.v,
	    cfg->trusted_proxies.n, err, errlen) == -1)
		return -1;
	tv.tv_sec = cfg->request_timeout > 0 ? cfg->request_timeout : 30;
	tv.tv_usec = 0;
	if ((deadline = event_base_init_common_timeout(srv->base,
	    &tv)) == NULL) {
		str_copy(err, "cannot set the request timeout", errlen);
		return -1;
	}
	srv->trust = trust;
	srv->deadline_tv = deadline;
	srv->max_body = cfg->max_body_size;
	evhttp_set_max_body_size(srv->http,
	    (ev_ssize_t)(cfg->max_body_size + HTTP_BODY_HARD_SLACK));
	evhttp_set_max_headers_size(srv->http,
	    (ev_ssize_t)cfg->max_header_size);
	evhttp_set_timeout_tv(srv->http, &tv);
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
http_server_set_observer(struct http_server *srv, http_observe_fn *fn,
    void *arg)
{
	srv->observe = fn;
	srv->observe_arg = arg;
}

size_t
http_server_inflight(const struct http_server *srv)
{
	return srv->nlive;
}

/* Serves on the listening socket fd (owned from now on). */
static int
add_listener(struct http_server *srv, int fd, char *unix_path,
    const char *what, char *err, size_t errlen)
{
	struct listener	*ls;
	struct stat	 st;

	ls = reallocarray(srv->ls, srv->nls + 1, sizeof(*ls));
	if (ls == NULL) {
		str_printf(err, errlen, "%s: out of memory", what);
		goto fail;
	}
	srv->ls = ls;
	ls = &srv->ls[srv->nls];
	memset(ls, 0, sizeof(*ls));
	if ((ls->bound = evhttp_accept_socket_with_handle(srv->http,
	    fd)) == NULL) {
		str_printf(err, errlen, "%s: cannot serve on it", what);
		goto fail;
	}
	ls->fd = fd;
	ls->unix_path = unix_path;
	if (unix_path != NULL && stat(unix_path, &st) == 0) {
		ls->dev = st.st_dev;
		ls->ino = st.st_ino;
	}
	srv->nls++;
	return 0;
fail:
	close(fd);
	if (unix_path != NULL) {
		unlink(unix_path);
		free(unix_path);
	}
	return -1;
}

static int
listen_unix(struct http_server *srv, const char *spec, const char *path,
    char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	char			*copy;
	int			 fd, probe, rc, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] != '/' ||
	    str_copy(sun.sun_path, path, sizeof(sun.sun_path)) == -1) {
		str_printf(err, errlen, "listen %s: not an absolute path of at "
		    "most %zu bytes", spec, sizeof(sun.sun_path) - 1);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			str_printf(err, errlen, "listen %s: exists and is not "
			    "a socket", spec);
			return -1;
		}
		/* A socket someone still accepts on is not stale. */
		if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1) {
			str_printf(err, errlen, "listen %s: %s", spec,
			    strerror(errno));
			return -1;
		}
		rc = connect(probe, (struct sockaddr *)&sun, sizeof(sun));
		e = errno;
		close(probe);
		if (rc == 0 || e != ECONNREFUSED) {
			str_printf(err, errlen, "listen %s: %s", spec, rc == 0 ?
			    "a server is listening there" : strerror(e));
			return -1;
		}
		if (unlink(path) == -1 && errno != ENOENT) {
			str_printf(err, errlen, "listen %s: remove stale "
			    "socket: %s", spec, strerror(errno));
			return -1;
		}
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		str_printf(err, errlen, "listen %s: %s", spec, strerror(errno));
		return -1;
	}
	/* Born with the right mode: no window with a wider one. */
	old = umask(~(mode_t)srv->listen_mode & 0777);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	e = errno;
	umask(old);
	if (rc == -1) {
		str_printf(err, errlen, "listen %s: %s", spec, strerror(e));
		close(fd);
		return -1;
	}
	/* The proxy's group may connect (listen_group, listen_mode). */
	if (chmod(path, srv->listen_mode) == -1 ||
	    (srv->listen_gid != (gid_t)-1 &&
	    chown(path, (uid_t)-1, srv->listen_gid) == -1) ||
	    listen(fd, HTTP_LISTEN_BACKLOG) == -1) {
		str_printf(err, errlen, "listen %s: %s", spec, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if ((copy = strdup(path)) == NULL) {
		str_printf(err, errlen, "listen %s: out of memory", spec);
		close(fd);
		unlink(path);
		return -1;
	}
	return add_listener(srv, fd, copy, spec, err, errlen);
}

static int
listen_inet(struct http_server *srv, const char *spec, const char *host,
    const char *port, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	const char	*errstr;
	long long	 p;
	size_t		 bound = 0;
	int		 fd, on = 1, rc, e = 0, skipped = 0;

	if (host[0] == '\0' || num_parse(port, 0, 65535, &p, &errstr) == -1) {
		str_printf(err, errlen, "listen %s: want host:port, [v6]:port "
		    "or unix:/path", spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		str_printf(err, errlen, "listen %s: %s", spec,
		    gai_strerror(rc));
		return -1;
	}
	/* A name may stand for several addresses ("localhost": ::1 and
	 * 127.0.0.1): bind each, passing over a family this host lacks. */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol)) == -1 ||
		    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1 ||
		    (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
		    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
		    listen(fd, HTTP_LISTEN_BACKLOG) == -1) {
			e = errno;
			if (fd != -1)
				close(fd);
			if (e == EAFNOSUPPORT || e == EADDRNOTAVAIL) {
				skipped = e;
				continue;
			}
			goto fail;
		}
		if (add_listener(srv, fd, NULL, spec, err, errlen) == -1) {
			freeaddrinfo(res);
			return -1;
		}
		bound++;
	}
	freeaddrinfo(res);
	if (bound > 0)
		return 0;
	e = skipped != 0 ? skipped : EADDRNOTAVAIL;
	res = NULL;
fail:
	str_printf(err, errlen, "listen %s: %s", spec, strerror(e));
	if (res != NULL)
		freeaddrinfo(res);
	return -1;
}

int
http_listen(struct http_server *srv, const char *spec, char *err,
    size_t errlen)
{
	char		 host[256];
	const char	*port, *rb;
	size_t		 hl;

	if (strncmp(spec, "unix:", 5) == 0)
		return listen_unix(srv, spec, spec + 5, err, errlen);
	if (spec[0] == '[') {
		if ((rb = strchr(spec, ']')) == NULL || rb[1] != ':')
			goto bad;
		hl = (size_t)(rb - (spec + 1));
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, spec + 1, hl);
		host[hl] = '\0';
		port = rb + 2;
	} else {
		if ((port = strrchr(spec, ':')) == NULL)
			goto bad;
		hl = (size_t)(port - spec);
		if (hl >= sizeof(host) || memchr(spec, ':', hl) != NULL)
			goto bad;
		memcpy(host, spec, hl);
		host[hl] = '\0';
		port++;
	}
	return listen_inet(srv, spec, host, port, err, errlen);
bad:
	str_printf(err, errlen, "listen %s: want host:port, [v6]:port or "
	    "unix:/path", spec);
	return -1;
}

int
http_listen_all(struct http_server *srv, const struct cfg *cfg, char *err,
    size_t errlen)
{
	size_t	 i;

	for (i = 0; i < cfg->listen.n; i++)
		if (http_listen(srv, cfg->listen.v[i], err, errlen) == -1)
			return -1;
	return 0;
}

int
http_listen_fd(struct http_server *srv, int fd, char *err, size_t errlen)
{
	int		 v = 0, flags;
	socklen_t	 vl = sizeof(v);
	char		 what[32];

	str_printf(what, sizeof(what), "listen fd %d", fd);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == -1 ||
	    v != 1) {
		str_printf(err, errlen, "%s: not a listening socket", what);
		close(fd);
		return -1;
	}
	vl = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vl) == -1 ||
	    v != SOCK_STREAM) {
		str_printf(err, errlen, "%s: not a stream socket", what);
		close(fd);
		return -1;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		str_printf(err, errlen, "%s: %s", what, strerror(errno));
		close(fd);
		return -1;
	}
	return add_listener(srv, fd, NULL, what, err, errlen);
}

size_t
http_listener_count(const struct http_server *srv)
{
	return srv->nls;
}

int
http_listener_fd(const struct http_server *srv, size_t i)
{
	return i < srv->nls ? srv->ls[i].fd : -1;
}

void
http_server_stop_listening(struct http_server *srv)
{
	struct listener	*ls;
	struct stat	 st;
	size_t		 i;

	for (i = 0; i < srv->nls; i++) {
		ls = &srv->ls[i];
		evhttp_del_accept_socket(srv->http, ls->bound);	/* closes fd */
		/* Remove our socket, not one a successor bound since. */
		if (ls->unix_path != NULL && lstat(ls->unix_path, &st) == 0 &&
		    st.st_dev == ls->dev && st.st_ino == ls->ino &&
		    unlink(ls->unix_path) == -1)
			log_debug("unlink %s: %s", ls->unix_path,
			    strerror(errno));
		free(ls->unix_path);
	}
	free(srv->ls);
	srv->ls = NULL;
	srv->nls = 0;
}

void
http_server_free(struct http_server *srv)
{
	struct http_req	*r;

	if (srv == NULL)
		return;
	http_server_stop_listening(srv);
	/* Closes every connection: on_close() marks each context still on
	 * one as gone, and frees those whose handler has replied. */
	evhttp_free(srv->http);
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
