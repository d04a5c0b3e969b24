/*
 * A minimal blocking client of the hasher protocol, shared by the tests of
 * hasher/server.c, daemon/hc/hasher_spawn.c and the benchmark.  Plain helpers
 * returning -1 on failure: callers assert.  static inline so that each
 * program takes only what it uses.
 */
#ifndef WARDEN_TESTS_HASHER_WIRE_H
#define WARDEN_TESTS_HASHER_WIRE_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"

#define HC_TIMEOUT_MS	30000	/* no answer in this long is a failure */

struct hc_frame {
	struct proto_header	h;
	uint8_t			p[PROTO_MAX_PAYLOAD];
};

static inline int
hc_write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly n bytes.  1: done, 0: EOF before the first byte, -1:
 * error, timeout or EOF part-way. */
static inline int
hc_read_full(int fd, void *buf, size_t n, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t r;
	int pr;

	while (got < n) {
		if ((pr = poll(&pfd, 1, timeout_ms)) == -1 && errno == EINTR)
			continue;
		if (pr <= 0)
			return -1;
		if ((r = read(fd, p + got, n - got)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)r;
	}
	return 1;
}

/* One answer frame: 1, 0 on a clean EOF, -1 otherwise. */
static inline int
hc_read_frame(int fd, struct hc_frame *f)
{
	uint8_t hdr[PROTO_HEADER_SIZE];
	int rc;

	if ((rc = hc_read_full(fd, hdr, sizeof(hdr), HC_TIMEOUT_MS)) != 1)
		return rc;
	if (proto_header_decode(hdr, &f->h) == -1)
		return -1;
	if (f->h.len > 0 &&
	    hc_read_full(fd, f->p, f->h.len, HC_TIMEOUT_MS) != 1)
		return -1;
	return 1;
}

/* Sends and resets what b holds. */
static inline int
hc_send(int fd, struct proto_buf *b)
{
	int rc = hc_write_all(fd, b->data, b->len);

	proto_buf_reset(b);
	return rc;
}

/* A raw header with any length and type (for malformed frames). */
static inline void
hc_header(uint8_t out[PROTO_HEADER_SIZE], uint32_t len, uint32_t id,
    uint16_t type)
{
	struct proto_header h = { .len = len, .id = id, .type = type };

	proto_header_encode(out, &h);
}

/* HELLO with version; 0 when R_HELLO with PROTO_VERSION came back. */
static inline int
hc_hello(int fd, uint32_t id, uint32_t version)
{
	struct proto_buf b;
	struct proto_hello m = { version };
	struct hc_frame f;
	int rc;

	proto_buf_init(&b);
	rc = proto_encode_hello(&b, id, PROTO_HELLO, &m);
	if (rc == 0)
		rc = hc_send(fd, &b);
	proto_buf_free(&b);
	if (rc == -1 || hc_read_frame(fd, &f) != 1 ||
	    f.h.type != PROTO_R_HELLO || f.h.id != id ||
	    proto_decode_hello(f.p, f.h.len, &m) == -1 ||
	    m.version != PROTO_VERSION)
		return -1;
	return 0;
}

/* Reads until EOF, discarding: 0 when EOF came in time, -1 otherwise. */
static inline int
hc_expect_eof(int fd)
{
	uint8_t buf[4096];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t r;

	for (;;) {
		if (poll(&pfd, 1, HC_TIMEOUT_MS) <= 0)
			return -1;
		if ((r = read(fd, buf, sizeof(buf))) == 0)
			return 0;
		if (r == -1 && errno != EINTR)
			return errno == ECONNRESET ? 0 : -1;
	}
}

#endif
