#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listenfds.h"
#include "util.h"

static int
parse_names(const char *s, struct listenfds *out, char *err, size_t errlen)
{
	size_t	 i = 0, len;
	const char *p = s, *end;

	for (;;) {
		end = strchr(p, ':');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (i >= out->n) {
			str_printf(err, errlen, "LISTEN_FDNAMES names more "
			    "than the %zu sockets of LISTEN_FDS", out->n);
			return -1;
		}
		if (len > LISTENFDS_NAME_MAX) {
			str_printf(err, errlen, "LISTEN_FDNAMES: name %zu is "
			    "too long", i + 1);
			return -1;
		}
		memcpy(out->names[i], p, len);
		out->names[i][len] = '\0';
		i++;
		if (end == NULL)
			break;
		p = end + 1;
	}
	if (i != out->n) {
		str_printf(err, errlen, "LISTEN_FDNAMES names %zu sockets, "
		    "LISTEN_FDS has %zu", i, out->n);
		return -1;
	}
	return 0;
}

int
listenfds_parse(const char *pid_s, const char *fds_s, const char *names_s,
    pid_t self, struct listenfds *out, char *err, size_t errlen)
{
	const char *errstr;
	long long pid, n;

	memset(out, 0, sizeof(*out));
	if (pid_s == NULL || *pid_s == '\0' || fds_s == NULL || *fds_s == '\0')
		return 0;
	if (num_parse(pid_s, 1, INT_MAX, &pid, &errstr) == -1) {
		str_printf(err, errlen, "LISTEN_PID %s: %s", pid_s, errstr);
		return -1;
	}
	if ((pid_t)pid != self)
		return 0;
	if (num_parse(fds_s, 0, LISTENFDS_MAX, &n, &errstr) == -1) {
		str_printf(err, errlen, "LISTEN_FDS %s: %s (at most %d)", fds_s,
		    errstr, LISTENFDS_MAX);
		return -1;
	}
	out->n = (size_t)n;
	if (out->n > 0 && names_s != NULL && *names_s != '\0' &&
	    parse_names(names_s, out, err, errlen) == -1) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

int
listenfds_fd(const struct listenfds *lf, size_t i)
{
	return LISTENFDS_START + (int)i;
}

/* 0 when fd is a listening stream socket, else -1 with err. */
static int
check_socket(int fd, char *err, size_t errlen)
{
	struct stat st;
	int	 val = 0;
	socklen_t len = sizeof(val);

	if (fstat(fd, &st) == -1) {
		str_printf(err, errlen, "LISTEN_FDS: fd %d: %s", fd,
		    strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		str_printf(err, errlen, "LISTEN_FDS: fd %d is not a socket",
		    fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &val, &len) == -1 ||
	    val != SOCK_STREAM) {
		str_printf(err, errlen, "LISTEN_FDS: fd %d is not a stream "
		    "socket (ListenStream=)", fd);
		return -1;
	}
	len = sizeof(val);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == -1 ||
	    val == 0) {
		str_printf(err, errlen, "LISTEN_FDS: fd %d is not listening "
		    "(Accept=yes is not supported)", fd);
		return -1;
	}
	return 0;
}

int
listenfds_take(struct listenfds *out, char *err, size_t errlen)
{
	size_t	 i;
	int	 fd, flags, rc;

	rc = listenfds_parse(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
	    getenv("LISTEN_FDNAMES"), getpid(), out, err, errlen);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (rc == -1)
		return -1;
	for (i = 0; i < out->n; i++) {
		fd = listenfds_fd(out, i);
		if (check_socket(fd, err, errlen) == -1) {
			out->n = 0;
			return -1;
		}
		if ((flags = fcntl(fd, F_GETFD)) == -1 ||
		    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) {
			str_printf(err, errlen, "LISTEN_FDS: fd %d: %s", fd,
			    strerror(errno));
			out->n = 0;
			return -1;
		}
	}
	return 0;
}
