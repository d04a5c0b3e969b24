/*
 * Strict application/x-www-form-urlencoded and query-string parsing.
 * libevent's evhttp_parse_query_str() lets bad escapes through as text and
 * keeps duplicates, so this decodes by itself; see form.h for the rules.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "form.h"
#include "util.h"

/*
 * Decodes s[0..len) into a new string (*out, *outlen).  Returns 0, -1 with
 * a reason, or -2 when out of memory.
 */
static int
decode(const char *s, size_t len, size_t max, char **out, size_t *outlen,
    const char **why)
{
	char		*d;
	size_t		 i, o = 0;
	unsigned char	 c;
	int		 h, l;

	*out = NULL;
	if ((d = malloc(len + 1)) == NULL)
		return -2;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (len - i < 3 ||
			    (h = hex_digit_value((unsigned char)s[i + 1])) == -1 ||
			    (l = hex_digit_value((unsigned char)s[i + 2])) == -1) {
				*why = "a bad percent-escape";
				goto fail;
			}
			c = (unsigned char)(h << 4 | l);
			if (c == 0) {
				*why = "a NUL byte (%00)";
				goto fail;
			}
			i += 2;
		} else if (c < 0x20 || c == 0x7f) {
			*why = "a raw control character";
			goto fail;
		}
		d[o++] = (char)c;
	}
	d[o] = '\0';
	if (o > max) {
		*why = "a value that is too long";
		goto fail;
	}
	if (!field_utf8_valid(d, o)) {
		*why = "text that is not valid UTF-8";
		goto fail;
	}
	*out = d;
	*outlen = o;
	return 0;
fail:
	explicit_bzero(d, len + 1);
	free(d);
	return -1;
}

int
form_parse(struct form *f, const char *s, size_t len, char *why,
    size_t whylen)
{
	struct form_param *p;
	const char	*pair, *amp, *eq, *w = NULL;
	size_t		 at, plen, nlen, dummy, i;
	int		 rc;

	memset(f, 0, sizeof(*f));
	if (s == NULL)
		return 0;
	for (at = 0; at < len; at += plen + 1) {
		pair = s + at;
		amp = memchr(pair, '&', len - at);
		plen = amp != NULL ? (size_t)(amp - pair) : len - at;
		if (plen == 0)
			continue;
		if (f->n == FORM_MAX_PARAMS) {
			str_printf(why, whylen, "more than %d parameters",
			    FORM_MAX_PARAMS);
			goto fail;
		}
		eq = memchr(pair, '=', plen);
		nlen = eq != NULL ? (size_t)(eq - pair) : plen;
		if (nlen == 0) {
			str_copy(why, "a parameter without a name", whylen);
			goto fail;
		}
		p = &f->v[f->n];
		rc = decode(pair, nlen, FORM_NAME_MAX, &p->name, &dummy, &w);
		if (rc == 0 && eq != NULL)
			rc = decode(eq + 1, plen - nlen - 1, FORM_VALUE_MAX,
			    &p->value, &p->value_len, &w);
		else if (rc == 0 && (p->value = strdup("")) == NULL)
			rc = -2;
		if (rc != 0) {
			free(p->name);
			p->name = NULL;
			if (rc == -2)
				goto oom;
			str_printf(why, whylen, "the form holds %s", w);
			goto fail;
		}
		f->n++;
		for (i = 0; i + 1 < f->n; i++) {
			if (strcmp(f->v[i].name, p->name) != 0)
				continue;
			/* RFC 6749 5.2 allows only printable ASCII but '"'
			 * and '\\' in error_description. */
			if (field_is_plain_name(p->name))
				str_printf(why, whylen, "the parameter %s is "
				    "given twice", p->name);
			else
				str_copy(why, "a parameter is given twice",
				    whylen);
			goto fail;
		}
	}
	return 0;
oom:
	form_free(f);
	return -2;
fail:
	form_free(f);
	return -1;
}

const char *
form_get(const struct form *f, const char *name)
{
	size_t	 i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].name, name) == 0)
			return f->v[i].value;
	return NULL;
}

const char *
form_unknown(const struct form *f, const char *const *allowed, size_t n)
{
	size_t	 i, k;

	for (i = 0; i < f->n; i++) {
		for (k = 0; k < n; k++)
			if (strcmp(f->v[i].name, allowed[k]) == 0)
				break;
		if (k == n)
			return f->v[i].name;
	}
	return NULL;
}

enum form_int
form_get_int(const struct form *f, const char *name, long long min,
    long long max, long long dflt, long long *out)
{
	const char	*v = form_get(f, name), *p, *errstr;
	long long	 n;

	if (v == NULL) {
		*out = dflt;
		return FORM_INT_OK;
	}
	if (*v == '\0')
		return FORM_INT_MALFORMED;
	for (p = v; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return FORM_INT_MALFORMED;
	/* Digits only: a failure now can only be the range (an overflow
	 * included). */
	if (num_parse(v, min, max, &n, &errstr) == -1)
		return FORM_INT_RANGE;
	*out = n;
	return FORM_INT_OK;
}

void
form_free(struct form *f)
{
	size_t	 i;

	for (i = 0; i < FORM_MAX_PARAMS; i++) {
		if (f->v[i].name != NULL) {
			explicit_bzero(f->v[i].name, strlen(f->v[i].name));
			free(f->v[i].name);
		}
		if (f->v[i].value != NULL) {
			explicit_bzero(f->v[i].value, f->v[i].value_len);
			free(f->v[i].value);
		}
	}
	memset(f, 0, sizeof(*f));
}
