/*
 * Parsing an upstream provider's answers (answers.h).
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "answers.h"
#include "util.h"

/* JSON of at most this many bytes is parsed; a provider's answers are a
 * few kilobytes. */
#define ANSWER_MAX	(256 * 1024)

static cJSON *
object_parse(const char *json, size_t len, char *err, size_t errlen)
{
	cJSON	*o;

	if (json == NULL || len == 0 || len > ANSWER_MAX) {
		str_printf(err, errlen, "an answer of %zu bytes", len);
		return NULL;
	}
	if ((o = cJSON_ParseWithLength(json, len)) == NULL ||
	    !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		str_copy(err, "the answer is not a JSON object", errlen);
		return NULL;
	}
	return o;
}

/*
 * Copies member name of o into dst (dstlen bytes) when it is a string that
 * fits; 1 copied, 0 absent (dst ""), -1 present but not a string that
 * fits (reason in err).
 */
static int
member(const cJSON *o, const char *name, char *dst, size_t dstlen, char *err,
    size_t errlen)
{
	const cJSON	*m = cJSON_GetObjectItemCaseSensitive(o, name);
	const char	*v;

	dst[0] = '\0';
	if (m == NULL || cJSON_IsNull(m))
		return 0;
	if ((v = cJSON_GetStringValue(m)) == NULL || strlen(v) >= dstlen) {
		str_printf(err, errlen, "%s is not a string of at most %zu "
		    "bytes", name, dstlen - 1);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 1;
}

/* A required member (as member()), with a reason when it is absent. */
static int
required(const cJSON *o, const char *name, char *dst, size_t dstlen,
    char *err, size_t errlen)
{
	int	 rc = member(o, name, dst, dstlen, err, errlen);

	if (rc == 0 || (rc == 1 && dst[0] == '\0')) {
		str_printf(err, errlen, "%s is missing", name);
		return -1;
	}
	return rc == 1 ? 0 : -1;
}

int
upstream_discovery_parse(const char *json, size_t len,
    const char *expected_issuer, struct upstream_discovery *d, char *err,
    size_t errlen)
{
	cJSON	*o;
	int	 rc = -1;

	memset(d, 0, sizeof(*d));
	if ((o = object_parse(json, len, err, errlen)) == NULL)
		return -1;
	if (required(o, "issuer", d->issuer, sizeof(d->issuer), err,
	    errlen) == -1 || required(o, "authorization_endpoint",
	    d->authorization_endpoint, sizeof(d->authorization_endpoint), err,
	    errlen) == -1 || required(o, "token_endpoint", d->token_endpoint,
	    sizeof(d->token_endpoint), err, errlen) == -1 ||
	    required(o, "jwks_uri", d->jwks_uri, sizeof(d->jwks_uri), err,
	    errlen) == -1 || member(o, "userinfo_endpoint",
	    d->userinfo_endpoint, sizeof(d->userinfo_endpoint), err,
	    errlen) == -1)
		goto out;
	if (strcmp(d->issuer, expected_issuer) != 0) {
		str_copy(err, "the document's issuer is not the configured "
		    "issuer", errlen);
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(o);
	if (rc == -1)
		memset(d, 0, sizeof(*d));
	return rc;
}

/* RFC 6749 A.7: error codes are of %x20-21 / %x23-5B / %x5D-7E. */
static bool
error_code_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

/* Wipes the strings of o (an answer that held tokens), then frees it. */
static void
answer_free(cJSON *o)
{
	cJSON	*e;

	cJSON_ArrayForEach(e, o)
		if (cJSON_IsString(e) && e->valuestring != NULL)
			sodium_memzero(e->valuestring, strlen(e->valuestring));
	cJSON_Delete(o);
}

int
upstream_tokens_parse(const char *body, size_t len, struct upstream_tokens *t,
    char *err, size_t errlen)
{
	char	 type[32];
	cJSON	*o;
	int	 rc = -1;

	memset(t, 0, sizeof(*t));
	if ((o = object_parse(body, len, err, errlen)) == NULL)
		return -1;
	if (member(o, "error", t->error, sizeof(t->error), err, errlen) ==
	    -1)
		goto out;
	if (t->error[0] != '\0') {
		if (!error_code_ok(t->error)) {
			str_copy(err, "error is not an error code", errlen);
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (required(o, "access_token", t->access_token,
	    sizeof(t->access_token), err, errlen) == -1 ||
	    member(o, "id_token", t->id_token, sizeof(t->id_token), err,
	    errlen) == -1 || member(o, "token_type", type, sizeof(type), err,
	    errlen) == -1)
		goto out;
	if (type[0] != '\0' && !str_ieq(type, "bearer")) {
		str_copy(err, "token_type is not bearer", errlen);
		goto out;
	}
	rc = 0;
out:
	answer_free(o);
	if (rc == -1)
		sodium_memzero(t, sizeof(*t));
	return rc;
}

/* The subject member: a string, or an integer (GitHub's id) in decimal. */
static int
subject_of(const cJSON *o, const char *name, char *dst, size_t dstlen,
    char *err, size_t errlen)
{
	const cJSON	*m = cJSON_GetObjectItemCaseSensitive(o, name);
	double		 v;

	if (cJSON_IsNumber(m)) {
		v = m->valuedouble;
		/* integers that a double holds exactly */
		if (v < 0 || v > 9007199254740991.0 || (double)(long long)v != v) {
			str_printf(err, errlen, "%s is not a whole number",
			    name);
			return -1;
		}
		str_printf(dst, dstlen, "%.0f", v);
		return 0;
	}
	return required(o, name, dst, dstlen, err, errlen);
}

/* An optional claim: taken when it is a string that fits, else "". */
static void
optional(const cJSON *o, const char *name, char *dst, size_t dstlen)
{
	char	 why[128];

	if (strcmp(name, "-") == 0 || name[0] == '\0' ||
	    member(o, name, dst, dstlen, why, sizeof(why)) == -1)
		dst[0] = '\0';
}

int
upstream_userinfo_map(const char *json, size_t len, const struct provider *p,
    struct id_token_claims *out, char *err, size_t errlen)
{
	const cJSON	*v;
	cJSON		*o;
	int		 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((o = object_parse(json, len, err, errlen)) == NULL)
		return -1;
	if (subject_of(o, p->claim_subject, out->sub, sizeof(out->sub), err,
	    errlen) == -1)
		goto out;
	optional(o, p->claim_email, out->email, sizeof(out->email));
	optional(o, p->claim_username, out->preferred_username,
	    sizeof(out->preferred_username));
	optional(o, p->claim_name, out->name, sizeof(out->name));
	if (strcmp(p->claim_email_verified, "-") != 0 &&
	    p->claim_email_verified[0] != '\0' &&
	    (v = cJSON_GetObjectItemCaseSensitive(o,
	    p->claim_email_verified)) != NULL)
		out->email_verified = cJSON_IsTrue(v);
	rc = 0;
out:
	cJSON_Delete(o);
	if (rc == -1)
		memset(out, 0, sizeof(*out));
	return rc;
}
