/*
 * Attempts counted per client address, shared by every host on the
 * database (table address_limits, migration 0011).  A scope ("login",
 * "register", "reset", "email") allows limit attempts per key in a fixed
 * window of window seconds that starts at the first attempt counted
 * after the previous window ended.  An attempt is counted when it starts
 * and forgiven when it succeeds, so that attempts running in parallel,
 * on one host or on several, cannot all pass before any of them is
 * counted: each charge is one upsert, which takes the row's lock, so the
 * charges of one key take turns.  See store.h for the statuses and the
 * calling rules.
 */
#ifndef WARDEN_STORE_LIMITS_H
#define WARDEN_STORE_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

struct db_pool;

#define LIMITS_KEY_MAX		64	/* bytes of a key (RL_ADDR_MAX) */
#define LIMITS_PURGE_BATCH	8	/* expired rows deleted per charge */

/* passed: the attempt was counted and may go on; else refused, and
 * retry_after (at least 1) is the seconds until the window ends.  Both
 * meaningful only when st is STORE_OK. */
typedef void	limits_charged_cb(enum store_status st, bool passed,
		    int64_t retry_after, void *arg);

/*
 * Charges one attempt of key under scope: counted while the window holds
 * fewer than limit (passed), else refused and remembered as refused (the
 * count stays at limit + 1 at most).  Deletes up to LIMITS_PURGE_BATCH
 * expired rows of any other key on the way.  -1 for a key longer than
 * LIMITS_KEY_MAX, a limit or window out of range, or nothing sent.
 */
int	limits_charge(struct db_pool *pool, const char *scope, const char *key,
	    unsigned int limit, int64_t window, limits_charged_cb *cb,
	    void *arg);

/*
 * Takes back one attempt of key under scope in its current window (none
 * below zero, and one refused past the limit is not an attempt that
 * could succeed: the count drops to limit - 1 at most).  NOT_FOUND when
 * there was nothing to forgive.
 */
int	limits_forgive(struct db_pool *pool, const char *scope,
	    const char *key, unsigned int limit, store_done_cb *cb, void *arg);

#endif
