/*
 * wardenctl keygen: runs `<hasher_path> --keygen DIR`, so that the key code
 * stays in the hasher and wardenctl links none of it (main.c has found the
 * hasher with ctl_find_hasher).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"

int
cmd_keygen(const struct cfg *cfg, const char *dir)
{
	char	*argv[4];
	pid_t	 pid;
	int	 status;

	if (dir == NULL || *dir == '\0')
		dir = cfg->key_dir;
	if (*dir == '\0') {
		fprintf(stderr, PROG ": keygen: no directory given and "
		    "key_dir is not set\n");
		return 1;
	}
	argv[0] = cfg->hasher_path;
	argv[1] = (char *)"--keygen";
	argv[2] = (char *)dir;
	argv[3] = NULL;
	fflush(NULL);
	if ((pid = fork()) == -1) {
		fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execv(argv[0], argv);
		fprintf(stderr, PROG ": %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, PROG ": waitpid: %s\n",
			    strerror(errno));
			return 1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		fprintf(stderr, PROG ": keygen: %s exited with status %d\n",
		    argv[0], WEXITSTATUS(status));
	else
		fprintf(stderr, PROG ": keygen: %s killed by signal %d\n",
		    argv[0], WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return 1;
}
