/*
 * The hasher client's pending table: every request in flight, keyed by
 * id in buckets and in order of age, with its deadline, the queue bounds
 * it counts against, and its callback.  See hc_local.h.
 */
#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "clock.h"
#include "hc_local.h"
#include "log.h"
#include "proto.h"

struct hc_req *
hc_req_find(const struct hc *c, uint32_t id)
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
	} while (hc_req_find(c, id) != NULL);
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

void
hc_req_remove(struct hc *c, struct hc_req *r)
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

void
hc_req_fire(struct hc_req *r, enum hc_status st, const union hc_answer *a)
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
	case PROTO_TOTP_NEW:
		r->cb.totp_new(st, ok ? &a->totp_new : NULL, r->arg);
		break;
	case PROTO_TOTP_CHECK:
		r->cb.totp_check(st, ok ? a->totp_check.match : false,
		    ok ? a->totp_check.step : 0, r->arg);
		break;
	case PROTO_RECOVERY_NEW:
		r->cb.recovery_new(st, ok ? &a->recovery_new : NULL, r->arg);
		break;
	case PROTO_RECOVERY_HASH:
		r->cb.recovery_hash(st, ok ? a->recovery_hash.hash : NULL,
		    r->arg);
		break;
	case PROTO_SIGN_ID:
		r->cb.sign_id(st, ok ? &a->sign_id : NULL, r->arg);
		break;
	case PROTO_JWT_CHECK:
		r->cb.jwt_check(st, ok ? &a->jwt_check : NULL, r->arg);
		break;
	case PROTO_SIGN_ASSERTION:
		r->cb.sign_assertion(st, ok ? &a->sign_assertion : NULL,
		    r->arg);
		break;
	default:
		break;
	}
}

bool
hc_req_is_user(const struct hc_req *r)
{
	switch (r->type) {
	case PROTO_HASH:
	case PROTO_VERIFY:
	case PROTO_SIGN:
	case PROTO_TOTP_NEW:
	case PROTO_TOTP_CHECK:
	case PROTO_RECOVERY_NEW:
	case PROTO_RECOVERY_HASH:
	case PROTO_SIGN_ID:
	case PROTO_JWT_CHECK:
	case PROTO_SIGN_ASSERTION:
		return true;
	}
	return false;
}

void
hc_req_fail_all(struct hc *c, enum hc_status st)
{
	struct hc_req *r;

	while ((r = TAILQ_FIRST(&c->reqs)) != NULL) {
		hc_req_remove(c, r);
		if (hc_req_is_user(r) && !r->detached) {
			c->st.failures++;
			hc_req_fire(r, st, NULL);
		}
		free(r);
	}
}

struct hc_req *
hc_req_new(struct hc *c, uint16_t type, bool internal, enum hc_status *why)
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
	/* Everything but HASH and VERIFY is cheap: a few hashes at most. */
	r->counted_sign = !expensive && type != PROTO_HELLO;
	r->detached = !hc_req_is_user(r);
	return r;
}

static void	req_timeout(evutil_socket_t, short, void *);

int
hc_req_submit(struct hc *c, struct hc_req *r, struct proto_buf *b, int encoded,
    enum hc_status enc_fail, enum hc_status *why)
{
	if (encoded == -1) {
		proto_buf_free(b);
		free(r);
		*why = enc_fail;
		return -1;
	}
	if (hc_frame_send(c, b) == -1) {
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
	if (!hc_req_is_user(r)) {
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
		hc_req_fire(r, HC_TIMEOUT, NULL);
	}
}
