/*
 * The identities and upstream_logins tables' statements (identities.h).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "identities.h"
#include "row.h"
#include "sql.h"
#include "util.h"

struct pending {
	store_done_cb		*done;
	upstream_login_cb	*login;
	identity_found_cb	*found;
	identity_user_cb	*user;
	identities_listed_cb	*listed;
	void			*arg;
	const char		*what;
};

static struct pending *
pending_new(void *arg, const char *what)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p != NULL) {
		p->arg = arg;
		p->what = what;
	}
	return p;
}

/* --- sign-ins on their way --- */

int
upstream_login_start(struct db_pool *pool, const char *state_hash,
    const char *binding_hash, const struct upstream_login *l,
    store_done_cb *cb, void *arg)
{
	char	 ttl[16];

	str_printf(ttl, sizeof(ttl), "%d", UPSTREAM_LOGIN_TTL);
	const char *params[] = { state_hash, binding_hash, l->provider,
	    l->nonce, l->verifier, l->return_to,
	    l->link_user_id[0] != '\0' ? l->link_user_id : NULL, ttl };

	return row_exec(pool, "upstream_login_start",
	    "WITH x AS (DELETE FROM upstream_logins WHERE state_hash IN"
	    " (SELECT state_hash FROM upstream_logins WHERE expires_at <= now()"
	    " ORDER BY expires_at LIMIT 8))"
	    " INSERT INTO upstream_logins (state_hash, binding_hash, provider,"
	    " nonce, verifier, return_to, link_user_id, expires_at)"
	    " VALUES ($1::bytea, $2::bytea, $3, $4, $5, $6, $7::uuid,"
	    " now() + $8::int * interval '1 second')", 8, params, false, cb,
	    arg);
}

static void
taken(const PGresult *res, void *arg)
{
	struct pending		 p = *(struct pending *)arg;
	struct upstream_login	 l;
	enum store_status	 st;

	free(arg);
	memset(&l, 0, sizeof(l));
	if ((st = row_status(res, p.what)) == STORE_OK) {
		if (PQntuples(res) == 0)
			st = STORE_NOT_FOUND;
		else if (row_copy(l.provider, sizeof(l.provider), res, 0, 0) ==
		    -1 || row_copy(l.nonce, sizeof(l.nonce), res, 0, 1) == -1 ||
		    row_copy(l.verifier, sizeof(l.verifier), res, 0, 2) == -1 ||
		    row_copy(l.return_to, sizeof(l.return_to), res, 0, 3) ==
		    -1)
			st = STORE_ERROR;
		else {
			if (!PQgetisnull(res, 0, 4) && row_copy(l.link_user_id,
			    sizeof(l.link_user_id), res, 0, 4) == -1)
				st = STORE_ERROR;
			l.bound = row_bool(res, 0, 5);
		}
	}
	p.login(st, st == STORE_OK ? &l : NULL, p.arg);
	sodium_memzero(&l, sizeof(l));
}

int
upstream_login_take(struct db_pool *pool, const char *state_hash,
    const char *binding_hash, upstream_login_cb *cb, void *arg)
{
	const char *params[] = { state_hash, binding_hash };
	struct pending *p;

	if ((p = pending_new(arg, "upstream_login_take")) == NULL)
		return -1;
	p->login = cb;
	return row_send(pool,
	    "DELETE FROM upstream_logins WHERE state_hash = $1::bytea"
	    " AND expires_at > now() RETURNING provider, nonce, verifier,"
	    " return_to, link_user_id,"
	    " coalesce(binding_hash = $2::bytea, false)", 2, params, taken, p);
}

/* --- identities --- */

static void
found(const PGresult *res, void *arg)
{
	struct pending		 p = *(struct pending *)arg;
	enum identity_match	 m = IDENTITY_NONE;
	enum store_status	 st;
	struct user		 u;

	free(arg);
	if ((st = row_status(res, p.what)) == STORE_OK &&
	    PQntuples(res) > 0) {
		if (row_user(res, 0, 1, &u, p.what) == -1)
			st = STORE_ERROR;
		else
			m = strcmp(PQgetvalue(res, 0, 0), "known") == 0 ?
			    IDENTITY_KNOWN : IDENTITY_EMAIL;
	}
	p.found(st, m, st == STORE_OK && m != IDENTITY_NONE ? &u : NULL,
	    p.arg);
}

int
identity_find(struct db_pool *pool, const char *provider, const char *subject,
    const char *email, identity_found_cb *cb, void *arg)
{
	const char *params[] = { provider, subject, email };
	struct pending *p;

	if ((p = pending_new(arg, "identity_find")) == NULL)
		return -1;
	p->found = cb;
	return row_send(pool,
	    "SELECT 'known', " USER_COLUMNS " FROM users WHERE id ="
	    " (SELECT user_id FROM identities WHERE provider = $1"
	    " AND subject = $2)"
	    " UNION ALL SELECT 'email', " USER_COLUMNS " FROM users"
	    " WHERE $3::text IS NOT NULL AND lower(email) = lower($3)"
	    " AND NOT EXISTS (SELECT 1 FROM identities WHERE provider = $1"
	    " AND subject = $2)"
	    " LIMIT 1", 3, params, found, p);
}

static void
one_user(const PGresult *res, void *arg)
{
	struct pending		 p = *(struct pending *)arg;
	enum store_status	 st;
	struct user		 u;

	free(arg);
	if ((st = row_status(res, p.what)) == STORE_OK) {
		if (PQntuples(res) == 0)
			st = STORE_NOT_FOUND;
		else if (row_user(res, 0, 0, &u, p.what) == -1)
			st = STORE_ERROR;
	}
	p.user(st, st == STORE_OK ? &u : NULL, p.arg);
}

int
identity_link(struct db_pool *pool, const struct identity_new *n,
    identity_user_cb *cb, void *arg)
{
	const char *params[] = { n->user_id, n->provider, n->subject,
	    n->email, n->remote, n->how };
	struct pending *p;

	if ((p = pending_new(arg, "identity_link")) == NULL)
		return -1;
	p->user = cb;
	return row_send(pool,
	    "WITH u AS (SELECT * FROM users WHERE id = $1::uuid"
	    " AND is_active),"
	    " i AS (INSERT INTO identities (user_id, provider, subject, email)"
	    " SELECT id, $2, $3, $4 FROM u RETURNING id, user_id),"
	    " a AS (" AUDIT_INSERT " SELECT user_id, 'identity_linked', $5,"
	    " jsonb_build_object('provider', $2::text, 'identity', id,"
	    " 'by', $6::text) FROM i)"
	    " SELECT " USER_COLUMNS " FROM u WHERE EXISTS (SELECT 1 FROM i)",
	    6, params, one_user, p);
}

int
identity_signup(struct db_pool *pool, const struct identity_new *n,
    const char *base, const char *full_name, bool email_verified,
    identity_user_cb *cb, void *arg)
{
	const char *params[] = { base, n->email, full_name,
	    email_verified ? "true" : "false", n->provider, n->subject,
	    n->remote, IDENTITIES_NO_PASSWORD };
	struct pending *p;

	if (n->email == NULL || strlen(base) > 28)
		return -1;
	if ((p = pending_new(arg, "identity_signup")) == NULL)
		return -1;
	p->user = cb;
	return row_send(pool,
	    "WITH c AS (SELECT name FROM (SELECT $1::text AS name, 1 AS n"
	    " UNION ALL SELECT $1::text || '-' || g, g"
	    " FROM generate_series(2, 99) g) s"
	    " WHERE NOT EXISTS (SELECT 1 FROM users"
	    " WHERE lower(username) = lower(s.name))"
	    " ORDER BY n LIMIT 1),"
	    " u AS (INSERT INTO users (username, email, full_name,"
	    " password_hash, email_verified)"
	    " SELECT name, $2, $3, $8, $4::bool FROM c RETURNING *),"
	    " i AS (INSERT INTO identities (user_id, provider, subject, email)"
	    " SELECT id, $5, $6, $2 FROM u RETURNING id, user_id),"
	    " a AS (" AUDIT_INSERT " SELECT user_id, 'upstream_signup', $7,"
	    " jsonb_build_object('provider', $5::text, 'identity', id) FROM i)"
	    " SELECT " USER_COLUMNS " FROM u", 8, params, one_user, p);
}

static void
listed(const PGresult *res, void *arg)
{
	struct pending		 p = *(struct pending *)arg;
	struct identity_row	*rows = NULL;
	enum store_status	 st;
	size_t			 n = 0, i;
	bool			 has_password = false;

	free(arg);
	if ((st = row_status(res, p.what)) == STORE_OK) {
		if (PQntuples(res) == 0)
			st = STORE_NOT_FOUND;
		else {
			has_password = row_bool(res, 0, 0);
			/* the user's row, with NULLs when it has none */
			n = PQgetisnull(res, 0, 1) ? 0 : (size_t)PQntuples(res);
			if (n > IDENTITIES_LIST_MAX)
				n = IDENTITIES_LIST_MAX;
			if (n > 0 && (rows = calloc(n, sizeof(*rows))) == NULL)
				st = STORE_ERROR;
		}
	}
	for (i = 0; st == STORE_OK && i < n; i++) {
		if (row_copy(rows[i].id, sizeof(rows[i].id), res, (int)i, 1) ==
		    -1 || row_copy(rows[i].provider, sizeof(rows[i].provider),
		    res, (int)i, 2) == -1 || row_copy(rows[i].subject,
		    sizeof(rows[i].subject), res, (int)i, 3) == -1 ||
		    row_copy(rows[i].linked_at, sizeof(rows[i].linked_at), res,
		    (int)i, 5) == -1 || (!PQgetisnull(res, (int)i, 4) &&
		    row_copy(rows[i].email, sizeof(rows[i].email), res, (int)i,
		    4) == -1))
			st = STORE_ERROR;
	}
	p.listed(st, st == STORE_OK ? rows : NULL, st == STORE_OK ? n : 0,
	    has_password, p.arg);
	free(rows);
}

int
identities_list(struct db_pool *pool, const char *user_id,
    identities_listed_cb *cb, void *arg)
{
	char	 lim[16];
	struct pending *p;

	str_printf(lim, sizeof(lim), "%d", IDENTITIES_LIST_MAX);
	const char *params[] = { user_id, IDENTITIES_NO_PASSWORD, lim };
	if ((p = pending_new(arg, "identities_list")) == NULL)
		return -1;
	p->listed = cb;
	return row_send(pool,
	    "SELECT u.password_hash <> $2, i.id, i.provider, i.subject,"
	    " i.email, to_char(i.linked_at AT TIME ZONE 'UTC',"
	    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	    " FROM users u LEFT JOIN LATERAL (SELECT * FROM identities"
	    " WHERE user_id = u.id ORDER BY linked_at, id LIMIT $3::int) i"
	    " ON true WHERE u.id = $1::uuid", 3, params, listed, p);
}

static void
unlinked(const PGresult *res, void *arg)
{
	struct pending		 p = *(struct pending *)arg;
	enum store_status	 st;

	free(arg);
	if ((st = row_status(res, p.what)) == STORE_OK) {
		if (PQntuples(res) == 0 || !row_bool(res, 0, 1))
			st = STORE_NOT_FOUND;
		else if (!row_bool(res, 0, 0))
			st = STORE_REFUSED;
	}
	p.done(st, p.arg);
}

int
identity_unlink(struct db_pool *pool, const char *user_id, const char *id,
    const char *remote, const char *actor, store_done_cb *cb, void *arg)
{
	const char *params[] = { user_id, id, remote, actor,
	    IDENTITIES_NO_PASSWORD };
	struct pending *p;

	if ((p = pending_new(arg, "identity_unlink")) == NULL)
		return -1;
	p->done = cb;
	/* The user's row is locked first, so that two unlinks of its last
	 * two identities at once are judged one after the other. */
	return row_send(pool,
	    "WITH l AS (SELECT id, password_hash <> $5 AS pw FROM users"
	    " WHERE id = $1::uuid FOR UPDATE),"
	    " d AS (DELETE FROM identities i WHERE i.id = $2::uuid"
	    " AND i.user_id = (SELECT id FROM l)"
	    " AND ((SELECT pw FROM l) OR EXISTS (SELECT 1 FROM identities o"
	    " WHERE o.user_id = i.user_id AND o.id <> i.id))"
	    " RETURNING i.id, i.user_id, i.provider),"
	    " a AS (" AUDIT_INSERT " SELECT user_id, 'identity_unlinked', $3,"
	    " jsonb_build_object('provider', provider, 'identity', id,"
	    " 'actor', $4::text) FROM d)"
	    " SELECT EXISTS (SELECT 1 FROM d), EXISTS (SELECT 1 FROM identities"
	    " WHERE id = $2::uuid AND user_id = $1::uuid)"
	    " OR EXISTS (SELECT 1 FROM d)", 5, params, unlinked, p);
}

int
upstream_audit(struct db_pool *pool, const char *user_id, const char *event,
    const char *provider, const char *reason, const char *remote,
    store_done_cb *cb, void *arg)
{
	const char *params[] = { user_id, event, remote, provider, reason };

	return row_exec(pool, "upstream_audit",
	    AUDIT_INSERT " VALUES ($1::uuid, $2, $3, jsonb_strip_nulls("
	    "jsonb_build_object('provider', $4::text, 'reason', $5::text)))",
	    5, params, false, cb, arg);
}
