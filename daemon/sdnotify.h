/*
 * The systemd notification protocol (sd_notify(3)) without libsystemd:
 * one datagram of "KEY=value" lines per state change to the AF_UNIX socket
 * named by $NOTIFY_SOCKET ("/path", or "@name" for the abstract
 * namespace).  wardend says READY=1 once it serves, STOPPING=1 on SIGTERM,
 * RELOADING=1 with MONOTONIC_USEC around a SIGHUP reload, STATUS= lines,
 * and WATCHDOG=1 every half WATCHDOG_USEC.
 *
 * The socket is opened once, before wardend drops privileges: systemd's
 * own socket is writable by anyone, a test's need not be.  Nothing here
 * blocks: the socket is non-blocking and a lost datagram is only logged.
 */
#ifndef WARDEN_SDNOTIFY_H
#define WARDEN_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#define SDNOTIFY_MSG_MAX	4096	/* longest datagram we send */

struct sdnotify {
	int			fd;	/* -1: not under systemd, sends do nothing */
	struct sockaddr_un	addr;
	socklen_t		addrlen;
};

/*
 * Opens the notification socket for path ($NOTIFY_SOCKET): NULL or ""
 * leaves n disabled (fd -1) and succeeds.  "/..." is a file system socket,
 * "@..." an abstract one.  Returns 0, or -1 with a reason in err (any other
 * form, a name too long, no socket), n then disabled.
 */
int	sdnotify_open(struct sdnotify *n, const char *path, char *err,
	    size_t errlen);

/* True when n sends somewhere. */
bool	sdnotify_enabled(const struct sdnotify *n);

/*
 * Sends one datagram, the printf-formatted fmt ("READY=1\nSTATUS=...").
 * A disabled n does nothing and succeeds.  Returns 0, or -1 with errno
 * set (message longer than SDNOTIFY_MSG_MAX: EMSGSIZE).
 */
int	sdnotify_send(struct sdnotify *n, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* RELOADING=1 with MONOTONIC_USEC=<CLOCK_MONOTONIC now> and a STATUS line,
 * as systemd's Type=notify-reload expects.  Returns as sdnotify_send(). */
int	sdnotify_reloading(struct sdnotify *n, const char *status);

/* Closes the socket; n is left disabled.  A disabled n is fine. */
void	sdnotify_close(struct sdnotify *n);

/*
 * The watchdog interval from $WATCHDOG_USEC and $WATCHDOG_PID (either may
 * be NULL): 1 with *usec set when usec_s is a positive number of
 * microseconds and pid_s is NULL, "" or self; 0 when no watchdog is asked
 * of this process; -1 with a reason in err when a value is malformed.
 */
int	sdnotify_watchdog(const char *usec_s, const char *pid_s, pid_t self,
	    uint64_t *usec, char *err, size_t errlen);

#endif
