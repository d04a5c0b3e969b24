/*
 * Each client address's share of the hasher queue.  Hash and verify
 * requests wait in one queue of cfg.hasher_queue slots that every login
 * needs; a client flooding registrations or logins could fill it and
 * starve everyone else.  So one address (an IPv6 address by its /64, as
 * ratelimit.h keys it) may have at most hshare_limit(hasher_queue)
 * requests at the hasher at once; past that it is answered 429 with
 * Retry-After at once, and the queue keeps room for the others.
 *
 * A handler takes a slot right before hc_hash()/hc_verify() and gives it
 * back first thing in their callback, or at once when the request could
 * not be made.  An address is tracked only while it holds slots, so a
 * zeroed struct hshare is an empty one and an idle one holds no memory.
 * Event-loop only; not thread-safe.
 */
#ifndef WARDEN_HASHER_SHARE_H
#define WARDEN_HASHER_SHARE_H

#include <stdbool.h>
#include <stddef.h>

#include <bsd/sys/tree.h>

#include "ratelimit.h"

#define HSHARE_MIN	2	/* slots an address always gets */
#define HSHARE_DIVISOR	4	/* else this part of the queue */

struct hshare_entry;
RB_HEAD(hshare_tree, hshare_entry);

/* The slots held, by address.  Zeroed: empty. */
struct hshare {
	struct hshare_tree	tree;
	size_t			count;	/* addresses holding slots */
};

/* One request's slot: taken or not, and the address it counts against. */
struct hshare_slot {
	bool		held;
	char		key[RL_ADDR_MAX + 1];
};

/* The slots one address may hold of a queue of queue slots:
 * max(HSHARE_MIN, queue / HSHARE_DIVISOR). */
unsigned int	hshare_limit(unsigned int queue);

/*
 * Takes a slot for addr into *slot when addr holds fewer than limit;
 * returns false (and *slot not held) when it holds them all already.  An
 * address that cannot be keyed (longer than any address) is never held
 * back, as ratelimit.h never tracks one.  Returns true, not held, also
 * when memory runs out: the hasher queue's own bound still holds.
 */
bool	hshare_take(struct hshare *hs, struct hshare_slot *slot,
	    const char *addr, unsigned int limit);

/* Gives back *slot's slot, if it holds one; then it holds none.  Safe
 * to call twice. */
void	hshare_give(struct hshare *hs, struct hshare_slot *slot);

/* The slots addr holds now. */
unsigned int	hshare_held(const struct hshare *hs, const char *addr);

#endif
