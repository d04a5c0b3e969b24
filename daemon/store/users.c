/*
 * The users table's statements.  Each intent is one statement, so that
 * what it checks, changes and records (its audit event, the refresh
 * tokens it revokes) commits or fails as one.
 */
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <sodium.h>

#include "db.h"
#include "row.h"
#include "sql.h"
#include "users.h"
#include "util.h"

/* Lock-out doubling stops growing here (2^30 s is far past any cap). */
#define LOCK_EXPONENT_MAX	"30"
/* A PostgreSQL array literal of roles: each quoted, so that a role named
 * "null" stays a string. */
#define ROLES_LITERAL_MAX	(2 + PROTO_ROLES_MAX * (PROTO_ROLE_MAX + 3))

/* A statement on its way: the caller's callback, and what it is for. */
struct call {
	union {
		users_row_cb	 *row;
		users_created_cb *created;
		users_taken_cb	 *taken;
		users_hash_cb	 *hash;
		users_login_cb	 *login;
		users_page_cb	 *page;
	} cb;
	void		*arg;
	const char	*what;
	unsigned int	 limit;		/* users_list: rows wanted */
};

static struct call *
call_new(void *arg, const char *what)
{
	struct call *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->arg = arg;
	c->what = what;
	return c;
}

/* Sends sql for c, or frees c and returns -1 (db_query copies params). */
static int
submit(struct db_pool *pool, const char *sql, int n,
    const char *const *params, db_result_cb done, struct call *c)
{
	if (c == NULL)
		return -1;
	if (db_query(pool, sql, n, params, done, c) == NULL) {
		free(c);
		return -1;
	}
	return 0;
}

/* Answers with the result's first row as a user (NOT_FOUND: no row). */
static void
one_user(const PGresult *res, void *arg)
{
	struct call c = *(struct call *)arg;
	enum store_status st;
	struct user u;

	free(arg);
	if ((st = row_status(res, c.what)) == STORE_OK) {
		if (PQntuples(res) == 0)
			st = STORE_NOT_FOUND;
		else if (row_user(res, 0, 0, &u, c.what) == -1)
			st = STORE_ERROR;
	}
	c.cb.row(st, st == STORE_OK ? &u : NULL, c.arg);
}

int
users_find(struct db_pool *pool, const char *id, users_row_cb *cb,
    void *arg)
{
	struct call *c = call_new(arg, "users_find");
	const char *params[] = { id };

	if (c != NULL)
		c->cb.row = cb;
	return submit(pool, "SELECT " USER_COLUMNS " FROM users WHERE id = $1",
	    1, params, one_user, c);
}

/* --- registration --- */

static enum users_taken
taken_by(const PGresult *res)
{
	return strstr(row_constraint(res), "email") != NULL ?
	    USERS_TAKEN_EMAIL : USERS_TAKEN_USERNAME;
}

/* Row: username taken, e-mail address taken. */
static void
looked(const PGresult *res, void *arg)
{
	struct call c = *(struct call *)arg;
	enum users_taken taken = USERS_TAKEN_NONE;
	enum store_status st;

	free(arg);
	if ((st = row_status(res, c.what)) == STORE_OK) {
		if (PQntuples(res) != 1)
			st = STORE_ERROR;
		else if (row_bool(res, 0, 0))
			taken = USERS_TAKEN_USERNAME;
		else if (row_bool(res, 0, 1))
			taken = USERS_TAKEN_EMAIL;
		if (taken != USERS_TAKEN_NONE)
			st = STORE_CONFLICT;
	}
	c.cb.taken(st, taken, c.arg);
}

int
users_taken(struct db_pool *pool, const char *username, const char *email,
    users_taken_cb *cb, void *arg)
{
	struct call *c = call_new(arg, "users_taken");
	const char *params[] = { username, email };

	if (c != NULL)
		c->cb.taken = cb;
	/* The same expressions as the unique indexes, which they use. */
	return submit(pool,
	    "SELECT EXISTS (SELECT 1 FROM users"
	    " WHERE lower(username) = lower($1)),"
	    " EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($2))",
	    2, params, looked, c);
}

static void
created(const PGresult *res, void *arg)
{
	struct call c = *(struct call *)arg;
	enum users_taken taken = USERS_TAKEN_NONE;
	enum store_status st;
	struct user u;

	free(arg);
	st = row_status(res, c.what);
	if (st == STORE_CONFLICT)
		taken = taken_by(res);
	else if (st == STORE_OK && (PQntuples(res) != 1 ||
	    row_user(res, 0, 0, &u, c.what) == -1))
		st = STORE_ERROR;
	c.cb.created(st, st == STORE_OK ? &u : NULL, taken, c.arg);
}

int
users_create(struct db_pool *pool, const struct users_new *n,
    users_created_cb *cb, void *arg)
{
	struct call *c = call_new(arg, "users_create");
	const struct links_mail *v = n->verify;
	char	 ttl[24];

	str_printf(ttl, sizeof(ttl), "%lld", v != NULL ? (long long)v->ttl : 0);
	const char *params[] = { n->id, n->username, n->email, n->full_name,
	    n->stored, n->remote, v != NULL ? v->hash : NULL,
	    v != NULL ? v->link : NULL, ttl, v != NULL ? v->expires_in : NULL };

	if (c != NULL)
		c->cb.created = cb;
	return submit(pool,
	    "WITH u AS (INSERT INTO users (id, username, email, full_name,"
	    " password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING *),"
	    " v AS (SELECT * FROM u WHERE $7::text IS NOT NULL),"
	    " t AS (" LINKS_TOKEN_UPSERT("SELECT id, 'verify_email',"
	    " $7::bytea, token_version, email,"
	    " now() + $9::bigint * interval '1 second' FROM v") "),"
	    " s AS (INSERT INTO mail_sends (user_id) SELECT id FROM v),"
	    " m AS (" MAIL_QUEUE " SELECT 'verify_email', email, id,"
	    " jsonb_build_object('link', $8::text, 'username', username,"
	    " 'expires_in', $10::text) FROM v),"
	    " a AS (" AUDIT_INSERT
	    " SELECT id, 'registered', $6, NULL::jsonb FROM u"
	    " UNION ALL SELECT id, 'verification_sent', $6, NULL FROM v)"
	    " SELECT " USER_COLUMNS " FROM u", 10, params, created, c);
}

/* --- changes --- */

/*
 * $1 id, $2/$3 email, $4/$5 full_name, $6/$7 roles, $8/$9 is_active (each
 * "given" flag and value), $10 remote address, $11 actor; on a new
 * address $12..$15 its verification link (links.h: hash, link, ttl,
 * expires_in; $12 NULL for none), $16 tell the old address, $17 the
 * notice's link.
 */
static const char patch_sql[] =
    "WITH old AS (SELECT id, email AS old_email, roles, is_active FROM users"
    "  WHERE id = $1 FOR UPDATE),"
    " u AS (UPDATE users SET"
    "  email = CASE WHEN $2::bool THEN $3 ELSE email END,"
    "  full_name = CASE WHEN $4::bool THEN $5 ELSE full_name END,"
    "  roles = CASE WHEN $6::bool THEN $7::text[] ELSE users.roles END,"
    "  is_active = CASE WHEN $8::bool THEN $9::bool ELSE users.is_active END,"
    "  email_verified = CASE WHEN $2::bool AND lower($3) <> lower(email)"
    "   THEN false ELSE email_verified END,"
    "  token_version = token_version + CASE WHEN"
    "   ($6::bool AND $7::text[] IS DISTINCT FROM users.roles) OR"
    "   ($8::bool AND NOT $9::bool AND users.is_active) THEN 1 ELSE 0 END,"
    /* A patch that changes nothing (RFC 7396: {}) leaves the row as it
     * was, updated_at too. */
    "  updated_at = CASE WHEN ROW("
    "   CASE WHEN $2::bool THEN $3 ELSE email END,"
    "   CASE WHEN $4::bool THEN $5 ELSE full_name END,"
    "   CASE WHEN $6::bool THEN $7::text[] ELSE users.roles END,"
    "   CASE WHEN $8::bool THEN $9::bool ELSE users.is_active END)"
    "   IS DISTINCT FROM ROW(email, full_name, users.roles, users.is_active)"
    "   THEN now() ELSE updated_at END"
    "  FROM old WHERE users.id = old.id"
    "  RETURNING users.*, old.roles AS old_roles,"
    "  old.is_active AS was_active, old.old_email),"
    /* A new address: its link (with $12) and a notice to the old. */
    " ch AS (SELECT * FROM u WHERE lower(email) <> lower(old_email)),"
    " v AS (SELECT * FROM ch WHERE $12::text IS NOT NULL),"
    " t AS (" LINKS_TOKEN_UPSERT("SELECT id, 'verify_email', $12::bytea,"
    "  token_version, email, now() + $14::bigint * interval '1 second'"
    "  FROM v") "),"
    " s AS (INSERT INTO mail_sends (user_id) SELECT id FROM v),"
    /* A reset link mailed to the old address dies with it. */
    " r AS (DELETE FROM one_time_tokens WHERE user_id IN"
    "  (SELECT id FROM ch) AND purpose = 'password_reset'),"
    " m AS (" MAIL_QUEUE " SELECT 'verify_email', email, id,"
    "  jsonb_build_object('link', $13::text, 'username', username,"
    "  'expires_in', $15::text) FROM v"
    "  UNION ALL SELECT 'email_changed', old_email, id,"
    "  jsonb_build_object('username', username, 'link', $17::text,"
    "  'expires_in', '') FROM ch WHERE $16::bool),"
    " rv AS (" TOKENS_REVOKE("user_id IN (SELECT id FROM u"
    " WHERE was_active AND NOT is_active)") "),"
    " ev AS (SELECT id, 'updated' AS event, NULL::jsonb AS detail FROM u"
    "   WHERE $2::bool OR $4::bool"
    "  UNION ALL SELECT id, 'roles_changed', jsonb_build_object("
    "   'from', old_roles, 'to', roles) FROM u"
    "   WHERE roles IS DISTINCT FROM old_roles"
    "  UNION ALL SELECT id, 'disabled', NULL FROM u"
    "   WHERE was_active AND NOT is_active"
    "  UNION ALL SELECT id, 'enabled', NULL FROM u"
    "   WHERE is_active AND NOT was_active"
    "  UNION ALL SELECT id, 'verification_sent', NULL FROM v),"
    " a AS (" AUDIT_INSERT
    "  SELECT id, event, $10, coalesce(detail, '{}'::jsonb) ||"
    "  jsonb_build_object('by', $11::text) FROM ev)"
    " SELECT " USER_COLUMNS " FROM u";

/* Writes the array literal of the n roles; -1 when one cannot be a role. */
static int
roles_literal(const char *const *roles, size_t n, char *out, size_t outlen)
{
	if (n > PROTO_ROLES_MAX)
		return -1;
	str_copy(out, "{", outlen);
	for (size_t i = 0; i < n; i++) {
		/* Role names hold no quote or backslash (fields.h). */
		if (!field_is_role(roles[i]))
			return -1;
		if (i > 0)
			strlcat(out, ",", outlen);
		strlcat(out, "\"", outlen);
		strlcat(out, roles[i], outlen);
		strlcat(out, "\"", outlen);
	}
	return strlcat(out, "}", outlen) >= outlen ? -1 : 0;
}

int
users_patch(struct db_pool *pool, const struct users_patch *p,
    users_row_cb *cb, void *arg)
{
	char	 roles[ROLES_LITERAL_MAX] = "{}";
	char	 ttl[24];
	const struct links_mail *v = p->set_email ? p->verify : NULL;
	struct call *c;

	if (p->set_roles &&
	    roles_literal(p->roles, p->nroles, roles, sizeof(roles)) == -1)
		return -1;
	str_printf(ttl, sizeof(ttl), "%lld", v != NULL ? (long long)v->ttl : 0);
	const char *params[] = {
		p->id,
		p->set_email ? "t" : "f",
		p->set_email ? p->email : NULL,
		p->set_full_name ? "t" : "f",
		p->set_full_name ? p->full_name : NULL,
		p->set_roles ? "t" : "f",
		roles,
		p->set_active ? "t" : "f",
		p->active ? "t" : "f",
		p->remote,
		p->actor,
		v != NULL ? v->hash : NULL,
		v != NULL ? v->link : NULL,
		ttl,
		v != NULL ? v->expires_in : NULL,
		p->notify_old ? "t" : "f",
		p->account_url != NULL ? p->account_url : "",
	};
	if ((c = call_new(arg, "users_patch")) != NULL)
		c->cb.row = cb;
	return submit(pool, patch_sql, 17, params, one_user, c);
}

int
users_set_password(struct db_pool *pool, const char *id, const char *stored,
    const char *old, const char *remote, store_done_cb *cb, void *arg)
{
	const char *params[] = { id, stored, old, remote };

	return row_exec(pool, "users_set_password",
	    "WITH u AS (UPDATE users SET password_hash = $2,"
	    " token_version = token_version + 1, failed_logins = 0,"
	    " locked_until = NULL, updated_at = now()"
	    " WHERE id = $1 AND password_hash = $3 RETURNING id),"
	    " rv AS (" TOKENS_REVOKE("user_id IN (SELECT id FROM u)") "),"
	    " o AS (DELETE FROM one_time_tokens WHERE user_id IN"
	    " (SELECT id FROM u)),"
	    " a AS (" AUDIT_INSERT
	    " SELECT id, 'password_changed', $4, NULL::jsonb FROM u)"
	    " SELECT id FROM u", 4, params, true, cb, arg);
}

int
users_delete(struct db_pool *pool, const char *id, const char *stored,
    const char *remote, const char *by, store_done_cb *cb, void *arg)
{
	const char *params[] = { id, stored, remote, by };

	return row_exec(pool, "users_delete",
	    "WITH d AS (DELETE FROM users WHERE id = $1"
	    " AND ($2::text IS NULL OR password_hash = $2) RETURNING id),"
	    " a AS (" AUDIT_INSERT
	    " SELECT id, 'deleted', $3, jsonb_build_object('by',"
	    " $4::text) FROM d)"
	    " SELECT id FROM d", 4, params, true, cb, arg);
}

int
users_end_sessions(struct db_pool *pool, const char *id, const char *remote,
    store_done_cb *cb, void *arg)
{
	const char *params[] = { id, remote };

	return row_exec(pool, "users_end_sessions",
	    "WITH bump AS (UPDATE users SET token_version = token_version + 1,"
	    " updated_at = now() WHERE id = $1 RETURNING id),"
	    " revoked AS (" TOKENS_REVOKE("user_id = $1") " RETURNING id),"
	    " audit AS (" AUDIT_INSERT
	    " SELECT id, 'logout', $2, jsonb_build_object('revoked',"
	    " (SELECT count(*) FROM revoked)) FROM bump)"
	    " SELECT count(*) FROM bump", 2, params, false, cb, arg);
}

/* --- passwords and logins --- */

static void
hash_read(const PGresult *res, void *arg)
{
	struct call c = *(struct call *)arg;
	char	 stored[PROTO_STORED_MAX + 1];
	enum store_status st;

	free(arg);
	if ((st = row_status(res, c.what)) == STORE_OK) {
		if (PQntuples(res) == 0)
			st = STORE_NOT_FOUND;
		else if (row_copy(stored, sizeof(stored), res, 0, 0) == -1)
			st = STORE_ERROR;
	}
	c.cb.hash(st, st == STORE_OK ? stored : NULL, c.arg);
	sodium_memzero(stored, sizeof(stored));
}

int
users_password_hash(struct db_pool *pool, const char *id, users_hash_cb *cb,
    void *arg)
{
	struct call *c = call_new(arg, "users_password_hash");
	const char *params[] = { id };

	if (c != NULL)
		c->cb.hash = cb;
	return submit(pool, "SELECT password_hash FROM users WHERE id = $1",
	    1, params, hash_read, c);
}

/*
 * The login records: the account's (users: the clients that present no
 * trusted device) and each trusted device's (login_devices), both with
 * the columns failed_logins, last_failed_at and locked_until.
 */

/* The failures of a record that still count, cap being the parameter of
 * login_lockout_max: none once cap seconds have passed since the last
 * counted failure and the end of its lock. */
#define LIVE_FAILURES(failed, last, locked, cap)			\
	"(CASE WHEN greatest(" last ", " locked ") > now() - " cap	\
	"::bigint * interval '1 second' THEN " failed " ELSE 0 END)"
#define IS_LOCKED(locked)	"coalesce(" locked " > now(), false)"

/* The login statement: the user by username ($1), the device of hash $2
 * when it is the user's and was used within $3 seconds, and the count
 * and lock of the one of the two records that applies; $4 is
 * login_lockout_max. */
#define FIND_LOGIN(where)						\
	"SELECT " USER_COLUMNS ", password_hash,"			\
	" d.d_failed IS NOT NULL,"					\
	" CASE WHEN d.d_failed IS NULL THEN " IS_LOCKED("locked_until")	\
	" ELSE " IS_LOCKED("d.d_locked") " END,"			\
	" CASE WHEN d.d_failed IS NULL THEN " LIVE_FAILURES(		\
	"failed_logins", "last_failed_at", "locked_until", "$4")	\
	" ELSE " LIVE_FAILURES("d.d_failed", "d.d_last", "d.d_locked",	\
	"$4") " END"							\
	" FROM users LEFT JOIN LATERAL (SELECT failed_logins AS d_failed,"\
	" last_failed_at AS d_last, locked_until AS d_locked"		\
	" FROM login_devices WHERE token_hash = $2::bytea"		\
	" AND user_id = users.id"					\
	" AND last_used_at > now() - $3::bigint * interval '1 second')"	\
	" d ON true WHERE " where

/* Row: USER_COLUMNS, password_hash, trusted, locked, failed_logins. */
static void
login_read(const PGresult *res, void *arg)
{
	struct call c = *(struct call *)arg;
	struct users_login l;
	enum store_status st;
	long long failed;

	free(arg);
	memset(&l, 0, sizeof(l));
	if ((st = row_status(res, c.what)) == STORE_OK) {
		if (PQntuples(res) == 0)
			st = STORE_NOT_FOUND;
		else if (row_user(res, 0, 0, &l.user, c.what) == -1 ||
		    row_copy(l.stored, sizeof(l.stored), res, 0,
		    USER_NCOLUMNS) == -1 ||
		    row_int(res, 0, USER_NCOLUMNS + 3, 0, UINT32_MAX,
		    &failed) == -1)
			st = STORE_ERROR;
		else {
			l.trusted = row_bool(res, 0, USER_NCOLUMNS + 1);
			l.locked = row_bool(res, 0, USER_NCOLUMNS + 2);
			l.failed_logins = (unsigned int)failed;
		}
	}
	c.cb.login(st, st == STORE_OK ? &l : NULL, c.arg);
	sodium_memzero(&l, sizeof(l));
}

int
users_find_login(struct db_pool *pool, const struct users_login_query *q,
    users_login_cb *cb, void *arg)
{
	struct call *c = call_new(arg, "users_find_login");
	char	 ttl[24], cap[24];

	str_printf(ttl, sizeof(ttl), "%lld", (long long)q->device_ttl);
	str_printf(cap, sizeof(cap), "%lld", (long long)q->lockout_max);
	const char *params[] = { q->login, q->device, ttl, cap };
	if (c != NULL)
		c->cb.login = cb;
	/* A username holds no '@' and an e-mail address always does. */
	return submit(pool, strchr(q->login, '@') != NULL ?
	    FIND_LOGIN("lower(email) = lower($1)") :
	    FIND_LOGIN("lower(username) = lower($1)"),
	    4, params, login_read, c);
}

/*
 * Counts one failure on a record (the SET list of an UPDATE of users or
 * login_devices): $3 login_max_failures, $4 login_lockout_max.
 */
#define COUNT_FAILURE							\
	" failed_logins = " LIVE_FAILURES("failed_logins",		\
	"last_failed_at", "locked_until", "$4") " + 1,"			\
	" last_failed_at = now(),"					\
	" locked_until = CASE WHEN " LIVE_FAILURES("failed_logins",	\
	"last_failed_at", "locked_until", "$4") " + 1 >= $3::int"	\
	" THEN now() + least(power(2, least(" LIVE_FAILURES(		\
	"failed_logins", "last_failed_at", "locked_until", "$4")	\
	" + 1 - $3::int, " LOCK_EXPONENT_MAX ")), $4::bigint)"		\
	" * interval '1 second' ELSE locked_until END"

int
users_login_failed(struct db_pool *pool, const struct users_failure *f,
    store_done_cb *cb, void *arg)
{
	char	 max[16], cap[24];

	str_printf(max, sizeof(max), "%u", f->max_failures);
	str_printf(cap, sizeof(cap), "%lld", (long long)f->lockout_max);
	const char *params[] = { f->id, f->counts ? "t" : "f", max, cap,
	    f->remote, f->reason, f->device };
	/* The lock is checked in the UPDATE itself, so that an attempt that
	 * began before the lock and ends during it does not extend it. */
	return row_exec(pool, "users_login_failed",
	    "WITH u AS (UPDATE users SET" COUNT_FAILURE
	    " WHERE id = $1::uuid AND $2::bool AND $7::bytea IS NULL"
	    " AND NOT " IS_LOCKED("locked_until")
	    " RETURNING id, failed_logins, false AS device),"
	    " d AS (UPDATE login_devices SET" COUNT_FAILURE
	    " WHERE token_hash = $7::bytea AND user_id = $1::uuid AND $2::bool"
	    " AND NOT " IS_LOCKED("locked_until")
	    " RETURNING user_id AS id, failed_logins, true AS device),"
	    " a AS (" AUDIT_INSERT " VALUES ($1::uuid, 'login_failed', $5,"
	    " jsonb_build_object('reason', $6::text,"
	    " 'device', $7::bytea IS NOT NULL))),"
	    " l AS (" AUDIT_INSERT " SELECT id, 'locked', $5,"
	    " jsonb_build_object('failures', failed_logins, 'device', device)"
	    " FROM (SELECT * FROM u UNION ALL SELECT * FROM d) r"
	    " WHERE failed_logins >= $3::int)"
	    " SELECT 1", 7, params, false, cb, arg);
}

/* --- the admin's list --- */

/* Each row: the user's columns, then created_at in microseconds. */
static void
listed(const PGresult *res, void *arg)
{
	struct call c = *(struct call *)arg;
	struct users_page page;
	struct user *items = NULL;
	enum store_status st;
	long long us = 0;
	size_t	 rows, i;

	free(arg);
	memset(&page, 0, sizeof(page));
	if ((st = row_status(res, c.what)) != STORE_OK)
		goto out;
	/* One row more than asked tells whether another page follows. */
	rows = (size_t)PQntuples(res);
	page.more = rows > c.limit;
	page.n = page.more ? c.limit : rows;
	if (page.n > 0 &&
	    (items = calloc(page.n, sizeof(*items))) == NULL) {
		st = STORE_ERROR;
		goto out;
	}
	for (i = 0; i < page.n; i++) {
		if (row_user(res, (int)i, 0, &items[i], c.what) == -1 ||
		    row_int(res, (int)i, USER_NCOLUMNS, INT64_MIN, INT64_MAX,
		    &us) == -1) {
			st = STORE_ERROR;
			goto out;
		}
	}
	page.items = items;
	page.last_us = us;
out:
	c.cb.page(st, st == STORE_OK ? &page : NULL, c.arg);
	free(items);
}

int
users_list(struct db_pool *pool, const struct users_search *s,
    users_page_cb *cb, void *arg)
{
	char	 us[24], limit1[24];
	struct call *c;

	if (s->limit < 1 || s->limit > USERS_PAGE_MAX)
		return -1;
	str_printf(us, sizeof(us), "%lld", (long long)s->after_us);
	str_printf(limit1, sizeof(limit1), "%u", s->limit + 1);
	const char *params[] = {
		s->after ? "t" : "f", us, s->after ? s->after_id : NULL,
		s->prefix != NULL ? s->prefix : "", limit1,
	};
	if ((c = call_new(arg, "users_list")) != NULL) {
		c->cb.page = cb;
		c->limit = s->limit;
	}
	/* Keyset pagination on (created_at, id): no OFFSET. */
	return submit(pool,
	    "SELECT " USER_COLUMNS ", (extract(epoch FROM created_at)"
	    " * 1000000)::bigint::text FROM users"
	    " WHERE (NOT $1::bool OR (created_at, id) >"
	    " ('epoch'::timestamptz + $2::bigint * interval '1 microsecond',"
	    " $3::uuid))"
	    " AND ($4 = '' OR starts_with(lower(username), lower($4))"
	    " OR starts_with(lower(email), lower($4)))"
	    " ORDER BY created_at, id LIMIT $5::int",
	    5, params, listed, c);
}
