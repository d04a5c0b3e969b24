/*
 * The upstream identity providers at run time (social login): for each
 * provider of providers_dir, what it says of itself (its discovery
 * document, or its file's endpoints for a plain OAuth 2.0 provider) and
 * its signing keys, each fetched over HTTPS on the event loop and kept
 * for UPSTREAM_CACHE_TTL; and the exchange of an authorization code for
 * a verified identity:
 *
 *   1. the token endpoint, with the provider's client authentication
 *      (a secret, Basic or in the form; a private_key_jwt assertion that
 *      the hasher signs, so that no secret lives here; or PKCE alone);
 *   2. OpenID Connect: the id_token verified against the provider's key
 *      set (upstream/id_token.h), the set fetched again once when the
 *      token names a key it does not hold (once per sign-in: the token
 *      comes from the provider itself, over TLS, so only the provider can
 *      ask for that), and its userinfo asked for what the token does not
 *      say (the same sub's only); plain OAuth 2.0: the userinfo
 *      endpoint with the access token, through the claim mapping.
 *
 * Nothing here blocks: every call answers through its callback, from the
 * loop, exactly once.
 */
#ifndef WARDEN_API_UPSTREAMS_H
#define WARDEN_API_UPSTREAMS_H

#include <stddef.h>

#include "upstream/id_token.h"
#include "upstream/providers.h"

struct event_base;
struct hc;
struct upstreams;

#define UPSTREAM_CACHE_TTL	3600	/* seconds a discovery or key set
					 * is kept */
#define UPSTREAM_WHY_MAX	256

/* How a call to a provider ended. */
enum upstream_result {
	UPSTREAM_OK = 0,
	UPSTREAM_UNREACHABLE,	/* no answer, or a 5xx: 502 */
	UPSTREAM_TIMEOUT,	/* no answer within the provider's timeout:
				 * 504 */
	UPSTREAM_REFUSED,	/* the provider refused the code: 502 */
	UPSTREAM_BAD_ANSWER,	/* an answer that is not what the protocol
				 * says: 502 */
	UPSTREAM_BAD_TOKEN,	/* an id_token that does not verify: 502 */
	UPSTREAM_INTERNAL,	/* ours: out of memory, the hasher: 500 */
};

/* Takes ps (its providers live as long as the upstreams; ps is emptied).
 * NULL when out of memory. */
struct upstreams *upstreams_new(struct event_base *base,
		    struct providers *ps, struct hc *hc);
/* Calls in flight end with UPSTREAM_INTERNAL ("stopped").  NULL is fine. */
void		 upstreams_free(struct upstreams *us);

size_t		 upstreams_count(const struct upstreams *us);
/* The i-th provider (sorted by name), or NULL past the end. */
const struct provider *upstreams_at(const struct upstreams *us, size_t i);
const struct provider *upstreams_find(const struct upstreams *us,
		    const char *name);

/* endpoint: the provider's authorization endpoint on UPSTREAM_OK, else
 * NULL with why (for the log). */
typedef void	upstream_endpoint_cb(enum upstream_result res,
		    const char *endpoint, const char *why, void *arg);

/* Where to send the browser: p's authorization endpoint, from its
 * discovery document (fetched when not known) or its file.  0, or -1
 * when nothing was started (no callback then). */
int		 upstreams_authorization_endpoint(struct upstreams *us,
		    const struct provider *p, upstream_endpoint_cb *cb,
		    void *arg);

struct upstream_code {
	const char	*code;		/* as the callback brought it */
	const char	*verifier;	/* PKCE (secret) */
	const char	*nonce;		/* oidc: what the id_token must hold */
	const char	*redirect_uri;	/* as sent to the authorization
					 * endpoint */
};

/* who: the identity on UPSTREAM_OK (sub, and what the provider said of
 * e-mail and names), else NULL; why: a reason for the log (never a token),
 * "" on UPSTREAM_OK. */
typedef void	upstream_identity_cb(enum upstream_result res,
		    const struct id_token_claims *who, const char *why,
		    void *arg);

/* Exchanges c (copied) at p's token endpoint and verifies who it names.
 * 0, or -1 when nothing was started (no callback then). */
int		 upstreams_exchange(struct upstreams *us,
		    const struct provider *p, const struct upstream_code *c,
		    upstream_identity_cb *cb, void *arg);

#endif
