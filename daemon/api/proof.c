/*
 * Proving the caller's password before a change of its account (password
 * change, deletion, second factors): the caller's row's hash is loaded and
 * checked through the hasher.  Each attempt is charged to the client
 * address like a failed login and forgiven on a match, so that a stolen
 * access token cannot guess the password at hashing speed; the hasher
 * request takes one of the address's slots of the hasher queue
 * (hasher_share.h): past its share a client gets 429.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "addr_limit.h"
#include "config.h"
#include "front.h"
#include "hasher_share.h"
#include "hc/hasher_client.h"
#include "http/http.h"
#include "problem_reply.h"
#include "proof.h"
#include "reply.h"
#include "store/users.h"
#include "util.h"

void
proof_init(struct proof *p, struct http_req *r, void (*proven)(struct proof *))
{
	p->r = r;
	p->proven = proven;
}

void
proof_free(struct proof *p)
{
	hshare_give(&caller_of(p->r)->front->hasher_share, &p->slot);
	sodium_memzero(p, sizeof(*p));
	free(p);
}

/*
 * Takes a slot of the hasher queue for p's client; when its share is
 * used up, frees p and answers 429 (the password was not tried: the
 * address is not charged for it) and returns false.
 */
bool
proof_take_slot(struct proof *p)
{
	struct http_req *r = p->r;
	struct front *f = caller_of(r)->front;

	if (hshare_take(&f->hasher_share, &p->slot, r->remote,
	    hshare_limit(f->cfg->hasher_queue)))
		return true;
	if (p->charged)
		proof_forgive(r);
	proof_free(p);
	problem_retry(r, PROBLEM_RATE_LIMITED, 1, "too many password "
	    "operations from this address at once: try again");
	return false;
}

void
proof_reply_done(struct http_req *r, enum store_status st, const char *what)
{
	if (st == STORE_NOT_FOUND) {
		/* Deleted meanwhile, or its password changed meanwhile. */
		problem_reply(r, PROBLEM_CONFLICT,
		    "the account changed meanwhile: try again");
	} else if (st != STORE_OK)
		reply_db_failed(r, st, what);
	else
		http_reply_empty(r, 204);
}

static void
verified(enum hc_status st, bool match, const char *rehash, void *arg)
{
	struct proof *p = arg;
	struct http_req *r = p->r;

	hshare_give(&caller_of(r)->front->hasher_share, &p->slot);
	if (st != HC_OK) {
		proof_free(p);
		reply_hasher_failed(r, st);
		return;
	}
	if (!match) {
		proof_free(p);	/* the address stays charged (proof_start()) */
		problem_reply(r, PROBLEM_FORBIDDEN, "the password is wrong");
		return;
	}
	proof_forgive(r);
	p->charged = false;
	p->proven(p);
}

static void
stored_loaded(enum store_status st, const char *stored, void *arg)
{
	struct proof *p = arg;
	struct http_req *r = p->r;
	struct caller *c = caller_of(r);
	enum hc_status why;

	if (st == STORE_OK &&
	    str_copy(p->stored, stored, sizeof(p->stored)) == -1)
		st = STORE_ERROR;
	if (st != STORE_OK) {
		proof_free(p);
		proof_reply_done(r, st, "loading the password hash");
		return;
	}
	if (!proof_take_slot(p))
		return;
	if (hc_verify(c->front->hc, c->user.id, p->pw, p->pwlen, p->stored,
	    verified, p, &why) == NULL) {
		proof_free(p);
		reply_hasher_failed(r, why);
	}
}

struct charge {
	struct http_req	*r;
	const char	*refusal;
	proof_charged_cb *charged;
	void		*arg;
};

static void
charge_done(enum addr_verdict v, unsigned int retry, void *arg)
{
	struct charge	 c = *(struct charge *)arg;

	free(arg);
	if (v != ADDR_PASS) {
		addr_limit_refuse(c.r, v, retry, c.refusal);
		c.charged(c.r, false, c.arg);
		return;
	}
	/* Answered 503 while the count waited: nothing will be tried. */
	if (reply_too_late(c.r, "the address's count")) {
		proof_forgive(c.r);
		c.charged(c.r, false, c.arg);
		http_req_abandon(c.r);
		return;
	}
	c.charged(c.r, true, c.arg);
}

void
proof_charge(struct http_req *r, const char *refusal,
    proof_charged_cb *charged, void *arg)
{
	struct front *f = caller_of(r)->front;
	struct charge *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		charged(r, false, arg);
		return;
	}
	c->r = r;
	c->refusal = refusal;
	c->charged = charged;
	c->arg = arg;
	addr_limit_charge(f, f->addr_limit, ADDR_LIMIT_LOGIN, r->remote,
	    charge_done, c);
}

void
proof_forgive(struct http_req *r)
{
	struct front *f = caller_of(r)->front;

	addr_limit_forgive(f, f->addr_limit, ADDR_LIMIT_LOGIN, r->remote);
}

static void
start_charged(struct http_req *r, bool ok, void *arg)
{
	struct proof *p = arg;
	struct caller *c = caller_of(r);

	if (!ok) {
		proof_free(p);
		return;
	}
	p->charged = true;
	if (users_password_hash(c->front->db, c->user.id, stored_loaded,
	    p) == -1) {
		proof_free(p);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

void
proof_start(struct proof *p)
{
	/* Charged like a failed login and forgiven on a match, so that a
	 * stolen access token cannot guess the password at hashing speed,
	 * in parallel or not, on one host or on several. */
	proof_charge(p->r, "too many wrong passwords from this address: "
	    "try again later", start_charged, p);
}
