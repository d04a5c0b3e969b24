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

/* Room for one byte past the longest password, to tell "too long". */
#define PW_BUF		(FIELD_PASSWORD_MAX + 2)

/* A password read from the user, in sodium_malloc'd memory wiped after
 * use. */
struct secret {
	char	 s[PW_BUF];
	size_t	 len;
};

/*
 * The commands, one file each (migrate.c, keygen.c, admin.c): each
 * returns the exit status, 0 or 1 after saying why.
 */
int	cmd_migrate(const struct cfg *cfg);
int	cmd_keygen(const struct cfg *cfg, const char *dir);
int	cmd_create_admin(const struct cfg *cfg, const char *config_path,
	    const char *username, const char *email);

/* migrate.c: a connection to cfg's database_url, or NULL. */
PGconn	*ctl_db_open(const struct cfg *cfg);

/* migrate.c: applies pending migrations on conn, saying what it did when
 * verbose.  0 or -1. */
int	ctl_db_migrate(PGconn *conn, bool verbose);

/* password.c: reads the password twice, at the terminal's prompt or as two
 * lines of standard input, into pw and again.  0 when both match. */
int	ctl_read_password(struct secret *pw, struct secret *again);

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
int		 ctl_commit(PGconn *conn);
void		 ctl_rollback(PGconn *conn);

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
