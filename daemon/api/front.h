/*
 * What the handlers of wardend share: the configuration and the services
 * they call.  One struct front lives for the process; main.c owns it and
 * hands it to the dispatch hook, which gives every request a struct caller
 * pointing at it.
 */
#ifndef WARDEN_FRONT_H
#define WARDEN_FRONT_H

#include <stdbool.h>
#include <time.h>

#include "hasher_share.h"
#include "http/http.h"
#include "jwt_verify.h"
#include "user.h"

struct blocklist;
struct cfg;
struct db_pool;
struct hc;
struct census;
struct portal;
struct purger;
struct mailer;
struct metrics;
struct ratelimit;
struct revocations;
struct session_cache;
struct token_cache;
struct user_cache;
struct upstreams;

struct front {
	const struct cfg	*cfg;
	struct db_pool		*db;
	struct hc		*hc;
	struct blocklist	*blocklist;
	struct ratelimit	*addr_limit;	/* failed logins per address */
	struct ratelimit	*register_limit; /* registrations per address */
	struct ratelimit	*email_limit;	/* e-mail changes per user and
						 * per address */
	struct ratelimit	*forgot_limit;	/* reset requests per address
						 * (addr_reset_limit an hour) */
	struct ratelimit	*account_inflight; /* logins running, per user */
	struct hshare		 hasher_share;	/* hasher slots held, per
						 * address (zeroed: none) */
	time_t			 started;	/* wall clock, for /metrics */
	struct metrics		*metrics;	/* counters of /metrics */
	struct revocations	*revocations;	/* for forward-auth (NULL:
						 * the token alone decides) */
	struct session_cache	*sessions;	/* forward-auth's memory of
						 * session cookies (NULL: ask
						 * the database every time) */
	struct token_cache	*tokens;	/* access tokens verified before
						 * (NULL: verify every time) */
	struct user_cache	*users;		/* the bearer routes' callers
						 * (NULL: read every time) */
	struct mailer		*mailer;	/* outgoing mail (api/mailer.h) */
	struct census		*census;	/* counts for /metrics
						 * (api/census.h) */
	struct purger		*purger;	/* expired rows (api/purger.h) */
	struct portal		*portal;	/* the login portal's pages
						 * (ui/portal.h) */
	struct upstreams	*upstreams;	/* social login's providers
						 * (api/upstreams.h) */
};

/*
 * Every request's r->caller: the front, and for bearer routes the verified
 * token and the caller's current user row.
 */
struct caller {
	struct front		*front;
	bool			 authenticated;
	struct jwt_claims	 claims;
	struct user		 user;
	/* A request other than GET and HEAD: the users it may change, which
	 * the user cache forgets when it completes (api/user_cache.h). */
	bool			 writes;
	char			 target[PROTO_UUID_LEN + 1];	/* {id} */
	uint64_t		 user_mark;	/* user_cache_mark() at the
						 * caller's look-up */
};

/* The caller of r (never NULL once dispatched). */
static inline struct caller *
caller_of(struct http_req *r)
{
	return r->caller;
}

#endif
