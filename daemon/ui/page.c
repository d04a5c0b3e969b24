/*
 * page.h: the view's common members, tmpl_render() into an evbuffer, the
 * headers, and http_reply_raw().
 */
#include <string.h>

#include <event2/buffer.h>

#include "api/front.h"
#include "config.h"
#include "http/http.h"
#include "api/problem_reply.h"
#include "log.h"
#include "page.h"
#include "portal.h"

#define PRODUCT	"warden"

/* public_url without its trailing slashes, into out. */
static void
base_url(const char *public_url, char *out, size_t outlen)
{
	size_t len = strlen(public_url);

	while (len > 0 && public_url[len - 1] == '/')
		len--;
	if (len >= outlen)
		len = 0;	/* config.c bounds public_url: never */
	memcpy(out, public_url, len);
	out[len] = '\0';
}

void
page_reply(struct http_req *r, int status, const char *name, cJSON *view)
{
	struct caller	*c = caller_of(r);
	struct portal	*p = c->front->portal;
	struct evbuffer	*out = NULL;
	char		 base[2048];
	size_t		 len;

	if (view == NULL)
		view = cJSON_CreateObject();
	base_url(c->front->cfg->public_url, base, sizeof(base));
	if (view == NULL || p == NULL ||
	    cJSON_AddStringToObject(view, "product", PRODUCT) == NULL ||
	    cJSON_AddStringToObject(view, "base", base) == NULL ||
	    (out = evbuffer_new()) == NULL ||
	    tmpl_render(p->pages, name, view, out) == -1) {
		log_error("ui: cannot render the page %s", name);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		goto out;
	}
	http_set_header(r, "Content-Security-Policy", PAGE_CSP);
	http_set_header(r, "X-Frame-Options", "DENY");
	http_set_header(r, "X-Content-Type-Options", "nosniff");
	http_set_header(r, "Referrer-Policy", "same-origin");
	http_no_store(r, false);
	len = evbuffer_get_length(out);
	http_reply_raw(r, status, "text/html; charset=utf-8",
	    evbuffer_pullup(out, (ev_ssize_t)len), len);
out:
	if (out != NULL)
		evbuffer_free(out);
	cJSON_Delete(view);
}
