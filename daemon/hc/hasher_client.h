/*
 * The front's asynchronous client of warden-hasher, on the libevent loop.
 *
 * One struct hc owns one connection to the hasher: in spawn mode it starts
 * the hasher itself (hasher_spawn(), the socket on the child's fd 3) and
 * reaps it; in split mode it connects to hasher_socket and checks the peer's
 * uid (SO_PEERCRED).  It speaks first (HELLO with PROTO_VERSION), then asks
 * PUBKEYS; only then is it ready (hc_ready()).  When the hasher dies, closes,
 * times out a handshake or sends anything malformed, every request in flight
 * fails with HC_DOWN at once, the hasher is killed (spawn mode) and started
 * or reconnected again with exponential back-off.
 *
 * Requests never block: hc_hash(), hc_verify() and hc_sign() send a frame
 * and return a handle; the callback runs exactly once (never, after
 * hc_cancel()), later, from the event loop: never from inside the call that
 * made the request.  Each request has
 * a deadline (hasher_timeout): past it the callback gets HC_TIMEOUT and the
 * answer is dropped when it arrives.  A timed-out request still occupies its
 * queue slot until the hasher answers it (the hasher is still working on
 * it); if it has not answered after a second hasher_timeout the hasher is
 * taken as wedged and restarted.
 *
 * Back-pressure: HASH and VERIFY (the expensive ones) count against
 * hasher_queue; SIGN, SIGN_ID, SIGN_ASSERTION, JWT_CHECK, PUBKEYS and the TOTP and
 * recovery-code requests (a signature or a few hashes each) count
 * against their own, smaller bound, so a flood of logins never refuses a
 * token signature or a second factor.  A request past its bound is
 * refused at once (NULL, HC_BUSY) and the handler answers 503 with
 * Retry-After.
 *
 * Secrets: the request frame that carries a password is encoded into a
 * proto_buf (which wipes itself when it grows) and handed to the socket's
 * output evbuffer by reference (evbuffer_add_reference), so libevent never
 * copies it; the reference's cleanup wipes and frees it once written, or
 * when the connection is torn down.  Answers (stored hashes, JWTs) are read
 * by libevent into its input chains (readv, no intermediate copy); each
 * frame is copied out into a private scratch buffer, and the chain bytes it
 * came from are zeroed in place (evbuffer_peek) before they are drained;
 * the scratch bytes and the decoded structs are zeroed once the callback
 * has returned.  On teardown the unread input is zeroed the same way.  The
 * caller owns the password it passes and wipes it itself.
 *
 * Not thread-safe: everything runs on the event loop thread.
 */
#ifndef WARDEN_HASHER_CLIENT_H
#define WARDEN_HASHER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

struct event_base;
struct cfg;

/* Defaults for what struct cfg does not carry. */
#define HC_SIGN_QUEUE_DEFAULT	64	/* SIGN + PUBKEYS outstanding */
#define HC_BACKOFF_MIN_MS	100	/* first restart delay */
#define HC_BACKOFF_MAX_MS	5000	/* doubling stops here */
#define HC_STABLE_MS		30000	/* up this long: back-off resets */

enum hc_status {
	HC_OK = 0,
	HC_BUSY,	/* our queue bound, or the hasher's own queue, is full */
	HC_DOWN,	/* the hasher is not connected, or died with it in flight */
	HC_TIMEOUT,	/* no answer within hasher_timeout */
	HC_INVALID,	/* the hasher refused a field (PROTO_ERR_INVALID) */
	HC_ERROR,	/* the hasher failed (PROTO_ERR_INTERNAL or unknown) */
};

struct hc;
struct hc_req;

/*
 * Callbacks.  The pointers they get (stored, rehash, ans) point into the
 * client's own buffers, valid only during the call and wiped right after:
 * copy what you keep.  With anything but HC_OK they are NULL (match false).
 * Statuses a callback sees: HC_OK; HC_BUSY (the hasher's own queue was
 * full), HC_INVALID, HC_ERROR (the hasher refused or failed); HC_TIMEOUT;
 * HC_DOWN (the hasher died or broke with the request in flight).  For all
 * but HC_OK and HC_INVALID the handler answers 503 with Retry-After.
 * A callback may make new requests and cancel other live handles; it must
 * not call hc_free().
 *	hash:	stored is the sealed hash to write to the row.
 *	verify:	match; when it matched and rehash is not "", write rehash
 *		back (legacy hash, weaker parameters, or an old pepper key).
 *	sign:	ans->jwt, ans->jti, ans->exp.
 *	totp_new: ans->secret (base32, for the user and the otpauth URI:
 *		never store it) and ans->sealed (store that).
 *	totp_check: match and the step it matched (0 without a match); store
 *		the step as the factor's last and pass it as after_step next
 *		time.  HC_INVALID: the code is not 6 digits, or sealed does not
 *		open for this user (tampered, another user's, a pepper key the
 *		hasher no longer holds): treat it as a wrong code.
 *	recovery_new: ans->n == PROTO_RECOVERY_CODES codes to show once and
 *		their hashes (same order) to store.
 *	recovery_hash: the hash to look up among the stored ones.
 *		HC_INVALID: not a recovery code (after dropping blanks and
 *		'-', not PROTO_RECOVERY_CODE_LEN base32 characters).
 *	sign_id: ans->jwt (the ID token) and ans->exp.  HC_INVALID: a field
 *		broke its rule, or RS256 was asked of a key set without an RSA
 *		key (run wardenctl keygen); the hasher logs which.
 *	sign_assertion: ans->jwt, a client assertion for the upstream
 *		provider (secret: send it, never log or keep it).
 *		HC_INVALID: aud is not an http(s) URL, or RS256 was asked of
 *		a key set without an RSA key; the hasher logs which.
 *	jwt_check: ans->valid, and when valid ans->sub, ans->aud (the
 *		client the token was issued to) and ans->sid ("" = none).
 *		The token's exp is not checked (a logout hint may be
 *		expired): check what else matters yourself.
 */
typedef void	hc_hash_cb(enum hc_status st, const char *stored, void *arg);
typedef void	hc_verify_cb(enum hc_status st, bool match, const char *rehash,
		    void *arg);
typedef void	hc_sign_cb(enum hc_status st, const struct proto_sign_ans *ans,
		    void *arg);
typedef void	hc_totp_new_cb(enum hc_status st,
		    const struct proto_totp_new_ans *ans, void *arg);
typedef void	hc_totp_check_cb(enum hc_status st, bool match, uint32_t step,
		    void *arg);
typedef void	hc_recovery_new_cb(enum hc_status st,
		    const struct proto_recovery_new_ans *ans, void *arg);
typedef void	hc_recovery_hash_cb(enum hc_status st, const char *hash,
		    void *arg);
typedef void	hc_sign_id_cb(enum hc_status st,
		    const struct proto_sign_id_ans *ans, void *arg);
typedef void	hc_sign_assertion_cb(enum hc_status st,
		    const struct proto_sign_assertion_ans *ans, void *arg);
typedef void	hc_jwt_check_cb(enum hc_status st,
		    const struct proto_jwt_check_ans *ans, void *arg);

/* Called whenever a new public key set has arrived (after each handshake
 * and each hc_refresh_pubkeys()); keys is the same as hc_pubkeys(). */
typedef void	hc_keys_cb(const struct proto_pubkeys_ans *keys, void *arg);

struct hc_params {
	const char	*hasher_path;	/* spawn mode: the warden-hasher binary */
	const char	*config_path;	/* spawn mode: handed to the hasher */
	const char	*socket_path;	/* non-empty: split mode, connect here */
	uid_t		 peer_uid;	/* split mode: the hasher's uid */
	unsigned int	 queue_max;	/* HASH + VERIFY outstanding (>= 1) */
	unsigned int	 sign_queue_max; /* the cheap ones; 0 = default */
	unsigned int	 timeout_ms;	/* per request (>= 1) */
	unsigned int	 backoff_min_ms; /* 0 = HC_BACKOFF_MIN_MS */
	unsigned int	 backoff_max_ms; /* 0 = HC_BACKOFF_MAX_MS */
	unsigned int	 stable_ms;	/* 0 = HC_STABLE_MS */
	bool		 reap_sigchld;	/* spawn mode: watch SIGCHLD (evsignal) */
	hc_keys_cb	*on_keys;	/* may be NULL */
	void		*on_keys_arg;
	/*
	 * Spawn mode: starts the hasher and returns the front's end of its
	 * socket, or -1.  NULL: hasher_spawn() here.  A function that hands
	 * back a hasher that is not our child (spawner.h) sets *pid to 0;
	 * such a hasher is then only ever stopped by closing its socket.
	 */
	int		(*spawn)(void *arg, pid_t *pid);
	void		*spawn_arg;
};

/*
 * Fills *p from the configuration: hasher_path, hasher_socket, hasher_queue,
 * hasher_timeout, and in split mode the uid of hasher_user (getpwnam; our
 * own euid when hasher_user is empty).  config_path is kept by pointer.
 * Returns 0, or -1 with a reason in err (unknown user).
 */
int	hc_params_from_cfg(struct hc_params *p, const struct cfg *cfg,
	    const char *config_path, char *err, size_t errlen);

/*
 * Creates a client on base with a copy of *p (the strings are kept by
 * pointer and must outlive the client).  Nothing is started.  Returns NULL
 * with errno set: EINVAL for a parameter out of range, ENOMEM.
 */
struct hc	*hc_new(struct event_base *base, const struct hc_params *p);

/*
 * Spawns or connects now.  A failure is logged and retried with back-off,
 * so this returns -1 only when the client cannot run at all (no memory for
 * its events).  Call once.  Sets SIGPIPE to SIG_IGN when it is SIG_DFL (a
 * write to a dead hasher must be EPIPE, not the front's death).  In spawn
 * mode with reap_sigchld it adds a SIGCHLD evsignal to base and reaps only
 * the hasher's pid (waitpid(pid, WNOHANG)); nothing else may reap it, so no
 * waitpid(-1) elsewhere in the front.
 */
int	hc_start(struct hc *c);

/*
 * Closes the socket, reaps a spawned hasher (it exits when its socket
 * closes; after 1 s it is killed: this blocks, for shutdown only), fails
 * every request in flight with HC_DOWN and frees c.  Not from inside one of
 * its callbacks.  NULL is fine.
 */
void	hc_free(struct hc *c);

/* True when connected, the handshake and PUBKEYS are done (/readyz). */
bool	hc_ready(const struct hc *c);

/*
 * Requests.  Each copies what it needs (the password into a frame that is
 * wiped after sending) and returns a handle, or NULL with the reason in
 * *why (may be NULL): HC_BUSY (queue bound reached), HC_DOWN (not ready),
 * HC_INVALID (a field breaks its protocol bound: user_id not a uuid, a
 * password longer than PROTO_PASSWORD_MAX, a stored hash too long, a sign
 * request out of bounds), HC_ERROR (out of memory).  On NULL the callback
 * is never called.  The
 * handle is valid until the callback has started or hc_cancel() is called.
 * user_id is the user's uuid (hashes are bound to it); stored may be "" for
 * a dummy verification of the same cost.
 */
struct hc_req	*hc_hash(struct hc *c, const char *user_id,
		    const uint8_t *pw, size_t pwlen,
		    hc_hash_cb *cb, void *arg, enum hc_status *why);
struct hc_req	*hc_verify(struct hc *c, const char *user_id,
		    const uint8_t *pw, size_t pwlen, const char *stored,
		    hc_verify_cb *cb, void *arg, enum hc_status *why);
struct hc_req	*hc_sign(struct hc *c, const struct proto_sign_req *req,
		    hc_sign_cb *cb, void *arg, enum hc_status *why);

/*
 * Second factors, as the requests above (same handle, callback and *why
 * rules).  HC_INVALID at once for a user_id that is not a uuid, an empty
 * or overlong sealed (PROTO_SEALED_MAX), a code longer than
 * PROTO_TOTP_CODE_LEN (TOTP) or PROTO_RECOVERY_INPUT_MAX (recovery).
 * The code is copied into a frame that is wiped after sending; the
 * caller wipes its own.  The hasher checks TOTP codes against its own
 * clock.
 */
struct hc_req	*hc_totp_new(struct hc *c, const char *user_id,
		    hc_totp_new_cb *cb, void *arg, enum hc_status *why);
struct hc_req	*hc_totp_check(struct hc *c, const char *user_id,
		    const char *sealed, const char *code, uint32_t after_step,
		    hc_totp_check_cb *cb, void *arg, enum hc_status *why);
struct hc_req	*hc_recovery_new(struct hc *c, const char *user_id,
		    hc_recovery_new_cb *cb, void *arg, enum hc_status *why);
struct hc_req	*hc_recovery_hash(struct hc *c, const char *user_id,
		    const char *code, hc_recovery_hash_cb *cb, void *arg,
		    enum hc_status *why);

/*
 * OpenID Connect, as the requests above (same handle, callback and *why
 * rules).  hc_sign_id() signs the ID token req describes (struct
 * proto_sign_id_req in common/proto.h: typed fields, never JSON; the
 * hasher adds iss, iat, exp and kid and checks every field), HC_INVALID
 * at once for an unknown alg or a count past its bound.  hc_jwt_check()
 * asks whether token is an ID token this hasher signed (any key it holds,
 * expired or not), HC_INVALID at once for a token longer than
 * PROTO_JWT_MAX; a token that is not ours is an HC_OK answer with valid
 * false.  The access token in req (for at_hash) and the token are copied
 * into frames that are wiped after sending.
 */
struct hc_req	*hc_sign_id(struct hc *c, const struct proto_sign_id_req *req,
		    hc_sign_id_cb *cb, void *arg, enum hc_status *why);
struct hc_req	*hc_jwt_check(struct hc *c, const char *token,
		    hc_jwt_check_cb *cb, void *arg, enum hc_status *why);

/*
 * Upstream sign-in, as the requests above (same handle, callback and *why
 * rules).  hc_sign_assertion() has the hasher sign a private_key_jwt
 * client assertion (RFC 7523) for req->client_id at the token endpoint
 * req->aud with its current key of req->alg; HC_INVALID at once for an
 * unknown alg, or a client_id or aud that is empty, too long or not
 * printable ASCII.
 */
struct hc_req	*hc_sign_assertion(struct hc *c,
		    const struct proto_sign_assertion_req *req,
		    hc_sign_assertion_cb *cb, void *arg, enum hc_status *why);

/*
 * Detaches the callback of a request whose caller went away (the HTTP
 * client vanished).  The request keeps its id and queue slot until the
 * hasher answers or it times out, so the answer is still recognised and
 * dropped.  Only on a live handle (see above); never frees anything.
 */
void	hc_cancel(struct hc_req *r);

/*
 * The last public key set received (nkeys == 0 before the first).  It is
 * kept across hasher restarts, so tokens still verify while the hasher is
 * down.  The pointer is stable for c's lifetime; the contents change only
 * between event callbacks.
 */
const struct proto_pubkeys_ans *hc_pubkeys(const struct hc *c);

/* Asks the hasher for its keys again (e.g. on SIGHUP); on_keys runs when
 * they arrive.  Returns 0, or -1 when not ready or the sign queue is full. */
int	hc_refresh_pubkeys(struct hc *c);

/*
 * Closes the connection so that a fresh hasher starts (spawn mode) or the
 * socket is connected again (split mode), after the shortest back-off; the
 * handshake then brings its public keys (on_keys).  For SIGHUP: a spawned
 * hasher reads its key files only at start.  Requests in flight fail with
 * HC_DOWN, as when the hasher dies.  Returns 0, or -1 before hc_start().
 */
int	hc_restart(struct hc *c);

/* Counters for /metrics and logs. */
struct hc_stats {
	unsigned int	queue_hash;	/* HASH + VERIFY outstanding now */
	unsigned int	queue_sign;	/* SIGN, PUBKEYS, TOTP and recovery
					   requests outstanding now */
	uint64_t	hash_count;	/* HASH + VERIFY answered */
	double		hash_latency_sum; /* their latency, seconds */
	uint64_t	sign_count;	/* SIGN answered */
	double		sign_latency_sum;
	uint64_t	busy;		/* refused at once with HC_BUSY */
	uint64_t	timeouts;	/* HC_TIMEOUT callbacks */
	uint64_t	failures;	/* requests failed with HC_DOWN in flight */
	uint64_t	restarts;	/* hasher (re)starts or reconnects tried */
	bool		ready;
};

void	hc_get_stats(const struct hc *c, struct hc_stats *out);

/* "ok", "busy", "down", "timeout", "invalid", "error". */
const char	*hc_status_str(enum hc_status st);

#endif
