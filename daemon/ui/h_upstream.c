/*
 * GET /ui/login/{provider} and GET /ui/login/{provider}/callback: signing
 * in through an upstream identity provider (upstream_flow.h).
 *
 * Once the provider has vouched for an identity (api/upstreams.h), the
 * account it signs in to is, in this order:
 *   1. the account linked to it already;
 *   2. when the sign-in was started from the account page's "Link", the
 *      signed-in user's, now linked;
 *   3. when the provider asserts email_verified, its file says
 *      link_by_email and the account of that e-mail address has verified
 *      it too, that account, now linked;
 *   4. when an account has that e-mail address otherwise: none; the page
 *      asks the user to sign in with the password and link from there;
 *   5. else a new account without a password (registration open and the
 *      provider's signup on), made with its identity in one statement.
 * Then a browser session starts as after a password (after the account's
 * TOTP code, when it has a second factor: the provider stands for the
 * password only), and the browser goes to rd (an application, or the OpenID provider's authorization endpoint
 * that sent it to the login page) or to the account page.  Every refusal
 * is a page a person can read and an 'upstream_login_failed' event.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "api/authz_request.h"
#include "api/front.h"
#include "api/problem_reply.h"
#include "api/upstreams.h"
#include "b64url.h"
#include "config.h"
#include "fields.h"
#include "http/cookie.h"
#include "http/form.h"
#include "http/http.h"
#include "http/return_url.h"
#include "http/session_cookie.h"
#include "http/weburl.h"
#include "log.h"
#include "login_page.h"
#include "page.h"
#include "secret_token.h"
#include "store/identities.h"
#include "store/mfa.h"
#include "store/sessions.h"
#include "ui_handlers.h"
#include "upstream_flow.h"
#include "util.h"

#define LOCATION_MAX	(PROVIDER_URL_MAX + 4096)
#define COOKIE_SET_MAX	256
#define COOKIE_PATH_MAX	256
#define REDIRECT_MAX	(RETURN_URL_MAX + 128)

/* One sign-in's request, start or callback, from its bytes to its reply. */
struct flow {
	struct http_req		*r;
	const struct provider	*p;
	struct upstream_login	 l;			/* secrets */
	char			 state[SECRET_TOKEN_LEN + 1];	/* secret */
	char			 state_hash[SECRET_TOKEN_HASH_LITERAL];
	char			 binding[SECRET_TOKEN_LEN + 1];	/* secret */
	char			 binding_hash[SECRET_TOKEN_HASH_LITERAL];
	bool			 new_binding;
	char			 location[LOCATION_MAX];
	struct id_token_claims	 who;
	struct user		 u;
	const char		*event;		/* the audit's, once decided */
	const char		*reason;	/* upstream_login_failed's */
	int			 status;	/* the page's, on a refusal */
	char			 text[512];	/* the page's sentence */
	char			 session[SECRET_TOKEN_LEN + 1];	/* secret */
	char			 session_hash[SECRET_TOKEN_HASH_LITERAL];
	bool			 second_step;	/* the TOTP page, not a
						 * session */
};

static void
flow_free(struct flow *fl)
{
	sodium_memzero(fl, sizeof(*fl));
	free(fl);
}

static struct front *
front_of(struct flow *fl)
{
	return caller_of(fl->r)->front;
}

/* The name of the binding cookie for public_url. */
static const char *
cookie_name(const struct cfg *cfg)
{
	return weburl_dev(cfg->public_url) ? UPSTREAM_COOKIE_DEV :
	    UPSTREAM_COOKIE;
}

/*
 * The binding cookie's Path: the login pages under public_url's own path
 * ("/ui/login/", or "/auth/ui/login/" behind a proxy at /auth/).
 */
static void
cookie_path(const struct cfg *cfg, char *out, size_t outlen)
{
	struct weburl	 u;
	size_t		 n = 0;

	if (weburl_parse(cfg->public_url, &u) == 0) {
		n = strcspn(u.rest, "?#");
		while (n > 0 && u.rest[n - 1] == '/')
			n--;
	}
	if (n + sizeof("/ui/login/") > outlen)
		n = 0;
	str_printf(out, outlen, "%.*s/ui/login/", (int)n, n > 0 ? u.rest : "");
}

/* ---- pages ---- */

/* The page of a refusal: status, the heading and fl->text; frees fl. */
static void
refusal_page(struct flow *fl)
{
	struct http_req	*r = fl->r;
	int		 status = fl->status;
	char		 heading[128];
	cJSON		*v;

	str_printf(heading, sizeof(heading), "Sign-in with %s failed",
	    fl->p != NULL ? fl->p->display_name : "a provider");
	if ((v = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(v, "title", heading) == NULL ||
	    cJSON_AddStringToObject(v, "heading", heading) == NULL ||
	    cJSON_AddStringToObject(v, "error", fl->text) == NULL ||
	    cJSON_AddStringToObject(v, "link_path", fl->l.link_user_id[0] !=
	    '\0' ? "/ui/account" : "/ui/login") == NULL ||
	    cJSON_AddStringToObject(v, "link_text", fl->l.link_user_id[0] !=
	    '\0' ? "Back to your account" : "Back to sign-in") == NULL) {
		cJSON_Delete(v);
		flow_free(fl);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	flow_free(fl);
	page_reply(r, status, "message", v);
}

static void
refusal_recorded(enum store_status st, void *arg)
{
	struct flow	*fl = arg;

	(void)st;	/* logged by the store; the page says the rest */
	refusal_page(fl);
}

/*
 * Refuses the sign-in with status and text (a sentence), recording
 * 'upstream_login_failed' with reason first; frees fl.
 */
static void
refuse(struct flow *fl, int status, const char *reason, const char *text)
{
	struct http_req	*r = fl->r;
	const char	*uid = fl->u.id[0] != '\0' ? fl->u.id : NULL;

	fl->status = status;
	fl->reason = reason;
	str_copy(fl->text, text, sizeof(fl->text));
	log_info("upstream sign-in refused: provider=%s reason=%s",
	    fl->p != NULL ? fl->p->name : "-", reason);
	if (upstream_audit(front_of(fl)->db, uid, "upstream_login_failed",
	    fl->p != NULL ? fl->p->name : NULL, reason, r->remote,
	    refusal_recorded, fl) == -1)
		refusal_page(fl);
}

/* ---- starting ---- */

/* The binding cookie r brought, when it is a token, into fl->binding;
 * else a new one (fl->new_binding).  -1 when none could be made. */
static int
binding_of(struct flow *fl)
{
	const struct cfg *cfg = front_of(fl)->cfg;

	if (cookie_get(http_req_header(fl->r, "Cookie"), cookie_name(cfg),
	    fl->binding, sizeof(fl->binding)) == 0 &&
	    session_cookie_token_ok(fl->binding))
		return secret_token_hash(fl->binding, strlen(fl->binding),
		    fl->binding_hash);
	fl->new_binding = true;
	return secret_token_new(fl->binding, fl->binding_hash);
}

/* The redirect_uri of p at this warden into out. */
static int
callback_url(const struct cfg *cfg, const struct provider *p, char *out,
    size_t outlen)
{
	char	 path[64 + PROVIDER_NAME_MAX];

	str_printf(path, sizeof(path), "/ui/login/%s/callback", p->name);
	return cfg_url(cfg, path, out, outlen);
}

static void
begin_stored(enum store_status st, void *arg)
{
	struct flow	*fl = arg;
	struct http_req	*r = fl->r;
	const struct cfg *cfg = front_of(fl)->cfg;
	char		 set[COOKIE_SET_MAX + COOKIE_PATH_MAX];
	char		 path[COOKIE_PATH_MAX];

	if (st != STORE_OK) {
		refuse(fl, 503, "database", "The sign-in could not be "
		    "started. Please try again in a moment.");
		return;
	}
	if (fl->new_binding) {
		cookie_path(cfg, path, sizeof(path));
		str_printf(set, sizeof(set), "%s=%s; Max-Age=%d; "
		    "Path=%s; HttpOnly; SameSite=Lax%s",
		    cookie_name(cfg), fl->binding, UPSTREAM_LOGIN_TTL, path,
		    weburl_dev(cfg->public_url) ? "" : "; Secure");
		(void)http_add_header(r, "Set-Cookie", set);
		sodium_memzero(set, sizeof(set));
	}
	(void)http_set_header(r, "Location", fl->location);
	http_no_store(r, false);
	flow_free(fl);
	http_reply_empty(r, 303);
}

/* The S256 challenge of verifier (RFC 7636 4.2) into out. */
static int
challenge_of(const char *verifier, char *out, size_t outlen)
{
	uint8_t	 d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, (const uint8_t *)verifier, strlen(verifier));
	return b64url_encode(out, outlen, d, sizeof(d)) < 0 ? -1 : 0;
}

static void
endpoint_known(enum upstream_result res, const char *endpoint,
    const char *why, void *arg)
{
	struct flow	*fl = arg;
	const struct provider *p = fl->p;
	const struct cfg *cfg = front_of(fl)->cfg;
	char		 redirect[REDIRECT_MAX], challenge[64];
	size_t		 len;
	int		 rc;

	if (res != UPSTREAM_OK) {
		log_warn("provider %s: %s", p->name, why);
		refuse(fl, res == UPSTREAM_TIMEOUT ? 504 : 502, "unreachable",
		    "The provider could not be reached. Please try again "
		    "later.");
		return;
	}
	if (callback_url(cfg, p, redirect, sizeof(redirect)) == -1 ||
	    challenge_of(fl->l.verifier, challenge, sizeof(challenge)) == -1 ||
	    str_copy(fl->location, endpoint, sizeof(fl->location)) == -1) {
		refuse(fl, 500, "internal", "The sign-in could not be "
		    "started.");
		return;
	}
	len = strlen(fl->location);
	rc = authz_url_add(fl->location, sizeof(fl->location), &len,
	    "response_type", "code") |
	    authz_url_add(fl->location, sizeof(fl->location), &len,
	    "client_id", p->client_id) |
	    authz_url_add(fl->location, sizeof(fl->location), &len,
	    "redirect_uri", redirect) |
	    authz_url_add(fl->location, sizeof(fl->location), &len,
	    "scope", p->scopes) |
	    authz_url_add(fl->location, sizeof(fl->location), &len,
	    "state", fl->state) |
	    authz_url_add(fl->location, sizeof(fl->location), &len,
	    "code_challenge", challenge) |
	    authz_url_add(fl->location, sizeof(fl->location), &len,
	    "code_challenge_method", "S256");
	if (p->kind == PROVIDER_OIDC)
		rc |= authz_url_add(fl->location, sizeof(fl->location), &len,
		    "nonce", fl->l.nonce);
	if (rc != 0) {
		refuse(fl, 500, "internal", "The sign-in could not be "
		    "started.");
		return;
	}
	if (upstream_login_start(front_of(fl)->db, fl->state_hash,
	    fl->binding_hash, &fl->l, begin_stored, fl) == -1)
		refuse(fl, 500, "internal", "The sign-in could not be "
		    "started.");
}

void
upstream_begin(struct http_req *r, const struct provider *p, const char *rd,
    const char *link_user_id)
{
	struct front	*f = caller_of(r)->front;
	struct flow	*fl;
	char		 unused[SECRET_TOKEN_HASH_LITERAL];

	if ((fl = calloc(1, sizeof(*fl))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	fl->r = r;
	fl->p = p;
	str_copy(fl->l.provider, p->name, sizeof(fl->l.provider));
	str_copy(fl->l.return_to, rd != NULL ? rd : "",
	    sizeof(fl->l.return_to));
	if (link_user_id != NULL)
		str_copy(fl->l.link_user_id, link_user_id,
		    sizeof(fl->l.link_user_id));
	if (binding_of(fl) == -1 ||
	    secret_token_new(fl->state, fl->state_hash) == -1 ||
	    secret_token_new(fl->l.nonce, unused) == -1 ||
	    secret_token_new(fl->l.verifier, unused) == -1) {
		flow_free(fl);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	if (upstreams_authorization_endpoint(f->upstreams, p, endpoint_known,
	    fl) == -1) {
		flow_free(fl);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* The provider of r's path, or NULL (answered: a 404 page). */
static const struct provider *
provider_of(struct http_req *r)
{
	struct front	*f = caller_of(r)->front;
	const struct provider *p;
	const char	*name = http_req_param(r, "provider");
	cJSON		*v;

	if (name != NULL && (p = upstreams_find(f->upstreams, name)) != NULL)
		return p;
	if ((v = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(v, "title", "Unknown provider") == NULL ||
	    cJSON_AddStringToObject(v, "heading", "Unknown provider") ==
	    NULL || cJSON_AddStringToObject(v, "error", "There is no way to "
	    "sign in by that name here.") == NULL ||
	    cJSON_AddStringToObject(v, "link_path", "/ui/login") == NULL ||
	    cJSON_AddStringToObject(v, "link_text", "Back to sign-in") ==
	    NULL) {
		cJSON_Delete(v);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return NULL;
	}
	page_reply(r, 404, "message", v);
	return NULL;
}

void
h_ui_upstream_start(struct http_req *r)
{
	const struct cfg *cfg = caller_of(r)->front->cfg;
	const struct provider *p;
	char		 why[FORM_WHY_MAX], rd[RETURN_URL_MAX + 1];
	struct form	 q;
	const char	*v;

	if ((p = provider_of(r)) == NULL)
		return;
	rd[0] = '\0';
	if (r->query != NULL && form_parse(&q, r->query, strlen(r->query),
	    why, sizeof(why)) == 0) {
		if ((v = form_get(&q, "rd")) != NULL && !return_url_ok(v,
		    cfg->public_url, cfg->session_domain, rd, sizeof(rd)))
			rd[0] = '\0';
		form_free(&q);
	}
	upstream_begin(r, p, rd, NULL);
}

/* ---- the callback: the session ---- */

static void
to_return(struct flow *fl)
{
	struct http_req	*r = fl->r;
	const struct cfg *cfg = front_of(fl)->cfg;
	char		 to[RETURN_URL_MAX + 1];
	char		 set[COOKIE_SET_MAX + COOKIE_PATH_MAX];
	char		 path[COOKIE_PATH_MAX];

	if (fl->l.return_to[0] != '\0')
		str_copy(to, fl->l.return_to, sizeof(to));
	else
		cfg_url(cfg, "/ui/account", to, sizeof(to));
	/* The binding has served. */
	cookie_path(cfg, path, sizeof(path));
	str_printf(set, sizeof(set), "%s=; Max-Age=0; Path=%s; "
	    "HttpOnly; SameSite=Lax%s", cookie_name(cfg), path,
	    weburl_dev(cfg->public_url) ? "" : "; Secure");
	(void)http_add_header(r, "Set-Cookie", set);
	(void)http_set_header(r, "Location", to);
	http_no_store(r, false);
	flow_free(fl);
	http_reply_empty(r, 303);
}

/* The second-factor page with the mfa_token fl->session; frees fl. */
static void
to_second_step(struct flow *fl)
{
	struct http_req	*r = fl->r;
	char		 rd[UPSTREAM_RETURN_MAX + 1], token[SECRET_TOKEN_LEN + 1];

	str_copy(rd, fl->l.return_to, sizeof(rd));
	str_copy(token, fl->session, sizeof(token));
	flow_free(fl);
	login_totp_page_reply(r, 200, rd, token, NULL);
	sodium_memzero(token, sizeof(token));
}

static void
login_recorded(enum store_status st, void *arg)
{
	struct flow	*fl = arg;

	(void)st;	/* the session is made; a lost event is logged */
	if (fl->second_step)
		to_second_step(fl);
	else
		to_return(fl);
}

static void
second_step_made(enum store_status st, void *arg)
{
	struct flow	*fl = arg;

	if (st == STORE_NOT_FOUND) {
		refuse(fl, 403, "disabled", "This account is disabled.");
		return;
	}
	if (st != STORE_OK) {
		refuse(fl, 503, "database", "The sign-in could not be "
		    "finished. Please try again in a moment.");
		return;
	}
	fl->second_step = true;
	if (upstream_audit(front_of(fl)->db, fl->u.id, fl->event,
	    fl->p->name, NULL, fl->r->remote, login_recorded, fl) == -1)
		to_second_step(fl);
}

static void
session_made(enum store_status st, const char *id, void *arg)
{
	struct flow	*fl = arg;
	struct http_req	*r = fl->r;
	const struct cfg *cfg = front_of(fl)->cfg;
	char		 v[SESSION_SET_COOKIE_MAX];

	(void)id;
	if (st == STORE_NOT_FOUND) {
		refuse(fl, 403, "disabled", "This account is disabled.");
		return;
	}
	if (st != STORE_OK || session_cookie_set(v, sizeof(v),
	    cfg->public_url, cfg->session_domain, fl->session,
	    cfg->session_max) == -1) {
		refuse(fl, 503, "database", "The sign-in could not be "
		    "finished. Please try again in a moment.");
		return;
	}
	(void)http_add_header(r, "Set-Cookie", v);
	sodium_memzero(v, sizeof(v));
	if (upstream_audit(front_of(fl)->db, fl->u.id, fl->event,
	    fl->p->name, NULL, r->remote, login_recorded, fl) == -1)
		to_return(fl);
}

/* Signs fl->u in: a new browser session, then rd. */
static void
sign_in(struct flow *fl)
{
	const struct cfg *cfg = front_of(fl)->cfg;
	struct sessions_new n;

	if (!fl->u.is_active) {
		refuse(fl, 403, "disabled", "This account is disabled.");
		return;
	}
	if (secret_token_new(fl->session, fl->session_hash) == -1) {
		refuse(fl, 500, "internal", "The sign-in could not be "
		    "finished.");
		return;
	}
	/* The provider stands for the password, not for warden's second
	 * factor: an account with one asks for its code, as after a
	 * password (the token is an mfa_token, not a session). */
	if (fl->u.totp) {
		if (mfa_token_create_upstream(front_of(fl)->db,
		    fl->session_hash, fl->u.id, fl->u.token_version,
		    second_step_made, fl) == -1)
			refuse(fl, 500, "internal", "The sign-in could not be "
			    "finished.");
		return;
	}
	memset(&n, 0, sizeof(n));
	n.user_id = fl->u.id;
	n.hash = fl->session_hash;
	n.token_version = fl->u.token_version;
	n.idle = cfg->session_idle;
	n.max = cfg->session_max;
	n.remote = fl->r->remote;
	n.agent = http_req_header(fl->r, "User-Agent");
	if (sessions_create(front_of(fl)->db, &n, session_made, fl) == -1)
		refuse(fl, 500, "internal", "The sign-in could not be "
		    "finished.");
}

/* ---- the callback: the account ---- */

static void
linked(enum store_status st, const struct user *u, void *arg)
{
	struct flow	*fl = arg;
	bool		 to_account = fl->l.link_user_id[0] != '\0';

	if (st == STORE_CONFLICT) {
		refuse(fl, 409, "linked_elsewhere", "This identity is linked "
		    "to another account already.");
		return;
	}
	if (st == STORE_NOT_FOUND) {
		refuse(fl, 403, "disabled", "This account is disabled or no "
		    "longer exists.");
		return;
	}
	if (st != STORE_OK) {
		refuse(fl, 503, "database", "The sign-in could not be "
		    "finished. Please try again in a moment.");
		return;
	}
	fl->u = *u;
	if (to_account) {
		/* Linking from the account page: the browser is signed in
		 * already; back to the page, which lists the identity. */
		fl->l.return_to[0] = '\0';
		to_return(fl);
		return;
	}
	fl->event = "upstream_login";
	sign_in(fl);
}

static void
link_to(struct flow *fl, const char *user_id, const char *how)
{
	struct identity_new n;

	memset(&n, 0, sizeof(n));
	n.user_id = user_id;
	n.provider = fl->p->name;
	n.subject = fl->who.sub;
	n.email = fl->who.email[0] != '\0' ? fl->who.email : NULL;
	n.remote = fl->r->remote;
	n.how = how;
	if (identity_link(front_of(fl)->db, &n, linked, fl) == -1)
		refuse(fl, 500, "internal", "The sign-in could not be "
		    "finished.");
}

static void
signed_up(enum store_status st, const struct user *u, void *arg)
{
	struct flow	*fl = arg;

	if (st == STORE_CONFLICT) {
		refuse(fl, 409, "email_taken", "An account with this e-mail "
		    "address exists already. Sign in with its password, then "
		    "link this provider from your account page.");
		return;
	}
	if (st != STORE_OK) {
		refuse(fl, 503, "database", "The account could not be made. "
		    "Please try again in a moment.");
		return;
	}
	fl->u = *u;
	fl->event = "upstream_login";
	sign_in(fl);
}

/*
 * A username for a new account from what the provider said: its
 * preferred username, else the e-mail's local part, lowered, cut to
 * [a-z0-9._-] and 28 bytes, starting with a letter or a digit; "user"
 * when nothing of it is left.
 */
static void
username_base(const struct id_token_claims *who, char out[29])
{
	const char	*s = who->preferred_username[0] != '\0' ?
	    who->preferred_username : who->email;
	size_t		 n = 0;
	unsigned char	 c;

	for (; *s != '\0' && *s != '@' && n < 28; s++) {
		c = (unsigned char)tolower((unsigned char)*s);
		if (isalnum(c) || (n > 0 && (c == '.' || c == '_' ||
		    c == '-')))
			out[n++] = (char)c;
	}
	out[n] = '\0';
	if (n < 3)
		str_copy(out, "user", 29);
}

static void
sign_up(struct flow *fl)
{
	const struct cfg *cfg = front_of(fl)->cfg;
	struct identity_new n;
	char		 base[29];

	if (cfg->registration != CFG_REGISTRATION_OPEN || !fl->p->signup) {
		refuse(fl, 403, "signup_closed", "No account is linked to "
		    "this identity, and new accounts cannot be made here. "
		    "Sign in with your password, then link this provider "
		    "from your account page.");
		return;
	}
	if (fl->who.email[0] == '\0' || !field_is_email(fl->who.email)) {
		refuse(fl, 400, "no_email", "The provider did not share an "
		    "e-mail address, which a new account needs.");
		return;
	}
	username_base(&fl->who, base);
	memset(&n, 0, sizeof(n));
	n.provider = fl->p->name;
	n.subject = fl->who.sub;
	n.email = fl->who.email;
	n.remote = fl->r->remote;
	if (identity_signup(front_of(fl)->db, &n, base,
	    fl->who.name[0] != '\0' && field_is_full_name(fl->who.name) ?
	    fl->who.name : NULL, fl->who.email_verified, signed_up, fl) == -1)
		refuse(fl, 500, "internal", "The account could not be made.");
}

static void
identity_known(enum store_status st, enum identity_match m,
    const struct user *u, void *arg)
{
	struct flow	*fl = arg;
	bool		 linking = fl->l.link_user_id[0] != '\0';

	if (st != STORE_OK) {
		refuse(fl, 503, "database", "The sign-in could not be "
		    "finished. Please try again in a moment.");
		return;
	}
	if (m == IDENTITY_KNOWN) {
		fl->u = *u;
		if (linking && strcmp(u->id, fl->l.link_user_id) != 0) {
			refuse(fl, 409, "linked_elsewhere", "This identity is "
			    "linked to another account already.");
			return;
		}
		if (linking) {
			fl->l.return_to[0] = '\0';
			to_return(fl);
			return;
		}
		fl->event = "upstream_login";
		sign_in(fl);
		return;
	}
	if (linking) {
		link_to(fl, fl->l.link_user_id, "account");
		return;
	}
	if (m == IDENTITY_EMAIL) {
		/* Both sides must have verified the address: else whoever
		 * registered it here first, without owning it, would get
		 * the identity (account pre-hijacking). */
		if (fl->who.email_verified && fl->p->link_by_email &&
		    u->email_verified) {
			link_to(fl, u->id, "email");
			return;
		}
		refuse(fl, 409, "email_taken", "An account with this e-mail "
		    "address exists already. Sign in with its password, then "
		    "link this provider from your account page.");
		return;
	}
	sign_up(fl);
}

static void
identified(enum upstream_result res, const struct id_token_claims *who,
    const char *why, void *arg)
{
	struct flow	*fl = arg;

	if (res != UPSTREAM_OK)
		log_warn("provider %s: %s", fl->p->name, why);
	switch (res) {
	case UPSTREAM_OK:
		break;
	case UPSTREAM_TIMEOUT:
		refuse(fl, 504, "timeout", "The provider did not answer in "
		    "time. Please try again later.");
		return;
	case UPSTREAM_UNREACHABLE:
		refuse(fl, 502, "unreachable", "The provider could not be "
		    "reached. Please try again later.");
		return;
	case UPSTREAM_REFUSED:
		refuse(fl, 502, "code_refused", "The provider did not accept "
		    "this sign-in. Please start again.");
		return;
	case UPSTREAM_BAD_ANSWER:
		refuse(fl, 502, "bad_answer", "The provider's answer could "
		    "not be understood.");
		return;
	case UPSTREAM_BAD_TOKEN:
		refuse(fl, 502, "bad_id_token", "The provider's proof of "
		    "your identity did not check out.");
		return;
	case UPSTREAM_INTERNAL:
		refuse(fl, 500, "internal", "The sign-in could not be "
		    "finished.");
		return;
	}
	fl->who = *who;
	if (identity_find(front_of(fl)->db, fl->p->name, fl->who.sub,
	    fl->who.email[0] != '\0' ? fl->who.email : NULL, identity_known,
	    fl) == -1)
		refuse(fl, 500, "internal", "The sign-in could not be "
		    "finished.");
}

/* ---- the callback: the state ---- */

/* What the callback's query holds (the state, the code, the error). */
struct callback_query {
	char	 state[SECRET_TOKEN_LEN + 1];
	char	 code[FORM_VALUE_MAX + 1];		/* secret */
	char	 error[64];
	bool	 has_code, has_error, bad;
};

static void
query_read(const char *query, struct callback_query *cq)
{
	char		 why[FORM_WHY_MAX];
	struct form	 q;
	const char	*v;

	memset(cq, 0, sizeof(*cq));
	if (query == NULL || form_parse(&q, query, strlen(query), why,
	    sizeof(why)) != 0) {
		cq->bad = true;
		return;
	}
	if ((v = form_get(&q, "state")) == NULL ||
	    !session_cookie_token_ok(v))
		cq->bad = true;
	else
		str_copy(cq->state, v, sizeof(cq->state));
	if ((v = form_get(&q, "code")) != NULL && v[0] != '\0') {
		cq->has_code = str_copy(cq->code, v, sizeof(cq->code)) == 0;
		cq->bad |= !cq->has_code;
	}
	if ((v = form_get(&q, "error")) != NULL) {
		cq->has_error = true;
		/* Shown only when it is an error code of RFC 6749's. */
		if (str_copy(cq->error, v, sizeof(cq->error)) == -1 ||
		    !field_is_vstoken(cq->error, sizeof(cq->error) - 1))
			str_copy(cq->error, "error", sizeof(cq->error));
	}
	form_free(&q);
}

struct callback {
	struct flow		*fl;
	struct callback_query	 q;
};

static void
state_taken(enum store_status st, const struct upstream_login *l, void *arg)
{
	struct callback	*cb = arg;
	struct flow	*fl = cb->fl;
	const struct cfg *cfg = front_of(fl)->cfg;
	struct upstream_code c;
	char		 redirect[REDIRECT_MAX], text[256];

	if (st == STORE_NOT_FOUND || (st == STORE_OK && (!l->bound ||
	    strcmp(l->provider, fl->p->name) != 0))) {
		sodium_memzero(cb, sizeof(*cb));
		free(cb);
		refuse(fl, 400, st == STORE_NOT_FOUND ? "state" : "binding",
		    st == STORE_NOT_FOUND ? "This sign-in has expired or "
		    "was used already. Please start again." : "This sign-in "
		    "was started in another browser. Please start again.");
		return;
	}
	if (st != STORE_OK) {
		sodium_memzero(cb, sizeof(*cb));
		free(cb);
		refuse(fl, 503, "database", "The sign-in could not be "
		    "finished. Please try again in a moment.");
		return;
	}
	fl->l = *l;
	if (cb->q.has_error || !cb->q.has_code) {
		if (strcmp(cb->q.error, "access_denied") == 0)
			str_printf(text, sizeof(text), "The sign-in at %s was "
			    "cancelled.", fl->p->display_name);
		else
			str_printf(text, sizeof(text), "%s did not sign you "
			    "in (%s).", fl->p->display_name,
			    cb->q.has_error ? cb->q.error : "no code");
		sodium_memzero(cb, sizeof(*cb));
		free(cb);
		refuse(fl, 400, "provider_error", text);
		return;
	}
	memset(&c, 0, sizeof(c));
	c.code = cb->q.code;
	c.verifier = fl->l.verifier;
	c.nonce = fl->l.nonce;
	c.redirect_uri = redirect;
	if (callback_url(cfg, fl->p, redirect, sizeof(redirect)) == -1 ||
	    upstreams_exchange(front_of(fl)->upstreams, fl->p, &c, identified,
	    fl) == -1) {
		sodium_memzero(cb, sizeof(*cb));
		free(cb);
		refuse(fl, 500, "internal", "The sign-in could not be "
		    "finished.");
		return;
	}
	sodium_memzero(cb, sizeof(*cb));	/* the exchange copied it */
	free(cb);
}

void
h_ui_upstream_callback(struct http_req *r)
{
	const struct cfg *cfg = caller_of(r)->front->cfg;
	const struct provider *p;
	struct callback	*cb;
	struct flow	*fl;
	char		*binding_hash = NULL;

	if ((p = provider_of(r)) == NULL)
		return;
	if ((cb = calloc(1, sizeof(*cb))) == NULL ||
	    (fl = calloc(1, sizeof(*fl))) == NULL) {
		free(cb);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	cb->fl = fl;
	fl->r = r;
	fl->p = p;
	query_read(r->query, &cb->q);
	if (cb->q.bad || secret_token_hash(cb->q.state, strlen(cb->q.state),
	    fl->state_hash) == -1) {
		sodium_memzero(cb, sizeof(*cb));
		free(cb);
		refuse(fl, 400, "state", "This sign-in link is not valid. "
		    "Please start again.");
		return;
	}
	if (cookie_get(http_req_header(r, "Cookie"), cookie_name(cfg),
	    fl->binding, sizeof(fl->binding)) == 0 &&
	    session_cookie_token_ok(fl->binding) &&
	    secret_token_hash(fl->binding, strlen(fl->binding),
	    fl->binding_hash) == 0)
		binding_hash = fl->binding_hash;
	if (upstream_login_take(caller_of(r)->front->db, fl->state_hash,
	    binding_hash, state_taken, cb) == -1) {
		sodium_memzero(cb, sizeof(*cb));
		free(cb);
		refuse(fl, 500, "internal", "The sign-in could not be "
		    "finished.");
	}
}
