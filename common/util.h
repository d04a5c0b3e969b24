/*
 * Checked string and number helpers on libbsd, so that no module needs
 * strcpy, sprintf or atoi.
 */
#ifndef WARDEN_UTIL_H
#define WARDEN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields.h"

/* A numeric limit as string text: "at most " STRINGIFY(FIELD_EMAIL_MAX). */
#define STRINGIFY(x)	STRINGIFY_(x)
#define STRINGIFY_(x)	#x

/* strlcpy that reports truncation: 0, or -1 when src did not fit (dst then
 * holds the truncated, NUL-terminated prefix). */
int	str_copy(char *dst, const char *src, size_t dstlen);

/* snprintf that reports truncation or an encoding error as -1, else 0. */
int	str_printf(char *dst, size_t dstlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Decimal integer in [min, max], whole string, no sign games (strtonum).
 * Returns 0, or -1 with a static reason in *errstr. */
int	num_parse(const char *s, long long min, long long max, long long *out,
	    const char **errstr);

/* Case-insensitive ASCII comparison of NUL-terminated strings. */
bool	str_ieq(const char *a, const char *b);

/* Frees s after zeroing its bytes (NULL is fine). */
void	str_freezero(char *s);

/* The value of hexadecimal digit c (either case), or -1. */
int	hex_digit_value(unsigned char c);

/* Fills out with a random lower-case RFC 4122 version 4 UUID and a NUL. */
void	uuid_random(char out[FIELD_UUID_LEN + 1]);

#endif
