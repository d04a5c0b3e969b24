/*
 * grant_type=urn:warden:grant-type:mfa (ACCOUNTS.md): the second step of
 * a password grant for a user with a second factor, with the mfa_token
 * the first step answered and an otp or a recovery_code.
 *
 * The token is looked up (live, under its failure count, its user active
 * with the same token version: store/mfa.h); the hasher checks the code
 * (TOTP against the sealed secret, or the keyed hash of a recovery code);
 * the store spends the token with the code's time step or the recovery
 * code, each usable once; then the login finishes as a password grant's
 * would (token.h).  A wrong code counts on the token (dead after five)
 * and on the login back-off like a wrong password, and answers
 * invalid_grant.  Each step begins as the password grant does
 * (token_login_begin(): the per-address limit, the device cookie).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "front.h"
#include "hc/hasher_client.h"
#include "http/http.h"
#include "metrics.h"
#include "problem_reply.h"
#include "reply.h"
#include "store/mfa.h"
#include "token.h"
#include "util.h"
#include "validate.h"

#define BAD_MFA_TOKEN	TOKEN_BAD_MFA_TOKEN
#define BAD_CODE	"the code is wrong"

static void
wrong_written(enum store_status st, void *arg)
{
	struct token_call *t = arg;
	struct http_req *r = t->r;

	if (st != STORE_OK) {
		token_call_free(t);
		reply_db_failed(r, st, "mfa failure");
		return;
	}
	token_login_refuse(t, true, "wrong_code", BAD_CODE);
}

/* A wrong (or used) code: counted on the token, then on the login. */
static void
wrong_code(struct token_call *t)
{
	struct http_req *r = t->r;

	metrics_login(t->f->metrics, METRICS_LOGIN_FAILED);
	if (mfa_token_failed(t->f->db, t->mfa_hash, r->remote, wrong_written,
	    t) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

static void
spent(enum store_status st, void *arg)
{
	struct token_call *t = arg;
	struct http_req *r = t->r;

	if (st == STORE_NOT_FOUND) {
		wrong_code(t);	/* the step or the code was used */
		return;
	}
	if (st != STORE_OK) {
		token_call_free(t);
		reply_db_failed(r, st, "mfa");
		return;
	}
	token_login_finish(t);
}

static void
spend(struct token_call *t, uint32_t step, const char *code_hash)
{
	struct http_req *r = t->r;

	if (reply_too_late(r, "spending the mfa_token")) {
		token_call_free(t);
		http_req_abandon(r);
		return;
	}
	if (mfa_token_spend(t->f->db, t->mfa_hash, step, code_hash, r->remote,
	    spent, t) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

static void
totp_checked(enum hc_status st, bool match, uint32_t step, void *arg)
{
	struct token_call *t = arg;

	if (st == HC_INVALID || (st == HC_OK && !match)) {
		wrong_code(t);
		return;
	}
	if (st != HC_OK) {
		struct http_req *r = t->r;

		token_call_free(t);
		reply_hasher_failed(r, st);
		return;
	}
	spend(t, step, NULL);
}

static void
recovery_hashed(enum hc_status st, const char *hash, void *arg)
{
	struct token_call *t = arg;

	if (st == HC_INVALID) {
		wrong_code(t);	/* not a recovery code's shape */
		return;
	}
	if (st != HC_OK) {
		struct http_req *r = t->r;

		token_call_free(t);
		reply_hasher_failed(r, st);
		return;
	}
	spend(t, 0, hash);
}

static void
pending_found(enum store_status st, const struct mfa_pending *p, void *arg)
{
	struct token_call *t = arg;
	struct http_req *r = t->r;
	enum hc_status why;
	struct hc_req *q;
	char	 otp[TOKEN_CODE_MAX + 1];

	if (st == STORE_NOT_FOUND) {
		metrics_login(t->f->metrics, METRICS_LOGIN_FAILED);
		token_login_refused(t, 400, BAD_MFA_TOKEN, 0);
		return;
	}
	if (st != STORE_OK) {
		token_call_free(t);
		reply_db_failed(r, st, "mfa lookup");
		return;
	}
	t->user = p->user;
	t->found = true;
	str_copy(t->stored, p->stored, sizeof(t->stored));
	str_copy(t->sealed, p->sealed, sizeof(t->sealed));
	t->last_step = p->last_step;
	/* Trusted only with the device the password came from. */
	t->trusted = p->device[0] != '\0' &&
	    strcmp(p->device, t->req.device_hash) == 0;
	if (!t->trusted) {
		t->req.device[0] = '\0';
		t->req.device_hash[0] = '\0';
	}
	if (p->locked) {
		metrics_login(t->f->metrics, METRICS_LOGIN_FAILED);
		token_login_refuse(t, false, "locked", BAD_CODE);
		return;
	}
	if (t->req.recovery)
		q = hc_recovery_hash(t->f->hc, t->user.id, t->req.code,
		    recovery_hashed, t, &why);
	else if (!validate_totp_code(t->req.code, otp, sizeof(otp))) {
		wrong_code(t);
		return;
	} else
		q = hc_totp_check(t->f->hc, t->user.id, t->sealed, otp,
		    t->last_step, totp_checked, t, &why);
	sodium_memzero(otp, sizeof(otp));
	if (q == NULL) {
		if (why == HC_INVALID) {
			wrong_code(t);
			return;
		}
		token_call_free(t);
		reply_hasher_failed(r, why);
	}
}

static void
mfa_grant_begun(struct token_call *t)
{
	struct http_req *r = t->r;

	if (secret_token_hash(t->req.mfa_token, strlen(t->req.mfa_token),
	    t->mfa_hash) == -1) {
		metrics_login(t->f->metrics, METRICS_LOGIN_FAILED);
		token_login_refused(t, 400, BAD_MFA_TOKEN, 0);
		return;
	}
	if (mfa_token_find(t->f->db, t->mfa_hash, pending_found, t) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

void
mfa_grant(struct token_call *t)
{
	token_login_begin(t, mfa_grant_begun);
}
