/*
 * hasher/password.c: sealed Argon2id hashes, legacy formats, rehash
 * decisions, the dummy verification, and stored strings of every broken
 * shape.  Small Argon2 memory keeps it fast; one test runs the default.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <crypt.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "password.h"
#include "b64url.h"

#define USER_A	"0b6f9e52-6a3c-4d7e-9a51-2f1c3b4d5e6f"
#define USER_B	"7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
#define PW	((const uint8_t *)"correct horse battery staple")
#define PW_LEN	(sizeof("correct horse battery staple") - 1)
#define SEAL	"$warden$v=1$k="

/* Fast policy for most tests (64 KiB, 2 passes), a weaker one, and the
 * configuration's default (19 MiB, 2 passes). */
static const struct pw_policy pol = { 64 * 1024, 2 };
static const struct pw_policy pol_weak = { 32 * 1024, 2 };
static const struct pw_policy pol_default = { 19 * 1024 * 1024, 2 };

static char		dir_main[64], dir_other[64];
static struct keyset	ks;		/* two generations: old and current */
static struct keyset	ks_old;		/* the first generation alone */
static struct keyset	ks_other;	/* an unrelated key set */
static char		old_pepper[PROTO_KID_MAX + 1];

static void
rm_flat(const char *dir)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	char		 path[PATH_MAX];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int
group_setup(void **state)
{
	char err[512];

	snprintf(dir_main, sizeof(dir_main), "/tmp/warden-pw-XXXXXX");
	snprintf(dir_other, sizeof(dir_other), "/tmp/warden-pw-XXXXXX");
	if (mkdtemp(dir_main) == NULL || mkdtemp(dir_other) == NULL)
		return -1;
	if (keys_generate(dir_main, err, sizeof(err)) == -1 ||
	    keys_load(&ks_old, dir_main, err, sizeof(err)) == -1 ||
	    keys_generate(dir_main, err, sizeof(err)) == -1 ||
	    keys_load(&ks, dir_main, err, sizeof(err)) == -1 ||
	    keys_generate(dir_other, err, sizeof(err)) == -1 ||
	    keys_load(&ks_other, dir_other, err, sizeof(err)) == -1) {
		fprintf(stderr, "key set-up: %s\n", err);
		return -1;
	}
	snprintf(old_pepper, sizeof(old_pepper), "%s",
	    keys_pepper_current(&ks_old)->kid);
	return 0;
}

static int
group_teardown(void **state)
{
	keys_free(&ks);
	keys_free(&ks_old);
	keys_free(&ks_other);
	rm_flat(dir_main);
	rm_flat(dir_other);
	return 0;
}

static void
hash_ok(const struct keyset *k, const struct pw_policy *p, const char *user,
    const uint8_t *pw, size_t len, char out[PROTO_STORED_MAX + 1])
{
	assert_int_equal(pw_hash(k, p, user, pw, len, out,
	    PROTO_STORED_MAX + 1), 0);
	assert_true(strlen(out) <= PROTO_STORED_MAX);
}

/* Runs pw_verify and returns its result; *rehash filled. */
static int
verify(const struct keyset *k, const struct pw_policy *p, const char *user,
    const uint8_t *pw, size_t len, const char *stored, bool *match,
    char rehash[PROTO_STORED_MAX + 1])
{
	memset(rehash, 'x', PROTO_STORED_MAX + 1);
	*match = true;
	return pw_verify(k, p, user, pw, len, stored, match, rehash,
	    PROTO_STORED_MAX + 1);
}

/* The rehash must be a sealed hash under the current pepper key that
 * matches the same password without asking for another rehash. */
static void
assert_good_rehash(const char *rehash, const char *user, const uint8_t *pw,
    size_t len, const struct pw_policy *p)
{
	char	 again[PROTO_STORED_MAX + 1], prefix[128];
	bool	 match;

	snprintf(prefix, sizeof(prefix), "%s%s$", SEAL,
	    keys_pepper_current(&ks)->kid);
	assert_true(strncmp(rehash, prefix, strlen(prefix)) == 0);
	assert_int_equal(verify(&ks, p, user, pw, len, rehash, &match, again), 0);
	assert_true(match);
	assert_string_equal(again, "");
}

/* A stored string that must answer no, whatever the return value, and
 * never offer a rehash. */
static void
assert_no(const char *stored, const uint8_t *pw, size_t len)
{
	char	 rehash[PROTO_STORED_MAX + 1];
	bool	 match;
	int	 rc;

	rc = verify(&ks, &pol, USER_A, pw, len, stored, &match, rehash);
	if (rc != 0 && rc != -1)
		fail_msg("pw_verify returned %d for \"%s\"", rc, stored);
	if (match)
		fail_msg("\"%s\" matched", stored);
	assert_string_equal(rehash, "");
}

static void
test_hash_then_verify(void **state)
{
	char	 stored[PROTO_STORED_MAX + 1], stored2[PROTO_STORED_MAX + 1];
	char	 rehash[PROTO_STORED_MAX + 1], prefix[128];
	bool	 match;

	hash_ok(&ks, &pol, USER_A, PW, PW_LEN, stored);
	snprintf(prefix, sizeof(prefix), "%s%s$", SEAL,
	    keys_pepper_current(&ks)->kid);
	assert_true(strncmp(stored, prefix, strlen(prefix)) == 0);
	/* nothing of the Argon2id string shows */
	assert_null(strstr(stored, "argon2"));

	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN, stored, &match,
	    rehash), 0);
	assert_true(match);
	assert_string_equal(rehash, "");

	/* fresh salt and nonce every time */
	hash_ok(&ks, &pol, USER_A, PW, PW_LEN, stored2);
	assert_string_not_equal(stored, stored2);
}

static void
test_wrong_password(void **state)
{
	char	 stored[PROTO_STORED_MAX + 1], rehash[PROTO_STORED_MAX + 1];
	bool	 match;

	hash_ok(&ks, &pol, USER_A, PW, PW_LEN, stored);
	assert_int_equal(verify(&ks, &pol, USER_A, (const uint8_t *)"wrong", 5,
	    stored, &match, rehash), 0);
	assert_false(match);
	assert_string_equal(rehash, "");
	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN - 1, stored,
	    &match, rehash), 0);
	assert_false(match);
	assert_int_equal(verify(&ks, &pol, USER_A, NULL, 0, stored, &match,
	    rehash), 0);
	assert_false(match);
}

static void
test_copied_to_other_user(void **state)
{
	char	 stored[PROTO_STORED_MAX + 1], rehash[PROTO_STORED_MAX + 1];
	bool	 match;

	hash_ok(&ks, &pol, USER_A, PW, PW_LEN, stored);
	assert_int_equal(verify(&ks, &pol, USER_B, PW, PW_LEN, stored, &match,
	    rehash), -1);
	assert_false(match);
	assert_string_equal(rehash, "");
	assert_int_equal(verify(&ks, &pol, "", PW, PW_LEN, stored, &match,
	    rehash), -1);
	assert_false(match);
}

static void
test_tampered(void **state)
{
	char	 stored[PROTO_STORED_MAX + 1], bad[PROTO_STORED_MAX + 1];
	size_t	 i, start, len;

	hash_ok(&ks, &pol, USER_A, PW, PW_LEN, stored);
	len = strlen(stored);
	start = (size_t)(strrchr(stored, '$') - stored) + 1;
	/* every character of nonce || ciphertext || tag, one at a time */
	for (i = start; i < len; i++) {
		memcpy(bad, stored, len + 1);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_no(bad, PW, PW_LEN);
	}
	/* every truncation */
	for (i = 0; i < len; i++) {
		memcpy(bad, stored, i);
		bad[i] = '\0';
		assert_no(bad, PW, PW_LEN);
	}
	/* one character more */
	memcpy(bad, stored, len);
	bad[len] = 'A';
	bad[len + 1] = '\0';
	assert_no(bad, PW, PW_LEN);
}

static void
test_unknown_kid(void **state)
{
	char	 stored[PROTO_STORED_MAX + 1], bad[PROTO_STORED_MAX + 1];
	char	 rehash[PROTO_STORED_MAX + 1];
	bool	 match;

	/* sealed by a key this set does not hold */
	hash_ok(&ks_other, &pol, USER_A, PW, PW_LEN, stored);
	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN, stored, &match,
	    rehash), -1);
	assert_false(match);
	assert_string_equal(rehash, "");

	/* our own hash relabelled with a kid we do not hold */
	hash_ok(&ks, &pol, USER_A, PW, PW_LEN, stored);
	snprintf(bad, sizeof(bad), "%sunknownkid%s", SEAL,
	    strrchr(stored, '$'));
	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN, bad, &match,
	    rehash), -1);
	assert_false(match);

	/* and with the other kid we do hold: the seal does not open */
	snprintf(bad, sizeof(bad), "%s%s%s", SEAL, old_pepper,
	    strrchr(stored, '$'));
	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN, bad, &match,
	    rehash), -1);
	assert_false(match);
}

static void
test_empty_stored(void **state)
{
	char	 rehash[PROTO_STORED_MAX + 1];
	bool	 match;

	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN, "", &match,
	    rehash), 0);
	assert_false(match);
	assert_string_equal(rehash, "");
	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN, NULL, &match,
	    rehash), 0);
	assert_false(match);
	/* the empty password against the empty hash is no either */
	assert_int_equal(verify(&ks, &pol, USER_A, NULL, 0, "", &match,
	    rehash), 0);
	assert_false(match);
}

/* An account made by an upstream sign-in stores "!": no password matches
 * it, the empty one and "!" itself included, and it is no error. */
static void
test_no_password_account(void **state)
{
	char	 rehash[PROTO_STORED_MAX + 1];
	bool	 match = true;

	(void)state;
	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN, "!", &match,
	    rehash), 0);
	assert_false(match);
	assert_string_equal(rehash, "");
	match = true;
	assert_int_equal(verify(&ks, &pol, USER_A, (const uint8_t *)"!", 1,
	    "!", &match, rehash), 0);
	assert_false(match);
	match = true;
	assert_int_equal(verify(&ks, &pol, USER_A, NULL, 0, "!", &match,
	    rehash), 0);
	assert_false(match);
}

/* The default policy, and the dummy verification does the work of a real
 * one (unknown users must not answer faster): the string it checks the
 * password against is one libsodium parses, with exactly the policy's
 * Argon2id parameters (needs_rehash says 0 only then; -1 for a string it
 * cannot read, which would fail at once instead of hashing). */
static void
test_default_policy_and_dummy_cost(void **state)
{
	char	 rehash[PROTO_STORED_MAX + 1];
	char	 str[crypto_pwhash_STRBYTES];
	const struct pw_policy other = { 2 * 1024 * 1024, 3 };
	bool	 match = true;

	assert_int_equal(pw_dummy_str(&pol_default, str, sizeof(str)), 0);
	assert_int_equal(crypto_pwhash_str_needs_rehash(str,
	    pol_default.iterations, pol_default.memory), 0);
	assert_int_equal(pw_dummy_str(&other, str, sizeof(str)), 0);
	assert_int_equal(crypto_pwhash_str_needs_rehash(str, other.iterations,
	    other.memory), 0);
	assert_int_equal(crypto_pwhash_str_needs_rehash(str,
	    pol_default.iterations, pol_default.memory), 1);
	assert_int_equal(pw_dummy_str(&pol_default, str, 20), -1);
	/* and no password matches it */
	assert_int_equal(verify(&ks, &pol_default, USER_A, PW, PW_LEN, "",
	    &match, rehash), 0);
	assert_false(match);
}

static void
test_plain_argon2id(void **state)
{
	char	 str[crypto_pwhash_STRBYTES];
	char	 rehash[PROTO_STORED_MAX + 1];
	bool	 match;

	assert_int_equal(crypto_pwhash_str_alg(str, (const char *)PW, PW_LEN,
	    pol.iterations, pol.memory, crypto_pwhash_ALG_ARGON2ID13), 0);
	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN, str, &match,
	    rehash), 0);
	assert_true(match);
	assert_good_rehash(rehash, USER_A, PW, PW_LEN, &pol);

	assert_int_equal(verify(&ks, &pol, USER_A, (const uint8_t *)"nope", 4,
	    str, &match, rehash), 0);
	assert_false(match);
	assert_string_equal(rehash, "");

	/* argon2i, imported too: it matches and is replaced */
	assert_int_equal(crypto_pwhash_str_alg(str, (const char *)PW, PW_LEN,
	    3, pol.memory, crypto_pwhash_ALG_ARGON2I13), 0);
	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN, str, &match,
	    rehash), 0);
	assert_true(match);
	assert_good_rehash(rehash, USER_A, PW, PW_LEN, &pol);
}

/*
 * Hashes of the password "pw" made by other implementations: passlib
 * 1.7.4 (argon2-cffi 21.1 for Argon2), Django 3.2, whois' mkpasswd
 * (libxcrypt) and Python's hashlib in Keycloak's shape (a 64-byte
 * PBKDF2-SHA256 key).
 */
static const char *const legacy_pw[] = {
	"$argon2id$v=19$m=1024,t=2,p=2$51xLKUUIYcx5T8k5B8BY6w$G331+7VuBky9aNJ9G"
	"RsbrQ",
	"$argon2i$v=19$m=1024,t=2,p=1$EMJ4zzlHCOHcO4dQihHivA$tuoqZ6dQoQiPEpae5I"
	"QD5w",
	"$2y$05$IRZO.aP/f/ZlNJPpHUsCXe.4JYEZvXtMsCosI.a5T6QQfeiVp1dsC",
	"pbkdf2_sha256$260000$LCacJZt7JA7SyaenPfZJJH$vROyTpCCKtSDtog/pQuOzeaPi0n"
	"TRmxOQYX1RKp1SDo=",
	"$pbkdf2-sha256$1000$OickxHgvxdi7N0YoZcwZIw$KghLWuwBVaT0XE97.ctxpewJmlUu"
	"kS3Oh7w3N2/tDc0",
	"$pbkdf2-sha512$1000$.N8bA4BQ6l1rTckZ45yzFg$xw6kbBf4ZYnlwvLRYabaJYI2VxL8"
	"hVIwVuvOkh56yr4Cnr2nqv11QJ3vUqOIweEFzzNt1JQmyHBk8YJgpxuOWg",
	"$pbkdf2-sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg$g4BiOBrcHGnGTAdCcoA.WrLOFA69"
	"L2c9HA5vVpt2o7B3TmzB7fU9bAYgGb8opcv71DrkWeJM0QLN/rn1j3LuLw",
	"$6$rounds=1000$DZoyGM9vzlPV0gY5$nzc.I0rZhrqgc/MKSVVaVfZ9r0m.4ZCThs5/9W"
	"CCphh1oIiCZZ0fVunMap5QGQ4gDKaAPYVMqu/5QJDM0HQpf/",
	"$6$BFxTbH0qW1wQh5qv$thD9WG4DnhPFMxN6MmeeXk0qPE32hihtKEnb.sVqlTEi.IO12i1"
	"nrWIhfL/Ba6E0g5dOhjWtoS9YyVpJiuxjw/",
	"$y$j9T$UhzMIoTF1S2db1t9K2W0I1$lfA7Clj.JTRjxi6e/LhR7rcDghgU0R2fudlfh8xCA"
	"96",
};

static void
test_hashes_of_other_systems_match_and_are_replaced(void **state)
{
	char	 rehash[PROTO_STORED_MAX + 1], bad[PROTO_STORED_MAX + 1];
	bool	 match;
	size_t	 i, len;

	(void)state;
	for (i = 0; i < sizeof(legacy_pw) / sizeof(legacy_pw[0]); i++) {
		if (verify(&ks, &pol, USER_A, (const uint8_t *)"pw", 2,
		    legacy_pw[i], &match, rehash) != 0 || !match)
			fail_msg("%s did not match", legacy_pw[i]);
		assert_good_rehash(rehash, USER_A, (const uint8_t *)"pw", 2,
		    &pol);
		/* Any user id: these hashes are bound to no one. */
		assert_int_equal(verify(&ks, &pol, USER_B,
		    (const uint8_t *)"pw", 2, legacy_pw[i], &match, rehash), 0);
		assert_true(match);
		assert_no(legacy_pw[i], (const uint8_t *)"pW", 2);
		assert_no(legacy_pw[i], (const uint8_t *)"pw\0", 3);
		assert_no(legacy_pw[i], (const uint8_t *)"", 0);
		/* The last character of the key changed: no match, no crash. */
		len = strlen(legacy_pw[i]);
		memcpy(bad, legacy_pw[i], len + 1);
		bad[len - 2] = bad[len - 2] == 'A' ? 'B' : 'A';
		assert_no(bad, (const uint8_t *)"pw", 2);
	}
}

static void
bcrypt_generated(const char *prefix)
{
	struct crypt_data	*cd = calloc(1, sizeof(*cd));
	char			 salt[CRYPT_GENSALT_OUTPUT_SIZE];
	char			 stored[128], rehash[PROTO_STORED_MAX + 1];
	bool			 match;

	assert_non_null(cd);
	assert_non_null(crypt_gensalt_rn(prefix, 4, NULL, 0, salt,
	    sizeof(salt)));
	assert_non_null(crypt_rn((const char *)PW, salt, cd, sizeof(*cd)));
	assert_true((size_t)snprintf(stored, sizeof(stored), "%s",
	    cd->output) < sizeof(stored));
	free(cd);
	assert_true(strncmp(stored, prefix, 4) == 0);
	assert_int_equal(strlen(stored), 60);

	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN, stored, &match,
	    rehash), 0);
	assert_true(match);
	assert_good_rehash(rehash, USER_A, PW, PW_LEN, &pol);

	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN - 1, stored,
	    &match, rehash), 0);
	assert_false(match);
	assert_string_equal(rehash, "");
}

static void
test_bcrypt(void **state)
{
	/* Openwall crypt_blowfish's published test vectors. */
	static const struct {
		const char *hash, *pw;
	} vec[] = {
		{ "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		  "U*U" },
		{ "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
		  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		  "0123456789chars after 72 are ignored" },
		{ "$2b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e",
		  "\xff\xff\xa3" },
		{ "$2y$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e",
		  "\xff\xff\xa3" },
		{ "$2y$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq",
		  "\xa3" },
	};
	char	 rehash[PROTO_STORED_MAX + 1], bad[64];
	bool	 match;
	size_t	 i;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		const uint8_t *pw = (const uint8_t *)vec[i].pw;

		assert_int_equal(verify(&ks, &pol, USER_A, pw,
		    strlen(vec[i].pw), vec[i].hash, &match, rehash), 0);
		if (!match)
			fail_msg("vector %zu did not match", i);
		assert_good_rehash(rehash, USER_A, pw, strlen(vec[i].pw), &pol);
		if (strlen(vec[i].pw) > 72)
			continue;	/* bcrypt reads 72 bytes at most */
		assert_int_equal(verify(&ks, &pol, USER_A, pw,
		    strlen(vec[i].pw) - 1, vec[i].hash, &match, rehash), 0);
		assert_false(match);
	}
	bcrypt_generated("$2b$");
	bcrypt_generated("$2y$");
	bcrypt_generated("$2a$");

	/* bcrypt sees a C string: a NUL inside never matches */
	assert_int_equal(verify(&ks, &pol, USER_A, (const uint8_t *)"U*U\0x", 5,
	    vec[0].hash, &match, rehash), 0);
	assert_false(match);

	/* $2x$ (the old sign-extension bug) is not ours to accept */
	assert_no("$2x$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e",
	    (const uint8_t *)"\xff\xff\xa3", 3);
	/* nor a cost that would take hours */
	snprintf(bad, sizeof(bad), "%s", vec[0].hash);
	memcpy(bad + 4, "17", 2);
	assert_no(bad, (const uint8_t *)"U*U", 3);
	memcpy(bad + 4, "03", 2);
	assert_no(bad, (const uint8_t *)"U*U", 3);
}

static void
test_old_pepper_rehash(void **state)
{
	char	 stored[PROTO_STORED_MAX + 1], rehash[PROTO_STORED_MAX + 1];
	char	 prefix[128];
	bool	 match;

	hash_ok(&ks_old, &pol, USER_A, PW, PW_LEN, stored);
	snprintf(prefix, sizeof(prefix), "%s%s$", SEAL, old_pepper);
	assert_true(strncmp(stored, prefix, strlen(prefix)) == 0);
	assert_string_not_equal(old_pepper, keys_pepper_current(&ks)->kid);

	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN, stored, &match,
	    rehash), 0);
	assert_true(match);
	assert_good_rehash(rehash, USER_A, PW, PW_LEN, &pol);

	/* no rehash on a failed match */
	assert_int_equal(verify(&ks, &pol, USER_A, PW, 3, stored, &match,
	    rehash), 0);
	assert_false(match);
	assert_string_equal(rehash, "");
}

static void
test_params_rehash(void **state)
{
	const struct pw_policy	 more_passes = { pol.memory, pol.iterations + 1 };
	char			 stored[PROTO_STORED_MAX + 1];
	char			 rehash[PROTO_STORED_MAX + 1];
	bool			 match;

	/* weaker memory than policy */
	hash_ok(&ks, &pol_weak, USER_A, PW, PW_LEN, stored);
	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN, stored, &match,
	    rehash), 0);
	assert_true(match);
	assert_good_rehash(rehash, USER_A, PW, PW_LEN, &pol);

	/* fewer passes than policy */
	hash_ok(&ks, &pol, USER_A, PW, PW_LEN, stored);
	assert_int_equal(verify(&ks, &more_passes, USER_A, PW, PW_LEN, stored,
	    &match, rehash), 0);
	assert_true(match);
	assert_good_rehash(rehash, USER_A, PW, PW_LEN, &more_passes);

	/* current parameters: nothing to do */
	assert_int_equal(verify(&ks, &pol, USER_A, PW, PW_LEN, stored, &match,
	    rehash), 0);
	assert_true(match);
	assert_string_equal(rehash, "");

	/* a lowered policy converges too (libsodium's needs_rehash) */
	assert_int_equal(verify(&ks, &pol_weak, USER_A, PW, PW_LEN, stored,
	    &match, rehash), 0);
	assert_true(match);
	assert_good_rehash(rehash, USER_A, PW, PW_LEN, &pol_weak);

	/* no room for the rehash: still a match, no rehash */
	hash_ok(&ks, &pol_weak, USER_A, PW, PW_LEN, stored);
	rehash[0] = 'x';
	assert_int_equal(pw_verify(&ks, &pol, USER_A, PW, PW_LEN, stored,
	    &match, rehash, 16), 0);
	assert_true(match);
	assert_int_equal(rehash[0], '\0');
}

static void
test_long_and_nul_passwords(void **state)
{
	uint8_t	 pw[PROTO_PASSWORD_MAX];
	char	 stored[PROTO_STORED_MAX + 1], rehash[PROTO_STORED_MAX + 1];
	bool	 match;

	randombytes_buf(pw, sizeof(pw));
	pw[0] = pw[100] = pw[sizeof(pw) - 1] = '\0';
	hash_ok(&ks, &pol, USER_A, pw, sizeof(pw), stored);
	assert_int_equal(verify(&ks, &pol, USER_A, pw, sizeof(pw), stored,
	    &match, rehash), 0);
	assert_true(match);
	/* every byte counts: the last one, and those after a NUL */
	assert_int_equal(verify(&ks, &pol, USER_A, pw, sizeof(pw) - 1, stored,
	    &match, rehash), 0);
	assert_false(match);
	pw[500] ^= 1;
	assert_int_equal(verify(&ks, &pol, USER_A, pw, sizeof(pw), stored,
	    &match, rehash), 0);
	assert_false(match);
	pw[500] ^= 1;

	/* "a\0b" is not "a\0c" */
	hash_ok(&ks, &pol, USER_A, (const uint8_t *)"a\0b", 3, stored);
	assert_int_equal(verify(&ks, &pol, USER_A, (const uint8_t *)"a\0b", 3,
	    stored, &match, rehash), 0);
	assert_true(match);
	assert_int_equal(verify(&ks, &pol, USER_A, (const uint8_t *)"a\0c", 3,
	    stored, &match, rehash), 0);
	assert_false(match);
	assert_int_equal(verify(&ks, &pol, USER_A, (const uint8_t *)"a", 1,
	    stored, &match, rehash), 0);
	assert_false(match);
}

/* Seals plaintext as a $warden$ hash would, to reach the checks behind
 * the seal. */
static void
seal_raw(const char *plain, size_t len, char *out, size_t outlen)
{
	const struct pepper_key	*k = keys_pepper_current(&ks);
	uint8_t			 blob[512];
	char			 b64[800];
	unsigned long long	 clen;

	assert_true(24 + len + 16 <= sizeof(blob));
	randombytes_buf(blob, 24);
	crypto_aead_xchacha20poly1305_ietf_encrypt(blob + 24, &clen,
	    (const uint8_t *)plain, len, (const uint8_t *)USER_A,
	    strlen(USER_A), NULL, blob, k->key);
	assert_true(b64url_encode(b64, sizeof(b64), blob, 24 + clen) > 0);
	assert_true((size_t)snprintf(out, outlen, "%s%s$%s", SEAL, k->kid,
	    b64) < outlen);
}

static void
test_garbage(void **state)
{
	static const char *shapes[] = {
		"$", "$$", "$$$$$$", "x", " ", "\t", "\xff\xfe",
		"password", "correct horse battery staple",
		"$warden", "$warden$", "$warden$v=1", "$warden$v=1$",
		"$warden$v=1$k=", "$warden$v=1$k=$", "$warden$v=1$k=$$",
		"$warden$v=2$k=abc$AAAA", "$warden$v=1$K=abc$AAAA",
		"$warden$v=1$k=abc", "$warden$v=1$k=abc$",
		"$argon2id", "$argon2id$", "$argon2id$v=19",
		"$argon2id$v=19$m=65536,t=2,p=1",
		"$argon2id$v=19$m=65536,t=2,p=1$",
		"$argon2id$v=19$m=65536,t=2,p=1$$",
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$",
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$!!!!",
		/* costs past the import bounds: refused before any work */
		"$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$"
		    "sUnQ3Vu9YzdlCXHQwYTzY3tzYnt9zB5Gr1Xn+BTLhGo",
		"$argon2id$v=19$m=65536,t=4294967295,p=1$c29tZXNhbHQ$"
		    "sUnQ3Vu9YzdlCXHQwYTzY3tzYnt9zB5Gr1Xn+BTLhGo",
		"$argon2id$v=19$m=65536,t=2,p=255$c29tZXNhbHQ$"
		    "sUnQ3Vu9YzdlCXHQwYTzY3tzYnt9zB5Gr1Xn+BTLhGo",
		"$argon2id$v=19$m=99999999999,t=2,p=1$c29tZXNhbHQ$"
		    "sUnQ3Vu9YzdlCXHQwYTzY3tzYnt9zB5Gr1Xn+BTLhGo",
		"$argon2id$v=19$m=-1,t=2,p=1$c29tZXNhbHQ$"
		    "sUnQ3Vu9YzdlCXHQwYTzY3tzYnt9zB5Gr1Xn+BTLhGo",
		"$argon2id$v=19$m=64,t=0,p=1$c29tZXNhbHQ$"
		    "sUnQ3Vu9YzdlCXHQwYTzY3tzYnt9zB5Gr1Xn+BTLhGo",
		"$argon2id$v=16$m=64,t=2,p=1$c29tZXNhbHQ$"
		    "sUnQ3Vu9YzdlCXHQwYTzY3tzYnt9zB5Gr1Xn+BTLhGo",
		"$argon2id$m=64,t=2,p=1$c29tZXNhbHQ$"
		    "sUnQ3Vu9YzdlCXHQwYTzY3tzYnt9zB5Gr1Xn+BTLhGo",
		"$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$"
		    "sUnQ3Vu9YzdlCXHQwYTzY3tzYnt9zB5Gr1Xn+BTLhGo",
		"$argon2i$v=19$m=64,t=2,p=1$c29tZXNhbHQ$"
		    "sUnQ3Vu9YzdlCXHQwYTzY3tzYnt9zB5Gr1Xn+BTLhGo",
		"$argon2d$v=19$m=64,t=2,p=1$c29tZXNhbHQ$"
		    "sUnQ3Vu9YzdlCXHQwYTzY3tzYnt9zB5Gr1Xn+BTLhGo",
		"$2b$", "$2b$04$", "$2b$04$short", "$2$04$abc",
		"$2b$04$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWX",
		"$2b$04$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe",
		"$2b$4x$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		"$2b$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		"$2b$04$!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
		"$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",
		"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZF7ZV3Ji1",
		"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJu"
		    "esI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
		"$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.R"
		    "hAtQ7",
		"*", "!", "!$warden$v=1$k=x$AAAA", "*0", "*1",
	};
	char	 buf[PROTO_STORED_MAX + 1], good[PROTO_STORED_MAX + 1];
	char	 *dollar, str[200];
	size_t	 i, j;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		assert_no(shapes[i], PW, PW_LEN);

	/* the right kid with every kind of payload */
	hash_ok(&ks, &pol, USER_A, PW, PW_LEN, good);
	dollar = strrchr(good, '$');
	{
		static const char *payloads[] = {
			"", "A", "AA", "AAA", "AAAA", "====", "A=", "AAA=",
			"+/+/", "AA AA", "AA\nAA",
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		};
		for (j = 0; j < sizeof(payloads) / sizeof(payloads[0]); j++) {
			snprintf(buf, sizeof(buf), "%.*s$%s",
			    (int)(dollar - good), good, payloads[j]);
			assert_no(buf, PW, PW_LEN);
		}
	}
	/* a payload longer than any real one */
	snprintf(buf, sizeof(buf), "%.*s$", (int)(dollar - good), good);
	memset(buf + strlen(buf), 'A', sizeof(buf) - strlen(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	assert_no(buf, PW, PW_LEN);
	/* a kid past PROTO_KID_MAX */
	memset(str, 'k', sizeof(str));
	snprintf(buf, sizeof(buf), "%s%.*s%s", SEAL, PROTO_KID_MAX + 1, str,
	    dollar);
	assert_no(buf, PW, PW_LEN);

	/* authentic seals over things that are not Argon2id strings */
	seal_raw("hello", 5, buf, sizeof(buf));
	assert_no(buf, PW, PW_LEN);
	seal_raw("", 0, buf, sizeof(buf));
	assert_no(buf, PW, PW_LEN);
	seal_raw("$argon2id$\0v=19", 15, buf, sizeof(buf));
	assert_no(buf, PW, PW_LEN);
	memset(str, 'a', sizeof(str));
	memcpy(str, "$argon2id$", 10);
	seal_raw(str, 127, buf, sizeof(buf));
	assert_no(buf, PW, PW_LEN);
	seal_raw(str, 128, buf, sizeof(buf));
	assert_no(buf, PW, PW_LEN);
	seal_raw("$argon2i$v=19$m=64,t=2,p=1$c29tZXNhbHQ$"
	    "sUnQ3Vu9YzdlCXHQwYTzY3tzYnt9zB5Gr1Xn+BTLhGo", 82, buf, sizeof(buf));
	assert_no(buf, PW, PW_LEN);

	/* random bytes, NUL-terminated, many lengths */
	for (i = 0; i < 300; i++) {
		size_t n = 1 + (size_t)randombytes_uniform(PROTO_STORED_MAX);

		randombytes_buf(buf, n);
		buf[n] = '\0';
		if (i % 3 == 0)
			memcpy(buf, "$warden$v=1$k=", n < 14 ? n : 14);
		else if (i % 3 == 1)
			memcpy(buf, "$2b$04$", n < 7 ? n : 7);
		assert_no(buf, PW, PW_LEN);
	}
}

static void
test_bad_arguments(void **state)
{
	struct keyset		 empty;
	const struct pw_policy	 tiny = { 1024, 2 }, zero_t = { 64 * 1024, 0 };
	char			 out[PROTO_STORED_MAX + 1];
	bool			 match = true;

	memset(&empty, 0, sizeof(empty));
	memset(out, 'x', sizeof(out));
	/* no pepper key, a policy libsodium refuses, no room: -1, zeroed */
	assert_int_equal(pw_hash(&empty, &pol, USER_A, PW, PW_LEN, out,
	    sizeof(out)), -1);
	assert_int_equal(out[0], '\0');
	assert_int_equal(pw_hash(&ks, &tiny, USER_A, PW, PW_LEN, out,
	    sizeof(out)), -1);
	assert_int_equal(pw_hash(&ks, &zero_t, USER_A, PW, PW_LEN, out,
	    sizeof(out)), -1);
	assert_int_equal(pw_hash(&ks, NULL, USER_A, PW, PW_LEN, out,
	    sizeof(out)), -1);
	assert_int_equal(pw_hash(&ks, &pol, NULL, PW, PW_LEN, out,
	    sizeof(out)), -1);
	assert_int_equal(pw_hash(&ks, &pol, USER_A, NULL, 5, out,
	    sizeof(out)), -1);
	memset(out, 'x', sizeof(out));
	assert_int_equal(pw_hash(&ks, &pol, USER_A, PW, PW_LEN, out, 100), -1);
	assert_int_equal(out[0], '\0');
	assert_int_equal(out[99], '\0');

	assert_int_equal(pw_verify(&ks, &pol, USER_A, PW, PW_LEN, "", NULL,
	    out, sizeof(out)), -1);
	assert_int_equal(pw_verify(&ks, &tiny, USER_A, PW, PW_LEN, "", &match,
	    out, sizeof(out)), -1);
	assert_false(match);
	assert_int_equal(pw_verify(NULL, &pol, USER_A, PW, PW_LEN, "", &match,
	    NULL, 0), -1);
	/* the dummy path without a pepper key still works (and says no) */
	assert_int_equal(pw_verify(&empty, &pol, USER_A, PW, PW_LEN, "", &match,
	    NULL, 0), 0);
	assert_false(match);
}

struct worker {
	const char	*stored;
	const uint8_t	*pw;
	size_t		 len;
	bool		 want;
	int		 failures;
};

static void *
worker_run(void *arg)
{
	struct worker	*w = arg;
	char		 rehash[PROTO_STORED_MAX + 1];
	bool		 match;
	int		 i, rc;

	for (i = 0; i < 6; i++) {
		rc = pw_verify(&ks, &pol, USER_A, w->pw, w->len, w->stored,
		    &match, rehash, sizeof(rehash));
		if (rc != 0 || match != w->want)
			w->failures++;
	}
	return NULL;
}

/* Every path at once from several threads: no shared state to trip on. */
static void
test_threads(void **state)
{
	char		 sealed[PROTO_STORED_MAX + 1], weak[PROTO_STORED_MAX + 1];
	char		 plain[crypto_pwhash_STRBYTES];
	struct worker	 w[6];
	pthread_t	 t[6];
	size_t		 i;

	hash_ok(&ks, &pol, USER_A, PW, PW_LEN, sealed);
	hash_ok(&ks_old, &pol_weak, USER_A, PW, PW_LEN, weak);
	assert_int_equal(crypto_pwhash_str_alg(plain, (const char *)PW, PW_LEN,
	    pol.iterations, pol.memory, crypto_pwhash_ALG_ARGON2ID13), 0);
	w[0] = (struct worker){ sealed, PW, PW_LEN, true, 0 };
	w[1] = (struct worker){ sealed, PW, 3, false, 0 };
	w[2] = (struct worker){ weak, PW, PW_LEN, true, 0 };
	w[3] = (struct worker){ plain, PW, PW_LEN, true, 0 };
	w[4] = (struct worker){ "", PW, PW_LEN, false, 0 };
	w[5] = (struct worker){
	    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
	    (const uint8_t *)"U*U", 3, true, 0 };
	for (i = 0; i < 6; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]),
		    0);
	for (i = 0; i < 6; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		if (w[i].failures != 0)
			fail_msg("worker %zu: %d wrong answers", i,
			    w[i].failures);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_then_verify),
		cmocka_unit_test(test_no_password_account),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_copied_to_other_user),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_unknown_kid),
		cmocka_unit_test(test_empty_stored),
		cmocka_unit_test(test_default_policy_and_dummy_cost),
		cmocka_unit_test(test_plain_argon2id),
		cmocka_unit_test(test_bcrypt),
		cmocka_unit_test(test_hashes_of_other_systems_match_and_are_replaced),
		cmocka_unit_test(test_old_pepper_rehash),
		cmocka_unit_test(test_params_rehash),
		cmocka_unit_test(test_long_and_nul_passwords),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_threads),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
