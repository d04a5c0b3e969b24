/*
 * A page of the login portal on the wire: a template of the portal
 * (portal.h) rendered into an HTML answer with the headers every page
 * carries: a strict Content-Security-Policy (no script at all, styles
 * and images from the portal itself, never framed), X-Frame-Options DENY, nosniff, Referrer-Policy same-origin and
 * Cache-Control no-store.
 */
#ifndef WARDEN_UI_PAGE_H
#define WARDEN_UI_PAGE_H

#include <cjson/cJSON.h>

struct http_req;

/*
 * No form-action: Chromium and WebKit apply it to every redirect that
 * follows a form's POST, and a login ends at the page it was for, on an
 * application's host (rd under session_domain) or at an OpenID client's
 * redirect_uri, origins a page cannot list.  The forms' actions are fixed
 * in the templates, and every value in a page is escaped.
 */
#define PAGE_CSP							\
	"default-src 'none'; style-src 'self'; img-src 'self' data:; "	\
	"frame-ancestors 'none'; base-uri 'none'"

struct evbuffer;
struct front;

/*
 * Replies status with the portal's template name rendered from view, to
 * which it adds "product" and "base" (public_url without its trailing
 * slash).  Takes ownership of view (NULL: an empty one) and wipes its
 * strings and the rendered page once sent: a page may show a secret (a
 * TOTP secret, recovery codes, a token in a hidden field).  A template
 * that fails to render answers the 500 problem, logged.
 */
void	page_reply(struct http_req *r, int status, const char *name,
	    cJSON *view);

/*
 * page_reply()'s two halves, for a caller that sends the page itself:
 * the template name rendered from view (owned, wiped and freed as above)
 * into out, 0 or -1 (logged); and the headers every page carries.
 */
int	page_render(const struct front *f, const char *name, cJSON *view,
	    struct evbuffer *out);
void	page_headers(struct http_req *r);

#endif
