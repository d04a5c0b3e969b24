/*
 * The admin API: list (keyset pagination), read, update, delete users.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "fields.h"
#include "http/form.h"
#include "front.h"
#include "handlers.h"
#include "http/http.h"
#include "log.h"
#include "problem_reply.h"
#include "reply.h"
#include "store/users.h"
#include "user_patch.h"
#include "util.h"

#define LIST_DEFAULT	50
#define LIST_MAX	200
/* A cursor is base64url of "<created_at in microseconds>:<uuid>". */
#define CURSOR_RAW_MAX	(20 + 1 + PROTO_UUID_LEN)
#define CURSOR_MAX	B64URL_ENCODED_LEN(CURSOR_RAW_MAX)

struct cursor {
	long long	us;	/* created_at, microseconds since the epoch */
	char		id[PROTO_UUID_LEN + 1];
};

static int
cursor_decode(const char *s, struct cursor *cur)
{
	char	 raw[CURSOR_RAW_MAX + 3], *colon;
	ssize_t	 n;
	const char *errstr;

	if (strlen(s) > CURSOR_MAX ||
	    (n = b64url_decode((uint8_t *)raw, sizeof(raw) - 1, s,
	    strlen(s))) <= 0)
		return -1;
	raw[n] = '\0';
	if (memchr(raw, '\0', (size_t)n) != NULL ||
	    (colon = strchr(raw, ':')) == NULL)
		return -1;
	*colon = '\0';
	if (num_parse(raw, 0, INT64_MAX, &cur->us, &errstr) == -1 ||
	    !field_is_uuid(colon + 1))
		return -1;
	return str_copy(cur->id, colon + 1, sizeof(cur->id));
}

static int
cursor_encode(const char *us, const char *id, char *out, size_t outlen)
{
	char	 raw[CURSOR_RAW_MAX + 1];

	if (str_printf(raw, sizeof(raw), "%s:%s", us, id) == -1)
		return -1;
	return b64url_encode(out, outlen, (const uint8_t *)raw,
	    strlen(raw)) < 0 ? -1 : 0;
}

/* The page of users_list(), as the API's {"items", "next"}. */
static void
listed(enum store_status st, const struct users_page *page, void *arg)
{
	struct http_req *r = arg;
	cJSON	*o, *items, *item;
	char	 next[CURSOR_MAX + 1], us[24];

	if (st != STORE_OK) {
		reply_db_failed(r, st, "user list");
		return;
	}
	if ((o = cJSON_CreateObject()) == NULL ||
	    (items = cJSON_AddArrayToObject(o, "items")) == NULL) {
		cJSON_Delete(o);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	for (size_t i = 0; i < page->n; i++) {
		if ((item = user_to_json(&page->items[i])) == NULL) {
			cJSON_Delete(o);
			problem_reply(r, PROBLEM_INTERNAL, NULL);
			return;
		}
		cJSON_AddItemToArray(items, item);
	}
	if (page->more) {
		str_printf(us, sizeof(us), "%lld", (long long)page->last_us);
		if (cursor_encode(us, page->items[page->n - 1].id, next,
		    sizeof(next)) == -1) {
			cJSON_Delete(o);
			problem_reply(r, PROBLEM_INTERNAL, NULL);
			return;
		}
		cJSON_AddStringToObject(o, "next", next);
	} else
		cJSON_AddNullToObject(o, "next");
	http_no_store(r, false);
	http_reply_json(r, 200, o);
}

void
h_admin_list(struct http_req *r)
{
	static const char *const allowed[] = { "limit", "after", "q" };
	struct caller *c = caller_of(r);
	struct cursor cur = { 0, "" };
	struct users_search search;
	struct problem_fields pf;
	char	 why[FORM_WHY_MAX];
	const char *after, *q, *unknown;
	struct form f;
	long long limit;
	int	 rc;

	rc = form_parse(&f, r->query, r->query ? strlen(r->query) : 0, why,
	    sizeof(why));
	if (rc != 0) {
		form_free(&f);
		problem_reply(r, rc == -2 ? PROBLEM_INTERNAL :
		    PROBLEM_MALFORMED, why);
		return;
	}
	problem_fields_init(&pf);
	if ((unknown = form_unknown(&f, allowed, 3)) != NULL)
		problem_field_add(&pf, unknown, "is not a parameter of this route");
	switch (form_get_int(&f, "limit", 1, LIST_MAX, LIST_DEFAULT, &limit)) {
	case FORM_INT_OK:
		break;
	case FORM_INT_MALFORMED:
		form_free(&f);
		problem_fields_free(&pf);
		problem_reply(r, PROBLEM_MALFORMED, "limit must be a number");
		return;
	case FORM_INT_RANGE:
		problem_field_add(&pf, "limit", "must be from 1 to 200");
		break;
	}
	if ((q = form_get(&f, "q")) != NULL && strlen(q) > FIELD_EMAIL_MAX)
		problem_field_add(&pf, "q", "must be at most "
		    STRINGIFY(FIELD_EMAIL_MAX) " bytes");
	if (problem_fields_count(&pf) > 0) {
		form_free(&f);
		problem_reply_validation(r, &pf);
		return;
	}
	problem_fields_free(&pf);
	if ((after = form_get(&f, "after")) != NULL &&
	    cursor_decode(after, &cur) == -1) {
		form_free(&f);
		problem_reply(r, PROBLEM_MALFORMED, "after is not a cursor "
		    "of this API");
		return;
	}
	search.after = after != NULL;
	search.after_us = cur.us;
	search.after_id = cur.id;
	search.prefix = q != NULL ? q : "";
	search.limit = (unsigned int)limit;
	if (users_list(c->front->db, &search, listed, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	form_free(&f);
}

static void
got_user(enum store_status st, const struct user *u, void *arg)
{
	struct http_req *r = arg;

	if (st == STORE_NOT_FOUND)
		problem_reply(r, PROBLEM_NOT_FOUND, "no such user");
	else if (st != STORE_OK)
		reply_db_failed(r, st, "user read");
	else {
		http_no_store(r, false);
		http_reply_json(r, 200, user_to_json(u));
	}
}

void
h_admin_get(struct http_req *r)
{
	if (users_find(caller_of(r)->front->db, http_req_param(r, "id"),
	    got_user, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}

void
h_admin_patch(struct http_req *r)
{
	user_patch_handle(r, http_req_param(r, "id"),
	    caller_of(r)->user.id, true);
}

static void
deleted(enum store_status st, void *arg)
{
	struct http_req *r = arg;

	if (st == STORE_NOT_FOUND)
		problem_reply(r, PROBLEM_NOT_FOUND, "no such user");
	else if (st != STORE_OK)
		reply_db_failed(r, st, "user delete");
	else
		http_reply_empty(r, 204);
}

void
h_admin_delete(struct http_req *r)
{
	struct caller *c = caller_of(r);

	if (users_delete(c->front->db, http_req_param(r, "id"), NULL,
	    r->remote, c->user.id, deleted, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}
