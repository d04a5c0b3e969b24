/*
 * The hasher's protocol loop: a poll(2) loop on one I/O thread, slow work
 * on the worker pool, answers written whole under a per-connection lock.
 * No event library: the hasher links none (make check-linkage proves it).
 */
#define _GNU_SOURCE	/* accept4 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/sys/endian.h>
#include <bsd/unistd.h>
#include <sodium.h>

#include "assertion.h"
#include "clock.h"
#include "fields.h"
#include "jwt_check.h"
#include "log.h"
#include "proto.h"
#include "proto_io.h"
#include "recovery.h"
#include "server.h"
#include "totp.h"
#include "util.h"
#include "workers.h"

struct conn {
	int			 fd;
	int			 send_timeout_ms;
	unsigned int		 refs;		/* s->lock: I/O thread + jobs */
	pthread_mutex_t		 wlock;		/* whole answers; dead */
	bool			 dead;		/* wlock: write nothing more */
	bool			 hello;		/* I/O thread only, from here */
	size_t			 got;		/* bytes of this frame read */
	struct proto_header	 h;
	uint8_t			 hdr[PROTO_HEADER_SIZE];
	uint8_t			 payload[PROTO_MAX_PAYLOAD];
};

/* A queued HASH or VERIFY; holds a password, so wiped before free. */
struct job {
	struct conn		*c;
	uint32_t		 id;
	uint16_t		 type;
	union {
		struct proto_hash_req	hash;
		struct proto_verify_req	verify;
	} u;
};

struct server {
	struct server_params	 p;
	struct workers		*pool;
	unsigned int		 nworkers;
	pthread_mutex_t		 lock;		/* conn refs */
	struct proto_pubkeys_ans pubkeys;	/* the PUBKEYS answer */
	struct proto_buf	 iobuf;		/* I/O thread's answers */
	struct conn		*conns[SERVER_MAX_CONNS];	/* I/O thread */
	size_t			 nconns;
};

typedef int handler_fn(struct server *, struct conn *);

struct handler {
	uint16_t	 type;
	size_t		 min;	/* payload bounds */
	size_t		 max;
	handler_fn	*fn;	/* 0 to go on, -1 to drop the connection */
};

static handler_fn h_hello, h_hash, h_verify, h_sign, h_pubkeys;
static handler_fn h_totp_new, h_totp_check, h_recovery_new, h_recovery_hash;
static handler_fn h_sign_id, h_jwt_check, h_sign_assertion;

/* The one place that decides which requests exist and how long they are. */
static const struct handler handlers[] = {
	{ PROTO_HELLO,	 PROTO_HELLO_LEN,   PROTO_HELLO_LEN,   h_hello },
	{ PROTO_HASH,	 PROTO_HASH_MIN,    PROTO_HASH_MAX,    h_hash },
	{ PROTO_VERIFY,	 PROTO_VERIFY_MIN,  PROTO_VERIFY_MAX,  h_verify },
	{ PROTO_SIGN,	 PROTO_SIGN_MIN,    PROTO_SIGN_MAX,    h_sign },
	{ PROTO_PUBKEYS, PROTO_PUBKEYS_LEN, PROTO_PUBKEYS_LEN, h_pubkeys },
	{ PROTO_TOTP_NEW, PROTO_TOTP_NEW_MIN, PROTO_TOTP_NEW_MAX, h_totp_new },
	{ PROTO_TOTP_CHECK, PROTO_TOTP_CHECK_MIN, PROTO_TOTP_CHECK_MAX,
	    h_totp_check },
	{ PROTO_RECOVERY_NEW, PROTO_RECOVERY_NEW_MIN, PROTO_RECOVERY_NEW_MAX,
	    h_recovery_new },
	{ PROTO_RECOVERY_HASH, PROTO_RECOVERY_HASH_MIN, PROTO_RECOVERY_HASH_MAX,
	    h_recovery_hash },
	{ PROTO_SIGN_ID, PROTO_SIGN_ID_MIN, PROTO_SIGN_ID_MAX, h_sign_id },
	{ PROTO_JWT_CHECK, PROTO_JWT_CHECK_MIN, PROTO_JWT_CHECK_MAX,
	    h_jwt_check },
	{ PROTO_SIGN_ASSERTION, PROTO_SIGN_ASSERTION_MIN,
	    PROTO_SIGN_ASSERTION_MAX, h_sign_assertion },
};

/* ------------------------------------------------------------ connections */

static struct conn *
conn_new(const struct server *s, int fd)
{
	struct conn *c;

	if ((c = malloc(sizeof(*c))) == NULL)
		return NULL;
	memset(c, 0, offsetof(struct conn, payload));
	c->fd = fd;
	c->send_timeout_ms = s->p.send_timeout_ms > 0 ?
	    s->p.send_timeout_ms : SERVER_SEND_TIMEOUT_MS;
	c->refs = 1;
	pthread_mutex_init(&c->wlock, NULL);
	return c;
}

static void
conn_ref(struct server *s, struct conn *c)
{
	pthread_mutex_lock(&s->lock);
	c->refs++;
	pthread_mutex_unlock(&s->lock);
}

/* Drops a reference; the last one closes the socket and frees c. */
static void
conn_unref(struct server *s, struct conn *c)
{
	bool last;

	pthread_mutex_lock(&s->lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (!last)
		return;
	close(c->fd);
	pthread_mutex_destroy(&c->wlock);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* Marks c dead and shuts it down: the peer sees EOF at once, queued work
 * for it is skipped, a worker's write in progress fails.  Shut down first:
 * a worker blocked in write() holds wlock until that write fails. */
static void
conn_kill(struct conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_lock(&c->wlock);
	c->dead = true;
	pthread_mutex_unlock(&c->wlock);
}

static bool
conn_is_dead(struct conn *c)
{
	bool dead;

	pthread_mutex_lock(&c->wlock);
	dead = c->dead;
	pthread_mutex_unlock(&c->wlock);
	return dead;
}

/*
 * Writes one or more whole frames.  Returns 0, or -1 when the connection
 * is (now) dead; the first failure marks it so.  Writes never block: a
 * peer that lets an answer wait send_timeout_ms is dropped, so that it can
 * stall neither the I/O thread nor a worker for longer than that.
 */
static int
conn_send(struct conn *c, const uint8_t *p, size_t n)
{
	enum proto_io_status st;
	int rc = 0;

	pthread_mutex_lock(&c->wlock);
	if (c->dead)
		rc = -1;
	else if ((st = proto_io_write(c->fd, p, n, c->send_timeout_ms)) !=
	    PROTO_IO_OK) {
		if (st == PROTO_IO_TIMEOUT) {
			log_warn("front took no answer for %d ms: dropping it",
			    c->send_timeout_ms);
			shutdown(c->fd, SHUT_RDWR);	/* the I/O thread sees EOF */
		} else
			log_debug("send: %s", proto_io_strerror(st));
		rc = -1;
	}
	if (rc == -1)
		c->dead = true;
	pthread_mutex_unlock(&c->wlock);
	return rc;
}

/* Sends what b holds, then clears b (zeroed, capacity kept). */
static int
conn_send_buf(struct conn *c, struct proto_buf *b)
{
	int rc = conn_send(c, b->data, b->len);

	proto_buf_reset(b);
	return rc;
}

static int
send_error(struct conn *c, struct proto_buf *b, uint32_t id, uint32_t code,
    const char *msg)
{
	struct proto_error_ans e;

	memset(&e, 0, sizeof(e));
	e.code = code;
	(void)str_copy(e.message, msg, sizeof(e.message));	/* truncation ok */
	if (proto_encode_error_ans(b, id, &e) == -1) {
		proto_buf_reset(b);
		return -1;
	}
	return conn_send_buf(c, b);
}

/* Logs a frame that ends the connection: type, length, id, why. */
static int
malformed(uint16_t type, uint32_t len, uint32_t id, const char *why)
{
	char tbuf[8], lbuf[12], ibuf[12];

	(void)str_printf(tbuf, sizeof(tbuf), "0x%04x", type);
	(void)str_printf(lbuf, sizeof(lbuf), "%u", len);
	(void)str_printf(ibuf, sizeof(ibuf), "%u", id);
	log_event(LOG_WARN, "malformed frame, dropping the connection",
	    "type", proto_type_name(type), "type_code", tbuf, "len", lbuf,
	    "id", ibuf, "reason", why, NULL);
	return -1;
}

/* ------------------------------------------------------------ handlers */

static int
h_hello(struct server *s, struct conn *c)
{
	struct proto_hello m, ours = { PROTO_VERSION };
	int rc;

	if (proto_decode_hello(c->payload, c->h.len, &m) == -1)
		return malformed(c->h.type, c->h.len, c->h.id, "bad payload");
	if (proto_encode_hello(&s->iobuf, c->h.id, PROTO_R_HELLO,
	    &ours) == -1)
		fatal_f("cannot encode R_HELLO");
	rc = conn_send_buf(c, &s->iobuf);
	if (m.version != PROTO_VERSION) {
		log_warn("peer speaks protocol version %u, we %u: dropping it",
		    m.version, PROTO_VERSION);
		return -1;
	}
	c->hello = true;
	return rc;
}

/* Queues job for a worker, or answers BUSY.  The job is then the pool's or
 * gone.  Returns what the I/O thread should do with the connection. */
static int
queue_job(struct server *s, struct conn *c, struct job *j)
{
	j->c = c;
	j->id = c->h.id;
	j->type = c->h.type;
	conn_ref(s, c);
	if (workers_submit(s->pool, j) == 0)
		return 0;
	conn_unref(s, c);	/* not the last: the I/O thread holds one */
	sodium_memzero(j, sizeof(*j));
	free(j);
	log_debug("queue full: BUSY for request %u", c->h.id);
	return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_BUSY,
	    "hasher queue full");
}

static struct job *
job_new(void)
{
	return calloc(1, sizeof(struct job));
}

static void
job_free(struct job *j)
{
	sodium_memzero(j, sizeof(*j));
	free(j);
}

static int
h_hash(struct server *s, struct conn *c)
{
	struct job *j;

	if ((j = job_new()) == NULL)
		return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_BUSY,
		    "out of memory");
	if (proto_decode_hash_req(c->payload, c->h.len, &j->u.hash) == -1) {
		job_free(j);
		return malformed(c->h.type, c->h.len, c->h.id, "bad payload");
	}
	if (!field_is_uuid(j->u.hash.user_id)) {
		job_free(j);
		return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_INVALID,
		    "user_id is not a uuid");
	}
	return queue_job(s, c, j);
}

static int
h_verify(struct server *s, struct conn *c)
{
	struct job *j;

	if ((j = job_new()) == NULL)
		return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_BUSY,
		    "out of memory");
	if (proto_decode_verify_req(c->payload, c->h.len,
	    &j->u.verify) == -1) {
		job_free(j);
		return malformed(c->h.type, c->h.len, c->h.id, "bad payload");
	}
	if (!field_is_uuid(j->u.verify.user_id)) {
		job_free(j);
		return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_INVALID,
		    "user_id is not a uuid");
	}
	return queue_job(s, c, j);
}

/* The roles of a request as one "a,b,c" for the log (jwt_sign() checked
 * them: no comma, quote or blank in a role). */
static void
roles_joined(const struct proto_sign_req *req,
    char out[PROTO_ROLES_MAX * (PROTO_ROLE_MAX + 1) + 1])
{
	size_t i, n = 0, len;

	out[0] = '\0';
	for (i = 0; i < req->nroles && i < PROTO_ROLES_MAX; i++) {
		len = strnlen(req->roles[i], PROTO_ROLE_MAX);
		if (i > 0)
			out[n++] = ',';
		memcpy(out + n, req->roles[i], len);
		n += len;
		out[n] = '\0';
	}
}

static int
h_sign(struct server *s, struct conn *c)
{
	struct proto_sign_req req;
	struct proto_sign_ans ans;
	const struct sign_key *k;
	char err[PROTO_ERRMSG_MAX + 1];
	char roles[PROTO_ROLES_MAX * (PROTO_ROLE_MAX + 1) + 1];
	time_t now;

	if (proto_decode_sign_req(c->payload, c->h.len, &req) == -1)
		return malformed(c->h.type, c->h.len, c->h.id, "bad payload");
	memset(&ans, 0, sizeof(ans));
	err[0] = '\0';
	now = time(NULL);	/* one instant: the key signed is the key logged */
	if (jwt_sign(s->p.ks, &s->p.jwt, &req, now, &ans, err,
	    sizeof(err)) == -1) {
		proto_wipe(&ans, sizeof(ans));
		log_event(LOG_INFO, "sign refused", "reason", err, NULL);
		return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_INVALID,
		    err[0] != '\0' ? err : "invalid request");
	}
	k = keys_sign_current_at(s->p.ks, now);
	/* What was signed, so that an admin token a front had minted stands
	 * out in the log (docs/security.md). */
	roles_joined(&req, roles);
	/* A client's token names the client (a NULL name ends the list). */
	log_event(LOG_INFO, "signed", "sub", req.sub, "jti", ans.jti,
	    "kid", k != NULL ? k->kid : "", "username", req.username,
	    "roles", roles, req.aud[0] != '\0' ? "client_id" : NULL, req.aud,
	    NULL);
	if (proto_encode_sign_ans(&s->iobuf, c->h.id, &ans) == -1) {
		proto_wipe(&ans, sizeof(ans));
		return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_INTERNAL,
		    "token does not fit a frame");
	}
	proto_wipe(&ans, sizeof(ans));
	return conn_send_buf(c, &s->iobuf);
}

/* SIGN_ID: an ID token, at once on the I/O thread like SIGN (one RSA
 * signature is a millisecond or two). */
static int
h_sign_id(struct server *s, struct conn *c)
{
	struct proto_sign_id_req *req;
	struct proto_sign_id_ans ans;
	const char *kid = "";
	char err[PROTO_ERRMSG_MAX + 1];
	int rc;

	if ((req = malloc(sizeof(*req))) == NULL)
		return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_BUSY,
		    "out of memory");
	if (proto_decode_sign_id_req(c->payload, c->h.len, req) == -1) {
		free(req);
		return malformed(c->h.type, c->h.len, c->h.id, "bad payload");
	}
	memset(&ans, 0, sizeof(ans));
	err[0] = '\0';
	if (jwt_sign_id(s->p.ks, &s->p.jwt, req, time(NULL), &ans, &kid, err,
	    sizeof(err)) == -1) {
		log_event(LOG_INFO, "id token refused", "reason", err, NULL);
		rc = send_error(c, &s->iobuf, c->h.id, PROTO_ERR_INVALID,
		    err[0] != '\0' ? err : "invalid request");
		goto out;
	}
	log_event(LOG_INFO, "signed id token", "sub", req->sub, "client_id",
	    req->aud, "alg", req->alg == PROTO_ALG_RS256 ? "RS256" : "EdDSA",
	    "kid", kid, NULL);
	if (proto_encode_sign_id_ans(&s->iobuf, c->h.id, &ans) == -1)
		rc = send_error(c, &s->iobuf, c->h.id, PROTO_ERR_INTERNAL,
		    "token does not fit a frame");
	else
		rc = conn_send_buf(c, &s->iobuf);
out:
	proto_wipe(req, sizeof(*req));	/* holds the access token */
	free(req);
	proto_wipe(&ans, sizeof(ans));
	return rc;
}

/* SIGN_ASSERTION: a client assertion for an upstream provider, at once on
 * the I/O thread like SIGN_ID.  The log names the client and the
 * endpoint, never the token. */
static int
h_sign_assertion(struct server *s, struct conn *c)
{
	struct proto_sign_assertion_req req;
	struct proto_sign_assertion_ans ans;
	const char *kid = "";
	char err[PROTO_ERRMSG_MAX + 1];
	int rc;

	if (proto_decode_sign_assertion_req(c->payload, c->h.len, &req) == -1)
		return malformed(c->h.type, c->h.len, c->h.id, "bad payload");
	memset(&ans, 0, sizeof(ans));
	err[0] = '\0';
	if (assertion_sign(s->p.ks, &req, time(NULL), &ans, &kid, err,
	    sizeof(err)) == -1) {
		log_event(LOG_INFO, "client assertion refused", "client_id",
		    req.client_id, "aud", req.aud, "reason", err, NULL);
		return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_INVALID,
		    err[0] != '\0' ? err : "invalid request");
	}
	log_event(LOG_INFO, "signed client assertion", "client_id",
	    req.client_id, "aud", req.aud, "alg",
	    req.alg == PROTO_ALG_RS256 ? "RS256" : "EdDSA", "kid", kid, NULL);
	if (proto_encode_sign_assertion_ans(&s->iobuf, c->h.id, &ans) == -1)
		rc = send_error(c, &s->iobuf, c->h.id, PROTO_ERR_INTERNAL,
		    "token does not fit a frame");
	else
		rc = conn_send_buf(c, &s->iobuf);
	proto_wipe(&ans, sizeof(ans));
	return rc;
}

/* JWT_CHECK: an id_token_hint; an invalid one is an answer, not an error. */
static int
h_jwt_check(struct server *s, struct conn *c)
{
	struct proto_jwt_check_req *req;
	struct proto_jwt_check_ans ans;

	if ((req = malloc(sizeof(*req))) == NULL)
		return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_BUSY,
		    "out of memory");
	if (proto_decode_jwt_check_req(c->payload, c->h.len, req) == -1) {
		free(req);
		return malformed(c->h.type, c->h.len, c->h.id, "bad payload");
	}
	jwt_check(s->p.ks, s->p.jwt.issuer, req->token, &ans);
	proto_wipe(req, sizeof(*req));
	free(req);
	if (proto_encode_jwt_check_ans(&s->iobuf, c->h.id, &ans) == -1)
		fatal_f("cannot encode R_JWT_CHECK");
	return conn_send_buf(c, &s->iobuf);
}

static int
h_pubkeys(struct server *s, struct conn *c)
{
	if (proto_decode_pubkeys_req(c->payload, c->h.len) == -1)
		return malformed(c->h.type, c->h.len, c->h.id, "bad payload");
	if (proto_encode_pubkeys_ans(&s->iobuf, c->h.id, &s->pubkeys) == -1)
		fatal_f("cannot encode R_PUBKEYS");
	return conn_send_buf(c, &s->iobuf);
}

/*
 * TOTP and recovery codes: a few hashes each, so answered at once on the
 * I/O thread like SIGN.  Their secrets (the base32 secret, the codes, the
 * code typed) are wiped from the stack and the output buffer once sent.
 */
static int
invalid_user(struct server *s, struct conn *c, const char *user_id)
{
	if (field_is_uuid(user_id))
		return 0;
	return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_INVALID,
	    "user_id is not a uuid") == -1 ? -1 : 1;
}

static int
h_totp_new(struct server *s, struct conn *c)
{
	struct proto_totp_new_req req;
	struct proto_totp_new_ans ans;
	int rc;

	if (proto_decode_totp_new_req(c->payload, c->h.len, &req) == -1)
		return malformed(c->h.type, c->h.len, c->h.id, "bad payload");
	if ((rc = invalid_user(s, c, req.user_id)) != 0)
		return rc < 0 ? -1 : 0;
	memset(&ans, 0, sizeof(ans));
	if (totp_new(s->p.ks, req.user_id, ans.secret, ans.sealed) == -1 ||
	    proto_encode_totp_new_ans(&s->iobuf, c->h.id, &ans) == -1) {
		proto_wipe(&ans, sizeof(ans));
		log_error("TOTP secret failed for request %u", c->h.id);
		return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_INTERNAL,
		    "totp secret failed");
	}
	proto_wipe(&ans, sizeof(ans));
	log_event(LOG_INFO, "totp secret made", "user_id", req.user_id, NULL);
	return conn_send_buf(c, &s->iobuf);
}

static int
h_totp_check(struct server *s, struct conn *c)
{
	struct proto_totp_check_req req;
	struct proto_totp_check_ans ans;
	int rc;

	if (proto_decode_totp_check_req(c->payload, c->h.len, &req) == -1)
		return malformed(c->h.type, c->h.len, c->h.id, "bad payload");
	if ((rc = invalid_user(s, c, req.user_id)) != 0) {
		proto_wipe(&req, sizeof(req));
		return rc < 0 ? -1 : 0;
	}
	memset(&ans, 0, sizeof(ans));
	/* Our own clock: the front's word on the time is not taken. */
	if (totp_check(s->p.ks, req.user_id, req.sealed, req.code,
	    req.after_step, time(NULL), &ans.match, &ans.step) == -1) {
		log_event(LOG_WARN, "totp check refused: code not 6 digits, or "
		    "sealed secret that does not open for the user",
		    "user_id", req.user_id, NULL);
		proto_wipe(&req, sizeof(req));
		return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_INVALID,
		    "code or sealed secret invalid");
	}
	proto_wipe(&req, sizeof(req));
	if (proto_encode_totp_check_ans(&s->iobuf, c->h.id, &ans) == -1)
		fatal_f("cannot encode R_TOTP_CHECK");
	return conn_send_buf(c, &s->iobuf);
}

static int
h_recovery_new(struct server *s, struct conn *c)
{
	struct proto_recovery_new_req req;
	struct proto_recovery_new_ans *ans;
	int rc;

	if (proto_decode_recovery_new_req(c->payload, c->h.len, &req) == -1)
		return malformed(c->h.type, c->h.len, c->h.id, "bad payload");
	if ((rc = invalid_user(s, c, req.user_id)) != 0)
		return rc < 0 ? -1 : 0;
	if ((ans = calloc(1, sizeof(*ans))) == NULL)
		return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_BUSY,
		    "out of memory");
	if (recovery_new(s->p.ks, req.user_id, ans) == -1 ||
	    proto_encode_recovery_new_ans(&s->iobuf, c->h.id, ans) == -1) {
		proto_wipe(ans, sizeof(*ans));
		free(ans);
		log_error("recovery codes failed for request %u", c->h.id);
		return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_INTERNAL,
		    "recovery codes failed");
	}
	proto_wipe(ans, sizeof(*ans));
	free(ans);
	log_event(LOG_INFO, "recovery codes made", "user_id", req.user_id,
	    NULL);
	return conn_send_buf(c, &s->iobuf);
}

static int
h_recovery_hash(struct server *s, struct conn *c)
{
	struct proto_recovery_hash_req req;
	struct proto_recovery_hash_ans ans;
	int rc;

	if (proto_decode_recovery_hash_req(c->payload, c->h.len, &req) == -1)
		return malformed(c->h.type, c->h.len, c->h.id, "bad payload");
	if ((rc = invalid_user(s, c, req.user_id)) != 0) {
		proto_wipe(&req, sizeof(req));
		return rc < 0 ? -1 : 0;
	}
	memset(&ans, 0, sizeof(ans));
	if (recovery_hash(s->p.ks, req.user_id, req.code, ans.hash) == -1) {
		proto_wipe(&req, sizeof(req));
		return send_error(c, &s->iobuf, c->h.id, PROTO_ERR_INVALID,
		    "not a recovery code");
	}
	proto_wipe(&req, sizeof(req));
	if (proto_encode_recovery_hash_ans(&s->iobuf, c->h.id, &ans) == -1)
		fatal_f("cannot encode R_RECOVERY_HASH");
	return conn_send_buf(c, &s->iobuf);
}

/* ------------------------------------------------------------ workers */

static void
work_hash(struct server *s, struct job *j, struct proto_buf *b)
{
	struct proto_hash_req *r = &j->u.hash;
	struct proto_hash_ans a;

	memset(&a, 0, sizeof(a));
	if (pw_hash(s->p.ks, &s->p.policy, r->user_id, r->password,
	    r->password_len, a.stored, sizeof(a.stored)) == -1) {
		log_error("hashing failed for request %u", j->id);
		(void)send_error(j->c, b, j->id, PROTO_ERR_INTERNAL,
		    "hashing failed");
	} else if (proto_encode_hash_ans(b, j->id, &a) == -1) {
		(void)send_error(j->c, b, j->id, PROTO_ERR_INTERNAL,
		    "hash does not fit");
	} else
		(void)conn_send_buf(j->c, b);
	proto_wipe(&a, sizeof(a));
}

static void
work_verify(struct server *s, struct job *j, struct proto_buf *b)
{
	struct proto_verify_req *r = &j->u.verify;
	struct proto_verify_ans a;

	memset(&a, 0, sizeof(a));
	if (pw_verify(s->p.ks, &s->p.policy, r->user_id, r->password,
	    r->password_len, r->stored, &a.match, a.rehash,
	    sizeof(a.rehash)) == -1) {
		/* An unknown format is a mismatch to the caller. */
		log_event(LOG_WARN, "stored hash of unknown format",
		    "user_id", r->user_id, NULL);
		memset(&a, 0, sizeof(a));
	}
	if (proto_encode_verify_ans(b, j->id, &a) == -1)
		(void)send_error(j->c, b, j->id, PROTO_ERR_INTERNAL,
		    "rehash does not fit");
	else
		(void)conn_send_buf(j->c, b);
	proto_wipe(&a, sizeof(a));
}

static void
server_work(void *item, void *arg)
{
	struct server *s = arg;
	struct job *j = item;
	struct conn *c = j->c;
	struct proto_buf b;

	proto_buf_init(&b);
	if (!conn_is_dead(c)) {	/* a dropped peer's work is skipped */
		if (j->type == PROTO_HASH)
			work_hash(s, j, &b);
		else
			work_verify(s, j, &b);
	}
	proto_buf_free(&b);
	job_free(j);
	conn_unref(s, c);
}

/* ------------------------------------------------------------ the loop */

static int
dispatch(struct server *s, struct conn *c)
{
	const struct handler *hd = NULL;
	size_t i;

	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].type == c->h.type)
			hd = &handlers[i];
	if (hd == NULL)
		return malformed(c->h.type, c->h.len, c->h.id, "unknown type");
	if (c->h.len < hd->min || c->h.len > hd->max)
		return malformed(c->h.type, c->h.len, c->h.id,
		    "length out of bounds");
	if (!c->hello && c->h.type != PROTO_HELLO)
		return malformed(c->h.type, c->h.len, c->h.id,
		    "request before HELLO");
	if (c->hello && c->h.type == PROTO_HELLO)
		return malformed(c->h.type, c->h.len, c->h.id,
		    "HELLO repeated");
	return hd->fn(s, c);
}

/*
 * One read(2) on a readable connection, then a dispatch when a frame is
 * whole.  Returns 0 to go on, 1 when the peer closed between frames, -1 to
 * drop the connection.
 */
static int
conn_read(struct server *s, struct conn *c)
{
	uint8_t *dst;
	size_t want;
	ssize_t n;
	int rc;

	if (c->got < PROTO_HEADER_SIZE) {
		dst = c->hdr + c->got;
		want = PROTO_HEADER_SIZE - c->got;
	} else {
		dst = c->payload + (c->got - PROTO_HEADER_SIZE);
		want = c->h.len - (c->got - PROTO_HEADER_SIZE);
	}
	if ((n = read(c->fd, dst, want)) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		log_warn("read: %s", strerror(errno));
		return -1;
	}
	if (n == 0) {
		if (c->got == 0)
			return 1;
		return malformed(c->got >= PROTO_HEADER_SIZE ? c->h.type : 0,
		    c->got >= PROTO_HEADER_SIZE ? c->h.len : 0,
		    c->got >= PROTO_HEADER_SIZE ? c->h.id : 0,
		    "truncated frame");
	}
	c->got += (size_t)n;
	if (c->got == PROTO_HEADER_SIZE &&
	    proto_header_decode(c->hdr, &c->h) == -1)
		/* Refused before any payload is read. */
		return malformed(be16dec(c->hdr + 8), be32dec(c->hdr),
		    be32dec(c->hdr + 4),
		    "length over the cap or reserved bits set");
	if (c->got < PROTO_HEADER_SIZE ||
	    c->got < PROTO_HEADER_SIZE + (size_t)c->h.len)
		return 0;	/* more to come */

	rc = dispatch(s, c);
	sodium_memzero(c->payload, c->h.len);
	c->got = 0;
	return rc;
}

static void
conn_remove(struct server *s, struct conn *c)
{
	size_t i;

	for (i = 0; i < s->nconns; i++)
		if (s->conns[i] == c) {
			s->conns[i] = s->conns[--s->nconns];
			s->conns[s->nconns] = NULL;
			break;
		}
	conn_unref(s, c);
}

/* Accepts one front.  0: go on, 1: out of descriptors (pause accepting),
 * -1: the listening socket failed. */
static int
accept_one(struct server *s, int lfd, uid_t peer_uid)
{
	struct conn *c;
	uid_t uid;
	gid_t gid;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			/* A closed front's descriptor is held until its last
			 * answer is computed: wait for that, don't spin. */
			log_warn("accept: %s: pausing for %d ms",
			    strerror(errno), SERVER_ACCEPT_PAUSE_MS);
			return 1;
		}
		if (errno == EINTR || errno == EAGAIN ||
		    errno == EWOULDBLOCK)
			return 0;	/* gone before we took it */
		if (errno == ECONNABORTED || errno == ENOBUFS ||
		    errno == ENOMEM) {
			log_warn("accept: %s", strerror(errno));
			return 0;
		}
		log_error("accept: %s", strerror(errno));
		return -1;
	}
	if (getpeereid(fd, &uid, &gid) == -1) {
		log_warn("getpeereid: %s", strerror(errno));
		close(fd);
		return 0;
	}
	if (uid != peer_uid) {
		log_warn("refused a connection from uid %u (want %u)",
		    (unsigned)uid, (unsigned)peer_uid);
		close(fd);
		return 0;
	}
	if (s->nconns == SERVER_MAX_CONNS) {
		log_warn("already %d connections: refused one",
		    SERVER_MAX_CONNS);
		close(fd);
		return 0;
	}
	if ((c = conn_new(s, fd)) == NULL) {
		log_warn("out of memory for a connection");
		close(fd);
		return 0;
	}
	s->conns[s->nconns++] = c;
	log_info("front connected");
	return 0;
}

int
server_run(struct server *s, int listen_fd, int conn_fd, uid_t peer_uid)
{
	struct pollfd pfd[SERVER_MAX_CONNS + 1];
	struct conn *polled[SERVER_MAX_CONNS];
	struct conn *c;
	struct timespec resume = { 0, 0 };
	size_t i, n, base;
	int rc, status = 0, timeout;
	bool paused = false;

	if (conn_fd >= 0) {
		if (s->nconns == SERVER_MAX_CONNS ||
		    (c = conn_new(s, conn_fd)) == NULL) {
			close(conn_fd);
			return -1;
		}
		s->conns[s->nconns++] = c;
	}
	for (;;) {
		if (listen_fd < 0 && s->nconns == 0)
			return status;
		n = 0;
		timeout = -1;
		if (paused && (timeout = clock_ms_left(&resume)) == 0) {
			paused = false;
			timeout = -1;
		}
		if (listen_fd >= 0 && !paused) {
			pfd[n].fd = listen_fd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
		base = n;
		for (i = 0; i < s->nconns; i++) {
			polled[i] = s->conns[i];
			pfd[n].fd = s->conns[i]->fd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
		if (poll(pfd, n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal_f("poll: %s", strerror(errno));
		}
		for (i = base; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			c = polled[i - base];
			if (pfd[i].revents & POLLNVAL)
				rc = -1;
			else
				rc = conn_read(s, c);
			if (rc == 0)
				continue;
			if (rc > 0)
				log_info("front closed the connection");
			else {
				status = -1;
				conn_kill(c);
			}
			conn_remove(s, c);
		}
		if (listen_fd < 0 || paused || !(pfd[0].revents & (POLLIN |
		    POLLERR | POLLHUP | POLLNVAL)))
			continue;
		if ((rc = accept_one(s, listen_fd, peer_uid)) == -1)
			return -1;
		if (rc == 1) {
			paused = true;
			clock_deadline(&resume, SERVER_ACCEPT_PAUSE_MS);
		}
	}
}

/* ------------------------------------------------------------ set-up */

struct server *
server_new(const struct server_params *p)
{
	const struct sign_key *cur_sign;
	const struct rsa_key *cur_rsa;
	struct server *s;
	size_t i, qmax;
	long ncpu;
	int saved;

	if (p->ks == NULL || p->ks->nsign > PROTO_KEYS_MAX ||
	    p->ks->nrsa > PROTO_KEYS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->p = *p;
	s->nworkers = p->workers;
	if (s->nworkers == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		s->nworkers = ncpu < 1 ? 1 : ncpu > WORKERS_MAX ?
		    WORKERS_MAX : (unsigned int)ncpu;
	}
	if (s->nworkers > WORKERS_MAX)
		s->nworkers = WORKERS_MAX;
	/*
	 * h_sign's "signed" line is the record of every token a front had
	 * signed, and it is an info line: a log_level of warn or error must
	 * not silence it, so the hasher logs at info all the same.
	 */
	if (log_get_level() < LOG_INFO) {
		log_set_level(LOG_INFO);
		log_warn("log_level is stricter than info: the hasher logs at "
		    "info all the same, so that every signature is recorded");
	}
	pthread_mutex_init(&s->lock, NULL);
	proto_buf_init(&s->iobuf);

	cur_sign = keys_sign_current(p->ks);
	cur_rsa = keys_rsa_current(p->ks);
	s->pubkeys.nkeys = p->ks->nsign;
	for (i = 0; i < p->ks->nsign; i++) {
		(void)str_copy(s->pubkeys.keys[i].kid, p->ks->sign[i].kid,
		    sizeof(s->pubkeys.keys[i].kid));
		memcpy(s->pubkeys.keys[i].pk, p->ks->sign[i].pk,
		    PROTO_PUBKEY_LEN);
		/* Current as of now; a next key is published all the same,
		 * and the flag informs only (the front signs nothing). */
		s->pubkeys.keys[i].current = &p->ks->sign[i] == cur_sign;
	}
	s->pubkeys.nrsa = p->ks->nrsa;
	for (i = 0; i < p->ks->nrsa; i++) {
		(void)str_copy(s->pubkeys.rsa[i].kid, p->ks->rsa[i].kid,
		    sizeof(s->pubkeys.rsa[i].kid));
		memcpy(s->pubkeys.rsa[i].n, p->ks->rsa[i].n, PROTO_RSA_N_LEN);
		memcpy(s->pubkeys.rsa[i].e, p->ks->rsa[i].e,
		    p->ks->rsa[i].e_len);
		s->pubkeys.rsa[i].e_len = p->ks->rsa[i].e_len;
		s->pubkeys.rsa[i].current = &p->ks->rsa[i] == cur_rsa;
	}

	qmax = 4 * (size_t)s->nworkers + p->queue;
	if ((s->pool = workers_start(s->nworkers, qmax, server_work,
	    s)) == NULL) {
		saved = errno;
		pthread_mutex_destroy(&s->lock);
		free(s);
		errno = saved;
		return NULL;
	}
	log_info("%u workers, queue of %zu, at nice %d (SCHED_IDLE)",
	    s->nworkers, qmax, WORKERS_NICE);
	if (workers_not_lowered(s->pool) > 0)
		log_warn("%u workers could not lower their CPU priority: "
		    "a login flood competes with the reads",
		    workers_not_lowered(s->pool));
	return s;
}

unsigned int
server_workers(const struct server *s)
{
	return s->nworkers;
}

void
server_free(struct server *s)
{
	size_t i;

	if (s == NULL)
		return;
	/* Finish (or, for dead peers, skip) every queued job first: each
	 * holds a reference to its connection. */
	workers_stop(s->pool);
	for (i = 0; i < s->nconns; i++)
		conn_unref(s, s->conns[i]);
	s->nconns = 0;
	proto_buf_free(&s->iobuf);
	pthread_mutex_destroy(&s->lock);
	sodium_memzero(s, sizeof(*s));
	free(s);
}
