/*
 * hasher/sandbox.c: each check forks a child that locks itself down the
 * way warden-hasher does (chroot to a temporary directory and drop to
 * `nobody` when the test runs as root; the unprivileged path when it does
 * not, and in the *_unpriv tests also as root, by dropping to `nobody`
 * first), then tries one forbidden thing.  The attempt must fail or kill
 * the child with SIGSYS.  A last child still hashes, verifies and signs
 * with keys loaded before lock-down.  Children leave with _exit(): no
 * exit-time handler (a sanitizer's leak check) may run in there.
 */
#define _GNU_SOURCE	/* setresuid, accept4 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/unistd.h>
#include <sodium.h>

#include "assertion.h"
#include "jwt_check.h"
#include "jwt_sign.h"
#include "keys.h"
#include "password.h"
#include "sandbox.h"
#include "testdir.h"

/* Child exit codes. */
#define OK		0	/* the forbidden thing failed, or the work worked */
#define ESCAPED		10	/* the forbidden thing succeeded */
#define BROKEN		11	/* the allowed work failed */

#define UID_A	"11111111-2222-4333-8444-555555555555"

static struct {
	char		dir[64];
	char		root[PATH_MAX];		/* chroot */
	char		keydir[PATH_MAX];
	char		sock[100];		/* fits sun_path */
	struct keyset	ks;			/* loaded before any fork */
	uid_t		nobody_uid;
	gid_t		nobody_gid;
} g;

static int
group_setup(void **state)
{
	struct passwd *pw;
	char err[512];

	(void)state;
	if (sodium_init() < 0)
		return -1;
	snprintf(g.dir, sizeof(g.dir), "/tmp/warden-sbx-XXXXXX");
	if (mkdtemp(g.dir) == NULL || chmod(g.dir, 0755) == -1)
		return -1;
	snprintf(g.root, sizeof(g.root), "%s/root", g.dir);
	snprintf(g.keydir, sizeof(g.keydir), "%s/keys", g.dir);
	snprintf(g.sock, sizeof(g.sock), "%s/s.sock", g.dir);
	if (keys_generate(g.keydir, err, sizeof(err)) == -1 ||
	    keys_load(&g.ks, g.keydir, err, sizeof(err)) == -1) {
		fprintf(stderr, "keys: %s\n", err);
		return -1;
	}
	if ((pw = getpwnam("nobody")) == NULL)
		return -1;
	g.nobody_uid = pw->pw_uid;
	g.nobody_gid = pw->pw_gid;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	keys_free(&g.ks);
	rm_tree(g.dir);
	return 0;
}

static struct sandbox_opts
opts(int listen_fd)
{
	struct sandbox_opts o = {
		.user = "nobody",
		.chroot_dir = g.root,	/* made by sandbox_drop() */
		.listen_fd = listen_fd,
		.max_conns = 2,
	};

	return o;
}

/* As root, become nobody by hand, so that the sandbox takes its
 * unprivileged path (no chroot, no drop). */
static void
become_nobody(void)
{
	if (geteuid() != 0)
		return;
	if (setgroups(0, NULL) == -1 ||
	    setresgid(g.nobody_gid, g.nobody_gid, g.nobody_gid) == -1 ||
	    setresuid(g.nobody_uid, g.nobody_uid, g.nobody_uid) == -1)
		_exit(BROKEN);
}

typedef int probe_fn(void);

/*
 * Runs probe in a locked-down child; returns its wait status.  unpriv
 * drops to nobody before the sandbox does anything.
 */
static int
run_locked(probe_fn *probe, bool unpriv, int listen_fd)
{
	struct sandbox_opts o = opts(listen_fd);
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		if (unpriv)
			become_nobody();
		sandbox_apply(&o);
		_exit(probe());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* The attempt failed (exit OK) or seccomp killed the child. */
static void
assert_refused(int status)
{
	if (WIFSIGNALED(status)) {
		assert_int_equal(WTERMSIG(status), SIGSYS);
		return;
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), OK);
}

/* The child lived and its work succeeded. */
static void
assert_worked(int status)
{
	if (WIFSIGNALED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), OK);
}

/* ------------------------------------------------------------ probes */

static int
probe_nothing(void)
{
	return OK;
}

static int
probe_setuid(void)
{
	/* Not even asking is allowed; and the drop is final anyway. */
	if (setuid(0) == 0 || seteuid(0) == 0)
		return ESCAPED;
	return OK;
}

static int
probe_open(void)
{
	int fd;

	if ((fd = open("/etc/passwd", O_RDONLY)) >= 0)
		return ESCAPED;
	if ((fd = open(".", O_RDONLY | O_DIRECTORY)) >= 0)
		return ESCAPED;
	if ((fd = open("/tmp/warden-sbx-new", O_WRONLY | O_CREAT, 0600)) >= 0)
		return ESCAPED;
	return OK;
}

static int
probe_open_errno(void)
{
	/* A harmless probe fails softly with EACCES, it does not kill. */
	if (open("/etc/passwd", O_RDONLY) >= 0)
		return ESCAPED;
	return errno == EACCES ? OK : BROKEN;
}

static int
probe_socket(void)
{
	if (socket(AF_INET, SOCK_STREAM, 0) >= 0)
		return ESCAPED;
	if (socket(AF_UNIX, SOCK_DGRAM, 0) >= 0)
		return ESCAPED;
	return OK;
}

/* send(2) on a descriptor we hold is how answers go out: allowed. */
static int
probe_send(void)
{
	if (send(STDERR_FILENO, "", 0, MSG_DONTWAIT | MSG_NOSIGNAL) == -1 &&
	    errno != ENOTSOCK)
		return BROKEN;
	return OK;
}

/* sendto(2) to an address is not: it could reach another socket.  Any
 * return at all means the filter let it through (stderr is no socket, so
 * an allowed call fails with ENOTSOCK); only SIGSYS passes. */
static int
probe_sendto_addr(void)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, "/dev/log", sizeof(sun.sun_path));
	(void)sendto(STDERR_FILENO, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, sizeof(sun));
	return ESCAPED;
}

static int
probe_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(ESCAPED);
	return pid > 0 ? ESCAPED : OK;
}

static int
probe_thread_fn_ran;

static void *
probe_thread_fn(void *p)
{
	(void)p;
	probe_thread_fn_ran = 1;
	return NULL;
}

static int
probe_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, probe_thread_fn, NULL) == 0)
		return ESCAPED;
	return OK;
}

static int
probe_exec(void)
{
	char *argv[] = { (char *)"/bin/true", NULL };
	char *envp[] = { NULL };

	execve("/bin/true", argv, envp);
	return OK;
}

static int
probe_mmap_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? OK : ESCAPED;
}

static int
probe_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return BROKEN;
	return mprotect(p, 4096, PROT_READ | PROT_EXEC) == 0 ? ESCAPED : OK;
}

static int
probe_ptrace(void)
{
	return syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0) == 0 ?
	    ESCAPED : OK;
}

static int
probe_kill_other(void)
{
	/* Signals go to ourselves only: pid 1 is not ours to touch. */
	return kill(1, 0) == 0 ? ESCAPED : OK;
}

static int
probe_rlimit(void)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	return setrlimit(RLIMIT_NOFILE, &rl) == 0 ? ESCAPED : OK;
}

/* The work the hasher exists for, after lock-down. */
static int
probe_work(void)
{
	static const struct pw_policy pol = { 1024 * 1024, 2 };
	static const struct jwt_sign_params jp = {
	    .issuer = "https://issuer.test", .audience = "warden-test",
	    .max_ttl = 900 };

	char stored[PROTO_STORED_MAX + 1], rehash[PROTO_STORED_MAX + 1];
	char err[256];
	struct proto_sign_req req;
	struct proto_sign_ans *ans;
	uint8_t *big;
	bool match;

	if (pw_hash(&g.ks, &pol, UID_A, (const uint8_t *)"pw", 2, stored,
	    sizeof(stored)) != 0)
		return BROKEN;
	if (pw_verify(&g.ks, &pol, UID_A, (const uint8_t *)"pw", 2, stored,
	    &match, rehash, sizeof(rehash)) != 0 || !match)
		return BROKEN;
	if (pw_verify(&g.ks, &pol, UID_A, (const uint8_t *)"pW", 2, stored,
	    &match, rehash, sizeof(rehash)) != 0 || match)
		return BROKEN;
	if (pw_verify(&g.ks, &pol, UID_A, (const uint8_t *)"pw", 2, "",
	    &match, rehash, sizeof(rehash)) != 0 || match)
		return BROKEN;
	memset(&req, 0, sizeof(req));
	strlcpy(req.sub, UID_A, sizeof(req.sub));
	strlcpy(req.username, "alice", sizeof(req.username));
	req.nroles = 1;
	strlcpy(req.roles[0], "admin", sizeof(req.roles[0]));
	req.ver = 1;
	req.ttl = 60;
	/* Heap work, and a big block (mmap'd, not executable). */
	if ((ans = calloc(1, sizeof(*ans))) == NULL ||
	    (big = malloc(32 * 1024 * 1024)) == NULL)
		return BROKEN;
	memset(big, 1, 32 * 1024 * 1024);
	free(big);
	if (jwt_sign(&g.ks, &jp, &req, time(NULL), ans, err,
	    sizeof(err)) != 0 || strlen(ans->jwt) < 50)
		return BROKEN;
	free(ans);
	/* An RS256 ID token (OpenSSL: blinding wants random bytes) and its
	 * check, then an EdDSA one. */
	{
		struct proto_sign_id_req *ir = calloc(1, sizeof(*ir));
		struct proto_sign_id_ans *ia = calloc(1, sizeof(*ia));
		struct proto_jwt_check_ans chk;
		uint8_t alg;

		if (ir == NULL || ia == NULL)
			return BROKEN;
		strlcpy(ir->sub, UID_A, sizeof(ir->sub));
		strlcpy(ir->aud, "rp-1", sizeof(ir->aud));
		for (alg = PROTO_ALG_RS256; alg >= PROTO_ALG_EDDSA; alg--) {
			ir->alg = alg;
			if (jwt_sign_id(&g.ks, &jp, ir, time(NULL), ia, NULL,
			    err, sizeof(err)) != 0)
				return BROKEN;
			jwt_check(&g.ks, jp.issuer, ia->jwt, &chk);
			if (!chk.valid)
				return BROKEN;
		}
		free(ir);
		free(ia);
	}
	/* A client assertion for an upstream provider, both algs (a random
	 * jti, cJSON, OpenSSL), under the same filter. */
	{
		struct proto_sign_assertion_req ar;
		struct proto_sign_assertion_ans *aa = calloc(1, sizeof(*aa));
		uint8_t alg;

		if (aa == NULL)
			return BROKEN;
		memset(&ar, 0, sizeof(ar));
		strlcpy(ar.client_id, "warden", sizeof(ar.client_id));
		strlcpy(ar.aud, "https://idp.test/token", sizeof(ar.aud));
		for (alg = PROTO_ALG_RS256; alg >= PROTO_ALG_EDDSA; alg--) {
			ar.alg = alg;
			if (assertion_sign(&g.ks, &ar, time(NULL), aa, NULL,
			    err, sizeof(err)) != 0 || strlen(aa->jwt) < 50)
				return BROKEN;
		}
		free(aa);
	}
	/* Logging still reaches stderr. */
	if (write(STDERR_FILENO, "", 0) != 0)
		return BROKEN;
	return OK;
}

/* ------------------------------------------------------------ tests */

#define PROBE_TESTS(name, check)					\
static void								\
test_##name(void **state)						\
{									\
	(void)state;							\
	check(run_locked(probe_##name, false, -1));			\
}									\
static void								\
test_##name##_unpriv(void **state)					\
{									\
	(void)state;							\
	check(run_locked(probe_##name, true, -1));			\
}

PROBE_TESTS(nothing, assert_worked)
PROBE_TESTS(setuid, assert_refused)
PROBE_TESTS(open, assert_refused)
PROBE_TESTS(open_errno, assert_worked)
PROBE_TESTS(socket, assert_refused)
PROBE_TESTS(send, assert_worked)
PROBE_TESTS(sendto_addr, assert_refused)
PROBE_TESTS(fork, assert_refused)
PROBE_TESTS(thread, assert_refused)
PROBE_TESTS(exec, assert_refused)
PROBE_TESTS(mmap_exec, assert_refused)
PROBE_TESTS(mprotect_exec, assert_refused)
PROBE_TESTS(ptrace, assert_refused)
PROBE_TESTS(kill_other, assert_refused)
PROBE_TESTS(rlimit, assert_refused)
PROBE_TESTS(work, assert_worked)

/* After sandbox_drop() as root: nobody, no groups, in the chroot, and
 * root cannot be had back. */
static void
test_drop_identity(void **state)
{
	struct sandbox_opts o = opts(-1);
	int status;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	fflush(NULL);
	if ((pid = fork()) == 0) {
		uid_t r, e, s;

		sandbox_drop(&o);
		if (getresuid(&r, &e, &s) == -1 || r != g.nobody_uid ||
		    e != g.nobody_uid || s != g.nobody_uid)
			_exit(ESCAPED);
		if (getgid() != g.nobody_gid || getgroups(0, NULL) != 0)
			_exit(ESCAPED);
		if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
			_exit(ESCAPED);
		/* The chroot is empty: no /etc, no /proc. */
		if (access("/etc/passwd", F_OK) == 0 ||
		    access("/proc/self", F_OK) == 0)
			_exit(ESCAPED);
		_exit(OK);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_worked(status);
}

/* The chroot directory is made root-owned 0755 when missing. */
static void
test_chroot_made(void **state)
{
	struct stat st;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_worked(run_locked(probe_nothing, false, -1));
	assert_int_equal(lstat(g.root, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_mode & 07777, 0755);
}

/* A chroot that others may write is refused: the child dies (exit 1,
 * fatal) before doing anything. */
static void
test_chroot_writable_refused(void **state)
{
	char bad[PATH_MAX];
	struct sandbox_opts o = opts(-1);
	int status;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	snprintf(bad, sizeof(bad), "%s/badroot", g.dir);
	assert_int_equal(mkdir(bad, 0755), 0);
	assert_int_equal(chmod(bad, 0777), 0);
	o.chroot_dir = bad;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		sandbox_apply(&o);
		_exit(ESCAPED);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

/* A chroot with anything in it ("/", say) is refused the same way. */
static void
test_chroot_not_empty_refused(void **state)
{
	char bad[PATH_MAX], file[PATH_MAX + 16];
	struct sandbox_opts o = opts(-1);
	int status, fd;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	snprintf(bad, sizeof(bad), "%s/fullroot", g.dir);
	snprintf(file, sizeof(file), "%s/passwd", bad);
	assert_int_equal(mkdir(bad, 0755), 0);
	assert_true((fd = open(file, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	o.chroot_dir = bad;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		sandbox_apply(&o);
		_exit(ESCAPED);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

static void
test_unknown_user_refused(void **state)
{
	struct sandbox_opts o = opts(-1);
	int status;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	o.user = "no-such-user-warden";
	fflush(NULL);
	if ((pid = fork()) == 0) {
		sandbox_apply(&o);
		_exit(ESCAPED);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

/*
 * Split mode: the locked-down child accepts on its listening socket and
 * reads its peer's uid; creating any other descriptor still fails.
 */
static void
split_mode(bool unpriv)
{
	struct sockaddr_un sun;
	struct sandbox_opts o;
	int lfd, cfd, status;
	char byte = 0;
	uid_t parent_uid = getuid();	/* the peer; getuid() is not allowed
					 * in the sandbox */
	pid_t pid;

	unlink(g.sock);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", g.sock);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(chmod(g.sock, 0666), 0);
	assert_int_equal(listen(lfd, 4), 0);
	o = opts(lfd);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		uid_t uid;
		gid_t gid;
		int fd;
		char c = 'k';

		if (unpriv)
			become_nobody();
		sandbox_apply(&o);
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			_exit(BROKEN);
		if (getpeereid(fd, &uid, &gid) == -1)
			_exit(BROKEN);
		c = uid == parent_uid ? 'k' : '?';
		if (write(fd, &c, 1) != 1)
			_exit(BROKEN);
		close(fd);
		/* Only the listening socket accepts. */
		if (accept4(fd, NULL, NULL, 0) >= 0)
			_exit(ESCAPED);
		_exit(OK);
	}
	close(lfd);
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(cfd >= 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	assert_int_equal(read(cfd, &byte, 1), 1);
	assert_int_equal(byte, 'k');
	close(cfd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_refused(status);	/* the stray accept4() killed it, or failed */
	unlink(g.sock);
}

static void
test_split_mode(void **state)
{
	(void)state;
	split_mode(false);
}

static void
test_split_mode_unpriv(void **state)
{
	(void)state;
	split_mode(true);
}

#define T(name)	cmocka_unit_test(test_##name), \
		cmocka_unit_test(test_##name##_unpriv)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(nothing),
		cmocka_unit_test(test_chroot_made),
		T(setuid),
		cmocka_unit_test(test_drop_identity),
		T(open),
		T(open_errno),
		T(socket),
		T(send),
		T(sendto_addr),
		T(fork),
		T(thread),
		T(exec),
		T(mmap_exec),
		T(mprotect_exec),
		T(ptrace),
		T(kill_other),
		T(rlimit),
		T(work),
		T(split_mode),
		cmocka_unit_test(test_chroot_writable_refused),
		cmocka_unit_test(test_chroot_not_empty_refused),
		cmocka_unit_test(test_unknown_user_refused),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
