/*
 * What the files of the hasher client share, and nothing else includes:
 * the client's state, a pending request, and the functions one file of
 * it calls in another.  hasher_client.h is the contract; this is how it
 * is kept.
 *
 *	hc_conn.c	the connection: spawn or connect, the HELLO and
 *			PUBKEYS handshake, teardown, back-off, reaping
 *	hc_queue.c	the pending table: ids, bounds, deadlines
 *	hc_frames.c	frames on the socket: out by reference, in through
 *			a wiped scratch buffer, answers decoded and checked
 *	hc_calls.c	the typed calls: HASH, VERIFY, SIGN, PUBKEYS, TOTP_NEW,
 *			TOTP_CHECK, RECOVERY_NEW, RECOVERY_HASH, SIGN_ID,
 *			JWT_CHECK, SIGN_ASSERTION
 */
#ifndef WARDEN_HC_LOCAL_H
#define WARDEN_HC_LOCAL_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "hasher_client.h"
#include "proto.h"

#define HC_REAP_MAX	8	/* killed children waiting for waitpid */
#define HC_ANSWER	0x8000	/* request type | HC_ANSWER = its answer */

enum hc_state {
	HC_S_IDLE,	/* not started, or being freed */
	HC_S_DOWN,	/* waiting for the restart timer */
	HC_S_HELLO,	/* HELLO sent */
	HC_S_KEYS,	/* PUBKEYS sent */
	HC_S_READY,
};

struct hc_req {
	struct hc	*c;
	uint32_t	 id;
	uint16_t	 type;		/* the request's PROTO_* */
	bool		 counted_sign;	/* counts against sign_queue_max */
	bool		 counted_hash;	/* counts against queue_max */
	bool		 detached;	/* no callback (cancelled or timed out) */
	bool		 timed_out;	/* past its deadline, awaiting the answer */
	union {
		hc_hash_cb	*hash;
		hc_verify_cb	*verify;
		hc_sign_cb	*sign;
		hc_totp_new_cb	*totp_new;
		hc_totp_check_cb *totp_check;
		hc_recovery_new_cb *recovery_new;
		hc_recovery_hash_cb *recovery_hash;
		hc_sign_id_cb	*sign_id;
		hc_jwt_check_cb	*jwt_check;
		hc_sign_assertion_cb *sign_assertion;
	} cb;
	void		*arg;
	struct timespec	 start;
	struct event	 timer;
	struct hc_req	*hnext;		/* bucket chain */
	TAILQ_ENTRY(hc_req) all;	/* every pending request, oldest first */
};

TAILQ_HEAD(hc_reqlist, hc_req);

struct hc {
	struct event_base	*base;
	struct hc_params	 p;
	enum hc_state		 state;
	struct bufferevent	*bev;
	pid_t			 pid;		/* spawned hasher, 0 = none */
	pid_t			 reap[HC_REAP_MAX];
	size_t			 nreap;
	struct event		*restart_ev;
	struct event		*sigchld_ev;
	const struct timeval	*tv_req;	/* common timeout: timeout_ms */
	unsigned int		 backoff_ms;
	bool			 was_ready;
	struct timespec		 ready_since;
	uint32_t		 next_id;
	struct hc_req		**buckets;
	size_t			 nbuckets;	/* a power of two */
	struct hc_reqlist	 reqs;
	unsigned int		 nhash;
	unsigned int		 nsign;
	uint8_t			*scratch;	/* one whole frame, wiped after use */
	struct proto_pubkeys_ans keys;
	struct hc_stats		 st;
};

/* The decoded answer of one frame; wiped once handled. */
union hc_answer {
	struct proto_hello	 hello;
	struct proto_hash_ans	 hash;
	struct proto_verify_ans	 verify;
	struct proto_sign_ans	 sign;
	struct proto_pubkeys_ans keys;
	struct proto_totp_new_ans totp_new;
	struct proto_totp_check_ans totp_check;
	struct proto_recovery_new_ans recovery_new;
	struct proto_recovery_hash_ans recovery_hash;
	struct proto_sign_id_ans sign_id;
	struct proto_jwt_check_ans jwt_check;
	struct proto_sign_assertion_ans sign_assertion;
	struct proto_error_ans	 err;
};

/* ---- hc_conn.c: the connection ---- */

/* The hasher is gone or broken: close, kill a spawned child, fail every
 * request in flight with HC_DOWN, and schedule a restart (why is logged). */
void	hc_teardown(struct hc *c, const char *why);

/* An answer to HELLO or PUBKEYS (a is the decoded one, a->err for an
 * R_ERROR of that type).  Returns 0, or -1 to tear down. */
int	hc_handshake_answer(struct hc *c, const struct hc_req *r,
	    uint16_t type, const union hc_answer *a);

/* ---- hc_queue.c: the pending table ---- */

/* The pending request with id, or NULL. */
struct hc_req	*hc_req_find(const struct hc *c, uint32_t id);

/*
 * A new pending entry for a request of type, with a fresh id, once
 * readiness and the queue bounds allow it; internal (HELLO and the
 * handshake's PUBKEYS) skips both.  NULL with *why (HC_DOWN, HC_BUSY,
 * HC_ERROR) otherwise.  Not in the table until hc_req_submit().
 */
struct hc_req	*hc_req_new(struct hc *c, uint16_t type, bool internal,
		    enum hc_status *why);

/*
 * Sends the frame of r that its encoder wrote into b (encoded is the
 * encoder's result: -1 when it refused, and *why is then enc_fail),
 * starts its clock and enters it in the table.  On failure b and r are
 * freed and *why set.  Returns 0 or -1.
 */
int	hc_req_submit(struct hc *c, struct hc_req *r, struct proto_buf *b,
	    int encoded, enum hc_status enc_fail, enum hc_status *why);

/* Unlinks r from the table and stops its timer; the caller frees it. */
void	hc_req_remove(struct hc *c, struct hc_req *r);

/* Runs r's callback once, with st and (for HC_OK) the decoded answer. */
void	hc_req_fire(struct hc_req *r, enum hc_status st,
	    const union hc_answer *a);

/* True for HASH, VERIFY, SIGN, SIGN_ID, JWT_CHECK, SIGN_ASSERTION and the TOTP and
 * recovery requests: requests with a caller. */
bool	hc_req_is_user(const struct hc_req *r);

/* Fails and frees every pending request with st. */
void	hc_req_fail_all(struct hc *c, enum hc_status st);

/* ---- hc_frames.c: frames on the socket ---- */

/* Hands the frame in b to the socket by reference; b is left empty
 * either way (on failure its bytes are wiped and freed).  0 or -1. */
int	hc_frame_send(struct hc *c, struct proto_buf *b);

/* The bufferevent's callbacks: whole frames in, and EOF or errors. */
void	hc_frame_on_read(struct bufferevent *bev, void *arg);
void	hc_frame_on_event(struct bufferevent *bev, short what, void *arg);

/* Zeroes and drains what is left unread on the socket. */
void	hc_frame_wipe_input(struct hc *c);

/* ---- hc_calls.c: the typed calls ---- */

/* Sends HELLO or PUBKEYS; internal as for hc_req_new().  0 or -1. */
int	hc_call_internal(struct hc *c, uint16_t type, bool internal);

#endif
