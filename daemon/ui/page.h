/*
 * A page of the login portal on the wire: a template of the portal
 * (portal.h) rendered into an HTML answer with the headers every page
 * carries: a strict Content-Security-Policy (no script at all, styles
 * and images from the portal itself, forms posting only to it, never
 * framed), X-Frame-Options DENY, nosniff, Referrer-Policy same-origin and
 * Cache-Control no-store.
 */
#ifndef WARDEN_UI_PAGE_H
#define WARDEN_UI_PAGE_H

#include <cjson/cJSON.h>

struct http_req;

#define PAGE_CSP_FORM							\
	"default-src 'none'; style-src 'self'; img-src 'self' data:; "	\
	"form-action 'self'"
#define PAGE_CSP_REST	"; frame-ancestors 'none'; base-uri 'none'"
#define PAGE_CSP	PAGE_CSP_FORM PAGE_CSP_REST

/*
 * Replies status with the portal's template name rendered from view, to
 * which it adds "product" and "base" (public_url without its trailing
 * slash).  Takes ownership of view (NULL: an empty one).  A template
 * that fails to render answers the 500 problem, logged.
 */
void	page_reply(struct http_req *r, int status, const char *name,
	    cJSON *view);

/*
 * page_reply() for a page whose form leads on to another site: a POST
 * answered by a redirect to form_origin (an OAuth client's redirect URI,
 * "https://host[:port]"), which form-action must allow as browsers apply
 * it to the redirects of a form's submission (CSP Level 3, form-action).
 * form_origin of anything but an origin's characters is left out.
 */
void	page_reply_form_to(struct http_req *r, int status, const char *name,
	    cJSON *view, const char *form_origin);

#endif
