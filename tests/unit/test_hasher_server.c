/*
 * hasher/server.c in-process: the protocol loop on one end of a socket
 * pair (no sandbox, so sanitizers see everything), driven from the other.
 * Good requests, pipelining with ids, BUSY, field errors, and every kind
 * of malformed frame, which must end the connection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <bsd/unistd.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "b64url.h"
#include "keys.h"
#include "log.h"
#include "server.h"
#include "fields.h"
#include "hasher_wire.h"
#include "testdir.h"

#define UID_A	"11111111-2222-4333-8444-555555555555"

struct fixture {
	char		 dir[64];
	struct keyset	 ks;
	struct server	*srv;
	int		 fd;		/* our end */
	int		 lfd;		/* split mode's listener, or -1 */
	pthread_t	 thread;
	bool		 running;
	int		 rc;		/* server_run's */
	bool		 done;		/* server_run returned (atomic) */
	struct proto_buf b;
	struct proto_frame f;
};

static int
group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);	/* as main() does */
	return sodium_init() < 0 ? -1 : 0;
}

/* The parameters every server here runs with, but for these. */
static void
server_params_for(struct server_params *p, struct fixture *x,
    unsigned int workers, unsigned int queue, size_t memory)
{
	memset(p, 0, sizeof(*p));
	p->ks = &x->ks;
	p->policy.memory = memory;
	p->policy.iterations = 1;
	p->jwt.issuer = "https://issuer.test";
	p->jwt.audience = "warden-test";
	p->jwt.max_ttl = 900;
	p->workers = workers;
	p->queue = queue;
}

static void
start_server(struct fixture *x, unsigned int workers, unsigned int queue,
    size_t memory, int send_timeout_ms)
{
	struct server_params p;

	server_params_for(&p, x, workers, queue, memory);
	p.send_timeout_ms = send_timeout_ms;
	x->srv = server_new(&p);
	assert_non_null(x->srv);
}

struct run_args {
	struct fixture	*x;
	int		 lfd, cfd;
	uid_t		 uid;
};

static void *
run_thread(void *p)
{
	struct run_args *a = p;

	a->x->rc = server_run(a->x->srv, a->lfd, a->cfd, a->uid);
	__atomic_store_n(&a->x->done, true, __ATOMIC_RELEASE);
	free(a);
	return NULL;
}

static void
run_server(struct fixture *x, int lfd, int cfd, uid_t uid)
{
	struct run_args *a = calloc(1, sizeof(*a));

	assert_non_null(a);
	a->x = x;
	a->lfd = lfd;
	a->cfd = cfd;
	a->uid = uid;
	assert_int_equal(pthread_create(&x->thread, NULL, run_thread, a), 0);
	x->running = true;
}

/* sndbuf: SO_SNDBUF of the hasher's end, or 0 for the default;
 * send_timeout_ms: 0 for the server's default. */
static int
setup_full(void **state, unsigned int workers, unsigned int queue,
    size_t memory, int sndbuf, int send_timeout_ms)
{
	struct fixture *x = calloc(1, sizeof(*x));
	char err[512];
	int sv[2];

	assert_non_null(x);
	snprintf(x->dir, sizeof(x->dir), "/tmp/warden-srv-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	assert_int_equal(keys_generate(x->dir, err, sizeof(err)), 0);
	assert_int_equal(keys_load(&x->ks, x->dir, err, sizeof(err)), 0);
	proto_buf_init(&x->b);
	start_server(x, workers, queue, memory, send_timeout_ms);
	x->lfd = -1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	x->fd = sv[0];
	if (sndbuf > 0)
		assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF,
		    &sndbuf, sizeof(sndbuf)), 0);
	run_server(x, -1, sv[1], 0);
	*state = x;
	return 0;
}

static int
setup_with(void **state, unsigned int workers, unsigned int queue,
    size_t memory)
{
	return setup_full(state, workers, queue, memory, 0, 0);
}

static int
setup(void **state)
{
	return setup_with(state, 2, 8, 1024 * 1024);
}

/* One worker, a queue of 4 (4 * 1 + 0), slower hashes. */
static int
setup_small(void **state)
{
	return setup_with(state, 1, 0, 8 * 1024 * 1024);
}

/* One worker, room for 64 queued hashes, the smallest send buffer: a peer
 * that does not read soon blocks the worker in write(). */
static int
setup_tiny_sndbuf(void **state)
{
	return setup_full(state, 1, 64, 8 * 1024, 1, 0);
}

/* As setup_tiny_sndbuf, and a front is dropped after 200 ms without
 * taking an answer. */
static int
setup_stall(void **state)
{
	return setup_full(state, 1, 64, 8 * 1024, 1, 200);
}

/* As setup, under log_level warn. */
static int
setup_warn(void **state)
{
	log_set_level(LOG_WARN);
	return setup(state);
}

static int
teardown(void **state)
{
	struct fixture *x = *state;

	if (x->fd >= 0)
		close(x->fd);
	if (x->running)
		pthread_join(x->thread, NULL);
	if (x->lfd >= 0)
		close(x->lfd);
	server_free(x->srv);
	keys_free(&x->ks);
	proto_buf_free(&x->b);
	rm_tree(x->dir);
	free(x);
	return 0;
}

/* Closes our end and waits for server_run(); returns its result. */
static int
finish(struct fixture *x)
{
	close(x->fd);
	x->fd = -1;
	pthread_join(x->thread, NULL);
	x->running = false;
	return x->rc;
}

static void
send_b(struct fixture *x)
{
	assert_int_equal(proto_io_send(x->fd, &x->b, HC_TIMEOUT_MS),
	    PROTO_IO_OK);
}

static void
req_hash(struct fixture *x, uint32_t id, const char *uid, const char *pw)
{
	struct proto_hash_req r;

	memset(&r, 0, sizeof(r));
	snprintf(r.user_id, sizeof(r.user_id), "%s", uid);
	r.password_len = strlen(pw);
	memcpy(r.password, pw, r.password_len);
	assert_int_equal(proto_encode_hash_req(&x->b, id, &r), 0);
}

static void
req_verify(struct fixture *x, uint32_t id, const char *uid, const char *pw,
    const char *stored)
{
	struct proto_verify_req r;

	memset(&r, 0, sizeof(r));
	snprintf(r.user_id, sizeof(r.user_id), "%s", uid);
	r.password_len = strlen(pw);
	memcpy(r.password, pw, r.password_len);
	snprintf(r.stored, sizeof(r.stored), "%s", stored);
	assert_int_equal(proto_encode_verify_req(&x->b, id, &r), 0);
}

static void
req_sign(struct fixture *x, uint32_t id, const char *sub, uint32_t ttl)
{
	struct proto_sign_req r;

	memset(&r, 0, sizeof(r));
	snprintf(r.sub, sizeof(r.sub), "%s", sub);
	snprintf(r.username, sizeof(r.username), "alice");
	r.nroles = 2;
	snprintf(r.roles[0], sizeof(r.roles[0]), "admin");
	snprintf(r.roles[1], sizeof(r.roles[1]), "user");
	r.ver = 3;
	r.ttl = ttl;
	assert_int_equal(proto_encode_sign_req(&x->b, id, &r), 0);
}

static void
read_answer(struct fixture *x, uint32_t id, uint16_t type)
{
	assert_int_equal(proto_io_read_frame(x->fd, &x->f, HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	assert_int_equal(x->f.h.id, id);
	assert_int_equal(x->f.h.type, type);
}

static void
expect_error(struct fixture *x, uint32_t id, uint32_t code)
{
	struct proto_error_ans e;

	read_answer(x, id, PROTO_R_ERROR);
	assert_int_equal(proto_decode_error_ans(x->f.p, x->f.h.len, &e), 0);
	assert_int_equal(e.code, code);
}

static void
hello(struct fixture *x)
{
	assert_int_equal(proto_io_hello(x->fd, 1, &x->f, HC_TIMEOUT_MS),
	    PROTO_IO_OK);
}

/* The connection must end: EOF to us, -1 from server_run. */
static void
expect_dropped(struct fixture *x)
{
	assert_int_equal(hc_expect_eof(x->fd), 0);
	assert_int_equal(finish(x), -1);
}

static void
hash_of(struct fixture *x, uint32_t id, const char *pw,
    char stored[PROTO_STORED_MAX + 1])
{
	struct proto_hash_ans a;

	req_hash(x, id, UID_A, pw);
	send_b(x);
	read_answer(x, id, PROTO_R_HASH);
	assert_int_equal(proto_decode_hash_ans(x->f.p, x->f.h.len, &a), 0);
	assert_true(strncmp(a.stored, "$warden$v=1$", 12) == 0);
	strlcpy(stored, a.stored, PROTO_STORED_MAX + 1);
}

static bool
verify(struct fixture *x, uint32_t id, const char *pw, const char *stored)
{
	struct proto_verify_ans a;

	req_verify(x, id, UID_A, pw, stored);
	send_b(x);
	read_answer(x, id, PROTO_R_VERIFY);
	assert_int_equal(proto_decode_verify_ans(x->f.p, x->f.h.len, &a), 0);
	assert_string_equal(a.rehash, "");
	return a.match;
}

/* ------------------------------------------------------------ good */

static void
test_hash_verify(void **state)
{
	struct fixture *x = *state;
	char stored[PROTO_STORED_MAX + 1];

	hello(x);
	hash_of(x, 2, "correct horse", stored);
	assert_true(verify(x, 3, "correct horse", stored));
	assert_false(verify(x, 4, "correct horsE", stored));
	assert_false(verify(x, 5, "correct horse", ""));	/* dummy */
	/* Another user's row: the user id is bound in. */
	{
		struct proto_verify_ans a;

		req_verify(x, 6, "66666666-2222-4333-8444-555555555555",
		    "correct horse", stored);
		send_b(x);
		read_answer(x, 6, PROTO_R_VERIFY);
		assert_int_equal(proto_decode_verify_ans(x->f.p, x->f.h.len,
		    &a), 0);
		assert_false(a.match);
	}
	/* A stored string of no known format: no match, no error. */
	assert_false(verify(x, 7, "correct horse", "$md5$nonsense"));
	assert_int_equal(finish(x), 0);
}

static void
test_empty_password(void **state)
{
	struct fixture *x = *state;
	char stored[PROTO_STORED_MAX + 1];

	hello(x);
	hash_of(x, 2, "", stored);
	assert_true(verify(x, 3, "", stored));
	assert_false(verify(x, 4, "x", stored));
	assert_int_equal(finish(x), 0);
}

static void
test_sign_pubkeys(void **state)
{
	struct fixture *x = *state;
	struct proto_sign_ans s;
	struct proto_pubkeys_ans k;
	time_t before, after;

	hello(x);
	before = time(NULL);
	req_sign(x, 10, UID_A, 3600);
	send_b(x);
	read_answer(x, 10, PROTO_R_SIGN);
	after = time(NULL);
	assert_int_equal(proto_decode_sign_ans(x->f.p, x->f.h.len, &s), 0);
	assert_true(strlen(s.jwt) > 50);
	assert_int_equal(strspn(s.jwt, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
	    "klmnopqrstuvwxyz0123456789-_."), strlen(s.jwt));
	assert_true(field_is_uuid(s.jti));
	/* ttl clamped to max_ttl (900), counted from the signing */
	assert_true(s.exp >= (uint32_t)before + 900 &&
	    s.exp <= (uint32_t)after + 900);

	assert_int_equal(proto_encode_pubkeys_req(&x->b, 11), 0);
	send_b(x);
	read_answer(x, 11, PROTO_R_PUBKEYS);
	assert_int_equal(proto_decode_pubkeys_ans(x->f.p, x->f.h.len, &k), 0);
	assert_int_equal(k.nkeys, 1);
	assert_true(k.keys[0].current);
	assert_string_equal(k.keys[0].kid, x->ks.sign[0].kid);
	assert_memory_equal(k.keys[0].pk, x->ks.sign[0].pk, PROTO_PUBKEY_LEN);
	assert_int_equal(finish(x), 0);
}

/* log_level warn quiets the hasher, not its record of what it signed:
 * each signature still has its log line with sub, jti, username and
 * roles. */
static void
test_sign_logged_at_warn(void **state)
{
	struct fixture *x = *state;
	struct proto_sign_ans s;
	char path[] = "/tmp/warden-srv-log-XXXXXX", want[64], line[1024];
	bool logged = false;
	int fd, saved;
	FILE *fp;

	hello(x);
	assert_true((fd = mkstemp(path)) != -1);
	assert_true((saved = dup(STDERR_FILENO)) != -1);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	req_sign(x, 12, UID_A, 60);
	send_b(x);
	read_answer(x, 12, PROTO_R_SIGN);	/* logged before it is sent */
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(fd);
	assert_int_equal(proto_decode_sign_ans(x->f.p, x->f.h.len, &s), 0);
	snprintf(want, sizeof(want), "jti=%s", s.jti);
	assert_non_null(fp = fopen(path, "r"));
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, "msg=signed") != NULL &&
		    strstr(line, "sub=" UID_A) != NULL &&
		    strstr(line, want) != NULL &&
		    strstr(line, " username=alice") != NULL &&
		    strstr(line, " roles=admin,user") != NULL)
			logged = true;
	fclose(fp);
	unlink(path);
	assert_true(logged);
	assert_int_equal(finish(x), 0);
	log_set_level(LOG_INFO);
}

/* Many requests in one write; every answer comes back with its id, and
 * the fast ones need not wait for the hashes. */
static void
test_pipelined(void **state)
{
	struct fixture *x = *state;
	bool seen[8] = { false };
	uint16_t want[8];
	uint32_t i;

	hello(x);
	for (i = 0; i < 6; i++) {
		req_hash(x, 100 + i, UID_A, "pw");
		want[i] = PROTO_R_HASH;
	}
	req_sign(x, 106, UID_A, 60);
	want[6] = PROTO_R_SIGN;
	assert_int_equal(proto_encode_pubkeys_req(&x->b, 107), 0);
	want[7] = PROTO_R_PUBKEYS;
	send_b(x);
	for (i = 0; i < 8; i++) {
		assert_int_equal(proto_io_read_frame(x->fd, &x->f,
		    HC_TIMEOUT_MS), PROTO_IO_OK);
		assert_true(x->f.h.id >= 100 && x->f.h.id < 108);
		assert_false(seen[x->f.h.id - 100]);
		seen[x->f.h.id - 100] = true;
		assert_int_equal(x->f.h.type, want[x->f.h.id - 100]);
	}
	assert_int_equal(finish(x), 0);
}

/* Answers still owed are written after the front half-closes. */
static void
test_half_close(void **state)
{
	struct fixture *x = *state;

	hello(x);
	req_hash(x, 5, UID_A, "pw");
	send_b(x);
	assert_int_equal(shutdown(x->fd, SHUT_WR), 0);
	read_answer(x, 5, PROTO_R_HASH);
	assert_int_equal(hc_expect_eof(x->fd), 0);
	assert_int_equal(finish(x), 0);
}

static void
test_busy(void **state)
{
	struct fixture *x = *state;
	unsigned int i, ok = 0, busy = 0;
	struct proto_error_ans e;

	hello(x);
	for (i = 0; i < 30; i++)
		req_hash(x, 200 + i, UID_A, "pw");
	send_b(x);
	for (i = 0; i < 30; i++) {
		assert_int_equal(proto_io_read_frame(x->fd, &x->f,
		    HC_TIMEOUT_MS), PROTO_IO_OK);
		if (x->f.h.type == PROTO_R_HASH)
			ok++;
		else {
			assert_int_equal(x->f.h.type, PROTO_R_ERROR);
			assert_int_equal(proto_decode_error_ans(x->f.p,
			    x->f.h.len, &e), 0);
			assert_int_equal(e.code, PROTO_ERR_BUSY);
			busy++;
		}
	}
	assert_true(ok >= 4);	/* the queue holds 4 */
	assert_true(busy >= 1);
	assert_int_equal(ok + busy, 30);
	/* Still serving. */
	assert_int_equal(proto_encode_pubkeys_req(&x->b, 300), 0);
	send_b(x);
	read_answer(x, 300, PROTO_R_PUBKEYS);
	assert_int_equal(finish(x), 0);
}


/* ------------------------------------------------------------ OpenID */

#define CLIENT_A	"client-a"

/* A SIGN_ID request the hasher signs: every optional claim set. */
static void
sign_id_fill(struct proto_sign_id_req *r, uint8_t alg)
{
	memset(r, 0, sizeof(*r));
	r->alg = alg;
	snprintf(r->sub, sizeof(r->sub), "%s", UID_A);
	snprintf(r->aud, sizeof(r->aud), CLIENT_A);
	snprintf(r->nonce, sizeof(r->nonce), "n-0S6_WzA2Mj");
	r->auth_time = 1700000000;
	r->namr = 2;
	snprintf(r->amr[0], sizeof(r->amr[0]), "pwd");
	snprintf(r->amr[1], sizeof(r->amr[1]), "otp");
	snprintf(r->acr, sizeof(r->acr), "urn:warden:acr:mfa");
	r->ttl = 300;
	snprintf(r->sid, sizeof(r->sid), "sid-1234");
	snprintf(r->preferred_username, sizeof(r->preferred_username),
	    "alice");
	snprintf(r->email, sizeof(r->email), "alice@example.org");
	r->email_verified = true;
	r->roles_claim = true;
	r->nroles = 1;
	snprintf(r->roles[0], sizeof(r->roles[0]), "user");
}

static void
req_sign_id(struct fixture *x, uint32_t id, const struct proto_sign_id_req *r)
{
	assert_int_equal(proto_encode_sign_id_req(&x->b, id, r), 0);
}

static void
req_jwt_check(struct fixture *x, uint32_t id, const char *token)
{
	struct proto_jwt_check_req r;

	memset(&r, 0, sizeof(r));
	snprintf(r.token, sizeof(r.token), "%s", token);
	assert_int_equal(proto_encode_jwt_check_req(&x->b, id, &r), 0);
}

/* Signs r and returns the ID token in jwt. */
static void
sign_id_of(struct fixture *x, uint32_t id, const struct proto_sign_id_req *r,
    char jwt[PROTO_JWT_MAX + 1])
{
	struct proto_sign_id_ans a;

	req_sign_id(x, id, r);
	send_b(x);
	read_answer(x, id, PROTO_R_SIGN_ID);
	assert_int_equal(proto_decode_sign_id_ans(x->f.p, x->f.h.len, &a), 0);
	strlcpy(jwt, a.jwt, PROTO_JWT_MAX + 1);
}

static void
jwt_check_of(struct fixture *x, uint32_t id, const char *token,
    struct proto_jwt_check_ans *a)
{
	req_jwt_check(x, id, token);
	send_b(x);
	read_answer(x, id, PROTO_R_JWT_CHECK);
	assert_int_equal(proto_decode_jwt_check_ans(x->f.p, x->f.h.len, a),
	    0);
}

/* Part n (0 header, 1 claims) of a compact JWS, decoded into out. */
static void
jws_part(const char *jwt, int n, char *out, size_t outlen)
{
	const char *p = jwt, *e;
	ssize_t len;

	for (; n > 0; n--) {
		assert_non_null(p = strchr(p, '.'));
		p++;
	}
	assert_non_null(e = strchr(p, '.'));
	len = b64url_decode((uint8_t *)out, outlen - 1, p, (size_t)(e - p));
	assert_true(len > 0);
	out[len] = '\0';
}

/* The hasher must still answer on this connection. */
static void
still_serving(struct fixture *x, uint32_t id)
{
	assert_int_equal(proto_encode_pubkeys_req(&x->b, id), 0);
	send_b(x);
	read_answer(x, id, PROTO_R_PUBKEYS);
}

/*
 * A SIGN_ID payload written field by field, so that a test can break any
 * one of them; the fields in proto.c's order (common/proto.h).
 */
struct raw {
	uint8_t	p[PROTO_MAX_PAYLOAD];
	size_t	n;
};

static void
raw_u8(struct raw *w, uint8_t v)
{
	w->p[w->n++] = v;
}

static void
raw_u32(struct raw *w, uint32_t v)
{
	w->p[w->n++] = (uint8_t)(v >> 24);
	w->p[w->n++] = (uint8_t)(v >> 16);
	w->p[w->n++] = (uint8_t)(v >> 8);
	w->p[w->n++] = (uint8_t)v;
}

static void
raw_bytes(struct raw *w, const void *s, size_t len)
{
	raw_u32(w, (uint32_t)len);
	memcpy(w->p + w->n, s, len);
	w->n += len;
}

static void
raw_str(struct raw *w, const char *s)
{
	raw_bytes(w, s, strlen(s));
}

enum id_break {
	ID_WELL_FORMED,
	ID_BAD_ALG,		/* alg 3: neither EdDSA nor RS256 */
	ID_ALG_ZERO,
	ID_NUL_IN_NONCE,	/* a string field with a NUL inside */
	ID_NONCE_TOO_LONG,	/* PROTO_NONCE_MAX + 1 bytes */
	ID_TOO_MANY_AMR,	/* PROTO_AMR_MAX + 1 values */
	ID_AMR_TOO_LONG,	/* one value of PROTO_AMR_LEN + 1 bytes */
	ID_BAD_BOOL,		/* email_verified 2 */
	ID_FIELD_PAST_END,	/* access_token claims more than is left */
};

static void
raw_sign_id(struct raw *w, enum id_break k)
{
	char nonce[PROTO_NONCE_MAX + 2];
	unsigned int i, namr = k == ID_TOO_MANY_AMR ? PROTO_AMR_MAX + 1 : 2;
	static const char *amr[] = { "pwd", "otp", "mfa", "hwk", "swk" };

	w->n = 0;
	raw_u8(w, k == ID_BAD_ALG ? 3 : k == ID_ALG_ZERO ? 0 :
	    PROTO_ALG_RS256);
	raw_str(w, UID_A);
	raw_str(w, CLIENT_A);
	if (k == ID_NUL_IN_NONCE)
		raw_bytes(w, "abc\0def", 7);
	else if (k == ID_NONCE_TOO_LONG) {
		memset(nonce, 'n', PROTO_NONCE_MAX + 1);
		raw_bytes(w, nonce, PROTO_NONCE_MAX + 1);
	} else
		raw_str(w, "nonce-1");
	raw_u32(w, 1700000000);
	raw_u32(w, namr);
	for (i = 0; i < namr; i++)
		raw_str(w, k == ID_AMR_TOO_LONG && i == 1 ? "pwdpwdpwd" :
		    amr[i]);
	raw_str(w, "");			/* acr */
	raw_u32(w, 300);		/* ttl */
	raw_str(w, "");			/* sid */
	raw_str(w, "alice");
	raw_str(w, "");			/* name */
	raw_str(w, "");			/* email */
	raw_u8(w, k == ID_BAD_BOOL ? 2 : 0);
	raw_u8(w, 0);			/* roles_claim */
	raw_u32(w, 0);			/* nroles */
	if (k == ID_FIELD_PAST_END)
		raw_u32(w, 40);		/* and nothing after it */
	else
		raw_str(w, "");		/* access_token */
}

/* Sends the payload w as one frame of type with id. */
static void
send_raw(struct fixture *x, uint16_t type, uint32_t id, const struct raw *w)
{
	uint8_t *fr;

	assert_non_null(fr = malloc(PROTO_HEADER_SIZE + w->n));
	hc_header(fr, (uint32_t)w->n, id, type);
	memcpy(fr + PROTO_HEADER_SIZE, w->p, w->n);
	assert_int_equal(proto_io_write(x->fd, fr, PROTO_HEADER_SIZE + w->n,
	    HC_TIMEOUT_MS), PROTO_IO_OK);
	free(fr);
}

/* An ID token for each algorithm: the header names the current key of
 * that kind, the claims are the request's with iss, iat and exp added. */
static void
test_sign_id_rs256_and_eddsa(void **state)
{
	struct fixture *x = *state;
	struct proto_sign_id_req r;
	struct proto_sign_id_ans a;
	char part[PROTO_JWT_MAX + 1], want[128];
	time_t before, after;
	int alg;

	hello(x);
	for (alg = PROTO_ALG_EDDSA; alg <= PROTO_ALG_RS256; alg++) {
		sign_id_fill(&r, (uint8_t)alg);
		before = time(NULL);
		req_sign_id(x, 30 + (uint32_t)alg, &r);
		send_b(x);
		read_answer(x, 30 + (uint32_t)alg, PROTO_R_SIGN_ID);
		after = time(NULL);
		assert_int_equal(proto_decode_sign_id_ans(x->f.p, x->f.h.len,
		    &a), 0);
		assert_int_equal(strspn(a.jwt, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_."), strlen(a.jwt));
		assert_true(a.exp >= (uint32_t)before + 300 &&
		    a.exp <= (uint32_t)after + 300);

		jws_part(a.jwt, 0, part, sizeof(part));
		snprintf(want, sizeof(want), "\"alg\":\"%s\"",
		    alg == PROTO_ALG_RS256 ? "RS256" : "EdDSA");
		assert_non_null(strstr(part, want));
		snprintf(want, sizeof(want), "\"kid\":\"%s\"",
		    alg == PROTO_ALG_RS256 ? x->ks.rsa[x->ks.rsa_current].kid :
		    x->ks.sign[x->ks.sign_current].kid);
		assert_non_null(strstr(part, want));
		assert_non_null(strstr(part, "\"typ\":\"JWT\""));

		jws_part(a.jwt, 1, part, sizeof(part));
		assert_non_null(strstr(part,
		    "\"iss\":\"https://issuer.test\""));
		assert_non_null(strstr(part, "\"sub\":\"" UID_A "\""));
		assert_non_null(strstr(part, "\"aud\":\"" CLIENT_A "\""));
		assert_non_null(strstr(part, "\"nonce\":\"n-0S6_WzA2Mj\""));
		assert_non_null(strstr(part, "\"amr\":[\"pwd\",\"otp\"]"));
		assert_non_null(strstr(part, "\"sid\":\"sid-1234\""));
		assert_non_null(strstr(part, "\"auth_time\":1700000000"));
		assert_non_null(strstr(part, "\"email_verified\":true"));
		assert_non_null(strstr(part, "\"roles\":[\"user\"]"));
		snprintf(want, sizeof(want), "\"exp\":%u", a.exp);
		assert_non_null(strstr(part, want));
	}
	assert_int_equal(finish(x), 0);
}

/* Fields that break their rule, in a well-formed frame: an INVALID answer
 * each, and the connection goes on. */
static void
test_sign_id_invalid_fields(void **state)
{
	struct fixture *x = *state;
	struct proto_sign_id_req r;

	hello(x);
	sign_id_fill(&r, PROTO_ALG_RS256);
	snprintf(r.sub, sizeof(r.sub), "not-a-uuid");
	req_sign_id(x, 40, &r);
	sign_id_fill(&r, PROTO_ALG_RS256);
	snprintf(r.aud, sizeof(r.aud), "client a");	/* a blank */
	req_sign_id(x, 41, &r);
	sign_id_fill(&r, PROTO_ALG_EDDSA);
	snprintf(r.nonce, sizeof(r.nonce), "line\nbreak");	/* a control */
	req_sign_id(x, 42, &r);
	sign_id_fill(&r, PROTO_ALG_RS256);
	snprintf(r.amr[1], sizeof(r.amr[1]), "pwd");	/* repeated */
	req_sign_id(x, 43, &r);
	sign_id_fill(&r, PROTO_ALG_RS256);
	snprintf(r.amr[0], sizeof(r.amr[0]), "sms");	/* not a method */
	req_sign_id(x, 44, &r);
	sign_id_fill(&r, PROTO_ALG_EDDSA);
	r.roles_claim = false;		/* roles without the claim */
	req_sign_id(x, 45, &r);
	sign_id_fill(&r, PROTO_ALG_RS256);
	snprintf(r.access_token, sizeof(r.access_token), "a b.c");
	req_sign_id(x, 46, &r);
	send_b(x);
	expect_error(x, 40, PROTO_ERR_INVALID);
	expect_error(x, 41, PROTO_ERR_INVALID);
	expect_error(x, 42, PROTO_ERR_INVALID);
	expect_error(x, 43, PROTO_ERR_INVALID);
	expect_error(x, 44, PROTO_ERR_INVALID);
	expect_error(x, 45, PROTO_ERR_INVALID);
	expect_error(x, 46, PROTO_ERR_INVALID);
	still_serving(x, 47);
	assert_int_equal(finish(x), 0);
}

/* The raw writer makes what the encoder makes: the malformed cases
 * below differ from a good request by their one broken field. */
static void
test_sign_id_raw_well_formed(void **state)
{
	struct fixture *x = *state;
	struct raw *w;

	assert_non_null(w = calloc(1, sizeof(*w)));
	hello(x);
	raw_sign_id(w, ID_WELL_FORMED);
	send_raw(x, PROTO_SIGN_ID, 50, w);
	read_answer(x, 50, PROTO_R_SIGN_ID);
	free(w);
	assert_int_equal(finish(x), 0);
}

/*
 * Malformed SIGN_ID frames: a frame the decoder refuses is an attack
 * (docs/architecture.md; hasher/server.c, malformed()), so the hasher
 * answers nothing and drops the connection, as for every other type.
 * One connection per case: each ends the one it is sent on.
 */
static void
sign_id_malformed(void **state, enum id_break k)
{
	struct fixture *x = *state;
	struct raw *w;

	assert_non_null(w = calloc(1, sizeof(*w)));
	hello(x);
	raw_sign_id(w, k);
	send_raw(x, PROTO_SIGN_ID, 51, w);
	free(w);
	expect_dropped(x);
}

static void
test_sign_id_bad_alg_dropped(void **state)
{
	sign_id_malformed(state, ID_BAD_ALG);
}

static void
test_sign_id_alg_zero_dropped(void **state)
{
	sign_id_malformed(state, ID_ALG_ZERO);
}

static void
test_sign_id_nul_in_field_dropped(void **state)
{
	sign_id_malformed(state, ID_NUL_IN_NONCE);
}

static void
test_sign_id_long_nonce_dropped(void **state)
{
	sign_id_malformed(state, ID_NONCE_TOO_LONG);
}

static void
test_sign_id_too_many_amr_dropped(void **state)
{
	sign_id_malformed(state, ID_TOO_MANY_AMR);
}

static void
test_sign_id_long_amr_dropped(void **state)
{
	sign_id_malformed(state, ID_AMR_TOO_LONG);
}

static void
test_sign_id_bad_bool_dropped(void **state)
{
	sign_id_malformed(state, ID_BAD_BOOL);
}

static void
test_sign_id_field_past_end_dropped(void **state)
{
	sign_id_malformed(state, ID_FIELD_PAST_END);
}

/* A good request cut short, its header saying so: the fields do not add
 * up to the length. */
static void
test_sign_id_truncated_dropped(void **state)
{
	struct fixture *x = *state;
	struct raw *w;

	assert_non_null(w = calloc(1, sizeof(*w)));
	hello(x);
	raw_sign_id(w, ID_WELL_FORMED);
	w->n -= 6;
	send_raw(x, PROTO_SIGN_ID, 52, w);
	free(w);
	expect_dropped(x);
}

/* Below PROTO_SIGN_ID_MIN: refused by the dispatch table's bounds. */
static void
test_sign_id_below_min_dropped(void **state)
{
	struct fixture *x = *state;
	struct raw *w;

	assert_non_null(w = calloc(1, sizeof(*w)));
	hello(x);
	w->n = PROTO_SIGN_ID_MIN - 1;
	send_raw(x, PROTO_SIGN_ID, 53, w);
	free(w);
	expect_dropped(x);
}

/* ---- SIGN_ASSERTION ---- */

#define TOKEN_URL	"https://idp.test/token"

static void
assertion_fill(struct proto_sign_assertion_req *r, uint8_t alg)
{
	memset(r, 0, sizeof(*r));
	r->alg = alg;
	snprintf(r->client_id, sizeof(r->client_id), "warden\"1");
	snprintf(r->aud, sizeof(r->aud), TOKEN_URL);
}

/* A client assertion for each algorithm: the header names the current key
 * of that kind, the claims are client_id twice, the endpoint, a jti, and
 * exp a minute after iat. */
static void
test_sign_assertion_both_algs(void **state)
{
	struct fixture *x = *state;
	struct proto_sign_assertion_req r;
	struct proto_sign_assertion_ans a;
	char part[PROTO_JWT_MAX + 1], want[256];
	cJSON *c;
	time_t before, after;
	double iat;
	int alg;

	hello(x);
	for (alg = PROTO_ALG_EDDSA; alg <= PROTO_ALG_RS256; alg++) {
		assertion_fill(&r, (uint8_t)alg);
		before = time(NULL);
		assert_int_equal(proto_encode_sign_assertion_req(&x->b,
		    110 + (uint32_t)alg, &r), 0);
		send_b(x);
		read_answer(x, 110 + (uint32_t)alg, PROTO_R_SIGN_ASSERTION);
		after = time(NULL);
		assert_int_equal(proto_decode_sign_assertion_ans(x->f.p,
		    x->f.h.len, &a), 0);

		jws_part(a.jwt, 0, part, sizeof(part));
		snprintf(want, sizeof(want),
		    "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
		    alg == PROTO_ALG_RS256 ? "RS256" : "EdDSA",
		    alg == PROTO_ALG_RS256 ? x->ks.rsa[x->ks.rsa_current].kid :
		    x->ks.sign[x->ks.sign_current].kid);
		assert_string_equal(part, want);

		jws_part(a.jwt, 1, part, sizeof(part));
		assert_non_null(strstr(part, "{\"iss\":\"warden\\\"1\","
		    "\"sub\":\"warden\\\"1\",\"aud\":\"" TOKEN_URL "\","
		    "\"jti\":\""));
		assert_non_null(c = cJSON_Parse(part));
		iat = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c,
		    "iat"));
		assert_true(iat >= (double)before && iat <= (double)after);
		assert_true(cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(c, "exp")) == iat + 60);
		cJSON_Delete(c);
	}
	assert_int_equal(finish(x), 0);
}

/* A well-formed request whose aud is no http(s) URL: INVALID, and the
 * connection goes on. */
static void
test_sign_assertion_bad_aud_invalid(void **state)
{
	struct fixture *x = *state;
	struct proto_sign_assertion_req r;

	hello(x);
	assertion_fill(&r, PROTO_ALG_EDDSA);
	snprintf(r.aud, sizeof(r.aud), "ftp://idp.test/token");
	assert_int_equal(proto_encode_sign_assertion_req(&x->b, 120, &r), 0);
	assertion_fill(&r, PROTO_ALG_RS256);
	snprintf(r.aud, sizeof(r.aud), "idp.test");
	assert_int_equal(proto_encode_sign_assertion_req(&x->b, 121, &r), 0);
	send_b(x);
	expect_error(x, 120, PROTO_ERR_INVALID);
	expect_error(x, 121, PROTO_ERR_INVALID);
	still_serving(x, 122);
	assert_int_equal(finish(x), 0);
}

enum as_break {
	AS_WELL_FORMED,
	AS_BAD_ALG,		/* alg 3 */
	AS_EMPTY_CLIENT,	/* client_id "" */
	AS_EMPTY_AUD,		/* aud "" */
	AS_BLANK_IN_CLIENT,	/* a byte outside 0x21..0x7e */
	AS_HIGH_IN_AUD,		/* 0x80 in aud */
	AS_LONG_CLIENT,		/* PROTO_ASSERTION_CLIENT_MAX + 1 bytes */
	AS_LONG_AUD,		/* PROTO_ASSERTION_AUD_MAX + 1 bytes */
	AS_TRAILING,		/* one byte after aud */
	AS_TRUNCATED,		/* aud cut short */
};

static void
raw_assertion(struct raw *w, enum as_break k)
{
	char big[PROTO_ASSERTION_AUD_MAX + 2];

	w->n = 0;
	raw_u8(w, k == AS_BAD_ALG ? 3 : PROTO_ALG_RS256);
	if (k == AS_EMPTY_CLIENT)
		raw_str(w, "");
	else if (k == AS_BLANK_IN_CLIENT)
		raw_str(w, "warden 1");
	else if (k == AS_LONG_CLIENT) {
		memset(big, 'c', PROTO_ASSERTION_CLIENT_MAX + 1);
		raw_bytes(w, big, PROTO_ASSERTION_CLIENT_MAX + 1);
	} else
		raw_str(w, "warden-1");
	if (k == AS_EMPTY_AUD)
		raw_str(w, "");
	else if (k == AS_HIGH_IN_AUD)
		raw_str(w, "https://id\x80p.test/token");
	else if (k == AS_LONG_AUD) {
		memcpy(big, "https://", 8);
		memset(big + 8, 'a', PROTO_ASSERTION_AUD_MAX + 1 - 8);
		raw_bytes(w, big, PROTO_ASSERTION_AUD_MAX + 1);
	} else
		raw_str(w, TOKEN_URL);
	if (k == AS_TRAILING)
		raw_u8(w, 0);
	if (k == AS_TRUNCATED)
		w->n -= 3;
}

static void
test_sign_assertion_raw_well_formed(void **state)
{
	struct fixture *x = *state;
	struct raw *w;

	assert_non_null(w = calloc(1, sizeof(*w)));
	hello(x);
	raw_assertion(w, AS_WELL_FORMED);
	send_raw(x, PROTO_SIGN_ASSERTION, 130, w);
	read_answer(x, 130, PROTO_R_SIGN_ASSERTION);
	free(w);
	assert_int_equal(finish(x), 0);
}

/* Malformed SIGN_ASSERTION frames: no answer, the connection dropped
 * (an attack, as for every type); one connection per case. */
static void
assertion_malformed(void **state, enum as_break k)
{
	struct fixture *x = *state;
	struct raw *w;

	assert_non_null(w = calloc(1, sizeof(*w)));
	hello(x);
	raw_assertion(w, k);
	send_raw(x, PROTO_SIGN_ASSERTION, 131, w);
	free(w);
	expect_dropped(x);
}

static void
test_sign_assertion_bad_alg_dropped(void **state)
{
	assertion_malformed(state, AS_BAD_ALG);
}

static void
test_sign_assertion_empty_client_dropped(void **state)
{
	assertion_malformed(state, AS_EMPTY_CLIENT);
}

static void
test_sign_assertion_empty_aud_dropped(void **state)
{
	assertion_malformed(state, AS_EMPTY_AUD);
}

static void
test_sign_assertion_blank_in_client_dropped(void **state)
{
	assertion_malformed(state, AS_BLANK_IN_CLIENT);
}

static void
test_sign_assertion_high_in_aud_dropped(void **state)
{
	assertion_malformed(state, AS_HIGH_IN_AUD);
}

static void
test_sign_assertion_long_client_dropped(void **state)
{
	assertion_malformed(state, AS_LONG_CLIENT);
}

static void
test_sign_assertion_long_aud_dropped(void **state)
{
	assertion_malformed(state, AS_LONG_AUD);
}

static void
test_sign_assertion_trailing_dropped(void **state)
{
	assertion_malformed(state, AS_TRAILING);
}

static void
test_sign_assertion_truncated_dropped(void **state)
{
	assertion_malformed(state, AS_TRUNCATED);
}

/* Below PROTO_SIGN_ASSERTION_MIN: refused by the dispatch table. */
static void
test_sign_assertion_below_min_dropped(void **state)
{
	struct fixture *x = *state;
	struct raw *w;

	assert_non_null(w = calloc(1, sizeof(*w)));
	hello(x);
	w->n = PROTO_SIGN_ASSERTION_MIN - 1;
	send_raw(x, PROTO_SIGN_ASSERTION, 140, w);
	free(w);
	expect_dropped(x);
}

/* A token it signed, of either algorithm, is valid and names its user,
 * client and session; one without sid has sid "". */
static void
test_jwt_check_own_token(void **state)
{
	struct fixture *x = *state;
	struct proto_sign_id_req r;
	struct proto_jwt_check_ans a;
	char jwt[PROTO_JWT_MAX + 1];
	int alg;

	hello(x);
	for (alg = PROTO_ALG_EDDSA; alg <= PROTO_ALG_RS256; alg++) {
		sign_id_fill(&r, (uint8_t)alg);
		sign_id_of(x, 60 + (uint32_t)alg, &r, jwt);
		jwt_check_of(x, 62 + (uint32_t)alg, jwt, &a);
		assert_true(a.valid);
		assert_string_equal(a.sub, UID_A);
		assert_string_equal(a.aud, CLIENT_A);
		assert_string_equal(a.sid, "sid-1234");
	}
	sign_id_fill(&r, PROTO_ALG_RS256);
	r.sid[0] = '\0';
	sign_id_of(x, 65, &r, jwt);
	jwt_check_of(x, 66, jwt, &a);
	assert_true(a.valid);
	assert_string_equal(a.sid, "");
	assert_int_equal(finish(x), 0);
}

/* Garbage, a tampered token and an access token are answers, valid
 * false with every field empty, and not errors. */
static void
test_jwt_check_not_ours(void **state)
{
	static const char *garbage[] = {
		"", "garbage", "a.b.c", "..", "eyJhbGciOiJub25lIn0.e30.",
		"a.b.c.d",
	};
	struct fixture *x = *state;
	struct proto_sign_id_req r;
	struct proto_sign_ans s;
	struct proto_jwt_check_ans a;
	char jwt[PROTO_JWT_MAX + 1], *d1, *d2;
	size_t i;

	hello(x);
	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		jwt_check_of(x, 70 + (uint32_t)i, garbage[i], &a);
		assert_false(a.valid);
		assert_string_equal(a.sub, "");
		assert_string_equal(a.aud, "");
		assert_string_equal(a.sid, "");
	}

	/* One character of the claims changed: the signature fails. */
	sign_id_fill(&r, PROTO_ALG_RS256);
	sign_id_of(x, 80, &r, jwt);
	assert_non_null(d1 = strchr(jwt, '.'));
	d1[5] = d1[5] == 'A' ? 'B' : 'A';
	jwt_check_of(x, 81, jwt, &a);
	assert_false(a.valid);
	assert_string_equal(a.sub, "");

	/* One character of the signature changed. */
	sign_id_fill(&r, PROTO_ALG_EDDSA);
	sign_id_of(x, 82, &r, jwt);
	assert_non_null(d2 = strrchr(jwt, '.'));
	d2[3] = d2[3] == 'A' ? 'B' : 'A';
	jwt_check_of(x, 83, jwt, &a);
	assert_false(a.valid);

	/* The claims of an EdDSA token under the header of an RS256 one. */
	{
		char rs[PROTO_JWT_MAX + 1], mix[2 * PROTO_JWT_MAX + 2];

		sign_id_fill(&r, PROTO_ALG_RS256);
		sign_id_of(x, 84, &r, rs);
		sign_id_fill(&r, PROTO_ALG_EDDSA);
		snprintf(r.sub, sizeof(r.sub),
		    "66666666-2222-4333-8444-555555555555");
		sign_id_of(x, 85, &r, jwt);
		assert_non_null(d1 = strchr(rs, '.'));
		*d1 = '\0';
		assert_non_null(d2 = strchr(jwt, '.'));
		snprintf(mix, sizeof(mix), "%s%s", rs, d2);
		assert_true(strlen(mix) <= PROTO_JWT_MAX);
		jwt_check_of(x, 86, mix, &a);
		assert_false(a.valid);
	}

	/* An access token of this hasher is no ID token (typ at+jwt). */
	req_sign(x, 87, UID_A, 60);
	send_b(x);
	read_answer(x, 87, PROTO_R_SIGN);
	assert_int_equal(proto_decode_sign_ans(x->f.p, x->f.h.len, &s), 0);
	jwt_check_of(x, 88, s.jwt, &a);
	assert_false(a.valid);
	assert_int_equal(finish(x), 0);
}

/* A JWT_CHECK whose token field claims more bytes than the frame has:
 * dropped, as every malformed frame. */
static void
test_jwt_check_malformed_dropped(void **state)
{
	struct fixture *x = *state;
	struct raw w;

	hello(x);
	w.n = 0;
	raw_u32(&w, 100);
	memcpy(w.p + w.n, "abc", 3);
	w.n += 3;
	send_raw(x, PROTO_JWT_CHECK, 90, &w);
	expect_dropped(x);
}

static void
test_jwt_check_nul_dropped(void **state)
{
	struct fixture *x = *state;
	struct raw w;

	hello(x);
	w.n = 0;
	raw_bytes(&w, "a.b\0.c", 6);
	send_raw(x, PROTO_JWT_CHECK, 91, &w);
	expect_dropped(x);
}

/* Over PROTO_JWT_CHECK_MAX: refused from the header's length. */
static void
test_jwt_check_too_long_dropped(void **state)
{
	struct fixture *x = *state;
	struct raw *w;

	assert_non_null(w = calloc(1, sizeof(*w)));
	hello(x);
	memset(w->p + 4, 'a', PROTO_JWT_MAX + 1);
	raw_u32(w, PROTO_JWT_MAX + 1);
	w->n = 4 + PROTO_JWT_MAX + 1;
	send_raw(x, PROTO_JWT_CHECK, 92, w);
	free(w);
	expect_dropped(x);
}

/* ------------------------------------------------------------ invalid */

static void
test_invalid_fields(void **state)
{
	struct fixture *x = *state;

	hello(x);
	req_hash(x, 20, "not-a-uuid", "pw");
	send_b(x);
	expect_error(x, 20, PROTO_ERR_INVALID);
	req_hash(x, 21, "11111111-2222-4333-8444-55555555555A", "pw");
	send_b(x);
	expect_error(x, 21, PROTO_ERR_INVALID);
	req_verify(x, 22, "", "pw", "");
	send_b(x);
	expect_error(x, 22, PROTO_ERR_INVALID);
	req_sign(x, 23, "nope", 60);
	send_b(x);
	expect_error(x, 23, PROTO_ERR_INVALID);
	/* The connection survives field errors. */
	assert_int_equal(proto_encode_pubkeys_req(&x->b, 24), 0);
	send_b(x);
	read_answer(x, 24, PROTO_R_PUBKEYS);
	assert_int_equal(finish(x), 0);
}

/* ------------------------------------------------------------ malformed */

static void
test_wrong_version(void **state)
{
	struct fixture *x = *state;
	struct proto_hello m = { PROTO_VERSION + 1 };

	assert_int_equal(proto_encode_hello(&x->b, 9, PROTO_HELLO, &m), 0);
	send_b(x);
	read_answer(x, 9, PROTO_R_HELLO);
	assert_int_equal(proto_decode_hello(x->f.p, x->f.h.len, &m), 0);
	assert_int_equal(m.version, PROTO_VERSION);
	expect_dropped(x);
}

static void
test_no_hello(void **state)
{
	struct fixture *x = *state;

	req_hash(x, 2, UID_A, "pw");
	send_b(x);
	expect_dropped(x);
}

static void
test_second_hello(void **state)
{
	struct fixture *x = *state;
	struct proto_hello m = { PROTO_VERSION };

	hello(x);
	assert_int_equal(proto_encode_hello(&x->b, 2, PROTO_HELLO, &m), 0);
	send_b(x);
	expect_dropped(x);
}

static void
test_unknown_type(void **state)
{
	struct fixture *x = *state;
	uint8_t h[PROTO_HEADER_SIZE];

	hello(x);
	hc_header(h, 0, 2, 0x0042);
	assert_int_equal(proto_io_write(x->fd, h, sizeof(h), HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	expect_dropped(x);
}

/*
 * A peer that stops reading has a worker blocked in write() with the
 * connection's write lock held; a malformed frame must still end the
 * connection (the shutdown fails that write) rather than wedge the I/O
 * thread on the lock.
 */
static void
test_drop_while_worker_blocked(void **state)
{
	struct fixture *x = *state;
	uint8_t h[PROTO_HEADER_SIZE];
	unsigned int i;
	bool done = false;

	hello(x);
	for (i = 0; i < 60; i++)
		req_hash(x, 100 + i, UID_A, "pw");
	send_b(x);
	usleep(500 * 1000);	/* the answers fill the send buffer */
	hc_header(h, 0, 2, 0x0042);
	assert_int_equal(proto_io_write(x->fd, h, sizeof(h), HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	for (i = 0; i < 100 && !done; i++) {
		usleep(50 * 1000);
		done = __atomic_load_n(&x->done, __ATOMIC_ACQUIRE);
	}
	if (!done) {
		finish(x);	/* closing our end unblocks it */
		fail_msg("server_run wedged dropping a connection");
	}
	assert_int_equal(finish(x), -1);
}

/*
 * A front that sends requests but takes no answers: the I/O thread's own
 * answers (PUBKEYS here) fill the socket, and once one has waited
 * send_timeout_ms the front is dropped, instead of the I/O thread blocking
 * in write() for good and every other connection with it.
 */
static void
test_stalled_front_dropped(void **state)
{
	struct fixture *x = *state;
	unsigned int i;
	bool done = false;

	hello(x);
	for (i = 0; i < 500; i++)
		assert_int_equal(proto_encode_pubkeys_req(&x->b, 10 + i), 0);
	send_b(x);
	for (i = 0; i < 200 && !done; i++) {
		usleep(50 * 1000);
		done = __atomic_load_n(&x->done, __ATOMIC_ACQUIRE);
	}
	if (!done) {
		finish(x);	/* closing our end unblocks it */
		fail_msg("server_run blocked writing to a front that reads "
		    "nothing");
	}
	assert_int_equal(hc_expect_eof(x->fd), 0);
	assert_int_equal(finish(x), -1);
}

/* An answer type sent as a request is just as unknown. */
static void
test_answer_type(void **state)
{
	struct fixture *x = *state;
	struct proto_hello m = { PROTO_VERSION };

	hello(x);
	assert_int_equal(proto_encode_hello(&x->b, 2, PROTO_R_HELLO, &m), 0);
	send_b(x);
	expect_dropped(x);
}

/* Refused from the header alone: no payload follows, none is awaited. */
static void
test_oversized(void **state)
{
	struct fixture *x = *state;
	uint8_t h[PROTO_HEADER_SIZE];

	hello(x);
	hc_header(h, PROTO_MAX_PAYLOAD + 1, 2, PROTO_HASH);
	assert_int_equal(proto_io_write(x->fd, h, sizeof(h), HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	expect_dropped(x);
}

static void
test_huge_length(void **state)
{
	struct fixture *x = *state;
	uint8_t h[PROTO_HEADER_SIZE];

	hello(x);
	hc_header(h, UINT32_MAX, 2, PROTO_VERIFY);
	assert_int_equal(proto_io_write(x->fd, h, sizeof(h), HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	expect_dropped(x);
}

static void
test_reserved_bits(void **state)
{
	struct fixture *x = *state;
	uint8_t h[PROTO_HEADER_SIZE];

	hello(x);
	hc_header(h, 0, 2, PROTO_PUBKEYS);
	h[11] = 1;
	assert_int_equal(proto_io_write(x->fd, h, sizeof(h), HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	expect_dropped(x);
}

/* A type's own bounds: PUBKEYS carries nothing, HELLO exactly 4 bytes. */
static void
test_length_out_of_bounds(void **state)
{
	struct fixture *x = *state;
	uint8_t fr[PROTO_HEADER_SIZE + 4] = { 0 };

	hello(x);
	hc_header(fr, 4, 2, PROTO_PUBKEYS);
	assert_int_equal(proto_io_write(x->fd, fr, sizeof(fr), HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	expect_dropped(x);
}

static void
test_short_hash(void **state)
{
	struct fixture *x = *state;
	uint8_t fr[PROTO_HEADER_SIZE + 4] = { 0 };

	hello(x);
	hc_header(fr, 4, 2, PROTO_HASH);	/* below HASH's minimum */
	assert_int_equal(proto_io_write(x->fd, fr, sizeof(fr), HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	expect_dropped(x);
}

/* Within bounds, but the fields do not add up. */
static void
test_bad_payload(void **state)
{
	struct fixture *x = *state;
	uint8_t fr[PROTO_HEADER_SIZE + 12];

	hello(x);
	hc_header(fr, 12, 2, PROTO_HASH);
	/* user_id claims 200 bytes */
	memcpy(fr + PROTO_HEADER_SIZE, "\0\0\0\xc8" "abcd" "\0\0\0\0", 12);
	assert_int_equal(proto_io_write(x->fd, fr, sizeof(fr), HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	expect_dropped(x);
}

static void
test_nul_in_string(void **state)
{
	struct fixture *x = *state;
	uint8_t fr[PROTO_HEADER_SIZE + 4 + 36 + 4];

	hello(x);
	hc_header(fr, 44, 2, PROTO_HASH);
	memcpy(fr + PROTO_HEADER_SIZE, "\0\0\0\x24", 4);
	memcpy(fr + PROTO_HEADER_SIZE + 4, UID_A, 36);
	fr[PROTO_HEADER_SIZE + 4 + 8] = '\0';
	memcpy(fr + PROTO_HEADER_SIZE + 40, "\0\0\0\0", 4);
	assert_int_equal(proto_io_write(x->fd, fr, sizeof(fr), HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	expect_dropped(x);
}

/* A well-formed HASH with one byte more: left over, so malformed. */
static void
test_trailing_bytes(void **state)
{
	struct fixture *x = *state;
	uint8_t *fr;

	hello(x);
	req_hash(x, 2, UID_A, "pw");
	assert_non_null(fr = malloc(x->b.len + 1));
	memcpy(fr, x->b.data, x->b.len);
	fr[x->b.len] = 'x';
	hc_header(fr, (uint32_t)(x->b.len + 1 - PROTO_HEADER_SIZE), 2,
	    PROTO_HASH);
	assert_int_equal(proto_io_write(x->fd, fr, x->b.len + 1,
	    HC_TIMEOUT_MS), PROTO_IO_OK);
	proto_buf_reset(&x->b);
	free(fr);
	expect_dropped(x);
}

/* HELLO is exactly 4 bytes. */
static void
test_long_hello(void **state)
{
	struct fixture *x = *state;
	uint8_t fr[PROTO_HEADER_SIZE + 5] = { 0 };

	hc_header(fr, 5, 3, PROTO_HELLO);
	fr[PROTO_HEADER_SIZE + 3] = PROTO_VERSION;
	assert_int_equal(proto_io_write(x->fd, fr, sizeof(fr), HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	expect_dropped(x);
}

static void
test_truncated(void **state)
{
	struct fixture *x = *state;
	uint8_t fr[PROTO_HEADER_SIZE + 10] = { 0 };

	hello(x);
	hc_header(fr, 50, 2, PROTO_HASH);
	assert_int_equal(proto_io_write(x->fd, fr, sizeof(fr), HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	assert_int_equal(finish(x), -1);
}

static void
test_garbage_first(void **state)
{
	struct fixture *x = *state;
	uint8_t junk[64];

	memset(junk, 0xff, sizeof(junk));
	assert_int_equal(proto_io_write(x->fd, junk, sizeof(junk),
	    HC_TIMEOUT_MS), PROTO_IO_OK);
	expect_dropped(x);
}

/* ------------------------------------------------------------ split mode */

static int
listen_at(struct fixture *x, char *path, size_t pathlen)
{
	struct sockaddr_un sun;
	int fd;

	snprintf(path, pathlen, "%s/s.sock", x->dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	return fd;
}

static int
setup_split(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));
	char err[512];

	assert_non_null(x);
	snprintf(x->dir, sizeof(x->dir), "/tmp/warden-srv-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	assert_int_equal(keys_generate(x->dir, err, sizeof(err)), 0);
	assert_int_equal(keys_load(&x->ks, x->dir, err, sizeof(err)), 0);
	proto_buf_init(&x->b);
	start_server(x, 1, 4, 1024 * 1024, 0);
	x->fd = -1;
	x->lfd = -1;
	*state = x;
	return 0;
}

/* Stops a listening server_run(): accept() then fails. */
static void
stop_split(struct fixture *x)
{
	shutdown(x->lfd, SHUT_RDWR);
	pthread_join(x->thread, NULL);
	x->running = false;
	assert_int_equal(x->rc, -1);
}

static void
test_split_serves_our_uid(void **state)
{
	struct fixture *x = *state;
	char path[PATH_MAX];
	int a, b;

	x->lfd = listen_at(x, path, sizeof(path));
	run_server(x, x->lfd, -1, getuid());
	/* Two fronts at once, each served. */
	a = connect_to(path);
	b = connect_to(path);
	assert_int_equal(proto_io_hello(a, 1, &x->f, HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	assert_int_equal(proto_io_hello(b, 1, &x->f, HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	assert_int_equal(proto_encode_pubkeys_req(&x->b, 2), 0);
	assert_int_equal(proto_io_send(b, &x->b, HC_TIMEOUT_MS), PROTO_IO_OK);
	assert_int_equal(proto_io_read_frame(b, &x->f, HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	assert_int_equal(x->f.h.type, PROTO_R_PUBKEYS);
	/* One dropped for a bad frame; the other goes on. */
	assert_int_equal(proto_io_write(a, "\xff\xff\xff\xff\0\0\0\0\0\0\0\0",
	    12, HC_TIMEOUT_MS), PROTO_IO_OK);
	assert_int_equal(hc_expect_eof(a), 0);
	assert_int_equal(proto_encode_pubkeys_req(&x->b, 3), 0);
	assert_int_equal(proto_io_send(b, &x->b, HC_TIMEOUT_MS), PROTO_IO_OK);
	assert_int_equal(proto_io_read_frame(b, &x->f, HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	assert_int_equal(x->f.h.id, 3);
	close(a);
	close(b);
	stop_split(x);
}

static void
test_split_refuses_other_uid(void **state)
{
	struct fixture *x = *state;
	char path[PATH_MAX];
	int a;

	x->lfd = listen_at(x, path, sizeof(path));
	run_server(x, x->lfd, -1, getuid() + 1);
	a = connect_to(path);
	assert_int_equal(hc_expect_eof(a), 0);
	close(a);
	stop_split(x);
}

static void
test_split_connection_cap(void **state)
{
	struct fixture *x = *state;
	char path[PATH_MAX];
	int c[SERVER_MAX_CONNS + 1], i;

	x->lfd = listen_at(x, path, sizeof(path));
	run_server(x, x->lfd, -1, getuid());
	for (i = 0; i < SERVER_MAX_CONNS; i++) {
		c[i] = connect_to(path);
		assert_int_equal(proto_io_hello(c[i], 1, &x->f,
		    HC_TIMEOUT_MS), PROTO_IO_OK);
	}
	c[i] = connect_to(path);	/* one too many: closed */
	assert_int_equal(hc_expect_eof(c[i]), 0);
	for (i = 0; i <= SERVER_MAX_CONNS; i++)
		close(c[i]);
	stop_split(x);
}

/*
 * The child of test_split_accept_pauses: serves the listening socket lfd
 * with room for exactly one descriptor more (fd 4), logging to logpath.
 * Plain exits instead of cmocka's asserts: this is another process.
 */
static void
accept_pause_child(struct fixture *x, int lfd, const char *logpath)
{
	struct server_params p;
	struct rlimit rl = { 5, 5 };
	struct server *srv;
	int logfd, nullfd;

	/* Out of the way of the dup2()s below: a test run with stdin
	 * closed has its listener on fd 0. */
	if ((lfd = fcntl(lfd, F_DUPFD, 10)) == -1 ||
	    (logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    (nullfd = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(nullfd, 0) == -1 || dup2(logfd, 1) == -1 ||
	    dup2(logfd, 2) == -1 || dup2(lfd, 3) == -1)
		_exit(2);
	closefrom(4);
	server_params_for(&p, x, 1, 0, 1024 * 1024);
	if ((srv = server_new(&p)) == NULL ||
	    setrlimit(RLIMIT_NOFILE, &rl) == -1)
		_exit(2);
	_exit(server_run(srv, 3, -1, getuid()) == -1 ? 3 : 0);
}

/*
 * Out of descriptors, the accept loop pauses instead of spinning: with one
 * front served and the only free descriptor taken, a second front waits
 * in the backlog, and accept() fails with EMFILE.  In a second the log
 * must show a few pauses, not the thousands of lines of a busy loop.
 */
static void
test_split_accept_pauses(void **state)
{
	struct fixture *x = *state;
	char path[PATH_MAX], logpath[PATH_MAX], line[512];
	unsigned int n = 0;
	FILE *fp;
	pid_t pid;
	int a, b, status;

	x->lfd = listen_at(x, path, sizeof(path));
	snprintf(logpath, sizeof(logpath), "%s/hasher.log", x->dir);
	fflush(NULL);
	if ((pid = fork()) == 0)
		accept_pause_child(x, x->lfd, logpath);
	assert_true(pid > 0);
	a = connect_to(path);
	assert_int_equal(proto_io_hello(a, 1, &x->f, HC_TIMEOUT_MS),
	    PROTO_IO_OK);
	b = connect_to(path);	/* queued: no descriptor left for it */
	usleep(1000 * 1000);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(a);
	close(b);
	assert_non_null(fp = fopen(logpath, "r"));
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, "accept: Too many open files") != NULL)
			n++;
	fclose(fp);
	if (n < 1 || n > 50)
		fail_msg("%u EMFILE lines in a second: want 1 to 50", n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hash_verify, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_empty_password, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_pubkeys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_logged_at_warn,
		    setup_warn, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_half_close, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup_small,
		    teardown),
		cmocka_unit_test_setup_teardown(test_invalid_fields, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_rs256_and_eddsa,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_invalid_fields,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_raw_well_formed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_bad_alg_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_alg_zero_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_nul_in_field_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_long_nonce_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_too_many_amr_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_long_amr_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_bad_bool_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_field_past_end_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_truncated_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_id_below_min_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_assertion_both_algs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_assertion_bad_aud_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_assertion_raw_well_formed, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_assertion_bad_alg_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_assertion_empty_client_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_assertion_empty_aud_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_assertion_blank_in_client_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_assertion_high_in_aud_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_assertion_long_client_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_assertion_long_aud_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_assertion_trailing_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_assertion_truncated_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_assertion_below_min_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jwt_check_own_token,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_jwt_check_not_ours,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_jwt_check_malformed_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_jwt_check_nul_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_jwt_check_too_long_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_version, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_hello, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_second_hello, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_type, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_drop_while_worker_blocked,
		    setup_tiny_sndbuf, teardown),
		cmocka_unit_test_setup_teardown(test_stalled_front_dropped,
		    setup_stall, teardown),
		cmocka_unit_test_setup_teardown(test_answer_type, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_oversized, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_huge_length, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reserved_bits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_length_out_of_bounds,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_hash, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_payload, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nul_in_string, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_trailing_bytes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_long_hello, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_garbage_first, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_split_serves_our_uid,
		    setup_split, teardown),
		cmocka_unit_test_setup_teardown(test_split_refuses_other_uid,
		    setup_split, teardown),
		cmocka_unit_test_setup_teardown(test_split_accept_pauses,
		    setup_split, teardown),
		cmocka_unit_test_setup_teardown(test_split_connection_cap,
		    setup_split, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
