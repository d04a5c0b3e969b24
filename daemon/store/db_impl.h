/*
 * The insides of the database pool (db.h), for db.c (the pool, its queue
 * and its requests) and db_conn.c (one connection's life) only.
 *
 * Each connection is DOWN (waiting out its back-off), CONNECTING (driven
 * by PQconnectPoll) or UP.  An UP connection runs at most one query at a
 * time (conn->cur), taken from the pool's FIFO (pool->queue).  Errors that
 * arise inside an API call are handed to the loop (pool->done) so that no
 * callback ever runs inside the call that submitted its request.
 */
#ifndef WARDEN_DB_IMPL_H
#define WARDEN_DB_IMPL_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "pg_target.h"

struct event;

enum req_where {
	IN_NOWHERE,
	IN_POOL_QUEUE,	/* pool->queue */
	IN_FLIGHT,	/* conn->cur */
	IN_DONE,	/* pool->done, delivered on the next loop turn */
};

struct db_req {
	TAILQ_ENTRY(db_req) entry;
	struct db_pool	*pool;
	enum req_where	 where;
	void		(*cb)(const PGresult *, void *);	/* db_result_cb */
	void		*arg;
	bool		 detached;	/* no callback: cancelled or internal */
	PGresult	*res;		/* what IN_DONE delivers */
	struct timespec	 queued;	/* when it joined the wait queue */
	size_t		 size;		/* bytes of the whole block */

	const char	*sql;
	int		 nparams;
	int		 result_format;
	const char	**values;
	int		*lengths;
	int		*formats;
	/* the arrays, the parameters and the SQL text follow */
};

TAILQ_HEAD(req_list, db_req);

enum conn_state {
	CONN_DOWN,
	CONN_CONNECTING,
	CONN_UP,
};

struct db_conn {
	struct db_pool	*pool;
	PGconn		*pg;
	enum conn_state	 state;
	struct event	*ev;		/* socket, for ev_what on ev_fd */
	int		 ev_fd;
	short		 ev_what;
	struct event	*timer;		/* reconnect back-off; while
					 * connecting, the attempt's bound */
	struct event	*deadline;	/* of cur: the server's answer */
	unsigned int	 backoff;	/* failures in a row */
	bool		 failed;	/* failed since it was last up */
	struct db_req	*cur;		/* query in flight */
	PGresult	*cur_res;
};

struct db_pool {
	struct event_base *base;
	char		*url;
	struct pg_target target;	/* the url's hosts (pg_target.h) */
	char		*options;	/* the url's options and the
					 * statement_timeout; NULL: none */
	int64_t		 timeout;	/* seconds; 0: none */
	unsigned int	 size;
	struct db_conn	*conns;
	unsigned int	 nup;
	unsigned int	 nfailed;
	struct req_list	 queue;
	size_t		 nqueue;
	size_t		 max_queue;
	struct req_list	 done;
	size_t		 ndone;
	struct event	*done_ev;
	bool		 closing;
	uint64_t	 nqueries;
	uint64_t	 nfailed_reqs;
	uint64_t	 nconnect_failures;
};

/* --- db.c ---------------------------------------------------------------- */

/* A request for sql with its parameters copied in; NULL on bad arguments
 * or no memory. */
struct db_req	*db_req_new(struct db_pool *pool, const char *sql,
		    int nparams, const char *const *values, const int *lengths,
		    const int *formats, int result_format);

/* Calls r's callback (unless detached) with res, then frees both. */
void		 db_req_deliver(struct db_req *r, PGresult *res);

/* Hands r, answered by res (NULL: failed), to the next loop turn. */
void		 db_req_fail_later(struct db_req *r, PGresult *res);

/* Fails everything waiting for a connection once none is left. */
void		 db_pool_check_down(struct db_pool *pool);

/* Gives idle connections to the queue's head. */
void		 db_pump(struct db_pool *pool);

/* --- db_conn.c ----------------------------------------------------------- */

/* Sets up c of pool, down; -1 when memory runs out. */
int		 db_conn_init(struct db_conn *c, struct db_pool *pool);

/* Starts connecting c. */
void		 db_conn_start(struct db_conn *c);

/* True when c is up and runs nothing. */
bool		 db_conn_idle(const struct db_conn *c);

/* Sends r on the idle connection c.  A send refused with the connection
 * still good answers r (later) with libpq's error as a result. */
void		 db_conn_send(struct db_conn *c, struct db_req *r);

/* Closes c for good (db_pool_free) and returns the request it had in
 * flight, if any, for the caller to fail. */
struct db_req	*db_conn_close(struct db_conn *c);

#endif
