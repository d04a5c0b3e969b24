/*
 * Building a message (message.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "message.h"
#include "util.h"

/* A growing buffer; ok turns false for good once memory runs out. */
struct buf {
	char	*p;
	size_t	 len, cap;
	bool	 ok;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	char	*np;
	size_t	 cap;

	if (!b->ok)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap != 0 ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->ok = false;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

bool
mail_addr_ok(const char *a)
{
	const char *at;
	size_t	 len = strlen(a);
	const unsigned char *s;

	if (len < 3 || len > MAIL_ADDR_MAX)
		return false;
	if ((at = strchr(a, '@')) == NULL || at == a || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return false;
	for (s = (const unsigned char *)a; *s != '\0'; s++)
		if (*s <= 0x20 || *s == 0x7f || strchr("<>()[],;:\\\"", *s))
			return false;
	return true;
}

static bool
ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/*
 * Subject: as it is when ASCII (folded never: it is bounded), else as
 * RFC 2047 "B" encoded words of at most 45 octets each (60 characters of
 * base64, within the 75 of an encoded word), split between UTF-8
 * characters, one per folded line.
 */
static void
put_subject(struct buf *b, const char *s)
{
	char	 enc[64];
	size_t	 len = strlen(s), n;

	puts_(b, "Subject: ");
	if (ascii(s)) {
		puts_(b, s);
		puts_(b, "\r\n");
		return;
	}
	while (len > 0) {
		n = len < 45 ? len : 45;
		/* Back to the start of a UTF-8 character. */
		while (n < len && n > 1 &&
		    ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		sodium_bin2base64(enc, sizeof(enc), (const unsigned char *)s,
		    n, sodium_base64_VARIANT_ORIGINAL);
		puts_(b, "=?UTF-8?B?");
		puts_(b, enc);
		puts_(b, "?=");
		s += n;
		len -= n;
		puts_(b, len > 0 ? "\r\n " : "\r\n");
	}
}

/* The body: each LF becomes CRLF; a line past MAIL_LINE_MAX is an error. */
static int
put_body(struct buf *b, const char *s)
{
	const char *nl;
	size_t	 n;

	while (*s != '\0') {
		nl = strchr(s, '\n');
		n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		if (n > MAIL_LINE_MAX)
			return -1;
		put(b, s, n);
		puts_(b, "\r\n");
		s += n + (nl != NULL ? 1 : 0);
	}
	return 0;
}

static char *
fail(struct buf *b, char *err, size_t errlen, const char *why)
{
	free(b->p);
	str_copy(err, why, errlen);
	return NULL;
}

char *
mail_message_build(const struct mail_template *t, const struct mail_params *p,
    const struct mail_head *h, size_t *len, char *err, size_t errlen)
{
	struct buf b = { NULL, 0, 0, true };
	struct tm tm;
	unsigned char rnd[16];
	char	 date[64], hex[sizeof(rnd) * 2 + 1], line[512];
	char	*subject, *body;
	int	 rc;

	if (!mail_addr_ok(h->from))
		return fail(&b, err, errlen, "mail_from is not a plain address");
	if (!mail_addr_ok(h->to))
		return fail(&b, err, errlen, "the recipient is not a plain "
		    "address");
	if ((subject = mail_substitute(t->subject, p)) == NULL)
		return fail(&b, err, errlen, "a value holds a control "
		    "character, or no memory");
	if (strlen(subject) > MAIL_SUBJECT_MAX) {
		free(subject);
		return fail(&b, err, errlen, "the subject is too long");
	}
	if ((body = mail_substitute(t->body, p)) == NULL) {
		free(subject);
		return fail(&b, err, errlen, "a value holds a control "
		    "character, or no memory");
	}
	if (gmtime_r(&h->date, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000",
	    &tm) == 0) {
		free(subject);
		sodium_memzero(body, strlen(body));
		free(body);
		return fail(&b, err, errlen, "no date");
	}
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));

	(void)str_printf(line, sizeof(line), "From: %s\r\nTo: %s\r\n",
	    h->from, h->to);
	puts_(&b, line);
	put_subject(&b, subject);
	(void)str_printf(line, sizeof(line), "Date: %s\r\n"
	    "Message-ID: <%s@%s>\r\n", date, hex, strchr(h->from, '@') + 1);
	puts_(&b, line);
	puts_(&b, "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "\r\n");
	rc = put_body(&b, body);
	free(subject);
	/* The body holds the link and its token. */
	sodium_memzero(body, strlen(body));
	free(body);
	if (rc == -1) {
		if (b.p != NULL)
			sodium_memzero(b.p, b.len);
		return fail(&b, err, errlen, "a line of the body is longer "
		    "than 998 octets");
	}
	if (!b.ok)
		return fail(&b, err, errlen, "out of memory");
	*len = b.len;
	return b.p;
}

int
mail_default_from(const char *url, char *dst, size_t dstlen)
{
	const char *h, *end;
	size_t	 n;

	if ((h = strstr(url, "://")) == NULL)
		return -1;
	h += 3;
	if (*h == '[') {
		h++;
		end = strchr(h, ']');
	} else
		end = h + strcspn(h, ":/");
	if (end == NULL || end == h)
		return -1;
	n = (size_t)(end - h);
	if (n + sizeof("warden@") > dstlen)
		return -1;
	memcpy(dst, "warden@", 7);
	memcpy(dst + 7, h, n);
	dst[7 + n] = '\0';
	return 0;
}
