/*
 * The statements of second factors: users.totp_*, recovery_codes and
 * mfa_tokens.
 */
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <sodium.h>

#include "db.h"
#include "mfa.h"
#include "row.h"
#include "sql.h"
#include "util.h"

#define STR_(x)	#x
#define STR(x)	STR_(x)

/* An array literal of code hashes: each is hex (checked), so unquoted. */
#define HASHES_LITERAL_MAX	(2 + MFA_CODES * (MFA_CODE_HASH_MAX + 1))

static int
hashes_literal(const char *const *hashes, size_t n, char *out, size_t len)
{
	if (n == 0 || n > MFA_CODES)
		return -1;
	str_copy(out, "{", len);
	for (size_t i = 0; i < n; i++) {
		size_t	 hl = strlen(hashes[i]);

		if (hl < 16 || hl > MFA_CODE_HASH_MAX ||
		    strspn(hashes[i], "0123456789abcdef") != hl)
			return -1;
		if (i > 0)
			strlcat(out, ",", len);
		strlcat(out, hashes[i], len);
	}
	return strlcat(out, "}", len) >= len ? -1 : 0;
}

struct totp_call {
	mfa_totp_cb	*cb;
	void		*arg;
};

static void
totp_read(const PGresult *res, void *arg)
{
	struct totp_call c = *(struct totp_call *)arg;
	struct mfa_totp t;
	enum store_status st;
	long long step;

	free(arg);
	memset(&t, 0, sizeof(t));
	if ((st = row_status(res, "mfa_totp_get")) == STORE_OK) {
		if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
			st = STORE_NOT_FOUND;
		else if (row_copy(t.sealed, sizeof(t.sealed), res, 0, 0) == -1 ||
		    row_int(res, 0, 2, 0, UINT32_MAX, &step) == -1)
			st = STORE_ERROR;
		else {
			t.confirmed = row_bool(res, 0, 1);
			t.last_step = (uint32_t)step;
		}
	}
	c.cb(st, st == STORE_OK ? &t : NULL, c.arg);
}

int
mfa_totp_get(struct db_pool *pool, const char *id, mfa_totp_cb *cb,
    void *arg)
{
	struct totp_call *c;
	const char *params[] = { id };

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->cb = cb;
	c->arg = arg;
	if (db_query(pool, "SELECT totp_sealed, totp_confirmed_at IS NOT NULL,"
	    " least(totp_last_step, 4294967295) FROM users WHERE id = $1",
	    1, params, totp_read, c) == NULL) {
		free(c);
		return -1;
	}
	return 0;
}

int
mfa_totp_begin(struct db_pool *pool, const char *id, const char *sealed,
    store_done_cb *cb, void *arg)
{
	const char *params[] = { id, sealed };

	return row_exec(pool, "mfa_totp_begin",
	    "UPDATE users SET totp_sealed = $2, totp_confirmed_at = NULL,"
	    " totp_last_step = 0"
	    " WHERE id = $1 AND totp_confirmed_at IS NULL RETURNING id",
	    2, params, true, cb, arg);
}

int
mfa_totp_confirm(struct db_pool *pool, const char *id, const char *sealed,
    uint32_t step, const char *const *hashes, size_t n, const char *remote,
    store_done_cb *cb, void *arg)
{
	char	 lit[HASHES_LITERAL_MAX], s[16];

	if (hashes_literal(hashes, n, lit, sizeof(lit)) == -1)
		return -1;
	str_printf(s, sizeof(s), "%u", step);
	const char *params[] = { id, sealed, s, lit, remote };
	return row_exec(pool, "mfa_totp_confirm",
	    "WITH u AS (UPDATE users SET totp_confirmed_at = now(),"
	    " totp_last_step = $3::bigint, updated_at = now()"
	    " WHERE id = $1 AND totp_sealed = $2 AND totp_confirmed_at IS NULL"
	    " AND totp_last_step < $3::bigint RETURNING id),"
	    " d AS (DELETE FROM recovery_codes WHERE user_id IN"
	    " (SELECT id FROM u)),"
	    " r AS (INSERT INTO recovery_codes (user_id, code_hash)"
	    " SELECT u.id, h FROM u, unnest($4::text[]) AS h),"
	    " a AS (" AUDIT_INSERT " SELECT id, 'mfa_enrolled', $5,"
	    " jsonb_build_object('factor', 'totp') FROM u)"
	    " SELECT id FROM u", 5, params, true, cb, arg);
}

int
mfa_remove(struct db_pool *pool, const char *id, uint32_t step,
    const char *code_hash, const char *remote, const char *by,
    store_done_cb *cb, void *arg)
{
	char	 s[16];

	str_printf(s, sizeof(s), "%u", step);
	const char *params[] = { id, s, remote, by, code_hash };
	return row_exec(pool, "mfa_remove",
	    "WITH u AS (UPDATE users SET totp_sealed = NULL,"
	    " totp_confirmed_at = NULL, totp_last_step = 0, updated_at = now()"
	    " WHERE id = $1 AND totp_sealed IS NOT NULL"
	    " AND ($2::bigint = 0 OR totp_last_step < $2::bigint)"
	    " AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM recovery_codes"
	    " WHERE user_id = $1 AND code_hash = $5 AND used_at IS NULL))"
	    " RETURNING id),"
	    " d AS (DELETE FROM recovery_codes WHERE user_id IN"
	    " (SELECT id FROM u)),"
	    " m AS (DELETE FROM mfa_tokens WHERE user_id IN (SELECT id FROM u)),"
	    " a AS (" AUDIT_INSERT " SELECT id, 'mfa_removed', $3,"
	    " jsonb_build_object('factor', 'totp', 'by', $4::text) FROM u)"
	    " SELECT id FROM u", 5, params, true, cb, arg);
}

int
mfa_recovery_replace(struct db_pool *pool, const char *id,
    const char *const *hashes, size_t n, const char *remote,
    store_done_cb *cb, void *arg)
{
	char	 lit[HASHES_LITERAL_MAX];

	if (hashes_literal(hashes, n, lit, sizeof(lit)) == -1)
		return -1;
	const char *params[] = { id, lit, remote };
	return row_exec(pool, "mfa_recovery_replace",
	    "WITH u AS (SELECT id FROM users WHERE id = $1"
	    " AND totp_confirmed_at IS NOT NULL FOR UPDATE),"
	    " d AS (DELETE FROM recovery_codes WHERE user_id IN"
	    " (SELECT id FROM u)),"
	    " r AS (INSERT INTO recovery_codes (user_id, code_hash)"
	    " SELECT u.id, h FROM u, unnest($2::text[]) AS h),"
	    " a AS (" AUDIT_INSERT " SELECT id, 'mfa_enrolled', $3,"
	    " jsonb_build_object('factor', 'recovery_codes') FROM u)"
	    " SELECT id FROM u", 3, params, true, cb, arg);
}

/* --- mfa tokens --- */

int
mfa_token_create(struct db_pool *pool, const struct mfa_token_new *n,
    store_done_cb *cb, void *arg)
{
	char	 ver[16];

	str_printf(ver, sizeof(ver), "%u", n->token_version);
	const char *params[] = { n->hash, n->user_id, ver, n->device,
	    n->stored, n->rehash };
	return row_exec(pool, "mfa_token_create",
	    "WITH x AS (DELETE FROM mfa_tokens WHERE expires_at <= now()),"
	    " u AS (UPDATE users SET password_hash = coalesce($6, password_hash)"
	    " WHERE id = $2 AND password_hash = $5 AND is_active"
	    " AND token_version = $3::int RETURNING id),"
	    " p AS (" AUDIT_UPGRADE("$6", "$5", "NULL") ")"
	    " INSERT INTO mfa_tokens (token_hash, user_id, token_version,"
	    " device_hash, expires_at) SELECT $1::bytea, id, $3::int,"
	    " $4::bytea, now() + interval '" STR(MFA_TOKEN_TTL) " seconds'"
	    " FROM u RETURNING user_id", 6, params, true, cb, arg);
}

int
mfa_token_create_upstream(struct db_pool *pool, const char *hash,
    const char *user_id, uint32_t token_version, store_done_cb *cb,
    void *arg)
{
	char	 ver[16];

	str_printf(ver, sizeof(ver), "%u", token_version);
	const char *params[] = { hash, user_id, ver };
	return row_exec(pool, "mfa_token_create_upstream",
	    "WITH x AS (DELETE FROM mfa_tokens WHERE expires_at <= now())"
	    " INSERT INTO mfa_tokens (token_hash, user_id, token_version,"
	    " expires_at) SELECT $1::bytea, id, $3::int,"
	    " now() + interval '" STR(MFA_TOKEN_TTL) " seconds'"
	    " FROM users WHERE id = $2::uuid AND is_active"
	    " AND token_version = $3::int AND totp_confirmed_at IS NOT NULL"
	    " RETURNING user_id", 3, params, true, cb, arg);
}

struct pending_call {
	mfa_pending_cb	*cb;
	void		*arg;
};

/* Row: USER_COLUMNS, password_hash, totp_sealed, totp_last_step,
 * device_hash (hex literal or NULL), locked. */
static void
pending_read(const PGresult *res, void *arg)
{
	struct pending_call c = *(struct pending_call *)arg;
	struct mfa_pending *p;
	enum store_status st;
	long long step;
	const int k = USER_NCOLUMNS;

	free(arg);
	if ((p = sodium_malloc(sizeof(*p))) == NULL) {
		c.cb(STORE_ERROR, NULL, c.arg);
		return;
	}
	memset(p, 0, sizeof(*p));
	if ((st = row_status(res, "mfa_token_find")) == STORE_OK) {
		if (PQntuples(res) == 0)
			st = STORE_NOT_FOUND;
		else if (row_user(res, 0, 0, &p->user, "mfa_token_find") ==
		    -1 ||
		    row_copy(p->stored, sizeof(p->stored), res, 0, k) == -1 ||
		    row_copy(p->sealed, sizeof(p->sealed), res, 0, k + 1) ==
		    -1 ||
		    row_int(res, 0, k + 2, 0, UINT32_MAX, &step) == -1 ||
		    (!PQgetisnull(res, 0, k + 3) && row_copy(p->device,
		    sizeof(p->device), res, 0, k + 3) == -1))
			st = STORE_ERROR;
		else {
			p->last_step = (uint32_t)step;
			p->locked = row_bool(res, 0, k + 4);
		}
	}
	c.cb(st, st == STORE_OK ? p : NULL, c.arg);
	sodium_free(p);
}

int
mfa_token_find(struct db_pool *pool, const char *hash, mfa_pending_cb *cb,
    void *arg)
{
	struct pending_call *c;
	const char *params[] = { hash };

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->cb = cb;
	c->arg = arg;
	if (db_query(pool,
	    "SELECT " USER_COLUMNS ", password_hash, totp_sealed,"
	    " least(totp_last_step, 4294967295), m.m_device::text,"
	    " CASE WHEN m.m_device IS NULL"
	    " THEN coalesce(users.locked_until > now(), false)"
	    " ELSE coalesce((SELECT d.locked_until > now() FROM login_devices d"
	    " WHERE d.token_hash = m.m_device), false) END"
	    /* Renamed: USER_COLUMNS names users' columns unqualified. */
	    " FROM users JOIN (SELECT user_id AS m_user,"
	    " token_version AS m_version, device_hash AS m_device"
	    " FROM mfa_tokens WHERE token_hash = $1::bytea"
	    " AND expires_at > now()"
	    " AND failures < " STR(MFA_TOKEN_FAILURES) ") m"
	    " ON users.id = m.m_user"
	    " WHERE users.token_version = m.m_version AND users.is_active"
	    " AND users.totp_confirmed_at IS NOT NULL",
	    1, params, pending_read, c) == NULL) {
		free(c);
		return -1;
	}
	return 0;
}

int
mfa_token_failed(struct db_pool *pool, const char *hash, const char *remote,
    store_done_cb *cb, void *arg)
{
	const char *params[] = { hash, remote };

	return row_exec(pool, "mfa_token_failed",
	    "WITH m AS (UPDATE mfa_tokens SET failures = failures + 1"
	    " WHERE token_hash = $1::bytea"
	    " AND failures < " STR(MFA_TOKEN_FAILURES)
	    " RETURNING user_id, failures),"
	    " a AS (" AUDIT_INSERT " SELECT user_id, 'mfa_failed', $2,"
	    " jsonb_build_object('failures', failures) FROM m)"
	    " SELECT user_id FROM m", 2, params, false, cb, arg);
}

int
mfa_token_spend(struct db_pool *pool, const char *hash, uint32_t step,
    const char *code_hash, const char *remote, store_done_cb *cb, void *arg)
{
	char	 s[16];

	if ((step > 0) == (code_hash != NULL))
		return -1;
	str_printf(s, sizeof(s), "%u", step);
	const char *params[] = { hash, s, code_hash, remote };
	return row_exec(pool, "mfa_token_spend",
	    "WITH m AS (SELECT user_id FROM mfa_tokens"
	    " WHERE token_hash = $1::bytea AND expires_at > now()"
	    " AND failures < " STR(MFA_TOKEN_FAILURES) " FOR UPDATE),"
	    " s AS (UPDATE users SET totp_last_step = $2::bigint FROM m"
	    " WHERE users.id = m.user_id AND $2::bigint > 0"
	    " AND totp_last_step < $2::bigint RETURNING users.id),"
	    " r AS (UPDATE recovery_codes SET used_at = now() FROM m"
	    " WHERE recovery_codes.user_id = m.user_id AND code_hash = $3"
	    " AND used_at IS NULL RETURNING recovery_codes.user_id AS id),"
	    " ok AS (SELECT id FROM s UNION ALL SELECT id FROM r),"
	    " d AS (DELETE FROM mfa_tokens WHERE token_hash = $1::bytea"
	    " AND EXISTS (SELECT 1 FROM ok)),"
	    " a AS (" AUDIT_INSERT " SELECT id, 'recovery_code_used', $4,"
	    " jsonb_build_object('left', (SELECT count(*) FROM recovery_codes"
	    " WHERE user_id = r.id AND used_at IS NULL) - 1) FROM r)"
	    " SELECT id FROM ok", 4, params, true, cb, arg);
}
