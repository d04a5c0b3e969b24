/*
 * ceil_argon2: the ceiling of password logins and registrations on this
 * machine, Argon2id through libsodium at a given cost on N threads, each
 * hashing as fast as it can, for a given time.  Prints one line of JSON:
 *	{"threads":2,"memory":19922944,"iterations":2,"seconds":8.0,
 *	 "hashes":472,"rate":59.0}
 *
 *	ceil_argon2 [-t threads] [-m memory_bytes] [-i iterations] [-s seconds]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

static size_t		 memory = 19 * 1024 * 1024;
static unsigned long long iterations = 2;
static atomic_bool	 stop;
static atomic_ulong	 hashes;

static void *
hash_loop(void *arg)
{
	char	 out[crypto_pwhash_STRBYTES];
	const char pw[] = "correct horse battery staple";

	(void)arg;
	while (!atomic_load(&stop)) {
		if (crypto_pwhash_str_alg(out, pw, sizeof(pw) - 1, iterations,
		    memory, crypto_pwhash_ALG_ARGON2ID13) != 0) {
			fprintf(stderr, "ceil_argon2: out of memory\n");
			exit(1);
		}
		atomic_fetch_add(&hashes, 1);
	}
	return NULL;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	pthread_t th[256];
	unsigned int n = 2, i;
	double	 seconds = 8, t0, t;
	int	 ch;

	while ((ch = getopt(argc, argv, "t:m:i:s:")) != -1) {
		switch (ch) {
		case 't': n = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'm': memory = strtoull(optarg, NULL, 10); break;
		case 'i': iterations = strtoull(optarg, NULL, 10); break;
		case 's': seconds = strtod(optarg, NULL); break;
		default:
			fprintf(stderr, "usage: ceil_argon2 [-t threads] "
			    "[-m memory] [-i iterations] [-s seconds]\n");
			return 2;
		}
	}
	if (n < 1 || n > 256 || seconds <= 0 || sodium_init() < 0) {
		fprintf(stderr, "ceil_argon2: bad arguments\n");
		return 2;
	}
	t0 = now();
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, hash_loop, NULL) != 0) {
			fprintf(stderr, "ceil_argon2: pthread_create\n");
			return 1;
		}
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&stop, true);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	t = now() - t0;
	printf("{\"threads\":%u,\"memory\":%zu,\"iterations\":%llu,"
	    "\"seconds\":%.2f,\"hashes\":%lu,\"rate\":%.2f}\n", n, memory,
	    iterations, t, atomic_load(&hashes),
	    (double)atomic_load(&hashes) / t);
	return 0;
}
