/*
 * libFuzzer target of common/proto_io.c: the input, after its first byte,
 * is what a hasher sent down the socket before closing it.  The first
 * byte picks what reads it:
 *	0	proto_io_read_frame() until it fails, each frame and the final
 *		status checked against a reference walk of the same bytes;
 *	1	proto_io_roundtrip() of a HASH with id 7 expecting R_HASH;
 *	2	proto_io_hello() with id 1.
 * fuzz_proto covers the header and the payload decoders; this covers
 * cutting a byte stream into frames and checking answers.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/sys/endian.h>

#include "proto.h"
#include "proto_io.h"

/* The largest frame and the header of another: room for every case. */
#define STREAM_MAX	(2 * PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD)
#define SOCK_BUF	(512 * 1024)
#define WAIT_MS		5000		/* all is buffered: never waits */

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct proto_frame frame;

/* What proto_io_read_frame() must answer for the bytes at s[0..n). */
static enum proto_io_status
ref_frame(const uint8_t *s, size_t n, struct proto_header *h)
{
	if (n == 0)
		return PROTO_IO_EOF;
	if (n < PROTO_HEADER_SIZE)
		return PROTO_IO_TRUNCATED;
	h->len = be32dec(s);
	h->id = be32dec(s + 4);
	h->type = be16dec(s + 8);
	if (h->len > PROTO_MAX_PAYLOAD || be16dec(s + 10) != 0)
		return PROTO_IO_BAD_HEADER;
	if (n - PROTO_HEADER_SIZE < h->len)
		return PROTO_IO_TRUNCATED;
	return PROTO_IO_OK;
}

static void
read_all(int fd, const uint8_t *s, size_t n)
{
	struct proto_header h;
	enum proto_io_status want, got;
	size_t off = 0;

	for (;;) {
		want = ref_frame(s + off, n - off, &h);
		got = proto_io_read_frame(fd, &frame, WAIT_MS);
		if (got != want)
			abort();
		if (got != PROTO_IO_OK)
			return;
		if (frame.h.len != h.len || frame.h.id != h.id ||
		    frame.h.type != h.type ||
		    memcmp(frame.p, s + off + PROTO_HEADER_SIZE, h.len) != 0)
			abort();
		off += PROTO_HEADER_SIZE + h.len;
	}
}

/* The first frame decides a round trip's status. */
static void
roundtrip(int fd, const uint8_t *s, size_t n)
{
	struct proto_hash_req req;
	struct proto_header h;
	struct proto_buf b;
	enum proto_io_status want, got;

	memset(&req, 0, sizeof(req));
	memcpy(req.user_id, "11111111-2222-4333-8444-555555555555",
	    PROTO_UUID_LEN);
	proto_buf_init(&b);
	if (proto_encode_hash_req(&b, 7, &req) == -1)
		abort();
	want = ref_frame(s, n, &h);
	if (want == PROTO_IO_OK) {
		if (h.id != 7)
			want = PROTO_IO_BAD_ID;
		else if (h.type == PROTO_R_ERROR)
			want = PROTO_IO_REFUSED;
		else if (h.type != PROTO_R_HASH)
			want = PROTO_IO_BAD_TYPE;
	}
	got = proto_io_roundtrip(fd, &b, 7, PROTO_R_HASH, &frame, WAIT_MS);
	if (got != want || b.len != 0)
		abort();
	proto_buf_free(&b);
}

static void
hello(int fd, const uint8_t *s, size_t n)
{
	struct proto_hello m;
	enum proto_io_status got;

	got = proto_io_hello(fd, 1, &frame, WAIT_MS);
	if (got != PROTO_IO_OK)
		return;
	/* Accepted: then it was exactly a good R_HELLO for id 1. */
	if (n < PROTO_HEADER_SIZE + 4 || be32dec(s) != 4 ||
	    be32dec(s + 4) != 1 || be16dec(s + 8) != PROTO_R_HELLO ||
	    proto_decode_hello(s + PROTO_HEADER_SIZE, 4, &m) == -1 ||
	    m.version != PROTO_VERSION)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *s;
	size_t n;
	int sv[2], bufsize = SOCK_BUF;

	if (size < 1 || size - 1 > STREAM_MAX)
		return 0;
	s = data + 1;
	n = size - 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsize,
	    sizeof(bufsize));
	/* The peer's bytes, then its end: every read finds them waiting. */
	if (n > 0 && proto_io_write(sv[1], s, n, WAIT_MS) != PROTO_IO_OK)
		abort();
	if (shutdown(sv[1], SHUT_WR) == -1)
		abort();
	switch (data[0] % 3) {
	case 0:
		read_all(sv[0], s, n);
		break;
	case 1:
		roundtrip(sv[0], s, n);
		break;
	default:
		hello(sv[0], s, n);
		break;
	}
	close(sv[0]);
	close(sv[1]);
	return 0;
}
