/*
 * E-mail verification (ACCOUNTS.md):
 *	POST /api/v1/auth/email/verify {"token"}	-> 204
 *	POST /api/v1/users/me/email/verification	-> 202 (sends again)
 * The token is the one of the mailed link (mail_link.h); the portal's page
 * posts it.  Every token that does not verify gets the same 400.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "account_flows.h"
#include "auth.h"
#include "body.h"
#include "config.h"
#include "front.h"
#include "handlers.h"
#include "http/http.h"
#include "http/json_in.h"
#include "mail_link.h"
#include "problem_reply.h"
#include "reply.h"
#include "store/links.h"
#include "token.h"

#define BAD_TOKEN	RESET_BAD_TOKEN

static const struct json_in_member token_members[] = {
	{ "token", JSON_IN_STRING, SECRET_TOKEN_LEN * 4, 0, true, false },
};

struct verify {
	struct http_req	*r;
	store_done_cb	*cb;
	void		*arg;
};

static void
email_verified(enum store_status st, const char *user_id, void *arg)
{
	struct verify v = *(struct verify *)arg;

	free(arg);
	if (st == STORE_OK)
		auth_user_written(v.r, user_id);
	v.cb(st, v.arg);
}

int
email_verify_start(struct http_req *r, const char *token, size_t tokenlen,
    store_done_cb *cb, void *arg)
{
	char	 hash[SECRET_TOKEN_HASH_LITERAL];
	struct verify *v;

	/* A token of the wrong shape is as bad as an unknown one. */
	if (secret_token_hash(token, tokenlen, hash) == -1) {
		cb(STORE_NOT_FOUND, arg);
		return 0;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return -1;
	v->r = r;
	v->cb = cb;
	v->arg = arg;
	if (links_verify_email(caller_of(r)->front->db, hash, r->remote,
	    email_verified, v) == -1) {
		free(v);
		return -1;
	}
	return 0;
}

static void
verified(enum store_status st, void *arg)
{
	struct http_req *r = arg;

	if (st == STORE_NOT_FOUND)
		problem_reply(r, PROBLEM_INVALID_TOKEN, BAD_TOKEN);
	else if (st != STORE_OK)
		reply_db_failed(r, st, "e-mail verification");
	else
		http_reply_empty(r, 204);
}

void
h_email_verify(struct http_req *r)
{
	struct json_in_value v[1];
	struct problem_fields pf;
	cJSON	*o;

	if (body_json(r, caller_of(r)->front->cfg->json_max_depth, &o) == -1)
		return;
	problem_fields_init(&pf);
	if (json_in_extract(o, token_members, 1, v, &pf) > 0) {
		cJSON_Delete(o);
		problem_reply_validation(r, &pf);
		return;
	}
	problem_fields_free(&pf);
	if (email_verify_start(r, v[0].str, v[0].len, verified, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	sodium_memzero((void *)v[0].str, v[0].len);
	cJSON_Delete(o);
}

/* --- sending the link again --- */

static void
resent(enum store_status st, enum links_outcome out, void *arg)
{
	struct http_req *r = arg;

	if (st != STORE_OK) {
		reply_db_failed(r, st, "verification mail");
		return;
	}
	switch (out) {
	case LINKS_QUEUED:
		http_reply_empty(r, 202);
		return;
	case LINKS_ALREADY_VERIFIED:
		problem_reply(r, PROBLEM_CONFLICT,
		    "the e-mail address is already verified");
		return;
	case LINKS_LIMITED:
		problem_retry(r, PROBLEM_RATE_LIMITED, 3600, "too many mails "
		    "to this account in the last hour: try again later");
		return;
	case LINKS_NO_ACCOUNT:
		break;
	}
	problem_reply(r, PROBLEM_NOT_FOUND, "the account is gone");
}

void
h_me_email_verification(struct http_req *r)
{
	struct caller *c = caller_of(r);
	const struct cfg *cfg = c->front->cfg;
	struct links_request q;
	struct mail_link l;
	int	 rc;

	if (cfg->email_verification == CFG_EMAIL_VERIFICATION_OFF) {
		problem_reply(r, PROBLEM_FORBIDDEN,
		    "e-mail verification is off on this server");
		return;
	}
	if (!mail_link_mail_on(cfg)) {
		problem_retry(r, PROBLEM_UNAVAILABLE, 3600,
		    "this server sends no mail");
		return;
	}
	if (c->user.email_verified) {
		problem_reply(r, PROBLEM_CONFLICT,
		    "the e-mail address is already verified");
		return;
	}
	if (mail_link_make(&l, cfg, LINKS_VERIFY_EMAIL,
	    cfg->email_verification_ttl) == -1) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	memset(&q, 0, sizeof(q));
	q.purpose = LINKS_VERIFY_EMAIL;
	q.user_id = c->user.id;
	q.mail = l.mail;
	q.rate = cfg->mail_rate;
	q.remote = r->remote;
	rc = links_issue(c->front->db, &q, resent, r);
	mail_link_wipe(&l);
	if (rc == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}
