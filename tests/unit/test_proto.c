/*
 * Unit tests of common/proto.c.  Each message case builds its struct and,
 * independently of the encoder, the payload bytes it must encode to,
 * recording where each string, bytes, boolean and count field lies; the
 * malformed-input tests then splice bad fields in at those places.
 *
 * free() is wrapped (tests/unit/wrap.mk) to check that proto_buf wipes a
 * block before giving it back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/sys/endian.h>
#include <cmocka.h>
#include <sodium.h>

#include "proto.h"

/* ---- free() watch ---- */

void	__real_free(void *p);
void	__wrap_free(void *p);

static struct {
	const void	*ptr;		/* the block to check when freed */
	size_t		 len;
	bool		 seen;
	bool		 zero;
} watch;

void
__wrap_free(void *p)
{
	if (p != NULL && p == watch.ptr) {
		const uint8_t *b = p;
		size_t i;

		watch.seen = true;
		watch.zero = true;
		for (i = 0; i < watch.len; i++)
			if (b[i] != 0)
				watch.zero = false;
		watch.ptr = NULL;
	}
	__real_free(p);
}

static void
watch_block(const void *p, size_t len)
{
	watch.ptr = p;
	watch.len = len;
	watch.seen = false;
	watch.zero = false;
}

/* ---- the expected payload, built by hand ---- */

/* T_VSTR: a string of 1 to bound bytes of 0x21..0x7e (SIGN_ASSERTION). */
enum tkind { T_STR, T_VSTR, T_BYTES, T_PK, T_BOOL, T_COUNT };

struct tfield {
	enum tkind	 kind;
	size_t		 off;	/* of the length prefix, the u8 or the count */
	size_t		 bound;	/* string/bytes bound, or the count's */
};

struct tb {
	uint8_t		 buf[PROTO_MAX_PAYLOAD + 64];
	size_t		 len;
	struct tfield	 f[256];
	size_t		 nf;
};

static void
tb_raw(struct tb *t, const void *p, size_t n)
{
	assert_true(t->len + n <= sizeof(t->buf));
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

static void
tb_u32(struct tb *t, uint32_t v)
{
	uint8_t b[4];

	be32enc(b, v);
	tb_raw(t, b, 4);
}

static void
tb_u8(struct tb *t, uint8_t v)
{
	tb_raw(t, &v, 1);
}

static void
tb_mark(struct tb *t, enum tkind kind, size_t bound)
{
	assert_true(t->nf < sizeof(t->f) / sizeof(t->f[0]));
	t->f[t->nf].kind = kind;
	t->f[t->nf].off = t->len;
	t->f[t->nf].bound = bound;
	t->nf++;
}

static void
tb_str(struct tb *t, const char *s, size_t bound)
{
	tb_mark(t, T_STR, bound);
	tb_u32(t, (uint32_t)strlen(s));
	tb_raw(t, s, strlen(s));
}

static void
tb_vstr(struct tb *t, const char *s, size_t bound)
{
	tb_mark(t, T_VSTR, bound);
	tb_u32(t, (uint32_t)strlen(s));
	tb_raw(t, s, strlen(s));
}

static void
tb_bytes(struct tb *t, const void *p, size_t n, size_t bound, enum tkind k)
{
	tb_mark(t, k, bound);
	tb_u32(t, (uint32_t)n);
	tb_raw(t, p, n);
}

static void
tb_bool(struct tb *t, bool v)
{
	tb_mark(t, T_BOOL, 1);
	tb_u8(t, v ? 1 : 0);
}

static void
tb_count(struct tb *t, uint32_t n, size_t bound)
{
	tb_mark(t, T_COUNT, bound);
	tb_u32(t, n);
}

/* Sets a char[] field to n copies of c. */
static void
set_rep(char *dst, char c, size_t n)
{
	memset(dst, c, n);
	dst[n] = '\0';
}

static void
set_str(char *dst, size_t dstlen, const char *s)
{
	assert_true(strlen(s) < dstlen);
	memcpy(dst, s, strlen(s) + 1);
}

#define UUID_A	"0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7b"
#define UUID_B	"9d0e7c6b-5a49-4382-b170-6f5e4d3c2b1a"

/* ---- the message cases ---- */

struct tcase {
	const char	*name;
	uint16_t	 type;
	size_t		 msize;
	int		(*encode)(struct proto_buf *, uint32_t, const void *);
	int		(*decode)(const uint8_t *, size_t, void *);
	void		(*fill)(void *, struct tb *);
};

/* HELLO / R_HELLO */
static int
enc_hello(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_hello(b, id, PROTO_HELLO, m);
}

static int
enc_r_hello(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_hello(b, id, PROTO_R_HELLO, m);
}

static int
dec_hello(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_hello(p, n, m);
}

static void
fill_hello(void *vm, struct tb *t)
{
	struct proto_hello *m = vm;

	m->version = PROTO_VERSION;
	tb_u32(t, PROTO_VERSION);
}

static void
fill_hello_big(void *vm, struct tb *t)
{
	struct proto_hello *m = vm;

	m->version = 0xfeedf00d;
	tb_u32(t, 0xfeedf00d);
}

/* HASH */
static int
enc_hash_req(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_hash_req(b, id, m);
}

static int
dec_hash_req(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_hash_req(p, n, m);
}

static void
fill_hash_req(void *vm, struct tb *t)
{
	struct proto_hash_req *m = vm;
	static const uint8_t pw[] = "correct horse\0battery \xc3\xa9";

	set_str(m->user_id, sizeof(m->user_id), UUID_A);
	m->password_len = sizeof(pw) - 1;
	memcpy(m->password, pw, m->password_len);
	tb_str(t, m->user_id, PROTO_UUID_LEN);
	tb_bytes(t, m->password, m->password_len, PROTO_PASSWORD_MAX, T_BYTES);
}

static void
fill_hash_req_max(void *vm, struct tb *t)
{
	struct proto_hash_req *m = vm;

	set_str(m->user_id, sizeof(m->user_id), UUID_B);
	m->password_len = PROTO_PASSWORD_MAX;
	memset(m->password, 0xa5, PROTO_PASSWORD_MAX);
	tb_str(t, m->user_id, PROTO_UUID_LEN);
	tb_bytes(t, m->password, m->password_len, PROTO_PASSWORD_MAX, T_BYTES);
}

/* R_HASH */
static int
enc_hash_ans(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_hash_ans(b, id, m);
}

static int
dec_hash_ans(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_hash_ans(p, n, m);
}

static void
fill_hash_ans(void *vm, struct tb *t)
{
	struct proto_hash_ans *m = vm;

	set_str(m->stored, sizeof(m->stored),
	    "$warden$v=1$k=k1$bm9uY2UgYW5kIGNpcGhlcnRleHQ");
	tb_str(t, m->stored, PROTO_STORED_MAX);
}

static void
fill_hash_ans_max(void *vm, struct tb *t)
{
	struct proto_hash_ans *m = vm;

	set_rep(m->stored, 's', PROTO_STORED_MAX);
	tb_str(t, m->stored, PROTO_STORED_MAX);
}

/* VERIFY */
static int
enc_verify_req(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_verify_req(b, id, m);
}

static int
dec_verify_req(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_verify_req(p, n, m);
}

static void
fill_verify_req(void *vm, struct tb *t)
{
	struct proto_verify_req *m = vm;

	set_str(m->user_id, sizeof(m->user_id), UUID_A);
	m->password_len = 8;
	memcpy(m->password, "hunter22", 8);
	set_str(m->stored, sizeof(m->stored), "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
	tb_str(t, m->user_id, PROTO_UUID_LEN);
	tb_bytes(t, m->password, m->password_len, PROTO_PASSWORD_MAX, T_BYTES);
	tb_str(t, m->stored, PROTO_STORED_MAX);
}

static void
fill_verify_req_dummy(void *vm, struct tb *t)
{
	struct proto_verify_req *m = vm;

	/* unknown user: empty stored hash, and an empty password too */
	set_str(m->user_id, sizeof(m->user_id), "");
	m->password_len = 0;
	tb_str(t, m->user_id, PROTO_UUID_LEN);
	tb_bytes(t, m->password, 0, PROTO_PASSWORD_MAX, T_BYTES);
	tb_str(t, m->stored, PROTO_STORED_MAX);
}

static void
fill_verify_req_max(void *vm, struct tb *t)
{
	struct proto_verify_req *m = vm;

	set_rep(m->user_id, 'u', PROTO_UUID_LEN);
	m->password_len = PROTO_PASSWORD_MAX;
	memset(m->password, 0, PROTO_PASSWORD_MAX);
	set_rep(m->stored, '$', PROTO_STORED_MAX);
	tb_str(t, m->user_id, PROTO_UUID_LEN);
	tb_bytes(t, m->password, m->password_len, PROTO_PASSWORD_MAX, T_BYTES);
	tb_str(t, m->stored, PROTO_STORED_MAX);
}

/* R_VERIFY */
static int
enc_verify_ans(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_verify_ans(b, id, m);
}

static int
dec_verify_ans(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_verify_ans(p, n, m);
}

static void
fill_verify_ans_yes(void *vm, struct tb *t)
{
	struct proto_verify_ans *m = vm;

	m->match = true;
	set_str(m->rehash, sizeof(m->rehash), "$warden$v=1$k=k2$cmVoYXNo");
	tb_bool(t, true);
	tb_str(t, m->rehash, PROTO_STORED_MAX);
}

static void
fill_verify_ans_no(void *vm, struct tb *t)
{
	struct proto_verify_ans *m = vm;

	m->match = false;
	tb_bool(t, false);
	tb_str(t, m->rehash, PROTO_STORED_MAX);
}

/* SIGN */
static int
enc_sign_req(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_sign_req(b, id, m);
}

static int
dec_sign_req(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_sign_req(p, n, m);
}

static void
fill_sign_req(void *vm, struct tb *t)
{
	struct proto_sign_req *m = vm;
	size_t i;

	set_str(m->sub, sizeof(m->sub), UUID_A);
	set_str(m->username, sizeof(m->username), "alice");
	m->nroles = 2;
	set_str(m->roles[0], sizeof(m->roles[0]), "admin");
	set_str(m->roles[1], sizeof(m->roles[1]), "billing-read");
	m->ver = 7;
	m->ttl = 900;
	m->email_verified = true;
	tb_str(t, m->sub, PROTO_UUID_LEN);
	tb_str(t, m->username, PROTO_USERNAME_MAX);
	tb_count(t, (uint32_t)m->nroles, PROTO_ROLES_MAX);
	for (i = 0; i < m->nroles; i++)
		tb_str(t, m->roles[i], PROTO_ROLE_MAX);
	tb_u32(t, m->ver);
	tb_u32(t, m->ttl);
	tb_bool(t, m->email_verified);
	tb_str(t, m->aud, PROTO_CLIENT_ID_MAX);		/* "": the API's */
	tb_str(t, m->scope, PROTO_SCOPE_MAX);
}

static void
fill_sign_req_none(void *vm, struct tb *t)
{
	struct proto_sign_req *m = vm;

	set_str(m->sub, sizeof(m->sub), UUID_B);
	set_str(m->username, sizeof(m->username), "bob");
	m->nroles = 0;
	m->ver = 0;
	m->ttl = 0xffffffff;
	set_str(m->aud, sizeof(m->aud), "my-client");
	set_str(m->scope, sizeof(m->scope), "openid profile");
	tb_str(t, m->sub, PROTO_UUID_LEN);
	tb_str(t, m->username, PROTO_USERNAME_MAX);
	tb_count(t, 0, PROTO_ROLES_MAX);
	tb_u32(t, m->ver);
	tb_u32(t, m->ttl);
	tb_bool(t, m->email_verified);
	tb_str(t, m->aud, PROTO_CLIENT_ID_MAX);
	tb_str(t, m->scope, PROTO_SCOPE_MAX);
}

static void
fill_sign_req_max(void *vm, struct tb *t)
{
	struct proto_sign_req *m = vm;
	size_t i;

	set_rep(m->sub, 'f', PROTO_UUID_LEN);
	set_rep(m->username, 'n', PROTO_USERNAME_MAX);
	m->nroles = PROTO_ROLES_MAX;
	for (i = 0; i < m->nroles; i++)
		set_rep(m->roles[i], (char)('a' + i % 26), PROTO_ROLE_MAX);
	m->ver = 0xffffffff;
	m->ttl = 1;
	m->email_verified = true;
	set_rep(m->aud, 'c', PROTO_CLIENT_ID_MAX);
	set_rep(m->scope, 's', PROTO_SCOPE_MAX);
	tb_str(t, m->sub, PROTO_UUID_LEN);
	tb_str(t, m->username, PROTO_USERNAME_MAX);
	tb_count(t, (uint32_t)m->nroles, PROTO_ROLES_MAX);
	for (i = 0; i < m->nroles; i++)
		tb_str(t, m->roles[i], PROTO_ROLE_MAX);
	tb_u32(t, m->ver);
	tb_u32(t, m->ttl);
	tb_bool(t, m->email_verified);
	tb_str(t, m->aud, PROTO_CLIENT_ID_MAX);
	tb_str(t, m->scope, PROTO_SCOPE_MAX);
}

/* R_SIGN */
static int
enc_sign_ans(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_sign_ans(b, id, m);
}

static int
dec_sign_ans(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_sign_ans(p, n, m);
}

static void
fill_sign_ans(void *vm, struct tb *t)
{
	struct proto_sign_ans *m = vm;

	set_str(m->jwt, sizeof(m->jwt), "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln");
	set_str(m->jti, sizeof(m->jti), UUID_B);
	m->exp = 1795000000;
	tb_str(t, m->jwt, PROTO_JWT_MAX);
	tb_str(t, m->jti, PROTO_UUID_LEN);
	tb_u32(t, m->exp);
}

static void
fill_sign_ans_max(void *vm, struct tb *t)
{
	struct proto_sign_ans *m = vm;

	set_rep(m->jwt, 'j', PROTO_JWT_MAX);
	set_rep(m->jti, 'i', PROTO_UUID_LEN);
	m->exp = 0xffffffff;
	tb_str(t, m->jwt, PROTO_JWT_MAX);
	tb_str(t, m->jti, PROTO_UUID_LEN);
	tb_u32(t, m->exp);
}

/* PUBKEYS */
static int
enc_pubkeys_req(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_pubkeys_req(b, id);
}

static int
dec_pubkeys_req(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_pubkeys_req(p, n);
}

static void
fill_pubkeys_req(void *vm, struct tb *t)
{
}

/* R_PUBKEYS */
static int
enc_pubkeys_ans(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_pubkeys_ans(b, id, m);
}

static int
dec_pubkeys_ans(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_pubkeys_ans(p, n, m);
}

static void
fill_keys(struct proto_pubkeys_ans *m, struct tb *t, size_t n, size_t kidlen)
{
	size_t i;

	m->nkeys = n;
	tb_count(t, (uint32_t)n, PROTO_KEYS_MAX);
	for (i = 0; i < n; i++) {
		if (kidlen == 0)
			snprintf(m->keys[i].kid, sizeof(m->keys[i].kid),
			    "2026-11-%02zu", i + 1);
		else
			set_rep(m->keys[i].kid, (char)('A' + i), kidlen);
		memset(m->keys[i].pk, (int)(0x10 + i), PROTO_PUBKEY_LEN);
		m->keys[i].pk[0] = 0;	/* bytes may hold NUL */
		m->keys[i].current = (i == n - 1);
		tb_str(t, m->keys[i].kid, PROTO_KID_MAX);
		tb_bytes(t, m->keys[i].pk, PROTO_PUBKEY_LEN, PROTO_PUBKEY_LEN,
		    T_PK);
		tb_bool(t, m->keys[i].current);
	}
}

/* The RSA keys after the Ed25519 ones: n exact, e 1..PROTO_RSA_E_MAX
 * bytes (not marked: an empty e is refused, unlike other bytes). */
static void
fill_rsa(struct proto_pubkeys_ans *m, struct tb *t, size_t n, size_t kidlen,
    size_t elen)
{
	size_t i;

	m->nrsa = n;
	tb_count(t, (uint32_t)n, PROTO_KEYS_MAX);
	for (i = 0; i < n; i++) {
		if (kidlen == 0)
			snprintf(m->rsa[i].kid, sizeof(m->rsa[i].kid),
			    "rsa-%02zu", i + 1);
		else
			set_rep(m->rsa[i].kid, (char)('a' + i), kidlen);
		memset(m->rsa[i].n, (int)(0x80 + i), PROTO_RSA_N_LEN);
		m->rsa[i].n[5] = 0;
		memset(m->rsa[i].e, 0x01, elen);
		m->rsa[i].e_len = elen;
		m->rsa[i].current = (i == 0);
		tb_str(t, m->rsa[i].kid, PROTO_KID_MAX);
		tb_bytes(t, m->rsa[i].n, PROTO_RSA_N_LEN, PROTO_RSA_N_LEN,
		    T_PK);
		tb_u32(t, (uint32_t)elen);
		tb_raw(t, m->rsa[i].e, elen);
		tb_bool(t, m->rsa[i].current);
	}
}

static void
fill_pubkeys_ans(void *vm, struct tb *t)
{
	fill_keys(vm, t, 2, 0);
	fill_rsa(vm, t, 2, 0, 3);
}

static void
fill_pubkeys_ans_none(void *vm, struct tb *t)
{
	fill_keys(vm, t, 0, 0);
	fill_rsa(vm, t, 0, 0, 0);
}

/* A key set from before RSA keys. */
static void
fill_pubkeys_ans_ed_only(void *vm, struct tb *t)
{
	fill_keys(vm, t, 1, 0);
	fill_rsa(vm, t, 0, 0, 0);
}

static void
fill_pubkeys_ans_max(void *vm, struct tb *t)
{
	fill_keys(vm, t, PROTO_KEYS_MAX, PROTO_KID_MAX);
	fill_rsa(vm, t, PROTO_KEYS_MAX, PROTO_KID_MAX, PROTO_RSA_E_MAX);
}

/* SIGN_ID */
static int
enc_sign_id_req(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_sign_id_req(b, id, m);
}

static int
dec_sign_id_req(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_sign_id_req(p, n, m);
}

/* The payload of m, field by field, as proto.c must write it. */
static void
tb_sign_id(struct tb *t, const struct proto_sign_id_req *m)
{
	size_t i;

	tb_u8(t, m->alg);
	tb_str(t, m->sub, PROTO_UUID_LEN);
	tb_str(t, m->aud, PROTO_CLIENT_ID_MAX);
	tb_str(t, m->nonce, PROTO_NONCE_MAX);
	tb_u32(t, m->auth_time);
	tb_count(t, (uint32_t)m->namr, PROTO_AMR_MAX);
	for (i = 0; i < m->namr; i++)
		tb_str(t, m->amr[i], PROTO_AMR_LEN);
	tb_str(t, m->acr, PROTO_ACR_MAX);
	tb_u32(t, m->ttl);
	tb_str(t, m->sid, PROTO_SID_MAX);
	tb_str(t, m->preferred_username, PROTO_USERNAME_MAX);
	tb_str(t, m->name, PROTO_NAME_MAX);
	tb_str(t, m->email, PROTO_EMAIL_MAX);
	tb_bool(t, m->email_verified);
	tb_bool(t, m->roles_claim);
	tb_count(t, (uint32_t)m->nroles, PROTO_ROLES_MAX);
	for (i = 0; i < m->nroles; i++)
		tb_str(t, m->roles[i], PROTO_ROLE_MAX);
	tb_str(t, m->access_token, PROTO_JWT_MAX);
}

static void
fill_sign_id_req(void *vm, struct tb *t)
{
	struct proto_sign_id_req *m = vm;

	m->alg = PROTO_ALG_RS256;
	set_str(m->sub, sizeof(m->sub), UUID_A);
	set_str(m->aud, sizeof(m->aud), "my-client");
	set_str(m->nonce, sizeof(m->nonce), "n-0S6_WzA2Mj");
	m->auth_time = 1795000000;
	m->namr = 2;
	set_str(m->amr[0], sizeof(m->amr[0]), "pwd");
	set_str(m->amr[1], sizeof(m->amr[1]), "otp");
	set_str(m->acr, sizeof(m->acr), "1");
	m->ttl = 300;
	set_str(m->sid, sizeof(m->sid), "s-1");
	set_str(m->preferred_username, sizeof(m->preferred_username), "alice");
	set_str(m->name, sizeof(m->name), "Alice Example");
	set_str(m->email, sizeof(m->email), "alice@example.org");
	m->email_verified = true;
	m->roles_claim = true;
	m->nroles = 1;
	set_str(m->roles[0], sizeof(m->roles[0]), "admin");
	set_str(m->access_token, sizeof(m->access_token), "aGVhZA.Ym9keQ.c2ln");
	tb_sign_id(t, m);
}

/* Every optional claim left out. */
static void
fill_sign_id_req_min(void *vm, struct tb *t)
{
	struct proto_sign_id_req *m = vm;

	m->alg = PROTO_ALG_EDDSA;
	set_str(m->sub, sizeof(m->sub), UUID_B);
	set_str(m->aud, sizeof(m->aud), "c");
	tb_sign_id(t, m);
}

static void
fill_sign_id_req_max(void *vm, struct tb *t)
{
	struct proto_sign_id_req *m = vm;
	size_t i;

	m->alg = PROTO_ALG_RS256;
	set_rep(m->sub, 'f', PROTO_UUID_LEN);
	set_rep(m->aud, 'c', PROTO_CLIENT_ID_MAX);
	set_rep(m->nonce, 'n', PROTO_NONCE_MAX);
	m->auth_time = 0xffffffff;
	m->namr = PROTO_AMR_MAX;
	for (i = 0; i < m->namr; i++)
		set_rep(m->amr[i], (char)('a' + i), PROTO_AMR_LEN);
	set_rep(m->acr, 'a', PROTO_ACR_MAX);
	m->ttl = 0xffffffff;
	set_rep(m->sid, 's', PROTO_SID_MAX);
	set_rep(m->preferred_username, 'u', PROTO_USERNAME_MAX);
	set_rep(m->name, 'N', PROTO_NAME_MAX);
	set_rep(m->email, 'e', PROTO_EMAIL_MAX);
	m->email_verified = true;
	m->roles_claim = true;
	m->nroles = PROTO_ROLES_MAX;
	for (i = 0; i < m->nroles; i++)
		set_rep(m->roles[i], (char)('a' + i % 26), PROTO_ROLE_MAX);
	set_rep(m->access_token, 't', PROTO_JWT_MAX);
	tb_sign_id(t, m);
}

/* R_SIGN_ID */
static int
enc_sign_id_ans(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_sign_id_ans(b, id, m);
}

static int
dec_sign_id_ans(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_sign_id_ans(p, n, m);
}

static void
fill_sign_id_ans(void *vm, struct tb *t)
{
	struct proto_sign_id_ans *m = vm;

	set_str(m->jwt, sizeof(m->jwt), "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
	m->exp = 1795000300;
	tb_str(t, m->jwt, PROTO_JWT_MAX);
	tb_u32(t, m->exp);
}

/* SIGN_ASSERTION */
static int
enc_sign_assertion_req(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_sign_assertion_req(b, id, m);
}

static int
dec_sign_assertion_req(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_sign_assertion_req(p, n, m);
}

static void
tb_sign_assertion(struct tb *t, const struct proto_sign_assertion_req *m)
{
	tb_u8(t, m->alg);
	tb_vstr(t, m->client_id, PROTO_ASSERTION_CLIENT_MAX);
	tb_vstr(t, m->aud, PROTO_ASSERTION_AUD_MAX);
}

static void
fill_sign_assertion_req(void *vm, struct tb *t)
{
	struct proto_sign_assertion_req *m = vm;

	m->alg = PROTO_ALG_RS256;
	set_str(m->client_id, sizeof(m->client_id), "warden\"@idp");
	set_str(m->aud, sizeof(m->aud), "https://idp.example/oauth2/token");
	tb_sign_assertion(t, m);
}

/* The shortest: one byte each. */
static void
fill_sign_assertion_req_min(void *vm, struct tb *t)
{
	struct proto_sign_assertion_req *m = vm;

	m->alg = PROTO_ALG_EDDSA;
	set_str(m->client_id, sizeof(m->client_id), "~");
	set_str(m->aud, sizeof(m->aud), "!");
	tb_sign_assertion(t, m);
}

static void
fill_sign_assertion_req_max(void *vm, struct tb *t)
{
	struct proto_sign_assertion_req *m = vm;

	m->alg = PROTO_ALG_EDDSA;
	set_rep(m->client_id, 'c', PROTO_ASSERTION_CLIENT_MAX);
	set_rep(m->aud, 'u', PROTO_ASSERTION_AUD_MAX);
	tb_sign_assertion(t, m);
}

/* R_SIGN_ASSERTION */
static int
enc_sign_assertion_ans(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_sign_assertion_ans(b, id, m);
}

static int
dec_sign_assertion_ans(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_sign_assertion_ans(p, n, m);
}

static void
fill_sign_assertion_ans(void *vm, struct tb *t)
{
	struct proto_sign_assertion_ans *m = vm;

	set_str(m->jwt, sizeof(m->jwt), "eyJhbGciOiJFZERTQSJ9.e30.c2ln");
	tb_str(t, m->jwt, PROTO_JWT_MAX);
}

static void
fill_sign_assertion_ans_max(void *vm, struct tb *t)
{
	struct proto_sign_assertion_ans *m = vm;

	set_rep(m->jwt, 'j', PROTO_JWT_MAX);
	tb_str(t, m->jwt, PROTO_JWT_MAX);
}

/* JWT_CHECK */
static int
enc_jwt_check_req(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_jwt_check_req(b, id, m);
}

static int
dec_jwt_check_req(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_jwt_check_req(p, n, m);
}

static void
fill_jwt_check_req(void *vm, struct tb *t)
{
	struct proto_jwt_check_req *m = vm;

	set_str(m->token, sizeof(m->token), "aGVhZA.Ym9keQ.c2ln");
	tb_str(t, m->token, PROTO_JWT_MAX);
}

static void
fill_jwt_check_req_max(void *vm, struct tb *t)
{
	struct proto_jwt_check_req *m = vm;

	set_rep(m->token, 't', PROTO_JWT_MAX);
	tb_str(t, m->token, PROTO_JWT_MAX);
}

/* R_JWT_CHECK */
static int
enc_jwt_check_ans(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_jwt_check_ans(b, id, m);
}

static int
dec_jwt_check_ans(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_jwt_check_ans(p, n, m);
}

static void
fill_jwt_check_ans_yes(void *vm, struct tb *t)
{
	struct proto_jwt_check_ans *m = vm;

	m->valid = true;
	set_str(m->sub, sizeof(m->sub), UUID_A);
	set_str(m->aud, sizeof(m->aud), "my-client");
	set_str(m->sid, sizeof(m->sid), "s-1");
	tb_bool(t, m->valid);
	tb_str(t, m->sub, PROTO_UUID_LEN);
	tb_str(t, m->aud, PROTO_CLIENT_ID_MAX);
	tb_str(t, m->sid, PROTO_SID_MAX);
}

static void
fill_jwt_check_ans_no(void *vm, struct tb *t)
{
	struct proto_jwt_check_ans *m = vm;

	tb_bool(t, m->valid);
	tb_str(t, m->sub, PROTO_UUID_LEN);
	tb_str(t, m->aud, PROTO_CLIENT_ID_MAX);
	tb_str(t, m->sid, PROTO_SID_MAX);
}

/* R_ERROR */
static int
enc_error_ans(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_error_ans(b, id, m);
}

static int
dec_error_ans(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_error_ans(p, n, m);
}

static void
fill_error_ans(void *vm, struct tb *t)
{
	struct proto_error_ans *m = vm;

	m->code = PROTO_ERR_BUSY;
	set_str(m->message, sizeof(m->message), "queue full");
	tb_u32(t, m->code);
	tb_str(t, m->message, PROTO_ERRMSG_MAX);
}

static void
fill_error_ans_max(void *vm, struct tb *t)
{
	struct proto_error_ans *m = vm;

	m->code = 0xffffffff;
	set_rep(m->message, 'e', PROTO_ERRMSG_MAX);
	tb_u32(t, m->code);
	tb_str(t, m->message, PROTO_ERRMSG_MAX);
}

/* TOTP_NEW, RECOVERY_NEW: the user id alone */
static int
enc_totp_new_req(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_totp_new_req(b, id, m);
}

static int
dec_totp_new_req(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_totp_new_req(p, n, m);
}

static void
fill_totp_new_req(void *vm, struct tb *t)
{
	struct proto_totp_new_req *m = vm;

	set_str(m->user_id, sizeof(m->user_id), UUID_A);
	tb_str(t, m->user_id, PROTO_UUID_LEN);
}

static int
enc_recovery_new_req(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_recovery_new_req(b, id, m);
}

static int
dec_recovery_new_req(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_recovery_new_req(p, n, m);
}

static void
fill_recovery_new_req(void *vm, struct tb *t)
{
	struct proto_recovery_new_req *m = vm;

	set_str(m->user_id, sizeof(m->user_id), UUID_B);
	tb_str(t, m->user_id, PROTO_UUID_LEN);
}

/* R_TOTP_NEW */
static int
enc_totp_new_ans(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_totp_new_ans(b, id, m);
}

static int
dec_totp_new_ans(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_totp_new_ans(p, n, m);
}

static void
fill_totp_new_ans(void *vm, struct tb *t)
{
	struct proto_totp_new_ans *m = vm;

	set_str(m->secret, sizeof(m->secret),
	    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	set_str(m->sealed, sizeof(m->sealed),
	    "$wtotp$v=1$k=k1$bm9uY2UgYW5kIGNpcGhlcnRleHQ");
	tb_str(t, m->secret, PROTO_TOTP_SECRET_B32_LEN);
	tb_str(t, m->sealed, PROTO_SEALED_MAX);
}

static void
fill_totp_new_ans_max(void *vm, struct tb *t)
{
	struct proto_totp_new_ans *m = vm;

	set_rep(m->secret, 'A', PROTO_TOTP_SECRET_B32_LEN);
	set_rep(m->sealed, 's', PROTO_SEALED_MAX);
	tb_str(t, m->secret, PROTO_TOTP_SECRET_B32_LEN);
	tb_str(t, m->sealed, PROTO_SEALED_MAX);
}

/* TOTP_CHECK */
static int
enc_totp_check_req(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_totp_check_req(b, id, m);
}

static int
dec_totp_check_req(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_totp_check_req(p, n, m);
}

static void
fill_totp_check_req(void *vm, struct tb *t)
{
	struct proto_totp_check_req *m = vm;

	set_str(m->user_id, sizeof(m->user_id), UUID_A);
	set_str(m->sealed, sizeof(m->sealed), "$wtotp$v=1$k=k1$eA");
	set_str(m->code, sizeof(m->code), "287082");
	m->after_step = 0x01020304;
	tb_str(t, m->user_id, PROTO_UUID_LEN);
	tb_str(t, m->sealed, PROTO_SEALED_MAX);
	tb_str(t, m->code, PROTO_TOTP_CODE_LEN);
	tb_u32(t, m->after_step);
}

static void
fill_totp_check_req_max(void *vm, struct tb *t)
{
	struct proto_totp_check_req *m = vm;

	set_rep(m->user_id, 'u', PROTO_UUID_LEN);
	set_rep(m->sealed, '$', PROTO_SEALED_MAX);
	set_rep(m->code, '9', PROTO_TOTP_CODE_LEN);
	m->after_step = 0xffffffff;
	tb_str(t, m->user_id, PROTO_UUID_LEN);
	tb_str(t, m->sealed, PROTO_SEALED_MAX);
	tb_str(t, m->code, PROTO_TOTP_CODE_LEN);
	tb_u32(t, m->after_step);
}

/* R_TOTP_CHECK */
static int
enc_totp_check_ans(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_totp_check_ans(b, id, m);
}

static int
dec_totp_check_ans(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_totp_check_ans(p, n, m);
}

static void
fill_totp_check_ans_yes(void *vm, struct tb *t)
{
	struct proto_totp_check_ans *m = vm;

	m->match = true;
	m->step = 37037036;
	tb_bool(t, true);
	tb_u32(t, m->step);
}

static void
fill_totp_check_ans_no(void *vm, struct tb *t)
{
	struct proto_totp_check_ans *m = vm;

	tb_bool(t, false);
	tb_u32(t, 0);
	(void)m;
}

/* R_RECOVERY_NEW */
static int
enc_recovery_new_ans(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_recovery_new_ans(b, id, m);
}

static int
dec_recovery_new_ans(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_recovery_new_ans(p, n, m);
}

static void
fill_recovery_new_ans(void *vm, struct tb *t)
{
	struct proto_recovery_new_ans *m = vm;
	size_t i;

	m->n = PROTO_RECOVERY_CODES;
	tb_count(t, (uint32_t)m->n, PROTO_RECOVERY_CODES);
	for (i = 0; i < m->n; i++) {
		snprintf(m->codes[i], sizeof(m->codes[i]), "ABCDEFGH%c%c",
		    (char)('A' + i), (char)('2' + i % 6));
		set_rep(m->hashes[i], (char)('a' + i % 6),
		    PROTO_RECOVERY_HASH_LEN);
		tb_str(t, m->codes[i], PROTO_RECOVERY_CODE_LEN);
		tb_str(t, m->hashes[i], PROTO_RECOVERY_HASH_LEN);
	}
}

static void
fill_recovery_new_ans_one(void *vm, struct tb *t)
{
	struct proto_recovery_new_ans *m = vm;

	m->n = 1;
	tb_count(t, 1, PROTO_RECOVERY_CODES);
	set_str(m->codes[0], sizeof(m->codes[0]), "");
	set_str(m->hashes[0], sizeof(m->hashes[0]), "00");
	tb_str(t, m->codes[0], PROTO_RECOVERY_CODE_LEN);
	tb_str(t, m->hashes[0], PROTO_RECOVERY_HASH_LEN);
}

/* RECOVERY_HASH */
static int
enc_recovery_hash_req(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_recovery_hash_req(b, id, m);
}

static int
dec_recovery_hash_req(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_recovery_hash_req(p, n, m);
}

static void
fill_recovery_hash_req(void *vm, struct tb *t)
{
	struct proto_recovery_hash_req *m = vm;

	set_str(m->user_id, sizeof(m->user_id), UUID_A);
	set_str(m->code, sizeof(m->code), "abcde-fgh23");
	tb_str(t, m->user_id, PROTO_UUID_LEN);
	tb_str(t, m->code, PROTO_RECOVERY_INPUT_MAX);
}

static void
fill_recovery_hash_req_max(void *vm, struct tb *t)
{
	struct proto_recovery_hash_req *m = vm;

	set_rep(m->user_id, 'u', PROTO_UUID_LEN);
	set_rep(m->code, ' ', PROTO_RECOVERY_INPUT_MAX);
	tb_str(t, m->user_id, PROTO_UUID_LEN);
	tb_str(t, m->code, PROTO_RECOVERY_INPUT_MAX);
}

/* R_RECOVERY_HASH */
static int
enc_recovery_hash_ans(struct proto_buf *b, uint32_t id, const void *m)
{
	return proto_encode_recovery_hash_ans(b, id, m);
}

static int
dec_recovery_hash_ans(const uint8_t *p, size_t n, void *m)
{
	return proto_decode_recovery_hash_ans(p, n, m);
}

static void
fill_recovery_hash_ans(void *vm, struct tb *t)
{
	struct proto_recovery_hash_ans *m = vm;

	set_rep(m->hash, 'f', PROTO_RECOVERY_HASH_LEN);
	tb_str(t, m->hash, PROTO_RECOVERY_HASH_LEN);
}

#define CASE(n, t, s, e, d, f) { n, t, s, e, d, f }
static const struct tcase cases[] = {
	CASE("HELLO", PROTO_HELLO, sizeof(struct proto_hello),
	    enc_hello, dec_hello, fill_hello),
	CASE("R_HELLO", PROTO_R_HELLO, sizeof(struct proto_hello),
	    enc_r_hello, dec_hello, fill_hello_big),
	CASE("HASH", PROTO_HASH, sizeof(struct proto_hash_req),
	    enc_hash_req, dec_hash_req, fill_hash_req),
	CASE("HASH max", PROTO_HASH, sizeof(struct proto_hash_req),
	    enc_hash_req, dec_hash_req, fill_hash_req_max),
	CASE("R_HASH", PROTO_R_HASH, sizeof(struct proto_hash_ans),
	    enc_hash_ans, dec_hash_ans, fill_hash_ans),
	CASE("R_HASH max", PROTO_R_HASH, sizeof(struct proto_hash_ans),
	    enc_hash_ans, dec_hash_ans, fill_hash_ans_max),
	CASE("VERIFY", PROTO_VERIFY, sizeof(struct proto_verify_req),
	    enc_verify_req, dec_verify_req, fill_verify_req),
	CASE("VERIFY dummy", PROTO_VERIFY, sizeof(struct proto_verify_req),
	    enc_verify_req, dec_verify_req, fill_verify_req_dummy),
	CASE("VERIFY max", PROTO_VERIFY, sizeof(struct proto_verify_req),
	    enc_verify_req, dec_verify_req, fill_verify_req_max),
	CASE("R_VERIFY yes", PROTO_R_VERIFY, sizeof(struct proto_verify_ans),
	    enc_verify_ans, dec_verify_ans, fill_verify_ans_yes),
	CASE("R_VERIFY no", PROTO_R_VERIFY, sizeof(struct proto_verify_ans),
	    enc_verify_ans, dec_verify_ans, fill_verify_ans_no),
	CASE("SIGN", PROTO_SIGN, sizeof(struct proto_sign_req),
	    enc_sign_req, dec_sign_req, fill_sign_req),
	CASE("SIGN no roles", PROTO_SIGN, sizeof(struct proto_sign_req),
	    enc_sign_req, dec_sign_req, fill_sign_req_none),
	CASE("SIGN max", PROTO_SIGN, sizeof(struct proto_sign_req),
	    enc_sign_req, dec_sign_req, fill_sign_req_max),
	CASE("R_SIGN", PROTO_R_SIGN, sizeof(struct proto_sign_ans),
	    enc_sign_ans, dec_sign_ans, fill_sign_ans),
	CASE("R_SIGN max", PROTO_R_SIGN, sizeof(struct proto_sign_ans),
	    enc_sign_ans, dec_sign_ans, fill_sign_ans_max),
	CASE("PUBKEYS", PROTO_PUBKEYS, 0,
	    enc_pubkeys_req, dec_pubkeys_req, fill_pubkeys_req),
	CASE("R_PUBKEYS", PROTO_R_PUBKEYS, sizeof(struct proto_pubkeys_ans),
	    enc_pubkeys_ans, dec_pubkeys_ans, fill_pubkeys_ans),
	CASE("R_PUBKEYS none", PROTO_R_PUBKEYS, sizeof(struct proto_pubkeys_ans),
	    enc_pubkeys_ans, dec_pubkeys_ans, fill_pubkeys_ans_none),
	CASE("R_PUBKEYS max", PROTO_R_PUBKEYS, sizeof(struct proto_pubkeys_ans),
	    enc_pubkeys_ans, dec_pubkeys_ans, fill_pubkeys_ans_max),
	CASE("R_PUBKEYS ed25519 only", PROTO_R_PUBKEYS,
	    sizeof(struct proto_pubkeys_ans), enc_pubkeys_ans, dec_pubkeys_ans,
	    fill_pubkeys_ans_ed_only),
	CASE("SIGN_ID", PROTO_SIGN_ID, sizeof(struct proto_sign_id_req),
	    enc_sign_id_req, dec_sign_id_req, fill_sign_id_req),
	CASE("SIGN_ID min", PROTO_SIGN_ID, sizeof(struct proto_sign_id_req),
	    enc_sign_id_req, dec_sign_id_req, fill_sign_id_req_min),
	CASE("SIGN_ID max", PROTO_SIGN_ID, sizeof(struct proto_sign_id_req),
	    enc_sign_id_req, dec_sign_id_req, fill_sign_id_req_max),
	CASE("R_SIGN_ID", PROTO_R_SIGN_ID, sizeof(struct proto_sign_id_ans),
	    enc_sign_id_ans, dec_sign_id_ans, fill_sign_id_ans),
	CASE("JWT_CHECK", PROTO_JWT_CHECK, sizeof(struct proto_jwt_check_req),
	    enc_jwt_check_req, dec_jwt_check_req, fill_jwt_check_req),
	CASE("JWT_CHECK max", PROTO_JWT_CHECK,
	    sizeof(struct proto_jwt_check_req), enc_jwt_check_req,
	    dec_jwt_check_req, fill_jwt_check_req_max),
	CASE("R_JWT_CHECK yes", PROTO_R_JWT_CHECK,
	    sizeof(struct proto_jwt_check_ans), enc_jwt_check_ans,
	    dec_jwt_check_ans, fill_jwt_check_ans_yes),
	CASE("R_JWT_CHECK no", PROTO_R_JWT_CHECK,
	    sizeof(struct proto_jwt_check_ans), enc_jwt_check_ans,
	    dec_jwt_check_ans, fill_jwt_check_ans_no),
	CASE("SIGN_ASSERTION", PROTO_SIGN_ASSERTION,
	    sizeof(struct proto_sign_assertion_req), enc_sign_assertion_req,
	    dec_sign_assertion_req, fill_sign_assertion_req),
	CASE("SIGN_ASSERTION min", PROTO_SIGN_ASSERTION,
	    sizeof(struct proto_sign_assertion_req), enc_sign_assertion_req,
	    dec_sign_assertion_req, fill_sign_assertion_req_min),
	CASE("SIGN_ASSERTION max", PROTO_SIGN_ASSERTION,
	    sizeof(struct proto_sign_assertion_req), enc_sign_assertion_req,
	    dec_sign_assertion_req, fill_sign_assertion_req_max),
	CASE("R_SIGN_ASSERTION", PROTO_R_SIGN_ASSERTION,
	    sizeof(struct proto_sign_assertion_ans), enc_sign_assertion_ans,
	    dec_sign_assertion_ans, fill_sign_assertion_ans),
	CASE("R_SIGN_ASSERTION max", PROTO_R_SIGN_ASSERTION,
	    sizeof(struct proto_sign_assertion_ans), enc_sign_assertion_ans,
	    dec_sign_assertion_ans, fill_sign_assertion_ans_max),
	CASE("R_ERROR", PROTO_R_ERROR, sizeof(struct proto_error_ans),
	    enc_error_ans, dec_error_ans, fill_error_ans),
	CASE("R_ERROR max", PROTO_R_ERROR, sizeof(struct proto_error_ans),
	    enc_error_ans, dec_error_ans, fill_error_ans_max),
	CASE("TOTP_NEW", PROTO_TOTP_NEW, sizeof(struct proto_totp_new_req),
	    enc_totp_new_req, dec_totp_new_req, fill_totp_new_req),
	CASE("R_TOTP_NEW", PROTO_R_TOTP_NEW, sizeof(struct proto_totp_new_ans),
	    enc_totp_new_ans, dec_totp_new_ans, fill_totp_new_ans),
	CASE("R_TOTP_NEW max", PROTO_R_TOTP_NEW,
	    sizeof(struct proto_totp_new_ans), enc_totp_new_ans,
	    dec_totp_new_ans, fill_totp_new_ans_max),
	CASE("TOTP_CHECK", PROTO_TOTP_CHECK, sizeof(struct proto_totp_check_req),
	    enc_totp_check_req, dec_totp_check_req, fill_totp_check_req),
	CASE("TOTP_CHECK max", PROTO_TOTP_CHECK,
	    sizeof(struct proto_totp_check_req), enc_totp_check_req,
	    dec_totp_check_req, fill_totp_check_req_max),
	CASE("R_TOTP_CHECK yes", PROTO_R_TOTP_CHECK,
	    sizeof(struct proto_totp_check_ans), enc_totp_check_ans,
	    dec_totp_check_ans, fill_totp_check_ans_yes),
	CASE("R_TOTP_CHECK no", PROTO_R_TOTP_CHECK,
	    sizeof(struct proto_totp_check_ans), enc_totp_check_ans,
	    dec_totp_check_ans, fill_totp_check_ans_no),
	CASE("RECOVERY_NEW", PROTO_RECOVERY_NEW,
	    sizeof(struct proto_recovery_new_req), enc_recovery_new_req,
	    dec_recovery_new_req, fill_recovery_new_req),
	CASE("R_RECOVERY_NEW", PROTO_R_RECOVERY_NEW,
	    sizeof(struct proto_recovery_new_ans), enc_recovery_new_ans,
	    dec_recovery_new_ans, fill_recovery_new_ans),
	CASE("R_RECOVERY_NEW one", PROTO_R_RECOVERY_NEW,
	    sizeof(struct proto_recovery_new_ans), enc_recovery_new_ans,
	    dec_recovery_new_ans, fill_recovery_new_ans_one),
	CASE("RECOVERY_HASH", PROTO_RECOVERY_HASH,
	    sizeof(struct proto_recovery_hash_req), enc_recovery_hash_req,
	    dec_recovery_hash_req, fill_recovery_hash_req),
	CASE("RECOVERY_HASH max", PROTO_RECOVERY_HASH,
	    sizeof(struct proto_recovery_hash_req), enc_recovery_hash_req,
	    dec_recovery_hash_req, fill_recovery_hash_req_max),
	CASE("R_RECOVERY_HASH", PROTO_R_RECOVERY_HASH,
	    sizeof(struct proto_recovery_hash_ans), enc_recovery_hash_ans,
	    dec_recovery_hash_ans, fill_recovery_hash_ans),
};
#define NCASES	(sizeof(cases) / sizeof(cases[0]))

/* Big enough for any message struct. */
union anymsg {
	struct proto_hello		hello;
	struct proto_hash_req		hash_req;
	struct proto_hash_ans		hash_ans;
	struct proto_verify_req		verify_req;
	struct proto_verify_ans		verify_ans;
	struct proto_sign_req		sign_req;
	struct proto_sign_ans		sign_ans;
	struct proto_pubkeys_ans	pubkeys_ans;
	struct proto_sign_id_req	sign_id_req;
	struct proto_sign_id_ans	sign_id_ans;
	struct proto_jwt_check_req	jwt_check_req;
	struct proto_jwt_check_ans	jwt_check_ans;
	struct proto_sign_assertion_req	sign_assertion_req;
	struct proto_sign_assertion_ans	sign_assertion_ans;
	struct proto_error_ans		error_ans;
	struct proto_totp_new_req	totp_new_req;
	struct proto_totp_new_ans	totp_new_ans;
	struct proto_totp_check_req	totp_check_req;
	struct proto_totp_check_ans	totp_check_ans;
	struct proto_recovery_new_req	recovery_new_req;
	struct proto_recovery_new_ans	recovery_new_ans;
	struct proto_recovery_hash_req	recovery_hash_req;
	struct proto_recovery_hash_ans	recovery_hash_ans;
};

static union anymsg msg, got;
static const union anymsg zero;
static struct tb exp_tb, mut;

/* Fills msg and exp_tb for case c. */
static void
setup_case(const struct tcase *c)
{
	memset(&msg, 0, sizeof(msg));
	memset(&exp_tb, 0, sizeof(exp_tb));
	c->fill(&msg, &exp_tb);
}

/* Decodes p; on failure checks that the struct was wiped. */
static int
try_decode(const struct tcase *c, const uint8_t *p, size_t n)
{
	int r;

	memset(&got, 0x5a, sizeof(got));
	r = c->decode(p, n, &got);
	if (r != 0 && c->msize > 0)
		assert_memory_equal(&got, &zero, c->msize);
	return r;
}

/* ---- round trips ---- */

static void
test_round_trip(void **state)
{
	struct proto_buf b, b2;
	struct proto_header h;
	size_t i;

	for (i = 0; i < NCASES; i++) {
		const struct tcase *c = &cases[i];
		uint32_t id = 0x01020304u * (uint32_t)(i + 1);

		setup_case(c);
		proto_buf_init(&b);
		assert_int_equal(c->encode(&b, id, &msg), 0);
		assert_int_equal(b.len, PROTO_HEADER_SIZE + exp_tb.len);

		/* the header, byte by byte, then decoded */
		assert_int_equal(b.data[0], (exp_tb.len >> 24) & 0xff);
		assert_int_equal(b.data[3], exp_tb.len & 0xff);
		assert_int_equal(b.data[4], id >> 24);
		assert_int_equal(b.data[7], id & 0xff);
		assert_int_equal(b.data[8], c->type >> 8);
		assert_int_equal(b.data[9], c->type & 0xff);
		assert_int_equal(b.data[10], 0);
		assert_int_equal(b.data[11], 0);
		assert_int_equal(proto_header_decode(b.data, &h), 0);
		assert_int_equal(h.len, exp_tb.len);
		assert_int_equal(h.id, id);
		assert_int_equal(h.type, c->type);

		/* the payload is the layout this test expects */
		assert_memory_equal(b.data + PROTO_HEADER_SIZE, exp_tb.buf,
		    exp_tb.len);

		/* decode gives back the struct; re-encoding the same bytes */
		assert_int_equal(try_decode(c, b.data + PROTO_HEADER_SIZE,
		    h.len), 0);
		if (c->msize > 0)
			assert_memory_equal(&got, &msg, c->msize);
		proto_buf_init(&b2);
		assert_int_equal(c->encode(&b2, id, &got), 0);
		assert_int_equal(b2.len, b.len);
		assert_memory_equal(b2.data, b.data, b.len);

		proto_buf_free(&b2);
		proto_buf_free(&b);
		assert_null(b.data);
		assert_int_equal(b.len, 0);
		assert_int_equal(b.cap, 0);
	}
}

static void
test_frames_append(void **state)
{
	struct proto_buf b;
	struct proto_header h;
	size_t i, off = 0;

	proto_buf_init(&b);
	for (i = 0; i < NCASES; i++) {
		setup_case(&cases[i]);
		assert_int_equal(cases[i].encode(&b, (uint32_t)i, &msg), 0);
	}
	for (i = 0; i < NCASES; i++) {
		assert_true(off + PROTO_HEADER_SIZE <= b.len);
		assert_int_equal(proto_header_decode(b.data + off, &h), 0);
		assert_int_equal(h.id, i);
		assert_int_equal(h.type, cases[i].type);
		off += PROTO_HEADER_SIZE;
		assert_true(off + h.len <= b.len);
		setup_case(&cases[i]);
		assert_int_equal(try_decode(&cases[i], b.data + off, h.len), 0);
		off += h.len;
	}
	assert_int_equal(off, b.len);
	proto_buf_free(&b);
}

static const struct tcase *case_named(const char *name);

/* ---- malformed payloads ---- */

static void
test_truncated_every_offset(void **state)
{
	size_t i, cut;

	for (i = 0; i < NCASES; i++) {
		const struct tcase *c = &cases[i];

		setup_case(c);
		for (cut = 0; cut < exp_tb.len; cut++) {
			/* a heap copy of exactly cut bytes, so ASan sees an
			 * over-read */
			uint8_t *p = malloc(cut + 1);

			assert_non_null(p);
			memcpy(p, exp_tb.buf, cut);
			assert_int_equal(try_decode(c, p, cut), -1);
			free(p);
		}
		assert_int_equal(try_decode(c, exp_tb.buf, exp_tb.len), 0);
	}
}

static void
test_trailing_garbage(void **state)
{
	size_t i, extra;

	for (i = 0; i < NCASES; i++) {
		const struct tcase *c = &cases[i];

		setup_case(c);
		for (extra = 1; extra <= 5; extra++) {
			memset(exp_tb.buf + exp_tb.len, extra == 1 ? 0 : 0xff,
			    extra);
			assert_int_equal(try_decode(c, exp_tb.buf,
			    exp_tb.len + extra), -1);
		}
	}
}

/*
 * Builds in mut the expected payload with the field f replaced by a
 * length prefix len and data (data_n bytes; NULL for none).
 */
static void
splice(const struct tfield *f, uint32_t len, const void *data, size_t data_n)
{
	uint32_t old = be32dec(exp_tb.buf + f->off);
	size_t end = f->off + 4 + old;

	mut.len = 0;
	tb_raw(&mut, exp_tb.buf, f->off);
	tb_u32(&mut, len);
	if (data_n > 0)
		tb_raw(&mut, data, data_n);
	tb_raw(&mut, exp_tb.buf + end, exp_tb.len - end);
}

/* Checks the string or bytes field f of case c against its bound. */
static void
check_sized_field(const struct tcase *c, const struct tfield *f)
{
	static uint8_t big[PROTO_JWT_MAX + 2];
	size_t b = f->bound;
	int ok_nul = f->kind == T_BYTES ? 0 : -1;

	memset(big, 'a', sizeof(big));
	if (f->kind == T_PK) {
		splice(f, (uint32_t)b, big, b);
		assert_int_equal(try_decode(c, mut.buf, mut.len), 0);
		splice(f, (uint32_t)b - 1, big, b - 1);
		assert_int_equal(try_decode(c, mut.buf, mut.len), -1);
		splice(f, (uint32_t)b + 1, big, b + 1);
		assert_int_equal(try_decode(c, mut.buf, mut.len), -1);
		splice(f, 0, NULL, 0);
		assert_int_equal(try_decode(c, mut.buf, mut.len), -1);
	} else {
		/* at the bound: fine; one past: refused */
		splice(f, (uint32_t)b, big, b);
		assert_int_equal(try_decode(c, mut.buf, mut.len), 0);
		splice(f, (uint32_t)b + 1, big, b + 1);
		assert_int_equal(try_decode(c, mut.buf, mut.len), -1);
		/* empty: fine, but not where visible ASCII is wanted */
		splice(f, 0, NULL, 0);
		assert_int_equal(try_decode(c, mut.buf, mut.len),
		    f->kind == T_VSTR ? -1 : 0);
		/* an embedded, leading or trailing NUL: refused in strings */
		splice(f, 3, "xzy", 3);
		assert_int_equal(try_decode(c, mut.buf, mut.len), 0);
		splice(f, 3, "x\0y", 3);
		assert_int_equal(try_decode(c, mut.buf, mut.len), ok_nul);
		splice(f, 3, "\0xy", 3);
		assert_int_equal(try_decode(c, mut.buf, mut.len), ok_nul);
		splice(f, 3, "xy\0", 3);
		assert_int_equal(try_decode(c, mut.buf, mut.len), ok_nul);
	}
	/* a length prefix past the bound, with too few bytes behind it */
	splice(f, (uint32_t)b + 1, big, 4);
	assert_int_equal(try_decode(c, mut.buf, mut.len), -1);
	splice(f, 0x7fffffff, big, 4);
	assert_int_equal(try_decode(c, mut.buf, mut.len), -1);
	splice(f, 0xffffffff, big, 4);
	assert_int_equal(try_decode(c, mut.buf, mut.len), -1);
	splice(f, 0x80000000, NULL, 0);
	assert_int_equal(try_decode(c, mut.buf, mut.len), -1);
}

static void
check_bool_field(const struct tcase *c, const struct tfield *f)
{
	static const uint8_t bad[] = { 2, 3, 0x7f, 0x80, 0xfe, 0xff };
	size_t i;

	memcpy(&mut, &exp_tb, sizeof(mut));
	for (i = 0; i < sizeof(bad); i++) {
		mut.buf[f->off] = bad[i];
		assert_int_equal(try_decode(c, mut.buf, mut.len), -1);
	}
	mut.buf[f->off] = 0;
	assert_int_equal(try_decode(c, mut.buf, mut.len), 0);
	mut.buf[f->off] = 1;
	assert_int_equal(try_decode(c, mut.buf, mut.len), 0);
}

static void
check_count_field(const struct tcase *c, const struct tfield *f)
{
	static const uint32_t bad[] = { 0x7fffffff, 0x80000000, 0xffffffff };
	uint32_t n = be32dec(exp_tb.buf + f->off);
	size_t i;

	memcpy(&mut, &exp_tb, sizeof(mut));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mut.len = f->off;
		tb_u32(&mut, bad[i]);
		mut.len = exp_tb.len;
		assert_int_equal(try_decode(c, mut.buf, mut.len), -1);
	}
	/* one more than there are (short read), one fewer (left over) */
	mut.len = f->off;
	tb_u32(&mut, n + 1);
	mut.len = exp_tb.len;
	assert_int_equal(try_decode(c, mut.buf, mut.len), -1);
	if (n > 0) {
		mut.len = f->off;
		tb_u32(&mut, n - 1);
		mut.len = exp_tb.len;
		assert_int_equal(try_decode(c, mut.buf, mut.len), -1);
	}
}

static void
test_malformed_fields(void **state)
{
	size_t i, j, checked = 0;

	for (i = 0; i < NCASES; i++) {
		const struct tcase *c = &cases[i];

		setup_case(c);
		for (j = 0; j < exp_tb.nf; j++) {
			const struct tfield *f = &exp_tb.f[j];

			switch (f->kind) {
			case T_STR:
			case T_VSTR:
			case T_BYTES:
			case T_PK:
				check_sized_field(c, f);
				break;
			case T_BOOL:
				check_bool_field(c, f);
				break;
			case T_COUNT:
				check_count_field(c, f);
				break;
			}
			checked++;
		}
	}
	assert_true(checked > 100);
}

static void
test_too_many_roles(void **state)
{
	struct tb *t = &mut;
	union anymsg m;
	char role[PROTO_ROLE_MAX + 1];
	size_t n, i;

	for (n = PROTO_ROLES_MAX; n <= PROTO_ROLES_MAX + 2; n++) {
		memset(t, 0, sizeof(*t));
		tb_str(t, UUID_A, PROTO_UUID_LEN);
		tb_str(t, "alice", PROTO_USERNAME_MAX);
		tb_u32(t, (uint32_t)n);
		for (i = 0; i < n; i++) {
			snprintf(role, sizeof(role), "r%zu", i);
			tb_str(t, role, PROTO_ROLE_MAX);
		}
		tb_u32(t, 1);
		tb_u32(t, 60);
		tb_bool(t, false);
		tb_str(t, "", PROTO_CLIENT_ID_MAX);
		tb_str(t, "", PROTO_SCOPE_MAX);
		assert_int_equal(proto_decode_sign_req(t->buf, t->len,
		    &m.sign_req), n <= PROTO_ROLES_MAX ? 0 : -1);
	}
	assert_memory_equal(&m.sign_req, &zero, sizeof(m.sign_req));

	/* and the encoder will not write them */
	(void)case_named("SIGN max");
	msg.sign_req.nroles = PROTO_ROLES_MAX + 1;
	{
		struct proto_buf b;

		proto_buf_init(&b);
		assert_int_equal(proto_encode_sign_req(&b, 1, &msg.sign_req),
		    -1);
		assert_int_equal(b.len, 0);
		proto_buf_free(&b);
	}
}

static void
test_too_many_keys(void **state)
{
	struct tb *t = &mut;
	union anymsg m;
	uint8_t pk[PROTO_PUBKEY_LEN] = { 0 };
	size_t n, i;

	for (n = PROTO_KEYS_MAX; n <= PROTO_KEYS_MAX + 2; n++) {
		memset(t, 0, sizeof(*t));
		tb_u32(t, (uint32_t)n);
		for (i = 0; i < n; i++) {
			tb_str(t, "k", PROTO_KID_MAX);
			tb_u32(t, PROTO_PUBKEY_LEN);
			tb_raw(t, pk, sizeof(pk));
			tb_u8(t, i == 0);
		}
		tb_u32(t, 0);	/* no RSA keys */
		assert_int_equal(proto_decode_pubkeys_ans(t->buf, t->len,
		    &m.pubkeys_ans), n <= PROTO_KEYS_MAX ? 0 : -1);
	}
	assert_memory_equal(&m.pubkeys_ans, &zero, sizeof(m.pubkeys_ans));
}

/* RSA keys: at most PROTO_KEYS_MAX, e of 1..PROTO_RSA_E_MAX bytes. */
static void
test_rsa_pubkeys_bounds(void **state)
{
	static const uint8_t e[PROTO_RSA_E_MAX + 1] = { 1, 0, 1, 1, 1, 1, 1,
	    1, 1 };
	struct tb *t = &mut;
	union anymsg m;
	uint8_t n[PROTO_RSA_N_LEN];
	size_t k, i, elen;

	memset(n, 0xc5, sizeof(n));
	for (k = PROTO_KEYS_MAX; k <= PROTO_KEYS_MAX + 1; k++) {
		memset(t, 0, sizeof(*t));
		tb_u32(t, 0);
		tb_u32(t, (uint32_t)k);
		for (i = 0; i < k; i++) {
			tb_str(t, "k", PROTO_KID_MAX);
			tb_u32(t, PROTO_RSA_N_LEN);
			tb_raw(t, n, sizeof(n));
			tb_u32(t, 3);
			tb_raw(t, e, 3);
			tb_u8(t, i == 0);
		}
		assert_int_equal(proto_decode_pubkeys_ans(t->buf, t->len,
		    &m.pubkeys_ans), k <= PROTO_KEYS_MAX ? 0 : -1);
	}
	for (elen = 0; elen <= PROTO_RSA_E_MAX + 1; elen++) {
		memset(t, 0, sizeof(*t));
		tb_u32(t, 0);
		tb_u32(t, 1);
		tb_str(t, "k", PROTO_KID_MAX);
		tb_u32(t, PROTO_RSA_N_LEN);
		tb_raw(t, n, sizeof(n));
		tb_u32(t, (uint32_t)elen);
		tb_raw(t, e, elen);
		tb_u8(t, 1);
		assert_int_equal(proto_decode_pubkeys_ans(t->buf, t->len,
		    &m.pubkeys_ans), elen >= 1 && elen <= PROTO_RSA_E_MAX ?
		    0 : -1);
	}
	assert_memory_equal(&m.pubkeys_ans, &zero, sizeof(m.pubkeys_ans));

	/* the encoder refuses what the decoder would */
	{
		struct proto_buf b;

		(void)case_named("R_PUBKEYS");
		proto_buf_init(&b);
		msg.pubkeys_ans.rsa[1].e_len = 0;
		assert_int_equal(proto_encode_pubkeys_ans(&b, 1,
		    &msg.pubkeys_ans), -1);
		msg.pubkeys_ans.rsa[1].e_len = PROTO_RSA_E_MAX + 1;
		assert_int_equal(proto_encode_pubkeys_ans(&b, 1,
		    &msg.pubkeys_ans), -1);
		msg.pubkeys_ans.rsa[1].e_len = 3;
		msg.pubkeys_ans.nrsa = PROTO_KEYS_MAX + 1;
		assert_int_equal(proto_encode_pubkeys_ans(&b, 1,
		    &msg.pubkeys_ans), -1);
		assert_int_equal(b.len, 0);
		proto_buf_free(&b);
	}
}

/* SIGN_ID: an alg outside enum proto_alg and too many amr values are
 * refused by the decoder and the encoder. */
static void
test_sign_id_bounds(void **state)
{
	static const uint8_t bad_alg[] = { 0, 3, 0x7f, 0xff };
	struct proto_buf b;
	union anymsg m;
	size_t i, n;

	(void)case_named("SIGN_ID");
	for (i = 0; i < sizeof(bad_alg); i++) {
		memcpy(&mut, &exp_tb, sizeof(mut));
		mut.buf[0] = bad_alg[i];
		assert_int_equal(proto_decode_sign_id_req(mut.buf, mut.len,
		    &m.sign_id_req), -1);
		assert_memory_equal(&m.sign_id_req, &zero,
		    sizeof(m.sign_id_req));
	}
	mut.buf[0] = PROTO_ALG_EDDSA;
	assert_int_equal(proto_decode_sign_id_req(mut.buf, mut.len,
	    &m.sign_id_req), 0);
	assert_int_equal(m.sign_id_req.alg, PROTO_ALG_EDDSA);

	for (n = PROTO_AMR_MAX; n <= PROTO_AMR_MAX + 1; n++) {
		struct proto_sign_id_req *r = &msg.sign_id_req;

		(void)case_named("SIGN_ID");
		r->namr = n;
		for (i = 0; i < n && i < PROTO_AMR_MAX; i++)
			set_str(r->amr[i], sizeof(r->amr[i]), "pwd");
		memset(&mut, 0, sizeof(mut));
		if (n > PROTO_AMR_MAX) {
			/* by hand: the encoder would refuse it */
			r->namr = PROTO_AMR_MAX;
			tb_sign_id(&mut, r);
			r->namr = n;
		} else
			tb_sign_id(&mut, r);
		if (n > PROTO_AMR_MAX) {
			/* patch the count, append one more value in place */
			struct tb *t = &exp_tb;
			size_t off = 1 + 4 + PROTO_UUID_LEN + 4 +
			    strlen(r->aud) + 4 + strlen(r->nonce) + 4;

			memset(t, 0, sizeof(*t));
			tb_raw(t, mut.buf, off);
			tb_u32(t, (uint32_t)n);
			tb_raw(t, mut.buf + off + 4, PROTO_AMR_MAX * (4 + 3));
			tb_str(t, "otp", PROTO_AMR_LEN);
			tb_raw(t, mut.buf + off + 4 + PROTO_AMR_MAX * 7,
			    mut.len - off - 4 - PROTO_AMR_MAX * 7);
			assert_int_equal(proto_decode_sign_id_req(t->buf,
			    t->len, &m.sign_id_req), -1);
		} else
			assert_int_equal(proto_decode_sign_id_req(mut.buf,
			    mut.len, &m.sign_id_req), 0);
		proto_buf_init(&b);
		assert_int_equal(proto_encode_sign_id_req(&b, 1, r),
		    n <= PROTO_AMR_MAX ? 0 : -1);
		proto_buf_free(&b);
	}

	(void)case_named("SIGN_ID");
	proto_buf_init(&b);
	msg.sign_id_req.alg = 3;
	assert_int_equal(proto_encode_sign_id_req(&b, 1, &msg.sign_id_req), -1);
	msg.sign_id_req.alg = PROTO_ALG_RS256;
	msg.sign_id_req.nroles = PROTO_ROLES_MAX + 1;
	assert_int_equal(proto_encode_sign_id_req(&b, 1, &msg.sign_id_req), -1);
	assert_int_equal(b.len, 0);
	proto_buf_free(&b);
}

/*
 * SIGN_ASSERTION: an alg outside enum proto_alg, an empty client_id or
 * aud, and a byte outside 0x21..0x7e in either are refused by the decoder
 * (the struct wiped) and by the encoder (nothing appended); every byte of
 * that range is taken.
 */
static void
test_sign_assertion_bounds(void **state)
{
	static const uint8_t bad_alg[] = { 0, 3, 0x7f, 0xff };
	static const char bad_byte[] = { ' ', '\t', '\n', '\r', 0x01, 0x1f,
	    0x7f, (char)0x80, (char)0xc3, (char)0xff };
	struct proto_sign_assertion_req *r = &msg.sign_assertion_req;
	const struct tfield *f;
	struct proto_buf b;
	union anymsg m;
	size_t i, k;
	char v[4];
	int ch;

	(void)case_named("SIGN_ASSERTION");
	for (i = 0; i < sizeof(bad_alg); i++) {
		memcpy(&mut, &exp_tb, sizeof(mut));
		mut.buf[0] = bad_alg[i];
		memset(&m, 0x5a, sizeof(m));
		assert_int_equal(proto_decode_sign_assertion_req(mut.buf,
		    mut.len, &m.sign_assertion_req), -1);
		assert_memory_equal(&m.sign_assertion_req, &zero,
		    sizeof(m.sign_assertion_req));
	}
	mut.buf[0] = PROTO_ALG_EDDSA;
	assert_int_equal(proto_decode_sign_assertion_req(mut.buf, mut.len,
	    &m.sign_assertion_req), 0);
	assert_int_equal(m.sign_assertion_req.alg, PROTO_ALG_EDDSA);

	/* fields 0 and 1 of the case: client_id and aud */
	for (k = 0; k < 2; k++) {
		f = &exp_tb.f[k];
		assert_int_equal(f->kind, T_VSTR);
		for (i = 0; i < sizeof(bad_byte); i++) {
			v[0] = 'a';
			v[1] = bad_byte[i];
			v[2] = 'b';
			splice(f, 3, v, 3);
			memset(&m, 0x5a, sizeof(m));
			assert_int_equal(proto_decode_sign_assertion_req(
			    mut.buf, mut.len, &m.sign_assertion_req), -1);
			assert_memory_equal(&m.sign_assertion_req, &zero,
			    sizeof(m.sign_assertion_req));
		}
		for (ch = 0x21; ch <= 0x7e; ch++) {
			v[0] = (char)ch;
			splice(f, 1, v, 1);
			assert_int_equal(proto_decode_sign_assertion_req(
			    mut.buf, mut.len, &m.sign_assertion_req), 0);
		}
		splice(f, 0, NULL, 0);
		assert_int_equal(proto_decode_sign_assertion_req(mut.buf,
		    mut.len, &m.sign_assertion_req), -1);
	}

	proto_buf_init(&b);
	(void)case_named("SIGN_ASSERTION");
	r->alg = 3;
	assert_int_equal(proto_encode_sign_assertion_req(&b, 1, r), -1);
	(void)case_named("SIGN_ASSERTION");
	r->client_id[0] = '\0';
	assert_int_equal(proto_encode_sign_assertion_req(&b, 1, r), -1);
	(void)case_named("SIGN_ASSERTION");
	r->aud[0] = '\0';
	assert_int_equal(proto_encode_sign_assertion_req(&b, 1, r), -1);
	for (i = 0; i < sizeof(bad_byte); i++) {
		(void)case_named("SIGN_ASSERTION");
		r->client_id[2] = bad_byte[i];
		assert_int_equal(proto_encode_sign_assertion_req(&b, 1, r), -1);
		(void)case_named("SIGN_ASSERTION");
		r->aud[5] = bad_byte[i];
		assert_int_equal(proto_encode_sign_assertion_req(&b, 1, r), -1);
	}
	assert_int_equal(b.len, 0);
	proto_buf_free(&b);
}

static void
test_too_many_recovery_codes(void **state)
{
	struct tb *t = &mut;
	union anymsg m;
	size_t n, i;

	for (n = PROTO_RECOVERY_CODES; n <= PROTO_RECOVERY_CODES + 2; n++) {
		memset(t, 0, sizeof(*t));
		tb_u32(t, (uint32_t)n);
		for (i = 0; i < n; i++) {
			tb_str(t, "ABCDEFGHIJ", PROTO_RECOVERY_CODE_LEN);
			tb_str(t, "00", PROTO_RECOVERY_HASH_LEN);
		}
		assert_int_equal(proto_decode_recovery_new_ans(t->buf, t->len,
		    &m.recovery_new_ans), n <= PROTO_RECOVERY_CODES ? 0 : -1);
	}
	assert_memory_equal(&m.recovery_new_ans, &zero,
	    sizeof(m.recovery_new_ans));

	/* and the encoder will not write them */
	{
		struct proto_buf b;

		memset(&m, 0, sizeof(m));
		m.recovery_new_ans.n = PROTO_RECOVERY_CODES + 1;
		proto_buf_init(&b);
		assert_int_equal(proto_encode_recovery_new_ans(&b, 1,
		    &m.recovery_new_ans), -1);
		m.recovery_new_ans.n = SIZE_MAX;
		assert_int_equal(proto_encode_recovery_new_ans(&b, 1,
		    &m.recovery_new_ans), -1);
		assert_int_equal(b.len, 0);
		proto_buf_free(&b);
	}
}

/* The dispatch bounds of the new requests are those of their layouts. */
static void
test_mfa_bounds(void **state)
{
	assert_int_equal(PROTO_TOTP_NEW_MAX, 4 + PROTO_UUID_LEN);
	assert_int_equal(PROTO_TOTP_CHECK_MAX, 4 + PROTO_UUID_LEN + 4 +
	    PROTO_SEALED_MAX + 4 + PROTO_TOTP_CODE_LEN + 4);
	assert_int_equal(PROTO_RECOVERY_HASH_MAX, 4 + PROTO_UUID_LEN + 4 +
	    PROTO_RECOVERY_INPUT_MAX);
	assert_int_equal(PROTO_TOTP_CHECK_MIN, 16);
	assert_int_equal(PROTO_RECOVERY_HASH_MIN, 8);
	(void)case_named("TOTP_CHECK max");
	assert_int_equal(exp_tb.len, PROTO_TOTP_CHECK_MAX);
	(void)case_named("RECOVERY_HASH max");
	assert_int_equal(exp_tb.len, PROTO_RECOVERY_HASH_MAX);
}

static void
test_pubkeys_req_payload(void **state)
{
	const uint8_t one[1] = { 0 };

	assert_int_equal(proto_decode_pubkeys_req(NULL, 0), 0);
	assert_int_equal(proto_decode_pubkeys_req(one, 0), 0);
	assert_int_equal(proto_decode_pubkeys_req(one, 1), -1);
	assert_int_equal(proto_decode_pubkeys_req(exp_tb.buf, 4), -1);
}

/* ---- the header ---- */

static void
mk_header(uint8_t h[PROTO_HEADER_SIZE], uint32_t len, uint32_t id,
    uint16_t type, uint16_t reserved)
{
	be32enc(h, len);
	be32enc(h + 4, id);
	be16enc(h + 8, type);
	be16enc(h + 10, reserved);
}

static void
test_header(void **state)
{
	uint8_t buf[PROTO_HEADER_SIZE], enc[PROTO_HEADER_SIZE];
	struct proto_header h;

	mk_header(buf, 0, 0, 0, 0);
	assert_int_equal(proto_header_decode(buf, &h), 0);
	assert_int_equal(h.len, 0);

	mk_header(buf, PROTO_MAX_PAYLOAD, 0xdeadbeef, PROTO_R_ERROR, 0);
	assert_int_equal(proto_header_decode(buf, &h), 0);
	assert_int_equal(h.len, PROTO_MAX_PAYLOAD);
	assert_int_equal(h.id, 0xdeadbeef);
	assert_int_equal(h.type, PROTO_R_ERROR);
	proto_header_encode(enc, &h);
	assert_memory_equal(enc, buf, sizeof(buf));

	/* the type is not the header decoder's business */
	mk_header(buf, 1, 1, 0xabcd, 0);
	assert_int_equal(proto_header_decode(buf, &h), 0);
	assert_int_equal(h.type, 0xabcd);

	/* lengths past the cap */
	mk_header(buf, PROTO_MAX_PAYLOAD + 1, 1, PROTO_HASH, 0);
	assert_int_equal(proto_header_decode(buf, &h), -1);
	mk_header(buf, PROTO_MAX_PAYLOAD + PROTO_HEADER_SIZE, 1, PROTO_HASH, 0);
	assert_int_equal(proto_header_decode(buf, &h), -1);
	mk_header(buf, 0x80000000, 1, PROTO_HASH, 0);
	assert_int_equal(proto_header_decode(buf, &h), -1);
	mk_header(buf, 0xffffffff, 1, PROTO_HASH, 0);
	assert_int_equal(proto_header_decode(buf, &h), -1);

	/* the reserved field */
	mk_header(buf, 4, 1, PROTO_HELLO, 1);
	assert_int_equal(proto_header_decode(buf, &h), -1);
	mk_header(buf, 4, 1, PROTO_HELLO, 0x0100);
	assert_int_equal(proto_header_decode(buf, &h), -1);
	mk_header(buf, 4, 1, PROTO_HELLO, 0xffff);
	assert_int_equal(proto_header_decode(buf, &h), -1);
}

/* A frame's own header, tampered with. */
static void
test_header_of_frames(void **state)
{
	struct proto_buf b;
	struct proto_header h;
	size_t i;

	for (i = 0; i < NCASES; i++) {
		setup_case(&cases[i]);
		proto_buf_init(&b);
		assert_int_equal(cases[i].encode(&b, 9, &msg), 0);
		b.data[11] = 1;
		assert_int_equal(proto_header_decode(b.data, &h), -1);
		b.data[11] = 0;
		b.data[10] = 0x80;
		assert_int_equal(proto_header_decode(b.data, &h), -1);
		b.data[10] = 0;
		b.data[0] = 0xff;
		assert_int_equal(proto_header_decode(b.data, &h), -1);
		b.data[0] = 0;
		assert_int_equal(proto_header_decode(b.data, &h), 0);
		proto_buf_free(&b);
	}
}

/* ---- encoders refuse fields past their bounds ---- */

/* Encoding must fail and leave b as it was. */
static void
enc_fails(const struct tcase *c, const void *m)
{
	struct proto_buf b;
	uint8_t before[64];
	size_t len;

	proto_buf_init(&b);
	assert_int_equal(enc_hello(&b, 1, &(struct proto_hello){ 1 }), 0);
	len = b.len;
	memcpy(before, b.data, len);
	assert_int_equal(c->encode(&b, 2, m), -1);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, before, len);
	/* what was dropped was wiped */
	assert_true(b.cap >= len);
	{
		size_t i;

		for (i = len; i < b.cap; i++)
			assert_int_equal(b.data[i], 0);
	}
	proto_buf_free(&b);
}

static const struct tcase *
case_named(const char *name)
{
	size_t i;

	for (i = 0; i < NCASES; i++)
		if (strcmp(cases[i].name, name) == 0) {
			setup_case(&cases[i]);
			return &cases[i];
		}
	fail_msg("no case %s", name);
	return NULL;
}

static void
test_encoders_refuse(void **state)
{
	const struct tcase *c;
	struct proto_buf b;

	proto_buf_init(&b);
	assert_int_equal(proto_encode_hello(&b, 1, PROTO_HASH,
	    &(struct proto_hello){ 1 }), -1);
	assert_int_equal(proto_encode_hello(&b, 1, 0,
	    &(struct proto_hello){ 1 }), -1);
	assert_int_equal(b.len, 0);
	proto_buf_free(&b);

	/* strings not NUL-terminated within their arrays */
	c = case_named("HASH");
	memset(msg.hash_req.user_id, 'u', sizeof(msg.hash_req.user_id));
	enc_fails(c, &msg);
	c = case_named("HASH");
	msg.hash_req.password_len = PROTO_PASSWORD_MAX + 1;
	enc_fails(c, &msg);
	c = case_named("HASH");
	msg.hash_req.password_len = SIZE_MAX;
	enc_fails(c, &msg);

	c = case_named("R_HASH");
	memset(msg.hash_ans.stored, 's', sizeof(msg.hash_ans.stored));
	enc_fails(c, &msg);

	c = case_named("VERIFY");
	memset(msg.verify_req.stored, 's', sizeof(msg.verify_req.stored));
	enc_fails(c, &msg);
	c = case_named("VERIFY");
	msg.verify_req.password_len = PROTO_PASSWORD_MAX + 1;
	enc_fails(c, &msg);
	c = case_named("VERIFY");
	memset(msg.verify_req.user_id, 'u', sizeof(msg.verify_req.user_id));
	enc_fails(c, &msg);

	c = case_named("R_VERIFY yes");
	memset(msg.verify_ans.rehash, 'r', sizeof(msg.verify_ans.rehash));
	enc_fails(c, &msg);

	c = case_named("SIGN max");
	memset(msg.sign_req.roles[31], 'r', sizeof(msg.sign_req.roles[31]));
	enc_fails(c, &msg);
	c = case_named("SIGN max");
	memset(msg.sign_req.username, 'n', sizeof(msg.sign_req.username));
	enc_fails(c, &msg);
	c = case_named("SIGN max");
	memset(msg.sign_req.sub, 's', sizeof(msg.sign_req.sub));
	enc_fails(c, &msg);
	c = case_named("SIGN");
	msg.sign_req.nroles = PROTO_ROLES_MAX + 1;
	enc_fails(c, &msg);
	c = case_named("SIGN");
	msg.sign_req.nroles = SIZE_MAX;
	enc_fails(c, &msg);

	c = case_named("R_SIGN max");
	memset(msg.sign_ans.jwt, 'j', sizeof(msg.sign_ans.jwt));
	enc_fails(c, &msg);
	c = case_named("R_SIGN");
	memset(msg.sign_ans.jti, 'j', sizeof(msg.sign_ans.jti));
	enc_fails(c, &msg);

	c = case_named("R_PUBKEYS max");
	memset(msg.pubkeys_ans.keys[15].kid, 'k',
	    sizeof(msg.pubkeys_ans.keys[15].kid));
	enc_fails(c, &msg);
	c = case_named("R_PUBKEYS");
	msg.pubkeys_ans.nkeys = PROTO_KEYS_MAX + 1;
	enc_fails(c, &msg);

	c = case_named("R_ERROR");
	memset(msg.error_ans.message, 'e', sizeof(msg.error_ans.message));
	enc_fails(c, &msg);

	c = case_named("SIGN max");
	memset(msg.sign_req.aud, 'c', sizeof(msg.sign_req.aud));
	enc_fails(c, &msg);
	c = case_named("SIGN max");
	memset(msg.sign_req.scope, 's', sizeof(msg.sign_req.scope));
	enc_fails(c, &msg);
	c = case_named("SIGN_ID max");
	memset(msg.sign_id_req.nonce, 'n', sizeof(msg.sign_id_req.nonce));
	enc_fails(c, &msg);
	c = case_named("SIGN_ID max");
	memset(msg.sign_id_req.aud, 'c', sizeof(msg.sign_id_req.aud));
	enc_fails(c, &msg);
	c = case_named("SIGN_ID max");
	memset(msg.sign_id_req.amr[3], 'a', sizeof(msg.sign_id_req.amr[3]));
	enc_fails(c, &msg);
	c = case_named("SIGN_ID max");
	memset(msg.sign_id_req.name, 'N', sizeof(msg.sign_id_req.name));
	enc_fails(c, &msg);
	c = case_named("SIGN_ID max");
	memset(msg.sign_id_req.access_token, 't',
	    sizeof(msg.sign_id_req.access_token));
	enc_fails(c, &msg);
	c = case_named("SIGN_ID");
	msg.sign_id_req.namr = SIZE_MAX;
	enc_fails(c, &msg);
	c = case_named("JWT_CHECK max");
	memset(msg.jwt_check_req.token, 't', sizeof(msg.jwt_check_req.token));
	enc_fails(c, &msg);
	c = case_named("SIGN_ASSERTION max");
	memset(msg.sign_assertion_req.client_id, 'c',
	    sizeof(msg.sign_assertion_req.client_id));
	enc_fails(c, &msg);
	c = case_named("SIGN_ASSERTION max");
	memset(msg.sign_assertion_req.aud, 'u',
	    sizeof(msg.sign_assertion_req.aud));
	enc_fails(c, &msg);
	c = case_named("R_SIGN_ASSERTION max");
	memset(msg.sign_assertion_ans.jwt, 'j',
	    sizeof(msg.sign_assertion_ans.jwt));
	enc_fails(c, &msg);
	c = case_named("R_JWT_CHECK yes");
	memset(msg.jwt_check_ans.sid, 's', sizeof(msg.jwt_check_ans.sid));
	enc_fails(c, &msg);

	c = case_named("TOTP_NEW");
	memset(msg.totp_new_req.user_id, 'u',
	    sizeof(msg.totp_new_req.user_id));
	enc_fails(c, &msg);
	c = case_named("R_TOTP_NEW");
	memset(msg.totp_new_ans.secret, 'A', sizeof(msg.totp_new_ans.secret));
	enc_fails(c, &msg);
	c = case_named("R_TOTP_NEW");
	memset(msg.totp_new_ans.sealed, 's', sizeof(msg.totp_new_ans.sealed));
	enc_fails(c, &msg);
	c = case_named("TOTP_CHECK");
	memset(msg.totp_check_req.sealed, 's',
	    sizeof(msg.totp_check_req.sealed));
	enc_fails(c, &msg);
	c = case_named("TOTP_CHECK");
	memset(msg.totp_check_req.code, '1', sizeof(msg.totp_check_req.code));
	enc_fails(c, &msg);
	c = case_named("RECOVERY_NEW");
	memset(msg.recovery_new_req.user_id, 'u',
	    sizeof(msg.recovery_new_req.user_id));
	enc_fails(c, &msg);
	c = case_named("R_RECOVERY_NEW");
	memset(msg.recovery_new_ans.codes[9], 'C',
	    sizeof(msg.recovery_new_ans.codes[9]));
	enc_fails(c, &msg);
	c = case_named("R_RECOVERY_NEW");
	memset(msg.recovery_new_ans.hashes[0], 'h',
	    sizeof(msg.recovery_new_ans.hashes[0]));
	enc_fails(c, &msg);
	c = case_named("RECOVERY_HASH");
	memset(msg.recovery_hash_req.code, 'c',
	    sizeof(msg.recovery_hash_req.code));
	enc_fails(c, &msg);
	c = case_named("R_RECOVERY_HASH");
	memset(msg.recovery_hash_ans.hash, 'h',
	    sizeof(msg.recovery_hash_ans.hash));
	enc_fails(c, &msg);
}

/* ---- the buffer ---- */

static void
test_buf_grows_and_wipes(void **state)
{
	struct proto_buf b;
	const struct tcase *c = case_named("VERIFY max");
	size_t frame, n, grew = 0;

	proto_buf_init(&b);
	assert_int_equal(c->encode(&b, 0, &msg), 0);
	frame = b.len;
	for (n = 1; n < 64; n++) {
		const void *old = b.data;
		size_t oldcap = b.cap;

		/* every block given back on growth must be zero */
		watch_block(old, oldcap);
		assert_int_equal(c->encode(&b, (uint32_t)n, &msg), 0);
		if (b.data != old) {
			assert_true(watch.seen);
			assert_true(watch.zero);
			grew++;
		} else
			assert_false(watch.seen);
	}
	watch_block(NULL, 0);
	assert_true(grew >= 3);
	assert_int_equal(b.len, 64 * frame);
	for (n = 0; n < 64; n++) {
		struct proto_header h;

		assert_int_equal(proto_header_decode(b.data + n * frame, &h),
		    0);
		assert_int_equal(h.id, n);
		assert_int_equal(try_decode(c, b.data + n * frame +
		    PROTO_HEADER_SIZE, h.len), 0);
		assert_memory_equal(&got, &msg, c->msize);
	}

	/* reset zeroes and keeps the block */
	{
		const void *old = b.data;
		size_t cap = b.cap, i;

		proto_buf_reset(&b);
		assert_int_equal(b.len, 0);
		assert_int_equal(b.cap, cap);
		assert_ptr_equal(b.data, old);
		for (i = 0; i < cap; i++)
			assert_int_equal(b.data[i], 0);
	}

	/* free zeroes the block (the bytes past len are kept zero) */
	assert_int_equal(c->encode(&b, 1, &msg), 0);
	watch_block(b.data, b.cap);
	proto_buf_free(&b);
	assert_true(watch.seen);
	assert_true(watch.zero);
	assert_null(b.data);
	watch_block(NULL, 0);

	/* init'ed and freed twice is fine; so is a reset of an empty one */
	proto_buf_init(&b);
	proto_buf_reset(&b);
	proto_buf_free(&b);
	proto_buf_free(&b);
}

static void
test_wipe(void **state)
{
	struct proto_verify_req m;
	const union anymsg *zm = &zero;

	memset(&m, 0xee, sizeof(m));
	proto_wipe(&m, sizeof(m));
	assert_memory_equal(&m, &zm->verify_req, sizeof(m));
	proto_wipe(NULL, 0);
}

/* ---- names ---- */

static void
test_type_names(void **state)
{
	static const struct {
		uint16_t	 type;
		const char	*name;
	} names[] = {
		{ PROTO_HELLO, "HELLO" }, { PROTO_HASH, "HASH" },
		{ PROTO_VERIFY, "VERIFY" }, { PROTO_SIGN, "SIGN" },
		{ PROTO_PUBKEYS, "PUBKEYS" }, { PROTO_R_HELLO, "R_HELLO" },
		{ PROTO_R_HASH, "R_HASH" }, { PROTO_R_VERIFY, "R_VERIFY" },
		{ PROTO_R_SIGN, "R_SIGN" }, { PROTO_R_PUBKEYS, "R_PUBKEYS" },
		{ PROTO_R_ERROR, "R_ERROR" },
		{ PROTO_TOTP_NEW, "TOTP_NEW" },
		{ PROTO_TOTP_CHECK, "TOTP_CHECK" },
		{ PROTO_RECOVERY_NEW, "RECOVERY_NEW" },
		{ PROTO_RECOVERY_HASH, "RECOVERY_HASH" },
		{ PROTO_R_TOTP_NEW, "R_TOTP_NEW" },
		{ PROTO_R_TOTP_CHECK, "R_TOTP_CHECK" },
		{ PROTO_R_RECOVERY_NEW, "R_RECOVERY_NEW" },
		{ PROTO_R_RECOVERY_HASH, "R_RECOVERY_HASH" },
		{ PROTO_SIGN_ID, "SIGN_ID" }, { PROTO_R_SIGN_ID, "R_SIGN_ID" },
		{ PROTO_JWT_CHECK, "JWT_CHECK" },
		{ PROTO_R_JWT_CHECK, "R_JWT_CHECK" },
		{ PROTO_SIGN_ASSERTION, "SIGN_ASSERTION" },
		{ PROTO_R_SIGN_ASSERTION, "R_SIGN_ASSERTION" },
	};
	size_t i, known = 0;
	uint32_t t;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_string_equal(proto_type_name(names[i].type),
		    names[i].name);
	/* every case's type has a name, and nothing else does */
	for (i = 0; i < NCASES; i++)
		assert_string_not_equal(proto_type_name(cases[i].type),
		    "unknown");
	for (t = 0; t <= 0xffff; t++)
		if (strcmp(proto_type_name((uint16_t)t), "unknown") != 0)
			known++;
	assert_int_equal(known, sizeof(names) / sizeof(names[0]));
	assert_string_equal(proto_type_name(0), "unknown");
	assert_string_equal(proto_type_name(0x8000), "unknown");
	assert_string_equal(proto_type_name(0xffff), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_frames_append),
		cmocka_unit_test(test_truncated_every_offset),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_malformed_fields),
		cmocka_unit_test(test_too_many_roles),
		cmocka_unit_test(test_too_many_keys),
		cmocka_unit_test(test_rsa_pubkeys_bounds),
		cmocka_unit_test(test_sign_id_bounds),
		cmocka_unit_test(test_sign_assertion_bounds),
		cmocka_unit_test(test_too_many_recovery_codes),
		cmocka_unit_test(test_mfa_bounds),
		cmocka_unit_test(test_pubkeys_req_payload),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_header_of_frames),
		cmocka_unit_test(test_encoders_refuse),
		cmocka_unit_test(test_buf_grows_and_wipes),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_type_names),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
