/*
 * What the tests of hasher/server.c and daemon/hc/hasher_spawn.c add to
 * common/proto_io.h, the blocking client they talk to the hasher with:
 * how long they wait, raw headers for malformed frames, and waiting for
 * the hasher to drop the connection.  static inline so that each program
 * takes only what it uses.
 */
#ifndef WARDEN_TESTS_HASHER_WIRE_H
#define WARDEN_TESTS_HASHER_WIRE_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

#include "proto.h"
#include "proto_io.h"

#define HC_TIMEOUT_MS	30000	/* no answer in this long is a failure */

/* A raw header with any length and type (for malformed frames). */
static inline void
hc_header(uint8_t out[PROTO_HEADER_SIZE], uint32_t len, uint32_t id,
    uint16_t type)
{
	struct proto_header h = { .len = len, .id = id, .type = type };

	proto_header_encode(out, &h);
}

/* Reads until EOF, discarding: 0 when EOF (or a reset) came in time, -1
 * otherwise. */
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
