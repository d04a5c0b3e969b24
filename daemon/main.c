/*
 * wardend: the network-facing front of warden.
 *
 *	wardend [-t] [-f config]
 *
 * Start-up (DESIGN.md): configuration, the hasher (fork+exec), listeners,
 * migrations, the database pool, then the drop to the unprivileged user and
 * the event loop.  Everything after start-up runs on the loop and never
 * blocks on PostgreSQL or the hasher.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "auth.h"
#include "blocklist.h"
#include "config.h"
#include "db.h"
#include "front.h"
#include "handlers.h"
#include "hasher_client.h"
#include "http.h"
#include "log.h"
#include "migrate.h"
#include "ratelimit.h"
#include "spawner.h"

#define DRAIN_POLL_MS	50

struct daemon {
	struct event_base	*base;
	struct http_server	*http;
	struct front		 front;
	struct spawner		*spawner;	/* root start-up, spawn mode */
	struct event		*drain_timer;
	struct timespec		 drain_start;
	int64_t			 drain_limit;	/* seconds */
	bool			 stopping;
};

static void
usage(void)
{
	fprintf(stderr, "usage: wardend [-t] [-f config]\n");
	exit(2);
}

static void
load_config(struct cfg *cfg, const char *path, bool explicit)
{
	char	 err[512];

	/* The default file may be absent: the environment then configures. */
	if (!explicit && access(path, F_OK) == -1 && errno == ENOENT)
		path = NULL;
	cfg_defaults(cfg);
	if (cfg_load(cfg, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "wardend: %s\n", err);
		exit(1);
	}
}

static void
run_migrations(const char *url)
{
	PGconn	*conn;
	char	 err[512];

	conn = PQconnectdb(url);
	if (PQstatus(conn) != CONNECTION_OK) {
		/* libpq's message names the server, never the password. */
		fatal("database: %s", PQerrorMessage(conn));
	}
	if (migrate_run(conn, err, sizeof(err)) == -1)
		fatal("migrations: %s", err);
	PQfinish(conn);
}

static void
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	if ((pw = getpwnam(user)) == NULL)
		fatal("user \"%s\" does not exist", user);
	if (pw->pw_uid == 0)
		fatal("refusing to run as root: set \"user\"");
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("dropping to user %s: %s", user, strerror(errno));
	if (setuid(0) != -1)
		fatal("could regain root after dropping privileges");
	log_info("running as user %s", user);
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	    (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
drain_check(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	size_t	 left = http_server_inflight(d->http);
	struct timeval tv = { 0, DRAIN_POLL_MS * 1000 };

	if (left == 0) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	if (seconds_since(&d->drain_start) >= (double)d->drain_limit) {
		log_warn("shutdown: %zu requests still in flight after %llds",
		    left, (long long)d->drain_limit);
		event_base_loopexit(d->base, NULL);
		return;
	}
	evtimer_add(d->drain_timer, &tv);
}

static void
on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	if (d->stopping)
		return;
	d->stopping = true;
	log_info("signal %d: no new connections; draining for at most %llds",
	    (int)sig, (long long)d->drain_limit);
	http_server_stop_listening(d->http);
	clock_gettime(CLOCK_MONOTONIC, &d->drain_start);
	d->drain_timer = evtimer_new(d->base, drain_check, d);
	if (d->drain_timer == NULL)
		event_base_loopexit(d->base, NULL);
	else
		drain_check(-1, 0, d);
}

int
main(int argc, char *argv[])
{
	struct daemon d;
	struct cfg cfg;
	struct hc_params hp;
	struct event *sigterm, *sigint;
	const char *config_path = WARDEN_CONFIG_PATH, *hasher_config;
	bool	 explicit = false, test_only = false;
	char	 err[512];
	int	 ch;

	while ((ch = getopt(argc, argv, "f:t")) != -1) {
		switch (ch) {
		case 'f':
			config_path = optarg;
			explicit = true;
			break;
		case 't':
			test_only = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	load_config(&cfg, config_path, explicit);
	log_init("wardend", cfg.log_level, cfg.log_format == CFG_LOG_JSON);
	memset(&d, 0, sizeof(d));
	d.front.cfg = &cfg;
	if ((d.front.blocklist = blocklist_load(cfg.password_blocklist, err,
	    sizeof(err))) == NULL)
		fatal("password_blocklist: %s", err);
	if (test_only) {
		printf("configuration OK\n");
		cfg_dump(&cfg, stdout);
		blocklist_free(d.front.blocklist);
		cfg_free(&cfg);
		return 0;
	}
	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	signal(SIGPIPE, SIG_IGN);
	hasher_config = explicit || access(config_path, F_OK) == 0 ?
	    config_path : NULL;
	/* Before anything else is open: the helper keeps only its socket. */
	if (geteuid() == 0 && cfg.hasher_socket[0] == '\0' &&
	    (d.spawner = spawner_start(cfg.hasher_path, hasher_config)) == NULL)
		fatal("cannot start the hasher spawner: %s", strerror(errno));

	if ((d.base = event_base_new()) == NULL)
		fatal("event_base_new failed");
	d.front.started = time(NULL);
	d.drain_limit = cfg.shutdown_timeout;
	d.front.addr_limit = rl_new(cfg.addr_login_limit, cfg.addr_login_window,
	    RL_DEFAULT_ENTRIES);
	if (d.front.addr_limit == NULL)
		fatal("out of memory");

	if (hc_params_from_cfg(&hp, &cfg, hasher_config, err, sizeof(err)) == -1)
		fatal("hasher: %s", err);
	hp.reap_sigchld = true;
	if (d.spawner != NULL) {
		hp.spawn = spawner_spawn;
		hp.spawn_arg = d.spawner;
	}
	if ((d.front.hc = hc_new(d.base, &hp)) == NULL ||
	    hc_start(d.front.hc) == -1)
		fatal("cannot start the hasher client");

	if ((d.http = http_server_new(d.base, &cfg, handlers_routes,
	    handlers_nroutes, err, sizeof(err))) == NULL)
		fatal("http: %s", err);
	http_server_set_dispatch(d.http, auth_dispatch, &d.front);
	if (http_listen_all(d.http, &cfg, err, sizeof(err)) == -1)
		fatal("listen: %s", err);

	run_migrations(cfg.database_url);
	drop_privileges(cfg.user);
	if ((d.front.db = db_pool_new(d.base, cfg.database_url,
	    cfg.database_pool)) == NULL)
		fatal("cannot create the database pool");

	sigterm = evsignal_new(d.base, SIGTERM, on_stop_signal, &d);
	sigint = evsignal_new(d.base, SIGINT, on_stop_signal, &d);
	if (sigterm == NULL || sigint == NULL ||
	    evsignal_add(sigterm, NULL) == -1 || evsignal_add(sigint, NULL) == -1)
		fatal("cannot watch signals");

	log_info("serving");
	event_base_dispatch(d.base);

	log_info("stopped");
	http_server_free(d.http);
	hc_free(d.front.hc);
	spawner_stop(d.spawner);
	db_pool_free(d.front.db);
	if (d.drain_timer != NULL)
		event_free(d.drain_timer);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(d.base);
	rl_free(d.front.addr_limit);
	blocklist_free(d.front.blocklist);
	cfg_free(&cfg);
	return 0;
}
