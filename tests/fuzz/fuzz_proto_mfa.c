/*
 * libFuzzer target of the second-factor messages of common/proto.c
 * (TOTP_NEW, TOTP_CHECK, RECOVERY_NEW, RECOVERY_HASH and their answers):
 * the first 12 bytes are a frame header, the rest a payload that each of
 * their decoders is run on.  A decoder that accepts must give a struct
 * that encodes back to exactly the same bytes; one that refuses must
 * leave its struct wiped.  An accepted R_RECOVERY_NEW never counts more
 * than PROTO_RECOVERY_CODES.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

union anymsg {
	struct proto_totp_new_req	totp_new_req;
	struct proto_totp_new_ans	totp_new_ans;
	struct proto_totp_check_req	totp_check_req;
	struct proto_totp_check_ans	totp_check_ans;
	struct proto_recovery_new_req	recovery_new_req;
	struct proto_recovery_new_ans	recovery_new_ans;
	struct proto_recovery_hash_req	recovery_hash_req;
	struct proto_recovery_hash_ans	recovery_hash_ans;
};

static union anymsg m;
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
	size_t len;

	if (size < PROTO_HEADER_SIZE ||
	    proto_header_decode(data, &h) != 0)
		return 0;	/* fuzz_proto covers the header */
	len = size - PROTO_HEADER_SIZE;
	if ((p = malloc(len > 0 ? len : 1)) == NULL)
		return 0;
	memcpy(p, data + PROTO_HEADER_SIZE, len);

	proto_buf_init(&b);
	TRY(proto_decode_totp_new_req, proto_encode_totp_new_req,
	    totp_new_req, PROTO_TOTP_NEW);
	TRY(proto_decode_totp_new_ans, proto_encode_totp_new_ans,
	    totp_new_ans, PROTO_R_TOTP_NEW);
	TRY(proto_decode_totp_check_req, proto_encode_totp_check_req,
	    totp_check_req, PROTO_TOTP_CHECK);
	TRY(proto_decode_totp_check_ans, proto_encode_totp_check_ans,
	    totp_check_ans, PROTO_R_TOTP_CHECK);
	TRY(proto_decode_recovery_new_req, proto_encode_recovery_new_req,
	    recovery_new_req, PROTO_RECOVERY_NEW);
	memset(&m, 0xa5, sizeof(m));
	if (proto_decode_recovery_new_ans(p, len, &m.recovery_new_ans) == 0 &&
	    m.recovery_new_ans.n > PROTO_RECOVERY_CODES)
		abort();
	TRY(proto_decode_recovery_new_ans, proto_encode_recovery_new_ans,
	    recovery_new_ans, PROTO_R_RECOVERY_NEW);
	TRY(proto_decode_recovery_hash_req, proto_encode_recovery_hash_req,
	    recovery_hash_req, PROTO_RECOVERY_HASH);
	TRY(proto_decode_recovery_hash_ans, proto_encode_recovery_hash_ans,
	    recovery_hash_ans, PROTO_R_RECOVERY_HASH);
	proto_buf_free(&b);
	free(p);
	return 0;
}
