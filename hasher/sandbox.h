/*
 * The hasher's lock-down, in the order of docs/architecture.md (OpenSSH's
 * privsep_child_demote):
 *
 *   sandbox_drop():  [root only] getpwnam(user), chroot(chroot_dir) (made
 *                    0755 root-owned when missing; refused when not owned by
 *                    root or writable by group or others), chdir("/"),
 *                    setgroups(0), setresgid, setresuid, check that the drop
 *                    cannot be undone; then always PR_SET_NO_NEW_PRIVS,
 *                    PR_SET_DUMPABLE 0 and a Landlock domain that handles
 *                    every file-system right (and, where the kernel knows
 *                    them, TCP and the IPC scopes) with no rule.
 *   (start the worker threads here: they inherit all of the above)
 *   sandbox_lock():  rlimits (NOFILE just above the highest open fd, plus
 *                    room for max_conns accepted sockets; NPROC, CORE 0;
 *                    FSIZE 0 unless stdout or stderr is a regular file, which
 *                    would then kill us on the next log line), then the
 *                    seccomp allow-list, synchronised to every thread
 *                    (SCMP_FLTATR_CTL_TSYNC).
 *
 * Landlock restricts only the calling thread and its later children (there
 * is no TSYNC for it), hence the two steps.  Every failure is fatal(): the
 * process logs it and exits 1.  A kernel without Landlock is a warning.
 *
 * After sandbox_lock() the process can read, write, poll, close and accept
 * (listen_fd only) on descriptors it holds, use futexes, map memory that is
 * never executable, read the clock and getrandom(2); opening files and
 * creating sockets fail with EACCES, and anything else (fork, exec,
 * ptrace, an executable mapping) kills the process.  Exit with _exit(2):
 * sanitizers' exit-time leak checks cannot run in here.
 *
 * A build with -DWARDEN_SANDBOX_DEBUG, and any AddressSanitizer build,
 * traps instead of killing: it writes the number of the forbidden system
 * call to stderr, then dies of SIGSYS all the same.  Under ASan nothing
 * more is allowed: its allocator and error reports live with this list
 * (reports lose symbols: the executable cannot be read).
 */
#ifndef WARDEN_HASHER_SANDBOX_H
#define WARDEN_HASHER_SANDBOX_H

struct sandbox_opts {
	const char	*user;		/* hasher_user: dropped to when root */
	const char	*chroot_dir;	/* hasher_chroot: entered when root */
	int		 listen_fd;	/* split mode's listening socket, or -1 */
	unsigned int	 max_conns;	/* sockets it may accept at once */
};

/* Chroot and drop privileges when root, then no-new-privs, not dumpable,
 * Landlock.  fatal() on any failure. */
void	sandbox_drop(const struct sandbox_opts *o);

/* Rlimits and the seccomp filter, for every thread.  fatal() on failure. */
void	sandbox_lock(const struct sandbox_opts *o);

/* sandbox_drop() then sandbox_lock(), for a process with one thread. */
void	sandbox_apply(const struct sandbox_opts *o);

#endif
