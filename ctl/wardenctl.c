/*
 * wardenctl: the administrator's tool.
 *
 *	wardenctl [-f config] migrate
 *	wardenctl [-f config] keygen [dir]
 *	wardenctl [-f config] create-admin username email
 *
 * A command-line program, so blocking I/O is fine here: libpq's blocking
 * calls, and a synchronous round trip to a hasher of its own.  It never
 * links the hasher's key code: keygen runs `warden-hasher --keygen`, and
 * create-admin asks a spawned hasher for the sealed hash.
 *
 * Exit status: 0 on success, 1 on errors (with the cause on stderr), 2 on
 * a usage error.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/readpassphrase.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "config.h"
#include "fields.h"
#include "log.h"
#include "proto.h"
#include "proto_io.h"
#include "stdfds.h"
#include "util.h"

#include "api/blocklist.h"
#include "hc/hasher_spawn.h"
#include "store/migrate.h"
#include "api/validate.h"

#define PROG			"wardenctl"
/* Room for one byte past the longest password, to tell "too long". */
#define PW_BUF			(FIELD_PASSWORD_MAX + 2)
/* How long a hasher answer may take (key loading, sandbox, Argon2id):
 * a hung hasher must not hang us for ever. */
#define HASHER_WAIT_MS		(120 * 1000)

/* A password read from the user, in a buffer wiped after use. */
struct secret {
	char	 s[PW_BUF];
	size_t	 len;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: " PROG " [-f config] migrate\n"
	    "       " PROG " [-f config] keygen [dir]\n"
	    "       " PROG " [-f config] create-admin username email\n"
	    "       " PROG " -h\n");
	exit(2);
}

static void
help(void)
{
	printf("usage: " PROG " [-f config] command [argument ...]\n"
	    "\n"
	    "  migrate                      apply pending database migrations\n"
	    "  keygen [dir]                 create or rotate the signing and pepper\n"
	    "                               keys in dir (default: key_dir)\n"
	    "  create-admin username email  create a user with the admin role;\n"
	    "                               the password is read twice from the\n"
	    "                               terminal, or as two lines from stdin\n"
	    "\n"
	    "  -f config   configuration file (default " WARDEN_CONFIG_PATH ")\n"
	    "  -h          this help\n");
}

/* ---- database ---- */

/* A connection to cfg's database_url, or NULL after saying why. */
static PGconn *
db_open(const struct cfg *cfg)
{
	PGconn	*conn;

	if (cfg->database_url[0] == '\0') {
		fprintf(stderr, PROG ": database_url is not set\n");
		return NULL;
	}
	conn = PQconnectdb(cfg->database_url);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		/* libpq's message names the server, never the password. */
		fprintf(stderr, PROG ": database: %s",
		    conn != NULL ? PQerrorMessage(conn) : "out of memory\n");
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* Applies pending migrations on conn: 0, or -1 after saying why. */
static int
db_migrate(PGconn *conn, bool verbose)
{
	char	 err[512];
	int	 n;

	if ((n = migrate_run(conn, err, sizeof(err))) == -1) {
		fprintf(stderr, PROG ": migrate: %s\n", err);
		return -1;
	}
	if (verbose) {
		if (n == 0)
			printf("schema is current\n");
		else
			printf("applied %d migration%s\n", n, n == 1 ? "" : "s");
	}
	return 0;
}

static int
cmd_migrate(const struct cfg *cfg)
{
	PGconn	*conn;
	int	 rc;

	if ((conn = db_open(cfg)) == NULL)
		return 1;
	rc = db_migrate(conn, true) == 0 ? 0 : 1;
	PQfinish(conn);
	return rc;
}

/* ---- keygen ---- */

/* Runs `<hasher_path> --keygen dir`: the hasher owns the key code. */
static int
cmd_keygen(const struct cfg *cfg, const char *dir)
{
	char	*argv[4];
	pid_t	 pid;
	int	 status;

	if (dir == NULL || *dir == '\0')
		dir = cfg->key_dir;
	if (*dir == '\0') {
		fprintf(stderr, PROG ": keygen: no directory given and "
		    "key_dir is not set\n");
		return 1;
	}
	if (cfg->hasher_path[0] == '\0') {
		fprintf(stderr, PROG ": keygen: hasher_path is not set\n");
		return 1;
	}
	argv[0] = cfg->hasher_path;
	argv[1] = (char *)"--keygen";
	argv[2] = (char *)dir;
	argv[3] = NULL;
	fflush(NULL);
	if ((pid = fork()) == -1) {
		fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execv(argv[0], argv);
		fprintf(stderr, PROG ": %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, PROG ": waitpid: %s\n",
			    strerror(errno));
			return 1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		fprintf(stderr, PROG ": keygen: %s exited with status %d\n",
		    argv[0], WEXITSTATUS(status));
	else
		fprintf(stderr, PROG ": keygen: %s killed by signal %d\n",
		    argv[0], WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return 1;
}

/* ---- passwords ---- */

/*
 * Reads one line of standard input into pw, byte by byte with read(2), so
 * that no stdio buffer keeps a copy of it.  Returns 0, or -1 after saying
 * why (end of input before any byte, a read error, a line too long).
 */
static int
read_line(struct secret *pw, const char *what)
{
	ssize_t	 n;
	char	 c;

	pw->len = 0;
	for (;;) {
		n = read(STDIN_FILENO, &c, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, PROG ": reading %s: %s\n", what,
			    strerror(errno));
			return -1;
		}
		if (n == 0) {
			if (pw->len == 0) {
				fprintf(stderr, PROG ": no %s on standard "
				    "input\n", what);
				return -1;
			}
			break;
		}
		if (c == '\n')
			break;
		if (pw->len + 1 >= sizeof(pw->s)) {
			/* Drain the rest of the line, then refuse. */
			while ((n = read(STDIN_FILENO, &c, 1)) == 1 ||
			    (n == -1 && errno == EINTR))
				if (n == 1 && c == '\n')
					break;
			c = 0;
			fprintf(stderr, PROG ": %s: longer than %d bytes\n",
			    what, FIELD_PASSWORD_MAX);
			return -1;
		}
		pw->s[pw->len++] = c;
	}
	c = 0;
	pw->s[pw->len] = '\0';
	return 0;
}

/* Reads the password at a terminal prompt: 0, or -1 after saying why. */
static int
read_tty(struct secret *pw, const char *prompt)
{
	if (readpassphrase(prompt, pw->s, sizeof(pw->s),
	    RPP_REQUIRE_TTY) == NULL) {
		fprintf(stderr, PROG ": reading the password: %s\n",
		    strerror(errno));
		return -1;
	}
	pw->len = strlen(pw->s);
	if (pw->len > FIELD_PASSWORD_MAX) {
		fprintf(stderr, PROG ": the password is longer than %d bytes\n",
		    FIELD_PASSWORD_MAX);
		return -1;
	}
	return 0;
}

/* Reads the password twice into pw (and again): 0 when both match. */
static int
read_password(struct secret *pw, struct secret *again)
{
	bool	 tty = isatty(STDIN_FILENO);

	if ((tty ? read_tty(pw, "Password: ") :
	    read_line(pw, "password")) == -1)
		return -1;
	if ((tty ? read_tty(again, "Password again: ") :
	    read_line(again, "password confirmation")) == -1)
		return -1;
	if (pw->len != again->len ||
	    sodium_memcmp(pw->s, again->s, pw->len) != 0) {
		fprintf(stderr, PROG ": the passwords do not match\n");
		return -1;
	}
	return 0;
}

/* ---- the hasher, synchronously ---- */

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

/*
 * Spawns a hasher with config_path, gets the sealed hash of pw for
 * user_id, closes the socket and reaps the hasher.  0 or -1.
 */
static int
hash_password(const struct cfg *cfg, const char *config_path,
    const char *user_id, const struct secret *pw, struct proto_hash_ans *ans)
{
	pid_t		 pid;
	int		 fd, rc, status;

	if (cfg->hasher_path[0] == '\0') {
		fprintf(stderr, PROG ": hasher_path is not set\n");
		return -1;
	}
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

/* ---- create-admin ---- */

/* Runs one parameterised statement; 0, or -1 with its result in *failed
 * (the caller clears it). */
static int
exec_params(PGconn *conn, const char *sql, int n, const char *const *v,
    PGresult **failed)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, v, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(res);
		return 0;
	}
	*failed = res;
	return -1;
}

/* Inserts the admin and its audit event in one transaction.  0 or -1. */
static int
insert_admin(PGconn *conn, const char *id, const char *username,
    const char *email, const char *stored)
{
	static const char ins_user[] =
	    "INSERT INTO users (id, username, email, password_hash, roles) "
	    "VALUES ($1, $2, $3, $4, '{admin}')";
	static const char ins_audit[] =
	    "INSERT INTO audit_events (user_id, event, detail) "
	    "VALUES ($1, 'registered', '{\"by\":\"wardenctl\"}')";
	const char	*v[4] = { id, username, email, stored };
	PGresult	*res = NULL;
	const char	*state, *constraint;

	if (exec_params(conn, "BEGIN", 0, NULL, &res) == 0 &&
	    exec_params(conn, ins_user, 4, v, &res) == 0 &&
	    exec_params(conn, ins_audit, 1, v, &res) == 0 &&
	    exec_params(conn, "COMMIT", 0, NULL, &res) == 0)
		return 0;

	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	constraint = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	if (state != NULL && strcmp(state, "23505") == 0) {
		if (constraint != NULL &&
		    strcmp(constraint, "users_email_lower_key") == 0)
			fprintf(stderr, PROG ": the e-mail address %s is "
			    "already taken\n", email);
		else if (constraint != NULL &&
		    strcmp(constraint, "users_username_lower_key") == 0)
			fprintf(stderr, PROG ": the username %s is already "
			    "taken\n", username);
		else
			fprintf(stderr, PROG ": the username or the e-mail "
			    "address is already taken\n");
	} else
		fprintf(stderr, PROG ": database: %s",
		    res != NULL ? PQresultErrorMessage(res) :
		    PQerrorMessage(conn));
	PQclear(res);
	res = PQexec(conn, "ROLLBACK");
	PQclear(res);
	return -1;
}

static int
cmd_create_admin(const struct cfg *cfg, const char *config_path,
    const char *username, const char *email)
{
	char			 msg[VALIDATE_MSG_MAX];
	struct blocklist	*bl = NULL;
	struct secret		*pw = NULL, *again = NULL;
	struct proto_hash_ans	*ans = NULL;
	PGconn			*conn = NULL;
	char			 id[PROTO_UUID_LEN + 1], err[512];
	int			 rc = 1;

	if (!field_is_username(username)) {
		fprintf(stderr, PROG ": username: must be 3 to %d characters "
		    "of A-Z a-z 0-9 . _ -, starting with a letter or digit\n",
		    FIELD_USERNAME_MAX);
		return 1;
	}
	if (!field_is_email(email)) {
		fprintf(stderr, PROG ": email: must be a valid e-mail "
		    "address\n");
		return 1;
	}
	if ((bl = blocklist_load(cfg->password_blocklist, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, PROG ": password_blocklist: %s\n", err);
		return 1;
	}
	pw = sodium_malloc(sizeof(*pw));
	again = sodium_malloc(sizeof(*again));
	ans = sodium_malloc(sizeof(*ans));
	if (pw == NULL || again == NULL || ans == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	memset(pw, 0, sizeof(*pw));
	memset(again, 0, sizeof(*again));
	memset(ans, 0, sizeof(*ans));

	if (read_password(pw, again) == -1)
		goto out;
	sodium_memzero(again, sizeof(*again));
	if (!validate_password(pw->s, pw->len, cfg->password_min_length,
	    username, email, bl, msg)) {
		fprintf(stderr, PROG ": password: %s\n", msg);
		goto out;
	}

	if ((conn = db_open(cfg)) == NULL || db_migrate(conn, false) == -1)
		goto out;
	uuid_random(id);
	if (hash_password(cfg, config_path, id, pw, ans) == -1)
		goto out;
	sodium_memzero(pw, sizeof(*pw));
	if (insert_admin(conn, id, username, email, ans->stored) == -1)
		goto out;
	printf("%s\n", id);
	rc = 0;
out:
	PQfinish(conn);
	sodium_free(pw);	/* each zeroed on free; NULL is fine */
	sodium_free(again);
	sodium_free(ans);
	blocklist_free(bl);
	return rc;
}

/* ---- main ---- */

int
main(int argc, char *argv[])
{
	struct cfg	 cfg;
	const char	*config_path = WARDEN_CONFIG_PATH, *cmd;
	bool		 explicit = false;
	char		 err[512];
	int		 ch, rc;

	if (stdfds_ensure() == -1)
		return 1;
	while ((ch = getopt(argc, argv, "+f:h")) != -1) {
		switch (ch) {
		case 'f':
			config_path = optarg;
			explicit = true;
			break;
		case 'h':
			help();
			return 0;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	cmd = argv[0];
	if (!((strcmp(cmd, "migrate") == 0 && argc == 1) ||
	    (strcmp(cmd, "keygen") == 0 && argc <= 2) ||
	    (strcmp(cmd, "create-admin") == 0 && argc == 3)))
		usage();

	/* The default file may be absent: the environment then configures. */
	if (!explicit && access(config_path, F_OK) == -1 && errno == ENOENT)
		config_path = NULL;
	cfg_defaults(&cfg);
	if (cfg_load(&cfg, config_path, err, sizeof(err)) == -1) {
		fprintf(stderr, PROG ": %s\n", err);
		cfg_free(&cfg);
		return 1;
	}
	log_init(PROG, cfg.log_level, cfg.log_format == CFG_LOG_JSON);
	if (sodium_init() < 0) {
		fprintf(stderr, PROG ": libsodium failed to initialise\n");
		cfg_free(&cfg);
		return 1;
	}
	/* A hasher that dies makes write() fail with EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);

	if (strcmp(cmd, "migrate") == 0)
		rc = cmd_migrate(&cfg);
	else if (strcmp(cmd, "keygen") == 0)
		rc = cmd_keygen(&cfg, argc == 2 ? argv[1] : NULL);
	else
		rc = cmd_create_admin(&cfg, config_path, argv[1], argv[2]);
	cfg_free(&cfg);
	return rc;
}
