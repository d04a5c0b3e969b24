/*
 * hasher/keys.c: generation, rotation, loading, and every refusal of an
 * unsafe or incomplete key directory, with the file named in the error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "fields.h"
#include "keys.h"
#include "testdir.h"

struct fixture {
	char	dir[64];
	char	err[512];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/warden-keys-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	rm_tree(f->dir);
	free(f);
	return 0;
}

static void
path_of(char *out, size_t outlen, const struct fixture *f, const char *name)
{
	assert_true((size_t)snprintf(out, outlen, "%s/%s", f->dir, name) < outlen);
}

/* Writes name in the fixture's directory with mode (exactly). */
static void
put_file(const struct fixture *f, const char *name, const void *data,
    size_t len, mode_t mode)
{
	char	path[PATH_MAX];
	int	fd;

	path_of(path, sizeof(path), f, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* The file name (in the fixture's directory) of the current key of a
 * kind, read back through keys_load. */
static void
current_names(struct fixture *f, char *sign, char *pepper, size_t len)
{
	struct keyset ks;

	assert_int_equal(keys_load(&ks, f->dir, f->err, sizeof(f->err)), 0);
	snprintf(sign, len, "sign-%s.key", keys_sign_current(&ks)->kid);
	snprintf(pepper, len, "pepper-%s.key", keys_pepper_current(&ks)->kid);
	keys_free(&ks);
}

/* keys_load must fail and its error must hold every given fragment. */
static void
load_fails(struct fixture *f, ...)
{
	struct keyset	 ks;
	const char	*frag;
	va_list		 ap;

	f->err[0] = '\0';
	assert_int_equal(keys_load(&ks, f->dir, f->err, sizeof(f->err)), -1);
	assert_int_equal(ks.nsign, 0);
	assert_int_equal(ks.npepper, 0);
	if (getenv("TEST_VERBOSE") != NULL)
		print_message("err: %s\n", f->err);
	va_start(ap, f);
	while ((frag = va_arg(ap, const char *)) != NULL) {
		if (strstr(f->err, frag) == NULL) {
			va_end(ap);
			fail_msg("error \"%s\" lacks \"%s\"", f->err, frag);
		}
	}
	va_end(ap);
}

static void
assert_mode(const char *dir, const char *name, mode_t want)
{
	char		path[PATH_MAX];
	struct stat	st;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) <
	    sizeof(path));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, want);
}

static bool
is_hex_kid(const char *kid)
{
	size_t i;

	if (strlen(kid) != 16)
		return false;
	for (i = 0; i < 16; i++)
		if (!((kid[i] >= '0' && kid[i] <= '9') ||
		    (kid[i] >= 'a' && kid[i] <= 'f')))
			return false;
	return true;
}

static void
test_generate_then_load(void **state)
{
	struct fixture		*f = *state;
	struct keyset		 ks;
	const struct sign_key	*s;
	const struct pepper_key	*p;
	char			 sub[PATH_MAX], name[128];
	uint8_t			 pk[32], sig[64];
	struct stat		 st;
	mode_t			 old;

	/* A missing directory is made 0700; files are 0600 whatever the
	 * umask says. */
	path_of(sub, sizeof(sub), f, "keys");
	old = umask(0);
	assert_int_equal(keys_generate(sub, f->err, sizeof(f->err)), 0);
	umask(old);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	assert_int_equal(keys_load(&ks, sub, f->err, sizeof(f->err)), 0);
	assert_int_equal(ks.nsign, 1);
	assert_int_equal(ks.npepper, 1);
	s = keys_sign_current(&ks);
	p = keys_pepper_current(&ks);
	assert_non_null(s);
	assert_non_null(p);
	assert_true(is_hex_kid(s->kid));
	assert_true(is_hex_kid(p->kid));
	assert_ptr_equal(keys_sign_find(&ks, s->kid), s);
	assert_ptr_equal(keys_pepper_find(&ks, p->kid), p);
	assert_null(keys_sign_find(&ks, "nope"));
	assert_null(keys_pepper_find(&ks, "nope"));
	assert_null(keys_sign_find(&ks, p->kid));

	/* The public key is the secret key's, and it verifies. */
	crypto_sign_ed25519_sk_to_pk(pk, s->sk);
	assert_memory_equal(pk, s->pk, 32);
	crypto_sign_detached(sig, NULL, (const uint8_t *)"m", 1, s->sk);
	assert_int_equal(crypto_sign_verify_detached(sig, (const uint8_t *)"m",
	    1, s->pk), 0);

	snprintf(name, sizeof(name), "sign-%s.key", s->kid);
	assert_mode(sub, name, 0600);
	snprintf(name, sizeof(name), "pepper-%s.key", p->kid);
	assert_mode(sub, name, 0600);
	assert_mode(sub, "current", 0600);

	keys_free(&ks);
	assert_int_equal(ks.nsign, 0);
	assert_int_equal(ks.npepper, 0);
	assert_null(keys_sign_current(&ks));
	assert_null(keys_pepper_current(&ks));
	keys_free(&ks);		/* twice is harmless */
}

static void
test_rotation(void **state)
{
	struct fixture	*f = *state;
	struct keyset	 ks;
	char		 sign1[PROTO_KID_MAX + 1], pepper1[PROTO_KID_MAX + 1];
	char		 path[PATH_MAX], text[256];
	FILE		*fp;

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(keys_load(&ks, f->dir, f->err, sizeof(f->err)), 0);
	snprintf(sign1, sizeof(sign1), "%s", keys_sign_current(&ks)->kid);
	snprintf(pepper1, sizeof(pepper1), "%s", keys_pepper_current(&ks)->kid);
	keys_free(&ks);

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(keys_load(&ks, f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(ks.nsign, 2);
	assert_int_equal(ks.npepper, 2);
	/* the old ones stay, the new ones are current */
	assert_non_null(keys_sign_find(&ks, sign1));
	assert_non_null(keys_pepper_find(&ks, pepper1));
	assert_string_not_equal(keys_sign_current(&ks)->kid, sign1);
	assert_string_not_equal(keys_pepper_current(&ks)->kid, pepper1);

	/* current says so in its two lines, and no temporary file is left */
	path_of(path, sizeof(path), f, "current");
	assert_non_null(fp = fopen(path, "r"));
	text[fread(text, 1, sizeof(text) - 1, fp)] = '\0';
	fclose(fp);
	{
		char want[256];

		snprintf(want, sizeof(want), "sign %s\npepper %s\nrsa %s\n",
		    keys_sign_current(&ks)->kid, keys_pepper_current(&ks)->kid,
		    keys_rsa_current(&ks)->kid);
		assert_string_equal(text, want);
	}
	keys_free(&ks);
	{
		DIR		*d = opendir(f->dir);
		struct dirent	*de;
		int		 n = 0;

		assert_non_null(d);
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' || strncmp(de->d_name,
			    ".current", 8) == 0)
				n++;
		closedir(d);
		assert_int_equal(n, 7);	/* 2 + 2 + 2 keys and current */
	}
}

/* Each rotation makes an RSA-3072 key beside the Ed25519 one; the old
 * one stays, loaded for verification, and the new one signs. */
static void
test_rsa_generate_and_rotate(void **state)
{
	struct fixture		*f = *state;
	struct keyset		 ks;
	const struct rsa_key	*r;
	char			 rsa1[PROTO_KID_MAX + 1], name[128];
	uint8_t			 sig[PROTO_RSA_N_LEN];
	size_t			 siglen = sizeof(sig);
	EVP_MD_CTX		*ctx;

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(keys_load(&ks, f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(ks.nrsa, 1);
	assert_non_null(r = keys_rsa_current(&ks));
	assert_true(field_is_kid(r->kid));
	assert_int_equal(strlen(r->kid), 16);
	assert_int_equal(EVP_PKEY_get_bits(r->pkey), KEYS_RSA_BITS);
	assert_true(r->n[0] & 0x80);
	assert_int_equal(r->e_len, 3);	/* 65537 */
	assert_int_equal(r->e[0], 1);
	assert_int_equal(r->e[1], 0);
	assert_int_equal(r->e[2], 1);
	/* the kids of different kinds differ */
	assert_string_not_equal(r->kid, keys_sign_current(&ks)->kid);
	snprintf(name, sizeof(name), "rsa-%s.key", r->kid);
	assert_mode(f->dir, name, 0600);
	snprintf(rsa1, sizeof(rsa1), "%s", r->kid);

	/* it signs RS256 */
	assert_non_null(ctx = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
	    r->pkey), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen,
	    (const uint8_t *)"m", 1), 1);
	assert_int_equal(siglen, PROTO_RSA_N_LEN);
	EVP_MD_CTX_free(ctx);
	keys_free(&ks);
	assert_int_equal(ks.nrsa, 0);
	assert_null(keys_rsa_current(&ks));

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(keys_load(&ks, f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(ks.nrsa, 2);
	assert_string_not_equal(keys_rsa_current(&ks)->kid, rsa1);
	assert_non_null(keys_rsa_find(&ks, rsa1));
	assert_null(keys_rsa_find(&ks, "nope"));
	/* ordered by kid */
	assert_true(strcmp(ks.rsa[0].kid, ks.rsa[1].kid) < 0);
	keys_free(&ks);
}

/* A key set from before RSA keys: it loads, without a current RSA key;
 * the next rotation adds one. */
static void
test_rsa_absent_from_old_set(void **state)
{
	struct fixture	*f = *state;
	struct keyset	 ks;
	char		 sign[128], pepper[128], path[PATH_MAX], text[256];
	DIR		*d;
	struct dirent	*de;

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	current_names(f, sign, pepper, sizeof(sign));
	/* as an older keygen left it: no rsa file, no rsa line */
	assert_non_null(d = opendir(f->dir));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "rsa-", 4) == 0) {
			path_of(path, sizeof(path), f, de->d_name);
			assert_int_equal(unlink(path), 0);
		}
	closedir(d);
	snprintf(text, sizeof(text), "sign %.*s\npepper %.*s\n",
	    (int)(strlen(sign) - 9), sign + 5, (int)(strlen(pepper) - 11),
	    pepper + 7);
	put_file(f, "current", text, strlen(text), 0600);

	assert_int_equal(keys_load(&ks, f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(ks.nrsa, 0);
	assert_null(keys_rsa_current(&ks));
	assert_non_null(keys_sign_current(&ks));
	keys_free(&ks);

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(keys_load(&ks, f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(ks.nrsa, 1);
	assert_int_equal(ks.nsign, 2);
	assert_non_null(keys_rsa_current(&ks));
	keys_free(&ks);
}

/* Writes an RSA key of bits as DER to name. */
static void
put_rsa(const struct fixture *f, const char *name, unsigned int bits,
    mode_t mode)
{
	EVP_PKEY	*k;
	unsigned char	*der = NULL;
	int		 len;

	assert_non_null(k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)bits));
	assert_true((len = i2d_PrivateKey(k, &der)) > 0);
	put_file(f, name, der, (size_t)len, mode);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

static void
test_rsa_refusals(void **state)
{
	struct fixture	*f = *state;
	char		 sign[128], pepper[128], path[PATH_MAX], rsa[128];
	struct keyset	 ks;
	uint8_t		 junk[1024];
	int		 fd;

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	current_names(f, sign, pepper, sizeof(sign));
	assert_int_equal(keys_load(&ks, f->dir, f->err, sizeof(f->err)), 0);
	snprintf(rsa, sizeof(rsa), "rsa-%s.key", keys_rsa_current(&ks)->kid);
	keys_free(&ks);

	/* too open */
	path_of(path, sizeof(path), f, rsa);
	assert_int_equal(chmod(path, 0640), 0);
	load_fails(f, path, "UNPROTECTED PRIVATE KEY FILE", NULL);
	assert_int_equal(chmod(path, 0600), 0);

	/* a 2048-bit key is not what we publish as 3072 */
	put_rsa(f, "rsa-short.key", 2048, 0600);
	load_fails(f, "rsa-short.key", "not a 3072-bit RSA key", NULL);
	path_of(path, sizeof(path), f, "rsa-short.key");
	unlink(path);

	/* garbage of a plausible size, and a key with bytes after it */
	memset(junk, 0x30, sizeof(junk));
	put_file(f, "rsa-junk.key", junk, sizeof(junk), 0600);
	load_fails(f, "rsa-junk.key", "not an RSA private key", NULL);
	path_of(path, sizeof(path), f, "rsa-junk.key");
	unlink(path);
	path_of(path, sizeof(path), f, rsa);
	assert_true((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	load_fails(f, rsa, "not an RSA private key", NULL);

	/* too small, too large */
	put_file(f, rsa, junk, 16, 0600);
	load_fails(f, rsa, "wrong size", NULL);
	{
		static uint8_t big[8192];

		put_file(f, rsa, big, sizeof(big), 0600);
		load_fails(f, rsa, "wrong size", NULL);
	}

	/* current naming an RSA key that is not there */
	path_of(path, sizeof(path), f, rsa);
	unlink(path);
	load_fails(f, "names RSA key", NULL);
}

static void
test_at_most_keys_max(void **state)
{
	struct fixture	*f = *state;
	struct keyset	 ks;
	uint8_t		 pk[32], sk[64];
	int		 i;

	for (i = 0; i < KEYS_MAX; i++)
		assert_int_equal(keys_generate(f->dir, f->err,
		    sizeof(f->err)), 0);
	assert_int_equal(keys_load(&ks, f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(ks.nsign, KEYS_MAX);
	assert_int_equal(ks.npepper, KEYS_MAX);
	keys_free(&ks);

	f->err[0] = '\0';
	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, f->dir));
	assert_non_null(strstr(f->err, "remove retired"));

	/* one planted by hand past the bound */
	crypto_sign_keypair(pk, sk);
	put_file(f, "sign-extra.key", sk, sizeof(sk), 0600);
	sodium_memzero(sk, sizeof(sk));
	load_fails(f, f->dir, "more than 16 signing keys", NULL);
}

static void
test_refuse_0644(void **state)
{
	struct fixture	*f = *state;
	char		 sign[128], pepper[128], path[PATH_MAX];

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	current_names(f, sign, pepper, sizeof(sign));
	path_of(path, sizeof(path), f, sign);
	assert_int_equal(chmod(path, 0644), 0);
	load_fails(f, path, "UNPROTECTED PRIVATE KEY FILE", "0644", NULL);
}

static void
test_refuse_0640(void **state)
{
	struct fixture	*f = *state;
	char		 sign[128], pepper[128], path[PATH_MAX];

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	current_names(f, sign, pepper, sizeof(sign));
	path_of(path, sizeof(path), f, pepper);
	assert_int_equal(chmod(path, 0640), 0);
	load_fails(f, path, "UNPROTECTED PRIVATE KEY FILE", "0640", NULL);

	/* writable by others only is as bad */
	assert_int_equal(chmod(path, 0602), 0);
	load_fails(f, path, "UNPROTECTED", NULL);
	/* and so is a current file others may write */
	assert_int_equal(chmod(path, 0600), 0);
	path_of(path, sizeof(path), f, "current");
	assert_int_equal(chmod(path, 0620), 0);
	load_fails(f, path, "permissions 0620 are too open", NULL);
	/* 0400 is fine (systemd's credentials are read-only) */
	assert_int_equal(chmod(path, 0400), 0);
	current_names(f, sign, pepper, sizeof(sign));
}

static void
test_refuse_wrong_size(void **state)
{
	struct fixture	*f = *state;
	char		 sign[128], pepper[128], path[PATH_MAX];
	uint8_t		 buf[65], orig[64];
	FILE		*fp;

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	current_names(f, sign, pepper, sizeof(sign));
	path_of(path, sizeof(path), f, sign);
	assert_non_null(fp = fopen(path, "rb"));
	assert_int_equal(fread(orig, 1, sizeof(orig), fp), 64);
	fclose(fp);
	assert_int_equal(truncate(path, 63), 0);
	load_fails(f, path, "wrong size", NULL);
	assert_int_equal(truncate(path, 0), 0);
	load_fails(f, path, "wrong size", NULL);

	randombytes_buf(buf, sizeof(buf));
	put_file(f, sign, buf, 64, 0600);	/* right size, not a key */
	load_fails(f, path, "damaged", NULL);
	put_file(f, sign, orig, sizeof(orig), 0600);
	sodium_memzero(orig, sizeof(orig));

	path_of(path, sizeof(path), f, pepper);
	put_file(f, pepper, buf, 33, 0600);
	load_fails(f, path, "wrong size", NULL);
}

static void
test_refuse_missing_current(void **state)
{
	struct fixture	*f = *state;
	char		 path[PATH_MAX];

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	path_of(path, sizeof(path), f, "current");
	assert_int_equal(unlink(path), 0);
	load_fails(f, path, "missing", NULL);
}

static void
test_refuse_current_absent_kid(void **state)
{
	struct fixture	*f = *state;
	char		 sign[128], pepper[128], text[256], path[PATH_MAX];

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	current_names(f, sign, pepper, sizeof(sign));
	path_of(path, sizeof(path), f, "current");

	/* pepper-<kid>.key -> <kid> */
	pepper[strlen(pepper) - 4] = '\0';
	snprintf(text, sizeof(text), "sign 0123456789abcdef\npepper %s\n",
	    pepper + 7);
	put_file(f, "current", text, strlen(text), 0600);
	load_fails(f, path, "0123456789abcdef", "no sign-0123456789abcdef.key",
	    NULL);

	sign[strlen(sign) - 4] = '\0';
	snprintf(text, sizeof(text), "pepper gone\nsign %s", sign + 5);
	put_file(f, "current", text, strlen(text), 0600);
	load_fails(f, path, "no pepper-gone.key", NULL);
}

static void
test_refuse_bad_current(void **state)
{
	static const char *bad[] = {
		"",
		"sign a\n",				/* no pepper */
		"pepper a\n",				/* no sign */
		"sign a\nsign b\npepper c\n",		/* twice */
		"sign a\npepper b\nfoo c\n",		/* unknown kind */
		"sign a\n\npepper b\n",			/* empty line */
		"sign a b\npepper c\n",			/* kid with a blank */
		"sign a!\npepper c\n",			/* kid out of set */
		"sign  a\npepper c\n",
		"sign a\r\npepper c\n",
	};
	struct fixture	*f = *state;
	char		 path[PATH_MAX], big[1100];	/* past CURRENT_MAX */
	size_t		 i;

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	path_of(path, sizeof(path), f, "current");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_file(f, "current", bad[i], strlen(bad[i]), 0600);
		load_fails(f, path, NULL);
	}
	put_file(f, "current", "sign a\0\npepper b\n", 17, 0600);
	load_fails(f, path, "NUL", NULL);
	memset(big, 'a', sizeof(big));
	put_file(f, "current", big, sizeof(big), 0600);
	load_fails(f, path, "too large", NULL);
}

static void
test_refuse_symlink_and_special(void **state)
{
	struct fixture	*f = *state;
	char		 sign[128], pepper[128], path[PATH_MAX], target[PATH_MAX];

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	current_names(f, sign, pepper, sizeof(sign));

	/* a symbolic link to a perfectly good key is still refused */
	path_of(path, sizeof(path), f, sign);
	path_of(target, sizeof(target), f, "elsewhere");
	assert_int_equal(rename(path, target), 0);
	assert_int_equal(symlink(target, path), 0);
	load_fails(f, path, "symbolic link", NULL);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rename(target, path), 0);

	/* so is a current that is a link */
	path_of(path, sizeof(path), f, "current");
	assert_int_equal(rename(path, target), 0);
	assert_int_equal(symlink(target, path), 0);
	load_fails(f, path, "symbolic link", NULL);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rename(target, path), 0);
	current_names(f, sign, pepper, sizeof(sign));

	/* a FIFO must neither hang nor pass */
	path_of(path, sizeof(path), f, "pepper-fifo.key");
	assert_int_equal(mkfifo(path, 0600), 0);
	load_fails(f, path, "not a regular file", NULL);
	assert_int_equal(unlink(path), 0);

	/* nor a directory */
	path_of(path, sizeof(path), f, "sign-dir.key");
	assert_int_equal(mkdir(path, 0700), 0);
	load_fails(f, path, "not a regular file", NULL);
	assert_int_equal(rmdir(path), 0);
}

static void
test_refuse_bad_kid_name(void **state)
{
	struct fixture	*f = *state;
	uint8_t		 key[32] = { 0 };
	char		 path[PATH_MAX];

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	put_file(f, "pepper-bad!kid.key", key, sizeof(key), 0600);
	path_of(path, sizeof(path), f, "pepper-bad!kid.key");
	load_fails(f, path, "invalid key id", NULL);
	assert_int_equal(unlink(path), 0);

	put_file(f, "sign-.key", key, sizeof(key), 0600);
	load_fails(f, "sign-.key", "invalid key id", NULL);
	path_of(path, sizeof(path), f, "sign-.key");
	assert_int_equal(unlink(path), 0);

	/* other files are none of our business */
	put_file(f, "README", "x", 1, 0644);
	put_file(f, "sign-old.key.bak", "x", 1, 0644);
	put_file(f, ".sign-hidden", "x", 1, 0644);
	{
		char sign[128], pepper[128];

		current_names(f, sign, pepper, sizeof(sign));
	}
}

static void
test_refuse_other_owner(void **state)
{
	struct fixture	*f = *state;
	char		 sign[128], pepper[128], path[PATH_MAX];

	if (geteuid() != 0)
		skip();		/* only root can give a file away */
	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	current_names(f, sign, pepper, sizeof(sign));
	path_of(path, sizeof(path), f, pepper);
	assert_int_equal(chown(path, 65534, 65534), 0);
	load_fails(f, path, "owned by uid 65534", NULL);
}

static void
test_refuse_missing_dir(void **state)
{
	struct fixture	*f = *state;
	struct keyset	 ks;
	char		 path[PATH_MAX];

	path_of(path, sizeof(path), f, "none");
	assert_int_equal(keys_load(&ks, path, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, path));

	/* an empty directory has no current keys */
	load_fails(f, "current", "missing", NULL);

	/* keys_generate makes one level, not a whole path */
	path_of(path, sizeof(path), f, "a/b");
	assert_int_equal(keys_generate(path, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, path));
}

/* systemd's LoadCredential= of the key directory hands the files over as
 * keys_<name>, beside other credentials of the unit. */
static void
test_credentials_prefix_is_loaded_and_others_ignored(void **state)
{
	struct fixture	*f = *state;
	struct keyset	 ks;
	char		 src[PATH_MAX], creds[PATH_MAX], from[PATH_MAX + 300],
			 to[PATH_MAX + 300];
	DIR		*d;
	struct dirent	*de;
	int		 fd;

	path_of(src, sizeof(src), f, "keys");
	path_of(creds, sizeof(creds), f, "creds");
	assert_int_equal(keys_generate(src, f->err, sizeof(f->err)), 0);
	assert_int_equal(mkdir(creds, 0700), 0);
	assert_non_null(d = opendir(src));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(from, sizeof(from), "%s/%s", src, de->d_name);
		snprintf(to, sizeof(to), "%s/keys_%s", creds, de->d_name);
		assert_int_equal(rename(from, to), 0);
	}
	closedir(d);
	/* Another credential of the unit, not a key: left alone. */
	snprintf(to, sizeof(to), "%s/tls_cert.pem", creds);
	assert_true((fd = open(to, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);

	assert_int_equal(keys_load(&ks, creds, f->err, sizeof(f->err)), -1);
	assert_int_equal(keys_load_named(&ks, creds, KEYS_CREDENTIAL_PREFIX,
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(ks.nsign, 1);
	assert_int_equal(ks.npepper, 1);
	assert_non_null(keys_sign_current(&ks));
	keys_free(&ks);
}

/* keys_generate_next at now with delay; asserts it worked. */
static struct keys_gen_out
gen_next(struct fixture *f, int64_t now, int64_t delay)
{
	struct keys_gen		 g = { .now = now, .delay = delay };
	struct keys_gen_out	 out;

	if (keys_generate_next(f->dir, &g, &out, f->err, sizeof(f->err)) != 0)
		fail_msg("keygen: %s", f->err);
	return out;
}

/* The number of files in the fixture's directory. */
static int
file_count(const struct fixture *f)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	assert_non_null(d = opendir(f->dir));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The first keys of an empty directory are current at once, whatever the
 * delay: nothing signs before them. */
static void
test_first_keys_current_at_once(void **state)
{
	struct fixture		*f = *state;
	struct keys_gen_out	 out;
	struct keyset		 ks;

	out = gen_next(f, 1000, 600);
	assert_true(out.at_once);
	assert_string_equal(out.cur.next[KEYS_SIGN], "");
	assert_int_equal(keys_load(&ks, f->dir, f->err, sizeof(f->err)), 0);
	assert_string_equal(keys_sign_current_at(&ks, 0)->kid,
	    out.cur.cur[KEYS_SIGN]);
	assert_false(ks.sign_next.set);
	keys_free(&ks);
}

/* keygen on a set in use: the new keys are loaded (so published) at
 * once, and sign, sign RS256 and seal only from now + delay on. */
static void
test_next_keys_published_then_used_from_their_instant(void **state)
{
	struct fixture		*f = *state;
	struct keys_gen_out	 first, out;
	struct keyset		 ks;
	int			 k;

	first = gen_next(f, 1000, 600);
	out = gen_next(f, 2000, 600);
	assert_false(out.at_once);
	assert_false(out.promoted);
	for (k = 0; k < KEYS_NKINDS; k++) {
		assert_string_equal(out.cur.cur[k], first.cur.cur[k]);
		assert_string_not_equal(out.cur.next[k], "");
		assert_int_equal(out.cur.from[k], 2600);
	}
	assert_int_equal(keys_load(&ks, f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(ks.nsign, 2);
	assert_int_equal(ks.nrsa, 2);
	assert_int_equal(ks.npepper, 2);
	assert_non_null(keys_sign_find(&ks, out.cur.next[KEYS_SIGN]));
	assert_non_null(keys_rsa_find(&ks, out.cur.next[KEYS_RSA]));
	assert_string_equal(keys_sign_current_at(&ks, 2599)->kid,
	    first.cur.cur[KEYS_SIGN]);
	assert_string_equal(keys_rsa_current_at(&ks, 2599)->kid,
	    first.cur.cur[KEYS_RSA]);
	assert_string_equal(keys_pepper_current_at(&ks, 2599)->kid,
	    first.cur.cur[KEYS_PEPPER]);
	assert_string_equal(keys_sign_current_at(&ks, 2600)->kid,
	    out.cur.next[KEYS_SIGN]);
	assert_string_equal(keys_rsa_current_at(&ks, 2600)->kid,
	    out.cur.next[KEYS_RSA]);
	assert_string_equal(keys_pepper_current_at(&ks, 2600)->kid,
	    out.cur.next[KEYS_PEPPER]);
	keys_free(&ks);
}

/* A second keygen before the next keys' instant writes nothing and says
 * when they take over; --now (delay 0) makes new keys current at once and
 * drops the pending ones to retired. */
static void
test_keygen_while_next_pending(void **state)
{
	struct fixture		*f = *state;
	struct keys_gen		 g = { .now = 2599, .delay = 600 };
	struct keys_gen_out	 first, next, out;
	char			 before[512], after[512], path[PATH_MAX];
	int			 n;
	FILE			*fp;
	struct keyset		 ks;

	first = gen_next(f, 1000, 600);
	next = gen_next(f, 2000, 600);
	n = file_count(f);
	path_of(path, sizeof(path), f, "current");
	assert_non_null(fp = fopen(path, "r"));
	before[fread(before, 1, sizeof(before) - 1, fp)] = '\0';
	fclose(fp);

	assert_int_equal(keys_generate_next(f->dir, &g, &out, f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "1970-01-01T00:43:20Z"));
	assert_non_null(strstr(f->err, "2600"));
	assert_non_null(strstr(f->err, "--now"));
	assert_int_equal(file_count(f), n);
	assert_non_null(fp = fopen(path, "r"));
	after[fread(after, 1, sizeof(after) - 1, fp)] = '\0';
	fclose(fp);
	assert_string_equal(before, after);

	out = gen_next(f, 2599, 0);
	assert_true(out.at_once);
	assert_string_not_equal(out.cur.cur[KEYS_SIGN], first.cur.cur[KEYS_SIGN]);
	assert_string_not_equal(out.cur.cur[KEYS_SIGN], next.cur.next[KEYS_SIGN]);
	assert_string_equal(out.cur.next[KEYS_SIGN], "");
	assert_int_equal(keys_load(&ks, f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(ks.nsign, 3);
	assert_false(ks.sign_next.set);
	assert_string_equal(keys_sign_current_at(&ks, 0)->kid,
	    out.cur.cur[KEYS_SIGN]);
	keys_free(&ks);
}

/* keygen after the instant makes the next keys current and adds new next
 * ones, delay ahead of this keygen. */
static void
test_keygen_promotes_a_due_next(void **state)
{
	struct fixture		*f = *state;
	struct keys_gen_out	 next, out;
	struct keyset		 ks;
	int			 k;

	(void)gen_next(f, 1000, 600);
	next = gen_next(f, 2000, 600);
	out = gen_next(f, 2600, 60);
	assert_true(out.promoted);
	assert_false(out.at_once);
	for (k = 0; k < KEYS_NKINDS; k++) {
		assert_string_equal(out.cur.cur[k], next.cur.next[k]);
		assert_string_not_equal(out.cur.next[k], next.cur.next[k]);
		assert_int_equal(out.cur.from[k], 2660);
	}
	assert_int_equal(keys_load(&ks, f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(ks.nsign, 3);
	assert_string_equal(keys_sign_current_at(&ks, 2659)->kid,
	    next.cur.next[KEYS_SIGN]);
	assert_string_equal(keys_sign_current_at(&ks, 2660)->kid,
	    out.cur.next[KEYS_SIGN]);
	keys_free(&ks);
}

/* A next line that names a key file the directory lacks is refused. */
static void
test_refuse_next_without_its_file(void **state)
{
	struct fixture	*f = *state;
	char		 sign[128], pepper[128], text[1024], path[PATH_MAX];

	assert_int_equal(keys_generate(f->dir, f->err, sizeof(f->err)), 0);
	current_names(f, sign, pepper, sizeof(sign));
	path_of(path, sizeof(path), f, "current");
	sign[strlen(sign) - 4] = '\0';
	pepper[strlen(pepper) - 4] = '\0';
	snprintf(text, sizeof(text), "sign %s\npepper %s\n"
	    "next sign 0123456789abcdef 5\n", sign + 5, pepper + 7);
	put_file(f, "current", text, strlen(text), 0600);
	load_fails(f, path, "next signing key 0123456789abcdef",
	    "no sign-0123456789abcdef.key", NULL);
	snprintf(text, sizeof(text), "sign %s\npepper %s\n"
	    "next pepper gone 5\n", sign + 5, pepper + 7);
	put_file(f, "current", text, strlen(text), 0600);
	load_fails(f, path, "no pepper-gone.key", NULL);
	/* a next key that is the current one is a mistake, not a no-op */
	snprintf(text, sizeof(text), "sign %s\npepper %s\nnext sign %s 5\n",
	    sign + 5, pepper + 7, sign + 5);
	put_file(f, "current", text, strlen(text), 0600);
	load_fails(f, path, "already the current", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_generate_then_load, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa_generate_and_rotate,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa_absent_from_old_set,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_credentials_prefix_is_loaded_and_others_ignored, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_at_most_keys_max, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refuse_0644, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refuse_0640, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refuse_wrong_size, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refuse_missing_current,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_current_absent_kid,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_bad_current, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refuse_symlink_and_special,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_bad_kid_name, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refuse_other_owner, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refuse_missing_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_first_keys_current_at_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_next_keys_published_then_used_from_their_instant, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_keygen_while_next_pending,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_keygen_promotes_a_due_next,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_next_without_its_file,
		    setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
