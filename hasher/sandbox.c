/*
 * Lock-down of the hasher; see sandbox.h for the order and what is left.
 */
#define _GNU_SOURCE	/* setresuid, getresuid */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <errno.h>
#include <stdbool.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <seccomp.h>

#include "log.h"
#include "sandbox.h"

#if defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define SANDBOX_ASAN 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SANDBOX_ASAN)
#  define SANDBOX_ASAN 1
#endif
/* The sanitized build is the debugging build: it names what it kills. */
#if defined(SANDBOX_ASAN) && !defined(WARDEN_SANDBOX_DEBUG)
#  define WARDEN_SANDBOX_DEBUG 1
#endif

/* Landlock: the uapi header may predate the kernel; these are stable ABI. */
#ifndef SYS_landlock_create_ruleset
#  define SYS_landlock_create_ruleset	444
#  define SYS_landlock_restrict_self	446
#endif
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#  define LANDLOCK_CREATE_RULESET_VERSION	(1U << 0)
#endif
#define LL_FS_V1		((1ULL << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER		(1ULL << 13)		/* ABI 2 */
#define LL_FS_TRUNCATE		(1ULL << 14)		/* ABI 3 */
#define LL_FS_IOCTL_DEV		(1ULL << 15)		/* ABI 5 */
#define LL_NET_TCP		((1ULL << 0) | (1ULL << 1))	/* ABI 4 */
#define LL_SCOPE_ALL		((1ULL << 0) | (1ULL << 1))	/* ABI 6 */

/* struct landlock_ruleset_attr as of ABI 6; older kernels take a prefix. */
struct sandbox_ll_attr {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;
	uint64_t	scoped;
};

/* ---------------------------------------------------------------- drop */

/*
 * Enters dir as the new root.  The directory is opened without following
 * links and checked through that descriptor, so what is checked is what
 * is entered.
 */
/* True when the directory open on fd holds nothing but "." and "..". */
static bool
dir_is_empty(int fd)
{
	struct dirent *de;
	DIR	*d;
	int	 dup_fd;
	bool	 empty = true;

	if ((dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    (d = fdopendir(dup_fd)) == NULL)
		fatal_f("reading the chroot directory: %s", strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			empty = false;
			break;
		}
	}
	closedir(d);
	return empty;
}

static void
sandbox_chroot(const char *dir)
{
	struct stat st;
	int fd;

	if (dir == NULL || *dir != '/')
		fatal_f("hasher_chroot must be an absolute path");
	if (mkdir(dir, 0755) == 0) {
		/* umask may have narrowed it; root owns it either way */
		if (chmod(dir, 0755) == -1 || chown(dir, 0, 0) == -1)
			fatal_f("chroot %s: %s", dir, strerror(errno));
	} else if (errno != EEXIST)
		fatal_f("mkdir %s: %s", dir, strerror(errno));
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		fatal_f("open %s: %s", dir, strerror(errno));
	if (fstat(fd, &st) == -1)
		fatal_f("fstat %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		fatal_f("chroot %s: not a directory", dir);
	if (st.st_uid != 0)
		fatal_f("chroot %s: not owned by root", dir);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		fatal_f("chroot %s: writable by group or others", dir);
	/* An empty root: "/" or /etc would hand the hasher a file system. */
	if (!dir_is_empty(fd))
		fatal_f("chroot %s: not an empty directory", dir);
	if (fchdir(fd) == -1)
		fatal_f("chdir %s: %s", dir, strerror(errno));
	if (chroot(".") == -1)
		fatal_f("chroot %s: %s", dir, strerror(errno));
	if (chdir("/") == -1)
		fatal_f("chdir /: %s", strerror(errno));
	close(fd);
}

static void
sandbox_drop_root(const struct sandbox_opts *o)
{
	struct passwd *pw;
	uid_t uid, ru, eu, su;
	gid_t gid, rg, eg, sg;

	if (o->user == NULL || *o->user == '\0')
		fatal_f("running as root: hasher_user must be set");
	/* Before chroot: the password database stays outside. */
	errno = 0;
	if ((pw = getpwnam(o->user)) == NULL)
		fatal_f("hasher_user %s: %s", o->user,
		    errno ? strerror(errno) : "no such user");
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	endpwent();
	if (uid == 0)
		fatal_f("hasher_user %s is root; refusing", o->user);

	sandbox_chroot(o->chroot_dir);

	if (setgroups(0, NULL) == -1)
		fatal_f("setgroups: %s", strerror(errno));
	if (setresgid(gid, gid, gid) == -1)
		fatal_f("setresgid %u: %s", (unsigned)gid, strerror(errno));
	if (setresuid(uid, uid, uid) == -1)
		fatal_f("setresuid %u: %s", (unsigned)uid, strerror(errno));

	/* The drop must be final. */
	if (getresuid(&ru, &eu, &su) == -1 || ru != uid || eu != uid ||
	    su != uid)
		fatal_f("uid drop did not take");
	if (getresgid(&rg, &eg, &sg) == -1 || rg != gid || eg != gid ||
	    sg != gid)
		fatal_f("gid drop did not take");
	if (getgroups(0, NULL) != 0)
		fatal_f("supplementary groups remain");
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatal_f("could regain root after the drop");
	if (gid != 0 && (setgid(0) != -1 || setegid(0) != -1))
		fatal_f("could regain gid 0 after the drop");
}

static void
sandbox_landlock(void)
{
	struct sandbox_ll_attr attr;
	size_t size;
	long abi;
	int fd;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		if (errno == ENOSYS || errno == EOPNOTSUPP) {
			log_warn("landlock unavailable (%s); relying on "
			    "chroot and seccomp", strerror(errno));
			return;
		}
		fatal_f("landlock ABI: %s", strerror(errno));
	}

	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = LL_FS_V1;
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	size = sizeof(attr.handled_access_fs);
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_TCP;
		size += sizeof(attr.handled_access_net);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ALL;
		size += sizeof(attr.scoped);
	}

	/* A ruleset with no rule: every handled access is denied. */
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size,
	    0)) < 0)
		fatal_f("landlock_create_ruleset: %s", strerror(errno));
	if (syscall(SYS_landlock_restrict_self, fd, 0) != 0)
		fatal_f("landlock_restrict_self: %s", strerror(errno));
	close(fd);
	log_debug("landlock ABI %ld applied", abi);
}

void
sandbox_drop(const struct sandbox_opts *o)
{
	uid_t ru, eu, su;

	if (getresuid(&ru, &eu, &su) == -1)
		fatal_f("getresuid: %s", strerror(errno));
	if (ru == 0 || eu == 0 || su == 0) {
		if (eu != 0)
			fatal_f("mixed root and non-root uids; refusing");
		sandbox_drop_root(o);
	}

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal_f("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal_f("PR_SET_DUMPABLE: %s", strerror(errno));
	sandbox_landlock();
}

/* ---------------------------------------------------------------- lock */

/*
 * The highest descriptor open below 1024.  The hasher starts with a
 * handful (closefrom() before exec); a descriptor above the scan would
 * stay usable (a limit never closes anything), it is just not counted.
 */
static int
sandbox_highest_fd(void)
{
	struct rlimit rl;
	int fd, max = 1024, highest = -1;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (fd = 0; fd < max; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			highest = fd;
	return highest;
}

static bool
sandbox_is_file(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static void
sandbox_rlimit(int resource, const char *name, rlim_t v)
{
	struct rlimit rl = { v, v };

	if (setrlimit(resource, &rl) == -1)
		fatal_f("setrlimit %s %llu: %s", name, (unsigned long long)v,
		    strerror(errno));
}

static void
sandbox_rlimits(const struct sandbox_opts *o)
{
	rlim_t nofile;

	/* No descriptor can be made past those we hold, save room for the
	 * sockets split mode accepts. */
	nofile = (rlim_t)sandbox_highest_fd() + 1;
	if (o->listen_fd >= 0)
		nofile += o->max_conns + 1;	/* +1: accept to refuse */
	sandbox_rlimit(RLIMIT_NOFILE, "NOFILE", nofile);
	sandbox_rlimit(RLIMIT_NPROC, "NPROC", 0);
	sandbox_rlimit(RLIMIT_CORE, "CORE", 0);
	/*
	 * FSIZE 0 turns every write to a regular file into SIGXFSZ, and the
	 * only regular files we could write are the log, when stderr was
	 * redirected to one.  Landlock and seccomp already keep us from
	 * opening any other.
	 */
	if (sandbox_is_file(STDOUT_FILENO) || sandbox_is_file(STDERR_FILENO))
		log_info("stderr is a regular file: RLIMIT_FSIZE left as it "
		    "is, so that logging goes on");
	else
		sandbox_rlimit(RLIMIT_FSIZE, "FSIZE", 0);
}

#ifdef WARDEN_SANDBOX_DEBUG
static void
sandbox_sigsys(int sig, siginfo_t *si, void *uc)
{
	char msg[64] = "sandbox: forbidden system call ";
	size_t n = strlen(msg);
	char digits[12];
	int nr = si->si_syscall, i = 0;

	(void)uc;
	if (nr < 0)
		nr = -nr;
	do {
		digits[i++] = (char)('0' + nr % 10);
		nr /= 10;
	} while (nr > 0 && i < (int)sizeof(digits));
	while (i > 0 && n < sizeof(msg) - 2)
		msg[n++] = digits[--i];
	msg[n++] = '\n';
	(void)!write(STDERR_FILENO, msg, n);
	signal(sig, SIG_DFL);
	raise(sig);	/* delivered, and fatal, once we return */
}
#endif

/* An argument comparison (libseccomp's SCMP_A* macros leave fields for
 * the compiler to complain about). */
static struct scmp_arg_cmp
arg_cmp(unsigned int arg, enum scmp_compare op, scmp_datum_t a,
    scmp_datum_t b)
{
	struct scmp_arg_cmp c;

	memset(&c, 0, sizeof(c));
	c.arg = arg;
	c.op = op;
	c.datum_a = a;
	c.datum_b = b;
	return c;
}

static void
sandbox_add(scmp_filter_ctx ctx, uint32_t action, int nr, const char *name,
    unsigned int argc, const struct scmp_arg_cmp *args)
{
	int r;

	if (nr < 0)	/* not a system call on this architecture */
		return;
	if ((r = seccomp_rule_add_array(ctx, action, nr, argc, args)) < 0)
		fatal_f("seccomp rule %s: %s", name, strerror(-r));
}

#define ALLOW(sys)							\
	sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sys), #sys, 0, NULL)
#define DENY(sys, err)							\
	sandbox_add(ctx, SCMP_ACT_ERRNO(err), SCMP_SYS(sys), #sys, 0, NULL)

static void
sandbox_seccomp(const struct sandbox_opts *o)
{
	scmp_filter_ctx ctx;
	uint32_t def;
	int r;

#ifdef WARDEN_SANDBOX_DEBUG
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		fatal_f("sigaction SIGSYS: %s", strerror(errno));
	def = SCMP_ACT_TRAP;
#else
	def = SCMP_ACT_KILL_PROCESS;
#endif
	if ((ctx = seccomp_init(def)) == NULL)
		fatal_f("seccomp_init failed");
	/* Other architectures' (and x32's) numbers: kill, whatever they are. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) < 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		fatal_f("seccomp_attr_set: %s", strerror(-r));

	/* The protocol loop and the answers. */
	ALLOW(read);
	ALLOW(readv);
	ALLOW(write);
	ALLOW(writev);
	{
		/* send(2) with MSG_DONTWAIT: on the connection, never to an
		 * address */
		struct scmp_arg_cmp noaddr = arg_cmp(4, SCMP_CMP_EQ, 0, 0);

		sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), "sendto",
		    1, &noaddr);
	}
	ALLOW(poll);
	ALLOW(ppoll);
	ALLOW(close);
	ALLOW(shutdown);
	/* Threads, locks, signals. */
	ALLOW(futex);
	ALLOW(sched_yield);
	ALLOW(nanosleep);
	ALLOW(clock_nanosleep);
	ALLOW(rt_sigreturn);
	ALLOW(rt_sigprocmask);
	ALLOW(rt_sigaction);
	ALLOW(sigaltstack);
	ALLOW(restart_syscall);
	ALLOW(getpid);
	ALLOW(gettid);
	ALLOW(exit);
	ALLOW(exit_group);
	{
		/* abort() and raise() signal themselves, and no one else */
		struct scmp_arg_cmp self = arg_cmp(0, SCMP_CMP_EQ,
		    (scmp_datum_t)getpid(), 0);

		sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), "tgkill",
		    1, &self);
	}
	/* Memory: malloc, Argon2id's arena, sodium_malloc's guard pages;
	 * nothing executable, ever. */
	{
		struct scmp_arg_cmp noexec = arg_cmp(2, SCMP_CMP_MASKED_EQ,
		    PROT_EXEC, 0);

		sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), "mmap",
		    1, &noexec);
		sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect),
		    "mprotect", 1, &noexec);
	}
	ALLOW(munmap);
	ALLOW(mremap);
	ALLOW(madvise);
	ALLOW(brk);
	ALLOW(mlock);
	ALLOW(munlock);
	/* Time and randomness (jti, nonces, salts). */
	ALLOW(clock_gettime);
	ALLOW(clock_getres);
	ALLOW(gettimeofday);
	ALLOW(time);
	ALLOW(getrandom);
	/* Split mode: accept on our own socket, check the peer. */
	if (o->listen_fd >= 0) {
		struct scmp_arg_cmp lfd = arg_cmp(0, SCMP_CMP_EQ,
		    (scmp_datum_t)o->listen_fd, 0);
		struct scmp_arg_cmp cred[2] = {
			arg_cmp(1, SCMP_CMP_EQ, SOL_SOCKET, 0),
			arg_cmp(2, SCMP_CMP_EQ, SO_PEERCRED, 0),
		};

		sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(accept), "accept",
		    1, &lfd);
		sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(accept4), "accept4",
		    1, &lfd);
		sandbox_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getsockopt),
		    "getsockopt", 2, cred);
	}

	/* Harmless probes fail, so libraries degrade instead of dying. */
	DENY(open, EACCES);
	DENY(openat, EACCES);
	DENY(openat2, EACCES);
	DENY(creat, EACCES);
	DENY(stat, EACCES);
	DENY(lstat, EACCES);
	DENY(fstat, EACCES);
	DENY(newfstatat, EACCES);
	DENY(statx, EACCES);
	DENY(access, EACCES);
	DENY(faccessat, EACCES);
	DENY(faccessat2, EACCES);
	DENY(readlink, EACCES);
	DENY(readlinkat, EACCES);
	DENY(socket, EACCES);
	DENY(socketpair, EACCES);
	DENY(pipe, EACCES);
	DENY(pipe2, EACCES);
	DENY(ioctl, ENOTTY);
	DENY(sysinfo, ENOSYS);
	DENY(sched_getaffinity, ENOSYS);
	DENY(prctl, EACCES);
	DENY(getrlimit, EACCES);
	DENY(prlimit64, EACCES);
	DENY(uname, EACCES);
	DENY(lseek, ESPIPE);
	DENY(fcntl, EACCES);

	if ((r = seccomp_load(ctx)) < 0)
		fatal_f("seccomp_load: %s", strerror(-r));
	seccomp_release(ctx);
}

void
sandbox_lock(const struct sandbox_opts *o)
{
	sandbox_rlimits(o);
	sandbox_seccomp(o);
	log_debug("sandbox locked");
}

void
sandbox_apply(const struct sandbox_opts *o)
{
	sandbox_drop(o);
	sandbox_lock(o);
}
