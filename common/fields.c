/*
 * The field rules of the API (the User schema of daemon/api/openapi.json).
 * Byte-wise ASCII classes on purpose: <ctype.h> follows the locale, and
 * these rules must not.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fields.h"

#define DNS_LABEL_MAX	63	/* RFC 1035 */

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static bool
is_lhex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

bool
field_is_uuid(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < FIELD_UUID_LEN; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!is_lhex(c))
			return false;	/* also stops at the NUL */
	}
	return s[FIELD_UUID_LEN] == '\0';
}

bool
field_is_username(const char *s)
{
	size_t i;

	if (s == NULL || !is_alnum((unsigned char)s[0]))
		return false;
	for (i = 1; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= FIELD_USERNAME_MAX)
			return false;
		if (!field_is_plain_char(c))
			return false;
	}
	return i >= FIELD_USERNAME_MIN;
}

bool
field_is_role(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= FIELD_ROLE_MAX)
			return false;
		if (!is_digit(c) && !(c >= 'a' && c <= 'z') &&
		    c != '_' && c != '-')
			return false;
	}
	return true;
}

bool
field_is_kid(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= FIELD_KID_MAX)
			return false;
		if (!is_alnum(c) && c != '_' && c != '-')
			return false;
	}
	return true;
}

bool
field_is_vstoken(const char *s, size_t max)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= max || c < 0x21 || c > 0x7e)
			return false;
	}
	return true;
}

bool
field_is_client_id(const char *s)
{
	return field_is_vstoken(s, FIELD_CLIENT_ID_MAX);
}

bool
field_is_nonce(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= FIELD_NONCE_MAX || c < 0x20 || c > 0x7e)
			return false;
	}
	return true;
}

bool
field_is_scope(const char *s)
{
	size_t i;
	bool token = false;	/* inside a scope token */

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= FIELD_SCOPE_MAX)
			return false;
		if (c == ' ') {
			if (!token)
				return false;	/* leading or doubled */
			token = false;
			continue;
		}
		if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
			return false;
		token = true;
	}
	return token;	/* no trailing space */
}

bool
field_is_plain_char(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

bool
field_is_plain_name(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= FIELD_PLAIN_NAME_MAX)
			return false;
		if (!field_is_plain_char((unsigned char)s[i]))
			return false;
	}
	return true;
}

/*
 * The domain: at least two labels of 1..63 of [A-Za-z0-9-], not starting
 * or ending with '-' (RFC 1123), no empty label (so no leading, trailing
 * or doubled dot).
 */
static bool
email_domain_ok(const char *d, size_t len)
{
	size_t i, label = 0, dots = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return false;
			label = 0;
			dots++;
			continue;
		}
		if (!is_alnum(c) && c != '-')
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > DNS_LABEL_MAX)
			return false;
	}
	if (label == 0 || d[len - 1] == '-')
		return false;
	return dots >= 1;
}

/*
 * The local part: 1..64 bytes of printable ASCII but '@' (so no spaces and
 * no control characters).  Non-ASCII (RFC 6531) addresses are refused, as
 * the domain must be ASCII (A-labels) anyway.
 */
static bool
email_local_ok(const char *l, size_t len)
{
	size_t i;

	if (len == 0 || len > FIELD_EMAIL_LOCAL_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)l[i];

		if (c <= 0x20 || c >= 0x7f || c == '@')
			return false;
	}
	return true;
}

bool
field_is_email(const char *s)
{
	const char *at;
	size_t len;

	if (s == NULL)
		return false;
	len = strnlen(s, FIELD_EMAIL_MAX + 1);
	if (len > FIELD_EMAIL_MAX)
		return false;
	if ((at = memchr(s, '@', len)) == NULL)
		return false;
	/* A second '@' fails the domain's character class. */
	return email_local_ok(s, (size_t)(at - s)) &&
	    email_domain_ok(at + 1, len - (size_t)(at - s) - 1);
}

/*
 * Decodes one UTF-8 sequence of s[0..len) (RFC 3629, Unicode table 3-7):
 * returns its byte count and the code point in *cp, or 0 when it is
 * malformed (bad lead, bad or missing continuation, overlong, surrogate,
 * past U+10FFFF).
 */
static size_t
utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	uint32_t v;
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;	/* range of the 2nd byte */

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (c == 0xed)
			hi = 0x9f;		/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;		/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;		/* past U+10FFFF */
	} else
		return 0;	/* continuation, 0xc0, 0xc1, 0xf5.. */
	if (len < n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	*cp = v;
	return n;
}

bool
field_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	if (s == NULL)
		return len == 0;
	while (i < len) {
		if ((n = utf8_next(p + i, len - i, &cp)) == 0 || cp == 0)
			return false;
		i += n;
	}
	return true;
}

size_t
field_utf8_length(const char *s, size_t len)
{
	size_t i, count = 0;

	if (s == NULL)
		return 0;
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			count++;
	return count;
}

bool
field_is_full_name(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, len, chars = 0;
	uint32_t cp;

	if (s == NULL)
		return false;
	/* At most 4 bytes a character: anything longer fails anyway. */
	len = strnlen(s, FIELD_FULL_NAME_MAX * 4 + 1);
	if (len > FIELD_FULL_NAME_MAX * 4)
		return false;
	while (i < len) {
		if ((n = utf8_next(p + i, len - i, &cp)) == 0)
			return false;
		/* Unicode general category Cc: C0, DEL and C1. */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return false;
		if (++chars > FIELD_FULL_NAME_MAX)
			return false;
		i += n;
	}
	return true;
}
