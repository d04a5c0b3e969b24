/*
 * The hasher client's typed calls: each checks its fields against the
 * protocol's bounds, takes a pending entry (hc_queue.c), encodes its
 * frame and submits it.  A request struct that held a password is wiped
 * once encoded, its frame once written (hc_frames.c); the caller wipes
 * its own copy.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fields.h"
#include "hc_local.h"
#include "proto.h"

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
	if ((r = hc_req_new(c, PROTO_HASH, false, why)) == NULL)
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
	if (hc_req_submit(c, r, &b, rc, HC_ERROR, why) == -1)
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
	if ((r = hc_req_new(c, PROTO_VERIFY, false, why)) == NULL)
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
	if (hc_req_submit(c, r, &b, rc, HC_ERROR, why) == -1)
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
	if ((r = hc_req_new(c, PROTO_SIGN, false, why)) == NULL)
		return NULL;
	r->cb.sign = cb;
	r->arg = arg;

	proto_buf_init(&b);
	/* The encoder refuses only a field past its bound (or ENOMEM). */
	rc = proto_encode_sign_req(&b, r->id, req);
	if (hc_req_submit(c, r, &b, rc, HC_INVALID, why) == -1)
		return NULL;
	return r;
}

struct hc_req *
hc_sign_id(struct hc *c, const struct proto_sign_id_req *req,
    hc_sign_id_cb *cb, void *arg, enum hc_status *why)
{
	struct proto_buf	 b;
	struct hc_req		*r;
	enum hc_status		 dummy;
	int			 rc;

	if (why == NULL)
		why = &dummy;
	if (req == NULL || (req->alg != PROTO_ALG_EDDSA &&
	    req->alg != PROTO_ALG_RS256) || req->namr > PROTO_AMR_MAX ||
	    req->nroles > PROTO_ROLES_MAX) {
		*why = HC_INVALID;
		return NULL;
	}
	if ((r = hc_req_new(c, PROTO_SIGN_ID, false, why)) == NULL)
		return NULL;
	r->cb.sign_id = cb;
	r->arg = arg;

	proto_buf_init(&b);
	/* The encoder refuses only a field past its bound (or ENOMEM). */
	rc = proto_encode_sign_id_req(&b, r->id, req);
	if (hc_req_submit(c, r, &b, rc, HC_INVALID, why) == -1)
		return NULL;
	return r;
}

struct hc_req *
hc_sign_assertion(struct hc *c, const struct proto_sign_assertion_req *req,
    hc_sign_assertion_cb *cb, void *arg, enum hc_status *why)
{
	struct proto_buf	 b;
	struct hc_req		*r;
	enum hc_status		 dummy;
	int			 rc;

	if (why == NULL)
		why = &dummy;
	if (req == NULL || (req->alg != PROTO_ALG_EDDSA &&
	    req->alg != PROTO_ALG_RS256) || req->client_id[0] == '\0' ||
	    req->aud[0] == '\0') {
		*why = HC_INVALID;
		return NULL;
	}
	if ((r = hc_req_new(c, PROTO_SIGN_ASSERTION, false, why)) == NULL)
		return NULL;
	r->cb.sign_assertion = cb;
	r->arg = arg;

	proto_buf_init(&b);
	/* The encoder refuses a field past its bound or not printable ASCII
	 * (which the hasher would take for an attack), or ENOMEM. */
	rc = proto_encode_sign_assertion_req(&b, r->id, req);
	if (hc_req_submit(c, r, &b, rc, HC_INVALID, why) == -1)
		return NULL;
	return r;
}

struct hc_req *
hc_jwt_check(struct hc *c, const char *token, hc_jwt_check_cb *cb,
    void *arg, enum hc_status *why)
{
	struct proto_jwt_check_req	*m;
	struct proto_buf		 b;
	struct hc_req			*r;
	enum hc_status			 dummy;
	size_t				 len;
	int				 rc;

	if (why == NULL)
		why = &dummy;
	if (token == NULL ||
	    (len = strnlen(token, PROTO_JWT_MAX + 1)) > PROTO_JWT_MAX) {
		*why = HC_INVALID;
		return NULL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		*why = HC_ERROR;
		return NULL;
	}
	if ((r = hc_req_new(c, PROTO_JWT_CHECK, false, why)) == NULL) {
		free(m);
		return NULL;
	}
	r->cb.jwt_check = cb;
	r->arg = arg;

	memcpy(m->token, token, len);
	proto_buf_init(&b);
	rc = proto_encode_jwt_check_req(&b, r->id, m);
	sodium_memzero(m, sizeof(*m));
	free(m);
	if (hc_req_submit(c, r, &b, rc, HC_ERROR, why) == -1)
		return NULL;
	return r;
}

/* A user id the hasher will take: a uuid. */
static bool
user_ok(const char *user_id)
{
	return user_id != NULL && field_is_uuid(user_id);
}

/* A request of type carrying the user id alone (TOTP_NEW, RECOVERY_NEW). */
static struct hc_req *
user_call(struct hc *c, uint16_t type, const char *user_id, void *arg,
    enum hc_status *why)
{
	struct proto_totp_new_req	 m;	/* same layout as RECOVERY_NEW */
	struct proto_recovery_new_req	 rm;
	struct proto_buf		 b;
	struct hc_req			*r;
	int				 rc;

	if (!user_ok(user_id)) {
		*why = HC_INVALID;
		return NULL;
	}
	if ((r = hc_req_new(c, type, false, why)) == NULL)
		return NULL;
	r->arg = arg;
	proto_buf_init(&b);
	if (type == PROTO_TOTP_NEW) {
		memset(&m, 0, sizeof(m));
		memcpy(m.user_id, user_id, PROTO_UUID_LEN);
		rc = proto_encode_totp_new_req(&b, r->id, &m);
	} else {
		memset(&rm, 0, sizeof(rm));
		memcpy(rm.user_id, user_id, PROTO_UUID_LEN);
		rc = proto_encode_recovery_new_req(&b, r->id, &rm);
	}
	if (hc_req_submit(c, r, &b, rc, HC_ERROR, why) == -1)
		return NULL;
	return r;
}

struct hc_req *
hc_totp_new(struct hc *c, const char *user_id, hc_totp_new_cb *cb, void *arg,
    enum hc_status *why)
{
	struct hc_req	*r;
	enum hc_status	 dummy;

	if (why == NULL)
		why = &dummy;
	if ((r = user_call(c, PROTO_TOTP_NEW, user_id, arg, why)) != NULL)
		r->cb.totp_new = cb;
	return r;
}

struct hc_req *
hc_totp_check(struct hc *c, const char *user_id, const char *sealed,
    const char *code, uint32_t after_step, hc_totp_check_cb *cb, void *arg,
    enum hc_status *why)
{
	struct proto_totp_check_req	 m;
	struct proto_buf		 b;
	struct hc_req			*r;
	enum hc_status			 dummy;
	size_t				 slen, clen;
	int				 rc;

	if (why == NULL)
		why = &dummy;
	if (!user_ok(user_id) || sealed == NULL || code == NULL ||
	    (slen = strnlen(sealed, PROTO_SEALED_MAX + 1)) == 0 ||
	    slen > PROTO_SEALED_MAX ||
	    (clen = strnlen(code, PROTO_TOTP_CODE_LEN + 1)) >
	    PROTO_TOTP_CODE_LEN) {
		*why = HC_INVALID;
		return NULL;
	}
	if ((r = hc_req_new(c, PROTO_TOTP_CHECK, false, why)) == NULL)
		return NULL;
	r->cb.totp_check = cb;
	r->arg = arg;

	memset(&m, 0, sizeof(m));
	memcpy(m.user_id, user_id, PROTO_UUID_LEN);
	memcpy(m.sealed, sealed, slen);
	memcpy(m.code, code, clen);
	m.after_step = after_step;
	proto_buf_init(&b);
	rc = proto_encode_totp_check_req(&b, r->id, &m);
	sodium_memzero(&m, sizeof(m));
	if (hc_req_submit(c, r, &b, rc, HC_ERROR, why) == -1)
		return NULL;
	return r;
}

struct hc_req *
hc_recovery_new(struct hc *c, const char *user_id, hc_recovery_new_cb *cb,
    void *arg, enum hc_status *why)
{
	struct hc_req	*r;
	enum hc_status	 dummy;

	if (why == NULL)
		why = &dummy;
	if ((r = user_call(c, PROTO_RECOVERY_NEW, user_id, arg, why)) != NULL)
		r->cb.recovery_new = cb;
	return r;
}

struct hc_req *
hc_recovery_hash(struct hc *c, const char *user_id, const char *code,
    hc_recovery_hash_cb *cb, void *arg, enum hc_status *why)
{
	struct proto_recovery_hash_req	 m;
	struct proto_buf		 b;
	struct hc_req			*r;
	enum hc_status			 dummy;
	size_t				 clen;
	int				 rc;

	if (why == NULL)
		why = &dummy;
	if (!user_ok(user_id) || code == NULL ||
	    (clen = strnlen(code, PROTO_RECOVERY_INPUT_MAX + 1)) >
	    PROTO_RECOVERY_INPUT_MAX) {
		*why = HC_INVALID;
		return NULL;
	}
	if ((r = hc_req_new(c, PROTO_RECOVERY_HASH, false, why)) == NULL)
		return NULL;
	r->cb.recovery_hash = cb;
	r->arg = arg;

	memset(&m, 0, sizeof(m));
	memcpy(m.user_id, user_id, PROTO_UUID_LEN);
	memcpy(m.code, code, clen);
	proto_buf_init(&b);
	rc = proto_encode_recovery_hash_req(&b, r->id, &m);
	sodium_memzero(&m, sizeof(m));
	if (hc_req_submit(c, r, &b, rc, HC_ERROR, why) == -1)
		return NULL;
	return r;
}

void
hc_cancel(struct hc_req *r)
{
	if (r != NULL)
		r->detached = true;
}

int
hc_call_internal(struct hc *c, uint16_t type, bool internal)
{
	struct proto_buf	 b;
	struct proto_hello	 h;
	struct hc_req		*r;
	enum hc_status		 why;
	int			 rc;

	if ((r = hc_req_new(c, type, internal, &why)) == NULL)
		return -1;
	proto_buf_init(&b);
	if (type == PROTO_HELLO) {
		h.version = PROTO_VERSION;
		rc = proto_encode_hello(&b, r->id, PROTO_HELLO, &h);
	} else
		rc = proto_encode_pubkeys_req(&b, r->id);
	return hc_req_submit(c, r, &b, rc, HC_ERROR, &why);
}

int
hc_refresh_pubkeys(struct hc *c)
{
	if (c->state != HC_S_READY)
		return -1;
	return hc_call_internal(c, PROTO_PUBKEYS, false);
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
