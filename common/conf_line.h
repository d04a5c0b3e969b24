/*
 * One line of the "keyword value" syntax that warden.conf and the
 * providers' files (daemon/upstream/providers.h) share: a keyword, then a
 * value, bare or in double quotes with \" and \\ as the only escapes; '#'
 * starts a comment; spaces, tabs and a CR separate.  No other control
 * character is allowed.
 */
#ifndef WARDEN_CONF_LINE_H
#define WARDEN_CONF_LINE_H

#include <stddef.h>

/*
 * Splits line into keyword and value (NULL when missing), in place.
 * Returns 0, 1 for a blank or comment line, or -1 with a reason in err.
 */
int	conf_split_line(char *line, char **kw, char **val, char *err,
	    size_t errlen);

#endif
