/*
 * The browser_sessions table's statements (sessions.h), and the list that
 * shows them beside the refresh-token families.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "fields.h"
#include "row.h"
#include "sessions.h"
#include "sql.h"
#include "util.h"

#define STR_(x)	#x
#define STR(x)	STR_(x)

/* A session that still counts: not revoked, within both expiries, its
 * user active and at the version the session was made under. */
#define SESSION_LIVE(s)							\
	s ".revoked_at IS NULL AND " s ".idle_expires_at > now()"	\
	" AND " s ".expires_at > now() AND EXISTS (SELECT 1 FROM users"	\
	" WHERE users.id = " s ".user_id AND users.is_active"		\
	" AND users.token_version = " s ".token_version)"

struct pending {
	sessions_found_cb	*found;
	sessions_listed_cb	*listed;
	void			*arg;
};

static struct pending *
pending_new(void *arg)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p != NULL)
		p->arg = arg;
	return p;
}

/*
 * The User-Agent as kept: at most SESSIONS_AGENT_MAX bytes, cut before a
 * character rather than inside one; "" when it is not printable UTF-8
 * (the header is the client's to fill, the column is text).
 */
static void
agent_copy(char out[SESSIONS_AGENT_MAX + 1], const char *in)
{
	size_t	 len = in != NULL ? strlen(in) : 0, i;

	if (len > SESSIONS_AGENT_MAX) {
		len = SESSIONS_AGENT_MAX;
		while (len > 0 && ((unsigned char)in[len] & 0xc0) == 0x80)
			len--;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
			len = 0;
	if (len > 0)
		memcpy(out, in, len);
	out[len] = '\0';
	if (!field_utf8_valid(out, len))
		out[0] = '\0';
}

int
sessions_create(struct db_pool *pool, const struct sessions_new *n,
    sessions_made_cb *cb, void *arg)
{
	char		 ver[16], idle[24], max[24];
	char		 agent[SESSIONS_AGENT_MAX + 1];

	str_printf(ver, sizeof(ver), "%u", n->token_version);
	str_printf(idle, sizeof(idle), "%lld", (long long)n->idle);
	str_printf(max, sizeof(max), "%lld", (long long)n->max);
	agent_copy(agent, n->agent);
	const char *params[] = { n->user_id, n->hash, ver, idle, max,
	    n->second_factor ? "{pwd,otp}" : "{pwd}", n->remote,
	    agent[0] != '\0' ? agent : NULL };
	return row_exec_id(pool, "sessions_create",
	    "WITH u AS (SELECT id FROM users WHERE id = $1::uuid"
	    " AND is_active AND token_version = $3::int),"
	    " x AS (DELETE FROM browser_sessions WHERE user_id = $1::uuid"
	    " AND (expires_at <= now() OR idle_expires_at <= now()"
	    " OR revoked_at IS NOT NULL)),"
	    " s AS (INSERT INTO browser_sessions (token_hash, user_id,"
	    " token_version, idle_expires_at, expires_at, amr, remote_addr,"
	    " user_agent) SELECT $2::bytea, id, $3::int,"
	    " now() + least($4::bigint, $5::bigint) * interval '1 second',"
	    " now() + $5::bigint * interval '1 second', $6::text[], $7,"
	    " $8 FROM u RETURNING id, user_id),"
	    " a AS (" AUDIT_INSERT " SELECT user_id, 'session_started', $7,"
	    " jsonb_build_object('session', id) FROM s)"
	    " SELECT id FROM s", 8, params, cb, arg);
}

static void
found(const PGresult *res, void *arg)
{
	struct pending		 p = *(struct pending *)arg;
	struct sessions_found	 s;
	long long		 t;
	enum store_status	 st;

	free(arg);
	memset(&s, 0, sizeof(s));
	if ((st = row_status(res, "sessions_touch")) == STORE_OK) {
		if (PQntuples(res) == 0)
			st = STORE_NOT_FOUND;
		else if (row_copy(s.id, sizeof(s.id), res, 0, 0) == -1 ||
		    row_int(res, 0, 1, 0, INT64_MAX, &t) == -1 ||
		    row_user(res, 0, 3, &s.user, "sessions_touch") == -1)
			st = STORE_ERROR;
		else {
			s.auth_time = t;
			s.second_factor = row_bool(res, 0, 2);
		}
	}
	p.found(st, st == STORE_OK ? &s : NULL, p.arg);
	memset(&s, 0, sizeof(s));
}

int
sessions_touch(struct db_pool *pool, const char *hash, int64_t idle,
    sessions_found_cb *cb, void *arg)
{
	char		 secs[24];
	struct pending	*p;

	str_printf(secs, sizeof(secs), "%lld", (long long)idle);
	const char *params[] = { hash, secs };
	if ((p = pending_new(arg)) == NULL)
		return -1;
	p->found = cb;
	return row_send(pool,
	    "WITH s AS (UPDATE browser_sessions b SET last_seen_at = now(),"
	    " idle_expires_at = least(now() + $2::bigint * interval"
	    " '1 second', b.expires_at)"
	    " WHERE b.token_hash = $1::bytea AND " SESSION_LIVE("b")
	    " RETURNING b.id, b.user_id, b.created_at, b.amr)"
	    " SELECT s.id, floor(extract(epoch FROM s.created_at))::bigint,"
	    " 'otp' = ANY (s.amr), u.* FROM s, LATERAL (SELECT " USER_COLUMNS
	    " FROM users WHERE users.id = s.user_id) u", 2, params, found, p);
}

int
sessions_end(struct db_pool *pool, const char *hash, const char *remote,
    store_done_cb *cb, void *arg)
{
	const char *params[] = { hash, remote };

	return row_exec(pool, "sessions_end",
	    "WITH s AS (UPDATE browser_sessions SET revoked_at = now()"
	    " WHERE token_hash = $1::bytea AND revoked_at IS NULL"
	    " RETURNING id, user_id)"
	    " " AUDIT_INSERT " SELECT user_id, 'session_ended', $2,"
	    " jsonb_build_object('session', id, 'by', 'logout') FROM s"
	    " RETURNING id", 2, params, true, cb, arg);
}

int
sessions_end_one(struct db_pool *pool, const char *user_id, const char *id,
    const char *remote, store_done_cb *cb, void *arg)
{
	const char *params[] = { user_id, id, remote };

	return row_exec(pool, "sessions_end_one",
	    "WITH b AS (UPDATE browser_sessions b SET revoked_at = now()"
	    " WHERE b.user_id = $1::uuid AND b.id = $2::uuid AND "
	    SESSION_LIVE("b") " RETURNING b.id),"
	    " r AS (" TOKENS_REVOKE("user_id = $1::uuid AND family = $2::uuid"
	    " AND expires_at > now()") " RETURNING family),"
	    " k AS (SELECT id AS sid, 'browser' AS kind FROM b UNION"
	    " SELECT DISTINCT family, 'refresh' FROM r)"
	    " " AUDIT_INSERT " SELECT $1::uuid, 'session_ended', $3,"
	    " jsonb_build_object('session', sid, 'kind', kind, 'by', 'user')"
	    " FROM k RETURNING id", 3, params, true, cb, arg);
}

static void
listed(const PGresult *res, void *arg)
{
	struct pending		 p = *(struct pending *)arg;
	struct sessions_item	*items = NULL;
	enum store_status	 st;
	int			 i, n = 0;

	free(arg);
	if ((st = row_status(res, "sessions_list")) == STORE_OK) {
		n = PQntuples(res);
		if (n > SESSIONS_LIST_MAX)
			n = SESSIONS_LIST_MAX;
		if (n > 0 && (items = calloc((size_t)n,
		    sizeof(*items))) == NULL)
			st = STORE_ERROR;
	}
	for (i = 0; st == STORE_OK && i < n; i++) {
		struct sessions_item *it = &items[i];

		if (row_copy(it->id, sizeof(it->id), res, i, 0) == -1 ||
		    row_copy(it->created, sizeof(it->created), res, i, 2) ==
		    -1 || row_copy(it->last_seen, sizeof(it->last_seen), res,
		    i, 3) == -1) {
			st = STORE_ERROR;
			break;
		}
		it->browser = row_bool(res, i, 1);
		/* NULL (unknown) leaves "". */
		(void)row_copy(it->remote, sizeof(it->remote), res, i, 4);
		(void)row_copy(it->agent, sizeof(it->agent), res, i, 5);
		it->current = row_bool(res, i, 6);
	}
	p.listed(st, st == STORE_OK ? items : NULL, st == STORE_OK ?
	    (size_t)n : 0, p.arg);
	free(items);
}

#define TS(col)								\
	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

int
sessions_list(struct db_pool *pool, const char *user_id,
    const char *current_hash, sessions_listed_cb *cb, void *arg)
{
	const char	*params[] = { user_id, current_hash };
	struct pending	*p;

	if ((p = pending_new(arg)) == NULL)
		return -1;
	p->listed = cb;
	return row_send(pool,
	    "SELECT id, kind, " TS("created") ", " TS("seen") ", remote_addr,"
	    " user_agent, current FROM ("
	    " SELECT b.id, true AS kind, b.created_at AS created,"
	    " b.last_seen_at AS seen, b.remote_addr, b.user_agent,"
	    " coalesce(b.token_hash = $2::bytea, false) AS current"
	    " FROM browser_sessions b WHERE b.user_id = $1::uuid AND "
	    SESSION_LIVE("b") " UNION ALL"
	    " SELECT family, false, min(created_at), max(created_at), NULL,"
	    " NULL, false FROM refresh_tokens WHERE user_id = $1::uuid"
	    " GROUP BY family HAVING bool_and(revoked_at IS NULL)"
	    " AND bool_or(used_at IS NULL AND expires_at > now())"
	    ") x ORDER BY seen DESC LIMIT " STR(SESSIONS_LIST_MAX), 2, params,
	    listed, p);
}
