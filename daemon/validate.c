#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "blocklist.h"
#include "fields.h"
#include "problem.h"
#include "proto.h"
#include "validate.h"

bool
validate_username(struct problem_fields *pf, const char *field, const char *v)
{
	if (field_is_username(v))
		return true;
	problem_field_add(pf, field, "must be 3 to 32 characters of "
	    "letters, digits, '.', '_' or '-', starting with a letter or digit");
	return false;
}

bool
validate_email(struct problem_fields *pf, const char *field, const char *v)
{
	if (field_is_email(v))
		return true;
	problem_field_add(pf, field, "must be a valid e-mail address");
	return false;
}

bool
validate_full_name(struct problem_fields *pf, const char *field, const char *v)
{
	if (field_is_full_name(v))
		return true;
	problem_field_add(pf, field, "must be at most 128 characters of "
	    "UTF-8 text without control characters");
	return false;
}

bool
validate_roles(struct problem_fields *pf, const char *field,
    const char *const *roles, size_t n)
{
	if (n > PROTO_ROLES_MAX) {
		problem_field_add(pf, field, "must hold at most 32 roles");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!field_is_role(roles[i])) {
			problem_field_add(pf, field, "each role must be 1 to 32 "
			    "characters of a-z, 0-9, '_' or '-'");
			return false;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(roles[i], roles[j]) == 0) {
				problem_field_add(pf, field,
				    "must not repeat a role");
				return false;
			}
		}
	}
	return true;
}

bool
validate_password(struct problem_fields *pf, const char *field,
    const char *pw, size_t len, unsigned int min_length, const char *username,
    const char *email, const struct blocklist *bl)
{
	char	 msg[80];

	if (len < min_length) {
		snprintf(msg, sizeof(msg), "must be at least %u characters",
		    min_length);
		problem_field_add(pf, field, msg);
		return false;
	}
	if (len > FIELD_PASSWORD_MAX) {
		problem_field_add(pf, field, "must be at most 1024 bytes");
		return false;
	}
	if (!field_utf8_valid(pw, len)) {
		problem_field_add(pf, field, "must be valid UTF-8 text");
		return false;
	}
	if ((username != NULL && strlen(username) == len &&
	    strncasecmp(pw, username, len) == 0) ||
	    (email != NULL && strlen(email) == len &&
	    strncasecmp(pw, email, len) == 0)) {
		problem_field_add(pf, field,
		    "must not be the username or the e-mail address");
		return false;
	}
	if (blocklist_contains(bl, pw, len)) {
		problem_field_add(pf, field,
		    "is too common: choose a password that is not on the "
		    "list of common passwords");
		return false;
	}
	return true;
}
