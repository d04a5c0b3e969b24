/*
 * authz_request.h: the authorization request read into its struct, its
 * judgement, and the URLs of its answers.
 */
#include <stdint.h>
#include <string.h>

#include "authz_request.h"
#include "fields.h"
#include "oidc_client.h"
#include "util.h"

/* Our parameters: name, offset and size of the field that holds it. */
static const struct {
	const char	*name;
	size_t		 off;
	size_t		 size;
	bool		 target;	/* a fault leaves no address to answer */
} params[] = {
#define P(n, f, t) { n, offsetof(struct authz_request, f), \
	sizeof(((struct authz_request *)0)->f), t }
	P("client_id", client_id, true),
	P("redirect_uri", redirect_uri, true),
	P("response_type", response_type, false),
	P("response_mode", response_mode, false),
	P("scope", scope, false),
	P("state", state, false),
	P("nonce", nonce, false),
	P("code_challenge", code_challenge, false),
	P("code_challenge_method", code_challenge_method, false),
	P("prompt", prompt, false),
	P("max_age", max_age, false),
	P("login_hint", login_hint, false),
	P(AUTHZ_LOGIN_AT, login_at, false),
#undef P
};
#define NPARAMS	(sizeof(params) / sizeof(params[0]))
_Static_assert(NPARAMS == AUTHZ_NFIELDS, "AUTHZ_NFIELDS");

/* Decodes s[0..len) into out (size bytes with the NUL).  0, or -1 when it
 * is malformed or does not fit (out then ""). */
static int
decode(const char *s, size_t len, char *out, size_t size)
{
	size_t		 i, o = 0;
	unsigned char	 c;
	int		 h, l;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (len - i < 3 ||
			    (h = hex_digit_value((unsigned char)s[i + 1])) ==
			    -1 ||
			    (l = hex_digit_value((unsigned char)s[i + 2])) ==
			    -1 || (h | l) == 0)
				goto fail;
			c = (unsigned char)(h << 4 | l);
			i += 2;
		} else if (c < 0x20 || c == 0x7f)
			goto fail;
		if (c < 0x20 || c == 0x7f || o + 1 >= size)
			goto fail;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (field_utf8_valid(out, o))
		return 0;
fail:
	out[0] = '\0';
	return -1;
}

static void
fault(struct authz_request *q, const char *name, bool target)
{
	if (q->bad_param == NULL || (target && !q->bad_target))
		q->bad_param = name;
	if (target)
		q->bad_target = true;
}

/* The prompt's values into q->prompts. */
static void
prompts_parse(struct authz_request *q)
{
	static const struct {
		const char	*name;
		unsigned	 bit;
	} v[] = {
		{ "none", AUTHZ_PROMPT_NONE },
		{ "login", AUTHZ_PROMPT_LOGIN },
		{ "consent", AUTHZ_PROMPT_CONSENT },
		{ "select_account", AUTHZ_PROMPT_SELECT },
	};
	const char	*p = q->prompt, *e;
	size_t		 len, i;

	while (*p != '\0') {
		if (*p == ' ') {
			p++;
			continue;
		}
		e = strchr(p, ' ');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
			if (strlen(v[i].name) == len &&
			    memcmp(v[i].name, p, len) == 0)
				break;
		if (i == sizeof(v) / sizeof(v[0]))
			q->prompt_bad = true;
		else
			q->prompts |= v[i].bit;
		p += len;
	}
}

void
authz_request_parse(const char *s, size_t len, struct authz_request *q)
{
	unsigned	 seen = 0;
	const char	*end, *amp, *eq, *name;
	size_t		 nlen, i;
	long long	 n;
	const char	*err;

	memset(q, 0, sizeof(*q));
	q->max_age_s = -1;
	if (s == NULL)
		return;
	if (len > AUTHZ_INPUT_MAX) {
		fault(q, "the request", true);
		return;
	}
	end = s + len;
	for (const char *p = s; p != NULL && p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		nlen = (size_t)((eq != NULL ? eq : amp) - p);
		name = p;
		if (nlen == 0) {
			if (amp == end)
				break;
			continue;
		}
		if (nlen == 7 && memcmp(name, "request", 7) == 0)
			q->request_object = true;
		if (nlen == 11 && memcmp(name, "request_uri", 11) == 0)
			q->request_uri = true;
		for (i = 0; i < NPARAMS; i++)
			if (strlen(params[i].name) == nlen &&
			    memcmp(params[i].name, name, nlen) == 0)
				break;
		if (i < NPARAMS) {
			char *f = (char *)q + params[i].off;

			if (seen & (1u << i)) {
				f[0] = '\0';
				fault(q, params[i].name, params[i].target);
			} else if (eq != NULL && decode(eq + 1,
			    (size_t)(amp - eq - 1), f, params[i].size) == -1)
				fault(q, params[i].name, params[i].target);
			seen |= 1u << i;
		}
		if (amp == end)
			break;
	}
	/* A repeated parameter stays empty whatever its later copies said. */
	for (i = 0; i < NPARAMS; i++)
		if (q->bad_param != NULL &&
		    strcmp(q->bad_param, params[i].name) == 0)
			((char *)q + params[i].off)[0] = '\0';
	if (q->max_age[0] != '\0') {
		if (num_parse(q->max_age, 0, INT32_MAX, &n, &err) == 0)
			q->max_age_s = n;
		else
			q->max_age_bad = true;
	}
	if (q->login_at[0] != '\0' &&
	    num_parse(q->login_at, 1, INT64_MAX, &n, &err) == 0)
		q->login_at_s = n;
	prompts_parse(q);
}

static int
refuse(struct authz_error *e, const char *error, const char *desc)
{
	e->error = error;
	(void)str_copy(e->description, desc, sizeof(e->description));
	return -1;
}

/* True when s is 43 characters of base64url (RFC 7636 4.2 with S256). */
static bool
challenge_ok(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    s[i] == '_'))
			return false;
	return i == OIDC_CHALLENGE_LEN;
}

int
authz_request_check(const struct authz_request *q, unsigned client_scopes,
    unsigned *scopes, struct authz_error *e)
{
	char	 d[AUTHZ_ERROR_DESC_MAX];

	memset(e, 0, sizeof(*e));
	*scopes = 0;
	if (q->bad_param != NULL) {
		(void)str_printf(d, sizeof(d), "%s is repeated, malformed or "
		    "too long", q->bad_param);
		return refuse(e, "invalid_request", d);
	}
	/* OpenID Connect Core 3.1.2.6: an error of each its own. */
	if (q->request_object)
		return refuse(e, "request_not_supported", "request objects "
		    "are not supported");
	if (q->request_uri)
		return refuse(e, "request_uri_not_supported", "request_uri is "
		    "not supported");
	if (q->response_type[0] == '\0')
		return refuse(e, "invalid_request", "response_type is missing");
	if (strcmp(q->response_type, "code") != 0)
		return refuse(e, "unsupported_response_type",
		    "only response_type=code is supported");
	if (q->response_mode[0] != '\0' &&
	    strcmp(q->response_mode, "query") != 0)
		return refuse(e, "invalid_request",
		    "only response_mode=query is supported");
	if (q->code_challenge[0] == '\0')
		return refuse(e, "invalid_request", "PKCE is required: "
		    "code_challenge is missing");
	if (strcmp(q->code_challenge_method, "S256") != 0)
		return refuse(e, "invalid_request", "PKCE is required with "
		    "code_challenge_method=S256");
	if (!challenge_ok(q->code_challenge))
		return refuse(e, "invalid_request", "code_challenge is not "
		    "the base64url of a SHA-256");
	if (q->prompt_bad || ((q->prompts & AUTHZ_PROMPT_NONE) &&
	    q->prompts != AUTHZ_PROMPT_NONE))
		return refuse(e, "invalid_request", "prompt is not valid");
	if (q->max_age_bad)
		return refuse(e, "invalid_request", "max_age is not a number "
		    "of seconds");
	/* The ID token carries it: refused now, not after the code is
	 * spent at the token endpoint. */
	if (q->nonce[0] != '\0' && !field_is_nonce(q->nonce))
		return refuse(e, "invalid_request", "nonce must be 1 to 255 "
		    "printable ASCII characters");
	if (oidc_scopes_parse(q->scope, ' ', scopes) == -1) {
		*scopes = 0;
		return refuse(e, "invalid_scope", "scope names a scope that "
		    "is not supported");
	}
	if (!(*scopes & OIDC_SCOPE_OPENID)) {
		*scopes = 0;
		return refuse(e, "invalid_scope", "scope must include openid");
	}
	if (*scopes & ~client_scopes) {
		*scopes = 0;
		return refuse(e, "invalid_scope", "scope names a scope this "
		    "client may not ask for");
	}
	return 0;
}

int
authz_encode(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		 o = 0;
	unsigned char	 c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			if (o + 1 >= outlen)
				goto full;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outlen)
				goto full;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= outlen)
		goto full;
	out[o] = '\0';
	return 0;
full:
	if (outlen > 0)
		out[0] = '\0';
	return -1;
}

int
authz_url_add(char *out, size_t outlen, size_t *len, const char *name,
    const char *value)
{
	size_t	 was = *len, n;

	if (was + 2 + strlen(name) >= outlen)
		return -1;
	out[was] = strchr(out, '?') == NULL ? '?' : '&';
	n = was + 1;
	memcpy(out + n, name, strlen(name));
	n += strlen(name);
	out[n++] = '=';
	if (authz_encode(value, out + n, outlen - n) == -1) {
		out[was] = '\0';
		return -1;
	}
	*len = n + strlen(out + n);
	return 0;
}

int
authz_request_path(const struct authz_request *q, int64_t login_at,
    char *out, size_t outlen)
{
	char	 t[24];
	size_t	 len;

	if (str_copy(out, "/oauth2/authorize", outlen) == -1)
		return -1;
	len = strlen(out);
	for (size_t i = 0; i < NPARAMS; i++) {
		const char *v = (const char *)q + params[i].off;

		if (strcmp(params[i].name, AUTHZ_LOGIN_AT) == 0 || v[0] == '\0')
			continue;
		if (authz_url_add(out, outlen, &len, params[i].name, v) == -1)
			return -1;
	}
	if (login_at > 0) {
		(void)str_printf(t, sizeof(t), "%lld", (long long)login_at);
		if (authz_url_add(out, outlen, &len, AUTHZ_LOGIN_AT, t) == -1)
			return -1;
	}
	return 0;
}

size_t
authz_request_fields(const struct authz_request *q,
    const char *names[AUTHZ_NFIELDS], const char *values[AUTHZ_NFIELDS])
{
	size_t	 n = 0;

	for (size_t i = 0; i < NPARAMS; i++) {
		const char *v = (const char *)q + params[i].off;

		if (v[0] == '\0')
			continue;
		names[n] = params[i].name;
		values[n++] = v;
	}
	return n;
}
