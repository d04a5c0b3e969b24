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

PGresult *
ctl_query(PGconn *conn, const char *sql, int n, const char *const *v)
{
	PGresult	*res = PQexecParams(conn, sql, n, NULL, v, NULL, NULL, 0);
	ExecStatusType	 st = PQresultStatus(res);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	fprintf(stderr, PROG ": database: %s",
	    res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn));
	PQclear(res);
	return NULL;
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
