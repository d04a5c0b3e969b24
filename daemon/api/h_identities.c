/*
 * The identities at upstream providers that an account is linked to
 * (store/identities.h): GET /api/v1/users/me/identities lists the
 * caller's, DELETE /api/v1/users/me/identities/{id} unlinks one; the
 * admin's GET and DELETE /api/v1/users/{id}/identities[/{identity}] do the
 * same for any user.  Linking is a browser's sign-in at the provider
 * (the account page's "Link"), never an API call: only the provider can
 * say that the identity is the caller's.  The last way into an account
 * without a password is never unlinked: 409.
 */
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "front.h"
#include "handlers.h"
#include "http/http.h"
#include "problem_reply.h"
#include "reply.h"
#include "store/identities.h"

static cJSON *
row_to_json(const struct identity_row *i)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "id", i->id);
	cJSON_AddStringToObject(o, "provider", i->provider);
	cJSON_AddStringToObject(o, "subject", i->subject);
	if (i->email[0] != '\0')
		cJSON_AddStringToObject(o, "email", i->email);
	else
		cJSON_AddNullToObject(o, "email");
	cJSON_AddStringToObject(o, "linked_at", i->linked_at);
	return o;
}

static void
listed(enum store_status st, const struct identity_row *rows, size_t n,
    bool has_password, void *arg)
{
	struct http_req	*r = arg;
	cJSON		*o, *list;
	size_t		 i;

	if (st == STORE_NOT_FOUND) {
		problem_reply(r, PROBLEM_NOT_FOUND, "no user has that id");
		return;
	}
	if (st != STORE_OK) {
		reply_db_failed(r, st, "identities list");
		return;
	}
	if ((o = cJSON_CreateObject()) == NULL ||
	    (list = cJSON_AddArrayToObject(o, "items")) == NULL ||
	    cJSON_AddBoolToObject(o, "has_password", has_password) == NULL) {
		cJSON_Delete(o);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(list, row_to_json(&rows[i]));
	http_no_store(r, false);
	http_reply_json(r, 200, o);
}

static void
unlinked(enum store_status st, void *arg)
{
	struct http_req *r = arg;

	if (st == STORE_NOT_FOUND) {
		problem_reply(r, PROBLEM_NOT_FOUND, "no identity of that "
		    "account has that id");
		return;
	}
	if (st == STORE_REFUSED) {
		problem_reply(r, PROBLEM_CONFLICT, "it is the account's only "
		    "way to sign in: set a password first");
		return;
	}
	if (st != STORE_OK) {
		reply_db_failed(r, st, "identity unlink");
		return;
	}
	http_reply_empty(r, 204);
}

static void
list_of(struct http_req *r, const char *user_id)
{
	if (identities_list(caller_of(r)->front->db, user_id, listed, r) ==
	    -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}

static void
unlink_of(struct http_req *r, const char *user_id, const char *identity_id)
{
	struct caller *c = caller_of(r);

	if (identity_unlink(c->front->db, user_id, identity_id, r->remote,
	    c->user.id, unlinked, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}

/* GET /api/v1/users/me/identities */
void
h_me_identities(struct http_req *r)
{
	list_of(r, caller_of(r)->user.id);
}

/* DELETE /api/v1/users/me/identities/{id} */
void
h_me_identity_delete(struct http_req *r)
{
	unlink_of(r, caller_of(r)->user.id, http_req_param(r, "id"));
}

/* GET /api/v1/users/{id}/identities */
void
h_admin_identities(struct http_req *r)
{
	list_of(r, http_req_param(r, "id"));
}

/* DELETE /api/v1/users/{id}/identities/{identity} */
void
h_admin_identity_delete(struct http_req *r)
{
	unlink_of(r, http_req_param(r, "id"), http_req_param(r, "identity"));
}
