#include <string.h>

#include "user.h"

cJSON *
user_to_json(const struct user *u)
{
	cJSON	*o, *roles, *mfa;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "id", u->id);
	cJSON_AddStringToObject(o, "username", u->username);
	cJSON_AddStringToObject(o, "email", u->email);
	if (u->has_full_name)
		cJSON_AddStringToObject(o, "full_name", u->full_name);
	else
		cJSON_AddNullToObject(o, "full_name");
	if ((roles = cJSON_AddArrayToObject(o, "roles")) != NULL) {
		for (size_t i = 0; i < u->nroles; i++)
			cJSON_AddItemToArray(roles,
			    cJSON_CreateString(u->roles[i]));
	}
	cJSON_AddBoolToObject(o, "is_active", u->is_active);
	cJSON_AddBoolToObject(o, "email_verified", u->email_verified);
	if ((mfa = cJSON_AddArrayToObject(o, "mfa")) != NULL && u->totp)
		cJSON_AddItemToArray(mfa, cJSON_CreateString("totp"));
	cJSON_AddStringToObject(o, "created_at", u->created_at);
	cJSON_AddStringToObject(o, "updated_at", u->updated_at);
	/* One check for every allocation above: cJSON leaves out what failed. */
	if (cJSON_GetArraySize(o) != 10 || roles == NULL ||
	    (size_t)cJSON_GetArraySize(roles) != u->nroles ||
	    mfa == NULL || cJSON_GetArraySize(mfa) != (u->totp ? 1 : 0)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

bool
user_has_role(const struct user *u, const char *role)
{
	for (size_t i = 0; i < u->nroles; i++) {
		if (strcmp(u->roles[i], role) == 0)
			return true;
	}
	return false;
}
