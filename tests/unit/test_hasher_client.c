/*
 * Unit tests of the hasher client (daemon/hc/hc_conn.c, hc_queue.c,
 * hc_frames.c, hc_calls.c) on a real event_base.  A fake hasher speaks
 * the protocol (common/proto.h) on the other end of a socket pair that
 * the wrapped hasher_spawn() hands out (tests/unit/wrap.mk); one test runs
 * the real warden-hasher instead.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <bsd/sys/endian.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <sodium.h>

#include "hc/hasher_client.h"
#include "hc/hasher_spawn.h"
#include "api/jwt_verify.h"
#include "log.h"
#include "proto.h"

#define UID1	"0b6c1c55-7c1e-4e4e-9a57-1f1d8f3e2a10"
#define UID2	"11111111-1111-4111-8111-111111111111"
#define MAXREQ	64

/*
 * Timing.  A loaded machine (or a sanitizer build) may stall the process
 * for a long while between any two turns of the loop, so nothing here
 * counts on a short delay: the waits are bounded by WAIT_MS but end as
 * soon as what they wait for holds, and the client's hasher_timeout is
 * LONG_MS, which no answer of the fake comes near.  Only the tests of
 * timeouts set SHORT_MS.  There a stall can time out a handshake (it is
 * retried: count spawns from after start_ready()) or a request that was
 * meant to be answered (late_cb and hash_in_time() make up for it).
 */
#define WAIT_MS		10000
#define LONG_MS		10000
#define SHORT_MS	150

/* ---- the fake hasher ---- */

/*
 * The fake writes its answers straight into its socket (no bufferevent):
 * when an answer_*() returns, the answer is there for the client to read on
 * its next turn of the loop.
 */

struct fake_req {
	struct proto_header	 h;
	uint8_t			*p;
};

static struct fake {
	int			 fd;
	struct event		*ev;		/* NULL: not connected */
	struct evbuffer		*in;
	bool			 eof;		/* the client closed on us */
	int			 ncloses;	/* eofs, over all connections */
	bool			 answer_hello;
	uint32_t		 hello_version;
	bool			 answer_keys;
	struct proto_pubkeys_ans keys;
	int			 nhello;
	int			 npubkeys;
	struct fake_req		 reqs[MAXREQ];
	size_t			 nreqs;
} fk;

static struct event_base	*base;
static struct event		*tick;
static struct hc		*hc;
static int			 spawn_calls;
static bool			 spawn_fail;
static bool			 spawn_real;
static pid_t			 real_pid;
static int			 iter;		/* event loop turns */

static void
fake_clear_reqs(void)
{
	size_t i;

	for (i = 0; i < fk.nreqs; i++)
		free(fk.reqs[i].p);
	fk.nreqs = 0;
}

static void
fake_close(void)
{
	if (fk.ev != NULL) {
		event_free(fk.ev);
		close(fk.fd);
		evbuffer_free(fk.in);
	}
	fk.ev = NULL;
	fk.in = NULL;
	fk.fd = -1;
}

static void
fake_send_raw(const void *p, size_t n)
{
	ssize_t w;

	assert_non_null(fk.ev);
	w = send(fk.fd, p, n, MSG_NOSIGNAL);
	/* A client that has closed is seen by fake_readable(). */
	if (w == -1 && (errno == EPIPE || errno == ECONNRESET))
		return;
	assert_int_equal(w, n);
}

static void
fake_send(struct proto_buf *b)
{
	fake_send_raw(b->data, b->len);
	proto_buf_free(b);
}

/* Takes the whole frames in fk.in: answers the handshake, keeps the rest. */
static void
fake_read(void)
{
	struct proto_header	 h;
	struct proto_buf	 b;
	struct proto_hello	 hello;
	uint8_t			 hb[PROTO_HEADER_SIZE], *p;

	while (evbuffer_get_length(fk.in) >= PROTO_HEADER_SIZE) {
		evbuffer_copyout(fk.in, hb, sizeof(hb));
		assert_int_equal(proto_header_decode(hb, &h), 0);
		if (evbuffer_get_length(fk.in) < PROTO_HEADER_SIZE + h.len)
			return;
		evbuffer_drain(fk.in, PROTO_HEADER_SIZE);
		p = malloc(h.len + 1);
		assert_non_null(p);
		evbuffer_remove(fk.in, p, h.len);
		proto_buf_init(&b);
		if (h.type == PROTO_HELLO) {
			fk.nhello++;
			assert_int_equal(proto_decode_hello(p, h.len, &hello), 0);
			assert_int_equal(hello.version, PROTO_VERSION);
			free(p);
			if (fk.answer_hello) {
				hello.version = fk.hello_version;
				assert_int_equal(proto_encode_hello(&b, h.id,
				    PROTO_R_HELLO, &hello), 0);
				fake_send(&b);
			}
		} else if (h.type == PROTO_PUBKEYS) {
			fk.npubkeys++;
			assert_int_equal(proto_decode_pubkeys_req(p, h.len), 0);
			free(p);
			if (fk.answer_keys) {
				assert_int_equal(proto_encode_pubkeys_ans(&b,
				    h.id, &fk.keys), 0);
				fake_send(&b);
			}
		} else {
			assert_true(fk.nreqs < MAXREQ);
			fk.reqs[fk.nreqs].h = h;
			fk.reqs[fk.nreqs].p = p;
			fk.nreqs++;
		}
	}
}

/* Reads all the client has written, then takes it; notes its close. */
static void
fake_readable(evutil_socket_t fd, short what, void *arg)
{
	int n;

	while ((n = evbuffer_read(fk.in, fk.fd, -1)) > 0)
		;
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		fake_read();
		return;
	}
	fake_read();
	fk.eof = true;
	fk.ncloses++;
	fake_close();
}

/*
 * Takes at once what the client has written so far, without waiting for
 * the fake's turn of the loop (from inside a client callback).
 */
static void
fake_pull(void)
{
	if (fk.ev != NULL)
		fake_readable(fk.fd, EV_READ, NULL);
}

static void
fake_attach(int fd)
{
	/* A connection the client has closed counts in ncloses even when
	 * the new one comes before the fake's turn to see it. */
	fake_pull();
	fake_close();
	fake_clear_reqs();
	fk.eof = false;
	evutil_make_socket_nonblocking(fd);
	fk.fd = fd;
	fk.in = evbuffer_new();
	assert_non_null(fk.in);
	fk.ev = event_new(base, fd, EV_READ | EV_PERSIST, fake_readable, NULL);
	assert_non_null(fk.ev);
	assert_int_equal(event_add(fk.ev, NULL), 0);
}

static void
fake_reset(void)
{
	size_t i;

	fake_close();
	fake_clear_reqs();
	memset(&fk, 0, sizeof(fk));
	fk.fd = -1;
	fk.answer_hello = true;
	fk.hello_version = PROTO_VERSION;
	fk.answer_keys = true;
	fk.keys.nkeys = 2;
	strlcpy(fk.keys.keys[0].kid, "old", sizeof(fk.keys.keys[0].kid));
	strlcpy(fk.keys.keys[1].kid, "cur", sizeof(fk.keys.keys[1].kid));
	fk.keys.keys[1].current = true;
	for (i = 0; i < PROTO_PUBKEY_LEN; i++) {
		fk.keys.keys[0].pk[i] = (uint8_t)i;
		fk.keys.keys[1].pk[i] = (uint8_t)(0xff - i);
	}
}

static void
answer_hash(uint32_t id, const char *stored)
{
	struct proto_buf	b;
	struct proto_hash_ans	a;

	memset(&a, 0, sizeof(a));
	strlcpy(a.stored, stored, sizeof(a.stored));
	proto_buf_init(&b);
	assert_int_equal(proto_encode_hash_ans(&b, id, &a), 0);
	fake_send(&b);
}

static void
answer_verify(uint32_t id, bool match, const char *rehash)
{
	struct proto_buf	b;
	struct proto_verify_ans	a;

	memset(&a, 0, sizeof(a));
	a.match = match;
	strlcpy(a.rehash, rehash, sizeof(a.rehash));
	proto_buf_init(&b);
	assert_int_equal(proto_encode_verify_ans(&b, id, &a), 0);
	fake_send(&b);
}

static void
answer_sign(uint32_t id, const char *jwt)
{
	struct proto_buf	b;
	struct proto_sign_ans	a;

	memset(&a, 0, sizeof(a));
	strlcpy(a.jwt, jwt, sizeof(a.jwt));
	strlcpy(a.jti, UID2, sizeof(a.jti));
	a.exp = 1800000900;
	proto_buf_init(&b);
	assert_int_equal(proto_encode_sign_ans(&b, id, &a), 0);
	fake_send(&b);
}

static void
answer_error(uint32_t id, uint32_t code)
{
	struct proto_buf	b;
	struct proto_error_ans	a;

	memset(&a, 0, sizeof(a));
	a.code = code;
	strlcpy(a.message, "no", sizeof(a.message));
	proto_buf_init(&b);
	assert_int_equal(proto_encode_error_ans(&b, id, &a), 0);
	fake_send(&b);
}

/* ---- the wrapped spawn ---- */

int	__real_hasher_spawn(const char *, const char *, pid_t *);
int	__wrap_hasher_spawn(const char *, const char *, pid_t *);

int
__wrap_hasher_spawn(const char *path, const char *config_path, pid_t *pid)
{
	int sv[2], fd;

	spawn_calls++;
	if (spawn_real) {
		fd = __real_hasher_spawn(path, config_path, pid);
		real_pid = fd == -1 ? 0 : *pid;
		return fd;
	}
	if (spawn_fail)
		return -1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fake_attach(sv[1]);
	*pid = 0;
	return sv[0];
}

/* ---- the loop ---- */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
}

/* Turns the loop until expr holds; fails the test after ms. */
#define RUN_UNTIL(expr, ms) do {					\
	double dl_ = now_ms() + (ms);					\
	while (!(expr)) {						\
		if (now_ms() > dl_)					\
			fail_msg("timed out waiting for %s", #expr);	\
		iter++;							\
		event_base_loop(base, EVLOOP_ONCE);			\
	}								\
} while (0)

static void
run_for(double ms)
{
	double dl = now_ms() + ms;

	while (now_ms() < dl) {
		iter++;
		event_base_loop(base, EVLOOP_ONCE);
	}
}

/* ---- callbacks ---- */

struct rec {
	int		calls;
	enum hc_status	st;
	bool		match;
	bool		had_text;
	char		text[PROTO_JWT_MAX + 1];
	int		iter;
	int		order;
	bool		ready;		/* hc_ready() when called */
	uint64_t	timeouts;	/* hc_stats timeouts when called */
};

static int order;

static void
rec_text(struct rec *r, enum hc_status st, const char *text)
{
	struct hc_stats hs;

	if (hc != NULL) {
		hc_get_stats(hc, &hs);
		r->ready = hs.ready;
		r->timeouts = hs.timeouts;
	}
	r->calls++;
	r->st = st;
	r->iter = iter;
	r->order = ++order;
	r->had_text = text != NULL;
	strlcpy(r->text, text != NULL ? text : "", sizeof(r->text));
}

static void
hash_cb(enum hc_status st, const char *stored, void *arg)
{
	rec_text(arg, st, stored);
}

static void
verify_cb(enum hc_status st, bool match, const char *rehash, void *arg)
{
	struct rec *r = arg;

	rec_text(r, st, rehash);
	r->match = match;
}

static void
sign_cb(enum hc_status st, const struct proto_sign_ans *ans, void *arg)
{
	rec_text(arg, st, ans != NULL ? ans->jwt : NULL);
}

static int keys_calls;

static void
keys_cb(const struct proto_pubkeys_ans *k, void *arg)
{
	keys_calls++;
	assert_ptr_equal(k, hc_pubkeys(hc));
}

/* ---- fixtures ---- */

static struct hc_params
params(void)
{
	struct hc_params p;

	memset(&p, 0, sizeof(p));
	p.hasher_path = "/nonexistent/warden-hasher";
	p.config_path = "/nonexistent/warden.conf";
	p.socket_path = "";
	p.queue_max = 2;
	p.sign_queue_max = 2;
	p.timeout_ms = LONG_MS;	/* tests of timeouts set SHORT_MS */
	p.backoff_min_ms = 20;
	p.backoff_max_ms = 80;
	p.on_keys = keys_cb;
	return p;
}

static int
setup(void **state)
{
	struct timeval tv = { 0, 5000 };

	base = event_base_new();
	assert_non_null(base);
	tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	event_add(tick, &tv);
	fake_reset();
	spawn_calls = 0;
	spawn_fail = false;
	spawn_real = false;
	keys_calls = 0;
	hc = NULL;
	return 0;
}

static int
teardown(void **state)
{
	hc_free(hc);
	hc = NULL;
	fake_reset();
	event_free(tick);
	event_base_free(base);
	return 0;
}

/* A started client, ready, with the fake attached. */
static void
start_ready(const struct hc_params *p)
{
	hc = hc_new(base, p);
	assert_non_null(hc);
	assert_false(hc_ready(hc));
	assert_int_equal(hc_start(hc), 0);
	RUN_UNTIL(hc_ready(hc), WAIT_MS);
}

static uint32_t
req_id(size_t i, uint16_t type)
{
	assert_true(i < fk.nreqs);
	assert_int_equal(fk.reqs[i].h.type, type);
	return fk.reqs[i].h.id;
}

static unsigned int
queue_hash(void)
{
	struct hc_stats st;

	hc_get_stats(hc, &st);
	return st.queue_hash;
}

static uint64_t
restarts(void)
{
	struct hc_stats st;

	hc_get_stats(hc, &st);
	return st.restarts;
}

static const uint8_t PW[] = "correct horse battery staple";

/*
 * For SHORT_MS: a hash callback that has the fake answer a request as soon
 * as it has timed out (its answer is then late, and dropped).  The answer
 * goes straight into the client's socket, and the client reads it on its
 * next turn, before any timer due by then (libevent runs the callbacks of
 * ready sockets before those of timers): so it always comes in before the
 * second hasher_timeout, after which the client would take the hasher as
 * wedged, however long the machine stalls.
 */
static void
late_cb(enum hc_status st, const char *stored, void *arg)
{
	rec_text(arg, st, stored);
	if (st != HC_TIMEOUT)
		return;
	/* The client wrote the request before its timer ran, but maybe in
	 * this same turn, before the fake's. */
	fake_pull();
	assert_true(fk.nreqs > 0);
	answer_hash(req_id(fk.nreqs - 1, PROTO_HASH), "$warden$late");
}

/*
 * For SHORT_MS: a hash that the fake answers with stored, in *r.  A stall
 * of SHORT_MS before the answer is read times it out (late_cb answers it
 * then, so nothing is torn down), and it is asked again, up to 20 times:
 * r->st is HC_OK unless the answers in time are not taken.
 */
static void
hash_in_time(struct rec *r, const char *stored)
{
	size_t	n;
	int	i;

	for (i = 0; i < 20; i++) {
		memset(r, 0, sizeof(*r));
		n = fk.nreqs;
		assert_non_null(hc_hash(hc, UID1, PW, 3, late_cb, r, NULL));
		RUN_UNTIL(fk.nreqs > n || r->calls == 1, WAIT_MS);
		if (r->calls == 0)
			answer_hash(req_id(n, PROTO_HASH), stored);
		RUN_UNTIL(r->calls == 1, WAIT_MS);
		if (r->st != HC_TIMEOUT)
			return;
		RUN_UNTIL(queue_hash() == 0, WAIT_MS);
	}
}

/* ---- tests ---- */

static void
test_handshake(void **state)
{
	const struct proto_pubkeys_ans	*k;
	struct hc_params		 p = params();
	struct hc_stats			 st;
	struct rec			 r = { 0 };
	enum hc_status			 why = HC_OK;

	hc = hc_new(base, &p);
	assert_non_null(hc);
	/* Nothing before the start, nor before the handshake is done. */
	assert_null(hc_hash(hc, UID1, PW, sizeof(PW) - 1, hash_cb, &r, &why));
	assert_int_equal(why, HC_DOWN);
	assert_int_equal(hc_pubkeys(hc)->nkeys, 0);
	assert_int_equal(hc_start(hc), 0);
	assert_int_equal(spawn_calls, 1);
	assert_false(hc_ready(hc));
	RUN_UNTIL(hc_ready(hc), WAIT_MS);
	assert_int_equal(fk.nhello, 1);
	assert_int_equal(fk.npubkeys, 1);
	assert_int_equal(keys_calls, 1);
	k = hc_pubkeys(hc);
	assert_int_equal(k->nkeys, 2);
	assert_string_equal(k->keys[0].kid, "old");
	assert_string_equal(k->keys[1].kid, "cur");
	assert_true(k->keys[1].current);
	assert_memory_equal(k->keys[1].pk, fk.keys.keys[1].pk, PROTO_PUBKEY_LEN);
	hc_get_stats(hc, &st);
	assert_true(st.ready);
	assert_int_equal(st.restarts, 1);
	assert_int_equal(st.queue_hash, 0);

	/* A refresh asks again and calls on_keys again. */
	fk.keys.nkeys = 1;
	strlcpy(fk.keys.keys[0].kid, "newer", sizeof(fk.keys.keys[0].kid));
	fk.keys.keys[0].current = true;
	assert_int_equal(hc_refresh_pubkeys(hc), 0);
	RUN_UNTIL(keys_calls == 2, WAIT_MS);
	assert_int_equal(hc_pubkeys(hc)->nkeys, 1);
	assert_string_equal(hc_pubkeys(hc)->keys[0].kid, "newer");
	assert_true(hc_ready(hc));
}

static void
test_requests_out_of_order(void **state)
{
	struct hc_params		 p = params();
	struct rec			 h1 = { 0 }, h2 = { 0 }, v = { 0 }, s = { 0 };
	struct proto_hash_req		 hr;
	struct proto_verify_req		 vr;
	struct proto_sign_req		 sr;
	struct hc_stats			 st;

	p.queue_max = 3;
	start_ready(&p);
	assert_non_null(hc_hash(hc, UID1, PW, sizeof(PW) - 1, hash_cb, &h1,
	    NULL));
	assert_non_null(hc_hash(hc, UID2, (const uint8_t *)"x", 1, hash_cb,
	    &h2, NULL));
	assert_non_null(hc_verify(hc, UID1, PW, sizeof(PW) - 1, "$warden$old",
	    verify_cb, &v, NULL));
	memset(&sr, 0, sizeof(sr));
	strlcpy(sr.sub, UID1, sizeof(sr.sub));
	strlcpy(sr.username, "alice", sizeof(sr.username));
	sr.nroles = 1;
	strlcpy(sr.roles[0], "admin", sizeof(sr.roles[0]));
	sr.ver = 5;
	sr.ttl = 900;
	assert_non_null(hc_sign(hc, &sr, sign_cb, &s, NULL));
	/* Nothing is called back from inside the request. */
	assert_int_equal(h1.calls + h2.calls + v.calls + s.calls, 0);
	RUN_UNTIL(fk.nreqs == 4, WAIT_MS);

	/* What went over the wire. */
	assert_int_equal(proto_decode_hash_req(fk.reqs[0].p, fk.reqs[0].h.len,
	    &hr), 0);
	assert_string_equal(hr.user_id, UID1);
	assert_int_equal(hr.password_len, sizeof(PW) - 1);
	assert_memory_equal(hr.password, PW, sizeof(PW) - 1);
	assert_int_equal(proto_decode_verify_req(fk.reqs[2].p,
	    fk.reqs[2].h.len, &vr), 0);
	assert_string_equal(vr.stored, "$warden$old");
	memset(&sr, 0, sizeof(sr));
	assert_int_equal(proto_decode_sign_req(fk.reqs[3].p, fk.reqs[3].h.len,
	    &sr), 0);
	assert_string_equal(sr.username, "alice");
	assert_int_equal(sr.ver, 5);
	/* distinct ids */
	assert_int_not_equal(fk.reqs[0].h.id, fk.reqs[1].h.id);
	assert_int_not_equal(fk.reqs[1].h.id, fk.reqs[2].h.id);

	hc_get_stats(hc, &st);
	assert_int_equal(st.queue_hash, 3);
	assert_int_equal(st.queue_sign, 1);

	/* Answers in reverse order, each to its own callback. */
	answer_sign(req_id(3, PROTO_SIGN), "a.b.c");
	answer_verify(req_id(2, PROTO_VERIFY), true, "$warden$new");
	answer_hash(req_id(1, PROTO_HASH), "$warden$two");
	answer_hash(req_id(0, PROTO_HASH), "$warden$one");
	RUN_UNTIL(h1.calls == 1, WAIT_MS);
	assert_int_equal(h1.st, HC_OK);
	assert_string_equal(h1.text, "$warden$one");
	assert_int_equal(h2.st, HC_OK);
	assert_string_equal(h2.text, "$warden$two");
	assert_int_equal(v.st, HC_OK);
	assert_true(v.match);
	assert_string_equal(v.text, "$warden$new");
	assert_int_equal(s.st, HC_OK);
	assert_string_equal(s.text, "a.b.c");
	assert_true(s.order < v.order && v.order < h2.order &&
	    h2.order < h1.order);
	assert_int_equal(h1.calls + h2.calls + v.calls + s.calls, 4);

	hc_get_stats(hc, &st);
	assert_int_equal(st.queue_hash, 0);
	assert_int_equal(st.queue_sign, 0);
	assert_int_equal(st.hash_count, 3);
	assert_int_equal(st.sign_count, 1);
	assert_true(st.hash_latency_sum > 0.0);
	assert_true(hc_ready(hc));
	assert_false(fk.eof);
}

static void
test_queue_full(void **state)
{
	struct hc_params	 p = params();
	struct rec		 h[3] = { 0 }, s[3] = { 0 }, v = { 0 };
	struct proto_sign_req	 sr;
	enum hc_status		 why = HC_OK;
	struct hc_stats		 st;

	start_ready(&p);		/* queue_max 2, sign_queue_max 2 */
	assert_non_null(hc_hash(hc, UID1, PW, 3, hash_cb, &h[0], NULL));
	assert_non_null(hc_verify(hc, UID1, PW, 3, "", verify_cb, &v, NULL));
	assert_null(hc_hash(hc, UID1, PW, 3, hash_cb, &h[1], &why));
	assert_int_equal(why, HC_BUSY);
	why = HC_OK;
	assert_null(hc_verify(hc, UID1, PW, 3, "", verify_cb, &h[1], &why));
	assert_int_equal(why, HC_BUSY);

	/* Signs are not refused because hashes fill the queue... */
	memset(&sr, 0, sizeof(sr));
	strlcpy(sr.sub, UID1, sizeof(sr.sub));
	strlcpy(sr.username, "alice", sizeof(sr.username));
	assert_non_null(hc_sign(hc, &sr, sign_cb, &s[0], NULL));
	assert_non_null(hc_sign(hc, &sr, sign_cb, &s[1], NULL));
	/* ...but have their own bound. */
	why = HC_OK;
	assert_null(hc_sign(hc, &sr, sign_cb, &s[2], &why));
	assert_int_equal(why, HC_BUSY);
	/* and a refresh of the keys counts there too */
	assert_int_equal(hc_refresh_pubkeys(hc), -1);
	hc_get_stats(hc, &st);
	assert_int_equal(st.busy, 4);

	RUN_UNTIL(fk.nreqs == 4, WAIT_MS);
	answer_sign(req_id(2, PROTO_SIGN), "s.i.g");
	RUN_UNTIL(s[0].calls == 1, WAIT_MS);
	assert_int_equal(s[0].st, HC_OK);
	assert_string_equal(s[0].text, "s.i.g");
	assert_int_equal(h[0].calls + v.calls, 0);

	/* An answered hash frees its slot. */
	answer_hash(req_id(0, PROTO_HASH), "$warden$x");
	RUN_UNTIL(h[0].calls == 1, WAIT_MS);
	assert_non_null(hc_hash(hc, UID1, PW, 3, hash_cb, &h[2], NULL));
	assert_null(hc_hash(hc, UID1, PW, 3, hash_cb, &h[1], &why));
	assert_int_equal(h[1].calls, 0);	/* refusals never call back */
	assert_int_equal(s[2].calls, 0);

	/* What is still in flight is failed now, while the recs that its
	 * callbacks write to are alive (not in teardown()). */
	hc_free(hc);
	hc = NULL;
}

static void
test_timeout(void **state)
{
	struct hc_params	 p = params();
	struct rec		 h = { 0 }, h2 = { 0 };
	struct hc_stats		 st;
	double			 t0;
	int			 n;

	p.timeout_ms = SHORT_MS;
	start_ready(&p);
	n = spawn_calls;	/* more than 1 if a handshake timed out */
	t0 = now_ms();
	assert_non_null(hc_hash(hc, UID1, PW, 3, late_cb, &h, NULL));
	RUN_UNTIL(h.calls == 1, WAIT_MS);
	assert_int_equal(h.st, HC_TIMEOUT);
	assert_false(h.had_text);
	assert_true(now_ms() - t0 >= SHORT_MS - 10);
	hc_get_stats(hc, &st);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.queue_hash, 1);	/* the hasher still works on it */

	/* The late answer (late_cb has sent it) is dropped: no second call,
	 * no teardown. */
	RUN_UNTIL(queue_hash() == 0, WAIT_MS);
	run_for(20);
	assert_int_equal(h.calls, 1);
	assert_true(hc_ready(hc));
	assert_false(fk.eof);
	assert_int_equal(spawn_calls, n);

	/* The connection is still good. */
	hash_in_time(&h2, "$warden$ok");
	assert_int_equal(h2.st, HC_OK);
	assert_string_equal(h2.text, "$warden$ok");
	assert_false(fk.eof);
	assert_int_equal(spawn_calls, n);
}

static void
test_wedged(void **state)
{
	struct hc_params	p = params();
	struct rec		h = { 0 }, s = { 0 };
	struct proto_sign_req	sr;
	int			n, closes;

	p.timeout_ms = SHORT_MS;
	start_ready(&p);
	n = spawn_calls;	/* more than 1 if a handshake timed out */
	closes = fk.ncloses;
	assert_non_null(hc_hash(hc, UID1, PW, 3, hash_cb, &h, NULL));
	RUN_UNTIL(h.calls == 1, WAIT_MS);
	assert_int_equal(h.st, HC_TIMEOUT);
	/* A sign sent later is failed when the hasher is found wedged. */
	memset(&sr, 0, sizeof(sr));
	strlcpy(sr.sub, UID1, sizeof(sr.sub));
	strlcpy(sr.username, "alice", sizeof(sr.username));
	assert_non_null(hc_sign(hc, &sr, sign_cb, &s, NULL));
	RUN_UNTIL(fk.ncloses > closes, WAIT_MS);
	RUN_UNTIL(s.calls == 1, WAIT_MS);
	assert_true(s.st == HC_DOWN || s.st == HC_TIMEOUT);
	assert_int_equal(h.calls, 1);
	/* Started again (a handshake under SHORT_MS may take more than one
	 * try on a loaded machine, so count spawns loosely). */
	RUN_UNTIL(hc_ready(hc), WAIT_MS);
	assert_true(spawn_calls > n);
}

static struct hc_req	*victim;
static struct rec	 reentry;

/* In a failure callback: new requests are refused at once, and another
 * pending request can still be cancelled. */
static void
down_cb(enum hc_status st, const char *stored, void *arg)
{
	enum hc_status why = HC_OK;

	rec_text(arg, st, stored);
	assert_false(hc_ready(hc));
	assert_null(hc_hash(hc, UID1, PW, 3, hash_cb, &reentry, &why));
	assert_int_equal(why, HC_DOWN);
	if (victim != NULL) {
		hc_cancel(victim);
		victim = NULL;
	}
}

static void
test_hasher_closes(void **state)
{
	struct hc_params	 p = params();
	struct rec		 h1 = { 0 }, h2 = { 0 }, s = { 0 }, h3 = { 0 };
	struct proto_sign_req	 sr;
	struct hc_stats		 st;
	enum hc_status		 why = HC_OK;

	start_ready(&p);
	assert_non_null(hc_hash(hc, UID1, PW, 3, down_cb, &h1, NULL));
	assert_non_null(hc_verify(hc, UID1, PW, 3, "$x", verify_cb, &h2, NULL));
	memset(&sr, 0, sizeof(sr));
	strlcpy(sr.sub, UID1, sizeof(sr.sub));
	strlcpy(sr.username, "alice", sizeof(sr.username));
	assert_non_null(victim = hc_sign(hc, &sr, sign_cb, &s, NULL));
	RUN_UNTIL(fk.nreqs == 3, WAIT_MS);

	fake_close();
	RUN_UNTIL(h1.calls == 1, WAIT_MS);
	assert_int_equal(h1.st, HC_DOWN);
	assert_int_equal(h2.calls, 1);
	assert_int_equal(h2.st, HC_DOWN);
	assert_false(h2.match);
	assert_false(h2.had_text);
	/* All at once, in the same turn of the loop. */
	assert_int_equal(h1.iter, h2.iter);
	/* The sign was cancelled by the first callback. */
	assert_int_equal(s.calls, 0);
	assert_int_equal(reentry.calls, 0);
	assert_false(hc_ready(hc));
	assert_null(hc_hash(hc, UID1, PW, 3, hash_cb, &h3, &why));
	assert_int_equal(why, HC_DOWN);
	hc_get_stats(hc, &st);
	assert_int_equal(st.failures, 2);
	assert_int_equal(st.queue_hash, 0);
	assert_int_equal(st.queue_sign, 0);

	/* Restarted after the back-off; keys are kept meanwhile. */
	assert_int_equal(hc_pubkeys(hc)->nkeys, 2);
	RUN_UNTIL(hc_ready(hc), WAIT_MS);
	assert_int_equal(spawn_calls, 2);
	assert_int_equal(fk.nhello, 2);	/* one per connection */
	assert_non_null(hc_hash(hc, UID1, PW, 3, hash_cb, &h3, NULL));
	RUN_UNTIL(fk.nreqs == 1, WAIT_MS);
	answer_hash(req_id(0, PROTO_HASH), "$warden$again");
	RUN_UNTIL(h3.calls == 1, WAIT_MS);
	assert_int_equal(h3.st, HC_OK);
}

enum bad_kind {
	BAD_WRONG_TYPE, BAD_UNKNOWN_ID, BAD_RESERVED, BAD_TRAILING,
	BAD_TOO_LONG, BAD_EMPTY_STORED, BAD_REQUEST_TYPE, BAD_TRUNCATED_FIELD,
	BAD_N
};

static void
send_bad(enum bad_kind k, uint32_t id)
{
	struct proto_buf	b;
	struct proto_hash_ans	a;
	uint8_t			raw[64];

	memset(&a, 0, sizeof(a));
	strlcpy(a.stored, "$warden$x", sizeof(a.stored));
	proto_buf_init(&b);
	switch (k) {
	case BAD_WRONG_TYPE:
		answer_sign(id, "a.b.c");
		return;
	case BAD_UNKNOWN_ID:
		answer_hash(id + 1000, "$warden$x");
		return;
	case BAD_RESERVED:
		assert_int_equal(proto_encode_hash_ans(&b, id, &a), 0);
		b.data[11] = 1;
		break;
	case BAD_TRAILING:
		/* a valid R_HASH with one byte more in its payload */
		assert_int_equal(proto_encode_hash_ans(&b, id, &a), 0);
		memcpy(raw, b.data, b.len);
		raw[b.len] = 0;
		raw[3]++;
		fake_send_raw(raw, b.len + 1);
		proto_buf_free(&b);
		return;
	case BAD_TOO_LONG:
		memset(raw, 0, PROTO_HEADER_SIZE);
		be32enc(raw, 0x7f000000);	/* a length far past the cap */
		be32enc(raw + 4, id);
		be16enc(raw + 8, PROTO_R_HASH);
		fake_send_raw(raw, PROTO_HEADER_SIZE);
		return;
	case BAD_EMPTY_STORED:
		answer_hash(id, "");
		return;
	case BAD_REQUEST_TYPE:
		/* the hasher sends a request back */
		assert_int_equal(proto_encode_pubkeys_req(&b, id), 0);
		break;
	case BAD_TRUNCATED_FIELD:
		/* R_HASH whose string claims 100 bytes and has 3 */
		memset(raw, 0, sizeof(raw));
		be32enc(raw, 7);
		be32enc(raw + 4, id);
		be16enc(raw + 8, PROTO_R_HASH);
		be32enc(raw + 12, 100);
		memcpy(raw + 16, "abc", 3);
		fake_send_raw(raw, 19);
		return;
	case BAD_N:
		break;
	}
	fake_send(&b);
}

static void
test_malformed_answers(void **state)
{
	struct hc_params	p = params();
	struct rec		h, s;
	struct proto_sign_req	sr;
	int			k, closes;

	memset(&sr, 0, sizeof(sr));
	strlcpy(sr.sub, UID1, sizeof(sr.sub));
	strlcpy(sr.username, "alice", sizeof(sr.username));
	for (k = 0; k < BAD_N; k++) {
		memset(&h, 0, sizeof(h));
		memset(&s, 0, sizeof(s));
		fake_reset();
		spawn_calls = 0;
		start_ready(&p);
		assert_non_null(hc_hash(hc, UID1, PW, 3, hash_cb, &h, NULL));
		assert_non_null(hc_sign(hc, &sr, sign_cb, &s, NULL));
		RUN_UNTIL(fk.nreqs == 2, WAIT_MS);
		closes = fk.ncloses;
		send_bad((enum bad_kind)k, req_id(0, PROTO_HASH));
		/* everything in flight fails, the connection is torn down */
		RUN_UNTIL(h.calls == 1 && s.calls == 1, WAIT_MS);
		if (h.st != HC_DOWN || s.st != HC_DOWN)
			fail_msg("case %d: %s %s", k, hc_status_str(h.st),
			    hc_status_str(s.st));
		RUN_UNTIL(fk.ncloses > closes, WAIT_MS);
		assert_false(hc_ready(hc));
		/* and the hasher comes back */
		RUN_UNTIL(hc_ready(hc), WAIT_MS);
		assert_int_equal(spawn_calls, 2);
		hc_free(hc);
		hc = NULL;
	}
}

static void
test_cancel(void **state)
{
	struct hc_params	 p = params();
	struct rec		 h = { 0 }, t = { 0 }, w = { 0 };
	struct hc_req		*r;
	struct hc_stats		 st;

	start_ready(&p);
	assert_non_null(r = hc_hash(hc, UID1, PW, 3, hash_cb, &h, NULL));
	hc_cancel(r);
	RUN_UNTIL(fk.nreqs == 1, WAIT_MS);
	hc_get_stats(hc, &st);
	assert_int_equal(st.queue_hash, 1);	/* still in flight */
	answer_hash(req_id(0, PROTO_HASH), "$warden$x");
	RUN_UNTIL(queue_hash() == 0, WAIT_MS);
	run_for(10);
	assert_int_equal(h.calls, 0);
	assert_false(fk.eof);
	assert_true(hc_ready(hc));

	/*
	 * Cancelled, then timed out: still no call, not counted, nothing
	 * torn down.  With SHORT_MS, on a client of its own; w, sent right
	 * after t, times out right after it (and before t's second timeout,
	 * however slow the machine) and looks.
	 */
	hc_free(hc);
	fake_reset();
	p.timeout_ms = SHORT_MS;
	start_ready(&p);
	assert_non_null(r = hc_hash(hc, UID1, PW, 3, hash_cb, &t, NULL));
	hc_cancel(r);
	assert_non_null(hc_hash(hc, UID1, PW, 3, hash_cb, &w, NULL));
	RUN_UNTIL(w.calls == 1, WAIT_MS);
	assert_int_equal(w.st, HC_TIMEOUT);
	assert_int_equal(t.calls, 0);
	assert_int_equal(w.timeouts, 1);	/* w's own */
	assert_true(w.ready);
}

static void
test_error_answers(void **state)
{
	struct hc_params	 p = params();
	struct rec		 a = { 0 }, b = { 0 }, c = { 0 };

	start_ready(&p);
	assert_non_null(hc_hash(hc, UID1, PW, 3, hash_cb, &a, NULL));
	assert_non_null(hc_verify(hc, UID1, PW, 3, "", verify_cb, &b, NULL));
	RUN_UNTIL(fk.nreqs == 2, WAIT_MS);
	answer_error(req_id(0, PROTO_HASH), PROTO_ERR_BUSY);
	answer_error(req_id(1, PROTO_VERIFY), PROTO_ERR_INVALID);
	RUN_UNTIL(a.calls == 1 && b.calls == 1, WAIT_MS);
	assert_int_equal(a.st, HC_BUSY);
	assert_int_equal(b.st, HC_INVALID);
	assert_false(b.match);
	assert_non_null(hc_hash(hc, UID1, PW, 3, hash_cb, &c, NULL));
	RUN_UNTIL(fk.nreqs == 3, WAIT_MS);
	answer_error(req_id(2, PROTO_HASH), PROTO_ERR_INTERNAL);
	RUN_UNTIL(c.calls == 1, WAIT_MS);
	assert_int_equal(c.st, HC_ERROR);
	assert_true(hc_ready(hc));
	assert_false(fk.eof);
}

/* Parameters out of range: NULL with EINVAL, nothing started. */
static void
test_new_refuses(void **state)
{
	struct hc_params p = params();

	p.queue_max = 0;
	errno = 0;
	assert_null(hc_new(base, &p));
	assert_int_equal(errno, EINVAL);
	p = params();
	p.timeout_ms = 0;
	errno = 0;
	assert_null(hc_new(base, &p));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(hc_new(NULL, &p));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(spawn_calls, 0);
}

static void
test_version_mismatch(void **state)
{
	struct hc_params p = params();

	fk.hello_version = PROTO_VERSION + 1;
	hc = hc_new(base, &p);
	assert_int_equal(hc_start(hc), 0);
	RUN_UNTIL(spawn_calls >= 3, WAIT_MS);
	assert_false(hc_ready(hc));
	assert_int_equal(fk.npubkeys, 0);
	/* once the hasher speaks our version, it works */
	fk.hello_version = PROTO_VERSION;
	RUN_UNTIL(hc_ready(hc), WAIT_MS);
}

static void
test_handshake_failures(void **state)
{
	struct hc_params p = params();

	/* A key set without a current key is refused. */
	fk.keys.keys[1].current = false;
	hc = hc_new(base, &p);
	assert_int_equal(hc_start(hc), 0);
	RUN_UNTIL(spawn_calls >= 2, WAIT_MS);
	assert_false(hc_ready(hc));
	hc_free(hc);

	/* No answer to HELLO: timed out, restarted. */
	p.timeout_ms = SHORT_MS;
	fake_reset();
	fk.answer_hello = false;
	spawn_calls = 0;
	hc = hc_new(base, &p);
	assert_int_equal(hc_start(hc), 0);
	RUN_UNTIL(spawn_calls >= 2, WAIT_MS);
	assert_false(hc_ready(hc));
	hc_free(hc);

	/* No answer to PUBKEYS: the same. */
	fake_reset();
	fk.answer_keys = false;
	spawn_calls = 0;
	hc = hc_new(base, &p);
	assert_int_equal(hc_start(hc), 0);
	RUN_UNTIL(spawn_calls >= 2, WAIT_MS);
	assert_false(hc_ready(hc));
}

static void
test_backoff(void **state)
{
	struct hc_params	p = params();
	double			t0;

	/* 20, 40, 80, 80, ... ms between attempts while spawning fails */
	spawn_fail = true;
	p.backoff_min_ms = 20;
	p.backoff_max_ms = 80;
	hc = hc_new(base, &p);
	t0 = now_ms();
	assert_int_equal(hc_start(hc), 0);
	assert_int_equal(spawn_calls, 1);
	RUN_UNTIL(spawn_calls == 5, WAIT_MS);
	/* 20 + 40 + 80 + 80 = 220 ms at least */
	assert_true(now_ms() - t0 >= 215);
	assert_false(hc_ready(hc));
	spawn_fail = false;
	RUN_UNTIL(hc_ready(hc), WAIT_MS);
}

static void
test_invalid_arguments(void **state)
{
	struct hc_params	p = params();
	struct rec		r = { 0 };
	struct proto_sign_req	sr;
	uint8_t			big[PROTO_PASSWORD_MAX + 1];
	char			stored[PROTO_STORED_MAX + 2];
	enum hc_status		why;

	start_ready(&p);
	memset(big, 'a', sizeof(big));
	why = HC_OK;
	assert_null(hc_hash(hc, "not-a-uuid", PW, 3, hash_cb, &r, &why));
	assert_int_equal(why, HC_INVALID);
	why = HC_OK;
	assert_null(hc_hash(hc, UID1, big, sizeof(big), hash_cb, &r, &why));
	assert_int_equal(why, HC_INVALID);
	assert_non_null(hc_hash(hc, UID1, big, PROTO_PASSWORD_MAX, hash_cb, &r,
	    NULL));
	memset(stored, 'x', sizeof(stored));
	stored[sizeof(stored) - 1] = '\0';
	why = HC_OK;
	assert_null(hc_verify(hc, UID1, PW, 3, stored, verify_cb, &r, &why));
	assert_int_equal(why, HC_INVALID);
	memset(&sr, 0, sizeof(sr));
	sr.nroles = PROTO_ROLES_MAX + 1;
	why = HC_OK;
	assert_null(hc_sign(hc, &sr, sign_cb, &r, &why));
	assert_int_equal(why, HC_INVALID);
	assert_string_equal(hc_status_str(HC_BUSY), "busy");
	assert_string_equal(hc_status_str(HC_DOWN), "down");

	/* What is still in flight is failed now, while the recs that its
	 * callbacks write to are alive (not in teardown()). */
	hc_free(hc);
	hc = NULL;
}


/* ---- OpenID: SIGN_ID and JWT_CHECK ---- */

#define CLIENT	"client-a"

struct oidc_rec {
	int				calls;
	enum hc_status			st;
	bool				had_ans;
	struct proto_sign_id_ans	id;
	struct proto_jwt_check_ans	chk;
};

static void
sign_id_cb(enum hc_status st, const struct proto_sign_id_ans *ans, void *arg)
{
	struct oidc_rec *r = arg;

	r->calls++;
	r->st = st;
	r->had_ans = ans != NULL;
	if (ans != NULL)
		r->id = *ans;
}

static void
jwt_check_cb(enum hc_status st, const struct proto_jwt_check_ans *ans,
    void *arg)
{
	struct oidc_rec *r = arg;

	r->calls++;
	r->st = st;
	r->had_ans = ans != NULL;
	if (ans != NULL)
		r->chk = *ans;
}

static void
sign_id_req_fill(struct proto_sign_id_req *r)
{
	memset(r, 0, sizeof(*r));
	r->alg = PROTO_ALG_RS256;
	strlcpy(r->sub, UID1, sizeof(r->sub));
	strlcpy(r->aud, CLIENT, sizeof(r->aud));
	strlcpy(r->nonce, "n-0S6", sizeof(r->nonce));
	r->auth_time = 1800000000;
	r->namr = 2;
	strlcpy(r->amr[0], "pwd", sizeof(r->amr[0]));
	strlcpy(r->amr[1], "otp", sizeof(r->amr[1]));
	r->ttl = 300;
	strlcpy(r->sid, "sid-1", sizeof(r->sid));
	strlcpy(r->access_token, "h.p.s", sizeof(r->access_token));
}

static void
answer_sign_id(uint32_t id, const char *jwt, uint32_t exp)
{
	struct proto_buf	 b;
	struct proto_sign_id_ans a;

	memset(&a, 0, sizeof(a));
	strlcpy(a.jwt, jwt, sizeof(a.jwt));
	a.exp = exp;
	proto_buf_init(&b);
	assert_int_equal(proto_encode_sign_id_ans(&b, id, &a), 0);
	fake_send(&b);
}

static void
answer_jwt_check(uint32_t id, bool valid, const char *sub, const char *aud,
    const char *sid)
{
	struct proto_buf	   b;
	struct proto_jwt_check_ans a;

	memset(&a, 0, sizeof(a));
	a.valid = valid;
	strlcpy(a.sub, sub, sizeof(a.sub));
	strlcpy(a.aud, aud, sizeof(a.aud));
	strlcpy(a.sid, sid, sizeof(a.sid));
	proto_buf_init(&b);
	assert_int_equal(proto_encode_jwt_check_ans(&b, id, &a), 0);
	fake_send(&b);
}

/* The requests go over the wire as they were given, and each answer
 * reaches its callback decoded. */
static void
test_sign_id_jwt_check_answers(void **state)
{
	struct hc_params		 p = params();
	struct proto_sign_id_req	 sr, got;
	struct proto_jwt_check_req	 cr;
	struct oidc_rec			 s = { 0 }, v = { 0 }, n = { 0 };

	p.sign_queue_max = 3;	/* both count against the sign queue */
	start_ready(&p);
	sign_id_req_fill(&sr);
	assert_non_null(hc_sign_id(hc, &sr, sign_id_cb, &s, NULL));
	assert_non_null(hc_jwt_check(hc, "h.c.s", jwt_check_cb, &v, NULL));
	assert_non_null(hc_jwt_check(hc, "x.y.z", jwt_check_cb, &n, NULL));
	assert_int_equal(s.calls + v.calls + n.calls, 0);
	RUN_UNTIL(fk.nreqs == 3, WAIT_MS);

	assert_int_equal(proto_decode_sign_id_req(fk.reqs[0].p,
	    fk.reqs[0].h.len, &got), 0);
	assert_int_equal(fk.reqs[0].h.type, PROTO_SIGN_ID);
	assert_int_equal(got.alg, PROTO_ALG_RS256);
	assert_string_equal(got.sub, UID1);
	assert_string_equal(got.aud, CLIENT);
	assert_string_equal(got.nonce, "n-0S6");
	assert_int_equal(got.auth_time, 1800000000);
	assert_int_equal(got.namr, 2);
	assert_string_equal(got.amr[1], "otp");
	assert_string_equal(got.sid, "sid-1");
	assert_string_equal(got.access_token, "h.p.s");
	assert_int_equal(proto_decode_jwt_check_req(fk.reqs[1].p,
	    fk.reqs[1].h.len, &cr), 0);
	assert_int_equal(fk.reqs[1].h.type, PROTO_JWT_CHECK);
	assert_string_equal(cr.token, "h.c.s");

	/* In reverse order, each to its own callback. */
	answer_jwt_check(req_id(2, PROTO_JWT_CHECK), false, "", "", "");
	answer_jwt_check(req_id(1, PROTO_JWT_CHECK), true, UID2, CLIENT,
	    "sid-9");
	answer_sign_id(req_id(0, PROTO_SIGN_ID), "id.token.sig", 1800000300);
	RUN_UNTIL(s.calls == 1 && v.calls == 1 && n.calls == 1, WAIT_MS);
	assert_int_equal(s.st, HC_OK);
	assert_true(s.had_ans);
	assert_string_equal(s.id.jwt, "id.token.sig");
	assert_int_equal(s.id.exp, 1800000300);
	assert_int_equal(v.st, HC_OK);
	assert_true(v.chk.valid);
	assert_string_equal(v.chk.sub, UID2);
	assert_string_equal(v.chk.aud, CLIENT);
	assert_string_equal(v.chk.sid, "sid-9");
	/* A token that is not ours is an answer, not an error. */
	assert_int_equal(n.st, HC_OK);
	assert_true(n.had_ans);
	assert_false(n.chk.valid);
	assert_true(hc_ready(hc));
	assert_false(fk.eof);
}

/* The hasher's error answers map to their statuses, with no answer
 * struct, and the connection stays. */
static void
test_sign_id_jwt_check_errors(void **state)
{
	struct hc_params		 p = params();
	struct proto_sign_id_req	 sr;
	struct oidc_rec			 a = { 0 }, b = { 0 }, c = { 0 };
	struct oidc_rec			 d = { 0 };

	p.sign_queue_max = 4;
	start_ready(&p);
	sign_id_req_fill(&sr);
	assert_non_null(hc_sign_id(hc, &sr, sign_id_cb, &a, NULL));
	assert_non_null(hc_sign_id(hc, &sr, sign_id_cb, &b, NULL));
	assert_non_null(hc_jwt_check(hc, "h.c.s", jwt_check_cb, &c, NULL));
	assert_non_null(hc_jwt_check(hc, "h.c.s", jwt_check_cb, &d, NULL));
	RUN_UNTIL(fk.nreqs == 4, WAIT_MS);
	answer_error(req_id(0, PROTO_SIGN_ID), PROTO_ERR_INVALID);
	answer_error(req_id(1, PROTO_SIGN_ID), PROTO_ERR_INTERNAL);
	answer_error(req_id(2, PROTO_JWT_CHECK), PROTO_ERR_BUSY);
	answer_error(req_id(3, PROTO_JWT_CHECK), 77);	/* unknown code */
	RUN_UNTIL(a.calls + b.calls + c.calls + d.calls == 4, WAIT_MS);
	assert_int_equal(a.st, HC_INVALID);
	assert_false(a.had_ans);
	assert_int_equal(b.st, HC_ERROR);
	assert_false(b.had_ans);
	assert_int_equal(c.st, HC_BUSY);
	assert_false(c.had_ans);
	assert_int_equal(d.st, HC_ERROR);
	assert_true(hc_ready(hc));
	assert_false(fk.eof);
}

enum oidc_bad {
	OB_EMPTY_ID_TOKEN,	/* R_SIGN_ID without a token */
	OB_SIGN_ID_AS_SIGN,	/* R_SIGN to a SIGN_ID */
	OB_SIGN_ID_TRAILING,	/* R_SIGN_ID with a byte more */
	OB_VALID_NO_SUB,	/* valid, sub not a uuid */
	OB_VALID_BAD_AUD,	/* valid, aud not a client id */
	OB_INVALID_WITH_SUB,	/* not valid, yet names a user */
	OB_INVALID_WITH_SID,	/* not valid, yet names a session */
	OB_CHECK_BAD_BOOL,	/* valid 2 */
	OB_N
};

/* A malformed answer to an OpenID request is a broken hasher: every
 * request in flight fails HC_DOWN, the connection is torn down and the
 * hasher comes back. */
static void
test_sign_id_jwt_check_malformed_answers(void **state)
{
	struct hc_params		 p = params();
	struct proto_sign_id_req	 sr;
	struct proto_buf		 b;
	struct proto_sign_id_ans	 a;
	struct oidc_rec			 s, v;
	uint32_t			 sid_id, chk_id;
	uint8_t				 raw[PROTO_HEADER_SIZE + 64];
	int				 k, closes;

	sign_id_req_fill(&sr);
	for (k = 0; k < OB_N; k++) {
		memset(&s, 0, sizeof(s));
		memset(&v, 0, sizeof(v));
		fake_reset();
		spawn_calls = 0;
		start_ready(&p);
		assert_non_null(hc_sign_id(hc, &sr, sign_id_cb, &s, NULL));
		assert_non_null(hc_jwt_check(hc, "h.c.s", jwt_check_cb, &v,
		    NULL));
		RUN_UNTIL(fk.nreqs == 2, WAIT_MS);
		sid_id = req_id(0, PROTO_SIGN_ID);
		chk_id = req_id(1, PROTO_JWT_CHECK);
		closes = fk.ncloses;
		switch ((enum oidc_bad)k) {
		case OB_EMPTY_ID_TOKEN:
			answer_sign_id(sid_id, "", 1800000300);
			break;
		case OB_SIGN_ID_AS_SIGN:
			answer_sign(sid_id, "a.b.c");
			break;
		case OB_SIGN_ID_TRAILING:
			memset(&a, 0, sizeof(a));
			strlcpy(a.jwt, "a.b.c", sizeof(a.jwt));
			proto_buf_init(&b);
			assert_int_equal(proto_encode_sign_id_ans(&b, sid_id,
			    &a), 0);
			assert_true(b.len + 1 <= sizeof(raw));
			memcpy(raw, b.data, b.len);
			raw[b.len] = 'x';
			raw[3]++;
			fake_send_raw(raw, b.len + 1);
			proto_buf_free(&b);
			break;
		case OB_VALID_NO_SUB:
			answer_jwt_check(chk_id, true, "alice", CLIENT, "");
			break;
		case OB_VALID_BAD_AUD:
			answer_jwt_check(chk_id, true, UID1, "", "");
			break;
		case OB_INVALID_WITH_SUB:
			answer_jwt_check(chk_id, false, UID1, "", "");
			break;
		case OB_INVALID_WITH_SID:
			answer_jwt_check(chk_id, false, "", "", "sid-1");
			break;
		case OB_CHECK_BAD_BOOL:
			/* u8 2, then three empty strings */
			memset(raw, 0, sizeof(raw));
			be32enc(raw, 13);
			be32enc(raw + 4, chk_id);
			be16enc(raw + 8, PROTO_R_JWT_CHECK);
			raw[PROTO_HEADER_SIZE] = 2;
			fake_send_raw(raw, PROTO_HEADER_SIZE + 13);
			break;
		case OB_N:
			break;
		}
		RUN_UNTIL(s.calls == 1 && v.calls == 1, WAIT_MS);
		if (s.st != HC_DOWN || v.st != HC_DOWN || s.had_ans ||
		    v.had_ans)
			fail_msg("case %d: %s %s", k, hc_status_str(s.st),
			    hc_status_str(v.st));
		RUN_UNTIL(fk.ncloses > closes, WAIT_MS);
		assert_false(hc_ready(hc));
		RUN_UNTIL(hc_ready(hc), WAIT_MS);
		assert_int_equal(spawn_calls, 2);
		hc_free(hc);
		hc = NULL;
	}
}

/* Refused at once, before anything is sent: an unknown alg, counts past
 * their bounds, a token longer than PROTO_JWT_MAX. */
static void
test_sign_id_jwt_check_invalid_arguments(void **state)
{
	struct hc_params		 p = params();
	struct proto_sign_id_req	 sr;
	struct oidc_rec			 r = { 0 };
	char				*big;
	enum hc_status			 why;

	start_ready(&p);
	sign_id_req_fill(&sr);
	sr.alg = 0;
	why = HC_OK;
	assert_null(hc_sign_id(hc, &sr, sign_id_cb, &r, &why));
	assert_int_equal(why, HC_INVALID);
	sign_id_req_fill(&sr);
	sr.alg = 3;
	why = HC_OK;
	assert_null(hc_sign_id(hc, &sr, sign_id_cb, &r, &why));
	assert_int_equal(why, HC_INVALID);
	sign_id_req_fill(&sr);
	sr.namr = PROTO_AMR_MAX + 1;
	why = HC_OK;
	assert_null(hc_sign_id(hc, &sr, sign_id_cb, &r, &why));
	assert_int_equal(why, HC_INVALID);
	sign_id_req_fill(&sr);
	sr.nroles = PROTO_ROLES_MAX + 1;
	why = HC_OK;
	assert_null(hc_sign_id(hc, &sr, sign_id_cb, &r, &why));
	assert_int_equal(why, HC_INVALID);
	why = HC_OK;
	assert_null(hc_sign_id(hc, NULL, sign_id_cb, &r, &why));
	assert_int_equal(why, HC_INVALID);

	assert_non_null(big = malloc(PROTO_JWT_MAX + 2));
	memset(big, 'a', PROTO_JWT_MAX + 1);
	big[PROTO_JWT_MAX + 1] = '\0';
	why = HC_OK;
	assert_null(hc_jwt_check(hc, big, jwt_check_cb, &r, &why));
	assert_int_equal(why, HC_INVALID);
	why = HC_OK;
	assert_null(hc_jwt_check(hc, NULL, jwt_check_cb, &r, &why));
	assert_int_equal(why, HC_INVALID);
	/* PROTO_JWT_MAX itself goes. */
	big[PROTO_JWT_MAX] = '\0';
	assert_non_null(hc_jwt_check(hc, big, jwt_check_cb, &r, NULL));
	free(big);
	run_for(20);
	assert_int_equal(fk.nreqs, 1);
	assert_int_equal(r.calls, 0);
	hc_free(hc);	/* fails the one in flight while r lives */
	hc = NULL;
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.st, HC_DOWN);
}

/* ---- upstream sign-in: SIGN_ASSERTION ---- */

#define TOKEN_URL	"https://idp.example/token"

struct as_rec {
	int				calls;
	enum hc_status			st;
	bool				had_ans;
	struct proto_sign_assertion_ans	ans;
};

static void
assertion_cb(enum hc_status st, const struct proto_sign_assertion_ans *ans,
    void *arg)
{
	struct as_rec *r = arg;

	r->calls++;
	r->st = st;
	r->had_ans = ans != NULL;
	if (ans != NULL)
		r->ans = *ans;
}

static void
assertion_req_fill(struct proto_sign_assertion_req *r, uint8_t alg)
{
	memset(r, 0, sizeof(*r));
	r->alg = alg;
	strlcpy(r->client_id, "warden\"\\x", sizeof(r->client_id));
	strlcpy(r->aud, TOKEN_URL, sizeof(r->aud));
}

static void
answer_assertion(uint32_t id, const char *jwt)
{
	struct proto_buf		b;
	struct proto_sign_assertion_ans	a;

	memset(&a, 0, sizeof(a));
	strlcpy(a.jwt, jwt, sizeof(a.jwt));
	proto_buf_init(&b);
	assert_int_equal(proto_encode_sign_assertion_ans(&b, id, &a), 0);
	fake_send(&b);
}

/* The request goes over the wire as given, its answer reaches the
 * callback, an error answer maps to its status, and both count against
 * the sign queue. */
static void
test_sign_assertion_answers(void **state)
{
	struct hc_params		 p = params();
	struct proto_sign_assertion_req	 r, got;
	struct as_rec			 a = { 0 }, b = { 0 }, c = { 0 };
	enum hc_status			 why;

	p.sign_queue_max = 2;
	start_ready(&p);
	assertion_req_fill(&r, PROTO_ALG_EDDSA);
	assert_non_null(hc_sign_assertion(hc, &r, assertion_cb, &a, NULL));
	assertion_req_fill(&r, PROTO_ALG_RS256);
	assert_non_null(hc_sign_assertion(hc, &r, assertion_cb, &b, NULL));
	why = HC_OK;
	assert_null(hc_sign_assertion(hc, &r, assertion_cb, &c, &why));
	assert_int_equal(why, HC_BUSY);
	RUN_UNTIL(fk.nreqs == 2, WAIT_MS);

	assert_int_equal(fk.reqs[0].h.type, PROTO_SIGN_ASSERTION);
	assert_int_equal(proto_decode_sign_assertion_req(fk.reqs[0].p,
	    fk.reqs[0].h.len, &got), 0);
	assert_int_equal(got.alg, PROTO_ALG_EDDSA);
	assert_string_equal(got.client_id, "warden\"\\x");
	assert_string_equal(got.aud, TOKEN_URL);
	assert_int_equal(proto_decode_sign_assertion_req(fk.reqs[1].p,
	    fk.reqs[1].h.len, &got), 0);
	assert_int_equal(got.alg, PROTO_ALG_RS256);

	answer_error(req_id(1, PROTO_SIGN_ASSERTION), PROTO_ERR_INVALID);
	answer_assertion(req_id(0, PROTO_SIGN_ASSERTION), "h.c.sig");
	RUN_UNTIL(a.calls == 1 && b.calls == 1, WAIT_MS);
	assert_int_equal(a.st, HC_OK);
	assert_true(a.had_ans);
	assert_string_equal(a.ans.jwt, "h.c.sig");
	assert_int_equal(b.st, HC_INVALID);
	assert_false(b.had_ans);
	assert_int_equal(c.calls, 0);
	assert_true(hc_ready(hc));
	assert_false(fk.eof);
}

enum as_bad {
	AB_EMPTY,		/* R_SIGN_ASSERTION without a token */
	AB_AS_SIGN_ID,		/* R_SIGN_ID to a SIGN_ASSERTION */
	AB_TRAILING,		/* R_SIGN_ASSERTION with a byte more */
	AB_N
};

/* A malformed answer is a broken hasher: the request fails HC_DOWN and
 * the connection is torn down and comes back. */
static void
test_sign_assertion_malformed_answers(void **state)
{
	struct hc_params		 p = params();
	struct proto_sign_assertion_req	 r;
	struct proto_sign_assertion_ans	 a;
	struct proto_buf		 b;
	struct as_rec			 s;
	uint32_t			 id;
	uint8_t				 raw[PROTO_HEADER_SIZE + 64];
	int				 k, closes;

	assertion_req_fill(&r, PROTO_ALG_RS256);
	for (k = 0; k < AB_N; k++) {
		memset(&s, 0, sizeof(s));
		fake_reset();
		spawn_calls = 0;
		start_ready(&p);
		assert_non_null(hc_sign_assertion(hc, &r, assertion_cb, &s,
		    NULL));
		RUN_UNTIL(fk.nreqs == 1, WAIT_MS);
		id = req_id(0, PROTO_SIGN_ASSERTION);
		closes = fk.ncloses;
		switch ((enum as_bad)k) {
		case AB_EMPTY:
			answer_assertion(id, "");
			break;
		case AB_AS_SIGN_ID:
			answer_sign_id(id, "a.b.c", 1800000300);
			break;
		case AB_TRAILING:
			memset(&a, 0, sizeof(a));
			strlcpy(a.jwt, "a.b.c", sizeof(a.jwt));
			proto_buf_init(&b);
			assert_int_equal(proto_encode_sign_assertion_ans(&b, id,
			    &a), 0);
			assert_true(b.len + 1 <= sizeof(raw));
			memcpy(raw, b.data, b.len);
			raw[b.len] = 'x';
			raw[3]++;
			fake_send_raw(raw, b.len + 1);
			proto_buf_free(&b);
			break;
		case AB_N:
			break;
		}
		RUN_UNTIL(s.calls == 1, WAIT_MS);
		if (s.st != HC_DOWN || s.had_ans)
			fail_msg("case %d: %s", k, hc_status_str(s.st));
		RUN_UNTIL(fk.ncloses > closes, WAIT_MS);
		RUN_UNTIL(hc_ready(hc), WAIT_MS);
		assert_int_equal(spawn_calls, 2);
		hc_free(hc);
		hc = NULL;
	}
}

/* Refused at once, before anything is sent: an unknown alg, an empty
 * field, a byte the hasher would take for an attack, a field past its
 * bound. */
static void
test_sign_assertion_invalid_arguments(void **state)
{
	struct hc_params		 p = params();
	struct proto_sign_assertion_req	 r;
	struct as_rec			 rec = { 0 };
	enum hc_status			 why;
	int				 k;

	start_ready(&p);
	for (k = 0; k < 8; k++) {
		assertion_req_fill(&r, PROTO_ALG_EDDSA);
		switch (k) {
		case 0: r.alg = 0; break;
		case 1: r.alg = 3; break;
		case 2: r.client_id[0] = '\0'; break;
		case 3: r.aud[0] = '\0'; break;
		case 4: r.client_id[1] = ' '; break;
		case 5: r.aud[9] = '\n'; break;
		case 6:
			memset(r.client_id, 'c', sizeof(r.client_id));
			break;
		case 7:
			memset(r.aud, 'u', sizeof(r.aud));
			break;
		}
		why = HC_OK;
		assert_null(hc_sign_assertion(hc, &r, assertion_cb, &rec,
		    &why));
		if (why != HC_INVALID)
			fail_msg("case %d: %s", k, hc_status_str(why));
	}
	why = HC_OK;
	assert_null(hc_sign_assertion(hc, NULL, assertion_cb, &rec, &why));
	assert_int_equal(why, HC_INVALID);
	/* both at their bounds go */
	memset(r.client_id, 'c', PROTO_ASSERTION_CLIENT_MAX);
	r.client_id[PROTO_ASSERTION_CLIENT_MAX] = '\0';
	memset(r.aud, 'u', PROTO_ASSERTION_AUD_MAX);
	r.aud[PROTO_ASSERTION_AUD_MAX] = '\0';
	r.alg = PROTO_ALG_RS256;
	assert_non_null(hc_sign_assertion(hc, &r, assertion_cb, &rec, NULL));
	run_for(20);
	assert_int_equal(fk.nreqs, 1);
	assert_int_equal(rec.calls, 0);
	hc_free(hc);
	hc = NULL;
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.st, HC_DOWN);
}

/* ---- split mode ---- */

static int lfd = -1;

static void
on_accept(evutil_socket_t fd, short what, void *arg)
{
	int c = accept(fd, NULL, NULL);

	if (c != -1)
		fake_attach(c);
}

static void
test_split_mode(void **state)
{
	struct hc_params	 p = params();
	struct sockaddr_un	 sun;
	struct event		*ev;
	char			 dir[] = "/tmp/warden-hc-XXXXXX", path[128];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/hasher.sock", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));

	/* Nobody listens yet: retried. */
	p.socket_path = path;
	p.peer_uid = geteuid();
	hc = hc_new(base, &p);
	assert_int_equal(hc_start(hc), 0);
	RUN_UNTIL(restarts() >= 2, WAIT_MS);
	assert_false(hc_ready(hc));

	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	evutil_make_socket_nonblocking(lfd);
	ev = event_new(base, lfd, EV_READ | EV_PERSIST, on_accept, NULL);
	event_add(ev, NULL);
	RUN_UNTIL(hc_ready(hc), WAIT_MS);
	assert_int_equal(spawn_calls, 0);
	hc_free(hc);
	hc = NULL;

	/* A socket served by another uid is refused. */
	fake_reset();
	p.peer_uid = geteuid() + 1;
	hc = hc_new(base, &p);
	assert_int_equal(hc_start(hc), 0);
	RUN_UNTIL(restarts() >= 3, WAIT_MS);
	assert_false(hc_ready(hc));
	assert_int_equal(fk.nhello, 0);

	event_free(ev);
	close(lfd);
	unlink(path);
	rmdir(dir);
}

/* ---- the real hasher ---- */

/* $WARDEN_HASHER (make check-unit sets it), else build/X/warden-hasher
 * next to build/X/tests/ where this program lives. */
static bool
find_hasher(char *out, size_t outlen)
{
	const char	*env = getenv("WARDEN_HASHER");
	char		 exe[PATH_MAX];
	ssize_t		 n;

	if (env != NULL && *env != '\0')
		snprintf(out, outlen, "%s", env);
	else {
		if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
			return false;
		exe[n] = '\0';
		snprintf(out, outlen, "%s/warden-hasher", dirname(dirname(exe)));
	}
	return access(out, X_OK) == 0;
}

static int
run_cmd(char *const argv[])
{
	pid_t	pid;
	int	status, fd;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) != -1)
			dup2(fd, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_real_hasher(void **state)
{
	struct hc_params		 p = params();
	const struct proto_pubkeys_ans	*keys;
	struct jwt_verify_params	 vp = { "warden-test", "warden-aud", 60, false };
	struct jwt_claims		 cl;
	struct proto_sign_req		 sr;
	struct rec			 h = { 0 }, v = { 0 }, w = { 0 },
					 d = { 0 }, s = { 0 }, k = { 0 },
					 a = { 0 };
	char				 bin[PATH_MAX], dir[] =
					    "/tmp/warden-hc-XXXXXX";
	char				 kdir[PATH_MAX], croot[PATH_MAX],
					 conf[PATH_MAX + 32],
					 stored[PROTO_JWT_MAX + 1];
	char				*kargv[] = { bin, "--keygen", kdir,
					    NULL };
	char				*rmargv[] = { "/bin/rm", "-rf", dir,
					    NULL };
	pid_t				 first;
	int				 n;
	FILE				*f;

	if (!find_hasher(bin, sizeof(bin)))
		fail_msg("no hasher binary at %s (set WARDEN_HASHER or make it "
		    "first)", bin);
	assert_non_null(mkdtemp(dir));
	snprintf(kdir, sizeof(kdir), "%s/keys", dir);
	snprintf(croot, sizeof(croot), "%s/empty", dir);
	assert_int_equal(mkdir(croot, 0755), 0);
	assert_int_equal(run_cmd(kargv), 0);
	snprintf(conf, sizeof(conf), "%s/warden.conf", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "key_dir %s\nargon2_memory 1M\nargon2_iterations 1\n"
	    "hasher_chroot %s\nhasher_user nobody\nhasher_workers 2\n"
	    "issuer warden-test\naudience warden-aud\nlog_level warn\n",
	    kdir, croot);
	fclose(f);

	spawn_real = true;
	p.hasher_path = bin;
	p.config_path = conf;
	p.queue_max = 8;
	p.reap_sigchld = true;
	p.backoff_min_ms = 50;
	p.backoff_max_ms = 200;
	start_ready(&p);
	/* A hasher that dies while starting is simply started again, so
	 * count spawns loosely: what matters is that it comes back. */
	assert_true(spawn_calls >= 1);
	assert_true(real_pid > 0);
	keys = hc_pubkeys(hc);
	assert_int_equal(keys->nkeys, 1);
	assert_true(keys->keys[0].current);

	assert_non_null(hc_hash(hc, UID1, PW, sizeof(PW) - 1, hash_cb, &h,
	    NULL));
	RUN_UNTIL(h.calls == 1, WAIT_MS);
	assert_int_equal(h.st, HC_OK);
	assert_memory_equal(h.text, "$warden$", 8);
	snprintf(stored, sizeof(stored), "%s", h.text);

	assert_non_null(hc_verify(hc, UID1, PW, sizeof(PW) - 1, stored,
	    verify_cb, &v, NULL));
	assert_non_null(hc_verify(hc, UID1, (const uint8_t *)"wrong", 5,
	    stored, verify_cb, &w, NULL));
	/* bound to the user id */
	assert_non_null(hc_verify(hc, UID2, PW, sizeof(PW) - 1, stored,
	    verify_cb, &d, NULL));
	memset(&sr, 0, sizeof(sr));
	strlcpy(sr.sub, UID1, sizeof(sr.sub));
	strlcpy(sr.username, "alice", sizeof(sr.username));
	sr.nroles = 1;
	strlcpy(sr.roles[0], "admin", sizeof(sr.roles[0]));
	sr.ver = 2;
	sr.ttl = 600;
	assert_non_null(hc_sign(hc, &sr, sign_cb, &s, NULL));
	RUN_UNTIL(v.calls && w.calls && d.calls && s.calls, WAIT_MS);
	assert_int_equal(v.st, HC_OK);
	assert_true(v.match);
	assert_string_equal(v.text, "");
	assert_int_equal(w.st, HC_OK);
	assert_false(w.match);
	assert_false(d.match);
	assert_int_equal(s.st, HC_OK);
	assert_int_equal(jwt_verify(keys, &vp, s.text, strlen(s.text),
	    time(NULL), &cl), JWT_OK);
	assert_string_equal(cl.sub, UID1);
	assert_string_equal(cl.username, "alice");
	assert_string_equal(cl.roles[0], "admin");
	assert_int_equal(cl.ver, 2);

	/* kill -9: what is in flight fails at once, and it comes back */
	first = real_pid;
	n = spawn_calls;
	assert_non_null(hc_hash(hc, UID1, PW, sizeof(PW) - 1, hash_cb, &k,
	    NULL));
	assert_int_equal(kill(first, SIGKILL), 0);
	RUN_UNTIL(k.calls == 1, WAIT_MS);
	assert_int_equal(k.st, HC_DOWN);
	assert_false(hc_ready(hc));
	RUN_UNTIL(hc_ready(hc), WAIT_MS);
	assert_true(spawn_calls > n);
	assert_true(real_pid > 0 && real_pid != first);
	/* the old one was reaped */
	assert_int_equal(waitpid(first, NULL, WNOHANG), -1);
	assert_non_null(hc_verify(hc, UID1, PW, sizeof(PW) - 1, stored,
	    verify_cb, &a, NULL));
	RUN_UNTIL(a.calls == 1, WAIT_MS);
	assert_true(a.match);

	hc_free(hc);
	hc = NULL;
	assert_int_equal(waitpid(real_pid, NULL, WNOHANG), -1);
	assert_int_equal(run_cmd(rmargv), 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_refuses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests_out_of_order,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wedged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hasher_closes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_malformed_answers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_jwt_check_answers,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_jwt_check_errors,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_jwt_check_malformed_answers,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_jwt_check_invalid_arguments,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_assertion_answers,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_assertion_malformed_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_assertion_invalid_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_answers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_version_mismatch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_handshake_failures, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_arguments, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_split_mode, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_real_hasher, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* HC_TEST_LOG=debug shows the client's own story */
	log_init("test_hasher_client", getenv("HC_TEST_LOG") != NULL ?
	    log_level_from_name(getenv("HC_TEST_LOG")) : LOG_ERROR, false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
