/*
 * The parser of one user line (import_line.h): cJSON for the syntax, the
 * API's field rules for the values, pwformat for the hash.
 */
#define _GNU_SOURCE	/* memmem */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "fields.h"
#include "import_line.h"
#include "pwformat.h"
#include "util.h"

/* The members a line may have, in the order the documentation gives. */
static const char *const members[] = {
	"username", "email", "password_hash", "password_format", "id",
	"full_name", "roles", "is_active", "email_verified", "created_at",
};

static int __attribute__((format(printf, 2, 3)))
fail(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, IMPORT_WHY_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

/* Refuses members we do not know and members given twice: cJSON keeps
 * both of a pair, and the second must not pass unseen. */
static int
check_members(const cJSON *obj, char *why)
{
	const cJSON	*m, *n;
	size_t		 i;

	for (m = obj->child; m != NULL; m = m->next) {
		for (i = 0; i < sizeof(members) / sizeof(members[0]); i++)
			if (strcmp(m->string, members[i]) == 0)
				break;
		if (i == sizeof(members) / sizeof(members[0]))
			return fail(why, "unknown member \"%s\"",
			    field_is_plain_name(m->string) ? m->string : "?");
		for (n = m->next; n != NULL; n = n->next)
			if (strcmp(m->string, n->string) == 0)
				return fail(why, "%s: given twice",
				    m->string);	/* a known member's name */
	}
	return 0;
}

/* A required (or, when optional, possibly absent) string member into
 * out; 1 when present, 0 when absent, -1 on a wrong type or length. */
static int
get_string(const cJSON *obj, const char *name, char *out, size_t outlen,
    bool required, char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (v == NULL || (!required && cJSON_IsNull(v))) {
		if (required)
			return fail(why, "%s: missing", name);
		return 0;
	}
	if (!cJSON_IsString(v))
		return fail(why, "%s: must be a string", name);
	if (str_copy(out, v->valuestring, outlen) == -1)
		return fail(why, "%s: too long", name);
	return 1;
}

static int
get_bool(const cJSON *obj, const char *name, bool dflt, bool *out, char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	if (!cJSON_IsBool(v))
		return fail(why, "%s: must be true or false", name);
	*out = cJSON_IsTrue(v);
	return 0;
}

static int
get_roles(const cJSON *obj, struct import_user *u, char *why)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(obj, "roles");
	const cJSON	*r;
	size_t		 i;

	u->nroles = 0;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return fail(why, "%s: must be an array of role names", "roles");
	cJSON_ArrayForEach(r, v) {
		if (!cJSON_IsString(r) || !field_is_role(r->valuestring))
			return fail(why, "%s: each must be 1 to 32 of a-z 0-9 "
			    "_ -", "roles");
		if (u->nroles == IMPORT_ROLES_MAX)
			return fail(why, "%s: at most 32", "roles");
		for (i = 0; i < u->nroles; i++)
			if (strcmp(u->roles[i], r->valuestring) == 0)
				break;
		if (i < u->nroles)
			continue;	/* a role given twice is one role */
		str_copy(u->roles[u->nroles++], r->valuestring,
		    sizeof(u->roles[0]));
	}
	return 0;
}

/* n digits at s into *v. */
static bool
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

bool
import_time_valid(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int	y, mo, d, h, mi, sec, oh, om, n;
	bool	leap;

	if (s == NULL || strlen(s) > IMPORT_TIME_MAX || strlen(s) < 20)
		return false;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return false;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 60)
		return false;
	s += 19;
	if (*s == '.') {
		for (n = 0, s++; isdigit((unsigned char)*s); s++)
			n++;
		if (n < 1 || n > 6)
			return false;
	}
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
		return true;
	return (*s == '+' || *s == '-') && digits(s + 1, 2, &oh) &&
	    s[3] == ':' && digits(s + 4, 2, &om) && s[6] == '\0' &&
	    oh <= 23 && om <= 59;
}

static int
get_fields(const cJSON *obj, struct import_user *u, char *why)
{
	char		 name[PROTO_STORED_MAX + 1], fname[32];
	const char	*reason;
	enum pw_format	 named;
	int		 rc;

	if (get_string(obj, "username", u->username, sizeof(u->username),
	    true, why) == -1)
		return -1;
	if (!field_is_username(u->username))
		return fail(why, "%s: must be 3 to 32 of A-Z a-z 0-9 . _ -, "
		    "starting with a letter or digit", "username");
	if (get_string(obj, "email", u->email, sizeof(u->email), true,
	    why) == -1)
		return -1;
	if (!field_is_email(u->email))
		return fail(why, "%s: not a valid e-mail address", "email");

	if (get_string(obj, "password_hash", u->password_hash,
	    sizeof(u->password_hash), true, why) == -1)
		return -1;
	if ((u->format = pwformat_of(u->password_hash)) == PWF_UNKNOWN) {
		reason = pwformat_why(u->password_hash);
		snprintf(why, IMPORT_WHY_MAX, "password_hash: %s",
		    reason != NULL ? reason : "not a format warden verifies");
		return -1;
	}
	if ((rc = get_string(obj, "password_format", fname, sizeof(fname),
	    false, why)) == -1)
		return -1;
	if (rc == 1) {
		if ((named = pwformat_by_name(fname)) == PWF_UNKNOWN)
			return fail(why, "%s: not a format warden knows (see "
			    "wardenctl(8))", "password_format");
		if (named != u->format) {
			snprintf(why, IMPORT_WHY_MAX, "password_format: the "
			    "hash is %s, not %s", pwformat_name(u->format),
			    pwformat_name(named));
			return -1;
		}
	}

	if ((rc = get_string(obj, "id", u->id, sizeof(u->id), false,
	    why)) == -1)
		return -1;
	if (rc == 1 && !field_is_uuid(u->id))
		return fail(why, "%s: must be a lower-case UUID", "id");
	if (rc == 0 && u->format == PWF_WARDEN)
		return fail(why, "%s: required with a warden hash, which is "
		    "sealed to the user's id", "id");

	if ((rc = get_string(obj, "full_name", name, sizeof(name), false,
	    why)) == -1)
		return -1;
	if (rc == 1) {
		if (!field_is_full_name(name))
			return fail(why, "%s: at most 128 characters, none of "
			    "them a control character", "full_name");
		if ((u->full_name = strdup(name)) == NULL)
			return fail(why, "%s", "out of memory");
	}
	if (get_roles(obj, u, why) == -1 ||
	    get_bool(obj, "is_active", true, &u->is_active, why) == -1 ||
	    get_bool(obj, "email_verified", false, &u->email_verified,
	    why) == -1)
		return -1;
	if ((rc = get_string(obj, "created_at", u->created_at,
	    sizeof(u->created_at), false, why)) == -1)
		return -1;
	if (rc == 1 && !import_time_valid(u->created_at))
		return fail(why, "%s: must be an RFC 3339 time such as "
		    "2024-05-01T12:00:00Z", "created_at");
	return 0;
}

/* The parse tree holds the hash too, once per member of that name. */
static void
wipe_hashes(cJSON *obj)
{
	cJSON *m;

	if (!cJSON_IsObject(obj))
		return;
	for (m = obj->child; m != NULL; m = m->next)
		if (m->string != NULL && strcmp(m->string,
		    "password_hash") == 0 && cJSON_IsString(m))
			sodium_memzero(m->valuestring,
			    strlen(m->valuestring));
}

int
import_line_parse(const char *line, size_t len, struct import_user *u,
    char *why)
{
	const char	*end = NULL;
	cJSON		*obj;
	int		 rc;

	memset(u, 0, sizeof(*u));
	why[0] = '\0';
	if (len > IMPORT_LINE_MAX)
		return fail(why, "%s", "line too long");
	if (!field_utf8_valid(line, len))
		return fail(why, "%s", "not valid UTF-8");
	/* cJSON decodes \u0000 into a NUL that cuts its C strings short: a
	 * value would be read as less than it is. */
	if (memmem(line, len, "\\u0000", 6) != NULL)
		return fail(why, "%s", "a NUL character (\\u0000) in a value");
	if ((obj = cJSON_ParseWithLengthOpts(line, len, &end, false)) ==
	    NULL)
		return fail(why, "%s", "not valid JSON");
	/* One object a line: nothing but blanks after it. */
	while (end < line + len && (*end == ' ' || *end == '\t' ||
	    *end == '\r'))
		end++;
	if (end != line + len) {
		wipe_hashes(obj);
		cJSON_Delete(obj);
		return fail(why, "%s", "text after the JSON object");
	}
	if (!cJSON_IsObject(obj))
		rc = fail(why, "%s", "not a JSON object");
	else
		rc = check_members(obj, why) == 0 && get_fields(obj, u, why) ==
		    0 ? 0 : -1;
	wipe_hashes(obj);
	cJSON_Delete(obj);
	if (rc == -1)
		import_user_clear(u);
	return rc;
}

void
import_user_clear(struct import_user *u)
{
	free(u->full_name);
	sodium_memzero(u, sizeof(*u));
}
