/*
 * What the files of wardenctl share: its name for messages, the commands
 * main.c dispatches to, and the steps one command borrows from another.
 * Every function here says why it failed on stderr, prefixed with PROG,
 * and returns -1 or NULL (a command: its exit status).
 */
#ifndef WARDEN_CTL_H
#define WARDEN_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "config.h"
#include "fields.h"
#include "proto.h"

#define PROG		"wardenctl"

/* Exit statuses (man/wardenctl.8, EXIT STATUS). */
#define CTL_EXIT_OK		0
#define CTL_EXIT_FAIL		1	/* an error, said on stderr */
#define CTL_EXIT_USAGE		2
#define CTL_EXIT_NOTFOUND	3	/* no such user, session or client */

/* A timestamp column as RFC 3339 UTC text, as the API writes it. */
#define CTL_TS(col)							\
	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

struct ctl_cmd;

/* What every command gets: the configuration, the file it came from
 * (NULL: the environment only), and its own row of main.c's table. */
struct ctl {
	struct cfg		 cfg;
	const char		*config_path;
	const struct ctl_cmd	*cmd;
};

/*
 * A command: argv[0] is its name ("user list"), then its options and
 * operands, for getopt_long (main.c has reset it).  Returns the exit
 * status.
 */
typedef int	ctl_cmd_fn(struct ctl *ctl, int argc, char **argv);

/* A row of main.c's dispatch table. */
struct ctl_cmd {
	const char	*noun;		/* "user", or a command of one word */
	const char	*verb;		/* "list", or NULL */
	int		 min_args;	/* operands after the options */
	int		 max_args;
	ctl_cmd_fn	*fn;
	const char	*synopsis;	/* options and operands */
	const char	*help;		/* one line */
};

/*
 * main.c: for a command's option parsing.  ctl_usage prints the command's
 * synopsis on stderr and returns CTL_EXIT_USAGE; ctl_help prints it with
 * its help line on stdout and returns 0; ctl_bad_option says which
 * argument getopt_long refused (argv[optind - 1]) and returns ctl_usage.
 * ctl_operands returns 0 when n operands fit the command's row, else
 * -1 after ctl_usage.
 */
int	ctl_usage(const struct ctl *ctl);
int	ctl_help(const struct ctl *ctl);
int	ctl_bad_option(const struct ctl *ctl, char **argv);
int	ctl_operands(const struct ctl *ctl, int n);

/*
 * main.c: the option parsing of a command whose only option is -h/--help:
 * 0 when the command goes on with its operands at argv[optind], else -1
 * with the exit status in *rc (help printed, or a usage error).
 */
int	ctl_getopt_plain(const struct ctl *ctl, int argc, char **argv,
	    int *rc);

/* main.c: ctl_getopt_plain for a command whose one option is --json,
 * which sets *json. */
int	ctl_getopt_json(const struct ctl *ctl, int argc, char **argv,
	    bool *json, int *rc);

/* Room for one byte past the longest password, to tell "too long". */
#define PW_BUF		(FIELD_PASSWORD_MAX + 2)

/* A password read from the user, in sodium_malloc'd memory wiped after
 * use. */
struct secret {
	char	 s[PW_BUF];
	size_t	 len;
};

/*
 * The commands, ctl_cmd_fn each, dispatched by main.c's table: migrate.c,
 * keygen.c, admin.c, user.c (list, show), user_edit.c, user_password.c,
 * session.c, key.c, audit.c, client.c, import.c, export.c.
 */
ctl_cmd_fn	cmd_migrate, cmd_keygen, cmd_create_admin;
ctl_cmd_fn	cmd_user_list, cmd_user_show;
ctl_cmd_fn	cmd_user_disable, cmd_user_enable, cmd_user_roles;
ctl_cmd_fn	cmd_user_unlock, cmd_user_mfa_reset, cmd_user_delete;
ctl_cmd_fn	cmd_user_add, cmd_user_set_password, cmd_user_reset_link;
ctl_cmd_fn	cmd_session_list, cmd_session_revoke;
ctl_cmd_fn	cmd_identity_list, cmd_identity_unlink;
ctl_cmd_fn	cmd_key_list, cmd_key_rotate;
ctl_cmd_fn	cmd_audit_tail;
/* client.c: the OpenID Connect provider's clients. */
ctl_cmd_fn	cmd_client_add, cmd_client_list, cmd_client_show;
ctl_cmd_fn	cmd_client_remove, cmd_client_rotate_secret;
/* import.c, export.c: users of other systems in, warden's out, as JSON
 * Lines (import_line.h). */
ctl_cmd_fn	cmd_import, cmd_export;

/* migrate.c: a connection to cfg's database_url, or NULL. */
PGconn	*ctl_db_open(const struct cfg *cfg);

/* migrate.c: applies pending migrations on conn, saying what it did when
 * verbose.  0 or -1. */
int	ctl_db_migrate(PGconn *conn, bool verbose);

/* password.c: reads the password twice, at the terminal's prompt or as two
 * lines of standard input, into pw and again.  0 when both match. */
int	ctl_read_password(struct secret *pw, struct secret *again);

/* password.c: reads one line of standard input into pw (--password-stdin),
 * without a stdio buffer.  0, or -1 after saying why. */
int	ctl_read_password_line(struct secret *pw);

/*
 * password.c: checks pw against the rules of a registration (length, not
 * the username or e-mail, not on cfg's blocklist).  0, or -1 after saying
 * why.
 */
int	ctl_vet_password(const struct cfg *cfg, const struct secret *pw,
	    const char *username, const char *email);

/* A user found by ctl_user_find. */
struct ctl_user {
	char	 id[FIELD_UUID_LEN + 1];
	char	 username[FIELD_USERNAME_MAX + 1];
	char	 email[FIELD_EMAIL_MAX + 1];
	bool	 active;
};

/*
 * user_find.c: resolves name, a user's id (a UUID), username (in any case)
 * or e-mail address (in any case), into *u; with lock, the row is locked
 * FOR UPDATE (in the caller's transaction).  Returns 0, CTL_EXIT_NOTFOUND
 * after saying "no such user", or CTL_EXIT_FAIL after saying why.
 */
int	ctl_user_find(PGconn *conn, const char *name, bool lock,
	    struct ctl_user *u);

/*
 * user_password.c: checks a new user's username and e-mail address against
 * the API's field rules.  0, or -1 after saying which is wrong.
 */
int	ctl_new_user_ok(const char *username, const char *email);

/*
 * hasher.c: checks that cfg's hasher_path can be run.  Left at its
 * compiled-in default (the installed libexecdir), it is the warden-hasher
 * beside this wardenctl when there is one (a build tree: both of one
 * build), else the default; a hasher_path set in the configuration or
 * WARDEN_HASHER_PATH is taken as it is.  0, or -1 after saying where it
 * looked.
 */
int	ctl_find_hasher(struct cfg *cfg);

/*
 * hasher.c: spawns a hasher with config_path, gets the sealed hash of pw
 * for user_id into *ans (a secret: the caller wipes it), closes the socket
 * and reaps the hasher.  0, or -1 with *ans wiped.
 */
int	ctl_hash_password(const struct cfg *cfg, const char *config_path,
	    const char *user_id, const struct secret *pw,
	    struct proto_hash_ans *ans);

/*
 * hasher.c: runs `<hasher_path> [extra] <option> <dir>` (--keygen,
 * --list-keys; extra one more option or NULL) and reads what it prints
 * into out (outlen bytes, NUL-terminated).  0, or -1 after saying why (it
 * failed, or printed more than fits).
 */
int	ctl_hasher_run(const struct cfg *cfg, const char *extra,
	    const char *option, const char *dir, char *out, size_t outlen);

/* keygen.c: ctl_getopt_plain for keygen and key rotate, whose one
 * option is --now, which sets *now. */
int	ctl_getopt_now(const struct ctl *ctl, int argc, char **argv,
	    bool *now, int *rc);

/*
 * keygen.c: the --publish-delay option for `warden-hasher --keygen`: 0
 * when at_once (--now), else key_publish_delay.  Into buf.
 */
const char	*ctl_keygen_delay(const struct cfg *cfg, bool at_once,
		    char *buf, size_t buflen);

/*
 * keygen.c: what an operator does next after keygen printed out (lines
 * sign, pepper, rsa and from <t>), on stderr.
 */
void	ctl_keygen_advice(const char *dir, const char *out);

/*
 * db.c: the steps every command that touches the database shares.
 * ctl_query runs one parameterised statement and returns its result (the
 * caller clears it), or NULL after printing the server's message;
 * ctl_exec does the same and drops the result (0 or -1).
 */
PGresult	*ctl_query(PGconn *conn, const char *sql, int n,
		    const char *const *v);
int		 ctl_exec(PGconn *conn, const char *sql, int n,
		    const char *const *v);
int		 ctl_begin(PGconn *conn);
/* db.c: column c of row, or NULL when it is SQL NULL. */
const char	*ctl_col(const PGresult *res, int row, int c);
int		 ctl_commit(PGconn *conn);
void		 ctl_rollback(PGconn *conn);

/*
 * db.c: a connection to cfg's database for a command (ctl_db_open), or
 * NULL after saying why.
 */
PGconn		*ctl_connect(const struct ctl *ctl);

/*
 * db.c: ctl_exec for a statement that creates a user: a unique violation
 * says which of username and email is taken.  0 or -1.
 */
int		 ctl_exec_new_user(PGconn *conn, const char *sql, int n,
		    const char *const *v, const char *username,
		    const char *email);

/*
 * db.c: the PostgreSQL array literal of n role names (each field_is_role:
 * no quoting needed) into out.  0, or -1 when it does not fit.
 */
int		 ctl_roles_literal(const char *const *roles, size_t n,
		    char *out, size_t outlen);

/* db.c: who runs wardenctl, for the audit trail: the Unix user, or the
 * user behind sudo when root runs it through sudo. */
const char	*ctl_operator(void);

/*
 * db.c: writes an audit event naming the operator: detail is
 * {"by":"wardenctl","operator":ctl_operator()} merged with detail (a JSON
 * object, or NULL).  user_id may be NULL (an event about no one user).
 * 0 or -1.
 */
int		 ctl_audit(PGconn *conn, const char *user_id, const char *event,
		    const char *detail);

#endif
