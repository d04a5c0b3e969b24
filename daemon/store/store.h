/*
 * What every store module answers.  The store (daemon/store) is the one
 * home of wardend's SQL: each of its functions does one intent (find a
 * user, rotate a refresh token, ...) as one statement on the pool of db.h,
 * asynchronously, and hands its callback a typed row and one of these
 * statuses.  The handlers (daemon/api) decide what a status means for the
 * client; api/reply.c maps the failures to HTTP.
 *
 * Every store function that takes a callback returns 0 when the statement
 * was sent or queued: its callback is then called exactly once, later,
 * from the event loop (never from inside the call).  It returns -1 when
 * nothing could be submitted (no memory, a parameter out of bounds): the
 * callback is never called, and the caller answers 500.
 */
#ifndef WARDEN_STORE_H
#define WARDEN_STORE_H

enum store_status {
	STORE_OK = 0,
	STORE_NOT_FOUND,	/* no row matched: absent, or changed meanwhile */
	STORE_CONFLICT,		/* a unique constraint refused the write */
	STORE_REFUSED,		/* a rule of the schema refused the change:
				 * the last active admin (migration 0004) */
	STORE_UNAVAILABLE,	/* no answer: connection lost, pool down or
				 * full; the statement may or may not have run */
	STORE_ERROR,		/* the statement failed (logged, SQLSTATE and
				 * primary message only), or a row broke the
				 * bounds of its struct */
};

/* The callback of an intent that returns nothing but its status. */
typedef void	store_done_cb(enum store_status st, void *arg);

/* The callback of an intent that answers with a row's id: id is valid
 * during the call, and NULL unless st is STORE_OK. */
typedef void	store_id_cb(enum store_status st, const char *id, void *arg);

/* "ok", "not found", "conflict", "refused", "unavailable", "error". */
const char	*store_status_str(enum store_status st);

#endif
