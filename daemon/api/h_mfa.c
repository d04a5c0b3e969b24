/*
 * Second factors of the caller's account (ACCOUNTS.md), and the admin's
 * removal of a user's:
 *	POST   /api/v1/users/me/mfa/totp {"password"}	-> 200 secret, URI, QR
 *	POST   /api/v1/users/me/mfa/totp/confirm {"code"} -> 200 recovery codes
 *	DELETE /api/v1/users/me/mfa/totp {"password", "code"} -> 204
 *	POST   /api/v1/users/me/mfa/recovery-codes {"password"} -> 200 new set
 *	DELETE /api/v1/users/{id}/mfa (admin)		-> 204
 *
 * The hasher makes, seals and checks the TOTP secret and the recovery
 * codes' keyed hashes; this file only carries them.  The secret is seen
 * here once, at enrolment, to answer with it; the codes once, when made.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <sodium.h>

#include "body.h"
#include "config.h"
#include "front.h"
#include "handlers.h"
#include "hc/hasher_client.h"
#include "http/http.h"
#include "http/json_in.h"
#include "me_ops.h"
#include "problem_reply.h"
#include "proof.h"
#include "qr_svg.h"
#include "reply.h"
#include "store/mfa.h"
#include "util.h"
#include "validate.h"

#define WRONG_CODE	"is not a current code of the authenticator"
#define URI_MAX		512

/* --- enrolment --- */

/* otpauth://totp/ISSUER:USER?secret=...&issuer=ISSUER&... (Key Uri
 * Format); the issuer is the host of public_url. */
static int
otpauth_uri(char *out, size_t len, const struct cfg *cfg,
    const char *username, const char *secret)
{
	const char *host = strstr(cfg->public_url, "://");
	char	 issuer[256];
	char	*enc;
	int	 rc;

	host = host != NULL ? host + 3 : cfg->public_url;
	str_copy(issuer, host, sizeof(issuer));
	issuer[strcspn(issuer, "/")] = '\0';
	if ((enc = evhttp_uriencode(issuer, -1, 0)) == NULL)
		return -1;
	rc = str_printf(out, len, "otpauth://totp/%s:%s?secret=%s&issuer=%s"
	    "&algorithm=SHA1&digits=6&period=30", enc, username, secret, enc);
	free(enc);
	return rc;
}

struct enrolment {
	struct http_req	*r;
	char		 secret[PROTO_TOTP_SECRET_B32_LEN + 1];	/* secret */
};

static void
enrolment_free(struct enrolment *e)
{
	sodium_memzero(e, sizeof(*e));
	free(e);
}

static void
enrolment_stored(enum store_status st, void *arg)
{
	struct enrolment *e = arg;
	struct http_req *r = e->r;
	struct caller *c = caller_of(r);
	char	 uri[URI_MAX];
	char	*svg = NULL;
	cJSON	*o;

	if (st != STORE_OK) {
		enrolment_free(e);
		if (st == STORE_NOT_FOUND)
			problem_reply(r, PROBLEM_CONFLICT, "TOTP is already "
			    "active: remove it first");
		else
			reply_db_failed(r, st, "TOTP enrolment");
		return;
	}
	if (otpauth_uri(uri, sizeof(uri), c->front->cfg, c->user.username,
	    e->secret) == -1 || qr_svg(uri, &svg) == -1 ||
	    (o = cJSON_CreateObject()) == NULL) {
		enrolment_free(e);
		sodium_memzero(uri, sizeof(uri));
		free(svg);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	cJSON_AddStringToObject(o, "secret", e->secret);
	cJSON_AddStringToObject(o, "otpauth_uri", uri);
	cJSON_AddStringToObject(o, "qr_svg", svg);
	sodium_memzero(uri, sizeof(uri));
	sodium_memzero(svg, strlen(svg));
	free(svg);
	enrolment_free(e);
	if (cJSON_GetArraySize(o) != 3) {
		cJSON_Delete(o);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	http_no_store(r, true);
	http_reply_json(r, 200, o);
}

static void
totp_made(enum hc_status st, const struct proto_totp_new_ans *ans, void *arg)
{
	struct enrolment *e = arg;
	struct http_req *r = e->r;
	struct caller *c = caller_of(r);

	if (st != HC_OK) {
		enrolment_free(e);
		reply_hasher_failed(r, st);
		return;
	}
	str_copy(e->secret, ans->secret, sizeof(e->secret));
	if (mfa_totp_begin(c->front->db, c->user.id, ans->sealed,
	    enrolment_stored, e) == -1) {
		enrolment_free(e);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

static void
enrol(struct proof *p)
{
	struct http_req *r = p->r;
	struct caller *c = caller_of(r);
	struct enrolment *e;
	enum hc_status why;

	proof_free(p);
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	e->r = r;
	if (hc_totp_new(c->front->hc, c->user.id, totp_made, e, &why) == NULL) {
		enrolment_free(e);
		reply_hasher_failed(r, why);
	}
}

/* --- bodies --- */

static const struct json_in_member proof_members[] = {
	{ "password", JSON_IN_STRING, FIELD_PASSWORD_MAX, 0, true, false },
	{ "code", JSON_IN_STRING, PROOF_CODE_MAX, 0, true, false },
};

/*
 * A proof of the caller's password pw, with code when not NULL; replies
 * and returns NULL on a bad value.
 */
static struct proof *
proof_of(struct http_req *r, const char *pw, size_t pwlen, const char *code,
    void (*proven)(struct proof *))
{
	struct problem_fields pf;
	struct proof *p;

	if (pwlen > FIELD_PASSWORD_MAX || (code != NULL &&
	    strlen(code) > PROOF_CODE_MAX)) {
		problem_fields_init(&pf);
		problem_field_add(&pf, pwlen > FIELD_PASSWORD_MAX ?
		    "password" : "code", "is too long");
		problem_reply_validation(r, &pf);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return NULL;
	}
	proof_init(p, r, proven);
	p->pwlen = pwlen;
	memcpy(p->pw, pw, pwlen);
	if (code != NULL)
		str_copy(p->code, code, sizeof(p->code));
	return p;
}

/*
 * A proof of the caller's password, with a code when with_code; replies
 * and returns NULL on a bad body.
 */
static struct proof *
proof_parse(struct http_req *r, bool with_code,
    void (*proven)(struct proof *))
{
	struct caller *c = caller_of(r);
	struct json_in_value v[2];
	struct problem_fields pf;
	struct proof *p = NULL;
	size_t	 n = with_code ? 2 : 1;
	cJSON	*o;

	if (body_json(r, c->front->cfg->json_max_depth, &o) == -1)
		return NULL;
	memset(v, 0, sizeof(v));
	problem_fields_init(&pf);
	if (json_in_extract(o, proof_members, n, v, &pf) > 0)
		problem_reply_validation(r, &pf);
	else {
		problem_fields_free(&pf);
		p = proof_of(r, v[0].str, v[0].len, with_code ? v[1].str :
		    NULL, proven);
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].str != NULL)
			sodium_memzero((void *)v[i].str, v[i].len);
	cJSON_Delete(o);
	return p;
}

/* A code is checked: charged to the client address like a password
 * (proof.h), so that a stolen access token cannot guess codes at speed. */
#define WRONG_CODES	"too many wrong codes or passwords from this " \
			"address: try again later"

static void
reply_wrong_code(struct http_req *r)
{
	struct problem_fields pf;

	problem_fields_init(&pf);
	problem_field_add(&pf, "code", WRONG_CODE);
	problem_reply_validation(r, &pf);
}

void
h_me_totp_enrol(struct http_req *r)
{
	struct proof *p;

	if (caller_of(r)->user.totp) {
		problem_reply(r, PROBLEM_CONFLICT, "TOTP is already active: "
		    "remove it first");
		return;
	}
	if ((p = proof_parse(r, false, enrol)) != NULL)
		proof_start(p);
}

void
me_totp_enrol(struct http_req *r, const char *pw, size_t pwlen)
{
	struct proof *p;

	if (caller_of(r)->user.totp) {
		problem_reply(r, PROBLEM_CONFLICT, "TOTP is already active: "
		    "remove it first");
		return;
	}
	if ((p = proof_of(r, pw, pwlen, NULL, enrol)) != NULL)
		proof_start(p);
}

/* --- confirmation --- */

/*
 * A new set of recovery codes on its way: made by the hasher, then stored
 * with the factor's confirmation (confirm) or in place of the old set
 * (renewal), then shown once.
 */
struct code_set {
	struct http_req	*r;
	bool		 confirm;
	bool		 malformed;	/* the code typed is no TOTP code */
	char		 code[PROOF_CODE_MAX + 1];		/* secret */
	char		 sealed[MFA_SEALED_MAX + 1];
	uint32_t	 step;
	char		 codes[MFA_CODES][PROTO_RECOVERY_CODE_LEN + 1];
};

_Static_assert(MFA_CODES == PROTO_RECOVERY_CODES, "a set is the hasher's");

static void
code_set_free(struct code_set *k)
{
	sodium_memzero(k, sizeof(*k));
	free(k);
}

/* {"recovery_codes": [...]} */
static void
reply_codes(struct http_req *r, char codes[][PROTO_RECOVERY_CODE_LEN + 1],
    size_t n)
{
	cJSON	*o, *a;

	if ((o = cJSON_CreateObject()) == NULL ||
	    (a = cJSON_AddArrayToObject(o, "recovery_codes")) == NULL) {
		cJSON_Delete(o);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(codes[i]));
	if ((size_t)cJSON_GetArraySize(a) != n) {
		cJSON_Delete(o);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	http_no_store(r, true);
	http_reply_json(r, 200, o);
}

static void
codes_stored(enum store_status st, void *arg)
{
	struct code_set *k = arg;
	struct http_req *r = k->r;

	if (st == STORE_OK)
		reply_codes(r, k->codes, MFA_CODES);
	else if (st == STORE_NOT_FOUND)
		problem_reply(r, PROBLEM_CONFLICT, k->confirm ?
		    "the enrolment changed meanwhile: start again" :
		    "the account has no active second factor");
	else
		reply_db_failed(r, st, k->confirm ? "TOTP confirmation" :
		    "recovery codes");
	code_set_free(k);
}

/* The hasher's client checked the set: MFA_CODES distinct codes. */
static void
codes_made(enum hc_status st, const struct proto_recovery_new_ans *ans,
    void *arg)
{
	struct code_set *k = arg;
	struct http_req *r = k->r;
	struct caller *c = caller_of(r);
	const char *hashes[MFA_CODES];
	int	 rc;

	if (st != HC_OK) {
		code_set_free(k);
		reply_hasher_failed(r, st);
		return;
	}
	for (size_t i = 0; i < MFA_CODES; i++) {
		str_copy(k->codes[i], ans->codes[i], sizeof(k->codes[i]));
		hashes[i] = ans->hashes[i];
	}
	if (k->confirm)
		rc = mfa_totp_confirm(c->front->db, c->user.id, k->sealed,
		    k->step, hashes, MFA_CODES, r->remote, codes_stored, k);
	else
		rc = mfa_recovery_replace(c->front->db, c->user.id, hashes,
		    MFA_CODES, r->remote, codes_stored, k);
	if (rc == -1) {
		code_set_free(k);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* Asks the hasher for a new set for k; frees k and answers on failure. */
static void
codes_ask(struct code_set *k)
{
	struct http_req *r = k->r;
	enum hc_status why;

	if (hc_recovery_new(caller_of(r)->front->hc, caller_of(r)->user.id,
	    codes_made, k, &why) == NULL) {
		code_set_free(k);
		reply_hasher_failed(r, why);
	}
}

static void
confirm_checked(enum hc_status st, bool match, uint32_t step, void *arg)
{
	struct code_set *k = arg;
	struct http_req *r = k->r;

	if (st == HC_INVALID || (st == HC_OK && !match)) {
		code_set_free(k);
		reply_wrong_code(r);
		return;
	}
	if (st != HC_OK) {
		code_set_free(k);
		reply_hasher_failed(r, st);
		return;
	}
	proof_forgive(r);
	k->step = step;
	codes_ask(k);
}

static void
pending_loaded(enum store_status st, const struct mfa_totp *t, void *arg)
{
	struct code_set *k = arg;
	struct http_req *r = k->r;
	enum hc_status why;

	if (st == STORE_NOT_FOUND || (st == STORE_OK && t->confirmed)) {
		code_set_free(k);
		problem_reply(r, PROBLEM_CONFLICT, "no TOTP enrolment is "
		    "pending: start one first");
		return;
	}
	if (st != STORE_OK) {
		code_set_free(k);
		reply_db_failed(r, st, "TOTP confirmation");
		return;
	}
	str_copy(k->sealed, t->sealed, sizeof(k->sealed));
	if (hc_totp_check(caller_of(r)->front->hc, caller_of(r)->user.id,
	    k->sealed, k->code, t->last_step, confirm_checked, k,
	    &why) == NULL) {
		code_set_free(k);
		if (why == HC_INVALID)
			reply_wrong_code(r);
		else
			reply_hasher_failed(r, why);
	}
}

static const struct json_in_member code_members[] = {
	{ "code", JSON_IN_STRING, PROOF_CODE_MAX, 0, true, false },
};

static void
confirm_charged(struct http_req *r, bool ok, void *arg)
{
	struct code_set *k = arg;
	struct caller *c = caller_of(r);

	if (!ok) {
		code_set_free(k);
		return;
	}
	if (k->malformed) {
		code_set_free(k);
		reply_wrong_code(r);
		return;
	}
	if (mfa_totp_get(c->front->db, c->user.id, pending_loaded, k) == -1) {
		code_set_free(k);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

void
me_totp_confirm(struct http_req *r, const char *typed)
{
	struct code_set *k;
	char	 code[PROOF_CODE_MAX + 1];

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	k->r = r;
	k->confirm = true;
	/* A malformed code is charged all the same. */
	if (!validate_totp_code(typed, code, sizeof(code)))
		k->malformed = true;
	else
		str_copy(k->code, code, sizeof(k->code));
	sodium_memzero(code, sizeof(code));
	proof_charge(r, WRONG_CODES, confirm_charged, k);
}

void
h_me_totp_confirm(struct http_req *r)
{
	struct caller *c = caller_of(r);
	struct json_in_value v[1];
	struct problem_fields pf;
	cJSON	*o;

	if (body_json(r, c->front->cfg->json_max_depth, &o) == -1)
		return;
	problem_fields_init(&pf);
	if (json_in_extract(o, code_members, 1, v, &pf) > 0) {
		cJSON_Delete(o);
		problem_reply_validation(r, &pf);
		return;
	}
	problem_fields_free(&pf);
	me_totp_confirm(r, v[0].str);
	sodium_memzero((void *)v[0].str, v[0].len);
	cJSON_Delete(o);
}

/* --- removal by the user --- */

static void
removed(enum store_status st, void *arg)
{
	struct http_req *r = arg;

	if (st == STORE_NOT_FOUND)
		reply_wrong_code(r);	/* the code was used meanwhile */
	else if (st != STORE_OK)
		reply_db_failed(r, st, "TOTP removal");
	else
		http_reply_empty(r, 204);
}

static void
remove_checked(enum hc_status st, bool match, uint32_t step, void *arg)
{
	struct http_req *r = arg;
	struct caller *c = caller_of(r);

	if (st == HC_INVALID || (st == HC_OK && !match)) {
		reply_wrong_code(r);
		return;
	}
	if (st != HC_OK) {
		reply_hasher_failed(r, st);
		return;
	}
	proof_forgive(r);
	if (mfa_remove(c->front->db, c->user.id, step, NULL, r->remote, "self",
	    removed, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}

static void
remove_hashed(enum hc_status st, const char *hash, void *arg)
{
	struct http_req *r = arg;
	struct caller *c = caller_of(r);

	if (st == HC_INVALID) {
		reply_wrong_code(r);
		return;
	}
	if (st != HC_OK) {
		reply_hasher_failed(r, st);
		return;
	}
	proof_forgive(r);
	if (mfa_remove(c->front->db, c->user.id, 0, hash, r->remote, "self",
	    removed, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}

struct removal {
	struct http_req	*r;
	char		 code[PROOF_CODE_MAX + 1];		/* secret */
	char		 sealed[MFA_SEALED_MAX + 1];
	uint32_t	 last_step;
};

static void
removal_free(struct removal *x)
{
	sodium_memzero(x, sizeof(*x));
	free(x);
}

static void
removal_charged(struct http_req *r, bool ok, void *arg)
{
	struct removal *x = arg;
	struct caller *c = caller_of(r);
	char	 code[PROOF_CODE_MAX + 1];
	enum hc_status why;
	struct hc_req *q;

	if (!ok) {
		removal_free(x);
		return;
	}
	if (validate_totp_code(x->code, code, sizeof(code)))
		q = hc_totp_check(c->front->hc, c->user.id, x->sealed, code,
		    x->last_step, remove_checked, r, &why);
	else
		q = hc_recovery_hash(c->front->hc, c->user.id, x->code,
		    remove_hashed, r, &why);
	sodium_memzero(code, sizeof(code));
	removal_free(x);
	if (q == NULL) {
		if (why == HC_INVALID)
			reply_wrong_code(r);
		else
			reply_hasher_failed(r, why);
	}
}

static void
factor_loaded(enum store_status st, const struct mfa_totp *t, void *arg)
{
	struct removal *x = arg;
	struct http_req *r = x->r;
	struct caller *c = caller_of(r);

	if (st != STORE_OK) {
		sodium_memzero(x, sizeof(*x));
		free(x);
		if (st == STORE_NOT_FOUND)
			problem_reply(r, PROBLEM_NOT_FOUND,
			    "the account has no TOTP factor");
		else
			reply_db_failed(r, st, "TOTP removal");
		return;
	}
	/* A pending enrolment goes with the password alone. */
	if (!t->confirmed) {
		sodium_memzero(x, sizeof(*x));
		free(x);
		if (mfa_remove(c->front->db, c->user.id, 0, NULL, r->remote,
		    "self", removed, r) == -1)
			problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	if (str_copy(x->sealed, t->sealed, sizeof(x->sealed)) == -1) {
		removal_free(x);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	x->last_step = t->last_step;
	proof_charge(r, WRONG_CODES, removal_charged, x);
}

static void
remove_proven(struct proof *p)
{
	struct http_req *r = p->r;
	struct caller *c = caller_of(r);
	struct removal *x;

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		proof_free(p);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	x->r = r;
	str_copy(x->code, p->code, sizeof(x->code));
	proof_free(p);
	if (mfa_totp_get(c->front->db, c->user.id, factor_loaded, x) == -1) {
		sodium_memzero(x, sizeof(*x));
		free(x);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

void
h_me_totp_delete(struct http_req *r)
{
	struct proof *p;

	if ((p = proof_parse(r, true, remove_proven)) != NULL)
		proof_start(p);
}

void
me_totp_remove(struct http_req *r, const char *pw, size_t pwlen,
    const char *code)
{
	struct proof *p;

	if ((p = proof_of(r, pw, pwlen, code != NULL ? code : "",
	    remove_proven)) != NULL)
		proof_start(p);
}

/* --- a new set of recovery codes --- */

static void
renew(struct proof *p)
{
	struct http_req *r = p->r;
	struct code_set *k;

	proof_free(p);
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	k->r = r;
	codes_ask(k);
}

void
h_me_recovery_codes(struct http_req *r)
{
	struct proof *p;

	if (!caller_of(r)->user.totp) {
		problem_reply(r, PROBLEM_CONFLICT, "the account has no active "
		    "second factor");
		return;
	}
	if ((p = proof_parse(r, false, renew)) != NULL)
		proof_start(p);
}

void
me_recovery_renew(struct http_req *r, const char *pw, size_t pwlen)
{
	struct proof *p;

	if (!caller_of(r)->user.totp) {
		problem_reply(r, PROBLEM_CONFLICT, "the account has no active "
		    "second factor");
		return;
	}
	if ((p = proof_of(r, pw, pwlen, NULL, renew)) != NULL)
		proof_start(p);
}

/* --- the admin's removal --- */

static void
admin_removed(enum store_status st, void *arg)
{
	struct http_req *r = arg;

	if (st == STORE_NOT_FOUND)
		problem_reply(r, PROBLEM_NOT_FOUND,
		    "no such user, or it has no second factor");
	else if (st != STORE_OK)
		reply_db_failed(r, st, "second factor removal");
	else
		http_reply_empty(r, 204);
}

void
h_admin_mfa_delete(struct http_req *r)
{
	struct caller *c = caller_of(r);

	if (mfa_remove(c->front->db, http_req_param(r, "id"), 0, NULL,
	    r->remote, c->user.id, admin_removed, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}
