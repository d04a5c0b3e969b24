/*
 * Durations and deadlines on CLOCK_MONOTONIC.
 */
#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"

#define NSEC_PER_SEC	1000000000L
#define NSEC_PER_MSEC	1000000L

void
clock_now(struct timespec *ts)
{
	if (clock_gettime(CLOCK_MONOTONIC, ts) == -1) {
		/* Cannot happen on Linux; a zero time keeps callers sane. */
		ts->tv_sec = 0;
		ts->tv_nsec = 0;
	}
}

uint64_t
clock_now_usec(void)
{
	struct timespec ts;

	clock_now(&ts);
	return (uint64_t)ts.tv_sec * 1000000U + (uint64_t)ts.tv_nsec / 1000U;
}

double
clock_ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_now(&now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

void
clock_deadline(struct timespec *deadline, int ms)
{
	if (ms < 0)
		ms = 0;
	clock_now(deadline);
	deadline->tv_sec += ms / 1000;
	deadline->tv_nsec += (long)(ms % 1000) * NSEC_PER_MSEC;
	if (deadline->tv_nsec >= NSEC_PER_SEC) {
		deadline->tv_sec++;
		deadline->tv_nsec -= NSEC_PER_SEC;
	}
}

int
clock_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ns_left, ms;

	clock_now(&now);
	if (deadline->tv_sec - now.tv_sec > INT_MAX / 1000)
		return INT_MAX;
	ns_left = (long long)(deadline->tv_sec - now.tv_sec) * NSEC_PER_SEC +
	    (deadline->tv_nsec - now.tv_nsec);
	if (ns_left <= 0)
		return 0;
	ms = (ns_left + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}
