/*
 * The one_time_tokens table's statements, and the mail they queue.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "links.h"
#include "row.h"
#include "sql.h"
#include "util.h"

/*
 * $1 the account (id or address, as where says), $2 purpose, $3 token
 * hash, $4 ttl, $5 link, $6 expires_in, $7 rate, $8 audit event, $9
 * remote.  Row: accounts found, links made, the account's address is
 * verified.
 */
#define ISSUE_SQL(where)						\
	"WITH u AS (SELECT id, username, email, token_version,"	\
	" email_verified FROM users WHERE " where " AND is_active),"	\
	" n AS (SELECT count(*) AS sent FROM mail_sends"		\
	" WHERE user_id IN (SELECT id FROM u)"				\
	" AND sent_at > now() - interval '1 hour'),"			\
	" ok AS (SELECT u.* FROM u, n WHERE n.sent < $7::int"		\
	" AND NOT ($2 = 'verify_email' AND u.email_verified)),"	\
	" t AS (" LINKS_TOKEN_UPSERT(					\
	"SELECT id, $2, $3::bytea, token_version, email,"		\
	" now() + $4::bigint * interval '1 second' FROM ok") "),"	\
	" s AS (INSERT INTO mail_sends (user_id) SELECT id FROM ok),"	\
	" p AS (DELETE FROM mail_sends WHERE user_id IN"		\
	" (SELECT id FROM u) AND sent_at <= now() - interval '1 hour'),"	\
	" m AS (" MAIL_QUEUE " SELECT $2, email, id,"			\
	" jsonb_build_object('link', $5::text, 'username', username,"	\
	" 'expires_in', $6::text) FROM ok),"				\
	" a AS (" AUDIT_INSERT " SELECT id, $8, $9, NULL::jsonb FROM ok)"	\
	" SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM ok),"	\
	" coalesce((SELECT bool_or(email_verified) FROM u), false)"

static const char issue_by_id_sql[] = ISSUE_SQL("id = $1::uuid");
static const char issue_by_email_sql[] = ISSUE_SQL("lower(email) = lower($1)");

struct issue_call {
	links_issued_cb	*cb;
	void		*arg;
};

const char *
links_purpose_name(enum links_purpose p)
{
	return p == LINKS_PASSWORD_RESET ? "password_reset" : "verify_email";
}

static void
issued(const PGresult *res, void *arg)
{
	struct issue_call c = *(struct issue_call *)arg;
	enum links_outcome out = LINKS_NO_ACCOUNT;
	enum store_status st;
	long long found, made;

	free(arg);
	if ((st = row_status(res, "links_issue")) == STORE_OK) {
		if (row_int(res, 0, 0, 0, 1000000, &found) == -1 ||
		    row_int(res, 0, 1, 0, 1000000, &made) == -1)
			st = STORE_ERROR;
		else if (made > 0)
			out = LINKS_QUEUED;
		else if (found == 0)
			out = LINKS_NO_ACCOUNT;
		else if (row_bool(res, 0, 2))
			out = LINKS_ALREADY_VERIFIED;
		else
			out = LINKS_LIMITED;
	}
	c.cb(st, out, c.arg);
}

int
links_issue(struct db_pool *pool, const struct links_request *q,
    links_issued_cb *cb, void *arg)
{
	struct issue_call *c;
	char	 ttl[24], rate[16];
	const char *who = q->user_id != NULL ? q->user_id : q->email;

	if (who == NULL || q->mail.hash == NULL || q->mail.link == NULL ||
	    q->mail.expires_in == NULL)
		return -1;
	str_printf(ttl, sizeof(ttl), "%lld", (long long)q->mail.ttl);
	str_printf(rate, sizeof(rate), "%u", q->rate);
	const char *params[] = { who, links_purpose_name(q->purpose),
	    q->mail.hash, ttl, q->mail.link, q->mail.expires_in, rate,
	    q->purpose == LINKS_PASSWORD_RESET ? "password_reset_requested" :
	    "verification_sent", q->remote };
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->cb = cb;
	c->arg = arg;
	if (db_query(pool, q->user_id != NULL ? issue_by_id_sql :
	    issue_by_email_sql, 9, params, issued, c) == NULL) {
		free(c);
		return -1;
	}
	return 0;
}

int
links_verify_email(struct db_pool *pool, const char *hash,
    const char *remote, store_id_cb *cb, void *arg)
{
	const char *params[] = { hash, remote };

	/* Spent whatever it finds: an expired token goes too. */
	return row_exec_id(pool, "links_verify_email",
	    "WITH t AS (DELETE FROM one_time_tokens WHERE token_hash = $1::bytea"
	    " AND purpose = 'verify_email' RETURNING *),"
	    " u AS (UPDATE users SET email_verified = true, updated_at = now()"
	    " FROM t WHERE users.id = t.user_id AND t.expires_at > now()"
	    " AND lower(users.email) = lower(t.email) AND users.is_active"
	    " RETURNING users.id),"
	    " a AS (" AUDIT_INSERT
	    " SELECT id, 'email_verified', $2, NULL::jsonb FROM u)"
	    " SELECT id FROM u", 2, params, cb, arg);
}

struct find_call {
	links_user_cb	*cb;
	void		*arg;
};

static void
reset_found(const PGresult *res, void *arg)
{
	struct find_call c = *(struct find_call *)arg;
	enum store_status st;
	struct user u;

	free(arg);
	if ((st = row_status(res, "links_reset_find")) == STORE_OK) {
		if (PQntuples(res) == 0)
			st = STORE_NOT_FOUND;
		else if (row_user(res, 0, 0, &u, "links_reset_find") == -1)
			st = STORE_ERROR;
	}
	c.cb(st, st == STORE_OK ? &u : NULL, c.arg);
}

int
links_reset_find(struct db_pool *pool, const char *hash, links_user_cb *cb,
    void *arg)
{
	struct find_call *c;
	const char *params[] = { hash };

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->cb = cb;
	c->arg = arg;
	if (db_query(pool, "SELECT " USER_COLUMNS " FROM users"
	    " WHERE is_active AND (id, token_version) IN (SELECT user_id,"
	    " token_version FROM one_time_tokens WHERE token_hash = $1::bytea"
	    " AND purpose = 'password_reset' AND expires_at > now())",
	    1, params, reset_found, c) == NULL) {
		free(c);
		return -1;
	}
	return 0;
}

int
links_reset(struct db_pool *pool, const char *hash, const char *id,
    const char *stored, const char *remote, store_done_cb *cb, void *arg)
{
	const char *params[] = { hash, id, stored, remote };

	return row_exec(pool, "links_reset",
	    "WITH t AS (DELETE FROM one_time_tokens WHERE token_hash = $1::bytea"
	    " AND purpose = 'password_reset' AND user_id = $2::uuid"
	    " AND expires_at > now() RETURNING *),"
	    " u AS (UPDATE users SET password_hash = $3,"
	    " token_version = users.token_version + 1, failed_logins = 0,"
	    " last_failed_at = NULL, locked_until = NULL, updated_at = now()"
	    " FROM t WHERE users.id = t.user_id"
	    " AND users.token_version = t.token_version AND users.is_active"
	    " RETURNING users.id),"
	    " rv AS (" TOKENS_REVOKE("user_id IN (SELECT id FROM u)") "),"
	    " d AS (UPDATE login_devices SET failed_logins = 0,"
	    " last_failed_at = NULL, locked_until = NULL"
	    " WHERE user_id IN (SELECT id FROM u)),"
	    " o AS (DELETE FROM one_time_tokens WHERE user_id IN"
	    " (SELECT id FROM u) AND purpose <> 'password_reset'),"
	    " mt AS (DELETE FROM mfa_tokens WHERE user_id IN (SELECT id FROM u)),"
	    " a AS (" AUDIT_INSERT
	    " SELECT id, 'password_reset', $4, NULL::jsonb FROM u)"
	    " SELECT id FROM u", 4, params, true, cb, arg);
}
