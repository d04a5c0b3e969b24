/*
 * daemon/api/basic_auth.c: the client id of a Basic credential (RFC 7617,
 * RFC 6749 2.3.1), and every malformed credential refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "api/basic_auth.h"

/* base64 (standard alphabet, padded) of the n bytes of raw. */
static const char *
b64(const void *raw, size_t n)
{
	static char out[2 * BASIC_MAX + 8];

	return sodium_bin2base64(out, sizeof(out), raw, n,
	    sodium_base64_VARIANT_ORIGINAL);
}

static void
test_client_id_decoded(void **state)
{
	char	 id[FIELD_PLAIN_NAME_MAX + 1];

	(void)state;
	assert_int_equal(basic_client_id(b64("warden:s3cret", 13), id), 0);
	assert_string_equal(id, "warden");
	/* The secret may hold anything, a ':' too. */
	assert_int_equal(basic_client_id(b64("my.app-1:a:b%zz", 15), id), 0);
	assert_string_equal(id, "my.app-1");
	/* An empty secret. */
	assert_int_equal(basic_client_id(b64("warden:", 7), id), 0);
	assert_string_equal(id, "warden");
	/* The id is form-encoded: %77 is 'w'. */
	assert_int_equal(basic_client_id(b64("%77arden:x", 10), id), 0);
	assert_string_equal(id, "warden");
}

static void
test_malformed_refused(void **state)
{
	char	 id[FIELD_PLAIN_NAME_MAX + 1], big[BASIC_MAX + 2];
	static const char *const raws[] = {
		"warden",		/* no ':' */
		":secret",		/* no id */
		"a&b=c:x",		/* a second form pair */
		"wa rden:x",		/* not a plain name */
		"wa+rden:x",		/* '+' decodes to a space */
		"%zz:x",		/* a bad escape */
		"%00:x",		/* an escaped NUL */
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(raws) / sizeof(raws[0]); i++)
		if (basic_client_id(b64(raws[i], strlen(raws[i])), id) != -1)
			fail_msg("accepted \"%s\"", raws[i]);
	assert_int_equal(basic_client_id(b64("wa\0rden:x", 9), id), -1);
	assert_int_equal(basic_client_id("!!!", id), -1);
	assert_int_equal(basic_client_id("d2FyZGVuOng", id), -1); /* unpadded */
	assert_int_equal(basic_client_id("", id), -1);
	/* Longer than BASIC_MAX decoded bytes. */
	memset(big, 'a', sizeof(big));
	big[1] = ':';
	assert_int_equal(basic_client_id(b64(big, sizeof(big)), id), -1);
	/* An id longer than a plain name may be. */
	memset(big, 'a', FIELD_PLAIN_NAME_MAX + 1);
	big[FIELD_PLAIN_NAME_MAX + 1] = ':';
	assert_int_equal(basic_client_id(b64(big, FIELD_PLAIN_NAME_MAX + 2),
	    id), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_id_decoded),
		cmocka_unit_test(test_malformed_refused),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
