/*
 * sdnotify: real datagrams to a real AF_UNIX socket, by path and in the
 * abstract namespace, and the watchdog variables.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdnotify.h"

struct peer {
	int	 fd;
	char	 path[108];	/* as $NOTIFY_SOCKET spells it */
	char	 dir[64];
};

/* A bound datagram socket: in a fresh directory, or abstract. */
static void
peer_open(struct peer *p, bool abstract)
{
	struct sockaddr_un sun;
	socklen_t len;
	int	 n;

	memset(p, 0, sizeof(*p));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	p->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(p->fd >= 0);
	if (abstract) {
		n = snprintf(p->path, sizeof(p->path), "@warden-test-%ld-%d",
		    (long)getpid(), rand());
		assert_true(n > 0 && (size_t)n < sizeof(p->path));
		memcpy(sun.sun_path + 1, p->path + 1, (size_t)n - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    (size_t)n);
	} else {
		snprintf(p->dir, sizeof(p->dir), "/tmp/sdnotify-XXXXXX");
		assert_non_null(mkdtemp(p->dir));
		n = snprintf(p->path, sizeof(p->path), "%s/notify", p->dir);
		assert_true(n > 0 && (size_t)n < sizeof(p->path));
		memcpy(sun.sun_path, p->path, (size_t)n + 1);
		len = sizeof(sun);
	}
	assert_int_equal(bind(p->fd, (struct sockaddr *)&sun, len), 0);
}

static void
peer_close(struct peer *p)
{
	close(p->fd);
	if (p->dir[0] != '\0') {
		unlink(p->path);
		rmdir(p->dir);
	}
}

/* The next datagram, NUL-terminated; fails the test when none waits. */
static void
peer_recv(struct peer *p, char *buf, size_t len)
{
	ssize_t	 n = recv(p->fd, buf, len - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
}

static void
peer_expect_nothing(struct peer *p)
{
	char	 buf[16];

	assert_int_equal(recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

static void
sends_to_a_path_socket(void **state)
{
	struct sdnotify n;
	struct peer p;
	char	 err[256], buf[512];

	peer_open(&p, false);
	assert_int_equal(sdnotify_open(&n, p.path, err, sizeof(err)), 0);
	assert_true(sdnotify_enabled(&n));
	assert_int_equal(sdnotify_send(&n, "READY=1\nSTATUS=serving on %d",
	    2), 0);
	peer_recv(&p, buf, sizeof(buf));
	assert_string_equal(buf, "READY=1\nSTATUS=serving on 2");
	assert_int_equal(sdnotify_send(&n, "STOPPING=1"), 0);
	peer_recv(&p, buf, sizeof(buf));
	assert_string_equal(buf, "STOPPING=1");
	peer_expect_nothing(&p);
	sdnotify_close(&n);
	assert_false(sdnotify_enabled(&n));
	peer_close(&p);
}

static void
sends_to_an_abstract_socket(void **state)
{
	struct sdnotify n;
	struct peer p;
	char	 err[256], buf[512];

	peer_open(&p, true);
	assert_int_equal(sdnotify_open(&n, p.path, err, sizeof(err)), 0);
	assert_int_equal(sdnotify_send(&n, "WATCHDOG=1"), 0);
	peer_recv(&p, buf, sizeof(buf));
	assert_string_equal(buf, "WATCHDOG=1");
	sdnotify_close(&n);
	peer_close(&p);
}

static void
reloading_carries_the_monotonic_clock(void **state)
{
	struct sdnotify n;
	struct peer p;
	struct timespec t0, t1;
	unsigned long long usec, lo, hi;
	char	 err[256], buf[512], status[64];

	peer_open(&p, false);
	assert_int_equal(sdnotify_open(&n, p.path, err, sizeof(err)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sdnotify_reloading(&n, "reloading"), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	peer_recv(&p, buf, sizeof(buf));
	assert_int_equal(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu\n"
	    "STATUS=%63s", &usec, status), 2);
	assert_string_equal(status, "reloading");
	lo = (unsigned long long)t0.tv_sec * 1000000 +
	    (unsigned long long)t0.tv_nsec / 1000;
	hi = (unsigned long long)t1.tv_sec * 1000000 +
	    (unsigned long long)t1.tv_nsec / 1000;
	assert_true(usec >= lo && usec <= hi);
	sdnotify_close(&n);
	peer_close(&p);
}

static void
disabled_without_a_socket(void **state)
{
	struct sdnotify n;
	char	 err[256];

	assert_int_equal(sdnotify_open(&n, NULL, err, sizeof(err)), 0);
	assert_false(sdnotify_enabled(&n));
	assert_int_equal(sdnotify_send(&n, "READY=1"), 0);
	assert_int_equal(sdnotify_reloading(&n, "x"), 0);
	assert_int_equal(sdnotify_open(&n, "", err, sizeof(err)), 0);
	assert_false(sdnotify_enabled(&n));
	sdnotify_close(&n);
}

static void
refuses_bad_addresses(void **state)
{
	struct sdnotify n;
	char	 err[256], longp[200];

	assert_int_equal(sdnotify_open(&n, "relative/path", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "relative/path"));
	assert_false(sdnotify_enabled(&n));
	assert_int_equal(sdnotify_open(&n, "vsock:2:1234", err,
	    sizeof(err)), -1);
	assert_int_equal(sdnotify_open(&n, "@", err, sizeof(err)), -1);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(sdnotify_open(&n, longp, err, sizeof(err)), -1);
	assert_false(sdnotify_enabled(&n));
}

static void
send_fails_when_nobody_listens(void **state)
{
	struct sdnotify n;
	char	 err[256];

	assert_int_equal(sdnotify_open(&n, "/nonexistent/warden/notify", err,
	    sizeof(err)), 0);
	assert_int_equal(sdnotify_send(&n, "READY=1"), -1);
	assert_int_equal(errno, ENOENT);
	sdnotify_close(&n);
}

static void
refuses_an_oversized_message(void **state)
{
	struct sdnotify n;
	struct peer p;
	char	 err[256], *big;

	peer_open(&p, false);
	assert_int_equal(sdnotify_open(&n, p.path, err, sizeof(err)), 0);
	big = malloc(SDNOTIFY_MSG_MAX + 1);
	assert_non_null(big);
	memset(big, 'x', SDNOTIFY_MSG_MAX);
	big[SDNOTIFY_MSG_MAX] = '\0';
	assert_int_equal(sdnotify_send(&n, "STATUS=%s", big), -1);
	assert_int_equal(errno, EMSGSIZE);
	peer_expect_nothing(&p);
	free(big);
	sdnotify_close(&n);
	peer_close(&p);
}

static void
watchdog_variables(void **state)
{
	uint64_t usec = 99;
	char	 err[256];

	assert_int_equal(sdnotify_watchdog(NULL, NULL, 42, &usec, err,
	    sizeof(err)), 0);
	assert_int_equal(usec, 0);
	assert_int_equal(sdnotify_watchdog("30000000", NULL, 42, &usec, err,
	    sizeof(err)), 1);
	assert_int_equal(usec, 30000000);
	assert_int_equal(sdnotify_watchdog("30000000", "42", 42, &usec, err,
	    sizeof(err)), 1);
	assert_int_equal(usec, 30000000);
	assert_int_equal(sdnotify_watchdog("30000000", "", 42, &usec, err,
	    sizeof(err)), 1);
	/* Meant for another process (our parent, a wrapper). */
	assert_int_equal(sdnotify_watchdog("30000000", "41", 42, &usec, err,
	    sizeof(err)), 0);
	assert_int_equal(usec, 0);
	assert_int_equal(sdnotify_watchdog("0", NULL, 42, &usec, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "WATCHDOG_USEC"));
	assert_int_equal(sdnotify_watchdog("-5", NULL, 42, &usec, err,
	    sizeof(err)), -1);
	assert_int_equal(sdnotify_watchdog("10s", NULL, 42, &usec, err,
	    sizeof(err)), -1);
	assert_int_equal(sdnotify_watchdog("1000", "x", 42, &usec, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "WATCHDOG_PID"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sends_to_a_path_socket),
		cmocka_unit_test(sends_to_an_abstract_socket),
		cmocka_unit_test(reloading_carries_the_monotonic_clock),
		cmocka_unit_test(disabled_without_a_socket),
		cmocka_unit_test(refuses_bad_addresses),
		cmocka_unit_test(send_fails_when_nobody_listens),
		cmocka_unit_test(refuses_an_oversized_message),
		cmocka_unit_test(watchdog_variables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
