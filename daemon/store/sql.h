/*
 * SQL that several statements of the store share, spelled once.  For
 * daemon/store, and for wardenctl (ctl/), whose blocking statements must
 * make the same rows as wardend's: nothing else writes SQL.
 *
 * The statements are whole constant strings built from these fragments at
 * compile time; values always travel as parameters.
 */
#ifndef WARDEN_STORE_SQL_H
#define WARDEN_STORE_SQL_H

/*
 * The select list of a user row, USER_NCOLUMNS columns, that row_user()
 * reads, for a query on "users" (unqualified column names).
 */
#define USER_COLUMNS							\
	"id, username, email, full_name, array_to_string(roles, ','), "	\
	"is_active, token_version, "					\
	"to_char(created_at AT TIME ZONE 'UTC', "			\
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "				\
	"to_char(updated_at AT TIME ZONE 'UTC', "			\
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "				\
	"email_verified, totp_confirmed_at IS NOT NULL"
#define USER_NCOLUMNS	11

/*
 * The audit trail: an event is written by the statement that makes the
 * change it records, as one of its WITH parts, so that the trail and the
 * data never disagree (no transaction spans two statements in wardend).
 * AUDIT_INSERT is followed by a SELECT or VALUES of (user_id, event,
 * remote_addr, detail); the events are those that the constraint
 * audit_events_event_check allows (migrations/0001_init.sql).
 */
#define AUDIT_INSERT							\
	"INSERT INTO audit_events (user_id, event, remote_addr, detail)"

/*
 * The WITH part that records an imported hash replaced by a sealed one at
 * its user's first login ('password_upgraded', migration 0007): for a
 * statement whose part u returns the user's id once the rehash is
 * written, with the rehash (NULL: none), the hash that was verified and
 * the client's address as the parameters rehash, stored and remote.
 */
#define AUDIT_UPGRADE(rehash, stored, remote)				\
	AUDIT_INSERT " SELECT id, 'password_upgraded', " remote "::text,"	\
	" jsonb_build_object('from', split_part(" stored "::text, '$',"	\
	" CASE WHEN " stored "::text LIKE '$%' THEN 2 ELSE 1 END))"	\
	" FROM u WHERE " rehash "::text IS NOT NULL"			\
	" AND " stored "::text NOT LIKE '$warden$%'"

/*
 * Revokes the live refresh tokens that match where.  Revocation always
 * takes whole families (a token's family, or every family of a user):
 * every check of a token treats a family with any revoked member as
 * revoked (tokens.c).
 */
#define TOKENS_REVOKE(where)						\
	"UPDATE refresh_tokens SET revoked_at = now()"			\
	" WHERE " where " AND revoked_at IS NULL"

/* Queues a mail (0005_mail_outbox.sql); followed by a SELECT of
 * (template, recipient, user_id, params). */
#define MAIL_QUEUE							\
	"INSERT INTO mail_outbox (template, recipient, user_id, params)"

/*
 * Makes one-time tokens (links.h) from select, a SELECT of (user_id,
 * purpose, token_hash, token_version, email, expires_at): a user's live
 * token of the same purpose is replaced.
 */
#define LINKS_TOKEN_UPSERT(select)					\
	"INSERT INTO one_time_tokens (user_id, purpose, token_hash,"	\
	" token_version, email, expires_at) " select			\
	" ON CONFLICT (user_id, purpose) DO UPDATE SET"			\
	" token_hash = excluded.token_hash,"				\
	" token_version = excluded.token_version,"			\
	" email = excluded.email, created_at = now(),"			\
	" expires_at = excluded.expires_at"

#endif
