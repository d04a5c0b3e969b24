/*
 * The metrics of wardend: fixed tables filled by the HTTP observer and the
 * login hooks, rendered in the Prometheus text format (metrics.h).
 */
#include <sys/mman.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "census.h"
#include "purger.h"
#include "config.h"
#include "front.h"
#include "handlers.h"
#include "metrics.h"
#include "util.h"

/* The upper bounds of the latency buckets, seconds; +Inf follows. */
static const struct {
	double		 le;
	const char	*label;
} buckets[] = {
	{ 0.005, "0.005" }, { 0.01, "0.01" }, { 0.025, "0.025" },
	{ 0.05, "0.05" }, { 0.1, "0.1" }, { 0.25, "0.25" }, { 0.5, "0.5" },
	{ 1, "1" }, { 2.5, "2.5" }, { 5, "5" }, { 10, "10" },
};
#define NBUCKETS	(sizeof(buckets) / sizeof(buckets[0]))

/* The methods libevent knows; any other counts as method="other". */
static const struct {
	enum evhttp_cmd_type	 method;
	const char		*name;
} methods[] = {
	{ EVHTTP_REQ_GET, "GET" }, { EVHTTP_REQ_HEAD, "HEAD" },
	{ EVHTTP_REQ_POST, "POST" }, { EVHTTP_REQ_PUT, "PUT" },
	{ EVHTTP_REQ_DELETE, "DELETE" }, { EVHTTP_REQ_OPTIONS, "OPTIONS" },
	{ EVHTTP_REQ_TRACE, "TRACE" }, { EVHTTP_REQ_CONNECT, "CONNECT" },
	{ EVHTTP_REQ_PATCH, "PATCH" },
};
#define NMETHODS	(sizeof(methods) / sizeof(methods[0]) + 1)

static const char *const login_names[METRICS_LOGIN_NOUTCOMES] = {
	[METRICS_LOGIN_OK] = "ok",
	[METRICS_LOGIN_FAILED] = "failed",
	[METRICS_LOGIN_RATE_LIMITED] = "rate_limited",
};

/* Route slots 0 and 1 are these; patterns always start with '/'. */
#define SLOT_UNMATCHED	0
#define SLOT_OTHER	1
#define SLOT_FIRST	2

struct status_count {
	int		 code;
	uint64_t	 n;
};

struct method_counts {
	size_t			 nstatus;
	struct status_count	 status[METRICS_STATUSES_MAX];
	uint64_t		 other;		/* codes past it */
};

struct route_stats {
	const char		*pattern;	/* static (route.h) */
	uint64_t		 total;
	struct method_counts	 method[NMETHODS];
	uint64_t		 bucket[NBUCKETS];	/* not cumulative */
	double			 sum;		/* seconds */
};

/* What is counted as it happens: logins and requests. */
struct metrics_counts {
	uint64_t		 logins[METRICS_LOGIN_NOUTCOMES];
	size_t			 nroutes;
	struct route_stats	 route[METRICS_ROUTES_MAX];
};

/*
 * What several front processes (daemon/fronts.h) share, in one anonymous shared
 * mapping made before they fork: the counts, which each process updates
 * under the lock, and each process's snapshot (hasher, pool, caches) as
 * it last published it, which a scrape adds to its own.  The route
 * patterns are the program's own strings: the same address in every
 * process, since they are forked, not executed.
 */
struct metrics_shared {
	pthread_mutex_t		 lock;		/* process-shared, robust */
	unsigned int		 n;		/* processes */
	struct metrics_counts	 counts;
	bool			 has[METRICS_FRONTS_MAX];
	struct metrics_snapshot	 published[METRICS_FRONTS_MAX];
};

struct metrics {
	struct front		*front;
	time_t			 created;
	bool			 apart;		/* a metrics listener */
	struct http_server	*srv;		/* its server */
	struct caller		 caller;	/* r->caller there */
	struct metrics_counts	 own;
	struct metrics_counts	*c;		/* &own, or shared->counts */
	struct metrics_shared	*shared;	/* NULL: one process */
	unsigned int		 index;		/* this process's, in shared */
	struct event		*publish;	/* its snapshot, each second */
};

/* The table of the metrics listener: this one route. */
static const struct route metrics_routes[] = {
	{ EVHTTP_REQ_GET, METRICS_PATH, h_metrics, ROUTE_AUTH_NONE },
};

struct metrics *
metrics_new(struct front *f)
{
	struct metrics *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->front = f;
	m->created = time(NULL);
	m->caller.front = f;
	m->c = &m->own;
	m->c->route[SLOT_UNMATCHED].pattern = "unmatched";
	m->c->route[SLOT_OTHER].pattern = "other";
	m->c->nroutes = SLOT_FIRST;
	return m;
}

int
metrics_share(struct metrics *m, unsigned int n)
{
	struct metrics_shared *sh;
	pthread_mutexattr_t a;
	int	 rc;

	if (n < 2)
		return 0;
	if (n > METRICS_FRONTS_MAX) {
		errno = EINVAL;
		return -1;
	}
	if ((sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		return -1;
	memset(sh, 0, sizeof(*sh));
	if ((rc = pthread_mutexattr_init(&a)) != 0 ||
	    (rc = pthread_mutexattr_setpshared(&a,
	    PTHREAD_PROCESS_SHARED)) != 0 ||
	    (rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) != 0 ||
	    (rc = pthread_mutex_init(&sh->lock, &a)) != 0) {
		munmap(sh, sizeof(*sh));
		errno = rc;
		return -1;
	}
	pthread_mutexattr_destroy(&a);
	sh->n = n;
	sh->counts = m->own;
	m->shared = sh;
	m->c = &sh->counts;
	return 0;
}

/* The lock of the shared counts (none with one process).  A process that
 * died holding it left counts that are at worst one request short. */
static void
counts_lock(const struct metrics *m)
{
	if (m->shared != NULL &&
	    pthread_mutex_lock(&m->shared->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&m->shared->lock);
}

static void
counts_unlock(const struct metrics *m)
{
	if (m->shared != NULL)
		pthread_mutex_unlock(&m->shared->lock);
}

static void	local_snapshot(const struct metrics *,
		    struct metrics_snapshot *);

static void
on_publish(evutil_socket_t fd, short what, void *arg)
{
	struct metrics *m = arg;
	struct metrics_snapshot s;

	(void)fd;
	(void)what;
	local_snapshot(m, &s);
	counts_lock(m);
	m->shared->published[m->index] = s;
	m->shared->has[m->index] = true;
	counts_unlock(m);
}

int
metrics_join(struct metrics *m, unsigned int index, struct event_base *base)
{
	static const struct timeval second = { 1, 0 };

	if (m->shared == NULL)
		return 0;
	if (index >= m->shared->n) {
		errno = EINVAL;
		return -1;
	}
	m->index = index;
	if ((m->publish = event_new(base, -1, EV_PERSIST, on_publish,
	    m)) == NULL || event_add(m->publish, &second) == -1)
		return -1;
	return 0;
}

/* The metrics listener's dispatch: no authentication, a fixed caller. */
static void
metrics_dispatch(struct http_req *r, void *arg)
{
	struct metrics *m = arg;

	r->caller = &m->caller;
	r->caller_free = NULL;
	http_req_run(r);
}

int
metrics_start(struct metrics *m, struct event_base *base,
    const struct cfg *cfg, struct http_server *api, int fd, char *err,
    size_t errlen)
{
	char	 why[512];

	http_server_set_observer(api, metrics_observe, m);
	if (fd < 0 &&
	    (cfg->metrics_listen == NULL || cfg->metrics_listen[0] == '\0'))
		return 0;
	m->apart = true;
	if ((m->srv = http_server_new(base, cfg, metrics_routes,
	    sizeof(metrics_routes) / sizeof(metrics_routes[0]), err,
	    errlen)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	http_server_set_dispatch(m->srv, metrics_dispatch, m);
	http_server_set_observer(m->srv, metrics_observe, m);
	if (fd >= 0) {
		if (http_listen_fd(m->srv, fd, why, sizeof(why)) == -1) {
			if (str_printf(err, errlen, "metrics socket from "
			    "systemd: %s", why) == -1)
				str_copy(err, why, errlen);
			return -1;
		}
		return 0;
	}
	if (http_listen(m->srv, cfg->metrics_listen, why, sizeof(why)) == -1) {
		if (str_printf(err, errlen, "metrics_listen %s: %s",
		    cfg->metrics_listen, why) == -1)
			str_copy(err, why, errlen);
		return -1;
	}
	return 0;
}

void
metrics_stop_listening(struct metrics *m)
{
	if (m != NULL && m->srv != NULL)
		http_server_stop_listening(m->srv);
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	http_server_free(m->srv);
	if (m->publish != NULL)
		event_free(m->publish);
	if (m->shared != NULL)
		munmap(m->shared, sizeof(*m->shared));
	free(m);
}

bool
metrics_serves(const struct metrics *m, const struct http_req *r)
{
	return !m->apart || (m->srv != NULL && r->srv == m->srv);
}

void
metrics_login(struct metrics *m, enum metrics_login outcome)
{
	if (m != NULL && (unsigned int)outcome < METRICS_LOGIN_NOUTCOMES) {
		counts_lock(m);
		m->c->logins[outcome]++;
		counts_unlock(m);
	}
}

/* The slot of pattern (NULL: unmatched), added when new and room is left. */
static struct route_stats *
route_slot(struct metrics *m, const char *pattern)
{
	size_t	 i;

	struct metrics_counts *c = m->c;

	if (pattern == NULL)
		return &c->route[SLOT_UNMATCHED];
	for (i = SLOT_FIRST; i < c->nroutes; i++) {
		if (c->route[i].pattern == pattern ||
		    strcmp(c->route[i].pattern, pattern) == 0)
			return &c->route[i];
	}
	if (c->nroutes == METRICS_ROUTES_MAX)
		return &c->route[SLOT_OTHER];
	c->route[c->nroutes].pattern = pattern;
	return &c->route[c->nroutes++];
}

static size_t
method_index(enum evhttp_cmd_type method)
{
	size_t	 i;

	for (i = 0; i < NMETHODS - 1; i++)
		if (methods[i].method == method)
			return i;
	return NMETHODS - 1;
}

static void
count_status(struct method_counts *mc, int code)
{
	size_t	 i;

	if (code >= 100 && code <= 999) {
		for (i = 0; i < mc->nstatus; i++) {
			if (mc->status[i].code == code) {
				mc->status[i].n++;
				return;
			}
		}
		if (mc->nstatus < METRICS_STATUSES_MAX) {
			mc->status[mc->nstatus].code = code;
			mc->status[mc->nstatus++].n = 1;
			return;
		}
	}
	mc->other++;
}

void
metrics_observe(const struct http_req *r, double duration_ms, void *arg)
{
	struct metrics	*m = arg;
	struct route_stats *rs;
	const char	*pattern = NULL;
	double		 sec = duration_ms / 1000.0;
	size_t		 i;

	if (r->route != NULL) {
		pattern = r->route->pattern;
		/* Answered 404 where it is not served: an unknown path. */
		if (strcmp(pattern, METRICS_PATH) == 0 && !metrics_serves(m, r))
			pattern = NULL;
	}
	if (!(sec >= 0))
		sec = 0;
	counts_lock(m);
	rs = route_slot(m, pattern);
	count_status(&rs->method[method_index(r->method)], r->status);
	rs->total++;
	rs->sum += sec;
	for (i = 0; i < NBUCKETS; i++) {
		if (sec <= buckets[i].le) {
			rs->bucket[i]++;
			break;
		}
	}
	counts_unlock(m);
}

/* This process's own figures. */
static void
local_snapshot(const struct metrics *m, struct metrics_snapshot *s)
{
	const struct front *f = m->front;
	enum purge_kind	 i;

	memset(s, 0, sizeof(*s));
	if (f != NULL && f->hc != NULL) {
		hc_get_stats(f->hc, &s->hasher);
		s->have_hasher = true;
	}
	if (f != NULL && f->db != NULL) {
		db_pool_stats(f->db, &s->db);
		s->have_db = true;
	}
	s->legacy_hashes = -1;
	if (f != NULL) {
		revocations_stats(f->revocations, &s->rev);
		token_cache_stats(f->tokens, &s->tokens);
		user_cache_stats(f->users, &s->users);
		mailer_get_stats(f->mailer, &s->mail);
		s->legacy_hashes = census_legacy_hashes(f->census);
		for (i = 0; i < PURGE_NKINDS; i++)
			s->purged[i] = purger_deleted(f->purger, i);
	}
	s->started = f != NULL && f->started != 0 ? f->started : m->created;
}

/* Adds another front process's figures o to s (the mail outbox and the
 * census are the first process's alone: metrics_snapshot()). */
static void
snapshot_add(struct metrics_snapshot *s, const struct metrics_snapshot *o)
{
	size_t	 i;

	if (o->have_hasher) {
		s->hasher.ready = (s->have_hasher ? s->hasher.ready : true) &&
		    o->hasher.ready;
		s->have_hasher = true;
		s->hasher.queue_hash += o->hasher.queue_hash;
		s->hasher.queue_sign += o->hasher.queue_sign;
		s->hasher.hash_count += o->hasher.hash_count;
		s->hasher.hash_latency_sum += o->hasher.hash_latency_sum;
		s->hasher.sign_count += o->hasher.sign_count;
		s->hasher.sign_latency_sum += o->hasher.sign_latency_sum;
		s->hasher.busy += o->hasher.busy;
		s->hasher.timeouts += o->hasher.timeouts;
		s->hasher.failures += o->hasher.failures;
		s->hasher.restarts += o->hasher.restarts;
	}
	if (o->have_db) {
		s->have_db = true;
		s->db.size += o->db.size;
		s->db.up += o->db.up;
		s->db.in_use += o->db.in_use;
		s->db.waiting += o->db.waiting;
		s->db.queries += o->db.queries;
		s->db.failed += o->db.failed;
		s->db.connect_failures += o->db.connect_failures;
	}
	s->rev.listening = s->rev.listening && o->rev.listening;
	s->rev.entries += o->rev.entries;
	s->rev.notifications += o->rev.notifications;
	s->rev.overflows += o->rev.overflows;
	s->tokens.hits += o->tokens.hits;
	s->tokens.misses += o->tokens.misses;
	s->tokens.entries += o->tokens.entries;
	s->tokens.capacity += o->tokens.capacity;
	s->users.listening = s->users.listening && o->users.listening;
	s->users.hits += o->users.hits;
	s->users.misses += o->users.misses;
	s->users.notifications += o->users.notifications;
	s->users.entries += o->users.entries;
	for (i = 0; i < PURGE_NKINDS; i++)
		s->purged[i] += o->purged[i];
	if (o->started != 0 && o->started < s->started)
		s->started = o->started;
}

void
metrics_snapshot(const struct metrics *m, struct metrics_snapshot *s)
{
	unsigned int i;

	local_snapshot(m, s);
	if (m->shared == NULL)
		return;
	counts_lock(m);
	for (i = 0; i < m->shared->n; i++)
		if (i != m->index && m->shared->has[i])
			snapshot_add(s, &m->shared->published[i]);
	/* The mail worker and the census run in the first process. */
	if (m->index != 0 && m->shared->has[0]) {
		s->mail = m->shared->published[0].mail;
		s->legacy_hashes = m->shared->published[0].legacy_hashes;
	}
	counts_unlock(m);
}

/* ---- rendering ---- */

struct out {
	struct evbuffer	*buf;
	int		 rc;		/* -1 once an append failed */
};

static void out_printf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list	 ap;

	if (o->rc == -1)
		return;
	va_start(ap, fmt);
	if (evbuffer_add_vprintf(o->buf, fmt, ap) == -1)
		o->rc = -1;
	va_end(ap);
}

/* Appends s as the inside of a label value: \ " and newline escaped. */
static void
out_label(struct out *o, const char *s)
{
	size_t	 n;

	while (o->rc == 0 && *s != '\0') {
		n = strcspn(s, "\\\"\n");
		if (n > 0 && evbuffer_add(o->buf, s, n) == -1)
			o->rc = -1;
		s += n;
		if (*s == '\0')
			break;
		out_printf(o, "%s", *s == '\\' ? "\\\\" : *s == '"' ?
		    "\\\"" : "\\n");
		s++;
	}
}

static void
family(struct out *o, const char *name, const char *type, const char *help)
{
	out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
render_requests(struct out *o, const struct metrics *m)
{
	const struct route_stats *rs;
	const struct method_counts *mc;
	size_t	 i, j, k;

	family(o, "warden_http_requests_total", "counter",
	    "HTTP requests answered, by route pattern, method and status.");
	for (i = 0; i < m->c->nroutes; i++) {
		rs = &m->c->route[i];
		for (j = 0; j < NMETHODS; j++) {
			mc = &rs->method[j];
			for (k = 0; k < mc->nstatus + 1; k++) {
				if (k == mc->nstatus && mc->other == 0)
					break;
				out_printf(o, "warden_http_requests_total"
				    "{route=\"");
				out_label(o, rs->pattern);
				out_printf(o, "\",method=\"%s\",status=\"",
				    j < NMETHODS - 1 ? methods[j].name :
				    "other");
				if (k < mc->nstatus)
					out_printf(o, "%d\"} %" PRIu64 "\n",
					    mc->status[k].code,
					    mc->status[k].n);
				else
					out_printf(o, "other\"} %" PRIu64 "\n",
					    mc->other);
			}
		}
	}

	family(o, "warden_http_request_duration_seconds", "histogram",
	    "Time from a request's arrival to its response written, by "
	    "route pattern.");
	for (i = 0; i < m->c->nroutes; i++) {
		uint64_t cum = 0;

		rs = &m->c->route[i];
		if (rs->total == 0)
			continue;
		for (j = 0; j < NBUCKETS + 1; j++) {
			cum += j < NBUCKETS ? rs->bucket[j] : 0;
			out_printf(o, "warden_http_request_duration_seconds"
			    "_bucket{route=\"");
			out_label(o, rs->pattern);
			out_printf(o, "\",le=\"%s\"} %" PRIu64 "\n",
			    j < NBUCKETS ? buckets[j].label : "+Inf",
			    j < NBUCKETS ? cum : rs->total);
		}
		out_printf(o, "warden_http_request_duration_seconds_sum"
		    "{route=\"");
		out_label(o, rs->pattern);
		out_printf(o, "\"} %.9g\n", rs->sum);
		out_printf(o, "warden_http_request_duration_seconds_count"
		    "{route=\"");
		out_label(o, rs->pattern);
		out_printf(o, "\"} %" PRIu64 "\n", rs->total);
	}
}

static void
render_hasher(struct out *o, const struct metrics_snapshot *s)
{
	const struct hc_stats *h = &s->hasher;

	family(o, "warden_hasher_up", "gauge",
	    "1 when the hasher is connected and ready, else 0.");
	out_printf(o, "warden_hasher_up %d\n",
	    s->have_hasher && h->ready ? 1 : 0);
	family(o, "warden_hasher_queue_depth", "gauge",
	    "Hasher requests outstanding: hash (hash and verify) and sign.");
	out_printf(o, "warden_hasher_queue_depth{kind=\"hash\"} %u\n"
	    "warden_hasher_queue_depth{kind=\"sign\"} %u\n",
	    h->queue_hash, h->queue_sign);
	family(o, "warden_hasher_operation_duration_seconds", "summary",
	    "Latency of the hasher's answers: hash (hash and verify) and "
	    "sign.");
	out_printf(o, "warden_hasher_operation_duration_seconds_sum"
	    "{kind=\"hash\"} %.9g\n"
	    "warden_hasher_operation_duration_seconds_count"
	    "{kind=\"hash\"} %" PRIu64 "\n"
	    "warden_hasher_operation_duration_seconds_sum"
	    "{kind=\"sign\"} %.9g\n"
	    "warden_hasher_operation_duration_seconds_count"
	    "{kind=\"sign\"} %" PRIu64 "\n",
	    h->hash_latency_sum, h->hash_count,
	    h->sign_latency_sum, h->sign_count);
	family(o, "warden_hasher_errors_total", "counter",
	    "Hasher requests refused (busy), timed out, or failed when the "
	    "hasher went down.");
	out_printf(o, "warden_hasher_errors_total{reason=\"busy\"} %" PRIu64
	    "\nwarden_hasher_errors_total{reason=\"timeout\"} %" PRIu64
	    "\nwarden_hasher_errors_total{reason=\"down\"} %" PRIu64 "\n",
	    h->busy, h->timeouts, h->failures);
	family(o, "warden_hasher_restarts_total", "counter",
	    "Hasher starts or connections tried.");
	out_printf(o, "warden_hasher_restarts_total %" PRIu64 "\n",
	    h->restarts);
}

static void
render_db(struct out *o, const struct metrics_snapshot *s)
{
	const struct db_stats *d = &s->db;
	unsigned int idle = d->up > d->in_use ? d->up - d->in_use : 0;

	family(o, "warden_db_pool_connections", "gauge",
	    "Database pool connections: up (connected), in_use (running a "
	    "query) and idle.");
	out_printf(o, "warden_db_pool_connections{state=\"up\"} %u\n"
	    "warden_db_pool_connections{state=\"in_use\"} %u\n"
	    "warden_db_pool_connections{state=\"idle\"} %u\n",
	    d->up, d->in_use, idle);
	family(o, "warden_db_pool_size", "gauge",
	    "Database pool connections configured.");
	out_printf(o, "warden_db_pool_size %u\n", d->size);
	family(o, "warden_db_pool_waiting", "gauge",
	    "Database requests queued for a connection.");
	out_printf(o, "warden_db_pool_waiting %zu\n", d->waiting);
	family(o, "warden_db_queries_total", "counter",
	    "Queries sent to the database.");
	out_printf(o, "warden_db_queries_total %" PRIu64 "\n", d->queries);
	family(o, "warden_db_failures_total", "counter",
	    "Database requests answered with no result, and failed or lost "
	    "connections.");
	out_printf(o, "warden_db_failures_total{kind=\"request\"} %" PRIu64
	    "\nwarden_db_failures_total{kind=\"connection\"} %" PRIu64 "\n",
	    d->failed, d->connect_failures);
}

static void
render_revocations(struct out *o, const struct metrics_snapshot *s)
{
	family(o, "warden_revocation_listening", "gauge",
	    "1 while the connection that hears of changed users listens.");
	out_printf(o, "warden_revocation_listening %d\n",
	    s->rev.listening ? 1 : 0);
	family(o, "warden_revocation_users", "gauge",
	    "Changed users that forward-auth checks tokens against.");
	out_printf(o, "warden_revocation_users %zu\n", s->rev.entries);
	family(o, "warden_revocation_overflows_total", "counter",
	    "Changed users the full table could not hold (older tokens were "
	    "refused instead).");
	out_printf(o, "warden_revocation_overflows_total %" PRIu64 "\n",
	    s->rev.overflows);
}

static void
render_token_cache(struct out *o, const struct metrics_snapshot *s)
{
	family(o, "warden_token_cache_lookups_total", "counter",
	    "Access tokens looked up in the verified-token cache, by result "
	    "(a miss verifies the signature).");
	out_printf(o, "warden_token_cache_lookups_total{result=\"hit\"} %"
	    PRIu64 "\n", s->tokens.hits);
	out_printf(o, "warden_token_cache_lookups_total{result=\"miss\"} %"
	    PRIu64 "\n", s->tokens.misses);
	family(o, "warden_token_cache_entries", "gauge",
	    "Verified access tokens the cache holds.");
	out_printf(o, "warden_token_cache_entries %zu\n", s->tokens.entries);
	family(o, "warden_user_cache_lookups_total", "counter",
	    "Callers' rows looked up in the user cache, by result (a miss "
	    "reads the database).");
	out_printf(o, "warden_user_cache_lookups_total{result=\"hit\"} %"
	    PRIu64 "\n", s->users.hits);
	out_printf(o, "warden_user_cache_lookups_total{result=\"miss\"} %"
	    PRIu64 "\n", s->users.misses);
	family(o, "warden_user_cache_entries", "gauge",
	    "Callers' rows the user cache holds.");
	out_printf(o, "warden_user_cache_entries %zu\n", s->users.entries);
	family(o, "warden_user_cache_listening", "gauge",
	    "1 while the connection that hears of changed rows listens (the "
	    "cache answers only then).");
	out_printf(o, "warden_user_cache_listening %d\n",
	    s->users.listening ? 1 : 0);
}

static void
render_mail(struct out *o, const struct metrics_snapshot *s)
{
	const struct mailer_stats *m = &s->mail;

	family(o, "warden_mail_queued", "gauge",
	    "Messages in the outbox, sent or not yet (at the last poll).");
	out_printf(o, "warden_mail_queued %" PRIu64 "\n", m->queued);
	family(o, "warden_mail_oldest_age_seconds", "gauge",
	    "Age of the oldest message in the outbox (at the last poll); 0 "
	    "when it is empty.");
	out_printf(o, "warden_mail_oldest_age_seconds %lld\n",
	    (long long)m->oldest_age);
	family(o, "warden_mail_sent_total", "counter",
	    "Messages the relay accepted (or, with dir:, written).");
	out_printf(o, "warden_mail_sent_total %" PRIu64 "\n", m->sent);
	family(o, "warden_mail_failed_total", "counter",
	    "Attempts to send a message that failed (each is retried).");
	out_printf(o, "warden_mail_failed_total %" PRIu64 "\n", m->failed);
	family(o, "warden_mail_given_up_total", "counter",
	    "Messages given up after mail_max_age (audited as mail_failed).");
	out_printf(o, "warden_mail_given_up_total %" PRIu64 "\n",
	    m->given_up);
}

int
metrics_render(const struct metrics *m, const struct metrics_snapshot *s,
    struct evbuffer *buf)
{
	struct out o = { buf, 0 };
	size_t	 i;

	counts_lock(m);
	render_requests(&o, m);
	render_hasher(&o, s);
	render_db(&o, s);
	render_revocations(&o, s);
	render_token_cache(&o, s);
	render_mail(&o, s);
	family(&o, "warden_logins_total", "counter",
	    "Password logins by outcome.");
	for (i = 0; i < METRICS_LOGIN_NOUTCOMES; i++)
		out_printf(&o, "warden_logins_total{outcome=\"%s\"} %" PRIu64
		    "\n", login_names[i], m->c->logins[i]);
	counts_unlock(m);
	/* Absent until the first count: 0 would claim a finished move. */
	if (s->legacy_hashes >= 0) {
		family(&o, "warden_legacy_password_hashes", "gauge",
		    "Imported password hashes not yet replaced by a sealed "
		    "Argon2id hash (at each user's first login).");
		out_printf(&o, "warden_legacy_password_hashes %lld\n",
		    (long long)s->legacy_hashes);
	}
	family(&o, "warden_purged_rows_total", "counter",
	    "Expired rows deleted by this host's periodic purge, per table.");
	for (i = 0; i < PURGE_NKINDS; i++)
		out_printf(&o, "warden_purged_rows_total{table=\"%s\"} %"
		    PRIu64 "\n", purge_table(i), s->purged[i]);
	family(&o, "process_start_time_seconds", "gauge",
	    "Start time of the process since the Unix epoch, seconds.");
	out_printf(&o, "process_start_time_seconds %lld\n",
	    (long long)s->started);
	return o.rc;
}
