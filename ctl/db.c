/*
 * The database steps wardenctl's commands share: a parameterised statement
 * that says why it failed, transactions, the operator's name and the audit
 * event that carries it.
 */
#include <sys/types.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <libpq-fe.h>

#include "ctl.h"
#include "util.h"

/* The error of the last admin's trigger (migration 0004). */
#define SQLSTATE_LAST_ADMIN	"WA001"
#define SQLSTATE_UNIQUE		"23505"

/* Says why a statement failed: the refusals people meet in words of
 * their own, the rest as the server put it. */
static void
complain(PGconn *conn, const PGresult *res)
{
	const char *state = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	const char *prim = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *cons = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;

	if (state != NULL && strcmp(state, SQLSTATE_LAST_ADMIN) == 0)
		fprintf(stderr, PROG ": refused: this is the last active "
		    "admin; it cannot be disabled, lose the admin role or be "
		    "deleted until another active user has the admin role\n");
	else if (prim != NULL)
		/* Never the detail: it can quote the whole row, password
		 * hash included. */
		fprintf(stderr, PROG ": database: %s%s%s%s\n", prim,
		    cons != NULL ? " (" : "", cons != NULL ? cons : "",
		    cons != NULL ? ")" : "");
	else
		fprintf(stderr, PROG ": database: %s", PQerrorMessage(conn));
}

PGresult *
ctl_query(PGconn *conn, const char *sql, int n, const char *const *v)
{
	PGresult	*res = PQexecParams(conn, sql, n, NULL, v, NULL, NULL, 0);
	ExecStatusType	 st = PQresultStatus(res);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	complain(conn, res);
	PQclear(res);
	return NULL;
}

int
ctl_exec_new_user(PGconn *conn, const char *sql, int n,
    const char *const *v, const char *username, const char *email)
{
	PGresult	*res = PQexecParams(conn, sql, n, NULL, v, NULL, NULL, 0);
	ExecStatusType	 st = PQresultStatus(res);
	const char	*state, *constraint;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(res);
		return 0;
	}
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	constraint = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	if (state == NULL || strcmp(state, SQLSTATE_UNIQUE) != 0)
		complain(conn, res);
	else if (constraint != NULL &&
	    strcmp(constraint, "users_email_lower_key") == 0)
		fprintf(stderr, PROG ": the e-mail address %s is already "
		    "taken\n", email);
	else if (constraint != NULL &&
	    strcmp(constraint, "users_username_lower_key") == 0)
		fprintf(stderr, PROG ": the username %s is already taken\n",
		    username);
	else
		fprintf(stderr, PROG ": the username or the e-mail address is "
		    "already taken\n");
	PQclear(res);
	return -1;
}

PGconn *
ctl_connect(const struct ctl *ctl)
{
	return ctl_db_open(&ctl->cfg);
}

int
ctl_roles_literal(const char *const *roles, size_t n, char *out,
    size_t outlen)
{
	size_t	 i;

	if (str_copy(out, "{", outlen) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(out, ",", outlen);
		strlcat(out, roles[i], outlen);
	}
	return strlcat(out, "}", outlen) >= outlen ? -1 : 0;
}

int
ctl_exec(PGconn *conn, const char *sql, int n, const char *const *v)
{
	PGresult *res = ctl_query(conn, sql, n, v);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

const char *
ctl_col(const PGresult *res, int row, int c)
{
	return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

int
ctl_begin(PGconn *conn)
{
	return ctl_exec(conn, "BEGIN", 0, NULL);
}

int
ctl_commit(PGconn *conn)
{
	return ctl_exec(conn, "COMMIT", 0, NULL);
}

void
ctl_rollback(PGconn *conn)
{
	PGresult *res = PQexec(conn, "ROLLBACK");

	PQclear(res);
}

const char *
ctl_operator(void)
{
	static char	 name[64];
	struct passwd	*pw;
	const char	*sudo = getenv("SUDO_USER");

	if (name[0] != '\0')
		return name;
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_name != NULL)
		strlcpy(name, pw->pw_name, sizeof(name));
	else
		snprintf(name, sizeof(name), "uid %u", (unsigned int)getuid());
	/* root through sudo: the person who ran sudo, as sudo logs it. */
	if (getuid() == 0 && sudo != NULL && *sudo != '\0' &&
	    strlen(sudo) < 32 && strchr(sudo, ' ') == NULL)
		snprintf(name, sizeof(name), "%s (sudo root)", sudo);
	return name;
}

int
ctl_audit(PGconn *conn, const char *user_id, const char *event,
    const char *detail)
{
	static const char sql[] =
	    "INSERT INTO audit_events (user_id, event, detail) VALUES"
	    " ($1::uuid, $2, jsonb_build_object('by', 'wardenctl',"
	    " 'operator', $3::text) || coalesce($4::jsonb, '{}'))";
	const char *v[4] = { user_id, event, ctl_operator(), detail };

	return ctl_exec(conn, sql, 4, v);
}
