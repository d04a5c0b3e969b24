/*
 * Password reset (ACCOUNTS.md):
 *	POST /api/v1/auth/password/forgot {"email"}		-> 202
 *	POST /api/v1/auth/password/reset {"token", "new_password"} -> 204
 *
 * forgot answers 202 after the same work whether or not an active account
 * has the address: a token is made and the same statement runs either way
 * (store/links.h), and only an active account gets the mail.  The client
 * address is limited to addr_reset_limit requests an hour (429: that says
 * nothing of any account); an account's own mail_rate is silent.
 *
 * reset finds the token's account without spending it, checks the new
 * password against the rules, has the hasher hash it for that account,
 * then spends the token and sets the password in one statement, which
 * ends every session.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "account_flows.h"
#include "auth.h"
#include "body.h"
#include "config.h"
#include "fields.h"
#include "front.h"
#include "handlers.h"
#include "hasher_share.h"
#include "hc/hasher_client.h"
#include "http/http.h"
#include "http/json_in.h"
#include "mail_link.h"
#include "problem_reply.h"
#include "ratelimit.h"
#include "reply.h"
#include "store/links.h"
#include "token.h"
#include "util.h"
#include "validate.h"

#define BAD_TOKEN	RESET_BAD_TOKEN

/* --- forgot --- */

static const struct json_in_member forgot_members[] = {
	{ "email", JSON_IN_STRING, FIELD_EMAIL_MAX * 4, 0, true, false },
};

enum forgot_gate
password_forgot_gate(struct http_req *r, int64_t *retry)
{
	struct caller *c = caller_of(r);

	*retry = 0;
	if (!mail_link_mail_on(c->front->cfg)) {
		*retry = 3600;
		return FORGOT_NO_MAIL;
	}
	if (rl_blocked(c->front->forgot_limit, r->remote, time(NULL), retry))
		return FORGOT_LIMITED;
	return FORGOT_OPEN;
}

struct forgot_call {
	store_done_cb	*cb;
	void		*arg;
};

static void
forgot_issued(enum store_status st, enum links_outcome out, void *arg)
{
	struct forgot_call fc = *(struct forgot_call *)arg;

	(void)out;	/* queued, no account or limited: the same answer */
	free(arg);
	fc.cb(st, fc.arg);
}

int
password_forgot_issue(struct http_req *r, const char *email,
    store_done_cb *cb, void *arg)
{
	struct caller *c = caller_of(r);
	const struct cfg *cfg = c->front->cfg;
	struct links_request q;
	struct forgot_call *fc;
	struct mail_link l;
	int	 rc;

	rl_fail(c->front->forgot_limit, r->remote, time(NULL));
	if ((fc = calloc(1, sizeof(*fc))) == NULL)
		return -1;
	fc->cb = cb;
	fc->arg = arg;
	if (mail_link_make(&l, cfg, LINKS_PASSWORD_RESET,
	    cfg->password_reset_ttl) == -1) {
		free(fc);
		return -1;
	}
	memset(&q, 0, sizeof(q));
	q.purpose = LINKS_PASSWORD_RESET;
	q.email = email;
	q.mail = l.mail;
	q.rate = cfg->mail_rate;
	q.remote = r->remote;
	rc = links_issue(c->front->db, &q, forgot_issued, fc);
	mail_link_wipe(&l);
	if (rc == -1)
		free(fc);
	return rc;
}

static void
forgot_done(enum store_status st, void *arg)
{
	struct http_req *r = arg;

	if (st != STORE_OK) {
		reply_db_failed(r, st, "password reset request");
		return;
	}
	http_reply_empty(r, 202);
}

void
h_password_forgot(struct http_req *r)
{
	struct caller *c = caller_of(r);
	const struct cfg *cfg = c->front->cfg;
	struct json_in_value v[1];
	struct problem_fields pf;
	char	 msg[VALIDATE_MSG_MAX];
	int64_t	 retry;
	cJSON	*o;
	int	 rc;

	switch (password_forgot_gate(r, &retry)) {
	case FORGOT_NO_MAIL:
		problem_retry(r, PROBLEM_UNAVAILABLE, (unsigned int)retry,
		    "this server sends no mail: ask an administrator");
		return;
	case FORGOT_LIMITED:
		problem_retry(r, PROBLEM_RATE_LIMITED, (unsigned int)retry,
		    "too many password reset requests from this address: "
		    "try again later");
		return;
	case FORGOT_OPEN:
		break;
	}
	if (body_json(r, cfg->json_max_depth, &o) == -1)
		return;
	problem_fields_init(&pf);
	if (json_in_extract(o, forgot_members, 1, v, &pf) == 0 &&
	    !validate_email(v[0].str, msg))
		problem_field_add(&pf, "email", msg);
	if (problem_fields_count(&pf) > 0) {
		cJSON_Delete(o);
		problem_reply_validation(r, &pf);
		return;
	}
	problem_fields_free(&pf);
	rc = password_forgot_issue(r, v[0].str, forgot_done, r);
	cJSON_Delete(o);
	if (rc == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}

/* --- reset --- */

struct reset {
	struct http_req	*r;
	const struct reset_ops *ops;
	void		*ctx;
	char		 hash[SECRET_TOKEN_HASH_LITERAL];
	char		 user_id[PROTO_UUID_LEN + 1];
	size_t		 pwlen;
	uint8_t		 pw[FIELD_PASSWORD_MAX];	/* secret */
	struct hshare_slot slot;
};

static const struct json_in_member reset_members[] = {
	{ "token", JSON_IN_STRING, SECRET_TOKEN_LEN * 4, 0, true, false },
	{ "new_password", JSON_IN_STRING, FIELD_PASSWORD_MAX * 4, 0, true,
	    false },
};
enum { R_TOKEN, R_PASSWORD, R_COUNT };

/* Frees x and its ctx without touching x->r (it may be answered). */
static void
reset_drop(struct reset *x)
{
	if (x->ops->ctx_free != NULL && x->ctx != NULL)
		x->ops->ctx_free(x->ctx);
	sodium_memzero(x, sizeof(*x));
	free(x);
}

/* Gives back x's hasher slot and frees x, before an answer. */
static void
reset_free(struct reset *x)
{
	hshare_give(&caller_of(x->r)->front->hasher_share, &x->slot);
	reset_drop(x);
}

/* Answers through ops, then frees x. */
static void
reset_bad_token(struct reset *x)
{
	hshare_give(&caller_of(x->r)->front->hasher_share, &x->slot);
	x->ops->bad_token(x->r, x->ctx);
	reset_drop(x);
}

static void
reset_bad_password(struct reset *x, const char *msg)
{
	hshare_give(&caller_of(x->r)->front->hasher_share, &x->slot);
	x->ops->bad_password(x->r, x->ctx, msg);
	reset_drop(x);
}

static void
reset_written(enum store_status st, void *arg)
{
	struct reset *x = arg;
	struct http_req *r = x->r;

	if (st == STORE_NOT_FOUND)
		reset_bad_token(x);
	else if (st != STORE_OK) {
		reset_free(x);
		reply_db_failed(r, st, "password reset");
	} else {
		hshare_give(&caller_of(r)->front->hasher_share, &x->slot);
		auth_user_written(r, x->user_id);
		x->ops->done(r, x->ctx);
		reset_drop(x);
	}
}

static void
reset_hashed(enum hc_status st, const char *stored, void *arg)
{
	struct reset *x = arg;
	struct http_req *r = x->r;

	hshare_give(&caller_of(r)->front->hasher_share, &x->slot);
	if (st != HC_OK) {
		reset_free(x);
		reply_hasher_failed(r, st);
		return;
	}
	if (reply_too_late(r, "the reset")) {
		reset_free(x);
		http_req_abandon(r);
		return;
	}
	if (links_reset(caller_of(r)->front->db, x->hash, x->user_id, stored,
	    r->remote, reset_written, x) == -1) {
		reset_free(x);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

static void
reset_found(enum store_status st, const struct user *u, void *arg)
{
	struct reset *x = arg;
	struct http_req *r = x->r;
	struct front *f = caller_of(r)->front;
	char	 msg[VALIDATE_MSG_MAX];
	enum hc_status why;

	if (st != STORE_OK) {
		if (st == STORE_NOT_FOUND)
			reset_bad_token(x);
		else {
			reset_free(x);
			reply_db_failed(r, st, "password reset");
		}
		return;
	}
	if (!validate_password((const char *)x->pw, x->pwlen,
	    f->cfg->password_min_length, u->username, u->email, f->blocklist,
	    msg)) {
		reset_bad_password(x, msg);
		return;
	}
	str_copy(x->user_id, u->id, sizeof(x->user_id));
	if (!hshare_take(&f->hasher_share, &x->slot, r->remote,
	    hshare_limit(f->cfg->hasher_queue))) {
		reset_free(x);
		problem_retry(r, PROBLEM_RATE_LIMITED, 1, "too many password "
		    "operations from this address at once: try again");
		return;
	}
	if (hc_hash(f->hc, x->user_id, x->pw, x->pwlen, reset_hashed, x,
	    &why) == NULL) {
		reset_free(x);
		reply_hasher_failed(r, why);
		return;
	}
	sodium_memzero(x->pw, sizeof(x->pw));
	x->pwlen = 0;
}

void
password_reset_start(struct http_req *r, const char *token, size_t tokenlen,
    const char *pw, size_t pwlen, const struct reset_ops *ops, void *ctx)
{
	struct reset *x;

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		if (ops->ctx_free != NULL && ctx != NULL)
			ops->ctx_free(ctx);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	x->r = r;
	x->ops = ops;
	x->ctx = ctx;
	if (pwlen > FIELD_PASSWORD_MAX) {
		reset_bad_password(x, "must be at most "
		    STRINGIFY(FIELD_PASSWORD_MAX) " bytes");
		return;
	}
	if (secret_token_hash(token, tokenlen, x->hash) == -1) {
		reset_bad_token(x);
		return;
	}
	x->pwlen = pwlen;
	memcpy(x->pw, pw, pwlen);
	if (links_reset_find(caller_of(r)->front->db, x->hash, reset_found,
	    x) == -1) {
		reset_free(x);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* --- a look at a token, for the portal's page --- */

struct reset_look {
	store_done_cb	*cb;
	void		*arg;
};

static void
reset_looked(enum store_status st, const struct user *u, void *arg)
{
	struct reset_look l = *(struct reset_look *)arg;

	(void)u;
	free(arg);
	l.cb(st, l.arg);
}

int
password_reset_check(struct http_req *r, const char *token, size_t tokenlen,
    store_done_cb *cb, void *arg)
{
	char	 hash[SECRET_TOKEN_HASH_LITERAL];
	struct reset_look *l;

	if (secret_token_hash(token, tokenlen, hash) == -1) {
		cb(STORE_NOT_FOUND, arg);
		return 0;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -1;
	l->cb = cb;
	l->arg = arg;
	if (links_reset_find(caller_of(r)->front->db, hash, reset_looked,
	    l) == -1) {
		free(l);
		return -1;
	}
	return 0;
}

/* The API's answers. */

static void
api_reset_done(struct http_req *r, void *ctx)
{
	(void)ctx;
	http_reply_empty(r, 204);
}

static void
api_bad_token(struct http_req *r, void *ctx)
{
	(void)ctx;
	problem_reply(r, PROBLEM_INVALID_TOKEN, BAD_TOKEN);
}

static void
api_bad_password(struct http_req *r, void *ctx, const char *msg)
{
	struct problem_fields pf;

	(void)ctx;
	problem_fields_init(&pf);
	problem_field_add(&pf, "new_password", msg);
	problem_reply_validation(r, &pf);
}

static const struct reset_ops api_reset_ops = {
	.done = api_reset_done,
	.bad_token = api_bad_token,
	.bad_password = api_bad_password,
	.ctx_free = NULL,
};

void
h_password_reset(struct http_req *r)
{
	struct caller *c = caller_of(r);
	struct json_in_value v[R_COUNT];
	struct problem_fields pf;
	cJSON	*o;

	if (body_json(r, c->front->cfg->json_max_depth, &o) == -1)
		return;
	memset(v, 0, sizeof(v));
	problem_fields_init(&pf);
	if (json_in_extract(o, reset_members, R_COUNT, v, &pf) > 0)
		problem_reply_validation(r, &pf);
	else {
		problem_fields_free(&pf);
		password_reset_start(r, v[R_TOKEN].str, v[R_TOKEN].len,
		    v[R_PASSWORD].str, v[R_PASSWORD].len, &api_reset_ops,
		    NULL);
	}
	if (v[R_TOKEN].str != NULL)
		sodium_memzero((void *)v[R_TOKEN].str, v[R_TOKEN].len);
	if (v[R_PASSWORD].str != NULL)
		sodium_memzero((void *)v[R_PASSWORD].str, v[R_PASSWORD].len);
	cJSON_Delete(o);
}
