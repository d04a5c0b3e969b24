/*
 * Forward-auth's memory of browser sessions (OIDC.md, "Forward-auth with a
 * login page"): what the database last said of a session cookie, so that
 * GET /api/v1/auth/verify asks it at most once per session_check per
 * session.  Keyed by the raw SHA-256 of the cookie (never the cookie);
 * holds the session's user as verify answers it, the user's token_version
 * and when the database last confirmed it (CLOCK_MONOTONIC, microseconds,
 * passed in by the caller so tests set the clock).
 *
 * A fixed number of entries, allocated once: a look-up or a store never
 * allocates; a store at capacity evicts the least recently used entry.
 * One event loop thread: nothing here is thread-safe.  Pure table, no loop
 * and no database: unit-tested.
 */
#ifndef WARDEN_SESSION_CACHE_H
#define WARDEN_SESSION_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proto.h"

#define SESSION_CACHE_MAX	16384	/* entries of wardend's cache */
#define SESSION_CACHE_KEY_LEN	32	/* SHA-256 */
/* "a,b,c": every role of a user, comma-separated, and the NUL. */
#define SESSION_CACHE_ROLES_MAX	(PROTO_ROLES_MAX * (PROTO_ROLE_MAX + 1))

struct session_cache;

/* What the database said of a session, as stored and looked up. */
struct session_cache_entry {
	uint8_t		 key[SESSION_CACHE_KEY_LEN];
	char		 user_id[PROTO_UUID_LEN + 1];
	char		 username[PROTO_USERNAME_MAX + 1];
	char		 roles[SESSION_CACHE_ROLES_MAX];
	uint32_t	 token_version;
	uint64_t	 confirmed;	/* monotonic microseconds */
	time_t		 confirmed_at;	/* the same moment, wall clock: what
					 * revocations compare with a change */
};

/* A cache of at most max (>= 1) entries; NULL when max is 0 or memory
 * runs out.  The memory of entries never used is not touched. */
struct session_cache *session_cache_new(size_t max);

/* Frees c (NULL is fine). */
void	session_cache_free(struct session_cache *c);

/*
 * The entry of key when the database confirmed it less than check
 * microseconds before now (check 0: never), marked most recently used;
 * NULL otherwise.  The pointer is valid until the next call on c.
 */
const struct session_cache_entry *session_cache_lookup(struct session_cache *c,
	    const uint8_t key[SESSION_CACHE_KEY_LEN], uint64_t now,
	    uint64_t check);

/*
 * Copies *e (its key, user and confirmed time) in, replacing the entry of
 * the same key, evicting the least recently used one when c is full.
 */
void	session_cache_store(struct session_cache *c,
	    const struct session_cache_entry *e);

/* Forgets the entry of key (none is fine). */
void	session_cache_forget(struct session_cache *c,
	    const uint8_t key[SESSION_CACHE_KEY_LEN]);

/* Forgets every entry of user_id (a walk of the table); returns how
 * many there were. */
size_t	session_cache_forget_user(struct session_cache *c, const char *user_id);

/* Forgets everything. */
void	session_cache_clear(struct session_cache *c);

/* Entries held. */
size_t	session_cache_count(const struct session_cache *c);

#endif
