/*
 * The listening sockets of the server: TCP (every address of a name),
 * unix sockets born with their mode and group, and sockets inherited from
 * systemd.  See http.h.
 *
 * When accept() fails for want of descriptors (EMFILE, ENFILE) or memory,
 * the socket stays readable and libevent would call accept() again at
 * once, forever: the server stops accepting for HTTP_ACCEPT_PAUSE_MS
 * instead, as the hasher does (hasher/server.c), and counts the pause for
 * the connections' log line (conn.c).  Connections wait in the backlog
 * meanwhile.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "config.h"
#include "http.h"
#include "http_int.h"
#include "log.h"
#include "unix_listen.h"
#include "util.h"

#define HTTP_LISTEN_BACKLOG	511
#define HTTP_ACCEPT_PAUSE_MS	100

/*
 * The servers with listeners.  libevent hands a listener's error callback
 * the listener's own argument, which evhttp has made its struct evhttp:
 * the server is found from that (there are two, the API's and /metrics').
 */
static struct http_server *accepting;

static void
accepting_add(struct http_server *srv)
{
	struct http_server *s;

	for (s = accepting; s != NULL; s = s->next_accepting)
		if (s == srv)
			return;
	srv->next_accepting = accepting;
	accepting = srv;
}

static void
accepting_remove(struct http_server *srv)
{
	struct http_server **sp;

	for (sp = &accepting; *sp != NULL; sp = &(*sp)->next_accepting)
		if (*sp == srv) {
			*sp = srv->next_accepting;
			break;
		}
	srv->next_accepting = NULL;
}

/* Every listener of srv on (enable) or off. */
static void
listeners_enable(struct http_server *srv, bool enable)
{
	struct evconnlistener *lev;
	size_t		 i;

	for (i = 0; i < srv->nls; i++) {
		lev = evhttp_bound_socket_get_listener(srv->ls[i].bound);
		if (enable)
			evconnlistener_enable(lev);
		else
			evconnlistener_disable(lev);
	}
}

/* The pause is over. */
static void
on_resume(evutil_socket_t unused, short what, void *arg)
{
	listeners_enable(arg, true);
}

/* evconnlistener_set_error_cb: accept() failed, and not with an error
 * that libevent retries by itself (EAGAIN, EINTR, ECONNABORTED). */
static void
on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct timeval	 tv = { 0, HTTP_ACCEPT_PAUSE_MS * 1000 };
	struct http_server *srv;
	int		 e = errno;

	for (srv = accepting; srv != NULL; srv = srv->next_accepting)
		if ((void *)srv->http == arg)
			break;
	if (srv == NULL)
		return;
	/* Whatever the error, calling accept() again at once would fail
	 * the same way: wait, for descriptors to be closed. */
	if (srv->resume == NULL &&
	    (srv->resume = evtimer_new(srv->base, on_resume, srv)) == NULL) {
		log_error("accept: %s; cannot pause", strerror(e));
		return;
	}
	listeners_enable(srv, false);
	evtimer_add(srv->resume, &tv);
	srv->accept_errno = e;
	conn_note(srv, CONNLIMIT_PAUSED, NULL);
}

/* Serves on the listening socket fd (owned from now on); unix_path, when
 * not NULL, is the socket file id that we created there (owned too). */
static int
add_listener(struct http_server *srv, int fd, char *unix_path,
    const struct unix_listen_id *id, const char *what, char *err,
    size_t errlen)
{
	struct listener	*ls;

	ls = reallocarray(srv->ls, srv->nls + 1, sizeof(*ls));
	if (ls == NULL) {
		str_printf(err, errlen, "%s: out of memory", what);
		goto fail;
	}
	srv->ls = ls;
	ls = &srv->ls[srv->nls];
	memset(ls, 0, sizeof(*ls));
	if ((ls->bound = evhttp_accept_socket_with_handle(srv->http,
	    fd)) == NULL) {
		str_printf(err, errlen, "%s: cannot serve on it", what);
		goto fail;
	}
	evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(ls->bound),
	    on_accept_error);
	accepting_add(srv);
	ls->fd = fd;
	ls->unix_path = unix_path;
	if (unix_path != NULL)
		ls->unix_id = *id;
	srv->nls++;
	return 0;
fail:
	if (unix_path != NULL) {
		unix_listen_remove(unix_path, id);
		free(unix_path);
	}
	close(fd);
	return -1;
}

static int
listen_unix(struct http_server *srv, const char *spec, const char *path,
    char *err, size_t errlen)
{
	struct unix_listen_opts	 o;
	struct unix_listen_id	 id;
	char			*copy, why[256];
	int			 fd;

	/* The proxy's group may connect (listen_group, listen_mode). */
	o.mode = (mode_t)srv->listen_mode;
	o.owner = (uid_t)-1;
	o.group = srv->listen_gid;
	o.backlog = HTTP_LISTEN_BACKLOG;
	if ((fd = unix_listen(path, &o, &id, why, sizeof(why))) == -1) {
		str_printf(err, errlen, "listen %s: %s", spec, why);
		return -1;
	}
	if ((copy = strdup(path)) == NULL) {
		str_printf(err, errlen, "listen %s: out of memory", spec);
		unix_listen_remove(path, &id);
		close(fd);
		return -1;
	}
	return add_listener(srv, fd, copy, &id, spec, err, errlen);
}

static int
listen_inet(struct http_server *srv, const char *spec, const char *host,
    const char *port, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	const char	*errstr;
	long long	 p;
	size_t		 bound = 0;
	int		 fd, on = 1, rc, e = 0, skipped = 0;

	if (host[0] == '\0' || num_parse(port, 0, 65535, &p, &errstr) == -1) {
		str_printf(err, errlen, "listen %s: want host:port, [v6]:port "
		    "or unix:/path", spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		str_printf(err, errlen, "listen %s: %s", spec,
		    gai_strerror(rc));
		return -1;
	}
	/* A name may stand for several addresses ("localhost": ::1 and
	 * 127.0.0.1): bind each, passing over a family this host lacks. */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol)) == -1 ||
		    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1 ||
		    (srv->reuse_port && setsockopt(fd, SOL_SOCKET,
		    SO_REUSEPORT, &on, sizeof(on)) == -1) ||
		    (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
		    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
		    listen(fd, HTTP_LISTEN_BACKLOG) == -1) {
			e = errno;
			if (fd != -1)
				close(fd);
			if (e == EAFNOSUPPORT || e == EADDRNOTAVAIL) {
				skipped = e;
				continue;
			}
			goto fail;
		}
		if (add_listener(srv, fd, NULL, NULL, spec, err, errlen) == -1) {
			freeaddrinfo(res);
			return -1;
		}
		srv->ls[srv->nls - 1].own_inet = true;
		bound++;
	}
	freeaddrinfo(res);
	if (bound > 0)
		return 0;
	e = skipped != 0 ? skipped : EADDRNOTAVAIL;
	res = NULL;
fail:
	str_printf(err, errlen, "listen %s: %s", spec, strerror(e));
	if (res != NULL)
		freeaddrinfo(res);
	return -1;
}

int
http_listen(struct http_server *srv, const char *spec, char *err,
    size_t errlen)
{
	char		 host[256];
	const char	*port, *rb;
	size_t		 hl;

	if (strncmp(spec, "unix:", 5) == 0)
		return listen_unix(srv, spec, spec + 5, err, errlen);
	if (spec[0] == '[') {
		if ((rb = strchr(spec, ']')) == NULL || rb[1] != ':')
			goto bad;
		hl = (size_t)(rb - (spec + 1));
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, spec + 1, hl);
		host[hl] = '\0';
		port = rb + 2;
	} else {
		if ((port = strrchr(spec, ':')) == NULL)
			goto bad;
		hl = (size_t)(port - spec);
		if (hl >= sizeof(host) || memchr(spec, ':', hl) != NULL)
			goto bad;
		memcpy(host, spec, hl);
		host[hl] = '\0';
		port++;
	}
	return listen_inet(srv, spec, host, port, err, errlen);
bad:
	str_printf(err, errlen, "listen %s: want host:port, [v6]:port or "
	    "unix:/path", spec);
	return -1;
}

void
http_server_set_reuse_port(struct http_server *srv, bool on)
{
	srv->reuse_port = on;
}

/* A socket of this process's own on the address of ls's. */
static int
reopen_one(struct http_server *srv, struct listener *ls, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int	 fd, on = 1;

	if (getsockname(ls->fd, (struct sockaddr *)&ss, &len) == -1 ||
	    (fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		str_printf(err, errlen, "reopening a listener: %s",
		    strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1 ||
	    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, HTTP_LISTEN_BACKLOG) == -1) {
		str_printf(err, errlen, "reopening a listener: %s",
		    strerror(errno));
		close(fd);
		return -1;
	}
	/* The shared socket goes on in the first front alone: this copy of
	 * it closes with its listener. */
	evhttp_del_accept_socket(srv->http, ls->bound);
	if ((ls->bound = evhttp_accept_socket_with_handle(srv->http,
	    fd)) == NULL) {
		str_printf(err, errlen, "reopening a listener: cannot serve "
		    "on it");
		close(fd);
		ls->fd = -1;
		return -1;
	}
	evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(ls->bound),
	    on_accept_error);
	ls->fd = fd;
	return 0;
}

int
http_reopen_own(struct http_server *srv, char *err, size_t errlen)
{
	size_t	 i;

	for (i = 0; i < srv->nls; i++)
		if (srv->ls[i].own_inet && srv->reuse_port &&
		    reopen_one(srv, &srv->ls[i], err, errlen) == -1)
			return -1;
	return 0;
}

int
http_listen_all(struct http_server *srv, const struct cfg *cfg, char *err,
    size_t errlen)
{
	size_t	 i;

	for (i = 0; i < cfg->listen.n; i++)
		if (http_listen(srv, cfg->listen.v[i], err, errlen) == -1)
			return -1;
	return 0;
}

int
http_listen_fd(struct http_server *srv, int fd, char *err, size_t errlen)
{
	int		 v = 0, flags;
	socklen_t	 vl = sizeof(v);
	char		 what[32];

	str_printf(what, sizeof(what), "listen fd %d", fd);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == -1 ||
	    v != 1) {
		str_printf(err, errlen, "%s: not a listening socket", what);
		close(fd);
		return -1;
	}
	vl = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vl) == -1 ||
	    v != SOCK_STREAM) {
		str_printf(err, errlen, "%s: not a stream socket", what);
		close(fd);
		return -1;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		str_printf(err, errlen, "%s: %s", what, strerror(errno));
		close(fd);
		return -1;
	}
	return add_listener(srv, fd, NULL, NULL, what, err, errlen);
}

size_t
http_listener_count(const struct http_server *srv)
{
	return srv->nls;
}

int
http_listener_fd(const struct http_server *srv, size_t i)
{
	return i < srv->nls ? srv->ls[i].fd : -1;
}

void
http_server_stop_listening(struct http_server *srv)
{
	struct listener	*ls;
	size_t		 i;

	for (i = 0; i < srv->nls; i++) {
		ls = &srv->ls[i];
		/* Our socket, not one a successor bound since: removed while
		 * its descriptor still holds the inode. */
		if (ls->unix_path != NULL &&
		    unix_listen_remove(ls->unix_path, &ls->unix_id) == -1)
			log_debug("unlink %s: %s", ls->unix_path,
			    strerror(errno));
		free(ls->unix_path);
		evhttp_del_accept_socket(srv->http, ls->bound);	/* closes fd */
	}
	free(srv->ls);
	srv->ls = NULL;
	srv->nls = 0;
	if (srv->resume != NULL)
		event_free(srv->resume);
	srv->resume = NULL;
	accepting_remove(srv);
}
