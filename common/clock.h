/*
 * The monotonic clock, for durations and deadlines: a request's latency,
 * how long a drain has run, how long a blocking wait may still take.
 * CLOCK_MONOTONIC only: wall-clock steps must not stretch or cut a
 * timeout.  Never fails (clock_gettime() on CLOCK_MONOTONIC cannot on
 * Linux; the vDSO answers it, so the hasher's seccomp filter allows it).
 */
#ifndef WARDEN_CLOCK_H
#define WARDEN_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Now, on CLOCK_MONOTONIC, into *ts. */
void	clock_now(struct timespec *ts);

/* Now, on CLOCK_MONOTONIC, in microseconds (sd_notify's MONOTONIC_USEC). */
uint64_t clock_now_usec(void);

/* Milliseconds from *start (a clock_now() time) to now, with the
 * fraction; negative only when start lies ahead. */
double	clock_ms_since(const struct timespec *start);

/* Sets *deadline to ms milliseconds from now; ms < 0 counts as 0. */
void	clock_deadline(struct timespec *deadline, int ms);

/*
 * Milliseconds left until *deadline, rounded up (a poll(2) timeout that
 * never wakes just before the deadline), 0 once it has passed, INT_MAX at
 * most.
 */
int	clock_ms_left(const struct timespec *deadline);

#endif
