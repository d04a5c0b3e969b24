/*
 * The metrics of wardend, served at GET /metrics in the Prometheus text
 * exposition format (version 0.0.4).
 *
 * Requests are counted by an observer on each HTTP server
 * (http_server_set_observer(), one call per finished request) into tables
 * of fixed size: METRICS_ROUTES_MAX route slots, labelled by the pattern,
 * never the raw path ("unmatched" for unknown paths, 405s and 413s, and
 * "other" for the patterns past the table), each with a counter per method
 * and per exact status code (at most METRICS_STATUSES_MAX codes per route
 * and method, then status="other") and one latency histogram with fixed
 * buckets.  The hasher client's and the database pool's counters, the
 * login outcomes and the start time are read when /metrics is scraped.
 *
 * With cfg.metrics_listen set (or a socket from systemd for it), /metrics
 * is served only on a listener of its own (a second struct http_server
 * whose table holds that one route); the API listener then answers 404 for
 * it and counts it as route="unmatched".  Unset, the API listener serves
 * it.
 *
 * Everything runs on the event loop thread; nothing here is thread-safe.
 * With several front processes the counts live in shared memory under a
 * process-shared lock (metrics_share()).
 */
#ifndef WARDEN_METRICS_H
#define WARDEN_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store/db.h"
#include "hc/hasher_client.h"
#include "http/http.h"
#include "mailer.h"
#include "revocations.h"
#include "store/purge.h"
#include "token_cache.h"
#include "user_cache.h"

struct cfg;
struct event_base;
struct evbuffer;
struct front;
struct metrics;

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define METRICS_PATH		"/metrics"
#define METRICS_ROUTES_MAX	48	/* route slots, see above */
#define METRICS_STATUSES_MAX	16	/* codes per route and method */
#define METRICS_FRONTS_MAX	64	/* front processes (daemon/fronts.h) */

/* The outcomes of a password login (warden_logins_total{outcome}). */
enum metrics_login {
	METRICS_LOGIN_OK = 0,		/* tokens issued */
	METRICS_LOGIN_FAILED,		/* unknown user, wrong password,
					 * disabled or locked account (one
					 * outcome, so that it tells no one
					 * which) */
	METRICS_LOGIN_RATE_LIMITED,	/* refused: too many failures from
					 * the client's address */
	METRICS_LOGIN_NOUTCOMES
};

/* What is read from the other services at scrape time. */
struct metrics_snapshot {
	bool		 have_hasher;	/* false: no hasher client */
	struct hc_stats	 hasher;
	bool		 have_db;	/* false: no database pool yet */
	struct db_stats	 db;
	struct rev_stats rev;		/* zeroed: no revocations */
	struct token_cache_stats tokens; /* zeroed: no token cache */
	struct user_cache_stats users;	/* zeroed: no user cache */
	struct mailer_stats mail;	/* zeroed: no mail worker */
	int64_t		 legacy_hashes;	/* -1: not counted yet */
	uint64_t	 purged[PURGE_NKINDS];	/* rows, per table */
	time_t		 started;	/* wall clock, seconds */
};

/*
 * Creates the metrics of the front f, which must outlive them: f->hc,
 * f->db and f->started are read at each scrape, so they may be set after
 * this call.  Returns NULL when memory runs out.
 */
struct metrics	*metrics_new(struct front *f);

/*
 * Sets the observer of the API server api to these metrics and, when
 * there is a metrics listener, creates the metrics server on base (with
 * cfg's limits, read now) and serves on it: on fd, a listening socket from
 * systemd (the server owns it from now on, also on error), when fd >= 0;
 * else on cfg->metrics_listen ("host:port", "[v6]:port", "unix:/path")
 * when set.  Neither: the API listener serves /metrics.  Call once, before
 * privileges are dropped.  Returns 0, or -1 with a reason in err (nothing
 * then listens; metrics_free() still frees all).
 */
int		 metrics_start(struct metrics *m, struct event_base *base,
		    const struct cfg *cfg, struct http_server *api, int fd,
		    char *err, size_t errlen);

/*
 * Several front processes (daemon/fronts.h): before they fork, moves the counts
 * of m into memory shared by the n processes to come (n < 2: nothing to
 * do); after, each calls metrics_join() with its index and its event
 * base, and publishes its snapshot there every second.  A scrape then
 * answers the counts of all and the sum of their snapshots (its own as of
 * now, the others' as of their last second).  0, or -1 with errno set.
 */
int		 metrics_share(struct metrics *m, unsigned int n);
int		 metrics_join(struct metrics *m, unsigned int index,
		    struct event_base *base);

/* Stops accepting on the metrics listener, if any (shutdown: drain). */
void		 metrics_stop_listening(struct metrics *m);

/*
 * Frees the metrics server, if any, and m.  Free the API server first: its
 * observer still runs while its connections close.  NULL is fine.
 */
void		 metrics_free(struct metrics *m);

/* The http_observe_fn of every server that counts into m (arg is m). */
void		 metrics_observe(const struct http_req *r,
		    double duration_ms, void *arg);

/* Counts one login outcome.  m may be NULL (nothing is counted). */
void		 metrics_login(struct metrics *m,
		    enum metrics_login outcome);

/* True when r, a request for /metrics, may be answered with the metrics:
 * it came to the metrics listener, or there is none. */
bool		 metrics_serves(const struct metrics *m,
		    const struct http_req *r);

/* Fills *s from the front's hasher client and database pool. */
void		 metrics_snapshot(const struct metrics *m,
		    struct metrics_snapshot *s);

/*
 * Appends the whole exposition of m and s to out: HELP and TYPE lines for
 * every family, then its samples.  Returns 0, or -1 when memory ran out
 * (out then holds a partial text: discard it).
 */
int		 metrics_render(const struct metrics *m,
		    const struct metrics_snapshot *s, struct evbuffer *out);

#endif
