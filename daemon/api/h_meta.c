/*
 * Routes about the service itself: health, readiness, keys, the API
 * document.
 */
#include <stdlib.h>

#include "store/db.h"
#include "front.h"
#include "handlers.h"
#include "hc/hasher_client.h"
#include "http/http.h"
#include "jwks.h"
#include "openapi.h"
#include "problem_reply.h"

void
h_healthz(struct http_req *r)
{
	http_reply_text(r, 200, "ok\n");
}

void
h_readyz(struct http_req *r)
{
	struct front *f = caller_of(r)->front;
	bool	 db = db_pool_ready(f->db), hasher = hc_ready(f->hc);
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
