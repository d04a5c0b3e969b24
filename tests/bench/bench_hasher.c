/*
 * bench_hasher: throughput of the real warden-hasher, spawned as wardend
 * spawns it, under N concurrent HASH requests.  Not a test: it prints
 * numbers and exits 0 unless something failed.
 *
 *	bench_hasher [-w workers] [-n requests] [-c in-flight] [-m memory]
 *	    [-t iterations] [hasher]
 *
 * Defaults: the hasher's defaults (argon2_memory 19M, 2 iterations, one
 * worker per CPU), 64 requests, 8 in flight, $WARDEN_HASHER or
 * build/release/warden-hasher.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "hc/hasher_spawn.h"
#include "keys.h"
#include "../unit/hasher_wire.h"
#include "proto_io.h"
#include "../unit/testdir.h"

#define MAX_REQUESTS	100000

static char tmpdir[64];
static struct timespec epoch;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench_hasher: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (tmpdir[0] != '\0')
		rm_tree(tmpdir);
	exit(1);
}

/* Seconds since the benchmark began. */
static double
now_s(void)
{
	return clock_ms_since(&epoch) / 1e3;
}

static long
num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		die("bad number: %s", s);
	return v;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	const char *hasher, *memory = "19M";
	long workers = 0, requests = 64, inflight = 8, iterations = 2;
	char keydir[PATH_MAX], conf[PATH_MAX], err[512];
	double *sent, *lat, t0, t1, cpu;
	struct rusage ru;
	struct proto_hash_req req;
	struct proto_buf b;
	struct proto_frame *f;
	enum proto_io_status st;
	long next = 0, done = 0, busy = 0;
	int ch, fd, status;
	FILE *fp;
	pid_t pid;

	while ((ch = getopt(argc, argv, "w:n:c:m:t:")) != -1) {
		switch (ch) {
		case 'w':
			workers = num(optarg, 0, 256);
			break;
		case 'n':
			requests = num(optarg, 1, MAX_REQUESTS);
			break;
		case 'c':
			inflight = num(optarg, 1, 4096);
			break;
		case 'm':
			memory = optarg;
			break;
		case 't':
			iterations = num(optarg, 1, 64);
			break;
		default:
			fprintf(stderr, "usage: bench_hasher [-w workers] "
			    "[-n requests] [-c in-flight] [-m memory] "
			    "[-t iterations] [hasher]\n");
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0)
		hasher = argv[0];
	else if ((hasher = getenv("WARDEN_HASHER")) == NULL)
		hasher = "build/release/warden-hasher";
	if (access(hasher, X_OK) == -1)
		die("%s: %s", hasher, strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		die("sodium_init failed");

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/warden-bench-XXXXXX");
	if (mkdtemp(tmpdir) == NULL || chmod(tmpdir, 0755) == -1)
		die("mkdtemp: %s", strerror(errno));
	snprintf(keydir, sizeof(keydir), "%s/keys", tmpdir);
	snprintf(conf, sizeof(conf), "%s/warden.conf", tmpdir);
	if (keys_generate(keydir, err, sizeof(err)) == -1)
		die("keys: %s", err);
	if ((fp = fopen(conf, "w")) == NULL)
		die("%s: %s", conf, strerror(errno));
	fprintf(fp, "key_dir %s\nargon2_memory %s\nargon2_iterations %ld\n"
	    "hasher_workers %ld\nhasher_queue %ld\nhasher_chroot %s/root\n"
	    "hasher_user nobody\nlog_level warn\n", keydir, memory,
	    iterations, workers, inflight, tmpdir);
	if (fclose(fp) != 0)
		die("%s: %s", conf, strerror(errno));

	sent = calloc((size_t)requests, sizeof(*sent));
	lat = calloc((size_t)requests, sizeof(*lat));
	f = malloc(sizeof(*f));
	if (sent == NULL || lat == NULL || f == NULL)
		die("out of memory");
	clock_now(&epoch);

	if ((fd = hasher_spawn(hasher, conf, &pid)) == -1)
		die("spawn %s: %s", hasher, strerror(errno));
	if ((st = proto_io_hello(fd, 0, f, HC_TIMEOUT_MS)) != PROTO_IO_OK)
		die("no R_HELLO from the hasher: %s", proto_io_strerror(st));
	proto_buf_init(&b);
	memset(&req, 0, sizeof(req));
	strlcpy(req.user_id, "11111111-2222-4333-8444-555555555555", sizeof(req.user_id));
	req.password_len = 20;
	memcpy(req.password, "bench password 12345", 20);

	t0 = now_s();
	while (done < requests) {
		while (next < requests && next - done < inflight) {
			if (proto_encode_hash_req(&b, (uint32_t)next + 1,
			    &req) == -1)
				die("encode");
			sent[next++] = now_s();
		}
		if (b.len > 0 && (st = proto_io_send(fd, &b,
		    HC_TIMEOUT_MS)) != PROTO_IO_OK)
			die("write: %s", proto_io_strerror(st));
		if ((st = proto_io_read_frame(fd, f, HC_TIMEOUT_MS)) !=
		    PROTO_IO_OK)
			die("no answer from the hasher: %s",
			    proto_io_strerror(st));
		if (f->h.id < 1 || f->h.id > (uint32_t)next)
			die("answer with unknown id %u", f->h.id);
		if (f->h.type == PROTO_R_ERROR)
			busy++;
		else if (f->h.type != PROTO_R_HASH)
			die("unexpected answer type 0x%04x", f->h.type);
		lat[done++] = now_s() - sent[f->h.id - 1];
	}
	t1 = now_s();

	close(fd);
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		die("the hasher did not exit cleanly");
	/* CPU time per hash, start-up's two self-test hashes included: the
	 * cost that does not depend on what else the machine runs. */
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	qsort(lat, (size_t)requests, sizeof(*lat), cmp_double);
	if (workers == 0)
		snprintf(err, sizeof(err), "cpus");
	else
		snprintf(err, sizeof(err), "%ld", workers);
	printf("workers=%-3s memory=%s t=%ld requests=%ld in-flight=%ld: "
	    "%.1f hashes/s, latency p50 %.1f ms, p95 %.1f ms, "
	    "hasher CPU %.1f ms/hash%s\n",
	    err, memory, iterations, requests, inflight,
	    (double)requests / (t1 - t0), lat[requests / 2] * 1e3,
	    lat[(requests * 95) / 100 < requests ? (requests * 95) / 100 :
	    requests - 1] * 1e3, cpu * 1e3 / (double)(requests + 2),
	    busy ? " (some answers were BUSY)" : "");
	proto_buf_free(&b);
	free(sent);
	free(lat);
	free(f);
	rm_tree(tmpdir);
	return busy ? 1 : 0;
}
