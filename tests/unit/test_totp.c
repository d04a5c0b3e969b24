/*
 * hasher/totp.c: RFC 6238 SHA-1 vectors (the codes below are the last six
 * digits of RFC 6238's appendix B, which `oathtool --totp -d 6 -N @T
 * 3132333435363738393031323334353637383930` printed when these tests were
 * written), one step of drift and no more, replayed steps refused, blobs
 * of another user, another key set, an old pepper key, tampered ones, and
 * fresh secrets checked against oathtool run here.
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
#include <time.h>

#include <liboath/oath.h>
#include <sodium.h>

#include "keys.h"
#include "testdir.h"
#include "totp.h"

#define USER_A	"0b6f9e52-6a3c-4d7e-9a51-2f1c3b4d5e6f"
#define USER_B	"7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
#define PREFIX	"$wtotp$v=1$k="

static const uint8_t rfc_secret[TOTP_SECRET_LEN] = "12345678901234567890";

static const struct {
	time_t		 t;
	const char	*code;
} rfc[] = {
	{ 59,		"287082" },
	{ 1111111109,	"081804" },
	{ 1111111111,	"050471" },
	{ 1234567890,	"005924" },
	{ 2000000000,	"279037" },
};

static char		dir_main[64], dir_other[64];
static struct keyset	ks;		/* two generations: old and current */
static struct keyset	ks_old;		/* the first generation alone */
static struct keyset	ks_other;	/* an unrelated key set */
static char		sealed_a[PROTO_SEALED_MAX + 1];	/* rfc_secret, A */

static int
group_setup(void **state)
{
	char err[512];

	if (oath_init() != OATH_OK)
		return -1;
	snprintf(dir_main, sizeof(dir_main), "/tmp/warden-totp-XXXXXX");
	snprintf(dir_other, sizeof(dir_other), "/tmp/warden-totp-XXXXXX");
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
	if (totp_seal(keys_pepper_current(&ks), USER_A, rfc_secret,
	    sealed_a) == -1)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	keys_free(&ks);
	keys_free(&ks_old);
	keys_free(&ks_other);
	rm_tree(dir_main);
	rm_tree(dir_other);
	oath_done();
	return 0;
}

/* Checks code at now; returns totp_check's result, *m and *st set. */
static int
check(const struct keyset *k, const char *user, const char *sealed,
    const char *code, uint32_t after, time_t now, bool *m, uint32_t *st)
{
	*m = true;
	*st = 12345;
	return totp_check(k, user, sealed, code, after, now, m, st);
}

static void
test_rfc6238_vectors(void **state)
{
	bool m;
	uint32_t st;
	size_t i;

	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		assert_int_equal(check(&ks, USER_A, sealed_a, rfc[i].code, 0,
		    rfc[i].t, &m, &st), 0);
		assert_true(m);
		assert_int_equal(st, (uint32_t)(rfc[i].t / 30));
	}
	/* a wrong code: no match, step 0 */
	assert_int_equal(check(&ks, USER_A, sealed_a, "287083", 0, 59, &m,
	    &st), 0);
	assert_false(m);
	assert_int_equal(st, 0);
}

static void
test_drift(void **state)
{
	const time_t t = 1111111109;	/* step 37037036: 081804 */
	bool m;
	uint32_t st;

	/* one step either way: accepted, and the code's own step answered */
	assert_int_equal(check(&ks, USER_A, sealed_a, "081804", 0, t + 30, &m,
	    &st), 0);
	assert_true(m);
	assert_int_equal(st, 37037036);
	assert_int_equal(check(&ks, USER_A, sealed_a, "081804", 0, t - 30, &m,
	    &st), 0);
	assert_true(m);
	assert_int_equal(st, 37037036);
	/* the step's edges: 1111111080 .. 1111111109 is step 37037036 */
	assert_int_equal(check(&ks, USER_A, sealed_a, "081804", 0,
	    1111111080 + 59, &m, &st), 0);
	assert_true(m);
	assert_int_equal(check(&ks, USER_A, sealed_a, "081804", 0,
	    1111111080 - 30, &m, &st), 0);
	assert_true(m);
	/* two steps: refused */
	assert_int_equal(check(&ks, USER_A, sealed_a, "081804", 0,
	    1111111080 + 60, &m, &st), 0);
	assert_false(m);
	assert_int_equal(st, 0);
	assert_int_equal(check(&ks, USER_A, sealed_a, "081804", 0,
	    1111111080 - 31, &m, &st), 0);
	assert_false(m);
	assert_int_equal(check(&ks, USER_A, sealed_a, "081804", 0, t + 3600,
	    &m, &st), 0);
	assert_false(m);
	/* step 0 has no step before it */
	assert_int_equal(check(&ks, USER_A, sealed_a, "287082", 0, 0, &m,
	    &st), 0);
	assert_true(m);
	assert_int_equal(st, 1);
}

static void
test_replay(void **state)
{
	const time_t t = 1111111109;
	bool m;
	uint32_t st;

	/* the step accepted last (or a later one) is never accepted again */
	assert_int_equal(check(&ks, USER_A, sealed_a, "081804", 37037036, t,
	    &m, &st), 0);
	assert_false(m);
	assert_int_equal(st, 0);
	assert_int_equal(check(&ks, USER_A, sealed_a, "081804", 37037037, t,
	    &m, &st), 0);
	assert_false(m);
	assert_int_equal(check(&ks, USER_A, sealed_a, "081804", UINT32_MAX, t,
	    &m, &st), 0);
	assert_false(m);
	/* the step before: fine */
	assert_int_equal(check(&ks, USER_A, sealed_a, "081804", 37037035, t,
	    &m, &st), 0);
	assert_true(m);
	assert_int_equal(st, 37037036);
	/* a code of the step before now, once now's was used: refused */
	assert_int_equal(check(&ks, USER_A, sealed_a, "081804", 37037037,
	    t + 30, &m, &st), 0);
	assert_false(m);
	/* and the next step's code is still good after it */
	assert_int_equal(check(&ks, USER_A, sealed_a, "050471", 37037036,
	    1111111111, &m, &st), 0);
	assert_true(m);
	assert_int_equal(st, 37037037);
}

static void
test_bad_codes(void **state)
{
	static const char *bad[] = {
		"", "28708", "2870822", "28708a", " 87082", "287 82",
		"28708\n", "-87082", "+87082", "２87082",
	};
	bool m;
	uint32_t st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(check(&ks, USER_A, sealed_a, bad[i], 0, 59, &m,
		    &st), -1);
		assert_false(m);
		assert_int_equal(st, 0);
	}
	assert_int_equal(check(&ks, USER_A, sealed_a, "287082", 0, -1, &m,
	    &st), -1);
	assert_int_equal(totp_check(&ks, USER_A, sealed_a, "287082", 0, 59,
	    NULL, &st), -1);
	assert_int_equal(totp_check(NULL, USER_A, sealed_a, "287082", 0, 59,
	    &m, &st), -1);
	assert_false(m);
}

static void
test_other_user(void **state)
{
	bool m;
	uint32_t st;

	/* the user id is bound: A's blob does not open for B */
	assert_int_equal(check(&ks, USER_B, sealed_a, "287082", 0, 59, &m,
	    &st), -1);
	assert_false(m);
	assert_int_equal(st, 0);
	assert_int_equal(check(&ks, "", sealed_a, "287082", 0, 59, &m, &st),
	    -1);
	/* nor under an unrelated key set (its kid is unknown there) */
	assert_int_equal(check(&ks_other, USER_A, sealed_a, "287082", 0, 59,
	    &m, &st), -1);
}

static void
test_tampered(void **state)
{
	char t[PROTO_SEALED_MAX + 2];
	const char *b64 = strrchr(sealed_a, '$') + 1;
	size_t off = (size_t)(b64 - sealed_a), i, len = strlen(sealed_a);
	bool m;
	uint32_t st;

	/* every character of the blob changed, one at a time */
	for (i = off; i < len; i++) {
		memcpy(t, sealed_a, len + 1);
		t[i] = t[i] == 'A' ? 'B' : 'A';
		assert_int_equal(check(&ks, USER_A, t, "287082", 0, 59, &m,
		    &st), -1);
		assert_false(m);
	}
	/* cut, lengthened, emptied */
	memcpy(t, sealed_a, len + 1);
	t[len - 1] = '\0';
	assert_int_equal(check(&ks, USER_A, t, "287082", 0, 59, &m, &st), -1);
	memcpy(t, sealed_a, len + 1);
	t[len] = 'A';
	t[len + 1] = '\0';
	assert_int_equal(check(&ks, USER_A, t, "287082", 0, 59, &m, &st), -1);
	assert_int_equal(check(&ks, USER_A, "", "287082", 0, 59, &m, &st), -1);
	/* the prefix, the kid */
	memcpy(t, sealed_a, len + 1);
	t[3] = 'X';
	assert_int_equal(check(&ks, USER_A, t, "287082", 0, 59, &m, &st), -1);
	snprintf(t, sizeof(t), "%snokey$%s", PREFIX, b64);
	assert_int_equal(check(&ks, USER_A, t, "287082", 0, 59, &m, &st), -1);
	snprintf(t, sizeof(t), "%s$%s", PREFIX, b64);
	assert_int_equal(check(&ks, USER_A, t, "287082", 0, 59, &m, &st), -1);
	snprintf(t, sizeof(t), "%s%s", PREFIX, keys_pepper_current(&ks)->kid);
	assert_int_equal(check(&ks, USER_A, t, "287082", 0, 59, &m, &st), -1);
	/* a password hash is not a TOTP secret */
	assert_int_equal(check(&ks, USER_A, "$warden$v=1$k=x$AAAA", "287082",
	    0, 59, &m, &st), -1);
	/* the original still opens */
	assert_int_equal(check(&ks, USER_A, sealed_a, "287082", 0, 59, &m,
	    &st), 0);
	assert_true(m);
}

static void
test_old_pepper(void **state)
{
	char old[PROTO_SEALED_MAX + 1], prefix[PROTO_SEALED_MAX + 1];
	const char *oldkid = keys_pepper_current(&ks_old)->kid;
	bool m;
	uint32_t st;

	assert_string_not_equal(oldkid, keys_pepper_current(&ks)->kid);
	assert_int_equal(totp_seal(keys_pepper_current(&ks_old), USER_A,
	    rfc_secret, old), 0);
	snprintf(prefix, sizeof(prefix), "%s%s$", PREFIX, oldkid);
	assert_memory_equal(old, prefix, strlen(prefix));
	/* the set with both generations opens it: the kid says which key */
	assert_int_equal(check(&ks, USER_A, old, "279037", 0, 2000000000, &m,
	    &st), 0);
	assert_true(m);
	assert_int_equal(st, 66666666);
	/* and the current key seals new ones */
	snprintf(prefix, sizeof(prefix), "%s%s$", PREFIX,
	    keys_pepper_current(&ks)->kid);
	assert_memory_equal(sealed_a, prefix, strlen(prefix));
	assert_true(strlen(sealed_a) <= PROTO_SEALED_MAX);
}

static void
test_base32(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {	/* RFC 4648, section 10, without the padding */
		{ "", "" }, { "f", "MY" }, { "fo", "MZXQ" }, { "foo", "MZXW6" },
		{ "foob", "MZXW6YQ" }, { "fooba", "MZXW6YTB" },
		{ "foobar", "MZXW6YTBOI" },
		{ "12345678901234567890", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" },
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(totp_base32(out, sizeof(out),
		    (const uint8_t *)v[i].in, strlen(v[i].in)), 0);
		assert_string_equal(out, v[i].out);
	}
	/* no room for the NUL: refused */
	assert_int_equal(totp_base32(out, 3, (const uint8_t *)"fo", 2), -1);
	assert_int_equal(totp_base32(out, 5, (const uint8_t *)"fo", 2), 0);
}

/* oathtool's code for a base32 secret at time t, or "" without it. */
static void
oathtool_code(const char *b32, time_t t, char code[8])
{
	char cmd[256];
	FILE *p;

	code[0] = '\0';
	snprintf(cmd, sizeof(cmd), "oathtool --totp -d 6 -b -N @%lld %s "
	    "2>/dev/null", (long long)t, b32);
	if ((p = popen(cmd, "r")) == NULL)
		return;
	if (fgets(code, 8, p) == NULL)
		code[0] = '\0';
	code[strcspn(code, "\n")] = '\0';
	pclose(p);
}

static void
test_new_against_oathtool(void **state)
{
	char b32[PROTO_TOTP_SECRET_B32_LEN + 1], b32_2[sizeof(b32)];
	char sealed[PROTO_SEALED_MAX + 1], sealed_2[sizeof(sealed)];
	char code[8];
	const time_t times[] = { 59, 1700000000, 1700000029, 4102444800 };
	bool m;
	uint32_t st;
	size_t i;

	assert_int_equal(totp_new(&ks, USER_A, b32, sealed), 0);
	assert_int_equal(strlen(b32), PROTO_TOTP_SECRET_B32_LEN);
	assert_int_equal(strspn(b32, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
	    PROTO_TOTP_SECRET_B32_LEN);
	assert_memory_equal(sealed, PREFIX, strlen(PREFIX));
	/* fresh each time */
	assert_int_equal(totp_new(&ks, USER_A, b32_2, sealed_2), 0);
	assert_string_not_equal(b32, b32_2);
	assert_string_not_equal(sealed, sealed_2);

	oathtool_code(b32, 59, code);
	if (code[0] == '\0') {
		print_message("oathtool not found: skipping its codes\n");
		return;
	}
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		oathtool_code(b32, times[i], code);
		assert_int_equal(strlen(code), 6);
		assert_int_equal(check(&ks, USER_A, sealed, code, 0, times[i],
		    &m, &st), 0);
		assert_true(m);
		assert_int_equal(st, (uint32_t)(times[i] / 30));
		/* not the other secret's */
		assert_int_equal(check(&ks, USER_A, sealed_2, code, 0,
		    times[i], &m, &st), 0);
		/* (one in 333,333 it would be: the other secret's code) */
		if (m)
			print_message("note: codes of two secrets agreed\n");
	}
}

static void
test_new_refuses(void **state)
{
	struct keyset empty;
	char b32[PROTO_TOTP_SECRET_B32_LEN + 1];
	char sealed[PROTO_SEALED_MAX + 1];

	memset(&empty, 0, sizeof(empty));
	memset(b32, 'x', sizeof(b32));
	memset(sealed, 'x', sizeof(sealed));
	assert_int_equal(totp_new(&empty, USER_A, b32, sealed), -1);
	assert_string_equal(b32, "");
	assert_string_equal(sealed, "");
	assert_int_equal(totp_new(&ks, NULL, b32, sealed), -1);
	assert_int_equal(totp_seal(keys_pepper_current(&ks),
	    USER_A "0", rfc_secret, sealed), -1);
	assert_string_equal(sealed, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_drift),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_bad_codes),
		cmocka_unit_test(test_other_user),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_old_pepper),
		cmocka_unit_test(test_base32),
		cmocka_unit_test(test_new_against_oathtool),
		cmocka_unit_test(test_new_refuses),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
