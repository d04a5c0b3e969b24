/*
 * Per-client-address login throttling: failures are counted in a fixed
 * window per address (an IPv6 address by its /64) (addr_login_limit per addr_login_window); once an
 * address reaches the limit it is refused (429 with Retry-After) until its
 * window ends.  In memory, bounded: when the table is full, expired
 * entries are swept and, failing that, the oldest window is dropped.
 * Event-loop only; not thread-safe.
 */
#ifndef WARDEN_RATELIMIT_H
#define WARDEN_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RL_ADDR_MAX		64	/* longest address string kept */
#define RL_DEFAULT_ENTRIES	65536

struct ratelimit;

/*
 * Writes the key an address is counted under: an IPv6 address by its
 * /64, since one client commonly holds a whole /64 and could otherwise
 * step through it; anything else (IPv4, "unix") as it is.  Returns -1
 * for a string longer than any address, which is never tracked.
 */
int	rl_key(const char *addr, char key[RL_ADDR_MAX + 1]);

/* A table allowing limit failures per window seconds, tracking at most
 * max_entries addresses.  NULL when memory runs out. */
struct ratelimit *rl_new(unsigned int limit, int64_t window, size_t max_entries);

/* Changes limit and window (SIGHUP); counts already made are kept. */
void	rl_configure(struct ratelimit *rl, unsigned int limit, int64_t window);

/*
 * True when addr has used up its failures at time now; *retry_after (may
 * be NULL) then holds the seconds until its window ends (at least 1).
 */
bool	rl_blocked(struct ratelimit *rl, const char *addr, time_t now,
	    int64_t *retry_after);

/*
 * Marks addr as having used up its failures until retry_after seconds
 * from now (at most a window): what a shared count (api/addr_limit.h)
 * answered, so that this host refuses addr without asking again.
 */
void	rl_block(struct ratelimit *rl, const char *addr, time_t now,
	    int64_t retry_after);

/* The limit and the window (seconds) of rl, as configured. */
unsigned int rl_limit(const struct ratelimit *rl);
int64_t	rl_window(const struct ratelimit *rl);

/* Counts one failure for addr at time now. */
void	rl_fail(struct ratelimit *rl, const char *addr, time_t now);

/*
 * Takes back one failure of addr (none below zero).  Callers count an
 * attempt as failed when it starts and forgive it when it succeeds, so
 * that attempts running in parallel cannot all pass the check before any
 * of them is counted.
 */
void	rl_forgive(struct ratelimit *rl, const char *addr);

/* The failures counted for addr in its current window at time now. */
unsigned int rl_failures(struct ratelimit *rl, const char *addr, time_t now);

/* Addresses tracked now. */
size_t	rl_count(const struct ratelimit *rl);

void	rl_free(struct ratelimit *rl);

#endif
