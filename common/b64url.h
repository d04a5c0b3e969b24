/*
 * Strict base64url (RFC 4648 section 5) without padding, both directions:
 * no '=', no whitespace, no characters outside [A-Za-z0-9_-], no length of
 * 1 mod 4, and no non-zero bits left over in the last character.
 */
#ifndef WARDEN_B64URL_H
#define WARDEN_B64URL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Characters needed to encode n bytes, without the NUL. */
#define B64URL_ENCODED_LEN(n)	(((n) / 3) * 4 + (((n) % 3) ? ((n) % 3) + 1 : 0))
/* Most bytes that n characters can decode to. */
#define B64URL_DECODED_MAX(n)	(((n) / 4) * 3 + 2)

/*
 * Encodes src into dst (dstlen >= B64URL_ENCODED_LEN(srclen) + 1) and
 * NUL-terminates.  Returns the length written, or -1 if dst is too small.
 */
ssize_t	b64url_encode(char *dst, size_t dstlen, const uint8_t *src, size_t srclen);

/*
 * Decodes srclen characters of src into dst.  Returns the byte count, or -1
 * on any character, length or trailing-bit error, or if dst is too small.
 */
ssize_t	b64url_decode(uint8_t *dst, size_t dstlen, const char *src, size_t srclen);

#endif
