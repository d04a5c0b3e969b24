/*
 * daemon/api/qr_svg.c: the SVG's frame (size, viewBox, quiet zone,
 * crispEdges, one path, nothing else), and its path read back into a
 * module matrix that must be libqrencode's symbol exactly.  When zbarimg
 * and rsvg-convert are installed the picture is decoded back too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qrencode.h>

#include "api/qr_svg.h"

#define URI	"otpauth://totp/warden:alice?secret=" \
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=warden&algorithm=SHA1&" \
		"digits=6&period=30"

static int
count(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/* Reads the path's "Mx yhNv1h-Nz" runs into m (size x size). */
static void
path_modules(const char *svg, int size, unsigned char *m)
{
	const char *d = strstr(svg, " d=\"");
	int x, y, w, w2, n;

	assert_non_null(d);
	d += 4;
	while (*d != '"') {
		assert_int_equal(sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &w,
		    &w2, &n), 4);
		assert_int_equal(w, w2);
		assert_true(x >= 0 && y >= 0 && w >= 1 && x + w <= size &&
		    y < size);
		while (w-- > 0) {
			assert_int_equal(m[y * size + x], 0);	/* no overlap */
			m[y * size + x++] = 1;
		}
		d += n;
	}
}

static void
test_matches_libqrencode(void **state)
{
	QRcode *q;
	char *svg = NULL, head[256];
	unsigned char *m;
	int size, x, y, dark = 0;

	assert_int_equal(qr_svg(URI, &svg), 0);
	assert_non_null(svg);
	q = QRcode_encodeString(URI, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	assert_non_null(q);
	size = q->width + 2 * QR_SVG_QUIET;
	assert_int_equal((q->width - 17) % 4, 0);	/* versions: 21 + 4k */

	snprintf(head, sizeof(head), "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "shape-rendering=\"crispEdges\">", size * QR_SVG_SCALE,
	    size * QR_SVG_SCALE, size, size);
	assert_memory_equal(svg, head, strlen(head));
	assert_int_equal(strcmp(svg + strlen(svg) - 6, "</svg>"), 0);
	/* well-formed enough: one of each element, nothing active */
	assert_int_equal(count(svg, "<svg"), 1);
	assert_int_equal(count(svg, "</svg>"), 1);
	assert_int_equal(count(svg, "<path"), 1);
	assert_int_equal(count(svg, "<rect"), 1);
	assert_int_equal(count(svg, "<"), 4);
	assert_int_equal(count(svg, ">"), 4);
	assert_null(strstr(svg, "script"));
	assert_null(strstr(svg, "href"));
	assert_null(strstr(svg, "on"));

	m = calloc((size_t)size * (size_t)size, 1);
	assert_non_null(m);
	path_modules(svg, size, m);
	for (y = 0; y < size; y++)
		for (x = 0; x < size; x++) {
			bool in = x >= QR_SVG_QUIET && y >= QR_SVG_QUIET &&
			    x < QR_SVG_QUIET + q->width &&
			    y < QR_SVG_QUIET + q->width;
			bool want = in && (q->data[(y - QR_SVG_QUIET) *
			    q->width + (x - QR_SVG_QUIET)] & 1);

			assert_int_equal(m[y * size + x], want);
			dark += want;
		}
	assert_true(dark > 0);
	free(m);
	QRcode_free(q);
	free(svg);
}

static void
test_decodes(void **state)
{
	char path[] = "/tmp/warden-qr-XXXXXX", cmd[512], out[512];
	char *svg = NULL;
	FILE *f, *p;
	int fd;

	if (system("command -v zbarimg >/dev/null 2>&1 && "
	    "command -v rsvg-convert >/dev/null 2>&1") != 0) {
		print_message("zbarimg or rsvg-convert missing: not decoded\n");
		return;
	}
	assert_int_equal(qr_svg(URI, &svg), 0);
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	assert_int_equal(fputs(svg, f) >= 0, 1);
	fclose(f);
	free(svg);
	snprintf(cmd, sizeof(cmd), "rsvg-convert -f png %s | zbarimg -q --raw "
	    "- 2>/dev/null", path);
	assert_non_null(p = popen(cmd, "r"));
	out[0] = '\0';
	if (fgets(out, sizeof(out), p) == NULL)
		out[0] = '\0';
	pclose(p);
	unlink(path);
	out[strcspn(out, "\n")] = '\0';
	assert_string_equal(out, URI);
}

static void
test_refuses(void **state)
{
	char *svg = (char *)"x", *big;

	errno = 0;
	assert_int_equal(qr_svg(NULL, &svg), -1);
	assert_null(svg);
	assert_int_equal(errno, EINVAL);
	svg = (char *)"x";
	assert_int_equal(qr_svg("", &svg), -1);
	assert_null(svg);
	assert_int_equal(qr_svg("x", NULL), -1);
	/* more than version 40-M holds (2331 bytes) */
	big = malloc(4000);
	assert_non_null(big);
	memset(big, 'a', 3999);
	big[3999] = '\0';
	svg = (char *)"x";
	assert_int_equal(qr_svg(big, &svg), -1);
	assert_null(svg);
	free(big);
	/* the smallest text: version 1, 21 modules */
	assert_int_equal(qr_svg("a", &svg), 0);
	assert_non_null(strstr(svg, "viewBox=\"0 0 29 29\""));
	free(svg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_libqrencode),
		cmocka_unit_test(test_decodes),
		cmocka_unit_test(test_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
