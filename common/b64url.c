/*
 * Strict base64url on libsodium's codec.  libsodium does the conversion;
 * the checks here pin down what this module promises (alphabet, length,
 * trailing bits, room in dst) without depending on how a given libsodium
 * version treats them, and keep it from ever reaching sodium_misuse().
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "b64url.h"

#define B64URL_VARIANT	sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* Value of a base64url character, or -1. */
static int
b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

ssize_t
b64url_encode(char *dst, size_t dstlen, const uint8_t *src, size_t srclen)
{
	size_t need;

	if (dst == NULL || (src == NULL && srclen != 0))
		return -1;
	/* Far below where B64URL_ENCODED_LEN or libsodium could overflow. */
	if (srclen > (size_t)SSIZE_MAX / 2)
		return -1;
	need = B64URL_ENCODED_LEN(srclen) + 1;
	if (dstlen < need)
		return -1;
	if (srclen == 0) {
		dst[0] = '\0';
		return 0;
	}
	/* libsodium wants exactly its own bound, which is ours plus the NUL. */
	if (sodium_bin2base64(dst, dstlen, src, srclen, B64URL_VARIANT) == NULL)
		return -1;
	return (ssize_t)(need - 1);
}

/* The checks libsodium is not relied on for: alphabet, length, padding
 * bits. */
static bool
b64url_strict(const char *src, size_t srclen)
{
	size_t i;
	int last = 0, v;

	if (srclen % 4 == 1)
		return false;
	for (i = 0; i < srclen; i++) {
		if ((v = b64url_value((unsigned char)src[i])) < 0)
			return false;
		last = v;
	}
	switch (srclen % 4) {
	case 2:		/* 12 bits carry 8: the low 4 must be zero */
		return (last & 0x0f) == 0;
	case 3:		/* 18 bits carry 16: the low 2 must be zero */
		return (last & 0x03) == 0;
	default:
		return true;
	}
}

ssize_t
b64url_decode(uint8_t *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t n = 0, exact;

	if ((src == NULL && srclen != 0) || (dst == NULL && dstlen != 0))
		return -1;
	if (srclen > (size_t)SSIZE_MAX || !b64url_strict(src, srclen))
		return -1;
	exact = (srclen / 4) * 3 + (srclen % 4 ? srclen % 4 - 1 : 0);
	if (exact > dstlen)
		return -1;
	if (srclen == 0)
		return 0;
	/* No ignore set and no end pointer: any stray byte fails. */
	if (sodium_base642bin(dst, dstlen, src, srclen, NULL, &n, NULL,
	    B64URL_VARIANT) != 0 || n != exact) {
		/* Decoded data may be key material: leave none behind. */
		sodium_memzero(dst, exact);
		return -1;
	}
	return (ssize_t)n;
}
