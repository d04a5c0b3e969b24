/*
 * hasher/keys_current.c: the current file's lines, old and "next", every
 * malformed one refused with its line named, the text written back, and
 * the choice of key before and after a next key's instant.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys_current.h"

/* Parses a copy of text; returns what keys_current_parse returned. */
static int
parse(const char *text, struct keys_current *kc, char *err, size_t errlen)
{
	char	buf[2048];

	assert_true(strlen(text) < sizeof(buf));
	memcpy(buf, text, strlen(text) + 1);
	err[0] = '\0';
	return keys_current_parse(buf, "d/current", kc, err, errlen);
}

/* A file as every keygen before "next" wrote it reads as before. */
static void
test_old_file_reads_as_before(void **state)
{
	struct keys_current	 kc;
	char			 err[256];
	int			 k;

	(void)state;
	assert_int_equal(parse("sign s1\npepper p1\nrsa r1\n", &kc, err,
	    sizeof(err)), 0);
	assert_string_equal(kc.cur[KEYS_SIGN], "s1");
	assert_string_equal(kc.cur[KEYS_PEPPER], "p1");
	assert_string_equal(kc.cur[KEYS_RSA], "r1");
	for (k = 0; k < KEYS_NKINDS; k++)
		assert_string_equal(kc.next[k], "");
	/* no rsa line, no final newline, any order */
	assert_int_equal(parse("pepper p1\nsign s1", &kc, err, sizeof(err)),
	    0);
	assert_string_equal(kc.cur[KEYS_RSA], "");
	assert_string_equal(keys_current_kid(&kc, KEYS_SIGN, 0), "s1");
	assert_null(keys_current_kid(&kc, KEYS_RSA, 0));
}

static void
test_next_lines_parse(void **state)
{
	struct keys_current	 kc;
	char			 err[256];

	(void)state;
	assert_int_equal(parse("sign s1\npepper p1\nrsa r1\n"
	    "next sign s2 1700000000\nnext pepper p2 1700000001\n"
	    "next rsa r2 1700000002\n", &kc, err, sizeof(err)), 0);
	assert_string_equal(kc.next[KEYS_SIGN], "s2");
	assert_string_equal(kc.next[KEYS_PEPPER], "p2");
	assert_string_equal(kc.next[KEYS_RSA], "r2");
	assert_int_equal(kc.from[KEYS_SIGN], 1700000000);
	assert_int_equal(kc.from[KEYS_PEPPER], 1700000001);
	assert_int_equal(kc.from[KEYS_RSA], 1700000002);
	/* a next RSA key for a set from before RSA keys */
	assert_int_equal(parse("sign s1\npepper p1\nnext rsa r2 5\n", &kc, err,
	    sizeof(err)), 0);
	assert_string_equal(kc.cur[KEYS_RSA], "");
	assert_string_equal(kc.next[KEYS_RSA], "r2");
}

/* The key of a kind is the current one before the instant and the next
 * one from the instant on, to the second. */
static void
test_selection_before_and_after_the_instant(void **state)
{
	struct keys_current	 kc;
	char			 err[256];

	(void)state;
	assert_int_equal(parse("sign s1\npepper p1\nnext sign s2 1000\n"
	    "next pepper p2 2000\nnext rsa r2 1000\n", &kc, err, sizeof(err)),
	    0);
	assert_string_equal(keys_current_kid(&kc, KEYS_SIGN, 999), "s1");
	assert_string_equal(keys_current_kid(&kc, KEYS_SIGN, 1000), "s2");
	assert_string_equal(keys_current_kid(&kc, KEYS_SIGN, 5000), "s2");
	assert_string_equal(keys_current_kid(&kc, KEYS_PEPPER, 1999), "p1");
	assert_string_equal(keys_current_kid(&kc, KEYS_PEPPER, 2000), "p2");
	assert_null(keys_current_kid(&kc, KEYS_RSA, 999));
	assert_string_equal(keys_current_kid(&kc, KEYS_RSA, 1000), "r2");
}

/* Every malformed file is refused, naming the file and (for a line's
 * fault) the line. */
static void
test_malformed_refused(void **state)
{
	static const struct {
		const char	*text;
		const char	*frag;
	} bad[] = {
		{ "sign s1\npepper p1\nnext sign s2\n", "line 3: next sign needs "
		    "the instant" },
		{ "sign s1\npepper p1\nnext sign s2 soon\n", "line 3" },
		{ "sign s1\npepper p1\nnext sign s2 -5\n", "line 3" },
		{ "sign s1\npepper p1\nnext sign s2 12x\n", "line 3" },
		{ "sign s1\npepper p1\nnext sign s2 1000000000000\n",
		    "line 3" },				/* past KEYS_FROM_MAX */
		{ "sign s1\npepper p1\nnext sign s2 5 6\n", "line 3: more" },
		{ "sign s1\npepper p1\nnext sign s2  5\n", "line 3" },
		{ "sign s1\npepper p1\nnext hmac h2 5\n", "line 3: unknown key "
		    "kind" },
		{ "sign s1\npepper p1\nnext\n", "line 3: unknown key kind" },
		{ "sign s1\npepper p1\nnext sign\n", "line 3: invalid key id" },
		{ "sign s1\npepper p1\nnext sign s!2 5\n", "line 3: invalid" },
		{ "sign s1\npepper p1\nlater sign s2 5\n", "line 3: unknown" },
		{ "sign s1\npepper p1\nnext sign s2 5\nnext sign s3 6\n",
		    "line 4: next sign named twice" },
		{ "sign s1\npepper p1\nnext sign s1 5\n", "already the current" },
		{ "sign s1 5\npepper p1\n", "line 1: more" },
		{ "pepper p1\nnext sign s2 5\n", "not name a current sign" },
		{ "sign s1\nnext pepper p2 5\n", "not name a current pepper" },
		{ "sign s1\npepper p1\n\n", "line 3: empty line" },
	};
	struct keys_current	 kc;
	char			 err[256];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i].text, &kc, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i].text);
		if (strstr(err, "d/current") == NULL ||
		    strstr(err, bad[i].frag) == NULL)
			fail_msg("\"%s\": error \"%s\" lacks \"%s\"", bad[i].text,
			    err, bad[i].frag);
	}
}

/* What keys_current_format writes parses back to the same. */
static void
test_format_round_trip(void **state)
{
	struct keys_current	 kc, back;
	char			 text[1024], err[256];

	(void)state;
	memset(&kc, 0, sizeof(kc));
	strcpy(kc.cur[KEYS_SIGN], "s1");
	strcpy(kc.cur[KEYS_PEPPER], "p1");
	strcpy(kc.next[KEYS_SIGN], "s2");
	strcpy(kc.next[KEYS_PEPPER], "p2");
	strcpy(kc.next[KEYS_RSA], "r2");
	kc.from[KEYS_SIGN] = kc.from[KEYS_PEPPER] = kc.from[KEYS_RSA] =
	    1796414905;
	assert_int_equal(keys_current_format(&kc, text, sizeof(text)), 0);
	assert_string_equal(text, "sign s1\npepper p1\n"
	    "next sign s2 1796414905\nnext pepper p2 1796414905\n"
	    "next rsa r2 1796414905\n");
	assert_int_equal(parse(text, &back, err, sizeof(err)), 0);
	assert_memory_equal(&kc, &back, sizeof(kc));
	/* too small a buffer is an error, not a cut file */
	assert_int_equal(keys_current_format(&kc, text, 20), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_file_reads_as_before),
		cmocka_unit_test(test_next_lines_parse),
		cmocka_unit_test(test_selection_before_and_after_the_instant),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_format_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
