/*
 * The OpenID Connect provider's resource and token-management endpoints
 * for registered clients (daemon/api/openapi.json):
 *
 * GET|POST /oauth2/userinfo (OpenID Connect Core 5.3): a client's access
 * token in the Authorization header (RFC 6750 2.1), with the openid
 * scope; the claims of its scopes, as in the ID token.  Only a client's
 * token passes (jwt_verify.h): a first-party token is no client's, and a
 * client's token in turn opens none of the first-party API.  The user
 * must still be active and at the token's version, and the token not
 * issued by a code that came back (codes_access_revoked).
 *
 * POST /oauth2/introspect (RFC 7662): confidential clients alone.  A
 * client learns only of its own tokens: another client's token, as one
 * that is expired, revoked, of a changed user, or not ours, is
 * {"active": false} (RFC 7662 2.2 leaves it to the server).
 *
 * POST /oauth2/revoke (RFC 7009): every client, a public one by its
 * client_id.  A refresh token of the client revokes its whole family;
 * an access token lives until its exp (access_token_ttl: short), since
 * nothing here keeps a list of revoked access tokens to check at every
 * request; an unknown or foreign token is 200 all the same (2.2).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "auth.h"
#include "body.h"
#include "config.h"
#include "fields.h"
#include "front.h"
#include "handlers.h"
#include "http/form.h"
#include "http/http.h"
#include "oidc_auth.h"
#include "problem_reply.h"
#include "reply.h"
#include "store/clients.h"
#include "store/codes.h"
#include "store/tokens.h"
#include "store/users.h"
#include "util.h"

/* A userinfo or introspection request on its way. */
struct o2_call {
	struct http_req	*r;
	struct front	*f;
	struct oauth_client *client;	/* introspection, revocation */
	bool		 introspect;
	bool		 is_jwt;
	char		 token[JWT_VERIFY_MAX_LEN + 1];		/* secret */
	struct jwt_claims claims;
	unsigned	 scopes;
	struct user	 user;
};

static void
o2_free(struct o2_call *c)
{
	free(c->client);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* ---- userinfo ---- */

static cJSON *
user_claims(const struct user *u, unsigned scopes)
{
	cJSON	*o = cJSON_CreateObject(), *a;
	size_t	 i;

	if (o == NULL || cJSON_AddStringToObject(o, "sub", u->id) == NULL)
		goto fail;
	if ((scopes & OIDC_SCOPE_PROFILE) &&
	    (cJSON_AddStringToObject(o, "preferred_username",
	    u->username) == NULL || (u->has_full_name &&
	    cJSON_AddStringToObject(o, "name", u->full_name) == NULL)))
		goto fail;
	if ((scopes & OIDC_SCOPE_EMAIL) &&
	    (cJSON_AddStringToObject(o, "email", u->email) == NULL ||
	    cJSON_AddBoolToObject(o, "email_verified",
	    u->email_verified) == NULL))
		goto fail;
	if (scopes & OIDC_SCOPE_ROLES) {
		if ((a = cJSON_AddArrayToObject(o, "roles")) == NULL)
			goto fail;
		for (i = 0; i < u->nroles; i++)
			if (!cJSON_AddItemToArray(a,
			    cJSON_CreateString(u->roles[i])))
				goto fail;
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

static void
inactive(struct o2_call *c)
{
	struct http_req *r = c->r;
	cJSON	*o = cJSON_CreateObject();

	o2_free(c);
	if (o == NULL || cJSON_AddFalseToObject(o, "active") == NULL) {
		cJSON_Delete(o);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	http_no_store(r, true);
	http_reply_json(r, 200, o);
}

static void
access_active(struct o2_call *c)
{
	struct http_req *r = c->r;
	const struct jwt_claims *j = &c->claims;
	cJSON	*o = cJSON_CreateObject();

	if (o == NULL || cJSON_AddTrueToObject(o, "active") == NULL ||
	    cJSON_AddStringToObject(o, "scope", j->scope) == NULL ||
	    cJSON_AddStringToObject(o, "client_id", j->client_id) == NULL ||
	    cJSON_AddStringToObject(o, "username", c->user.username) ==
	    NULL ||
	    cJSON_AddStringToObject(o, "token_type", "Bearer") == NULL ||
	    cJSON_AddNumberToObject(o, "exp", (double)j->exp) == NULL ||
	    cJSON_AddNumberToObject(o, "iat", (double)j->iat) == NULL ||
	    cJSON_AddStringToObject(o, "sub", j->sub) == NULL ||
	    cJSON_AddStringToObject(o, "aud", j->client_id) == NULL ||
	    cJSON_AddStringToObject(o, "iss", c->f->cfg->issuer) == NULL ||
	    cJSON_AddStringToObject(o, "jti", j->jti) == NULL) {
		cJSON_Delete(o);
		o2_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	o2_free(c);
	http_no_store(r, true);
	http_reply_json(r, 200, o);
}

static void
userinfo_answer(struct o2_call *c)
{
	struct http_req *r = c->r;
	cJSON	*o = user_claims(&c->user, c->scopes);

	o2_free(c);
	if (o == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	http_no_store(r, true);
	http_reply_json(r, 200, o);
}

static void
revoked_checked(enum store_status st, void *arg)
{
	struct o2_call *c = arg;
	struct http_req *r = c->r;

	if (st == STORE_OK) {
		/* Issued by a code that came back (RFC 6749 4.1.2). */
		if (c->introspect)
			inactive(c);
		else {
			o2_free(c);
			problem_bearer(r, BEARER_INVALID_TOKEN,
			    "the token has been revoked");
		}
		return;
	}
	if (st != STORE_NOT_FOUND) {
		o2_free(c);
		reply_db_failed(r, st, "access token");
		return;
	}
	if (c->introspect)
		access_active(c);
	else
		userinfo_answer(c);
}

static void
token_user_loaded(enum store_status st, const struct user *u, void *arg)
{
	struct o2_call *c = arg;
	struct http_req *r = c->r;

	if (st != STORE_OK && st != STORE_NOT_FOUND) {
		o2_free(c);
		reply_db_failed(r, st, "token user");
		return;
	}
	if (st == STORE_NOT_FOUND || !u->is_active ||
	    u->token_version != c->claims.ver) {
		if (c->introspect)
			inactive(c);
		else {
			o2_free(c);
			problem_bearer(r, BEARER_INVALID_TOKEN,
			    "the token has been revoked");
		}
		return;
	}
	c->user = *u;
	/* The hasher makes every jti a uuid; another is no code's. */
	if (!field_is_uuid(c->claims.jti)) {
		revoked_checked(STORE_NOT_FOUND, c);
		return;
	}
	if (codes_access_revoked(c->f->db, c->claims.jti, revoked_checked,
	    c) == -1) {
		o2_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

void
h_userinfo(struct http_req *r)
{
	struct front *f = caller_of(r)->front;
	struct o2_call *c;
	enum auth_presented how;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	c->r = r;
	c->f = f;
	if (auth_verify_client_request(f, r, time(NULL), &c->claims, &how) !=
	    JWT_OK || oidc_scopes_parse(c->claims.scope, ' ', &c->scopes) ==
	    -1) {
		o2_free(c);
		auth_refuse(r, how);
		return;
	}
	if (!(c->scopes & OIDC_SCOPE_OPENID)) {
		o2_free(c);
		problem_bearer(r, BEARER_INSUFFICIENT_SCOPE,
		    "userinfo needs the openid scope");
		return;
	}
	if (users_find(f->db, c->claims.sub, token_user_loaded, c) == -1) {
		o2_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* ---- the form of introspection and revocation ---- */

/*
 * Parses r's form (RFC 7662 2.1, RFC 7009 2.1): token into c->token,
 * token_type_hint checked, the client read (oidc_auth.h) into *cc.
 * Returns 1 when a registered client is named, 0 when the first-party
 * client or none is (nothing replied), or -1 after replying.
 */
static int
o2_form(struct http_req *r, struct o2_call *c, struct oidc_client_claim *cc)
{
	char	 why[FORM_WHY_MAX];
	const char *token = NULL, *hint;
	struct form fm;
	int	 rc;

	if (!body_is_form(r)) {
		problem_oauth_media_type(r, "the body must be "
		    "application/x-www-form-urlencoded");
		return -1;
	}
	rc = form_parse(&fm, r->body, r->body_len, why, sizeof(why));
	if (rc == 0 && (token = form_get(&fm, "token")) == NULL) {
		str_copy(why, "token is required", sizeof(why));
		rc = -1;
	}
	if (rc != 0) {
		form_free(&fm);
		if (rc == -2)
			problem_reply(r, PROBLEM_INTERNAL, NULL);
		else
			problem_oauth(r, OAUTH_INVALID_REQUEST, why, 0);
		return -1;
	}
	hint = form_get(&fm, "token_type_hint");
	if (hint != NULL && strcmp(hint, "access_token") != 0 &&
	    strcmp(hint, "refresh_token") != 0) {
		form_free(&fm);
		problem_oauth(r, OAUTH_UNSUPPORTED_TOKEN_TYPE, "token_type_hint "
		    "must be access_token or refresh_token", 0);
		return -1;
	}
	/* Longer than any token of ours: stays "", none of ours. */
	(void)str_copy(c->token, token, sizeof(c->token));
	c->is_jwt = strchr(c->token, '.') != NULL;
	rc = oidc_auth_claim(r, c->f->cfg, form_get(&fm, "client_id"),
	    form_get(&fm, "client_secret"), cc);
	form_free(&fm);
	if (rc == 0)
		sodium_memzero(cc, sizeof(*cc));
	return rc;
}

/* ---- introspection ---- */

static void
refresh_introspected(enum store_status st, const struct tokens_presented *p,
    void *arg)
{
	struct o2_call *c = arg;
	struct http_req *r = c->r;
	char	 scope[OIDC_SCOPES_TEXT_MAX];
	cJSON	*o;

	if (st == STORE_NOT_FOUND) {
		inactive(c);
		return;
	}
	if (st != STORE_OK) {
		o2_free(c);
		reply_db_failed(r, st, "introspection");
		return;
	}
	if (strcmp(p->client_id, c->client->client_id) != 0 || p->used ||
	    p->revoked || p->expired || !p->user.is_active) {
		inactive(c);
		return;
	}
	oidc_scopes_text(p->scopes, ' ', scope);
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddTrueToObject(o, "active") == NULL ||
	    cJSON_AddStringToObject(o, "scope", scope) == NULL ||
	    cJSON_AddStringToObject(o, "client_id", p->client_id) == NULL ||
	    cJSON_AddStringToObject(o, "username", p->user.username) == NULL ||
	    cJSON_AddStringToObject(o, "token_type", "refresh_token") ==
	    NULL ||
	    cJSON_AddNumberToObject(o, "exp", (double)p->expires_at) == NULL ||
	    cJSON_AddNumberToObject(o, "iat", (double)p->issued_at) == NULL ||
	    cJSON_AddStringToObject(o, "sub", p->user.id) == NULL ||
	    cJSON_AddStringToObject(o, "aud", p->client_id) == NULL ||
	    cJSON_AddStringToObject(o, "iss", c->f->cfg->issuer) == NULL ||
	    cJSON_AddStringToObject(o, "jti", p->id) == NULL) {
		cJSON_Delete(o);
		o2_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	o2_free(c);
	http_no_store(r, true);
	http_reply_json(r, 200, o);
}

static void
introspector_authenticated(struct oauth_client *client, void *arg)
{
	struct o2_call *c = arg;
	struct http_req *r = c->r;
	char	 hash[SECRET_TOKEN_HASH_LITERAL];

	if (client == NULL) {
		o2_free(c);
		return;
	}
	c->client = client;
	if (client->is_public) {
		o2_free(c);
		problem_oauth(r, OAUTH_INVALID_CLIENT, "introspection is for "
		    "confidential clients", 0);
		return;
	}
	if (c->is_jwt) {
		if (!auth_keys_known(c->f)) {
			o2_free(c);
			problem_retry(r, PROBLEM_UNAVAILABLE, 1,
			    "the service is starting; try again");
			return;
		}
		if (auth_verify_token(c->f, c->token, strlen(c->token), true,
		    time(NULL), &c->claims) != JWT_OK ||
		    strcmp(c->claims.client_id, client->client_id) != 0) {
			inactive(c);
			return;
		}
		if (users_find(c->f->db, c->claims.sub, token_user_loaded,
		    c) == -1) {
			o2_free(c);
			problem_reply(r, PROBLEM_INTERNAL, NULL);
		}
		return;
	}
	if (secret_token_hash(c->token, strlen(c->token), hash) == -1) {
		inactive(c);
		return;
	}
	if (tokens_find(c->f->db, hash, 0, refresh_introspected, c) == -1) {
		o2_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

void
h_introspect(struct http_req *r)
{
	struct oidc_client_claim cc;
	struct o2_call *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	c->r = r;
	c->f = caller_of(r)->front;
	c->introspect = true;
	switch (o2_form(r, c, &cc)) {
	case -1:
		o2_free(c);
		return;
	case 0:
		o2_free(c);
		problem_oauth(r, OAUTH_INVALID_CLIENT, "a registered client "
		    "must authenticate", 0);
		return;
	}
	if (oidc_auth_client(c->f, r, &cc, introspector_authenticated, c) ==
	    -1) {
		o2_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* ---- revocation ---- */

/* 200 with {} (RFC 7009 2.2), as /api/v1/auth/revoke answers. */
static void
revoke_ok(struct http_req *r)
{
	http_no_store(r, true);
	http_reply_raw(r, 200, "application/json", "{}", 2);
}

static void
family_revoked(enum store_status st, void *arg)
{
	struct http_req *r = arg;

	if (st != STORE_OK) {
		reply_db_failed(r, st, "revoke");
		return;
	}
	revoke_ok(r);
}

static void
revoker_authenticated(struct oauth_client *client, void *arg)
{
	struct o2_call *c = arg;
	struct http_req *r = c->r;
	char	 hash[SECRET_TOKEN_HASH_LITERAL];
	int	 rc;

	if (client == NULL) {
		o2_free(c);
		return;
	}
	c->client = client;
	/* An access token lives until exp; an unknown token is no error. */
	if (c->is_jwt || secret_token_hash(c->token, strlen(c->token),
	    hash) == -1) {
		o2_free(c);
		revoke_ok(r);
		return;
	}
	rc = tokens_revoke_client(c->f->db, hash, client->client_id,
	    r->remote, family_revoked, r);
	o2_free(c);
	if (rc == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}

void
h_oauth2_revoke(struct http_req *r)
{
	struct oidc_client_claim cc;
	struct o2_call *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	c->r = r;
	c->f = caller_of(r)->front;
	switch (o2_form(r, c, &cc)) {
	case -1:
		o2_free(c);
		return;
	case 0:
		/* The first-party client, as discovery names this endpoint
		 * for every client: /api/v1/auth/revoke's own answer. */
		o2_free(c);
		h_revoke(r);
		return;
	}
	if (oidc_auth_client(c->f, r, &cc, revoker_authenticated, c) == -1) {
		o2_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}
