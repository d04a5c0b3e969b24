/*
 * The current file of a key directory, parsed and written: plain text of
 * a few short lines, each checked on its own (keys_current.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "keys_current.h"
#include "util.h"

static const char *const kind_words[KEYS_NKINDS] = {
	[KEYS_SIGN] = "sign",
	[KEYS_PEPPER] = "pepper",
	[KEYS_RSA] = "rsa",
};

const char *
keys_kind_word(enum keys_kind kind)
{
	return (unsigned int)kind < KEYS_NKINDS ? kind_words[kind] : "?";
}

/* The kind a word names, or -1. */
static int
kind_of(const char *word)
{
	int k;

	for (k = 0; k < KEYS_NKINDS; k++)
		if (strcmp(word, kind_words[k]) == 0)
			return k;
	return -1;
}

/* Splits the next space-separated field off *p: NULL when none is left. */
static char *
field_next(char **p)
{
	char *f = *p, *sp;

	if (f == NULL || *f == '\0')
		return NULL;
	if ((sp = strchr(f, ' ')) != NULL) {
		*sp = '\0';
		*p = sp + 1;
	} else
		*p = NULL;
	return f;
}

/* One line, already cut at its newline, into kc. */
static int
line_parse(char *line, const char *where, int lineno,
    struct keys_current *kc, char *err, size_t errlen)
{
	char		*rest = line, *word, *kind_w, *kid, *t, *extra;
	const char	*errstr;
	long long	 from;
	bool		 next;
	int		 kind;

	word = field_next(&rest);
	if (word == NULL) {
		str_printf(err, errlen, "%s: line %d: empty line", where,
		    lineno);
		return -1;
	}
	next = strcmp(word, "next") == 0;
	kind_w = next ? field_next(&rest) : word;
	if (kind_w == NULL || (kind = kind_of(kind_w)) == -1) {
		str_printf(err, errlen, "%s: line %d: unknown key kind "
		    "(expected sign, pepper or rsa%s)", where, lineno,
		    next ? "" : ", or next");
		return -1;
	}
	if ((kid = field_next(&rest)) == NULL || !field_is_kid(kid)) {
		str_printf(err, errlen, "%s: line %d: invalid key id", where,
		    lineno);
		return -1;
	}
	if (!next) {
		if ((extra = field_next(&rest)) != NULL) {
			str_printf(err, errlen, "%s: line %d: more than "
			    "\"%s <kid>\"", where, lineno, kind_w);
			return -1;
		}
		if (kc->cur[kind][0] != '\0') {
			str_printf(err, errlen, "%s: line %d: %s named twice",
			    where, lineno, kind_w);
			return -1;
		}
		memcpy(kc->cur[kind], kid, strlen(kid) + 1);
		return 0;
	}
	t = field_next(&rest);
	if (t == NULL || num_parse(t, 0, KEYS_FROM_MAX, &from, &errstr) == -1) {
		str_printf(err, errlen, "%s: line %d: next %s needs the "
		    "instant it takes over, in seconds since the epoch", where,
		    lineno, kind_w);
		return -1;
	}
	if ((extra = field_next(&rest)) != NULL) {
		str_printf(err, errlen, "%s: line %d: more than \"next %s "
		    "<kid> <seconds>\"", where, lineno, kind_w);
		return -1;
	}
	if (kc->next[kind][0] != '\0') {
		str_printf(err, errlen, "%s: line %d: next %s named twice",
		    where, lineno, kind_w);
		return -1;
	}
	memcpy(kc->next[kind], kid, strlen(kid) + 1);
	kc->from[kind] = (int64_t)from;
	return 0;
}

int
keys_current_parse(char *text, const char *where, struct keys_current *kc,
    char *err, size_t errlen)
{
	char	*line = text, *nl;
	int	 lineno = 0, k;

	memset(kc, 0, sizeof(*kc));
	while (*line != '\0') {
		lineno++;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (line_parse(line, where, lineno, kc, err, errlen) == -1)
			return -1;
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	for (k = 0; k < KEYS_NKINDS; k++)
		if (kc->next[k][0] != '\0' &&
		    strcmp(kc->next[k], kc->cur[k]) == 0) {
			str_printf(err, errlen, "%s: next %s %s is already the "
			    "current one", where, kind_words[k], kc->next[k]);
			return -1;
		}
	if (kc->cur[KEYS_SIGN][0] == '\0' || kc->cur[KEYS_PEPPER][0] == '\0') {
		str_printf(err, errlen, "%s: does not name a current %s key",
		    where, kc->cur[KEYS_SIGN][0] == '\0' ? "sign" : "pepper");
		return -1;
	}
	return 0;
}

int
keys_current_format(const struct keys_current *kc, char *out, size_t outlen)
{
	size_t	 off = 0;
	int	 k, n;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	for (k = 0; k < KEYS_NKINDS; k++) {
		if (kc->cur[k][0] == '\0')
			continue;
		n = snprintf(out + off, outlen - off, "%s %s\n", kind_words[k],
		    kc->cur[k]);
		if (n < 0 || (size_t)n >= outlen - off)
			return -1;
		off += (size_t)n;
	}
	for (k = 0; k < KEYS_NKINDS; k++) {
		if (kc->next[k][0] == '\0')
			continue;
		n = snprintf(out + off, outlen - off, "next %s %s %lld\n",
		    kind_words[k], kc->next[k], (long long)kc->from[k]);
		if (n < 0 || (size_t)n >= outlen - off)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

const char *
keys_current_kid(const struct keys_current *kc, enum keys_kind kind,
    int64_t now)
{
	if ((unsigned int)kind >= KEYS_NKINDS)
		return NULL;
	if (kc->next[kind][0] != '\0' && now >= kc->from[kind])
		return kc->next[kind];
	return kc->cur[kind][0] != '\0' ? kc->cur[kind] : NULL;
}
