/*
 * The periodic purge of expired rows (store/purge.h), on a timer: every
 * purge_interval, one batch per kind after another, one statement at a
 * time, so that it never holds more than one of the pool's connections.
 * A kind whose batch came back full goes again at once, up to
 * PURGER_MAX_BATCHES per round, so that a backlog drains over a few rounds
 * without crowding requests out.  Every host runs it; SKIP LOCKED shares
 * the rows among them.  A failed batch is logged and tried next round.
 */
#ifndef WARDEN_PURGER_H
#define WARDEN_PURGER_H

#include <stdint.h>

#include "store/purge.h"

struct db_pool;
struct event_base;
struct purger;

#define PURGER_MAX_BATCHES	100	/* per kind and round */

/* A purger on base, not yet running; NULL when memory runs out. */
struct purger	*purger_new(struct event_base *base);

/*
 * Purges now, then every interval seconds (> 0), on pool (which must
 * outlive it until purger_stop()), audit events older than audit_keep
 * seconds (0: kept forever).  0 or -1.
 */
int		 purger_start(struct purger *p, struct db_pool *pool,
		    int64_t interval, int64_t audit_keep);

/* New settings (SIGHUP), from the next round on. */
void		 purger_configure(struct purger *p, int64_t interval,
		    int64_t audit_keep);

/* Stops and drops a batch in flight; before the pool is freed.  NULL is
 * fine. */
void		 purger_stop(struct purger *p);

void		 purger_free(struct purger *p);

/* Rows purged from kind k's table since start. */
uint64_t	 purger_deleted(const struct purger *p, enum purge_kind k);

#endif
