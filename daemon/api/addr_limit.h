/*
 * The per-address limits held across hosts: each attempt is charged to
 * the shared count of store/limits.h (one upsert) under its scope, and
 * forgiven there when it succeeds; the decision that lets an attempt
 * through is always the database's.  In front of it, each host's struct
 * ratelimit (ratelimit.h) remembers only the blocks the database has
 * answered, until their windows end, and refuses those keys without
 * asking again: a block learnt here is one the database held, so the
 * fast path never lets through what the shared count would refuse, and
 * at worst refuses a key another host has since forgiven, until the
 * window ends.  A failure of the database while charging refuses the
 * attempt as unavailable (503): never through unchecked.
 *
 * The key is ratelimit.h's (rl_key(): an IPv6 address by its /64), or a
 * user id as it is.  Event-loop only.
 */
#ifndef WARDEN_ADDR_LIMIT_H
#define WARDEN_ADDR_LIMIT_H

#include <stdint.h>

struct front;
struct http_req;
struct ratelimit;

#define ADDR_LIMIT_LOGIN	"login"
#define ADDR_LIMIT_REGISTER	"register"
#define ADDR_LIMIT_RESET	"reset"
#define ADDR_LIMIT_EMAIL	"email"

enum addr_verdict {
	ADDR_PASS,		/* counted: go on, forgive on success */
	ADDR_BLOCKED,		/* over the limit: 429, Retry-After retry */
	ADDR_UNAVAILABLE,	/* the count failed: 503, Retry-After retry */
};

typedef void	addr_limit_cb(enum addr_verdict v, unsigned int retry,
		    void *arg);

/*
 * Charges one attempt of key under scope, with rl's limit and window,
 * and calls cb exactly once: later, with the shared count's answer, or
 * before returning when this host already knows key is blocked or
 * nothing could be asked (ADDR_UNAVAILABLE).  A key that rl_key() does
 * not take (longer than any address) is never tracked: ADDR_PASS.
 */
void	addr_limit_charge(struct front *f, struct ratelimit *rl,
	    const char *scope, const char *key, addr_limit_cb *cb, void *arg);

/* Takes back one attempt of key under scope (success), here and in the
 * shared count; the request does not wait for it. */
void	addr_limit_forgive(struct front *f, struct ratelimit *rl,
	    const char *scope, const char *key);

/* Answers r for a verdict other than ADDR_PASS: 429 with refusal, or
 * 503; both with Retry-After retry. */
void	addr_limit_refuse(struct http_req *r, enum addr_verdict v,
	    unsigned int retry, const char *refusal);

#endif
