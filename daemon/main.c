/*
 * wardend: the network-facing front of warden.
 *
 *	wardend [-t] [-f config]
 *
 * Start-up (DESIGN.md): sockets from systemd (taken before anything else
 * opens a descriptor or forks), configuration, listeners, the other front
 * processes (front_processes, fronts.h), then in each: the hasher
 * (fork+exec), migrations, the database pool, the drop to the
 * unprivileged user and the event loop.  Everything after start-up runs on
 * the loop and never blocks on PostgreSQL or the hasher.
 *
 * Signals: SIGTERM and SIGINT stop listening and drain the requests in
 * flight for at most shutdown_timeout, then exit 0.  SIGHUP reloads what
 * can change without a restart (see reload()).  Under systemd each step is
 * told on $NOTIFY_SOCKET (sdnotify.h), and the watchdog is fed from a
 * timer on the loop, so a wedged loop is noticed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "api/auth.h"
#include "api/blocklist.h"
#include "clock.h"
#include "config.h"
#include "store/db.h"
#include "api/front.h"
#include "api/handlers.h"
#include "hc/hasher_client.h"
#include "http/http.h"
#include "http/listenfds.h"
#include "log.h"
#include "api/census.h"
#include "api/purger.h"
#include "api/mailer.h"
#include "ui/portal.h"
#include "ui/problem_page.h"
#include "ui/ui_handlers.h"
#include "mail/transport.h"
#include "api/metrics.h"
#include "store/migrate.h"
#include "api/ratelimit.h"
#include "api/revocations.h"
#include "api/session_cache.h"
#include "api/token_cache.h"
#include "api/user_cache.h"
#include "api/upstreams.h"
#include "fronts.h"
#include "sdnotify.h"
#include "hc/spawner.h"
#include "stdfds.h"
#include "util.h"

#define DRAIN_POLL_MS	50

struct daemon {
	struct event_base	*base;
	struct http_server	*http;
	struct front		 front;
	struct spawner		*spawner;	/* root start-up, spawn mode */
	struct fronts		*fronts;	/* front_processes (fronts.h) */
	unsigned int		 index;		/* this front's: 0 is the first */
	bool			 lost_front;	/* another front ended unasked */
	struct event		*drain_timer;
	struct timespec		 drain_start;
	int64_t			 drain_limit;	/* seconds */
	bool			 stopping;

	const char		*config_file;	/* NULL: environment only */
	struct cfg		*cfg0;		/* start-up's: hc_params point
						 * into it, so it lives on */
	struct cfg		*cfg;		/* the current one (front.cfg) */
	struct sdnotify		 notify;
	uint64_t		 watchdog_usec;	/* 0: no watchdog */
	struct event		*watchdog;
	struct timeval		 watchdog_tv;
	struct event		*sigterm, *sigint, *sighup;
	struct route		*routes;	/* the API's and the portal's */
};

/* What the command line asks. */
struct args {
	const char		*config_path;
	bool			 explicit;	/* -f given */
	bool			 test_only;	/* -t */
};

static void
usage(void)
{
	fprintf(stderr, "usage: wardend [-t] [-f config]\n");
	exit(2);
}

/* The file to read: the default one may be absent (the environment then
 * configures); an explicit one must exist. */
static const char *
config_file(const char *path, bool explicit)
{
	if (!explicit && access(path, F_OK) == -1 && errno == ENOENT)
		return NULL;
	return path;
}

/* A fresh cfg loaded from path, or NULL with the reason in err. */
static struct cfg *
load_config(const char *path, char *err, size_t errlen)
{
	struct cfg *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		str_copy(err, "out of memory", errlen);
		return NULL;
	}
	cfg_defaults(c);
	if (cfg_load(c, path, err, errlen) == -1) {
		cfg_free(c);
		free(c);
		return NULL;
	}
	return c;
}

static void
free_config(struct cfg *c)
{
	if (c == NULL)
		return;
	cfg_free(c);
	free(c);
}

static void
run_migrations(const char *url)
{
	PGconn	*conn;
	char	 err[512];

	/* A bound on connecting, unless the URL sets one: a first host of a
	 * multi-host URL that went silent is passed over after it (the
	 * pool's own connections bound theirs: store/pg_target.h). */
	conn = PQconnectdbParams((const char *const []){ "connect_timeout",
	    "dbname", NULL }, (const char *const []){ "5", url, NULL }, 1);
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
	if (clock_ms_since(&d->drain_start) >= (double)d->drain_limit * 1e3) {
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
	fronts_stop(d->fronts);
	log_info("signal %d: no new connections; draining for at most %llds",
	    (int)sig, (long long)d->drain_limit);
	http_server_stop_listening(d->http);
	metrics_stop_listening(d->front.metrics);
	mailer_quiesce(d->front.mailer);
	if (sdnotify_send(&d->notify, "STOPPING=1\nSTATUS=draining %zu "
	    "requests", http_server_inflight(d->http)) == -1)
		log_warn("NOTIFY_SOCKET: %s", strerror(errno));
	clock_now(&d->drain_start);
	d->drain_timer = evtimer_new(d->base, drain_check, d);
	if (d->drain_timer == NULL)
		event_base_loopexit(d->base, NULL);
	else
		drain_check(-1, 0, d);
}

/* Sends a state line; a lost notification is logged, never fatal. */
static void
notify(struct daemon *d, const char *state)
{
	if (sdnotify_send(&d->notify, "%s", state) == -1)
		log_warn("NOTIFY_SOCKET: %s", strerror(errno));
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	notify(d, "WATCHDOG=1");
}

static bool
str_differs(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") != 0;
}

static bool
list_differs(const struct cfg_list *a, const struct cfg_list *b)
{
	size_t	 i;

	if (a->n != b->n)
		return true;
	for (i = 0; i < a->n; i++)
		if (str_differs(a->v[i], b->v[i]))
			return true;
	return false;
}

/* Logs each keyword that only a restart applies when the new file
 * changes it: those keep their start-up value. */
static void
log_ignored(const struct cfg *run, const struct cfg *nc)
{
#define IGNORED(cond, kw) do {						\
	if (cond)							\
		log_warn("reload: %s changed: it takes effect only on "	\
		    "a restart", kw);					\
} while (0)
	IGNORED(list_differs(&run->listen, &nc->listen), "listen");
	IGNORED(run->listen_mode != nc->listen_mode, "listen_mode");
	IGNORED(str_differs(run->listen_group, nc->listen_group),
	    "listen_group");
	IGNORED(str_differs(run->metrics_listen, nc->metrics_listen),
	    "metrics_listen");
	IGNORED(str_differs(run->user, nc->user), "user");
	IGNORED(str_differs(run->database_url, nc->database_url),
	    "database_url");
	IGNORED(run->database_pool != nc->database_pool, "database_pool");
	IGNORED(str_differs(run->hasher_path, nc->hasher_path), "hasher_path");
	IGNORED(str_differs(run->hasher_socket, nc->hasher_socket),
	    "hasher_socket");
	IGNORED(run->hasher_queue != nc->hasher_queue, "hasher_queue");
	IGNORED(run->hasher_timeout != nc->hasher_timeout, "hasher_timeout");
	IGNORED(str_differs(run->mail_transport, nc->mail_transport),
	    "mail_transport");
	IGNORED(run->smtp_starttls != nc->smtp_starttls, "smtp_starttls");
	IGNORED(str_differs(run->smtp_user, nc->smtp_user), "smtp_user");
	IGNORED(str_differs(run->smtp_password_file, nc->smtp_password_file),
	    "smtp_password_file");
	IGNORED(str_differs(run->mail_from, nc->mail_from), "mail_from");
	IGNORED(run->mail_max_age != nc->mail_max_age, "mail_max_age");
#undef IGNORED
}

/*
 * SIGHUP.  Everything that can fail comes first (the file, the blocklist,
 * the HTTP limits); any failure keeps the running configuration whole.
 * Then: log level and format, the address login limits, the blocklist and
 * the configuration that handlers read through front.cfg (they read it
 * within one event callback, never across one, so swapping it here between
 * callbacks is safe), and finally the keys: a spawned hasher reads its key
 * files only when it starts, so it is restarted; a split-mode hasher is
 * its own service (restart it to rotate) and is asked for its keys again.
 */
static void
reload(struct daemon *d)
{
	struct cfg *nc, *old;
	struct blocklist *bl;
	struct portal *np;
	char	 err[512];

	if ((nc = load_config(d->config_file, err, sizeof(err))) == NULL) {
		log_error("reload: %s; keeping the running configuration", err);
		return;
	}
	if ((bl = blocklist_load(nc->password_blocklist, err,
	    sizeof(err))) == NULL) {
		log_error("reload: password_blocklist: %s; keeping the running "
		    "configuration", err);
		free_config(nc);
		return;
	}
	if (http_server_set_limits(d->http, nc, err, sizeof(err)) == -1) {
		log_error("reload: %s; keeping the running configuration", err);
		blocklist_free(bl);
		free_config(nc);
		return;
	}
	/* The templates; the rest of mail's settings need a restart. */
	if (mailer_reload(d->front.mailer, nc, err, sizeof(err)) == -1)
		log_error("reload: %s; keeping the running templates", err);
	if ((np = portal_load(nc->ui_dir, err, sizeof(err))) == NULL)
		log_error("reload: ui_dir: %s; keeping the running pages",
		    err);
	else {
		portal_free(d->front.portal);
		d->front.portal = np;
	}
	log_set_level(nc->log_level);
	log_set_json(nc->log_format == CFG_LOG_JSON);
	log_ignored(d->cfg, nc);
	rl_configure(d->front.addr_limit, nc->addr_login_limit,
	    nc->addr_login_window);
	rl_configure(d->front.register_limit, nc->addr_register_limit,
	    nc->addr_register_window);
	rl_configure(d->front.email_limit, nc->email_change_limit,
	    nc->email_change_window);
	rl_configure(d->front.forgot_limit, nc->addr_reset_limit, 3600);
	blocklist_free(d->front.blocklist);
	d->front.blocklist = bl;
	old = d->cfg;
	d->cfg = nc;
	d->front.cfg = nc;
	d->drain_limit = nc->shutdown_timeout;
	purger_configure(d->front.purger, nc->purge_interval,
	    nc->audit_retention);
	if (old != d->cfg0)
		free_config(old);

	if (d->cfg0->hasher_socket[0] == '\0') {
		if (hc_restart(d->front.hc) == -1)
			log_error("reload: cannot restart the hasher");
	} else if (hc_refresh_pubkeys(d->front.hc) == -1)
		log_warn("reload: the hasher is not ready; its keys are "
		    "fetched when it is");
	log_info("reload: configuration reloaded");
}

static void
on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	if (d->stopping)
		return;
	log_info("signal %d: reloading %s", (int)sig,
	    d->config_file != NULL ? d->config_file : "the environment");
	fronts_signal(d->fronts, SIGHUP);
	if (sdnotify_reloading(&d->notify, "reloading") == -1)
		log_warn("NOTIFY_SOCKET: %s", strerror(errno));
	reload(d);
	notify(d, "READY=1\nSTATUS=serving");
}

/* Takes the sockets systemd passed, or fails at once. */
static void
take_listen_fds(struct listenfds *lf)
{
	char	 err[512];

	if (listenfds_take(lf, err, sizeof(err)) == -1) {
		fprintf(stderr, "wardend: %s\n", err);
		exit(1);
	}
}

/* $NOTIFY_SOCKET and the watchdog interval; the variables are unset so
 * that no child (the spawner, a hasher) speaks for us. */
static void
setup_notify(struct daemon *d, uint64_t *wd_usec)
{
	char	 err[512];
	int	 rc;

	if (sdnotify_open(&d->notify, getenv("NOTIFY_SOCKET"), err,
	    sizeof(err)) == -1)
		fatal("%s", err);
	rc = sdnotify_watchdog(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"),
	    getpid(), wd_usec, err, sizeof(err));
	if (rc == -1)
		fatal("%s", err);
	if (rc == 0)
		*wd_usec = 0;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

/* Serves on the sockets from systemd instead of cfg.listen. */
static void
listen_activated(struct daemon *d, const struct listenfds *lf, int *metrics_fd)
{
	char	 err[512];
	size_t	 i;

	*metrics_fd = -1;

	if (d->cfg->listen.n > 0)
		log_info("listen: ignored, serving the %zu sockets from "
		    "systemd", lf->n);
	for (i = 0; i < lf->n; i++) {
		/* The socket named "metrics" serves /metrics alone. */
		if (strcmp(lf->names[i], "metrics") == 0) {
			*metrics_fd = listenfds_fd(lf, i);
			continue;
		}
		if (http_listen_fd(d->http, listenfds_fd(lf, i), err,
		    sizeof(err)) == -1)
			fatal("listen: socket %zu (%s) from systemd: %s", i,
			    lf->names[i][0] != '\0' ? lf->names[i] :
			    "unnamed", err);
		log_info("listening on socket %zu (%s) from systemd", i,
		    lf->names[i][0] != '\0' ? lf->names[i] : "unnamed");
	}
}

/* ---- the steps of main(), in order ---- */

/* wardend [-t] [-f config] */
static void
parse_args(int argc, char *argv[], struct args *a)
{
	int	 ch;

	a->config_path = WARDEN_CONFIG_PATH;
	a->explicit = false;
	a->test_only = false;
	while ((ch = getopt(argc, argv, "f:t")) != -1) {
		switch (ch) {
		case 'f':
			a->config_path = optarg;
			a->explicit = true;
			break;
		case 't':
			a->test_only = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

/* The file and the environment, the log, and the password blocklist;
 * any error ends start-up. */
static void
load_configuration(struct daemon *d, const struct args *a)
{
	char	 err[512];

	d->config_file = config_file(a->config_path, a->explicit);
	if ((d->cfg0 = load_config(d->config_file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "wardend: %s\n", err);
		exit(1);
	}
	d->cfg = d->cfg0;
	log_init("wardend", d->cfg->log_level,
	    d->cfg->log_format == CFG_LOG_JSON);
	d->front.cfg = d->cfg;
	if ((d->front.blocklist = blocklist_load(d->cfg->password_blocklist,
	    err, sizeof(err))) == NULL)
		fatal("password_blocklist: %s", err);
}

/* Says when the accounts' flows need mail that cannot go out. */
static bool
mail_needed_but_off(const struct cfg *c)
{
	return c->email_verification != CFG_EMAIL_VERIFICATION_OFF &&
	    !mail_transport_enabled(c->mail_transport);
}

/* -t: the configuration is good; print it and stop. */
static int
check_only(struct daemon *d)
{
	struct providers ps;
	char	 err[512];

	if (mailer_check(d->cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "wardend: %s\n", err);
		blocklist_free(d->front.blocklist);
		free_config(d->cfg0);
		return 1;
	}
	if (mail_needed_but_off(d->cfg))
		fprintf(stderr, "wardend: warning: email_verification is not "
		    "off but mail_transport is: verification and reset mail "
		    "cannot be sent (those requests answer 503)\n");
	/* The secrets go to sodium_malloc'd memory: libsodium first. */
	if (sodium_init() < 0 || providers_load(d->cfg->providers_dir, &ps,
	    err, sizeof(err)) == -1) {
		fprintf(stderr, "wardend: providers_dir: %s\n", err);
		blocklist_free(d->front.blocklist);
		free_config(d->cfg0);
		return 1;
	}
	printf("configuration OK (%zu sign-in provider%s)\n", ps.n,
	    ps.n == 1 ? "" : "s");
	providers_free(&ps);
	cfg_dump(d->cfg, stdout);
	blocklist_free(d->front.blocklist);
	free_config(d->cfg0);
	return 0;
}

/* libsodium, SIGPIPE and systemd's notification socket. */
static void
prepare_process(struct daemon *d)
{
	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	signal(SIGPIPE, SIG_IGN);
	setup_notify(d, &d->watchdog_usec);
}

/* A front that ended unasked (fronts.h): all stop, and the first exits
 * with an error. */
static void
on_lost_front(void *arg)
{
	struct daemon *d = arg;

	d->lost_front = true;
	on_stop_signal(SIGTERM, EV_SIGNAL, d);
}

/*
 * Each front spawns a hasher of its own (unless hasher_socket names a
 * shared one): with hasher_workers 0, one per CPU, they would hash on n
 * times as many threads, and hold n times the Argon2id memory, as one
 * hasher.  Each gets its share instead, through the environment that the
 * hashers read their configuration from (WARDEN_HASHER_WORKERS).
 */
static void
split_hasher_workers(struct daemon *d, unsigned int n)
{
	char	 v[16];
	unsigned int share = fronts_wanted(0) / n;

	if (n < 2 || d->cfg->hasher_socket[0] != '\0' ||
	    d->cfg->hasher_workers != 0)
		return;
	str_printf(v, sizeof(v), "%u", share > 0 ? share : 1);
	if (setenv("WARDEN_HASHER_WORKERS", v, 1) == -1)
		fatal("front_processes: setenv: %s", strerror(errno));
	log_info("front_processes: %s hasher workers per front", v);
}

/*
 * front_processes: the other fronts, forked once the listeners are bound
 * and before any connection or thread is opened.  Each opens TCP
 * listeners of its own on the same addresses (SO_REUSEPORT: the kernel
 * shares the connections out evenly); sockets from systemd and unix:
 * sockets are shared.  Each has its own loop from here on; the counts of /metrics
 * are shared.  Only the first talks to systemd.
 */
static void
fork_fronts(struct daemon *d)
{
	unsigned int n = fronts_wanted(d->cfg->front_processes);
	char	 err[512];

	_Static_assert(FRONTS_MAX <= METRICS_FRONTS_MAX,
	    "metrics must hold every front");
	if (n > 1 && metrics_share(d->front.metrics, n) == -1)
		fatal("front_processes: shared counters: %s", strerror(errno));
	split_hasher_workers(d, n);
	if ((d->fronts = fronts_fork(n, &d->index)) == NULL)
		fatal("front_processes: fork: %s", strerror(errno));
	if (d->index > 0) {
		if (event_reinit(d->base) == -1)
			fatal("front %u: event_reinit failed", d->index);
		if (http_reopen_own(d->http, err, sizeof(err)) == -1)
			fatal("front %u: %s", d->index, err);
		sdnotify_close(&d->notify);
		d->watchdog_usec = 0;
		log_info("front %u of %u", d->index + 1, n);
	} else if (n > 1)
		log_info("front 1 of %u", n);
	if (metrics_join(d->front.metrics, d->index, d->base) == -1 ||
	    fronts_watch(d->fronts, d->base, on_lost_front, d) == -1)
		fatal("front_processes: %s", strerror(errno));
}

/* As root in spawn mode, the spawner: forked before the hasher, the pool
 * or anything else is open, so that the helper keeps only its socket
 * (each front has its own). */
static void
start_spawner(struct daemon *d)
{
	if (geteuid() == 0 && d->cfg->hasher_socket[0] == '\0' &&
	    (d->spawner = spawner_start(d->cfg->hasher_path,
	    d->config_file)) == NULL)
		fatal("cannot start the hasher spawner: %s", strerror(errno));
}

/* The event loop and the front's own state: metrics, the drain limit,
 * the per-address login limits and the per-account count. */
static void
make_front(struct daemon *d)
{
	struct event_config *ec;

	/* epoll's change list: a connection's read and write interest, which
	 * evhttp turns off and on again for every request, costs one
	 * epoll_ctl() per loop pass at most, not one per change. */
	if ((ec = event_config_new()) == NULL ||
	    event_config_set_flag(ec,
	    EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) == -1 ||
	    (d->base = event_base_new_with_config(ec)) == NULL)
		fatal("event_base_new failed");
	event_config_free(ec);
	d->front.started = time(NULL);
	if ((d->front.metrics = metrics_new(&d->front)) == NULL)
		fatal("out of memory");
	d->drain_limit = d->cfg->shutdown_timeout;
	d->front.addr_limit = rl_new(d->cfg->addr_login_limit,
	    d->cfg->addr_login_window, RL_DEFAULT_ENTRIES);
	d->front.register_limit = rl_new(d->cfg->addr_register_limit,
	    d->cfg->addr_register_window, RL_DEFAULT_ENTRIES);
	d->front.email_limit = rl_new(d->cfg->email_change_limit,
	    d->cfg->email_change_window, RL_DEFAULT_ENTRIES);
	d->front.forgot_limit = rl_new(d->cfg->addr_reset_limit, 3600,
	    RL_DEFAULT_ENTRIES);
	/* Counts, not limits: the window only expires what a bug left. */
	d->front.account_inflight = rl_new(UINT_MAX, 3600, RL_DEFAULT_ENTRIES);
	if (d->front.addr_limit == NULL || d->front.register_limit == NULL ||
	    d->front.email_limit == NULL || d->front.forgot_limit == NULL ||
	    d->front.account_inflight == NULL)
		fatal("out of memory");
}

/* Outgoing mail: the transport, the templates and the SMTP password,
 * read before privileges are dropped; it runs once the pool is open. */
static void
make_mailer(struct daemon *d)
{
	char	 err[512];

	if ((d->front.mailer = mailer_new(d->base, d->cfg0, err,
	    sizeof(err))) == NULL)
		fatal("mail: %s", err);
	if (mail_needed_but_off(d->cfg0))
		log_warn("mail_transport is off: verification and reset mail "
		    "cannot be sent (those requests answer 503)");
}

/* The hasher client, and the hasher: spawned (through the spawner when
 * root) or, in split mode, connected to. */
static void
start_hasher(struct daemon *d)
{
	struct hc_params hp;
	char	 err[512];

	if (hc_params_from_cfg(&hp, d->cfg0, d->config_file, err,
	    sizeof(err)) == -1)
		fatal("hasher: %s", err);
	hp.reap_sigchld = true;
	if (d->spawner != NULL) {
		hp.spawn = spawner_spawn;
		hp.spawn_arg = d->spawner;
	}
	if ((d->front.hc = hc_new(d->base, &hp)) == NULL ||
	    hc_start(d->front.hc) == -1)
		fatal("cannot start the hasher client");
}

/* The login portal's templates and stylesheet, read before privileges are
 * dropped (ui_dir may be root's to read, as /etc/warden is). */
static void
load_portal(struct daemon *d)
{
	char	 err[512];

	if ((d->front.portal = portal_load(d->cfg->ui_dir, err,
	    sizeof(err))) == NULL)
		fatal("ui_dir: %s", err);
}

/* The upstream identity providers of social login: their files and
 * secrets, read before privileges are dropped. */
static void
load_upstreams(struct daemon *d)
{
	struct providers ps;
	char	 err[512];

	if (providers_load(d->cfg0->providers_dir, &ps, err,
	    sizeof(err)) == -1)
		fatal("providers_dir: %s", err);
	if ((d->front.upstreams = upstreams_new(d->base, &ps,
	    d->front.hc)) == NULL) {
		providers_free(&ps);
		fatal("out of memory");
	}
	if (upstreams_count(d->front.upstreams) > 0)
		log_info("sign-in providers: %zu",
		    upstreams_count(d->front.upstreams));
}

/* The HTTP server on cfg.listen or on the sockets from systemd, and the
 * metrics listener. */
static void
open_listeners(struct daemon *d, const struct listenfds *lf)
{
	int	 metrics_fd = -1;
	char	 err[512];

	/* One table of the API's routes and the portal's, which the server
	 * keeps: it lives as long as the daemon. */
	if ((d->routes = calloc(handlers_nroutes + ui_nroutes,
	    sizeof(*d->routes))) == NULL)
		fatal("out of memory");
	memcpy(d->routes, handlers_routes, handlers_nroutes *
	    sizeof(*d->routes));
	memcpy(d->routes + handlers_nroutes, ui_routes, ui_nroutes *
	    sizeof(*d->routes));
	if ((d->http = http_server_new(d->base, d->cfg, d->routes,
	    handlers_nroutes + ui_nroutes, err, sizeof(err))) == NULL)
		fatal("http: %s", err);
	http_server_set_dispatch(d->http, auth_dispatch, &d->front);
	/* People on the portal's pages get a page whatever fails. */
	http_server_set_problem_pages(d->http, "/ui/", problem_page,
	    &d->front);
	http_server_set_cors_routes(d->http, handlers_cors_patterns,
	    handlers_ncors_patterns);
	/* Several fronts: each will have TCP listeners of its own. */
	http_server_set_reuse_port(d->http,
	    fronts_wanted(d->cfg->front_processes) > 1);
	if (lf->n > 0)
		listen_activated(d, lf, &metrics_fd);
	else if (http_listen_all(d->http, d->cfg, err, sizeof(err)) == -1)
		fatal("listen: %s", err);
	if (metrics_start(d->front.metrics, d->base, d->cfg, d->http,
	    metrics_fd, err, sizeof(err)) == -1)
		fatal("metrics: %s", err);
}

/* Pending migrations (still with the start-up user's rights), the drop
 * to cfg.user, then the database pool. */
static void
open_pool(struct daemon *d)
{
	unsigned int n = fronts_count(d->fronts);

	run_migrations(d->cfg->database_url);
	drop_privileges(d->cfg->user);
	/* Each front its share of database_pool, rounded up. */
	if ((d->front.db = db_pool_new(d->base, d->cfg->database_url,
	    (d->cfg->database_pool + n - 1) / n,
	    d->cfg->request_timeout)) == NULL)
		fatal("cannot create the database pool");
}

/* Forward-auth: revocations, a LISTEN connection of their own with look-ups
 * through the pool (api/revocations.h), the memory of session cookies
 * (api/session_cache.h), of access tokens verified before
 * (api/token_cache.h); and the bearer routes' memory of their callers
 * (api/user_cache.h), with its LISTEN connection. */
static void
listen_revocations(struct daemon *d)
{
	if ((d->front.revocations = revocations_new(d->base, &d->front,
	    d->cfg->database_url, REV_DEFAULT_MAX)) == NULL)
		fatal("cannot start listening for revocations");
	if ((d->front.sessions = session_cache_new(SESSION_CACHE_MAX)) == NULL)
		fatal("cannot allocate the session cache");
	if ((d->front.tokens = token_cache_new(TOKEN_CACHE_ENTRIES)) == NULL)
		fatal("cannot allocate the token cache");
	if ((d->front.users = user_cache_new(USER_CACHE_ENTRIES)) == NULL ||
	    user_cache_listen(d->front.users, d->base,
	    d->cfg->database_url) == -1)
		fatal("cannot start the user cache");
}

/* The mail worker on the pool, with a LISTEN connection of its own. */
static void
start_mail(struct daemon *d)
{
	if (mailer_start(d->front.mailer, d->front.db,
	    d->cfg->database_url) == -1)
		fatal("cannot start the mail worker");
}

/* The counts of /metrics that only the database knows (api/census.h). */
static void
start_census(struct daemon *d)
{
	if ((d->front.census = census_new(d->base)) == NULL ||
	    census_start(d->front.census, d->front.db) == -1)
		fatal("cannot start the census of legacy hashes");
}

/* The periodic purge of expired rows (api/purger.h). */
static void
start_purger(struct daemon *d)
{
	if ((d->front.purger = purger_new(d->base)) == NULL ||
	    purger_start(d->front.purger, d->front.db, d->cfg->purge_interval,
	    d->cfg->audit_retention) == -1)
		fatal("cannot start the purge of expired rows");
}

/* SIGTERM, SIGINT and SIGHUP on the loop, and the watchdog's timer. */
static void
watch_signals(struct daemon *d)
{
	d->sigterm = evsignal_new(d->base, SIGTERM, on_stop_signal, d);
	d->sigint = evsignal_new(d->base, SIGINT, on_stop_signal, d);
	d->sighup = evsignal_new(d->base, SIGHUP, on_reload_signal, d);
	if (d->sigterm == NULL || d->sigint == NULL || d->sighup == NULL ||
	    evsignal_add(d->sigterm, NULL) == -1 ||
	    evsignal_add(d->sigint, NULL) == -1 ||
	    evsignal_add(d->sighup, NULL) == -1)
		fatal("cannot watch signals");
	if (d->watchdog_usec == 0)
		return;
	/* Half the interval, as sd_watchdog_enabled(3) advises. */
	d->watchdog_tv.tv_sec = (time_t)(d->watchdog_usec / 2 / 1000000);
	d->watchdog_tv.tv_usec = (suseconds_t)(d->watchdog_usec / 2 % 1000000);
	if ((d->watchdog = event_new(d->base, -1, EV_PERSIST, on_watchdog,
	    d)) == NULL || event_add(d->watchdog, &d->watchdog_tv) == -1)
		fatal("cannot start the watchdog timer");
	log_info("watchdog: every %llu ms",
	    (unsigned long long)(d->watchdog_usec / 2 / 1000));
}

/* Says READY=1 and runs the loop until a stop signal's drain ends it. */
static void
serve(struct daemon *d)
{
	log_info("serving");
	if (sdnotify_send(&d->notify, "READY=1\nSTATUS=serving on %zu "
	    "listeners", http_listener_count(d->http)) == -1)
		log_warn("NOTIFY_SOCKET: %s", strerror(errno));
	event_base_dispatch(d->base);
	log_info("stopped");
}

/* After the drain (on_stop_signal(), drain_check()): closes what is left,
 * in the order the parts depend on each other. */
static void
shut_down(struct daemon *d)
{
	http_server_free(d->http);
	upstreams_free(d->front.upstreams);	/* after: no request left */
	metrics_free(d->front.metrics);	/* after: the observer runs until then */
	hc_free(d->front.hc);
	spawner_stop(d->spawner);
	mailer_stop(d->front.mailer);	/* before the pool: see its header */
	census_stop(d->front.census);
	purger_stop(d->front.purger);
	db_pool_free(d->front.db);
	mailer_free(d->front.mailer);
	census_free(d->front.census);
	purger_free(d->front.purger);
	portal_free(d->front.portal);
	free(d->routes);
	revocations_free(d->front.revocations);	/* after: see its header */
	session_cache_free(d->front.sessions);	/* after the pool: its last
						 * callbacks store into it */
	token_cache_free(d->front.tokens);
	user_cache_free(d->front.users);	/* after the pool: its last
						 * callbacks store into it */
	if (d->drain_timer != NULL)
		event_free(d->drain_timer);
	if (d->watchdog != NULL)
		event_free(d->watchdog);
	event_free(d->sigterm);
	event_free(d->sigint);
	event_free(d->sighup);
	event_base_free(d->base);
	rl_free(d->front.addr_limit);
	rl_free(d->front.register_limit);
	rl_free(d->front.forgot_limit);
	rl_free(d->front.email_limit);
	rl_free(d->front.account_inflight);
	blocklist_free(d->front.blocklist);
	sdnotify_close(&d->notify);
	if (d->cfg != d->cfg0)
		free_config(d->cfg);
	free_config(d->cfg0);
}

/* The first front waits for the others; the exit status of wardend. */
static int
exit_status(struct daemon *d)
{
	bool	 clean = fronts_wait(d->fronts);

	fronts_free(d->fronts);
	return clean && !d->lost_front ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	struct daemon	 d;
	struct listenfds lf;
	struct args	 a;

	if (stdfds_ensure() == -1)
		return 1;
	parse_args(argc, argv, &a);
	/* Before any descriptor is opened or any child forked. */
	take_listen_fds(&lf);
	/* Until the loop watches it, a reload request must not kill us. */
	signal(SIGHUP, SIG_IGN);

	memset(&d, 0, sizeof(d));
	d.notify.fd = -1;
	load_configuration(&d, &a);
	if (a.test_only)
		return check_only(&d);
	prepare_process(&d);
	make_front(&d);
	make_mailer(&d);
	load_portal(&d);
	open_listeners(&d, &lf);
	fork_fronts(&d);
	start_spawner(&d);
	start_hasher(&d);
	load_upstreams(&d);
	open_pool(&d);
	listen_revocations(&d);
	/* Work of the service as a whole: the first front's. */
	if (d.index == 0) {
		start_mail(&d);
		start_census(&d);
		start_purger(&d);
	}
	watch_signals(&d);
	serve(&d);
	shut_down(&d);
	return exit_status(&d);
}
