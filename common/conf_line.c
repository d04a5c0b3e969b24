/*
 * The "keyword value" line of warden's configuration files
 * (conf_line.h).
 */
#include <string.h>

#include "conf_line.h"
#include "util.h"

int
conf_split_line(char *line, char **kw, char **val, char *err, size_t errlen)
{
	static const char ws[] = " \t\r";
	char		*p, *q;

	p = line + strspn(line, ws);
	if (*p == '\0' || *p == '#')
		return 1;
	for (q = p; *q != '\0'; q++)
		if ((unsigned char)*q < 0x20 && strchr(ws, *q) == NULL) {
			str_printf(err, errlen, "control character 0x%02x",
			    (unsigned char)*q);
			return -1;
		} else if (*q == 0x7f) {
			str_printf(err, errlen, "control character 0x7f");
			return -1;
		}

	*kw = p;
	p += strcspn(p, ws);
	if (*p != '\0')
		*p++ = '\0';
	p += strspn(p, ws);
	if (*p == '\0' || *p == '#') {
		*val = NULL;	/* the caller says unknown or missing */
		return 0;
	}

	if (*p == '"') {
		/* "..." with \" and \\ as the only escapes. */
		*val = q = ++p;
		for (;; p++) {
			if (*p == '\0') {
				str_printf(err, errlen, "bad quoting: no closing "
				    "quote");
				return -1;
			}
			if (*p == '"')
				break;
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			*q++ = *p;
		}
		*q = '\0';
		p++;
		if (*p != '\0' && strchr(ws, *p) == NULL) {
			str_printf(err, errlen, "bad quoting: text after the "
			    "closing quote");
			return -1;
		}
	} else {
		*val = p;
		p += strcspn(p, ws);
		for (q = *val; q < p; q++)
			if (*q == '"') {
				str_printf(err, errlen, "bad quoting: quote inside "
				    "an unquoted value");
				return -1;
			}
		if (*p != '\0')
			*p++ = '\0';
	}

	p += strspn(p, ws);
	if (*p != '\0' && *p != '#') {
		str_printf(err, errlen, "trailing garbage \"%.32s\" after the "
		    "value of %.64s", p, *kw);
		return -1;
	}
	return 0;
}

