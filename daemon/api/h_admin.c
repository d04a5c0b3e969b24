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
#define LIST_MAX	USERS_PAGE_MAX
/* A cursor is base64url of "<created_at in microseconds>:<uuid>". */
#define CURSOR_RAW_MAX	(20 + 1 + PROTO_UUID_LEN)
/* The last microsecond of 9999 (9999-12-31T23:59:59.999999Z): no row is
 * created later, and PostgreSQL converts anything up to it.  Past it a
 * cursor is not one of ours (a 400, never the database's 500). */
#define CURSOR_US_MAX	253402300799999999LL
#define CURSOR_MAX	B64URL_ENCODED_LEN(CURSOR_RAW_MAX)

struct cursor {
	long long	us;	/* created_at, microseconds since the epoch */
	char		id[PROTO_UUID_LEN + 1];
};

/* The list's query string, parsed: ?limit=1..200&after=<cursor>&q=. */
struct list_query {
	unsigned int	limit;
	bool		after;		/* cursor holds where to resume */
	struct cursor	cursor;
	char		q[FIELD_EMAIL_MAX + 1];	/* "" when not given */
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
	if (num_parse(raw, 0, CURSOR_US_MAX, &cur->us, &errstr) == -1 ||
	    !field_is_uuid(colon + 1))
		return -1;
	return str_copy(cur->id, colon + 1, sizeof(cur->id));
}

static int
cursor_encode(int64_t us, const char *id, char *out, size_t outlen)
{
	char	 raw[CURSOR_RAW_MAX + 1];

	if (str_printf(raw, sizeof(raw), "%" PRId64 ":%s", us, id) == -1)
		return -1;
	return b64url_encode(out, outlen, (const uint8_t *)raw,
	    strlen(raw)) < 0 ? -1 : 0;
}

/*
 * Step 1: parses r's query string into *lq.  Replies and returns -1 when
 * it is not one: 400 for a malformed query, limit or cursor, 422 for an
 * unknown parameter, a limit out of range or an overlong q.
 */
static int
list_query_parse(struct http_req *r, struct list_query *lq)
{
	static const char *const allowed[] = { "limit", "after", "q" };
	struct problem_fields pf;
	char	 why[FORM_WHY_MAX];
	const char *after, *q, *unknown;
	struct form f;
	long long limit;
	int	 rc;

	memset(lq, 0, sizeof(*lq));
	rc = form_parse(&f, r->query, r->query ? strlen(r->query) : 0, why,
	    sizeof(why));
	if (rc != 0) {
		form_free(&f);
		problem_reply(r, rc == -2 ? PROBLEM_INTERNAL :
		    PROBLEM_MALFORMED, why);
		return -1;
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
		return -1;
	case FORM_INT_RANGE:
		problem_field_add(&pf, "limit", "must be from 1 to "
		    STRINGIFY(LIST_MAX));
		break;
	}
	if ((q = form_get(&f, "q")) != NULL &&
	    str_copy(lq->q, q, sizeof(lq->q)) == -1)
		problem_field_add(&pf, "q", "must be at most "
		    STRINGIFY(FIELD_EMAIL_MAX) " bytes");
	if (problem_fields_count(&pf) > 0) {
		form_free(&f);
		problem_reply_validation(r, &pf);
		return -1;
	}
	problem_fields_free(&pf);
	if ((after = form_get(&f, "after")) != NULL &&
	    cursor_decode(after, &lq->cursor) == -1) {
		form_free(&f);
		problem_reply(r, PROBLEM_MALFORMED, "after is not a cursor "
		    "of this API");
		return -1;
	}
	lq->after = after != NULL;
	lq->limit = (unsigned int)limit;
	form_free(&f);
	return 0;
}

/* Step 2: the store's search for lq (which must outlive it). */
static void
list_search(const struct list_query *lq, struct users_search *s)
{
	memset(s, 0, sizeof(*s));
	s->after = lq->after;
	s->after_us = lq->cursor.us;
	s->after_id = lq->cursor.id;
	s->prefix = lq->q;
	s->limit = lq->limit;
}

/*
 * Step 3: the page as the API's {"items": [user, ...], "next": cursor},
 * next null on the last page.  NULL when memory runs out.
 */
static cJSON *
list_page_render(const struct users_page *page)
{
	cJSON	*o, *items, *item;
	char	 next[CURSOR_MAX + 1];

	if ((o = cJSON_CreateObject()) == NULL ||
	    (items = cJSON_AddArrayToObject(o, "items")) == NULL)
		goto fail;
	for (size_t i = 0; i < page->n; i++) {
		if ((item = user_to_json(&page->items[i])) == NULL)
			goto fail;
		cJSON_AddItemToArray(items, item);
	}
	if (page->more) {
		if (cursor_encode(page->last_us, page->items[page->n - 1].id,
		    next, sizeof(next)) == -1 ||
		    cJSON_AddStringToObject(o, "next", next) == NULL)
			goto fail;
	} else if (cJSON_AddNullToObject(o, "next") == NULL)
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

static void
listed(enum store_status st, const struct users_page *page, void *arg)
{
	struct http_req *r = arg;
	cJSON	*o;

	if (st != STORE_OK) {
		reply_db_failed(r, st, "user list");
		return;
	}
	if ((o = list_page_render(page)) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	http_no_store(r, false);
	http_reply_json(r, 200, o);
}

/* GET /api/v1/users: parse the query, search, render the page. */
void
h_admin_list(struct http_req *r)
{
	struct list_query lq;
	struct users_search search;

	if (list_query_parse(r, &lq) == -1)
		return;
	list_search(&lq, &search);
	/* The store copies the search's strings: lq may go. */
	if (users_list(caller_of(r)->front->db, &search, listed, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
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

	/* Deleting oneself asks for one's password: DELETE /users/me. */
	if (strcmp(http_req_param(r, "id"), c->user.id) == 0) {
		problem_reply(r, PROBLEM_CONFLICT, "an admin cannot delete "
		    "itself here; DELETE /api/v1/users/me can");
		return;
	}
	if (users_delete(c->front->db, http_req_param(r, "id"), NULL,
	    r->remote, c->user.id, deleted, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}
