/*
 * purger.h: a timer, a walk over the kinds, one batch in flight.
 */
#include <stdlib.h>

#include <event2/event.h>

#include "log.h"
#include "purger.h"
#include "store/db.h"

struct purger {
	struct event	*tick;
	struct event	*next;		/* the next batch, on the loop's next
					 * turn: never from inside a callback */
	struct db_pool	*pool;
	struct db_req	*pending;
	int64_t		 interval;
	int64_t		 audit_keep;
	enum purge_kind	 kind;		/* the kind of the round's batch */
	unsigned int	 batches;	/* of kind, this round */
	uint64_t	 deleted[PURGE_NKINDS];
};

static void	send_batch(struct purger *p);

/* The round moves to the next kind that has anything to purge. */
static void
next_kind(struct purger *p)
{
	p->kind++;
	p->batches = 0;
	if (p->kind == PURGE_AUDIT_EVENTS && p->audit_keep <= 0)
		p->kind++;
}

static void
purged(const PGresult *res, void *arg)
{
	struct purger	*p = arg;
	struct timeval	 now = { 0, 0 };
	int64_t		 n;

	p->pending = NULL;
	n = purge_deleted(res, p->kind);
	if (n > 0) {
		p->deleted[p->kind] += (uint64_t)n;
		log_debug("purge: %lld rows of %s", (long long)n,
		    purge_table(p->kind));
	}
	if (n != PURGE_BATCH || ++p->batches >= PURGER_MAX_BATCHES)
		next_kind(p);
	if (p->kind < PURGE_NKINDS)
		event_add(p->next, &now);
}

static void
send_batch(struct purger *p)
{
	if (p->pool == NULL || p->kind >= PURGE_NKINDS)
		return;
	if ((p->pending = purge_send(p->pool, p->kind, p->audit_keep, purged,
	    p)) == NULL) {
		log_warn("purge: cannot queue the batch of %s",
		    purge_table(p->kind));
		next_kind(p);
	}
}

static void
on_next(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	send_batch(arg);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct purger *p = arg;

	(void)fd;
	(void)what;
	if (p->pending != NULL || event_pending(p->next, EV_TIMEOUT, NULL))
		return;		/* the last round is still going */
	p->kind = 0;
	p->batches = 0;
	send_batch(p);
}

struct purger *
purger_new(struct event_base *base)
{
	struct purger *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->kind = PURGE_NKINDS;
	if ((p->tick = event_new(base, -1, EV_PERSIST, on_tick, p)) == NULL ||
	    (p->next = event_new(base, -1, 0, on_next, p)) == NULL) {
		purger_free(p);
		return NULL;
	}
	return p;
}

static int
arm(struct purger *p)
{
	struct timeval tv = { (time_t)p->interval, 0 };

	return event_add(p->tick, &tv);
}

int
purger_start(struct purger *p, struct db_pool *pool, int64_t interval,
    int64_t audit_keep)
{
	p->pool = pool;
	p->interval = interval > 0 ? interval : 60;
	p->audit_keep = audit_keep;
	if (arm(p) == -1)
		return -1;
	on_tick(-1, 0, p);
	return 0;
}

void
purger_configure(struct purger *p, int64_t interval, int64_t audit_keep)
{
	if (p == NULL || p->pool == NULL)
		return;
	p->audit_keep = audit_keep;
	if (interval > 0 && interval != p->interval) {
		p->interval = interval;
		if (arm(p) == -1)
			log_warn("purge: cannot re-arm its timer");
	}
}

void
purger_stop(struct purger *p)
{
	if (p == NULL)
		return;
	if (p->tick != NULL)
		event_del(p->tick);
	if (p->next != NULL)
		event_del(p->next);
	if (p->pending != NULL)
		db_cancel(p->pending);
	p->pending = NULL;
	p->pool = NULL;
}

void
purger_free(struct purger *p)
{
	if (p == NULL)
		return;
	purger_stop(p);
	if (p->tick != NULL)
		event_free(p->tick);
	if (p->next != NULL)
		event_free(p->next);
	free(p);
}

uint64_t
purger_deleted(const struct purger *p, enum purge_kind k)
{
	return p != NULL && k < PURGE_NKINDS ? p->deleted[k] : 0;
}
