/*
 * Blocking frames of the hasher protocol: poll(2) against one deadline,
 * then read(2) or send(2), until the whole frame has passed.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "proto.h"
#include "proto_io.h"

/* A call's deadline: none when the timeout is negative. */
struct deadline {
	bool		 forever;
	struct timespec	 at;
};

static void
deadline_set(struct deadline *d, int timeout_ms)
{
	d->forever = timeout_ms < 0;
	if (!d->forever)
		clock_deadline(&d->at, timeout_ms);
}

/* Waits until fd is ready for events (or in error) before the deadline. */
static enum proto_io_status
wait_for(int fd, short events, const struct deadline *d)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	for (;;) {
		n = poll(&pfd, 1, d->forever ? -1 : clock_ms_left(&d->at));
		if (n > 0)	/* ready, or in error: the call tells which */
			return PROTO_IO_OK;
		if (n == 0)
			return PROTO_IO_TIMEOUT;
		if (errno != EINTR)
			return PROTO_IO_ERRNO;
	}
}

static enum proto_io_status
write_until(int fd, const uint8_t *p, size_t len, const struct deadline *d)
{
	enum proto_io_status st;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return PROTO_IO_ERRNO;
		if ((st = wait_for(fd, POLLOUT, d)) != PROTO_IO_OK)
			return st;
	}
	return PROTO_IO_OK;
}

/* Reads exactly len bytes; on failure wipes what it read. */
static enum proto_io_status
read_until(int fd, uint8_t *p, size_t len, const struct deadline *d)
{
	enum proto_io_status st = PROTO_IO_OK;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if ((st = wait_for(fd, POLLIN, d)) != PROTO_IO_OK)
			break;
		if ((n = read(fd, p + got, len - got)) > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0) {
			st = got == 0 ? PROTO_IO_EOF : PROTO_IO_TRUNCATED;
			break;
		}
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			continue;
		st = PROTO_IO_ERRNO;
		break;
	}
	if (st != PROTO_IO_OK && got > 0)
		sodium_memzero(p, got);
	return st;
}

static enum proto_io_status
frame_until(int fd, struct proto_frame *f, const struct deadline *d)
{
	uint8_t hb[PROTO_HEADER_SIZE];
	enum proto_io_status st;

	memset(&f->h, 0, sizeof(f->h));
	if ((st = read_until(fd, hb, sizeof(hb), d)) != PROTO_IO_OK)
		return st;
	if (proto_header_decode(hb, &f->h) == -1)
		return PROTO_IO_BAD_HEADER;
	st = read_until(fd, f->p, f->h.len, d);
	/* The header came whole: an end now is an end inside the frame. */
	return st == PROTO_IO_EOF ? PROTO_IO_TRUNCATED : st;
}

enum proto_io_status
proto_io_write(int fd, const void *p, size_t len, int timeout_ms)
{
	struct deadline d;

	deadline_set(&d, timeout_ms);
	return write_until(fd, p, len, &d);
}

enum proto_io_status
proto_io_send(int fd, struct proto_buf *b, int timeout_ms)
{
	enum proto_io_status st;

	st = proto_io_write(fd, b->data, b->len, timeout_ms);
	proto_buf_reset(b);
	return st;
}

enum proto_io_status
proto_io_read(int fd, void *p, size_t len, int timeout_ms)
{
	struct deadline d;

	deadline_set(&d, timeout_ms);
	return read_until(fd, p, len, &d);
}

enum proto_io_status
proto_io_read_frame(int fd, struct proto_frame *f, int timeout_ms)
{
	struct deadline d;

	deadline_set(&d, timeout_ms);
	return frame_until(fd, f, &d);
}

enum proto_io_status
proto_io_roundtrip(int fd, struct proto_buf *b, uint32_t id,
    uint16_t answer, struct proto_frame *f, int timeout_ms)
{
	enum proto_io_status st;
	struct deadline d;

	deadline_set(&d, timeout_ms);
	st = write_until(fd, b->data, b->len, &d);
	proto_buf_reset(b);
	if (st != PROTO_IO_OK)
		return st;
	if ((st = frame_until(fd, f, &d)) != PROTO_IO_OK)
		return st;
	if (f->h.id != id)
		return PROTO_IO_BAD_ID;
	if (f->h.type == PROTO_R_ERROR)
		return PROTO_IO_REFUSED;
	if (f->h.type != answer)
		return PROTO_IO_BAD_TYPE;
	return PROTO_IO_OK;
}

enum proto_io_status
proto_io_hello(int fd, uint32_t id, struct proto_frame *f, int timeout_ms)
{
	struct proto_hello m = { .version = PROTO_VERSION };
	struct proto_buf b;
	enum proto_io_status st;

	proto_buf_init(&b);
	if (proto_encode_hello(&b, id, PROTO_HELLO, &m) == -1) {
		proto_buf_free(&b);
		errno = ENOMEM;
		return PROTO_IO_ERRNO;
	}
	st = proto_io_roundtrip(fd, &b, id, PROTO_R_HELLO, f, timeout_ms);
	proto_buf_free(&b);
	if (st != PROTO_IO_OK)
		return st;
	if (proto_decode_hello(f->p, f->h.len, &m) == -1)
		return PROTO_IO_BAD_PAYLOAD;
	if (m.version != PROTO_VERSION)
		return PROTO_IO_BAD_VERSION;
	return PROTO_IO_OK;
}

const char *
proto_io_strerror(enum proto_io_status st)
{
	switch (st) {
	case PROTO_IO_OK:		return "no error";
	case PROTO_IO_EOF:		return "closed the connection";
	case PROTO_IO_TRUNCATED:	return "closed the connection inside a "
					    "frame";
	case PROTO_IO_TIMEOUT:		return "timed out";
	case PROTO_IO_ERRNO:		return strerror(errno);
	case PROTO_IO_BAD_HEADER:	return "malformed frame header";
	case PROTO_IO_BAD_ID:		return "answer to another request";
	case PROTO_IO_REFUSED:		return "refused the request";
	case PROTO_IO_BAD_TYPE:		return "unexpected answer type";
	case PROTO_IO_BAD_PAYLOAD:	return "malformed answer";
	case PROTO_IO_BAD_VERSION:	return "protocol version mismatch";
	}
	return "unknown error";
}

void
proto_frame_wipe(struct proto_frame *f)
{
	if (f == NULL)
		return;
	sodium_memzero(f->p, f->h.len <= sizeof(f->p) ? f->h.len :
	    sizeof(f->p));
	sodium_memzero(&f->h, sizeof(f->h));
}
