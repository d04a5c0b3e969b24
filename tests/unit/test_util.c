/*
 * util.c: truncation reporting, strict number parsing, case-insensitive
 * comparison, zeroing free, random UUIDs.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "util.h"

static void
test_str_copy(void **state)
{
	char	 buf[4];

	assert_int_equal(str_copy(buf, "abc", sizeof(buf)), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(str_copy(buf, "", sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(str_copy(buf, "abcd", sizeof(buf)), -1);
	assert_string_equal(buf, "abc");
	assert_int_equal(str_copy(buf, "abc", 0), -1);
}

static void
test_str_printf(void **state)
{
	char	 buf[8];

	assert_int_equal(str_printf(buf, sizeof(buf), "%s-%d", "ab", 12), 0);
	assert_string_equal(buf, "ab-12");
	assert_int_equal(str_printf(buf, sizeof(buf), "%d", 1234567), 0);
	assert_int_equal(str_printf(buf, sizeof(buf), "%d", 12345678), -1);
	assert_string_equal(buf, "1234567");
	assert_int_equal(str_printf(buf, 0, "x"), -1);
}

static void
test_num_parse_good(void **state)
{
	long long	 v = -1;
	const char	*e = NULL;

	assert_int_equal(num_parse("0", 0, 10, &v, &e), 0);
	assert_int_equal(v, 0);
	assert_int_equal(num_parse("10", 0, 10, &v, &e), 0);
	assert_int_equal(v, 10);
	assert_int_equal(num_parse("-5", -10, 10, &v, &e), 0);
	assert_int_equal(v, -5);
	assert_int_equal(num_parse("007", 0, 10, &v, &e), 0);
	assert_int_equal(v, 7);
	assert_int_equal(num_parse("9223372036854775807", 0, LLONG_MAX, &v,
	    &e), 0);
	assert_true(v == LLONG_MAX);
}

static void
test_num_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", " 1", "1 ", "+1", "1x", "0x10", "1.5", "--1", "-", "1e3",
		"\t2",
	};
	long long	 v = 42;
	const char	*e;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = NULL;
		assert_int_equal(num_parse(bad[i], -100, 100, &v, &e), -1);
		assert_non_null(e);
		assert_int_equal(v, 42);
	}
	e = NULL;
	assert_int_equal(num_parse("11", 0, 10, &v, &e), -1);
	assert_string_equal(e, "too large");
	assert_int_equal(num_parse("-1", 0, 10, &v, &e), -1);
	assert_string_equal(e, "too small");
	assert_int_equal(num_parse("99999999999999999999", 0, LLONG_MAX, &v,
	    &e), -1);
	assert_string_equal(e, "too large");
	assert_int_equal(num_parse(NULL, 0, 10, &v, &e), -1);
	assert_int_equal(num_parse("x", 0, 10, &v, NULL), -1);
	assert_int_equal(v, 42);
}

static void
test_str_ieq(void **state)
{
	assert_true(str_ieq("Listen", "listen"));
	assert_true(str_ieq("", ""));
	assert_true(str_ieq("A-Z_09", "a-z_09"));
	assert_false(str_ieq("listen", "listen_mode"));
	assert_false(str_ieq("listen_mode", "listen"));
	assert_false(str_ieq("a", ""));
	/* ASCII only: no locale folding of other bytes. */
	assert_false(str_ieq("\xc3\x89", "\xc3\xa9"));
	assert_false(str_ieq("[", "{"));
}

static void
test_str_freezero(void **state)
{
	char	*s = strdup("secret");

	assert_non_null(s);
	str_freezero(s);
	str_freezero(NULL);
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void
test_uuid_random(void **state)
{
	char	 a[37], b[37];
	size_t	 i, k;

	assert_true(sodium_init() >= 0);
	for (k = 0; k < 100; k++) {
		memset(a, 'X', sizeof(a));
		uuid_random(a);
		assert_int_equal(strlen(a), 36);
		for (i = 0; i < 36; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23)
				assert_int_equal(a[i], '-');
			else
				assert_true(is_hex(a[i]));
		}
		assert_int_equal(a[14], '4');
		assert_non_null(strchr("89ab", a[19]));
	}
	uuid_random(b);
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str_copy),
		cmocka_unit_test(test_str_printf),
		cmocka_unit_test(test_num_parse_good),
		cmocka_unit_test(test_num_parse_bad),
		cmocka_unit_test(test_str_ieq),
		cmocka_unit_test(test_str_freezero),
		cmocka_unit_test(test_uuid_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
