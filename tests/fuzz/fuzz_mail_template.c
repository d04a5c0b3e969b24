/*
 * libFuzzer target of daemon/mail/template.c and message.c: a template
 * file parsed, then filled and built into a message.  A message built
 * has no bare CR or LF, and its header ends before the first empty line
 * with no line that the template's text could have added.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mail/message.h"
#include "mail/template.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct mail_template t;
	struct mail_params p = { "https://example.test/ui/x?token=abc",
	    "alice", "30 minutes" };
	struct mail_head h = { "warden@example.test", "bob@example.test", 0 };
	char	 err[256], *msg, *end, *line;
	size_t	 len, i, nhead = 0;

	if (!ready && (ready = sodium_init() >= 0 ? 1 : 0) == 0)
		abort();
	if (mail_template_parse((const char *)data, size, &t, err,
	    sizeof(err)) == -1)
		return 0;
	if ((msg = mail_message_build(&t, &p, &h, &len, err,
	    sizeof(err))) != NULL) {
		for (i = 0; i < len; i++)
			if ((msg[i] == '\r') != (i + 1 < len &&
			    msg[i + 1] == '\n') ||
			    (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r')))
				abort();
		if ((end = strstr(msg, "\r\n\r\n")) == NULL)
			abort();
		/* The header: 8 fields, the Subject perhaps folded. */
		for (line = msg; line < end; line = strstr(line, "\r\n") + 2)
			if (*line != ' ')
				nhead++;
		if (nhead != 8)
			abort();
		free(msg);
	}
	mail_template_clear(&t);
	return 0;
}
