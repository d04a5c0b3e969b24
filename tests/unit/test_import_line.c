/* Unit tests of ctl/import_line.c: a user line of `wardenctl import`
 * parsed into its struct, and every way a line is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "import_line.h"

/* Made by Python's bcrypt module (bcrypt.hashpw(b"pw", gensalt(5))). */
#define BCRYPT	"$2b$05$GR9z.2xEn0fXhwwThU/jKujXlnnr7PBuEWE2SjAP9AxGYPj/ySI6C"
#define UUID	"0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7b"

static int
parse(const char *line, struct import_user *u, char *why)
{
	return import_line_parse(line, strlen(line), u, why);
}

/* Refused, with a reason containing want. */
static void
refused(const char *line, const char *want)
{
	struct import_user	u;
	char			why[IMPORT_WHY_MAX];

	if (parse(line, &u, why) != -1)
		fail_msg("accepted: %s", line);
	if (strstr(why, want) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\" for %s", why, want, line);
	/* No reason ever quotes the hash. */
	assert_null(strstr(why, "$2b$05$GR9z"));
}

static void
test_a_full_line_fills_every_field(void **state)
{
	struct import_user	u;
	char			why[IMPORT_WHY_MAX];

	(void)state;
	assert_int_equal(parse("{\"username\":\"Alice.B\",\"email\":"
	    "\"alice@example.test\",\"password_hash\":\"" BCRYPT "\","
	    "\"password_format\":\"bcrypt\",\"id\":\"" UUID "\","
	    "\"full_name\":\"Alice B\\u00e9\",\"roles\":[\"ops\",\"admin\","
	    "\"ops\"],\"is_active\":false,\"email_verified\":true,"
	    "\"created_at\":\"2024-02-29T23:59:59.123456+01:00\"}", &u, why),
	    0);
	assert_string_equal(u.username, "Alice.B");
	assert_string_equal(u.email, "alice@example.test");
	assert_string_equal(u.password_hash, BCRYPT);
	assert_int_equal(u.format, PWF_BCRYPT);
	assert_string_equal(u.id, UUID);
	assert_string_equal(u.full_name, "Alice B\xc3\xa9");
	assert_int_equal(u.nroles, 2);		/* "ops" twice is one role */
	assert_string_equal(u.roles[0], "ops");
	assert_string_equal(u.roles[1], "admin");
	assert_false(u.is_active);
	assert_true(u.email_verified);
	assert_string_equal(u.created_at, "2024-02-29T23:59:59.123456+01:00");
	import_user_clear(&u);
}

static void
test_defaults_of_a_minimal_line(void **state)
{
	struct import_user	u;
	char			why[IMPORT_WHY_MAX];

	(void)state;
	assert_int_equal(parse("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"" BCRYPT "\",\"full_name\":null,"
	    "\"roles\":null}", &u, why), 0);
	assert_true(u.is_active);
	assert_false(u.email_verified);
	assert_null(u.full_name);
	assert_int_equal(u.nroles, 0);
	assert_string_equal(u.id, "");
	assert_string_equal(u.created_at, "");
	import_user_clear(&u);
}

static void
test_broken_lines_are_refused_with_their_reason(void **state)
{
	(void)state;
	refused("{\"username\":\"bob\"", "not valid JSON");
	refused("[1,2]", "not a JSON object");
	refused("\"x\"", "not a JSON object");
	refused("{\"username\":\"b\xff\"}", "UTF-8");
	refused("{\"email\":\"b@x.test\",\"password_hash\":\"" BCRYPT "\"}",
	    "username: missing");
	refused("{\"username\":\"bob\",\"password_hash\":\"" BCRYPT "\"}",
	    "email: missing");
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\"}",
	    "password_hash: missing");
	refused("{\"username\":7,\"email\":\"b@x.test\",\"password_hash\":\""
	    BCRYPT "\"}", "username: must be a string");
	refused("{\"username\":\"-bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"" BCRYPT "\"}", "username: must be");
	refused("{\"username\":\"bob\",\"email\":\"no-at\","
	    "\"password_hash\":\"" BCRYPT "\"}", "email: not a valid");
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"$md5$x$y\"}", "password_hash:");
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"$2b$05$GR9z.2xEn0fXhwwT\"}", "password_hash:");
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"" BCRYPT "\",\"password_format\":\"md5\"}",
	    "password_format: not a format");
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"" BCRYPT "\",\"password_format\":"
	    "\"yescrypt\"}", "the hash is bcrypt, not yescrypt");
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"" BCRYPT "\",\"id\":\"0B6F1C2E-8A3D-4F5E-"
	    "9A1B-2C3D4E5F6A7B\"}", "id: must be a lower-case UUID");
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"" BCRYPT "\",\"roles\":[\"Admin\"]}",
	    "roles: each");
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"" BCRYPT "\",\"roles\":\"admin\"}",
	    "roles: must be an array");
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"" BCRYPT "\",\"is_active\":\"yes\"}",
	    "is_active: must be true or false");
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"" BCRYPT "\",\"full_name\":\"a\\u0007b\"}",
	    "full_name:");
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"" BCRYPT "\",\"colour\":1}",
	    "unknown member \"colour\"");
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"" BCRYPT "\",\"username\":\"eve\"}",
	    "username: given twice");
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"" BCRYPT "\",\"created_at\":\"yesterday\"}",
	    "created_at: must be an RFC 3339");
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"" BCRYPT "\"} {\"username\":\"eve\"}",
	    "text after the JSON object");
	/* A NUL would cut the hash short after the parse. */
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"" BCRYPT "\\u0000junk\"}", "NUL");
}

static void
test_a_warden_hash_needs_the_id_it_is_sealed_to(void **state)
{
	(void)state;
	refused("{\"username\":\"bob\",\"email\":\"b@x.test\","
	    "\"password_hash\":\"$warden$v=1$k=abc$"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
	    "id:");
}

static void
test_a_line_longer_than_the_bound_is_refused(void **state)
{
	static char		line[IMPORT_LINE_MAX + 2];
	struct import_user	u;
	char			why[IMPORT_WHY_MAX];

	(void)state;
	memset(line, ' ', sizeof(line) - 1);
	line[0] = '{';
	line[sizeof(line) - 2] = '}';
	assert_int_equal(import_line_parse(line, sizeof(line) - 1, &u, why),
	    -1);
	assert_string_equal(why, "line too long");
}

static void
test_rfc3339_times(void **state)
{
	(void)state;
	assert_true(import_time_valid("2024-05-01T12:00:00Z"));
	assert_true(import_time_valid("2024-05-01t12:00:00z"));
	assert_true(import_time_valid("2024-05-01 12:00:00+02:00"));
	assert_true(import_time_valid("2024-02-29T00:00:00.1Z"));
	assert_true(import_time_valid("0001-01-01T00:00:00-23:59"));
	assert_true(import_time_valid("2016-12-31T23:59:60Z"));	/* leap s */
	assert_false(import_time_valid("2023-02-29T00:00:00Z"));
	assert_false(import_time_valid("2100-02-29T00:00:00Z"));
	assert_false(import_time_valid("2024-04-31T00:00:00Z"));
	assert_false(import_time_valid("2024-05-01T24:00:00Z"));
	assert_false(import_time_valid("2024-05-01T12:00:00"));	/* no zone */
	assert_false(import_time_valid("2024-05-01T12:00:00.Z"));
	assert_false(import_time_valid("2024-05-01T12:00:00.1234567Z"));
	assert_false(import_time_valid("2024-05-01T12:00:00+2:00"));
	assert_false(import_time_valid("2024-05-01T12:00:00+02:00x"));
	assert_false(import_time_valid("0000-01-01T00:00:00Z"));
	assert_false(import_time_valid("2024-13-01T00:00:00Z"));
	assert_false(import_time_valid("+12024-01-01T00:00:00Z"));
	assert_false(import_time_valid(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_full_line_fills_every_field),
		cmocka_unit_test(test_defaults_of_a_minimal_line),
		cmocka_unit_test(test_broken_lines_are_refused_with_their_reason),
		cmocka_unit_test(test_a_warden_hash_needs_the_id_it_is_sealed_to),
		cmocka_unit_test(test_a_line_longer_than_the_bound_is_refused),
		cmocka_unit_test(test_rfc3339_times),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
