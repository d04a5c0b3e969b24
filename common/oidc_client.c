/*
 * oidc_client.h: the clients' field rules.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <bsd/string.h>
#include <sodium.h>

#include "b64url.h"
#include "fields.h"
#include "oidc_client.h"
#include "secret_token.h"
#include "util.h"

static const char *const scope_names[] = {
	"openid", "profile", "email", "roles", "offline_access",
};
#define NSCOPES	(sizeof(scope_names) / sizeof(scope_names[0]))

unsigned
oidc_scope_bit(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < NSCOPES; i++)
		if (strlen(scope_names[i]) == len &&
		    memcmp(scope_names[i], name, len) == 0)
			return 1u << i;
	return 0;
}

int
oidc_scopes_parse(const char *s, char sep, unsigned *bits)
{
	const char	*end;
	unsigned	 b, all = 0;
	size_t		 len;

	*bits = 0;
	if (s == NULL)
		return -1;
	if (*s == '\0')
		return 0;
	for (;;) {
		end = strchr(s, sep);
		len = end != NULL ? (size_t)(end - s) : strlen(s);
		if ((b = oidc_scope_bit(s, len)) == 0)
			return -1;
		all |= b;
		if (end == NULL)
			break;
		s = end + 1;
	}
	*bits = all;
	return 0;
}

void
oidc_scopes_text(unsigned bits, char sep, char out[OIDC_SCOPES_TEXT_MAX])
{
	char	 s[2] = { sep, '\0' };
	size_t	 i;

	out[0] = '\0';
	for (i = 0; i < NSCOPES; i++) {
		if ((bits & (1u << i)) == 0)
			continue;
		if (out[0] != '\0')
			strlcat(out, s, OIDC_SCOPES_TEXT_MAX);
		strlcat(out, scope_names[i], OIDC_SCOPES_TEXT_MAX);
	}
}

void
oidc_scopes_literal(unsigned bits, char out[OIDC_SCOPES_TEXT_MAX])
{
	char	 t[OIDC_SCOPES_TEXT_MAX];

	oidc_scopes_text(bits, ',', t);
	(void)str_printf(out, OIDC_SCOPES_TEXT_MAX, "{%s}", t);
}

/* RFC 3986's unreserved, sub-delims, ':', '@', '/', '?' and '%': what a
 * path and a query may hold. */
static bool
uri_char(unsigned char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("-._~!$&'()*+,;=:@/?%", c) != NULL;
}

/* A port: 1..5 digits, 1..65535. */
static bool
port_ok(const char *p, size_t len)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (len == 0 || len > 5)
		return false;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* A registered name: dot-separated labels of [A-Za-z0-9-], neither
 * starting nor ending with '-', no empty label. */
static bool
reg_name_ok(const char *h, size_t len)
{
	size_t	 i, label = 0;

	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		char c = h[i];

		if (c == '.') {
			if (label == 0 || h[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && h[len - 1] != '-';
}

/* An IPv6 literal's inside: hex digits, ':' and '.' (for an embedded
 * IPv4), at least two colons. */
static bool
ipv6_ok(const char *h, size_t len)
{
	size_t	 i, colons = 0;

	if (len < 2 || len > 45)
		return false;
	for (i = 0; i < len; i++) {
		if (h[i] == ':')
			colons++;
		else if (hex_digit_value((unsigned char)h[i]) == -1 &&
		    h[i] != '.')
			return false;
	}
	return colons >= 2;
}

bool
oidc_redirect_uri_ok(const char *uri)
{
	const char	*p, *auth, *host, *end;
	size_t		 len, hlen, i;
	bool		 https;

	if (uri == NULL)
		return false;
	len = strnlen(uri, OIDC_URI_MAX + 1);
	if (len == 0 || len > OIDC_URI_MAX)
		return false;
	if (strncmp(uri, "https://", 8) == 0) {
		https = true;
		auth = uri + 8;
	} else if (strncmp(uri, "http://", 7) == 0) {
		https = false;
		auth = uri + 7;
	} else
		return false;

	/* The authority: up to the path or the query. */
	end = auth + strcspn(auth, "/?");
	if (end == auth || memchr(auth, '@', (size_t)(end - auth)) != NULL)
		return false;
	host = auth;
	if (*host == '[') {
		if ((p = memchr(host, ']', (size_t)(end - host))) == NULL ||
		    !ipv6_ok(host + 1, (size_t)(p - host - 1)))
			return false;
		hlen = (size_t)(p - host) + 1;
	} else {
		p = memchr(host, ':', (size_t)(end - host));
		hlen = p != NULL ? (size_t)(p - host) : (size_t)(end - host);
		if (!reg_name_ok(host, hlen))
			return false;
	}
	if (host + hlen != end && (host[hlen] != ':' ||
	    !port_ok(host + hlen + 1, (size_t)(end - host - hlen - 1))))
		return false;
	if (!https && !((hlen == 9 && memcmp(host, "127.0.0.1", 9) == 0) ||
	    (hlen == 5 && memcmp(host, "[::1]", 5) == 0) ||
	    (hlen == 9 && memcmp(host, "localhost", 9) == 0)))
		return false;

	/* The path and the query: no fragment, escapes well formed. */
	for (i = (size_t)(end - uri); i < len; i++) {
		unsigned char c = (unsigned char)uri[i];

		if (!uri_char(c))
			return false;
		if (c == '%' && (i + 2 >= len ||
		    hex_digit_value((unsigned char)uri[i + 1]) == -1 ||
		    hex_digit_value((unsigned char)uri[i + 2]) == -1))
			return false;
	}
	return true;
}

bool
oidc_client_name_ok(const char *name)
{
	size_t	 len;

	if (name == NULL || *name == '\0')
		return false;
	len = strnlen(name, OIDC_CLIENT_NAME_BYTES + 1);
	return len <= OIDC_CLIENT_NAME_BYTES && field_is_full_name(name) &&
	    field_utf8_length(name, len) <= OIDC_CLIENT_NAME_MAX;
}

bool
oidc_client_id_ok(const char *id)
{
	size_t	 len, i;

	if (id == NULL)
		return false;
	len = strnlen(id, OIDC_CLIENT_ID_MAX + 1);
	if (len < OIDC_CLIENT_ID_MIN || len > OIDC_CLIENT_ID_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = id[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

void
oidc_client_id_new(char out[OIDC_CLIENT_ID_MIN + 1])
{
	uint8_t	 raw[16];

	randombytes_buf(raw, sizeof(raw));
	/* 16 bytes are 22 characters of base64url without padding. */
	(void)b64url_encode(out, OIDC_CLIENT_ID_MIN + 1, raw, sizeof(raw));
}

bool
oidc_alg_ok(const char *alg)
{
	return alg != NULL &&
	    (strcmp(alg, "RS256") == 0 || strcmp(alg, "EdDSA") == 0);
}

bool
oidc_secret_ok(const char *stored, const char *secret, size_t len)
{
	char	 hash[SECRET_TOKEN_HASH_LITERAL];
	bool	 ok;

	if (stored == NULL || strlen(stored) != SECRET_TOKEN_HASH_LITERAL - 1 ||
	    secret == NULL || secret_token_hash(secret, len, hash) == -1)
		return false;
	ok = sodium_memcmp(hash, stored, SECRET_TOKEN_HASH_LITERAL - 1) == 0;
	sodium_memzero(hash, sizeof(hash));
	return ok;
}
