/*
 * Connection accounting: how many client connections are open, in all
 * and from each address, against two caps (max_connections,
 * max_connections_per_address), so that one client cannot take every
 * connection; and the refusals, counted for a log line that is written at
 * most once every CONNLIMIT_LOG_INTERVAL seconds, never one per refusal.
 *
 * Nothing here touches a socket or the clock: the server passes addresses
 * and times in (conn.c).
 */
#ifndef WARDEN_CONNLIMIT_H
#define WARDEN_CONNLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct connlimit;
struct sockaddr;

#define CONNLIMIT_MAX		1000000	/* the configuration's bound too */
#define CONNLIMIT_FD_RESERVE	64	/* descriptors kept back from the
					 * open-file limit, plus the pool's */
#define CONNLIMIT_MIN		16	/* the least derived max_connections */
#define CONNLIMIT_ADDR_SHARE	16	/* derived per address: 1/16 ... */
#define CONNLIMIT_ADDR_MIN	8	/* ... but at least this */
#define CONNLIMIT_LOG_INTERVAL	10	/* seconds between log lines */

/* A client address: IPv4 (IPv4-mapped IPv6 included), IPv6, or "other"
 * (a unix socket peer: all of them one key). */
struct connlimit_key {
	uint8_t		family;		/* 4, 6, or 0 */
	uint8_t		addr[16];
};

enum connlimit_verdict {
	CONNLIMIT_OK = 0,
	CONNLIMIT_TOTAL,	/* max_connections are open */
	CONNLIMIT_ADDRESS,	/* max_connections_per_address are */
	CONNLIMIT_PAUSED,	/* not connlimit_take()'s: accept() ran out
				 * of descriptors, for connlimit_note() */
};

/* Refusals (and accept() pauses) since the last log line. */
struct connlimit_refusals {
	unsigned long	total;		/* over max_connections */
	unsigned long	address;	/* over max_connections_per_address */
	unsigned long	paused;		/* accept() out of descriptors */
};

/*
 * The caps that 0 in the configuration stands for, into *total and *per:
 * max_connections 0 is the open-file limit nofile less CONNLIMIT_FD_RESERVE
 * and one descriptor per database connection (pool), at least
 * CONNLIMIT_MIN, at most CONNLIMIT_MAX; max_connections_per_address 0 is
 * a CONNLIMIT_ADDR_SHARE-th of that, at least CONNLIMIT_ADDR_MIN (and not
 * above the total).  Values other than 0 are kept.
 */
void	connlimit_derive(unsigned long long nofile, unsigned int pool,
	    unsigned int *total, unsigned int *per);

/* The key of socket address sa (NULL: "other"). */
void	connlimit_key(const struct sockaddr *sa, struct connlimit_key *k);

/* A new account with caps total and per (each at least 1).  NULL when
 * out of memory. */
struct connlimit *connlimit_new(unsigned int total, unsigned int per);

/* New caps, for the connections that come from now on: those open stay. */
void	connlimit_set(struct connlimit *cl, unsigned int total,
	    unsigned int per);

/*
 * A connection from k wants in.  per_address false counts it against the
 * total only (a trusted proxy, a unix socket peer).  CONNLIMIT_OK counts
 * it: release it with connlimit_release() and the same arguments.  Any
 * other verdict counts nothing.  Out of memory for a new address is
 * CONNLIMIT_TOTAL.
 */
enum connlimit_verdict connlimit_take(struct connlimit *cl,
	    const struct connlimit_key *k, bool per_address);

/* A connection that connlimit_take() let in has closed. */
void	connlimit_release(struct connlimit *cl, const struct connlimit_key *k,
	    bool per_address);

/* Connections open, in all and from k; addresses with any open. */
size_t	connlimit_open(const struct connlimit *cl);
unsigned int connlimit_open_from(const struct connlimit *cl,
	    const struct connlimit_key *k);
size_t	connlimit_addresses(const struct connlimit *cl);

/*
 * Counts one refusal (v: CONNLIMIT_TOTAL or CONNLIMIT_ADDRESS) or accept()
 * pause (CONNLIMIT_PAUSED) at now (seconds, monotonic).
 * Returns true when a log line is due now: *out then holds what happened
 * since the last line, this included, and the count starts again.  False
 * when the line waits: call connlimit_flush() from connlimit_due() on.
 */
bool	connlimit_note(struct connlimit *cl, enum connlimit_verdict v,
	    time_t now, struct connlimit_refusals *out);

/* When the waiting line is due (meaningful after connlimit_note() said
 * false). */
time_t	connlimit_due(const struct connlimit *cl);

/* True, with *out as connlimit_note() gives it, when counts wait and
 * their line is due at now; false otherwise. */
bool	connlimit_flush(struct connlimit *cl, time_t now,
	    struct connlimit_refusals *out);

/* Frees cl (NULL is fine). */
void	connlimit_free(struct connlimit *cl);

#endif
