/*
 * The hasher client's connection: spawn the hasher or connect to its
 * socket, speak HELLO and ask PUBKEYS, and when it dies or breaks, tear
 * down, fail what is in flight and start again with back-off.  The
 * pending table is hc_queue.c, the frames hc_frames.c, the typed calls
 * hc_calls.c.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/unistd.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <sodium.h>

#include "clock.h"
#include "config.h"
#include "hasher_client.h"
#include "hasher_spawn.h"
#include "hc_local.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#define HC_EXIT_WAIT_MS	1000	/* hc_free(): grace before SIGKILL */

static void	hc_do_start(struct hc *);

static void
ms_to_tv(unsigned int ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
}

/* ---- parameters ---- */

int
hc_params_from_cfg(struct hc_params *p, const struct cfg *cfg,
    const char *config_path, char *err, size_t errlen)
{
	struct passwd	*pw;
	int64_t		 ms;

	memset(p, 0, sizeof(*p));
	p->hasher_path = cfg->hasher_path;
	p->config_path = config_path;
	p->socket_path = cfg->hasher_socket;
	p->queue_max = cfg->hasher_queue > 0 ? cfg->hasher_queue : 1;
	p->sign_queue_max = HC_SIGN_QUEUE_DEFAULT;
	ms = cfg->hasher_timeout > 0 ? cfg->hasher_timeout * 1000 : 1000;
	p->timeout_ms = ms > 3600 * 1000 ? 3600 * 1000 : (unsigned int)ms;
	p->reap_sigchld = true;
	p->peer_uid = geteuid();
	if (p->socket_path != NULL && p->socket_path[0] != '\0' &&
	    cfg->hasher_user != NULL && cfg->hasher_user[0] != '\0') {
		errno = 0;
		if ((pw = getpwnam(cfg->hasher_user)) == NULL) {
			str_printf(err, errlen, "hasher_user %s: %s",
			    cfg->hasher_user,
			    errno ? strerror(errno) : "no such user");
			return -1;
		}
		p->peer_uid = pw->pw_uid;
	}
	return 0;
}

/* ---- the handshake ---- */

int
hc_handshake_answer(struct hc *c, const struct hc_req *r, uint16_t type,
    const union hc_answer *a)
{
	if (r->type == PROTO_HELLO) {
		if (type == PROTO_R_ERROR) {
			log_error("hasher: refused HELLO: %s", a->err.message);
			return -1;
		}
		if (a->hello.version != PROTO_VERSION) {
			log_error("hasher: protocol version %u, we speak %u",
			    a->hello.version, PROTO_VERSION);
			return -1;
		}
		c->state = HC_S_KEYS;
		return hc_call_internal(c, PROTO_PUBKEYS, true);
	}
	/* PUBKEYS */
	if (type == PROTO_R_ERROR) {
		log_error("hasher: refused PUBKEYS: %s", a->err.message);
		return c->state == HC_S_KEYS ? -1 : 0;
	}
	c->keys = a->keys;
	if (c->state == HC_S_KEYS) {
		c->state = HC_S_READY;
		c->was_ready = true;
		clock_now(&c->ready_since);
		log_info("hasher: ready, %zu public key(s)", c->keys.nkeys);
	}
	if (c->p.on_keys != NULL)
		c->p.on_keys(&c->keys, c->p.on_keys_arg);
	return 0;
}

/* ---- the child and the connection ---- */

/*
 * waitpid(pid, WNOHANG), logging how the child ended.  Returns pid when it
 * was reaped, 0 when it still runs, -1 when it is not ours (any more).
 */
static pid_t
child_reap(pid_t pid)
{
	int	status = 0;
	pid_t	w;

	w = waitpid(pid, &status, WNOHANG);
	if (w != pid)
		return w;
	if (WIFEXITED(status))
		log_warn("hasher: pid %ld exited with status %d", (long)pid,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warn("hasher: pid %ld killed by signal %d", (long)pid,
		    WTERMSIG(status));
	return w;
}

/* Reaps the children we killed, without blocking. */
static void
reap_killed(struct hc *c)
{
	size_t i = 0;

	while (i < c->nreap) {
		if (child_reap(c->reap[i]) == 0) {
			i++;
			continue;
		}
		c->reap[i] = c->reap[--c->nreap];
	}
}

/* Forgets the spawned child: reaped if it has exited, else killed (a
 * child not yet reaped cannot have had its pid reused) and reaped later. */
static void
child_drop(struct hc *c)
{
	int	status;

	if (c->pid <= 0)
		return;
	if (child_reap(c->pid) == 0) {
		log_debug("hasher: killing pid %ld", (long)c->pid);
		kill(c->pid, SIGKILL);
		if (c->nreap == HC_REAP_MAX) {
			/* Should not happen; do not leak zombies. */
			waitpid(c->pid, &status, 0);
		} else
			c->reap[c->nreap++] = c->pid;
	}
	c->pid = 0;
}

static void
schedule_restart(struct hc *c)
{
	struct timeval	tv;
	unsigned int	delay;

	if (c->was_ready && clock_ms_since(&c->ready_since) >=
	    (double)c->p.stable_ms)
		c->backoff_ms = c->p.backoff_min_ms;
	c->was_ready = false;
	delay = c->backoff_ms;
	c->backoff_ms = delay >= c->p.backoff_max_ms / 2 ?
	    c->p.backoff_max_ms : delay * 2;
	ms_to_tv(delay, &tv);
	evtimer_add(c->restart_ev, &tv);
	log_info("hasher: restarting in %u ms", delay);
}

void
hc_teardown(struct hc *c, const char *why)
{
	bool was_up = c->bev != NULL;

	if (c->state == HC_S_IDLE || c->state == HC_S_DOWN)
		return;
	log_warn("hasher: %s", why);
	c->state = HC_S_DOWN;
	if (was_up) {
		hc_frame_wipe_input(c);
		bufferevent_free(c->bev);	/* wipes queued frames */
		c->bev = NULL;
	}
	child_drop(c);
	hc_req_fail_all(c, HC_DOWN);
	schedule_restart(c);
}

/* Split mode: connects to the hasher's socket and checks its uid. */
static int
connect_split(struct hc *c)
{
	struct sockaddr_un	 sun;
	uid_t			 uid;
	gid_t			 gid;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (str_copy(sun.sun_path, c->p.socket_path, sizeof(sun.sun_path))) {
		log_error("hasher_socket %s: path too long", c->p.socket_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_error("hasher: socket: %s", strerror(errno));
		return -1;
	}
	/* A Unix stream connect completes at once, or fails (EAGAIN when
	 * the listener's backlog is full: retried with back-off). */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("hasher: connect %s: %s", c->p.socket_path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (getpeereid(fd, &uid, &gid) == -1) {
		log_error("hasher: getpeereid: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (uid != c->p.peer_uid) {
		log_error("hasher: %s is served by uid %ld, expected %ld",
		    c->p.socket_path, (long)uid, (long)c->p.peer_uid);
		close(fd);
		return -1;
	}
	return fd;
}

static void
hc_do_start(struct hc *c)
{
	pid_t	pid = 0;
	int	fd, fl;

	c->st.restarts++;
	reap_killed(c);
	if (c->p.socket_path != NULL && c->p.socket_path[0] != '\0')
		fd = connect_split(c);
	else {
		fd = c->p.spawn != NULL ? c->p.spawn(c->p.spawn_arg, &pid) :
		    hasher_spawn(c->p.hasher_path, c->p.config_path, &pid);
		if (fd == -1)
			log_error("hasher: cannot start %s", c->p.hasher_path);
	}
	if (fd == -1)
		goto fail;
	c->pid = pid;
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    (c->bev = bufferevent_socket_new(c->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_error("hasher: cannot set up the socket");
		close(fd);
		child_drop(c);
		goto fail;
	}
	bufferevent_setcb(c->bev, hc_frame_on_read, NULL, hc_frame_on_event, c);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1)
		goto fail_bev;
	c->state = HC_S_HELLO;
	if (hc_call_internal(c, PROTO_HELLO, true) == -1) {
		c->state = HC_S_DOWN;
		goto fail_bev;
	}
	log_debug("hasher: connected, pid %ld", (long)pid);
	return;

fail_bev:
	bufferevent_free(c->bev);
	c->bev = NULL;
	child_drop(c);
fail:
	c->state = HC_S_DOWN;
	schedule_restart(c);
}

static void
on_restart(evutil_socket_t fd, short what, void *arg)
{
	struct hc *c = arg;

	if (c->state == HC_S_DOWN)
		hc_do_start(c);
}

int
hc_restart(struct hc *c)
{
	if (c->state == HC_S_IDLE)
		return -1;
	if (c->state == HC_S_DOWN)
		return 0;	/* a restart is already on its timer */
	c->was_ready = false;
	c->backoff_ms = c->p.backoff_min_ms;
	hc_teardown(c, "restarting on request");
	return 0;
}

static void
on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct hc	*c = arg;

	reap_killed(c);
	if (c->pid <= 0 || child_reap(c->pid) == 0)
		return;
	c->pid = 0;
	hc_teardown(c, "hasher exited");
}

/* ---- life cycle ---- */

struct hc *
hc_new(struct event_base *base, const struct hc_params *p)
{
	struct hc	*c;
	struct timeval	 tv;
	size_t		 want;

	if (base == NULL || p == NULL || p->queue_max == 0 ||
	    p->timeout_ms == 0 || p->queue_max > 1000000) {
		errno = EINVAL;
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base = base;
	c->p = *p;
	if (c->p.sign_queue_max == 0)
		c->p.sign_queue_max = HC_SIGN_QUEUE_DEFAULT;
	if (c->p.backoff_min_ms == 0)
		c->p.backoff_min_ms = HC_BACKOFF_MIN_MS;
	if (c->p.backoff_max_ms < c->p.backoff_min_ms)
		c->p.backoff_max_ms = c->p.backoff_min_ms > HC_BACKOFF_MAX_MS ?
		    c->p.backoff_min_ms : HC_BACKOFF_MAX_MS;
	if (c->p.stable_ms == 0)
		c->p.stable_ms = HC_STABLE_MS;
	c->backoff_ms = c->p.backoff_min_ms;
	c->state = HC_S_IDLE;
	c->next_id = 1;
	TAILQ_INIT(&c->reqs);

	/* Every request lives in the table until answered, so it never holds
	 * more than both bounds and the handshake. */
	want = (size_t)c->p.queue_max + c->p.sign_queue_max + 2;
	for (c->nbuckets = 64; c->nbuckets < want; c->nbuckets <<= 1)
		;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	c->scratch = malloc(PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD);
	ms_to_tv(c->p.timeout_ms, &tv);
	c->tv_req = event_base_init_common_timeout(base, &tv);
	c->restart_ev = evtimer_new(base, on_restart, c);
	if (c->buckets == NULL || c->scratch == NULL || c->tv_req == NULL ||
	    c->restart_ev == NULL) {
		hc_free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

int
hc_start(struct hc *c)
{
	struct sigaction sa;

	if (c->state != HC_S_IDLE)
		return -1;
	/* A write to a hasher that just died must be an EPIPE for the
	 * bufferevent, not a signal that kills the front. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	if (c->p.reap_sigchld && (c->p.socket_path == NULL ||
	    c->p.socket_path[0] == '\0')) {
		c->sigchld_ev = evsignal_new(c->base, SIGCHLD, on_sigchld, c);
		if (c->sigchld_ev == NULL || evsignal_add(c->sigchld_ev,
		    NULL) == -1)
			return -1;
	}
	c->state = HC_S_DOWN;
	hc_do_start(c);
	return 0;
}

void
hc_free(struct hc *c)
{
	int status, i;

	if (c == NULL)
		return;
	c->state = HC_S_IDLE;
	if (c->bev != NULL) {
		hc_frame_wipe_input(c);
		/* libevent may defer the close to a loop that no longer runs:
		 * shut the socket now so that the hasher sees its EOF. */
		shutdown(bufferevent_getfd(c->bev), SHUT_RDWR);
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (c->pid > 0) {
		/* It exits by itself once its socket is closed; wait up to
		 * HC_EXIT_WAIT_MS for that, then kill it. */
		for (i = 0; i < HC_EXIT_WAIT_MS / 10; i++) {
			if (waitpid(c->pid, &status, WNOHANG) != 0)
				break;
			nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 },
			    NULL);
		}
		/* Once we have dropped privileges the kill may be refused;
		 * the hasher then still exits on its EOF, unwaited. */
		if (i == HC_EXIT_WAIT_MS / 10 && kill(c->pid, SIGKILL) == 0)
			waitpid(c->pid, &status, 0);
		c->pid = 0;
	}
	while (c->nreap > 0)
		waitpid(c->reap[--c->nreap], &status, 0);
	hc_req_fail_all(c, HC_DOWN);
	if (c->restart_ev != NULL)
		event_free(c->restart_ev);
	if (c->sigchld_ev != NULL)
		event_free(c->sigchld_ev);
	free(c->buckets);
	if (c->scratch != NULL) {
		sodium_memzero(c->scratch, PROTO_HEADER_SIZE +
		    PROTO_MAX_PAYLOAD);
		free(c->scratch);
	}
	free(c);
}
