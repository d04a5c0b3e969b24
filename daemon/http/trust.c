/*
 * Trusted proxies and the client address behind them.  See trust.h.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/keyvalq_struct.h>

#include "trust.h"
#include "util.h"

/* Parses an address into family and 16 bytes; IPv4-mapped IPv6 counts as
 * IPv4.  Returns 0 or -1. */
static int
addr_parse(const char *s, int *family, uint8_t addr[16])
{
	struct in6_addr	 a6;

	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) != 1)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(addr, &a6.s6_addr[12], 4);
		*family = AF_INET;
	} else {
		memcpy(addr, &a6, 16);
		*family = AF_INET6;
	}
	return 0;
}

int
http_trust_parse(struct http_trust *t, char *const *entries, size_t n,
    char *err, size_t errlen)
{
	struct http_cidr *c;
	const char	*e, *slash, *errstr;
	char		 host[INET6_ADDRSTRLEN + 1];
	long long	 prefix;
	size_t		 i;
	bool		 mapped;

	memset(t, 0, sizeof(*t));
	if (n > HTTP_MAX_PROXIES) {
		str_printf(err, errlen, "trusted_proxies: more than %d entries",
		    HTTP_MAX_PROXIES);
		return -1;
	}
	for (i = 0; i < n; i++) {
		e = entries[i];
		c = &t->v[t->n];
		if (strcmp(e, "unix") == 0) {
			c->family = AF_UNIX;
			t->n++;
			continue;
		}
		slash = strchr(e, '/');
		if ((slash != NULL && (size_t)(slash - e) >= sizeof(host)) ||
		    str_copy(host, e, sizeof(host)) == -1)
			goto bad;
		if (slash != NULL)
			host[slash - e] = '\0';
		if (addr_parse(host, &c->family, c->addr) == -1)
			goto bad;
		mapped = c->family == AF_INET && strchr(host, ':') != NULL;
		c->prefix = c->family == AF_INET ? 32 : 128;
		if (slash != NULL) {
			if (num_parse(slash + 1, 0, mapped ? 128 :
			    c->prefix, &prefix, &errstr) == -1)
				goto bad;
			if (mapped) {
				if (prefix < 96)
					goto bad;
				prefix -= 96;
			}
			c->prefix = (unsigned int)prefix;
		}
		t->n++;
	}
	return 0;
bad:
	str_printf(err, errlen, "trusted_proxies: bad entry \"%s\"", e);
	return -1;
}

static bool
cidr_match(const struct http_cidr *c, int family, const uint8_t a[16])
{
	unsigned int	 full, rest;
	uint8_t		 mask;

	if (c->family != family)
		return false;
	full = c->prefix / 8;
	rest = c->prefix % 8;
	if (memcmp(c->addr, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (c->addr[full] & mask) == (a[full] & mask);
}

bool
http_trust_has(const struct http_trust *t, const char *addr)
{
	uint8_t		 a[16];
	int		 family;
	size_t		 i;

	if (strcmp(addr, "unix") == 0)
		family = AF_UNIX;
	else if (addr_parse(addr, &family, a) == -1)
		return false;
	for (i = 0; i < t->n; i++) {
		if (family == AF_UNIX ? t->v[i].family == AF_UNIX :
		    cidr_match(&t->v[i], family, a))
			return true;
	}
	return false;
}

/*
 * Normalises one X-Forwarded-For element (s[0..len), trimmed) into out:
 * "1.2.3.4", "1.2.3.4:port", "2001:db8::1", "[2001:db8::1]:port".
 * Returns 0, or -1 when it is no address ("unknown", garbage).
 */
static int
xff_element(const char *s, size_t len, char out[HTTP_ADDR_MAX])
{
	char		 tmp[HTTP_ADDR_MAX + 8], *p;
	uint8_t		 a[16];
	int		 family;
	const char	*colon;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	p = tmp;
	if (p[0] == '[') {
		char *rb = strchr(p, ']');

		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':'))
			return -1;
		*rb = '\0';
		p++;
	} else if ((colon = strchr(p, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL)
		tmp[colon - tmp] = '\0';	/* v4:port */
	if (addr_parse(p, &family, a) == -1)
		return -1;
	if (inet_ntop(family, a, out, HTTP_ADDR_MAX) == NULL)
		return -1;
	return 0;
}

void
http_client_addr(const struct http_trust *t, const char *peer,
    const char *xff, char out[HTTP_ADDR_MAX])
{
	const char	*end, *start;
	char		 addr[HTTP_ADDR_MAX];

	if (str_copy(out, peer, HTTP_ADDR_MAX) == -1)
		str_copy(out, "-", HTTP_ADDR_MAX);
	if (xff == NULL || !http_trust_has(t, out))
		return;
	/* Right to left: each hop appended the address it saw; the first
	 * one that is not our own proxy is the client. */
	end = xff + strlen(xff);
	while (end > xff) {
		for (start = end; start > xff && start[-1] != ','; start--)
			;
		if (xff_element(start, (size_t)(end - start), addr) == -1)
			return;		/* a broken chain: trust no further */
		str_copy(out, addr, HTTP_ADDR_MAX);
		if (!http_trust_has(t, addr))
			return;
		end = start > xff ? start - 1 : xff;
	}
}

void
http_peer_addr(const struct sockaddr *sa, char out[HTTP_ADDR_MAX])
{
	const struct sockaddr_in6 *s6;

	str_copy(out, "-", HTTP_ADDR_MAX);
	if (sa == NULL)
		return;
	switch (sa->sa_family) {
	case AF_INET:
		inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    out, HTTP_ADDR_MAX);
		break;
	case AF_INET6:
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out,
			    HTTP_ADDR_MAX);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, out,
			    HTTP_ADDR_MAX);
		break;
	case AF_UNIX:
		str_copy(out, "unix", HTTP_ADDR_MAX);
		break;
	}
}

char *
http_xff_join(const struct evkeyvalq *h)
{
	struct evkeyval	*kv;
	size_t		 len = 0, used = 0, l;
	char		*s;

	TAILQ_FOREACH(kv, h, next)
		if (strcasecmp(kv->key, "X-Forwarded-For") == 0)
			len += strlen(kv->value) + 1;
	if (len == 0 || (s = malloc(len)) == NULL)
		return NULL;
	TAILQ_FOREACH(kv, h, next) {
		if (strcasecmp(kv->key, "X-Forwarded-For") != 0)
			continue;
		if (used > 0)
			s[used++] = ',';
		l = strlen(kv->value);
		memcpy(s + used, kv->value, l);
		used += l;
	}
	s[used] = '\0';
	return s;
}
