/*
 * census.h: a timer, one query at a time, and the last answer.
 */
#include <stdlib.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "census.h"
#include "log.h"
#include "store/db.h"

struct census {
	struct event	*tick;
	struct db_pool	*pool;
	struct db_req	*pending;
	int64_t		 legacy;
};

static const char legacy_sql[] =
    /* As users_legacy_hash_idx's predicate, so that the index serves. */
    "SELECT count(*) FROM users WHERE password_hash NOT LIKE '$warden$%'";

static void
counted(const PGresult *res, void *arg)
{
	struct census	*c = arg;
	char		*end;
	long long	 n;

	c->pending = NULL;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1)
		return;		/* the next tick tries again */
	n = strtoll(PQgetvalue(res, 0, 0), &end, 10);
	if (*end == '\0' && n >= 0)
		c->legacy = n;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct census *c = arg;

	(void)fd;
	(void)what;
	if (c->pending == NULL && c->pool != NULL &&
	    (c->pending = db_query(c->pool, legacy_sql, 0, NULL, counted,
	    c)) == NULL)
		log_warn("census: cannot queue the count of legacy hashes");
}

struct census *
census_new(struct event_base *base)
{
	struct census *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->legacy = -1;
	if ((c->tick = event_new(base, -1, EV_PERSIST, on_tick, c)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

int
census_start(struct census *c, struct db_pool *pool)
{
	struct timeval tv = { CENSUS_PERIOD, 0 };

	c->pool = pool;
	if (event_add(c->tick, &tv) == -1)
		return -1;
	on_tick(-1, 0, c);
	return 0;
}

void
census_stop(struct census *c)
{
	if (c == NULL)
		return;
	event_del(c->tick);
	if (c->pending != NULL)
		db_cancel(c->pending);
	c->pending = NULL;
	c->pool = NULL;
}

void
census_free(struct census *c)
{
	if (c == NULL)
		return;
	census_stop(c);
	event_free(c->tick);
	free(c);
}

int64_t
census_legacy_hashes(const struct census *c)
{
	return c != NULL ? c->legacy : -1;
}
