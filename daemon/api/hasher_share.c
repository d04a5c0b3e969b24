#include <stdlib.h>
#include <string.h>

#include "hasher_share.h"

struct hshare_entry {
	RB_ENTRY(hshare_entry) node;
	char		key[RL_ADDR_MAX + 1];
	unsigned int	held;
};

static int
hshare_cmp(const struct hshare_entry *a, const struct hshare_entry *b)
{
	return strcmp(a->key, b->key);
}

/* RB_GENERATE_STATIC needs __unused, which libbsd leaves undefined. */
RB_GENERATE_INTERNAL(hshare_tree, hshare_entry, node, hshare_cmp,
    __attribute__((unused)) static)

unsigned int
hshare_limit(unsigned int queue)
{
	unsigned int n = queue / HSHARE_DIVISOR;

	return n > HSHARE_MIN ? n : HSHARE_MIN;
}

static struct hshare_entry *
find(const struct hshare *hs, const char *key)
{
	struct hshare_entry probe;

	memcpy(probe.key, key, sizeof(probe.key));
	/* RB_FIND does not write the tree. */
	return RB_FIND(hshare_tree, (struct hshare_tree *)&hs->tree, &probe);
}

bool
hshare_take(struct hshare *hs, struct hshare_slot *slot, const char *addr,
    unsigned int limit)
{
	struct hshare_entry *e;

	memset(slot, 0, sizeof(*slot));
	if (limit == 0)
		return false;
	if (rl_key(addr, slot->key) == -1)
		return true;
	if ((e = find(hs, slot->key)) == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return true;
		memcpy(e->key, slot->key, sizeof(e->key));
		RB_INSERT(hshare_tree, &hs->tree, e);
		hs->count++;
	}
	if (e->held >= limit)
		return false;
	e->held++;
	slot->held = true;
	return true;
}

void
hshare_give(struct hshare *hs, struct hshare_slot *slot)
{
	struct hshare_entry *e;

	if (!slot->held)
		return;
	slot->held = false;
	if ((e = find(hs, slot->key)) == NULL || e->held == 0)
		return;
	if (--e->held == 0) {
		RB_REMOVE(hshare_tree, &hs->tree, e);
		free(e);
		hs->count--;
	}
}

unsigned int
hshare_held(const struct hshare *hs, const char *addr)
{
	struct hshare_entry *e;
	char	 key[RL_ADDR_MAX + 1];

	if (rl_key(addr, key) == -1 || (e = find(hs, key)) == NULL)
		return 0;
	return e->held;
}
