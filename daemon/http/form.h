/*
 * application/x-www-form-urlencoded bodies (the token endpoints, RFC 6749)
 * and query strings (GET ?limit=&after=&q=&role=), parsed strictly:
 *   - pairs split on '&' (empty pairs are skipped), name and value on the
 *     first '='; a pair without '=' has the empty value;
 *   - '+' decodes to a space, %XX to the byte; a '%' not followed by two
 *     hex digits is an error, and so is %00 (a NUL would cut the value);
 *   - raw control bytes (below 0x20, 0x7f) are errors;
 *   - decoded names and values must be valid UTF-8;
 *   - a name must be 1..FORM_NAME_MAX bytes, a value at most
 *     FORM_VALUE_MAX bytes, at most FORM_MAX_PARAMS pairs;
 *   - a name given twice is an error (RFC 6749 3.1 and 3.2: "parameters
 *     MUST NOT be included more than once"), empty values included.
 * Every error makes the whole input malformed: 400 (invalid_request at the
 * token endpoint, malformed-request elsewhere).
 */
#ifndef WARDEN_FORM_H
#define WARDEN_FORM_H

#include <stdbool.h>
#include <stddef.h>


#define FORM_MAX_PARAMS	16
#define FORM_NAME_MAX	64
#define FORM_VALUE_MAX	4096	/* decoded bytes; passwords are <= 1024 */
#define FORM_WHY_MAX	128	/* room for a reason */

struct form_param {
	char	*name;		/* decoded, NUL-terminated */
	char	*value;		/* decoded, NUL-terminated (no NUL inside) */
	size_t	 value_len;
};

struct form {
	struct form_param	v[FORM_MAX_PARAMS];
	size_t			n;
};

/*
 * Parses the len bytes of s (NULL or 0: no pairs) into *f by the rules
 * above.  Returns 0; -1 with a reason fit for a problem detail or an
 * error_description in why (it names a parameter, never a value); or -2
 * when out of memory.  *f is always safe to form_free().
 */
int	form_parse(struct form *f, const char *s, size_t len, char *why,
	    size_t whylen);

/* The decoded value of name, or NULL when absent. */
const char *form_get(const struct form *f, const char *name);

/* The first parameter whose name is not among the n allowed ones, or
 * NULL when there is none (for routes that refuse unknown parameters). */
const char *form_unknown(const struct form *f, const char *const *allowed,
	    size_t n);

enum form_int {
	FORM_INT_OK = 0,	/* *out set (to dflt when absent) */
	FORM_INT_MALFORMED,	/* not a plain decimal integer: 400 */
	FORM_INT_RANGE,		/* outside [min, max]: 422 */
};

/* Reads integer parameter name in [min, max] ("limit"); dflt when absent.
 * Plain decimal digits only: no sign, no blanks, no leading '+'. */
enum form_int form_get_int(const struct form *f, const char *name,
	    long long min, long long max, long long dflt, long long *out);

/* Wipes and frees every name and value; *f is left empty. */
void	form_free(struct form *f);

#endif
