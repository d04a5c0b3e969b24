/*
 * Connection accounting: a total, and a count per client address in a
 * chained hash table keyed with SipHash (a random key per table, so that
 * a client cannot pick addresses that share a bucket).  See connlimit.h.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "connlimit.h"

#define CL_BUCKETS_MIN	256

struct cl_entry {
	struct connlimit_key	 key;
	unsigned int		 n;
	struct cl_entry		*next;
};

struct connlimit {
	unsigned int		 total_max;
	unsigned int		 per_max;
	size_t			 open;
	struct cl_entry		**buckets;
	size_t			 nbuckets;	/* a power of 2 */
	size_t			 naddrs;
	unsigned char		 hkey[crypto_shorthash_KEYBYTES];

	struct connlimit_refusals held;
	bool			 waiting;	/* held counts some */
	time_t			 last;		/* the last line */
	bool			 logged;	/* last is set */
};

void
connlimit_derive(unsigned long long nofile, unsigned int pool,
    unsigned int *total, unsigned int *per)
{
	unsigned long long	 reserve = CONNLIMIT_FD_RESERVE + pool;
	unsigned int		 t = *total;

	if (t == 0) {
		if (nofile > CONNLIMIT_MAX)
			nofile = CONNLIMIT_MAX;
		t = nofile >= reserve + CONNLIMIT_MIN ?
		    (unsigned int)(nofile - reserve) : CONNLIMIT_MIN;
		*total = t;
	}
	if (*per == 0) {
		*per = t / CONNLIMIT_ADDR_SHARE;
		if (*per < CONNLIMIT_ADDR_MIN)
			*per = CONNLIMIT_ADDR_MIN;
		if (*per > t)
			*per = t;
	}
}

void
connlimit_key(const struct sockaddr *sa, struct connlimit_key *k)
{
	const struct sockaddr_in6 *s6;

	memset(k, 0, sizeof(*k));
	if (sa == NULL)
		return;
	switch (sa->sa_family) {
	case AF_INET:
		k->family = 4;
		memcpy(k->addr,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		break;
	case AF_INET6:
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			k->family = 4;
			memcpy(k->addr, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			k->family = 6;
			memcpy(k->addr, &s6->sin6_addr, 16);
		}
		break;
	}
}

struct connlimit *
connlimit_new(unsigned int total, unsigned int per)
{
	struct connlimit *cl;

	if (sodium_init() < 0 || (cl = calloc(1, sizeof(*cl))) == NULL)
		return NULL;
	cl->nbuckets = CL_BUCKETS_MIN;
	if ((cl->buckets = calloc(cl->nbuckets, sizeof(*cl->buckets))) ==
	    NULL) {
		free(cl);
		return NULL;
	}
	crypto_shorthash_keygen(cl->hkey);
	connlimit_set(cl, total, per);
	return cl;
}

void
connlimit_set(struct connlimit *cl, unsigned int total, unsigned int per)
{
	cl->total_max = total > 0 ? total : 1;
	cl->per_max = per > 0 ? per : 1;
}

static size_t
bucket_of(const struct connlimit *cl, const struct connlimit_key *k)
{
	unsigned char	 h[crypto_shorthash_BYTES];
	uint64_t	 v = 0;
	size_t		 i;

	crypto_shorthash(h, (const unsigned char *)k, sizeof(*k), cl->hkey);
	for (i = 0; i < sizeof(h); i++)
		v = v << 8 | h[i];
	return (size_t)(v & (cl->nbuckets - 1));
}

static struct cl_entry **
find(const struct connlimit *cl, const struct connlimit_key *k)
{
	struct cl_entry	**ep;

	for (ep = &cl->buckets[bucket_of(cl, k)]; *ep != NULL;
	    ep = &(*ep)->next)
		if (memcmp(&(*ep)->key, k, sizeof(*k)) == 0)
			break;
	return ep;
}

/* Twice the buckets when there are more addresses than buckets; a
 * table that cannot grow stays as it is, only slower. */
static void
grow(struct connlimit *cl)
{
	struct cl_entry	**old = cl->buckets, *e, *next;
	size_t		 n = cl->nbuckets, i;

	if (cl->naddrs <= n || n > SIZE_MAX / 2 / sizeof(*old))
		return;
	if ((cl->buckets = calloc(n * 2, sizeof(*old))) == NULL) {
		cl->buckets = old;
		return;
	}
	cl->nbuckets = n * 2;
	for (i = 0; i < n; i++)
		for (e = old[i]; e != NULL; e = next) {
			next = e->next;
			e->next = cl->buckets[bucket_of(cl, &e->key)];
			cl->buckets[bucket_of(cl, &e->key)] = e;
		}
	free(old);
}

enum connlimit_verdict
connlimit_take(struct connlimit *cl, const struct connlimit_key *k,
    bool per_address)
{
	struct cl_entry	**ep, *e;

	if (cl->open >= cl->total_max)
		return CONNLIMIT_TOTAL;
	if (!per_address) {
		cl->open++;
		return CONNLIMIT_OK;
	}
	ep = find(cl, k);
	if ((e = *ep) != NULL) {
		if (e->n >= cl->per_max)
			return CONNLIMIT_ADDRESS;
		e->n++;
		cl->open++;
		return CONNLIMIT_OK;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return CONNLIMIT_TOTAL;
	e->key = *k;
	e->n = 1;
	*ep = e;
	cl->naddrs++;
	cl->open++;
	grow(cl);
	return CONNLIMIT_OK;
}

void
connlimit_release(struct connlimit *cl, const struct connlimit_key *k,
    bool per_address)
{
	struct cl_entry	**ep, *e;

	if (cl->open > 0)
		cl->open--;
	if (!per_address || (e = *(ep = find(cl, k))) == NULL)
		return;
	if (--e->n > 0)
		return;
	*ep = e->next;
	free(e);
	cl->naddrs--;
}

size_t
connlimit_open(const struct connlimit *cl)
{
	return cl->open;
}

unsigned int
connlimit_open_from(const struct connlimit *cl, const struct connlimit_key *k)
{
	struct cl_entry	*e = *find(cl, k);

	return e != NULL ? e->n : 0;
}

size_t
connlimit_addresses(const struct connlimit *cl)
{
	return cl->naddrs;
}

/* The held counts as the line to write, and a fresh start. */
static void
take_held(struct connlimit *cl, time_t now, struct connlimit_refusals *out)
{
	*out = cl->held;
	memset(&cl->held, 0, sizeof(cl->held));
	cl->waiting = false;
	cl->last = now;
	cl->logged = true;
}

bool
connlimit_note(struct connlimit *cl, enum connlimit_verdict v, time_t now,
    struct connlimit_refusals *out)
{
	switch (v) {
	case CONNLIMIT_TOTAL:
		cl->held.total++;
		break;
	case CONNLIMIT_ADDRESS:
		cl->held.address++;
		break;
	case CONNLIMIT_PAUSED:
		cl->held.paused++;
		break;
	case CONNLIMIT_OK:
		break;
	}
	if (cl->logged && now < cl->last + CONNLIMIT_LOG_INTERVAL) {
		cl->waiting = true;
		return false;
	}
	take_held(cl, now, out);
	return true;
}

time_t
connlimit_due(const struct connlimit *cl)
{
	return cl->last + CONNLIMIT_LOG_INTERVAL;
}

bool
connlimit_flush(struct connlimit *cl, time_t now,
    struct connlimit_refusals *out)
{
	if (!cl->waiting || now < connlimit_due(cl))
		return false;
	take_held(cl, now, out);
	return true;
}

void
connlimit_free(struct connlimit *cl)
{
	struct cl_entry	*e, *next;
	size_t		 i;

	if (cl == NULL)
		return;
	for (i = 0; i < cl->nbuckets; i++)
		for (e = cl->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(cl->buckets);
	sodium_memzero(cl->hkey, sizeof(cl->hkey));
	free(cl);
}
