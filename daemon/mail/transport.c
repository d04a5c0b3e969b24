/*
 * Parsing mail_transport (transport.h).
 */
#include <string.h>

#include "transport.h"
#include "util.h"

#define HOST_CHARS	"abcdefghijklmnopqrstuvwxyz"			\
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"
#define V6_CHARS	"0123456789abcdefABCDEF:."

static int
fail(struct mail_transport *t, char *err, size_t errlen, const char *why)
{
	memset(t, 0, sizeof(*t));
	str_copy(err, why, errlen);
	return -1;
}

/* A DNS name or IPv4 address: labels of [A-Za-z0-9-], not starting or
 * ending with '-', 1..63 each. */
static bool
host_ok(const char *h, size_t len)
{
	size_t	 i, label = 0;

	if (len == 0 || len > MAIL_HOST_MAX || strspn(h, HOST_CHARS) < len)
		return false;
	for (i = 0; i < len; i++) {
		if (h[i] == '.') {
			if (label == 0 || h[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (h[i] == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && h[len - 1] != '-';
}

static int
parse_server(const char *s, unsigned int defport, struct mail_transport *t,
    char *err, size_t errlen)
{
	const char *colon, *end;
	size_t	 hlen;
	long long port;
	const char *errstr;
	char	 num[8];

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return fail(t, err, errlen, "mail_transport: an IPv6 "
			    "address needs its closing ]");
		hlen = (size_t)(end - s - 1);
		if (hlen < 2 || hlen > 45 || strspn(s + 1, V6_CHARS) != hlen)
			return fail(t, err, errlen, "mail_transport: a bad "
			    "IPv6 address");
		memcpy(t->host, s, hlen + 2);
		t->host[hlen + 2] = '\0';
		colon = end + 1;
		if (*colon != '\0' && *colon != ':')
			return fail(t, err, errlen, "mail_transport: only a "
			    "port may follow the host");
	} else {
		colon = strchr(s, ':');
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (!host_ok(s, hlen))
			return fail(t, err, errlen, "mail_transport: a host "
			    "name, IPv4 address or [IPv6] address is needed "
			    "(no user, path or query)");
		memcpy(t->host, s, hlen);
		t->host[hlen] = '\0';
		if (colon == NULL)
			colon = s + hlen;
	}
	t->port = defport;
	if (*colon == ':') {
		if (strlen(colon + 1) >= sizeof(num) ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
		    num_parse(colon + 1, 1, 65535, &port, &errstr) == -1)
			return fail(t, err, errlen, "mail_transport: the port "
			    "must be a number from 1 to 65535");
		t->port = (unsigned int)port;
	}
	return 0;
}

int
mail_transport_parse(const char *s, struct mail_transport *t, char *err,
    size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (s == NULL || strcmp(s, "off") == 0)
		return 0;
	if (strncmp(s, "smtp://", 7) == 0) {
		t->kind = MAIL_SMTP;
		return parse_server(s + 7, 25, t, err, errlen);
	}
	if (strncmp(s, "smtps://", 8) == 0) {
		t->kind = MAIL_SMTPS;
		return parse_server(s + 8, 465, t, err, errlen);
	}
	if (strncmp(s, "dir:", 4) == 0) {
		s += 4;
		if (*s != '/' || strlen(s) > MAIL_DIR_MAX ||
		    strpbrk(s, "\r\n") != NULL)
			return fail(t, err, errlen, "mail_transport: dir: "
			    "needs an absolute path");
		t->kind = MAIL_DIR;
		(void)str_copy(t->dir, s, sizeof(t->dir));
		return 0;
	}
	return fail(t, err, errlen, "mail_transport: smtp://host[:port], "
	    "smtps://host[:port], dir:/path or off");
}

bool
mail_transport_enabled(const char *s)
{
	return s != NULL && *s != '\0' && strcmp(s, "off") != 0;
}
