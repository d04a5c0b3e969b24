/*
 * The providers' files (providers.h): parsed once, at start-up.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf_line.h"
#include "log.h"
#include "net/https_client.h"
#include "providers.h"
#include "util.h"

#define MICROSOFT_ISSUER	"https://login.microsoftonline.com/%s/v2.0"
#define TENANT_MAX		64
#define PROVIDER_LINE_MAX	4096

enum kw {
	KW_PRESET, KW_KIND, KW_DISPLAY_NAME, KW_ISSUER, KW_TENANT,
	KW_AUTHORIZATION_ENDPOINT, KW_TOKEN_ENDPOINT, KW_USERINFO_ENDPOINT,
	KW_JWKS_URI, KW_CLIENT_ID, KW_CLIENT_AUTH, KW_CLIENT_SECRET_FILE,
	KW_ASSERTION_ALG, KW_SCOPES, KW_CLAIM_SUBJECT, KW_CLAIM_EMAIL,
	KW_CLAIM_EMAIL_VERIFIED, KW_CLAIM_USERNAME, KW_CLAIM_NAME,
	KW_LINK_BY_EMAIL, KW_SIGNUP, KW_TIMEOUT, KW_N
};

static const char *const kw_names[KW_N] = {
	"preset", "kind", "display_name", "issuer", "tenant",
	"authorization_endpoint", "token_endpoint", "userinfo_endpoint",
	"jwks_uri", "client_id", "client_auth", "client_secret_file",
	"assertion_alg", "scopes", "claim_subject", "claim_email",
	"claim_email_verified", "claim_username", "claim_name",
	"link_by_email", "signup", "timeout",
};

/* What a preset fills in; NULL members are left as they are. */
struct preset {
	const char	*name;
	enum provider_kind kind;
	const char	*display_name;
	const char	*issuer;	/* microsoft: a format of the tenant */
	const char	*authorization_endpoint;
	const char	*token_endpoint;
	const char	*userinfo_endpoint;
	const char	*scopes;
	const char	*claims[5];	/* subject, email, email_verified,
					 * username, name */
};

static const struct preset presets[] = {
	{ "google", PROVIDER_OIDC, "Google", "https://accounts.google.com",
	  NULL, NULL, NULL, NULL, { NULL } },
	{ "microsoft", PROVIDER_OIDC, "Microsoft", MICROSOFT_ISSUER,
	  NULL, NULL, NULL, NULL, { NULL } },
	{ "gitlab", PROVIDER_OIDC, "GitLab", "https://gitlab.com",
	  NULL, NULL, NULL, NULL, { NULL } },
	{ "github", PROVIDER_OAUTH2, "GitHub", NULL,
	  "https://github.com/login/oauth/authorize",
	  "https://github.com/login/oauth/access_token",
	  "https://api.github.com/user", "read:user user:email",
	  { "id", "email", "-", "login", "name" } },
};

/* What a file said beyond the struct, until it is checked. */
struct parsed {
	const struct preset	*preset;
	char			 tenant[TENANT_MAX + 1];
	bool			 seen[KW_N];
};

static bool
name_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > PROVIDER_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* Printable ASCII without spaces: a client id, a claim name. */
static bool
token_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return false;
	return true;
}

static void
defaults(struct provider *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	str_copy(p->name, name, sizeof(p->name));
	p->kind = PROVIDER_OIDC;
	p->auth = PROVIDER_AUTH_PRIVATE_KEY_JWT;
	p->assertion_alg = PROVIDER_ALG_RS256;
	str_copy(p->claim_subject, "sub", sizeof(p->claim_subject));
	str_copy(p->claim_email, "email", sizeof(p->claim_email));
	str_copy(p->claim_email_verified, "email_verified",
	    sizeof(p->claim_email_verified));
	str_copy(p->claim_username, "preferred_username",
	    sizeof(p->claim_username));
	str_copy(p->claim_name, "name", sizeof(p->claim_name));
	p->signup = true;
	p->timeout = 10;
}

static void
apply_preset(struct provider *p, const struct preset *ps)
{
	char	*claims[5] = { p->claim_subject, p->claim_email,
	    p->claim_email_verified, p->claim_username, p->claim_name };
	size_t	 i;

	p->kind = ps->kind;
	str_copy(p->display_name, ps->display_name, sizeof(p->display_name));
	if (ps->issuer != NULL && strchr(ps->issuer, '%') == NULL)
		str_copy(p->issuer, ps->issuer, sizeof(p->issuer));
	if (ps->authorization_endpoint != NULL)
		str_copy(p->authorization_endpoint, ps->authorization_endpoint,
		    sizeof(p->authorization_endpoint));
	if (ps->token_endpoint != NULL)
		str_copy(p->token_endpoint, ps->token_endpoint,
		    sizeof(p->token_endpoint));
	if (ps->userinfo_endpoint != NULL)
		str_copy(p->userinfo_endpoint, ps->userinfo_endpoint,
		    sizeof(p->userinfo_endpoint));
	if (ps->scopes != NULL)
		str_copy(p->scopes, ps->scopes, sizeof(p->scopes));
	for (i = 0; i < 5; i++)
		if (ps->claims[i] != NULL)
			str_copy(claims[i], ps->claims[i], PROVIDER_CLAIM_MAX + 1);
}

/* Copies v into dst (dstlen bytes) or says it is too long. */
static int
take(char *dst, size_t dstlen, const char *kw, const char *v, char *err,
    size_t errlen)
{
	if (str_copy(dst, v, dstlen) == -1) {
		str_printf(err, errlen, "%s: longer than %zu bytes", kw,
		    dstlen - 1);
		return -1;
	}
	return 0;
}

static int
take_url(char *dst, size_t dstlen, const char *kw, const char *v, char *err,
    size_t errlen)
{
	if (take(dst, dstlen, kw, v, err, errlen) == -1)
		return -1;
	if (!https_url_ok(dst)) {
		str_printf(err, errlen, "%s: not an https:// URL (http:// only "
		    "to a loopback host), or with user-info or a fragment",
		    kw);
		return -1;
	}
	return 0;
}

static int
take_claim(char *dst, const char *kw, const char *v, char *err,
    size_t errlen)
{
	if (take(dst, PROVIDER_CLAIM_MAX + 1, kw, v, err, errlen) == -1)
		return -1;
	if (!token_ok(dst)) {
		str_printf(err, errlen, "%s: not a member name (or -)", kw);
		return -1;
	}
	return 0;
}

static int
take_bool(bool *dst, const char *kw, const char *v, char *err, size_t errlen)
{
	/* As warden.conf's booleans. */
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "on") == 0)
		*dst = true;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "off") == 0)
		*dst = false;
	else {
		str_printf(err, errlen, "%s: not yes or no", kw);
		return -1;
	}
	return 0;
}

/* One keyword's value into p (or x). */
static int
keyword(struct provider *p, struct parsed *x, enum kw k, const char *v,
    char *err, size_t errlen)
{
	const char	*kw = kw_names[k], *errstr;
	long long	 n;
	size_t		 i;

	switch (k) {
	case KW_PRESET:
		for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
			if (strcmp(v, presets[i].name) == 0)
				x->preset = &presets[i];
		if (x->preset == NULL) {
			str_copy(err, "preset: not google, microsoft, gitlab "
			    "or github", errlen);
			return -1;
		}
		apply_preset(p, x->preset);
		return 0;
	case KW_KIND:
		if (strcmp(v, "oidc") == 0)
			p->kind = PROVIDER_OIDC;
		else if (strcmp(v, "oauth2") == 0)
			p->kind = PROVIDER_OAUTH2;
		else {
			str_copy(err, "kind: not oidc or oauth2", errlen);
			return -1;
		}
		return 0;
	case KW_DISPLAY_NAME:
		if (take(p->display_name, sizeof(p->display_name), kw, v, err,
		    errlen) == -1)
			return -1;
		for (i = 0; p->display_name[i] != '\0'; i++)
			if ((unsigned char)p->display_name[i] < 0x20) {
				str_copy(err, "display_name: a control "
				    "character", errlen);
				return -1;
			}
		return 0;
	case KW_ISSUER:
		return take_url(p->issuer, sizeof(p->issuer), kw, v, err,
		    errlen);
	case KW_TENANT:
		if (take(x->tenant, sizeof(x->tenant), kw, v, err,
		    errlen) == -1)
			return -1;
		if (strspn(x->tenant, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
		    strlen(x->tenant)) {
			str_copy(err, "tenant: not a tenant id or domain",
			    errlen);
			return -1;
		}
		return 0;
	case KW_AUTHORIZATION_ENDPOINT:
		return take_url(p->authorization_endpoint,
		    sizeof(p->authorization_endpoint), kw, v, err, errlen);
	case KW_TOKEN_ENDPOINT:
		return take_url(p->token_endpoint, sizeof(p->token_endpoint),
		    kw, v, err, errlen);
	case KW_USERINFO_ENDPOINT:
		return take_url(p->userinfo_endpoint,
		    sizeof(p->userinfo_endpoint), kw, v, err, errlen);
	case KW_JWKS_URI:
		return take_url(p->jwks_uri, sizeof(p->jwks_uri), kw, v, err,
		    errlen);
	case KW_CLIENT_ID:
		if (take(p->client_id, sizeof(p->client_id), kw, v, err,
		    errlen) == -1)
			return -1;
		if (!token_ok(p->client_id)) {
			str_copy(err, "client_id: not printable ASCII without "
			    "spaces", errlen);
			return -1;
		}
		return 0;
	case KW_CLIENT_AUTH:
		if (strcmp(v, "client_secret_basic") == 0)
			p->auth = PROVIDER_AUTH_SECRET_BASIC;
		else if (strcmp(v, "client_secret_post") == 0)
			p->auth = PROVIDER_AUTH_SECRET_POST;
		else if (strcmp(v, "private_key_jwt") == 0)
			p->auth = PROVIDER_AUTH_PRIVATE_KEY_JWT;
		else if (strcmp(v, "none") == 0)
			p->auth = PROVIDER_AUTH_NONE;
		else {
			str_copy(err, "client_auth: not client_secret_basic, "
			    "client_secret_post, private_key_jwt or none",
			    errlen);
			return -1;
		}
		return 0;
	case KW_CLIENT_SECRET_FILE:
		if (take(p->client_secret_file, sizeof(p->client_secret_file),
		    kw, v, err, errlen) == -1)
			return -1;
		if (p->client_secret_file[0] != '/') {
			str_copy(err, "client_secret_file: not an absolute "
			    "path", errlen);
			return -1;
		}
		return 0;
	case KW_ASSERTION_ALG:
		if (strcmp(v, "RS256") == 0)
			p->assertion_alg = PROVIDER_ALG_RS256;
		else if (strcmp(v, "EdDSA") == 0)
			p->assertion_alg = PROVIDER_ALG_EDDSA;
		else {
			str_copy(err, "assertion_alg: not RS256 or EdDSA",
			    errlen);
			return -1;
		}
		return 0;
	case KW_SCOPES:
		if (take(p->scopes, sizeof(p->scopes), kw, v, err,
		    errlen) == -1)
			return -1;
		for (i = 0; p->scopes[i] != '\0'; i++)
			if (p->scopes[i] < 0x20 || p->scopes[i] >= 0x7f ||
			    p->scopes[i] == '"' || p->scopes[i] == '\\') {
				str_copy(err, "scopes: not scope tokens",
				    errlen);
				return -1;
			}
		return 0;
	case KW_CLAIM_SUBJECT:
		return take_claim(p->claim_subject, kw, v, err, errlen);
	case KW_CLAIM_EMAIL:
		return take_claim(p->claim_email, kw, v, err, errlen);
	case KW_CLAIM_EMAIL_VERIFIED:
		return take_claim(p->claim_email_verified, kw, v, err, errlen);
	case KW_CLAIM_USERNAME:
		return take_claim(p->claim_username, kw, v, err, errlen);
	case KW_CLAIM_NAME:
		return take_claim(p->claim_name, kw, v, err, errlen);
	case KW_LINK_BY_EMAIL:
		return take_bool(&p->link_by_email, kw, v, err, errlen);
	case KW_SIGNUP:
		return take_bool(&p->signup, kw, v, err, errlen);
	case KW_TIMEOUT:
		if (num_parse(v, 1, 300, &n, &errstr) == -1) {
			str_copy(err, "timeout: not seconds in 1..300",
			    errlen);
			return -1;
		}
		p->timeout = (unsigned int)n;
		return 0;
	case KW_N:
		break;
	}
	return -1;
}

/* Whether scopes (space-separated) hold scope. */
static bool
has_scope(const char *scopes, const char *scope)
{
	size_t	 n = strlen(scope);
	const char *s = scopes;

	while ((s = strstr(s, scope)) != NULL) {
		if ((s == scopes || s[-1] == ' ') && (s[n] == '\0' ||
		    s[n] == ' '))
			return true;
		s += n;
	}
	return false;
}

/* The file as a whole: what is required, what goes together. */
static int
check(struct provider *p, struct parsed *x, char *err, size_t errlen)
{
	bool	 secret = p->client_secret_file[0] != '\0';

	if (x->preset != NULL && strchr(x->preset->issuer != NULL ?
	    x->preset->issuer : "", '%') != NULL && !x->seen[KW_ISSUER]) {
		if (x->tenant[0] == '\0') {
			str_copy(err, "preset microsoft needs tenant", errlen);
			return -1;
		}
		str_printf(p->issuer, sizeof(p->issuer), MICROSOFT_ISSUER,
		    x->tenant);
	}
	if (p->client_id[0] == '\0') {
		str_copy(err, "client_id is required", errlen);
		return -1;
	}
	if (!x->seen[KW_CLIENT_AUTH])
		p->auth = secret ? PROVIDER_AUTH_SECRET_BASIC :
		    PROVIDER_AUTH_PRIVATE_KEY_JWT;
	if ((p->auth == PROVIDER_AUTH_SECRET_BASIC ||
	    p->auth == PROVIDER_AUTH_SECRET_POST) && !secret) {
		str_copy(err, "client_auth client_secret_* needs "
		    "client_secret_file", errlen);
		return -1;
	}
	if ((p->auth == PROVIDER_AUTH_PRIVATE_KEY_JWT ||
	    p->auth == PROVIDER_AUTH_NONE) && secret) {
		str_copy(err, "client_secret_file goes only with "
		    "client_auth client_secret_basic or client_secret_post",
		    errlen);
		return -1;
	}
	if (p->kind == PROVIDER_OIDC) {
		if (p->issuer[0] == '\0') {
			str_copy(err, "issuer is required (kind oidc)", errlen);
			return -1;
		}
		if (p->scopes[0] == '\0')
			str_copy(p->scopes, "openid email profile",
			    sizeof(p->scopes));
		if (!has_scope(p->scopes, "openid")) {
			str_copy(err, "scopes: openid is required (kind oidc)",
			    errlen);
			return -1;
		}
	} else {
		if (p->authorization_endpoint[0] == '\0' ||
		    p->token_endpoint[0] == '\0' ||
		    p->userinfo_endpoint[0] == '\0') {
			str_copy(err, "authorization_endpoint, token_endpoint "
			    "and userinfo_endpoint are required (kind oauth2)",
			    errlen);
			return -1;
		}
		if (strcmp(p->claim_subject, "-") == 0) {
			str_copy(err, "claim_subject cannot be -", errlen);
			return -1;
		}
		if (p->issuer[0] != '\0') {
			str_copy(err, "issuer goes only with kind oidc",
			    errlen);
			return -1;
		}
	}
	if (p->display_name[0] == '\0')
		str_copy(p->display_name, p->name, sizeof(p->display_name));
	return 0;
}

int
provider_parse(const char *name, const char *text, size_t len,
    struct provider *p, char *err, size_t errlen)
{
	struct parsed	 x;
	char		 line[PROVIDER_LINE_MAX + 1], why[256];
	char		*kw, *val;
	size_t		 off = 0, n, lineno = 0;
	int		 r, k;

	defaults(p, "");
	memset(&x, 0, sizeof(x));
	if (name == NULL || !name_ok(name, strlen(name))) {
		str_copy(err, "the name is not 1..32 of [a-z0-9-]", errlen);
		return -1;
	}
	str_copy(p->name, name, sizeof(p->name));
	if (len > PROVIDER_FILE_MAX || memchr(text, '\0', len) != NULL) {
		str_copy(err, "longer than 64 KiB, or a NUL byte", errlen);
		goto bad;
	}
	while (off < len) {
		lineno++;
		n = 0;
		while (off + n < len && text[off + n] != '\n')
			n++;
		if (n > PROVIDER_LINE_MAX) {
			str_printf(err, errlen, "line %zu: longer than %d "
			    "bytes", lineno, PROVIDER_LINE_MAX);
			goto bad;
		}
		memcpy(line, text + off, n);
		line[n] = '\0';
		off += n + 1;
		if ((r = conf_split_line(line, &kw, &val, why,
		    sizeof(why))) == 1)
			continue;
		if (r == -1) {
			str_printf(err, errlen, "line %zu: %s", lineno, why);
			goto bad;
		}
		for (k = 0; k < KW_N && strcmp(kw, kw_names[k]) != 0; k++)
			;
		if (k == KW_N) {
			str_printf(err, errlen, "line %zu: unknown keyword "
			    "%.64s", lineno, kw);
			goto bad;
		}
		if (x.seen[k]) {
			str_printf(err, errlen, "line %zu: %s given twice",
			    lineno, kw_names[k]);
			goto bad;
		}
		if (k == KW_PRESET && lineno > 1) {
			for (int j = 0; j < KW_N; j++)
				if (x.seen[j]) {
					str_printf(err, errlen, "line %zu: "
					    "preset must come first", lineno);
					goto bad;
				}
		}
		x.seen[k] = true;
		if (val == NULL) {
			str_printf(err, errlen, "line %zu: %s has no value",
			    lineno, kw_names[k]);
			goto bad;
		}
		if (keyword(p, &x, (enum kw)k, val, why, sizeof(why)) == -1) {
			str_printf(err, errlen, "line %zu: %s", lineno, why);
			goto bad;
		}
	}
	if (check(p, &x, err, errlen) == -1)
		goto bad;
	sodium_memzero(line, sizeof(line));
	return 0;
bad:
	sodium_memzero(line, sizeof(line));
	defaults(p, name);
	return -1;
}

/* Reads path (a regular file of at most max bytes) into a malloc'd,
 * NUL-terminated buffer of *len bytes; NULL with errno. */
static char *
slurp(const char *path, size_t max, size_t *len)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		return NULL;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (got <= max) {
		n = read(fd, buf + got, max + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got > max) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* The provider's client secret, from its file, into sodium_malloc'd
 * memory. */
static int
read_secret(struct provider *p, char *err, size_t errlen)
{
	char	*buf;
	size_t	 len;

	if (p->client_secret_file[0] == '\0')
		return 0;
	if ((buf = slurp(p->client_secret_file, PROVIDER_SECRET_MAX + 1,
	    &len)) == NULL) {
		str_printf(err, errlen, "client_secret_file %s: %s",
		    p->client_secret_file, strerror(errno));
		return -1;
	}
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0 || len > PROVIDER_SECRET_MAX || strlen(buf) != len) {
		str_printf(err, errlen, "client_secret_file %s: empty, longer "
		    "than %d bytes, or a NUL byte", p->client_secret_file,
		    PROVIDER_SECRET_MAX);
		sodium_memzero(buf, len);
		free(buf);
		return -1;
	}
	if ((p->client_secret = sodium_malloc(len + 1)) == NULL) {
		sodium_memzero(buf, len);
		free(buf);
		str_copy(err, "out of memory", errlen);
		return -1;
	}
	memcpy(p->client_secret, buf, len + 1);
	sodium_memzero(buf, len);
	free(buf);
	(void)sodium_mprotect_readonly(p->client_secret);
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct provider *)a)->name,
	    ((const struct provider *)b)->name);
}

int
providers_load(const char *dir, struct providers *out, char *err,
    size_t errlen)
{
	struct dirent	*de;
	struct provider	*v = NULL;
	char		 path[PATH_MAX], name[PROVIDER_NAME_MAX + 1], why[384];
	char		*text;
	size_t		 n = 0, len, nlen;
	DIR		*d;

	memset(out, 0, sizeof(*out));
	if (dir == NULL || dir[0] == '\0')
		return 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		str_printf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if ((v = calloc(PROVIDERS_MAX, sizeof(*v))) == NULL) {
		closedir(d);
		str_copy(err, "out of memory", errlen);
		return -1;
	}
	out->v = v;
	while ((de = readdir(d)) != NULL) {
		nlen = strlen(de->d_name);
		if (de->d_name[0] == '.' || nlen < 6 ||
		    strcmp(de->d_name + nlen - 5, ".conf") != 0)
			continue;
		if (!name_ok(de->d_name, nlen - 5)) {
			log_warn("%s/%s: not a provider's name ([a-z0-9-], at "
			    "most 32): skipped", dir, de->d_name);
			continue;
		}
		if (n == PROVIDERS_MAX) {
			str_printf(err, errlen, "%s: more than %d providers",
			    dir, PROVIDERS_MAX);
			goto bad;
		}
		memcpy(name, de->d_name, nlen - 5);
		name[nlen - 5] = '\0';
		str_printf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((text = slurp(path, PROVIDER_FILE_MAX, &len)) == NULL) {
			str_printf(err, errlen, "%s: %s", path,
			    strerror(errno));
			goto bad;
		}
		if (provider_parse(name, text, len, &v[n], why,
		    sizeof(why)) == -1) {
			free(text);
			str_printf(err, errlen, "%s: %s", path, why);
			goto bad;
		}
		free(text);
		out->n = ++n;
		if (read_secret(&v[n - 1], why, sizeof(why)) == -1) {
			str_printf(err, errlen, "%s: %s", path, why);
			goto bad;
		}
	}
	closedir(d);
	qsort(v, n, sizeof(*v), by_name);
	if (n == 0) {
		free(v);
		out->v = NULL;
	}
	return 0;
bad:
	closedir(d);
	providers_free(out);
	return -1;
}

void
providers_free(struct providers *out)
{
	size_t	 i;

	for (i = 0; out->v != NULL && i < out->n; i++)
		if (out->v[i].client_secret != NULL)
			sodium_free(out->v[i].client_secret);
	free(out->v);
	memset(out, 0, sizeof(*out));
}

const struct provider *
providers_find(const struct providers *ps, const char *name)
{
	size_t	 i;

	for (i = 0; ps != NULL && name != NULL && i < ps->n; i++)
		if (strcmp(ps->v[i].name, name) == 0)
			return &ps->v[i];
	return NULL;
}
