/*
 * A memo: sets of MEMO_WAYS entries, each a header (key, until) and the
 * value, laid out at a fixed stride.  An entry whose until is 0 is empty.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "memo.h"

struct head {
	uint8_t		 key[MEMO_KEY_LEN];
	int64_t		 until;		/* 0: empty */
};

struct memo {
	unsigned char	*slots;
	size_t		 stride;	/* header and value, aligned */
	size_t		 size;		/* of a value */
	size_t		 nsets;		/* a power of two */
	size_t		 count;
	uint64_t	 hits;
	uint64_t	 misses;
};

#define SLOT(m, i)	((struct head *)((m)->slots + (i) * (m)->stride))
#define VALUE(h)	((void *)((unsigned char *)(h) + sizeof(struct head)))

struct memo *
memo_new(size_t entries, size_t size)
{
	struct memo *m;
	size_t	 n = MEMO_WAYS, stride;
	const size_t align = alignof(max_align_t);

	if (entries == 0 || size == 0 || size > SIZE_MAX / 4)
		return NULL;
	stride = (sizeof(struct head) + size + align - 1) / align * align;
	while (n < entries && n <= (SIZE_MAX / 2) / stride)
		n <<= 1;
	if (n < entries)
		return NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if ((m->slots = calloc(n, stride)) == NULL) {
		free(m);
		return NULL;
	}
	m->stride = stride;
	m->size = size;
	m->nsets = n / MEMO_WAYS;
	return m;
}

void
memo_free(struct memo *m)
{
	if (m == NULL)
		return;
	memo_clear(m);
	free(m->slots);
	free(m);
}

static size_t
set_of(const struct memo *m, const uint8_t *key)
{
	uint32_t h;

	memcpy(&h, key, sizeof(h));
	return (h & (m->nsets - 1)) * MEMO_WAYS;
}

static struct head *
find(struct memo *m, const uint8_t *key)
{
	size_t	 i, first = set_of(m, key);
	struct head *h;

	for (i = first; i < first + MEMO_WAYS; i++) {
		h = SLOT(m, i);
		if (h->until != 0 && sodium_memcmp(h->key, key,
		    MEMO_KEY_LEN) == 0)
			return h;
	}
	return NULL;
}

static void
wipe(struct memo *m, struct head *h)
{
	if (h->until != 0)
		m->count--;
	sodium_memzero(h, m->stride);
}

const void *
memo_get(struct memo *m, const uint8_t key[MEMO_KEY_LEN], int64_t now)
{
	struct head *h;

	if ((h = find(m, key)) == NULL) {
		m->misses++;
		return NULL;
	}
	if (now >= h->until) {
		wipe(m, h);
		m->misses++;
		return NULL;
	}
	m->hits++;
	return VALUE(h);
}

void *
memo_put(struct memo *m, const uint8_t key[MEMO_KEY_LEN], int64_t until)
{
	struct head *h, *w;
	size_t	 i, first;

	if (until <= 0)
		return NULL;
	if ((h = find(m, key)) == NULL) {
		/* An empty way, else the one that dies first. */
		first = set_of(m, key);
		h = SLOT(m, first);
		for (i = first + 1; i < first + MEMO_WAYS && h->until != 0;
		    i++) {
			w = SLOT(m, i);
			if (w->until < h->until)
				h = w;
		}
	}
	wipe(m, h);
	memcpy(h->key, key, MEMO_KEY_LEN);
	h->until = until;
	m->count++;
	return VALUE(h);
}

void
memo_forget(struct memo *m, const uint8_t key[MEMO_KEY_LEN])
{
	struct head *h;

	if ((h = find(m, key)) != NULL)
		wipe(m, h);
}

void
memo_clear(struct memo *m)
{
	size_t	 i, n = m->nsets * MEMO_WAYS;

	/* Only entries in use are written: the others were never touched,
	 * and writing them would make the kernel back them. */
	for (i = 0; i < n && m->count > 0; i++)
		if (SLOT(m, i)->until != 0)
			wipe(m, SLOT(m, i));
}

void
memo_stats(const struct memo *m, struct memo_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (m == NULL)
		return;
	st->hits = m->hits;
	st->misses = m->misses;
	st->entries = m->count;
	st->capacity = m->nsets * MEMO_WAYS;
}
