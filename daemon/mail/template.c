/*
 * Reading and filling the templates of outgoing mail (template.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "template.h"
#include "util.h"

static const char *const names[MAIL_TPL_COUNT] = {
	[MAIL_TPL_VERIFY_EMAIL] = "verify_email",
	[MAIL_TPL_PASSWORD_RESET] = "password_reset",
	[MAIL_TPL_EMAIL_CHANGED] = "email_changed",
};

static const char *const placeholders[] = {
	"{{link}}", "{{username}}", "{{expires_in}}",
};
#define NPLACEHOLDERS	(sizeof(placeholders) / sizeof(placeholders[0]))

const char *
mail_tpl_name(enum mail_tpl id)
{
	return (unsigned int)id < MAIL_TPL_COUNT ? names[id] : "unknown";
}

int
mail_tpl_lookup(const char *name)
{
	int	 i;

	for (i = 0; i < MAIL_TPL_COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

/* The placeholder that text starts with (an index), or -1. */
static int
placeholder_at(const char *text)
{
	size_t	 i;

	for (i = 0; i < NPLACEHOLDERS; i++)
		if (strncmp(text, placeholders[i], strlen(placeholders[i])) == 0)
			return (int)i;
	return -1;
}

/* Every "{{" of s opens a known placeholder. */
static bool
placeholders_ok(const char *s)
{
	while ((s = strstr(s, "{{")) != NULL) {
		if (placeholder_at(s) == -1)
			return false;
		s += 2;
	}
	return true;
}

/* No control character but TAB (and LF where lf). */
static bool
text_ok(const char *s, bool lf)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t' && !(lf && c == '\n')) || c == 0x7f)
			return false;
	}
	return true;
}

static int
fail(struct mail_template *t, char *err, size_t errlen, const char *why)
{
	mail_template_clear(t);
	str_copy(err, why, errlen);
	return -1;
}

int
mail_template_parse(const char *text, size_t len, struct mail_template *t,
    char *err, size_t errlen)
{
	char	*copy, *line, *next, *body, *w;
	const char *r;
	size_t	 n;

	memset(t, 0, sizeof(*t));
	if (len > MAIL_TEMPLATE_MAX || memchr(text, '\0', len) != NULL)
		return fail(t, err, errlen, "too long, or a NUL byte inside");
	/* A copy with CRLF made LF. */
	if ((copy = malloc(len + 1)) == NULL)
		return fail(t, err, errlen, "out of memory");
	for (r = text, w = copy; r < text + len; r++)
		if (!(*r == '\r' && r + 1 < text + len && r[1] == '\n'))
			*w++ = *r;
	*w = '\0';

	body = NULL;
	for (line = copy; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '\0') {
			body = next != NULL ? next : line;
			break;
		}
		if (strncasecmp(line, "Subject:", 8) != 0) {
			free(copy);
			return fail(t, err, errlen, "a header line other than "
			    "\"Subject:\", or no empty line before the body");
		}
		line += 8;
		line += strspn(line, " \t");
		n = strlen(line);
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		free(t->subject);
		if ((t->subject = strdup(line)) == NULL) {
			free(copy);
			return fail(t, err, errlen, "out of memory");
		}
	}
	if (body == NULL || t->subject == NULL || t->subject[0] == '\0') {
		free(copy);
		return fail(t, err, errlen, "a \"Subject:\" line, an empty line "
		    "and a body are needed");
	}
	n = strlen(body);
	/* The body ends with exactly one line end. */
	while (n > 0 && body[n - 1] == '\n')
		body[--n] = '\0';
	if (n == 0 || (t->body = malloc(n + 2)) == NULL) {
		free(copy);
		return fail(t, err, errlen, n == 0 ? "the body is empty" :
		    "out of memory");
	}
	memcpy(t->body, body, n);
	t->body[n] = '\n';
	t->body[n + 1] = '\0';
	free(copy);
	if (!text_ok(t->subject, false) || !text_ok(t->body, true))
		return fail(t, err, errlen, "a control character in the text");
	if (!placeholders_ok(t->subject) || !placeholders_ok(t->body))
		return fail(t, err, errlen, "an unknown {{placeholder}} (known: "
		    "{{link}}, {{username}}, {{expires_in}})");
	return 0;
}

void
mail_template_clear(struct mail_template *t)
{
	free(t->subject);
	free(t->body);
	t->subject = NULL;
	t->body = NULL;
}

/* Reads the whole of path (at most MAIL_TEMPLATE_MAX bytes) into a new
 * buffer. */
static char *
read_file(const char *path, size_t *len, char *why, size_t whylen)
{
	struct stat st;
	char	*buf;
	ssize_t	 n;
	size_t	 got = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) == -1) {
		str_copy(why, strerror(errno), whylen);
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAIL_TEMPLATE_MAX) {
		str_copy(why, "not a regular file of at most 64 KiB", whylen);
		close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		str_copy(why, "out of memory", whylen);
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

struct mail_templates *
mail_templates_load(const char *dir, char *err, size_t errlen)
{
	struct mail_templates *ts;
	char	 path[4096], why[256];
	char	*text;
	size_t	 len;
	int	 i;

	if ((ts = calloc(1, sizeof(*ts))) == NULL) {
		str_copy(err, "out of memory", errlen);
		return NULL;
	}
	for (i = 0; i < MAIL_TPL_COUNT; i++) {
		if (str_printf(path, sizeof(path), "%s/%s.txt", dir,
		    names[i]) == -1) {
			str_copy(err, "mail_template_dir: too long", errlen);
			goto bad;
		}
		if ((text = read_file(path, &len, why, sizeof(why))) == NULL) {
			(void)str_printf(err, errlen, "%s: %s", path, why);
			goto bad;
		}
		if (mail_template_parse(text, len, &ts->t[i], why,
		    sizeof(why)) == -1) {
			free(text);
			(void)str_printf(err, errlen, "%s: %s", path, why);
			goto bad;
		}
		free(text);
	}
	return ts;
bad:
	mail_templates_free(ts);
	return NULL;
}

void
mail_templates_free(struct mail_templates *ts)
{
	int	 i;

	if (ts == NULL)
		return;
	for (i = 0; i < MAIL_TPL_COUNT; i++)
		mail_template_clear(&ts->t[i]);
	free(ts);
}

char *
mail_substitute(const char *text, const struct mail_params *p)
{
	const char *vals[NPLACEHOLDERS];
	const char *s;
	char	*out, *w;
	size_t	 len = 0, i;
	int	 k;

	vals[0] = p->link != NULL ? p->link : "";
	vals[1] = p->username != NULL ? p->username : "";
	vals[2] = p->expires_in != NULL ? p->expires_in : "";
	for (i = 0; i < NPLACEHOLDERS; i++)
		if (!text_ok(vals[i], false))
			return NULL;
	/* Measure, then write. */
	for (s = text; *s != '\0';) {
		if ((k = placeholder_at(s)) >= 0) {
			len += strlen(vals[k]);
			s += strlen(placeholders[k]);
		} else {
			len++;
			s++;
		}
	}
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (s = text, w = out; *s != '\0';) {
		if ((k = placeholder_at(s)) >= 0) {
			memcpy(w, vals[k], strlen(vals[k]));
			w += strlen(vals[k]);
			s += strlen(placeholders[k]);
		} else
			*w++ = *s++;
	}
	*w = '\0';
	return out;
}
