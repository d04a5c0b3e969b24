/*
 * QR codes as SVG, for the otpauth URI of a TOTP enrolment.  Pure: no
 * state, no I/O.  The code is libqrencode's (8-bit mode, error correction
 * M, the smallest version that holds the text); the SVG is one <path> of
 * the dark modules on a white square, a quiet zone of QR_SVG_QUIET
 * modules, a viewBox in modules, QR_SVG_SCALE pixels a module for its
 * width and height, shape-rendering="crispEdges", and nothing else (no
 * script, no external reference).
 */
#ifndef WARDEN_API_QR_SVG_H
#define WARDEN_API_QR_SVG_H

#define QR_SVG_QUIET	4	/* modules of margin on each side */
#define QR_SVG_SCALE	4	/* pixels a module */

/*
 * Encodes text (NUL-terminated, not empty) and writes the SVG document to
 * a new string in *svg_out, which the caller frees.  Returns 0, or -1
 * with *svg_out NULL and errno set (EINVAL: text NULL or empty; ERANGE:
 * too long for a QR code; ENOMEM).
 */
int	qr_svg(const char *text, char **svg_out);

#endif
