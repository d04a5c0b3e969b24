/*
 * Routes about the service itself: health, readiness, keys, the API
 * document.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
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
	char	*doc;

	/* An empty set, cached for minutes by every verifier, would refuse
	 * every token: until the hasher has sent its keys, come back. */
	if (!auth_keys_known(f)) {
		problem_retry(r, PROBLEM_UNAVAILABLE, 1,
		    "the service is starting; try again");
		return;
	}
	if ((doc = jwks_build(hc_pubkeys(f->hc), &len)) == NULL) {
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
 * GET /.well-known/openid-configuration (OpenID Connect Discovery 1.0,
 * section 3) and GET /.well-known/oauth-authorization-server (RFC 8414
 * section 2): one document, so that OpenID and plain OAuth clients find
 * the same endpoints.  The authorization endpoint answers the code flow
 * alone, with PKCE S256 (the portal's /oauth2/authorize); its answers
 * carry iss (RFC 9207).
 */
void
h_as_metadata(struct http_req *r)
{
	static const char *const grants[] = { "authorization_code",
	    "refresh_token", "password", TOKEN_GRANT_MFA_URN, NULL };
	static const char *const auth[] = { "client_secret_basic",
	    "client_secret_post", "none", NULL };
	static const char *const confidential[] = { "client_secret_basic",
	    "client_secret_post", NULL };
	static const char *const scopes[] = { "openid", "profile", "email",
	    "roles", "offline_access", NULL };
	static const char *const code[] = { "code", NULL };
	static const char *const query[] = { "query", NULL };
	static const char *const s256[] = { "S256", NULL };
	static const char *const algs[] = { "RS256", "EdDSA", NULL };
	static const char *const pub[] = { "public", NULL };
	static const char *const claims[] = { "iss", "sub", "aud", "exp",
	    "iat", "auth_time", "nonce", "amr", "acr", "sid", "at_hash",
	    "preferred_username", "name", "email", "email_verified", "roles",
	    NULL };
	static const char *const prompts[] = { "none", "login", "consent",
	    "select_account", NULL };
	const struct cfg *cfg = caller_of(r)->front->cfg;
	const char *base = cfg->public_url;
	cJSON	*o = cJSON_CreateObject();

	if (o == NULL ||
	    cJSON_AddStringToObject(o, "issuer", cfg->issuer) == NULL ||
	    !add_url(o, "authorization_endpoint", base, "/oauth2/authorize") ||
	    !add_url(o, "token_endpoint", base, "/oauth2/token") ||
	    !add_url(o, "userinfo_endpoint", base, "/oauth2/userinfo") ||
	    !add_url(o, "jwks_uri", base, "/.well-known/jwks.json") ||
	    !add_url(o, "introspection_endpoint", base, "/oauth2/introspect") ||
	    !add_url(o, "revocation_endpoint", base, "/oauth2/revoke") ||
	    !add_url(o, "end_session_endpoint", base, "/oauth2/logout") ||
	    !add_strings(o, "scopes_supported", scopes) ||
	    !add_strings(o, "response_types_supported", code) ||
	    !add_strings(o, "response_modes_supported", query) ||
	    !add_strings(o, "grant_types_supported", grants) ||
	    !add_strings(o, "code_challenge_methods_supported", s256) ||
	    !add_strings(o, "token_endpoint_auth_methods_supported", auth) ||
	    !add_strings(o, "revocation_endpoint_auth_methods_supported",
	    auth) ||
	    !add_strings(o, "introspection_endpoint_auth_methods_supported",
	    confidential) ||
	    !add_strings(o, "id_token_signing_alg_values_supported", algs) ||
	    !add_strings(o, "subject_types_supported", pub) ||
	    !add_strings(o, "claims_supported", claims) ||
	    !add_strings(o, "prompt_values_supported", prompts) ||
	    cJSON_AddBoolToObject(o, "claims_parameter_supported", false) ==
	    NULL ||
	    cJSON_AddBoolToObject(o, "request_parameter_supported", false) ==
	    NULL ||
	    cJSON_AddBoolToObject(o, "request_uri_parameter_supported",
	    false) == NULL ||
	    cJSON_AddBoolToObject(o,
	    "authorization_response_iss_parameter_supported", true) == NULL) {
		cJSON_Delete(o);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	http_set_header(r, "Cache-Control", "public, max-age=300");
	http_reply_json(r, 200, o);
}
