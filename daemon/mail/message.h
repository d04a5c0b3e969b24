/*
 * An RFC 5322 message from a template: the header (From, To, Subject,
 * Date, Message-ID, MIME-Version, Content-Type text/plain; charset=utf-8,
 * Content-Transfer-Encoding 8bit) and the body, every line ending in CRLF
 * and at most 998 octets (RFC 5322 2.1.1).  A Subject that is not ASCII
 * is an RFC 2047 encoded word.  Header injection is impossible: an
 * address or a substituted value with a control character is refused,
 * never cleaned.
 */
#ifndef WARDEN_MAIL_MESSAGE_H
#define WARDEN_MAIL_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "template.h"

#define MAIL_ADDR_MAX	254		/* RFC 5321 4.5.3.1.3 */
#define MAIL_LINE_MAX	998		/* RFC 5322 2.1.1, without CRLF */

/* The envelope and the header's fixed fields. */
struct mail_head {
	const char	*from;		/* an addr-spec: local@domain */
	const char	*to;		/* likewise */
	time_t		 date;		/* Date: */
};

/*
 * True when a is a plain addr-spec we can put in a header and an SMTP
 * envelope: 3..254 bytes, one '@' with text on both sides, printable
 * ASCII or UTF-8, none of space, control characters, <>()[],;:\".
 */
bool	mail_addr_ok(const char *a);

/*
 * Builds the message of template t filled with p for h: a new buffer of
 * *len bytes (and a NUL), which the caller frees.  Returns NULL with a
 * reason in err (no value is quoted in it) on a bad address, a value that
 * would break the header, a subject or line too long, or no memory.
 */
char	*mail_message_build(const struct mail_template *t,
	    const struct mail_params *p, const struct mail_head *h,
	    size_t *len, char *err, size_t errlen);

/* The domain of a mail_from default: "warden@" and the host of url (an
 * http(s) URL, port and brackets dropped) into dst.  -1 when it does not
 * fit or url has no host. */
int	mail_default_from(const char *url, char *dst, size_t dstlen);

#endif
