/* Unit tests of daemon/api/metrics.c: the text format of every family (HELP and
 * TYPE lines, label escaping, cumulative histogram buckets with +Inf, _sum
 * and _count), the bounds of the tables, the login counters, and where
 * /metrics is served (metrics_start with and without metrics_listen, and
 * a real scrape of a metrics listener on a socket handed over as from
 * systemd). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "config.h"
#include "util.h"

#include "api/front.h"
#include "api/handlers.h"
#include "http/http.h"
#include "api/metrics.h"
#include "api/token_cache.h"

static void h_x(struct http_req *r) { (void)r; }

static const struct route rt[] = {
	{ EVHTTP_REQ_GET, "/a", h_x, ROUTE_AUTH_NONE },
	{ EVHTTP_REQ_POST, "/a", h_x, ROUTE_AUTH_NONE },
	{ EVHTTP_REQ_GET, "/b/{id:uuid}", h_x, ROUTE_AUTH_NONE },
	/* Patterns never hold these, but the text must survive them. */
	{ EVHTTP_REQ_GET, "/q\\u\"o\nte", h_x, ROUTE_AUTH_NONE },
	{ EVHTTP_REQ_GET, METRICS_PATH, h_x, ROUTE_AUTH_NONE },
};

static struct front	 front;
static struct metrics	*m;

static int
setup(void **state)
{
	memset(&front, 0, sizeof(front));
	front.started = 1700000000;
	m = metrics_new(&front);
	return m == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	metrics_free(m);
	m = NULL;
	return 0;
}

/* One finished request of route (NULL: unmatched) with status and ms. */
static void
observe(const struct route *route, enum evhttp_cmd_type method, int status,
    double ms)
{
	struct http_req r;

	memset(&r, 0, sizeof(r));
	r.route = route;
	r.method = route != NULL ? route->method : method;
	r.status = status;
	metrics_observe(&r, ms, m);
}

/* The whole exposition, NUL-terminated, to free(). */
static char *
render_with(const struct metrics_snapshot *s)
{
	struct evbuffer *b = evbuffer_new();
	size_t	 len;
	char	*text;

	assert_non_null(b);
	assert_int_equal(metrics_render(m, s, b), 0);
	len = evbuffer_get_length(b);
	text = malloc(len + 1);
	assert_non_null(text);
	assert_int_equal(evbuffer_remove(b, text, len), (int)len);
	text[len] = '\0';
	evbuffer_free(b);
	return text;
}

static char *
render(void)
{
	struct metrics_snapshot s;

	metrics_snapshot(m, &s);
	return render_with(&s);
}

static void
expect_line(const char *text, const char *line)
{
	size_t	 n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void
expect_no(const char *text, const char *needle)
{
	if (strstr(text, needle) != NULL)
		fail_msg("\"%s\" should not be in:\n%s", needle, text);
}

/* ---- a checker of the text format ---- */

struct fam {
	char	 name[128];
	char	 type[16];
	bool	 help;
};

static struct fam *
fam_find(struct fam *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return &f[i];
	return NULL;
}

/* The family a sample name belongs to, given the declared ones. */
static struct fam *
sample_family(struct fam *f, size_t n, const char *name)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	struct fam *x;
	char	 base[128];
	size_t	 len = strlen(name), sl;

	if ((x = fam_find(f, n, name)) != NULL &&
	    (strcmp(x->type, "counter") == 0 || strcmp(x->type, "gauge") == 0))
		return x;
	for (size_t i = 0; i < 3; i++) {
		sl = strlen(sfx[i]);
		if (len <= sl || strcmp(name + len - sl, sfx[i]) != 0)
			continue;
		memcpy(base, name, len - sl);
		base[len - sl] = '\0';
		if ((x = fam_find(f, n, base)) != NULL &&
		    (strcmp(x->type, "histogram") == 0 ||
		    (strcmp(x->type, "summary") == 0 && i > 0)))
			return x;
	}
	return NULL;
}

/*
 * Checks every line: "# HELP name text" then "# TYPE name type" once per
 * family, before its samples; samples "name{l="v",...} value" with valid
 * names, escapes only \\ \" \n in values, and a number.  Returns the
 * number of families.
 */
static size_t
check_format(const char *text)
{
	struct fam fams[64];
	size_t	 nf = 0;
	const char *p = text, *e;
	char	 line[4096], name[128];

	assert_true(text[0] != '\0' && text[strlen(text) - 1] == '\n');
	for (; *p != '\0'; p = e + 1) {
		e = strchr(p, '\n');
		assert_non_null(e);
		assert_true((size_t)(e - p) < sizeof(line));
		memcpy(line, p, (size_t)(e - p));
		line[e - p] = '\0';
		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s", name), 1);
			assert_null(fam_find(fams, nf, name));
			assert_true(nf < 64);
			str_copy(fams[nf].name, name, sizeof(fams[nf].name));
			fams[nf].help = true;
			fams[nf].type[0] = '\0';
			assert_true(strlen(line) > 8 + strlen(name));
			nf++;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char	 type[16];
			struct fam *f;

			assert_int_equal(sscanf(line + 7, "%127s %15s", name,
			    type), 2);
			f = fam_find(fams, nf, name);
			if (f == NULL || f != &fams[nf - 1] ||
			    f->type[0] != '\0')
				fail_msg("TYPE without HELP: %s", line);
			assert_true(strcmp(type, "counter") == 0 ||
			    strcmp(type, "gauge") == 0 ||
			    strcmp(type, "histogram") == 0 ||
			    strcmp(type, "summary") == 0);
			str_copy(f->type, type, sizeof(f->type));
			continue;
		}
		assert_true(line[0] != '#' && line[0] != '\0');

		/* A sample. */
		const char *q = line;
		size_t	 n = strspn(q, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
		assert_true(n > 0 && n < sizeof(name));
		memcpy(name, q, n);
		name[n] = '\0';
		if (sample_family(fams, nf, name) == NULL)
			fail_msg("sample of no declared family: %s", line);
		q += n;
		if (*q == '{') {
			q++;
			while (*q != '}') {
				n = strspn(q, "abcdefghijklmnopqrstuvwxyz_");
				assert_true(n > 0);
				q += n;
				assert_true(q[0] == '=' && q[1] == '"');
				for (q += 2; *q != '"'; q++) {
					assert_true(*q != '\0' && *q != '\n');
					if (*q == '\\') {
						q++;
						assert_non_null(strchr("\\\"n",
						    *q));
					}
				}
				q++;
				if (*q == ',')
					q++;
				else
					assert_int_equal(*q, '}');
			}
			q++;
		}
		assert_int_equal(*q, ' ');
		q++;
		char	*end;
		(void)strtod(q, &end);
		if (end == q || *end != '\0')
			fail_msg("bad value: %s", line);
	}
	return nf;
}

/* ---- tests ---- */

static void
test_empty(void **state)
{
	static const char *const families[] = {
		"warden_http_requests_total counter",
		"warden_http_request_duration_seconds histogram",
		"warden_hasher_up gauge",
		"warden_hasher_queue_depth gauge",
		"warden_hasher_operation_duration_seconds summary",
		"warden_hasher_errors_total counter",
		"warden_hasher_restarts_total counter",
		"warden_db_pool_connections gauge",
		"warden_db_pool_size gauge",
		"warden_db_pool_waiting gauge",
		"warden_db_queries_total counter",
		"warden_db_failures_total counter",
		"warden_revocation_listening gauge",
		"warden_revocation_users gauge",
		"warden_revocation_overflows_total counter",
		"warden_token_cache_lookups_total counter",
		"warden_token_cache_entries gauge",
		"warden_user_cache_lookups_total counter",
		"warden_user_cache_entries gauge",
		"warden_user_cache_listening gauge",
		"warden_mail_queued gauge",
		"warden_mail_oldest_age_seconds gauge",
		"warden_mail_sent_total counter",
		"warden_mail_failed_total counter",
		"warden_mail_given_up_total counter",
		"warden_logins_total counter",
		"warden_purged_rows_total counter",
		"process_start_time_seconds gauge",
	};
	char	*t = render(), line[160];
	size_t	 i;

	assert_int_equal(check_format(t), sizeof(families) /
	    sizeof(families[0]));
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		assert_int_equal(str_printf(line, sizeof(line), "# TYPE %s",
		    families[i]), 0);
		expect_line(t, line);
	}
	expect_no(t, "warden_http_requests_total{");
	expect_no(t, "warden_http_request_duration_seconds_bucket");
	/* No hasher, no pool yet: everything reads 0. */
	expect_line(t, "warden_hasher_up 0");
	expect_line(t, "warden_hasher_queue_depth{kind=\"hash\"} 0");
	expect_line(t, "warden_hasher_queue_depth{kind=\"sign\"} 0");
	expect_line(t, "warden_db_pool_connections{state=\"idle\"} 0");
	expect_line(t, "warden_db_pool_waiting 0");
	expect_line(t, "warden_logins_total{outcome=\"ok\"} 0");
	expect_line(t, "warden_logins_total{outcome=\"failed\"} 0");
	expect_no(t, "outcome=\"locked\"");
	expect_line(t, "warden_logins_total{outcome=\"rate_limited\"} 0");
	expect_line(t, "warden_purged_rows_total{table=\"refresh_tokens\"} 0");
	expect_line(t, "warden_purged_rows_total{table=\"audit_events\"} 0");
	expect_line(t, "process_start_time_seconds 1700000000");
	free(t);
}

static void
test_requests(void **state)
{
	char	*t;

	observe(&rt[0], 0, 200, 3);
	observe(&rt[0], 0, 200, 7);
	observe(&rt[0], 0, 304, 1);
	observe(&rt[1], 0, 201, 30);
	observe(&rt[2], 0, 404, 2);
	observe(NULL, EVHTTP_REQ_GET, 404, 0.5);
	observe(NULL, EVHTTP_REQ_DELETE, 405, 0.5);
	observe(&rt[0], 0, HTTP_STATUS_GONE, 12000);
	t = render();
	check_format(t);
	expect_line(t, "warden_http_requests_total"
	    "{route=\"/a\",method=\"GET\",status=\"200\"} 2");
	expect_line(t, "warden_http_requests_total"
	    "{route=\"/a\",method=\"GET\",status=\"304\"} 1");
	expect_line(t, "warden_http_requests_total"
	    "{route=\"/a\",method=\"GET\",status=\"499\"} 1");
	expect_line(t, "warden_http_requests_total"
	    "{route=\"/a\",method=\"POST\",status=\"201\"} 1");
	expect_line(t, "warden_http_requests_total"
	    "{route=\"/b/{id:uuid}\",method=\"GET\",status=\"404\"} 1");
	expect_line(t, "warden_http_requests_total"
	    "{route=\"unmatched\",method=\"GET\",status=\"404\"} 1");
	expect_line(t, "warden_http_requests_total"
	    "{route=\"unmatched\",method=\"DELETE\",status=\"405\"} 1");

	/* /a: 1, 3, 7, 30 ms and 12 s; cumulative, +Inf is the count. */
	expect_line(t, "warden_http_request_duration_seconds_bucket"
	    "{route=\"/a\",le=\"0.005\"} 2");
	expect_line(t, "warden_http_request_duration_seconds_bucket"
	    "{route=\"/a\",le=\"0.01\"} 3");
	expect_line(t, "warden_http_request_duration_seconds_bucket"
	    "{route=\"/a\",le=\"0.025\"} 3");
	expect_line(t, "warden_http_request_duration_seconds_bucket"
	    "{route=\"/a\",le=\"0.05\"} 4");
	expect_line(t, "warden_http_request_duration_seconds_bucket"
	    "{route=\"/a\",le=\"10\"} 4");
	expect_line(t, "warden_http_request_duration_seconds_bucket"
	    "{route=\"/a\",le=\"+Inf\"} 5");
	expect_line(t, "warden_http_request_duration_seconds_count"
	    "{route=\"/a\"} 5");
	expect_line(t, "warden_http_request_duration_seconds_sum"
	    "{route=\"/a\"} 12.041");
	expect_line(t, "warden_http_request_duration_seconds_bucket"
	    "{route=\"unmatched\",le=\"0.005\"} 2");
	expect_line(t, "warden_http_request_duration_seconds_count"
	    "{route=\"unmatched\"} 2");
	free(t);
}

/* Buckets never decrease and end at the count, for every route. */
static void
test_buckets_cumulative(void **state)
{
	const char *p, *key = "warden_http_request_duration_seconds_bucket"
	    "{route=\"/a\",le=\"";
	unsigned long long prev = 0, v;
	double	 le, prev_le = 0;
	size_t	 n = 0;
	char	*t;
	int	 i;

	for (i = 0; i < 200; i++)
		observe(&rt[0], 0, 200, (double)(i * i) / 2.0);
	t = render();
	for (p = strstr(t, key); p != NULL; p = strstr(p + 1, key)) {
		p += strlen(key);
		if (strncmp(p, "+Inf\"} ", 7) == 0) {
			assert_int_equal(sscanf(p + 7, "%llu", &v), 1);
			assert_true(v >= prev);
			assert_int_equal(v, 200);
			n++;
			break;
		}
		assert_int_equal(sscanf(p, "%lf\"} %llu", &le, &v), 2);
		assert_true(le > prev_le);
		assert_true(v >= prev);
		prev = v;
		prev_le = le;
		n++;
	}
	assert_int_equal(n, 12);
	free(t);
}

static void
test_label_escaping(void **state)
{
	char	*t;

	observe(&rt[3], 0, 200, 1);
	t = render();
	check_format(t);
	expect_line(t, "warden_http_requests_total"
	    "{route=\"/q\\\\u\\\"o\\nte\",method=\"GET\",status=\"200\"} 1");
	expect_line(t, "warden_http_request_duration_seconds_count"
	    "{route=\"/q\\\\u\\\"o\\nte\"} 1");
	free(t);
}

/* More patterns than the table holds go to "other"; more status codes
 * than a method holds, and codes out of range, to status="other". */
static void
test_bounded(void **state)
{
	static char	 pats[METRICS_ROUTES_MAX + 10][16];
	static struct route many[METRICS_ROUTES_MAX + 10];
	char	*t, line[256];
	size_t	 i, nlines;
	const char *p;

	for (i = 0; i < METRICS_STATUSES_MAX + 5; i++)
		observe(&rt[0], 0, 200 + (int)i, 1);
	observe(&rt[0], 0, 0, 1);
	observe(&rt[0], 0, 1000, 1);
	for (i = 0; i < METRICS_ROUTES_MAX + 10; i++) {
		assert_int_equal(str_printf(pats[i], sizeof(pats[i]), "/r%zu",
		    i), 0);
		many[i] = (struct route){ EVHTTP_REQ_GET, pats[i], h_x,
		    ROUTE_AUTH_NONE };
		observe(&many[i], 0, 200, 1);
		observe(&many[i], 0, 200, 1);
	}
	t = render();
	check_format(t);
	/* Two slots are "unmatched" and "other", one is /a: /r0 up to
	 * /r(MAX - 4) fit, the other 13 patterns do not. */
	assert_int_equal(str_printf(line, sizeof(line), "/r%d\"",
	    METRICS_ROUTES_MAX - 3), 0);
	expect_no(t, line);
	assert_int_equal(str_printf(line, sizeof(line),
	    "warden_http_requests_total{route=\"/r%d\",method=\"GET\","
	    "status=\"200\"} 2", METRICS_ROUTES_MAX - 4), 0);
	expect_line(t, line);
	assert_int_equal(str_printf(line, sizeof(line),
	    "warden_http_requests_total{route=\"other\",method=\"GET\","
	    "status=\"200\"} %d", 2 * 13), 0);
	expect_line(t, line);
	expect_line(t, "warden_http_requests_total"
	    "{route=\"/a\",method=\"GET\",status=\"other\"} 7");
	assert_int_equal(str_printf(line, sizeof(line),
	    "warden_http_requests_total{route=\"/a\",method=\"GET\","
	    "status=\"%d\"} 1", 200 + METRICS_STATUSES_MAX - 1), 0);
	expect_line(t, line);
	/* The series stay bounded. */
	for (nlines = 0, p = t; (p = strchr(p, '\n')) != NULL; p++)
		nlines++;
	assert_true(nlines < 20 * METRICS_ROUTES_MAX + 100);
	free(t);
}

static void
test_snapshot_values(void **state)
{
	struct metrics_snapshot s;
	char	*t;

	memset(&s, 0, sizeof(s));
	s.have_hasher = true;
	s.hasher.ready = true;
	s.hasher.queue_hash = 3;
	s.hasher.queue_sign = 1;
	s.hasher.hash_count = 4;
	s.hasher.hash_latency_sum = 0.5;
	s.hasher.sign_count = 9;
	s.hasher.sign_latency_sum = 0.0125;
	s.hasher.busy = 2;
	s.hasher.timeouts = 5;
	s.hasher.failures = 6;
	s.hasher.restarts = 7;
	s.have_db = true;
	s.db.size = 8;
	s.db.up = 6;
	s.db.in_use = 4;
	s.db.waiting = 11;
	s.db.queries = 123456789012ULL;
	s.db.failed = 1;
	s.db.connect_failures = 2;
	s.started = 42;
	t = render_with(&s);
	check_format(t);
	expect_line(t, "warden_hasher_up 1");
	expect_line(t, "warden_hasher_queue_depth{kind=\"hash\"} 3");
	expect_line(t, "warden_hasher_queue_depth{kind=\"sign\"} 1");
	expect_line(t, "warden_hasher_operation_duration_seconds_sum"
	    "{kind=\"hash\"} 0.5");
	expect_line(t, "warden_hasher_operation_duration_seconds_count"
	    "{kind=\"hash\"} 4");
	expect_line(t, "warden_hasher_operation_duration_seconds_sum"
	    "{kind=\"sign\"} 0.0125");
	expect_line(t, "warden_hasher_operation_duration_seconds_count"
	    "{kind=\"sign\"} 9");
	expect_line(t, "warden_hasher_errors_total{reason=\"busy\"} 2");
	expect_line(t, "warden_hasher_errors_total{reason=\"timeout\"} 5");
	expect_line(t, "warden_hasher_errors_total{reason=\"down\"} 6");
	expect_line(t, "warden_hasher_restarts_total 7");
	expect_line(t, "warden_db_pool_connections{state=\"up\"} 6");
	expect_line(t, "warden_db_pool_connections{state=\"in_use\"} 4");
	expect_line(t, "warden_db_pool_connections{state=\"idle\"} 2");
	expect_line(t, "warden_db_pool_size 8");
	expect_line(t, "warden_db_pool_waiting 11");
	expect_line(t, "warden_db_queries_total 123456789012");
	expect_line(t, "warden_db_failures_total{kind=\"request\"} 1");
	expect_line(t, "warden_db_failures_total{kind=\"connection\"} 2");
	expect_line(t, "process_start_time_seconds 42");
	free(t);

	/* A hasher that is not ready reads down; more in use than up
	 * (counters read between events) never goes negative. */
	s.hasher.ready = false;
	s.db.in_use = 9;
	t = render_with(&s);
	expect_line(t, "warden_hasher_up 0");
	expect_line(t, "warden_db_pool_connections{state=\"idle\"} 0");
	free(t);
}

static void
test_logins(void **state)
{
	char	*t;

	metrics_login(m, METRICS_LOGIN_OK);
	metrics_login(m, METRICS_LOGIN_FAILED);
	metrics_login(m, METRICS_LOGIN_FAILED);
	metrics_login(m, METRICS_LOGIN_RATE_LIMITED);
	metrics_login(m, METRICS_LOGIN_RATE_LIMITED);
	metrics_login(m, METRICS_LOGIN_RATE_LIMITED);
	metrics_login(m, METRICS_LOGIN_NOUTCOMES);
	metrics_login(NULL, METRICS_LOGIN_OK);
	t = render();
	check_format(t);
	expect_line(t, "warden_logins_total{outcome=\"ok\"} 1");
	expect_line(t, "warden_logins_total{outcome=\"failed\"} 2");
	expect_line(t, "warden_logins_total{outcome=\"rate_limited\"} 3");
	free(t);
}

/*
 * Several front processes: once shared, the counts of a forked process
 * are the scraping one's too, and so is the snapshot it published (here
 * its database pool, as each front publishes every second).
 */
static void
test_shared_between_processes(void **state)
{
	struct event_base *base = event_base_new();
	struct metrics_snapshot s;
	pid_t	 pid;
	int	 st;
	char	*t;

	(void)state;
	assert_non_null(base);
	assert_int_equal(metrics_share(m, 1), 0);	/* one: nothing */
	assert_int_equal(metrics_share(m, 2), 0);
	metrics_login(m, METRICS_LOGIN_OK);
	if ((pid = fork()) == 0) {
		struct event_base *b = event_base_new();

		if (b == NULL || metrics_join(m, 1, b) == -1)
			_exit(2);
		metrics_login(m, METRICS_LOGIN_OK);
		metrics_login(m, METRICS_LOGIN_FAILED);
		/* A figure of this front's own, published by the timer a
		 * second later. */
		if ((front.tokens = token_cache_new(8)) == NULL)
			_exit(3);
		_exit(event_base_loop(b, EVLOOP_ONCE) < 0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(metrics_join(m, 0, base), 0);
	assert_int_equal(metrics_join(m, 2, base), -1);	/* no such front */
	t = render();
	check_format(t);
	expect_line(t, "warden_logins_total{outcome=\"ok\"} 2");
	expect_line(t, "warden_logins_total{outcome=\"failed\"} 1");
	free(t);
	/* A front's snapshot adds to the scraper's. */
	metrics_snapshot(m, &s);
	assert_int_equal(s.tokens.capacity, 8);
	metrics_free(m);
	m = metrics_new(&front);
	event_base_free(base);
}

/* Where /metrics is served, with and without metrics_listen. */
static void
test_start(void **state)
{
	struct event_base *base = event_base_new();
	struct http_server *api;
	struct http_req r;
	struct cfg cfg;
	char	 err[512], *t;

	assert_non_null(base);
	cfg_defaults(&cfg);
	api = http_server_new(base, &cfg, rt, 2, err, sizeof(err));
	assert_non_null(api);
	memset(&r, 0, sizeof(r));
	r.srv = api;
	r.route = &rt[4];
	r.method = EVHTTP_REQ_GET;
	r.status = 200;

	/* Unset: the API listener serves it and counts it as its route. */
	assert_int_equal(metrics_start(m, base, &cfg, api, -1, err,
	    sizeof(err)), 0);
	assert_true(metrics_serves(m, &r));
	metrics_observe(&r, 1, m);
	metrics_free(m);
	m = metrics_new(&front);
	assert_non_null(m);

	/* Set: only the metrics listener; the API's 404 is "unmatched". */
	free(cfg.metrics_listen);
	cfg.metrics_listen = strdup("127.0.0.1:0");
	assert_non_null(cfg.metrics_listen);
	assert_int_equal(metrics_start(m, base, &cfg, api, -1, err,
	    sizeof(err)), 0);
	assert_false(metrics_serves(m, &r));
	r.status = 404;
	metrics_observe(&r, 1, m);
	t = render();
	expect_line(t, "warden_http_requests_total"
	    "{route=\"unmatched\",method=\"GET\",status=\"404\"} 1");
	expect_no(t, "route=\"/metrics\"");
	free(t);
	metrics_stop_listening(m);
	metrics_free(m);
	m = metrics_new(&front);
	assert_non_null(m);

	/* A spec that cannot be bound is an error naming the setting. */
	free(cfg.metrics_listen);
	cfg.metrics_listen = strdup("256.0.0.1:1");
	assert_non_null(cfg.metrics_listen);
	err[0] = '\0';
	assert_int_equal(metrics_start(m, base, &cfg, api, -1, err,
	    sizeof(err)), -1);
	if (strstr(err, "metrics_listen") == NULL)
		fail_msg("err \"%s\" lacks metrics_listen", err);

	http_server_free(api);
	cfg_free(&cfg);
	event_base_free(base);
}

/* A listening TCP socket on 127.0.0.1 and its port. */
static int
listener(in_port_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int	 fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = sin.sin_port;
	return fd;
}

/* Sends req to port and runs base until the server closes; returns the
 * whole response, to free(). */
static char *
exchange(struct event_base *base, in_port_t port, const char *req)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	size_t	 len = 0, cap = 1 << 16;
	char	*resp = malloc(cap);
	ssize_t	 n;
	int	 fd, i;

	assert_non_null(resp);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = port;
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	for (i = 0; i < 500; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 10) != 1)
			continue;
		n = read(fd, resp + len, cap - 1 - len);
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
		assert_true(len < cap - 1);
	}
	assert_true(i < 500);
	close(fd);
	resp[len] = '\0';
	event_base_loop(base, EVLOOP_NONBLOCK);
	return resp;
}

/* The metrics listener on a socket from systemd: a real scrape, its own
 * one-route table, and the API server no longer serving /metrics. */
static void
test_serve_fd(void **state)
{
	struct event_base *base = event_base_new();
	struct http_server *api;
	struct http_req r;
	struct cfg cfg;
	in_port_t port;
	char	 err[512], *resp, *body;

	assert_non_null(base);
	cfg_defaults(&cfg);
	api = http_server_new(base, &cfg, rt, 2, err, sizeof(err));
	assert_non_null(api);
	front.metrics = m;
	assert_int_equal(metrics_start(m, base, &cfg, api, listener(&port),
	    err, sizeof(err)), 0);
	memset(&r, 0, sizeof(r));
	r.srv = api;
	assert_false(metrics_serves(m, &r));

	resp = exchange(base, port, "GET /metrics HTTP/1.0\r\n\r\n");
	if (strncmp(resp, "HTTP/1.0 200 ", 13) != 0 &&
	    strncmp(resp, "HTTP/1.1 200 ", 13) != 0)
		fail_msg("not a 200:\n%s", resp);
	if (strstr(resp, "\r\nContent-Type: " METRICS_CONTENT_TYPE "\r\n") ==
	    NULL)
		fail_msg("no Content-Type " METRICS_CONTENT_TYPE ":\n%s", resp);
	body = strstr(resp, "\r\n\r\n");
	assert_non_null(body);
	assert_int_equal(check_format(body + 4), 28);
	expect_line(body + 4, "process_start_time_seconds 1700000000");
	free(resp);

	/* Its table has /metrics alone; the first scrape was counted. */
	resp = exchange(base, port, "GET /healthz HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(resp, " 404 "));
	free(resp);
	resp = exchange(base, port, "GET /metrics HTTP/1.0\r\n\r\n");
	body = strstr(resp, "\r\n\r\n");
	assert_non_null(body);
	expect_line(body, "warden_http_requests_total"
	    "{route=\"/metrics\",method=\"GET\",status=\"200\"} 1");
	expect_line(body, "warden_http_requests_total"
	    "{route=\"unmatched\",method=\"GET\",status=\"404\"} 1");
	free(resp);

	http_server_free(api);
	metrics_free(m);
	m = NULL;
	front.metrics = NULL;
	cfg_free(&cfg);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_buckets_cumulative, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_label_escaping, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_values, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_logins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_between_processes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_fd, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
