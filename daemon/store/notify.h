/*
 * A PostgreSQL LISTEN on the event loop: one connection of its own (never
 * one of the pool's, whose connections serve queries), connected with
 * libpq's asynchronous API (PQconnectStart/Poll), which sends
 * "LISTEN <channel>" and then only reads (PQconsumeInput, PQnotifies).
 * Nothing here blocks on the server.
 *
 * When the connection fails or drops it is reconnected with back-off
 * (100 ms doubling up to 5 s, with jitter).  Notifications sent while it
 * is down are lost: the up callback, called each time LISTEN is in force
 * again (the first time included), is where the caller catches up.  TCP
 * keep-alives notice a peer that went away silently, a heartbeat query
 * every 5 s that must be answered before the next notices one that froze
 * (over a Unix socket too), and connecting and
 * LISTEN's answer are bounded, the next attempt starting at the next host
 * of a multi-host URL (pg_target.h).
 */
#ifndef WARDEN_NOTIFY_H
#define WARDEN_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct notify;

struct notify_cbs {
	/* A notification on the channel, with its payload. */
	void	(*event)(const char *payload, void *arg);
	/* LISTEN is in force (after each connect). */
	void	(*up)(void *arg);
	/* The connection was lost after it was up (NULL: not told). */
	void	(*down)(void *arg);
};

/*
 * Starts listening on channel (an SQL identifier of [a-z0-9_], 1..63) with
 * a connection to url (as db_pool_new() takes it).  Returns NULL, logged,
 * on a bad channel or no memory.  Callbacks are called from the loop,
 * never from inside this call.
 */
struct notify	*notify_new(struct event_base *base, const char *url,
		    const char *channel, const struct notify_cbs *cbs,
		    void *arg);

/* Closes the connection and frees n (NULL is fine); no callback after. */
void		 notify_free(struct notify *n);

/* True while LISTEN is in force. */
bool		 notify_listening(const struct notify *n);

/* Connections lost (or failed) so far. */
uint64_t	 notify_failures(const struct notify *n);

#endif
