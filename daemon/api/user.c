#include <string.h>

#include <bsd/string.h>

#include "user.h"
#include "util.h"

static int
copy_field(char *dst, size_t len, const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return -1;
	return str_copy(dst, PQgetvalue(res, row, col), len);
}

static int
split_roles(struct user *u, const char *list)
{
	const char *p = list, *comma;
	size_t	 n;

	u->nroles = 0;
	while (*p != '\0') {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (u->nroles == PROTO_ROLES_MAX || n == 0 ||
		    n > PROTO_ROLE_MAX)
			return -1;
		memcpy(u->roles[u->nroles], p, n);
		u->roles[u->nroles++][n] = '\0';
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int
user_from_row(const PGresult *res, int row, int col, struct user *u)
{
	long long	 ver;
	const char	*errstr;

	memset(u, 0, sizeof(*u));
	if (PQnfields(res) < col + USER_NCOLUMNS || row >= PQntuples(res))
		return -1;
	if (copy_field(u->id, sizeof(u->id), res, row, col) == -1 ||
	    copy_field(u->username, sizeof(u->username), res, row, col + 1) == -1 ||
	    copy_field(u->email, sizeof(u->email), res, row, col + 2) == -1 ||
	    copy_field(u->created_at, sizeof(u->created_at), res, row, col + 7) == -1 ||
	    copy_field(u->updated_at, sizeof(u->updated_at), res, row, col + 8) == -1)
		return -1;
	u->has_full_name = !PQgetisnull(res, row, col + 3);
	if (u->has_full_name && copy_field(u->full_name, sizeof(u->full_name),
	    res, row, col + 3) == -1)
		return -1;
	if (PQgetisnull(res, row, col + 4) ||
	    split_roles(u, PQgetvalue(res, row, col + 4)) == -1)
		return -1;
	u->is_active = strcmp(PQgetvalue(res, row, col + 5), "t") == 0;
	if (num_parse(PQgetvalue(res, row, col + 6), 0, UINT32_MAX, &ver,
	    &errstr) == -1)
		return -1;
	u->token_version = (uint32_t)ver;
	return 0;
}

cJSON *
user_to_json(const struct user *u)
{
	cJSON	*o, *roles;

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
	cJSON_AddStringToObject(o, "created_at", u->created_at);
	cJSON_AddStringToObject(o, "updated_at", u->updated_at);
	/* One check for every allocation above: cJSON leaves out what failed. */
	if (cJSON_GetArraySize(o) != 8 || roles == NULL ||
	    (size_t)cJSON_GetArraySize(roles) != u->nroles) {
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
