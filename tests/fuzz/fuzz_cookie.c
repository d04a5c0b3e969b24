/*
 * libFuzzer target of daemon/api/device.c's reader of the Cookie request
 * header (the device cookie at the token endpoint).  A value it returns
 * fits its buffer, is NUL-terminated and is not empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/device.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 out[64], *s;

	/* A header value is a C string: libevent has cut it at a NUL. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(out, 'x', sizeof(out));
	if (device_cookie_get(s, DEVICE_COOKIE, out, sizeof(out)) == 0 &&
	    (memchr(out, '\0', sizeof(out)) == NULL || out[0] == '\0'))
		abort();
	(void)device_cookie_get(s, "a", out, 2);
	free(s);
	return 0;
}
