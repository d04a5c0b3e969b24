/*
 * A user's sessions: GET /api/v1/users/me/sessions lists the browser
 * sessions of the login portal and the refresh-token families (each a
 * login of an application), DELETE /api/v1/users/me/sessions/{id} ends
 * one (store/sessions.h).
 */
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "front.h"
#include "handlers.h"
#include "http/http.h"
#include "problem_reply.h"
#include "reply.h"
#include "store/sessions.h"

static cJSON *
item_to_json(const struct sessions_item *it)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "id", it->id);
	cJSON_AddStringToObject(o, "kind", it->browser ? "browser" :
	    "refresh_token");
	cJSON_AddStringToObject(o, "created_at", it->created);
	cJSON_AddStringToObject(o, "last_seen_at", it->last_seen);
	if (it->remote[0] != '\0')
		cJSON_AddStringToObject(o, "address", it->remote);
	else
		cJSON_AddNullToObject(o, "address");
	if (it->agent[0] != '\0')
		cJSON_AddStringToObject(o, "user_agent", it->agent);
	else
		cJSON_AddNullToObject(o, "user_agent");
	cJSON_AddBoolToObject(o, "current", it->current);
	return o;
}

static void
listed(enum store_status st, const struct sessions_item *items, size_t n,
    void *arg)
{
	struct http_req	*r = arg;
	cJSON		*o, *list;
	size_t		 i;

	if (st != STORE_OK) {
		reply_db_failed(r, st, "sessions list");
		return;
	}
	if ((o = cJSON_CreateObject()) == NULL ||
	    (list = cJSON_AddArrayToObject(o, "items")) == NULL) {
		cJSON_Delete(o);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(list, item_to_json(&items[i]));
	http_no_store(r, false);
	http_reply_json(r, 200, o);
}

/* GET /api/v1/users/me/sessions */
void
h_me_sessions(struct http_req *r)
{
	struct caller *c = caller_of(r);

	if (sessions_list(c->front->db, c->user.id, NULL, listed, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}

static void
ended(enum store_status st, void *arg)
{
	struct http_req *r = arg;

	if (st == STORE_NOT_FOUND) {
		problem_reply(r, PROBLEM_NOT_FOUND, "no live session of "
		    "yours has that id");
		return;
	}
	if (st != STORE_OK) {
		reply_db_failed(r, st, "session end");
		return;
	}
	http_reply_empty(r, 204);
}

/* DELETE /api/v1/users/me/sessions/{id} */
void
h_me_session_delete(struct http_req *r)
{
	struct caller *c = caller_of(r);

	if (sessions_end_one(c->front->db, c->user.id, http_req_param(r,
	    "id"), r->remote, ended, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}
