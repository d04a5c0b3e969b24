/*
 * systemd socket activation (sd_listen_fds(3)) without libsystemd: when
 * $LISTEN_PID is our pid, the $LISTEN_FDS sockets start at fd 3, named in
 * order by the colon-separated $LISTEN_FDNAMES (FileDescriptorName=).
 *
 * wardend takes them first thing in main(), before it opens a file or
 * forks its spawner: from then on they are close-on-exec, so neither the
 * spawner nor a hasher inherits them (both also move their own socket to
 * fd 3 and closefrom(4) in the child), and the variables are unset, so no
 * child mistakes them for its own.
 */
#ifndef WARDEN_LISTENFDS_H
#define WARDEN_LISTENFDS_H

#include <stddef.h>
#include <sys/types.h>

#define LISTENFDS_START		3	/* SD_LISTEN_FDS_START */
#define LISTENFDS_MAX		64	/* most sockets we accept */
#define LISTENFDS_NAME_MAX	255	/* FileDescriptorName= limit */

struct listenfds {
	size_t	 n;				/* 0: not activated */
	char	 names[LISTENFDS_MAX][LISTENFDS_NAME_MAX + 1];
						/* "" when unnamed */
};

/*
 * Parses the three variables (each may be NULL) for process self into
 * *out.  Not for us (pid_s or fds_s NULL or empty, or pid_s another pid)
 * is 0 with out->n == 0.  Returns 0, or -1 with a reason in err when
 * pid_s is not a pid, fds_s not a number in 0..LISTENFDS_MAX, or
 * names_s has a name too long or a count other than fds_s's; out->n is
 * then 0.
 */
int	listenfds_parse(const char *pid_s, const char *fds_s,
	    const char *names_s, pid_t self, struct listenfds *out,
	    char *err, size_t errlen);

/*
 * listenfds_parse() on the environment, then for each socket checks that
 * fd LISTENFDS_START + i is a listening stream socket and sets
 * close-on-exec; finally unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES
 * (also when they were not for us).  Returns 0, or -1 with a reason in
 * err (out->n then 0; the caller treats it as fatal).
 */
int	listenfds_take(struct listenfds *out, char *err, size_t errlen);

/* The fd of the i-th socket (i < out->n). */
int	listenfds_fd(const struct listenfds *lf, size_t i);

#endif
