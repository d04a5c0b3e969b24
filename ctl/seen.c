/*
 * The set of seen.h.  FNV-1a is enough: the keys come from the operator's
 * own file, and a pathological one is only slower.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seen.h"

struct seen_slot {
	char	*key;
	size_t	 line;
};

struct seen {
	struct seen_slot	*slots;
	size_t			 cap, n;	/* cap: a power of two */
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct seen_slot *
find(struct seen_slot *slots, size_t cap, const char *key)
{
	size_t i = (size_t)hash(key) & (cap - 1);

	while (slots[i].key != NULL && strcmp(slots[i].key, key) != 0)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

struct seen *
seen_new(void)
{
	struct seen *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cap = 1024;
	if ((s->slots = calloc(s->cap, sizeof(*s->slots))) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

static int
grow(struct seen *s)
{
	struct seen_slot	*slots;
	size_t			 cap = s->cap * 2, i;

	if ((slots = calloc(cap, sizeof(*slots))) == NULL)
		return -1;
	for (i = 0; i < s->cap; i++)
		if (s->slots[i].key != NULL)
			*find(slots, cap, s->slots[i].key) = s->slots[i];
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return 0;
}

size_t
seen_find(const struct seen *s, const char *key)
{
	const struct seen_slot *slot = find(s->slots, s->cap, key);

	return slot->key != NULL ? slot->line : 0;
}

size_t
seen_add(struct seen *s, const char *key, size_t line)
{
	struct seen_slot *slot;

	if ((s->n + 1) * 2 > s->cap && grow(s) == -1)
		return 0;
	slot = find(s->slots, s->cap, key);
	if (slot->key != NULL)
		return slot->line;
	if ((slot->key = strdup(key)) == NULL)
		return 0;
	slot->line = line;
	s->n++;
	return line;
}

void
seen_free(struct seen *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->cap; i++)
		free(s->slots[i].key);
	free(s->slots);
	free(s);
}
