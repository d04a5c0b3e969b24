/*
 * The growing string of textbuf.h.  It grows by copying, never by realloc,
 * so that no unwiped copy of a batch of hashes is left in freed memory.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "textbuf.h"

static void
put(struct textbuf *b, const char *s, size_t n)
{
	char	*p;
	size_t	 cap;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap == 0 ? 4096 : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		/* Never realloc: the old copy may hold hashes to wipe. */
		if ((p = malloc(cap)) == NULL) {
			b->failed = true;
			return;
		}
		if (b->s != NULL) {
			memcpy(p, b->s, b->len);
			sodium_memzero(b->s, b->cap);
			free(b->s);
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
textbuf_array_open(struct textbuf *b)
{
	b->len = 0;
	b->first = true;
	put(b, "{", 1);
}

void
textbuf_array_add(struct textbuf *b, const char *v)
{
	const char *p;

	if (!b->first)
		put(b, ",", 1);
	b->first = false;
	if (v == NULL) {
		put(b, "NULL", 4);
		return;
	}
	put(b, "\"", 1);
	for (p = v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			put(b, "\\", 1);
		put(b, p, 1);
	}
	put(b, "\"", 1);
}

int
textbuf_array_close(struct textbuf *b)
{
	put(b, "}", 1);
	return b->failed ? -1 : 0;
}

void
textbuf_free(struct textbuf *b, bool wipe)
{
	if (b->s != NULL && wipe)
		sodium_memzero(b->s, b->cap);
	free(b->s);
	memset(b, 0, sizeof(*b));
}
