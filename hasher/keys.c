/*
 * The hasher's key set: loading with ssh-style refusals of unsafe files,
 * and generation with rotation.  Secret bytes are read with read(2)
 * straight into sodium_malloc'd (guarded, mlock'd) memory and never pass
 * through a stack buffer; an RSA key's DER goes from there to OpenSSL,
 * and is wiped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "fields.h"
#include "keys.h"
#include "util.h"

#define SIGN_PREFIX	"sign-"
#define PEPPER_PREFIX	"pepper-"
#define RSA_PREFIX	"rsa-"
#define RSA_DER_MIN	256	/* far less than any 3072-bit key's DER */
#define RSA_DER_MAX	4096	/* far more */
#define KEY_SUFFIX	".key"
#define CURRENT_FILE	"current"
#define CURRENT_MAX	1024	/* far more than six lines of a kid each */
#define SIGN_SK_LEN	crypto_sign_SECRETKEYBYTES			/* 64 */
#define PEPPER_LEN	crypto_aead_xchacha20poly1305_ietf_KEYBYTES	/* 32 */
#define KID_RANDOM	8	/* random bytes in a new kid: 16 hex chars */

_Static_assert(SIGN_SK_LEN == 64, "libsodium Ed25519 secret key layout");
_Static_assert(PEPPER_LEN == 32, "XChaCha20-Poly1305 key size");
_Static_assert(crypto_sign_PUBLICKEYBYTES == PROTO_PUBKEY_LEN,
    "an Ed25519 public key is what PUBKEYS carries");

enum key_kind { KIND_NONE, KIND_SIGN, KIND_PEPPER, KIND_RSA };

/* Classifies a directory entry: a key file of one kind (kid copied out),
 * or KIND_NONE for anything else.  Returns -1 for a name that looks like
 * a key file but carries an invalid kid. */
static int
key_name_parse(const char *name, enum key_kind *kind,
    char kid[PROTO_KID_MAX + 1])
{
	size_t		 len = strlen(name), plen, slen = strlen(KEY_SUFFIX);
	const char	*p;

	*kind = KIND_NONE;
	if (strncmp(name, SIGN_PREFIX, strlen(SIGN_PREFIX)) == 0) {
		*kind = KIND_SIGN;
		plen = strlen(SIGN_PREFIX);
	} else if (strncmp(name, PEPPER_PREFIX, strlen(PEPPER_PREFIX)) == 0) {
		*kind = KIND_PEPPER;
		plen = strlen(PEPPER_PREFIX);
	} else if (strncmp(name, RSA_PREFIX, strlen(RSA_PREFIX)) == 0) {
		*kind = KIND_RSA;
		plen = strlen(RSA_PREFIX);
	} else
		return 0;
	if (len < plen + slen || strcmp(name + len - slen, KEY_SUFFIX) != 0) {
		*kind = KIND_NONE;	/* sign-x.key.bak and the like */
		return 0;
	}
	p = name + plen;
	len -= plen + slen;
	if (len > PROTO_KID_MAX)	/* fits neither kid[] nor the rule */
		return -1;
	memcpy(kid, p, len);
	kid[len] = '\0';
	return field_is_kid(kid) ? 0 : -1;
}

/*
 * Opens name in dirfd for reading and checks that it is a regular file of
 * our own, with no access for group or others, and of a size from min to
 * max (min 0: the current file; min == max: exactly that).  Returns the
 * fd with the size in *size (may be NULL), or -1 with the reason in err.
 */
static int
open_range(int dirfd, const char *dir, const char *name, off_t min,
    off_t max, off_t *size, char *err, size_t errlen)
{
	struct stat	 st;
	int		 fd, saved;

	/* O_NONBLOCK: a FIFO planted here must not hang the start-up. */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		saved = errno;
		if (saved == ELOOP)
			str_printf(err, errlen, "%s/%s: is a symbolic link, "
			    "refusing it", dir, name);
		else
			str_printf(err, errlen, "%s/%s: %s", dir, name,
			    strerror(saved));
		errno = saved;	/* the caller tells ENOENT apart */
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		str_printf(err, errlen, "%s/%s: %s", dir, name, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		str_printf(err, errlen, "%s/%s: not a regular file, refusing it",
		    dir, name);
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		str_printf(err, errlen, "%s/%s: owned by uid %lu, not by uid %lu "
		    "that reads it, refusing it", dir, name,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto fail;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		str_printf(err, errlen, "%s/%s: %spermissions %04o are too open "
		    "(group or others may access it); chmod 600 it", dir, name,
		    min > 0 ? "UNPROTECTED PRIVATE KEY FILE: " : "",
		    (unsigned int)(st.st_mode & 07777));
		goto fail;
	}
	if (min > 0 && min == max && st.st_size != min) {
		str_printf(err, errlen, "%s/%s: wrong size %lld bytes, a key of "
		    "this kind has %lld", dir, name, (long long)st.st_size,
		    (long long)min);
		goto fail;
	}
	if (min > 0 && min != max && (st.st_size < min || st.st_size > max)) {
		str_printf(err, errlen, "%s/%s: wrong size %lld bytes, a key of "
		    "this kind has %lld to %lld", dir, name,
		    (long long)st.st_size, (long long)min, (long long)max);
		goto fail;
	}
	if (st.st_size > max) {
		str_printf(err, errlen, "%s/%s: too large (%lld bytes)", dir, name,
		    (long long)st.st_size);
		goto fail;
	}
	if (size != NULL)
		*size = st.st_size;
	return fd;
fail:
	close(fd);
	errno = EPERM;
	return -1;
}

/* open_range() of exactly want bytes, or (want 0) of the current file. */
static int
open_checked(int dirfd, const char *dir, const char *name, off_t want,
    char *err, size_t errlen)
{
	return open_range(dirfd, dir, name, want, want > 0 ? want : CURRENT_MAX,
	    NULL, err, errlen);
}

/* Reads exactly len bytes into buf and checks that nothing follows. */
static int
read_exact(int fd, uint8_t *buf, size_t len, const char *dir, const char *name,
    char *err, size_t errlen)
{
	size_t	 off = 0;
	ssize_t	 n;
	uint8_t	 extra;

	while (off < len) {
		n = read(fd, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			str_printf(err, errlen, "%s/%s: read: %s", dir, name,
			    strerror(errno));
			return -1;
		}
		if (n == 0) {
			str_printf(err, errlen, "%s/%s: short read (file shrank "
			    "while being read)", dir, name);
			return -1;
		}
		off += (size_t)n;
	}
	do
		n = read(fd, &extra, 1);
	while (n == -1 && errno == EINTR);
	sodium_memzero(&extra, sizeof(extra));
	if (n != 0) {
		str_printf(err, errlen, "%s/%s: file grew while being read", dir,
		    name);
		return -1;
	}
	return 0;
}

/* Loads one key file into sodium_malloc'd memory; *out is NULL on error. */
static int
load_secret(int dirfd, const char *dir, const char *name, size_t len,
    uint8_t **out, char *err, size_t errlen)
{
	uint8_t	*buf;
	int	 fd;

	*out = NULL;
	if ((fd = open_checked(dirfd, dir, name, (off_t)len, err, errlen)) == -1)
		return -1;
	if ((buf = sodium_malloc(len)) == NULL) {
		str_printf(err, errlen, "%s/%s: cannot allocate locked memory",
		    dir, name);
		close(fd);
		return -1;
	}
	if (read_exact(fd, buf, len, dir, name, err, errlen) == -1) {
		sodium_free(buf);	/* zeroes */
		close(fd);
		return -1;
	}
	close(fd);
	*out = buf;
	return 0;
}

/* Fills k->pk from k->sk and checks that the stored public half is the one
 * the seed derives, so a damaged file cannot sign with a key we publish
 * wrongly. */
static int
sign_key_check(struct sign_key *k, const char *dir, const char *name,
    char *err, size_t errlen)
{
	uint8_t	 pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t	*tmp;
	int	 ok;

	if ((tmp = sodium_malloc(SIGN_SK_LEN)) == NULL) {
		str_printf(err, errlen, "%s/%s: cannot allocate locked memory",
		    dir, name);
		return -1;
	}
	/* The first 32 bytes of a libsodium secret key are its seed. */
	ok = crypto_sign_seed_keypair(pk, tmp, k->sk) == 0 &&
	    sodium_memcmp(pk, k->sk + 32, sizeof(pk)) == 0;
	sodium_free(tmp);
	if (!ok) {
		str_printf(err, errlen, "%s/%s: damaged key: its public half "
		    "does not match its seed", dir, name);
		return -1;
	}
	memcpy(k->pk, pk, sizeof(k->pk));
	return 0;
}

/* Copies the modulus and exponent of pkey out, big-endian; -1 when the
 * key is not RSA of KEYS_RSA_BITS bits or its exponent is too long. */
static int
rsa_public(struct evp_pkey_st *pkey, uint8_t n[PROTO_RSA_N_LEN],
    uint8_t e[PROTO_RSA_E_MAX], size_t *e_len)
{
	BIGNUM	*bn = NULL, *be = NULL;
	int	 ok;

	if (!EVP_PKEY_is_a(pkey, "RSA") ||
	    EVP_PKEY_get_bits(pkey) != KEYS_RSA_BITS ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &bn) ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &be)) {
		BN_free(bn);
		return -1;
	}
	ok = BN_num_bytes(bn) == PROTO_RSA_N_LEN &&
	    BN_bn2binpad(bn, n, PROTO_RSA_N_LEN) == PROTO_RSA_N_LEN &&
	    BN_num_bytes(be) >= 1 && BN_num_bytes(be) <= PROTO_RSA_E_MAX;
	if (ok)
		*e_len = (size_t)BN_bn2bin(be, e);
	BN_free(bn);
	BN_free(be);
	return ok ? 0 : -1;
}

/* Signs and verifies a fixed message with pkey: a damaged key that
 * parses must not sign what its published half cannot verify. */
static int
rsa_selftest(struct evp_pkey_st *pkey)
{
	static const uint8_t msg[] = "warden rsa key self-test";
	uint8_t		 sig[PROTO_RSA_N_LEN];
	size_t		 siglen = sizeof(sig);
	EVP_MD_CTX	*ctx;
	int		 ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)) == 1 &&
	    siglen == sizeof(sig) &&
	    EVP_MD_CTX_reset(ctx) == 1 &&
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Loads an RSA key file: DER into locked memory, then into an EVP_PKEY;
 * the DER is wiped either way. */
static int
rsa_key_load(struct rsa_key *k, int dirfd, const char *dir, const char *name,
    char *err, size_t errlen)
{
	const unsigned char	*p;
	uint8_t			*buf;
	off_t			 size;
	int			 fd;

	if ((fd = open_range(dirfd, dir, name, RSA_DER_MIN, RSA_DER_MAX, &size,
	    err, errlen)) == -1)
		return -1;
	if ((buf = sodium_malloc((size_t)size)) == NULL) {
		str_printf(err, errlen, "%s/%s: cannot allocate locked memory",
		    dir, name);
		close(fd);
		return -1;
	}
	if (read_exact(fd, buf, (size_t)size, dir, name, err, errlen) == -1) {
		sodium_free(buf);
		close(fd);
		return -1;
	}
	close(fd);
	p = buf;
	k->pkey = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, (long)size);
	if (k->pkey != NULL && p != buf + size) {
		EVP_PKEY_free(k->pkey);	/* bytes after the key */
		k->pkey = NULL;
	}
	sodium_free(buf);	/* zeroes */
	if (k->pkey == NULL) {
		str_printf(err, errlen, "%s/%s: not an RSA private key in DER",
		    dir, name);
		return -1;
	}
	if (rsa_public(k->pkey, k->n, k->e, &k->e_len) == -1) {
		str_printf(err, errlen, "%s/%s: not a %d-bit RSA key", dir, name,
		    KEYS_RSA_BITS);
		return -1;
	}
	if (rsa_selftest(k->pkey) == -1) {
		str_printf(err, errlen, "%s/%s: damaged key: it does not verify "
		    "what it signs", dir, name);
		return -1;
	}
	return 0;
}

/* Reads and parses the current file (keys_current.h). */
static int
current_read(int dirfd, const char *dir, const char *current_file,
    struct keys_current *kc, char *err, size_t errlen)
{
	char	 buf[CURRENT_MAX + 1], where[PATH_MAX + NAME_MAX + 2];
	size_t	 off = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = open_checked(dirfd, dir, current_file, 0, err, errlen)) == -1) {
		if (errno == ENOENT)
			str_printf(err, errlen, "%s/%s: missing: the key set has "
			    "no current keys (run wardenctl keygen)", dir,
			    current_file);
		return -1;
	}
	for (;;) {
		n = read(fd, buf + off, sizeof(buf) - 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			str_printf(err, errlen, "%s/%s: read: %s", dir,
			    current_file, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
		if (off == sizeof(buf) - 1) {
			str_printf(err, errlen, "%s/%s: too large", dir,
			    current_file);
			close(fd);
			return -1;
		}
	}
	close(fd);
	buf[off] = '\0';
	if (memchr(buf, '\0', off) != NULL) {
		str_printf(err, errlen, "%s/%s: holds a NUL byte", dir,
		    current_file);
		return -1;
	}
	(void)str_printf(where, sizeof(where), "%s/%s", dir, current_file);
	return keys_current_parse(buf, where, kc, err, errlen);
}

static int
sign_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sign_key *)a)->kid,
	    ((const struct sign_key *)b)->kid);
}

static int
rsa_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rsa_key *)a)->kid,
	    ((const struct rsa_key *)b)->kid);
}

static int
pepper_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pepper_key *)a)->kid,
	    ((const struct pepper_key *)b)->kid);
}

int
keys_load(struct keyset *ks, const char *dir, char *err, size_t errlen)
{
	return keys_load_named(ks, dir, "", err, errlen);
}

/* A directory stream of its own over dirfd, so that readdir() and
 * openat() do not share an offset.  NULL with err on failure. */
static DIR *
dir_stream(int dirfd, const char *dir, char *err, size_t errlen)
{
	DIR	*d;
	int	 fd;

	if ((fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    (d = fdopendir(fd)) == NULL) {
		str_printf(err, errlen, "%s: %s", dir, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	return d;
}

/* Loads the key file name of kind into the next free slot of ks. */
static int
key_add(struct keyset *ks, int dirfd, const char *dir, const char *name,
    enum key_kind kind, const char kid[PROTO_KID_MAX + 1], char *err,
    size_t errlen)
{
	struct sign_key		*sk;
	struct pepper_key	*pk;
	struct rsa_key		*rk;

	if (kind == KIND_SIGN) {
		if (ks->nsign == KEYS_MAX) {
			str_printf(err, errlen, "%s: more than %d signing "
			    "keys; remove retired ones", dir, KEYS_MAX);
			return -1;
		}
		sk = &ks->sign[ks->nsign];
		if (load_secret(dirfd, dir, name, SIGN_SK_LEN, &sk->sk, err,
		    errlen) == -1)
			return -1;
		memcpy(sk->kid, kid, sizeof(sk->kid));
		ks->nsign++;	/* keys_free() frees it from now on */
		return sign_key_check(sk, dir, name, err, errlen);
	}
	if (kind == KIND_RSA) {
		if (ks->nrsa == KEYS_MAX) {
			str_printf(err, errlen, "%s: more than %d RSA keys; "
			    "remove retired ones", dir, KEYS_MAX);
			return -1;
		}
		rk = &ks->rsa[ks->nrsa];
		memcpy(rk->kid, kid, sizeof(rk->kid));
		ks->nrsa++;	/* keys_free() frees its pkey */
		return rsa_key_load(rk, dirfd, dir, name, err, errlen);
	}
	if (ks->npepper == KEYS_MAX) {
		str_printf(err, errlen, "%s: more than %d pepper keys; "
		    "remove retired ones", dir, KEYS_MAX);
		return -1;
	}
	pk = &ks->pepper[ks->npepper];
	if (load_secret(dirfd, dir, name, PEPPER_LEN, &pk->key, err,
	    errlen) == -1)
		return -1;
	memcpy(pk->kid, kid, sizeof(pk->kid));
	ks->npepper++;
	return 0;
}

/* Loads every key file of dir whose name starts with prefix. */
static int
keys_read_dir(struct keyset *ks, int dirfd, const char *dir,
    const char *prefix, char *err, size_t errlen)
{
	char		 kid[PROTO_KID_MAX + 1];
	size_t		 plen = strlen(prefix);
	struct dirent	*de;
	enum key_kind	 kind;
	DIR		*d;
	int		 rc = -1;

	if ((d = dir_stream(dirfd, dir, err, errlen)) == NULL)
		return -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;	/* another service's credential */
		if (key_name_parse(de->d_name + plen, &kind, kid) == -1) {
			str_printf(err, errlen, "%s/%s: invalid key id in the "
			    "file name (1..%d of [A-Za-z0-9_-])", dir,
			    de->d_name, PROTO_KID_MAX);
			goto out;
		}
		if (kind != KIND_NONE && key_add(ks, dirfd, dir, de->d_name,
		    kind, kid, err, errlen) == -1)
			goto out;
	}
	if (errno != 0) {
		str_printf(err, errlen, "%s: readdir: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	closedir(d);
	return rc;
}

/* The index of kid among n keys of stride size whose kid is their first
 * member, or -1 (and err naming the key file the current file lacks). */
static int
kid_index(const void *keys, size_t n, size_t size, const char *kid,
    const char *dir, const char *what, const char *prefix, char *err,
    size_t errlen)
{
	const char	*base = keys;
	size_t		 i;

	for (i = 0; i < n; i++)
		if (strcmp(base + i * size, kid) == 0)
			return (int)i;
	str_printf(err, errlen, "%s/%s: names %s %s, but there is no %s%s%s",
	    dir, CURRENT_FILE, what, kid, prefix, kid, KEY_SUFFIX);
	return -1;
}

/* Resolves the current and next kid of one kind to indices. */
static int
kind_mark(const struct keys_current *kc, enum keys_kind kind,
    const void *keys, size_t n, size_t size, size_t *cur,
    struct key_next *next, const char *dir, const char *what,
    const char *prefix, char *err, size_t errlen)
{
	char	 nwhat[64];
	int	 i;

	*cur = n;	/* none */
	if (kc->cur[kind][0] != '\0') {
		if ((i = kid_index(keys, n, size, kc->cur[kind], dir, what,
		    prefix, err, errlen)) == -1)
			return -1;
		*cur = (size_t)i;
	}
	memset(next, 0, sizeof(*next));
	if (kc->next[kind][0] != '\0') {
		(void)str_printf(nwhat, sizeof(nwhat), "next %s", what);
		if ((i = kid_index(keys, n, size, kc->next[kind], dir, nwhat,
		    prefix, err, errlen)) == -1)
			return -1;
		next->set = true;
		next->idx = (size_t)i;
		next->from = kc->from[kind];
	}
	return 0;
}

/* Orders the keys by kid (a stable order for PUBKEYS and the JWKS) and
 * marks the ones the current file names, current and next. */
static int
keys_mark_current(struct keyset *ks, int dirfd, const char *dir,
    const char *prefix, char *err, size_t errlen)
{
	char			 current_file[NAME_MAX + 1];
	struct keys_current	 kc;

	_Static_assert(offsetof(struct sign_key, kid) == 0 &&
	    offsetof(struct rsa_key, kid) == 0 &&
	    offsetof(struct pepper_key, kid) == 0, "kid_index() reads the kid "
	    "at the start of a key");
	if (str_printf(current_file, sizeof(current_file), "%s%s", prefix,
	    CURRENT_FILE) == -1) {
		str_printf(err, errlen, "%s: key name prefix too long", dir);
		return -1;
	}
	if (current_read(dirfd, dir, current_file, &kc, err, errlen) == -1)
		return -1;

	qsort(ks->sign, ks->nsign, sizeof(ks->sign[0]), sign_cmp);
	qsort(ks->rsa, ks->nrsa, sizeof(ks->rsa[0]), rsa_cmp);
	qsort(ks->pepper, ks->npepper, sizeof(ks->pepper[0]), pepper_cmp);

	/* No rsa line (a set from before RSA keys): no current RSA key. */
	return kind_mark(&kc, KEYS_SIGN, ks->sign, ks->nsign,
	    sizeof(ks->sign[0]), &ks->sign_current, &ks->sign_next, dir,
	    "signing key", SIGN_PREFIX, err, errlen) == -1 ||
	    kind_mark(&kc, KEYS_PEPPER, ks->pepper, ks->npepper,
	    sizeof(ks->pepper[0]), &ks->pepper_current, &ks->pepper_next, dir,
	    "pepper key", PEPPER_PREFIX, err, errlen) == -1 ||
	    kind_mark(&kc, KEYS_RSA, ks->rsa, ks->nrsa, sizeof(ks->rsa[0]),
	    &ks->rsa_current, &ks->rsa_next, dir, "RSA key", RSA_PREFIX, err,
	    errlen) == -1 ? -1 : 0;
}

int
keys_load_named(struct keyset *ks, const char *dir, const char *prefix,
    char *err, size_t errlen)
{
	int	 dirfd;

	memset(ks, 0, sizeof(*ks));
	if (sodium_init() < 0) {
		str_printf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd == -1) {
		str_printf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (keys_read_dir(ks, dirfd, dir, prefix, err, errlen) == -1 ||
	    keys_mark_current(ks, dirfd, dir, prefix, err, errlen) == -1) {
		close(dirfd);
		keys_free(ks);
		return -1;
	}
	close(dirfd);
	return 0;
}

/* Writes len bytes to a new file name in dirfd: O_EXCL, mode 0600 whatever
 * the umask, synced.  Removes the file again on failure. */
static int
write_new(int dirfd, const char *dir, const char *name, const void *data,
    size_t len, char *err, size_t errlen)
{
	const uint8_t	*p = data;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, saved;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		saved = errno;
		str_printf(err, errlen, "%s/%s: %s", dir, name, strerror(saved));
		errno = saved;	/* the caller retries on EEXIST */
		return -1;
	}
	if (fchmod(fd, 0600) == -1) {
		str_printf(err, errlen, "%s/%s: chmod: %s", dir, name,
		    strerror(errno));
		goto fail;
	}
	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			str_printf(err, errlen, "%s/%s: write: %s", dir, name,
			    n == 0 ? "no progress" : strerror(errno));
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1) {
		str_printf(err, errlen, "%s/%s: fsync: %s", dir, name,
		    strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		str_printf(err, errlen, "%s/%s: close: %s", dir, name,
		    strerror(errno));
		goto fail;
	}
	return 0;
fail:
	if (fd != -1)
		close(fd);
	unlinkat(dirfd, name, 0);
	errno = EIO;
	return -1;
}

/* Counts the key files of each kind already in dirfd. */
static int
count_keys(int dirfd, const char *dir, size_t *nsign, size_t *npepper,
    size_t *nrsa, char *err, size_t errlen)
{
	char		 kid[PROTO_KID_MAX + 1];
	DIR		*d;
	struct dirent	*de;
	enum key_kind	 kind;

	*nsign = *npepper = *nrsa = 0;
	if ((d = dir_stream(dirfd, dir, err, errlen)) == NULL)
		return -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (key_name_parse(de->d_name, &kind, kid) == -1)
			continue;	/* keys_load names it */
		if (kind == KIND_SIGN)
			(*nsign)++;
		else if (kind == KIND_PEPPER)
			(*npepper)++;
		else if (kind == KIND_RSA)
			(*nrsa)++;
	}
	if (errno != 0) {
		str_printf(err, errlen, "%s: readdir: %s", dir, strerror(errno));
		closedir(d);
		return -1;
	}
	closedir(d);
	return 0;
}

/* A fresh random kid: 16 lower-case hex characters. */
static void
kid_random(char kid[PROTO_KID_MAX + 1])
{
	uint8_t b[KID_RANDOM];

	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(kid, PROTO_KID_MAX + 1, b, sizeof(b));
}

/* Writes a new key file of the given prefix with a fresh kid; retries on
 * the (2^-64) chance that the kid is taken. */
static int
write_key(int dirfd, const char *dir, const char *prefix, const uint8_t *key,
    size_t len, char kid[PROTO_KID_MAX + 1], char name[NAME_MAX + 1],
    char *err, size_t errlen)
{
	int tries;

	for (tries = 0; tries < 3; tries++) {
		kid_random(kid);
		if (str_printf(name, NAME_MAX + 1, "%s%s%s", prefix, kid,
		    KEY_SUFFIX) == -1) {
			str_printf(err, errlen, "%s: key file name too long", dir);
			return -1;
		}
		if (write_new(dirfd, dir, name, key, len, err, errlen) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

/* Formats t as RFC 3339 UTC into out (for messages). */
static void
instant_str(int64_t t, char *out, size_t outlen)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)str_printf(out, outlen, "%lld", (long long)t);
}

/*
 * What the current file is to say after this keygen (keys_gen_out), the
 * new kids not yet in it: promotes a due next set, refuses while one is
 * pending (unless at once).  kc holds the file as read, or zeroes when
 * there is none.
 */
static int
gen_plan(struct keys_current *kc, bool have_cur, const struct keys_gen *g,
    struct keys_gen_out *out, const char *dir, char *err, size_t errlen)
{
	char		 when[40];
	int64_t		 pending = -1;
	int		 k;

	out->at_once = !have_cur || g->delay == 0;
	for (k = 0; k < KEYS_NKINDS; k++) {
		if (kc->next[k][0] == '\0')
			continue;
		if (g->now >= kc->from[k]) {
			/* Due: every host signs with it already. */
			memcpy(kc->cur[k], kc->next[k], sizeof(kc->cur[k]));
			out->promoted = true;
		} else if (pending == -1 || kc->from[k] > pending)
			pending = kc->from[k];
		kc->next[k][0] = '\0';
		kc->from[k] = 0;
	}
	if (pending != -1 && !out->at_once) {
		instant_str(pending, when, sizeof(when));
		str_printf(err, errlen, "%s: the next keys are not in use yet: "
		    "they take over at %s (%lld); run keygen again after that "
		    "(or wardenctl keygen --now: new keys current at once, "
		    "which hosts that have not loaded them cannot verify)", dir, when,
		    (long long)pending);
		return -1;
	}
	return 0;
}

/* Puts the new kids into kc, current or next as planned. */
static void
gen_place(struct keys_current *kc, const struct keys_gen *g,
    const struct keys_gen_out *out, const char *const kids[KEYS_NKINDS])
{
	int k;

	for (k = 0; k < KEYS_NKINDS; k++) {
		if (out->at_once) {
			memcpy(kc->cur[k], kids[k], strlen(kids[k]) + 1);
			continue;
		}
		memcpy(kc->next[k], kids[k], strlen(kids[k]) + 1);
		kc->from[k] = g->now + g->delay;
	}
}

/* Replaces the current file with text: whole or not at all. */
static int
current_write(int dirfd, const char *dir, const char *text, char *err,
    size_t errlen)
{
	char	 tmp_kid[PROTO_KID_MAX + 1], tmp_name[NAME_MAX + 1];

	kid_random(tmp_kid);
	if (str_printf(tmp_name, sizeof(tmp_name), ".%s.%s", CURRENT_FILE,
	    tmp_kid) == -1 ||
	    write_new(dirfd, dir, tmp_name, text, strlen(text), err,
	    errlen) == -1) {
		if (err[0] == '\0')
			str_printf(err, errlen, "%s/%s: cannot write it", dir,
			    CURRENT_FILE);
		return -1;
	}
	if (renameat(dirfd, tmp_name, dirfd, CURRENT_FILE) == -1) {
		str_printf(err, errlen, "%s/%s: rename: %s", dir, CURRENT_FILE,
		    strerror(errno));
		unlinkat(dirfd, tmp_name, 0);
		return -1;
	}
	return 0;
}

/* Reads the current file of dirfd, if there is one, into kc. */
static int
gen_read_current(int dirfd, const char *dir, struct keys_current *kc,
    bool *have_cur, char *err, size_t errlen)
{
	struct stat	 st;

	memset(kc, 0, sizeof(*kc));
	*have_cur = false;
	if (fstatat(dirfd, CURRENT_FILE, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;	/* a new set: current at once */
		str_printf(err, errlen, "%s/%s: %s", dir, CURRENT_FILE,
		    strerror(errno));
		return -1;
	}
	if (current_read(dirfd, dir, CURRENT_FILE, kc, err, errlen) == -1)
		return -1;
	*have_cur = true;
	return 0;
}

int
keys_generate(const char *dir, char *err, size_t errlen)
{
	struct keys_gen		 g = { .now = (int64_t)time(NULL), .delay = 0 };
	struct keys_gen_out	 out;

	return keys_generate_next(dir, &g, &out, err, errlen);
}

int
keys_generate_next(const char *dir, const struct keys_gen *g,
    struct keys_gen_out *gout, char *err, size_t errlen)
{
	char		 sign_kid[PROTO_KID_MAX + 1], pepper_kid[PROTO_KID_MAX + 1];
	char		 sign_name[NAME_MAX + 1], pepper_name[NAME_MAX + 1];
	char		 rsa_kid[PROTO_KID_MAX + 1], rsa_name[NAME_MAX + 1];
	char		 text[CURRENT_MAX];
	const char	*kids[KEYS_NKINDS];
	struct keys_current	 kc;
	uint8_t		 pk[crypto_sign_PUBLICKEYBYTES], *sk = NULL, *pepper = NULL;
	uint8_t		*der = NULL;
	unsigned char	*dp;
	EVP_PKEY	*rsa = NULL;
	size_t		 nsign, npepper, nrsa;
	int		 dirfd = -1, rc = -1, derlen = 0;
	bool		 wrote_sign = false, wrote_pepper = false, wrote_rsa = false;
	bool		 have_cur;

	if (errlen > 0)
		err[0] = '\0';
	memset(gout, 0, sizeof(*gout));
	if (g->delay < 0 || g->now < 0 || g->delay > KEYS_FROM_MAX ||
	    g->now > KEYS_FROM_MAX - g->delay) {
		str_printf(err, errlen, "keygen: time or delay out of range");
		return -1;
	}
	if (sodium_init() < 0) {
		str_printf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		str_printf(err, errlen, "%s: mkdir: %s", dir, strerror(errno));
		return -1;
	}
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		str_printf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (gen_read_current(dirfd, dir, &kc, &have_cur, err, errlen) == -1 ||
	    gen_plan(&kc, have_cur, g, gout, dir, err, errlen) == -1)
		goto out;
	if (count_keys(dirfd, dir, &nsign, &npepper, &nrsa, err, errlen) == -1)
		goto out;
	if (nsign >= KEYS_MAX || npepper >= KEYS_MAX || nrsa >= KEYS_MAX) {
		str_printf(err, errlen, "%s: already holds %zu signing, %zu RSA "
		    "and %zu pepper keys, and %d of a kind is the most; remove "
		    "retired ones first", dir, nsign, nrsa, npepper, KEYS_MAX);
		goto out;
	}

	sk = sodium_malloc(SIGN_SK_LEN);
	pepper = sodium_malloc(PEPPER_LEN);
	if (sk == NULL || pepper == NULL) {
		str_printf(err, errlen, "cannot allocate locked memory");
		goto out;
	}
	crypto_sign_keypair(pk, sk);
	crypto_aead_xchacha20poly1305_ietf_keygen(pepper);
	/* The RSA key leaves OpenSSL only as DER in locked memory. */
	if ((rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)KEYS_RSA_BITS)) == NULL ||
	    (derlen = i2d_PrivateKey(rsa, NULL)) < RSA_DER_MIN ||
	    derlen > RSA_DER_MAX ||
	    (der = sodium_malloc((size_t)derlen)) == NULL ||
	    (dp = der, i2d_PrivateKey(rsa, &dp)) != derlen) {
		str_printf(err, errlen, "cannot make an RSA-%d key",
		    KEYS_RSA_BITS);
		goto out;
	}

	if (write_key(dirfd, dir, SIGN_PREFIX, sk, SIGN_SK_LEN, sign_kid,
	    sign_name, err, errlen) == -1)
		goto out;
	wrote_sign = true;
	if (write_key(dirfd, dir, PEPPER_PREFIX, pepper, PEPPER_LEN, pepper_kid,
	    pepper_name, err, errlen) == -1)
		goto out;
	wrote_pepper = true;
	if (write_key(dirfd, dir, RSA_PREFIX, der, (size_t)derlen, rsa_kid,
	    rsa_name, err, errlen) == -1)
		goto out;
	wrote_rsa = true;

	kids[KEYS_SIGN] = sign_kid;
	kids[KEYS_PEPPER] = pepper_kid;
	kids[KEYS_RSA] = rsa_kid;
	gen_place(&kc, g, gout, kids);
	if (keys_current_format(&kc, text, sizeof(text)) == -1) {
		str_printf(err, errlen, "%s/%s: does not fit", dir,
		    CURRENT_FILE);
		goto out;
	}
	/* The new current file appears whole or not at all. */
	if (current_write(dirfd, dir, text, err, errlen) == -1)
		goto out;
	gout->cur = kc;
	if (fsync(dirfd) == -1) {
		/* The keys are in place; only their durability is in doubt. */
		str_printf(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		wrote_sign = wrote_pepper = wrote_rsa = false;
		goto out;
	}
	rc = 0;
out:
	if (rc == -1 && wrote_rsa)
		unlinkat(dirfd, rsa_name, 0);
	if (rc == -1 && wrote_pepper)
		unlinkat(dirfd, pepper_name, 0);
	if (rc == -1 && wrote_sign)
		unlinkat(dirfd, sign_name, 0);
	sodium_free(sk);	/* zeroes; NULL is fine */
	sodium_free(pepper);
	sodium_free(der);
	EVP_PKEY_free(rsa);
	if (dirfd != -1)
		close(dirfd);
	return rc;
}

const struct sign_key *
keys_sign_current_at(const struct keyset *ks, int64_t now)
{
	if (ks == NULL)
		return NULL;
	if (ks->sign_next.set && ks->sign_next.idx < ks->nsign &&
	    now >= ks->sign_next.from)
		return &ks->sign[ks->sign_next.idx];
	if (ks->sign_current >= ks->nsign)
		return NULL;
	return &ks->sign[ks->sign_current];
}

const struct sign_key *
keys_sign_current(const struct keyset *ks)
{
	return keys_sign_current_at(ks, (int64_t)time(NULL));
}

const struct sign_key *
keys_sign_find(const struct keyset *ks, const char *kid)
{
	size_t i;

	if (ks == NULL || kid == NULL)
		return NULL;
	for (i = 0; i < ks->nsign; i++)
		if (strcmp(ks->sign[i].kid, kid) == 0)
			return &ks->sign[i];
	return NULL;
}

const struct rsa_key *
keys_rsa_current_at(const struct keyset *ks, int64_t now)
{
	if (ks == NULL)
		return NULL;
	if (ks->rsa_next.set && ks->rsa_next.idx < ks->nrsa &&
	    now >= ks->rsa_next.from)
		return &ks->rsa[ks->rsa_next.idx];
	if (ks->rsa_current >= ks->nrsa)
		return NULL;
	return &ks->rsa[ks->rsa_current];
}

const struct rsa_key *
keys_rsa_current(const struct keyset *ks)
{
	return keys_rsa_current_at(ks, (int64_t)time(NULL));
}

const struct rsa_key *
keys_rsa_find(const struct keyset *ks, const char *kid)
{
	size_t i;

	if (ks == NULL || kid == NULL)
		return NULL;
	for (i = 0; i < ks->nrsa; i++)
		if (strcmp(ks->rsa[i].kid, kid) == 0)
			return &ks->rsa[i];
	return NULL;
}

const struct pepper_key *
keys_pepper_current_at(const struct keyset *ks, int64_t now)
{
	if (ks == NULL)
		return NULL;
	if (ks->pepper_next.set && ks->pepper_next.idx < ks->npepper &&
	    now >= ks->pepper_next.from)
		return &ks->pepper[ks->pepper_next.idx];
	if (ks->pepper_current >= ks->npepper)
		return NULL;
	return &ks->pepper[ks->pepper_current];
}

const struct pepper_key *
keys_pepper_current(const struct keyset *ks)
{
	return keys_pepper_current_at(ks, (int64_t)time(NULL));
}

const struct pepper_key *
keys_pepper_find(const struct keyset *ks, const char *kid)
{
	size_t i;

	if (ks == NULL || kid == NULL)
		return NULL;
	for (i = 0; i < ks->npepper; i++)
		if (strcmp(ks->pepper[i].kid, kid) == 0)
			return &ks->pepper[i];
	return NULL;
}

void
keys_free(struct keyset *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->nsign && i < KEYS_MAX; i++)
		sodium_free(ks->sign[i].sk);
	for (i = 0; i < ks->npepper && i < KEYS_MAX; i++)
		sodium_free(ks->pepper[i].key);
	for (i = 0; i < ks->nrsa && i < KEYS_MAX; i++)
		EVP_PKEY_free(ks->rsa[i].pkey);	/* clears the private parts */
	sodium_memzero(ks, sizeof(*ks));
}
