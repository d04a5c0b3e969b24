/* Unit tests of common/pwformat.c: real hashes of each format (made by
 * passlib 1.7.4, Python's bcrypt 3.2, Django 3.2 and whois' mkpasswd),
 * their cost bounds, and the reasons given for what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pwformat.h"

static const struct {
	const char	*hash;
	enum pw_format	 format;
	const char	*name;
} known[] = {
	{ "$argon2id$v=19$m=1024,t=2,p=2$51xLKUUIYcx5T8k5B8BY6w$G331+7VuBky9"
	  "aNJ9GRsbrQ", PWF_ARGON2ID, "argon2id" },
	{ "$argon2i$v=19$m=1024,t=2,p=1$EMJ4zzlHCOHcO4dQihHivA$tuoqZ6dQoQiPE"
	  "pae5IQD5w", PWF_ARGON2I, "argon2i" },
	{ "$2b$05$utQUbZ2U3lmya8M0/crDQOnafCPKY900PnEgpM/57MB7Q1CP487m2",
	  PWF_BCRYPT, "bcrypt" },
	{ "$2y$05$IRZO.aP/f/ZlNJPpHUsCXe.4JYEZvXtMsCosI.a5T6QQfeiVp1dsC",
	  PWF_BCRYPT, "bcrypt" },
	{ "$2a$05$2k/kUKVynRljJ0uCplkpJ.r/s6.aznJNp65m6boi2yAYHcTIywIYu",
	  PWF_BCRYPT, "bcrypt" },
	{ "pbkdf2_sha256$260000$LCacJZt7JA7SyaenPfZJJH$vROyTpCCKtSDtog/pQuOz"
	  "eaPi0nTRmxOQYX1RKp1SDo=", PWF_DJANGO_PBKDF2_SHA256,
	  "django_pbkdf2_sha256" },
	{ "$pbkdf2-sha256$1000$OickxHgvxdi7N0YoZcwZIw$KghLWuwBVaT0XE97.ctxpe"
	  "wJmlUukS3Oh7w3N2/tDc0", PWF_PASSLIB_PBKDF2_SHA256, "pbkdf2_sha256" },
	{ "$pbkdf2-sha512$1000$.N8bA4BQ6l1rTckZ45yzFg$xw6kbBf4ZYnlwvLRYabaJY"
	  "I2VxL8hVIwVuvOkh56yr4Cnr2nqv11QJ3vUqOIweEFzzNt1JQmyHBk8YJgpxuOWg",
	  PWF_PASSLIB_PBKDF2_SHA512, "pbkdf2_sha512" },
	{ "$6$rounds=1000$DZoyGM9vzlPV0gY5$nzc.I0rZhrqgc/MKSVVaVfZ9r0m.4ZCTh"
	  "s5/9WCCphh1oIiCZZ0fVunMap5QGQ4gDKaAPYVMqu/5QJDM0HQpf/",
	  PWF_SHA512_CRYPT, "sha512_crypt" },
	{ "$6$BFxTbH0qW1wQh5qv$thD9WG4DnhPFMxN6MmeeXk0qPE32hihtKEnb.sVqlTEi."
	  "IO12i1nrWIhfL/Ba6E0g5dOhjWtoS9YyVpJiuxjw/", PWF_SHA512_CRYPT,
	  "sha512_crypt" },
	{ "$y$j9T$UhzMIoTF1S2db1t9K2W0I1$lfA7Clj.JTRjxi6e/LhR7rcDghgU0R2fudl"
	  "fh8xCA96", PWF_YESCRYPT, "yescrypt" },
	{ "$warden$v=1$k=k1$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAAAA", PWF_WARDEN, "warden" },
};
#define NKNOWN	(sizeof(known) / sizeof(known[0]))

/* Refused with a reason that contains want and never the hash. */
static void
refused(const char *hash, const char *want)
{
	const char *why = pwformat_why(hash);

	if (pwformat_of(hash) != PWF_UNKNOWN)
		fail_msg("accepted: %s", hash);
	if (why == NULL || strstr(why, want) == NULL)
		fail_msg("%s: reason \"%s\" lacks \"%s\"", hash,
		    why != NULL ? why : "(none)", want);
	if (strlen(hash) > 8)
		assert_null(strstr(why, hash + 8));
}

static void
test_real_hashes_of_each_format_are_known(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NKNOWN; i++) {
		if (pwformat_of(known[i].hash) != known[i].format)
			fail_msg("%s: %s", known[i].hash,
			    pwformat_why(known[i].hash));
		assert_null(pwformat_why(known[i].hash));
		assert_string_equal(pwformat_name(known[i].format),
		    known[i].name);
		assert_int_equal(pwformat_by_name(known[i].name),
		    known[i].format);
	}
	assert_null(pwformat_name(PWF_UNKNOWN));
	assert_int_equal(pwformat_by_name("md5_crypt"), PWF_UNKNOWN);
	assert_int_equal(pwformat_by_name(NULL), PWF_UNKNOWN);
}

static void
test_truncated_hashes_are_refused(void **state)
{
	char	 buf[600];
	size_t	 i, len;

	(void)state;
	for (i = 0; i < NKNOWN; i++) {
		len = strlen(known[i].hash);
		memcpy(buf, known[i].hash, len - 1);
		buf[len - 1] = '\0';
		/* One character less: a base64 length no string has, or a
		 * hash that is short.  Except for argon2 and pbkdf2's
		 * unpadded base64, where it may stay a whole byte shorter:
		 * three characters less is always wrong there. */
		if (known[i].format == PWF_ARGON2ID ||
		    known[i].format == PWF_ARGON2I ||
		    known[i].format == PWF_PASSLIB_PBKDF2_SHA256 ||
		    known[i].format == PWF_PASSLIB_PBKDF2_SHA512 ||
		    known[i].format == PWF_WARDEN)
			continue;
		if (pwformat_of(buf) != PWF_UNKNOWN)
			fail_msg("truncated accepted: %s", buf);
	}
	refused("$2b$05$utQUbZ2U3lmya8M0/crDQ", "truncated");
	refused("$6$BFxTbH0qW1wQh5qv$thD9WG4Dnh", "truncated");
	refused("$y$j9T$UhzMIoTF1S2db1t9K2W0I1$lfA7Clj", "truncated");
	refused("$y$j9T$UhzMIoTF1S2db1t9K2W0I1", "salt");
	refused("$argon2id$v=19$m=1024,t=2,p=2$51xLKUUIYcx5T8k5B8BY6w$G331",
	    "hash");
	refused("$pbkdf2-sha256$1000$OickxHgvxdi7N0YoZcwZIw$KghL", "key");
	refused("pbkdf2_sha256$260000$LCacJZt7JA7SyaenPfZJJH$vROyTpCC",
	    "key");
	refused("$warden$v=1$k=k1$AAAA", "truncated");
}

static void
test_costs_out_of_bounds_are_refused(void **state)
{
	(void)state;
	refused("$2b$17$utQUbZ2U3lmya8M0/crDQOnafCPKY900PnEgpM/57MB7Q1CP487m2",
	    "cost out of bounds");
	refused("$2b$03$utQUbZ2U3lmya8M0/crDQOnafCPKY900PnEgpM/57MB7Q1CP487m2",
	    "cost out of bounds");
	refused("$argon2id$v=19$m=262145,t=2,p=2$51xLKUUIYcx5T8k5B8BY6w$G331+"
	    "7VuBky9aNJ9GRsbrQ", "memory");
	refused("$argon2id$v=19$m=1024,t=17,p=2$51xLKUUIYcx5T8k5B8BY6w$G331+"
	    "7VuBky9aNJ9GRsbrQ", "passes");
	refused("$argon2id$v=19$m=1024,t=2,p=17$51xLKUUIYcx5T8k5B8BY6w$G331+"
	    "7VuBky9aNJ9GRsbrQ", "lanes");
	/* A 64-byte hash: past libsodium's 127 characters. */
	refused("$argon2id$v=19$m=1024,t=2,p=1$51xLKUUIYcx5T8k5B8BY6w$"
	    "G331+7VuBky9aNJ9GRsbrQG331+7VuBky9aNJ9GRsbrQG331+7VuBky9aNJ9GRsbr"
	    "QG331+7VuBky9aNJ9GRsbrQAAAAAAAAA", "127 characters");
	refused("$argon2id$v=16$m=1024,t=2,p=1$51xLKUUIYcx5T8k5B8BY6w$G331+"
	    "7VuBky9aNJ9GRsbrQ", "version 19");
	refused("$pbkdf2-sha256$999$OickxHgvxdi7N0YoZcwZIw$KghLWuwBVaT0XE97."
	    "ctxpewJmlUukS3Oh7w3N2/tDc0", "iterations out of bounds");
	refused("$pbkdf2-sha256$2000001$OickxHgvxdi7N0YoZcwZIw$KghLWuwBVaT0X"
	    "E97.ctxpewJmlUukS3Oh7w3N2/tDc0", "iterations out of bounds");
	refused("pbkdf2_sha256$99999999999$LCacJZt7JA7SyaenPfZJJH$vROyTpCCKt"
	    "SDtog/pQuOzeaPi0nTRmxOQYX1RKp1SDo=", "iteration");
	refused("$6$rounds=1000001$DZoyGM9vzlPV0gY5$nzc.I0rZhrqgc/MKSVVaVfZ9r"
	    "0m.4ZCThs5/9WCCphh1oIiCZZ0fVunMap5QGQ4gDKaAPYVMqu/5QJDM0HQpf/",
	    "rounds out of bounds");
	/* mkpasswd -m yescrypt -R 11: N = 2^18, r = 32, 1 GiB a try. */
	refused("$y$jFT$4lIL8Nr3P6.P7QwaadcDL/$9lI776pu7ifKGTcTZ1hy6373a/mlsg"
	    "fT/OUHYUpTSEC", "cost out of bounds");
	/* N = 2^31: far past 256 MiB. */
	refused("$y$jzT$UhzMIoTF1S2db1t9K2W0I1$lfA7Clj.JTRjxi6e/LhR7rcDghgU0R"
	    "2fudlfh8xCA96", "cost out of bounds");
	refused("$y$j9T.$UhzMIoTF1S2db1t9K2W0I1$lfA7Clj.JTRjxi6e/LhR7rcDghgU0"
	    "R2fudlfh8xCA96", "parameters");
}

static void
test_other_strings_are_unknown(void **state)
{
	char big[600];

	(void)state;
	refused("", "empty");
	assert_int_equal(pwformat_of(NULL), PWF_UNKNOWN);
	refused("$1$saltsalt$hashhashhashhashhashha", "unknown format");
	refused("plaintext-password", "unknown format");
	refused("pbkdf2_sha1$1000$salt$hash", "unknown format");
	refused("$pbkdf2$1000$salt$hash", "unknown format");
	refused("$warden$v=2$k=k1$AAAA", "version 1");
	refused("$warden$v=1$k=bad.kid$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAA", "key id");
	refused("$2b$05$utQUbZ2U3lmya8M0/crDQOnafCPKY900PnEgpM/57MB7Q1CP487m\n",
	    "salt or hash");
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "$6$", 3);
	refused(big, "too long");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_hashes_of_each_format_are_known),
		cmocka_unit_test(test_truncated_hashes_are_refused),
		cmocka_unit_test(test_costs_out_of_bounds_are_refused),
		cmocka_unit_test(test_other_strings_are_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
