/* Unit tests of daemon/http/json_in.c: strict parsing of JSON request bodies
 * and the typed member check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "http/json_in.h"
#include "http/problem.h"

#define DEPTH	32	/* the configured default */

static cJSON *
ok(const char *s)
{
	cJSON	*o;
	char	 why[JSON_IN_WHY_MAX] = "";

	if (json_in_parse(s, strlen(s), DEPTH, &o, why, sizeof(why)) != 0)
		fail_msg("refused %s: %s", s, why);
	assert_non_null(o);
	assert_true(cJSON_IsObject(o));
	return o;
}

static void
good(const char *s)
{
	cJSON_Delete(ok(s));
}

/* s[0..len) must be refused as malformed, with needle in the reason. */
static void
badn(const char *s, size_t len, unsigned int depth, const char *needle)
{
	cJSON	*o = (cJSON *)1;
	char	 why[JSON_IN_WHY_MAX] = "";

	if (json_in_parse(s, len, depth, &o, why, sizeof(why)) != -1)
		fail_msg("accepted %.*s", (int)len, s);
	assert_null(o);
	if (strstr(why, needle) == NULL)
		fail_msg("%.*s: reason \"%s\" lacks \"%s\"", (int)len, s, why,
		    needle);
}

static void
bad(const char *s, const char *needle)
{
	badn(s, strlen(s), DEPTH, needle);
}

#define NOT_JSON	"not valid JSON"
#define NOT_OBJECT	"must be a JSON object"
#define NOT_UTF8	"not valid UTF-8"

static void
test_valid(void **state)
{
	cJSON	*o;

	good("{}");
	good(" \t\r\n{ } \t\r\n");
	good("{\"a\":\"b\"}");
	good("{\"a\":[1,-0,0.5,1e3,1E-3,-1.25e+10,true,false,null,{},[]]}");
	good("{\"a\":{\"b\":{\"c\":[{\"d\":\"e\"}]}}}");
	good("{\"\":1}");			/* an empty name is a name */
	good("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"}");

	o = ok("{\"e\":\"\\u00e9\\ud83d\\ude00\xc3\xa9\"}");
	/* é (escaped), U+1F600 (a surrogate pair), é (raw) */
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "e")->valuestring,
	    "\xc3\xa9\xf0\x9f\x98\x80\xc3\xa9");
	cJSON_Delete(o);
}

static void
test_not_json(void **state)
{
	bad("", NOT_OBJECT);
	bad("   ", NOT_OBJECT);
	bad("{", NOT_JSON);
	bad("}", NOT_OBJECT);
	bad("{\"a\"}", NOT_JSON);
	bad("{\"a\":}", NOT_JSON);
	bad("{\"a\":1,}", NOT_JSON);
	bad("{,}", NOT_JSON);
	bad("{'a':1}", NOT_JSON);
	bad("{a:1}", NOT_JSON);
	bad("{\"a\":1 \"b\":2}", NOT_JSON);
	bad("{\"a\":[1,]}", NOT_JSON);
	bad("{\"a\":[1}", NOT_JSON);
	bad("{\"a\":tru}", NOT_JSON);
	bad("{\"a\":True}", NOT_JSON);
	bad("{\"a\":nulll}", NOT_JSON);
	bad("{\"a\":\"unterminated}", NOT_JSON);
	bad("{\"a\":1}}", NOT_JSON);
	bad("{\"a\":1]", NOT_JSON);
	bad("{/*c*/}", NOT_JSON);
}

static void
test_not_an_object(void **state)
{
	bad("[]", NOT_OBJECT);
	bad("[{}]", NOT_OBJECT);
	bad("\"s\"", NOT_OBJECT);
	bad("1", NOT_OBJECT);
	bad("true", NOT_OBJECT);
	bad("null", NOT_OBJECT);
}

static void
test_trailing(void **state)
{
	bad("{} x", NOT_JSON);
	bad("{}{}", NOT_JSON);
	bad("{},", NOT_JSON);
	bad("{} 1", NOT_JSON);
	bad("{}\"", NOT_JSON);
	badn("{}\0", 3, DEPTH, NOT_UTF8);	/* a NUL byte */
}

static void
test_whitespace(void **state)
{
	/* cJSON would take any byte <= 0x20 as whitespace, and a BOM */
	bad("\x0c{}", NOT_OBJECT);
	bad("{}\x0b", NOT_JSON);
	bad("{\x01}", NOT_JSON);
	bad("\xef\xbb\xbf{}", NOT_OBJECT);
	bad("\xc2\xa0{}", NOT_OBJECT);		/* no-break space */
}

static void
test_numbers(void **state)
{
	bad("{\"a\":01}", NOT_JSON);
	bad("{\"a\":-01}", NOT_JSON);
	bad("{\"a\":1.}", NOT_JSON);
	bad("{\"a\":.5}", NOT_JSON);
	bad("{\"a\":+1}", NOT_JSON);
	bad("{\"a\":-}", NOT_JSON);
	bad("{\"a\":1e}", NOT_JSON);
	bad("{\"a\":1e+}", NOT_JSON);
	bad("{\"a\":0x10}", NOT_JSON);
	bad("{\"a\":NaN}", NOT_JSON);
	bad("{\"a\":Infinity}", NOT_JSON);
	bad("{\"a\":-Infinity}", NOT_JSON);
	bad("{\"a\":1.5.3}", NOT_JSON);
	bad("{\"a\":1-2}", NOT_JSON);
	good("{\"a\":0,\"b\":-0.0,\"c\":10E10,\"d\":1e-0}");
}

static void
test_strings(void **state)
{
	bad("{\"a\":\"x\ty\"}", "raw control");
	bad("{\"a\":\"x\ny\"}", "raw control");
	bad("{\"a\x1f\":1}", "raw control");
	bad("{\"a\":\"\\x41\"}", NOT_JSON);
	bad("{\"a\":\"\\'\"}", NOT_JSON);
	bad("{\"a\":\"\\u12\"}", NOT_JSON);
	bad("{\"a\":\"\\u12G4\"}", NOT_JSON);
	bad("{\"a\":\"\\uZZZZ\"}", NOT_JSON);
	bad("{\"a\":\"\\", NOT_JSON);
	/* \u0000 would cut the string (and a member name) short in cJSON */
	bad("{\"a\":\"x\\u0000y\"}", "NUL");
	bad("{\"a\\u0000b\":1}", "NUL");
	good("{\"a\":\"\\u0001\\u001f\\u007f\"}");
}

static void
test_surrogates(void **state)
{
	/* cJSON refuses lone and reversed surrogates itself: pinned here */
	bad("{\"a\":\"\\ud800\"}", NOT_JSON);
	bad("{\"a\":\"\\ud800x\"}", NOT_JSON);
	bad("{\"a\":\"\\ud800\\u0041\"}", NOT_JSON);
	bad("{\"a\":\"\\udc00\"}", NOT_JSON);
	bad("{\"a\":\"\\ude00\\ud83d\"}", NOT_JSON);
	bad("{\"a\":\"\\ud83d\\ud83d\"}", NOT_JSON);
	good("{\"a\":\"\\uD83D\\uDE00\"}");
}

static void
test_utf8(void **state)
{
	bad("{\"a\":\"\xff\"}", NOT_UTF8);
	bad("{\"a\":\"\xc0\xaf\"}", NOT_UTF8);		/* overlong '/' */
	bad("{\"a\":\"\xe0\x80\xaf\"}", NOT_UTF8);	/* overlong */
	bad("{\"a\":\"\xf0\x80\x80\xaf\"}", NOT_UTF8);	/* overlong */
	bad("{\"a\":\"\xc1\xbf\"}", NOT_UTF8);
	bad("{\"a\":\"\xed\xa0\x80\"}", NOT_UTF8);	/* a surrogate */
	bad("{\"a\":\"\xed\xbf\xbf\"}", NOT_UTF8);
	bad("{\"a\":\"\xf4\x90\x80\x80\"}", NOT_UTF8);	/* > U+10FFFF */
	bad("{\"a\":\"\xc3\"}", NOT_UTF8);		/* cut short */
	bad("{\"a\":\"\x80\"}", NOT_UTF8);		/* lone continuation */
	bad("{\"\xfe\":1}", NOT_UTF8);
	badn("{\"a\":\"x\0y\"}", 10, DEPTH, NOT_UTF8);
	good("{\"a\":\"\xf4\x8f\xbf\xbf\xef\xbf\xbd\"}");	/* U+10FFFF */
}

/* Builds n nested levels: {"a":{"a":...{}...}} with arrays every other
 * level when mixed. */
static char *
nest(size_t n, bool mixed)
{
	char	*s = malloc(n * 6 + 8), *p = s;
	size_t	 i;

	assert_non_null(s);
	for (i = 0; i < n; i++) {
		if (i == 0 || !mixed || i % 2 == 0) {
			if (i + 1 < n) {
				memcpy(p, "{\"a\":", 5);
				p += 5;
			} else
				*p++ = '{';
		} else
			*p++ = '[';
	}
	for (i = n; i > 0; i--)
		*p++ = (i == 1 || !mixed || (i - 1) % 2 == 0) ? '}' : ']';
	*p = '\0';
	return s;
}

static void
test_depth(void **state)
{
	char	*s;

	s = nest(32, false);
	good(s);
	free(s);
	s = nest(33, false);
	bad(s, "deeper than 32");
	free(s);
	s = nest(32, true);
	good(s);
	free(s);
	s = nest(33, true);
	bad(s, "deeper than 32");
	free(s);

	/* the limit is the caller's */
	badn("{\"a\":{}}", 8, 1, "deeper than 1");
	badn("{\"a\":[]}", 8, 1, "deeper than 1");
	{
		cJSON *o;
		char why[JSON_IN_WHY_MAX];

		assert_int_equal(json_in_parse("{\"a\":1}", 7, 1, &o, why,
		    sizeof(why)), 0);
		cJSON_Delete(o);
	}
	/* brackets inside strings do not count */
	good("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{\"}");

	/* far past cJSON's own limit: refused before cJSON recurses */
	s = malloc(200001);
	assert_non_null(s);
	s[0] = '{';
	memset(s + 1, '[', 199999);
	s[200000] = '\0';
	bad(s, "deeper than 32");
	free(s);
}

static void
test_duplicates(void **state)
{
	bad("{\"a\":1,\"a\":2}", "the member a is given twice");
	bad("{\"a\":1,\"b\":2,\"a\":1}", "a is given twice");
	bad("{\"x\":{\"b\":1,\"b\":null}}", "b is given twice");
	bad("{\"x\":[{\"ok\":1},{\"c\":1,\"c\":1}]}", "c is given twice");
	/* the same name once decoded */
	bad("{\"a\":1,\"\\u0061\":2}", "a is given twice");
	bad("{\"\":1,\"\":2}", "a member is given twice");
	/* a name not fit to quote is not quoted */
	bad("{\"a b\":1,\"a b\":2}", "a member is given twice");
	/* many members, the pair far apart (the sorted path) */
	{
		char s[4096], *p = s;
		int i;

		p += snprintf(p, sizeof(s), "{\"dup\":0");
		for (i = 0; i < 100; i++)
			p += snprintf(p, sizeof(s) - (size_t)(p - s),
			    ",\"m%d\":%d", i, i);
		snprintf(p, sizeof(s) - (size_t)(p - s), ",\"dup\":1}");
		bad(s, "dup is given twice");
		snprintf(p, sizeof(s) - (size_t)(p - s), ",\"m100\":1}");
		good(s);
	}
	/* the same name in different objects is fine */
	good("{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}");
}

static void
test_not_nul_terminated(void **state)
{
	const char	 buf[] = "{\"a\":1}xxxx";
	cJSON		*o;
	char		 why[JSON_IN_WHY_MAX];

	assert_int_equal(json_in_parse(buf, 7, DEPTH, &o, why, sizeof(why)),
	    0);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "a")->valueint,
	    1);
	cJSON_Delete(o);
	badn(buf, 8, DEPTH, NOT_JSON);
	badn(NULL, 0, DEPTH, NOT_OBJECT);
}

/* ---- json_in_extract ---- */

enum { M_USERNAME, M_ACTIVE, M_ROLES, M_FULL_NAME, M_NM };

static const struct json_in_member members[M_NM] = {
	[M_USERNAME] = { "username", JSON_IN_STRING, 8, 0, true, false },
	[M_ACTIVE] = { "is_active", JSON_IN_BOOL, 0, 0, false, false },
	[M_ROLES] = { "roles", JSON_IN_STRING_ARRAY, 5, 3, false, false },
	[M_FULL_NAME] = { "full_name", JSON_IN_STRING, 0, 0, false, true },
};

/* Extracts s and returns the problem's "errors" as compact JSON (or "[]"),
 * and the count in *n. */
static char *
extract(const char *s, struct json_in_value *v, size_t *n)
{
	struct problem_fields pf;
	cJSON	*o = ok(s);
	char	*out;

	problem_fields_init(&pf);
	*n = json_in_extract(o, members, M_NM, v, &pf);
	assert_int_equal(*n, problem_fields_count(&pf));
	out = pf.errors != NULL ? cJSON_PrintUnformatted(pf.errors) :
	    strdup("[]");
	problem_fields_free(&pf);
	/* v points into o: look before freeing it */
	if (*n == 0 && v[M_USERNAME].str != NULL)
		assert_string_equal(v[M_USERNAME].str,
		    cJSON_GetObjectItemCaseSensitive(o, "username")->valuestring);
	cJSON_Delete(o);
	return out;
}

static void
expect_errors(const char *body, size_t want, const char *errors)
{
	struct json_in_value v[M_NM];
	size_t	 n;
	char	*got = extract(body, v, &n);

	if (n != want || strcmp(got, errors) != 0)
		fail_msg("%s: %zu errors %s, want %zu %s", body, n, got, want,
		    errors);
	free(got);
}

static void
test_extract_good(void **state)
{
	struct problem_fields pf;
	struct json_in_value v[M_NM];
	const cJSON *it;
	cJSON	*o;
	size_t	 k = 0;

	o = ok("{\"username\":\"alice\",\"is_active\":false,"
	    "\"roles\":[\"admin\",\"ops\"],\"full_name\":null}");
	problem_fields_init(&pf);
	assert_int_equal(json_in_extract(o, members, M_NM, v, &pf), 0);
	assert_true(v[M_USERNAME].present);
	assert_string_equal(v[M_USERNAME].str, "alice");
	assert_int_equal(v[M_USERNAME].len, 5);
	assert_true(v[M_ACTIVE].present);
	assert_false(v[M_ACTIVE].b);
	assert_int_equal(v[M_ROLES].nitems, 2);
	cJSON_ArrayForEach(it, v[M_ROLES].array)
		assert_string_equal(it->valuestring, k++ == 0 ? "admin" : "ops");
	assert_true(v[M_FULL_NAME].present);
	assert_true(v[M_FULL_NAME].is_null);
	assert_null(v[M_FULL_NAME].str);
	problem_fields_free(&pf);
	cJSON_Delete(o);

	/* optional members may be absent; exactly max bytes and items */
	o = ok("{\"username\":\"12345678\",\"roles\":[\"a\",\"bbbbb\",\"c\"]}");
	problem_fields_init(&pf);
	assert_int_equal(json_in_extract(o, members, M_NM, v, &pf), 0);
	assert_false(v[M_ACTIVE].present);
	assert_false(v[M_FULL_NAME].present);
	assert_int_equal(v[M_ROLES].nitems, 3);
	problem_fields_free(&pf);
	cJSON_Delete(o);

	expect_errors("{\"username\":\"a\",\"roles\":[]}", 0, "[]");
}

static void
test_extract_unknown(void **state)
{
	expect_errors("{\"username\":\"a\",\"password\":\"x\",\"admin\":true}", 2,
	    "[{\"field\":\"password\",\"message\":\"unknown member\"},"
	    "{\"field\":\"admin\",\"message\":\"unknown member\"}]");
	/* names are case-sensitive */
	expect_errors("{\"Username\":\"a\"}", 2,
	    "[{\"field\":\"Username\",\"message\":\"unknown member\"},"
	    "{\"field\":\"username\",\"message\":\"is required\"}]");
}

static void
test_extract_types(void **state)
{
	expect_errors("{\"username\":1,\"is_active\":\"true\",\"roles\":\"a\","
	    "\"full_name\":false}", 4,
	    "[{\"field\":\"username\",\"message\":\"must be a string\"},"
	    "{\"field\":\"is_active\",\"message\":\"must be true or false\"},"
	    "{\"field\":\"roles\",\"message\":\"must be an array of strings\"},"
	    "{\"field\":\"full_name\",\"message\":\"must be a string\"}]");
	expect_errors("{\"username\":null,\"is_active\":null,\"roles\":null}", 3,
	    "[{\"field\":\"username\",\"message\":\"must not be null\"},"
	    "{\"field\":\"is_active\",\"message\":\"must not be null\"},"
	    "{\"field\":\"roles\",\"message\":\"must not be null\"}]");
	expect_errors("{\"username\":{},\"roles\":[\"a\",1]}", 2,
	    "[{\"field\":\"username\",\"message\":\"must be a string\"},"
	    "{\"field\":\"roles\",\"message\":\"must be an array of strings\"}]");
	expect_errors("{\"username\":[\"a\"],\"is_active\":0}", 2,
	    "[{\"field\":\"username\",\"message\":\"must be a string\"},"
	    "{\"field\":\"is_active\",\"message\":\"must be true or false\"}]");
}

static void
test_extract_lengths(void **state)
{
	expect_errors("{\"username\":\"123456789\"}", 1,
	    "[{\"field\":\"username\",\"message\":\"must be at most 8 bytes\"}]");
	/* bytes, not characters: 5 x 2 bytes */
	expect_errors("{\"username\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
	    1, "[{\"field\":\"username\","
	    "\"message\":\"must be at most 8 bytes\"}]");
	expect_errors("{\"username\":\"a\",\"roles\":[\"a\",\"b\",\"c\",\"d\"]}", 1,
	    "[{\"field\":\"roles\",\"message\":\"must have at most 3 items\"}]");
	expect_errors("{\"username\":\"a\",\"roles\":[\"a\",\"bbbbbb\"]}", 1,
	    "[{\"field\":\"roles\",\"message\":\"items must be at most 5 bytes\"}]");
}

static void
test_extract_required(void **state)
{
	expect_errors("{}", 1,
	    "[{\"field\":\"username\",\"message\":\"is required\"}]");
}

static void
test_extract_many_unknown(void **state)
{
	char	 s[8192], *p = s;
	struct problem_fields pf;
	struct json_in_value v[M_NM];
	cJSON	*o;
	int	 i;

	p += snprintf(p, sizeof(s), "{\"username\":\"a\"");
	for (i = 0; i < 100; i++)
		p += snprintf(p, sizeof(s) - (size_t)(p - s), ",\"u%d\":%d",
		    i, i);
	snprintf(p, sizeof(s) - (size_t)(p - s), "}");
	o = ok(s);
	problem_fields_init(&pf);
	assert_int_equal(json_in_extract(o, members, M_NM, v, &pf), 100);
	assert_int_equal(cJSON_GetArraySize(pf.errors), PROBLEM_FIELDS_MAX);
	problem_fields_free(&pf);
	cJSON_Delete(o);
}

static void
test_extract_long_name(void **state)
{
	char	 s[512], name[200];
	struct problem_fields pf;
	struct json_in_value v[M_NM];
	cJSON	*o;
	const char *f;

	/* 'x' then 70 two-byte characters: cut at 64 bytes, never mid
	 * character */
	name[0] = 'x';
	for (int i = 0; i < 70; i++)
		memcpy(name + 1 + 2 * i, "\xc3\xa9", 2);
	name[141] = '\0';
	snprintf(s, sizeof(s), "{\"username\":\"a\",\"%s\":1}", name);
	o = ok(s);
	problem_fields_init(&pf);
	assert_int_equal(json_in_extract(o, members, M_NM, v, &pf), 1);
	f = cJSON_GetObjectItem(cJSON_GetArrayItem(pf.errors, 0),
	    "field")->valuestring;
	assert_int_equal(strlen(f), 63);
	assert_memory_equal(f, name, 63);
	problem_fields_free(&pf);
	cJSON_Delete(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_surrogates),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_extract_good),
		cmocka_unit_test(test_extract_unknown),
		cmocka_unit_test(test_extract_types),
		cmocka_unit_test(test_extract_lengths),
		cmocka_unit_test(test_extract_required),
		cmocka_unit_test(test_extract_many_unknown),
		cmocka_unit_test(test_extract_long_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
