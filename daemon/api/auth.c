#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth.h"
#include "config.h"
#include "fields.h"
#include "front.h"
#include "hc/hasher_client.h"
#include "http/http.h"
#include "log.h"
#include "problem_reply.h"
#include "reply.h"
#include "store/users.h"
#include "token_cache.h"
#include "user_cache.h"
#include "util.h"

#define AUTH_LEEWAY	60	/* seconds of clock skew accepted */

/* A write has completed: what it may have changed is forgotten here at
 * once, before its notification comes back (api/user_cache.h). */
static void
forget_written(struct caller *c)
{
	struct user_cache *uc = c->front->users;

	if (!c->writes || uc == NULL)
		return;
	if (c->claims.sub[0] != '\0')
		user_cache_forget(uc, c->claims.sub);
	if (c->user.id[0] != '\0')
		user_cache_forget(uc, c->user.id);
	if (c->target[0] != '\0')
		user_cache_forget(uc, c->target);
}

void
auth_user_written(struct http_req *r, const char *id)
{
	struct caller *c = caller_of(r);

	str_copy(c->target, id, sizeof(c->target));
	c->writes = true;
	if (c->front->users != NULL)
		user_cache_forget(c->front->users, id);
}

static void
caller_free(void *p)
{
	struct caller *c = p;

	if (c != NULL) {
		forget_written(c);
		sodium_memzero(c, sizeof(*c));
		free(c);
	}
}

enum auth_presented
auth_bearer_token(const char *header, const char **token, size_t *len)
{
	const char *p;

	if (header == NULL || strncasecmp(header, "Bearer", 6) != 0 ||
	    (header[6] != ' ' && header[6] != '\0'))
		return AUTH_NO_TOKEN;
	for (p = header + 6; *p == ' '; p++)
		;
	*len = strcspn(p, " \t");
	if (*len == 0 || p[*len] != '\0')
		return AUTH_BAD_HEADER;
	*token = p;
	return AUTH_TOKEN;
}

bool
auth_keys_known(const struct front *f)
{
	return hc_pubkeys(f->hc)->nkeys > 0;
}

/* True while the hasher still publishes the key kid. */
static bool
key_published(const struct proto_pubkeys_ans *keys, const char *kid)
{
	size_t	 i;

	for (i = 0; i < keys->nkeys; i++)
		if (strcmp(keys->keys[i].kid, kid) == 0)
			return true;
	return false;
}

/*
 * A token seen before is answered from the cache (api/token_cache.h)
 * while it lives and its key is still published; any other is verified,
 * and stored when it passes.  Revocation is the caller's, after this.
 */
enum jwt_result
auth_verify_token(struct front *f, const char *token, size_t len,
    bool client, time_t now, struct jwt_claims *claims)
{
	const struct proto_pubkeys_ans *keys = hc_pubkeys(f->hc);
	struct jwt_verify_params vp = {
		.issuer = f->cfg->issuer,
		.audience = f->cfg->audience,
		.leeway = AUTH_LEEWAY,
		.client = client,
	};
	uint8_t	 key[TOKEN_CACHE_KEY_LEN];
	enum jwt_result jr;

	if (f->tokens == NULL || len > JWT_VERIFY_MAX_LEN)
		return jwt_verify(keys, &vp, token, len, now, claims);
	token_cache_key(f->tokens, token, len, client, key);
	if (token_cache_lookup(f->tokens, key, now, claims)) {
		if (key_published(keys, claims->kid))
			return JWT_OK;
		token_cache_forget(f->tokens, key);
	}
	jr = jwt_verify(keys, &vp, token, len, now, claims);
	if (jr == JWT_OK)
		token_cache_store(f->tokens, key, claims->exp + AUTH_LEEWAY,
		    claims);
	return jr;
}

static enum jwt_result
verify_header(struct front *f, struct http_req *r, bool client, time_t now,
    struct jwt_claims *claims, enum auth_presented *how)
{
	const char *token = NULL;
	size_t	 len = 0;

	*how = auth_bearer_token(http_req_header(r, "Authorization"), &token,
	    &len);
	if (*how != AUTH_TOKEN)
		return JWT_MALFORMED;
	/* Right after a start the key set is still on its way from the
	 * hasher: a valid token must not hear that it is invalid. */
	if (!auth_keys_known(f)) {
		*how = AUTH_KEYS_PENDING;
		return JWT_UNKNOWN_KID;
	}
	return auth_verify_token(f, token, len, client, now, claims);
}

enum jwt_result
auth_verify_request(struct front *f, struct http_req *r, time_t now,
    struct jwt_claims *claims, enum auth_presented *how)
{
	return verify_header(f, r, false, now, claims, how);
}

enum jwt_result
auth_verify_client_request(struct front *f, struct http_req *r, time_t now,
    struct jwt_claims *claims, enum auth_presented *how)
{
	return verify_header(f, r, true, now, claims, how);
}

void
auth_refuse(struct http_req *r, enum auth_presented how)
{
	switch (how) {
	case AUTH_NO_TOKEN:
		problem_bearer(r, BEARER_NO_TOKEN,
		    "an access token is required");
		break;
	case AUTH_BAD_HEADER:
		problem_bearer(r, BEARER_INVALID_REQUEST, "the Authorization "
		    "header must be \"Bearer\" and one token");
		break;
	case AUTH_TOKEN:
		problem_bearer(r, BEARER_INVALID_TOKEN,
		    "the access token is invalid or expired");
		break;
	case AUTH_KEYS_PENDING:
		problem_retry(r, PROBLEM_UNAVAILABLE, 1,
		    "the service is starting; try again");
		break;
	}
}

static void
user_loaded(enum store_status st, const struct user *u, void *arg);

/* The caller's row from the database: kept in the user cache. */
static void
user_read(enum store_status st, const struct user *u, void *arg)
{
	struct http_req *r = arg;
	struct caller *c = caller_of(r);

	if (st == STORE_OK && c->front->users != NULL)
		user_cache_put(c->front->users, u, c->user_mark, time(NULL));
	user_loaded(st, u, r);
}

static void
user_loaded(enum store_status st, const struct user *u, void *arg)
{
	struct http_req *r = arg;
	struct caller *c = caller_of(r);

	if (st == STORE_NOT_FOUND) {
		problem_bearer(r, BEARER_INVALID_TOKEN,
		    "the account no longer exists");
		return;
	}
	if (st != STORE_OK) {
		reply_db_failed(r, st, "loading the caller");
		return;
	}
	c->user = *u;
	if (!c->user.is_active ||
	    c->user.token_version != c->claims.ver) {
		problem_bearer(r, BEARER_INVALID_TOKEN,
		    "the token has been revoked");
		return;
	}
	if (r->route->auth == ROUTE_AUTH_ADMIN &&
	    !user_has_role(&c->user, "admin")) {
		problem_bearer(r, BEARER_INSUFFICIENT_SCOPE,
		    "this route needs the admin role");
		return;
	}
	c->authenticated = true;
	http_req_run(r);
}

void
auth_dispatch(struct http_req *r, void *arg)
{
	struct front *f = arg;
	struct caller *c;
	struct user u;
	enum jwt_result jr;
	enum auth_presented how;
	const char *id;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	c->front = f;
	r->caller = c;
	r->caller_free = caller_free;
	if (r->method != EVHTTP_REQ_GET && r->method != EVHTTP_REQ_HEAD) {
		c->writes = true;
		id = http_req_param(r, "id");
		if (id != NULL && field_is_uuid(id))
			str_copy(c->target, id, sizeof(c->target));
		if (f->users != NULL && c->target[0] != '\0')
			user_cache_forget(f->users, c->target);
	}
	if (r->route->auth == ROUTE_AUTH_NONE) {
		http_req_run(r);
		return;
	}

	jr = auth_verify_request(f, r, time(NULL), &c->claims, &how);
	if (jr != JWT_OK) {
		log_debug("request %s: token refused: %s", r->id,
		    jwt_result_str(jr));
		auth_refuse(r, how);
		return;
	}
	if (f->users != NULL) {
		if (c->writes)
			user_cache_forget(f->users, c->claims.sub);
		else if (user_cache_get(f->users, c->claims.sub, time(NULL),
		    &u) && u.token_version >= c->claims.ver) {
			/* A token newer than the row held (versions only
			 * grow) means a change not heard of yet: read. */
			user_loaded(STORE_OK, &u, r);
			return;
		}
		c->user_mark = user_cache_mark(f->users);
	}
	if (users_find(f->db, c->claims.sub, user_read, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}
