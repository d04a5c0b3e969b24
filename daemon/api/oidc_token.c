/*
 * The token endpoint of registered clients: see oidc_token.h.
 *
 * authorization_code: the client authenticates (oidc_auth.h), then
 * codes_redeem spends the code in one statement (a reuse revokes the
 * refresh family the first exchange issued); the redirect URI must be
 * the code's byte for byte and the PKCE verifier must hash to its
 * challenge.  Then the hasher signs an access token (aud and client_id
 * the client, scope the granted scopes) and an ID token with the
 * client's algorithm; tokens_oidc_login records the login (with the first
 * refresh token of a family when offline_access was granted), and
 * codes_issued records what was issued, refusing when a replay came in
 * between (store/codes.h gives the order).
 *
 * refresh_token: the presented token must be of a family of this
 * client; it rotates as the first-party one does (refresh.c), and the
 * answer has a new ID token without nonce (OpenID Connect Core 12.2).
 * A scope parameter may narrow the access token's scope, never widen it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "b64url.h"
#include "config.h"
#include "front.h"
#include "hc/hasher_client.h"
#include "http/form.h"
#include "http/http.h"
#include "log.h"
#include "oidc_token.h"
#include "problem_reply.h"
#include "reply.h"
#include "store/clients.h"
#include "store/codes.h"
#include "store/tokens.h"
#include "token.h"
#include "util.h"

#define BAD_CODE	"the code is invalid, expired, spent or of another " \
			"client"
#define BAD_REFRESH	TOKEN_BAD_REFRESH

enum oidc_grant { GRANT_CODE, GRANT_REFRESH };

/* A request on its way. */
struct oidc_call {
	struct http_req	*r;
	struct front	*f;
	struct oauth_client *client;
	enum oidc_grant	 grant;
	/* the code grant's */
	char		 code_hash[SECRET_TOKEN_HASH_LITERAL];
	bool		 code_ok;	/* the code or refresh token is of
					 * the right shape */
	char		 redirect_uri[OIDC_URI_MAX + 1];
	char		 verifier[OIDC_VERIFIER_MAX + 1];	/* secret */
	/* the refresh grant's */
	char		 old_hash[SECRET_TOKEN_HASH_LITERAL];
	bool		 has_scope;
	unsigned	 asked;		/* the scope parameter's bits */
	char		 old_id[PROTO_UUID_LEN + 1];
	/* what is granted */
	struct user	 user;
	unsigned	 scopes;
	bool		 has_nonce;
	char		 nonce[OIDC_NONCE_MAX + 1];
	int64_t		 auth_time;
	bool		 second_factor;
	char		 sid[PROTO_UUID_LEN + 1];
	/* what is issued */
	bool		 offline;
	char		 family[PROTO_UUID_LEN + 1];
	char		 new_id[PROTO_UUID_LEN + 1];
	char		 refresh[SECRET_TOKEN_LEN + 1];			/* secret */
	char		 refresh_hash[SECRET_TOKEN_HASH_LITERAL];
	struct proto_sign_ans at;					/* secret */
	bool		 has_id;
	struct proto_sign_id_ans idt;					/* secret */
	int64_t		 sign_asked;
};

static void
call_free(struct oidc_call *c)
{
	free(c->client);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

static void
refuse(struct oidc_call *c, enum oauth_error e, const char *why)
{
	struct http_req *r = c->r;

	call_free(c);
	problem_oauth(r, e, why, 0);
}

bool
oidc_verifier_ok(const char *v)
{
	size_t	 n;

	if (v == NULL)
		return false;
	for (n = 0; v[n] != '\0'; n++) {
		unsigned char ch = (unsigned char)v[n];

		if (n >= OIDC_VERIFIER_MAX)
			return false;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~'))
			return false;
	}
	return n >= OIDC_VERIFIER_MIN;
}

bool
oidc_pkce_ok(const char *verifier, const char *challenge)
{
	uint8_t	 d[crypto_hash_sha256_BYTES];
	char	 enc[OIDC_CHALLENGE_LEN + 8];
	bool	 ok;

	if (!oidc_verifier_ok(verifier) || challenge == NULL ||
	    strlen(challenge) != OIDC_CHALLENGE_LEN)
		return false;
	crypto_hash_sha256(d, (const uint8_t *)verifier, strlen(verifier));
	ok = b64url_encode(enc, sizeof(enc), d, sizeof(d)) ==
	    OIDC_CHALLENGE_LEN &&
	    sodium_memcmp(enc, challenge, OIDC_CHALLENGE_LEN) == 0;
	sodium_memzero(d, sizeof(d));
	sodium_memzero(enc, sizeof(enc));
	return ok;
}

void
oidc_user_claims(struct proto_sign_id_req *q, const struct user *u,
    unsigned scopes)
{
	if (scopes & OIDC_SCOPE_PROFILE) {
		str_copy(q->preferred_username, u->username,
		    sizeof(q->preferred_username));
		if (u->has_full_name)
			str_copy(q->name, u->full_name, sizeof(q->name));
	}
	if (scopes & OIDC_SCOPE_EMAIL) {
		str_copy(q->email, u->email, sizeof(q->email));
		q->email_verified = u->email_verified;
	}
	if (scopes & OIDC_SCOPE_ROLES) {
		q->roles_claim = true;
		q->nroles = u->nroles;
		memcpy(q->roles, u->roles, sizeof(q->roles));
	}
}

/* ---- the answer ---- */

static void
reply_tokens(struct oidc_call *c)
{
	struct http_req *r = c->r;
	char	 scope[OIDC_SCOPES_TEXT_MAX];
	int64_t	 expires_in;
	cJSON	*o = cJSON_CreateObject();

	/* As token.c: measured from the request, capped at what was asked. */
	expires_in = (int64_t)c->at.exp - c->sign_asked;
	if (expires_in > c->f->cfg->access_token_ttl)
		expires_in = c->f->cfg->access_token_ttl;
	if (expires_in < 0)
		expires_in = 0;
	oidc_scopes_text(c->scopes, ' ', scope);
	if (o == NULL ||
	    cJSON_AddStringToObject(o, "access_token", c->at.jwt) == NULL ||
	    cJSON_AddStringToObject(o, "token_type", "Bearer") == NULL ||
	    cJSON_AddNumberToObject(o, "expires_in", (double)expires_in) ==
	    NULL ||
	    (c->has_id && cJSON_AddStringToObject(o, "id_token",
	    c->idt.jwt) == NULL) ||
	    cJSON_AddStringToObject(o, "scope", scope) == NULL ||
	    (c->offline && cJSON_AddStringToObject(o, "refresh_token",
	    c->refresh) == NULL)) {
		cJSON_Delete(o);
		call_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	call_free(c);
	http_no_store(r, true);
	http_reply_json(r, 200, o);
}

/* ---- the code grant's end ---- */

static void
code_recorded(enum store_status st, void *arg)
{
	struct oidc_call *c = arg;

	if (st == STORE_REFUSED || st == STORE_NOT_FOUND) {
		/* A replay came in between: the family is revoked. */
		refuse(c, OAUTH_INVALID_GRANT, BAD_CODE);
		return;
	}
	if (st != STORE_OK) {
		struct http_req *r = c->r;

		call_free(c);
		reply_db_failed(r, st, "code issued");
		return;
	}
	reply_tokens(c);
}

static void
login_recorded(enum store_status st, void *arg)
{
	struct oidc_call *c = arg;
	struct http_req *r = c->r;

	if (st == STORE_NOT_FOUND) {
		/* The user changed since the code was redeemed. */
		refuse(c, OAUTH_INVALID_GRANT, BAD_CODE);
		return;
	}
	if (st != STORE_OK) {
		call_free(c);
		reply_db_failed(r, st, "oidc login");
		return;
	}
	if (codes_issued(c->f->db, c->code_hash, c->offline ? c->family :
	    NULL, c->at.jti, code_recorded, c) == -1) {
		call_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

static void
code_tokens_signed(struct oidc_call *c)
{
	struct http_req *r = c->r;
	struct tokens_oidc o;

	if (reply_too_late(r, "the code's tokens")) {
		call_free(c);
		http_req_abandon(r);
		return;
	}
	memset(&o, 0, sizeof(o));
	if (c->offline) {
		uuid_random(c->family);
		uuid_random(c->new_id);
		if (secret_token_new(c->refresh, c->refresh_hash) == -1) {
			call_free(c);
			problem_reply(r, PROBLEM_INTERNAL, NULL);
			return;
		}
		o.token_id = c->new_id;
		o.family = c->family;
		o.hash = c->refresh_hash;
	}
	o.user_id = c->user.id;
	o.token_version = c->user.token_version;
	o.client_id = c->client->client_id;
	o.scopes = c->scopes;
	o.auth_time = c->auth_time;
	o.second_factor = c->second_factor;
	o.ttl = c->f->cfg->refresh_token_ttl;
	o.remote = r->remote;
	if (tokens_oidc_login(c->f->db, &o, login_recorded, c) == -1) {
		call_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* ---- the refresh grant's end ---- */

static void
rotated(enum store_status st, void *arg)
{
	struct oidc_call *c = arg;
	struct http_req *r = c->r;

	if (st == STORE_NOT_FOUND) {
		refuse(c, OAUTH_INVALID_GRANT, BAD_REFRESH);
		return;
	}
	if (st != STORE_OK) {
		call_free(c);
		reply_db_failed(r, st, "refresh");
		return;
	}
	reply_tokens(c);
}

static void
refresh_tokens_signed(struct oidc_call *c)
{
	struct http_req *r = c->r;

	if (reply_too_late(r, "the rotation")) {
		call_free(c);
		http_req_abandon(r);
		return;
	}
	c->offline = true;
	uuid_random(c->new_id);
	if (secret_token_new(c->refresh, c->refresh_hash) == -1) {
		call_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	if (tokens_rotate(c->f->db, c->old_id, c->new_id, c->refresh_hash,
	    c->f->cfg->refresh_token_ttl, rotated, c) == -1) {
		call_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* ---- signing: the access token, then the ID token ---- */

static void
tokens_signed(struct oidc_call *c)
{
	if (c->grant == GRANT_CODE)
		code_tokens_signed(c);
	else
		refresh_tokens_signed(c);
}

static void
id_signed(enum hc_status st, const struct proto_sign_id_ans *ans, void *arg)
{
	struct oidc_call *c = arg;

	if (st != HC_OK) {
		struct http_req *r = c->r;

		call_free(c);
		token_signer_unavailable(r);
		return;
	}
	c->idt = *ans;
	c->has_id = true;
	tokens_signed(c);
}

static void
access_signed(enum hc_status st, const struct proto_sign_ans *ans, void *arg)
{
	struct oidc_call *c = arg;
	struct http_req *r = c->r;
	struct proto_sign_id_req q;
	enum hc_status why;

	if (st != HC_OK) {
		call_free(c);
		token_signer_unavailable(r);
		return;
	}
	c->at = *ans;
	/* No openid in a narrowed refresh: an access token alone. */
	if (!(c->scopes & OIDC_SCOPE_OPENID)) {
		tokens_signed(c);
		return;
	}
	memset(&q, 0, sizeof(q));
	q.alg = strcmp(c->client->id_token_alg, "EdDSA") == 0 ?
	    PROTO_ALG_EDDSA : PROTO_ALG_RS256;
	str_copy(q.sub, c->user.id, sizeof(q.sub));
	str_copy(q.aud, c->client->client_id, sizeof(q.aud));
	if (c->has_nonce && str_copy(q.nonce, c->nonce, sizeof(q.nonce)) ==
	    -1) {
		call_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	q.auth_time = (uint32_t)c->auth_time;
	q.namr = 1;
	str_copy(q.amr[0], "pwd", sizeof(q.amr[0]));
	/* acr: the class of the login, as amr says how (OIDC.md). */
	str_copy(q.acr, "urn:warden:acr:password", sizeof(q.acr));
	if (c->second_factor) {
		str_copy(q.amr[1], "otp", sizeof(q.amr[1]));
		q.namr = 2;
		str_copy(q.acr, "urn:warden:acr:mfa", sizeof(q.acr));
	}
	q.ttl = (uint32_t)c->f->cfg->access_token_ttl;
	str_copy(q.sid, c->sid, sizeof(q.sid));
	oidc_user_claims(&q, &c->user, c->scopes);
	/* at_hash is optional here (OpenID Connect Core 3.1.3.6), and for
	 * EdDSA its hash is an erratum's (SHA-512) that relying parties
	 * disagree on (authlib before 1.3 cannot compute it and refuses the
	 * token): RS256 ID tokens carry it, EdDSA ones do not. */
	if (q.alg == PROTO_ALG_RS256)
		str_copy(q.access_token, c->at.jwt, sizeof(q.access_token));
	if (hc_sign_id(c->f->hc, &q, id_signed, c, &why) == NULL) {
		call_free(c);
		token_signer_unavailable(r);
	}
	sodium_memzero(&q, sizeof(q));
}

static void
sign(struct oidc_call *c)
{
	struct http_req *r = c->r;
	struct proto_sign_req q;
	enum hc_status why;

	if (reply_too_late(r, "signing")) {
		call_free(c);
		http_req_abandon(r);
		return;
	}
	memset(&q, 0, sizeof(q));
	str_copy(q.sub, c->user.id, sizeof(q.sub));
	str_copy(q.username, c->user.username, sizeof(q.username));
	q.nroles = c->user.nroles;
	memcpy(q.roles, c->user.roles, sizeof(q.roles));
	q.ver = c->user.token_version;
	q.ttl = (uint32_t)c->f->cfg->access_token_ttl;
	q.email_verified = c->user.email_verified;
	str_copy(q.aud, c->client->client_id, sizeof(q.aud));
	oidc_scopes_text(c->scopes, ' ', q.scope);
	c->sign_asked = (int64_t)time(NULL);
	if (hc_sign(c->f->hc, &q, access_signed, c, &why) == NULL) {
		call_free(c);
		token_signer_unavailable(r);
	}
}

/* ---- authorization_code ---- */

/* A reused code's family is revoked (or the database failed: the first
 * statement revoked what it saw, and the tokens' reuse detection does
 * the rest): the exchange is refused either way. */
static void
reuse_revoked(enum store_status st, void *arg)
{
	(void)st;
	refuse(arg, OAUTH_INVALID_GRANT, BAD_CODE);
}

static void
code_redeemed(enum store_status st, const struct oauth_code *k, void *arg)
{
	struct oidc_call *c = arg;
	struct http_req *r = c->r;

	if (st == STORE_NOT_FOUND) {
		refuse(c, OAUTH_INVALID_GRANT, BAD_CODE);
		return;
	}
	if (st != STORE_OK) {
		call_free(c);
		reply_db_failed(r, st, "code");
		return;
	}
	if (k->reused) {
		/* What the store's snapshot missed, revoked in a statement of
		 * its own; the access token's jti is refused by userinfo and
		 * introspection (codes.h). */
		log_warn("authorization code of client %s used twice: what "
		    "it issued is revoked", c->client->client_id);
		if (codes_revoke_issued(c->f->db, c->code_hash, reuse_revoked,
		    c) == -1)
			refuse(c, OAUTH_INVALID_GRANT, BAD_CODE);
		return;
	}
	/* OpenID Connect Core 3.1.3.2: the same redirect URI, exactly. */
	if (strcmp(k->redirect_uri, c->redirect_uri) != 0) {
		refuse(c, OAUTH_INVALID_GRANT, "redirect_uri is not the one "
		    "of the authorization request");
		return;
	}
	if (!oidc_pkce_ok(c->verifier, k->code_challenge)) {
		refuse(c, OAUTH_INVALID_GRANT, "the code_verifier does not "
		    "match the code_challenge");
		return;
	}
	c->user = k->user;
	/* What the client may still have of what the user granted. */
	c->scopes = k->scopes & c->client->scopes;
	c->has_nonce = k->has_nonce;
	str_copy(c->nonce, k->nonce, sizeof(c->nonce));
	c->auth_time = k->auth_time;
	c->second_factor = k->second_factor;
	str_copy(c->sid, k->session_id, sizeof(c->sid));
	c->offline = (c->scopes & OIDC_SCOPE_OFFLINE_ACCESS) != 0;
	sign(c);
}

/* ---- refresh_token ---- */

static void
family_revoked(enum store_status st, void *arg)
{
	struct oidc_call *c = arg;
	struct http_req *r = c->r;

	if (st != STORE_OK) {
		call_free(c);
		reply_db_failed(r, st, "reuse");
		return;
	}
	log_warn("refresh token reuse: family %s of client %s revoked",
	    c->family, c->client->client_id);
	refuse(c, OAUTH_INVALID_GRANT, BAD_REFRESH);
}

static void
refresh_found(enum store_status st, const struct tokens_presented *p,
    void *arg)
{
	struct oidc_call *c = arg;
	struct http_req *r = c->r;

	if (st == STORE_NOT_FOUND) {
		refuse(c, OAUTH_INVALID_GRANT, BAD_REFRESH);
		return;
	}
	if (st != STORE_OK) {
		call_free(c);
		reply_db_failed(r, st, "refresh lookup");
		return;
	}
	/* Another client's, or a first-party family: as if unknown. */
	if (strcmp(p->client_id, c->client->client_id) != 0) {
		refuse(c, OAUTH_INVALID_GRANT, BAD_REFRESH);
		return;
	}
	str_copy(c->old_id, p->id, sizeof(c->old_id));
	str_copy(c->family, p->family, sizeof(c->family));
	c->user = p->user;
	if (p->used && !p->revoked && !p->in_grace) {
		if (tokens_revoke_reused(c->f->db, c->family, c->user.id,
		    r->remote, family_revoked, c) == -1) {
			call_free(c);
			problem_reply(r, PROBLEM_INTERNAL, NULL);
		}
		return;
	}
	if (p->used || p->revoked || p->expired || !c->user.is_active) {
		refuse(c, OAUTH_INVALID_GRANT, BAD_REFRESH);
		return;
	}
	/* RFC 6749 6: the scope asked must be within the original grant. */
	if (c->has_scope && (c->asked & ~p->scopes) != 0) {
		refuse(c, OAUTH_INVALID_SCOPE, "scope is wider than the "
		    "grant of the refresh token");
		return;
	}
	c->scopes = (c->has_scope ? c->asked : p->scopes) &
	    c->client->scopes;
	c->auth_time = p->auth_time;
	c->second_factor = p->second_factor;
	sign(c);
}

/* ---- the client is known ---- */

static void
client_authenticated(struct oauth_client *client, void *arg)
{
	struct oidc_call *c = arg;
	struct http_req *r = c->r;

	if (client == NULL) {
		call_free(c);	/* answered */
		return;
	}
	c->client = client;
	if (c->grant == GRANT_CODE) {
		if (!c->code_ok) {
			refuse(c, OAUTH_INVALID_GRANT, BAD_CODE);
			return;
		}
		if (codes_redeem(c->f->db, c->code_hash, client->client_id,
		    r->remote, code_redeemed, c) == -1) {
			call_free(c);
			problem_reply(r, PROBLEM_INTERNAL, NULL);
		}
		return;
	}
	if (!c->code_ok) {
		refuse(c, OAUTH_INVALID_GRANT, BAD_REFRESH);
		return;
	}
	if (tokens_find(c->f->db, c->old_hash, c->f->cfg->refresh_grace,
	    refresh_found, c) == -1) {
		call_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* Fills c from the form; replies and returns -1 on a request that is
 * wrong whoever the client is. */
static int
parse(struct http_req *r, const struct form *f, struct oidc_call *c)
{
	const char *grant = form_get(f, "grant_type");
	const char *v, *s;

	if (grant == NULL) {
		problem_oauth(r, OAUTH_INVALID_REQUEST,
		    "grant_type is required", 0);
		return -1;
	}
	if (strcmp(grant, "authorization_code") == 0) {
		c->grant = GRANT_CODE;
		if ((v = form_get(f, "code")) == NULL ||
		    (s = form_get(f, "redirect_uri")) == NULL) {
			problem_oauth(r, OAUTH_INVALID_REQUEST, "the "
			    "authorization_code grant takes code, redirect_uri "
			    "and code_verifier", 0);
			return -1;
		}
		/* PKCE is required of every client (OIDC.md). */
		if ((v = form_get(f, "code_verifier")) == NULL) {
			problem_oauth(r, OAUTH_INVALID_REQUEST,
			    "code_verifier is required (PKCE)", 0);
			return -1;
		}
		if (!oidc_verifier_ok(v)) {
			problem_oauth(r, OAUTH_INVALID_GRANT, "code_verifier "
			    "must be 43 to 128 characters of A-Z a-z 0-9 - . "
			    "_ ~ (RFC 7636 4.1)", 0);
			return -1;
		}
		memcpy(c->verifier, v, strlen(v) + 1);
		/* A URI longer than any registered one matches none. */
		if (str_copy(c->redirect_uri, s, sizeof(c->redirect_uri)) ==
		    -1)
			c->redirect_uri[0] = '\0';
		v = form_get(f, "code");
		c->code_ok = secret_token_hash(v, strlen(v), c->code_hash) ==
		    0;
		return 0;
	}
	if (strcmp(grant, "refresh_token") == 0) {
		c->grant = GRANT_REFRESH;
		if ((v = form_get(f, "refresh_token")) == NULL) {
			problem_oauth(r, OAUTH_INVALID_REQUEST, "the "
			    "refresh_token grant takes refresh_token", 0);
			return -1;
		}
		c->code_ok = secret_token_hash(v, strlen(v), c->old_hash) ==
		    0;
		if ((s = form_get(f, "scope")) != NULL && *s != '\0') {
			if (oidc_scopes_parse(s, ' ', &c->asked) == -1) {
				problem_oauth(r, OAUTH_INVALID_SCOPE,
				    "scope names an unknown scope", 0);
				return -1;
			}
			c->has_scope = true;
		}
		return 0;
	}
	if (strcmp(grant, "password") == 0 ||
	    strcmp(grant, TOKEN_GRANT_MFA_URN) == 0) {
		problem_oauth(r, OAUTH_UNAUTHORIZED_CLIENT, "a registered "
		    "client uses authorization_code and refresh_token", 0);
		return -1;
	}
	problem_oauth(r, OAUTH_UNSUPPORTED_GRANT_TYPE, "grant_type must be "
	    "authorization_code or refresh_token", 0);
	return -1;
}

void
oidc_token(struct http_req *r, const struct form *f,
    struct oidc_client_claim *cc)
{
	struct oidc_call *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		sodium_memzero(cc, sizeof(*cc));
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	c->r = r;
	c->f = caller_of(r)->front;
	if (parse(r, f, c) == -1) {
		sodium_memzero(cc, sizeof(*cc));
		call_free(c);
		return;
	}
	if (oidc_auth_client(c->f, r, cc, client_authenticated, c) == -1) {
		call_free(c);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}
