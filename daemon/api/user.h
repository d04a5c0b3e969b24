/*
 * The user row (store/user_row.h) as the API shows it: the user object.
 */
#ifndef WARDEN_USER_H
#define WARDEN_USER_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "store/user_row.h"

/* The API's user object for u; NULL when memory runs out. */
cJSON	*user_to_json(const struct user *u);

/* True when u holds role. */
bool	user_has_role(const struct user *u, const char *role);

#endif
