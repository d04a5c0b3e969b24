/*
 * hasher/workers.c: the bounded queue refuses when full, every queued item
 * runs exactly once, stop drains, the thread count follows the CPUs
 * when asked for 0, and the threads run at a lower CPU priority.
 */
#define _GNU_SOURCE	/* gettid */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/resource.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workers.h"

struct gate {
	pthread_mutex_t	lock;
	pthread_cond_t	cv;
	bool		open;
	unsigned int	entered;	/* items that started */
	unsigned int	ran[64];	/* runs per item */
};

static struct gate gate = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, { 0 }
};

static void
gate_reset(bool open)
{
	pthread_mutex_lock(&gate.lock);
	gate.open = open;
	gate.entered = 0;
	memset(gate.ran, 0, sizeof(gate.ran));
	pthread_mutex_unlock(&gate.lock);
}

/* Counts the item, then waits for the gate. */
static void
work(void *item, void *arg)
{
	uintptr_t i = (uintptr_t)item;

	(void)arg;
	pthread_mutex_lock(&gate.lock);
	gate.entered++;
	gate.ran[i]++;
	pthread_cond_broadcast(&gate.cv);
	while (!gate.open)
		pthread_cond_wait(&gate.cv, &gate.lock);
	pthread_mutex_unlock(&gate.lock);
}

static void
wait_entered(unsigned int n)
{
	pthread_mutex_lock(&gate.lock);
	while (gate.entered < n)
		pthread_cond_wait(&gate.cv, &gate.lock);
	pthread_mutex_unlock(&gate.lock);
}

static void
open_gate(void)
{
	pthread_mutex_lock(&gate.lock);
	gate.open = true;
	pthread_cond_broadcast(&gate.cv);
	pthread_mutex_unlock(&gate.lock);
}

static void
test_full_queue_refuses(void **state)
{
	struct workers *w;
	uintptr_t i;

	(void)state;
	gate_reset(false);
	w = workers_start(2, 3, work, NULL);
	assert_non_null(w);
	assert_int_equal(workers_count(w), 2);
	/* Two run (and block), three wait, the sixth is refused. */
	assert_int_equal(workers_submit(w, (void *)0), 0);
	assert_int_equal(workers_submit(w, (void *)1), 0);
	wait_entered(2);
	for (i = 2; i < 5; i++)
		assert_int_equal(workers_submit(w, (void *)i), 0);
	assert_int_equal(workers_queued(w), 3);
	errno = 0;
	assert_int_equal(workers_submit(w, (void *)5), -1);
	assert_int_equal(errno, EBUSY);
	open_gate();
	workers_stop(w);	/* drains */
	for (i = 0; i < 5; i++)
		assert_int_equal(gate.ran[i], 1);
	assert_int_equal(gate.ran[5], 0);
}

static void
test_stop_drains(void **state)
{
	struct workers *w;
	uintptr_t i;

	(void)state;
	gate_reset(true);
	w = workers_start(3, 64, work, NULL);
	assert_non_null(w);
	for (i = 0; i < 64; i++)
		assert_int_equal(workers_submit(w, (void *)i), 0);
	workers_stop(w);
	for (i = 0; i < 64; i++)
		assert_int_equal(gate.ran[i], 1);
}

static void
test_default_count(void **state)
{
	struct workers *w;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	(void)state;
	gate_reset(true);
	w = workers_start(0, 1, work, NULL);
	assert_non_null(w);
	assert_int_equal(workers_count(w), n < 1 ? 1 : n > WORKERS_MAX ?
	    WORKERS_MAX : n);
	workers_stop(w);
	workers_stop(NULL);
}

/* What a worker thread's own scheduling looks like from inside a job. */
static struct {
	int	policy;
	int	nice;
} seen;

static void
record_priority(void *item, void *arg)
{
	(void)item;
	(void)arg;
	seen.policy = sched_getscheduler(0);
	errno = 0;
	seen.nice = getpriority(PRIO_PROCESS, (id_t)gettid());
}

static void
test_workers_run_at_lower_priority(void **state)
{
	struct workers *w;

	(void)state;
	seen.policy = -1;
	seen.nice = 0;
	w = workers_start(1, 1, record_priority, NULL);
	assert_non_null(w);
	assert_int_equal(workers_submit(w, (void *)1), 0);
	workers_stop(w);	/* drains: the job has run */
	assert_int_equal(seen.policy, SCHED_IDLE);
	assert_true(seen.nice >= WORKERS_NICE);
	/* The thread that started the pool keeps its own. */
	assert_int_equal(sched_getscheduler(0), SCHED_OTHER);
}

static void
test_bad_arguments(void **state)
{
	(void)state;
	assert_null(workers_start(1, 0, work, NULL));
	assert_null(workers_start(1, 1, NULL, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_queue_refuses),
		cmocka_unit_test(test_workers_run_at_lower_priority),
		cmocka_unit_test(test_stop_drains),
		cmocka_unit_test(test_default_count),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
