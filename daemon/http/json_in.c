/*
 * Strict JSON request bodies: a lexical pass of our own (depth, strings,
 * escapes, numbers, what lies between tokens), then cJSON for the tree,
 * then a duplicate-member walk.  See json_in.h for the rules.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fields.h"
#include "json_in.h"
#include "problem.h"
#include "util.h"

/* Reasons (problem details): fixed text, never the body. */
#define WHY_UTF8	"the body is not valid UTF-8"
#define WHY_JSON	"the body is not valid JSON"
#define WHY_OBJECT	"the body must be a JSON object"

static bool
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* What may follow a number or a literal. */
static bool
is_delim(const unsigned char *s, size_t len, size_t i)
{
	return i == len || is_ws(s[i]) || s[i] == ',' || s[i] == ']' ||
	    s[i] == '}';
}

/* Scans the string starting at the quote s[*i]; advances *i past it. */
static int
scan_string(const unsigned char *s, size_t len, size_t *i, const char **why)
{
	size_t	 p = *i + 1;
	int	 k, h, v;

	while (p < len) {
		if (s[p] == '"') {
			*i = p + 1;
			return 0;
		}
		if (s[p] < 0x20) {
			*why = "a JSON string holds a raw control character";
			return -1;
		}
		if (s[p] != '\\') {
			p++;
			continue;
		}
		if (p + 1 >= len)
			break;
		switch (s[p + 1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			p += 2;
			continue;
		case 'u':
			if (p + 6 > len)
				break;
			for (v = 0, k = 2; k < 6; k++) {
				if ((h = hex_digit_value(s[p + k])) == -1) {
					*why = WHY_JSON;
					return -1;
				}
				v = v * 16 + h;
			}
			if (v == 0) {
				*why = "a JSON string holds the NUL character";
				return -1;
			}
			p += 6;
			continue;
		}
		*why = WHY_JSON;
		return -1;
	}
	*why = WHY_JSON;
	return -1;
}

/* Scans the RFC 8259 number at s[*i]; advances *i past it. */
static int
scan_number(const unsigned char *s, size_t len, size_t *i)
{
	size_t	 p = *i;

	if (s[p] == '-')
		p++;
	if (p < len && s[p] == '0')
		p++;
	else if (p < len && s[p] >= '1' && s[p] <= '9')
		while (p < len && is_digit(s[p]))
			p++;
	else
		return -1;
	if (p < len && s[p] == '.') {
		p++;
		if (p >= len || !is_digit(s[p]))
			return -1;
		while (p < len && is_digit(s[p]))
			p++;
	}
	if (p < len && (s[p] == 'e' || s[p] == 'E')) {
		p++;
		if (p < len && (s[p] == '+' || s[p] == '-'))
			p++;
		if (p >= len || !is_digit(s[p]))
			return -1;
		while (p < len && is_digit(s[p]))
			p++;
	}
	if (!is_delim(s, len, p))
		return -1;
	*i = p;
	return 0;
}

/*
 * The lexical pass.  cJSON checks the grammar afterwards; this pass makes
 * sure cJSON only ever sees what RFC 8259 allows (cJSON itself takes any
 * byte <= 0x20 as whitespace, a BOM, leading zeros, bad \u escapes as
 * U+0000) and that its recursion stays within max_depth.
 */
static int
json_scan(const unsigned char *s, size_t len, unsigned int max_depth,
    char *why, size_t whylen)
{
	const char	*w = NULL;
	size_t		 i = 0;
	unsigned int	 depth = 0;
	bool		 first = true;

	while (i < len) {
		unsigned char c = s[i];

		if (is_ws(c)) {
			i++;
			continue;
		}
		if (first && c != '{') {
			w = WHY_OBJECT;
			break;
		}
		first = false;
		switch (c) {
		case '{':
		case '[':
			if (++depth > max_depth) {
				str_printf(why, whylen, "the JSON nests deeper "
				    "than %u levels", max_depth);
				return -1;
			}
			i++;
			continue;
		case '}':
		case ']':
			if (depth-- == 0)
				break;
			i++;
			continue;
		case ',':
		case ':':
			i++;
			continue;
		case '"':
			if (scan_string(s, len, &i, &w) == -1)
				break;
			continue;
		case 't':
		case 'f':
		case 'n': {
			const char *lit = c == 't' ? "true" : c == 'f' ?
			    "false" : "null";
			size_t l = strlen(lit);

			if (len - i < l || memcmp(s + i, lit, l) != 0 ||
			    !is_delim(s, len, i + l))
				break;
			i += l;
			continue;
		}
		default:
			if ((c == '-' || is_digit(c)) &&
			    scan_number(s, len, &i) == 0)
				continue;
			break;
		}
		if (w == NULL)
			w = WHY_JSON;
		break;
	}
	if (w == NULL && first)
		w = WHY_OBJECT;		/* empty, or only whitespace */
	if (w != NULL) {
		str_copy(why, w, whylen);
		return -1;
	}
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Looks for a member name used twice in any object under item.  Returns
 * 0 (none), 1 with the name in *dup, or -2 when out of memory.  Recursion
 * is bounded by the depth json_scan() allowed.
 */
static int
find_duplicate(const cJSON *item, const char **dup)
{
	const cJSON	*c;
	const char	**names, *stack[16];
	size_t		 n = 0, i;
	int		 rc;

	cJSON_ArrayForEach(c, item) {
		if (cJSON_IsObject(c) || cJSON_IsArray(c))
			if ((rc = find_duplicate(c, dup)) != 0)
				return rc;
		n++;
	}
	if (!cJSON_IsObject(item) || n < 2)
		return 0;
	if (n <= sizeof(stack) / sizeof(stack[0]))
		names = stack;
	else if ((names = reallocarray(NULL, n, sizeof(*names))) == NULL)
		return -2;
	i = 0;
	cJSON_ArrayForEach(c, item)
		names[i++] = c->string;
	qsort(names, n, sizeof(*names), cmp_names);
	rc = 0;
	for (i = 1; i < n; i++) {
		if (strcmp(names[i - 1], names[i]) == 0) {
			*dup = names[i];
			rc = 1;
			break;
		}
	}
	if (names != stack)
		free(names);
	return rc;
}

int
json_in_parse(const char *body, size_t len, unsigned int max_depth,
    cJSON **out, char *why, size_t whylen)
{
	const char	*text = body, *dup = NULL;
	char		*copy = NULL;
	cJSON		*o;
	int		 rc;

	*out = NULL;
	if (body == NULL)
		body = text = "";
	if (!field_utf8_valid(body, len)) {
		str_copy(why, WHY_UTF8, whylen);
		return -1;
	}
	if (json_scan((const unsigned char *)body, len, max_depth, why,
	    whylen) == -1)
		return -1;
	/* cJSON's "require null terminated" wants the NUL inside the
	 * length it is given. */
	if (body[len] != '\0') {
		if ((copy = malloc(len + 1)) == NULL)
			return -2;
		memcpy(copy, body, len);
		copy[len] = '\0';
		text = copy;
	}
	o = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1);
	free(copy);
	if (o == NULL) {
		str_copy(why, WHY_JSON, whylen);
		return -1;
	}
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		str_copy(why, WHY_OBJECT, whylen);
		return -1;
	}
	if ((rc = find_duplicate(o, &dup)) != 0) {
		if (rc == 1) {
			if (field_is_plain_name(dup))
				str_printf(why, whylen, "the member %s is "
				    "given twice", dup);
			else
				str_copy(why, "a member is given twice",
				    whylen);
		}
		cJSON_Delete(o);
		return rc == 1 ? -1 : -2;
	}
	*out = o;
	return 0;
}

size_t
json_in_extract(const cJSON *obj, const struct json_in_member *spec,
    size_t n, struct json_in_value *vals, struct problem_fields *errs)
{
	const struct json_in_member *m;
	struct json_in_value *v;
	const cJSON	*c, *it;
	size_t		 before = problem_fields_count(errs), k, cnt;
	bool		 not_string, too_long;
	char		 msg[64];

	memset(vals, 0, n * sizeof(*vals));
	cJSON_ArrayForEach(c, obj) {
		for (k = 0; k < n; k++)
			if (strcmp(c->string, spec[k].name) == 0)
				break;
		if (k == n) {
			problem_field_add(errs, c->string, "unknown member");
			continue;
		}
		m = &spec[k];
		v = &vals[k];
		v->present = true;
		if (cJSON_IsNull(c)) {
			if (m->nullable)
				v->is_null = true;
			else
				problem_field_add(errs, m->name,
				    "must not be null");
			continue;
		}
		switch (m->type) {
		case JSON_IN_STRING:
			if (!cJSON_IsString(c)) {
				problem_field_add(errs, m->name,
				    "must be a string");
				break;
			}
			v->len = strlen(c->valuestring);
			if (m->max_len > 0 && v->len > m->max_len) {
				str_printf(msg, sizeof(msg),
				    "must be at most %zu bytes", m->max_len);
				problem_field_add(errs, m->name, msg);
				break;
			}
			v->str = c->valuestring;
			break;
		case JSON_IN_BOOL:
			if (!cJSON_IsBool(c)) {
				problem_field_add(errs, m->name,
				    "must be true or false");
				break;
			}
			v->b = cJSON_IsTrue(c);
			break;
		case JSON_IN_STRING_ARRAY:
			if (!cJSON_IsArray(c)) {
				problem_field_add(errs, m->name,
				    "must be an array of strings");
				break;
			}
			cnt = 0;
			not_string = too_long = false;
			cJSON_ArrayForEach(it, c) {
				if (!cJSON_IsString(it))
					not_string = true;
				else if (m->max_len > 0 &&
				    strlen(it->valuestring) > m->max_len)
					too_long = true;
				cnt++;
			}
			if (not_string) {
				problem_field_add(errs, m->name,
				    "must be an array of strings");
				break;
			}
			if (m->max_items > 0 && cnt > m->max_items) {
				str_printf(msg, sizeof(msg),
				    "must have at most %zu items",
				    m->max_items);
				problem_field_add(errs, m->name, msg);
				break;
			}
			if (too_long) {
				str_printf(msg, sizeof(msg), "items must be at "
				    "most %zu bytes", m->max_len);
				problem_field_add(errs, m->name, msg);
				break;
			}
			v->array = c;
			v->nitems = cnt;
			break;
		}
	}
	for (k = 0; k < n; k++)
		if (spec[k].required && !vals[k].present)
			problem_field_add(errs, spec[k].name, "is required");
	return problem_fields_count(errs) - before;
}
