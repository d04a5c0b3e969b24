/*
 * The user cache: a memo (memo.h) of rows keyed by a keyed hash of the
 * user id, behind the rules of user_cache.h.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "memo.h"
#include "store/notify.h"
#include "user_cache.h"

struct user_cache {
	struct memo	*memo;
	struct notify	*listener;
	bool		 hearing;
	uint64_t	 generation;
	uint64_t	 notifications;
	uint8_t		 secret[crypto_generichash_KEYBYTES];
};

struct user_cache *
user_cache_new(size_t entries)
{
	struct user_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->memo = memo_new(entries, sizeof(struct user))) == NULL) {
		free(c);
		return NULL;
	}
	randombytes_buf(c->secret, sizeof(c->secret));
	return c;
}

void
user_cache_free(struct user_cache *c)
{
	if (c == NULL)
		return;
	notify_free(c->listener);
	memo_free(c->memo);
	sodium_memzero(c->secret, sizeof(c->secret));
	free(c);
}

static void
key_of(const struct user_cache *c, const char *id, uint8_t key[MEMO_KEY_LEN])
{
	crypto_generichash(key, MEMO_KEY_LEN, (const uint8_t *)id, strlen(id),
	    c->secret, sizeof(c->secret));
}

void
user_cache_hearing(struct user_cache *c, bool hearing)
{
	c->hearing = hearing;
	c->generation++;
	memo_clear(c->memo);
}

bool
user_cache_get(struct user_cache *c, const char *id, int64_t now,
    struct user *out)
{
	uint8_t	 key[MEMO_KEY_LEN];
	const struct user *held;

	if (!c->hearing)
		return false;
	key_of(c, id, key);
	if ((held = memo_get(c->memo, key, now)) == NULL ||
	    strcmp(held->id, id) != 0)
		return false;
	*out = *held;
	return true;
}

uint64_t
user_cache_mark(const struct user_cache *c)
{
	return c->generation;
}

void
user_cache_put(struct user_cache *c, const struct user *u, uint64_t mark,
    int64_t now)
{
	uint8_t	 key[MEMO_KEY_LEN];
	struct user *slot;

	if (!c->hearing || mark != c->generation)
		return;
	key_of(c, u->id, key);
	if ((slot = memo_put(c->memo, key, now + USER_CACHE_TTL)) != NULL)
		*slot = *u;
}

void
user_cache_forget(struct user_cache *c, const char *id)
{
	uint8_t	 key[MEMO_KEY_LEN];

	c->generation++;
	key_of(c, id, key);
	memo_forget(c->memo, key);
}

static void
on_event(const char *payload, void *arg)
{
	struct user_cache *c = arg;

	c->notifications++;
	user_cache_forget(c, payload);
}

static void
on_up(void *arg)
{
	user_cache_hearing(arg, true);
}

static void
on_down(void *arg)
{
	user_cache_hearing(arg, false);
}

int
user_cache_listen(struct user_cache *c, struct event_base *base,
    const char *url)
{
	static const struct notify_cbs cbs = {
		.event = on_event,
		.up = on_up,
		.down = on_down,
	};

	if ((c->listener = notify_new(base, url, USER_CACHE_CHANNEL, &cbs,
	    c)) == NULL) {
		log_error("user cache: cannot start listening");
		return -1;
	}
	return 0;
}

void
user_cache_stats(const struct user_cache *c, struct user_cache_stats *st)
{
	struct memo_stats ms;

	memset(st, 0, sizeof(*st));
	if (c == NULL)
		return;
	memo_stats(c->memo, &ms);
	st->listening = c->listener != NULL && notify_listening(c->listener);
	st->hits = ms.hits;
	st->misses = ms.misses;
	st->notifications = c->notifications;
	st->entries = ms.entries;
}
