/*
 * The request context: its lifetime (http.h, rules 1 to 4), the access
 * log line, what a handler reads of the request, and the replies.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "clock.h"
#include "fields.h"
#include "http.h"
#include "evwipe.h"
#include "http_int.h"
#include "log.h"
#include "problem.h"
#include "route.h"
#include "util.h"

static void	req_send(struct http_req *, int, const char *, const void *,
		    size_t);
static void	req_send_problem(struct http_req *, int, const char *,
		    const void *, size_t);

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

bool
http_reqid_valid(const char *s)
{
	return field_is_plain_name(s);
}

/* ---- the context's lifetime ---- */

void
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

void
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
		sodium_memzero(r->body, r->body_len + 1);
		free(r->body);
	}
	free(r->query);
	free(r);
}

static void
access_log(const struct http_req *r, int status, bool gone, double ms)
{
	char	 st[16], dur[32];

	/* Nothing is formatted for a line that would not be written. */
	if (LOG_INFO > log_get_level())
		return;
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
	ms = clock_ms_since(&r->start);
	access_log(r, r->status, gone, ms);
	if (r->srv != NULL && r->srv->observe != NULL)
		r->srv->observe(r, ms, r->srv->observe_arg);
	req_maybe_free(r);
}

/* evhttp_request_set_on_complete_cb: the response has been written; the
 * request is freed by libevent right after. */
void
req_on_complete(struct evhttp_request *evreq, void *arg)
{
	struct http_req	*r = arg;

	if (r->conn != NULL)
		conn_request_ends(r->conn);
	r->conn = NULL;
	req_net_done(r, false);
}

void
req_conn_closed(struct http_req *r)
{
	r->conn = NULL;
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
void
req_on_deadline(evutil_socket_t fd, short what, void *arg)
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
	req_send_problem(r, 503, PROBLEM_CTYPE, s, s != NULL ? strlen(s) : 0);
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

/*
 * The page that stands for the problem answer of r into a new buffer
 * (http_server_set_problem_pages()), or NULL: not a problem, not under
 * the prefix, or the page could not be made.
 */
static struct evbuffer *
problem_page(struct http_req *r, int status, const char *ctype,
    const void *data, size_t len)
{
	const struct http_server *srv = r->srv;
	const char	*path;
	struct evbuffer	*out;

	if (srv == NULL || srv->page_fn == NULL || ctype == NULL ||
	    strcmp(ctype, PROBLEM_CTYPE) != 0 || r->evreq == NULL ||
	    (path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(
	    r->evreq))) == NULL ||
	    strncmp(path, srv->page_prefix, strlen(srv->page_prefix)) != 0 ||
	    (out = evbuffer_new()) == NULL)
		return NULL;
	if (srv->page_fn(r, status, data, len, out, srv->page_arg) == -1) {
		evwipe_drain(out, SIZE_MAX);
		evbuffer_free(out);
		return NULL;
	}
	return out;
}

/* req_send() of the problem, or of the page that stands for it. */
static void
req_send_problem(struct http_req *r, int status, const char *ctype,
    const void *data, size_t len)
{
	struct evbuffer	*page = problem_page(r, status, ctype, data, len);
	size_t		 n;

	if (page == NULL) {
		req_send(r, status, ctype, data, len);
		return;
	}
	n = evbuffer_get_length(page);
	req_send(r, status, "text/html; charset=utf-8",
	    evbuffer_pullup(page, (ev_ssize_t)n), n);
	evwipe_drain(page, SIZE_MAX);
	evbuffer_free(page);
}

void
http_reply_raw(struct http_req *r, int status, const char *ctype,
    const void *data, size_t len)
{
	http_reply_hook_fn *hook = r->hook;

	if (r->handler_done) {
		log_error("request %s: a second reply, dropped", r->id);
		return;
	}
	if (hook != NULL) {
		r->hook = NULL;
		hook(r, status, ctype, data, len, r->hook_arg);
		return;
	}
	r->handler_done = true;
	req_send_problem(r, status, ctype, data, len);
	req_maybe_free(r);
}

/*
 * The server's own errors (404, 405, 413, 500): the catalogue's body for
 * t.  The handlers' replies are api/problem_reply.c's.
 */
/* Answers r before its handler saw it.  The body, never taken, may hold
 * a password: it is wiped where libevent keeps it, not left in the chains
 * that libevent frees with the request. */
void
req_refuse(struct http_req *r, enum problem_type t, const char *detail)
{
	evwipe_drain(evhttp_request_get_input_buffer(r->evreq), SIZE_MAX);
	req_reply_problem(r, t, detail);
}

void
req_reply_problem(struct http_req *r, enum problem_type t, const char *detail)
{
	http_reply_doc(r, problem_status(t), PROBLEM_CTYPE,
	    problem_json(t, detail));
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
http_reply_hook(struct http_req *r, http_reply_hook_fn *fn, void *arg)
{
	r->hook = fn;
	r->hook_arg = arg;
}

void
http_req_abandon(struct http_req *r)
{
	req_reply_problem(r, PROBLEM_INTERNAL, NULL);
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

int
http_add_header(struct http_req *r, const char *name, const char *value)
{
	if (r->evreq == NULL)
		return -1;
	return evhttp_add_header(evhttp_request_get_output_headers(r->evreq),
	    name, value) == 0 ? 0 : -1;
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
