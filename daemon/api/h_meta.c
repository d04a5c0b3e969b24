/*
 * Routes about the service itself: health, readiness, keys, the API
 * document.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "config.h"
#include "store/db.h"
#include "front.h"
#include "handlers.h"
#include "hc/hasher_client.h"
#include "http/http.h"
#include "jwks.h"
#include "openapi.h"
#include "problem_reply.h"
#include "revocations.h"
#include "token.h"
#include "util.h"

void
h_healthz(struct http_req *r)
{
	http_reply_text(r, 200, "ok\n");
}

void
h_readyz(struct http_req *r)
{
	struct front *f = caller_of(r)->front;
	/* The database is of use once forward-auth knows the revocations
	 * (revocations.h). */
	bool	 db = db_pool_ready(f->db) &&
	    revocations_ready(f->revocations), hasher = hc_ready(f->hc);
	cJSON	*o = cJSON_CreateObject();

	if (o == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	cJSON_AddStringToObject(o, "database", db ? "up" : "down");
	cJSON_AddStringToObject(o, "hasher", hasher ? "up" : "down");
	if (!(db && hasher))
		http_set_header(r, "Retry-After", "1");
	http_reply_json(r, db && hasher ? 200 : 503, o);
}

void
h_jwks(struct http_req *r)
{
	struct front *f = caller_of(r)->front;
	size_t	 len;
	char	*doc = jwks_build(hc_pubkeys(f->hc), &len);

	if (doc == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	/* Verifiers may cache the set briefly; rotation keeps old keys. */
	http_set_header(r, "Cache-Control", "public, max-age=300");
	http_reply_raw(r, 200, "application/json", doc, len);
	free(doc);
}

void
h_openapi(struct http_req *r)
{
	http_reply_raw(r, 200, "application/json", openapi_json,
	    openapi_json_len);
}

/* Adds name: an array of the NULL-terminated strings v; false when out of
 * memory. */
static bool
add_strings(cJSON *o, const char *name, const char *const *v)
{
	cJSON	*a = cJSON_AddArrayToObject(o, name), *s;

	if (a == NULL)
		return false;
	for (; *v != NULL; v++)
		if ((s = cJSON_CreateString(*v)) == NULL ||
		    !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			return false;
		}
	return true;
}

/* Adds name: public_url followed by path; false when out of memory. */
static bool
add_url(cJSON *o, const char *name, const char *base, const char *path)
{
	char	 url[1024];

	return str_printf(url, sizeof(url), "%s%s", base, path) == 0 &&
	    cJSON_AddStringToObject(o, name, url) != NULL;
}

/*
 * GET /.well-known/oauth-authorization-server: RFC 8414 section 2, so
 * that clients find the endpoints by themselves.  There is no
 * authorization endpoint yet (no response type); the first-party client
 * is public ("none"), and the secret of client_secret_basic and
 * client_secret_post is accepted and not checked (h_token.c).
 */
void
h_as_metadata(struct http_req *r)
{
	static const char *const grants[] = { "password", "refresh_token",
	    TOKEN_GRANT_MFA_URN, NULL };
	static const char *const auth[] = { "none", "client_secret_basic",
	    "client_secret_post", NULL };
	static const char *const none[] = { NULL };
	const struct cfg *cfg = caller_of(r)->front->cfg;
	const char *base = cfg->public_url;
	cJSON	*o = cJSON_CreateObject();

	if (o == NULL ||
	    cJSON_AddStringToObject(o, "issuer", cfg->issuer) == NULL ||
	    !add_url(o, "token_endpoint", base, "/api/v1/auth/token") ||
	    !add_url(o, "revocation_endpoint", base, "/api/v1/auth/revoke") ||
	    !add_url(o, "jwks_uri", base, "/.well-known/jwks.json") ||
	    !add_strings(o, "grant_types_supported", grants) ||
	    !add_strings(o, "response_types_supported", none) ||
	    !add_strings(o, "token_endpoint_auth_methods_supported", auth) ||
	    !add_strings(o, "revocation_endpoint_auth_methods_supported",
	    auth)) {
		cJSON_Delete(o);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	http_set_header(r, "Cache-Control", "public, max-age=300");
	http_reply_json(r, 200, o);
}
