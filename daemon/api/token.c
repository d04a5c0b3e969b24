#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "b64url.h"
#include "config.h"
#include "front.h"
#include "http/http.h"
#include "problem_reply.h"
#include "ratelimit.h"
#include "reply.h"
#include "token.h"
#include "util.h"

void
token_call_free(struct token_call *t)
{
	if (t->inflight)
		rl_forgive(t->f->account_inflight, t->inflight_key);
	hshare_give(&t->f->hasher_share, &t->slot);
	if (t->ops != NULL && t->ops->ctx_free != NULL && t->ctx != NULL)
		t->ops->ctx_free(t->ctx);
	sodium_memzero(t, sizeof(*t));
	free(t);
}

void
token_signer_unavailable(struct http_req *r)
{
	problem_retry(r, PROBLEM_UNAVAILABLE, 1,
	    "the token signer is unavailable");
}

/*
 * The lifetime granted: the hasher set exp from its own clock when it
 * signed, at or after sign_asked, and may have clamped the lifetime asked
 * for.  Measured from sign_asked and capped at what was asked, it is the
 * configured lifetime whenever the hasher granted it, even when a second
 * ticked over while the token was being signed.
 */
static int64_t
token_lifetime(const struct token_call *t)
{
	int64_t	 granted = (int64_t)t->signed_token.exp - t->sign_asked;

	if (granted > t->f->cfg->access_token_ttl)
		granted = t->f->cfg->access_token_ttl;
	return granted > 0 ? granted : 0;
}

void
token_reply(struct token_call *t)
{
	struct http_req *r = t->r;
	int64_t	 expires_in = token_lifetime(t);
	cJSON	*o = cJSON_CreateObject();

	if (o == NULL ||
	    cJSON_AddStringToObject(o, "access_token", t->signed_token.jwt) == NULL ||
	    cJSON_AddStringToObject(o, "token_type", "Bearer") == NULL ||
	    cJSON_AddNumberToObject(o, "expires_in",
	    (double)expires_in) == NULL ||
	    cJSON_AddStringToObject(o, "refresh_token", t->refresh) == NULL ||
	    (t->device_out[0] != '\0' && cJSON_AddStringToObject(o,
	    "device_token", t->device_out) == NULL)) {
		cJSON_Delete(o);
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	token_call_free(t);
	http_no_store(r, true);
	/* http_reply_json frees the tree; its strings held the tokens. */
	http_reply_json(r, 200, o);
}

void
token_sign(struct token_call *t, hc_sign_cb *next)
{
	struct http_req *r = t->r;
	struct proto_sign_req req;
	enum hc_status why;

	if (reply_too_late(r, "signing")) {
		token_call_free(t);
		http_req_abandon(r);
		return;
	}
	memset(&req, 0, sizeof(req));
	str_copy(req.sub, t->user.id, sizeof(req.sub));
	str_copy(req.username, t->user.username, sizeof(req.username));
	req.nroles = t->user.nroles;
	memcpy(req.roles, t->user.roles, sizeof(req.roles));
	req.ver = t->user.token_version;
	req.ttl = (uint32_t)t->f->cfg->access_token_ttl;
	req.email_verified = t->user.email_verified;
	t->sign_asked = (int64_t)time(NULL);
	if (hc_sign(t->f->hc, &req, next, t, &why) == NULL) {
		token_call_free(t);
		token_signer_unavailable(r);
	}
}
