/*
 * GET /ui/static/warden.css: the portal's one stylesheet, from the memory
 * of the loaded portal (portal.h); cached an hour by browsers.
 */
#include "api/front.h"
#include "api/problem_reply.h"
#include "http/http.h"
#include "portal.h"
#include "ui_handlers.h"

void
h_ui_css(struct http_req *r)
{
	const struct portal *p = caller_of(r)->front->portal;

	if (p == NULL) {
		problem_reply(r, PROBLEM_NOT_FOUND, NULL);
		return;
	}
	http_set_header(r, "X-Content-Type-Options", "nosniff");
	http_set_header(r, "Cache-Control", "public, max-age=3600");
	http_reply_raw(r, 200, "text/css; charset=utf-8", p->css, p->css_len);
}
