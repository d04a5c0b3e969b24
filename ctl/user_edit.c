/*
 * wardenctl user disable, enable, roles, unlock, mfa-reset and delete:
 * each one transaction of plain UPDATE/DELETE on the user's rows with its
 * audit event.  The database's triggers do the rest, whoever writes:
 * every wardend hears of a change to the token version, is_active or the
 * roles (0002_user_changes.sql), and the last active admin stays
 * (0004_last_admin.sql; db.c says so in words).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "ctl.h"
#include "fields.h"
#include "proto.h"
#include "util.h"

/*
 * Connects, begins a transaction and finds the user of argv[optind],
 * locked.  0 with *conn open in the transaction, else the exit status
 * (*conn closed).
 */
static int
edit_begin(const struct ctl *ctl, char **argv, PGconn **conn,
    struct ctl_user *u)
{
	int	 rc;

	if ((*conn = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_FAIL;
	if (ctl_begin(*conn) == -1) {
		rc = CTL_EXIT_FAIL;
		goto fail;
	}
	if ((rc = ctl_user_find(*conn, argv[optind], true, u)) == 0)
		return 0;
	ctl_rollback(*conn);
fail:
	PQfinish(*conn);
	*conn = NULL;
	return rc;
}

/* Commits (or rolls back after a failed step, ok false) and closes. */
static int
edit_end(PGconn *conn, bool ok)
{
	if (ok && ctl_commit(conn) == 0) {
		PQfinish(conn);
		return CTL_EXIT_OK;
	}
	ctl_rollback(conn);
	PQfinish(conn);
	return CTL_EXIT_FAIL;
}

/* Sets is_active; disabling ends the sessions, as the admin API's PATCH
 * does (token version bump, refresh tokens revoked). */
static int
set_active(struct ctl *ctl, int argc, char **argv, bool active)
{
	static const char disable[] =
	    "WITH u AS (UPDATE users SET is_active = false,"
	    " token_version = token_version + 1, updated_at = now()"
	    " WHERE id = $1 AND is_active RETURNING id)"
	    " UPDATE refresh_tokens SET revoked_at = now()"
	    " WHERE user_id IN (SELECT id FROM u) AND revoked_at IS NULL";
	static const char enable[] =
	    "UPDATE users SET is_active = true, updated_at = now()"
	    " WHERE id = $1 AND NOT is_active";
	struct ctl_user	 u;
	PGconn		*conn;
	const char	*v[1];
	bool		 ok;
	int		 rc;

	if (ctl_getopt_plain(ctl, argc, argv, &rc) == -1)
		return rc;
	if ((rc = edit_begin(ctl, argv, &conn, &u)) != 0)
		return rc;
	if (u.active == active) {
		ctl_rollback(conn);
		PQfinish(conn);
		printf("%s is already %s\n", u.username,
		    active ? "enabled" : "disabled");
		return CTL_EXIT_OK;
	}
	v[0] = u.id;
	ok = ctl_exec(conn, active ? enable : disable, 1, v) == 0 &&
	    ctl_audit(conn, u.id, active ? "enabled" : "disabled", NULL) == 0;
	if ((rc = edit_end(conn, ok)) == CTL_EXIT_OK)
		printf("%s %s\n", u.username, active ? "enabled" : "disabled");
	return rc;
}

int
cmd_user_disable(struct ctl *ctl, int argc, char **argv)
{
	return set_active(ctl, argc, argv, false);
}

int
cmd_user_enable(struct ctl *ctl, int argc, char **argv)
{
	return set_active(ctl, argc, argv, true);
}

/* Appends name to list (n of at most PROTO_ROLES_MAX), checked. */
static int
role_arg(const char *opt, const char *name, const char **list, size_t *n)
{
	if (!field_is_role(name)) {
		fprintf(stderr, PROG ": --%s %s: not a role name: 1 to 32 of "
		    "a-z 0-9 _ -\n", opt, name);
		return -1;
	}
	if (*n == PROTO_ROLES_MAX) {
		fprintf(stderr, PROG ": --%s: at most %d roles\n", opt,
		    PROTO_ROLES_MAX);
		return -1;
	}
	list[(*n)++] = name;
	return 0;
}

int
cmd_user_roles(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "add", required_argument, NULL, 'a' },
		{ "remove", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/*
	 * The roles kept in their order, then the new ones; a change bumps
	 * the token version, as the admin API's PATCH does, so that tokens
	 * carrying the old roles die.  Row: old roles, new roles, changed.
	 */
	static const char update[] =
	    "WITH old AS (SELECT id, roles FROM users WHERE id = $1),"
	    " new AS (SELECT id, roles AS old_roles, array(SELECT r FROM"
	    " unnest(roles) WITH ORDINALITY AS x(r, i)"
	    " WHERE r <> ALL ($3::text[]) ORDER BY i) ||"
	    " array(SELECT a FROM unnest($2::text[]) WITH ORDINALITY AS y(a, j)"
	    " WHERE a <> ALL (roles) AND a <> ALL ($3::text[])"
	    " GROUP BY a ORDER BY min(j)) AS roles FROM old),"
	    " u AS (UPDATE users SET roles = new.roles,"
	    " token_version = token_version + 1, updated_at = now()"
	    " FROM new WHERE users.id = new.id"
	    " AND new.roles IS DISTINCT FROM new.old_roles RETURNING users.id)"
	    " SELECT array_to_string(old_roles, ','),"
	    " array_to_string(roles, ','), EXISTS (SELECT 1 FROM u),"
	    " jsonb_build_object('from', to_jsonb(old_roles),"
	    " 'to', to_jsonb(roles))::text FROM new";
	const char	*add[PROTO_ROLES_MAX], *rm[PROTO_ROLES_MAX], *v[3];
	char		 add_lit[PROTO_ROLES_MAX * (PROTO_ROLE_MAX + 1) + 3];
	char		 rm_lit[sizeof(add_lit)];
	size_t		 nadd = 0, nrm = 0;
	struct ctl_user	 u;
	PGconn		*conn;
	PGresult	*res;
	bool		 ok, changed;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "a:r:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			if (role_arg("add", optarg, add, &nadd) == -1)
				return CTL_EXIT_USAGE;
			break;
		case 'r':
			if (role_arg("remove", optarg, rm, &nrm) == -1)
				return CTL_EXIT_USAGE;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_bad_option(ctl, argv);
		}
	}
	if (ctl_operands(ctl, argc - optind) == -1)
		return CTL_EXIT_USAGE;
	if (ctl_roles_literal(add, nadd, add_lit, sizeof(add_lit)) == -1 ||
	    ctl_roles_literal(rm, nrm, rm_lit, sizeof(rm_lit)) == -1) {
		fprintf(stderr, PROG ": too many roles\n");
		return CTL_EXIT_USAGE;
	}
	if ((rc = edit_begin(ctl, argv, &conn, &u)) != 0)
		return rc;
	v[0] = u.id;
	v[1] = add_lit;
	v[2] = rm_lit;
	if ((res = ctl_query(conn, update, 3, v)) == NULL)
		return edit_end(conn, false);
	if (PQntuples(res) != 1) {
		PQclear(res);
		fprintf(stderr, PROG ": no such user: %s\n", argv[optind]);
		edit_end(conn, false);
		return CTL_EXIT_NOTFOUND;
	}
	changed = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	ok = !changed || ctl_audit(conn, u.id, "roles_changed",
	    PQgetvalue(res, 0, 3)) == 0;
	if ((rc = edit_end(conn, ok)) == CTL_EXIT_OK)
		printf("%s\n", PQgetvalue(res, 0, 1));
	PQclear(res);
	return rc;
}

int
cmd_user_unlock(struct ctl *ctl, int argc, char **argv)
{
	/* Both kinds of lock of 0003_login_trust.sql: the strangers' (on
	 * the user row) and each trusted device's. */
	static const char unlock[] =
	    "WITH d AS (UPDATE login_devices SET failed_logins = 0,"
	    " last_failed_at = NULL, locked_until = NULL"
	    " WHERE user_id = $1 AND (failed_logins > 0"
	    " OR locked_until IS NOT NULL) RETURNING 1)"
	    " UPDATE users SET failed_logins = 0, locked_until = NULL,"
	    " last_failed_at = NULL WHERE id = $1"
	    " RETURNING (SELECT count(*) FROM d)";
	struct ctl_user	 u;
	PGconn		*conn;
	const char	*v[1];
	bool		 ok;
	int		 rc;

	if (ctl_getopt_plain(ctl, argc, argv, &rc) == -1)
		return rc;
	if ((rc = edit_begin(ctl, argv, &conn, &u)) != 0)
		return rc;
	v[0] = u.id;
	ok = ctl_exec(conn, unlock, 1, v) == 0 &&
	    ctl_audit(conn, u.id, "unlocked", NULL) == 0;
	if ((rc = edit_end(conn, ok)) == CTL_EXIT_OK)
		printf("%s unlocked\n", u.username);
	return rc;
}

int
cmd_user_mfa_reset(struct ctl *ctl, int argc, char **argv)
{
	/* What the admin API's DELETE /users/{id}/mfa does (store/mfa.c,
	 * mfa_remove): the factor, pending or not, its recovery codes and
	 * the second steps under way. */
	static const char reset[] =
	    "WITH u AS (UPDATE users SET totp_sealed = NULL,"
	    " totp_confirmed_at = NULL, totp_last_step = 0, updated_at = now()"
	    " WHERE id = $1 AND totp_sealed IS NOT NULL RETURNING id),"
	    " d AS (DELETE FROM recovery_codes WHERE user_id = $1),"
	    " m AS (DELETE FROM mfa_tokens WHERE user_id = $1)"
	    " SELECT count(*) FROM u";
	struct ctl_user	 u;
	PGconn		*conn;
	PGresult	*res;
	const char	*v[1];
	bool		 ok, had;
	int		 rc;

	if (ctl_getopt_plain(ctl, argc, argv, &rc) == -1)
		return rc;
	if ((rc = edit_begin(ctl, argv, &conn, &u)) != 0)
		return rc;
	v[0] = u.id;
	if ((res = ctl_query(conn, reset, 1, v)) == NULL)
		return edit_end(conn, false);
	had = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	PQclear(res);
	ok = !had || ctl_audit(conn, u.id, "mfa_removed",
	    "{\"factor\":\"totp\"}") == 0;
	if ((rc = edit_end(conn, ok)) == CTL_EXIT_OK)
		printf(had ? "%s: second factor removed\n" :
		    "%s had no second factor\n", u.username);
	return rc;
}

/* Asks on the terminal; true when the operator types the username. */
static bool
confirmed(const struct ctl_user *u)
{
	char	 line[128];
	size_t	 n;

	fprintf(stderr, "Delete user %s <%s> (%s) and its sessions? Type the "
	    "username to confirm: ", u->username, u->email, u->id);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	return str_ieq(line, u->username);
}

int
cmd_user_delete(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_user	 u;
	PGconn		*conn;
	const char	*v[1];
	PGresult	*res;
	char		 detail[128];
	bool		 yes = false, ok, gone;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "yh", opts, NULL)) != -1) {
		switch (ch) {
		case 'y':
			yes = true;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_bad_option(ctl, argv);
		}
	}
	if (ctl_operands(ctl, argc - optind) == -1)
		return CTL_EXIT_USAGE;
	if (!yes && !isatty(STDIN_FILENO)) {
		fprintf(stderr, PROG ": user delete: standard input is not a "
		    "terminal to confirm on; give --yes\n");
		return CTL_EXIT_USAGE;
	}
	if ((conn = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_FAIL;
	/* Asked before the transaction: no lock waits on a person. */
	if ((rc = ctl_user_find(conn, argv[optind], false, &u)) != 0) {
		PQfinish(conn);
		return rc;
	}
	if (!yes && !confirmed(&u)) {
		PQfinish(conn);
		fprintf(stderr, PROG ": not confirmed: nothing deleted\n");
		return CTL_EXIT_FAIL;
	}
	if (ctl_begin(conn) == -1)
		return edit_end(conn, false);
	v[0] = u.id;
	if ((res = ctl_query(conn, "DELETE FROM users WHERE id = $1"
	    " RETURNING id", 1, v)) == NULL)
		return edit_end(conn, false);
	gone = PQntuples(res) == 1;
	PQclear(res);
	if (!gone) {
		fprintf(stderr, PROG ": no such user: %s\n", argv[optind]);
		edit_end(conn, false);
		return CTL_EXIT_NOTFOUND;
	}
	/* The event keeps who it was: events outlive their users. */
	str_printf(detail, sizeof(detail), "{\"username\":\"%s\"}",
	    u.username);
	ok = ctl_audit(conn, u.id, "deleted", detail) == 0;
	if ((rc = edit_end(conn, ok)) == CTL_EXIT_OK)
		printf("%s deleted\n", u.username);
	return rc;
}
