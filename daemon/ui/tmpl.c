/*
 * The portal's templates (tmpl.h): parsed once into a flat list of nodes
 * per template, where a section knows the index past its end, so that a
 * rendering is a walk over that list and never looks at the text again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "fields.h"
#include "tmpl.h"
#include "util.h"

/* The work of one rendering (nodes visited and elements iterated): the
 * output bound alone would let nested sections over long arrays that
 * print nothing spin for ever. */
#define TMPL_WORK_MAX		(1u << 22)
/* Contexts of a rendering: the view, then one per section of each
 * template in the deepest chain of partials. */
#define TMPL_CONTEXT_MAX	(TMPL_SECTION_MAX * (TMPL_DEPTH_MAX + 1) + 1)

enum tmpl_kind {
	K_TEXT,
	K_VAR,
	K_SECTION,
	K_INVERTED,
	K_PARTIAL,
};

struct tmpl_node {
	enum tmpl_kind	 kind;
	unsigned int	 line;
	/* TEXT: the bytes (len of them).  VAR, SECTION, INVERTED: the
	 * name's nseg segments, each NUL-terminated, one after the other
	 * (nseg 0 is "{{.}}").  PARTIAL: the template's name. */
	const char	*s;
	size_t		 len;
	size_t		 nseg;
	size_t		 end;		/* SECTION, INVERTED: past its close */
	size_t		 partial;	/* PARTIAL: the index in the set */
};

struct tmpl {
	char		 name[TMPL_NAME_MAX + 1];
	char		*label;		/* the file, for errors */
	char		*text;		/* the copy the nodes point into */
	struct tmpl_node *nodes;
	size_t		 n, cap;
	int		 state;		/* of the partials check */
	unsigned int	 height;	/* partials below it */
};

struct tmpl_set {
	struct tmpl	*t;
	size_t		 n;
};

static int
load_error(char *err, size_t errlen, const char *label, unsigned int line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
load_error(char *err, size_t errlen, const char *label, unsigned int line,
    const char *fmt, ...)
{
	char	 why[256];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (line == 0)		/* of the file as a whole */
		(void)str_printf(err, errlen, "%s: %s", label, why);
	else
		(void)str_printf(err, errlen, "%s:%u: %s", label, line, why);
	return -1;
}

/* 1 + the newlines in the first off bytes of b. */
static unsigned int
line_of(const char *b, size_t off)
{
	unsigned int line = 1;
	const char *p = b, *end = b + off;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		line++;
		p++;
	}
	return line;
}

/* Name of a template: [a-z0-9_-]{1,32}. */
static bool
tmpl_name_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > TMPL_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* Name of a value: "." or [A-Za-z0-9_]+ segments joined by single dots,
 * 1 to TMPL_KEY_MAX bytes. */
static bool
key_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > TMPL_KEY_MAX)
		return false;
	if (len == 1 && s[0] == '.')
		return true;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (i == 0 || i + 1 == len || s[i + 1] == '.')
				return false;
		} else if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	}
	return true;
}

static struct tmpl_node *
node_add(struct tmpl *t, enum tmpl_kind kind, unsigned int line)
{
	struct tmpl_node *nodes;
	size_t	 cap;

	if (t->n == t->cap) {
		cap = t->cap == 0 ? 16 : t->cap * 2;
		if ((nodes = reallocarray(t->nodes, cap, sizeof(*nodes))) ==
		    NULL)
			return NULL;
		t->nodes = nodes;
		t->cap = cap;
	}
	memset(&t->nodes[t->n], 0, sizeof(t->nodes[0]));
	t->nodes[t->n].kind = kind;
	t->nodes[t->n].line = line;
	return &t->nodes[t->n++];
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The text of t checked (size, NUL bytes, UTF-8) with the line of the
 * first fault. */
static int
text_check(const struct tmpl *t, size_t len, char *err, size_t errlen)
{
	const char *b = t->text, *nul, *line, *nl;
	unsigned int n = 1;

	if (len > TMPL_FILE_MAX)
		return load_error(err, errlen, t->label,
		    line_of(b, TMPL_FILE_MAX), "the file is larger than %d "
		    "bytes", TMPL_FILE_MAX);
	if ((nul = memchr(b, '\0', len)) != NULL)
		return load_error(err, errlen, t->label,
		    line_of(b, (size_t)(nul - b)), "a NUL byte");
	for (line = b; line < b + len; line = nl + 1, n++) {
		if ((nl = memchr(line, '\n', (size_t)(b + len - line))) ==
		    NULL)
			nl = b + len;
		if (!field_utf8_valid(line, (size_t)(nl - line)))
			return load_error(err, errlen, t->label, n,
			    "invalid UTF-8");
	}
	return 0;
}

enum tag {
	TAG_VAR, TAG_SECTION, TAG_INVERTED, TAG_CLOSE, TAG_PARTIAL,
	TAG_COMMENT,
};

/* Parses t->text (len bytes) into t->nodes. */
static int
parse(struct tmpl *t, size_t len, char *err, size_t errlen)
{
	char	*b = t->text, *o, *c, *name;
	size_t	 pos = 0, open, after, next, text_end, ls, te, nlen, i;
	size_t	 stack[TMPL_SECTION_MAX], depth = 0;
	struct tmpl_node *nd, *top;
	unsigned int line = 1;
	size_t	 counted = 0;
	enum tag tag;

	if (text_check(t, len, err, errlen) == -1)
		return -1;
	while (pos < len) {
		if ((o = strstr(b + pos, "{{")) == NULL) {
			if ((nd = node_add(t, K_TEXT, line)) == NULL)
				goto oom;
			nd->s = b + pos;
			nd->len = len - pos;
			break;
		}
		open = (size_t)(o - b);
		/* Lines are counted as the tags go, never from the top. */
		line += line_of(b + counted, open - counted) - 1;
		counted = open;
		if ((c = strstr(o + 2, "}}")) == NULL)
			return load_error(err, errlen, t->label, line,
			    "a tag opened with {{ is never closed");
		after = (size_t)(c - b) + 2;
		name = o + 2;
		switch (*name) {
		case '{':
		case '&':
			return load_error(err, errlen, t->label, line,
			    "unescaped output ({{{...}}} or {{&...}}) is not "
			    "supported: every value is escaped, and markup "
			    "comes from a partial");
		case '=':
			return load_error(err, errlen, t->label, line,
			    "set-delimiter tags are not supported");
		case '#':
			tag = TAG_SECTION;
			break;
		case '^':
			tag = TAG_INVERTED;
			break;
		case '/':
			tag = TAG_CLOSE;
			break;
		case '>':
			tag = TAG_PARTIAL;
			break;
		case '!':
			tag = TAG_COMMENT;
			break;
		default:
			tag = TAG_VAR;
			break;
		}
		if (tag != TAG_VAR)
			name++;
		while (name < c && blank(*name))
			name++;
		nlen = (size_t)(c - name);
		while (nlen > 0 && blank(name[nlen - 1]))
			nlen--;

		/* A tag other than a value alone on its line takes the line
		 * (its indentation and its line end) with it. */
		text_end = open;
		next = after;
		if (tag != TAG_VAR) {
			for (ls = open; ls > pos && blank(b[ls - 1]); ls--)
				;
			for (te = after; te < len && blank(b[te]); te++)
				;
			if ((ls == 0 || b[ls - 1] == '\n') && (te == len ||
			    b[te] == '\n' || (b[te] == '\r' && te + 1 < len &&
			    b[te + 1] == '\n'))) {
				text_end = ls;
				next = te == len ? len :
				    te + (b[te] == '\r' ? 2 : 1);
			}
		}
		if (text_end > pos) {
			if ((nd = node_add(t, K_TEXT, line)) == NULL)
				goto oom;
			nd->s = b + pos;
			nd->len = text_end - pos;
		}

		if (tag == TAG_PARTIAL && !tmpl_name_ok(name, nlen))
			return load_error(err, errlen, t->label, line,
			    "a partial's name is 1 to %d of a-z 0-9 _ -",
			    TMPL_NAME_MAX);
		if (tag != TAG_PARTIAL && tag != TAG_COMMENT &&
		    !key_ok(name, nlen))
			return load_error(err, errlen, t->label, line,
			    "a name is \".\" or 1 to %d of A-Z a-z 0-9 _ "
			    "with single dots between", TMPL_KEY_MAX);
		/* The byte past the name is inside the tag: the name ends
		 * there, and no text node covers it. */
		if (tag != TAG_COMMENT)
			name[nlen] = '\0';

		switch (tag) {
		case TAG_COMMENT:
			break;
		case TAG_VAR:
		case TAG_PARTIAL:
			if ((nd = node_add(t, tag == TAG_VAR ? K_VAR :
			    K_PARTIAL, line)) == NULL)
				goto oom;
			nd->s = name;
			nd->len = nlen;
			break;
		case TAG_SECTION:
		case TAG_INVERTED:
			if (depth == TMPL_SECTION_MAX)
				return load_error(err, errlen, t->label, line,
				    "sections nested deeper than %d",
				    TMPL_SECTION_MAX);
			if ((nd = node_add(t, tag == TAG_SECTION ? K_SECTION :
			    K_INVERTED, line)) == NULL)
				goto oom;
			nd->s = name;
			nd->len = nlen;
			stack[depth++] = t->n - 1;
			break;
		case TAG_CLOSE:
			if (depth == 0)
				return load_error(err, errlen, t->label, line,
				    "{{/%s}} closes no section", name);
			top = &t->nodes[stack[depth - 1]];
			if (strcmp(top->s, name) != 0)
				return load_error(err, errlen, t->label, line,
				    "{{/%s}} does not close {{%c%s}} of line %u",
				    name, top->kind == K_SECTION ? '#' : '^',
				    top->s, top->line);
			top->end = t->n;
			depth--;
			break;
		}
		pos = next;
	}
	if (depth > 0) {
		top = &t->nodes[stack[depth - 1]];
		return load_error(err, errlen, t->label, top->line,
		    "{{%c%s}} is never closed", top->kind == K_SECTION ? '#' :
		    '^', top->s);
	}

	/* Names become their segments, now that closes are matched. */
	for (i = 0; i < t->n; i++) {
		nd = &t->nodes[i];
		if (nd->kind != K_VAR && nd->kind != K_SECTION &&
		    nd->kind != K_INVERTED)
			continue;
		if (strcmp(nd->s, ".") == 0)
			continue;
		nd->nseg = 1;
		for (name = (char *)(uintptr_t)nd->s; *name != '\0'; name++)
			if (*name == '.') {
				*name = '\0';
				nd->nseg++;
			}
	}
	return 0;
oom:
	return load_error(err, errlen, t->label, line, "out of memory");
}

static void
tmpl_clear(struct tmpl *t)
{
	free(t->label);
	free(t->text);
	free(t->nodes);
}

void
tmpl_set_free(struct tmpl_set *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		tmpl_clear(&s->t[i]);
	free(s->t);
	free(s);
}

static struct tmpl_set *
set_new(size_t n)
{
	struct tmpl_set *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (n > 0 && (s->t = calloc(n, sizeof(*s->t))) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

static ssize_t
set_find(const struct tmpl_set *s, const char *name)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->t[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Adds template name (label for errors) with text, which it takes. */
static int
set_add(struct tmpl_set *s, const char *name, const char *label, char *text,
    size_t len, char *err, size_t errlen)
{
	struct tmpl *t = &s->t[s->n];

	if (!tmpl_name_ok(name, strlen(name))) {
		free(text);
		return load_error(err, errlen, label, 0, "a template's name "
		    "is 1 to %d of a-z 0-9 _ -", TMPL_NAME_MAX);
	}
	if (set_find(s, name) != -1) {
		free(text);
		return load_error(err, errlen, label, 0, "the name is given "
		    "twice");
	}
	memset(t, 0, sizeof(*t));
	if ((t->label = strdup(label)) == NULL) {
		free(text);
		(void)str_printf(err, errlen, "%s: out of memory", label);
		return -1;
	}
	(void)str_copy(t->name, name, sizeof(t->name));
	t->text = text;
	s->n++;
	return parse(t, len, err, errlen);
}

/* The partials below template i: none recurse or nest deeper than
 * TMPL_DEPTH_MAX (i's height).  The recursion is as deep as the set has
 * templates. */
static int
check_partials(struct tmpl_set *s, size_t i, char *err, size_t errlen)
{
	struct tmpl *t = &s->t[i], *p;
	struct tmpl_node *nd;
	size_t	 k;

	if (t->state == 2)
		return 0;
	t->state = 1;
	t->height = 0;
	for (k = 0; k < t->n; k++) {
		nd = &t->nodes[k];
		if (nd->kind != K_PARTIAL)
			continue;
		p = &s->t[nd->partial];
		if (p->state == 1)
			return load_error(err, errlen, t->label, nd->line,
			    "{{> %s}} recurses: %s includes %s again",
			    nd->s, nd->s, t->name);
		if (check_partials(s, nd->partial, err, errlen) == -1)
			return -1;
		if (p->height + 1 > t->height)
			t->height = p->height + 1;
		if (t->height > TMPL_DEPTH_MAX)
			return load_error(err, errlen, t->label, nd->line,
			    "{{> %s}} nests partials deeper than %d", nd->s,
			    TMPL_DEPTH_MAX);
	}
	t->state = 2;
	return 0;
}

/* Every partial of s found and none recursing. */
static int
set_link(struct tmpl_set *s, char *err, size_t errlen)
{
	struct tmpl_node *nd;
	size_t	 i, k;
	ssize_t	 j;

	for (i = 0; i < s->n; i++)
		for (k = 0; k < s->t[i].n; k++) {
			nd = &s->t[i].nodes[k];
			if (nd->kind != K_PARTIAL)
				continue;
			if ((j = set_find(s, nd->s)) == -1)
				return load_error(err, errlen, s->t[i].label,
				    nd->line, "{{> %s}}: there is no template "
				    "%s.html", nd->s, nd->s);
			nd->partial = (size_t)j;
		}
	for (i = 0; i < s->n; i++)
		if (check_partials(s, i, err, errlen) == -1)
			return -1;
	return 0;
}

struct tmpl_set *
tmpl_set_from(const char *const *names, const char *const *texts, size_t n,
    char *err, size_t errlen)
{
	struct tmpl_set *s;
	char	 label[TMPL_NAME_MAX + 16];
	char	*text;
	size_t	 i, len;

	if (n > TMPL_FILES_MAX) {
		(void)str_printf(err, errlen, "more than %d templates",
		    TMPL_FILES_MAX);
		return NULL;
	}
	if ((s = set_new(n)) == NULL) {
		(void)str_copy(err, "out of memory", errlen);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		(void)str_printf(label, sizeof(label), "%.*s.html",
		    TMPL_NAME_MAX + 1, names[i]);
		len = strlen(texts[i]);
		if ((text = malloc(len + 1)) == NULL) {
			(void)str_printf(err, errlen, "%s: out of memory",
			    label);
			goto bad;
		}
		memcpy(text, texts[i], len + 1);
		if (set_add(s, names[i], label, text, len, err, errlen) == -1)
			goto bad;
	}
	if (set_link(s, err, errlen) == -1)
		goto bad;
	return s;
bad:
	tmpl_set_free(s);
	return NULL;
}

/* Reads up to TMPL_FILE_MAX + 1 bytes of path into a new NUL-terminated
 * buffer (the one past the limit lets the parser report it). */
static char *
read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char	*buf;
	ssize_t	 n;
	size_t	 got = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) == -1) {
		(void)str_printf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)str_printf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((buf = malloc(TMPL_FILE_MAX + 2)) == NULL) {
		(void)str_printf(err, errlen, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	while (got < TMPL_FILE_MAX + 1) {
		n = read(fd, buf + got, TMPL_FILE_MAX + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)str_printf(err, errlen, "%s: %s", path,
			    strerror(errno));
			close(fd);
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

struct tmpl_set *
tmpl_set_load(const char *dir, char *err, size_t errlen)
{
	char	 names[TMPL_FILES_MAX][TMPL_NAME_MAX + 1];
	char	 path[4096];
	struct tmpl_set *s;
	struct dirent *de;
	size_t	 n = 0, i, len;
	char	*text;
	DIR	*d;

	if ((d = opendir(dir)) == NULL) {
		(void)str_printf(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".html") != 0 ||
		    !tmpl_name_ok(de->d_name, len - 5))
			continue;
		if (n == TMPL_FILES_MAX) {
			closedir(d);
			(void)str_printf(err, errlen, "%s: more than %d "
			    "templates", dir, TMPL_FILES_MAX);
			return NULL;
		}
		memcpy(names[n], de->d_name, len - 5);
		names[n++][len - 5] = '\0';
	}
	closedir(d);
	/* In name order, so that the same fault is always the one named. */
	qsort(names, n, sizeof(names[0]), name_cmp);

	if ((s = set_new(n)) == NULL) {
		(void)str_copy(err, "out of memory", errlen);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (str_printf(path, sizeof(path), "%s/%s.html", dir,
		    names[i]) == -1) {
			(void)str_printf(err, errlen, "%s: the path is too "
			    "long", dir);
			goto bad;
		}
		if ((text = read_file(path, &len, err, errlen)) == NULL)
			goto bad;
		if (set_add(s, names[i], path, text, len, err, errlen) == -1)
			goto bad;
	}
	if (set_link(s, err, errlen) == -1)
		goto bad;
	return s;
bad:
	tmpl_set_free(s);
	return NULL;
}

bool
tmpl_set_has(const struct tmpl_set *s, const char *name)
{
	return s != NULL && name != NULL && set_find(s, name) != -1;
}

struct render {
	const struct tmpl_set *s;
	struct evbuffer	*out;
	size_t		 written;
	size_t		 work;
	unsigned int	 partials;
	size_t		 nctx;
	const cJSON	*ctx[TMPL_CONTEXT_MAX];
};

static int
emit(struct render *r, const char *p, size_t n)
{
	if (n > TMPL_OUTPUT_MAX - r->written)
		return -1;
	r->written += n;
	return n == 0 ? 0 : evbuffer_add(r->out, p, n);
}

static int
emit_escaped(struct render *r, const char *p, size_t n)
{
	const char *ent;
	size_t	 run;

	while (n > 0) {
		run = strcspn(p, "&<>\"'`=");
		if (run > n)
			run = n;
		if (emit(r, p, run) == -1)
			return -1;
		p += run;
		n -= run;
		if (n == 0)
			break;
		switch (*p) {
		case '&':	ent = "&amp;"; break;
		case '<':	ent = "&lt;"; break;
		case '>':	ent = "&gt;"; break;
		case '"':	ent = "&quot;"; break;
		case '\'':	ent = "&#39;"; break;
		case '`':	ent = "&#96;"; break;
		default:	ent = "&#61;"; break;
		}
		if (emit(r, ent, strlen(ent)) == -1)
			return -1;
		p++;
		n--;
	}
	return 0;
}

/* A value as text: strings as they are, numbers (integers without a
 * fraction), true; anything else is "". */
static int
emit_value(struct render *r, const cJSON *v)
{
	char	 num[64];
	double	 d;

	if (cJSON_IsString(v) && v->valuestring != NULL)
		return emit_escaped(r, v->valuestring, strlen(v->valuestring));
	if (cJSON_IsTrue(v))
		return emit(r, "true", 4);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return 0;
	d = v->valuedouble;
	if (d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
	    d == (double)(long long)d)
		(void)snprintf(num, sizeof(num), "%lld", (long long)d);
	else {
		(void)snprintf(num, sizeof(num), "%.15g", d);
		if (strtod(num, NULL) != d)
			(void)snprintf(num, sizeof(num), "%.17g", d);
	}
	return emit_escaped(r, num, strlen(num));
}

/* The value nd names: "." is the innermost context; a first segment is
 * looked for from the innermost context out, the rest below it. */
static const cJSON *
lookup(const struct render *r, const struct tmpl_node *nd)
{
	const cJSON *v = NULL;
	const char *seg = nd->s;
	size_t	 i;

	if (nd->nseg == 0)
		return r->ctx[r->nctx - 1];
	for (i = r->nctx; i-- > 0;)
		if (cJSON_IsObject(r->ctx[i]) && (v =
		    cJSON_GetObjectItemCaseSensitive(r->ctx[i], seg)) != NULL)
			break;
	for (i = 1; v != NULL && i < nd->nseg; i++) {
		seg += strlen(seg) + 1;
		v = cJSON_IsObject(v) ?
		    cJSON_GetObjectItemCaseSensitive(v, seg) : NULL;
	}
	return v;
}

/* A section over v renders nothing. */
static bool
empty(const cJSON *v)
{
	if (v == NULL || cJSON_IsFalse(v) || cJSON_IsNull(v))
		return true;
	if (cJSON_IsString(v))
		return v->valuestring == NULL || v->valuestring[0] == '\0';
	if (cJSON_IsNumber(v))
		return v->valuedouble == 0 || isnan(v->valuedouble);
	if (cJSON_IsArray(v))
		return v->child == NULL;
	return !cJSON_IsTrue(v) && !cJSON_IsObject(v);
}

static int render_range(struct render *, const struct tmpl *, size_t,
		    size_t);

/* Nodes from..end of t with v pushed on the contexts. */
static int
render_with(struct render *r, const struct tmpl *t, size_t from, size_t end,
    const cJSON *v)
{
	int	 rc;

	if (r->nctx == TMPL_CONTEXT_MAX)
		return -1;
	r->ctx[r->nctx++] = v;
	rc = render_range(r, t, from, end);
	r->nctx--;
	return rc;
}

static int
render_range(struct render *r, const struct tmpl *t, size_t i, size_t end)
{
	const struct tmpl_node *nd;
	const struct tmpl *p;
	const cJSON *v, *el;
	int	 rc;

	while (i < end) {
		if (++r->work > TMPL_WORK_MAX)
			return -1;
		nd = &t->nodes[i];
		switch (nd->kind) {
		case K_TEXT:
			if (emit(r, nd->s, nd->len) == -1)
				return -1;
			i++;
			break;
		case K_VAR:
			if (emit_value(r, lookup(r, nd)) == -1)
				return -1;
			i++;
			break;
		case K_PARTIAL:
			/* Bounded when the set was loaded; checked again. */
			if (r->partials == TMPL_DEPTH_MAX)
				return -1;
			p = &r->s->t[nd->partial];
			r->partials++;
			rc = render_range(r, p, 0, p->n);
			r->partials--;
			if (rc == -1)
				return -1;
			i++;
			break;
		case K_INVERTED:
			if (empty(lookup(r, nd)) &&
			    render_range(r, t, i + 1, nd->end) == -1)
				return -1;
			i = nd->end;
			break;
		case K_SECTION:
			v = lookup(r, nd);
			if (empty(v))
				;
			else if (cJSON_IsArray(v)) {
				cJSON_ArrayForEach(el, v) {
					if (++r->work > TMPL_WORK_MAX ||
					    render_with(r, t, i + 1, nd->end,
					    el) == -1)
						return -1;
				}
			} else if (cJSON_IsObject(v)) {
				if (render_with(r, t, i + 1, nd->end, v) == -1)
					return -1;
			} else if (render_range(r, t, i + 1, nd->end) == -1)
				return -1;
			i = nd->end;
			break;
		}
	}
	return 0;
}

int
tmpl_render(const struct tmpl_set *s, const char *name, const cJSON *view,
    struct evbuffer *out)
{
	struct render *r;
	ssize_t	 i;
	int	 rc = -1;

	if (s == NULL || name == NULL || (i = set_find(s, name)) == -1)
		return -1;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	/* Into a buffer of its own, so that a failure leaves out alone. */
	if ((r->out = evbuffer_new()) == NULL)
		goto done;
	r->s = s;
	r->ctx[r->nctx++] = view;
	if (render_range(r, &s->t[i], 0, s->t[i].n) == 0 &&
	    evbuffer_add_buffer(out, r->out) == 0)
		rc = 0;
done:
	if (r->out != NULL)
		evbuffer_free(r->out);
	free(r);
	return rc;
}
