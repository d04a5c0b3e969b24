/*
 * Several front processes: the fork, and the first process's watch over
 * the others.  See fronts.h.
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "fronts.h"
#include "log.h"

struct fronts {
	unsigned int	 n;
	pid_t		 pid[FRONTS_MAX];	/* [0] unused; 0: ended */
	int		 status[FRONTS_MAX];
	bool		 first;
	bool		 stopping;
	struct event	*sigchld;
	void		(*lost)(void *);
	void		*lost_arg;
};

unsigned int
fronts_wanted(unsigned int front_processes)
{
	long	 cpus;

	if (front_processes > 0)
		return front_processes > FRONTS_MAX ? FRONTS_MAX :
		    front_processes;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		return 1;
	return cpus > FRONTS_MAX ? FRONTS_MAX : (unsigned int)cpus;
}

struct fronts *
fronts_fork(unsigned int n, unsigned int *index)
{
	struct fronts *fs;
	pid_t	 first = getpid(), pid;
	unsigned int i;
	int	 saved;

	if (n < 1 || n > FRONTS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if ((fs = calloc(1, sizeof(*fs))) == NULL)
		return NULL;
	fs->n = n;
	fs->first = true;
	*index = 0;
	for (i = 1; i < n; i++) {
		switch ((pid = fork())) {
		case -1:
			saved = errno;
			fronts_signal(fs, SIGKILL);
			(void)fronts_wait(fs);
			free(fs);
			errno = saved;
			return NULL;
		case 0:
			/* Not the first: none of its children are ours. */
			memset(fs->pid, 0, sizeof(fs->pid));
			fs->first = false;
			*index = i;
			if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
			    getppid() != first)
				_exit(1);
			return fs;
		default:
			fs->pid[i] = pid;
		}
	}
	return fs;
}

/* Reaps the fronts that ended; true when one ended unasked. */
static bool
reap(struct fronts *fs, int options)
{
	unsigned int i;
	bool	 unasked = false;
	pid_t	 w;
	int	 st;

	for (i = 1; i < fs->n; i++) {
		if (fs->pid[i] == 0)
			continue;
		do
			w = waitpid(fs->pid[i], &st, options);
		while (w == -1 && errno == EINTR);
		if (w == 0)
			continue;
		if (w == -1)
			st = 0;
		else if (WIFSIGNALED(st))
			log_error("front %u (pid %ld) killed by signal %d", i,
			    (long)fs->pid[i], WTERMSIG(st));
		else if (WEXITSTATUS(st) != 0)
			log_error("front %u (pid %ld) exited with status %d",
			    i, (long)fs->pid[i], WEXITSTATUS(st));
		fs->status[i] = st;
		fs->pid[i] = 0;
		if (!fs->stopping)
			unasked = true;
	}
	return unasked;
}

static void
on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct fronts *fs = arg;

	(void)sig;
	(void)what;
	if (reap(fs, WNOHANG) && fs->lost != NULL) {
		log_error("a front process ended unasked: stopping them all");
		fs->lost(fs->lost_arg);
	}
}

int
fronts_watch(struct fronts *fs, struct event_base *base,
    void (*lost)(void *), void *arg)
{
	if (fs == NULL || !fs->first || fs->n < 2)
		return 0;
	fs->lost = lost;
	fs->lost_arg = arg;
	if ((fs->sigchld = evsignal_new(base, SIGCHLD, on_sigchld,
	    fs)) == NULL || evsignal_add(fs->sigchld, NULL) == -1)
		return -1;
	/* One may have ended before the watch began. */
	on_sigchld(SIGCHLD, EV_SIGNAL, fs);
	return 0;
}

void
fronts_signal(struct fronts *fs, int sig)
{
	unsigned int i;

	if (fs == NULL || !fs->first)
		return;
	for (i = 1; i < fs->n; i++)
		if (fs->pid[i] != 0)
			(void)kill(fs->pid[i], sig);
}

void
fronts_stop(struct fronts *fs)
{
	if (fs == NULL || !fs->first)
		return;
	fs->stopping = true;
	fronts_signal(fs, SIGTERM);
}

bool
fronts_wait(struct fronts *fs)
{
	unsigned int i;
	bool	 clean = true;

	if (fs == NULL || !fs->first)
		return true;
	fs->stopping = true;
	(void)reap(fs, 0);
	for (i = 1; i < fs->n; i++)
		if (fs->status[i] != 0)
			clean = false;
	return clean;
}

unsigned int
fronts_count(const struct fronts *fs)
{
	return fs == NULL ? 1 : fs->n;
}

void
fronts_free(struct fronts *fs)
{
	if (fs == NULL)
		return;
	if (fs->sigchld != NULL)
		event_free(fs->sigchld);
	free(fs);
}
