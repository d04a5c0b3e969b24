/*
 * A fixed pool of threads over a ring buffer guarded by one mutex and two
 * condition variables.  Nothing here allocates once the pool runs.
 */
#define _GNU_SOURCE	/* gettid */
#include <sys/resource.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "workers.h"

struct workers {
	pthread_mutex_t	 lock;
	pthread_cond_t	 nonempty;	/* an item was queued, or stopping */
	pthread_cond_t	 started_cv;	/* a thread reached its loop */
	unsigned int	 started;	/* threads in their loop */
	unsigned int	 not_lowered;	/* threads left at normal priority */
	void		**ring;
	size_t		 qmax;
	size_t		 head;		/* next item to run */
	size_t		 count;		/* items queued */
	bool		 stopping;
	workers_fn	*fn;
	void		*arg;
	pthread_t	*threads;
	unsigned int	 nthreads;	/* started */
};

/*
 * Hashing yields the CPU to everything else on the machine: SCHED_IDLE
 * (the lowest weight there is; any other thread that wakes up preempts
 * it at once) and, for a kernel that refuses it, a nice of WORKERS_NICE,
 * so that a login flood does not starve wardend's reads or PostgreSQL,
 * while an otherwise idle machine still hashes at full speed.  Both are
 * per thread on Linux, and need no privilege to lower.  (SCHED_BATCH
 * was measured too: reads waited up to a scheduler tick behind a hash.)
 */
static void
workers_lower_priority(struct workers *w)
{
	struct sched_param sp = { .sched_priority = 0 };
	bool lowered = true;

	if (sched_setscheduler(0, SCHED_IDLE, &sp) == -1)
		lowered = false;
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), WORKERS_NICE) == -1)
		lowered = false;
	if (!lowered) {
		pthread_mutex_lock(&w->lock);
		w->not_lowered++;
		pthread_mutex_unlock(&w->lock);
	}
}

static void *
workers_main(void *p)
{
	struct workers *w = p;
	void *item;

	workers_lower_priority(w);
	/* From here on the thread makes no start-up system call (robust
	 * list, rseq) that a filter loaded later would refuse. */
	pthread_mutex_lock(&w->lock);
	w->started++;
	pthread_cond_broadcast(&w->started_cv);
	pthread_mutex_unlock(&w->lock);

	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (w->count == 0 && !w->stopping)
			pthread_cond_wait(&w->nonempty, &w->lock);
		if (w->count == 0) {	/* stopping and drained */
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		item = w->ring[w->head];
		w->ring[w->head] = NULL;
		w->head = (w->head + 1) % w->qmax;
		w->count--;
		pthread_mutex_unlock(&w->lock);
		w->fn(item, w->arg);
	}
}

static unsigned int
workers_default_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	if (n > WORKERS_MAX)
		return WORKERS_MAX;
	return (unsigned int)n;
}

/* Stops and joins the threads started so far, then frees w. */
static void
workers_reap(struct workers *w)
{
	unsigned int i;

	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->nonempty);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	pthread_cond_destroy(&w->nonempty);
	pthread_cond_destroy(&w->started_cv);
	pthread_mutex_destroy(&w->lock);
	free(w->threads);
	free(w->ring);
	free(w);
}

struct workers *
workers_start(unsigned int nthreads, size_t qmax, workers_fn *fn, void *arg)
{
	struct workers *w;
	sigset_t all, old;
	unsigned int i;
	int error = 0;

	if (qmax == 0 || fn == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (nthreads == 0)
		nthreads = workers_default_count();
	if (nthreads > WORKERS_MAX)
		nthreads = WORKERS_MAX;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->ring = calloc(qmax, sizeof(*w->ring));
	w->threads = calloc(nthreads, sizeof(*w->threads));
	if (w->ring == NULL || w->threads == NULL) {
		free(w->ring);
		free(w->threads);
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	w->qmax = qmax;
	w->fn = fn;
	w->arg = arg;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->nonempty, NULL);
	pthread_cond_init(&w->started_cv, NULL);

	/* Signals belong to the I/O thread; workers inherit a full mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < nthreads; i++) {
		if ((error = pthread_create(&w->threads[i], NULL,
		    workers_main, w)) != 0)
			break;
		w->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		workers_reap(w);
		errno = error;
		return NULL;
	}
	/* Return only once every thread runs its loop: the caller loads
	 * the seccomp filter next. */
	pthread_mutex_lock(&w->lock);
	while (w->started < w->nthreads)
		pthread_cond_wait(&w->started_cv, &w->lock);
	pthread_mutex_unlock(&w->lock);
	return w;
}

int
workers_submit(struct workers *w, void *item)
{
	int rc = 0;

	pthread_mutex_lock(&w->lock);
	if (w->stopping) {
		errno = ESHUTDOWN;
		rc = -1;
	} else if (w->count == w->qmax) {
		errno = EBUSY;
		rc = -1;
	} else {
		w->ring[(w->head + w->count) % w->qmax] = item;
		w->count++;
		pthread_cond_signal(&w->nonempty);
	}
	pthread_mutex_unlock(&w->lock);
	return rc;
}

unsigned int
workers_count(const struct workers *w)
{
	return w->nthreads;
}

unsigned int
workers_not_lowered(struct workers *w)
{
	unsigned int n;

	pthread_mutex_lock(&w->lock);
	n = w->not_lowered;
	pthread_mutex_unlock(&w->lock);
	return n;
}

size_t
workers_queued(struct workers *w)
{
	size_t n;

	pthread_mutex_lock(&w->lock);
	n = w->count;
	pthread_mutex_unlock(&w->lock);
	return n;
}

void
workers_stop(struct workers *w)
{
	if (w != NULL)
		workers_reap(w);
}
