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

#define BAD_TOKEN	"the link is invalid, expired or already used"

/* --- forgot --- */

static const struct json_in_member forgot_members[] = {
	{ "email", JSON_IN_STRING, FIELD_EMAIL_MAX * 4, 0, true, false },
};

static void
forgot_done(enum store_status st, enum links_outcome out, void *arg)
{
	struct http_req *r = arg;

	(void)out;	/* queued, no account or limited: the same answer */
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
	struct links_request q;
	struct mail_link l;
	char	 msg[VALIDATE_MSG_MAX];
	int64_t	 retry;
	time_t	 now = time(NULL);
	cJSON	*o;
	int	 rc;

	if (!mail_link_mail_on(cfg)) {
		problem_retry(r, PROBLEM_UNAVAILABLE, 3600,
		    "this server sends no mail: ask an administrator");
		return;
	}
	if (rl_blocked(c->front->forgot_limit, r->remote, now, &retry)) {
		problem_retry(r, PROBLEM_RATE_LIMITED, (unsigned int)retry,
		    "too many password reset requests from this address: "
		    "try again later");
		return;
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
	rl_fail(c->front->forgot_limit, r->remote, now);
	if (mail_link_make(&l, cfg, LINKS_PASSWORD_RESET,
	    cfg->password_reset_ttl) == -1) {
		cJSON_Delete(o);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	memset(&q, 0, sizeof(q));
	q.purpose = LINKS_PASSWORD_RESET;
	q.email = v[0].str;
	q.mail = l.mail;
	q.rate = cfg->mail_rate;
	q.remote = r->remote;
	rc = links_issue(c->front->db, &q, forgot_done, r);
	mail_link_wipe(&l);
	cJSON_Delete(o);
	if (rc == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}

/* --- reset --- */

struct reset {
	struct http_req	*r;
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

static void
reset_free(struct reset *x)
{
	hshare_give(&caller_of(x->r)->front->hasher_share, &x->slot);
	sodium_memzero(x, sizeof(*x));
	free(x);
}

static void
reset_written(enum store_status st, void *arg)
{
	struct reset *x = arg;
	struct http_req *r = x->r;

	reset_free(x);
	if (st == STORE_NOT_FOUND)
		problem_reply(r, PROBLEM_INVALID_TOKEN, BAD_TOKEN);
	else if (st != STORE_OK)
		reply_db_failed(r, st, "password reset");
	else
		http_reply_empty(r, 204);
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
	struct problem_fields pf;
	char	 msg[VALIDATE_MSG_MAX];
	enum hc_status why;

	if (st != STORE_OK) {
		reset_free(x);
		if (st == STORE_NOT_FOUND)
			problem_reply(r, PROBLEM_INVALID_TOKEN, BAD_TOKEN);
		else
			reply_db_failed(r, st, "password reset");
		return;
	}
	if (!validate_password((const char *)x->pw, x->pwlen,
	    f->cfg->password_min_length, u->username, u->email, f->blocklist,
	    msg)) {
		reset_free(x);
		problem_fields_init(&pf);
		problem_field_add(&pf, "new_password", msg);
		problem_reply_validation(r, &pf);
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
h_password_reset(struct http_req *r)
{
	struct caller *c = caller_of(r);
	struct json_in_value v[R_COUNT];
	struct problem_fields pf;
	struct reset *x = NULL;
	cJSON	*o;
	int	 bad = 0;

	if (body_json(r, c->front->cfg->json_max_depth, &o) == -1)
		return;
	memset(v, 0, sizeof(v));
	problem_fields_init(&pf);
	if (json_in_extract(o, reset_members, R_COUNT, v, &pf) > 0) {
		bad = 1;
		problem_reply_validation(r, &pf);
	} else if (v[R_PASSWORD].len > FIELD_PASSWORD_MAX) {
		bad = 1;
		problem_field_add(&pf, "new_password", "must be at most "
		    STRINGIFY(FIELD_PASSWORD_MAX) " bytes");
		problem_reply_validation(r, &pf);
	} else if ((x = calloc(1, sizeof(*x))) == NULL) {
		bad = 1;
		problem_fields_free(&pf);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	} else {
		problem_fields_free(&pf);
		x->r = r;
		if (secret_token_hash(v[R_TOKEN].str, v[R_TOKEN].len,
		    x->hash) == -1) {
			bad = 1;
			problem_reply(r, PROBLEM_INVALID_TOKEN, BAD_TOKEN);
		} else {
			x->pwlen = v[R_PASSWORD].len;
			memcpy(x->pw, v[R_PASSWORD].str, x->pwlen);
		}
	}
	if (v[R_TOKEN].str != NULL)
		sodium_memzero((void *)v[R_TOKEN].str, v[R_TOKEN].len);
	if (v[R_PASSWORD].str != NULL)
		sodium_memzero((void *)v[R_PASSWORD].str, v[R_PASSWORD].len);
	cJSON_Delete(o);
	if (bad) {
		if (x != NULL)
			reset_free(x);
		return;
	}
	if (links_reset_find(c->front->db, x->hash, reset_found, x) == -1) {
		reset_free(x);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}
