/*
 * page.h: the view's common members, tmpl_render() into an evbuffer, the
 * headers, and http_reply_raw().
 */
#include <stdbool.h>
#include <string.h>

#include <event2/buffer.h>

#include "api/front.h"
#include "config.h"
#include "http/http.h"
#include "api/problem_reply.h"
#include "log.h"
#include "page.h"
#include "portal.h"
#include "util.h"

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

/* True when s is an origin (scheme "://" host [":" port]) of characters
 * that cannot end a CSP source expression early. */
static bool
origin_ok(const char *s)
{
	const char *p = strstr(s, "://");

	if (p == NULL || p == s || p[3] == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr(".-:/[]", *s) != NULL))
			return false;
	return true;
}

static void
page_send(struct http_req *r, int status, const char *name, cJSON *view,
    const char *form_origin);

void
page_reply(struct http_req *r, int status, const char *name, cJSON *view)
{
	page_send(r, status, name, view, NULL);
}

void
page_reply_form_to(struct http_req *r, int status, const char *name,
    cJSON *view, const char *form_origin)
{
	page_send(r, status, name, view, form_origin);
}

static void
page_send(struct http_req *r, int status, const char *name, cJSON *view,
    const char *form_origin)
{
	struct caller	*c = caller_of(r);
	struct portal	*pt = c->front->portal;
	char		 csp[sizeof(PAGE_CSP) + 300];
	struct evbuffer	*out = NULL;
	char		 base[2048];
	size_t		 len;

	if (view == NULL)
		view = cJSON_CreateObject();
	base_url(c->front->cfg->public_url, base, sizeof(base));
	if (view == NULL || pt == NULL ||
	    cJSON_AddStringToObject(view, "product", PRODUCT) == NULL ||
	    cJSON_AddStringToObject(view, "base", base) == NULL ||
	    (out = evbuffer_new()) == NULL ||
	    tmpl_render(pt->pages, name, view, out) == -1) {
		log_error("ui: cannot render the page %s", name);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		goto out;
	}
	if (form_origin != NULL && origin_ok(form_origin) &&
	    str_printf(csp, sizeof(csp), "%s %s%s", PAGE_CSP_FORM,
	    form_origin, PAGE_CSP_REST) == 0)
		http_set_header(r, "Content-Security-Policy", csp);
	else
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
