/*
 * Checked string and number helpers on libbsd.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <sodium.h>

#include "util.h"

int
str_copy(char *dst, const char *src, size_t dstlen)
{
	if (dstlen == 0)
		return -1;
	return strlcpy(dst, src, dstlen) >= dstlen ? -1 : 0;
}

int
str_printf(char *dst, size_t dstlen, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (dstlen == 0)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(dst, dstlen, fmt, ap);
	va_end(ap);
	if (n < 0) {
		dst[0] = '\0';
		return -1;
	}
	return (size_t)n >= dstlen ? -1 : 0;
}

int
num_parse(const char *s, long long min, long long max, long long *out,
    const char **errstr)
{
	const char	*e = NULL;
	long long	 v;

	/* strtonum() takes leading blanks and a '+'; a value from a file or
	 * a header must be plain digits with an optional '-'. */
	if (s == NULL || *s == '\0')
		e = "empty";
	else if (s[0] == '-' ? !(s[1] >= '0' && s[1] <= '9') :
	    !(s[0] >= '0' && s[0] <= '9'))
		e = "invalid";
	if (e == NULL) {
		v = strtonum(s, min, max, &e);
		if (e == NULL) {
			*out = v;
			return 0;
		}
	}
	if (errstr != NULL)
		*errstr = e;
	return -1;
}

bool
str_ieq(const char *a, const char *b)
{
	unsigned char	 x, y;

	for (;; a++, b++) {
		x = (unsigned char)*a;
		y = (unsigned char)*b;
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
		if (x == '\0')
			return true;
	}
}

void
str_freezero(char *s)
{
	if (s == NULL)
		return;
	freezero(s, strlen(s));
}

void
uuid_random(char out[FIELD_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	 b[16];
	size_t		 i, o = 0;

	/* libbsd's arc4random: a ChaCha20 stream kept in the process,
	 * reseeded from the kernel; no system call per identifier. */
	arc4random_buf(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	for (i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
}

int
hex_digit_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
