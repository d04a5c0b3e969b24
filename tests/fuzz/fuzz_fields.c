/*
 * libFuzzer target of common/fields.c.  Runs every rule on the input (as
 * a NUL-terminated string, cut at its first NUL) and checks what each
 * promise implies, with a slow reference UTF-8 decoder to compare with.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

#define ALNUM	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Reference: decode by the bit patterns, then refuse what RFC 3629 forbids
 * by the code point's value (overlong, surrogate, past U+10FFFF, NUL).
 * Returns the character count, or -1.
 */
static long
ref_utf8(const uint8_t *s, size_t len)
{
	size_t i = 0, n, k;
	long count = 0;
	uint32_t cp, min;

	while (i < len) {
		uint8_t c = s[i];

		if (c < 0x80) {
			n = 1; cp = c; min = 0;
		} else if ((c & 0xe0) == 0xc0) {
			n = 2; cp = c & 0x1f; min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3; cp = c & 0x0f; min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4; cp = c & 0x07; min = 0x10000;
		} else
			return -1;
		if (len - i < n)
			return -1;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp == 0 || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		i += n;
		count++;
	}
	return count;
}

static bool
has_control(const uint8_t *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return true;
		/* U+0080..U+009F are C2 80..C2 9F */
		if (s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 &&
		    s[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

static size_t
count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (*s == c)
			n++;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t len, i;
	long ref;
	bool ok;

	/* UTF-8 on the raw bytes, NULs included, in an exact-size copy */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	ref = ref_utf8(data, size);
	ok = field_utf8_valid(s, size);
	if (ok != (ref >= 0))
		abort();
	if (ok && field_utf8_length(s, size) != (size_t)ref)
		abort();
	s[size] = '\0';
	len = strlen(s);

	if (field_is_uuid(s)) {
		if (len != FIELD_UUID_LEN || s[8] != '-' || s[13] != '-' || s[18] != '-' ||
		    s[23] != '-' || count_char(s, '-') != 4)
			abort();
		for (i = 0; i < len; i++)
			if (s[i] >= 'A' && s[i] <= 'Z')
				abort();
	}
	if (field_is_username(s)) {
		if (len < FIELD_USERNAME_MIN || len > FIELD_USERNAME_MAX ||
		    strspn(s, ALNUM "._-") != len || strchr("._-", s[0]) != NULL)
			abort();
	}
	if (field_is_role(s)) {
		if (len < 1 || len > FIELD_ROLE_MAX ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len)
			abort();
	}
	/* The two plain classes: exact, both ways. */
	if (field_is_kid(s) != (len >= 1 && len <= FIELD_KID_MAX &&
	    strspn(s, ALNUM "_-") == len))
		abort();
	if (field_is_plain_name(s) != (len >= 1 &&
	    len <= FIELD_PLAIN_NAME_MAX && strspn(s, ALNUM "._-") == len))
		abort();
	if (field_is_email(s)) {
		const char *at = strchr(s, '@');

		if (len > FIELD_EMAIL_MAX || count_char(s, '@') != 1 ||
		    at == s || (size_t)(at - s) > FIELD_EMAIL_LOCAL_MAX ||
		    strchr(at, '.') == NULL || strchr(s, ' ') != NULL ||
		    has_control((const uint8_t *)s, len) ||
		    ref_utf8((const uint8_t *)s, len) != (long)len)
			abort();
	}
	if (field_is_full_name(s)) {
		ref = ref_utf8((const uint8_t *)s, len);
		if (ref < 0 || ref > FIELD_FULL_NAME_MAX ||
		    has_control((const uint8_t *)s, len))
			abort();
	} else {
		/* refused: one of the three reasons must hold */
		ref = ref_utf8((const uint8_t *)s, len);
		if (ref >= 0 && ref <= FIELD_FULL_NAME_MAX &&
		    !has_control((const uint8_t *)s, len))
			abort();
	}
	free(s);
	return 0;
}
