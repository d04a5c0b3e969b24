#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "log.h"
#include "row.h"
#include "sql.h"
#include "util.h"

#define SQLSTATE_UNIQUE_VIOLATION	"23505"
#define SQLSTATE_LAST_ADMIN		"WA001"	/* migration 0004 */

/*
 * True when state says the server could not do the work now rather than
 * that the statement is wrong: connection exceptions (class 08),
 * insufficient resources (class 53: disk full, out of memory, too many
 * connections), a server shutting down or starting (57P01 to 57P03), a
 * statement cancelled (57014: statement_timeout) and a lock not
 * available (55P03: lock_timeout).  Such a failure is STORE_UNAVAILABLE,
 * which the API answers 503 with Retry-After (api/reply.c), not 500.
 */
static bool
sqlstate_unavailable(const char *state)
{
	return strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
	    strcmp(state, "57P03") == 0 || strcmp(state, "57014") == 0 ||
	    strcmp(state, "55P03") == 0;
}

enum store_status
row_status(const PGresult *res, const char *what)
{
	const char *state, *msg;

	if (res == NULL)
		return STORE_UNAVAILABLE;
	switch (PQresultStatus(res)) {
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
		return STORE_OK;
	default:
		break;
	}
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state != NULL && strcmp(state, SQLSTATE_UNIQUE_VIOLATION) == 0) {
		log_debug("%s: unique violation on %s", what,
		    row_constraint(res));
		return STORE_CONFLICT;
	}
	if (state != NULL && strcmp(state, SQLSTATE_LAST_ADMIN) == 0) {
		log_info("%s: refused: it would leave no active admin", what);
		return STORE_REFUSED;
	}
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (state != NULL && sqlstate_unavailable(state)) {
		log_warn("%s: the database cannot do it now: sqlstate=%s %s",
		    what, state, msg != NULL ? msg : "");
		return STORE_UNAVAILABLE;
	}
	log_error("%s: query failed: sqlstate=%s %s", what,
	    state != NULL ? state : "none", msg != NULL ? msg :
	    PQresStatus(PQresultStatus(res)));
	return STORE_ERROR;
}

struct exec {
	store_done_cb	*cb;
	void		*arg;
	const char	*what;
	bool		 need_row;
};

static void
executed(const PGresult *res, void *arg)
{
	struct exec e = *(struct exec *)arg;
	enum store_status st;

	free(arg);
	if ((st = row_status(res, e.what)) == STORE_OK && e.need_row &&
	    PQntuples(res) == 0)
		st = STORE_NOT_FOUND;
	e.cb(st, e.arg);
}

int
row_exec(struct db_pool *pool, const char *what, const char *sql,
    int nparams, const char *const *params, bool need_row, store_done_cb *cb,
    void *arg)
{
	struct exec *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->cb = cb;
	e->arg = arg;
	e->what = what;
	e->need_row = need_row;
	if (db_query(pool, sql, nparams, params, executed, e) == NULL) {
		free(e);
		return -1;
	}
	return 0;
}

struct exec_id {
	store_id_cb	*cb;
	void		*arg;
	const char	*what;
};

static void
executed_id(const PGresult *res, void *arg)
{
	struct exec_id e = *(struct exec_id *)arg;
	char	 id[PROTO_UUID_LEN + 1];
	enum store_status st;

	free(arg);
	if ((st = row_status(res, e.what)) == STORE_OK) {
		if (PQntuples(res) == 0)
			st = STORE_NOT_FOUND;
		else if (row_copy(id, sizeof(id), res, 0, 0) == -1)
			st = STORE_ERROR;
	}
	e.cb(st, st == STORE_OK ? id : NULL, e.arg);
}

int
row_exec_id(struct db_pool *pool, const char *what, const char *sql,
    int nparams, const char *const *params, store_id_cb *cb, void *arg)
{
	struct exec_id *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->cb = cb;
	e->arg = arg;
	e->what = what;
	return row_send(pool, sql, nparams, params, executed_id, e);
}

int
row_copy(char *dst, size_t len, const PGresult *res, int row, int col)
{
	if (row >= PQntuples(res) || col >= PQnfields(res) ||
	    PQgetisnull(res, row, col))
		return -1;
	return str_copy(dst, PQgetvalue(res, row, col), len);
}

bool
row_bool(const PGresult *res, int row, int col)
{
	return row < PQntuples(res) && col < PQnfields(res) &&
	    strcmp(PQgetvalue(res, row, col), "t") == 0;
}

int
row_int(const PGresult *res, int row, int col, long long min, long long max,
    long long *out)
{
	const char *errstr;

	if (row >= PQntuples(res) || col >= PQnfields(res) ||
	    PQgetisnull(res, row, col))
		return -1;
	return num_parse(PQgetvalue(res, row, col), min, max, out, &errstr);
}

static int
split_roles(struct user *u, const char *list)
{
	const char *p = list, *comma;
	size_t	 n;

	u->nroles = 0;
	while (*p != '\0') {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (u->nroles == PROTO_ROLES_MAX || n == 0 ||
		    n > PROTO_ROLE_MAX)
			return -1;
		memcpy(u->roles[u->nroles], p, n);
		u->roles[u->nroles++][n] = '\0';
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
user_fields(const PGresult *res, int row, int col, struct user *u)
{
	long long ver;

	if (PQnfields(res) < col + USER_NCOLUMNS || row >= PQntuples(res))
		return -1;
	if (row_copy(u->id, sizeof(u->id), res, row, col) == -1 ||
	    row_copy(u->username, sizeof(u->username), res, row,
	    col + 1) == -1 ||
	    row_copy(u->email, sizeof(u->email), res, row, col + 2) == -1 ||
	    row_copy(u->created_at, sizeof(u->created_at), res, row,
	    col + 7) == -1 ||
	    row_copy(u->updated_at, sizeof(u->updated_at), res, row,
	    col + 8) == -1)
		return -1;
	u->has_full_name = !PQgetisnull(res, row, col + 3);
	if (u->has_full_name && row_copy(u->full_name, sizeof(u->full_name),
	    res, row, col + 3) == -1)
		return -1;
	if (PQgetisnull(res, row, col + 4) ||
	    split_roles(u, PQgetvalue(res, row, col + 4)) == -1)
		return -1;
	u->is_active = row_bool(res, row, col + 5);
	if (row_int(res, row, col + 6, 0, UINT32_MAX, &ver) == -1)
		return -1;
	u->token_version = (uint32_t)ver;
	u->email_verified = row_bool(res, row, col + 9);
	u->totp = row_bool(res, row, col + 10);
	return 0;
}

int
row_user(const PGresult *res, int row, int col, struct user *u,
    const char *what)
{
	memset(u, 0, sizeof(*u));
	if (user_fields(res, row, col, u) == -1) {
		log_error("%s: a user row does not fit its fields", what);
		memset(u, 0, sizeof(*u));
		return -1;
	}
	return 0;
}

const char *
row_constraint(const PGresult *res)
{
	const char *c = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);

	return c != NULL ? c : "";
}

int
row_send(struct db_pool *pool, const char *sql, int nparams,
    const char *const *params, db_result_cb cb, void *owned)
{
	if (owned == NULL)
		return -1;
	if (db_query(pool, sql, nparams, params, cb, owned) == NULL) {
		free(owned);
		return -1;
	}
	return 0;
}
