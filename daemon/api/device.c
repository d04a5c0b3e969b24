#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "device.h"
#include "http/cookie.h"

int
device_cookie_get(const char *header, const char *name, char *out,
    size_t outlen)
{
	return cookie_get(header, name, out, outlen);
}

int
device_set_cookie(char *out, size_t outlen, const char *token,
    const char *path, int64_t max_age, bool secure)
{
	int	 n;

	if (!cookie_value_ok(token))
		return -1;
	n = snprintf(out, outlen, "%s=%s; Max-Age=%lld; Path=%s; HttpOnly; "
	    "SameSite=Strict%s", DEVICE_COOKIE, token, (long long)max_age,
	    path, secure ? "; Secure" : "");
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

bool
device_cookie_secure(const char *url)
{
	return url != NULL && strncasecmp(url, "https://", 8) == 0;
}
