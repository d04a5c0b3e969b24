/*
 * The privileged spawner (daemon/hc/spawner.c) with a stand-in for the hasher:
 * a script that greets on fd 3 and then waits for its peer to close.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "hc/spawner.h"

static char	script[] = "/tmp/warden-spawner-XXXXXX";

static int
setup(void **state)
{
	static const char body[] =
	    "#!/bin/sh\n"
	    "# A stand-in hasher: greet the front, exit when it closes.\n"
	    "printf 'hi\\n' >&3\n"
	    "read -r _ <&3\n";
	int	 fd = mkstemp(script);

	if (fd == -1 || write(fd, body, sizeof(body) - 1) !=
	    (ssize_t)sizeof(body) - 1 || fchmod(fd, 0700) == -1)
		return -1;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	unlink(script);
	return 0;
}

static void
expect_greeting(int fd)
{
	char	 buf[8] = "";

	assert_int_equal(read(fd, buf, 3), 3);
	assert_memory_equal(buf, "hi\n", 3);
}

static void
spawn_hands_over_a_socket_to_a_child_of_the_helper(void **state)
{
	struct spawner *s = spawner_start(script, NULL);
	pid_t	 pid = 123;
	int	 fd;

	assert_non_null(s);
	fd = spawner_spawn(s, &pid);
	assert_true(fd >= 0);
	assert_int_equal(pid, 0);	/* not wardend's child */
	expect_greeting(fd);
	close(fd);
	spawner_stop(s);		/* returns: the helper has exited */
}

static void
helper_refuses_past_the_cap_until_one_exits(void **state)
{
	struct spawner *s = spawner_start(script, NULL);
	int	 fds[SPAWNER_MAX_HASHERS], fd = -1;
	pid_t	 pid;

	assert_non_null(s);
	for (int i = 0; i < SPAWNER_MAX_HASHERS; i++) {
		fds[i] = spawner_spawn(s, &pid);
		assert_true(fds[i] >= 0);
		expect_greeting(fds[i]);
	}
	assert_int_equal(spawner_spawn(s, &pid), -1);

	/* Closing one ends that stand-in; the helper reaps it when asked
	 * next, so a retry (bounded) finds room again. */
	close(fds[0]);
	for (int tries = 0; tries < 1000 && fd < 0; tries++) {	/* 10 s */
		struct timespec ms10 = { 0, 10 * 1000 * 1000 };

		nanosleep(&ms10, NULL);
		fd = spawner_spawn(s, &pid);
	}
	assert_true(fd >= 0);
	expect_greeting(fd);
	close(fd);
	for (int i = 1; i < SPAWNER_MAX_HASHERS; i++)
		close(fds[i]);
	spawner_stop(s);
}

static void
missing_binary_is_refused_not_fatal(void **state)
{
	struct spawner *s = spawner_start("/nonexistent/warden-hasher", NULL);
	pid_t	 pid;
	int	 fd;

	assert_non_null(s);
	/* The exec fails in the grandchild; the socket is handed over and
	 * reads EOF at once. */
	fd = spawner_spawn(s, &pid);
	if (fd >= 0) {
		char c;

		assert_int_equal(read(fd, &c, 1), 0);
		close(fd);
	}
	spawner_stop(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spawn_hands_over_a_socket_to_a_child_of_the_helper),
		cmocka_unit_test(helper_refuses_past_the_cap_until_one_exits),
		cmocka_unit_test(missing_binary_is_refused_not_fatal),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
