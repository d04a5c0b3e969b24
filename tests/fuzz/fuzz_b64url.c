/*
 * libFuzzer target of common/b64url.c.  The input is decoded as text: a
 * strict decoder has one spelling per byte string, so whatever it accepts
 * must encode back to exactly the input.  The input is also encoded as
 * bytes and must decode back to itself.  Buffers are allocated to their
 * exact size so that ASan sees any write past them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t dmax = B64URL_DECODED_MAX(size), elen = B64URL_ENCODED_LEN(size);
	uint8_t *bin, *back;
	char *txt, *src;
	ssize_t n, t;

	if (size > 1 << 16)
		return 0;
	src = malloc(size + 1);
	bin = malloc(dmax);
	txt = malloc(dmax / 3 * 4 + 8);
	back = malloc(size + 1);
	if (src == NULL || bin == NULL || txt == NULL || back == NULL)
		goto out;
	memcpy(src, data, size);

	/* text -> bytes -> the same text */
	n = b64url_decode(bin, dmax, src, size);
	if (n >= 0) {
		if ((size_t)n > dmax || size % 4 == 1)
			abort();
		t = b64url_encode(txt, B64URL_ENCODED_LEN((size_t)n) + 1, bin,
		    (size_t)n);
		if (t != (ssize_t)size || memcmp(txt, src, size) != 0 ||
		    txt[size] != '\0')
			abort();
		/* one byte less room must fail, and exactly n must not */
		if (n > 0 && b64url_decode(bin, (size_t)n - 1, src, size) != -1)
			abort();
		if (b64url_decode(bin, (size_t)n, src, size) != n)
			abort();
	}

	/* bytes -> text -> the same bytes */
	free(txt);
	if ((txt = malloc(elen + 1)) == NULL)
		goto out;
	if (b64url_encode(txt, elen, data, size) != -1)
		abort();
	t = b64url_encode(txt, elen + 1, data, size);
	if (t != (ssize_t)elen || strlen(txt) != elen)
		abort();
	n = b64url_decode(back, size, txt, elen);
	if (n != (ssize_t)size || (size > 0 && memcmp(back, data, size) != 0))
		abort();
out:
	free(src);
	free(bin);
	free(txt);
	free(back);
	return 0;
}
