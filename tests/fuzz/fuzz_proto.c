/*
 * libFuzzer target of common/proto.c: the first 12 bytes are a frame
 * header, the rest a payload that every decoder is run on.  A decoder that
 * accepts must give a struct that encodes back to exactly the same bytes;
 * one that refuses must leave its struct wiped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/sys/endian.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

union anymsg {
	struct proto_hello		hello;
	struct proto_hash_req		hash_req;
	struct proto_hash_ans		hash_ans;
	struct proto_verify_req		verify_req;
	struct proto_verify_ans		verify_ans;
	struct proto_sign_req		sign_req;
	struct proto_sign_ans		sign_ans;
	struct proto_pubkeys_ans	pubkeys_ans;
	struct proto_error_ans		error_ans;
};

static union anymsg m;
static const union anymsg zero;

/* The re-encoded frame in b must be a header for (id, type, len) and then
 * exactly the len bytes of p. */
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

static void
check_wiped(size_t n)
{
	if (memcmp(&m, &zero, n) != 0)
		abort();
}

#define TRY(dec, enc, field, type) do {					\
	memset(&m, 0xa5, sizeof(m));					\
	if (dec(p, len, &m.field) == 0) {				\
		if (enc(&b, h.id, &m.field) != 0)			\
			abort();					\
		check_frame(&b, h.id, type, p, len);			\
	} else								\
		check_wiped(sizeof(m.field));				\
} while (0)

static int
enc_hello(struct proto_buf *b, uint32_t id, const struct proto_hello *hm)
{
	return proto_encode_hello(b, id, PROTO_HELLO, hm);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_header h;
	struct proto_buf b;
	uint8_t again[PROTO_HEADER_SIZE], *p;
	uint32_t hlen;
	size_t len;
	int refuse;

	if (size < PROTO_HEADER_SIZE)
		return 0;
	hlen = be32dec(data);
	refuse = hlen > PROTO_MAX_PAYLOAD || be16dec(data + 10) != 0;
	if (proto_header_decode(data, &h) != 0) {
		/* refused: only the cap or the reserved field may say so */
		if (!refuse)
			abort();
		return 0;
	}
	if (refuse)
		abort();
	proto_header_encode(again, &h);
	if (memcmp(again, data, PROTO_HEADER_SIZE) != 0)
		abort();
	(void)proto_type_name(h.type);

	/* Exactly the rest, in its own allocation so that ASan sees any
	 * read past it. */
	len = size - PROTO_HEADER_SIZE;
	if ((p = malloc(len > 0 ? len : 1)) == NULL)
		return 0;
	memcpy(p, data + PROTO_HEADER_SIZE, len);

	proto_buf_init(&b);
	TRY(proto_decode_hello, enc_hello, hello, PROTO_HELLO);
	TRY(proto_decode_hash_req, proto_encode_hash_req, hash_req,
	    PROTO_HASH);
	TRY(proto_decode_hash_ans, proto_encode_hash_ans, hash_ans,
	    PROTO_R_HASH);
	TRY(proto_decode_verify_req, proto_encode_verify_req, verify_req,
	    PROTO_VERIFY);
	TRY(proto_decode_verify_ans, proto_encode_verify_ans, verify_ans,
	    PROTO_R_VERIFY);
	TRY(proto_decode_sign_req, proto_encode_sign_req, sign_req,
	    PROTO_SIGN);
	TRY(proto_decode_sign_ans, proto_encode_sign_ans, sign_ans,
	    PROTO_R_SIGN);
	TRY(proto_decode_pubkeys_ans, proto_encode_pubkeys_ans, pubkeys_ans,
	    PROTO_R_PUBKEYS);
	TRY(proto_decode_error_ans, proto_encode_error_ans, error_ans,
	    PROTO_R_ERROR);
	if (proto_decode_pubkeys_req(p, len) == 0) {
		if (len != 0 || proto_encode_pubkeys_req(&b, h.id) != 0)
			abort();
		check_frame(&b, h.id, PROTO_PUBKEYS, p, len);
	}
	proto_buf_free(&b);
	free(p);
	return 0;
}
