/*
 * fork + exec of warden-hasher with its socket moved to WARDEN_HASHER_FD.
 * Between fork and exec the child calls only async-signal-safe functions:
 * the front may hold locks in other threads.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "hasher_spawn.h"

/* write(2) of a NUL-terminated string, nothing else (signal-safe). */
static void
spawn_say(const char *s)
{
	(void)!write(STDERR_FILENO, s, strlen(s));
}

static void
spawn_child(int fd, const char *path, const char *config_path)
{
	char *argv[4];
	struct sigaction sa;
	sigset_t none;
	int sig, argc = 0;

	/* Ignored signals and the mask survive exec: start clean. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	if (fd == WARDEN_HASHER_FD) {
		/* dup2() onto itself would keep close-on-exec set */
		if (fcntl(fd, F_SETFD, 0) == -1)
			goto fail;
	} else if (dup2(fd, WARDEN_HASHER_FD) == -1)
		goto fail;
	closefrom(WARDEN_HASHER_FD + 1);

	argv[argc++] = (char *)path;
	if (config_path != NULL) {
		argv[argc++] = (char *)"-f";
		argv[argc++] = (char *)config_path;
	}
	argv[argc] = NULL;
	execv(path, argv);
fail:
	spawn_say("warden-hasher: cannot start ");
	spawn_say(path);
	spawn_say(": ");
	spawn_say(strerror(errno));	/* glibc's is safe enough here */
	spawn_say("\n");
	_exit(127);
}

int
hasher_spawn(const char *path, const char *config_path, pid_t *pid)
{
	int sv[2], saved;
	pid_t child;

	if (path == NULL || pid == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if ((child = fork()) == -1) {
		saved = errno;
		close(sv[0]);
		close(sv[1]);
		errno = saved;
		return -1;
	}
	if (child == 0)
		spawn_child(sv[1], path, config_path);	/* no return */
	close(sv[1]);
	*pid = child;
	return sv[0];
}
