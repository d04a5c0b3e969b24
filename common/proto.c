/*
 * The wardend <-> warden-hasher frames: a 12-byte header, then fields
 * read and written through typed helpers.  Writers refuse a field past its
 * bound; readers fail on a short read, a field past its bound, a NUL in a
 * string, a u8 boolean other than 0/1, and bytes left over.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/sys/endian.h>
#include <sodium.h>

#include "proto.h"

#define PROTO_BUF_MIN	256

/* ---- the output buffer ---- */

void
proto_buf_init(struct proto_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
proto_buf_reset(struct proto_buf *b)
{
	if (b->data != NULL)
		sodium_memzero(b->data, b->cap);
	b->len = 0;
}

void
proto_buf_free(struct proto_buf *b)
{
	if (b->data != NULL) {
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	proto_buf_init(b);
}

/*
 * Makes room for n more bytes.  Never realloc(): the old block may hold a
 * password, so the copy is made by hand and the old block wiped.
 */
static int
buf_reserve(struct proto_buf *b, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (n > SIZE_MAX - b->len)
		return -1;
	need = b->len + n;
	if (need <= b->cap)
		return 0;
	cap = b->cap < PROTO_BUF_MIN ? PROTO_BUF_MIN : b->cap;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	if ((p = malloc(cap)) == NULL)
		return -1;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len);
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	memset(p + b->len, 0, cap - b->len);
	b->data = p;
	b->cap = cap;
	return 0;
}

/* ---- writers: the frame is built in place, then kept or rolled back ---- */

struct writer {
	struct proto_buf *b;
	size_t		 start;	/* offset of the frame's header */
	int		 err;
};

static void
put_raw(struct writer *w, const void *p, size_t n)
{
	if (w->err)
		return;
	if (w->b->len - w->start - PROTO_HEADER_SIZE + n > PROTO_MAX_PAYLOAD ||
	    buf_reserve(w->b, n) == -1) {
		w->err = 1;
		return;
	}
	if (n > 0)
		memcpy(w->b->data + w->b->len, p, n);
	w->b->len += n;
}

static void
put_u8(struct writer *w, uint8_t v)
{
	put_raw(w, &v, 1);
}

static void
put_u32(struct writer *w, uint32_t v)
{
	uint8_t p[4];

	be32enc(p, v);
	put_raw(w, p, sizeof(p));
}

static void
put_bytes(struct writer *w, const void *p, size_t n, size_t max)
{
	if (n > max) {
		w->err = 1;
		return;
	}
	put_u32(w, (uint32_t)n);
	put_raw(w, p, n);
}

/* s lives in a char[max + 1]: it must be NUL-terminated within it. */
static void
put_str(struct writer *w, const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max) {
		w->err = 1;
		return;
	}
	put_bytes(w, s, n, max);
}

static void
put_bool(struct writer *w, bool v)
{
	put_u8(w, v ? 1 : 0);
}

void
proto_header_encode(uint8_t buf[PROTO_HEADER_SIZE],
    const struct proto_header *h)
{
	be32enc(buf, h->len);
	be32enc(buf + 4, h->id);
	be16enc(buf + 8, h->type);
	be16enc(buf + 10, 0);
}

static void
frame_begin(struct writer *w, struct proto_buf *b, uint32_t id,
    uint16_t type)
{
	struct proto_header h = { .len = 0, .id = id, .type = type };

	w->b = b;
	w->start = b->len;
	w->err = 0;
	if (buf_reserve(b, PROTO_HEADER_SIZE) == -1) {
		w->err = 1;
		return;
	}
	proto_header_encode(b->data + b->len, &h);
	b->len += PROTO_HEADER_SIZE;
}

/* Patches the payload length in, or drops (and wipes) the partial frame. */
static int
frame_end(struct writer *w)
{
	struct proto_buf *b = w->b;

	if (w->err) {
		if (b->len > w->start)
			sodium_memzero(b->data + w->start, b->len - w->start);
		b->len = w->start;
		return -1;
	}
	be32enc(b->data + w->start,
	    (uint32_t)(b->len - w->start - PROTO_HEADER_SIZE));
	return 0;
}

/* ---- readers ---- */

struct reader {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	int		 err;
};

static const uint8_t *
get_raw(struct reader *r, size_t n)
{
	const uint8_t *p;

	if (r->err || n > r->len - r->off) {
		r->err = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint8_t
get_u8(struct reader *r)
{
	const uint8_t *p = get_raw(r, 1);

	return p != NULL ? p[0] : 0;
}

static uint32_t
get_u32(struct reader *r)
{
	const uint8_t *p = get_raw(r, 4);

	return p != NULL ? be32dec(p) : 0;
}

static bool
get_bool(struct reader *r)
{
	uint8_t v = get_u8(r);

	if (v > 1)
		r->err = 1;
	return v == 1;
}

/* Bytes of at most max into dst; the length is checked before any read. */
static void
get_bytes(struct reader *r, uint8_t *dst, size_t *dstlen, size_t max)
{
	uint32_t n = get_u32(r);
	const uint8_t *p;

	*dstlen = 0;
	if (r->err)
		return;
	if (n > max) {
		r->err = 1;
		return;
	}
	if ((p = get_raw(r, n)) == NULL)
		return;
	if (n > 0)
		memcpy(dst, p, n);
	*dstlen = n;
}

/* Bytes of exactly want. */
static void
get_bytes_exact(struct reader *r, uint8_t *dst, size_t want)
{
	size_t n;

	get_bytes(r, dst, &n, want);
	if (!r->err && n != want)
		r->err = 1;
}

/* A string of at most max bytes, no NUL, into a char[max + 1]. */
static void
get_str(struct reader *r, char *dst, size_t max)
{
	size_t n;

	get_bytes(r, (uint8_t *)dst, &n, max);
	if (r->err) {
		dst[0] = '\0';
		return;
	}
	if (memchr(dst, '\0', n) != NULL) {
		r->err = 1;
		dst[0] = '\0';
		return;
	}
	dst[n] = '\0';
}

/* Success only when nothing failed and nothing is left over; else *m is
 * wiped. */
static int
get_end(struct reader *r, void *m, size_t mlen)
{
	if (r->err || r->off != r->len) {
		if (m != NULL)
			sodium_memzero(m, mlen);
		return -1;
	}
	return 0;
}

static void
reader_init(struct reader *r, const uint8_t *p, size_t len, void *m,
    size_t mlen)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = (p == NULL && len != 0);
	if (m != NULL)
		memset(m, 0, mlen);
}

/* ---- the header ---- */

int
proto_header_decode(const uint8_t buf[PROTO_HEADER_SIZE],
    struct proto_header *h)
{
	h->len = be32dec(buf);
	h->id = be32dec(buf + 4);
	h->type = be16dec(buf + 8);
	if (h->len > PROTO_MAX_PAYLOAD || be16dec(buf + 10) != 0) {
		memset(h, 0, sizeof(*h));
		return -1;
	}
	return 0;
}

/* ---- messages ---- */

int
proto_encode_hello(struct proto_buf *b, uint32_t id, uint16_t type,
    const struct proto_hello *m)
{
	struct writer w;

	if (type != PROTO_HELLO && type != PROTO_R_HELLO)
		return -1;
	frame_begin(&w, b, id, type);
	put_u32(&w, m->version);
	return frame_end(&w);
}

int
proto_decode_hello(const uint8_t *p, size_t len, struct proto_hello *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	m->version = get_u32(&r);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_hash_req(struct proto_buf *b, uint32_t id,
    const struct proto_hash_req *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_HASH);
	put_str(&w, m->user_id, PROTO_UUID_LEN);
	put_bytes(&w, m->password, m->password_len, PROTO_PASSWORD_MAX);
	return frame_end(&w);
}

int
proto_decode_hash_req(const uint8_t *p, size_t len, struct proto_hash_req *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	get_str(&r, m->user_id, PROTO_UUID_LEN);
	get_bytes(&r, m->password, &m->password_len, PROTO_PASSWORD_MAX);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_hash_ans(struct proto_buf *b, uint32_t id,
    const struct proto_hash_ans *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_R_HASH);
	put_str(&w, m->stored, PROTO_STORED_MAX);
	return frame_end(&w);
}

int
proto_decode_hash_ans(const uint8_t *p, size_t len, struct proto_hash_ans *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	get_str(&r, m->stored, PROTO_STORED_MAX);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_verify_req(struct proto_buf *b, uint32_t id,
    const struct proto_verify_req *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_VERIFY);
	put_str(&w, m->user_id, PROTO_UUID_LEN);
	put_bytes(&w, m->password, m->password_len, PROTO_PASSWORD_MAX);
	put_str(&w, m->stored, PROTO_STORED_MAX);
	return frame_end(&w);
}

int
proto_decode_verify_req(const uint8_t *p, size_t len,
    struct proto_verify_req *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	get_str(&r, m->user_id, PROTO_UUID_LEN);
	get_bytes(&r, m->password, &m->password_len, PROTO_PASSWORD_MAX);
	get_str(&r, m->stored, PROTO_STORED_MAX);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_verify_ans(struct proto_buf *b, uint32_t id,
    const struct proto_verify_ans *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_R_VERIFY);
	put_bool(&w, m->match);
	put_str(&w, m->rehash, PROTO_STORED_MAX);
	return frame_end(&w);
}

int
proto_decode_verify_ans(const uint8_t *p, size_t len,
    struct proto_verify_ans *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	m->match = get_bool(&r);
	get_str(&r, m->rehash, PROTO_STORED_MAX);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_sign_req(struct proto_buf *b, uint32_t id,
    const struct proto_sign_req *m)
{
	struct writer w;
	size_t i;

	if (m->nroles > PROTO_ROLES_MAX)
		return -1;
	frame_begin(&w, b, id, PROTO_SIGN);
	put_str(&w, m->sub, PROTO_UUID_LEN);
	put_str(&w, m->username, PROTO_USERNAME_MAX);
	put_u32(&w, (uint32_t)m->nroles);
	for (i = 0; i < m->nroles; i++)
		put_str(&w, m->roles[i], PROTO_ROLE_MAX);
	put_u32(&w, m->ver);
	put_u32(&w, m->ttl);
	put_bool(&w, m->email_verified);
	put_str(&w, m->aud, PROTO_CLIENT_ID_MAX);
	put_str(&w, m->scope, PROTO_SCOPE_MAX);
	return frame_end(&w);
}

int
proto_decode_sign_req(const uint8_t *p, size_t len,
    struct proto_sign_req *m)
{
	struct reader r;
	uint32_t n, i;

	reader_init(&r, p, len, m, sizeof(*m));
	get_str(&r, m->sub, PROTO_UUID_LEN);
	get_str(&r, m->username, PROTO_USERNAME_MAX);
	n = get_u32(&r);
	if (n > PROTO_ROLES_MAX)
		r.err = 1;
	for (i = 0; i < n && !r.err; i++)
		get_str(&r, m->roles[i], PROTO_ROLE_MAX);
	m->nroles = n;
	m->ver = get_u32(&r);
	m->ttl = get_u32(&r);
	m->email_verified = get_bool(&r);
	get_str(&r, m->aud, PROTO_CLIENT_ID_MAX);
	get_str(&r, m->scope, PROTO_SCOPE_MAX);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_sign_ans(struct proto_buf *b, uint32_t id,
    const struct proto_sign_ans *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_R_SIGN);
	put_str(&w, m->jwt, PROTO_JWT_MAX);
	put_str(&w, m->jti, PROTO_UUID_LEN);
	put_u32(&w, m->exp);
	return frame_end(&w);
}

int
proto_decode_sign_ans(const uint8_t *p, size_t len,
    struct proto_sign_ans *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	get_str(&r, m->jwt, PROTO_JWT_MAX);
	get_str(&r, m->jti, PROTO_UUID_LEN);
	m->exp = get_u32(&r);
	return get_end(&r, m, sizeof(*m));
}

/*
 * SIGN_ID: u8 alg, sub, aud, nonce, u32 auth_time, u32 namr and its
 * values, acr, u32 ttl, sid, preferred_username, name, email, u8
 * email_verified, u8 roles_claim, u32 nroles and the roles, access_token.
 */
static bool
alg_known(uint8_t alg)
{
	return alg == PROTO_ALG_EDDSA || alg == PROTO_ALG_RS256;
}

int
proto_encode_sign_id_req(struct proto_buf *b, uint32_t id,
    const struct proto_sign_id_req *m)
{
	struct writer w;
	size_t i;

	if (!alg_known(m->alg) || m->namr > PROTO_AMR_MAX ||
	    m->nroles > PROTO_ROLES_MAX)
		return -1;
	frame_begin(&w, b, id, PROTO_SIGN_ID);
	put_u8(&w, m->alg);
	put_str(&w, m->sub, PROTO_UUID_LEN);
	put_str(&w, m->aud, PROTO_CLIENT_ID_MAX);
	put_str(&w, m->nonce, PROTO_NONCE_MAX);
	put_u32(&w, m->auth_time);
	put_u32(&w, (uint32_t)m->namr);
	for (i = 0; i < m->namr; i++)
		put_str(&w, m->amr[i], PROTO_AMR_LEN);
	put_str(&w, m->acr, PROTO_ACR_MAX);
	put_u32(&w, m->ttl);
	put_str(&w, m->sid, PROTO_SID_MAX);
	put_str(&w, m->preferred_username, PROTO_USERNAME_MAX);
	put_str(&w, m->name, PROTO_NAME_MAX);
	put_str(&w, m->email, PROTO_EMAIL_MAX);
	put_bool(&w, m->email_verified);
	put_bool(&w, m->roles_claim);
	put_u32(&w, (uint32_t)m->nroles);
	for (i = 0; i < m->nroles; i++)
		put_str(&w, m->roles[i], PROTO_ROLE_MAX);
	put_str(&w, m->access_token, PROTO_JWT_MAX);
	return frame_end(&w);
}

int
proto_decode_sign_id_req(const uint8_t *p, size_t len,
    struct proto_sign_id_req *m)
{
	struct reader r;
	uint32_t n, i;

	reader_init(&r, p, len, m, sizeof(*m));
	m->alg = get_u8(&r);
	if (!r.err && !alg_known(m->alg))
		r.err = 1;
	get_str(&r, m->sub, PROTO_UUID_LEN);
	get_str(&r, m->aud, PROTO_CLIENT_ID_MAX);
	get_str(&r, m->nonce, PROTO_NONCE_MAX);
	m->auth_time = get_u32(&r);
	n = get_u32(&r);
	if (n > PROTO_AMR_MAX)
		r.err = 1;
	for (i = 0; i < n && !r.err; i++)
		get_str(&r, m->amr[i], PROTO_AMR_LEN);
	m->namr = n;
	get_str(&r, m->acr, PROTO_ACR_MAX);
	m->ttl = get_u32(&r);
	get_str(&r, m->sid, PROTO_SID_MAX);
	get_str(&r, m->preferred_username, PROTO_USERNAME_MAX);
	get_str(&r, m->name, PROTO_NAME_MAX);
	get_str(&r, m->email, PROTO_EMAIL_MAX);
	m->email_verified = get_bool(&r);
	m->roles_claim = get_bool(&r);
	n = get_u32(&r);
	if (n > PROTO_ROLES_MAX)
		r.err = 1;
	for (i = 0; i < n && !r.err; i++)
		get_str(&r, m->roles[i], PROTO_ROLE_MAX);
	m->nroles = n;
	get_str(&r, m->access_token, PROTO_JWT_MAX);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_sign_id_ans(struct proto_buf *b, uint32_t id,
    const struct proto_sign_id_ans *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_R_SIGN_ID);
	put_str(&w, m->jwt, PROTO_JWT_MAX);
	put_u32(&w, m->exp);
	return frame_end(&w);
}

int
proto_decode_sign_id_ans(const uint8_t *p, size_t len,
    struct proto_sign_id_ans *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	get_str(&r, m->jwt, PROTO_JWT_MAX);
	m->exp = get_u32(&r);
	return get_end(&r, m, sizeof(*m));
}

/*
 * SIGN_ASSERTION: u8 alg, client_id, aud; both strings non-empty and
 * printable ASCII, which the encoder checks too, so that the front can
 * never send a frame the hasher would take for an attack.
 */
static bool
printable_nonempty(const char *s, size_t max)
{
	size_t i, n = strnlen(s, max + 1);

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

int
proto_encode_sign_assertion_req(struct proto_buf *b, uint32_t id,
    const struct proto_sign_assertion_req *m)
{
	struct writer w;

	if (!alg_known(m->alg) ||
	    !printable_nonempty(m->client_id, PROTO_ASSERTION_CLIENT_MAX) ||
	    !printable_nonempty(m->aud, PROTO_ASSERTION_AUD_MAX))
		return -1;
	frame_begin(&w, b, id, PROTO_SIGN_ASSERTION);
	put_u8(&w, m->alg);
	put_str(&w, m->client_id, PROTO_ASSERTION_CLIENT_MAX);
	put_str(&w, m->aud, PROTO_ASSERTION_AUD_MAX);
	return frame_end(&w);
}

int
proto_decode_sign_assertion_req(const uint8_t *p, size_t len,
    struct proto_sign_assertion_req *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	m->alg = get_u8(&r);
	if (!r.err && !alg_known(m->alg))
		r.err = 1;
	get_str(&r, m->client_id, PROTO_ASSERTION_CLIENT_MAX);
	if (!r.err && !printable_nonempty(m->client_id,
	    PROTO_ASSERTION_CLIENT_MAX))
		r.err = 1;
	get_str(&r, m->aud, PROTO_ASSERTION_AUD_MAX);
	if (!r.err && !printable_nonempty(m->aud, PROTO_ASSERTION_AUD_MAX))
		r.err = 1;
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_sign_assertion_ans(struct proto_buf *b, uint32_t id,
    const struct proto_sign_assertion_ans *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_R_SIGN_ASSERTION);
	put_str(&w, m->jwt, PROTO_JWT_MAX);
	return frame_end(&w);
}

int
proto_decode_sign_assertion_ans(const uint8_t *p, size_t len,
    struct proto_sign_assertion_ans *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	get_str(&r, m->jwt, PROTO_JWT_MAX);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_jwt_check_req(struct proto_buf *b, uint32_t id,
    const struct proto_jwt_check_req *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_JWT_CHECK);
	put_str(&w, m->token, PROTO_JWT_MAX);
	return frame_end(&w);
}

int
proto_decode_jwt_check_req(const uint8_t *p, size_t len,
    struct proto_jwt_check_req *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	get_str(&r, m->token, PROTO_JWT_MAX);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_jwt_check_ans(struct proto_buf *b, uint32_t id,
    const struct proto_jwt_check_ans *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_R_JWT_CHECK);
	put_bool(&w, m->valid);
	put_str(&w, m->sub, PROTO_UUID_LEN);
	put_str(&w, m->aud, PROTO_CLIENT_ID_MAX);
	put_str(&w, m->sid, PROTO_SID_MAX);
	return frame_end(&w);
}

int
proto_decode_jwt_check_ans(const uint8_t *p, size_t len,
    struct proto_jwt_check_ans *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	m->valid = get_bool(&r);
	get_str(&r, m->sub, PROTO_UUID_LEN);
	get_str(&r, m->aud, PROTO_CLIENT_ID_MAX);
	get_str(&r, m->sid, PROTO_SID_MAX);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_pubkeys_req(struct proto_buf *b, uint32_t id)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_PUBKEYS);
	return frame_end(&w);
}

int
proto_decode_pubkeys_req(const uint8_t *p, size_t len)
{
	struct reader r;

	reader_init(&r, p, len, NULL, 0);
	return get_end(&r, NULL, 0);
}

int
proto_encode_pubkeys_ans(struct proto_buf *b, uint32_t id,
    const struct proto_pubkeys_ans *m)
{
	struct writer w;
	size_t i;

	if (m->nkeys > PROTO_KEYS_MAX || m->nrsa > PROTO_KEYS_MAX)
		return -1;
	for (i = 0; i < m->nrsa; i++)
		if (m->rsa[i].e_len == 0 || m->rsa[i].e_len > PROTO_RSA_E_MAX)
			return -1;
	frame_begin(&w, b, id, PROTO_R_PUBKEYS);
	put_u32(&w, (uint32_t)m->nkeys);
	for (i = 0; i < m->nkeys; i++) {
		put_str(&w, m->keys[i].kid, PROTO_KID_MAX);
		put_bytes(&w, m->keys[i].pk, PROTO_PUBKEY_LEN,
		    PROTO_PUBKEY_LEN);
		put_bool(&w, m->keys[i].current);
	}
	put_u32(&w, (uint32_t)m->nrsa);
	for (i = 0; i < m->nrsa; i++) {
		put_str(&w, m->rsa[i].kid, PROTO_KID_MAX);
		put_bytes(&w, m->rsa[i].n, PROTO_RSA_N_LEN, PROTO_RSA_N_LEN);
		put_bytes(&w, m->rsa[i].e, m->rsa[i].e_len, PROTO_RSA_E_MAX);
		put_bool(&w, m->rsa[i].current);
	}
	return frame_end(&w);
}

int
proto_decode_pubkeys_ans(const uint8_t *p, size_t len,
    struct proto_pubkeys_ans *m)
{
	struct reader r;
	uint32_t n, i;

	reader_init(&r, p, len, m, sizeof(*m));
	n = get_u32(&r);
	if (n > PROTO_KEYS_MAX)
		r.err = 1;
	for (i = 0; i < n && !r.err; i++) {
		get_str(&r, m->keys[i].kid, PROTO_KID_MAX);
		get_bytes_exact(&r, m->keys[i].pk, PROTO_PUBKEY_LEN);
		m->keys[i].current = get_bool(&r);
	}
	m->nkeys = n;
	n = get_u32(&r);
	if (n > PROTO_KEYS_MAX)
		r.err = 1;
	for (i = 0; i < n && !r.err; i++) {
		get_str(&r, m->rsa[i].kid, PROTO_KID_MAX);
		get_bytes_exact(&r, m->rsa[i].n, PROTO_RSA_N_LEN);
		get_bytes(&r, m->rsa[i].e, &m->rsa[i].e_len, PROTO_RSA_E_MAX);
		if (!r.err && m->rsa[i].e_len == 0)
			r.err = 1;
		m->rsa[i].current = get_bool(&r);
	}
	m->nrsa = n;
	return get_end(&r, m, sizeof(*m));
}

/* TOTP_NEW and RECOVERY_NEW: the user id alone. */
static int
encode_user_req(struct proto_buf *b, uint32_t id, uint16_t type,
    const char *user_id)
{
	struct writer w;

	frame_begin(&w, b, id, type);
	put_str(&w, user_id, PROTO_UUID_LEN);
	return frame_end(&w);
}

int
proto_encode_totp_new_req(struct proto_buf *b, uint32_t id,
    const struct proto_totp_new_req *m)
{
	return encode_user_req(b, id, PROTO_TOTP_NEW, m->user_id);
}

int
proto_decode_totp_new_req(const uint8_t *p, size_t len,
    struct proto_totp_new_req *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	get_str(&r, m->user_id, PROTO_UUID_LEN);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_totp_new_ans(struct proto_buf *b, uint32_t id,
    const struct proto_totp_new_ans *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_R_TOTP_NEW);
	put_str(&w, m->secret, PROTO_TOTP_SECRET_B32_LEN);
	put_str(&w, m->sealed, PROTO_SEALED_MAX);
	return frame_end(&w);
}

int
proto_decode_totp_new_ans(const uint8_t *p, size_t len,
    struct proto_totp_new_ans *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	get_str(&r, m->secret, PROTO_TOTP_SECRET_B32_LEN);
	get_str(&r, m->sealed, PROTO_SEALED_MAX);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_totp_check_req(struct proto_buf *b, uint32_t id,
    const struct proto_totp_check_req *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_TOTP_CHECK);
	put_str(&w, m->user_id, PROTO_UUID_LEN);
	put_str(&w, m->sealed, PROTO_SEALED_MAX);
	put_str(&w, m->code, PROTO_TOTP_CODE_LEN);
	put_u32(&w, m->after_step);
	return frame_end(&w);
}

int
proto_decode_totp_check_req(const uint8_t *p, size_t len,
    struct proto_totp_check_req *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	get_str(&r, m->user_id, PROTO_UUID_LEN);
	get_str(&r, m->sealed, PROTO_SEALED_MAX);
	get_str(&r, m->code, PROTO_TOTP_CODE_LEN);
	m->after_step = get_u32(&r);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_totp_check_ans(struct proto_buf *b, uint32_t id,
    const struct proto_totp_check_ans *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_R_TOTP_CHECK);
	put_bool(&w, m->match);
	put_u32(&w, m->step);
	return frame_end(&w);
}

int
proto_decode_totp_check_ans(const uint8_t *p, size_t len,
    struct proto_totp_check_ans *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	m->match = get_bool(&r);
	m->step = get_u32(&r);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_recovery_new_req(struct proto_buf *b, uint32_t id,
    const struct proto_recovery_new_req *m)
{
	return encode_user_req(b, id, PROTO_RECOVERY_NEW, m->user_id);
}

int
proto_decode_recovery_new_req(const uint8_t *p, size_t len,
    struct proto_recovery_new_req *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	get_str(&r, m->user_id, PROTO_UUID_LEN);
	return get_end(&r, m, sizeof(*m));
}

/* u32 n, then n pairs of (code, hash). */
int
proto_encode_recovery_new_ans(struct proto_buf *b, uint32_t id,
    const struct proto_recovery_new_ans *m)
{
	struct writer w;
	size_t i;

	if (m->n > PROTO_RECOVERY_CODES)
		return -1;
	frame_begin(&w, b, id, PROTO_R_RECOVERY_NEW);
	put_u32(&w, (uint32_t)m->n);
	for (i = 0; i < m->n; i++) {
		put_str(&w, m->codes[i], PROTO_RECOVERY_CODE_LEN);
		put_str(&w, m->hashes[i], PROTO_RECOVERY_HASH_LEN);
	}
	return frame_end(&w);
}

int
proto_decode_recovery_new_ans(const uint8_t *p, size_t len,
    struct proto_recovery_new_ans *m)
{
	struct reader r;
	uint32_t n, i;

	reader_init(&r, p, len, m, sizeof(*m));
	n = get_u32(&r);
	if (n > PROTO_RECOVERY_CODES)
		r.err = 1;
	for (i = 0; i < n && !r.err; i++) {
		get_str(&r, m->codes[i], PROTO_RECOVERY_CODE_LEN);
		get_str(&r, m->hashes[i], PROTO_RECOVERY_HASH_LEN);
	}
	m->n = n;
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_recovery_hash_req(struct proto_buf *b, uint32_t id,
    const struct proto_recovery_hash_req *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_RECOVERY_HASH);
	put_str(&w, m->user_id, PROTO_UUID_LEN);
	put_str(&w, m->code, PROTO_RECOVERY_INPUT_MAX);
	return frame_end(&w);
}

int
proto_decode_recovery_hash_req(const uint8_t *p, size_t len,
    struct proto_recovery_hash_req *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	get_str(&r, m->user_id, PROTO_UUID_LEN);
	get_str(&r, m->code, PROTO_RECOVERY_INPUT_MAX);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_recovery_hash_ans(struct proto_buf *b, uint32_t id,
    const struct proto_recovery_hash_ans *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_R_RECOVERY_HASH);
	put_str(&w, m->hash, PROTO_RECOVERY_HASH_LEN);
	return frame_end(&w);
}

int
proto_decode_recovery_hash_ans(const uint8_t *p, size_t len,
    struct proto_recovery_hash_ans *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	get_str(&r, m->hash, PROTO_RECOVERY_HASH_LEN);
	return get_end(&r, m, sizeof(*m));
}

int
proto_encode_error_ans(struct proto_buf *b, uint32_t id,
    const struct proto_error_ans *m)
{
	struct writer w;

	frame_begin(&w, b, id, PROTO_R_ERROR);
	put_u32(&w, m->code);
	put_str(&w, m->message, PROTO_ERRMSG_MAX);
	return frame_end(&w);
}

int
proto_decode_error_ans(const uint8_t *p, size_t len,
    struct proto_error_ans *m)
{
	struct reader r;

	reader_init(&r, p, len, m, sizeof(*m));
	m->code = get_u32(&r);
	get_str(&r, m->message, PROTO_ERRMSG_MAX);
	return get_end(&r, m, sizeof(*m));
}

/* ---- names and wiping ---- */

static const struct {
	uint16_t	 type;
	const char	*name;
} proto_names[] = {
	{ PROTO_HELLO,		"HELLO" },
	{ PROTO_HASH,		"HASH" },
	{ PROTO_VERIFY,		"VERIFY" },
	{ PROTO_SIGN,		"SIGN" },
	{ PROTO_PUBKEYS,	"PUBKEYS" },
	{ PROTO_TOTP_NEW,	"TOTP_NEW" },
	{ PROTO_TOTP_CHECK,	"TOTP_CHECK" },
	{ PROTO_RECOVERY_NEW,	"RECOVERY_NEW" },
	{ PROTO_RECOVERY_HASH,	"RECOVERY_HASH" },
	{ PROTO_SIGN_ID,	"SIGN_ID" },
	{ PROTO_JWT_CHECK,	"JWT_CHECK" },
	{ PROTO_SIGN_ASSERTION,	"SIGN_ASSERTION" },
	{ PROTO_R_HELLO,	"R_HELLO" },
	{ PROTO_R_HASH,		"R_HASH" },
	{ PROTO_R_VERIFY,	"R_VERIFY" },
	{ PROTO_R_SIGN,		"R_SIGN" },
	{ PROTO_R_PUBKEYS,	"R_PUBKEYS" },
	{ PROTO_R_TOTP_NEW,	"R_TOTP_NEW" },
	{ PROTO_R_TOTP_CHECK,	"R_TOTP_CHECK" },
	{ PROTO_R_RECOVERY_NEW,	"R_RECOVERY_NEW" },
	{ PROTO_R_RECOVERY_HASH, "R_RECOVERY_HASH" },
	{ PROTO_R_SIGN_ID,	"R_SIGN_ID" },
	{ PROTO_R_JWT_CHECK,	"R_JWT_CHECK" },
	{ PROTO_R_SIGN_ASSERTION, "R_SIGN_ASSERTION" },
	{ PROTO_R_ERROR,	"R_ERROR" },
};

const char *
proto_type_name(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (proto_names[i].type == type)
			return proto_names[i].name;
	return "unknown";
}

void
proto_wipe(void *m, size_t len)
{
	if (m != NULL && len > 0)
		sodium_memzero(m, len);
}
