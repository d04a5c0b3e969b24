/*
 * Forward-auth's memory of browser sessions: a hash table over a fixed
 * array of nodes, chained by index, with a doubly linked recency list.
 * Index 0 means none, so calloc'd buckets are empty and the nodes never
 * used are never touched (the kernel need not back them).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "session_cache.h"

struct node {
	struct session_cache_entry e;
	uint32_t	 hnext;		/* in its bucket, or the free list */
	uint32_t	 prev;		/* toward the most recently used */
	uint32_t	 next;		/* toward the least recently used */
};

struct session_cache {
	struct node	*nodes;		/* nodes[i - 1] is node i */
	uint32_t	*buckets;
	size_t		 mask;		/* buckets - 1, a power of two */
	size_t		 max;
	size_t		 count;
	size_t		 fresh;		/* nodes handed out so far */
	uint32_t	 free;		/* forgotten nodes, by hnext */
	uint32_t	 head;		/* most recently used */
	uint32_t	 tail;		/* least recently used */
};

#define N(c, i)	(&(c)->nodes[(i) - 1])

struct session_cache *
session_cache_new(size_t max)
{
	struct session_cache *c;
	size_t nb = 1;

	if (max == 0 || max >= UINT32_MAX)
		return NULL;
	while (nb < max)
		nb <<= 1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->nodes = calloc(max, sizeof(*c->nodes))) == NULL ||
	    (c->buckets = calloc(nb, sizeof(*c->buckets))) == NULL) {
		session_cache_free(c);
		return NULL;
	}
	c->mask = nb - 1;
	c->max = max;
	return c;
}

void
session_cache_free(struct session_cache *c)
{
	if (c == NULL)
		return;
	free(c->nodes);
	free(c->buckets);
	free(c);
}

/* The key is a SHA-256: any four of its bytes are spread evenly. */
static uint32_t *
bucket(struct session_cache *c, const uint8_t *key)
{
	uint32_t h;

	memcpy(&h, key, sizeof(h));
	return &c->buckets[h & c->mask];
}

static uint32_t
find(struct session_cache *c, const uint8_t *key)
{
	uint32_t i;

	for (i = *bucket(c, key); i != 0; i = N(c, i)->hnext) {
		if (sodium_memcmp(N(c, i)->e.key, key,
		    SESSION_CACHE_KEY_LEN) == 0)
			return i;
	}
	return 0;
}

static void
lru_unlink(struct session_cache *c, uint32_t i)
{
	struct node *n = N(c, i);

	if (n->prev != 0)
		N(c, n->prev)->next = n->next;
	else
		c->head = n->next;
	if (n->next != 0)
		N(c, n->next)->prev = n->prev;
	else
		c->tail = n->prev;
	n->prev = n->next = 0;
}

static void
lru_push(struct session_cache *c, uint32_t i)
{
	struct node *n = N(c, i);

	n->prev = 0;
	n->next = c->head;
	if (c->head != 0)
		N(c, c->head)->prev = i;
	c->head = i;
	if (c->tail == 0)
		c->tail = i;
}

/* Takes node i out of its bucket and the recency list onto the free list,
 * wiping what it held. */
static void
drop(struct session_cache *c, uint32_t i)
{
	uint32_t *p = bucket(c, N(c, i)->e.key);

	while (*p != i)
		p = &N(c, *p)->hnext;
	*p = N(c, i)->hnext;
	lru_unlink(c, i);
	sodium_memzero(&N(c, i)->e, sizeof(N(c, i)->e));
	N(c, i)->hnext = c->free;
	c->free = i;
	c->count--;
}

const struct session_cache_entry *
session_cache_lookup(struct session_cache *c,
    const uint8_t key[SESSION_CACHE_KEY_LEN], uint64_t now, uint64_t check)
{
	uint32_t i;
	const struct session_cache_entry *e;

	if (check == 0 || (i = find(c, key)) == 0)
		return NULL;
	e = &N(c, i)->e;
	/* A confirmation "ahead" of now is no confirmation. */
	if (now < e->confirmed || now - e->confirmed >= check)
		return NULL;
	lru_unlink(c, i);
	lru_push(c, i);
	return e;
}

void
session_cache_store(struct session_cache *c,
    const struct session_cache_entry *e)
{
	uint32_t i, *b;

	if ((i = find(c, e->key)) != 0)
		drop(c, i);
	else if (c->count == c->max)
		drop(c, c->tail);
	if (c->free != 0) {
		i = c->free;
		c->free = N(c, i)->hnext;
	} else
		i = (uint32_t)++c->fresh;
	N(c, i)->e = *e;
	b = bucket(c, e->key);
	N(c, i)->hnext = *b;
	*b = i;
	lru_push(c, i);
	c->count++;
}

void
session_cache_forget(struct session_cache *c,
    const uint8_t key[SESSION_CACHE_KEY_LEN])
{
	uint32_t i;

	if ((i = find(c, key)) != 0)
		drop(c, i);
}

size_t
session_cache_forget_user(struct session_cache *c, const char *user_id)
{
	uint32_t i, next;
	size_t n = 0;

	for (i = c->head; i != 0; i = next) {
		next = N(c, i)->next;
		if (strcmp(N(c, i)->e.user_id, user_id) == 0) {
			drop(c, i);
			n++;
		}
	}
	return n;
}

void
session_cache_clear(struct session_cache *c)
{
	while (c->head != 0)
		drop(c, c->head);
}

size_t
session_cache_count(const struct session_cache *c)
{
	return c->count;
}
