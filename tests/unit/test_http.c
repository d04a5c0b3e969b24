/* Tests of the server of daemon/http (http.h): a real evhttp server on
 * 127.0.0.1 (port 0) and on a unix socket in a temporary directory, with a
 * small route table, driven by raw sockets from a client thread while the
 * test's thread runs the event loop.  Request ids, nosniff,
 * 404/405/Allow, 413, 415, the access log (stderr captured),
 * X-Forwarded-For, keep-alive, clients that leave before an asynchronous
 * handler replies, the handler deadline, and freeing the server with a
 * handler still pending. */
#define _GNU_SOURCE		/* strcasestr */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "api/body.h"
#include "config.h"
#include "fields.h"
#include "http/form.h"
#include "http/http.h"
#include "http/json_in.h"
#include "log.h"
#include "api/problem_reply.h"

#define UUID	"0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7b"
#define MAXBODY	1024

/* How long a test waits for something that is due at once.  Generous, for
 * a loaded 2-core machine running the sanitizer build; every wait ends as
 * soon as its condition holds, so a passing run does not pay for it. */
#define WAIT_MS	10000

static struct event_base	*base;
static struct http_server	*srv;
static struct cfg		 cfg;
static int			 port;
static char			 tmpdir[64];
static int			 saved_stderr = -1;

/* stderr goes through a pipe to a thread that keeps it (the access log is
 * checked) and passes on whatever is not a log line (cmocka's messages,
 * sanitizer reports; everything with TEST_HTTP_VERBOSE set). */
static int			 tee_pipe[2] = { -1, -1 };
static pthread_t		 tee_thread;
static pthread_mutex_t		 tee_mu = PTHREAD_MUTEX_INITIALIZER;
static char			 tee_buf[1 << 20];
static size_t			 tee_len;

/* Contexts handed to handlers and freed again (rule 4: exactly once). */
static int			 dispatched, freed;
static int			 held_replied;
static int			 observed;
static char			 observed_route[64];

/* An asynchronous handler's request, kept until the test releases it
 * (held_flag tells the client thread that it is here). */
static struct http_req		*held;
static atomic_bool		 held_flag;

/* libevent's memory goes through these (event_set_mem_functions(), in
 * main() before any other libevent call): while secret_len is set, every
 * block libevent frees is searched for secret, so a copy of a request
 * body left in a freed buffer chain is seen. */
static char			 secret[48];
static size_t			 secret_len;
static int			 secret_leaks;

static void *
t_malloc(size_t n)
{
	return malloc(n);
}

static void *
t_realloc(void *p, size_t n)
{
	return realloc(p, n);
}

static void
t_free(void *p)
{
	if (p != NULL && secret_len > 0 &&
	    memmem(p, malloc_usable_size(p), secret, secret_len) != NULL)
		secret_leaks++;
	free(p);
}

/* Milliseconds since *t0 (CLOCK_MONOTONIC). */
static long long
ms_since(const struct timespec *t0)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000LL +
	    (now.tv_nsec - t0->tv_nsec) / (1000 * 1000);
}

/* ---- handlers ---- */

static void
h_hello(struct http_req *r)
{
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "hello", "world");
	http_no_store(r, false);
	http_reply_json(r, 200, o);
}

static void
h_item(struct http_req *r)
{
	http_reply_text(r, 200, http_req_param(r, "id"));
}

static void
h_item_patch(struct http_req *r)
{
	http_reply_empty(r, 204);
}

static void
h_echo(struct http_req *r)
{
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "len", (double)r->body_len);
	cJSON_AddStringToObject(o, "remote", r->remote);
	cJSON_AddStringToObject(o, "peer", r->peer);
	cJSON_AddStringToObject(o, "query", r->query ? r->query : "");
	http_reply_json(r, 200, o);
}

static void
h_json(struct http_req *r)
{
	cJSON	*o;

	if (body_json(r, 32, &o) == -1)
		return;
	cJSON_Delete(o);
	http_reply_empty(r, 204);
}

static void
h_form(struct http_req *r)
{
	struct form	 f;
	char		 why[FORM_WHY_MAX];
	long long	 limit;

	if (form_parse(&f, r->query, r->query ? strlen(r->query) : 0, why,
	    sizeof(why)) != 0) {
		problem_reply(r, PROBLEM_MALFORMED, why);
		return;
	}
	if (form_get_int(&f, "limit", 1, 200, 50, &limit) != FORM_INT_OK) {
		form_free(&f);
		problem_reply(r, PROBLEM_VALIDATION, "limit");
		return;
	}
	form_free(&f);
	http_reply_text(r, 200, limit == 50 ? "50" : "other");
}

struct later {
	struct event	*ev;
	struct http_req	*r;
	int		*counter;
};

static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct later	*l = arg;
	struct http_req	*r = l->r;

	(*l->counter)++;
	event_free(l->ev);
	free(l);
	/* The client may be long gone: this must be safe all the same. */
	http_reply_text(r, 200, "late");
}

/* Replies from a timer ms later: an asynchronous handler. */
static void
reply_later(struct http_req *r, int ms, int *counter)
{
	struct later	*l = calloc(1, sizeof(*l));
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	assert_non_null(l);
	l->r = r;
	l->counter = counter;
	l->ev = evtimer_new(base, later_cb, l);
	evtimer_add(l->ev, &tv);
}

/* Keeps the request and replies only when the test says so: a reply
 * from a timer of its own would race the client and the checks on a
 * loaded machine, and prove nothing when it came too early. */
static void
h_hold(struct http_req *r)
{
	held = r;
	atomic_store(&held_flag, true);
}

static void
hold_reset(void)
{
	held = NULL;
	atomic_store(&held_flag, false);
}

/* The held request's handler replies now, from a timer on the loop as a
 * real one would from its callback. */
static void
release(void)
{
	assert_non_null(held);
	reply_later(held, 0, &held_replied);
	held = NULL;
}

static const struct route routes[] = {
	{ EVHTTP_REQ_GET, "/hello", h_hello, ROUTE_AUTH_NONE },
	{ EVHTTP_REQ_GET, "/items/{id:uuid}", h_item, ROUTE_AUTH_NONE },
	{ EVHTTP_REQ_PATCH, "/items/{id:uuid}", h_item_patch,
	    ROUTE_AUTH_NONE },
	{ EVHTTP_REQ_POST, "/echo", h_echo, ROUTE_AUTH_NONE },
	{ EVHTTP_REQ_GET, "/echo", h_echo, ROUTE_AUTH_NONE },
	{ EVHTTP_REQ_POST, "/json", h_json, ROUTE_AUTH_NONE },
	{ EVHTTP_REQ_GET, "/form", h_form, ROUTE_AUTH_NONE },
	{ EVHTTP_REQ_GET, "/hold", h_hold, ROUTE_AUTH_NONE },
};
#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

static void
count_free(void *p)
{
	(void)p;
	freed++;
}

/* The dispatch hook: what the lead's auth step does, minus the auth. */
static void
dispatch(struct http_req *r, void *arg)
{
	dispatched++;
	r->caller = &dispatched;
	r->caller_free = count_free;
	http_req_run(r);
}

static void
observe(const struct http_req *r, double ms, void *arg)
{
	observed++;
	snprintf(observed_route, sizeof(observed_route), "%s",
	    r->route != NULL ? r->route->pattern : "-");
	assert_true(ms >= 0);
}

/* ---- the event loop and the client thread ---- */

static atomic_bool	 client_done;

struct job {
	/* in */
	const char	*req;
	size_t		 reqlen;
	const char	*req2;		/* keep-alive: a second request */
	/* J_CLOSE, J_RESET: leave once the handler holds the request;
	 * J_CUT: stay until the server closes the connection */
	enum { J_READ, J_CLOSE, J_RESET, J_CUT } mode;
	const char	*unix_path;	/* else 127.0.0.1:port */
	const char	*bind_path;	/* bind the unix client first */
	const char	*bind_addr;	/* the TCP client's own address */
	int		 fd;		/* connected, request sent */
	/* out */
	char		 resp[16384];
	size_t		 len;
	char		 resp2[16384];
	int		 err;
};

static int
client_socket(struct job *j)
{
	struct sockaddr_un	 sun;
	struct sockaddr_in	 sin;
	struct timeval		 tv = { WAIT_MS / 1000, 0 };
	int			 fd;

	if (j->unix_path != NULL) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (j->bind_path != NULL) {
			memset(&sun, 0, sizeof(sun));
			sun.sun_family = AF_UNIX;
			snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
			    j->bind_path);
			if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
				return -1;
		}
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
		    j->unix_path);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			return -1;
	} else {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (j->bind_addr != NULL) {
			memset(&sin, 0, sizeof(sin));
			sin.sin_family = AF_INET;
			if (inet_pton(AF_INET, j->bind_addr,
			    &sin.sin_addr) != 1 || bind(fd,
			    (struct sockaddr *)&sin, sizeof(sin)) == -1)
				return -1;
		}
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int
send_all(int fd, const char *s, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = send(fd, s, len, MSG_NOSIGNAL)) <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one response: the headers, then Content-Length bytes (or to EOF
 * without one). */
static size_t
read_response(int fd, char *buf, size_t cap)
{
	size_t	 len = 0, want = 0;
	ssize_t	 n;
	char	*end, *cl;

	for (;;) {
		if (len + 1 >= cap)
			break;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL && want == 0) {
			want = (size_t)(end + 4 - buf);
			if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL &&
			    cl < end)
				want += strtoul(cl + 17, NULL, 10);
			else if (strncmp(buf, "HTTP/1.1 204", 12) == 0 ||
			    strstr(buf, "\r\nX-Head: 1\r\n") != NULL)
				;	/* no body */
			else
				want = cap;	/* to EOF */
		}
		if (want != 0 && len >= want)
			break;
		if ((n = recv(fd, buf + len, cap - 1 - len, 0)) <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

static void *
client_main(void *arg)
{
	struct job	*j = arg;
	struct linger	 lg = { 1, 0 };
	struct timespec	 t0, ts = { 0, 1000 * 1000 };
	ssize_t		 n;
	int		 fd = j->fd;

	if (fd == -1)
		goto done;
	switch (j->mode) {
	case J_READ:
		j->len = read_response(fd, j->resp, sizeof(j->resp));
		if (j->req2 != NULL) {
			send_all(fd, j->req2, strlen(j->req2));
			read_response(fd, j->resp2, sizeof(j->resp2));
		}
		break;
	case J_CLOSE:
	case J_RESET:
		/* Leave only once the handler has the request: the test is
		 * about a client that leaves while the handler works, and no
		 * fixed sleep ensures that on a loaded machine. */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (!atomic_load(&held_flag) && ms_since(&t0) < WAIT_MS)
			nanosleep(&ts, NULL);
		if (j->mode == J_RESET)
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		break;
	case J_CUT:
		/* Whatever comes until the server closes; a read timeout
		 * (it never did) is an error. */
		while ((n = recv(fd, j->resp + j->len,
		    sizeof(j->resp) - 1 - j->len, 0)) > 0)
			j->len += (size_t)n;
		if (n == -1)
			j->err = errno;
		j->resp[j->len] = '\0';
		break;
	}
	close(fd);
done:
	atomic_store(&client_done, true);
	return NULL;
}

static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	if (atomic_load(&client_done))
		event_base_loopbreak(base);
}

/* Connects and sends from this thread, before the loop runs, then starts
 * the client thread for the rest.  The request waits in the socket buffer
 * (a few KB at most here: it fits), so no server timeout can run out while
 * the client thread waits for a CPU. */
static void
client_start(struct job *j, pthread_t *t)
{
	atomic_store(&client_done, false);
	if ((j->fd = client_socket(j)) == -1)
		j->err = errno;
	else if (send_all(j->fd, j->req, j->reqlen) == -1) {
		j->err = errno;
		close(j->fd);
		j->fd = -1;
	}
	assert_int_equal(pthread_create(t, NULL, client_main, j), 0);
}

/* Runs the client job in a thread while this thread runs the loop. */
static void
run(struct job *j)
{
	struct timeval	 tv = { 0, 2000 };
	struct event	*ev;
	pthread_t	 t;

	ev = event_new(base, -1, EV_PERSIST, poll_cb, NULL);
	event_add(ev, &tv);
	client_start(j, &t);
	event_base_dispatch(base);
	pthread_join(t, NULL);
	event_free(ev);
}

/* Runs the loop for ms more milliseconds. */
static void
spin(int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static struct job *
get(const char *req)
{
	struct job	*j = calloc(1, sizeof(*j));

	assert_non_null(j);
	j->req = req;
	j->reqlen = strlen(req);
	run(j);
	assert_int_equal(j->err, 0);
	return j;
}

static int
status_of(const char *resp)
{
	if (strncmp(resp, "HTTP/1.", 7) != 0)
		return -1;
	return (int)strtol(resp + 9, NULL, 10);
}

/* The value of response header name (into out), or NULL. */
static const char *
header(const char *resp, const char *name, char *out, size_t outlen)
{
	char		 pat[128];
	const char	*p, *end = strstr(resp, "\r\n\r\n");
	size_t		 l;

	snprintf(pat, sizeof(pat), "\r\n%s:", name);
	if ((p = strcasestr(resp, pat)) == NULL || (end != NULL && p > end))
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	l = strcspn(p, "\r");
	if (l >= outlen)
		l = outlen - 1;
	memcpy(out, p, l);
	out[l] = '\0';
	return out;
}

static const char *
body_of(const char *resp)
{
	const char	*p = strstr(resp, "\r\n\r\n");

	return p != NULL ? p + 4 : "";
}

/* Every response we make: the id, nosniff. */
static void
check_common(const char *resp)
{
	char	 v[128];

	assert_non_null(header(resp, "X-Request-Id", v, sizeof(v)));
	assert_true(http_reqid_valid(v));
	assert_non_null(header(resp, "X-Content-Type-Options", v, sizeof(v)));
	assert_string_equal(v, "nosniff");
}

/* A problem+json response of status and type name. */
static void
check_problem(const char *resp, int status, const char *name)
{
	char	 v[128], type[96];
	cJSON	*o;

	assert_int_equal(status_of(resp), status);
	check_common(resp);
	assert_non_null(header(resp, "Content-Type", v, sizeof(v)));
	assert_string_equal(v, "application/problem+json");
	o = cJSON_Parse(body_of(resp));
	if (o == NULL)
		fail_msg("not JSON: %s", body_of(resp));
	snprintf(type, sizeof(type), "urn:warden:problem:%s", name);
	assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring,
	    type);
	assert_int_equal(cJSON_GetObjectItem(o, "status")->valueint, status);
	assert_non_null(cJSON_GetObjectItem(o, "title"));
	cJSON_Delete(o);
}

static void *
tee_main(void *arg)
{
	static char	 line[8192];
	char		 buf[4096];
	size_t		 ll = 0, i;
	ssize_t		 n;
	bool		 all = getenv("TEST_HTTP_VERBOSE") != NULL;

	while ((n = read(tee_pipe[0], buf, sizeof(buf))) > 0) {
		pthread_mutex_lock(&tee_mu);
		if ((size_t)n < sizeof(tee_buf) - 1 - tee_len) {
			memcpy(tee_buf + tee_len, buf, (size_t)n);
			tee_len += (size_t)n;
			tee_buf[tee_len] = '\0';
		}
		pthread_mutex_unlock(&tee_mu);
		for (i = 0; i < (size_t)n; i++) {
			line[ll++] = buf[i];
			if (buf[i] != '\n' && ll < sizeof(line))
				continue;
			if (all || ll < 3 || memcmp(line, "ts=", 3) != 0)
				(void)!write(saved_stderr, line, ll);
			ll = 0;
		}
	}
	if (ll > 0)
		(void)!write(saved_stderr, line, ll);
	return NULL;
}

/* What stderr got since the start (the access log). */
static char *
captured(void)
{
	static char	 buf[sizeof(tee_buf)];

	pthread_mutex_lock(&tee_mu);
	memcpy(buf, tee_buf, tee_len + 1);
	pthread_mutex_unlock(&tee_mu);
	return buf;
}

/* The access line of request id, or NULL.  Waits up to WAIT_MS for the
 * tee thread, running the loop meanwhile in case the line is still to be
 * written. */
static const char *
access_line(const char *id, char *out, size_t outlen)
{
	struct timespec	 t0;
	char		 pat[128];
	const char	*log, *p, *start;
	size_t		 l;

	snprintf(pat, sizeof(pat), "request_id=%s ", id);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		log = captured();
		for (p = log; (p = strstr(p, pat)) != NULL; p++) {
			for (start = p; start > log && start[-1] != '\n';
			    start--)
				;
			l = strcspn(start, "\n");
			if (l >= outlen)
				l = outlen - 1;
			memcpy(out, start, l);
			out[l] = '\0';
			if (strstr(out, "msg=access") != NULL)
				return out;
		}
		if (ms_since(&t0) >= WAIT_MS)
			return NULL;
		spin(2);
	}
}

/* Waits (running the loop) until no context of s is alive; fails after
 * WAIT_MS. */
static void
drain_on(struct http_server *s)
{
	struct timespec	 t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (http_server_inflight(s) > 0 && ms_since(&t0) < WAIT_MS)
		spin(1);
	assert_int_equal(http_server_inflight(s), 0);
	assert_int_equal(freed, dispatched);
}

static void
drain(void)
{
	drain_on(srv);
}

/* ---- set-up ---- */

static struct http_server *
server(const struct cfg *c)
{
	struct http_server	*s;
	char			 err[256];

	s = http_server_new(base, c, routes, NROUTES, err, sizeof(err));
	if (s == NULL)
		fail_msg("%s", err);
	http_server_set_dispatch(s, dispatch, NULL);
	http_server_set_observer(s, observe, NULL);
	return s;
}

static int
local_port(int fd)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	return ntohs(sin.sin_port);
}

static int
setup(void **state)
{
	char	 err[256];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_http.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	/* stderr through the tee: the access log is checked */
	fflush(stderr);
	saved_stderr = dup(2);
	if (pipe(tee_pipe) == -1 || dup2(tee_pipe[1], 2) == -1)
		return -1;
	close(tee_pipe[1]);
	if (pthread_create(&tee_thread, NULL, tee_main, NULL) != 0)
		return -1;
	log_init("test_http", LOG_INFO, false);
	/* the server must survive writes to clients that left */
	signal(SIGPIPE, SIG_DFL);

	cfg_defaults(&cfg);
	cfg.max_body_size = MAXBODY;
	/* request_timeout stays at its default (30 s): the shared server's
	 * connection timeouts and handler deadline must not run out on a
	 * slow machine.  test_handler_deadline has a server of its own. */
	if ((base = event_base_new()) == NULL)
		return -1;
	srv = server(&cfg);
	if (http_listen(srv, "127.0.0.1:0", err, sizeof(err)) == -1) {
		fprintf(stdout, "%s\n", err);
		return -1;
	}
	port = local_port(http_listener_fd(srv, 0));
	return 0;
}

static int
teardown(void **state)
{
	char	 path[128];

	http_server_free(srv);
	event_base_free(base);
	cfg_free(&cfg);
	fflush(stderr);
	dup2(saved_stderr, 2);		/* closes the pipe: the tee ends */
	pthread_join(tee_thread, NULL);
	close(tee_pipe[0]);
	close(saved_stderr);
	snprintf(path, sizeof(path), "%s/w.sock", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

/* ---- building blocks ---- */

static void
test_reqid_valid(void **state)
{
	char	 s[80];

	assert_true(http_reqid_valid("a"));
	assert_true(http_reqid_valid("abc-123_X.y"));
	assert_true(http_reqid_valid(UUID));
	memset(s, 'a', 64);
	s[64] = '\0';
	assert_true(http_reqid_valid(s));
	s[64] = 'a';
	s[65] = '\0';
	assert_false(http_reqid_valid(s));
	assert_false(http_reqid_valid(""));
	assert_false(http_reqid_valid(NULL));
	assert_false(http_reqid_valid("a b"));
	assert_false(http_reqid_valid("a\"b"));
	assert_false(http_reqid_valid("a/b"));
	assert_false(http_reqid_valid("a\nb"));
	assert_false(http_reqid_valid("\xc3\xa9"));
}

static void
test_trust(void **state)
{
	static char *good[] = { "127.0.0.1", "10.0.0.0/8", "::1",
	    "fd00::/8", "unix", "192.168.1.0/24", "::ffff:172.16.0.0/108",
	    "0.0.0.0/0" };
	static char *bad1[] = { "10.0.0.0/33" };
	static char *bad2[] = { "example.com" };
	static char *bad3[] = { "::/129" };
	static char *bad4[] = { "10.0.0.0/" };
	static char *bad5[] = { "10.0.0.0/8x" };
	static char *bad6[] = { "::ffff:1.2.3.4/95" };
	static char *bad7[] = { "" };
	struct http_trust t;
	char	 err[128];

	assert_int_equal(http_trust_parse(&t, good, 8, err, sizeof(err)), 0);
	assert_int_equal(t.n, 8);
	assert_int_equal(t.v[6].family, AF_INET);
	assert_int_equal(t.v[6].prefix, 12);
	assert_int_equal(http_trust_parse(&t, bad1, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "10.0.0.0/33"));
	assert_int_equal(http_trust_parse(&t, bad2, 1, err, sizeof(err)), -1);
	assert_int_equal(http_trust_parse(&t, bad3, 1, err, sizeof(err)), -1);
	assert_int_equal(http_trust_parse(&t, bad4, 1, err, sizeof(err)), -1);
	assert_int_equal(http_trust_parse(&t, bad5, 1, err, sizeof(err)), -1);
	assert_int_equal(http_trust_parse(&t, bad6, 1, err, sizeof(err)), -1);
	assert_int_equal(http_trust_parse(&t, bad7, 1, err, sizeof(err)), -1);
	assert_int_equal(http_trust_parse(&t, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(t.n, 0);
}

static void
test_client_addr(void **state)
{
	static char *proxies[] = { "127.0.0.1", "10.0.0.0/8", "fd00::/8",
	    "unix" };
	struct http_trust t, none;
	char	 out[HTTP_ADDR_MAX], err[128];

	assert_int_equal(http_trust_parse(&t, proxies, 4, err, sizeof(err)),
	    0);
	assert_int_equal(http_trust_parse(&none, NULL, 0, err, sizeof(err)),
	    0);

	/* no trusted peer: X-Forwarded-For is the client's own words */
	http_client_addr(&none, "127.0.0.1", "203.0.113.9", out);
	assert_string_equal(out, "127.0.0.1");
	http_client_addr(&t, "198.51.100.1", "203.0.113.9", out);
	assert_string_equal(out, "198.51.100.1");
	/* a trusted peer without the header */
	http_client_addr(&t, "127.0.0.1", NULL, out);
	assert_string_equal(out, "127.0.0.1");

	/* the right-most untrusted address */
	http_client_addr(&t, "127.0.0.1", "203.0.113.9", out);
	assert_string_equal(out, "203.0.113.9");
	http_client_addr(&t, "127.0.0.1", "1.1.1.1, 203.0.113.9, 10.1.2.3",
	    out);
	assert_string_equal(out, "203.0.113.9");
	/* a forged left part is ignored */
	http_client_addr(&t, "127.0.0.1", "10.0.0.1,203.0.113.9", out);
	assert_string_equal(out, "203.0.113.9");
	/* all trusted: the left-most */
	http_client_addr(&t, "127.0.0.1", "10.0.0.2, 10.0.0.1", out);
	assert_string_equal(out, "10.0.0.2");
	/* ports, brackets, v6, mapped v4, canonical output */
	http_client_addr(&t, "127.0.0.1", "203.0.113.9:4711", out);
	assert_string_equal(out, "203.0.113.9");
	http_client_addr(&t, "127.0.0.1", "[2001:DB8::1]:443", out);
	assert_string_equal(out, "2001:db8::1");
	http_client_addr(&t, "127.0.0.1", "2001:db8:0:0::2", out);
	assert_string_equal(out, "2001:db8::2");
	http_client_addr(&t, "127.0.0.1", "::ffff:203.0.113.5", out);
	assert_string_equal(out, "203.0.113.5");
	http_client_addr(&t, "127.0.0.1", "203.0.113.9, fd00::1", out);
	assert_string_equal(out, "203.0.113.9");
	/* a unix socket peer is trusted as "unix" */
	http_client_addr(&t, "unix", "203.0.113.9", out);
	assert_string_equal(out, "203.0.113.9");
	http_client_addr(&none, "unix", "203.0.113.9", out);
	assert_string_equal(out, "unix");
	/* a broken chain stops at the last good address */
	http_client_addr(&t, "127.0.0.1", "203.0.113.9, unknown", out);
	assert_string_equal(out, "127.0.0.1");
	http_client_addr(&t, "127.0.0.1", "203.0.113.9, , 10.0.0.1", out);
	assert_string_equal(out, "10.0.0.1");
	http_client_addr(&t, "127.0.0.1", "", out);
	assert_string_equal(out, "127.0.0.1");
	http_client_addr(&t, "127.0.0.1", "1.2.3.4\r\nX: y", out);
	assert_string_equal(out, "127.0.0.1");
	http_client_addr(&t, "127.0.0.1", "[::1", out);
	assert_string_equal(out, "127.0.0.1");
}

static void
test_listen_specs(void **state)
{
	static const char *const bad[] = {
		"nope", "1.2.3.4", "[::1]8080", "::1:8080", "127.0.0.1:99999",
		"127.0.0.1:-1", "127.0.0.1:", ":8080", "127.0.0.1:http",
		"unix:relative", "unix:", "[::1:80",
	};
	struct http_server *s = server(&cfg);
	char	 err[256];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (http_listen(s, bad[i], err, sizeof(err)) != -1)
			fail_msg("listened on %s", bad[i]);
		assert_non_null(strstr(err, bad[i]));
	}
	/* in use */
	{
		char spec[64];

		snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
		assert_int_equal(http_listen(s, spec, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "in use"));
	}
	assert_int_equal(http_listener_count(s), 0);
	assert_int_equal(http_listener_fd(s, 0), -1);
	/* v6 loopback, when the machine has it */
	if (http_listen(s, "[::1]:0", err, sizeof(err)) == 0)
		assert_int_equal(http_listener_count(s), 1);
	http_server_free(s);
}

static void
test_bad_trust_config(void **state)
{
	struct cfg	 c;
	char		 err[256];

	cfg_defaults(&c);
	assert_int_equal(cfg_set(&c, "trusted_proxies", "10.0.0.0/99", err,
	    sizeof(err)) == 0 || c.trusted_proxies.n == 0, 1);
	if (c.trusted_proxies.n > 0) {
		assert_null(http_server_new(base, &c, routes, NROUTES, err,
		    sizeof(err)));
		assert_non_null(strstr(err, "10.0.0.0/99"));
	}
	cfg_free(&c);
}

static void
test_bad_table(void **state)
{
	static const struct route bad[] = {
		{ EVHTTP_REQ_GET, "/a//b", h_hello, ROUTE_AUTH_NONE },
	};
	char	 err[256];

	assert_null(http_server_new(base, &cfg, bad, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "/a//b"));
}

/* ---- the live server ---- */

static void
test_request_id_echo(void **state)
{
	struct job	*j = get("GET /hello HTTP/1.1\r\nHost: x\r\n"
	    "X-Request-Id: abc-123.X_y\r\nConnection: close\r\n\r\n");
	char		 v[128];

	assert_int_equal(status_of(j->resp), 200);
	check_common(j->resp);
	assert_string_equal(header(j->resp, "X-Request-Id", v, sizeof(v)),
	    "abc-123.X_y");
	assert_string_equal(header(j->resp, "Content-Type", v, sizeof(v)),
	    "application/json");
	assert_string_equal(header(j->resp, "Cache-Control", v, sizeof(v)),
	    "no-store");
	assert_string_equal(body_of(j->resp), "{\"hello\":\"world\"}");
	free(j);
	drain();
}

static void
test_request_id_generated(void **state)
{
	static const char *const reqs[] = {
		"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-Id: bad!id\r\n"
		    "Connection: close\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-Id: a b\r\n"
		    "Connection: close\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-Id: \r\n"
		    "Connection: close\r\n\r\n",
		"GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-Id: "
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaa\r\nConnection: close\r\n\r\n",	/* 65 */
	};
	char	 v[128], first[128] = "";
	size_t	 i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		struct job *j = get(reqs[i]);

		assert_int_equal(status_of(j->resp), 200);
		check_common(j->resp);
		header(j->resp, "X-Request-Id", v, sizeof(v));
		if (!field_is_uuid(v))
			fail_msg("request %zu: id %s", i, v);
		assert_string_not_equal(v, first);	/* fresh each time */
		snprintf(first, sizeof(first), "%s", v);
		free(j);
	}
	/* 64 characters are kept */
	{
		struct job *j = get("GET /hello HTTP/1.1\r\nHost: x\r\n"
		    "X-Request-Id: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaa\r\nConnection: close\r\n\r\n");

		header(j->resp, "X-Request-Id", v, sizeof(v));
		assert_int_equal(strlen(v), 64);
		free(j);
	}
	drain();
}

static void
test_not_found(void **state)
{
	struct job	*j;

	j = get("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	check_problem(j->resp, 404, "not-found");
	free(j);
	/* a path id that is not a UUID */
	j = get("GET /items/123 HTTP/1.1\r\nHost: x\r\nConnection: close"
	    "\r\n\r\n");
	check_problem(j->resp, 404, "not-found");
	free(j);
	/* the query is not part of the path */
	j = get("GET /items/" UUID "?a=b HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	assert_int_equal(status_of(j->resp), 200);
	assert_string_equal(body_of(j->resp), UUID);
	free(j);
	drain();
}

/* RFC 9110 9.3.7: OPTIONS on a resource names its methods; without CORS
 * configured there is no CORS header. */
static void
test_options(void **state)
{
	struct job	*j;
	char		 v[64];

	j = get("OPTIONS /hello HTTP/1.1\r\nHost: x\r\n"
	    "Origin: https://app.test\r\n"
	    "Access-Control-Request-Method: GET\r\nConnection: close\r\n\r\n");
	assert_int_equal(status_of(j->resp), 204);
	assert_string_equal(header(j->resp, "Allow", v, sizeof(v)),
	    "GET, HEAD, OPTIONS");
	assert_null(header(j->resp, "Access-Control-Allow-Origin", v,
	    sizeof(v)));
	assert_null(header(j->resp, "Vary", v, sizeof(v)));
	free(j);
	j = get("OPTIONS /nowhere HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	check_problem(j->resp, 404, "not-found");
	free(j);
	drain();
}

/* RFC 9112 3.2: an HTTP/1.1 request without Host, or any request with
 * two, is 400; HTTP/1.0 may go without. */
static void
test_host_header(void **state)
{
	struct job	*j;

	j = get("GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
	check_problem(j->resp, 400, "malformed-request");
	assert_non_null(strstr(body_of(j->resp), "Host"));
	free(j);
	j = get("GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n"
	    "Connection: close\r\n\r\n");
	check_problem(j->resp, 400, "malformed-request");
	free(j);
	j = get("GET /hello HTTP/1.0\r\n\r\n");
	assert_int_equal(status_of(j->resp), 200);
	free(j);
	drain();
}

/* RFC 9112 6.3: a length said twice, or not as plain digits, or beside
 * Transfer-Encoding is a framing error: 400, and the connection closes,
 * so what was smuggled behind it is never read as a request. */
static void
test_framing_errors_close(void **state)
{
	static const char *const heads[] = {
		"Content-Length: 5\r\nContent-Length: 42\r\n",
		"Content-Length: 5\r\nContent-Length: 5\r\n",
		"Content-Length: +5\r\n",
		"Content-Length: 0x5\r\n",
		"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
	};
	char	 req[512], v[32];
	size_t	 i;

	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		struct job *j;

		snprintf(req, sizeof(req), "POST /echo HTTP/1.1\r\nHost: x\r\n"
		    "%s\r\nhello"
		    "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", heads[i]);
		j = get(req);
		/* Both Content-Length and chunked: a libevent without Debian's
		 * 2.1.12-stable-8+deb12u1 fails the chunked body itself, 413,
		 * before the head is ours to check; closed all the same. */
		if (status_of(j->resp) != 400 && !(i == 4 &&
		    status_of(j->resp) == 413))
			fail_msg("%s: %s", heads[i], j->resp);
		assert_string_equal(header(j->resp, "Connection", v,
		    sizeof(v)), "close");
		/* One answer: the smuggled GET was never served. */
		assert_null(strstr(j->resp + 1, "HTTP/1.1 "));
		free(j);
	}
	drain();
}

/* The Fetch standard's CORS protocol, for the routes that allow it and
 * the origins of cors_origins only. */
static void
test_cors(void **state)
{
	static const char *const cors_routes[] = { "/hello" };
	struct http_server *s;
	struct job	*j;
	struct cfg	 c;
	char		 err[256], v[160];
	int		 keep = port;

	cfg_defaults(&c);
	assert_int_equal(cfg_set(&c, "cors_origins",
	    "https://app.test http://localhost:3000", err, sizeof(err)), 0);
	s = server(&c);
	http_server_set_cors_routes(s, cors_routes, 1);
	assert_int_equal(http_listen(s, "127.0.0.1:0", err, sizeof(err)), 0);
	port = local_port(http_listener_fd(s, 0));

	/* A preflight from a listed origin. */
	j = get("OPTIONS /hello HTTP/1.1\r\nHost: x\r\n"
	    "Origin: http://localhost:3000\r\n"
	    "Access-Control-Request-Method: GET\r\n"
	    "Access-Control-Request-Headers: authorization\r\n"
	    "Connection: close\r\n\r\n");
	assert_int_equal(status_of(j->resp), 204);
	assert_string_equal(header(j->resp, "Access-Control-Allow-Origin", v,
	    sizeof(v)), "http://localhost:3000");
	assert_string_equal(header(j->resp, "Access-Control-Allow-Methods",
	    v, sizeof(v)), "GET, HEAD, OPTIONS");
	assert_non_null(strstr(header(j->resp, "Access-Control-Allow-Headers",
	    v, sizeof(v)), "Authorization"));
	assert_non_null(header(j->resp, "Access-Control-Max-Age", v,
	    sizeof(v)));
	assert_non_null(strstr(header(j->resp, "Vary", v, sizeof(v)),
	    "Origin"));
	assert_null(header(j->resp, "Access-Control-Allow-Credentials", v,
	    sizeof(v)));
	free(j);

	/* The request itself. */
	j = get("GET /hello HTTP/1.1\r\nHost: x\r\n"
	    "Origin: https://app.test\r\nConnection: close\r\n\r\n");
	assert_int_equal(status_of(j->resp), 200);
	assert_string_equal(header(j->resp, "Access-Control-Allow-Origin", v,
	    sizeof(v)), "https://app.test");
	assert_string_equal(header(j->resp, "Vary", v, sizeof(v)), "Origin");
	assert_non_null(strstr(header(j->resp, "Access-Control-Expose-Headers",
	    v, sizeof(v)), "WWW-Authenticate"));
	free(j);

	/* An origin not listed: no permission, and still Vary for caches. */
	j = get("GET /hello HTTP/1.1\r\nHost: x\r\n"
	    "Origin: https://evil.test\r\nConnection: close\r\n\r\n");
	assert_int_equal(status_of(j->resp), 200);
	assert_null(header(j->resp, "Access-Control-Allow-Origin", v,
	    sizeof(v)));
	assert_string_equal(header(j->resp, "Vary", v, sizeof(v)), "Origin");
	free(j);
	j = get("OPTIONS /hello HTTP/1.1\r\nHost: x\r\n"
	    "Origin: https://evil.test\r\n"
	    "Access-Control-Request-Method: GET\r\nConnection: close\r\n\r\n");
	assert_int_equal(status_of(j->resp), 204);
	assert_null(header(j->resp, "Access-Control-Allow-Origin", v,
	    sizeof(v)));
	free(j);

	/* A route that does not allow CORS answers no origin. */
	j = get("GET /echo HTTP/1.1\r\nHost: x\r\n"
	    "Origin: https://app.test\r\nConnection: close\r\n\r\n");
	assert_null(header(j->resp, "Access-Control-Allow-Origin", v,
	    sizeof(v)));
	assert_null(header(j->resp, "Vary", v, sizeof(v)));
	free(j);

	drain_on(s);
	port = keep;
	http_server_free(s);
	cfg_free(&c);
}

/* Bad cors_origins entries stop the start with the entry named. */
static void
test_cors_origins_checked(void **state)
{
	static const char *const bad[] = {
		"*", "null", "app.test", "https://app.test/", "https://App.test",
		"https://app.test/path", "https://app.test:0",
		"https://app.test:70000", "ftp://app.test", "https://[zz]",
	};
	struct cfg	 c;
	char		 err[256];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg_defaults(&c);
		assert_int_equal(cfg_set(&c, "cors_origins", bad[i], err,
		    sizeof(err)), 0);
		assert_null(http_server_new(base, &c, routes, NROUTES, err,
		    sizeof(err)));
		if (strstr(err, "cors_origins") == NULL)
			fail_msg("%s: %s", bad[i], err);
		cfg_free(&c);
	}
	cfg_defaults(&c);
	assert_int_equal(cfg_set(&c, "cors_origins",
	    "https://[::1]:8443 http://127.0.0.1:80 https://a-b.example.com",
	    err, sizeof(err)), 0);
	http_server_free(server(&c));
	cfg_free(&c);
}

static void
test_method_not_allowed(void **state)
{
	static const char *const methods[] = { "POST", "PUT", "DELETE",
	    "PATCH" };
	char	 req[256], v[64];
	size_t	 i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		struct job *j;

		snprintf(req, sizeof(req), "%s /hello HTTP/1.1\r\nHost: x\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n",
		    methods[i]);
		j = get(req);
		check_problem(j->resp, 405, "method-not-allowed");
		assert_string_equal(header(j->resp, "Allow", v, sizeof(v)),
		    "GET, HEAD, OPTIONS");
		free(j);
	}
	{
		struct job *j = get("DELETE /items/" UUID " HTTP/1.1\r\n"
		    "Host: x\r\nConnection: close\r\n\r\n");

		check_problem(j->resp, 405, "method-not-allowed");
		assert_string_equal(header(j->resp, "Allow", v, sizeof(v)),
		    "GET, HEAD, PATCH, OPTIONS");
		free(j);
		j = get("PATCH /items/" UUID " HTTP/1.1\r\nHost: x\r\n"
		    "Connection: close\r\n\r\n");
		assert_int_equal(status_of(j->resp), 204);
		check_common(j->resp);
		free(j);
	}
	drain();
}

static void
test_head(void **state)
{
	struct job	*j = calloc(1, sizeof(*j));
	char		 v[64];

	j->req = "HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	j->reqlen = strlen(j->req);
	run(j);
	assert_int_equal(status_of(j->resp), 200);
	check_common(j->resp);
	assert_string_equal(header(j->resp, "Content-Type", v, sizeof(v)),
	    "application/json");
	/* the length of what GET would send, and no body */
	assert_string_equal(header(j->resp, "Content-Length", v, sizeof(v)),
	    "17");
	assert_string_equal(body_of(j->resp), "");
	free(j);
	drain();
}

static void
test_body_limits(void **state)
{
	static char	 req[MAXBODY + 2 * 1024 * 1024];
	struct job	*j;
	int		 n;
	cJSON		*o;

	/* exactly the limit */
	n = snprintf(req, sizeof(req), "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: text/plain\r\nContent-Length: %d\r\n"
	    "Connection: close\r\n\r\n", MAXBODY);
	memset(req + n, 'b', MAXBODY);
	j = calloc(1, sizeof(*j));
	j->req = req;
	j->reqlen = (size_t)n + MAXBODY;
	run(j);
	assert_int_equal(status_of(j->resp), 200);
	o = cJSON_Parse(body_of(j->resp));
	assert_int_equal(cJSON_GetObjectItem(o, "len")->valueint, MAXBODY);
	cJSON_Delete(o);
	free(j);

	/* one byte more: our 413 problem */
	n = snprintf(req, sizeof(req), "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: %d\r\nConnection: close\r\n\r\n", MAXBODY + 1);
	memset(req + n, 'b', MAXBODY + 1);
	j = calloc(1, sizeof(*j));
	j->req = req;
	j->reqlen = (size_t)n + MAXBODY + 1;
	run(j);
	check_problem(j->resp, 413, "payload-too-large");
	free(j);

	/* on a path with no such route too */
	n = snprintf(req, sizeof(req), "POST /nope HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: %d\r\nConnection: close\r\n\r\n", 4 * MAXBODY);
	memset(req + n, 'b', 4 * MAXBODY);
	j = calloc(1, sizeof(*j));
	j->req = req;
	j->reqlen = (size_t)n + 4 * MAXBODY;
	run(j);
	check_problem(j->resp, 413, "payload-too-large");
	free(j);

	/* past the hard limit libevent answers alone, before the body */
	n = snprintf(req, sizeof(req), "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: %d\r\nConnection: close\r\n\r\n",
	    MAXBODY + HTTP_BODY_HARD_SLACK + 1);
	j = calloc(1, sizeof(*j));
	j->req = req;
	j->reqlen = (size_t)n;
	run(j);
	assert_int_equal(status_of(j->resp), 413);
	free(j);
	drain();
}

/* Sends a request with body (which holds the secret) and Connection:
 * close; returns the status.  When it returns, the server has written the
 * response and freed the request and its connection. */
static int
post_secret(const char *method, const char *path, size_t bodylen)
{
	static char	 req[8192];
	struct job	*j;
	int		 n, status;

	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", method, path, bodylen);
	assert_true(n > 0 && (size_t)n + bodylen < sizeof(req));
	memset(req + n, 'b', bodylen);
	memcpy(req + n + bodylen / 2, secret, secret_len);
	j = calloc(1, sizeof(*j));
	j->req = req;
	j->reqlen = (size_t)n + bodylen;
	run(j);
	assert_int_equal(j->err, 0);
	status = status_of(j->resp);
	free(j);
	drain();
	return status;
}

/* No copy of a body stays in memory libevent frees: not when a handler
 * takes it, and not when the server answers 404, 405 or 413 itself. */
static void
test_body_leaves_no_copy(void **state)
{
	struct evbuffer	*b;

	snprintf(secret, sizeof(secret), "Pw-secret-%08lx-%08lx",
	    (unsigned long)random(), (unsigned long)random());
	secret_leaks = 0;
	secret_len = strlen(secret);

	/* The check sees a copy: a buffer freed with the secret in it. */
	assert_non_null(b = evbuffer_new());
	evbuffer_add(b, secret, secret_len);
	evbuffer_free(b);
	assert_int_equal(secret_leaks, 1);
	secret_leaks = 0;

	assert_int_equal(post_secret("POST", "/echo", 200), 200);
	assert_int_equal(post_secret("POST", "/nope", 200), 404);
	assert_int_equal(post_secret("DELETE", "/hello", 200), 405);
	assert_int_equal(post_secret("POST", "/echo", MAXBODY + 100), 413);
	secret_len = 0;
	assert_int_equal(secret_leaks, 0);
}

static void
test_json_route(void **state)
{
	static const struct {
		const char	*ctype;
		const char	*body;
		int		 status;
		const char	*name;
	} cases[] = {
		{ "application/json", "{\"a\":1}", 204, NULL },
		{ "application/json; charset=utf-8", "{}", 204, NULL },
		{ "Application/JSON;charset=\"UTF-8\"", "{}", 204, NULL },
		{ "text/plain", "{}", 415, "unsupported-media-type" },
		{ "application/json; charset=latin1", "{}", 415,
		    "unsupported-media-type" },
		{ "application/json; foo=bar", "{}", 415,
		    "unsupported-media-type" },
		{ "application/jsonx", "{}", 415, "unsupported-media-type" },
		{ NULL, "{}", 415, "unsupported-media-type" },
		{ "application/json", "{\"a\":1,\"a\":2}", 400,
		    "malformed-request" },
		{ "application/json", "[]", 400, "malformed-request" },
		{ "application/json", "", 400, "malformed-request" },
		{ "application/json", "{\"a\":\"\xff\"}", 400,
		    "malformed-request" },
	};
	char	 req[512];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct job *j;
		char ct[128] = "";

		if (cases[i].ctype != NULL)
			snprintf(ct, sizeof(ct), "Content-Type: %s\r\n",
			    cases[i].ctype);
		snprintf(req, sizeof(req), "POST /json HTTP/1.1\r\nHost: x\r\n"
		    "%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s", ct,
		    strlen(cases[i].body), cases[i].body);
		j = get(req);
		if (status_of(j->resp) != cases[i].status)
			fail_msg("case %zu: %s", i, j->resp);
		if (cases[i].name != NULL)
			check_problem(j->resp, cases[i].status, cases[i].name);
		free(j);
	}
	drain();
}

static void
test_query(void **state)
{
	struct job	*j;

	j = get("GET /form?limit=50&q=a+b HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	assert_int_equal(status_of(j->resp), 200);
	assert_string_equal(body_of(j->resp), "50");
	free(j);
	j = get("GET /form?limit=5&limit=6 HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	check_problem(j->resp, 400, "malformed-request");
	free(j);
	j = get("GET /form?q=%00 HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	check_problem(j->resp, 400, "malformed-request");
	free(j);
	j = get("GET /form?limit=500 HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	check_problem(j->resp, 422, "validation");
	free(j);
	drain();
}

static void
test_access_log(void **state)
{
	struct job	*j;
	char		 id[128], line[1024];

	j = get("GET /items/" UUID "?secret=hunter2 HTTP/1.1\r\nHost: x\r\n"
	    "X-Request-Id: log-test-1\r\nConnection: close\r\n\r\n");
	assert_int_equal(status_of(j->resp), 200);
	free(j);
	if (access_line("log-test-1", line, sizeof(line)) == NULL)
		fail_msg("no access line in: %s", captured());
	assert_non_null(strstr(line, "method=GET"));
	assert_non_null(strstr(line, "route=/items/{id:uuid}"));
	assert_non_null(strstr(line, "status=200"));
	assert_non_null(strstr(line, "duration_ms="));
	assert_non_null(strstr(line, "remote=127.0.0.1"));
	assert_null(strstr(line, UUID));	/* the pattern, not the path */
	assert_null(strstr(captured(), "hunter2"));
	assert_null(strstr(line, "client_gone"));
	assert_string_equal(observed_route, "/items/{id:uuid}");

	/* unmatched requests are logged too, with route "-" */
	j = get("DELETE /nope/" UUID " HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	header(j->resp, "X-Request-Id", id, sizeof(id));
	free(j);
	assert_non_null(access_line(id, line, sizeof(line)));
	assert_non_null(strstr(line, "method=DELETE"));
	assert_non_null(strstr(line, "route=-"));
	assert_non_null(strstr(line, "status=404"));
	drain();
}

static void
test_keepalive(void **state)
{
	struct job	*j = calloc(1, sizeof(*j));
	int		 before = observed;

	j->req = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
	j->reqlen = strlen(j->req);
	j->req2 = "GET /items/" UUID " HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n";
	run(j);
	assert_int_equal(status_of(j->resp), 200);
	assert_string_equal(body_of(j->resp), "{\"hello\":\"world\"}");
	assert_int_equal(status_of(j->resp2), 200);
	assert_string_equal(body_of(j->resp2), UUID);
	check_common(j->resp2);
	free(j);
	drain();
	assert_int_equal(observed - before, 2);
}

/* The client leaves before the asynchronous handler replies. */
static void
client_leaves(int mode, const char *id)
{
	struct job	*j = calloc(1, sizeof(*j));
	char		 req[256], line[1024];
	int		 before = held_replied;

	hold_reset();
	snprintf(req, sizeof(req), "GET /hold HTTP/1.1\r\nHost: x\r\n"
	    "X-Request-Id: %s\r\n\r\n", id);
	j->req = req;
	j->reqlen = strlen(req);
	j->mode = mode;
	run(j);		/* the client leaves once the handler has it */
	assert_int_equal(j->err, 0);
	free(j);
	/* the context waits for the handler (rule 3) */
	assert_non_null(held);
	assert_int_equal(http_server_inflight(srv), 1);
	/* which does reply, into the void */
	release();
	drain();
	assert_int_equal(held_replied, before + 1);
	assert_non_null(access_line(id, line, sizeof(line)));
	assert_non_null(strstr(line, "route=/hold"));
}

static void
test_client_leaves(void **state)
{
	client_leaves(J_CLOSE, "gone-close");
}

static void
test_client_resets(void **state)
{
	client_leaves(J_RESET, "gone-reset");
}

static void
test_handler_deadline(void **state)
{
	struct http_server *s;
	struct cfg	 c;
	struct job	*j;
	char		 v[64], err[256];
	int		 keep = port, before = held_replied;

	/* A server of its own with the shortest deadline, 1 s. */
	cfg_defaults(&c);
	c.max_body_size = MAXBODY;
	c.request_timeout = 1;
	s = server(&c);
	assert_int_equal(http_listen(s, "127.0.0.1:0", err, sizeof(err)), 0);
	port = local_port(http_listener_fd(s, 0));
	hold_reset();

	/* the handler keeps the request: the deadline answers */
	j = get("GET /hold HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	check_problem(j->resp, 503, "unavailable");
	assert_string_equal(header(j->resp, "Retry-After", v, sizeof(v)),
	    "1");
	free(j);
	/* the context lives on until the handler's late reply, dropped */
	assert_non_null(held);
	assert_int_equal(held_replied, before);
	assert_int_equal(http_server_inflight(s), 1);
	release();
	drain_on(s);
	assert_int_equal(held_replied, before + 1);
	port = keep;
	http_server_free(s);
	cfg_free(&c);
}

/* Runs the loop until s has n connections open; fails after WAIT_MS. */
static void
wait_connections(struct http_server *s, size_t n)
{
	struct timespec	 t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (http_server_connections(s) != n && ms_since(&t0) < WAIT_MS)
		spin(1);
	assert_int_equal(http_server_connections(s), n);
}

/* A connection counts from its accept, before it sends anything, until
 * it is closed. */
static void
test_connections_counted(void **state)
{
	struct job	 j;
	int		 fd[3];
	size_t		 i;

	memset(&j, 0, sizeof(j));
	wait_connections(srv, 0);
	for (i = 0; i < 3; i++) {
		fd[i] = client_socket(&j);
		assert_true(fd[i] != -1);
	}
	wait_connections(srv, 3);
	for (i = 0; i < 3; i++)
		close(fd[i]);
	wait_connections(srv, 0);
}

/* A client gets read_timeout to send a whole request: one that never ends
 * its head, or sends nothing, or sends nothing more after a response, is
 * cut off; libevent's own timeouts (request_timeout, 30 s) would wait
 * longer than the client here waits (WAIT_MS). */
static void
test_read_deadline(void **state)
{
	struct http_server *s;
	struct cfg	 c;
	struct job	*j;
	char		 err[256];
	int		 keep = port;

	cfg_defaults(&c);
	c.read_timeout = 1;
	s = server(&c);
	assert_int_equal(http_listen(s, "127.0.0.1:0", err, sizeof(err)), 0);
	port = local_port(http_listener_fd(s, 0));

	/* half a head: no answer, the connection closed */
	j = calloc(1, sizeof(*j));
	j->req = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: 1";
	j->reqlen = strlen(j->req);
	j->mode = J_CUT;
	run(j);
	assert_int_equal(j->err, 0);
	assert_int_equal(j->len, 0);
	free(j);

	/* nothing at all */
	j = calloc(1, sizeof(*j));
	j->req = "";
	j->mode = J_CUT;
	run(j);
	assert_int_equal(j->err, 0);
	assert_int_equal(j->len, 0);
	free(j);

	/* a whole request is answered; the idle connection then closed */
	j = calloc(1, sizeof(*j));
	j->req = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
	j->reqlen = strlen(j->req);
	j->mode = J_CUT;
	run(j);
	assert_int_equal(j->err, 0);
	assert_int_equal(status_of(j->resp), 200);
	free(j);

	wait_connections(s, 0);
	drain_on(s);
	port = keep;
	http_server_free(s);
	cfg_free(&c);
}

/* Runs the loop until fd has something to read (or is closed); fails
 * after WAIT_MS. */
static void
wait_readable(int fd)
{
	struct timespec	 t0;
	struct pollfd	 p = { .fd = fd, .events = POLLIN };

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (poll(&p, 1, 0) == 0 && ms_since(&t0) < WAIT_MS)
		spin(1);
	assert_true(p.revents != 0);
}

/* An idle connection from addr (NULL: 127.0.0.1), counted once s has
 * it. */
static int
idle_from(struct http_server *s, const char *addr)
{
	struct job	 j;
	size_t		 before = http_server_connections(s);
	int		 fd;

	memset(&j, 0, sizeof(j));
	j.bind_addr = addr;
	assert_true((fd = client_socket(&j)) != -1);
	wait_connections(s, before + 1);
	return fd;
}

/* A connection from addr that the server refuses: answered 503 before it
 * sent anything, then closed. */
static void
refused_from(const char *addr)
{
	struct job	*j = calloc(1, sizeof(*j));
	char		 v[64];

	j->req = "";
	j->bind_addr = addr;
	j->mode = J_CUT;
	run(j);
	assert_int_equal(j->err, 0);
	check_problem(j->resp, 503, "unavailable");
	assert_string_equal(header(j->resp, "Retry-After", v, sizeof(v)),
	    "1");
	free(j);
}

/* A request from addr that is served. */
static void
served_from(const char *addr)
{
	struct job	*j = calloc(1, sizeof(*j));

	j->req = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	j->reqlen = strlen(j->req);
	j->bind_addr = addr;
	run(j);
	assert_int_equal(j->err, 0);
	assert_int_equal(status_of(j->resp), 200);
	free(j);
}

/* How many lines of the captured log hold s. */
static int
log_lines_with(const char *s)
{
	const char	*p;
	int		 n = 0;

	for (p = captured(); (p = strstr(p, s)) != NULL; p++)
		n++;
	return n;
}

/* max_connections_per_address: one address cannot take more, others
 * are served; max_connections: nobody gets more.  Refusals are logged,
 * but not one line each. */
static void
test_connection_caps(void **state)
{
	struct http_server *s;
	struct cfg	 c;
	char		 err[256];
	int		 fd[4], keep = port, lines;
	size_t		 i;

	cfg_defaults(&c);
	c.max_connections = 4;
	c.max_connections_per_address = 2;
	s = server(&c);
	assert_int_equal(http_listen(s, "127.0.0.1:0", err, sizeof(err)), 0);
	port = local_port(http_listener_fd(s, 0));
	lines = log_lines_with("msg=\"connections refused\"");

	/* two from 127.0.0.1 are in; more from there are refused */
	fd[0] = idle_from(s, NULL);
	fd[1] = idle_from(s, NULL);
	for (i = 0; i < 20; i++)
		refused_from(NULL);
	/* ... while another address is served */
	served_from("127.0.0.2");
	wait_connections(s, 2);
	/* one closes: 127.0.0.1 is served again */
	close(fd[1]);
	wait_connections(s, 1);
	served_from(NULL);

	/* connections that arrive together are let in in the order they
	 * came: of three from one address, the third is refused */
	close(fd[0]);
	wait_connections(s, 0);
	{
		struct job	 jj;
		char		 buf[512];
		ssize_t		 n;

		memset(&jj, 0, sizeof(jj));
		for (i = 0; i < 3; i++)
			assert_true((fd[i] = client_socket(&jj)) != -1);
		wait_connections(s, 2);
		wait_readable(fd[2]);
		n = recv(fd[2], buf, sizeof(buf) - 1, 0);
		assert_true(n > 12);
		buf[n] = '\0';
		assert_int_equal(status_of(buf), 503);
		assert_int_equal(recv(fd[0], buf, sizeof(buf), MSG_DONTWAIT), -1);
		assert_int_equal(recv(fd[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
		for (i = 0; i < 3; i++)
			close(fd[i]);
		wait_connections(s, 0);
	}

	/* the total: four in all, from anywhere */
	fd[0] = idle_from(s, NULL);
	fd[1] = idle_from(s, NULL);
	fd[2] = idle_from(s, "127.0.0.2");
	fd[3] = idle_from(s, "127.0.0.3");
	refused_from("127.0.0.4");
	assert_int_equal(http_server_connections(s), 4);
	for (i = 0; i < 4; i++)
		close(fd[i]);
	wait_connections(s, 0);
	served_from("127.0.0.4");

	/* 21 refusals: logged, with their number, in fewer lines */
	assert_true(log_lines_with("msg=\"connections refused\"") > lines);
	assert_true(log_lines_with("msg=\"connections refused\"") - lines
	    < 10);
	assert_non_null(strstr(captured(), "last_remote="));

	drain_on(s);
	port = keep;
	http_server_free(s);
	cfg_free(&c);
}

/* A trusted proxy stands for many clients: only the total caps it. */
static void
test_connection_caps_proxy(void **state)
{
	struct http_server *s;
	struct cfg	 c;
	char		 err[256];
	int		 fd[3], keep = port;
	size_t		 i;

	cfg_defaults(&c);
	c.max_connections = 3;
	c.max_connections_per_address = 1;
	c.trusted_proxies.v[0] = strdup("127.0.0.1");
	c.trusted_proxies.n = 1;
	s = server(&c);
	assert_int_equal(http_listen(s, "127.0.0.1:0", err, sizeof(err)), 0);
	port = local_port(http_listener_fd(s, 0));

	for (i = 0; i < 3; i++)
		fd[i] = idle_from(s, NULL);
	refused_from(NULL);
	for (i = 0; i < 3; i++)
		close(fd[i]);
	wait_connections(s, 0);

	drain_on(s);
	port = keep;
	http_server_free(s);
	cfg_free(&c);
}

/* Out of descriptors, the server stops accepting for a while instead of
 * calling accept() again at once; the connection waits in the backlog and
 * is served once descriptors are free again. */
static void
test_accept_pause(void **state)
{
	struct rlimit	 keep_rl, rl;
	struct timeval	 tv = { 0, 2000 };
	struct event	*ev;
	struct job	*j;
	pthread_t	 t;
	int		 fd;

	j = calloc(1, sizeof(*j));
	j->req = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	j->reqlen = strlen(j->req);
	assert_true((j->fd = client_socket(j)) != -1);
	assert_int_equal(send_all(j->fd, j->req, j->reqlen), 0);

	/* No descriptor free from here on: every one below the lowest free
	 * one is taken, and that one is over the limit. */
	assert_true((fd = dup(0)) != -1);
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &keep_rl), 0);
	rl = keep_rl;
	rl.rlim_cur = (rlim_t)fd;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	spin(300);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &keep_rl), 0);
	assert_non_null(strstr(captured(), "accept_error=\"Too many open "
	    "files\""));

	atomic_store(&client_done, false);
	ev = event_new(base, -1, EV_PERSIST, poll_cb, NULL);
	event_add(ev, &tv);
	assert_int_equal(pthread_create(&t, NULL, client_main, j), 0);
	event_base_dispatch(base);
	pthread_join(t, NULL);
	event_free(ev);
	assert_int_equal(j->err, 0);
	assert_int_equal(status_of(j->resp), 200);
	free(j);
	drain();
}

static void
test_xff(void **state)
{
	struct http_server *s;
	struct cfg	 c;
	struct job	*j;
	char		 err[256];
	int		 keep = port;
	cJSON		*o;

	cfg_defaults(&c);
	c.max_body_size = MAXBODY;
	assert_int_equal(cfg_set(&c, "trusted_proxies", "127.0.0.0/8", err,
	    sizeof(err)), 0);
	s = server(&c);
	assert_int_equal(http_listen(s, "127.0.0.1:0", err, sizeof(err)), 0);
	port = local_port(http_listener_fd(s, 0));

	j = get("GET /echo HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.9.9.9, "
	    "203.0.113.7\r\nConnection: close\r\n\r\n");
	o = cJSON_Parse(body_of(j->resp));
	assert_string_equal(cJSON_GetObjectItem(o, "remote")->valuestring,
	    "203.0.113.7");
	assert_string_equal(cJSON_GetObjectItem(o, "peer")->valuestring,
	    "127.0.0.1");
	cJSON_Delete(o);
	free(j);

	/* two headers are one list */
	j = get("GET /echo HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.8"
	    "\r\nX-Forwarded-For: 127.0.0.2\r\nConnection: close\r\n\r\n");
	o = cJSON_Parse(body_of(j->resp));
	assert_string_equal(cJSON_GetObjectItem(o, "remote")->valuestring,
	    "203.0.113.8");
	cJSON_Delete(o);
	free(j);
	http_server_free(s);
	cfg_free(&c);

	/* the default server trusts nobody */
	port = keep;
	j = get("GET /echo?x=1 HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: "
	    "203.0.113.7\r\nConnection: close\r\n\r\n");
	o = cJSON_Parse(body_of(j->resp));
	assert_string_equal(cJSON_GetObjectItem(o, "remote")->valuestring,
	    "127.0.0.1");
	assert_string_equal(cJSON_GetObjectItem(o, "query")->valuestring,
	    "x=1");
	cJSON_Delete(o);
	free(j);
	drain();
}

static void
test_unix_socket(void **state)
{
	struct http_server *s;
	struct cfg	 c;
	struct job	*j;
	struct stat	 st;
	char		 path[96], spec[160], err[256];
	cJSON		*o;
	int		 fd;

	snprintf(path, sizeof(path), "%s/w.sock", tmpdir);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	cfg_defaults(&c);
	c.listen_mode = 0600;
	s = server(&c);
	assert_int_equal(http_listen(s, spec, err, sizeof(err)), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);

	j = calloc(1, sizeof(*j));
	j->req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
	    "Connection: close\r\n\r\nabc";
	j->reqlen = strlen(j->req);
	j->unix_path = path;
	run(j);
	assert_int_equal(status_of(j->resp), 200);
	check_common(j->resp);
	o = cJSON_Parse(body_of(j->resp));
	assert_int_equal(cJSON_GetObjectItem(o, "len")->valueint, 3);
	assert_string_equal(cJSON_GetObjectItem(o, "remote")->valuestring,
	    "unix");
	cJSON_Delete(o);
	free(j);

	/* a live socket is not taken over */
	{
		struct http_server *s2 = server(&c);

		assert_int_equal(http_listen(s2, spec, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "listening"));
		http_server_free(s2);
	}
	/* freeing removes it */
	http_server_free(s);
	assert_int_equal(lstat(path, &st), -1);

	/* a stale one is replaced */
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		memcpy(sun.sun_path, path, strlen(path) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&sun,
		    sizeof(sun)), 0);
		close(fd);
		assert_int_equal(lstat(path, &st), 0);
	}
	s = server(&c);
	assert_int_equal(http_listen(s, spec, err, sizeof(err)), 0);
	http_server_free(s);

	/* anything but a socket is left alone */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	s = server(&c);
	assert_int_equal(http_listen(s, spec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a socket"));
	http_server_free(s);
	assert_int_equal(unlink(path), 0);
	cfg_free(&c);
	assert_int_equal(freed, dispatched);
}

static void
test_listen_fd(void **state)
{
	struct http_server *s = server(&cfg);
	struct sockaddr_in sin;
	struct job	*j;
	char		 err[256];
	int		 fd, keep = port;

	/* not listening */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(http_listen_fd(s, fd, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a listening socket"));
	assert_int_equal(fcntl(fd, F_GETFD), -1);	/* closed: ours now */

	/* as systemd hands it over: bound, listening, blocking */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(http_listen_fd(s, fd, err, sizeof(err)), 0);
	assert_int_equal(http_listener_fd(s, 0), fd);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	port = local_port(fd);
	j = get("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(status_of(j->resp), 200);
	free(j);
	port = keep;
	http_server_stop_listening(s);
	assert_int_equal(http_listener_count(s), 0);
	http_server_free(s);
	assert_int_equal(freed, dispatched);
}

/* The server is freed while a handler still works on a request: the
 * client is cut off, and the handler's late reply frees the context. */
static void
test_free_with_pending_handler(void **state)
{
	struct http_server *s = server(&cfg);
	struct job	*j = calloc(1, sizeof(*j));
	struct timespec	 t0;
	pthread_t	 t;
	char		 err[256];
	int		 keep = port, before = held_replied;

	assert_int_equal(http_listen(s, "127.0.0.1:0", err, sizeof(err)), 0);
	port = local_port(http_listener_fd(s, 0));
	hold_reset();
	j->req = "GET /hold HTTP/1.1\r\nHost: x\r\nX-Request-Id: freed-1\r\n"
	    "Connection: close\r\n\r\n";
	j->reqlen = strlen(j->req);
	j->mode = J_CUT;
	client_start(j, &t);
	/* until the handler has the request, which it keeps */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (held == NULL && ms_since(&t0) < WAIT_MS)
		spin(1);
	assert_non_null(held);
	assert_int_equal(http_server_inflight(s), 1);
	http_server_free(s);		/* the handler is pending */
	release();			/* its late reply */
	/* libevent may close the client's socket only on the next turns */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((held_replied == before || !atomic_load(&client_done)) &&
	    ms_since(&t0) < WAIT_MS)
		spin(1);
	pthread_join(t, NULL);
	/* cut off, without a response */
	assert_int_equal(j->err, 0);
	assert_int_equal(j->len, 0);
	free(j);
	port = keep;
	assert_int_equal(held_replied, before + 1);
	assert_int_equal(freed, dispatched);
}

/* A unix client whose own socket is bound to a long path. */
/* listen_group hands the socket to the proxy's group; an unknown group
 * is a start-up error naming it. */
static void
test_unix_socket_group(void **state)
{
	struct http_server *s;
	struct cfg	 c;
	struct stat	 st;
	struct group	*gr;
	char		 path[96], spec[160], err[256];

	snprintf(path, sizeof(path), "%s/g.sock", tmpdir);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	cfg_defaults(&c);
	free(c.listen_group);
	c.listen_group = strdup("no-such-group-for-warden");
	assert_null(http_server_new(base, &c, routes, NROUTES, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "no-such-group-for-warden"));

	/* Our own primary group: allowed for any user, root or not. */
	assert_non_null(gr = getgrgid(getegid()));
	free(c.listen_group);
	c.listen_group = strdup(gr->gr_name);
	s = server(&c);
	assert_int_equal(http_listen(s, spec, err, sizeof(err)), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_gid, gr->gr_gid);
	http_server_free(s);
	cfg_free(&c);
}

static void
test_unix_long_peer(void **state)
{
	struct http_server *s;
	struct cfg	 c;
	struct job	*j;
	char		 path[96], spec[160], peer[108], err[256];

	snprintf(path, sizeof(path), "%s/w.sock", tmpdir);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	snprintf(peer, sizeof(peer), "%s/a-client-with-a-long-name", tmpdir);
	cfg_defaults(&c);
	s = server(&c);
	assert_int_equal(http_listen(s, spec, err, sizeof(err)), 0);
	j = calloc(1, sizeof(*j));
	j->req = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	j->reqlen = strlen(j->req);
	j->unix_path = path;
	j->bind_path = peer;
	run(j);
	assert_int_equal(j->err, 0);
	assert_int_equal(status_of(j->resp), 200);
	free(j);
	unlink(peer);
	http_server_free(s);
	cfg_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reqid_valid),
		cmocka_unit_test(test_trust),
		cmocka_unit_test(test_client_addr),
		cmocka_unit_test(test_listen_specs),
		cmocka_unit_test(test_bad_trust_config),
		cmocka_unit_test(test_bad_table),
		cmocka_unit_test(test_request_id_echo),
		cmocka_unit_test(test_request_id_generated),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_method_not_allowed),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_host_header),
		cmocka_unit_test(test_framing_errors_close),
		cmocka_unit_test(test_cors),
		cmocka_unit_test(test_cors_origins_checked),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_body_limits),
		cmocka_unit_test(test_body_leaves_no_copy),
		cmocka_unit_test(test_json_route),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_access_log),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_client_leaves),
		cmocka_unit_test(test_client_resets),
		cmocka_unit_test(test_handler_deadline),
		cmocka_unit_test(test_connections_counted),
		cmocka_unit_test(test_read_deadline),
		cmocka_unit_test(test_connection_caps),
		cmocka_unit_test(test_connection_caps_proxy),
		cmocka_unit_test(test_accept_pause),
		cmocka_unit_test(test_xff),
		cmocka_unit_test(test_unix_socket),
		cmocka_unit_test(test_unix_socket_group),
		cmocka_unit_test(test_listen_fd),
		cmocka_unit_test(test_free_with_pending_handler),
		cmocka_unit_test(test_unix_long_peer),
	};

	event_set_mem_functions(t_malloc, t_realloc, t_free);
	return cmocka_run_group_tests(tests, setup, teardown);
}
