/*
 * The hasher's protocol loop (common/proto.h is the wire format).
 *
 * One I/O thread polls the connections (and, in split mode, the listening
 * socket), reads each frame's 12-byte header, refuses a length over
 * PROTO_MAX_PAYLOAD before reading on, then reads the payload into the
 * connection's fixed 64 KiB buffer and dispatches it through one table of
 * {type, handler, minimum and maximum payload}.  HASH and VERIFY are
 * queued to the worker pool; HELLO, SIGN, SIGN_ID, SIGN_ASSERTION,
 * JWT_CHECK, PUBKEYS and
 * the second-factor requests are answered at once
 * on the I/O thread, so that token refreshes never wait behind hashing.
 * Answers echo the request id and are written whole under the
 * connection's write lock, from whichever thread made them, and never
 * block: a front that takes no answer for SERVER_SEND_TIMEOUT_MS is
 * dropped, so that a peer which stops reading stalls nothing else.
 *
 * The first frame must be HELLO with PROTO_VERSION; a mismatch is answered
 * with our R_HELLO and the connection dropped.  A malformed frame (unknown
 * type, length out of the type's bounds, undecodable payload, HELLO out of
 * place) is logged by type name and length, never contents, and the
 * connection dropped.  Well-formed requests whose fields break their rules
 * get R_ERROR(PROTO_ERR_INVALID); a full queue gets R_ERROR(PROTO_ERR_BUSY).
 */
#ifndef WARDEN_HASHER_SERVER_H
#define WARDEN_HASHER_SERVER_H

#include <sys/types.h>

#include <stddef.h>

#include "jwt_sign.h"
#include "keys.h"
#include "password.h"

#define SERVER_MAX_CONNS	8	/* split mode: connections at once */
#define SERVER_ACCEPT_PAUSE_MS	100	/* out of descriptors: wait this long
					   before accepting again */
#define SERVER_SEND_TIMEOUT_MS	5000	/* a front taking no answer this long
					   is dropped */

struct server;

struct server_params {
	const struct keyset	*ks;		/* outlives the server */
	struct pw_policy	 policy;
	struct jwt_sign_params	 jwt;		/* strings outlive the server */
	unsigned int		 workers;	/* hasher_workers, 0 = CPUs */
	unsigned int		 queue;		/* hasher_queue */
	int			 send_timeout_ms; /* 0: SERVER_SEND_TIMEOUT_MS */
};

/*
 * Starts the worker threads (call before sandbox_lock()) and prepares the
 * job slots: the pool queues at most 4 * workers + queue requests.
 * Returns the server or NULL (errno set).
 */
struct server	*server_new(const struct server_params *p);

/* Worker threads the server runs. */
unsigned int	 server_workers(const struct server *s);

/*
 * Serves until nothing is left to serve.  conn_fd (or -1) is a connected
 * socket to serve, as the hasher's fd 3 in spawn mode; listen_fd (or -1)
 * a listening Unix socket whose connections are served when their peer's
 * uid is peer_uid (at most SERVER_MAX_CONNS at once; more are closed).
 * Without listen_fd it returns once conn_fd is done: 0 when its peer
 * closed it, -1 when it was dropped for a malformed frame or an I/O error.
 * With listen_fd it returns only on an accept error (-1).  Answers still
 * being computed for a closed connection are written before its
 * descriptor is closed (by server_free() at the latest).
 */
int		 server_run(struct server *s, int listen_fd, int conn_fd,
		    uid_t peer_uid);

/* Finishes every queued request, joins the workers, closes what is left
 * open, wipes and frees the job slots.  NULL is fine. */
void		 server_free(struct server *s);

#endif
