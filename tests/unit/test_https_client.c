/* Tests of daemon/net/https_client.h (and so of net/curl_loop.h): a tiny
 * libevent evhttp server on 127.0.0.1 (a port the kernel picks) on the
 * same event loop as the client.  Status, body and content type; the
 * bearer and Basic headers and the form body as they arrive; an answer
 * over HTTPS_BODY_MAX; a server that never answers, timing out while the
 * loop serves another call; a refused connection; the URLs allowed;
 * cancelling and freeing with calls in flight. */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "net/https_client.h"

static struct event_base	*base;
static struct evhttp		*srv;
static int			 port;
static struct evhttp_request	*hung;	/* the /slow request, never answered */

/* What the server saw last. */
static char	 seen_auth[512];
static char	 seen_ctype[128];
static char	 seen_ua[64];
static char	 seen_body[1024];
static char	 seen_method[8];

struct got {
	int	 calls;
	long	 status;
	char	 ctype[64];
	char	 body[256];
	size_t	 len;
	char	 error[HTTPS_ERROR_MAX];
	int	 order;		/* 1 for the first call to end, 2... */
};
static int	 ended;

static void
copy_header(struct evhttp_request *r, const char *name, char *dst, size_t n)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(r),
	    name);

	snprintf(dst, n, "%s", v != NULL ? v : "");
}

static void
serve(struct evhttp_request *r, void *arg)
{
	const char *uri = evhttp_request_get_uri(r);
	struct evbuffer *in = evhttp_request_get_input_buffer(r);
	struct evbuffer *out;
	size_t	 n;
	char	*big;

	(void)arg;
	copy_header(r, "Authorization", seen_auth, sizeof(seen_auth));
	copy_header(r, "Content-Type", seen_ctype, sizeof(seen_ctype));
	copy_header(r, "User-Agent", seen_ua, sizeof(seen_ua));
	snprintf(seen_method, sizeof(seen_method), "%s",
	    evhttp_request_get_command(r) == EVHTTP_REQ_POST ? "POST" : "GET");
	n = evbuffer_get_length(in);
	if (n >= sizeof(seen_body))
		n = sizeof(seen_body) - 1;
	evbuffer_remove(in, seen_body, n);
	seen_body[n] = '\0';

	if (strcmp(uri, "/slow") == 0) {
		hung = r;	/* never answered */
		return;
	}
	out = evbuffer_new();
	if (strcmp(uri, "/big") == 0) {
		big = malloc(HTTPS_BODY_MAX + 1);
		memset(big, 'x', HTTPS_BODY_MAX + 1);
		evbuffer_add(out, big, HTTPS_BODY_MAX + 1);
		free(big);
		evhttp_add_header(evhttp_request_get_output_headers(r),
		    "Content-Type", "text/plain");
	} else if (strcmp(uri, "/exact") == 0) {
		big = malloc(HTTPS_BODY_MAX);
		memset(big, 'y', HTTPS_BODY_MAX);
		evbuffer_add(out, big, HTTPS_BODY_MAX);
		free(big);
	} else {
		evbuffer_add_printf(out, "{\"ok\":true}");
		evhttp_add_header(evhttp_request_get_output_headers(r),
		    "Content-Type", "Application/JSON; charset=UTF-8");
	}
	evhttp_send_reply(r, strcmp(uri, "/missing") == 0 ? 404 : 200, "x",
	    out);
	evbuffer_free(out);
}

static void
done_cb(const struct https_answer *a, void *arg)
{
	struct got *g = arg;

	g->calls++;
	g->order = ++ended;
	g->status = a->status;
	g->len = a->len;
	snprintf(g->ctype, sizeof(g->ctype), "%s", a->content_type);
	snprintf(g->body, sizeof(g->body), "%s", a->body);
	snprintf(g->error, sizeof(g->error), "%s", a->error);
	assert_int_equal(a->body[a->len], '\0');
}

/* Runs the loop until *n calls have ended, or 10 s. */
static void
run_until(int n)
{
	struct timeval tick = { 0, 10000 };
	struct timeval start, now;

	gettimeofday(&start, NULL);
	while (ended < n) {
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
		gettimeofday(&now, NULL);
		if (now.tv_sec - start.tv_sec > 10)
			fail_msg("calls did not end");
	}
}

static int
setup(void **state)
{
	struct evhttp_bound_socket *b;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	(void)state;
	base = event_base_new();
	srv = evhttp_new(base);
	evhttp_set_gencb(srv, serve, NULL);
	evhttp_set_max_body_size(srv, 4096);
	b = evhttp_bind_socket_with_handle(srv, "127.0.0.1", 0);
	assert_non_null(b);
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(b),
	    (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	ended = 0;
	hung = NULL;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	evhttp_free(srv);
	event_base_free(base);
	return 0;
}

static void
url(char *dst, size_t n, const char *path)
{
	snprintf(dst, n, "http://127.0.0.1:%d%s", port, path);
}

static void
test_get_returns_status_body_and_bare_content_type(void **state)
{
	struct https_client *c = https_client_new(base, 5, NULL);
	struct got g = { 0 }, m = { 0 };
	char	 u[128];

	(void)state;
	url(u, sizeof(u), "/json");
	assert_non_null(https_get(c, u, NULL, done_cb, &g));
	assert_int_equal(g.calls, 0);	/* never from inside the call */
	url(u, sizeof(u), "/missing");
	assert_non_null(https_get(c, u, NULL, done_cb, &m));
	assert_int_equal(https_inflight(c), 2);
	run_until(2);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, 200);
	assert_string_equal(g.body, "{\"ok\":true}");
	assert_int_equal(g.len, strlen("{\"ok\":true}"));
	assert_string_equal(g.ctype, "application/json");
	assert_string_equal(g.error, "");
	assert_int_equal(m.status, 404);
	assert_string_equal(m.error, "");
	assert_string_equal(seen_ua, "warden");
	assert_string_equal(seen_auth, "");
	assert_int_equal(https_inflight(c), 0);
	https_client_free(c);
}

static void
test_get_sends_the_bearer_token(void **state)
{
	struct https_client *c = https_client_new(base, 5, NULL);
	struct got g = { 0 };
	char	 u[128];

	(void)state;
	url(u, sizeof(u), "/json");
	assert_non_null(https_get(c, u, "tok.en-1", done_cb, &g));
	run_until(1);
	assert_int_equal(g.status, 200);
	assert_string_equal(seen_method, "GET");
	assert_string_equal(seen_auth, "Bearer tok.en-1");
	https_client_free(c);
}

static void
test_post_sends_form_and_escaped_basic_credentials(void **state)
{
	struct https_client *c = https_client_new(base, 5, NULL);
	struct got g = { 0 };
	char	 u[128], b64[256];
	/* form-urlencoded first: "my client:1" -> "my%20client%3A1" */
	const char *raw = "my%20client%3A1:s%2Be%20cr%C3%A9t%25%26";

	(void)state;
	url(u, sizeof(u), "/token");
	assert_non_null(https_post_form(c, u,
	    "grant_type=authorization_code&code=abc%2F1", "my client:1",
	    "s+e cr\xc3\xa9t%&", done_cb, &g));
	run_until(1);
	assert_int_equal(g.status, 200);
	assert_string_equal(seen_method, "POST");
	assert_string_equal(seen_body,
	    "grant_type=authorization_code&code=abc%2F1");
	assert_string_equal(seen_ctype, "application/x-www-form-urlencoded");
	assert_non_null(sodium_bin2base64(b64, sizeof(b64),
	    (const unsigned char *)raw, strlen(raw),
	    sodium_base64_VARIANT_ORIGINAL));
	assert_int_equal(strncmp(seen_auth, "Basic ", 6), 0);
	assert_string_equal(seen_auth + 6, b64);
	https_client_free(c);
}

static void
test_post_without_basic_user_sends_no_authorization(void **state)
{
	struct https_client *c = https_client_new(base, 5, NULL);
	struct got g = { 0 };
	char	 u[128];

	(void)state;
	url(u, sizeof(u), "/token");
	assert_non_null(https_post_form(c, u, "a=b", NULL, NULL, done_cb, &g));
	run_until(1);
	assert_string_equal(seen_body, "a=b");
	assert_string_equal(seen_auth, "");
	https_client_free(c);
}

static void
test_body_over_the_cap_fails_and_at_the_cap_passes(void **state)
{
	struct https_client *c = https_client_new(base, 5, NULL);
	struct got g = { 0 }, e = { 0 };
	char	 u[128];

	(void)state;
	url(u, sizeof(u), "/big");
	assert_non_null(https_get(c, u, NULL, done_cb, &g));
	url(u, sizeof(u), "/exact");
	assert_non_null(https_get(c, u, NULL, done_cb, &e));
	run_until(2);
	assert_int_equal(g.status, 0);
	assert_int_equal(g.len, 0);
	assert_non_null(strstr(g.error, "longer than"));
	assert_int_equal(e.status, 200);
	assert_int_equal(e.len, HTTPS_BODY_MAX);
	assert_string_equal(e.error, "");
	https_client_free(c);
}

static void
test_silent_server_times_out_while_the_loop_runs_others(void **state)
{
	struct https_client *c = https_client_new(base, 1, NULL);
	struct got slow = { 0 }, fast = { 0 };
	struct timeval start, now;
	char	 u[128];
	double	 took;

	(void)state;
	gettimeofday(&start, NULL);
	url(u, sizeof(u), "/slow");
	assert_non_null(https_get(c, u, NULL, done_cb, &slow));
	url(u, sizeof(u), "/json");
	assert_non_null(https_get(c, u, NULL, done_cb, &fast));
	run_until(2);
	gettimeofday(&now, NULL);
	took = (double)(now.tv_sec - start.tv_sec) +
	    (double)(now.tv_usec - start.tv_usec) / 1e6;
	assert_int_equal(fast.order, 1);
	assert_int_equal(fast.status, 200);
	assert_int_equal(slow.order, 2);
	assert_int_equal(slow.status, 0);
	assert_string_equal(slow.error, "timeout");
	assert_true(took >= 0.9 && took < 3.0);
	https_client_free(c);
}

static void
test_refused_connection_gives_status_zero_and_an_error(void **state)
{
	struct https_client *c = https_client_new(base, 5, NULL);
	struct got g = { 0 };
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char	 u[128];
	int	 fd;

	(void)state;
	/* A port that was free a moment ago, closed: nobody listens. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/x", ntohs(sin.sin_port));
	assert_non_null(https_get(c, u, NULL, done_cb, &g));
	run_until(1);
	assert_int_equal(g.status, 0);
	assert_string_not_equal(g.error, "");
	assert_string_equal(g.body, "");
	https_client_free(c);
}

static void
test_url_ok_allows_https_and_loopback_http_only(void **state)
{
	char	 longurl[HTTPS_URL_MAX + 64];

	(void)state;
	assert_true(https_url_ok("http://127.0.0.1:8080/x"));
	assert_true(https_url_ok("http://127.3.2.1/"));
	assert_true(https_url_ok("http://localhost/token"));
	assert_true(https_url_ok("http://[::1]:9/x"));
	assert_true(https_url_ok("https://example.com"));
	assert_true(https_url_ok("https://example.com/a?b=c"));
	assert_false(https_url_ok("http://example.com/"));
	assert_false(https_url_ok("http://127.0.0.1.example.com/"));
	assert_false(https_url_ok("http://128.0.0.1/"));
	assert_false(https_url_ok("ftp://example.com/"));
	assert_false(https_url_ok("file:///etc/passwd"));
	assert_false(https_url_ok("https://user:pass@example.com/"));
	assert_false(https_url_ok("https://user@example.com/"));
	assert_false(https_url_ok("https://example.com/#frag"));
	assert_false(https_url_ok("https://example.com/#"));
	assert_false(https_url_ok("example.com"));
	assert_false(https_url_ok(""));
	assert_false(https_url_ok(NULL));
	memset(longurl, 0, sizeof(longurl));
	memcpy(longurl, "https://example.com/", 20);
	memset(longurl + 20, 'a', HTTPS_URL_MAX - 20);
	assert_true(https_url_ok(longurl));	/* exactly the maximum */
	longurl[HTTPS_URL_MAX] = 'a';
	assert_false(https_url_ok(longurl));
}

static void
test_bad_url_starts_nothing(void **state)
{
	struct https_client *c = https_client_new(base, 5, NULL);
	struct got g = { 0 };

	(void)state;
	assert_null(https_get(c, "http://example.com/", NULL, done_cb, &g));
	assert_null(https_post_form(c, "ftp://x/", "a=b", NULL, NULL,
	    done_cb, &g));
	assert_int_equal(https_inflight(c), 0);
	https_client_free(c);
	assert_int_equal(g.calls, 0);
	assert_null(https_client_new(base, 0, NULL));
	assert_null(https_client_new(base, 301, NULL));
}

static void
test_cancelled_call_is_never_called_back(void **state)
{
	struct https_client *c = https_client_new(base, 5, NULL);
	struct got g = { 0 }, other = { 0 };
	struct https_call *k;
	char	 u[128];

	(void)state;
	url(u, sizeof(u), "/json");
	k = https_get(c, u, NULL, done_cb, &g);
	assert_non_null(k);
	assert_non_null(https_get(c, u, NULL, done_cb, &other));
	https_call_cancel(k);
	assert_int_equal(https_inflight(c), 1);
	run_until(1);
	assert_int_equal(other.calls, 1);
	assert_int_equal(g.calls, 0);
	https_client_free(c);
	assert_int_equal(g.calls, 0);
}

static void
test_free_calls_pending_callbacks_with_stopped(void **state)
{
	struct https_client *c = https_client_new(base, 5, NULL);
	struct got g = { 0 };
	char	 u[128];

	(void)state;
	url(u, sizeof(u), "/slow");
	assert_non_null(https_get(c, u, NULL, done_cb, &g));
	while (hung == NULL)	/* the request reached the server */
		event_base_loop(base, EVLOOP_ONCE);
	https_client_free(c);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, 0);
	assert_string_equal(g.error, "stopped");
	https_client_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_get_returns_status_body_and_bare_content_type),
		T(test_get_sends_the_bearer_token),
		T(test_post_sends_form_and_escaped_basic_credentials),
		T(test_post_without_basic_user_sends_no_authorization),
		T(test_body_over_the_cap_fails_and_at_the_cap_passes),
		T(test_silent_server_times_out_while_the_loop_runs_others),
		T(test_refused_connection_gives_status_zero_and_an_error),
		T(test_url_ok_allows_https_and_loopback_http_only),
		T(test_bad_url_starts_nothing),
		T(test_cancelled_call_is_never_called_back),
		T(test_free_calls_pending_callbacks_with_stopped),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
