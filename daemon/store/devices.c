/*
 * The login_devices table's statements.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "devices.h"
#include "row.h"
#include "sql.h"
#include "util.h"

#define STR_(x)	#x
#define STR(x)	STR_(x)

/*
 * $1 user, $2 token id, $3 family, $4 refresh token hash, $5 its ttl,
 * $6 rehash or NULL, $7 the verified hash, $8 remote, $9 device hash,
 * $10 trusted, $11 device ttl.  No refresh token when $4 is NULL (a
 * login of the portal, tokens.h).  One statement, so that the device is
 * trusted exactly when the login happened.
 */
static const char login_sql[] =
    "WITH u AS (UPDATE users SET"
    " failed_logins = CASE WHEN $10::bool THEN failed_logins ELSE 0 END,"
    " last_failed_at = CASE WHEN $10::bool THEN last_failed_at END,"
    " locked_until = CASE WHEN $10::bool THEN locked_until END,"
    " password_hash = coalesce($6, password_hash)"
    " WHERE id = $1 AND password_hash = $7 AND is_active RETURNING id),"
    " t AS (INSERT INTO refresh_tokens (id, user_id, family, token_hash,"
    " expires_at) SELECT $2, id, $3, $4::bytea,"
    " now() + $5::bigint * interval '1 second' FROM u"
    " WHERE $4::bytea IS NOT NULL RETURNING id),"
    /* A token of another user is never taken over (the caller makes a
     * new one for an untrusted client): the WHERE leaves it alone. */
    " d AS (INSERT INTO login_devices (token_hash, user_id)"
    " SELECT $9::bytea, id FROM u ON CONFLICT (token_hash) DO UPDATE"
    " SET last_used_at = now(), failed_logins = 0, last_failed_at = NULL,"
    " locked_until = NULL WHERE login_devices.user_id = excluded.user_id"
    " RETURNING token_hash),"
    /* The statement's snapshot does not see the row d adds: the others
     * kept are the DEVICES_PER_USER - 1 used last. */
    " x AS (DELETE FROM login_devices WHERE user_id IN (SELECT id FROM u)"
    " AND token_hash <> $9::bytea"
    " AND (last_used_at <= now() - $11::bigint * interval '1 second'"
    " OR token_hash NOT IN (SELECT token_hash FROM login_devices"
    " WHERE user_id = $1 AND token_hash <> $9::bytea"
    " ORDER BY last_used_at DESC LIMIT " STR(DEVICES_PER_USER) " - 1))),"
    " a AS (" AUDIT_INSERT " SELECT id, 'login_ok', $8,"
    " jsonb_build_object('rehashed', $6::text IS NOT NULL,"
    " 'device', CASE WHEN $10::bool THEN 'known' ELSE 'new' END) FROM u),"
    " p AS (" AUDIT_UPGRADE("$6", "$7", "$8") ")"
    " SELECT id FROM u";

int
devices_login(struct db_pool *pool, const struct devices_login *d,
    store_done_cb *cb, void *arg)
{
	const struct tokens_login *l = &d->login;
	char	 ttl[24], dttl[24];

	str_printf(ttl, sizeof(ttl), "%lld", (long long)l->ttl);
	str_printf(dttl, sizeof(dttl), "%lld", (long long)d->device_ttl);
	const char *params[] = { l->user_id, l->token_id, l->family, l->hash,
	    ttl, l->rehash, l->stored, l->remote, d->device,
	    d->trusted ? "t" : "f", dttl };
	return row_exec(pool, "devices_login", login_sql, 11, params, true,
	    cb, arg);
}
