/* Unit tests of common/b64url.c: RFC 4648 vectors and every strictness
 * rule of b64url.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "b64url.h"

static const struct {
	const char *bin;
	const char *txt;
} vectors[] = {		/* RFC 4648 section 10, without padding */
	{ "", "" },
	{ "f", "Zg" },
	{ "fo", "Zm8" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg" },
	{ "fooba", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy" },
};

static ssize_t
dec(uint8_t *dst, size_t dstlen, const char *s)
{
	return b64url_decode(dst, dstlen, s, strlen(s));
}

static void
test_vectors(void **state)
{
	char txt[32];
	uint8_t bin[32];
	size_t i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		size_t bl = strlen(vectors[i].bin), tl = strlen(vectors[i].txt);

		assert_int_equal(B64URL_ENCODED_LEN(bl), tl);
		assert_int_equal(b64url_encode(txt, sizeof(txt),
		    (const uint8_t *)vectors[i].bin, bl), (ssize_t)tl);
		assert_string_equal(txt, vectors[i].txt);
		assert_int_equal(dec(bin, sizeof(bin), vectors[i].txt),
		    (ssize_t)bl);
		assert_memory_equal(bin, vectors[i].bin, bl);
		assert_true(B64URL_DECODED_MAX(tl) >= bl);
	}
}

static void
test_urlsafe_alphabet(void **state)
{
	const uint8_t bin[] = { 0xfb, 0xff, 0xbf, 0xfb, 0xef };
	char txt[16];
	uint8_t out[8];

	assert_int_equal(b64url_encode(txt, sizeof(txt), bin, 2), 3);
	assert_string_equal(txt, "-_8");
	assert_int_equal(b64url_encode(txt, sizeof(txt), bin, 3), 4);
	assert_string_equal(txt, "-_-_");
	assert_int_equal(b64url_encode(txt, sizeof(txt), bin, 5), 7);
	assert_null(strpbrk(txt, "+/="));
	assert_int_equal(dec(out, sizeof(out), txt), 5);
	assert_memory_equal(out, bin, 5);
	/* The standard alphabet's characters are not ours. */
	assert_int_equal(dec(out, sizeof(out), "+/8"), -1);
	assert_int_equal(dec(out, sizeof(out), "+_8"), -1);
	assert_int_equal(dec(out, sizeof(out), "-/8"), -1);
}

static void
test_round_trip_lengths(void **state)
{
	uint8_t bin[100], out[100];
	char txt[B64URL_ENCODED_LEN(100) + 1];
	size_t n;

	randombytes_buf(bin, sizeof(bin));
	for (n = 0; n <= sizeof(bin); n++) {
		ssize_t tl = b64url_encode(txt, sizeof(txt), bin, n);

		assert_int_equal(tl, (ssize_t)B64URL_ENCODED_LEN(n));
		assert_int_equal(strlen(txt), (size_t)tl);
		assert_int_not_equal((size_t)tl % 4, 1);
		assert_int_equal(b64url_decode(out, sizeof(out), txt,
		    (size_t)tl), (ssize_t)n);
		assert_memory_equal(out, bin, n);
		/* dst of exactly the decoded size is enough */
		assert_int_equal(b64url_decode(out, n, txt, (size_t)tl),
		    (ssize_t)n);
	}
}

static void
test_encode_dst_too_small(void **state)
{
	const uint8_t bin[32] = { 1, 2, 3 };
	char txt[64];
	size_t n;

	for (n = 0; n <= sizeof(bin); n++) {
		size_t need = B64URL_ENCODED_LEN(n) + 1;

		assert_int_equal(b64url_encode(txt, need - 1, bin, n), -1);
		assert_int_equal(b64url_encode(txt, need, bin, n),
		    (ssize_t)(need - 1));
	}
	assert_int_equal(b64url_encode(txt, 0, bin, 0), -1);
	assert_int_equal(b64url_encode(NULL, 10, bin, 1), -1);
}

static void
test_decode_dst_too_small(void **state)
{
	uint8_t out[8];

	assert_int_equal(dec(out, 2, "Zm9v"), -1);
	assert_int_equal(dec(out, 3, "Zm9v"), 3);
	assert_int_equal(dec(out, 3, "Zm9vYg"), -1);
	assert_int_equal(dec(out, 4, "Zm9vYg"), 4);
	assert_int_equal(dec(out, 0, "Zg"), -1);
	assert_int_equal(dec(NULL, 0, ""), 0);
}

static void
test_decode_rejects_padding_and_space(void **state)
{
	static const char *bad[] = {
		"Zg==", "Zg=", "Zm8=", "=", "====", "Zm9v====",
		"Zm9v\n", "\nZm9v", " Zm9v", "Zm9v ", "Zm 9v", "Zm\t9v",
		"Zm9v\r\n", "Zm9\v", "Zm9v.", "Zm9v!", "Zm9v*",
		"Zm9v\xc3\xa9", "\xff\xff\xff\xff",
	};
	uint8_t out[16];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dec(out, sizeof(out), bad[i]), -1);
}

static void
test_decode_rejects_length_1_mod_4(void **state)
{
	uint8_t out[16];

	assert_int_equal(dec(out, sizeof(out), "Z"), -1);
	assert_int_equal(dec(out, sizeof(out), "A"), -1);
	assert_int_equal(dec(out, sizeof(out), "Zm9vY"), -1);
	assert_int_equal(dec(out, sizeof(out), "AAAAA"), -1);
	assert_int_equal(dec(out, sizeof(out), "Zm9vYmFyZ"), -1);
}

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
test_decode_rejects_trailing_bits(void **state)
{
	char s2[3] = "Z?", s3[4] = "Zm?", s7[8] = "Zm9vYm?";
	uint8_t out[8];
	int v;

	/*
	 * 2 characters carry 8 bits: the last one's low 4 bits must be 0;
	 * 3 characters carry 16: its low 2 bits must be 0.
	 */
	for (v = 0; v < 64; v++) {
		s2[1] = s3[2] = s7[6] = alphabet[v];
		assert_int_equal(dec(out, sizeof(out), s2),
		    (v & 0x0f) == 0 ? 1 : -1);
		assert_int_equal(dec(out, sizeof(out), s3),
		    (v & 0x03) == 0 ? 2 : -1);
		assert_int_equal(dec(out, sizeof(out), s7),
		    (v & 0x03) == 0 ? 5 : -1);
	}
	assert_int_equal(dec(out, sizeof(out), "Zh"), -1);
	assert_int_equal(dec(out, sizeof(out), "Zm9"), -1);
	assert_int_equal(dec(out, sizeof(out), "Zm8"), 2);
	assert_memory_equal(out, "fo", 2);
}

static void
test_decode_every_byte(void **state)
{
	char s[4] = { 'A', 'A', 'A', 'A' };
	uint8_t out[8];
	int c;

	for (c = 0; c < 256; c++) {
		bool ok = c != 0 && strchr(alphabet, c) != NULL;

		s[1] = (char)c;	/* not the last: trailing bits do not matter */
		assert_int_equal(b64url_decode(out, sizeof(out), s, 4),
		    ok ? 3 : -1);
	}
}

static void
test_decode_embedded_nul_and_prefix(void **state)
{
	uint8_t out[8];

	assert_int_equal(b64url_decode(out, sizeof(out), "Zm\0v", 4), -1);
	assert_int_equal(b64url_decode(out, sizeof(out), "Zm9v\0", 5), -1);
	/* Only srclen characters are read. */
	assert_int_equal(b64url_decode(out, sizeof(out), "Zm9vYmFy", 4), 3);
	assert_memory_equal(out, "foo", 3);
	assert_int_equal(b64url_decode(out, sizeof(out), "", 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_urlsafe_alphabet),
		cmocka_unit_test(test_round_trip_lengths),
		cmocka_unit_test(test_encode_dst_too_small),
		cmocka_unit_test(test_decode_dst_too_small),
		cmocka_unit_test(test_decode_rejects_padding_and_space),
		cmocka_unit_test(test_decode_rejects_length_1_mod_4),
		cmocka_unit_test(test_decode_rejects_trailing_bits),
		cmocka_unit_test(test_decode_every_byte),
		cmocka_unit_test(test_decode_embedded_nul_and_prefix),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
