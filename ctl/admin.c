/*
 * wardenctl create-admin: checks the username and e-mail address, reads
 * and vets the password, has a hasher seal it, and inserts the user with
 * the admin role and its audit event in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "config.h"
#include "ctl.h"
#include "fields.h"
#include "proto.h"
#include "util.h"

#include "api/blocklist.h"
#include "api/validate.h"

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
	    "INSERT INTO users (id, username, email, password_hash, roles, "
	    "email_verified) VALUES ($1, $2, $3, $4, '{admin}', true)";
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

int
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

	if (ctl_read_password(pw, again) == -1)
		goto out;
	sodium_memzero(again, sizeof(*again));
	if (!validate_password(pw->s, pw->len, cfg->password_min_length,
	    username, email, bl, msg)) {
		fprintf(stderr, PROG ": password: %s\n", msg);
		goto out;
	}

	if ((conn = ctl_db_open(cfg)) == NULL ||
	    ctl_db_migrate(conn, false) == -1)
		goto out;
	uuid_random(id);
	if (ctl_hash_password(cfg, config_path, id, pw, ans) == -1)
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
