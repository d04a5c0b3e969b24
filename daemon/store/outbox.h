/*
 * The outbox of outgoing mail (table mail_outbox, migration 0005): what
 * the sender of every wardend on the database claims, sends, and deletes
 * or reschedules.  The flows that cause a mail insert its row themselves,
 * in the statement that makes their change; nothing here enqueues.
 *
 * Claiming takes due rows with FOR UPDATE SKIP LOCKED and gives them a
 * lease (claimed_until): several hosts share one outbox and never claim a
 * row twice while its lease runs; a host that dies while sending leaves
 * rows that are due again once their lease ran out.  See store.h for the
 * statuses and the calling rules.
 */
#ifndef WARDEN_STORE_OUTBOX_H
#define WARDEN_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct db_pool;

#define OUTBOX_CHANNEL		"warden_mail"	/* NOTIFY on insert */
#define OUTBOX_LINK_MAX		2048
#define OUTBOX_VALUE_MAX	256		/* username, expires_in */
#define OUTBOX_BACKOFF_MIN	30		/* seconds, doubling */
#define OUTBOX_BACKOFF_MAX	3600		/* seconds */

/* A claimed row.  link holds a one-time token in clear: the store wipes
 * the rows once the callback returns. */
struct outbox_row {
	int64_t		 id;
	char		 template[33];
	char		 recipient[255];
	char		 link[OUTBOX_LINK_MAX + 1];	/* "" when absent */
	char		 username[OUTBOX_VALUE_MAX + 1];
	char		 expires_in[OUTBOX_VALUE_MAX + 1];
	int		 attempts;	/* this one included */
};

/* rows: n claimed rows when st is STORE_OK, valid during the call. */
typedef void	outbox_claimed_cb(enum store_status st,
		    const struct outbox_row *rows, size_t n, void *arg);

/*
 * Claims up to n (1..1000) due rows, oldest first, for lease seconds,
 * counting an attempt on each.  A row that does not fit its struct is
 * skipped (logged) and left to expire.
 */
int	outbox_claim(struct db_pool *pool, unsigned int n, int64_t lease,
	    outbox_claimed_cb *cb, void *arg);

/* Deletes row id: the relay accepted it.  OK also when it is gone. */
int	outbox_sent(struct db_pool *pool, int64_t id, store_done_cb *cb,
	    void *arg);

/*
 * Releases row id after a failed attempt, due again after the back-off
 * (OUTBOX_BACKOFF_MIN seconds, doubling with each attempt, at most
 * OUTBOX_BACKOFF_MAX), with why (no message text in it) as last_error.
 */
int	outbox_retry(struct db_pool *pool, int64_t id, const char *why,
	    store_done_cb *cb, void *arg);

/* n: rows given up (STORE_OK), else 0. */
typedef void	outbox_count_cb(enum store_status st, uint64_t n, void *arg);

/*
 * Gives up every unclaimed row older than max_age seconds: deletes it and
 * records 'mail_failed' (its id, template, attempts and last error; never
 * its link) for its user, in one statement.
 */
int	outbox_expire(struct db_pool *pool, int64_t max_age,
	    outbox_count_cb *cb, void *arg);

struct outbox_stats {
	uint64_t	 queued;	/* rows */
	int64_t		 oldest_age;	/* seconds since the oldest row was
					 * queued; 0 when none */
};

typedef void	outbox_stats_cb(enum store_status st,
		    const struct outbox_stats *s, void *arg);

/* Counts the rows and the age of the oldest (for /metrics). */
int	outbox_stats(struct db_pool *pool, outbox_stats_cb *cb, void *arg);

#endif
