/*
 * common/proto_io.c on socket pairs: whole frames both ways, a peer that
 * dribbles bytes or is interrupted by a signal, and every way a frame or
 * an answer can be wrong (truncated header, length over the cap, reserved
 * bits, end of stream inside the payload, another id, another type,
 * R_ERROR, another version, a short R_HELLO), each with its own status.
 * SIGPIPE is left at its default: a write that raised it would kill the
 * test.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <bsd/sys/endian.h>
#include <cmocka.h>
#include <sodium.h>

#include "clock.h"
#include "proto.h"
#include "proto_io.h"

#define WAIT_MS		5000	/* for what must come at once */
#define SHORT_MS	100	/* for what must time out */
#define UID		"11111111-2222-4333-8444-555555555555"

struct fixture {
	int			 me;	/* the end under test */
	int			 peer;	/* the hasher's end, played here */
	struct proto_buf	 b;
	struct proto_frame	*f;
};

static int
setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));
	int sv[2];

	assert_non_null(x);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	x->me = sv[0];
	x->peer = sv[1];
	proto_buf_init(&x->b);
	assert_non_null(x->f = malloc(sizeof(*x->f)));
	memset(x->f, 0xa5, sizeof(*x->f));
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *x = *state;

	if (x->me >= 0)
		close(x->me);
	if (x->peer >= 0)
		close(x->peer);
	proto_buf_free(&x->b);
	free(x->f);
	free(x);
	return 0;
}

/* The peer writes raw bytes (all at once: they fit the socket buffer). */
static void
peer_raw(struct fixture *x, const void *p, size_t n)
{
	assert_int_equal(write(x->peer, p, n), (ssize_t)n);
}

static void
peer_header(struct fixture *x, uint32_t len, uint32_t id, uint16_t type,
    uint16_t reserved)
{
	uint8_t h[PROTO_HEADER_SIZE];

	be32enc(h, len);
	be32enc(h + 4, id);
	be16enc(h + 8, type);
	be16enc(h + 10, reserved);
	peer_raw(x, h, sizeof(h));
}

static void
peer_close(struct fixture *x)
{
	close(x->peer);
	x->peer = -1;
}

/* The peer sends an R_HASH for id carrying stored. */
static void
peer_hash_ans(struct fixture *x, uint32_t id, const char *stored)
{
	struct proto_hash_ans a;
	struct proto_buf b;

	memset(&a, 0, sizeof(a));
	strlcpy(a.stored, stored, sizeof(a.stored));
	proto_buf_init(&b);
	assert_int_equal(proto_encode_hash_ans(&b, id, &a), 0);
	peer_raw(x, b.data, b.len);
	proto_buf_free(&b);
}

static void
peer_hello_ans(struct fixture *x, uint32_t id, uint32_t version)
{
	struct proto_hello m = { .version = version };
	struct proto_buf b;

	proto_buf_init(&b);
	assert_int_equal(proto_encode_hello(&b, id, PROTO_R_HELLO, &m), 0);
	peer_raw(x, b.data, b.len);
	proto_buf_free(&b);
}

/* The peer reads one frame of ours and checks its id and type. */
static void
peer_expect(struct fixture *x, uint32_t id, uint16_t type)
{
	struct proto_frame *f = malloc(sizeof(*f));

	assert_non_null(f);
	assert_int_equal(proto_io_read_frame(x->peer, f, WAIT_MS),
	    PROTO_IO_OK);
	assert_int_equal(f->h.id, id);
	assert_int_equal(f->h.type, type);
	free(f);
}

static void
hash_req(struct fixture *x, uint32_t id)
{
	struct proto_hash_req r;

	memset(&r, 0, sizeof(r));
	strlcpy(r.user_id, UID, sizeof(r.user_id));
	memcpy(r.password, "correct horse", 13);
	r.password_len = 13;
	assert_int_equal(proto_encode_hash_req(&x->b, id, &r), 0);
	sodium_memzero(&r, sizeof(r));
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* ---- whole frames ---- */

static void
test_frame_both_ways(void **state)
{
	struct fixture *x = *state;

	hash_req(x, 7);
	hash_req(x, 8);		/* two frames in one buffer */
	assert_int_equal(proto_io_send(x->me, &x->b, WAIT_MS), PROTO_IO_OK);
	assert_int_equal(x->b.len, 0);
	peer_expect(x, 7, PROTO_HASH);
	peer_expect(x, 8, PROTO_HASH);

	peer_hash_ans(x, 7, "$warden$v=1$k=k1$abc");
	assert_int_equal(proto_io_read_frame(x->me, x->f, WAIT_MS),
	    PROTO_IO_OK);
	assert_int_equal(x->f->h.id, 7);
	assert_int_equal(x->f->h.type, PROTO_R_HASH);
	assert_int_equal(x->f->h.len, 4 + 20);
	assert_memory_equal(x->f->p + 4, "$warden$v=1$k=k1$abc", 20);
	proto_frame_wipe(x->f);
	assert_int_equal(x->f->h.len, 0);
	assert_true(all_zero(x->f->p, 24));

	/* an empty payload */
	peer_header(x, 0, 9, PROTO_PUBKEYS, 0);
	assert_int_equal(proto_io_read_frame(x->me, x->f, WAIT_MS),
	    PROTO_IO_OK);
	assert_int_equal(x->f->h.len, 0);
	assert_int_equal(x->f->h.id, 9);

	/* a clean end between frames */
	peer_close(x);
	assert_int_equal(proto_io_read_frame(x->me, x->f, WAIT_MS),
	    PROTO_IO_EOF);
}

static void
test_largest_frame(void **state)
{
	struct fixture *x = *state;
	uint8_t *p = calloc(1, PROTO_MAX_PAYLOAD);
	pid_t pid;
	int st;

	/* Larger than a socket buffer may be: the peer writes from a child
	 * while we read. */
	assert_non_null(p);
	p[PROTO_MAX_PAYLOAD - 1] = 0x5a;
	if ((pid = fork()) == 0) {
		close(x->me);
		peer_header(x, PROTO_MAX_PAYLOAD, 3, PROTO_R_SIGN, 0);
		_exit(proto_io_write(x->peer, p, PROTO_MAX_PAYLOAD,
		    WAIT_MS) == PROTO_IO_OK ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(proto_io_read_frame(x->me, x->f, WAIT_MS),
	    PROTO_IO_OK);
	assert_int_equal(x->f->h.len, PROTO_MAX_PAYLOAD);
	assert_int_equal(x->f->p[PROTO_MAX_PAYLOAD - 1], 0x5a);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	free(p);
}

/* A peer that sends a frame one byte at a time, a millisecond apart. */
static void
test_dribbled_frame(void **state)
{
	struct fixture *x = *state;
	struct proto_hash_ans a;
	struct proto_buf b;
	pid_t pid;
	size_t i;
	int st;

	memset(&a, 0, sizeof(a));
	strlcpy(a.stored, "$warden$dribble", sizeof(a.stored));
	proto_buf_init(&b);
	assert_int_equal(proto_encode_hash_ans(&b, 5, &a), 0);
	if ((pid = fork()) == 0) {
		close(x->me);
		for (i = 0; i < b.len; i++) {
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
			if (write(x->peer, b.data + i, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(proto_io_read_frame(x->me, x->f, WAIT_MS),
	    PROTO_IO_OK);
	assert_int_equal(x->f->h.id, 5);
	assert_int_equal(proto_decode_hash_ans(x->f->p, x->f->h.len, &a), 0);
	assert_string_equal(a.stored, "$warden$dribble");
	assert_int_equal(waitpid(pid, &st, 0), pid);
	proto_buf_free(&b);
}

/* ---- malformed and cut frames ---- */

static void
test_truncated_header(void **state)
{
	struct fixture *x = *state;

	peer_raw(x, "\0\0\0\4\0\0", 6);		/* half a header */
	peer_close(x);
	assert_int_equal(proto_io_read_frame(x->me, x->f, WAIT_MS),
	    PROTO_IO_TRUNCATED);
}

static void
test_oversize_length(void **state)
{
	struct fixture *x = *state;
	uint8_t after[4];

	/* Refused on the header alone: the bytes after it stay unread. */
	peer_header(x, PROTO_MAX_PAYLOAD + 1, 2, PROTO_R_HASH, 0);
	peer_raw(x, "next", 4);
	assert_int_equal(proto_io_read_frame(x->me, x->f, WAIT_MS),
	    PROTO_IO_BAD_HEADER);
	assert_int_equal(x->f->h.len, 0);
	assert_int_equal(proto_io_read(x->me, after, 4, WAIT_MS), PROTO_IO_OK);
	assert_memory_equal(after, "next", 4);

	peer_header(x, UINT32_MAX, 2, PROTO_R_HASH, 0);
	assert_int_equal(proto_io_read_frame(x->me, x->f, WAIT_MS),
	    PROTO_IO_BAD_HEADER);
}

static void
test_reserved_bits(void **state)
{
	struct fixture *x = *state;

	peer_header(x, 0, 2, PROTO_R_HASH, 0x0100);
	assert_int_equal(proto_io_read_frame(x->me, x->f, WAIT_MS),
	    PROTO_IO_BAD_HEADER);
}

static void
test_eof_mid_payload(void **state)
{
	struct fixture *x = *state;

	peer_header(x, 100, 2, PROTO_R_HASH, 0);
	peer_raw(x, "secret bytes", 12);
	peer_close(x);
	memset(x->f->p, 0xa5, 100);
	assert_int_equal(proto_io_read_frame(x->me, x->f, WAIT_MS),
	    PROTO_IO_TRUNCATED);
	/* what came of the payload is wiped */
	assert_true(all_zero(x->f->p, 12));
}

static void
test_eof_right_after_header(void **state)
{
	struct fixture *x = *state;

	peer_header(x, 4, 2, PROTO_R_HELLO, 0);
	peer_close(x);
	assert_int_equal(proto_io_read_frame(x->me, x->f, WAIT_MS),
	    PROTO_IO_TRUNCATED);
}

static void
test_read_short_and_eof(void **state)
{
	struct fixture *x = *state;
	uint8_t buf[8];

	assert_int_equal(proto_io_read(x->me, buf, 0, 0), PROTO_IO_OK);
	peer_raw(x, "abc", 3);
	peer_close(x);
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(proto_io_read(x->me, buf, 8, WAIT_MS),
	    PROTO_IO_TRUNCATED);
	assert_true(all_zero(buf, 3));
	assert_int_equal(proto_io_read(x->me, buf, 8, WAIT_MS), PROTO_IO_EOF);
}

/* ---- time ---- */

static void
test_read_timeout(void **state)
{
	struct fixture *x = *state;
	struct timespec t0;
	double ms;

	clock_now(&t0);
	assert_int_equal(proto_io_read_frame(x->me, x->f, SHORT_MS),
	    PROTO_IO_TIMEOUT);
	ms = clock_ms_since(&t0);
	assert_true(ms >= SHORT_MS - 1 && ms < WAIT_MS);

	/* The deadline covers the whole frame, not each read. */
	peer_header(x, 8, 2, PROTO_R_HASH, 0);
	peer_raw(x, "half", 4);
	assert_int_equal(proto_io_read_frame(x->me, x->f, SHORT_MS),
	    PROTO_IO_TIMEOUT);
}

static void
test_write_timeout(void **state)
{
	struct fixture *x = *state;
	uint8_t *big = calloc(1, 4 << 20);
	int small = 4096;

	/* Nobody reads the peer's end: the buffers fill up. */
	assert_non_null(big);
	setsockopt(x->me, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	assert_int_equal(proto_io_write(x->me, big, 4 << 20, SHORT_MS),
	    PROTO_IO_TIMEOUT);
	free(big);
}

static void
test_write_to_closed_peer(void **state)
{
	struct fixture *x = *state;

	/* EPIPE, not SIGPIPE (left at its default, which would kill us). */
	peer_close(x);
	hash_req(x, 1);
	errno = 0;
	assert_int_equal(proto_io_send(x->me, &x->b, WAIT_MS), PROTO_IO_ERRNO);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(x->b.len, 0);
	assert_string_equal(proto_io_strerror(PROTO_IO_ERRNO),
	    strerror(EPIPE));
}

static volatile sig_atomic_t alarms;

static void
on_alarm(int sig)
{
	alarms++;
}

/* poll(2) interrupted by signals (no SA_RESTART) carries on to the
 * answer, within the same deadline. */
static void
test_eintr(void **state)
{
	struct fixture *x = *state;
	struct sigaction sa, old;
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	pid_t pid;
	int st;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	alarms = 0;
	if ((pid = fork()) == 0) {
		setitimer(ITIMER_REAL, &off, NULL);
		close(x->me);
		nanosleep(&(struct timespec){ 0, 150000000 }, NULL);
		peer_hash_ans(x, 4, "$warden$late");
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_int_equal(proto_io_read_frame(x->me, x->f, WAIT_MS),
	    PROTO_IO_OK);
	assert_int_equal(setitimer(ITIMER_REAL, &off, NULL), 0);
	assert_true(alarms > 0);
	assert_int_equal(x->f->h.id, 4);
	assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
}

/* ---- round trips ---- */

static void
test_roundtrip(void **state)
{
	struct fixture *x = *state;

	/* The answer may sit there before the request goes out. */
	peer_hash_ans(x, 11, "$warden$ok");
	hash_req(x, 11);
	assert_int_equal(proto_io_roundtrip(x->me, &x->b, 11, PROTO_R_HASH,
	    x->f, WAIT_MS), PROTO_IO_OK);
	assert_int_equal(x->b.len, 0);
	peer_expect(x, 11, PROTO_HASH);
}

static void
test_roundtrip_mismatched_id(void **state)
{
	struct fixture *x = *state;

	peer_hash_ans(x, 12, "$warden$other");
	hash_req(x, 11);
	assert_int_equal(proto_io_roundtrip(x->me, &x->b, 11, PROTO_R_HASH,
	    x->f, WAIT_MS), PROTO_IO_BAD_ID);
	assert_int_equal(x->f->h.id, 12);
}

static void
test_roundtrip_refused(void **state)
{
	struct fixture *x = *state;
	struct proto_error_ans e = { .code = PROTO_ERR_BUSY };
	struct proto_buf b;

	strlcpy(e.message, "hasher queue full", sizeof(e.message));
	proto_buf_init(&b);
	assert_int_equal(proto_encode_error_ans(&b, 11, &e), 0);
	peer_raw(x, b.data, b.len);
	proto_buf_free(&b);
	hash_req(x, 11);
	assert_int_equal(proto_io_roundtrip(x->me, &x->b, 11, PROTO_R_HASH,
	    x->f, WAIT_MS), PROTO_IO_REFUSED);
	memset(&e, 0, sizeof(e));
	assert_int_equal(proto_decode_error_ans(x->f->p, x->f->h.len, &e), 0);
	assert_int_equal(e.code, PROTO_ERR_BUSY);
	assert_string_equal(e.message, "hasher queue full");
}

static void
test_roundtrip_wrong_type(void **state)
{
	struct fixture *x = *state;

	peer_hello_ans(x, 11, PROTO_VERSION);
	hash_req(x, 11);
	assert_int_equal(proto_io_roundtrip(x->me, &x->b, 11, PROTO_R_HASH,
	    x->f, WAIT_MS), PROTO_IO_BAD_TYPE);
	assert_int_equal(x->f->h.type, PROTO_R_HELLO);
}

static void
test_roundtrip_closed(void **state)
{
	struct fixture *x = *state;

	/* The peer reads the request, then goes without answering. */
	hash_req(x, 11);
	shutdown(x->peer, SHUT_WR);
	assert_int_equal(proto_io_roundtrip(x->me, &x->b, 11, PROTO_R_HASH,
	    x->f, WAIT_MS), PROTO_IO_EOF);
	peer_expect(x, 11, PROTO_HASH);
}

/* ---- the handshake ---- */

static void
test_hello(void **state)
{
	struct fixture *x = *state;

	peer_hello_ans(x, 1, PROTO_VERSION);
	assert_int_equal(proto_io_hello(x->me, 1, x->f, WAIT_MS), PROTO_IO_OK);
	peer_expect(x, 1, PROTO_HELLO);
}

static void
test_hello_wrong_version(void **state)
{
	struct fixture *x = *state;

	peer_hello_ans(x, 1, PROTO_VERSION + 1);
	assert_int_equal(proto_io_hello(x->me, 1, x->f, WAIT_MS),
	    PROTO_IO_BAD_VERSION);
}

static void
test_hello_malformed(void **state)
{
	struct fixture *x = *state;

	/* R_HELLO with two bytes instead of a u32 */
	peer_header(x, 2, 1, PROTO_R_HELLO, 0);
	peer_raw(x, "\0\1", 2);
	assert_int_equal(proto_io_hello(x->me, 1, x->f, WAIT_MS),
	    PROTO_IO_BAD_PAYLOAD);
	/* and the other checks of a round trip */
	peer_hello_ans(x, 2, PROTO_VERSION);
	assert_int_equal(proto_io_hello(x->me, 3, x->f, WAIT_MS),
	    PROTO_IO_BAD_ID);
}

static void
test_strerror(void **state)
{
	int st;

	for (st = PROTO_IO_OK; st <= PROTO_IO_BAD_VERSION; st++) {
		assert_non_null(proto_io_strerror(st));
		assert_string_not_equal(proto_io_strerror(st),
		    "unknown error");
	}
	assert_string_equal(proto_io_strerror(PROTO_IO_EOF),
	    "closed the connection");
	proto_frame_wipe(NULL);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_frame_both_ways),
		T(test_largest_frame),
		T(test_dribbled_frame),
		T(test_truncated_header),
		T(test_oversize_length),
		T(test_reserved_bits),
		T(test_eof_mid_payload),
		T(test_eof_right_after_header),
		T(test_read_short_and_eof),
		T(test_read_timeout),
		T(test_write_timeout),
		T(test_write_to_closed_peer),
		T(test_eintr),
		T(test_roundtrip),
		T(test_roundtrip_mismatched_id),
		T(test_roundtrip_refused),
		T(test_roundtrip_wrong_type),
		T(test_roundtrip_closed),
		T(test_hello),
		T(test_hello_wrong_version),
		T(test_hello_malformed),
		T(test_strerror),
	};
#undef T

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
