/*
 * Where the asynchronous connections go: the database URL, possibly with
 * several hosts (libpq's multi-host syntax, "host=a,b port=5432,5433
 * target_session_attrs=read-write"), and the bounds of an attempt.
 *
 * libpq tries a list's hosts in order, but PQconnectPoll() ignores
 * connect_timeout (libpq's documentation leaves the bound to the
 * application).  A first host that went away silently (a dead machine, a
 * partition: no reset, just silence) would then hold every attempt for the
 * kernel's connect timeout, minutes, and the next host, the new primary
 * after a failover, would never be tried.  So the pool and the listeners
 * bound each attempt (pg_target_connect_ms()) and, after one that ran out,
 * start the next from the following host of the list (pg_target_skip()).
 *
 * Every connection also gets TCP keep-alives (10 s idle, 3 probes 5 s
 * apart) and tcp_user_timeout (10 s of unacknowledged data), unless the URL
 * says otherwise: a connection to a server that vanished fails in seconds
 * instead of holding its query, and its slot of the pool, until TCP gives
 * up.
 */
#ifndef WARDEN_PG_TARGET_H
#define WARDEN_PG_TARGET_H

#include <stdint.h>

#include <libpq-fe.h>

#define PG_CONNECT_MS_DEFAULT	5000	/* an attempt, without connect_timeout */
#define PG_HOSTS_MAX		16	/* hosts in a list */

struct pg_target {
	char		*url;
	char		*host;		/* the URL's lists, NULL when absent */
	char		*hostaddr;
	char		*port;
	unsigned int	 nhosts;	/* entries of the host list, >= 1 */
	unsigned int	 first;		/* where the next attempt starts */
	int64_t		 connect_ms;	/* the bound of one attempt */
};

/*
 * Reads url (checked by the caller with PQconninfoParse) into *t.  0, or
 * -1 when memory runs out or a list is longer than PG_HOSTS_MAX.
 */
int	pg_target_init(struct pg_target *t, const char *url);

void	pg_target_free(struct pg_target *t);

/*
 * PQconnectStartParams() to t with the caller's keys and values (NULL-
 * terminated; they override the URL, as "options" does), the host lists
 * turned so that the attempt starts at t->first.  What libpq returns.
 */
PGconn	*pg_target_start(const struct pg_target *t, const char *const *keys,
	    const char *const *values);

/* An attempt ran out of time: the next one starts at the following host. */
void	pg_target_skip(struct pg_target *t);

/* How long an attempt may take, milliseconds. */
int64_t	pg_target_connect_ms(const struct pg_target *t);

/*
 * list (comma-separated, n entries) turned left by k into out (outlen
 * bytes): "a,b,c" by 1 is "b,c,a".  A list of one entry stays as it is.
 * -1 when it does not fit or has another number of entries than n.
 */
int	pg_list_rotate(const char *list, unsigned int n, unsigned int k,
	    char *out, size_t outlen);

#endif
