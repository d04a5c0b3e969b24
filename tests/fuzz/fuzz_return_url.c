/*
 * libFuzzer target of daemon/http/return_url.c (rd of /ui/login, straight
 * from the query string) and of csrf_origin_ok() (Origin and Referer
 * headers).  Whatever return_url_ok() accepts is re-read here by a
 * separate, naive reading: an http(s) URL whose authority holds no '@'
 * and whose host is auth.example.com or under example.com, with no
 * backslash, space, control or non-ASCII byte anywhere.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ui/csrf.h"
#include "http/return_url.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
recheck(const char *u, size_t outlen, int dev)
{
	const char	*a, *end, *colon;
	size_t		 hlen, i;

	if (memchr(u, '\0', outlen) == NULL)
		abort();
	for (i = 0; u[i] != '\0'; i++)
		if ((unsigned char)u[i] <= 0x20 ||
		    (unsigned char)u[i] >= 0x7f || u[i] == '\\')
			abort();
	if (strncmp(u, "https://", 8) == 0)
		a = u + 8;
	else if (dev && strncmp(u, "http://", 7) == 0)
		a = u + 7;
	else
		abort();
	end = a + strcspn(a, "/?#");
	if (*end != '/' || memchr(a, '@', (size_t)(end - a)) != NULL)
		abort();
	colon = memchr(a, ':', (size_t)(end - a));
	hlen = (size_t)((colon != NULL ? colon : end) - a);
	if (dev) {
		if (hlen != 9 || strncmp(a, "localhost", 9) != 0)
			abort();
		return;
	}
	if (hlen == 16 && strncmp(a, "auth.example.com", 16) == 0)
		return;
	if (hlen == 11 && strncmp(a, "example.com", 11) == 0)
		return;
	if (hlen > 12 && strncmp(a + hlen - 12, ".example.com", 12) == 0)
		return;
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, out[RETURN_URL_MAX + 64];
	char	*nl;

	/* A query parameter or header is a C string by the time it is here. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (return_url_ok(s, "https://auth.example.com", "example.com", out,
	    sizeof(out)))
		recheck(out, sizeof(out), 0);
	if (return_url_ok(s, "http://localhost:8080", "", out, sizeof(out)))
		recheck(out, sizeof(out), 1);
	/* Origin, then Referer after the first newline. */
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		if (csrf_origin_ok(s, nl + 1, "https://auth.example.com") &&
		    strcasecmp(s, "https://auth.example.com") != 0 &&
		    strcasecmp(s, "https://auth.example.com:443") != 0)
			abort();
	}
	(void)csrf_origin_ok(NULL, s, "https://auth.example.com");
	free(s);
	return 0;
}
