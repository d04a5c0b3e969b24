/*
 * daemon/http/cookie.c: the Cookie header's reader (its finer cases are in
 * test_device.c, which reads the device cookie through it) and the
 * cookie-octet check of the values warden writes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/cookie.h"

static void
test_get_finds_the_first_of_its_name(void **state)
{
	char	 v[8];

	(void)state;
	assert_int_equal(cookie_get("a=1; b=22; b=3", "b", v, sizeof(v)), 0);
	assert_string_equal(v, "22");
	assert_int_equal(cookie_get("ab=1", "b", v, sizeof(v)), -1);
	assert_int_equal(cookie_get("b=1234567", "b", v, sizeof(v)), 0);
	assert_int_equal(cookie_get("b=12345678", "b", v, sizeof(v)), -1);
	assert_int_equal(cookie_get(NULL, "b", v, sizeof(v)), -1);
	assert_int_equal(cookie_get("b=1", "b", v, 0), -1);
}

static void
test_value_ok_is_cookie_octets(void **state)
{
	(void)state;
	assert_true(cookie_value_ok("AbC-_09.~!"));
	assert_false(cookie_value_ok(NULL));
	assert_false(cookie_value_ok(""));
	assert_false(cookie_value_ok("a b"));
	assert_false(cookie_value_ok("a;b"));
	assert_false(cookie_value_ok("a,b"));
	assert_false(cookie_value_ok("a\"b"));
	assert_false(cookie_value_ok("a\\b"));
	assert_false(cookie_value_ok("a\x7f"));
	assert_false(cookie_value_ok("a\r\nSet-Cookie: x=1"));
	assert_false(cookie_value_ok("\xc3\xa9"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_finds_the_first_of_its_name),
		cmocka_unit_test(test_value_ok_is_cookie_octets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
