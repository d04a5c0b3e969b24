/*
 * The caller's own account: read, update, change the password, delete.
 * The last two prove the current password first (proof.h).
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
#include "log.h"
#include "me_ops.h"
#include "proof.h"
#include "problem_reply.h"
#include "ratelimit.h"
#include "reply.h"
#include "store/users.h"
#include "user_patch.h"
#include "util.h"
#include "validate.h"

void
h_me_get(struct http_req *r)
{
	http_no_store(r, false);
	http_reply_json(r, 200, user_to_json(&caller_of(r)->user));
}

void
h_me_patch(struct http_req *r)
{
	struct caller *c = caller_of(r);

	user_patch_handle(r, c->user.id, c->user.id, false);
}

static void
password_written(enum store_status st, void *arg)
{
	proof_reply_done(arg, st, "password change");
}

static void
new_password_hashed(enum hc_status st, const char *stored, void *arg)
{
	struct proof *p = arg;
	struct http_req *r = p->r;
	struct caller *c = caller_of(r);
	int	 rc;

	hshare_give(&c->front->hasher_share, &p->slot);
	if (st != HC_OK) {
		proof_free(p);
		reply_hasher_failed(r, st);
		return;
	}
	if (reply_too_late(r, "the password's write")) {
		proof_free(p);
		http_req_abandon(r);
		return;
	}
	/* Only over the hash just verified: a concurrent change wins. */
	rc = users_set_password(c->front->db, c->user.id, stored, p->stored,
	    r->remote, password_written, r);

	proof_free(p);	/* the store has copied the parameters */
	if (rc == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}

static void
change_password(struct proof *p)
{
	struct http_req *r = p->r;
	struct caller *c = caller_of(r);
	enum hc_status why;

	if (!proof_take_slot(p))
		return;
	if (hc_hash(c->front->hc, c->user.id, p->newpw, p->newlen,
	    new_password_hashed, p, &why) == NULL) {
		proof_free(p);
		reply_hasher_failed(r, why);
	}
}

static const struct json_in_member password_members[] = {
	{ "current_password", JSON_IN_STRING, FIELD_PASSWORD_MAX, 0, true,
	    false },
	{ "new_password", JSON_IN_STRING, FIELD_PASSWORD_MAX * 4, 0, true,
	    false },
};

/*
 * A new proof of pw (and newpw when not NULL, validated) for r, which
 * runs proven once the password is right; replies and returns NULL on a
 * bad value.
 */
static struct proof *
proof_of(struct http_req *r, const char *pw, size_t pwlen, const char *newpw,
    size_t newlen, void (*proven)(struct proof *))
{
	struct caller *c = caller_of(r);
	struct problem_fields pf;
	struct proof *p;
	char	 msg[VALIDATE_MSG_MAX];

	problem_fields_init(&pf);
	if (pwlen > FIELD_PASSWORD_MAX)
		problem_field_add(&pf, "current_password", "is too long");
	if (newpw != NULL && !validate_password(newpw, newlen,
	    c->front->cfg->password_min_length, c->user.username,
	    c->user.email, c->front->blocklist, msg))
		problem_field_add(&pf, "new_password", msg);
	if (problem_fields_count(&pf) > 0) {
		problem_reply_validation(r, &pf);
		return NULL;
	}
	problem_fields_free(&pf);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return NULL;
	}
	proof_init(p, r, proven);
	/* Bounded above: at most FIELD_PASSWORD_MAX bytes each. */
	p->pwlen = pwlen;
	memcpy(p->pw, pw, pwlen);
	if (newpw != NULL) {
		p->newlen = newlen;
		memcpy(p->newpw, newpw, newlen);
	}
	return p;
}

/* Takes the parsed body's password(s) into a new proof; replies on error. */
static struct proof *
proof_new(struct http_req *r, const struct json_in_member *members,
    size_t n, void (*proven)(struct proof *))
{
	struct caller *c = caller_of(r);
	struct json_in_value v[2];
	struct problem_fields pf;
	struct proof *p = NULL;
	cJSON	*o;

	if (body_json(r, c->front->cfg->json_max_depth, &o) == -1)
		return NULL;
	memset(v, 0, sizeof(v));
	problem_fields_init(&pf);
	if (json_in_extract(o, members, n, v, &pf) > 0)
		problem_reply_validation(r, &pf);
	else {
		problem_fields_free(&pf);
		p = proof_of(r, v[0].str, v[0].len, n == 2 ? v[1].str : NULL,
		    n == 2 ? v[1].len : 0, proven);
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].str != NULL)
			sodium_memzero((void *)v[i].str, v[i].len);
	}
	cJSON_Delete(o);
	return p;
}

void
me_password_change(struct http_req *r, const char *pw, size_t pwlen,
    const char *newpw, size_t newlen)
{
	struct proof *p;

	if ((p = proof_of(r, pw, pwlen, newpw, newlen,
	    change_password)) != NULL)
		proof_start(p);
}

void
h_me_password(struct http_req *r)
{
	struct proof *p;

	if ((p = proof_new(r, password_members, 2, change_password)) != NULL)
		proof_start(p);
}

static void
account_deleted(enum store_status st, void *arg)
{
	proof_reply_done(arg, st, "account deletion");
}

static void
delete_account(struct proof *p)
{
	struct http_req *r = p->r;
	struct caller *c = caller_of(r);
	int	 rc;

	if (reply_too_late(r, "the deletion")) {
		proof_free(p);
		http_req_abandon(r);
		return;
	}
	/* Only while the row holds the hash just verified. */
	rc = users_delete(c->front->db, c->user.id, p->stored, r->remote,
	    "self", account_deleted, r);

	proof_free(p);	/* the store has copied the parameters */
	if (rc == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}

static const struct json_in_member delete_members[] = {
	{ "password", JSON_IN_STRING, FIELD_PASSWORD_MAX, 0, true, false },
};

void
h_me_delete(struct http_req *r)
{
	struct proof *p;

	if ((p = proof_new(r, delete_members, 1, delete_account)) != NULL)
		proof_start(p);
}
