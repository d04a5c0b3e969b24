#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <bsd/sys/tree.h>

#include "ratelimit.h"

struct rl_entry {
	RB_ENTRY(rl_entry) node;
	char		addr[RL_ADDR_MAX + 1];
	time_t		window_start;
	unsigned int	failures;
};

static int
rl_cmp(const struct rl_entry *a, const struct rl_entry *b)
{
	return strcmp(a->addr, b->addr);
}

RB_HEAD(rl_tree, rl_entry);
/* RB_GENERATE_STATIC needs __unused, which libbsd leaves undefined. */
RB_GENERATE_INTERNAL(rl_tree, rl_entry, node, rl_cmp,
    __attribute__((unused)) static)

struct ratelimit {
	struct rl_tree	tree;
	size_t		count;
	size_t		max_entries;
	unsigned int	limit;
	int64_t		window;
};

struct ratelimit *
rl_new(unsigned int limit, int64_t window, size_t max_entries)
{
	struct ratelimit *rl;

	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	RB_INIT(&rl->tree);
	rl->max_entries = max_entries > 0 ? max_entries : RL_DEFAULT_ENTRIES;
	rl_configure(rl, limit, window);
	return rl;
}

void
rl_configure(struct ratelimit *rl, unsigned int limit, int64_t window)
{
	rl->limit = limit > 0 ? limit : 1;
	rl->window = window > 0 ? window : 1;
}

static bool
expired(const struct ratelimit *rl, const struct rl_entry *e, time_t now)
{
	return now - e->window_start >= rl->window || now < e->window_start;
}

static void
remove_entry(struct ratelimit *rl, struct rl_entry *e)
{
	RB_REMOVE(rl_tree, &rl->tree, e);
	free(e);
	rl->count--;
}

/* Makes room for one more entry: sweep the expired, else drop the oldest. */
static void
make_room(struct ratelimit *rl, time_t now)
{
	struct rl_entry *e, *next, *oldest = NULL;

	RB_FOREACH_SAFE(e, rl_tree, &rl->tree, next) {
		if (expired(rl, e, now))
			remove_entry(rl, e);
		else if (oldest == NULL || e->window_start < oldest->window_start)
			oldest = e;
	}
	if (rl->count >= rl->max_entries && oldest != NULL)
		remove_entry(rl, oldest);
}

int
rl_key(const char *addr, char key[RL_ADDR_MAX + 1])
{
	struct in6_addr a6;
	char	 net[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, addr, &a6) == 1 &&
	    !IN6_IS_ADDR_V4MAPPED(&a6)) {
		memset(&a6.s6_addr[8], 0, 8);
		if (inet_ntop(AF_INET6, &a6, net, sizeof(net)) == NULL)
			return -1;
		return snprintf(key, RL_ADDR_MAX + 1, "%s/64", net) >
		    RL_ADDR_MAX ? -1 : 0;
	}
	return strlcpy(key, addr, RL_ADDR_MAX + 1) > RL_ADDR_MAX ? -1 : 0;
}

static struct rl_entry *
lookup(struct ratelimit *rl, const char *addr)
{
	struct rl_entry key;

	if (rl_key(addr, key.addr) == -1)
		return NULL;
	return RB_FIND(rl_tree, &rl->tree, &key);
}

bool
rl_blocked(struct ratelimit *rl, const char *addr, time_t now,
    int64_t *retry_after)
{
	struct rl_entry *e;

	if ((e = lookup(rl, addr)) == NULL)
		return false;
	if (expired(rl, e, now)) {
		remove_entry(rl, e);
		return false;
	}
	if (e->failures < rl->limit)
		return false;
	if (retry_after != NULL) {
		*retry_after = e->window_start + rl->window - now;
		if (*retry_after < 1)
			*retry_after = 1;
	}
	return true;
}

void
rl_fail(struct ratelimit *rl, const char *addr, time_t now)
{
	struct rl_entry *e;
	char	 key[RL_ADDR_MAX + 1];

	if (rl_key(addr, key) == -1)
		return;
	if ((e = lookup(rl, addr)) != NULL) {
		if (expired(rl, e, now)) {
			e->window_start = now;
			e->failures = 0;
		}
		if (e->failures < rl->limit)
			e->failures++;
		return;
	}
	if (rl->count >= rl->max_entries)
		make_room(rl, now);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return;
	memcpy(e->addr, key, sizeof(e->addr));
	e->window_start = now;
	e->failures = 1;
	RB_INSERT(rl_tree, &rl->tree, e);
	rl->count++;
}

void
rl_block(struct ratelimit *rl, const char *addr, time_t now,
    int64_t retry_after)
{
	struct rl_entry *e;

	if (retry_after < 1)
		retry_after = 1;
	if (retry_after > rl->window)
		retry_after = rl->window;
	rl_fail(rl, addr, now);
	if ((e = lookup(rl, addr)) == NULL)
		return;
	e->window_start = now + retry_after - rl->window;
	e->failures = rl->limit;
}

unsigned int
rl_limit(const struct ratelimit *rl)
{
	return rl->limit;
}

int64_t
rl_window(const struct ratelimit *rl)
{
	return rl->window;
}

unsigned int
rl_failures(struct ratelimit *rl, const char *addr, time_t now)
{
	struct rl_entry *e;

	if ((e = lookup(rl, addr)) == NULL || expired(rl, e, now))
		return 0;
	return e->failures;
}

void
rl_forgive(struct ratelimit *rl, const char *addr)
{
	struct rl_entry *e;

	if ((e = lookup(rl, addr)) != NULL && e->failures > 0)
		e->failures--;
}

size_t
rl_count(const struct ratelimit *rl)
{
	return rl->count;
}

void
rl_free(struct ratelimit *rl)
{
	struct rl_entry *e, *next;

	if (rl == NULL)
		return;
	RB_FOREACH_SAFE(e, rl_tree, &rl->tree, next)
		remove_entry(rl, e);
	free(rl);
}
