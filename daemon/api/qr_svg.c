/*
 * QR codes as SVG documents.  See qr_svg.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "qr_svg.h"

struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 err;
};

static void __attribute__((format(printf, 2, 3)))
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 cap;
	char	*np;
	int	 n;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = EINVAL;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		cap = b->cap * 2;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->err = ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

/* Dark module at (x, y) of the symbol: libqrencode's bit 0. */
static int
dark(const QRcode *q, int x, int y)
{
	return q->data[y * q->width + x] & 1;
}

int
qr_svg(const char *text, char **svg_out)
{
	struct sbuf	 b = { NULL, 0, 0, 0 };
	QRcode		*q;
	int		 x, y, run, size, saved;

	if (svg_out != NULL)
		*svg_out = NULL;
	if (text == NULL || *text == '\0' || svg_out == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8,
	    1)) == NULL)
		return -1;	/* errno: ERANGE (too long), EINVAL, ENOMEM */
	size = q->width + 2 * QR_SVG_QUIET;
	b.cap = 4096;
	if ((b.p = malloc(b.cap)) == NULL) {
		QRcode_free(q);
		errno = ENOMEM;
		return -1;
	}
	b.p[0] = '\0';
	sbuf_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "shape-rendering=\"crispEdges\">"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
	    "<path fill=\"#000\" d=\"", size * QR_SVG_SCALE,
	    size * QR_SVG_SCALE, size, size, size, size);
	/* Each horizontal run of dark modules is one rectangle. */
	for (y = 0; y < q->width; y++) {
		for (x = 0; x < q->width; x += run > 0 ? run : 1) {
			for (run = 0; x + run < q->width && dark(q, x + run, y);
			    run++)
				;
			if (run > 0)
				sbuf_printf(&b, "M%d %dh%dv1h-%dz",
				    x + QR_SVG_QUIET, y + QR_SVG_QUIET, run,
				    run);
		}
	}
	sbuf_printf(&b, "\"/></svg>");
	QRcode_free(q);
	if (b.err) {
		saved = b.err;
		free(b.p);
		errno = saved;
		return -1;
	}
	*svg_out = b.p;
	return 0;
}
