/*
 * Several front processes (front_processes): the read paths use every
 * core.  wardend binds its listeners, then forks the other fronts; each
 * process runs the whole front from there on (its own event loop, hasher
 * connection, database connections, caches and LISTEN connections),
 * accepting on the same listening sockets, which the kernel shares out.
 * The first process, the one that was started, also tells systemd, runs
 * the mail worker, the census and the purge, and supervises the others:
 *
 *  - a stop or reload signal it gets goes on to every other front;
 *  - a front that ends while nobody asked it to stops them all, and the
 *    first exits with an error, for its supervisor (systemd) to restart
 *    the whole service: a front cannot be forked again from a running one;
 *  - every other front gets SIGTERM when the first dies (PR_SET_PDEATHSIG).
 *
 * Processes, not threads: each front is exactly the single-process front,
 * with nothing shared but the counters of /metrics (api/metrics.h), so
 * nothing on the hot path takes a lock or needs an audit for threads.
 * See docs/performance.md.
 */
#ifndef WARDEN_FRONTS_H
#define WARDEN_FRONTS_H

#include <stdbool.h>

struct event_base;
struct fronts;

#define FRONTS_MAX	64

/* The number of processes front_processes asks for (0: online CPUs). */
unsigned int	 fronts_wanted(unsigned int front_processes);

/*
 * Forks n - 1 copies of this process (n <= 1: none).  Returns in each
 * process, with *index 0 in the first and 1..n-1 in the others; NULL
 * (errno set, nothing forked) on failure.  Call after the listeners are
 * bound and before any connection or thread is opened; each copy must
 * call event_reinit() on an event base made before.
 */
struct fronts	*fronts_fork(unsigned int n, unsigned int *index);

/* The first process: calls lost(arg) from base when another front ends
 * while fronts_stop() was not called.  0, or -1 when it cannot watch. */
int		 fronts_watch(struct fronts *fs, struct event_base *base,
		    void (*lost)(void *), void *arg);

/* The first process: sends sig to every other front still running. */
void		 fronts_signal(struct fronts *fs, int sig);

/* The first process: the others are asked to stop (SIGTERM); their
 * ends are expected from now on. */
void		 fronts_stop(struct fronts *fs);

/* The first process: waits until every other front has ended.  True when
 * all ended on their own with status 0. */
bool		 fronts_wait(struct fronts *fs);

/* Processes in all (1 without fronts). */
unsigned int	 fronts_count(const struct fronts *fs);

void		 fronts_free(struct fronts *fs);

#endif
