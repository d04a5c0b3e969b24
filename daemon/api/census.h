/*
 * Counts that /metrics shows and only the database knows, refreshed by a
 * timer: today the number of imported password hashes still waiting for
 * their user's first login (warden_legacy_password_hashes), which falls
 * to zero as a migration completes.  Each count is one query on the
 * partial index of migration 0007, once a minute.
 */
#ifndef WARDEN_CENSUS_H
#define WARDEN_CENSUS_H

#include <stdint.h>

struct census;
struct db_pool;
struct event_base;

#define CENSUS_PERIOD	60	/* seconds between counts */

/* A census on base, not yet counting; NULL when memory runs out. */
struct census	*census_new(struct event_base *base);

/* Counts now, then every CENSUS_PERIOD seconds, on pool (which must
 * outlive it until census_stop()).  0 or -1. */
int		 census_start(struct census *c, struct db_pool *pool);

/* Stops counting and drops a count in flight; before the pool is freed.
 * NULL is fine. */
void		 census_stop(struct census *c);

void		 census_free(struct census *c);

/* The legacy hashes at the last count, or -1 before the first. */
int64_t		 census_legacy_hashes(const struct census *c);

#endif
