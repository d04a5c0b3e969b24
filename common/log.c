/*
 * Logging to stderr: logfmt or JSON lines, one write(2) per line, every
 * piece of text escaped with log_escape() so that nothing a client sends
 * can split or forge a line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fields.h"
#include "log.h"

static _Atomic int	log_level = LOG_INFO;
static _Atomic bool	log_json;
static char		log_prog[64] = "warden";

static const char *const level_names[] = {
	[LOG_FATAL] = "fatal",
	[LOG_ERROR] = "error",
	[LOG_WARN] = "warn",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

/*
 * A line under construction.  The last LINE_RESERVE bytes are kept for
 * closing a quote, the truncation marker, the closing brace and the
 * newline, so a full line is always well formed.
 */
#define LINE_RESERVE	32

struct line {
	char	buf[LOG_LINE_MAX];
	size_t	len;
	size_t	cap;		/* LOG_LINE_MAX - LINE_RESERVE */
	bool	json;
	bool	truncated;
};

static void
line_raw(struct line *l, const char *s, size_t n)
{
	if (l->truncated)
		return;
	if (n > l->cap - l->len) {
		l->truncated = true;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* Writes one byte's log escape into piece (at most 4 bytes); returns its
 * length. */
static size_t
escape_byte(unsigned char c, char piece[4])
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '"':
	case '\\':
		piece[0] = '\\';
		piece[1] = (char)c;
		return 2;
	case '\n':
		piece[0] = '\\';
		piece[1] = 'n';
		return 2;
	case '\r':
		piece[0] = '\\';
		piece[1] = 'r';
		return 2;
	case '\t':
		piece[0] = '\\';
		piece[1] = 't';
		return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		piece[0] = (char)c;
		return 1;
	}
	piece[0] = '\\';
	piece[1] = 'x';
	piece[2] = hex[c >> 4];
	piece[3] = hex[c & 0xf];
	return 4;
}

size_t
log_escape(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t	 need = 0, i, n;
	char	 piece[4];
	bool	 full = false;

	for (i = 0; i < srclen; i++) {
		n = escape_byte((unsigned char)src[i], piece);
		/* Never emit half an escape sequence. */
		if (!full && dstlen > 0 && need + n < dstlen)
			memcpy(dst + need, piece, n);
		else if (!full) {
			full = true;
			if (dstlen > 0)
				dst[need] = '\0';
		}
		need += n;
	}
	if (!full && dstlen > 0)
		dst[need] = '\0';
	return need;
}

/*
 * Appends src escaped by log_escape(), and in JSON additionally with the
 * escape's own '\\' and '"' escaped for the JSON string.  Stops at the
 * first piece that does not fit and marks the line truncated.
 */
static void
line_escaped(struct line *l, const char *src, size_t srclen)
{
	char	 piece[4], out[8];
	size_t	 i, j, n, m;

	for (i = 0; i < srclen && !l->truncated; i++) {
		n = escape_byte((unsigned char)src[i], piece);
		for (j = m = 0; j < n; j++) {
			if (l->json && (piece[j] == '\\' || piece[j] == '"'))
				out[m++] = '\\';
			out[m++] = piece[j];
		}
		line_raw(l, out, m);
	}
}

/* logfmt quotes a value that is empty or holds a space, '=', '"' or any
 * byte that log_escape() rewrites. */
static bool
needs_quotes(const char *v, size_t n)
{
	size_t	 i;
	unsigned char c;

	if (n == 0)
		return true;
	for (i = 0; i < n; i++) {
		c = (unsigned char)v[i];
		if (c <= ' ' || c >= 0x7f || c == '=' || c == '"' || c == '\\')
			return true;
	}
	return false;
}

/*
 * Appends one field: separator, key, opening quote (JSON always, logfmt
 * when needs_quotes()), the escaped value, closing quote.  The part up to
 * the value goes in whole or not at all; a value cut short is still
 * closed (the reserve holds the quote), so the line stays parseable.
 * Keys come from the code, but are still kept to plain names (fields.h).
 */
static void
line_field(struct line *l, const char *key, const char *val, size_t vlen)
{
	char	 pre[FIELD_PLAIN_NAME_MAX + 8], c;
	size_t	 n = 0, i;
	bool	 quote;

	if (l->truncated)
		return;
	quote = l->json || needs_quotes(val, vlen);
	if (l->json) {
		if (l->len > 1)
			pre[n++] = ',';
		pre[n++] = '"';
	} else if (l->len > 0)
		pre[n++] = ' ';
	if (*key == '\0')
		key = "_";
	for (i = 0; key[i] != '\0' && i < FIELD_PLAIN_NAME_MAX; i++) {
		c = key[i];
		pre[n++] = field_is_plain_char((unsigned char)c) ? c : '_';
	}
	if (l->json)
		pre[n++] = '"';
	pre[n++] = l->json ? ':' : '=';
	if (quote)
		pre[n++] = '"';
	line_raw(l, pre, n);
	if (l->truncated)
		return;
	line_escaped(l, val, vlen);
	if (quote)
		l->buf[l->len++] = '"';
}

static void
line_begin(struct line *l, int level, const char *func)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 tbuf[40];
	size_t		 n;

	l->len = 0;
	l->cap = sizeof(l->buf) - LINE_RESERVE;
	l->json = atomic_load_explicit(&log_json, memory_order_relaxed);
	l->truncated = false;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL) {
		memset(&tm, 0, sizeof(tm));
		ts.tv_nsec = 0;
	}
	n = strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(tbuf + n, sizeof(tbuf) - n, ".%03ldZ", ts.tv_nsec / 1000000);

	if (l->json)
		line_raw(l, "{", 1);
	line_field(l, "ts", tbuf, strlen(tbuf));
	if (level < LOG_FATAL || level > LOG_DEBUG)
		level = LOG_ERROR;
	line_field(l, "level", level_names[level],
	    strlen(level_names[level]));
	line_field(l, "prog", log_prog, strlen(log_prog));
	/* The function name is noise in production, a help when debugging
	 * and in fatal_f(). */
	if (func != NULL && (level == LOG_DEBUG || level == LOG_FATAL ||
	    log_get_level() >= LOG_DEBUG))
		line_field(l, "func", func, strlen(func));
}

static void
line_end(struct line *l)
{
	const char	*mark;
	ssize_t		 w;
	size_t		 off;

	if (l->truncated) {
		mark = l->json ? ",\"truncated\":true" : " truncated=true";
		memcpy(l->buf + l->len, mark, strlen(mark));
		l->len += strlen(mark);
	}
	if (l->json)
		l->buf[l->len++] = '}';
	l->buf[l->len++] = '\n';

	/* One write per line; a short write (rare, and never on a pipe for
	 * lines up to PIPE_BUF) is finished rather than lost. */
	for (off = 0; off < l->len; ) {
		w = write(STDERR_FILENO, l->buf + off, l->len - off);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		off += (size_t)w;
	}
}

void
log_init(const char *progname, int level, bool json)
{
	const char	*p;

	if (progname != NULL) {
		if ((p = strrchr(progname, '/')) != NULL && p[1] != '\0')
			progname = p + 1;
		snprintf(log_prog, sizeof(log_prog), "%s", progname);
	}
	log_set_level(level);
	log_set_json(json);
}

void
log_set_level(int level)
{
	if (level < LOG_FATAL)
		level = LOG_FATAL;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

void
log_set_json(bool json)
{
	atomic_store_explicit(&log_json, json, memory_order_relaxed);
}

int
log_get_level(void)
{
	return atomic_load_explicit(&log_level, memory_order_relaxed);
}

int
log_level_from_name(const char *name)
{
	int	 i;

	if (name == NULL)
		return -1;
	for (i = LOG_ERROR; i <= LOG_DEBUG; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void
log_vmsg(int level, const char *func, const char *fmt, va_list ap)
{
	struct line	 l;
	char		 msg[LOG_LINE_MAX];
	int		 n, saved = errno;
	size_t		 mlen;

	if (level > log_get_level())
		return;
	line_begin(&l, level, func);
	errno = saved;		/* for %m */
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		mlen = 0;
	else if ((size_t)n >= sizeof(msg))
		mlen = sizeof(msg) - 1;
	else
		mlen = (size_t)n;
	line_field(&l, "msg", msg, mlen);
	if (n < 0 || mlen < (size_t)n)
		l.truncated = true;
	line_end(&l);
	errno = saved;
}

void
log_msg(int level, const char *func, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(level, func, fmt, ap);
	va_end(ap);
}

void
log_event(int level, const char *event, ...)
{
	struct line	 l;
	va_list		 ap;
	const char	*k, *v;
	int		 saved = errno;

	if (level > log_get_level())
		return;
	line_begin(&l, level, NULL);
	line_field(&l, "msg", event, strlen(event));
	va_start(ap, event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		/* A NULL value ends the list too: reading past it would
		 * read past the caller's arguments. */
		if ((v = va_arg(ap, const char *)) == NULL) {
			line_field(&l, k, "", 0);
			break;
		}
		line_field(&l, k, v, strlen(v));
	}
	va_end(ap);
	line_end(&l);
	errno = saved;
}

void
log_fatal(const char *func, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(LOG_FATAL, func, fmt, ap);
	va_end(ap);
	exit(1);
}
