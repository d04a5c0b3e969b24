/*
 * common/unix_listen.c in a temporary directory: the socket's mode,
 * owner, flags and backlog; a stale socket replaced, a live one, a
 * regular file, a relative or overlong path refused; nothing left behind
 * on failure; and removal of our own socket only.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <cmocka.h>

#include "unix_listen.h"
#include "testdir.h"

static char dir[64];
static char path[128];
static char err[256];

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/warden-ul-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	err[0] = '\0';
	return 0;
}

static int
teardown(void **state)
{
	rm_tree(dir);
	return 0;
}

static struct unix_listen_opts
opts(mode_t mode)
{
	struct unix_listen_opts o = {
		.mode = mode, .owner = (uid_t)-1, .group = (gid_t)-1,
		.backlog = 8,
	};

	return o;
}

/* A client connection to path: the descriptor, or -1 (errno set). */
static int
dial(const char *p)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, e;

	strlcpy(sun.sun_path, p, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A non-blocking client connection to p: the descriptor once connected,
 * or -1 (a full backlog answers EAGAIN). */
static int
dial_nonblock(const char *p)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	strlcpy(sun.sun_path, p, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A socket file at p that nobody listens on (a crashed server's). */
static void
stale_socket(const char *p)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	strlcpy(sun.sun_path, p, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
}

static void
test_listens(void **state)
{
	struct unix_listen_opts o = opts(0660);
	struct unix_listen_id id;
	struct stat st;
	int fd, c, a, acc = 0;
	socklen_t len = sizeof(acc);
	mode_t mask;

	mask = umask(022);
	fd = unix_listen(path, &o, &id, err, sizeof(err));
	assert_true(fd >= 0);
	/* the umask is ours again */
	assert_int_equal(umask(mask), 022);

	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);	/* despite 022 */
	assert_int_equal(st.st_dev, id.dev);
	assert_int_equal(st.st_ino, id.ino);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc,
	    &len), 0);
	assert_int_equal(acc, 1);

	/* nothing waiting: accept does not block */
	assert_int_equal(accept(fd, NULL, NULL), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	c = dial(path);
	assert_true(c >= 0);
	a = accept(fd, NULL, NULL);
	assert_true(a >= 0);
	close(a);
	close(c);
	close(fd);
}

static void
test_mode_private(void **state)
{
	struct unix_listen_opts o = opts(0600);
	struct stat st;
	mode_t mask;
	int fd;

	mask = umask(0);	/* a umask that would give everything */
	fd = unix_listen(path, &o, NULL, err, sizeof(err));
	umask(mask);
	assert_true(fd >= 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	close(fd);
}

static void
test_owner(void **state)
{
	struct unix_listen_opts o = opts(0600);
	struct stat st;
	int fd;

	/* Root gives it away; anybody may "give" it to themselves. */
	o.owner = geteuid() == 0 ? 65534 : geteuid();
	o.group = geteuid() == 0 ? 65534 : getegid();
	fd = unix_listen(path, &o, NULL, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, o.owner);
	assert_int_equal(st.st_gid, o.group);
	close(fd);
}

/* A chown that is refused leaves no socket behind.  Run by a child that
 * is not root (it drops to nobody when we are root), for whom giving the
 * file away is refused. */
static void
test_chown_refused_leaves_nothing(void **state)
{
	pid_t pid;
	int status;

	assert_int_equal(chmod(dir, 0777), 0);
	if ((pid = fork()) == 0) {
		struct unix_listen_opts o = opts(0600);
		struct stat st;

		if (geteuid() == 0 && (setgid(65534) == -1 ||
		    setuid(65534) == -1))
			_exit(2);
		o.owner = geteuid() + 1;
		if (unix_listen(path, &o, NULL, err, sizeof(err)) != -1)
			_exit(3);
		if (strstr(err, "chown") == NULL)
			_exit(4);
		_exit(lstat(path, &st) == -1 && errno == ENOENT ? 0 : 5);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_stale_socket_replaced(void **state)
{
	struct unix_listen_opts o = opts(0600);
	struct stat st;
	int fd, c;

	stale_socket(path);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(dial(path), -1);
	assert_int_equal(errno, ECONNREFUSED);
	fd = unix_listen(path, &o, NULL, err, sizeof(err));
	assert_true(fd >= 0);
	c = dial(path);
	assert_true(c >= 0);
	close(c);
	close(fd);
}

static void
test_live_socket_refused(void **state)
{
	struct unix_listen_opts o = opts(0600);
	struct unix_listen_id id;
	struct stat st;
	int fd, c, more[4], i, n;

	fd = unix_listen(path, &o, &id, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(unix_listen(path, &o, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "listening"));
	/* still the first server's, and still served */
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_ino, id.ino);
	c = dial(path);
	assert_true(c >= 0);
	close(c);

	/* A full backlog is somebody listening, not a stale socket, and
	 * finding that out does not block. */
	close(fd);
	assert_int_equal(unlink(path), 0);
	o.backlog = 0;
	fd = unix_listen(path, &o, NULL, err, sizeof(err));
	assert_true(fd >= 0);
	for (i = 0, n = 0; i < 4; i++)
		if ((more[i] = dial_nonblock(path)) >= 0)
			n++;
	assert_true(n < 4);	/* the backlog filled up */
	assert_int_equal(unix_listen(path, &o, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "listening"));
	for (i = 0; i < 4; i++)
		if (more[i] >= 0)
			close(more[i]);
	close(fd);
}

static void
test_other_file_refused(void **state)
{
	struct unix_listen_opts o = opts(0600);
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(unix_listen(path, &o, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));

	/* nor is a symbolic link followed */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/nonexistent", path), 0);
	assert_int_equal(unix_listen(path, &o, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

static void
test_bad_paths(void **state)
{
	struct unix_listen_opts o = opts(0600);
	char longp[256], missing[160];
	struct stat st;

	assert_int_equal(unix_listen("relative.sock", &o, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "absolute"));
	assert_int_equal(lstat("relative.sock", &st), -1);
	assert_int_equal(unix_listen("", &o, NULL, err, sizeof(err)), -1);

	memset(longp, 'x', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(unix_listen(longp, &o, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most"));

	snprintf(missing, sizeof(missing), "%s/no/such/dir.sock", dir);
	assert_int_equal(unix_listen(missing, &o, NULL, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "bind"));
}

static void
test_remove_ours_only(void **state)
{
	struct unix_listen_opts o = opts(0600);
	struct unix_listen_id id, id2;
	struct stat st;
	int fd, fd2;

	fd = unix_listen(path, &o, &id, err, sizeof(err));
	assert_true(fd >= 0);
	/* Somebody removed ours and a successor bound the path while we
	 * still listen (so our inode is still taken, and theirs differs). */
	assert_int_equal(unlink(path), 0);
	fd2 = unix_listen(path, &o, &id2, err, sizeof(err));
	assert_true(fd2 >= 0);
	assert_int_equal(unix_listen_remove(path, &id), 1);
	assert_int_equal(lstat(path, &st), 0);
	close(fd);
	assert_int_equal(unix_listen_remove(path, &id2), 0);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(unix_listen_remove(path, &id2), 1);
	close(fd2);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_listens),
		T(test_mode_private),
		T(test_owner),
		T(test_chown_refused_leaves_nothing),
		T(test_stale_socket_replaced),
		T(test_live_socket_refused),
		T(test_other_file_refused),
		T(test_bad_paths),
		T(test_remove_ours_only),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
