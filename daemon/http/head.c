/*
 * The checks of a request's head before routing: see http_int.h.
 *
 * libevent reads the body by the first Content-Length it finds and takes
 * "+5" for 5; a proxy in front may read the same bytes another way, and
 * what one of them takes for a body the other takes for a second request
 * (request smuggling).  So a request whose length is not said in exactly
 * one plain way is refused, and its connection closed.
 */
#include <sys/queue.h>

#include <string.h>
#include <strings.h>

#include <event2/http.h>
#include <event2/http_struct.h>	/* major, minor: there is no getter */
#include <event2/keyvalq_struct.h>

#include "http_int.h"

/* 1*DIGIT (RFC 9110 8.6), at most 19 of them (an int64). */
static bool
is_length(const char *v)
{
	size_t	 n = strspn(v, "0123456789");

	return n > 0 && n <= 19 && v[n] == '\0';
}

static int
refuse_framing(struct http_req *r, const char *why)
{
	http_set_header(r, "Connection", "close");
	req_refuse(r, PROBLEM_MALFORMED, why);
	return -1;
}

int
head_check(struct http_req *r)
{
	struct evkeyvalq	*h = evhttp_request_get_input_headers(r->evreq);
	struct evkeyval		*kv;
	unsigned int		 hosts = 0, lengths = 0, encodings = 0;
	bool			 bad_length = false;

	TAILQ_FOREACH(kv, h, next) {
		if (strcasecmp(kv->key, "Host") == 0)
			hosts++;
		else if (strcasecmp(kv->key, "Content-Length") == 0) {
			lengths++;
			bad_length |= !is_length(kv->value);
		} else if (strcasecmp(kv->key, "Transfer-Encoding") == 0)
			encodings++;
	}
	if (lengths > 1)
		return refuse_framing(r, "more than one Content-Length");
	if (bad_length)
		return refuse_framing(r, "Content-Length must be digits only");
	if (lengths > 0 && encodings > 0)
		return refuse_framing(r, "both Content-Length and "
		    "Transfer-Encoding");
	if (hosts > 1 || (hosts == 0 && r->evreq->major == 1 &&
	    r->evreq->minor >= 1)) {
		req_refuse(r, PROBLEM_MALFORMED, hosts > 1 ? "more than one "
		    "Host header" : "an HTTP/1.1 request needs a Host header");
		return -1;
	}
	return 0;
}
