/*
 * Revocation for forward-auth (GET /api/v1/auth/verify): what verify
 * checks beyond the token, from memory, without a query per request.
 *
 * Every change to a user that can invalidate its access tokens (a logout
 * or a password change bumps the token version; a disable, a change of
 * roles; a deletion) is told to every wardend by PostgreSQL: the trigger of
 * store/migrations/0002_user_changes.sql sends NOTIFY warden_user_changed
 * with the user id at commit, and records the change in user_changes.
 * Each wardend LISTENs on a connection of its own (store/notify.h); a
 * notification carries the user's new state, which goes into a bounded
 * table, user id -> { token_version, is_active, roles, or deleted } (a
 * payload of another form makes it read the state through the pool).  Verify then refuses a token of a user in the table
 * whose ver differs, who is disabled or deleted, and ?role=X when the
 * current roles lack X.  While a user's state is being read, that user's
 * tokens are refused (fail closed).  A change reaches every host as soon as
 * PostgreSQL delivers its notification.
 *
 * An entry lives until every token issued before its change has expired:
 * access_token_ttl (the longest seen since start) plus REV_SLACK for the
 * clocks' leeway and skew, after the change.  Past that the token alone
 * decides again.
 *
 * Catching up: each time LISTEN is in force (start-up, and after the
 * connection dropped and came back) the users changed within the last
 * access_token_ttl + REV_SLACK are read from user_changes, so that a
 * change made while this host was not listening is not missed.  Until the
 * first catch-up has completed, verify answers 503 (a host that has just
 * started knows no revocation yet) and /readyz says not ready.  While the
 * listening connection is down afterwards, verify goes on with what the
 * table holds; the changes made meanwhile apply once it is back.
 *
 * The table holds at most max users.  When it is full of live entries and
 * another user changes, nothing is forgotten: until access_token_ttl +
 * REV_SLACK later, every token issued before that moment (its iat, with
 * the leeway) is refused, so such users must log in or refresh again.
 * warden_revocation_overflows_total counts these moments.
 */
#ifndef WARDEN_REVOCATIONS_H
#define WARDEN_REVOCATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "jwt_verify.h"
#include "store/user_changes.h"

struct event_base;
struct front;
struct revtab;
struct revocations;

#define REV_CHANNEL		"warden_user_changed"
#define REV_SLACK		(2 * JWT_LEEWAY_MAX)	/* seconds */
#define REV_DEFAULT_MAX		65536	/* users in the table */

enum rev_verdict {
	REV_PASS = 0,
	REV_REVOKED,		/* 401: revoked, or being looked up */
	REV_NO_ROLE,		/* 403: the user no longer has the role */
	REV_UNSYNCED,		/* 503: not caught up since start-up */
};

/* --- the table alone (no loop, no database: unit-tested) --- */

struct rev_entry {
	struct rev_entry *next;		/* in its bucket */
	char		 id[PROTO_UUID_LEN + 1];
	time_t		 expires;	/* gone from then on */
	bool		 known;		/* false: being looked up */
	bool		 inflight;	/* a look-up is running */
	bool		 again;		/* another change came meanwhile */
	bool		 exists;
	bool		 is_active;
	uint32_t	 token_version;
	char		*roles;		/* "a,b": the current roles */
	uint64_t	 stamp;		/* when a notification set it, in
					 * the order of revocations.c */
};

/* A table of at most max (>= 1) users; NULL when memory runs out. */
struct revtab	*revtab_new(size_t max);
void		 revtab_free(struct revtab *t);

/*
 * User id changed at now: its entry, created when absent, becomes unknown
 * (refusing) until revtab_set(), and lives until expires at least.
 * Expired entries are dropped to make room; when none can be, returns
 * NULL and records the overflow (tokens issued up to now are refused
 * until expires).
 */
struct rev_entry *revtab_touch(struct revtab *t, const char *id, time_t now,
		    time_t expires);

/* The live entry of user id, or NULL. */
struct rev_entry *revtab_find(struct revtab *t, const char *id, time_t now);

/* The entry's user is now known to be *s.  -1 when memory runs out (the
 * entry stays unknown). */
int		 revtab_set(struct rev_entry *e, const struct user_state *s);

/* Drops the expired entries without a look-up running; calls pending (when
 * not NULL) for each live unknown entry without one. */
void		 revtab_sweep(struct revtab *t, time_t now,
		    void (*pending)(struct rev_entry *, void *), void *arg);

/* What the table says of a token with claims c at now; role "" or NULL
 * when none is asked. */
enum rev_verdict revtab_check(struct revtab *t, const struct jwt_claims *c,
		    const char *role, time_t now);

/* The same for what the database confirmed of user_id at version ver,
 * at since (Unix seconds): a browser session (api/session_cache.h). */
enum rev_verdict revtab_check_user(struct revtab *t, const char *user_id,
		    uint32_t ver, int64_t since, const char *role, time_t now);

size_t		 revtab_count(const struct revtab *t);
uint64_t	 revtab_overflows(const struct revtab *t);

/*
 * Reads a notification's payload (migrations/0002_user_changes.sql):
 * "<id> <token_version> <t|f> <roles>" or "<id> deleted".  0 with *out
 * filled; -1 when it is not one, with out->id set ("" otherwise) when it
 * starts with a user id.
 */
int		 revocations_parse(const char *payload, struct user_state *out);

/* --- on the loop --- */

/*
 * Starts listening with a connection of its own to url, looking users up
 * through f->db (set before), with a table of max users.  NULL, logged,
 * when memory runs out.
 */
struct revocations *revocations_new(struct event_base *base, struct front *f,
		    const char *url, size_t max);

/* Stops listening and frees rv (NULL is fine).  Call it after
 * db_pool_free(): the pool's last callbacks still find rv. */
void		 revocations_free(struct revocations *rv);

/* The verdict on a verified token's claims at now (NULL rv: REV_PASS). */
enum rev_verdict revocations_check(struct revocations *rv,
		    const struct jwt_claims *c, const char *role, time_t now);

/*
 * The verdict on user_id as the database confirmed it at since (Unix
 * seconds) with token version ver: a session cookie's memo
 * (api/session_cache.h), which is good only while this says REV_PASS.
 */
enum rev_verdict revocations_check_user(struct revocations *rv,
		    const char *user_id, uint32_t ver, int64_t since,
		    const char *role, time_t now);

/* True once the first catch-up has completed (NULL rv: true). */
bool		 revocations_ready(const struct revocations *rv);

struct rev_stats {
	bool		 listening;
	size_t		 entries;
	uint64_t	 notifications;
	uint64_t	 overflows;
};

void		 revocations_stats(const struct revocations *rv,
		    struct rev_stats *st);

#endif
