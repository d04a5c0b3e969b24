/*
 * libFuzzer target of the OpenID Connect messages of common/proto.c
 * (SIGN_ID, JWT_CHECK, SIGN_ASSERTION and their answers, and R_PUBKEYS
 * with its RSA keys):
 * the first 12 bytes are a frame header, the rest a payload that each of
 * their decoders is run on.  A decoder that accepts must give a struct
 * that encodes back to exactly the same bytes; one that refuses must
 * leave its struct wiped.  An accepted SIGN_ID has a known alg and counts
 * within their bounds; an accepted SIGN_ASSERTION a known alg and a
 * client_id and aud of 1 to their bound bytes of 0x21..0x7e; an accepted
 * R_PUBKEYS has RSA exponents of 1 to PROTO_RSA_E_MAX bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

union anymsg {
	struct proto_sign_id_req	sign_id_req;
	struct proto_sign_id_ans	sign_id_ans;
	struct proto_jwt_check_req	jwt_check_req;
	struct proto_jwt_check_ans	jwt_check_ans;
	struct proto_sign_assertion_req	sign_assertion_req;
	struct proto_sign_assertion_ans	sign_assertion_ans;
	struct proto_pubkeys_ans	pubkeys_ans;
};

static union anymsg m;

/* 1 to max bytes of 0x21..0x7e, then a NUL. */
static int
visible(const char *s, size_t max)
{
	size_t i, n = strnlen(s, max + 1);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static const union anymsg zero;

static void
check_frame(struct proto_buf *b, uint32_t id, uint16_t type,
    const uint8_t *p, size_t len)
{
	struct proto_header h;

	if (b->len != PROTO_HEADER_SIZE + len)
		abort();
	if (proto_header_decode(b->data, &h) != 0)
		abort();
	if (h.id != id || h.type != type || h.len != len)
		abort();
	if (len > 0 && memcmp(b->data + PROTO_HEADER_SIZE, p, len) != 0)
		abort();
	proto_buf_reset(b);
}

#define TRY(dec, enc, field, type) do {					\
	memset(&m, 0xa5, sizeof(m));					\
	if (dec(p, len, &m.field) == 0) {				\
		if (enc(&b, h.id, &m.field) != 0)			\
			abort();					\
		check_frame(&b, h.id, type, p, len);			\
	} else if (memcmp(&m.field, &zero.field, sizeof(m.field)) != 0)	\
		abort();						\
} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_header h;
	struct proto_buf b;
	uint8_t *p;
	size_t len, i;

	if (size < PROTO_HEADER_SIZE ||
	    proto_header_decode(data, &h) != 0)
		return 0;	/* fuzz_proto covers the header */
	len = size - PROTO_HEADER_SIZE;
	if ((p = malloc(len > 0 ? len : 1)) == NULL)
		return 0;
	memcpy(p, data + PROTO_HEADER_SIZE, len);

	proto_buf_init(&b);
	memset(&m, 0xa5, sizeof(m));
	if (proto_decode_sign_id_req(p, len, &m.sign_id_req) == 0 &&
	    ((m.sign_id_req.alg != PROTO_ALG_EDDSA &&
	    m.sign_id_req.alg != PROTO_ALG_RS256) ||
	    m.sign_id_req.namr > PROTO_AMR_MAX ||
	    m.sign_id_req.nroles > PROTO_ROLES_MAX))
		abort();
	TRY(proto_decode_sign_id_req, proto_encode_sign_id_req,
	    sign_id_req, PROTO_SIGN_ID);
	TRY(proto_decode_sign_id_ans, proto_encode_sign_id_ans,
	    sign_id_ans, PROTO_R_SIGN_ID);
	TRY(proto_decode_jwt_check_req, proto_encode_jwt_check_req,
	    jwt_check_req, PROTO_JWT_CHECK);
	TRY(proto_decode_jwt_check_ans, proto_encode_jwt_check_ans,
	    jwt_check_ans, PROTO_R_JWT_CHECK);
	memset(&m, 0xa5, sizeof(m));
	if (proto_decode_sign_assertion_req(p, len,
	    &m.sign_assertion_req) == 0 &&
	    ((m.sign_assertion_req.alg != PROTO_ALG_EDDSA &&
	    m.sign_assertion_req.alg != PROTO_ALG_RS256) ||
	    !visible(m.sign_assertion_req.client_id,
	    PROTO_ASSERTION_CLIENT_MAX) ||
	    !visible(m.sign_assertion_req.aud, PROTO_ASSERTION_AUD_MAX)))
		abort();
	TRY(proto_decode_sign_assertion_req, proto_encode_sign_assertion_req,
	    sign_assertion_req, PROTO_SIGN_ASSERTION);
	TRY(proto_decode_sign_assertion_ans, proto_encode_sign_assertion_ans,
	    sign_assertion_ans, PROTO_R_SIGN_ASSERTION);
	memset(&m, 0xa5, sizeof(m));
	if (proto_decode_pubkeys_ans(p, len, &m.pubkeys_ans) == 0) {
		if (m.pubkeys_ans.nrsa > PROTO_KEYS_MAX)
			abort();
		for (i = 0; i < m.pubkeys_ans.nrsa; i++)
			if (m.pubkeys_ans.rsa[i].e_len == 0 ||
			    m.pubkeys_ans.rsa[i].e_len > PROTO_RSA_E_MAX)
				abort();
	}
	TRY(proto_decode_pubkeys_ans, proto_encode_pubkeys_ans,
	    pubkeys_ans, PROTO_R_PUBKEYS);
	proto_buf_free(&b);
	free(p);
	return 0;
}
