/*
 * hasher/recovery.c: fresh sets (alphabet, length, distinct, hashes that
 * match recovery_hash), hashes stable, normalised and bound to the user
 * and the pepper, and codes of every wrong shape refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "recovery.h"
#include "testdir.h"

#define USER_A	"0b6f9e52-6a3c-4d7e-9a51-2f1c3b4d5e6f"
#define USER_B	"7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
#define B32	"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

static char		dir_main[64], dir_other[64];
static struct keyset	ks, ks_other;

static int
group_setup(void **state)
{
	char err[512];

	snprintf(dir_main, sizeof(dir_main), "/tmp/warden-rec-XXXXXX");
	snprintf(dir_other, sizeof(dir_other), "/tmp/warden-rec-XXXXXX");
	if (mkdtemp(dir_main) == NULL || mkdtemp(dir_other) == NULL)
		return -1;
	if (keys_generate(dir_main, err, sizeof(err)) == -1 ||
	    keys_load(&ks, dir_main, err, sizeof(err)) == -1 ||
	    keys_generate(dir_other, err, sizeof(err)) == -1 ||
	    keys_load(&ks_other, dir_other, err, sizeof(err)) == -1) {
		fprintf(stderr, "key set-up: %s\n", err);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	keys_free(&ks);
	keys_free(&ks_other);
	rm_tree(dir_main);
	rm_tree(dir_other);
	return 0;
}

static void
hash_ok(const struct keyset *k, const char *user, const char *code,
    char out[PROTO_RECOVERY_HASH_LEN + 1])
{
	assert_int_equal(recovery_hash(k, user, code, out), 0);
	assert_int_equal(strlen(out), PROTO_RECOVERY_HASH_LEN);
	assert_int_equal(strspn(out, "0123456789abcdef"),
	    PROTO_RECOVERY_HASH_LEN);
}

static void
test_new_set(void **state)
{
	struct proto_recovery_new_ans a, b;
	char h[PROTO_RECOVERY_HASH_LEN + 1];
	size_t i, j;

	assert_int_equal(recovery_new(&ks, USER_A, &a), 0);
	assert_int_equal(a.n, PROTO_RECOVERY_CODES);
	for (i = 0; i < a.n; i++) {
		assert_int_equal(strlen(a.codes[i]), PROTO_RECOVERY_CODE_LEN);
		assert_int_equal(strspn(a.codes[i], B32),
		    PROTO_RECOVERY_CODE_LEN);
		/* the stored hash is what the code typed hashes to */
		hash_ok(&ks, USER_A, a.codes[i], h);
		assert_string_equal(h, a.hashes[i]);
		for (j = 0; j < i; j++) {
			assert_string_not_equal(a.codes[i], a.codes[j]);
			assert_string_not_equal(a.hashes[i], a.hashes[j]);
		}
	}
	assert_int_equal(recovery_new(&ks, USER_A, &b), 0);
	assert_string_not_equal(a.codes[0], b.codes[0]);
	sodium_memzero(&a, sizeof(a));
	sodium_memzero(&b, sizeof(b));
}

static void
test_hash_stable_and_normalised(void **state)
{
	static const char *same[] = {
		"ABCDE23456", "abcde23456", "ABCDE-23456", "abcde 23456",
		" A-B-C-D-E-2-3-4-5-6 ", "AbCdE\t23456", "--ABCDE23456--",
	};
	char h0[PROTO_RECOVERY_HASH_LEN + 1], h[sizeof(h0)];
	size_t i;

	hash_ok(&ks, USER_A, same[0], h0);
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		hash_ok(&ks, USER_A, same[i], h);
		assert_string_equal(h, h0);
	}
	/* another code, another user, another pepper: another hash */
	hash_ok(&ks, USER_A, "ABCDE23457", h);
	assert_string_not_equal(h, h0);
	hash_ok(&ks, USER_B, "ABCDE23456", h);
	assert_string_not_equal(h, h0);
	hash_ok(&ks_other, USER_A, "ABCDE23456", h);
	assert_string_not_equal(h, h0);
}

static void
test_hash_refuses(void **state)
{
	static const char *bad[] = {
		"", "ABCDE2345", "ABCDE234567", "ABCDE23451",	/* 1 */
		"ABCDE23458", "ABCDE23450", "ABCDE_23456", "ABCDE.23456",
		"ABCDE23456\n", "ÄBCDE23456", "ABCDE2345=",
		"A B C D E 2 3 4 5 6 7",
		"                                ABCDE23456",	/* too long */
	};
	char h[PROTO_RECOVERY_HASH_LEN + 1];
	struct keyset empty;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(h, 'x', sizeof(h));
		assert_int_equal(recovery_hash(&ks, USER_A, bad[i], h), -1);
		assert_string_equal(h, "");
	}
	assert_int_equal(recovery_hash(&ks, USER_A, NULL, h), -1);
	memset(&empty, 0, sizeof(empty));
	assert_int_equal(recovery_hash(&empty, USER_A, "ABCDE23456", h), -1);
	assert_int_equal(recovery_hash(&ks, USER_A "0", "ABCDE23456", h), -1);
}

static void
test_normalise(void **state)
{
	char out[PROTO_RECOVERY_CODE_LEN + 1];

	assert_int_equal(recovery_normalise("abcde-fghij", out), 0);
	assert_string_equal(out, "ABCDEFGHIJ");
	/* at most PROTO_RECOVERY_INPUT_MAX characters as typed */
	assert_int_equal(recovery_normalise(
	    "----------------------ABCDEFGHIJ", out), 0);	/* 32 */
	assert_int_equal(recovery_normalise(
	    "-----------------------ABCDEFGHIJ", out), -1);	/* 33 */
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_set),
		cmocka_unit_test(test_hash_stable_and_normalised),
		cmocka_unit_test(test_hash_refuses),
		cmocka_unit_test(test_normalise),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
