/*
 * The refresh grant of the token endpoint, which rotates refresh tokens:
 * the presented token's row decides (unknown, revoked,
 * expired, spent: within the grace window a plain refusal, past it reuse
 * that revokes the family); a fresh access token is signed for, then the
 * old refresh token is spent and the next of its family issued by a
 * single statement that only one of several concurrent refreshes can win
 * (tokens_rotate()).  Revocation covers whole families, and a family with
 * any revoked member is revoked (store/tokens.h).
 */
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "front.h"
#include "hc/hasher_client.h"
#include "http/http.h"
#include "log.h"
#include "problem_reply.h"
#include "refresh.h"
#include "reply.h"
#include "store/tokens.h"
#include "token.h"
#include "util.h"

static void
rotated(enum store_status st, void *arg)
{
	struct token_call *t = arg;
	struct http_req *r = t->r;

	if (st == STORE_NOT_FOUND) {
		/* A concurrent refresh of the same token won the row. */
		token_call_free(t);
		problem_oauth(r, OAUTH_INVALID_GRANT, TOKEN_BAD_REFRESH, 0);
		return;
	}
	if (st != STORE_OK) {
		token_call_free(t);
		reply_db_failed(r, st, "refresh");
		return;
	}
	token_reply(t);
}

static void
refresh_signed(enum hc_status st, const struct proto_sign_ans *ans, void *arg)
{
	struct token_call *t = arg;
	struct http_req *r = t->r;

	if (st != HC_OK) {
		token_call_free(t);
		token_signer_unavailable(r);
		return;
	}
	/* The old token stays valid: the client may retry with it. */
	if (reply_too_late(r, "the rotation")) {
		token_call_free(t);
		http_req_abandon(r);
		return;
	}
	t->signed_token = *ans;
	uuid_random(t->new_id);
	if (secret_token_new(t->refresh, t->refresh_hash) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	if (tokens_rotate(t->f->db, t->old_id, t->new_id, t->refresh_hash,
	    t->f->cfg->refresh_token_ttl, rotated, t) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

static void
family_revoked(enum store_status st, void *arg)
{
	struct token_call *t = arg;
	struct http_req *r = t->r;

	if (st != STORE_OK) {
		token_call_free(t);
		reply_db_failed(r, st, "reuse");
		return;
	}
	log_warn("refresh token reuse: family %s of user %s revoked",
	    t->family, t->user.id);
	token_call_free(t);
	problem_oauth(r, OAUTH_INVALID_GRANT, TOKEN_BAD_REFRESH, 0);
}

/* A spent token presented past the grace window: someone holds a copy. */
static void
revoke_family(struct token_call *t)
{
	struct http_req *r = t->r;

	if (tokens_revoke_reused(t->f->db, t->family, t->user.id, r->remote,
	    family_revoked, t) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

static void
refresh_loaded(enum store_status st, const struct tokens_presented *p,
    void *arg)
{
	struct token_call *t = arg;
	struct http_req *r = t->r;

	if (st == STORE_NOT_FOUND) {
		token_call_free(t);
		problem_oauth(r, OAUTH_INVALID_GRANT, TOKEN_BAD_REFRESH, 0);
		return;
	}
	if (st != STORE_OK) {
		token_call_free(t);
		reply_db_failed(r, st, "refresh lookup");
		return;
	}
	/* A registered client's family is refreshed by that client alone
	 * (oidc_token.h): to the first-party client it is unknown. */
	if (p->client_id[0] != '\0') {
		token_call_free(t);
		problem_oauth(r, OAUTH_INVALID_GRANT, TOKEN_BAD_REFRESH, 0);
		return;
	}
	str_copy(t->old_id, p->id, sizeof(t->old_id));
	str_copy(t->family, p->family, sizeof(t->family));
	t->user = p->user;
	if (p->used && !p->revoked && !p->in_grace) {
		revoke_family(t);
		return;
	}
	if (p->used || p->revoked || p->expired || !t->user.is_active) {
		token_call_free(t);
		problem_oauth(r, OAUTH_INVALID_GRANT, TOKEN_BAD_REFRESH, 0);
		return;
	}
	token_sign(t, refresh_signed);
}

void
refresh_grant(struct token_call *t)
{
	struct http_req *r = t->r;
	char	 hash[SECRET_TOKEN_HASH_LITERAL];

	if (secret_token_hash(t->req.refresh, strlen(t->req.refresh), hash) ==
	    -1) {
		token_call_free(t);
		problem_oauth(r, OAUTH_INVALID_GRANT, TOKEN_BAD_REFRESH, 0);
		return;
	}
	if (tokens_find(t->f->db, hash, t->f->cfg->refresh_grace,
	    refresh_loaded, t) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}
