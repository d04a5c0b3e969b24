/*
 * POST /api/v1/users: registration.  The user id is made here, before the
 * row exists, because the hasher binds the sealed hash to it.
 *
 * A taken username or e-mail address is answered from a cheap look at
 * the table before the password is hashed, so that a flood of taken or
 * mistyped names costs the hasher nothing; the insertion still answers
 * the same 409 when a concurrent registration took the name meanwhile.
 * The hash takes one of the client address's slots of the hasher queue
 * (hasher_share.h): past its share a client gets 429.  With e-mail
 * verification on, the row comes with its verification mail.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "body.h"
#include "config.h"
#include "fields.h"
#include "front.h"
#include "handlers.h"
#include "hasher_share.h"
#include "hc/hasher_client.h"
#include "http/http.h"
#include "http/json_in.h"
#include "log.h"
#include "mail_link.h"
#include "problem_reply.h"
#include "ratelimit.h"
#include "reply.h"
#include "store/users.h"
#include "util.h"
#include "validate.h"

#define LOCATION_MAX	64

struct registration {
	struct http_req	*r;
	char		 id[PROTO_UUID_LEN + 1];
	char		 username[FIELD_USERNAME_MAX + 1];
	char		 email[FIELD_EMAIL_MAX + 1];
	char		*full_name;		/* NULL when not given */
	size_t		 pwlen;
	uint8_t		 pw[FIELD_PASSWORD_MAX];	/* secret, until hashed */
	struct hshare_slot slot;		/* while at the hasher */
};

static const struct json_in_member register_members[] = {
	{ "username", JSON_IN_STRING, FIELD_USERNAME_MAX * 4, 0, true, false },
	{ "email", JSON_IN_STRING, FIELD_EMAIL_MAX * 4, 0, true, false },
	{ "password", JSON_IN_STRING, FIELD_PASSWORD_MAX * 4, 0, true, false },
	{ "full_name", JSON_IN_STRING, FIELD_FULL_NAME_MAX * 4, 0, false, true },
};
enum { M_USERNAME, M_EMAIL, M_PASSWORD, M_FULL_NAME, M_COUNT };

static void
registration_free(struct registration *g)
{
	hshare_give(&caller_of(g->r)->front->hasher_share, &g->slot);
	free(g->full_name);
	sodium_memzero(g, sizeof(*g));
	free(g);
}

/*
 * Frees the parsed body, wiping the password in it first, on every path:
 * also when it was refused (too long, another field invalid).
 */
static void
body_free(cJSON *o)
{
	cJSON	*pw = cJSON_GetObjectItemCaseSensitive(o, "password");

	if (cJSON_IsString(pw) && pw->valuestring != NULL)
		sodium_memzero(pw->valuestring, strlen(pw->valuestring));
	cJSON_Delete(o);
}

/* The 409 of a taken field. */
static void
reply_taken(struct http_req *r, enum users_taken taken)
{
	if (taken == USERS_TAKEN_EMAIL)
		problem_reply(r, PROBLEM_CONFLICT,
		    "the e-mail address is already registered");
	else
		problem_reply(r, PROBLEM_CONFLICT, "the username is taken");
}

static void
inserted(enum store_status st, const struct user *u, enum users_taken taken,
    void *arg)
{
	struct registration *g = arg;
	struct http_req *r = g->r;
	char	 location[LOCATION_MAX];

	registration_free(g);
	if (st == STORE_CONFLICT) {
		reply_taken(r, taken);
		return;
	}
	if (st != STORE_OK) {
		reply_db_failed(r, st, "registration");
		return;
	}
	str_printf(location, sizeof(location), "/api/v1/users/%s", u->id);
	http_set_header(r, "Location", location);
	http_no_store(r, false);
	http_reply_json(r, 201, user_to_json(u));
}

static void
hashed(enum hc_status st, const char *stored, void *arg)
{
	struct registration *g = arg;
	struct http_req *r = g->r;
	struct caller *c = caller_of(r);
	struct users_new n;
	struct mail_link link;
	int	 rc;

	memset(&link, 0, sizeof(link));
	hshare_give(&c->front->hasher_share, &g->slot);
	if (st != HC_OK) {
		registration_free(g);
		reply_hasher_failed(r, st);
		return;
	}
	if (reply_too_late(r, "the insert")) {
		registration_free(g);
		http_req_abandon(r);
		return;
	}
	n.id = g->id;
	n.username = g->username;
	n.email = g->email;
	n.full_name = g->full_name;
	n.stored = stored;
	n.remote = r->remote;
	n.verify = NULL;
	/* The verification mail is queued with the row (store/links.h). */
	if (mail_link_verifies(c->front->cfg)) {
		if (mail_link_make(&link, c->front->cfg, LINKS_VERIFY_EMAIL,
		    c->front->cfg->email_verification_ttl) == -1) {
			registration_free(g);
			problem_reply(r, PROBLEM_INTERNAL, NULL);
			return;
		}
		n.verify = &link.mail;
	}
	rc = users_create(c->front->db, &n, inserted, g);
	mail_link_wipe(&link);
	if (rc == -1) {
		registration_free(g);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* The names are free: hash the password, then insert (hashed()). */
static void
checked(enum store_status st, enum users_taken taken, void *arg)
{
	struct registration *g = arg;
	struct http_req *r = g->r;
	struct front *f = caller_of(r)->front;
	enum hc_status why;

	if (st != STORE_OK) {
		registration_free(g);
		if (st == STORE_CONFLICT)
			reply_taken(r, taken);
		else
			reply_db_failed(r, st, "registration");
		return;
	}
	if (!hshare_take(&f->hasher_share, &g->slot, r->remote,
	    hshare_limit(f->cfg->hasher_queue))) {
		registration_free(g);
		problem_retry(r, PROBLEM_RATE_LIMITED, 1, "too many password "
		    "operations from this address at once: try again");
		return;
	}
	if (hc_hash(f->hc, g->id, g->pw, g->pwlen, hashed, g,
	    &why) == NULL) {
		registration_free(g);
		reply_hasher_failed(r, why);
		return;
	}
	/* The request holds its own copy now. */
	sodium_memzero(g->pw, sizeof(g->pw));
	g->pwlen = 0;
}

void
h_register(struct http_req *r)
{
	struct caller *c = caller_of(r);
	const struct cfg *cfg = c->front->cfg;
	struct json_in_value v[M_COUNT];
	struct problem_fields pf;
	struct registration *g = NULL;
	cJSON	*o;
	char	 msg[VALIDATE_MSG_MAX];
	int64_t	 retry;
	time_t	 now;

	if (cfg->registration == CFG_REGISTRATION_CLOSED) {
		problem_reply(r, PROBLEM_FORBIDDEN, "registration is closed");
		return;
	}
	/* Every attempt counts, taken names and bad bodies too, and one over
	 * the limit costs neither a parse nor a query. */
	now = time(NULL);
	if (rl_blocked(c->front->register_limit, r->remote, now, &retry)) {
		problem_retry(r, PROBLEM_RATE_LIMITED, (unsigned int)retry,
		    "too many registrations from this address: try again "
		    "later");
		return;
	}
	rl_fail(c->front->register_limit, r->remote, now);
	if (body_json(r, cfg->json_max_depth, &o) == -1)
		return;
	problem_fields_init(&pf);
	if (json_in_extract(o, register_members, M_COUNT, v, &pf) > 0) {
		body_free(o);
		problem_reply_validation(r, &pf);
		return;
	}
	if (!validate_username(v[M_USERNAME].str, msg))
		problem_field_add(&pf, "username", msg);
	if (!validate_email(v[M_EMAIL].str, msg))
		problem_field_add(&pf, "email", msg);
	if (v[M_FULL_NAME].present && !v[M_FULL_NAME].is_null &&
	    !validate_full_name(v[M_FULL_NAME].str, msg))
		problem_field_add(&pf, "full_name", msg);
	if (!validate_password(v[M_PASSWORD].str, v[M_PASSWORD].len,
	    cfg->password_min_length, v[M_USERNAME].str, v[M_EMAIL].str,
	    c->front->blocklist, msg))
		problem_field_add(&pf, "password", msg);
	if (problem_fields_count(&pf) > 0) {
		body_free(o);
		problem_reply_validation(r, &pf);
		return;
	}
	problem_fields_free(&pf);

	if (v[M_PASSWORD].len > sizeof(g->pw) ||
	    (g = calloc(1, sizeof(*g))) == NULL ||
	    (v[M_FULL_NAME].present && !v[M_FULL_NAME].is_null &&
	    (g->full_name = strdup(v[M_FULL_NAME].str)) == NULL)) {
		free(g);
		body_free(o);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	g->r = r;
	uuid_random(g->id);
	str_copy(g->username, v[M_USERNAME].str, sizeof(g->username));
	str_copy(g->email, v[M_EMAIL].str, sizeof(g->email));
	g->pwlen = v[M_PASSWORD].len;
	memcpy(g->pw, v[M_PASSWORD].str, g->pwlen);
	/* The tree's copy of the password goes now; g's with g. */
	body_free(o);
	if (users_taken(c->front->db, g->username, g->email, checked,
	    g) == -1) {
		registration_free(g);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}
