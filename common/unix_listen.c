/*
 * Listening Unix sockets at a path: stale sockets replaced, live ones and
 * other files refused, the mode set from birth, nothing left on failure.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "unix_listen.h"
#include "util.h"

/*
 * Whether somebody accepts on the socket at sun: 0 when nobody does (the
 * file is stale, or already gone), 1 when somebody does, -1 when it
 * cannot tell (errno set).  Non-blocking, so a full backlog answers at
 * once (EAGAIN: somebody is there) instead of waiting.
 */
static int
somebody_listens(const struct sockaddr_un *sun)
{
	int fd, rc, e;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
		return 1;
	if (e == ECONNREFUSED || e == ENOENT)
		return 0;
	errno = e;
	return -1;
}

/* Clears the way for a new socket at path: 0, or -1 with err. */
static int
clear_stale(const char *path, const struct sockaddr_un *sun, char *err,
    size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		str_printf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		str_printf(err, errlen, "exists and is not a socket");
		return -1;
	}
	switch (somebody_listens(sun)) {
	case 1:
		str_printf(err, errlen, "a server is listening there");
		return -1;
	case -1:
		str_printf(err, errlen, "cannot tell whether a server is "
		    "listening there: %s", strerror(errno));
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		str_printf(err, errlen, "remove stale socket: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
unix_listen(const char *path, const struct unix_listen_opts *o,
    struct unix_listen_id *id, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	const char *step;
	mode_t old;
	int fd, rc, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path == NULL || path[0] != '/' ||
	    str_copy(sun.sun_path, path, sizeof(sun.sun_path)) == -1) {
		str_printf(err, errlen, "not an absolute path of at most %zu "
		    "bytes", sizeof(sun.sun_path) - 1);
		return -1;
	}
	if (clear_stale(path, &sun, err, errlen) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		str_printf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* Born with the right mode: no window with a wider one. */
	old = umask(~o->mode & 0777);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	e = errno;
	umask(old);
	if (rc == -1) {
		str_printf(err, errlen, "bind: %s", strerror(e));
		close(fd);
		return -1;
	}
	/* A umask only takes bits away; chmod gives the rest. */
	step = NULL;
	if (chmod(path, o->mode) == -1)
		step = "chmod";
	else if ((o->owner != (uid_t)-1 || o->group != (gid_t)-1) &&
	    chown(path, o->owner, o->group) == -1)
		step = "chown";
	else if (listen(fd, o->backlog) == -1)
		step = "listen";
	else if (lstat(path, &st) == -1)
		step = "lstat";
	if (step != NULL) {
		str_printf(err, errlen, "%s: %s", step, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (id != NULL) {
		id->dev = st.st_dev;
		id->ino = st.st_ino;
	}
	return fd;
}

int
unix_listen_remove(const char *path, const struct unix_listen_id *id)
{
	struct stat st;

	if (lstat(path, &st) == -1 || !S_ISSOCK(st.st_mode) ||
	    st.st_dev != id->dev || st.st_ino != id->ino)
		return 1;
	return unlink(path) == -1 ? -1 : 0;
}
