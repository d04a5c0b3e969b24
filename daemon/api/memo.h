/*
 * A memo: values of one fixed size keyed by 32 bytes (a hash), each living
 * until a given time, in a fixed array of MEMO_WAYS-way sets allocated
 * once.  A look-up or a store never allocates; a store into a full set
 * replaces the entry that dies first.  The memory of sets never used is
 * not touched (the kernel need not back it).  The verified-token cache
 * and the user cache are memos.
 *
 * Keys must be spread evenly (a keyed hash): four of their bytes pick the
 * set.  Entries are wiped when they go.  One event loop thread: nothing
 * here is thread-safe.  Pure table, no loop: unit-tested.
 */
#ifndef WARDEN_MEMO_H
#define WARDEN_MEMO_H

#include <stddef.h>
#include <stdint.h>

#define MEMO_KEY_LEN	32
#define MEMO_WAYS	4

struct memo;

/* A memo of entries values of size bytes (entries rounded up to a power
 * of two of at least MEMO_WAYS); NULL when memory runs out or an argument
 * is 0. */
struct memo	*memo_new(size_t entries, size_t size);

/* Frees m (NULL is fine), wiping what it held. */
void		 memo_free(struct memo *m);

/* The value of key while it lives at now (a hit), else NULL (a miss; a
 * dead entry is wiped).  Valid until the next call on m. */
const void	*memo_get(struct memo *m, const uint8_t key[MEMO_KEY_LEN],
		    int64_t now);

/* The place of key's value, living until (not including) until (> 0),
 * for the caller to fill now; it replaces key's entry, else an empty
 * one, else the one of its set that dies first.  NULL when until <= 0. */
void		*memo_put(struct memo *m, const uint8_t key[MEMO_KEY_LEN],
		    int64_t until);

/* Forgets key's entry (none is fine). */
void		 memo_forget(struct memo *m, const uint8_t key[MEMO_KEY_LEN]);

/* Forgets everything. */
void		 memo_clear(struct memo *m);

struct memo_stats {
	uint64_t	hits;
	uint64_t	misses;
	size_t		entries;	/* held, alive or not yet wiped */
	size_t		capacity;
};

/* m may be NULL (all zero). */
void		 memo_stats(const struct memo *m, struct memo_stats *st);

#endif
