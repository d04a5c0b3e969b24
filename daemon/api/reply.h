/*
 * Replies that many handlers share: a store intent or the hasher failed.
 */
#ifndef WARDEN_REPLY_H
#define WARDEN_REPLY_H

#include "hc/hasher_client.h"
#include "store/store.h"

struct http_req;

/*
 * Answers a store status that the route gives no meaning of its own:
 * UNAVAILABLE is 503 with Retry-After (logged under what), REFUSED (the
 * last active admin) 409, anything else 500 (the store has logged a failed statement; a NOT_FOUND or CONFLICT
 * that reaches here is logged as unexpected).  The single mapping of
 * database failures to HTTP.
 */
void	reply_db_failed(struct http_req *r, enum store_status st,
	    const char *what);

/*
 * True when r was answered already while its work went on (its
 * request_timeout ran out and it got 503, or the client left): logs that
 * the work stops before step.  Handlers ask before a step that costs (a
 * hash) or changes something (a write, a signature), since the client was
 * told it did not happen; on true they free their own state and end with
 * http_req_abandon(r).
 */
bool	reply_too_late(struct http_req *r, const char *step);

/* Answers a hasher refusal or failure: 503 with Retry-After. */
void	reply_hasher_failed(struct http_req *r, enum hc_status st);

#endif
