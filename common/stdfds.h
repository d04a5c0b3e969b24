/*
 * Descriptors 0, 1 and 2 are open before anything else is, as OpenSSH's
 * sanitise_stdfd() makes sure: a daemon started with one of them closed
 * would otherwise get its first socket or file there, and then write log
 * lines into it, or lose it to a later dup2() onto 0-2.
 */
#ifndef WARDEN_STDFDS_H
#define WARDEN_STDFDS_H

/* Opens /dev/null on each of 0, 1 and 2 that is closed; the open ones are
 * left alone.  Returns 0, or -1 (errno set) when /dev/null cannot be had:
 * the caller should exit, for it cannot even say so reliably. */
int	stdfds_ensure(void);

#endif
