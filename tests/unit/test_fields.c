/* Unit tests of common/fields.c: the API's field rules at their
 * boundaries, and strict UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fields.h"

/* Fills buf with n copies of c and a NUL. */
static char *
rep(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/* Fills buf with n copies of the string u (a UTF-8 character) and a NUL. */
static char *
repu(char *buf, const char *u, size_t n)
{
	size_t i, l = strlen(u);

	for (i = 0; i < n; i++)
		memcpy(buf + i * l, u, l);
	buf[n * l] = '\0';
	return buf;
}

static bool
utf8(const char *s)
{
	return field_utf8_valid(s, strlen(s));
}

/* ---- uuid ---- */

static void
test_uuid(void **state)
{
	char buf[40];
	int c;

	assert_true(field_is_uuid("0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7b"));
	assert_true(field_is_uuid("00000000-0000-0000-0000-000000000000"));
	assert_true(field_is_uuid("ffffffff-ffff-ffff-ffff-ffffffffffff"));

	assert_false(field_is_uuid(NULL));
	assert_false(field_is_uuid(""));
	/* upper case */
	assert_false(field_is_uuid("0B6F1C2E-8A3D-4F5E-9A1B-2C3D4E5F6A7B"));
	assert_false(field_is_uuid("0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7B"));
	/* no hyphens, braces, urn */
	assert_false(field_is_uuid("0b6f1c2e8a3d4f5e9a1b2c3d4e5f6a7b"));
	assert_false(field_is_uuid("{0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7b}"));
	assert_false(field_is_uuid(
	    "urn:uuid:0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7b"));
	/* one short, one long, misplaced hyphen, non-hex */
	assert_false(field_is_uuid("0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7"));
	assert_false(field_is_uuid("0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7b0"));
	assert_false(field_is_uuid("0b6f1c2e-8a3d-4f5e-9a1b2-c3d4e5f6a7b"));
	assert_false(field_is_uuid("0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7g"));
	assert_false(field_is_uuid("0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7 "));
	assert_false(field_is_uuid(" b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7b"));
	assert_false(field_is_uuid("0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7b\n"));

	/* every byte in a hex place and in a hyphen's place */
	for (c = 1; c < 256; c++) {
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');

		memcpy(buf, "0b6f1c2e-8a3d-4f5e-9a1b-2c3d4e5f6a7b", 37);
		buf[35] = (char)c;
		assert_int_equal(field_is_uuid(buf), hex);
		buf[35] = 'b';
		buf[23] = (char)c;
		assert_int_equal(field_is_uuid(buf), c == '-');
	}
}

/* ---- username ---- */

static void
test_username_lengths(void **state)
{
	char buf[64];

	assert_false(field_is_username(""));
	assert_false(field_is_username(rep(buf, 'a', 1)));
	assert_false(field_is_username(rep(buf, 'a', 2)));
	assert_true(field_is_username(rep(buf, 'a', 3)));
	assert_true(field_is_username(rep(buf, 'a', 31)));
	assert_true(field_is_username(rep(buf, 'a', 32)));
	assert_false(field_is_username(rep(buf, 'a', 33)));
	assert_false(field_is_username(rep(buf, 'a', 63)));
	assert_false(field_is_username(NULL));
}

static void
test_username_chars(void **state)
{
	char buf[8];
	int c;

	assert_true(field_is_username("alice"));
	assert_true(field_is_username("Alice.Liddell_1-x"));
	assert_true(field_is_username("0day"));
	assert_true(field_is_username("a.."));
	assert_true(field_is_username("Z_-"));
	/* first character must be a letter or a digit */
	assert_false(field_is_username(".alice"));
	assert_false(field_is_username("_alice"));
	assert_false(field_is_username("-alice"));
	assert_false(field_is_username("al ice"));
	assert_false(field_is_username(" alice"));
	assert_false(field_is_username("alice "));
	assert_false(field_is_username("alice@x"));
	assert_false(field_is_username("al\tice"));
	assert_false(field_is_username("alice\n"));
	assert_false(field_is_username("\xc3\xa9lise"));	/* élise */
	assert_false(field_is_username("el\xc3\xa9se"));

	/* Every byte in the middle: only [A-Za-z0-9._-] pass. */
	for (c = 1; c < 256; c++) {
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';

		buf[0] = 'a';
		buf[1] = (char)c;
		buf[2] = 'b';
		buf[3] = '\0';
		assert_int_equal(field_is_username(buf), ok);
	}
}

/* ---- role ---- */

static void
test_role(void **state)
{
	char buf[64];
	int c;

	assert_true(field_is_role("admin"));
	assert_true(field_is_role("a"));
	assert_true(field_is_role("_"));
	assert_true(field_is_role("-"));
	assert_true(field_is_role("billing-read_2"));
	assert_true(field_is_role(rep(buf, 'r', 32)));
	assert_false(field_is_role(rep(buf, 'r', 33)));
	assert_false(field_is_role(""));
	assert_false(field_is_role(NULL));
	assert_false(field_is_role("Admin"));
	assert_false(field_is_role("ad min"));
	assert_false(field_is_role("a.b"));
	assert_false(field_is_role("a,b"));
	assert_false(field_is_role("admin\n"));

	for (c = 1; c < 256; c++) {
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-';

		buf[0] = (char)c;
		buf[1] = '\0';
		assert_int_equal(field_is_role(buf), ok);
	}
}

/* ---- kid ---- */

static void
test_kid(void **state)
{
	char buf[FIELD_KID_MAX + 2];
	int c;

	assert_true(field_is_kid("0123456789abcdef"));
	assert_true(field_is_kid("k"));
	assert_true(field_is_kid("Key_2024-01"));
	assert_true(field_is_kid(rep(buf, 'k', FIELD_KID_MAX)));
	assert_false(field_is_kid(rep(buf, 'k', FIELD_KID_MAX + 1)));
	assert_false(field_is_kid(""));
	assert_false(field_is_kid(NULL));
	assert_false(field_is_kid("k.key"));	/* would not parse back */
	assert_false(field_is_kid("../k"));
	assert_false(field_is_kid("k 1"));
	assert_false(field_is_kid("k\n"));

	for (c = 1; c < 256; c++) {
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-';

		buf[0] = 'k';
		buf[1] = (char)c;
		buf[2] = '\0';
		assert_int_equal(field_is_kid(buf), ok);
	}
}

/* ---- plain names ---- */

static void
test_plain_name(void **state)
{
	char buf[FIELD_PLAIN_NAME_MAX + 2];
	int c;

	assert_true(field_is_plain_name("grant_type"));
	assert_true(field_is_plain_name("a"));
	assert_true(field_is_plain_name("."));
	assert_true(field_is_plain_name("req-1.2_x"));
	assert_true(field_is_plain_name(rep(buf, 'n', FIELD_PLAIN_NAME_MAX)));
	assert_false(field_is_plain_name(rep(buf, 'n',
	    FIELD_PLAIN_NAME_MAX + 1)));
	assert_false(field_is_plain_name(""));
	assert_false(field_is_plain_name(NULL));
	assert_false(field_is_plain_name("a b"));
	assert_false(field_is_plain_name("a\"b"));
	assert_false(field_is_plain_name("a\r\nb"));
	assert_false(field_is_plain_name("\xc3\xa9"));

	for (c = 1; c < 256; c++) {
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';

		assert_int_equal(field_is_plain_char((unsigned char)c), ok);
		buf[0] = (char)c;
		buf[1] = '\0';
		assert_int_equal(field_is_plain_name(buf), ok);
	}
	assert_false(field_is_plain_char('\0'));
}

/* ---- email ---- */

/* An address of exactly len bytes: "l...l@" local part of llen, then a
 * domain of labels of at most 63 joined by dots, ending in ".com". */
static char *
email_of(char *buf, size_t llen, size_t len)
{
	size_t i, dlen = len - llen - 1, body = dlen - 4, label = 0;

	memset(buf, 'l', llen);
	buf[llen] = '@';
	for (i = 0; i < body; i++) {
		/* a dot every 60 characters, never first or last */
		if (label == 60 && i + 1 < body) {
			buf[llen + 1 + i] = '.';
			label = 0;
		} else {
			buf[llen + 1 + i] = 'd';
			label++;
		}
	}
	memcpy(buf + llen + 1 + body, ".com", 5);
	assert_int_equal(strlen(buf), len);
	return buf;
}

static void
test_email_lengths(void **state)
{
	char buf[512];

	assert_true(field_is_email(email_of(buf, 10, 100)));
	assert_true(field_is_email(email_of(buf, 64, 254)));
	assert_true(field_is_email(email_of(buf, 1, 254)));
	assert_false(field_is_email(email_of(buf, 64, 255)));
	assert_false(field_is_email(email_of(buf, 10, 255)));
	assert_false(field_is_email(email_of(buf, 10, 400)));
	/* local part 64 / 65 */
	assert_true(field_is_email(email_of(buf, 64, 80)));
	assert_false(field_is_email(email_of(buf, 65, 80)));
	/* shortest */
	assert_true(field_is_email("a@b.c"));
	assert_false(field_is_email("@b.c"));
	assert_false(field_is_email("a@"));
	assert_false(field_is_email(""));
	assert_false(field_is_email(NULL));
}

static void
test_email_domain(void **state)
{
	char buf[512], label[80];

	assert_true(field_is_email("alice@example.com"));
	assert_true(field_is_email("alice@mail.example.co.uk"));
	assert_true(field_is_email("alice@EXAMPLE.COM"));
	assert_true(field_is_email("alice@ex-ample.com"));
	assert_true(field_is_email("alice@xn--bcher-kva.example"));
	assert_true(field_is_email("alice@1.2.3.4"));
	/* at least one dot */
	assert_false(field_is_email("alice@localhost"));
	assert_false(field_is_email("alice@example"));
	/* empty labels */
	assert_false(field_is_email("alice@.example.com"));
	assert_false(field_is_email("alice@example.com."));
	assert_false(field_is_email("alice@example..com"));
	assert_false(field_is_email("alice@."));
	/* label characters */
	assert_false(field_is_email("alice@exa_mple.com"));
	assert_false(field_is_email("alice@exa mple.com"));
	assert_false(field_is_email("alice@example.com "));
	assert_false(field_is_email("alice@example.com\n"));
	assert_false(field_is_email("alice@[127.0.0.1]"));
	assert_false(field_is_email("alice@b\xc3\xbc" "cher.example"));
	assert_false(field_is_email("alice@exa+mple.com"));
	assert_false(field_is_email("alice@example.com:80"));
	/* hyphen at a label's edge */
	assert_false(field_is_email("alice@-example.com"));
	assert_false(field_is_email("alice@example-.com"));
	assert_false(field_is_email("alice@example.-com"));
	assert_false(field_is_email("alice@example.com-"));
	/* label length 63 / 64 */
	snprintf(buf, sizeof(buf), "a@%s.com", rep(label, 'x', 63));
	assert_true(field_is_email(buf));
	snprintf(buf, sizeof(buf), "a@%s.com", rep(label, 'x', 64));
	assert_false(field_is_email(buf));
	snprintf(buf, sizeof(buf), "a@example.%s", rep(label, 'x', 64));
	assert_false(field_is_email(buf));
}

static void
test_email_local_and_at(void **state)
{
	char buf[32];
	int c;

	assert_true(field_is_email("alice.liddell+tag@example.com"));
	assert_true(field_is_email("a!#$%&'*/=?^_`{|}~-@example.com"));
	/* exactly one '@' */
	assert_false(field_is_email("alice.example.com"));
	assert_false(field_is_email("alice@bob@example.com"));
	assert_false(field_is_email("alice@@example.com"));
	assert_false(field_is_email("\"al@ce\"@example.com"));
	/* no spaces or control characters */
	assert_false(field_is_email("al ice@example.com"));
	assert_false(field_is_email(" alice@example.com"));
	assert_false(field_is_email("alice @example.com"));
	assert_false(field_is_email("alice@ example.com"));
	assert_false(field_is_email("al\tice@example.com"));
	assert_false(field_is_email("al\rice@example.com"));
	assert_false(field_is_email("al\nice@example.com"));
	assert_false(field_is_email("al\x7fice@example.com"));
	assert_false(field_is_email("al\x1bice@example.com"));
	/* non-ASCII local parts are refused */
	assert_false(field_is_email("\xc3\xa9lise@example.com"));
	assert_false(field_is_email("al\xc2\x85ice@example.com"));	/* NEL */

	for (c = 1; c < 256; c++) {
		bool ok = c > 0x20 && c < 0x7f && c != '@';

		snprintf(buf, sizeof(buf), "a%cb@example.com", c);
		assert_int_equal(field_is_email(buf), ok);
	}
}

/* ---- UTF-8 ---- */

static void
test_utf8_valid(void **state)
{
	assert_true(utf8(""));
	assert_true(utf8("plain ASCII"));
	assert_true(utf8("\x7f"));
	assert_true(utf8("\xc2\x80"));			/* U+0080 */
	assert_true(utf8("\xdf\xbf"));			/* U+07FF */
	assert_true(utf8("\xe0\xa0\x80"));		/* U+0800 */
	assert_true(utf8("\xed\x9f\xbf"));		/* U+D7FF */
	assert_true(utf8("\xee\x80\x80"));		/* U+E000 */
	assert_true(utf8("\xef\xbf\xbf"));		/* U+FFFF */
	assert_true(utf8("\xf0\x90\x80\x80"));		/* U+10000 */
	assert_true(utf8("\xf4\x8f\xbf\xbf"));		/* U+10FFFF */
	assert_true(utf8("Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"));
	assert_true(field_utf8_valid(NULL, 0));
	assert_false(field_utf8_valid(NULL, 1));
}

static void
test_utf8_invalid(void **state)
{
	/* overlong forms */
	assert_false(utf8("\xc0\x80"));
	assert_false(utf8("\xc0\xaf"));
	assert_false(utf8("\xc1\xbf"));
	assert_false(utf8("\xe0\x80\x80"));
	assert_false(utf8("\xe0\x9f\xbf"));
	assert_false(utf8("\xf0\x80\x80\x80"));
	assert_false(utf8("\xf0\x8f\xbf\xbf"));
	/* surrogates */
	assert_false(utf8("\xed\xa0\x80"));		/* U+D800 */
	assert_false(utf8("\xed\xbf\xbf"));		/* U+DFFF */
	assert_false(utf8("\xed\xa0\xbd\xed\xb8\x80"));	/* CESU-8 pair */
	/* past U+10FFFF */
	assert_false(utf8("\xf4\x90\x80\x80"));		/* U+110000 */
	assert_false(utf8("\xf5\x80\x80\x80"));
	assert_false(utf8("\xf7\xbf\xbf\xbf"));
	assert_false(utf8("\xf8\x88\x80\x80\x80"));
	assert_false(utf8("\xfc\x84\x80\x80\x80\x80"));
	assert_false(utf8("\xfe"));
	assert_false(utf8("\xff"));
	/* lone continuation bytes */
	assert_false(utf8("\x80"));
	assert_false(utf8("\xbf"));
	assert_false(utf8("a\x80" "b"));
	/* truncated sequences, alone and followed by more text */
	assert_false(utf8("\xc3"));
	assert_false(utf8("\xe6\x97"));
	assert_false(utf8("\xf0\x9f\x98"));
	assert_false(utf8("\xf0\x9f"));
	assert_false(utf8("\xf0"));
	assert_false(utf8("\xc3 a"));
	assert_false(utf8("\xe6\x97" "a"));
	assert_false(utf8("\xf0\x9f\x98" "a"));
	/* a truncated sequence cut by len, though the bytes continue */
	assert_false(field_utf8_valid("\xe6\x97\xa5", 2));
	assert_true(field_utf8_valid("\xe6\x97\xa5", 3));
	/* NUL bytes */
	assert_false(field_utf8_valid("a\0b", 3));
	assert_false(field_utf8_valid("\0", 1));
	assert_true(field_utf8_valid("a\0b", 1));
}

static void
test_utf8_length(void **state)
{
	assert_int_equal(field_utf8_length("", 0), 0);
	assert_int_equal(field_utf8_length("abc", 3), 3);
	assert_int_equal(field_utf8_length("\xc3\xa9", 2), 1);
	assert_int_equal(field_utf8_length("\xe6\x97\xa5\xe6\x9c\xac", 6), 2);
	assert_int_equal(field_utf8_length("\xf0\x9f\x98\x80!", 5), 2);
	assert_int_equal(field_utf8_length("a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80",
	    10), 4);
}

/* ---- full name ---- */

static void
test_full_name_lengths(void **state)
{
	char buf[1024];

	assert_true(field_is_full_name(""));
	assert_true(field_is_full_name("Alice Liddell"));
	assert_false(field_is_full_name(NULL));
	assert_true(field_is_full_name(rep(buf, 'a', 128)));
	assert_false(field_is_full_name(rep(buf, 'a', 129)));
	/* 128 characters of 2, 3 and 4 bytes pass; 129 do not */
	assert_true(field_is_full_name(repu(buf, "\xc3\xa9", 128)));
	assert_false(field_is_full_name(repu(buf, "\xc3\xa9", 129)));
	assert_true(field_is_full_name(repu(buf, "\xe6\x97\xa5", 128)));
	assert_false(field_is_full_name(repu(buf, "\xe6\x97\xa5", 129)));
	assert_true(field_is_full_name(repu(buf, "\xf0\x9f\x98\x80", 128)));
	assert_false(field_is_full_name(repu(buf, "\xf0\x9f\x98\x80", 129)));
	/* 127 ASCII then one 4-byte character: 128 characters, 131 bytes */
	rep(buf, 'a', 127);
	memcpy(buf + 127, "\xf0\x9f\x98\x80", 5);
	assert_true(field_is_full_name(buf));
	memcpy(buf + 131, "a", 2);
	assert_false(field_is_full_name(buf));
	assert_false(field_is_full_name(rep(buf, 'a', 1000)));
}

static void
test_full_name_chars(void **state)
{
	char buf[8];
	int c;

	assert_true(field_is_full_name("Zo\xc3\xab O'Brien-Smith"));
	assert_true(field_is_full_name("\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e"));
	assert_true(field_is_full_name("\xc2\xa0"));	/* U+00A0, not Cc */
	/* C0, DEL and C1 control characters */
	assert_false(field_is_full_name("Alice\nLiddell"));
	assert_false(field_is_full_name("Alice\r"));
	assert_false(field_is_full_name("\tAlice"));
	assert_false(field_is_full_name("Alice\x7f"));
	assert_false(field_is_full_name("Alice\x1b[31m"));
	assert_false(field_is_full_name("Alice\xc2\x80"));	/* U+0080 */
	assert_false(field_is_full_name("Alice\xc2\x85"));	/* NEL */
	assert_false(field_is_full_name("Alice\xc2\x9f"));	/* U+009F */
	/* invalid UTF-8 */
	assert_false(field_is_full_name("Alice\xc0\xa0"));
	assert_false(field_is_full_name("Alice\xed\xa0\x80"));
	assert_false(field_is_full_name("Alice\xf4\x90\x80\x80"));
	assert_false(field_is_full_name("Alice\xe6\x97"));
	assert_false(field_is_full_name("Alice\xff"));

	for (c = 1; c < 0x80; c++) {
		buf[0] = (char)c;
		buf[1] = '\0';
		assert_int_equal(field_is_full_name(buf),
		    c >= 0x20 && c != 0x7f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_username_lengths),
		cmocka_unit_test(test_username_chars),
		cmocka_unit_test(test_role),
		cmocka_unit_test(test_kid),
		cmocka_unit_test(test_plain_name),
		cmocka_unit_test(test_email_lengths),
		cmocka_unit_test(test_email_domain),
		cmocka_unit_test(test_email_local_and_at),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_utf8_length),
		cmocka_unit_test(test_full_name_lengths),
		cmocka_unit_test(test_full_name_chars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
