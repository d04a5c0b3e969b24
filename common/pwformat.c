/*
 * The syntax of pwformat.h: a table of {prefix, format, name, check}, each
 * check walking its format's fields left to right and returning NULL or
 * the reason it refuses.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fields.h"
#include "proto.h"
#include "pwformat.h"

/* Reads a decimal number of 1..10 digits at *s, advancing past it. */
static bool
number(const char **s, uint64_t *out)
{
	uint64_t	 v = 0;
	int		 n = 0;

	while (**s >= '0' && **s <= '9' && n < 10) {
		v = v * 10 + (uint64_t)(**s - '0');
		(*s)++;
		n++;
	}
	if (n == 0 || (**s >= '0' && **s <= '9'))
		return false;
	*out = v;
	return true;
}

static bool
literal(const char **s, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*s, lit, n) != 0)
		return false;
	*s += n;
	return true;
}

/* crypt(3)'s and passlib's alphabet: ./0-9A-Za-z. */
static bool
is_crypt64(char c)
{
	return c == '.' || c == '/' || (c >= '0' && c <= '9') ||
	    (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* RFC 4648 base64's alphabet (PHC strings and Django, padding apart). */
static bool
is_b64(char c)
{
	return c == '+' || c == '/' || (c >= '0' && c <= '9') ||
	    (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_b64url(char c)
{
	return c == '-' || c == '_' || (c >= '0' && c <= '9') ||
	    (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Counts the characters of class at *s and advances past them. */
static size_t
run(const char **s, bool (*class)(char))
{
	size_t n = 0;

	while ((*s)[n] != '\0' && class((*s)[n]))
		n++;
	*s += n;
	return n;
}

/* The bytes that n characters of unpadded base64 carry, or 0 when no
 * byte string encodes to n characters. */
static size_t
b64_bytes(size_t n)
{
	return n % 4 == 1 ? 0 : n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
}

/* $warden$v=1$k=KID$<base64url of nonce, ciphertext and tag>. */
static const char *
check_warden(const char *s)
{
	char	 kid[FIELD_KID_MAX + 1];
	size_t	 n;

	if (!literal(&s, "$warden$v=1$k="))
		return "warden: not a version 1 sealed hash";
	for (n = 0; s[n] != '\0' && s[n] != '$'; n++)
		if (n == FIELD_KID_MAX)
			return "warden: key id too long";
	memcpy(kid, s, n);
	kid[n] = '\0';
	if (!field_is_kid(kid) || s[n] != '$')
		return "warden: bad key id";
	s += n + 1;
	/* 24 bytes of nonce, 16 of tag and at least one of ciphertext. */
	if ((n = run(&s, is_b64url)) < 55 || *s != '\0' || b64_bytes(n) == 0)
		return "warden: truncated or malformed";
	return NULL;
}

/* $argon2X$v=19$m=M,t=T,p=P$salt$hash, libsodium's and argon2's form. */
static const char *
check_argon2(const char *s)
{
	uint64_t	 m, t, p;
	size_t		 n;

	/* libsodium reads a string of crypto_pwhash_STRBYTES (128) at most. */
	if (strlen(s) > 127)
		return "argon2: longer than 127 characters (a salt or hash "
		    "past 32 bytes)";
	s = strchr(s + 1, '$') + 1;
	if (!literal(&s, "v=19$"))
		return "argon2: only version 19 (v=19) is supported";
	if (!literal(&s, "m=") || !number(&s, &m) || !literal(&s, ",t=") ||
	    !number(&s, &t) || !literal(&s, ",p=") || !number(&s, &p) ||
	    !literal(&s, "$"))
		return "argon2: malformed parameters";
	if (m > PWF_ARGON2_MEMORY_MAX || m < 8 * p)
		return "argon2: memory out of bounds (at most 256 MiB)";
	if (t < 1 || t > PWF_ARGON2_PASSES_MAX)
		return "argon2: passes out of bounds (1 to 16)";
	if (p < 1 || p > PWF_ARGON2_LANES_MAX)
		return "argon2: lanes out of bounds (1 to 16)";
	n = run(&s, is_b64);
	if (b64_bytes(n) < 8 || b64_bytes(n) > 64 || !literal(&s, "$"))
		return "argon2: malformed salt";
	n = run(&s, is_b64);
	if (b64_bytes(n) < 16 || b64_bytes(n) > 64 || *s != '\0')
		return "argon2: truncated or malformed hash";
	return NULL;
}

/* $2b$NN$ and 53 characters of salt and hash. */
static const char *
check_bcrypt(const char *s)
{
	uint64_t	 cost;
	const char	*p = s + 4;

	if (strlen(s) != 60)
		return "bcrypt: truncated or malformed (60 characters)";
	if (p[0] < '0' || p[0] > '9' || !number(&p, &cost) || p != s + 6 ||
	    *p != '$')
		return "bcrypt: malformed cost";
	if (cost < PWF_BCRYPT_COST_MIN || cost > PWF_BCRYPT_COST_MAX)
		return "bcrypt: cost out of bounds (4 to 16)";
	p++;
	if (run(&p, is_crypt64) != 53 || *p != '\0')
		return "bcrypt: malformed salt or hash";
	return NULL;
}

/* An iteration count within the PBKDF2 bounds, then '$'. */
static const char *
pbkdf2_iterations(const char **s)
{
	uint64_t it;

	if (!number(s, &it) || !literal(s, "$"))
		return "pbkdf2: malformed iteration count";
	if (it < PWF_PBKDF2_ITER_MIN || it > PWF_PBKDF2_ITER_MAX)
		return "pbkdf2: iterations out of bounds (1000 to 2000000)";
	return NULL;
}

/* pbkdf2_sha256$ITER$SALT$BASE64: Django's salt is text, its key the
 * padded base64 of 32 bytes. */
static const char *
check_django(const char *s)
{
	const char	*why;
	size_t		 n;

	s += strlen("pbkdf2_sha256$");
	if ((why = pbkdf2_iterations(&s)) != NULL)
		return why;
	for (n = 0; s[n] != '\0' && s[n] != '$'; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return "pbkdf2: malformed salt";
	if (n == 0 || n > PWF_PBKDF2_SALT_MAX || s[n] != '$')
		return "pbkdf2: malformed salt";
	s += n + 1;
	if (run(&s, is_b64) != 43 || !literal(&s, "=") || *s != '\0')
		return "pbkdf2: truncated or malformed key";
	return NULL;
}

/* $pbkdf2-sha256$ITER$SALT$KEY, salt and key in passlib's adapted base64
 * (crypt64's alphabet in base64's order: '.' for '+', no padding). */
static const char *
check_passlib(const char *s)
{
	const char	*why;
	size_t		 n;

	s += strlen("$pbkdf2-sha256$");
	if ((why = pbkdf2_iterations(&s)) != NULL)
		return why;
	n = run(&s, is_crypt64);
	if (b64_bytes(n) < 1 || b64_bytes(n) > PWF_PBKDF2_SALT_MAX ||
	    !literal(&s, "$"))
		return "pbkdf2: malformed salt";
	n = run(&s, is_crypt64);
	if (b64_bytes(n) < PWF_PBKDF2_KEY_MIN ||
	    b64_bytes(n) > PWF_PBKDF2_KEY_MAX || *s != '\0')
		return "pbkdf2: truncated or malformed key";
	return NULL;
}

/* $6$[rounds=N$]SALT$HASH: a salt of up to 16 and a hash of 86. */
static const char *
check_sha512(const char *s)
{
	uint64_t	 rounds;
	size_t		 n;

	s += 3;
	if (literal(&s, "rounds=")) {
		if (!number(&s, &rounds) || !literal(&s, "$"))
			return "sha512-crypt: malformed rounds";
		if (rounds < PWF_SHA512_ROUNDS_MIN ||
		    rounds > PWF_SHA512_ROUNDS_MAX)
			return "sha512-crypt: rounds out of bounds (1000 to "
			    "1000000)";
	}
	n = run(&s, is_crypt64);
	if (n < 1 || n > 16 || !literal(&s, "$"))
		return "sha512-crypt: malformed salt";
	if (run(&s, is_crypt64) != 86 || *s != '\0')
		return "sha512-crypt: truncated or malformed hash";
	return NULL;
}

static unsigned int
crypt64_value(char c)
{
	static const char alphabet[] = "./0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

	return (unsigned int)(strchr(alphabet, c) - alphabet);
}

/*
 * $y$PARAMS$SALT$HASH.  PARAMS of libxcrypt's usual three characters:
 * the flavour, log2(N) - 1 and r - 1 (libxcrypt's yescrypt-common.c);
 * longer parameter strings (p, t, g) are refused.
 */
static const char *
check_yescrypt(const char *s)
{
	unsigned int	 nlog2, r;
	size_t		 n;

	s += 3;
	if (run(&s, is_crypt64) != 3 || !literal(&s, "$"))
		return "yescrypt: parameters other than N and r are not "
		    "supported";
	nlog2 = crypt64_value(s[-3]) + 1;
	r = crypt64_value(s[-2]) + 1;
	if (crypt64_value(s[-2]) > 47 || nlog2 > 30 ||
	    128ULL * r * (1ULL << nlog2) > PWF_YESCRYPT_MEMORY_MAX)
		return "yescrypt: cost out of bounds (at most 256 MiB)";
	n = run(&s, is_crypt64);
	if (n < 1 || n > 86 || !literal(&s, "$"))
		return "yescrypt: malformed salt";
	if (run(&s, is_crypt64) != 43 || *s != '\0')
		return "yescrypt: truncated or malformed hash";
	return NULL;
}

static const struct pwformat_row {
	const char	*prefix;
	enum pw_format	 format;
	const char	*name;
	const char	*(*check)(const char *);
} formats[] = {
	{ "$warden$", PWF_WARDEN, "warden", check_warden },
	{ "$argon2id$", PWF_ARGON2ID, "argon2id", check_argon2 },
	{ "$argon2i$", PWF_ARGON2I, "argon2i", check_argon2 },
	{ "$2a$", PWF_BCRYPT, "bcrypt", check_bcrypt },
	{ "$2b$", PWF_BCRYPT, "bcrypt", check_bcrypt },
	{ "$2y$", PWF_BCRYPT, "bcrypt", check_bcrypt },
	{ "pbkdf2_sha256$", PWF_DJANGO_PBKDF2_SHA256, "django_pbkdf2_sha256",
	    check_django },
	{ "$pbkdf2-sha256$", PWF_PASSLIB_PBKDF2_SHA256, "pbkdf2_sha256",
	    check_passlib },
	{ "$pbkdf2-sha512$", PWF_PASSLIB_PBKDF2_SHA512, "pbkdf2_sha512",
	    check_passlib },
	{ "$6$", PWF_SHA512_CRYPT, "sha512_crypt", check_sha512 },
	{ "$y$", PWF_YESCRYPT, "yescrypt", check_yescrypt },
};
#define NFORMATS	(sizeof(formats) / sizeof(formats[0]))

static const struct pwformat_row *
row_of(const char *stored)
{
	size_t i;

	for (i = 0; i < NFORMATS; i++)
		if (strncmp(stored, formats[i].prefix,
		    strlen(formats[i].prefix)) == 0)
			return &formats[i];
	return NULL;
}

const char *
pwformat_why(const char *stored)
{
	const struct pwformat_row *row;

	if (stored == NULL || stored[0] == '\0')
		return "empty";
	if (strlen(stored) > PROTO_STORED_MAX)
		return "too long";
	if ((row = row_of(stored)) == NULL)
		return "unknown format";
	return row->check(stored);
}

enum pw_format
pwformat_of(const char *stored)
{
	return pwformat_why(stored) == NULL ? row_of(stored)->format :
	    PWF_UNKNOWN;
}

const char *
pwformat_name(enum pw_format f)
{
	size_t i;

	for (i = 0; i < NFORMATS; i++)
		if (formats[i].format == f)
			return formats[i].name;
	return NULL;
}

enum pw_format
pwformat_by_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return PWF_UNKNOWN;
	for (i = 0; i < NFORMATS; i++)
		if (strcmp(formats[i].name, name) == 0)
			return formats[i].format;
	return PWF_UNKNOWN;
}
