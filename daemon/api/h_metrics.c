/*
 * GET /metrics: the Prometheus text exposition (metrics.h), on the metrics
 * listener when metrics_listen is set (the API listener then answers 404),
 * else on the API listener.
 */
#include <event2/buffer.h>

#include "front.h"
#include "handlers.h"
#include "http/http.h"
#include "metrics.h"
#include "problem_reply.h"

void
h_metrics(struct http_req *r)
{
	struct metrics *m = caller_of(r)->front->metrics;
	struct metrics_snapshot s;
	struct evbuffer *out;
	unsigned char *text;
	size_t	 len;

	if (m == NULL || !metrics_serves(m, r)) {
		problem_reply(r, PROBLEM_NOT_FOUND, "no such resource");
		return;
	}
	if ((out = evbuffer_new()) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	metrics_snapshot(m, &s);
	if (metrics_render(m, &s, out) == -1 ||
	    (len = evbuffer_get_length(out)) == 0 ||
	    (text = evbuffer_pullup(out, -1)) == NULL) {
		evbuffer_free(out);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	http_set_header(r, "Cache-Control", "no-store");
	http_reply_raw(r, 200, METRICS_CONTENT_TYPE, text, len);
	evbuffer_free(out);
}
