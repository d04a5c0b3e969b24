/*
 * page.h: the view's common members, tmpl_render() into an evbuffer, the
 * headers, and http_reply_raw().
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include <event2/buffer.h>

#include "api/front.h"
#include "config.h"
#include "evwipe.h"
#include "http/http.h"
#include "api/problem_reply.h"
#include "log.h"
#include "page.h"
#include "portal.h"

#define PRODUCT	"warden"

/* Zeroes every string of the tree, then frees it. */
static void
view_wipe(cJSON *node)
{
	for (cJSON *n = node; n != NULL; n = n->next) {
		if (n->valuestring != NULL)
			sodium_memzero(n->valuestring, strlen(n->valuestring));
		view_wipe(n->child);
	}
}

int
page_render(const struct front *f, const char *name, cJSON *view,
    struct evbuffer *out)
{
	int	 rc = 0;

	if (view == NULL)
		view = cJSON_CreateObject();
	/* cfg_load() leaves public_url without a trailing '/'. */
	if (view == NULL || f->portal == NULL ||
	    cJSON_AddStringToObject(view, "product", PRODUCT) == NULL ||
	    cJSON_AddStringToObject(view, "base", f->cfg->public_url) ==
	    NULL ||
	    tmpl_render(f->portal->pages, name, view, out) == -1) {
		log_error("ui: cannot render the page %s", name);
		rc = -1;
	}
	if (view != NULL) {
		view_wipe(view->child);
		cJSON_Delete(view);
	}
	return rc;
}

void
page_headers(struct http_req *r)
{
	http_set_header(r, "Content-Security-Policy", PAGE_CSP);
	http_set_header(r, "X-Frame-Options", "DENY");
	http_set_header(r, "Referrer-Policy", "same-origin");
	http_no_store(r, false);
}

void
page_reply(struct http_req *r, int status, const char *name, cJSON *view)
{
	struct evbuffer	*out;
	size_t		 len;

	if ((out = evbuffer_new()) == NULL) {
		view_wipe(view);
		cJSON_Delete(view);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	if (page_render(caller_of(r)->front, name, view, out) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	else {
		page_headers(r);
		len = evbuffer_get_length(out);
		http_reply_raw(r, status, "text/html; charset=utf-8",
		    evbuffer_pullup(out, (ev_ssize_t)len), len);
	}
	evwipe_drain(out, SIZE_MAX);
	evbuffer_free(out);
}
