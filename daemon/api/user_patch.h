/*
 * PATCH of a user row, shared by PATCH /users/me (email, full_name) and
 * the admin's PATCH /users/{id} (also roles and is_active).  One statement
 * (users_patch(), store/users.h) changes the row, bumps the token version
 * when roles change or the user is disabled (so old access tokens stop
 * working), revokes the refresh tokens of a disabled user, and writes the
 * audit events.
 */
#ifndef WARDEN_USER_PATCH_H
#define WARDEN_USER_PATCH_H

#include <stdbool.h>

struct http_req;

/*
 * Parses r's JSON body, validates it and updates user target_id, replying
 * with the user object, 404 when the row is gone, 409 on a taken e-mail,
 * 422 on a rule broken (roles and is_active are unknown members unless
 * admin).  actor is the caller's id, recorded in the audit events.
 */
void	user_patch_handle(struct http_req *r, const char *target_id,
	    const char *actor, bool admin);

#endif
