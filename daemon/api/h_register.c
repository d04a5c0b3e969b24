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

#include "account_flows.h"
#include "addr_limit.h"
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
#include "reply.h"
#include "store/users.h"
#include "util.h"
#include "validate.h"

#define LOCATION_MAX	64

struct registration {
	struct http_req	*r;
	const struct register_ops *ops;
	void		*ctx;
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

/* Gives back g's hasher slot: before any answer (r may go with it). */
static void
registration_release(struct registration *g)
{
	hshare_give(&caller_of(g->r)->front->hasher_share, &g->slot);
}

/* Frees g and its ctx without touching g->r. */
static void
registration_drop(struct registration *g)
{
	if (g->ops->ctx_free != NULL && g->ctx != NULL)
		g->ops->ctx_free(g->ctx);
	free(g->full_name);
	sodium_memzero(g, sizeof(*g));
	free(g);
}

static void
registration_free(struct registration *g)
{
	registration_release(g);
	registration_drop(g);
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

const char *
register_taken_text(enum users_taken taken)
{
	return taken == USERS_TAKEN_EMAIL ?
	    "the e-mail address is already registered" :
	    "the username is taken";
}

static void
registration_taken(struct registration *g, enum users_taken taken)
{
	registration_release(g);
	g->ops->taken(g->r, g->ctx, taken);
	registration_drop(g);
}

static void
inserted(enum store_status st, const struct user *u, enum users_taken taken,
    void *arg)
{
	struct registration *g = arg;
	struct http_req *r = g->r;

	if (st == STORE_CONFLICT) {
		registration_taken(g, taken);
		return;
	}
	if (st != STORE_OK) {
		registration_free(g);
		reply_db_failed(r, st, "registration");
		return;
	}
	registration_release(g);
	g->ops->done(r, g->ctx, u);
	registration_drop(g);
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
		if (st == STORE_CONFLICT)
			registration_taken(g, taken);
		else {
			registration_free(g);
			reply_db_failed(r, st, "registration");
		}
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

struct admission {
	struct http_req		*r;
	register_admitted_cb	*cb;
};

static void
admitted(enum addr_verdict v, unsigned int retry, void *arg)
{
	struct admission a = *(struct admission *)arg;
	struct front *f = caller_of(a.r)->front;

	free(arg);
	/* Answered 503 while the count waited: nothing was tried. */
	if (v == ADDR_PASS && reply_too_late(a.r, "the address's count")) {
		addr_limit_forgive(f, f->register_limit, ADDR_LIMIT_REGISTER,
		    a.r->remote);
		http_req_abandon(a.r);
		return;
	}
	a.cb(a.r, v, retry);
}

void
register_admit(struct http_req *r, register_admitted_cb *cb)
{
	struct front *f = caller_of(r)->front;
	struct admission *a;

	/* Every attempt counts, taken names and bad bodies too, and one over
	 * the limit costs neither a parse nor a query of the users. */
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		cb(r, ADDR_UNAVAILABLE, 1);
		return;
	}
	a->r = r;
	a->cb = cb;
	addr_limit_charge(f, f->register_limit, ADDR_LIMIT_REGISTER,
	    r->remote, admitted, a);
}

int
register_validate(struct http_req *r, const struct register_input *in,
    struct register_errors *e)
{
	struct front *f = caller_of(r)->front;
	int	 n = 0;

	memset(e, 0, sizeof(*e));
	if (!validate_username(in->username, e->username))
		n++;
	if (!validate_email(in->email, e->email))
		n++;
	if (in->full_name != NULL &&
	    !validate_full_name(in->full_name, e->full_name))
		n++;
	if (!validate_password(in->password, in->pwlen,
	    f->cfg->password_min_length, in->username, in->email,
	    f->blocklist, e->password))
		n++;
	return n;
}

void
register_start(struct http_req *r, const struct register_input *in,
    const struct register_ops *ops, void *ctx)
{
	struct registration *g = NULL;

	if (in->pwlen > sizeof(g->pw) ||
	    (g = calloc(1, sizeof(*g))) == NULL ||
	    (in->full_name != NULL &&
	    (g->full_name = strdup(in->full_name)) == NULL)) {
		free(g);
		if (ops->ctx_free != NULL && ctx != NULL)
			ops->ctx_free(ctx);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	g->r = r;
	g->ops = ops;
	g->ctx = ctx;
	uuid_random(g->id);
	str_copy(g->username, in->username, sizeof(g->username));
	str_copy(g->email, in->email, sizeof(g->email));
	g->pwlen = in->pwlen;
	memcpy(g->pw, in->password, g->pwlen);
	if (users_taken(caller_of(r)->front->db, g->username, g->email,
	    checked, g) == -1) {
		registration_free(g);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* ---- the API's answers ---- */

static void
api_done(struct http_req *r, void *ctx, const struct user *u)
{
	char	 location[LOCATION_MAX];

	(void)ctx;
	str_printf(location, sizeof(location), "/api/v1/users/%s", u->id);
	http_set_header(r, "Location", location);
	http_no_store(r, false);
	http_reply_json(r, 201, user_to_json(u));
}

static void
api_taken(struct http_req *r, void *ctx, enum users_taken taken)
{
	(void)ctx;
	problem_reply(r, PROBLEM_CONFLICT, register_taken_text(taken));
}

static const struct register_ops api_register_ops = {
	.done = api_done,
	.taken = api_taken,
	.ctx_free = NULL,
};

static void
api_admitted(struct http_req *r, enum addr_verdict verdict,
    unsigned int retry)
{
	struct caller *c = caller_of(r);
	const struct cfg *cfg = c->front->cfg;
	struct json_in_value v[M_COUNT];
	struct problem_fields pf;
	struct register_input in;
	struct register_errors e;
	cJSON	*o;

	if (verdict != ADDR_PASS) {
		addr_limit_refuse(r, verdict, retry, "too many registrations "
		    "from this address: try again later");
		return;
	}
	if (body_json(r, cfg->json_max_depth, &o) == -1)
		return;
	problem_fields_init(&pf);
	if (json_in_extract(o, register_members, M_COUNT, v, &pf) > 0) {
		body_free(o);
		problem_reply_validation(r, &pf);
		return;
	}
	memset(&in, 0, sizeof(in));
	in.username = v[M_USERNAME].str;
	in.email = v[M_EMAIL].str;
	in.full_name = v[M_FULL_NAME].present && !v[M_FULL_NAME].is_null ?
	    v[M_FULL_NAME].str : NULL;
	in.password = v[M_PASSWORD].str;
	in.pwlen = v[M_PASSWORD].len;
	if (register_validate(r, &in, &e) > 0) {
		if (e.username[0] != '\0')
			problem_field_add(&pf, "username", e.username);
		if (e.email[0] != '\0')
			problem_field_add(&pf, "email", e.email);
		if (e.full_name[0] != '\0')
			problem_field_add(&pf, "full_name", e.full_name);
		if (e.password[0] != '\0')
			problem_field_add(&pf, "password", e.password);
		body_free(o);
		problem_reply_validation(r, &pf);
		return;
	}
	problem_fields_free(&pf);
	register_start(r, &in, &api_register_ops, NULL);
	/* The tree's copy of the password goes now; g's with g. */
	body_free(o);
}

void
h_register(struct http_req *r)
{
	if (caller_of(r)->front->cfg->registration ==
	    CFG_REGISTRATION_CLOSED) {
		problem_reply(r, PROBLEM_FORBIDDEN, "registration is closed");
		return;
	}
	register_admit(r, api_admitted);
}
