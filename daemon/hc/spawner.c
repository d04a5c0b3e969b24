#include <sys/prctl.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bsd/unistd.h>

#include "hasher_spawn.h"
#include "log.h"
#include "spawner.h"

struct spawner {
	int	fd;
	pid_t	pid;
};

static int
send_fd(int sock, int fd)
{
	char	 byte = fd >= 0 ? 'y' : 'n';
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		memset(&cmsg, 0, sizeof(cmsg));
		msg.msg_control = cmsg.buf;
		msg.msg_controllen = sizeof(cmsg.buf);
		cmsg.hdr.cmsg_len = CMSG_LEN(sizeof(int));
		cmsg.hdr.cmsg_level = SOL_SOCKET;
		cmsg.hdr.cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(&cmsg.hdr), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/*
 * Receives one message: returns 1 with the descriptor it carried in *fd
 * (-1 for a refusal), or -1 (errno set; EAGAIN under MSG_DONTWAIT when
 * nothing is there) or 0 when the helper has gone.
 */
static int
recv_msg(int sock, int flags, int *fd)
{
	char	 byte;
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cmsg.buf, .msg_controllen = sizeof(cmsg.buf),
	};
	struct cmsghdr *h;
	ssize_t	 n;

	*fd = -1;
	if ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags)) <= 0)
		return n == 0 ? 0 : -1;
	h = CMSG_FIRSTHDR(&msg);
	if (h != NULL && h->cmsg_level == SOL_SOCKET &&
	    h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(h), sizeof(int));
	if (byte != 'y' && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return 1;
}

/* The helper's whole life: one byte in, one hasher out. */
static void __attribute__((noreturn))
helper_loop(int sock, const char *path, const char *config_path)
{
	unsigned int live = 0;
	char	 byte;
	pid_t	 pid;
	int	 fd;

	for (;;) {
		ssize_t n = read(sock, &byte, 1);

		while (waitpid(-1, NULL, WNOHANG) > 0)
			live--;	/* hashers that have exited */
		if (n == -1 && errno == EINTR)
			continue;
		if (n != 1)
			break;	/* wardend is gone */
		/* A front gone wrong must not fill the host with hashers. */
		if (live >= SPAWNER_MAX_HASHERS) {
			log_error("spawner: %u hashers still running; refusing "
			    "another", live);
			send_fd(sock, -1);
			continue;
		}
		fd = hasher_spawn(path, config_path, &pid);
		if (fd >= 0)
			live++;
		if (send_fd(sock, fd) == -1 && fd >= 0)
			log_error("spawner: cannot hand over the hasher socket");
		if (fd >= 0)
			close(fd);
	}
	while (waitpid(-1, NULL, 0) > 0)
		;
	_exit(0);
}

struct spawner *
spawner_start(const char *hasher_path, const char *config_path)
{
	struct spawner *s;
	int	 sv[2], saved;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		saved = errno;
		free(s);
		errno = saved;
		return NULL;
	}
	switch (s->pid = fork()) {
	case -1:
		saved = errno;
		close(sv[0]);
		close(sv[1]);
		free(s);
		errno = saved;
		return NULL;
	case 0:
		close(sv[0]);
		/* Told apart from the front processes in ps and top. */
		(void)prctl(PR_SET_NAME, "wardend-spawner");
		signal(SIGINT, SIG_IGN);	/* wardend decides when we go */
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_IGN);
		if (sv[1] != 3) {
			if (dup2(sv[1], 3) == -1)
				_exit(1);
			close(sv[1]);
		}
		closefrom(4);
		helper_loop(3, hasher_path, config_path);
	}
	close(sv[1]);
	s->fd = sv[0];
	return s;
}

int
spawner_spawn(void *arg, pid_t *pid)
{
	struct spawner *s = arg;
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	char	 byte = 's';
	int	 fd;

	*pid = 0;
	/* Replies that came after an earlier request timed out are stale:
	 * close their hashers' sockets (those hashers then exit). */
	while (recv_msg(s->fd, MSG_DONTWAIT, &fd) == 1) {
		if (fd >= 0)
			close(fd);
	}
	if (write(s->fd, &byte, 1) != 1)
		return -1;
	if (poll(&pfd, 1, SPAWNER_TIMEOUT_MS) != 1) {
		log_error("spawner: no answer within %d ms", SPAWNER_TIMEOUT_MS);
		return -1;
	}
	if (recv_msg(s->fd, 0, &fd) != 1)
		return -1;
	return fd;
}

void
spawner_stop(struct spawner *s)
{
	if (s == NULL)
		return;
	close(s->fd);
	waitpid(s->pid, NULL, 0);
	free(s);
}
