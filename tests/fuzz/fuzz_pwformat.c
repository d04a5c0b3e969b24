/*
 * libFuzzer target of common/pwformat.c: any string as a stored hash.  A
 * string is known exactly when no reason refuses it, a known one has a
 * name that maps back to its format, and a reason is short, printable and
 * never quotes the string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pwformat.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 s[1024];
	const char	*why;
	enum pw_format	 f;
	size_t		 i;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	f = pwformat_of(s);
	why = pwformat_why(s);
	if ((f == PWF_UNKNOWN) != (why != NULL))
		abort();
	if (f != PWF_UNKNOWN &&
	    pwformat_by_name(pwformat_name(f)) != f)
		abort();
	if (why != NULL) {
		if (strlen(why) > 80 || (strlen(s) > 12 &&
		    strstr(why, s + 4) != NULL))
			abort();
		for (i = 0; why[i] != '\0'; i++)
			if ((unsigned char)why[i] < 0x20)
				abort();
	}
	return 0;
}
