/*
 * listenfds: the parsing of LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES, and
 * listenfds_take() on real sockets placed at fd 3 and 4.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/listenfds.h"

static struct listenfds lf;	/* large: not on the stack */

static void
not_for_us(void **state)
{
	char	 err[256];

	assert_int_equal(listenfds_parse(NULL, NULL, NULL, 100, &lf, err,
	    sizeof(err)), 0);
	assert_int_equal(lf.n, 0);
	assert_int_equal(listenfds_parse("100", NULL, NULL, 100, &lf, err,
	    sizeof(err)), 0);
	assert_int_equal(lf.n, 0);
	assert_int_equal(listenfds_parse("", "2", NULL, 100, &lf, err,
	    sizeof(err)), 0);
	assert_int_equal(lf.n, 0);
	/* Another process's sockets (a wrapper that forked us). */
	assert_int_equal(listenfds_parse("99", "2", "a:b", 100, &lf, err,
	    sizeof(err)), 0);
	assert_int_equal(lf.n, 0);
}

static void
ours_with_and_without_names(void **state)
{
	char	 err[256];

	assert_int_equal(listenfds_parse("100", "2", NULL, 100, &lf, err,
	    sizeof(err)), 0);
	assert_int_equal(lf.n, 2);
	assert_string_equal(lf.names[0], "");
	assert_string_equal(lf.names[1], "");
	assert_int_equal(listenfds_fd(&lf, 0), 3);
	assert_int_equal(listenfds_fd(&lf, 1), 4);

	assert_int_equal(listenfds_parse("100", "3", "api:metrics:", 100, &lf,
	    err, sizeof(err)), 0);
	assert_int_equal(lf.n, 3);
	assert_string_equal(lf.names[0], "api");
	assert_string_equal(lf.names[1], "metrics");
	assert_string_equal(lf.names[2], "");

	assert_int_equal(listenfds_parse("100", "0", NULL, 100, &lf, err,
	    sizeof(err)), 0);
	assert_int_equal(lf.n, 0);
}

static void
bad_numbers(void **state)
{
	static const char *const bad_fds[] = {
		"-1", "65", "1000000000000", "2x", " 2", "+2", "0x2", "two",
	};
	static const char *const bad_pids[] = { "0", "-100", "abc", "100 " };
	char	 err[256];
	size_t	 i;

	for (i = 0; i < sizeof(bad_fds) / sizeof(bad_fds[0]); i++) {
		assert_int_equal(listenfds_parse("100", bad_fds[i], NULL, 100,
		    &lf, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "LISTEN_FDS"));
		assert_int_equal(lf.n, 0);
	}
	for (i = 0; i < sizeof(bad_pids) / sizeof(bad_pids[0]); i++) {
		assert_int_equal(listenfds_parse(bad_pids[i], "1", NULL, 100,
		    &lf, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "LISTEN_PID"));
		assert_int_equal(lf.n, 0);
	}
	assert_int_equal(listenfds_parse("100", "64", NULL, 100, &lf, err,
	    sizeof(err)), 0);
	assert_int_equal(lf.n, 64);
}

static void
bad_names(void **state)
{
	char	 err[256], longname[LISTENFDS_NAME_MAX + 10];

	assert_int_equal(listenfds_parse("100", "2", "one", 100, &lf, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "LISTEN_FDNAMES"));
	assert_int_equal(lf.n, 0);
	assert_int_equal(listenfds_parse("100", "1", "one:two", 100, &lf, err,
	    sizeof(err)), -1);
	assert_int_equal(lf.n, 0);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(listenfds_parse("100", "1", longname, 100, &lf, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
	longname[LISTENFDS_NAME_MAX] = '\0';
	assert_int_equal(listenfds_parse("100", "1", longname, 100, &lf, err,
	    sizeof(err)), 0);
	assert_int_equal(strlen(lf.names[0]), LISTENFDS_NAME_MAX);
}

/* A listening TCP socket on 127.0.0.1, moved to fd target. */
static void
listener_at(int target)
{
	struct sockaddr_in sin;
	int	 fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	if (fd != target) {
		assert_int_equal(dup2(fd, target), target);
		close(fd);
	}
}

static void
set_env(const char *fds, const char *names)
{
	char	 pid[32];

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	assert_int_equal(setenv("LISTEN_PID", pid, 1), 0);
	assert_int_equal(setenv("LISTEN_FDS", fds, 1), 0);
	if (names != NULL)
		assert_int_equal(setenv("LISTEN_FDNAMES", names, 1), 0);
	else
		unsetenv("LISTEN_FDNAMES");
}

static void
take_sets_cloexec_and_unsets(void **state)
{
	char	 err[256];

	listener_at(3);
	listener_at(4);
	assert_int_equal(fcntl(3, F_GETFD) & FD_CLOEXEC, 0);
	set_env("2", "api:metrics");
	assert_int_equal(listenfds_take(&lf, err, sizeof(err)), 0);
	assert_int_equal(lf.n, 2);
	assert_string_equal(lf.names[1], "metrics");
	assert_int_not_equal(fcntl(3, F_GETFD) & FD_CLOEXEC, 0);
	assert_int_not_equal(fcntl(4, F_GETFD) & FD_CLOEXEC, 0);
	assert_null(getenv("LISTEN_PID"));
	assert_null(getenv("LISTEN_FDS"));
	assert_null(getenv("LISTEN_FDNAMES"));
	close(3);
	close(4);
}

static void
take_refuses_what_is_not_a_listener(void **state)
{
	char	 err[256];
	int	 sv[2], p[2];

	/* A connected socket (Accept=yes) at fd 3. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(dup2(sv[0], 3), 3);
	set_env("1", NULL);
	assert_int_equal(listenfds_take(&lf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not listening"));
	assert_int_equal(lf.n, 0);
	assert_null(getenv("LISTEN_PID"));
	close(3);
	close(sv[0]);
	close(sv[1]);

	/* A pipe at fd 3. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[0], 3), 3);
	set_env("1", NULL);
	assert_int_equal(listenfds_take(&lf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a socket"));
	close(3);
	close(p[0]);
	close(p[1]);

	/* Nothing at fd 3. */
	set_env("1", NULL);
	assert_int_equal(listenfds_take(&lf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "fd 3"));

	/* Unset everywhere even when it was not for us. */
	assert_int_equal(setenv("LISTEN_PID", "1", 1), 0);
	assert_int_equal(setenv("LISTEN_FDS", "1", 1), 0);
	assert_int_equal(listenfds_take(&lf, err, sizeof(err)), 0);
	assert_int_equal(lf.n, 0);
	assert_null(getenv("LISTEN_FDS"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(not_for_us),
		cmocka_unit_test(ours_with_and_without_names),
		cmocka_unit_test(bad_numbers),
		cmocka_unit_test(bad_names),
		cmocka_unit_test(take_sets_cloexec_and_unsets),
		cmocka_unit_test(take_refuses_what_is_not_a_listener),
	};

	/* fd 3 and 4 are this test's own: nothing else may sit there. */
	close(3);
	close(4);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
