#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "blocklist.h"
#include "fields.h"
#include "proto.h"
#include "util.h"
#include "validate.h"

static bool
fail(char msg[VALIDATE_MSG_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool
fail(char msg[VALIDATE_MSG_MAX], const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, VALIDATE_MSG_MAX, fmt, ap);
	va_end(ap);
	return false;
}

bool
validate_username(const char *v, char msg[VALIDATE_MSG_MAX])
{
	if (field_is_username(v))
		return true;
	return fail(msg, "must be %d to %d characters of letters, digits, "
	    "'.', '_' or '-', starting with a letter or digit",
	    FIELD_USERNAME_MIN, FIELD_USERNAME_MAX);
}

bool
validate_email(const char *v, char msg[VALIDATE_MSG_MAX])
{
	if (field_is_email(v))
		return true;
	return fail(msg, "must be a valid e-mail address");
}

bool
validate_full_name(const char *v, char msg[VALIDATE_MSG_MAX])
{
	if (field_is_full_name(v))
		return true;
	return fail(msg, "must be at most %d characters of UTF-8 text "
	    "without control characters", FIELD_FULL_NAME_MAX);
}

bool
validate_roles(const char *const *roles, size_t n, char msg[VALIDATE_MSG_MAX])
{
	if (n > PROTO_ROLES_MAX)
		return fail(msg, "must hold at most %d roles", PROTO_ROLES_MAX);
	for (size_t i = 0; i < n; i++) {
		if (!field_is_role(roles[i]))
			return fail(msg, "each role must be 1 to %d characters "
			    "of a-z, 0-9, '_' or '-'", FIELD_ROLE_MAX);
		for (size_t j = 0; j < i; j++)
			if (strcmp(roles[i], roles[j]) == 0)
				return fail(msg, "must not repeat a role");
	}
	return true;
}

bool
validate_totp_code(const char *code, char *out, size_t len)
{
	size_t	 n = 0;

	if (len == 0)
		return false;
	for (; *code != '\0' && n + 1 < len; code++)
		if (*code != ' ' && *code != '-')
			out[n++] = *code;
	out[n] = '\0';
	return n == 6 && strspn(out, "0123456789") == 6;
}

bool
validate_password(const char *pw, size_t len, unsigned int min_length,
    const char *username, const char *email, const struct blocklist *bl,
    char msg[VALIDATE_MSG_MAX])
{
	if (len < min_length)
		return fail(msg, "must be at least %u characters", min_length);
	if (len > FIELD_PASSWORD_MAX)
		return fail(msg, "must be at most %d bytes", FIELD_PASSWORD_MAX);
	if (!field_utf8_valid(pw, len))
		return fail(msg, "must be valid UTF-8 text");
	if ((username != NULL && strlen(username) == len &&
	    strncasecmp(pw, username, len) == 0) ||
	    (email != NULL && strlen(email) == len &&
	    strncasecmp(pw, email, len) == 0))
		return fail(msg, "must not be the username or the e-mail address");
	if (blocklist_contains(bl, pw, len))
		return fail(msg, "is too common: choose a password that is not "
		    "on the list of common passwords");
	return true;
}
