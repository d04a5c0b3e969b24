/*
 * The front's side of starting warden-hasher in spawn mode (the default):
 * a fresh image on a socket pair, as OpenSMTPD's start_child() does.
 *
 * The hasher finds its end of the socket on WARDEN_HASHER_FD; every other
 * descriptor but 0, 1 and 2 is closed before exec.  It reads the same
 * configuration file (-f config_path) and environment (WARDEN_* overrides)
 * as the front.  It exits 0 when the front closes its end, 1 when it
 * dropped the connection (a malformed frame, a protocol version mismatch)
 * or could not start (its reason is logged to the shared stderr).
 */
#ifndef WARDEN_DAEMON_HASHER_SPAWN_H
#define WARDEN_DAEMON_HASHER_SPAWN_H

#include <sys/types.h>

#include "proto.h"	/* WARDEN_HASHER_FD */

/*
 * Starts the hasher at path (argv: path [-f config_path]; config_path may
 * be NULL) on one end of a new AF_UNIX stream socket pair.  Signal mask
 * and dispositions are reset in the child.  Returns the front's end
 * (blocking, close-on-exec; the caller owns it) and stores the child's pid
 * in *pid, or returns -1 with errno set (nothing left open or running).
 * A child that cannot exec writes why to stderr and exits 127.
 */
int	hasher_spawn(const char *path, const char *config_path, pid_t *pid);

#endif
