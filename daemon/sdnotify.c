#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "sdnotify.h"
#include "util.h"

static void
disable(struct sdnotify *n)
{
	memset(n, 0, sizeof(*n));
	n->fd = -1;
}

int
sdnotify_open(struct sdnotify *n, const char *path, char *err, size_t errlen)
{
	size_t	 len;

	disable(n);
	if (path == NULL || *path == '\0')
		return 0;
	if (*path != '/' && *path != '@') {
		str_printf(err, errlen, "NOTIFY_SOCKET %s: neither a path nor "
		    "an abstract socket name", path);
		return -1;
	}
	len = strlen(path);
	if (len >= sizeof(n->addr.sun_path) || (*path == '@' && len < 2)) {
		str_printf(err, errlen, "NOTIFY_SOCKET: bad length %zu", len);
		return -1;
	}
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, path, len);
	if (*path == '@') {
		/* Abstract: a leading NUL and exactly len bytes, no trailer. */
		n->addr.sun_path[0] = '\0';
		n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    len);
	} else
		n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    len + 1);
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd == -1) {
		str_printf(err, errlen, "NOTIFY_SOCKET: socket: %s",
		    strerror(errno));
		disable(n);
		return -1;
	}
	return 0;
}

bool
sdnotify_enabled(const struct sdnotify *n)
{
	return n != NULL && n->fd >= 0;
}

static int
send_text(struct sdnotify *n, const char *fmt, va_list ap)
{
	char	 msg[SDNOTIFY_MSG_MAX];
	int	 len;
	ssize_t	 sent;

	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (len < 0 || (size_t)len >= sizeof(msg)) {
		errno = EMSGSIZE;
		return -1;
	}
	do {
		sent = sendto(n->fd, msg, (size_t)len, MSG_NOSIGNAL,
		    (const struct sockaddr *)&n->addr, n->addrlen);
	} while (sent == -1 && errno == EINTR);
	if (sent == -1)
		return -1;
	if (sent != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int
sdnotify_send(struct sdnotify *n, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	if (!sdnotify_enabled(n))
		return 0;
	va_start(ap, fmt);
	rc = send_text(n, fmt, ap);
	va_end(ap);
	return rc;
}

int
sdnotify_reloading(struct sdnotify *n, const char *status)
{
	if (!sdnotify_enabled(n))
		return 0;
	return sdnotify_send(n, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=%s",
	    (unsigned long long)clock_now_usec(), status);
}

void
sdnotify_close(struct sdnotify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	disable(n);
}

int
sdnotify_watchdog(const char *usec_s, const char *pid_s, pid_t self,
    uint64_t *usec, char *err, size_t errlen)
{
	const char *errstr;
	long long v, pid;

	*usec = 0;
	if (usec_s == NULL || *usec_s == '\0')
		return 0;
	if (num_parse(usec_s, 1, LLONG_MAX, &v, &errstr) == -1) {
		str_printf(err, errlen, "WATCHDOG_USEC %s: %s", usec_s, errstr);
		return -1;
	}
	if (pid_s != NULL && *pid_s != '\0') {
		if (num_parse(pid_s, 1, INT_MAX, &pid, &errstr) == -1) {
			str_printf(err, errlen, "WATCHDOG_PID %s: %s", pid_s,
			    errstr);
			return -1;
		}
		if ((pid_t)pid != self)
			return 0;
	}
	*usec = (uint64_t)v;
	return 1;
}
