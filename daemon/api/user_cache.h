/*
 * The user cache: the bearer routes' memory of their callers' rows, so that
 * /users/me and every other bearer request need not ask PostgreSQL for the
 * caller each time (api/auth.c).
 *
 * A row is kept as users_find() read it, for at most USER_CACHE_TTL
 * seconds, and forgotten as soon as anything changes it anywhere: the
 * trigger of store/migrations/0014_user_rows.sql sends NOTIFY
 * warden_user_row with the user id at the commit of every change to what
 * the row shows, and every wardend LISTENs on a connection of its own
 * (store/notify.h).  The rules:
 *
 *  - A host that cannot hear changes answers nothing from memory: until
 *    LISTEN is first in force, and from the moment the connection is lost
 *    until it is back, every look-up misses; the table is emptied each
 *    time LISTEN comes back.
 *  - A row read from the database is kept only when no change was heard
 *    of while it was being read (the generation, which every notification
 *    and every forget moves): else an older row could be stored after the
 *    change that made it stale.
 *  - A host sees its own writes at once, before its notification comes
 *    back: a request other than GET or HEAD forgets its caller's row (and
 *    the row of its route's {id}) when it is dispatched and again when it
 *    completes, and one that finds its account by a one-time token (a
 *    password reset, an e-mail verification) forgets that account as
 *    soon as its statement has committed, before it answers
 *    (auth_user_written(), api/auth.c).
 *
 * Each front process (daemon/fronts.h) has its own, as each host has.
 */
#ifndef WARDEN_USER_CACHE_H
#define WARDEN_USER_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/user_row.h"

struct event_base;
struct user_cache;

#define USER_CACHE_CHANNEL	"warden_user_row"
#define USER_CACHE_ENTRIES	8192	/* wardend's: about 16 MiB when full */
#define USER_CACHE_TTL		60	/* seconds a row is kept at most */

/* --- the table alone (no loop: unit-tested) --- */

/* A cache of entries rows that answers nothing until user_cache_hearing()
 * says it may; NULL when memory runs out. */
struct user_cache *user_cache_new(size_t entries);

/* Stops listening (if it did) and frees c (NULL is fine). */
void	user_cache_free(struct user_cache *c);

/* Whether changes are heard now: either way the table is emptied. */
void	user_cache_hearing(struct user_cache *c, bool hearing);

/* The row of user id (a uuid) into *out, when held and younger than
 * USER_CACHE_TTL at now (Unix seconds) while changes are heard. */
bool	user_cache_get(struct user_cache *c, const char *id, int64_t now,
	    struct user *out);

/* The generation to hand to user_cache_put() for a read starting now. */
uint64_t user_cache_mark(const struct user_cache *c);

/* Keeps u, read by a look-up that started at mark, unless a change was
 * heard of (or a forget made) since, or changes are not heard now. */
void	user_cache_put(struct user_cache *c, const struct user *u,
	    uint64_t mark, int64_t now);

/* Forgets user id (a change was heard of, or made here). */
void	user_cache_forget(struct user_cache *c, const char *id);

/* --- on the loop --- */

/* Starts listening on USER_CACHE_CHANNEL with a connection of its own to
 * url.  -1, logged, when it cannot start. */
int	user_cache_listen(struct user_cache *c, struct event_base *base,
	    const char *url);

struct user_cache_stats {
	bool		 listening;
	uint64_t	 hits;
	uint64_t	 misses;
	uint64_t	 notifications;
	size_t		 entries;
};

/* c may be NULL (all zero). */
void	user_cache_stats(const struct user_cache *c,
	    struct user_cache_stats *st);

#endif
