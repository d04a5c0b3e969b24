/*
 * warden-hasher: holds the signing keys and the pepper, hashes, verifies
 * and signs for wardend, and nothing else.
 *
 *	warden-hasher [-d] [-f config]		spawn mode: serve the socket on
 *						fd 3 (WARDEN_HASHER_FD) that
 *						wardend handed over; exit 0
 *						when wardend closes it, 1
 *						after dropping it
 *	warden-hasher [-d] [-f config] -l	split mode: listen on
 *						hasher_socket (or a socket on
 *						fd 3 from systemd socket
 *						activation), serving peers with
 *						the uid of `user`
 *	warden-hasher [--publish-delay S] --keygen DIR
 *						make a new Ed25519, RSA and
 *						pepper key, print their kids:
 *						current at once (S 0, the
 *						default, or a new DIR), else
 *						next from now + S seconds
 *	warden-hasher --list-keys DIR		list the keys of DIR: ids,
 *						which are current, public
 *						parts only (wardenctl key list)
 *
 * Set-up, then lock-down, then service: sodium_init, keys, a self-test
 * hash and ID-token signature, sandbox_drop(), worker threads,
 * sandbox_lock(), the loop.  The process ends with _exit() after wiping
 * the keys: exit-time handlers
 * have nothing left to do, and could not make their system calls.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <liboath/oath.h>
#include <sodium.h>

#include "b64url.h"
#include "config.h"
#include "jwt_check.h"
#include "jwt_sign.h"
#include "keys.h"
#include "legacy_hash.h"
#include "log.h"
#include "password.h"
#include "proto.h"
#include "sandbox.h"
#include "server.h"
#include "stdfds.h"
#include "unix_listen.h"
#include "util.h"

/*
 * LeakSanitizer's exit-time check stops the world with clone(2) and
 * ptrace(2), which the sandbox kills.  In a sanitized build it runs once
 * before lock-down instead (leaks of the set-up show there; the protocol
 * loop's are tested in-process by tests/unit/test_hasher_server.c); after
 * that call no check runs at exit, so a fatal() in the sandbox still exits
 * 1.  Elsewhere the weak symbol is NULL.
 */
extern void __lsan_do_leak_check(void) __attribute__((weak));

#ifndef WARDEN_CONFIG_PATH
#define WARDEN_CONFIG_PATH	"/etc/warden/warden.conf"
#endif

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: warden-hasher [-d] [-f config] [-l]\n"
	    "       warden-hasher [--publish-delay seconds] --keygen dir\n"
	    "       warden-hasher --list-keys dir\n");
	exit(2);
}

/*
 * Makes new keys (keys_generate_next) and prints their kids and the
 * instant they sign from:
 *	sign <kid>\npepper <kid>\nrsa <kid>\nfrom <seconds since the epoch>
 */
static int
keygen(const char *dir, int64_t delay)
{
	struct keys_gen g;
	struct keys_gen_out out;
	struct keyset ks;
	char err[512];
	const char (*kids)[PROTO_KID_MAX + 1];

	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	g.now = (int64_t)time(NULL);
	g.delay = delay;
	if (keys_generate_next(dir, &g, &out, err, sizeof(err)) == -1)
		fatal("keygen: %s", err);
	/* What was written must load, as a host will load it. */
	memset(&ks, 0, sizeof(ks));
	if (keys_load(&ks, dir, err, sizeof(err)) == -1)
		fatal("keygen: %s", err);
	keys_free(&ks);
	kids = out.at_once ? out.cur.cur : out.cur.next;
	printf("sign %s\npepper %s\nrsa %s\nfrom %lld\n", kids[KEYS_SIGN],
	    kids[KEYS_PEPPER], kids[KEYS_RSA], (long long)(out.at_once ?
	    g.now : out.cur.from[KEYS_SIGN]));
	return fflush(stdout) == 0 ? 0 : 1;
}

/* The modification time of dir/<prefix><kid>.key, or 0. */
static long long
key_mtime(const char *dir, const char *prefix, const char *kid)
{
	char path[1024];
	struct stat st;

	if (str_printf(path, sizeof(path), "%s/%s%s.key", dir, prefix,
	    kid) == -1 || stat(path, &st) == -1)
		return 0;
	return (long long)st.st_mtime;
}

/*
 * The RFC 7638 thumbprint of an Ed25519 public key's JWK, base64url: the
 * SHA-256 of {"crv":"Ed25519","kty":"OKP","x":"<base64url of pk>"}.
 */
static int
jwk_thumbprint(const uint8_t pk[PROTO_PUBKEY_LEN], char *out, size_t outlen)
{
	char x[64], jwk[128];
	uint8_t d[crypto_hash_sha256_BYTES];

	if (b64url_encode(x, sizeof(x), pk, PROTO_PUBKEY_LEN) < 0 ||
	    str_printf(jwk, sizeof(jwk),
	    "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x) == -1)
		return -1;
	crypto_hash_sha256(d, (const uint8_t *)jwk, strlen(jwk));
	return b64url_encode(out, outlen, d, sizeof(d)) < 0 ? -1 : 0;
}

/*
 * The RFC 7638 thumbprint of an RSA public key's JWK, base64url: the
 * SHA-256 of {"e":"<base64url>","kty":"RSA","n":"<base64url>"}.
 */
static int
rsa_thumbprint(const struct rsa_key *k, char *out, size_t outlen)
{
	char n[B64URL_ENCODED_LEN(PROTO_RSA_N_LEN) + 1];
	char e[B64URL_ENCODED_LEN(PROTO_RSA_E_MAX) + 1];
	char jwk[sizeof(n) + sizeof(e) + 64];
	uint8_t d[crypto_hash_sha256_BYTES];

	if (b64url_encode(n, sizeof(n), k->n, PROTO_RSA_N_LEN) < 0 ||
	    b64url_encode(e, sizeof(e), k->e, k->e_len) < 0 ||
	    str_printf(jwk, sizeof(jwk),
	    "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", e, n) == -1)
		return -1;
	crypto_hash_sha256(d, (const uint8_t *)jwk, strlen(jwk));
	return b64url_encode(out, outlen, d, sizeof(d)) < 0 ? -1 : 0;
}

/* A key's state word for --list-keys. */
static const char *
key_state(bool current, const struct key_next *next, size_t i, char *buf,
    size_t buflen)
{
	if (current)
		return "current";
	if (next->set && next->idx == i &&
	    str_printf(buf, buflen, "next@%lld", (long long)next->from) == 0)
		return buf;
	return "old";
}

/*
 * Prints one line per key of dir, nothing secret:
 *	sign <kid> <state> <mtime> <JWK thumbprint>
 *	rsa <kid> <state> <mtime> <JWK thumbprint>
 *	pepper <kid> <state> <mtime> -
 * (state: current, the key that signs or seals now; next@<t>, the one
 * that takes over at t; old, retired; mtime and t: seconds since the
 * epoch, mtime when the key file was written).
 */
static int
list_keys(const char *dir)
{
	struct keyset ks;
	const struct sign_key *cs;
	const struct pepper_key *cp;
	const struct rsa_key *cr;
	char err[512], fp[64], st[32];
	int64_t now = (int64_t)time(NULL);
	size_t i;

	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	memset(&ks, 0, sizeof(ks));
	if (keys_load(&ks, dir, err, sizeof(err)) == -1)
		fatal("list-keys: %s", err);
	cs = keys_sign_current_at(&ks, now);
	cp = keys_pepper_current_at(&ks, now);
	for (i = 0; i < ks.nsign; i++) {
		if (jwk_thumbprint(ks.sign[i].pk, fp, sizeof(fp)) == -1)
			fatal("list-keys: thumbprint of %s", ks.sign[i].kid);
		printf("sign %s %s %lld %s\n", ks.sign[i].kid,
		    key_state(&ks.sign[i] == cs, &ks.sign_next, i, st,
		    sizeof(st)),
		    key_mtime(dir, "sign-", ks.sign[i].kid), fp);
	}
	cr = keys_rsa_current_at(&ks, now);
	for (i = 0; i < ks.nrsa; i++) {
		if (rsa_thumbprint(&ks.rsa[i], fp, sizeof(fp)) == -1)
			fatal("list-keys: thumbprint of %s", ks.rsa[i].kid);
		printf("rsa %s %s %lld %s\n", ks.rsa[i].kid,
		    key_state(&ks.rsa[i] == cr, &ks.rsa_next, i, st,
		    sizeof(st)),
		    key_mtime(dir, "rsa-", ks.rsa[i].kid), fp);
	}
	for (i = 0; i < ks.npepper; i++)
		printf("pepper %s %s %lld -\n", ks.pepper[i].kid,
		    key_state(&ks.pepper[i] == cp, &ks.pepper_next, i, st,
		    sizeof(st)),
		    key_mtime(dir, "pepper-", ks.pepper[i].kid));
	keys_free(&ks);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* True when fd is an open socket of the given listening state. */
static bool
is_socket(int fd, bool listening)
{
	struct stat st;
	int acc = 0;
	socklen_t len = sizeof(acc);

	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1)
		return false;
	return (acc != 0) == listening;
}

/* Split mode's socket: systemd's (LISTEN_FDS) or our own at path. */
static int
listen_socket(const char *path, uid_t owner)
{
	struct unix_listen_opts o = {
		.mode = 0600,
		.owner = geteuid() == 0 ? owner : (uid_t)-1,
		.group = (gid_t)-1,
		.backlog = SERVER_MAX_CONNS,
	};
	const char *pid_s, *fds_s, *errstr;
	char err[256];
	long long lpid, nfds;
	int fd;

	pid_s = getenv("LISTEN_PID");
	fds_s = getenv("LISTEN_FDS");
	if (pid_s != NULL && fds_s != NULL &&
	    num_parse(pid_s, 1, INT32_MAX, &lpid, &errstr) == 0 &&
	    lpid == (long long)getpid() &&
	    num_parse(fds_s, 1, 64, &nfds, &errstr) == 0) {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		if (!is_socket(WARDEN_HASHER_FD, true))
			fatal("LISTEN_FDS: fd %d is not a listening socket",
			    WARDEN_HASHER_FD);
		closefrom(WARDEN_HASHER_FD + 1);
		log_info("listening on the socket from systemd");
		return WARDEN_HASHER_FD;
	}

	closefrom(WARDEN_HASHER_FD);
	/* Only the front may connect (and its uid is checked, too). */
	if ((fd = unix_listen(path, &o, NULL, err, sizeof(err))) == -1)
		fatal("hasher_socket %s: %s", path, err);
	log_info("listening on %s", path);
	return fd;
}

/* The uid allowed to connect in split mode: the front's `user`, or ours
 * when none is configured. */
static uid_t
front_uid(const char *user)
{
	struct passwd *pw;

	if (user == NULL || *user == '\0')
		return getuid();
	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		fatal("user %s: %s", user, errno ? strerror(errno) :
		    "no such user");
	endpwent();
	return pw->pw_uid;
}

/* Hashes and verifies once before lock-down: a policy or pepper that
 * cannot work is fatal now rather than an error on every request. */
static void
self_test(const struct keyset *ks, const struct pw_policy *pol)
{
	static const char uid[] = "00000000-0000-4000-8000-000000000000";
	static const uint8_t pw[] = "warden-hasher self-test";
	char stored[PROTO_STORED_MAX + 1], rehash[PROTO_STORED_MAX + 1];
	bool match = false;

	if (pw_hash(ks, pol, uid, pw, sizeof(pw) - 1, stored,
	    sizeof(stored)) == -1)
		fatal("self-test: hashing failed (argon2_memory %zu, "
		    "argon2_iterations %u)", pol->memory, pol->iterations);
	if (pw_verify(ks, pol, uid, pw, sizeof(pw) - 1, stored, &match,
	    rehash, sizeof(rehash)) == -1 || !match)
		fatal("self-test: a fresh hash does not verify");
	sodium_memzero(stored, sizeof(stored));
	sodium_memzero(rehash, sizeof(rehash));
}

/*
 * Signs and checks one ID token with each current signing key before
 * lock-down: OpenSSL fetches its SHA-256 and RSA implementations and
 * seeds this thread's random generator (RSA blinding) now, outside the
 * sandbox, and a key that cannot sign is fatal at start.
 */
static void
sign_self_test(const struct keyset *ks)
{
	static const struct jwt_sign_params jp = {
	    .issuer = "https://self-test.invalid", .max_ttl = 60 };
	struct proto_sign_id_req *req;
	struct proto_sign_id_ans ans;
	struct proto_jwt_check_ans chk;
	char err[PROTO_ERRMSG_MAX + 1];
	uint8_t alg;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		fatal("self-test: out of memory");
	(void)str_copy(req->sub, "00000000-0000-4000-8000-000000000000",
	    sizeof(req->sub));
	(void)str_copy(req->aud, "self-test", sizeof(req->aud));
	for (alg = PROTO_ALG_EDDSA; alg <= PROTO_ALG_RS256; alg++) {
		if (alg == PROTO_ALG_RS256 && keys_rsa_current(ks) == NULL) {
			log_warn("the key set has no RSA key: RS256 ID tokens "
			    "are refused until wardenctl keygen adds one");
			continue;
		}
		req->alg = alg;
		if (jwt_sign_id(ks, &jp, req, time(NULL), &ans, NULL, err,
		    sizeof(err)) == -1)
			fatal("self-test: signing an ID token failed: %s", err);
		jwt_check(ks, jp.issuer, ans.jwt, &chk);
		if (!chk.valid)
			fatal("self-test: a fresh ID token does not verify");
	}
	free(req);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "keygen", required_argument, NULL, 'K' },
		{ "publish-delay", required_argument, NULL, 'P' },
		{ "list-keys", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct server_params sp;
	struct sandbox_opts so;
	struct server *srv;
	struct keyset ks;
	struct cfg cfg;
	const char *config_path = NULL, *key_dir, *creds;
	const char *keygen_dir = NULL, *errstr;
	long long delay = 0;
	char err[512];
	bool debug = false, split = false;
	int ch, listen_fd = -1, conn_fd = -1, rc;
	uid_t peer_uid = (uid_t)-1;

	if (stdfds_ensure() == -1)
		_exit(1);
	log_init("warden-hasher", LOG_INFO, false);
	while ((ch = getopt_long(argc, argv, "df:hl", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			debug = true;
			break;
		case 'f':
			config_path = optarg;
			break;
		case 'l':
			split = true;
			break;
		case 'K':
			keygen_dir = optarg;
			break;
		case 'P':
			if (num_parse(optarg, 0, KEYS_FROM_MAX / 2, &delay,
			    &errstr) == -1)
				fatal("--publish-delay %s: %s (seconds)", optarg,
				    errstr);
			break;
		case 'L':
			if (optind != argc)
				usage();
			return list_keys(optarg);
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (keygen_dir != NULL)
		return keygen(keygen_dir, (int64_t)delay);

	/* Without -f the default file is read when it exists. */
	if (config_path == NULL && access(WARDEN_CONFIG_PATH, F_OK) == 0)
		config_path = WARDEN_CONFIG_PATH;
	cfg_defaults(&cfg);
	if (cfg_load(&cfg, config_path, err, sizeof(err)) == -1)
		fatal("%s", err);
	log_init("warden-hasher", debug ? LOG_DEBUG : cfg.log_level,
	    cfg.log_format == CFG_LOG_JSON);

	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	/* liboath's set-up (TOTP arithmetic) happens here, before the
	 * sandbox; its code generation makes no system call after it. */
	if (oath_init() != OATH_OK)
		fatal("liboath failed to initialise");
	/* OpenSSL reads its configuration on first use: now, not sandboxed. */
	if (legacy_hash_init() == -1)
		fatal("OpenSSL's digests failed to initialise");
	/* A front that went away must not kill us mid-answer. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("signal SIGPIPE: %s", strerror(errno));

	if (split) {
		if (cfg.hasher_socket[0] == '\0')
			fatal("-l needs hasher_socket in the configuration");
		peer_uid = front_uid(cfg.user);
		listen_fd = listen_socket(cfg.hasher_socket, peer_uid);
	} else {
		if (!is_socket(WARDEN_HASHER_FD, false))
			fatal("fd %d is not a connected socket: warden-hasher "
			    "is started by wardend (or with -l)",
			    WARDEN_HASHER_FD);
		closefrom(WARDEN_HASHER_FD + 1);
		conn_fd = WARDEN_HASHER_FD;
	}

	creds = getenv("CREDENTIALS_DIRECTORY");
	key_dir = creds != NULL && *creds != '\0' ? creds : cfg.key_dir;
	memset(&ks, 0, sizeof(ks));
	/* Under LoadCredential=keys:DIR the files arrive as keys_<name>. */
	if (keys_load_named(&ks, key_dir, creds != NULL && *creds != '\0' ?
	    KEYS_CREDENTIAL_PREFIX : "", err, sizeof(err)) == -1)
		fatal("keys: %s", err);

	memset(&sp, 0, sizeof(sp));
	sp.ks = &ks;
	sp.policy.memory = cfg.argon2_memory;
	sp.policy.iterations = cfg.argon2_iterations;
	sp.jwt.issuer = cfg.issuer;
	sp.jwt.audience = cfg.audience;
	sp.jwt.client_id = cfg.client_id;
	sp.jwt.max_ttl = cfg.access_token_ttl > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)cfg.access_token_ttl;
	sp.workers = cfg.hasher_workers;
	sp.queue = cfg.hasher_queue;
	self_test(&ks, &sp.policy);
	sign_self_test(&ks);

	if (__lsan_do_leak_check != NULL)
		__lsan_do_leak_check();

	memset(&so, 0, sizeof(so));
	so.user = cfg.hasher_user;
	so.chroot_dir = cfg.hasher_chroot;
	so.listen_fd = listen_fd;
	so.max_conns = SERVER_MAX_CONNS;
	sandbox_drop(&so);
	if ((srv = server_new(&sp)) == NULL)	/* threads: before seccomp */
		fatal("starting workers: %s", strerror(errno));
	sandbox_lock(&so);
	log_info("ready: %u workers, keys from %s", server_workers(srv),
	    key_dir);

	rc = server_run(srv, listen_fd, conn_fd, peer_uid);
	server_free(srv);
	keys_free(&ks);
	log_info("exiting (%s)", rc == 0 ? "front closed the connection" :
	    "connection dropped");
	cfg_free(&cfg);
	_exit(rc == 0 ? 0 : 1);
}
