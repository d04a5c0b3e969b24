/*
 * daemon/hc/hasher_spawn.c with the real warden-hasher: spawned on a socket
 * pair with a temporary configuration and key set, spoken to as wardend
 * does.  The binary is $WARDEN_HASHER, else ../warden-hasher next to this
 * test's directory (build/<release|san>/warden-hasher); `make check-unit`
 * builds it first and sets WARDEN_HASHER.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "hc/hasher_spawn.h"
#include "keys.h"
#include "fields.h"
#include "hasher_wire.h"
#include "testdir.h"

#define UID_A	"11111111-2222-4333-8444-555555555555"
#define EXIT_TIMEOUT_S	30

static struct {
	char		dir[64];
	char		conf[PATH_MAX];
	char		keydir[PATH_MAX];
	char		hasher[PATH_MAX];
	struct keyset	ks;
} g;

struct fixture {
	int		 fd;
	pid_t		 pid;
	struct proto_buf b;
	struct proto_frame f;
};

static int
find_hasher(void)
{
	const char *env = getenv("WARDEN_HASHER");
	char exe[PATH_MAX], *dir;
	ssize_t n;

	if (env != NULL && *env != '\0') {
		snprintf(g.hasher, sizeof(g.hasher), "%s", env);
	} else {
		if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
			return -1;
		exe[n] = '\0';
		dir = dirname(exe);			/* build/X/tests */
		dir = dirname(dir);			/* build/X */
		snprintf(g.hasher, sizeof(g.hasher), "%s/warden-hasher", dir);
	}
	if (access(g.hasher, X_OK) == -1) {
		fprintf(stderr, "no hasher binary at %s (set WARDEN_HASHER or "
		    "make it first)\n", g.hasher);
		return -1;
	}
	return 0;
}

static int
write_conf(const char *path, const char *keydir)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fprintf(fp,
	    "# written by test_hasher_spawn\n"
	    "key_dir %s\n"
	    "argon2_memory 1M\n"
	    "argon2_iterations 2\n"
	    "hasher_workers 2\n"
	    "hasher_queue 16\n"
	    "hasher_chroot %s/root\n"
	    "hasher_user nobody\n"
	    "issuer https://issuer.test\n"
	    "audience warden-test\n"
	    "access_token_ttl 15m\n",
	    keydir, g.dir);
	return fclose(fp) == 0 ? 0 : -1;
}

static int
group_setup(void **state)
{
	char err[512];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0 || find_hasher() == -1)
		return -1;
	snprintf(g.dir, sizeof(g.dir), "/tmp/warden-spawn-XXXXXX");
	if (mkdtemp(g.dir) == NULL || chmod(g.dir, 0755) == -1)
		return -1;
	snprintf(g.keydir, sizeof(g.keydir), "%s/keys", g.dir);
	snprintf(g.conf, sizeof(g.conf), "%s/warden.conf", g.dir);
	if (keys_generate(g.keydir, err, sizeof(err)) == -1 ||
	    keys_load(&g.ks, g.keydir, err, sizeof(err)) == -1) {
		fprintf(stderr, "keys: %s\n", err);
		return -1;
	}
	return write_conf(g.conf, g.keydir);
}

static int
group_teardown(void **state)
{
	(void)state;
	keys_free(&g.ks);
	rm_tree(g.dir);
	return 0;
}

static int
setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	proto_buf_init(&x->b);
	x->fd = hasher_spawn(g.hasher, g.conf, &x->pid);
	assert_true(x->fd >= 0);
	assert_true(x->pid > 0);
	*state = x;
	return 0;
}

/* Waits (bounded) for pid; returns its wait status, or -1 on timeout (the
 * child is then killed). */
static int
wait_exit(pid_t pid)
{
	int status, i;
	pid_t r;

	for (i = 0; i < EXIT_TIMEOUT_S * 100; i++) {
		if ((r = waitpid(pid, &status, WNOHANG)) == pid)
			return status;
		assert_int_not_equal(r, -1);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static int
teardown(void **state)
{
	struct fixture *x = *state;

	if (x->fd >= 0)
		close(x->fd);
	if (x->pid > 0)
		(void)wait_exit(x->pid);
	proto_buf_free(&x->b);
	free(x);
	return 0;
}

/* Closes our end; the hasher must exit with code. */
static void
close_expect_exit(struct fixture *x, int code)
{
	int status;

	close(x->fd);
	x->fd = -1;
	status = wait_exit(x->pid);
	x->pid = 0;
	assert_int_not_equal(status, -1);
	if (WIFSIGNALED(status))
		fail_msg("hasher killed by signal %d", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), code);
}

static void
send_b(struct fixture *x)
{
	assert_int_equal(proto_io_send(x->fd, &x->b, HC_TIMEOUT_MS),
	    PROTO_IO_OK);
}

static void
read_answer(struct fixture *x, uint32_t id, uint16_t type)
{
	assert_int_equal(proto_io_read_frame(x->fd, &x->f, HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	assert_int_equal(x->f.h.id, id);
	assert_int_equal(x->f.h.type, type);
}

static void
hello(struct fixture *x)
{
	assert_int_equal(proto_io_hello(x->fd, 1, &x->f, HC_TIMEOUT_MS),
	    PROTO_IO_OK);
}

static void
req_hash(struct fixture *x, uint32_t id, const char *pw)
{
	struct proto_hash_req r;

	memset(&r, 0, sizeof(r));
	strlcpy(r.user_id, UID_A, sizeof(r.user_id));
	r.password_len = strlen(pw);
	memcpy(r.password, pw, r.password_len);
	assert_int_equal(proto_encode_hash_req(&x->b, id, &r), 0);
}

static void
req_verify(struct fixture *x, uint32_t id, const char *pw, const char *stored)
{
	struct proto_verify_req r;

	memset(&r, 0, sizeof(r));
	strlcpy(r.user_id, UID_A, sizeof(r.user_id));
	r.password_len = strlen(pw);
	memcpy(r.password, pw, r.password_len);
	snprintf(r.stored, sizeof(r.stored), "%s", stored);
	assert_int_equal(proto_encode_verify_req(&x->b, id, &r), 0);
}

static void
req_sign(struct fixture *x, uint32_t id)
{
	struct proto_sign_req r;

	memset(&r, 0, sizeof(r));
	strlcpy(r.sub, UID_A, sizeof(r.sub));
	strlcpy(r.username, "alice", sizeof(r.username));
	r.nroles = 1;
	strlcpy(r.roles[0], "admin", sizeof(r.roles[0]));
	r.ver = 1;
	r.ttl = 86400;
	assert_int_equal(proto_encode_sign_req(&x->b, id, &r), 0);
}

static bool
verify(struct fixture *x, uint32_t id, const char *pw, const char *stored)
{
	struct proto_verify_ans a;

	req_verify(x, id, pw, stored);
	send_b(x);
	read_answer(x, id, PROTO_R_VERIFY);
	assert_int_equal(proto_decode_verify_ans(x->f.p, x->f.h.len, &a), 0);
	return a.match;
}

/* ------------------------------------------------------------ tests */

static void
test_session(void **state)
{
	struct fixture *x = *state;
	struct proto_hash_ans h;
	struct proto_sign_ans s;
	struct proto_pubkeys_ans k;
	time_t before, after;

	hello(x);
	req_hash(x, 2, "correct horse");
	send_b(x);
	read_answer(x, 2, PROTO_R_HASH);
	assert_int_equal(proto_decode_hash_ans(x->f.p, x->f.h.len, &h), 0);
	assert_true(strncmp(h.stored, "$warden$v=1$k=", 14) == 0);
	assert_true(verify(x, 3, "correct horse", h.stored));
	assert_false(verify(x, 4, "battery staple", h.stored));
	assert_false(verify(x, 5, "correct horse", ""));

	before = time(NULL);
	req_sign(x, 6);
	send_b(x);
	read_answer(x, 6, PROTO_R_SIGN);
	after = time(NULL);
	assert_int_equal(proto_decode_sign_ans(x->f.p, x->f.h.len, &s), 0);
	assert_true(strlen(s.jwt) > 50);
	assert_true(field_is_uuid(s.jti));
	/* clamped to access_token_ttl (15m), counted from the signing */
	assert_true(s.exp >= (uint32_t)before + 15 * 60 &&
	    s.exp <= (uint32_t)after + 15 * 60);

	assert_int_equal(proto_encode_pubkeys_req(&x->b, 7), 0);
	send_b(x);
	read_answer(x, 7, PROTO_R_PUBKEYS);
	assert_int_equal(proto_decode_pubkeys_ans(x->f.p, x->f.h.len, &k), 0);
	assert_int_equal(k.nkeys, g.ks.nsign);
	assert_string_equal(k.keys[g.ks.sign_current].kid,
	    keys_sign_current(&g.ks)->kid);
	assert_memory_equal(k.keys[g.ks.sign_current].pk,
	    keys_sign_current(&g.ks)->pk, PROTO_PUBKEY_LEN);
	assert_true(k.keys[g.ks.sign_current].current);

	close_expect_exit(x, 0);
}

static void
test_in_flight(void **state)
{
	struct fixture *x = *state;
	bool seen[10] = { false };
	uint16_t want[10];
	uint32_t i;

	hello(x);
	for (i = 0; i < 6; i++) {
		req_hash(x, 50 + i, "pw");
		want[i] = PROTO_R_HASH;
	}
	for (; i < 8; i++) {
		req_verify(x, 50 + i, "pw", "");
		want[i] = PROTO_R_VERIFY;
	}
	req_sign(x, 58);
	want[8] = PROTO_R_SIGN;
	assert_int_equal(proto_encode_pubkeys_req(&x->b, 59), 0);
	want[9] = PROTO_R_PUBKEYS;
	send_b(x);
	for (i = 0; i < 10; i++) {
		assert_int_equal(proto_io_read_frame(x->fd, &x->f,
		    HC_TIMEOUT_MS), PROTO_IO_OK);
		assert_true(x->f.h.id >= 50 && x->f.h.id < 60);
		assert_false(seen[x->f.h.id - 50]);
		seen[x->f.h.id - 50] = true;
		assert_int_equal(x->f.h.type, want[x->f.h.id - 50]);
	}
	close_expect_exit(x, 0);
}

/* The hasher really is locked down while it serves. */
static void
test_locked_down(void **state)
{
	struct fixture *x = *state;
	char path[64], line[256];
	bool seccomp = false, nnp = false, uid_ok = geteuid() != 0;
	struct passwd *pw = getpwnam("nobody");
	FILE *fp;

	hello(x);	/* answered from the loop: after lock-down */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)x->pid);
	assert_non_null(fp = fopen(path, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strcmp(line, "Seccomp:\t2\n") == 0)
			seccomp = true;
		if (strcmp(line, "NoNewPrivs:\t1\n") == 0)
			nnp = true;
		if (pw != NULL && strncmp(line, "Uid:", 4) == 0) {
			unsigned int r, e, s, f;

			assert_int_equal(sscanf(line, "Uid: %u %u %u %u",
			    &r, &e, &s, &f), 4);
			if (geteuid() == 0)
				uid_ok = r == pw->pw_uid && e == pw->pw_uid &&
				    s == pw->pw_uid;
		}
	}
	fclose(fp);
	assert_true(seccomp);
	assert_true(nnp);
	assert_true(uid_ok);
	close_expect_exit(x, 0);
}

static void
test_wrong_version(void **state)
{
	struct fixture *x = *state;
	struct proto_hello m = { PROTO_VERSION + 1 };

	assert_int_equal(proto_encode_hello(&x->b, 1, PROTO_HELLO, &m), 0);
	send_b(x);
	read_answer(x, 1, PROTO_R_HELLO);
	assert_int_equal(proto_decode_hello(x->f.p, x->f.h.len, &m), 0);
	assert_int_equal(m.version, PROTO_VERSION);
	assert_int_equal(hc_expect_eof(x->fd), 0);
	close_expect_exit(x, 1);
}

static void
test_malformed(void **state)
{
	struct fixture *x = *state;
	uint8_t fr[PROTO_HEADER_SIZE + 8];

	hello(x);
	hc_header(fr, 8, 2, PROTO_HASH);
	memcpy(fr + PROTO_HEADER_SIZE, "\0\0\0\x09" "abcd", 8);
	assert_int_equal(proto_io_write(x->fd, fr, sizeof(fr), HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	assert_int_equal(hc_expect_eof(x->fd), 0);
	close_expect_exit(x, 1);
}

static void
test_oversized(void **state)
{
	struct fixture *x = *state;
	uint8_t h[PROTO_HEADER_SIZE];

	hello(x);
	hc_header(h, PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD, 2, PROTO_VERIFY);
	assert_int_equal(proto_io_write(x->fd, h, sizeof(h), HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	assert_int_equal(hc_expect_eof(x->fd), 0);
	close_expect_exit(x, 1);
}

static void
test_unknown_type(void **state)
{
	struct fixture *x = *state;
	uint8_t h[PROTO_HEADER_SIZE];

	hello(x);
	hc_header(h, 0, 2, 0x7777);
	assert_int_equal(proto_io_write(x->fd, h, sizeof(h), HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	assert_int_equal(hc_expect_eof(x->fd), 0);
	close_expect_exit(x, 1);
}

/* Closing at once, before any frame, is a clean end too. */
static void
test_close_at_once(void **state)
{
	struct fixture *x = *state;

	close_expect_exit(x, 0);
}

/* Run by hand (no socket on fd 3), the hasher refuses to start. */
static void
test_no_socket(void **state)
{
	int status, devnull;
	pid_t pid;

	(void)state;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, WARDEN_HASHER_FD);
		execl(g.hasher, g.hasher, "-f", g.conf, (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	status = wait_exit(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

/* A key directory that cannot be loaded is fatal before serving. */
static void
test_bad_key_dir(void **state)
{
	char conf[PATH_MAX];
	struct proto_buf b;
	struct proto_hello m = { PROTO_VERSION };
	int fd, status;
	pid_t pid;

	(void)state;
	snprintf(conf, sizeof(conf), "%s/bad.conf", g.dir);
	assert_int_equal(write_conf(conf, "/nonexistent/warden"),
	    0);
	fd = hasher_spawn(g.hasher, conf, &pid);
	assert_true(fd >= 0);
	proto_buf_init(&b);
	assert_int_equal(proto_encode_hello(&b, 1, PROTO_HELLO, &m), 0);
	/* may race the exit: EPIPE is fine */
	(void)proto_io_send(fd, &b, HC_TIMEOUT_MS);
	proto_buf_free(&b);
	assert_int_equal(hc_expect_eof(fd), 0);
	close(fd);
	status = wait_exit(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

/* hasher_spawn() of a path that does not exist: the child says so and
 * exits 127; the front sees EOF. */
static void
test_spawn_missing_binary(void **state)
{
	int fd, status;
	pid_t pid;

	(void)state;
	fd = hasher_spawn("/nonexistent/warden-hasher", g.conf, &pid);
	assert_true(fd >= 0);
	assert_int_equal(hc_expect_eof(fd), 0);
	close(fd);
	status = wait_exit(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 127);
}

/*
 * The child side of test_spawn_fds, run when this program is exec'd as
 * "<self> -f <fd>": reports on fd 3 whether fd 3 is a socket and whether
 * <fd>, open in the parent, is closed.  Checked in C, not in a shell
 * script: a shell opens descriptors of its own (dash keeps its script on
 * the lowest free fd from 10), which could be the very one we look for.
 */
static int
spawn_fds_child(const char *fdarg)
{
	struct stat st;
	const char *errstr;
	char line[32];
	int fd, n;

	fd = (int)strtonum(fdarg, 4, INT_MAX, &errstr);
	if (errstr != NULL)
		return 2;
	n = snprintf(line, sizeof(line), "%s %s\n",
	    fstat(3, &st) == 0 && S_ISSOCK(st.st_mode) ? "sock" : "nosock",
	    fcntl(fd, F_GETFD) == -1 && errno == EBADF ? "closed" : "open");
	return write(3, line, (size_t)n) == n ? 0 : 1;
}

static char self_path[PATH_MAX];

/* The child gets its socket on fd 3 and none of our other descriptors; our
 * end is close-on-exec.  The child is this program (spawn_fds_child). */
static void
test_spawn_fds(void **state)
{
	char arg[16], out[64] = "";
	int fd, extra, status;
	pid_t pid;

	(void)state;
	/* not close-on-exec, and above fd 3 */
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	extra = fcntl(fd, F_DUPFD, 10);
	close(fd);
	assert_true(extra >= 10);
	snprintf(arg, sizeof(arg), "%d", extra);
	fd = hasher_spawn(self_path, arg, &pid);
	close(extra);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(proto_io_read(fd, out, strlen("sock closed\n"),
	    HC_TIMEOUT_MS), PROTO_IO_OK);
	assert_string_equal(out, "sock closed\n");
	close(fd);
	status = wait_exit(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* --keygen makes a new current set in a directory and names it. */
static void
test_keygen(void **state)
{
	char dir[PATH_MAX], out[256] = "", err[512];
	struct keyset ks;
	int p[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/newkeys", g.dir);
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		dup2(p[1], STDOUT_FILENO);
		execl(g.hasher, g.hasher, "--keygen", dir, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += n;
	close(p[0]);
	status = wait_exit(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(keys_load(&ks, dir, err, sizeof(err)), 0);
	assert_non_null(keys_rsa_current(&ks));
	snprintf(err, sizeof(err), "sign %s\npepper %s\nrsa %s\nfrom ",
	    keys_sign_current(&ks)->kid, keys_pepper_current(&ks)->kid,
	    keys_rsa_current(&ks)->kid);
	/* then the instant they sign from: now, in a new directory */
	assert_memory_equal(out, err, strlen(err));
	keys_free(&ks);
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_flight, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_locked_down, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_version, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_oversized, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_type, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_close_at_once, setup,
		    teardown),
		cmocka_unit_test(test_no_socket),
		cmocka_unit_test(test_bad_key_dir),
		cmocka_unit_test(test_spawn_missing_binary),
		cmocka_unit_test(test_spawn_fds),
		cmocka_unit_test(test_keygen),
	};

	if (argc == 3 && strcmp(argv[1], "-f") == 0)
		return spawn_fds_child(argv[2]);
	if (realpath(argv[0], self_path) == NULL) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
