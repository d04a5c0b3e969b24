/*
 * Blocking I/O of the hasher protocol (common/proto.h) on a connected
 * stream socket: whole frames written and read, and one request's round
 * trip with its answer's id, type and (for HELLO) version checked.
 *
 * For code that may block: wardenctl, the tests and the benchmark, which
 * are clients of the hasher, and the hasher's own writes.  wardend's
 * event loop never blocks and reads its frames through libevent
 * (daemon/hc).
 *
 * Every call takes timeout_ms for the whole call, however many reads or
 * writes it makes; a negative one waits for ever.  EINTR is retried
 * within the same deadline.  Writes never raise SIGPIPE (MSG_NOSIGNAL):
 * a closed peer is PROTO_IO_ERRNO with errno EPIPE.  A header is checked
 * against PROTO_MAX_PAYLOAD before any byte of its payload is read.
 */
#ifndef WARDEN_PROTO_IO_H
#define WARDEN_PROTO_IO_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

enum proto_io_status {
	PROTO_IO_OK = 0,
	PROTO_IO_EOF,		/* closed before the first byte */
	PROTO_IO_TRUNCATED,	/* closed in the middle of a frame */
	PROTO_IO_TIMEOUT,	/* the deadline passed */
	PROTO_IO_ERRNO,		/* a system call failed; errno says how */
	PROTO_IO_BAD_HEADER,	/* length past the cap, or reserved bits set */
	PROTO_IO_BAD_ID,	/* the answer to another request */
	PROTO_IO_REFUSED,	/* an R_ERROR answer (in the frame) */
	PROTO_IO_BAD_TYPE,	/* neither the answer asked for nor R_ERROR */
	PROTO_IO_BAD_PAYLOAD,	/* an R_HELLO that does not decode */
	PROTO_IO_BAD_VERSION,	/* an R_HELLO with another PROTO_VERSION */
};

/* One frame as read: its header, then h.len bytes of payload.  64 KiB:
 * allocate it, and wipe it (proto_frame_wipe()) when it held secrets. */
struct proto_frame {
	struct proto_header	h;
	uint8_t			p[PROTO_MAX_PAYLOAD];
};

/* Writes the len bytes of p whole.  PROTO_IO_OK, _TIMEOUT or _ERRNO. */
enum proto_io_status proto_io_write(int fd, const void *p, size_t len,
	    int timeout_ms);

/* Writes what b holds (one or more frames), then empties b with
 * proto_buf_reset() whatever the outcome.  As proto_io_write(). */
enum proto_io_status proto_io_send(int fd, struct proto_buf *b,
	    int timeout_ms);

/*
 * Reads exactly len bytes into p.  PROTO_IO_OK; _EOF when the peer closed
 * before the first byte; _TRUNCATED when it closed after some; _TIMEOUT;
 * _ERRNO.  On failure the bytes read so far are wiped.
 */
enum proto_io_status proto_io_read(int fd, void *p, size_t len,
	    int timeout_ms);

/*
 * Reads one frame into *f: PROTO_IO_OK, _EOF (closed between frames),
 * _TRUNCATED (closed inside one, header or payload), _BAD_HEADER (nothing
 * of the payload read, f->h zeroed), _TIMEOUT or _ERRNO.  On failure
 * whatever payload was read is wiped.
 */
enum proto_io_status proto_io_read_frame(int fd, struct proto_frame *f,
	    int timeout_ms);

/*
 * One request: sends the frame in b (emptied as by proto_io_send()), then
 * reads one frame into *f and checks it: PROTO_IO_BAD_ID when it answers
 * another id than id, _REFUSED when it is R_ERROR (decode it from *f),
 * _BAD_TYPE when it is neither that nor answer; or a status of the send
 * or the read.  The timeout covers both.
 */
enum proto_io_status proto_io_roundtrip(int fd, struct proto_buf *b,
	    uint32_t id, uint16_t answer, struct proto_frame *f,
	    int timeout_ms);

/*
 * The handshake: HELLO with PROTO_VERSION as request id, and its R_HELLO.
 * As proto_io_roundtrip(), and PROTO_IO_BAD_PAYLOAD when the R_HELLO does
 * not decode, _BAD_VERSION when it names another version.  f is scratch
 * space (and holds the R_ERROR on _REFUSED).
 */
enum proto_io_status proto_io_hello(int fd, uint32_t id,
	    struct proto_frame *f, int timeout_ms);

/* Words for a status, for "hasher: %s"; for PROTO_IO_ERRNO strerror(errno),
 * so call it before anything else can change errno. */
const char	*proto_io_strerror(enum proto_io_status st);

/* Zeroes the header and the payload bytes of f (NULL is fine). */
void		 proto_frame_wipe(struct proto_frame *f);

#endif
