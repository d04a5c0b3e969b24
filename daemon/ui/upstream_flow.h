/*
 * Signing in through an upstream identity provider (social login), the
 * browser's side (h_upstream.c):
 *
 *   GET /ui/login/{provider}?rd=		starts a sign-in
 *   GET /ui/login/{provider}/callback	where the provider sends the
 *					browser back
 *
 * A sign-in on its way is a row of upstream_logins (store/identities.h)
 * under the SHA-256 of its state, bound to the browser by the
 * warden_upstream cookie (its SHA-256 in the row): a callback with a state
 * that is unknown, expired, used already or of another browser is
 * refused, and the row is gone after its first callback either way.  The
 * nonce and the PKCE verifier sent along live in the row too, for the ten
 * minutes a sign-in may take.
 */
#ifndef WARDEN_UI_UPSTREAM_FLOW_H
#define WARDEN_UI_UPSTREAM_FLOW_H

#include "upstream/providers.h"

struct http_req;

#define UPSTREAM_COOKIE		"__Secure-warden_upstream"
#define UPSTREAM_COOKIE_DEV	"warden_upstream"	/* http:// loopback */

/*
 * Starts a sign-in at p for r's browser: rd (an accepted return URL, or
 * "") is where it ends; link_user_id, when not NULL, the signed-in user
 * the identity is to be linked to (the account page's "Link").  Replies
 * 303 to the provider, or a page saying why not.
 */
void	upstream_begin(struct http_req *r, const struct provider *p,
	    const char *rd, const char *link_user_id);

#endif
