/*
 * Client authentication of registered clients: see oidc_auth.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "basic_auth.h"
#include "config.h"
#include "front.h"
#include "http/http.h"
#include "oidc_auth.h"
#include "problem_reply.h"
#include "reply.h"
#include "store/clients.h"
#include "util.h"

int
oidc_auth_claim(struct http_req *r, const struct cfg *cfg,
    const char *body_id, const char *body_secret,
    struct oidc_client_claim *cc)
{
	char		 id[FIELD_PLAIN_NAME_MAX + 1];
	const char	*h = http_req_header(r, "Authorization");

	memset(cc, 0, sizeof(*cc));
	if (h != NULL && strncasecmp(h, "Basic ", 6) == 0) {
		for (h += 6; *h == ' '; h++)
			;
		if (basic_client_credentials(h, id, cc->secret,
		    &cc->secretlen) == -1) {
			problem_oauth(r, OAUTH_INVALID_CLIENT,
			    "unknown client", 0);
			return -1;
		}
		if (strcmp(id, cfg->client_id) == 0) {
			sodium_memzero(cc, sizeof(*cc));
			return 0;
		}
		if (!oidc_client_id_ok(id)) {
			sodium_memzero(cc, sizeof(*cc));
			problem_oauth(r, OAUTH_INVALID_CLIENT,
			    "unknown client", 0);
			return -1;
		}
		if (body_secret != NULL) {
			sodium_memzero(cc, sizeof(*cc));
			problem_oauth(r, OAUTH_INVALID_CLIENT, "a client "
			    "authenticates one way: Basic or client_secret", 0);
			return -1;
		}
		if (body_id != NULL && strcmp(body_id, id) != 0) {
			sodium_memzero(cc, sizeof(*cc));
			problem_oauth(r, OAUTH_INVALID_REQUEST,
			    "client_id is not the client of the header", 0);
			return -1;
		}
		cc->basic = true;
		cc->has_secret = true;
		str_copy(cc->id, id, sizeof(cc->id));
		return 1;
	}
	if (body_id == NULL || strcmp(body_id, cfg->client_id) == 0 ||
	    !oidc_client_id_ok(body_id))
		return 0;
	str_copy(cc->id, body_id, sizeof(cc->id));
	if (body_secret != NULL) {
		cc->secretlen = strlen(body_secret);
		if (cc->secretlen > BASIC_MAX) {
			sodium_memzero(cc, sizeof(*cc));
			problem_oauth(r, OAUTH_INVALID_CLIENT,
			    "the client secret is wrong", 0);
			return -1;
		}
		memcpy(cc->secret, body_secret, cc->secretlen + 1);
		cc->has_secret = true;
	}
	return 1;
}

/* oidc_auth_client on its way. */
struct auth_call {
	struct http_req	*r;
	struct oidc_client_claim cc;
	oidc_auth_cb	*cb;
	void		*arg;
};

static void
auth_call_free(struct auth_call *a)
{
	sodium_memzero(a, sizeof(*a));
	free(a);
}

static void
client_found(enum store_status st, struct oauth_client *c, void *arg)
{
	struct auth_call *a = arg;
	struct http_req *r = a->r;
	oidc_auth_cb	*cb = a->cb;
	void		*cbarg = a->arg;
	const char	*why = NULL;

	if (st == STORE_OK) {
		/* A public client has no secret; an empty one (some
		 * libraries send "" with Basic) is none. */
		if (c->is_public && a->cc.has_secret && a->cc.secretlen > 0)
			why = "a public client has no secret";
		else if (!c->is_public && !a->cc.has_secret)
			why = "this client must authenticate";
		else if (!c->is_public && !oauth_client_secret_ok(c,
		    a->cc.secret, a->cc.secretlen))
			why = "the client secret is wrong";
	}
	auth_call_free(a);
	if (st == STORE_NOT_FOUND) {
		problem_oauth(r, OAUTH_INVALID_CLIENT, "unknown client", 0);
		cb(NULL, cbarg);
		return;
	}
	if (st != STORE_OK) {
		reply_db_failed(r, st, "client lookup");
		cb(NULL, cbarg);
		return;
	}
	if (why != NULL) {
		free(c);
		problem_oauth(r, OAUTH_INVALID_CLIENT, why, 0);
		cb(NULL, cbarg);
		return;
	}
	cb(c, cbarg);
}

int
oidc_auth_client(struct front *f, struct http_req *r,
    struct oidc_client_claim *cc, oidc_auth_cb *cb, void *arg)
{
	struct auth_call *a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		sodium_memzero(cc, sizeof(*cc));
		return -1;
	}
	a->r = r;
	a->cc = *cc;
	a->cb = cb;
	a->arg = arg;
	sodium_memzero(cc, sizeof(*cc));
	if (clients_find(f->db, a->cc.id, client_found, a) == -1) {
		auth_call_free(a);
		return -1;
	}
	return 0;
}
