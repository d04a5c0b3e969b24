/* Unit tests of daemon/http/form.c: strict x-www-form-urlencoded and query
 * string parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/form.h"

static int
parse(struct form *f, const char *s, char *why)
{
	return form_parse(f, s, strlen(s), why, FORM_WHY_MAX);
}

/* The input must be refused, with needle in the reason. */
static void
bad(const char *s, size_t len, const char *needle)
{
	struct form	 f;
	char		 why[FORM_WHY_MAX] = "";

	if (form_parse(&f, s, len, why, sizeof(why)) != -1)
		fail_msg("accepted \"%.*s\"", (int)len, s);
	assert_int_equal(f.n, 0);
	if (strstr(why, needle) == NULL)
		fail_msg("\"%.*s\": reason \"%s\" lacks \"%s\"", (int)len, s,
		    why, needle);
	form_free(&f);
}

static void
bads(const char *s, const char *needle)
{
	bad(s, strlen(s), needle);
}

static void
test_good(void **state)
{
	struct form	 f;
	char		 why[FORM_WHY_MAX];

	assert_int_equal(parse(&f, "grant_type=password&username=alice"
	    "&password=s3cr%C3%A9t%21", why), 0);
	assert_int_equal(f.n, 3);
	assert_string_equal(form_get(&f, "grant_type"), "password");
	assert_string_equal(form_get(&f, "username"), "alice");
	assert_string_equal(form_get(&f, "password"), "s3cr\xc3\xa9t!");
	assert_int_equal(f.v[2].value_len, 8);
	assert_null(form_get(&f, "refresh_token"));
	assert_null(form_get(&f, "Username"));	/* names are exact */
	form_free(&f);
	assert_int_equal(f.n, 0);

	/* encoded names, hex in either case */
	assert_int_equal(parse(&f, "%67rant_type=a%2fb%2Fc", why), 0);
	assert_string_equal(form_get(&f, "grant_type"), "a/b/c");
	form_free(&f);
}

static void
test_plus_and_space(void **state)
{
	struct form	 f;
	char		 why[FORM_WHY_MAX];

	assert_int_equal(parse(&f, "q=a+b&r=a%2Bb&s=a%20b&t=+", why), 0);
	assert_string_equal(form_get(&f, "q"), "a b");
	assert_string_equal(form_get(&f, "r"), "a+b");
	assert_string_equal(form_get(&f, "s"), "a b");
	assert_string_equal(form_get(&f, "t"), " ");
	form_free(&f);
}

static void
test_empty(void **state)
{
	struct form	 f;
	char		 why[FORM_WHY_MAX];

	assert_int_equal(form_parse(&f, NULL, 0, why, sizeof(why)), 0);
	assert_int_equal(f.n, 0);
	form_free(&f);
	assert_int_equal(parse(&f, "", why), 0);
	assert_int_equal(f.n, 0);
	form_free(&f);

	/* empty values, a pair without '=', empty pairs skipped */
	assert_int_equal(parse(&f, "&a=&&b&c=1&", why), 0);
	assert_int_equal(f.n, 3);
	assert_string_equal(form_get(&f, "a"), "");
	assert_string_equal(form_get(&f, "b"), "");
	assert_string_equal(form_get(&f, "c"), "1");
	form_free(&f);

	/* '=' inside a value is the value's */
	assert_int_equal(parse(&f, "a=b=c", why), 0);
	assert_string_equal(form_get(&f, "a"), "b=c");
	form_free(&f);
}

static void
test_bad_escapes(void **state)
{
	bads("a=%", "percent");
	bads("a=%4", "percent");
	bads("a=%4g", "percent");
	bads("a=%zz", "percent");
	bads("a=x%", "percent");
	bads("%=1", "percent");
	bads("a=%%41", "percent");
	bads("a=%+1", "percent");
}

static void
test_nul(void **state)
{
	bads("a=%00", "NUL");
	bads("a%00b=1", "NUL");
	bads("password=abc%00def", "NUL");
	bad("a=b\0c", 5, "control");
}

static void
test_controls(void **state)
{
	bads("a=b\nc", "control");
	bads("a=b\rc", "control");
	bads("a=\x7f", "control");
	bads("a=\t", "control");
}

static void
test_utf8(void **state)
{
	struct form	 f;
	char		 why[FORM_WHY_MAX];

	/* raw UTF-8 is taken as the browser sends it */
	assert_int_equal(parse(&f, "q=\xc3\xa9t\xc3\xa9", why), 0);
	assert_string_equal(form_get(&f, "q"), "\xc3\xa9t\xc3\xa9");
	form_free(&f);
	/* U+10FFFF is the last one */
	assert_int_equal(parse(&f, "q=%F4%8F%BF%BF", why), 0);
	form_free(&f);

	bads("q=%C3%28", "UTF-8");		/* bad continuation */
	bads("q=%C0%AF", "UTF-8");		/* overlong '/' */
	bads("q=%E0%80%AF", "UTF-8");		/* overlong, 3 bytes */
	bads("q=%ED%A0%80", "UTF-8");		/* a surrogate */
	bads("q=%F4%90%80%80", "UTF-8");	/* past U+10FFFF */
	bads("q=%C3", "UTF-8");			/* cut short */
	bads("q=%FF", "UTF-8");
	bads("q=\xff", "UTF-8");
	bads("%FF=1", "UTF-8");
}

static void
test_duplicates(void **state)
{
	bads("grant_type=password&grant_type=password", "grant_type is given "
	    "twice");
	bads("a=1&b=2&a=3", "a is given twice");
	bads("a=&a=", "twice");
	bads("a&a", "twice");
	bads("a=1&%61=2", "twice");		/* the same once decoded */
	bads("%FE%FF=1&x=1", "UTF-8");
	/* a name not fit for an error_description is not quoted */
	bads("a%22b=1&a%22b=2", "a parameter is given twice");
}

static void
test_names(void **state)
{
	char	 s[FORM_NAME_MAX + 8];
	struct form f;
	char	 why[FORM_WHY_MAX];

	bads("=1", "without a name");
	bads("a=1&=2", "without a name");
	memset(s, 'n', FORM_NAME_MAX);
	memcpy(s + FORM_NAME_MAX, "=1", 3);
	assert_int_equal(parse(&f, s, why), 0);
	form_free(&f);
	memset(s, 'n', FORM_NAME_MAX + 1);
	memcpy(s + FORM_NAME_MAX + 1, "=1", 3);
	bads(s, "too long");
}

static void
test_limits(void **state)
{
	struct form	 f;
	char		 why[FORM_WHY_MAX], s[512], *v;
	size_t		 i, o = 0;

	for (i = 0; i < FORM_MAX_PARAMS; i++)
		o += (size_t)snprintf(s + o, sizeof(s) - o, "p%zu=%zu&", i, i);
	assert_int_equal(parse(&f, s, why), 0);
	assert_int_equal(f.n, FORM_MAX_PARAMS);
	form_free(&f);
	snprintf(s + o, sizeof(s) - o, "one=more");
	bads(s, "more than");

	/* a value of FORM_VALUE_MAX decoded bytes, then one more */
	v = malloc(FORM_VALUE_MAX * 3 + 16);
	assert_non_null(v);
	memcpy(v, "password=", 10);
	for (i = 0, o = 9; i < FORM_VALUE_MAX; i++, o += 3)
		memcpy(v + o, "%41", 3);
	v[o] = '\0';
	assert_int_equal(parse(&f, v, why), 0);
	assert_int_equal(strlen(form_get(&f, "password")), FORM_VALUE_MAX);
	form_free(&f);
	memcpy(v + o, "A", 2);
	bads(v, "too long");
	free(v);
}

static void
test_length_bounded(void **state)
{
	struct form	 f;
	char		 why[FORM_WHY_MAX];

	/* only len bytes are read */
	assert_int_equal(form_parse(&f, "a=1&b=2", 3, why, sizeof(why)), 0);
	assert_int_equal(f.n, 1);
	assert_string_equal(form_get(&f, "a"), "1");
	assert_null(form_get(&f, "b"));
	form_free(&f);
	/* an escape cut by the length is bad */
	bad("a=%41", 4, "percent");
}

static void
test_int(void **state)
{
	struct form	 f;
	char		 why[FORM_WHY_MAX];
	long long	 n;

	assert_int_equal(parse(&f, "limit=50&zero=0&big=201&neg=-1&plus=%2B1"
	    "&word=abc&empty=&huge=99999999999999999999999&sp=1+&lead=007",
	    why), 0);
	assert_int_equal(form_get_int(&f, "limit", 1, 200, 50, &n),
	    FORM_INT_OK);
	assert_int_equal(n, 50);
	assert_int_equal(form_get_int(&f, "absent", 1, 200, 42, &n),
	    FORM_INT_OK);
	assert_int_equal(n, 42);
	assert_int_equal(form_get_int(&f, "zero", 1, 200, 50, &n),
	    FORM_INT_RANGE);
	assert_int_equal(form_get_int(&f, "big", 1, 200, 50, &n),
	    FORM_INT_RANGE);
	assert_int_equal(form_get_int(&f, "huge", 1, 200, 50, &n),
	    FORM_INT_RANGE);
	assert_int_equal(form_get_int(&f, "neg", 1, 200, 50, &n),
	    FORM_INT_MALFORMED);
	assert_int_equal(form_get_int(&f, "plus", 1, 200, 50, &n),
	    FORM_INT_MALFORMED);
	assert_int_equal(form_get_int(&f, "word", 1, 200, 50, &n),
	    FORM_INT_MALFORMED);
	assert_int_equal(form_get_int(&f, "empty", 1, 200, 50, &n),
	    FORM_INT_MALFORMED);
	assert_int_equal(form_get_int(&f, "sp", 1, 200, 50, &n),
	    FORM_INT_MALFORMED);
	assert_int_equal(form_get_int(&f, "lead", 1, 200, 50, &n),
	    FORM_INT_OK);
	assert_int_equal(n, 7);
	form_free(&f);
}

static void
test_unknown(void **state)
{
	static const char *const allowed[] = { "limit", "after", "q" };
	struct form	 f;
	char		 why[FORM_WHY_MAX];

	assert_int_equal(parse(&f, "limit=5&q=al", why), 0);
	assert_null(form_unknown(&f, allowed, 3));
	form_free(&f);
	assert_int_equal(parse(&f, "limit=5&offset=10&x=1", why), 0);
	assert_string_equal(form_unknown(&f, allowed, 3), "offset");
	form_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_plus_and_space),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bad_escapes),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_length_bounded),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
