/*
 * The privileged spawner: when wardend starts as root, it forks this small
 * helper before dropping its own privileges.  The helper stays root and
 * does one thing: on each request it starts warden-hasher (hasher_spawn())
 * and hands the front's end of the new socket back over SCM_RIGHTS.  So a
 * hasher restarted long after start-up still starts as root, reads its
 * root-owned keys, chroots and drops to hasher_user, as the first one did
 * (OpenSSH keeps a privileged monitor for the same reason).
 *
 * The request is one byte and the helper execs one fixed binary with fixed
 * arguments: there is nothing else it can be asked.  It exits when wardend
 * closes its end.
 */
#ifndef WARDEN_SPAWNER_H
#define WARDEN_SPAWNER_H

#include <sys/types.h>

#define SPAWNER_TIMEOUT_MS	2000	/* most a spawn request may take */
#define SPAWNER_MAX_HASHERS	4	/* live hashers the helper allows */

struct spawner;

/*
 * Forks the helper (call while still root, before the event loop).
 * Returns NULL with errno set on failure.
 */
struct spawner	*spawner_start(const char *hasher_path, const char *config_path);

/*
 * Asks the helper for a new hasher (an hc_params.spawn function: arg is
 * the struct spawner).  Returns the socket, with *pid set to 0 (the hasher
 * is the helper's child), or -1.  A local round trip to a process that
 * only forks: it waits at most SPAWNER_TIMEOUT_MS.
 */
int	spawner_spawn(void *arg, pid_t *pid);

/* Closes the helper's socket (it then exits), reaps it, frees s. */
void	spawner_stop(struct spawner *s);

#endif
