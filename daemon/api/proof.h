/*
 * A request that proves the caller's password through the hasher, then
 * does its work (proof.c).  The handler allocates a struct proof (calloc),
 * fills pw (and what its work needs), calls proof_init() and
 * proof_start(); on a match proven(p) runs, which must end with
 * proof_free(p) and a reply; on a wrong password the caller gets 403 and
 * p is freed.
 */
#ifndef WARDEN_PROOF_H
#define WARDEN_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields.h"
#include "hasher_share.h"
#include "proto.h"
#include "store/store.h"

struct http_req;

#define PROOF_CODE_MAX	32	/* a TOTP or recovery code, as typed */

struct proof {
	struct http_req	*r;
	char		 stored[PROTO_STORED_MAX + 1];	/* secret */
	size_t		 pwlen;
	uint8_t		 pw[FIELD_PASSWORD_MAX];	/* secret */
	size_t		 newlen;
	uint8_t		 newpw[FIELD_PASSWORD_MAX];	/* secret */
	char		 code[PROOF_CODE_MAX + 1];	/* secret */
	void		(*proven)(struct proof *);
	bool		 charged;	/* counted against the address */
	struct hshare_slot slot;			/* while at the hasher */
};

void	proof_init(struct proof *p, struct http_req *r,
	    void (*proven)(struct proof *));

/* Checks p->pw against the caller's hash (403 when wrong; 429 past the
 * address's limit), then calls p->proven. */
void	proof_start(struct proof *p);

/*
 * Charges r's client address like a failed login (login_max_failures per
 * addr_login_window, in the count shared with the token endpoint and
 * every host: api/addr_limit.h), then calls charged(r, true, arg).  When
 * the address is over it, answers 429 with refusal (a string that
 * outlives the request: a literal), or 503 when the count failed, then
 * calls charged(r, false, arg), which must only free what arg holds.
 * proof_start() does it for a password; a handler checking a code does it
 * itself, and calls proof_forgive() when the code was right.
 */
typedef void	proof_charged_cb(struct http_req *r, bool ok, void *arg);
void	proof_charge(struct http_req *r, const char *refusal,
	    proof_charged_cb *charged, void *arg);
void	proof_forgive(struct http_req *r);

/* Wipes and frees p, giving back its hasher slot. */
void	proof_free(struct proof *p);

/* Takes a slot of the hasher queue for p's client; when its share is used
 * up, frees p, answers 429 and returns false. */
bool	proof_take_slot(struct proof *p);

/* 204 on OK, 409 on NOT_FOUND (the account changed meanwhile), else the
 * store's failure. */
void	proof_reply_done(struct http_req *r, enum store_status st,
	    const char *what);

#endif
