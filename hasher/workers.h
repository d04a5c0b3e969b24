/*
 * The hasher's worker pool: a fixed set of threads sharing one bounded
 * queue.  Slow requests (Argon2id hashing and verification) run here so
 * that the I/O thread keeps answering fast ones.  Threads must be started
 * before the seccomp filter is loaded (creating one needs clone(2)); once
 * running, the pool makes no system call beyond futex and what the work
 * itself needs.  The threads run at a lower CPU priority than the rest of
 * the machine (SCHED_IDLE, nice WORKERS_NICE): hashing takes what the
 * reads leave.
 */
#ifndef WARDEN_HASHER_WORKERS_H
#define WARDEN_HASHER_WORKERS_H

#include <stddef.h>

#define WORKERS_MAX	256	/* most threads a pool starts */
#define WORKERS_NICE	10	/* the threads' nice value */

struct workers;

/* Runs one queued item on a worker thread; arg is the one given at start. */
typedef void workers_fn(void *item, void *arg);

/*
 * Starts nthreads threads (0: the number of online CPUs, capped at
 * WORKERS_MAX) sharing a queue of at most qmax items (qmax >= 1); each
 * item is handed to fn(item, arg) on one of them.  The threads block every
 * signal.  Returns once every thread has started and waits for work (so
 * that a filter loaded next meets no thread still starting up); returns
 * the pool, or NULL (errno set) when memory or a thread
 * could not be had; nothing is left running then.
 */
struct workers	*workers_start(unsigned int nthreads, size_t qmax,
		    workers_fn *fn, void *arg);

/*
 * Queues item for a worker.  Returns 0, or -1 when the queue already
 * holds qmax items (errno EBUSY) or the pool is stopping (errno
 * ESHUTDOWN); the caller still owns item then.
 */
int		 workers_submit(struct workers *w, void *item);

/* Threads that could not lower their priority (0 normally; the caller
 * logs it). */
unsigned int	 workers_not_lowered(struct workers *w);

/* Threads the pool runs. */
unsigned int	 workers_count(const struct workers *w);

/* Items waiting in the queue (not counting those being run). */
size_t		 workers_queued(struct workers *w);

/*
 * Refuses new items, lets the threads run every item already queued,
 * joins them and frees w.  NULL is fine.
 */
void		 workers_stop(struct workers *w);

#endif
