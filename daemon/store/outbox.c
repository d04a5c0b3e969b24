/*
 * The mail_outbox table's statements (outbox.h).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "log.h"
#include "outbox.h"
#include "row.h"
#include "sql.h"
#include "util.h"

/* A callback on its way, of one of three kinds. */
struct pending {
	outbox_claimed_cb	*claimed;
	outbox_count_cb		*count;
	outbox_stats_cb		*stats;
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

/* Column col as text into dst; "" when NULL. */
static int
copy_opt(char *dst, size_t len, const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col)) {
		dst[0] = '\0';
		return 0;
	}
	return row_copy(dst, len, res, row, col);
}

/* Row: id, template, recipient, link, username, expires_in, attempts. */
static void
claimed(const PGresult *res, void *arg)
{
	struct pending p = *(struct pending *)arg;
	struct outbox_row *rows = NULL;
	enum store_status st;
	long long v;
	size_t	 n = 0;
	int	 i, nt = 0;

	free(arg);
	if ((st = row_status(res, "outbox_claim")) == STORE_OK &&
	    (nt = PQntuples(res)) > 0 &&
	    (rows = calloc((size_t)nt, sizeof(*rows))) == NULL)
		st = STORE_ERROR;
	for (i = 0; st == STORE_OK && i < nt; i++) {
		struct outbox_row *r = &rows[n];

		if (row_int(res, i, 0, 1, INT64_MAX, &v) == -1)
			continue;
		r->id = v;
		if (row_copy(r->template, sizeof(r->template), res, i, 1) == -1 ||
		    row_copy(r->recipient, sizeof(r->recipient), res, i,
		    2) == -1 ||
		    copy_opt(r->link, sizeof(r->link), res, i, 3) == -1 ||
		    copy_opt(r->username, sizeof(r->username), res, i, 4) == -1 ||
		    copy_opt(r->expires_in, sizeof(r->expires_in), res, i,
		    5) == -1 ||
		    row_int(res, i, 6, 0, INT32_MAX, &v) == -1) {
			log_warn("outbox: message %lld has a value too long; "
			    "left to expire", (long long)r->id);
			sodium_memzero(r, sizeof(*r));
			continue;
		}
		r->attempts = (int)v;
		n++;
	}
	p.claimed(st, st == STORE_OK ? rows : NULL, st == STORE_OK ? n : 0,
	    p.arg);
	if (rows != NULL) {
		sodium_memzero(rows, (size_t)nt * sizeof(*rows));
		free(rows);
	}
}

int
outbox_claim(struct db_pool *pool, unsigned int n, int64_t lease,
    outbox_claimed_cb *cb, void *arg)
{
	char	 lim[24], secs[24];
	struct pending *p;

	if (n < 1 || n > 1000 || lease < 1)
		return -1;
	str_printf(lim, sizeof(lim), "%u", n);
	str_printf(secs, sizeof(secs), "%lld", (long long)lease);
	const char *params[] = { lim, secs };
	if ((p = pending_new(arg)) == NULL)
		return -1;
	p->claimed = cb;
	/* The CTE is evaluated once: its rows are locked, and a row that
	 * another host claimed meanwhile is skipped or, once that claim
	 * committed, fails the recheck of its lease. */
	return row_send(pool,
	    "WITH due AS (SELECT id FROM mail_outbox"
	    " WHERE next_attempt_at <= now()"
	    " AND (claimed_until IS NULL OR claimed_until < now())"
	    " ORDER BY id LIMIT $1::integer FOR UPDATE SKIP LOCKED)"
	    " UPDATE mail_outbox m SET"
	    " claimed_until = now() + $2::bigint * interval '1 second',"
	    " attempts = m.attempts + 1"
	    " FROM due WHERE m.id = due.id"
	    " RETURNING m.id, m.template, m.recipient, m.params->>'link',"
	    " m.params->>'username', m.params->>'expires_in', m.attempts",
	    2, params, claimed, p);
}

int
outbox_sent(struct db_pool *pool, int64_t id, store_done_cb *cb, void *arg)
{
	char	 ids[24];

	str_printf(ids, sizeof(ids), "%lld", (long long)id);
	const char *params[] = { ids };
	return row_exec(pool, "outbox_sent",
	    "DELETE FROM mail_outbox WHERE id = $1::bigint", 1, params, false,
	    cb, arg);
}

int
outbox_retry(struct db_pool *pool, int64_t id, const char *why,
    store_done_cb *cb, void *arg)
{
	char	 ids[24];

	str_printf(ids, sizeof(ids), "%lld", (long long)id);
	const char *params[] = { ids, why };
	return row_exec(pool, "outbox_retry",
	    "UPDATE mail_outbox SET claimed_until = NULL, last_error = $2,"
	    " next_attempt_at = now() + least(" STRINGIFY(OUTBOX_BACKOFF_MAX)
	    ", " STRINGIFY(OUTBOX_BACKOFF_MIN) " * power(2,"
	    " least(greatest(attempts, 1), 20) - 1)) * interval '1 second'"
	    " WHERE id = $1::bigint", 2, params, false, cb, arg);
}

static void
counted(const PGresult *res, void *arg)
{
	struct pending p = *(struct pending *)arg;
	enum store_status st;

	free(arg);
	st = row_status(res, "outbox_expire");
	p.count(st, st == STORE_OK ? (uint64_t)PQntuples(res) : 0, p.arg);
}

int
outbox_expire(struct db_pool *pool, int64_t max_age, outbox_count_cb *cb,
    void *arg)
{
	char	 secs[24];
	struct pending *p;

	str_printf(secs, sizeof(secs), "%lld", (long long)max_age);
	const char *params[] = { secs };
	if ((p = pending_new(arg)) == NULL)
		return -1;
	p->count = cb;
	return row_send(pool,
	    "WITH gone AS (DELETE FROM mail_outbox"
	    " WHERE created_at < now() - $1::bigint * interval '1 second'"
	    " AND (claimed_until IS NULL OR claimed_until < now())"
	    " RETURNING id, template, user_id, attempts, last_error) "
	    AUDIT_INSERT " SELECT user_id, 'mail_failed', NULL,"
	    " jsonb_build_object('outbox_id', id, 'template', template,"
	    " 'attempts', attempts, 'last_error', last_error) FROM gone"
	    " RETURNING id", 1, params, counted, p);
}

static void
stats_read(const PGresult *res, void *arg)
{
	struct pending p = *(struct pending *)arg;
	struct outbox_stats s = { 0, 0 };
	enum store_status st;
	long long q, age;

	free(arg);
	if ((st = row_status(res, "outbox_stats")) == STORE_OK &&
	    (row_int(res, 0, 0, 0, INT64_MAX, &q) == -1 ||
	    row_int(res, 0, 1, 0, INT64_MAX, &age) == -1))
		st = STORE_ERROR;
	if (st == STORE_OK) {
		s.queued = (uint64_t)q;
		s.oldest_age = age;
	}
	p.stats(st, st == STORE_OK ? &s : NULL, p.arg);
}

int
outbox_stats(struct db_pool *pool, outbox_stats_cb *cb, void *arg)
{
	struct pending *p;

	if ((p = pending_new(arg)) == NULL)
		return -1;
	p->stats = cb;
	return row_send(pool,
	    "SELECT count(*), coalesce(greatest(0, floor(extract(epoch FROM"
	    " now() - min(created_at)))), 0)::bigint FROM mail_outbox",
	    0, NULL, stats_read, p);
}
