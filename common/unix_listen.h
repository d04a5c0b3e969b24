/*
 * A listening Unix stream socket at a path in the file system: the
 * hasher's hasher_socket in split mode, the front's unix:/path listeners.
 */
#ifndef WARDEN_UNIX_LISTEN_H
#define WARDEN_UNIX_LISTEN_H

#include <sys/types.h>

#include <stddef.h>

struct unix_listen_opts {
	mode_t	 mode;		/* of the socket file, e.g. 0600 */
	uid_t	 owner;		/* chown to it; (uid_t)-1 leaves ours */
	gid_t	 group;		/* chgrp to it; (gid_t)-1 leaves ours */
	int	 backlog;	/* listen(2)'s */
};

/* The file a listener created, to remove it and not a successor's. */
struct unix_listen_id {
	dev_t	 dev;
	ino_t	 ino;
};

/*
 * Binds and listens on path, which must be absolute and fit sun_path.  A
 * socket already there is removed when nobody accepts on it (a connect is
 * refused: a stale one of an earlier run), and refused when somebody
 * does; anything else there is refused and left alone.  The file is born
 * with o->mode (bound under a matching umask, which is put back at once:
 * call it before starting threads), then chmod'ed to it and chowned to
 * o->owner and o->group.  Returns a non-blocking, close-on-exec
 * descriptor with *id filled (id may be NULL), or -1 with the reason in
 * err (without the path: the caller names it); nothing of ours is left
 * at path then.
 */
int	unix_listen(const char *path, const struct unix_listen_opts *o,
	    struct unix_listen_id *id, char *err, size_t errlen);

/*
 * Removes path when it is still the socket id names, not one a successor
 * bound since.  Call it before closing the listening descriptor: while
 * that is open its inode cannot be reused, and nobody else can bind the
 * path (unix_listen() finds it live).  Returns 0 when removed, 1 when
 * path is another file or gone, -1 when unlink(2) failed (errno set).
 */
int	unix_listen_remove(const char *path, const struct unix_listen_id *id);

#endif
