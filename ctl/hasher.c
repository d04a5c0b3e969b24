/*
 * The hasher wardenctl runs: where it is (ctl_find_hasher), a run of one
 * of its key options (ctl_hasher_run: keygen, key list, key rotate), and
 * the password commands', a warden-hasher of its own, spawned as wardend spawns
 * it, asked for one sealed hash over proto_io's blocking round trips, then
 * closed and reaped.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "ctl.h"
#include "proto.h"
#include "proto_io.h"
#include "util.h"

#include "hc/hasher_spawn.h"

int
ctl_find_hasher(struct cfg *cfg)
{
	char	 self[PATH_MAX], beside[PATH_MAX + 32], *copy;
	ssize_t	 n;
	bool	 is_default;

	if (cfg->hasher_path[0] == '\0') {
		fprintf(stderr, PROG ": hasher_path is not set\n");
		return -1;
	}
	is_default = strcmp(cfg->hasher_path, WARDEN_HASHER_PATH) == 0 &&
	    getenv("WARDEN_HASHER_PATH") == NULL;
	if (!is_default) {
		if (access(cfg->hasher_path, X_OK) == 0)
			return 0;
		fprintf(stderr, PROG ": hasher_path %s: %s\n",
		    cfg->hasher_path, strerror(errno));
		return -1;
	}

	/* The compiled-in default: the warden-hasher beside us first. */
	beside[0] = '\0';
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if (snprintf(beside, sizeof(beside), "%s/warden-hasher",
		    dirname(self)) >= (int)sizeof(beside))
			beside[0] = '\0';
	}
	if (beside[0] != '\0' && access(beside, X_OK) == 0) {
		if ((copy = strdup(beside)) == NULL) {
			fprintf(stderr, PROG ": out of memory\n");
			return -1;
		}
		str_freezero(cfg->hasher_path);
		cfg->hasher_path = copy;
		return 0;
	}
	if (access(cfg->hasher_path, X_OK) == 0)
		return 0;
	fprintf(stderr, PROG ": warden-hasher is neither at %s (the default "
	    "hasher_path: %s) nor beside wardenctl%s%s; install it (make "
	    "install), or set hasher_path in the configuration (-f) or "
	    "WARDEN_HASHER_PATH\n", cfg->hasher_path, strerror(errno),
	    beside[0] != '\0' ? " at " : "", beside);
	return -1;
}

/* How long a hasher answer may take (key loading, sandbox, Argon2id):
 * a hung hasher must not hang us for ever. */
#define HASHER_WAIT_MS		(120 * 1000)

/* Says why a call to the hasher failed; an R_ERROR with its words. */
static void
hasher_complain(enum proto_io_status st, const struct proto_frame *f)
{
	struct proto_error_ans e;

	if (st == PROTO_IO_REFUSED &&
	    proto_decode_error_ans(f->p, f->h.len, &e) == 0)
		fprintf(stderr, PROG ": hasher: error %u: %s\n", e.code,
		    e.message);
	else if (st == PROTO_IO_BAD_TYPE)
		fprintf(stderr, PROG ": hasher: unexpected answer %s\n",
		    proto_type_name(f->h.type));
	else if (st == PROTO_IO_BAD_VERSION)
		fprintf(stderr, PROG ": hasher: protocol version mismatch "
		    "(ours %d)\n", PROTO_VERSION);
	else
		fprintf(stderr, PROG ": hasher: %s\n", proto_io_strerror(st));
}

/*
 * HELLO, then HASH(user_id, pw) on fd.  Returns 0 with the sealed hash
 * in *ans (a secret: the caller wipes it), or -1 after saying why.
 */
static int
hasher_hash(int fd, const char *user_id, const struct secret *pw,
    struct proto_hash_ans *ans)
{
	struct proto_buf	 b;
	struct proto_frame	*f;
	struct proto_hash_req	*req = NULL;
	enum proto_io_status	 st;
	int			 rc = -1;

	proto_buf_init(&b);
	if ((f = malloc(sizeof(*f))) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	f->h.len = 0;
	if ((st = proto_io_hello(fd, 1, f, HASHER_WAIT_MS)) != PROTO_IO_OK) {
		hasher_complain(st, f);
		goto out;
	}

	/* The request holds the password: keep it off the stack. */
	if ((req = sodium_malloc(sizeof(*req))) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	memset(req, 0, sizeof(*req));
	if (str_copy(req->user_id, user_id, sizeof(req->user_id)) == -1 ||
	    pw->len > sizeof(req->password)) {
		fprintf(stderr, PROG ": internal error: field too long\n");
		goto out;
	}
	memcpy(req->password, pw->s, pw->len);
	req->password_len = pw->len;
	if (proto_encode_hash_req(&b, 2, req) == -1) {
		fprintf(stderr, PROG ": hasher: cannot encode the request\n");
		goto out;
	}
	sodium_memzero(req, sizeof(*req));
	if ((st = proto_io_roundtrip(fd, &b, 2, PROTO_R_HASH, f,
	    HASHER_WAIT_MS)) != PROTO_IO_OK) {
		hasher_complain(st, f);
		goto out;
	}
	if (proto_decode_hash_ans(f->p, f->h.len, ans) == -1) {
		fprintf(stderr, PROG ": hasher: malformed R_HASH\n");
		goto out;
	}
	rc = 0;
out:
	proto_frame_wipe(f);	/* the answer holds the sealed hash */
	free(f);
	sodium_free(req);	/* zeroes; NULL is fine */
	proto_buf_free(&b);
	return rc;
}

int
ctl_hash_password(const struct cfg *cfg, const char *config_path,
    const char *user_id, const struct secret *pw, struct proto_hash_ans *ans)
{
	pid_t		 pid;
	int		 fd, rc, status;

	fflush(NULL);
	if ((fd = hasher_spawn(cfg->hasher_path, config_path, &pid)) == -1) {
		fprintf(stderr, PROG ": starting %s: %s\n", cfg->hasher_path,
		    strerror(errno));
		return -1;
	}
	rc = hasher_hash(fd, user_id, pw, ans);

	/* It exits 0 when we close our end. */
	close(fd);
	if (rc == -1)
		kill(pid, SIGTERM);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, PROG ": waitpid: %s\n",
			    strerror(errno));
			return -1;
		}
	}
	if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		fprintf(stderr, PROG ": the hasher exited abnormally "
		    "(status 0x%x)\n", (unsigned int)status);
		rc = -1;
	}
	if (rc == -1)
		sodium_memzero(ans, sizeof(*ans));
	return rc;
}

int
ctl_hasher_run(const struct cfg *cfg, const char *extra, const char *option,
    const char *dir, char *out, size_t outlen)
{
	char	*argv[5];
	size_t	 got = 0;
	ssize_t	 n;
	pid_t	 pid;
	int	 p[2], status;
	bool	 full = false;

	argv[0] = cfg->hasher_path;
	argv[1] = (char *)(extra != NULL ? extra : option);
	argv[2] = (char *)(extra != NULL ? option : dir);
	argv[3] = (char *)(extra != NULL ? dir : NULL);
	argv[4] = NULL;
	fflush(NULL);
	if (pipe(p) == -1) {
		fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], STDOUT_FILENO) == -1)
			_exit(127);
		if (p[1] != STDOUT_FILENO)
			close(p[1]);
		execv(argv[0], argv);
		fprintf(stderr, PROG ": %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		n = read(p[0], out + got, outlen - 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == outlen - 1) {
			full = true;	/* read on, so that it can exit */
			got = 0;
		}
	}
	out[full ? 0 : got] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, PROG ": waitpid: %s\n",
			    strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (!full)
			return 0;
		fprintf(stderr, PROG ": %s %s: more output than expected\n",
		    argv[0], option);
		return -1;
	}
	if (WIFEXITED(status))
		fprintf(stderr, PROG ": %s %s exited with status %d\n",
		    argv[0], option, WEXITSTATUS(status));
	else
		fprintf(stderr, PROG ": %s %s killed by signal %d\n",
		    argv[0], option, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -1;
}
