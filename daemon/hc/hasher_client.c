/*
 * The front's asynchronous client of warden-hasher: a bufferevent on the
 * socket, a table of pending requests keyed by id with a deadline each,
 * and a state machine that restarts the hasher with back-off.
 */
#define _GNU_SOURCE	/* struct ucred */

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <sodium.h>

#include "clock.h"
#include "config.h"
#include "fields.h"
#include "hasher_client.h"
#include "hasher_spawn.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#define HC_REAP_MAX	8	/* killed children waiting for waitpid */
#define HC_EXIT_WAIT_MS	1000	/* hc_free(): grace before SIGKILL */
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
	struct proto_error_ans	 err;
};

static void	hc_do_start(struct hc *);
static void	hc_teardown(struct hc *, const char *);

const char *
hc_status_str(enum hc_status st)
{
	switch (st) {
	case HC_OK:		return "ok";
	case HC_BUSY:		return "busy";
	case HC_DOWN:		return "down";
	case HC_TIMEOUT:	return "timeout";
	case HC_INVALID:	return "invalid";
	case HC_ERROR:		return "error";
	}
	return "error";
}

static void
ms_to_tv(unsigned int ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
}

/* ---- parameters ---- */

int
hc_params_from_cfg(struct hc_params *p, const struct cfg *cfg,
    const char *config_path, char *err, size_t errlen)
{
	struct passwd	*pw;
	int64_t		 ms;

	memset(p, 0, sizeof(*p));
	p->hasher_path = cfg->hasher_path;
	p->config_path = config_path;
	p->socket_path = cfg->hasher_socket;
	p->queue_max = cfg->hasher_queue > 0 ? cfg->hasher_queue : 1;
	p->sign_queue_max = HC_SIGN_QUEUE_DEFAULT;
	ms = cfg->hasher_timeout > 0 ? cfg->hasher_timeout * 1000 : 1000;
	p->timeout_ms = ms > 3600 * 1000 ? 3600 * 1000 : (unsigned int)ms;
	p->reap_sigchld = true;
	p->peer_uid = geteuid();
	if (p->socket_path != NULL && p->socket_path[0] != '\0' &&
	    cfg->hasher_user != NULL && cfg->hasher_user[0] != '\0') {
		errno = 0;
		if ((pw = getpwnam(cfg->hasher_user)) == NULL) {
			str_printf(err, errlen, "hasher_user %s: %s",
			    cfg->hasher_user,
			    errno ? strerror(errno) : "no such user");
			return -1;
		}
		p->peer_uid = pw->pw_uid;
	}
	return 0;
}

/* ---- the pending table ---- */

static struct hc_req *
req_find(const struct hc *c, uint32_t id)
{
	struct hc_req *r;

	for (r = c->buckets[id & (c->nbuckets - 1)]; r != NULL; r = r->hnext)
		if (r->id == id)
			return r;
	return NULL;
}

static uint32_t
req_next_id(struct hc *c)
{
	uint32_t id;

	do {
		id = c->next_id++;
		if (c->next_id == 0)
			c->next_id = 1;
	} while (req_find(c, id) != NULL);
	return id;
}

static void
req_insert(struct hc *c, struct hc_req *r)
{
	size_t b = r->id & (c->nbuckets - 1);

	r->hnext = c->buckets[b];
	c->buckets[b] = r;
	TAILQ_INSERT_TAIL(&c->reqs, r, all);
	if (r->counted_hash)
		c->nhash++;
	if (r->counted_sign)
		c->nsign++;
}

/* Unlinks r from the table and stops its timer; the caller frees it. */
static void
req_remove(struct hc *c, struct hc_req *r)
{
	struct hc_req **pp;

	for (pp = &c->buckets[r->id & (c->nbuckets - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == r) {
			*pp = r->hnext;
			break;
		}
	}
	TAILQ_REMOVE(&c->reqs, r, all);
	evtimer_del(&r->timer);
	if (r->counted_hash)
		c->nhash--;
	if (r->counted_sign)
		c->nsign--;
}

/* Runs r's callback once, with st and (for HC_OK) the decoded answer. */
static void
req_fire(struct hc_req *r, enum hc_status st, const union hc_answer *a)
{
	bool ok = st == HC_OK && a != NULL;

	if (r->detached)
		return;
	r->detached = true;
	switch (r->type) {
	case PROTO_HASH:
		r->cb.hash(st, ok ? a->hash.stored : NULL, r->arg);
		break;
	case PROTO_VERIFY:
		r->cb.verify(st, ok ? a->verify.match : false,
		    ok ? a->verify.rehash : NULL, r->arg);
		break;
	case PROTO_SIGN:
		r->cb.sign(st, ok ? &a->sign : NULL, r->arg);
		break;
	default:
		break;
	}
}

static bool
req_is_user(const struct hc_req *r)
{
	return r->type == PROTO_HASH || r->type == PROTO_VERIFY ||
	    r->type == PROTO_SIGN;
}

/* Fails every pending request with st.  Callbacks may make new requests
 * (they are refused: the state is no longer ready) or cancel others. */
static void
fail_all(struct hc *c, enum hc_status st)
{
	struct hc_req *r;

	while ((r = TAILQ_FIRST(&c->reqs)) != NULL) {
		req_remove(c, r);
		if (req_is_user(r) && !r->detached) {
			c->st.failures++;
			req_fire(r, st, NULL);
		}
		free(r);
	}
}

/* ---- sending ---- */

/* The output evbuffer's reference to a frame is gone: wipe and free it. */
static void
frame_cleanup(const void *data, size_t len, void *extra)
{
	size_t cap = (size_t)(uintptr_t)extra;

	sodium_memzero((void *)(uintptr_t)data, cap > len ? cap : len);
	free((void *)(uintptr_t)data);
}

/*
 * Hands the frame in b to the socket by reference; b is left empty either
 * way (on failure its bytes are wiped and freed).  Returns 0 or -1.
 */
static int
send_frame(struct hc *c, struct proto_buf *b)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (evbuffer_add_reference(out, b->data, b->len, frame_cleanup,
	    (void *)(uintptr_t)b->cap) == -1) {
		proto_buf_free(b);
		return -1;
	}
	proto_buf_init(b);
	return 0;
}

/*
 * Creates the pending entry for a request of type, checking readiness and
 * the bounds.  internal: HELLO and the handshake's PUBKEYS (no bound).
 */
static struct hc_req *
req_new(struct hc *c, uint16_t type, bool internal, enum hc_status *why)
{
	struct hc_req	*r;
	bool		 expensive = type == PROTO_HASH || type == PROTO_VERIFY;

	if (!internal) {
		if (c->state != HC_S_READY) {
			*why = HC_DOWN;
			return NULL;
		}
		if (expensive ? c->nhash >= c->p.queue_max :
		    c->nsign >= c->p.sign_queue_max) {
			c->st.busy++;
			*why = HC_BUSY;
			return NULL;
		}
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		*why = HC_ERROR;
		return NULL;
	}
	r->c = c;
	r->type = type;
	r->id = req_next_id(c);
	r->counted_hash = expensive;
	r->counted_sign = type == PROTO_SIGN || type == PROTO_PUBKEYS;
	r->detached = !req_is_user(r);
	return r;
}

static void	req_timeout(evutil_socket_t, short, void *);

/*
 * Sends the frame of r that the encoder wrote into b (encoded is the
 * encoder's result: -1 when it refused, and *why is then enc_fail) and
 * starts its clock.  On failure b and r are freed and *why set.
 */
static int
req_submit(struct hc *c, struct hc_req *r, struct proto_buf *b, int encoded,
    enum hc_status enc_fail, enum hc_status *why)
{
	if (encoded == -1) {
		proto_buf_free(b);
		free(r);
		*why = enc_fail;
		return -1;
	}
	if (send_frame(c, b) == -1) {
		free(r);
		*why = HC_ERROR;
		return -1;
	}
	clock_now(&r->start);
	evtimer_assign(&r->timer, c->base, req_timeout, r);
	evtimer_add(&r->timer, c->tv_req);
	req_insert(c, r);
	return 0;
}

static void
req_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct hc_req	*r = arg;
	struct hc	*c = r->c;

	if (r->timed_out) {
		log_error("hasher: no answer to %s id %u after twice "
		    "hasher_timeout; taking it as wedged",
		    proto_type_name(r->type), r->id);
		hc_teardown(c, "hasher wedged");
		return;
	}
	if (!req_is_user(r)) {
		log_error("hasher: no answer to %s", proto_type_name(r->type));
		hc_teardown(c, "hasher did not answer the handshake");
		return;
	}
	/* Keep the slot: the hasher is still working on it, and its answer
	 * must be recognised (an unknown id would mean a broken hasher). */
	r->timed_out = true;
	evtimer_add(&r->timer, c->tv_req);
	if (!r->detached) {
		c->st.timeouts++;
		log_warn("hasher: %s id %u timed out", proto_type_name(r->type),
		    r->id);
		req_fire(r, HC_TIMEOUT, NULL);
	}
}

/* ---- requests ---- */

struct hc_req *
hc_hash(struct hc *c, const char *user_id, const uint8_t *pw, size_t pwlen,
    hc_hash_cb *cb, void *arg, enum hc_status *why)
{
	struct proto_hash_req	 m;
	struct proto_buf	 b;
	struct hc_req		*r;
	enum hc_status		 dummy;
	int			 rc;

	if (why == NULL)
		why = &dummy;
	if (user_id == NULL || !field_is_uuid(user_id) ||
	    pwlen > PROTO_PASSWORD_MAX || (pw == NULL && pwlen > 0)) {
		*why = HC_INVALID;
		return NULL;
	}
	if ((r = req_new(c, PROTO_HASH, false, why)) == NULL)
		return NULL;
	r->cb.hash = cb;
	r->arg = arg;

	memset(&m, 0, sizeof(m));
	memcpy(m.user_id, user_id, PROTO_UUID_LEN);
	if (pwlen > 0)
		memcpy(m.password, pw, pwlen);
	m.password_len = pwlen;
	proto_buf_init(&b);
	rc = proto_encode_hash_req(&b, r->id, &m);
	sodium_memzero(&m, sizeof(m));
	if (req_submit(c, r, &b, rc, HC_ERROR, why) == -1)
		return NULL;
	return r;
}

struct hc_req *
hc_verify(struct hc *c, const char *user_id, const uint8_t *pw, size_t pwlen,
    const char *stored, hc_verify_cb *cb, void *arg, enum hc_status *why)
{
	struct proto_verify_req	 m;
	struct proto_buf	 b;
	struct hc_req		*r;
	enum hc_status		 dummy;
	size_t			 slen;
	int			 rc;

	if (why == NULL)
		why = &dummy;
	if (stored == NULL)
		stored = "";
	slen = strnlen(stored, PROTO_STORED_MAX + 1);
	if (user_id == NULL || !field_is_uuid(user_id) ||
	    pwlen > PROTO_PASSWORD_MAX || (pw == NULL && pwlen > 0) ||
	    slen > PROTO_STORED_MAX) {
		*why = HC_INVALID;
		return NULL;
	}
	if ((r = req_new(c, PROTO_VERIFY, false, why)) == NULL)
		return NULL;
	r->cb.verify = cb;
	r->arg = arg;

	memset(&m, 0, sizeof(m));
	memcpy(m.user_id, user_id, PROTO_UUID_LEN);
	if (pwlen > 0)
		memcpy(m.password, pw, pwlen);
	m.password_len = pwlen;
	memcpy(m.stored, stored, slen);
	proto_buf_init(&b);
	rc = proto_encode_verify_req(&b, r->id, &m);
	sodium_memzero(&m, sizeof(m));
	if (req_submit(c, r, &b, rc, HC_ERROR, why) == -1)
		return NULL;
	return r;
}

struct hc_req *
hc_sign(struct hc *c, const struct proto_sign_req *req, hc_sign_cb *cb,
    void *arg, enum hc_status *why)
{
	struct proto_buf	 b;
	struct hc_req		*r;
	enum hc_status		 dummy;
	int			 rc;

	if (why == NULL)
		why = &dummy;
	if (req == NULL || req->nroles > PROTO_ROLES_MAX) {
		*why = HC_INVALID;
		return NULL;
	}
	if ((r = req_new(c, PROTO_SIGN, false, why)) == NULL)
		return NULL;
	r->cb.sign = cb;
	r->arg = arg;

	proto_buf_init(&b);
	/* The encoder refuses only a field past its bound (or ENOMEM). */
	rc = proto_encode_sign_req(&b, r->id, req);
	if (req_submit(c, r, &b, rc, HC_INVALID, why) == -1)
		return NULL;
	return r;
}

void
hc_cancel(struct hc_req *r)
{
	if (r != NULL)
		r->detached = true;
}

static int
send_internal(struct hc *c, uint16_t type, bool internal)
{
	struct proto_buf	 b;
	struct proto_hello	 h;
	struct hc_req		*r;
	enum hc_status		 why;
	int			 rc;

	if ((r = req_new(c, type, internal, &why)) == NULL)
		return -1;
	proto_buf_init(&b);
	if (type == PROTO_HELLO) {
		h.version = PROTO_VERSION;
		rc = proto_encode_hello(&b, r->id, PROTO_HELLO, &h);
	} else
		rc = proto_encode_pubkeys_req(&b, r->id);
	return req_submit(c, r, &b, rc, HC_ERROR, &why);
}

int
hc_refresh_pubkeys(struct hc *c)
{
	if (c->state != HC_S_READY)
		return -1;
	return send_internal(c, PROTO_PUBKEYS, false);
}

const struct proto_pubkeys_ans *
hc_pubkeys(const struct hc *c)
{
	return &c->keys;
}

bool
hc_ready(const struct hc *c)
{
	return c != NULL && c->state == HC_S_READY;
}

void
hc_get_stats(const struct hc *c, struct hc_stats *out)
{
	*out = c->st;
	out->queue_hash = c->nhash;
	out->queue_sign = c->nsign;
	out->ready = hc_ready(c);
}

/* ---- answers ---- */

/* A key set: at least one key, well-formed unique kids, one current. */
static bool
keys_ok(const struct proto_pubkeys_ans *k)
{
	size_t i, j, ncur = 0;

	if (k->nkeys == 0 || k->nkeys > PROTO_KEYS_MAX)
		return false;
	for (i = 0; i < k->nkeys; i++) {
		if (!field_is_kid(k->keys[i].kid))
			return false;
		for (j = 0; j < i; j++)
			if (strcmp(k->keys[i].kid, k->keys[j].kid) == 0)
				return false;
		if (k->keys[i].current)
			ncur++;
	}
	return ncur == 1;
}

static enum hc_status
error_status(const struct proto_error_ans *e)
{
	switch (e->code) {
	case PROTO_ERR_BUSY:	return HC_BUSY;
	case PROTO_ERR_INVALID:	return HC_INVALID;
	default:		return HC_ERROR;
	}
}

/*
 * Decodes the answer to r in p and checks what it says.  Returns 0 with
 * *a filled (a->err for R_ERROR), or -1 when the hasher is broken.
 */
static int
answer_decode(const struct hc_req *r, const struct proto_header *h,
    const uint8_t *p, union hc_answer *a)
{
	if (h->type == PROTO_R_ERROR) {
		if (proto_decode_error_ans(p, h->len, &a->err) == -1)
			return -1;
		return 0;
	}
	if (h->type != (r->type | HC_ANSWER))
		return -1;
	switch (r->type) {
	case PROTO_HELLO:
		return proto_decode_hello(p, h->len, &a->hello);
	case PROTO_HASH:
		if (proto_decode_hash_ans(p, h->len, &a->hash) == -1)
			return -1;
		return a->hash.stored[0] == '\0' ? -1 : 0;
	case PROTO_VERIFY:
		if (proto_decode_verify_ans(p, h->len, &a->verify) == -1)
			return -1;
		/* A rehash without a match makes no sense. */
		return !a->verify.match && a->verify.rehash[0] != '\0' ? -1 : 0;
	case PROTO_SIGN:
		if (proto_decode_sign_ans(p, h->len, &a->sign) == -1)
			return -1;
		return a->sign.jwt[0] == '\0' || a->sign.jti[0] == '\0' ? -1 : 0;
	case PROTO_PUBKEYS:
		if (proto_decode_pubkeys_ans(p, h->len, &a->keys) == -1)
			return -1;
		return keys_ok(&a->keys) ? 0 : -1;
	}
	return -1;
}

/* An answer to HELLO or PUBKEYS.  Returns 0, or -1 to tear down. */
static int
answer_internal(struct hc *c, const struct hc_req *r, uint16_t type,
    const union hc_answer *a)
{
	if (r->type == PROTO_HELLO) {
		if (type == PROTO_R_ERROR) {
			log_error("hasher: refused HELLO: %s", a->err.message);
			return -1;
		}
		if (a->hello.version != PROTO_VERSION) {
			log_error("hasher: protocol version %u, we speak %u",
			    a->hello.version, PROTO_VERSION);
			return -1;
		}
		c->state = HC_S_KEYS;
		return send_internal(c, PROTO_PUBKEYS, true);
	}
	/* PUBKEYS */
	if (type == PROTO_R_ERROR) {
		log_error("hasher: refused PUBKEYS: %s", a->err.message);
		return c->state == HC_S_KEYS ? -1 : 0;
	}
	c->keys = a->keys;
	if (c->state == HC_S_KEYS) {
		c->state = HC_S_READY;
		c->was_ready = true;
		clock_now(&c->ready_since);
		log_info("hasher: ready, %zu public key(s)", c->keys.nkeys);
	}
	if (c->p.on_keys != NULL)
		c->p.on_keys(&c->keys, c->p.on_keys_arg);
	return 0;
}

/* One whole frame.  Returns 0, or -1 when the hasher is broken. */
static int
handle_frame(struct hc *c, const struct proto_header *h, const uint8_t *p)
{
	union hc_answer	 a;
	struct hc_req	*r;
	double		 lat;
	int		 rc = 0;

	if ((r = req_find(c, h->id)) == NULL) {
		log_error("hasher: %s for unknown id %u",
		    proto_type_name(h->type), h->id);
		return -1;
	}
	memset(&a, 0, sizeof(a));
	if (answer_decode(r, h, p, &a) == -1) {
		log_error("hasher: malformed or unexpected %s (len %u) for %s "
		    "id %u", proto_type_name(h->type), h->len,
		    proto_type_name(r->type), h->id);
		sodium_memzero(&a, sizeof(a));
		return -1;
	}
	req_remove(c, r);
	lat = clock_ms_since(&r->start) / 1e3;
	if (r->timed_out) {
		log_debug("hasher: late answer to id %u dropped", r->id);
	} else if (r->type == PROTO_HASH || r->type == PROTO_VERIFY) {
		c->st.hash_count++;
		c->st.hash_latency_sum += lat;
	} else if (r->type == PROTO_SIGN) {
		c->st.sign_count++;
		c->st.sign_latency_sum += lat;
	}
	if (!req_is_user(r))
		rc = answer_internal(c, r, h->type, &a);
	else if (!r->timed_out)
		req_fire(r, h->type == PROTO_R_ERROR ? error_status(&a.err) :
		    HC_OK, &a);
	free(r);
	sodium_memzero(&a, sizeof(a));
	return rc;
}

/* Zeroes the first n bytes of in where they lie, then drains them. */
static void
wipe_drain(struct evbuffer *in, size_t n)
{
	struct evbuffer_iovec	 v[4];
	size_t			 done, k;
	int			 i, nv;

	while (n > 0) {
		nv = evbuffer_peek(in, (ev_ssize_t)n, NULL, v, 4);
		if (nv > 4)
			nv = 4;
		for (i = 0, done = 0; i < nv && done < n; i++) {
			k = v[i].iov_len < n - done ? v[i].iov_len : n - done;
			sodium_memzero(v[i].iov_base, k);
			done += k;
		}
		if (done == 0)
			break;
		evbuffer_drain(in, done);
		n -= done;
	}
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct hc		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct proto_header	 h;
	uint8_t			 hb[PROTO_HEADER_SIZE];
	size_t			 flen;
	int			 rc;

	while (c->bev == bev) {
		if (evbuffer_get_length(in) < PROTO_HEADER_SIZE)
			return;
		evbuffer_copyout(in, hb, sizeof(hb));
		if (proto_header_decode(hb, &h) == -1) {
			log_error("hasher: malformed frame header");
			hc_teardown(c, "malformed frame from the hasher");
			return;
		}
		flen = PROTO_HEADER_SIZE + (size_t)h.len;
		if (evbuffer_get_length(in) < flen)
			return;
		evbuffer_copyout(in, c->scratch, flen);
		wipe_drain(in, flen);
		rc = handle_frame(c, &h, c->scratch + PROTO_HEADER_SIZE);
		sodium_memzero(c->scratch, flen);
		if (rc == -1) {
			hc_teardown(c, "bad answer from the hasher");
			return;
		}
	}
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct hc *c = arg;

	if (c->bev != bev)
		return;
	if (what & BEV_EVENT_EOF)
		hc_teardown(c, "hasher closed the connection");
	else if (what & BEV_EVENT_ERROR)
		hc_teardown(c, "hasher connection error");
}

/* ---- the child and the connection ---- */

/*
 * waitpid(pid, WNOHANG), logging how the child ended.  Returns pid when it
 * was reaped, 0 when it still runs, -1 when it is not ours (any more).
 */
static pid_t
child_reap(pid_t pid)
{
	int	status = 0;
	pid_t	w;

	w = waitpid(pid, &status, WNOHANG);
	if (w != pid)
		return w;
	if (WIFEXITED(status))
		log_warn("hasher: pid %ld exited with status %d", (long)pid,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warn("hasher: pid %ld killed by signal %d", (long)pid,
		    WTERMSIG(status));
	return w;
}

/* Reaps the children we killed, without blocking. */
static void
reap_killed(struct hc *c)
{
	size_t i = 0;

	while (i < c->nreap) {
		if (child_reap(c->reap[i]) == 0) {
			i++;
			continue;
		}
		c->reap[i] = c->reap[--c->nreap];
	}
}

/* Forgets the spawned child: reaped if it has exited, else killed (a
 * child not yet reaped cannot have had its pid reused) and reaped later. */
static void
child_drop(struct hc *c)
{
	int	status;

	if (c->pid <= 0)
		return;
	if (child_reap(c->pid) == 0) {
		log_debug("hasher: killing pid %ld", (long)c->pid);
		kill(c->pid, SIGKILL);
		if (c->nreap == HC_REAP_MAX) {
			/* Should not happen; do not leak zombies. */
			waitpid(c->pid, &status, 0);
		} else
			c->reap[c->nreap++] = c->pid;
	}
	c->pid = 0;
}

static void
wipe_input(struct hc *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	wipe_drain(in, evbuffer_get_length(in));
}

static void
schedule_restart(struct hc *c)
{
	struct timeval	tv;
	unsigned int	delay;

	if (c->was_ready && clock_ms_since(&c->ready_since) >=
	    (double)c->p.stable_ms)
		c->backoff_ms = c->p.backoff_min_ms;
	c->was_ready = false;
	delay = c->backoff_ms;
	c->backoff_ms = delay >= c->p.backoff_max_ms / 2 ?
	    c->p.backoff_max_ms : delay * 2;
	ms_to_tv(delay, &tv);
	evtimer_add(c->restart_ev, &tv);
	log_info("hasher: restarting in %u ms", delay);
}

/*
 * The hasher is gone or broken: close, kill a spawned child, fail every
 * request in flight with HC_DOWN, and schedule a restart.
 */
static void
hc_teardown(struct hc *c, const char *why)
{
	bool was_up = c->bev != NULL;

	if (c->state == HC_S_IDLE || c->state == HC_S_DOWN)
		return;
	log_warn("hasher: %s", why);
	c->state = HC_S_DOWN;
	if (was_up) {
		wipe_input(c);
		bufferevent_free(c->bev);	/* wipes queued frames */
		c->bev = NULL;
	}
	child_drop(c);
	fail_all(c, HC_DOWN);
	schedule_restart(c);
}

/* Split mode: connects to the hasher's socket and checks its uid. */
static int
connect_split(struct hc *c)
{
	struct sockaddr_un	 sun;
	struct ucred		 cr;
	socklen_t		 crlen = sizeof(cr);
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (str_copy(sun.sun_path, c->p.socket_path, sizeof(sun.sun_path))) {
		log_error("hasher_socket %s: path too long", c->p.socket_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_error("hasher: socket: %s", strerror(errno));
		return -1;
	}
	/* A Unix stream connect completes at once, or fails (EAGAIN when
	 * the listener's backlog is full: retried with back-off). */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("hasher: connect %s: %s", c->p.socket_path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == -1) {
		log_error("hasher: SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (cr.uid != c->p.peer_uid) {
		log_error("hasher: %s is served by uid %ld, expected %ld",
		    c->p.socket_path, (long)cr.uid, (long)c->p.peer_uid);
		close(fd);
		return -1;
	}
	return fd;
}

static void
hc_do_start(struct hc *c)
{
	pid_t	pid = 0;
	int	fd, fl;

	c->st.restarts++;
	reap_killed(c);
	if (c->p.socket_path != NULL && c->p.socket_path[0] != '\0')
		fd = connect_split(c);
	else {
		fd = c->p.spawn != NULL ? c->p.spawn(c->p.spawn_arg, &pid) :
		    hasher_spawn(c->p.hasher_path, c->p.config_path, &pid);
		if (fd == -1)
			log_error("hasher: cannot start %s", c->p.hasher_path);
	}
	if (fd == -1)
		goto fail;
	c->pid = pid;
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    (c->bev = bufferevent_socket_new(c->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_error("hasher: cannot set up the socket");
		close(fd);
		child_drop(c);
		goto fail;
	}
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1)
		goto fail_bev;
	c->state = HC_S_HELLO;
	if (send_internal(c, PROTO_HELLO, true) == -1) {
		c->state = HC_S_DOWN;
		goto fail_bev;
	}
	log_debug("hasher: connected, pid %ld", (long)pid);
	return;

fail_bev:
	bufferevent_free(c->bev);
	c->bev = NULL;
	child_drop(c);
fail:
	c->state = HC_S_DOWN;
	schedule_restart(c);
}

static void
on_restart(evutil_socket_t fd, short what, void *arg)
{
	struct hc *c = arg;

	if (c->state == HC_S_DOWN)
		hc_do_start(c);
}

int
hc_restart(struct hc *c)
{
	if (c->state == HC_S_IDLE)
		return -1;
	if (c->state == HC_S_DOWN)
		return 0;	/* a restart is already on its timer */
	c->was_ready = false;
	c->backoff_ms = c->p.backoff_min_ms;
	hc_teardown(c, "restarting on request");
	return 0;
}

static void
on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct hc	*c = arg;

	reap_killed(c);
	if (c->pid <= 0 || child_reap(c->pid) == 0)
		return;
	c->pid = 0;
	hc_teardown(c, "hasher exited");
}

/* ---- life cycle ---- */

struct hc *
hc_new(struct event_base *base, const struct hc_params *p)
{
	struct hc	*c;
	struct timeval	 tv;
	size_t		 want;

	if (base == NULL || p == NULL || p->queue_max == 0 ||
	    p->timeout_ms == 0 || p->queue_max > 1000000)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base = base;
	c->p = *p;
	if (c->p.sign_queue_max == 0)
		c->p.sign_queue_max = HC_SIGN_QUEUE_DEFAULT;
	if (c->p.backoff_min_ms == 0)
		c->p.backoff_min_ms = HC_BACKOFF_MIN_MS;
	if (c->p.backoff_max_ms < c->p.backoff_min_ms)
		c->p.backoff_max_ms = c->p.backoff_min_ms > HC_BACKOFF_MAX_MS ?
		    c->p.backoff_min_ms : HC_BACKOFF_MAX_MS;
	if (c->p.stable_ms == 0)
		c->p.stable_ms = HC_STABLE_MS;
	c->backoff_ms = c->p.backoff_min_ms;
	c->state = HC_S_IDLE;
	c->next_id = 1;
	TAILQ_INIT(&c->reqs);

	/* Every request lives in the table until answered, so it never holds
	 * more than both bounds and the handshake. */
	want = (size_t)c->p.queue_max + c->p.sign_queue_max + 2;
	for (c->nbuckets = 64; c->nbuckets < want; c->nbuckets <<= 1)
		;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	c->scratch = malloc(PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD);
	ms_to_tv(c->p.timeout_ms, &tv);
	c->tv_req = event_base_init_common_timeout(base, &tv);
	c->restart_ev = evtimer_new(base, on_restart, c);
	if (c->buckets == NULL || c->scratch == NULL || c->tv_req == NULL ||
	    c->restart_ev == NULL) {
		hc_free(c);
		return NULL;
	}
	return c;
}

int
hc_start(struct hc *c)
{
	struct sigaction sa;

	if (c->state != HC_S_IDLE)
		return -1;
	/* A write to a hasher that just died must be an EPIPE for the
	 * bufferevent, not a signal that kills the front. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	if (c->p.reap_sigchld && (c->p.socket_path == NULL ||
	    c->p.socket_path[0] == '\0')) {
		c->sigchld_ev = evsignal_new(c->base, SIGCHLD, on_sigchld, c);
		if (c->sigchld_ev == NULL || evsignal_add(c->sigchld_ev,
		    NULL) == -1)
			return -1;
	}
	c->state = HC_S_DOWN;
	hc_do_start(c);
	return 0;
}

void
hc_free(struct hc *c)
{
	int status, i;

	if (c == NULL)
		return;
	c->state = HC_S_IDLE;
	if (c->bev != NULL) {
		wipe_input(c);
		/* libevent may defer the close to a loop that no longer runs:
		 * shut the socket now so that the hasher sees its EOF. */
		shutdown(bufferevent_getfd(c->bev), SHUT_RDWR);
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (c->pid > 0) {
		/* It exits by itself once its socket is closed; wait up to
		 * HC_EXIT_WAIT_MS for that, then kill it. */
		for (i = 0; i < HC_EXIT_WAIT_MS / 10; i++) {
			if (waitpid(c->pid, &status, WNOHANG) != 0)
				break;
			nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 },
			    NULL);
		}
		/* Once we have dropped privileges the kill may be refused;
		 * the hasher then still exits on its EOF, unwaited. */
		if (i == HC_EXIT_WAIT_MS / 10 && kill(c->pid, SIGKILL) == 0)
			waitpid(c->pid, &status, 0);
		c->pid = 0;
	}
	while (c->nreap > 0)
		waitpid(c->reap[--c->nreap], &status, 0);
	fail_all(c, HC_DOWN);
	if (c->restart_ev != NULL)
		event_free(c->restart_ev);
	if (c->sigchld_ev != NULL)
		event_free(c->sigchld_ev);
	free(c->buckets);
	if (c->scratch != NULL) {
		sodium_memzero(c->scratch, PROTO_HEADER_SIZE +
		    PROTO_MAX_PAYLOAD);
		free(c->scratch);
	}
	free(c);
}
