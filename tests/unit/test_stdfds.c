/*
 * common/stdfds.c: closed standard descriptors become /dev/null, open ones
 * are left alone.  Each case runs in a child, which may close its own 0-2
 * without disturbing cmocka's output; the child's exit status is the
 * verdict.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "stdfds.h"

enum { OK = 0, WRONG = 10, BROKEN = 20 };

typedef int case_fn(void);

static int
run_child(case_fn *fn)
{
	int status;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == 0)
		_exit(fn());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static bool
is_devnull(int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat("/dev/null", &b) == 0 &&
	    S_ISCHR(a.st_mode) && a.st_rdev == b.st_rdev;
}

static bool
is_fifo(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* A pipe on descriptors above 2, whatever this process was started with:
 * dup2() onto 0-2 followed by close() must never close what it made. */
static int
high_pipe(int p[2])
{
	int lo[2];

	if (pipe(lo) == -1)
		return -1;
	p[0] = fcntl(lo[0], F_DUPFD, 10);
	p[1] = fcntl(lo[1], F_DUPFD, 10);
	close(lo[0]);
	close(lo[1]);
	return p[0] == -1 || p[1] == -1 ? -1 : 0;
}

/* The descriptor open() would give next. */
static int
lowest_free(void)
{
	int fd = open("/dev/null", O_RDONLY);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* Every one closed: all three come back as /dev/null, read-write. */
static int
case_all_closed(void)
{
	close(0);
	close(1);
	close(2);
	if (stdfds_ensure() == -1)
		return BROKEN;
	if (!is_devnull(0) || !is_devnull(1) || !is_devnull(2))
		return WRONG;
	if ((fcntl(1, F_GETFL) & O_ACCMODE) != O_RDWR)
		return WRONG;
	return OK;
}

/* Only stdin closed: it is filled, and stdout/stderr are untouched. */
static int
case_stdin_closed(void)
{
	int p[2];

	if (high_pipe(p) == -1 || dup2(p[1], 1) == -1 || dup2(p[1], 2) == -1)
		return BROKEN;
	close(p[0]);
	close(p[1]);
	close(0);
	if (stdfds_ensure() == -1)
		return BROKEN;
	if (!is_devnull(0) || !is_fifo(1) || !is_fifo(2))
		return WRONG;
	return OK;
}

/* A hole in the middle (stderr closed) is filled, nothing else moves. */
static int
case_stderr_closed(void)
{
	int p[2];

	if (high_pipe(p) == -1 || dup2(p[0], 0) == -1 || dup2(p[1], 1) == -1)
		return BROKEN;
	close(p[0]);
	close(p[1]);
	close(2);
	if (stdfds_ensure() == -1)
		return BROKEN;
	if (!is_fifo(0) || !is_fifo(1) || !is_devnull(2))
		return WRONG;
	return OK;
}

/* All open: nothing changes and no descriptor is left behind. */
static int
case_all_open(void)
{
	int p[2], before;

	if (high_pipe(p) == -1 || dup2(p[0], 0) == -1 || dup2(p[1], 1) == -1 ||
	    dup2(p[1], 2) == -1)
		return BROKEN;
	close(p[0]);
	close(p[1]);
	before = lowest_free();
	if (stdfds_ensure() == -1)
		return BROKEN;
	if (!is_fifo(0) || !is_fifo(1) || !is_fifo(2))
		return WRONG;
	if (lowest_free() != before)
		return WRONG;	/* a /dev/null left open */
	return OK;
}

static void
test_all_closed(void **state)
{
	(void)state;
	assert_int_equal(run_child(case_all_closed), OK);
}

static void
test_stdin_closed(void **state)
{
	(void)state;
	assert_int_equal(run_child(case_stdin_closed), OK);
}

static void
test_stderr_closed(void **state)
{
	(void)state;
	assert_int_equal(run_child(case_stderr_closed), OK);
}

static void
test_all_open(void **state)
{
	(void)state;
	assert_int_equal(run_child(case_all_open), OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_closed),
		cmocka_unit_test(test_stdin_closed),
		cmocka_unit_test(test_stderr_closed),
		cmocka_unit_test(test_all_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
