/*
 * The mail worker of wardend: it wires the outbox (store/outbox.h) to the
 * sender (mail/).  It claims due rows in batches, fills their templates,
 * sends up to MAILER_INFLIGHT at once, deletes a row once the relay
 * accepted it and reschedules it with back-off otherwise; it gives up rows
 * older than mail_max_age (audited as mail_failed).  It wakes on NOTIFY
 * warden_mail (a LISTEN connection of its own, store/notify.h), and polls
 * every MAILER_POLL seconds in case a notification was lost.  It never
 * logs a message's text, link or token, nor the SMTP password.
 *
 * With mail_transport off nothing runs, and the flows that need mail
 * answer 503 (mail_link.h: mail_link_mail_on()).
 */
#ifndef WARDEN_MAILER_H
#define WARDEN_MAILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;
struct db_pool;
struct event_base;
struct mailer;

#define MAILER_INFLIGHT	8	/* messages sent at once */
#define MAILER_POLL	5	/* seconds between polls */
#define MAILER_LEASE	120	/* seconds a claim lasts (> a send's
				 * MAIL_SEND_TIMEOUT) */

/* For /metrics. */
struct mailer_stats {
	bool		 enabled;
	uint64_t	 queued;	/* rows in the outbox, at the last poll */
	int64_t		 oldest_age;	/* seconds, at the last poll */
	uint64_t	 sent;		/* accepted by the relay (or written) */
	uint64_t	 failed;	/* failed attempts */
	uint64_t	 given_up;	/* rows past mail_max_age */
};

/*
 * Checks cfg's mail settings: the transport, the templates and mail_from
 * (what wardend -t reports).  Returns 0, or -1 with a reason in err.
 * Nothing is checked when mail_transport is off.
 */
int		 mailer_check(const struct cfg *cfg, char *err, size_t errlen);

/*
 * Creates the worker for cfg on base: parses the transport, reads the
 * templates and the SMTP password (call it before privileges are
 * dropped).  With mail_transport off it returns a worker that never runs.
 * Returns NULL with a reason in err.  cfg need not outlive it.
 */
struct mailer	*mailer_new(struct event_base *base, const struct cfg *cfg,
		    char *err, size_t errlen);

/*
 * Starts the worker on pool (which must outlive it, until mailer_stop()),
 * listening with a connection of its own to url.  Does nothing when mail
 * is off.  Returns 0, or -1 (logged).
 */
int		 mailer_start(struct mailer *m, struct db_pool *pool,
		    const char *url);

/* Reads the templates of cfg again (SIGHUP); on error keeps the old ones
 * and returns -1 with a reason in err. */
int		 mailer_reload(struct mailer *m, const struct cfg *cfg,
		    char *err, size_t errlen);

/* Claims no more rows (shutdown); sends in flight go on. */
void		 mailer_quiesce(struct mailer *m);

/*
 * Abandons the sends in flight (their rows are due again when their lease
 * runs out) and stops listening; call before the pool is freed, then
 * mailer_free() after it.  NULL is fine.
 */
void		 mailer_stop(struct mailer *m);

/* Frees m (NULL is fine). */
void		 mailer_free(struct mailer *m);

/* Fills *s (zeroed when m is NULL). */
void		 mailer_get_stats(const struct mailer *m,
		    struct mailer_stats *s);

#endif
