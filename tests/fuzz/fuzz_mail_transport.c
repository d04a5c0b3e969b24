/*
 * libFuzzer target of daemon/mail/transport.c, the parser of
 * mail_transport.  What it accepts has a known kind, a port in range for
 * SMTP, a host without CR, LF, '/', '@' or space, and an absolute dir.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/transport.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mail_transport t;
	char	 err[256], *s;

	/* A configuration value is a C string. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (mail_transport_parse(s, &t, err, sizeof(err)) == 0) {
		switch (t.kind) {
		case MAIL_OFF:
			break;
		case MAIL_SMTP:
		case MAIL_SMTPS:
			if (t.port < 1 || t.port > 65535 || t.host[0] == '\0' ||
			    strpbrk(t.host, "\r\n/@ ") != NULL ||
			    memchr(t.host, '\0', sizeof(t.host)) == NULL)
				abort();
			break;
		case MAIL_DIR:
			if (t.dir[0] != '/' || strpbrk(t.dir, "\r\n") != NULL)
				abort();
			break;
		default:
			abort();
		}
	} else if (t.kind != MAIL_OFF || memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	free(s);
	return 0;
}
