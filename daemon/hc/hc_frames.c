/*
 * Frames between the hasher client and the hasher.  Out: each frame is
 * handed to the bufferevent by reference, so libevent never copies a
 * password, and wiped when written or dropped.  In: each whole frame is
 * copied into the client's scratch buffer, the chain bytes it came from
 * are zeroed where they lie (common/evwipe.h, as the HTTP layer does for
 * request bodies), and the answer is decoded, checked and handed to
 * its request.  See hc_local.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <sodium.h>

#include "clock.h"
#include "evwipe.h"
#include "fields.h"
#include "hc_local.h"
#include "log.h"
#include "proto.h"

/* The output evbuffer's reference to a frame is gone: wipe and free it. */
static void
frame_cleanup(const void *data, size_t len, void *extra)
{
	size_t cap = (size_t)(uintptr_t)extra;

	sodium_memzero((void *)(uintptr_t)data, cap > len ? cap : len);
	free((void *)(uintptr_t)data);
}

int
hc_frame_send(struct hc *c, struct proto_buf *b)
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
 * A key set: at least one Ed25519 key, one of them current; RSA keys
 * (none in a set made before them) with at most one current; well-formed
 * kids, unique across both kinds (a JWKS names each key by its kid).
 */
static bool
keys_ok(const struct proto_pubkeys_ans *k)
{
	size_t i, j, ncur = 0, nrcur = 0;

	if (k->nkeys == 0 || k->nkeys > PROTO_KEYS_MAX ||
	    k->nrsa > PROTO_KEYS_MAX)
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
	for (i = 0; i < k->nrsa; i++) {
		if (!field_is_kid(k->rsa[i].kid) ||
		    (k->rsa[i].n[0] & 0x80) == 0 ||	/* not 3072 bits */
		    k->rsa[i].e[0] == 0)		/* a leading zero */
			return false;
		for (j = 0; j < i; j++)
			if (strcmp(k->rsa[i].kid, k->rsa[j].kid) == 0)
				return false;
		for (j = 0; j < k->nkeys; j++)
			if (strcmp(k->rsa[i].kid, k->keys[j].kid) == 0)
				return false;
		if (k->rsa[i].current)
			nrcur++;
	}
	return ncur == 1 && nrcur <= 1;
}

/* Exactly n characters of RFC 4648 base32 (A-Z, 2-7). */
static bool
is_b32(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '2' && s[i] <= '7')))
			return false;
	return s[n] == '\0';
}

/* Exactly PROTO_RECOVERY_HASH_LEN lower-case hex digits. */
static bool
is_hex(const char *s)
{
	size_t i;

	for (i = 0; i < PROTO_RECOVERY_HASH_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[PROTO_RECOVERY_HASH_LEN] == '\0';
}

/* A whole set: every code and hash well-formed, no hash twice. */
static bool
recovery_set_ok(const struct proto_recovery_new_ans *a)
{
	size_t i, j;

	if (a->n != PROTO_RECOVERY_CODES)
		return false;
	for (i = 0; i < a->n; i++) {
		if (!is_b32(a->codes[i], PROTO_RECOVERY_CODE_LEN) ||
		    !is_hex(a->hashes[i]))
			return false;
		for (j = 0; j < i; j++)
			if (strcmp(a->hashes[i], a->hashes[j]) == 0)
				return false;
	}
	return true;
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
	case PROTO_TOTP_NEW:
		if (proto_decode_totp_new_ans(p, h->len, &a->totp_new) == -1)
			return -1;
		return is_b32(a->totp_new.secret, PROTO_TOTP_SECRET_B32_LEN) &&
		    a->totp_new.sealed[0] != '\0' ? 0 : -1;
	case PROTO_TOTP_CHECK:
		if (proto_decode_totp_check_ans(p, h->len,
		    &a->totp_check) == -1)
			return -1;
		/* A step is there exactly when it matched. */
		return a->totp_check.match == (a->totp_check.step != 0) ?
		    0 : -1;
	case PROTO_RECOVERY_NEW:
		if (proto_decode_recovery_new_ans(p, h->len,
		    &a->recovery_new) == -1)
			return -1;
		return recovery_set_ok(&a->recovery_new) ? 0 : -1;
	case PROTO_RECOVERY_HASH:
		if (proto_decode_recovery_hash_ans(p, h->len,
		    &a->recovery_hash) == -1)
			return -1;
		return is_hex(a->recovery_hash.hash) ? 0 : -1;
	case PROTO_SIGN_ID:
		if (proto_decode_sign_id_ans(p, h->len, &a->sign_id) == -1)
			return -1;
		return a->sign_id.jwt[0] == '\0' ? -1 : 0;
	case PROTO_SIGN_ASSERTION:
		if (proto_decode_sign_assertion_ans(p, h->len,
		    &a->sign_assertion) == -1)
			return -1;
		return a->sign_assertion.jwt[0] == '\0' ? -1 : 0;
	case PROTO_JWT_CHECK:
		if (proto_decode_jwt_check_ans(p, h->len, &a->jwt_check) == -1)
			return -1;
		/* Valid exactly when it names a user and a client. */
		if (a->jwt_check.valid)
			return field_is_uuid(a->jwt_check.sub) &&
			    field_is_client_id(a->jwt_check.aud) ? 0 : -1;
		return a->jwt_check.sub[0] == '\0' &&
		    a->jwt_check.aud[0] == '\0' &&
		    a->jwt_check.sid[0] == '\0' ? 0 : -1;
	}
	return -1;
}

/* One whole frame.  Returns 0, or -1 when the hasher is broken. */
static int
handle_frame(struct hc *c, const struct proto_header *h, const uint8_t *p)
{
	union hc_answer	 a;
	struct hc_req	*r;
	double		 lat;
	int		 rc = 0;

	if ((r = hc_req_find(c, h->id)) == NULL) {
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
	hc_req_remove(c, r);
	lat = clock_ms_since(&r->start) / 1e3;
	if (r->timed_out) {
		log_debug("hasher: late answer to id %u dropped", r->id);
	} else if (r->type == PROTO_HASH || r->type == PROTO_VERIFY) {
		c->st.hash_count++;
		c->st.hash_latency_sum += lat;
	} else if (r->type == PROTO_SIGN || r->type == PROTO_SIGN_ID ||
	    r->type == PROTO_SIGN_ASSERTION) {
		c->st.sign_count++;
		c->st.sign_latency_sum += lat;
	}
	if (!hc_req_is_user(r))
		rc = hc_handshake_answer(c, r, h->type, &a);
	else if (!r->timed_out)
		hc_req_fire(r, h->type == PROTO_R_ERROR ? error_status(&a.err) :
		    HC_OK, &a);
	free(r);
	sodium_memzero(&a, sizeof(a));
	return rc;
}

void
hc_frame_on_read(struct bufferevent *bev, void *arg)
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
		evwipe_drain(in, flen);
		rc = handle_frame(c, &h, c->scratch + PROTO_HEADER_SIZE);
		sodium_memzero(c->scratch, flen);
		if (rc == -1) {
			hc_teardown(c, "bad answer from the hasher");
			return;
		}
	}
}

void
hc_frame_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct hc *c = arg;

	if (c->bev != bev)
		return;
	if (what & BEV_EVENT_EOF)
		hc_teardown(c, "hasher closed the connection");
	else if (what & BEV_EVENT_ERROR)
		hc_teardown(c, "hasher connection error");
}

void
hc_frame_wipe_input(struct hc *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	evwipe_drain(in, evbuffer_get_length(in));
}
