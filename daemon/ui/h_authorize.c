/*
 * GET|POST /oauth2/authorize and POST /ui/consent: the authorization
 * endpoint of the OpenID provider (OIDC.md, "OpenID Connect provider";
 * RFC 6749 4.1, RFC 7636, OpenID Connect Core 3.1.2, RFC 9207).
 *
 * The request is read once (api/authz_request.h).  Until the client and
 * its redirect_uri are known good (the client exists, the URI is one of
 * its own, byte for byte) every fault is a page of the portal, never a
 * redirect (RFC 6749 4.1.2.1); after that, faults go back to the
 * redirect_uri as error, error_description, state and iss.
 *
 * The session is the portal's cookie (store/sessions.h), found as the
 * account page finds it.  No session, prompt=login or a login older than
 * max_age send the browser to /ui/login with rd, the request itself as a
 * path of public_url.  For prompt=login and max_age the request then
 * carries AUTHZ_LOGIN_AT, the time the login was asked for, and is met by
 * a session whose login is not older than that mark, and the mark not
 * older than LOGIN_WINDOW: the login just made satisfies the request
 * (no loop), while a mark someone wrote by hand can claim no more than a
 * login of the last LOGIN_WINDOW seconds that the session really had, as
 * the login time is the server's.
 *
 * Consent: a client with skip_consent, or a user who granted every scope
 * asked before (store/consents.h), gets the code at once, unless
 * prompt=consent; otherwise the consent page, whose form carries the
 * request in hidden fields with the session's CSRF token (csrf.h).  Its
 * POST passes csrf_origin_ok() and the token, and the request is judged
 * again from the start, as its fields came back from the browser.
 *
 * A code is 256 random bits (secret_token.h) stored as its hash
 * (store/codes.h, which records 'code_issued', the authorize side's
 * audit; 'oidc_login' is the token endpoint's, when tokens are issued).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "api/authz_request.h"
#include "api/body.h"
#include "api/front.h"
#include "api/problem_reply.h"
#include "api/reply.h"
#include "config.h"
#include "csrf.h"
#include "http/form.h"
#include "http/http.h"
#include "http/return_url.h"
#include "http/session_cookie.h"
#include "page.h"
#include "secret_token.h"
#include "store/clients.h"
#include "store/codes.h"
#include "store/consents.h"
#include "store/sessions.h"
#include "ui_handlers.h"
#include "util.h"

#define LOGIN_WINDOW	600	/* seconds a login mark is good for */
/* An answer's URL: the redirect URI, then code or error, its
 * description, state (escaped: three bytes a byte) and iss. */
#define ANSWER_URL_MAX	(OIDC_URI_MAX + 3 * AUTHZ_STATE_MAX + 1024)

/* One request of the authorization endpoint, from its bytes to its
 * answer. */
struct authz {
	struct http_req		*r;
	bool			 consent_post;	/* POST /ui/consent */
	bool			 allow;		/* its decision */
	char			 csrf[CSRF_TOKEN_LEN + 1];	/* its token */
	struct authz_request	 q;
	unsigned		 scopes;	/* asked, judged */
	struct oauth_client	*c;
	char			 token[SECRET_TOKEN_LEN + 1];	/* secret */
	char			 hash[SECRET_TOKEN_HASH_LITERAL];
	struct sessions_found	 s;
	char			 code[SECRET_TOKEN_LEN + 1];	/* secret */
	char			 code_hash[SECRET_TOKEN_HASH_LITERAL];
	int64_t			 now;
};

static void
authz_free(struct authz *a)
{
	free(a->c);
	sodium_memzero(a, sizeof(*a));
	free(a);
}

static const struct cfg *
cfg_of(struct authz *a)
{
	return caller_of(a->r)->front->cfg;
}

/* ---- answers ---- */

/* The portal's page for a request that cannot be answered at its
 * redirect_uri; frees a. */
static void
error_page(struct authz *a, int status, const char *text)
{
	struct http_req	*r = a->r;
	cJSON		*v;

	authz_free(a);
	if ((v = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(v, "title", "Sign-in request refused") ==
	    NULL ||
	    cJSON_AddStringToObject(v, "heading", "Sign-in request refused") ==
	    NULL ||
	    cJSON_AddStringToObject(v, "error", text) == NULL) {
		cJSON_Delete(v);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	page_reply(r, status, "message", v);
}

/* 302 to the client's redirect_uri with name=value (code or error),
 * description (or NULL), state and iss; frees a. */
static void
to_client(struct authz *a, const char *name, const char *value,
    const char *description)
{
	struct http_req	*r = a->r;
	const struct cfg *cfg = cfg_of(a);
	char		*to;
	size_t		 len;

	if ((to = malloc(ANSWER_URL_MAX)) == NULL) {
		authz_free(a);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	(void)str_copy(to, a->q.redirect_uri, ANSWER_URL_MAX);
	len = strlen(to);
	if (authz_url_add(to, ANSWER_URL_MAX, &len, name, value) == -1 ||
	    (description != NULL && authz_url_add(to, ANSWER_URL_MAX, &len,
	    "error_description", description) == -1) ||
	    (a->q.state[0] != '\0' && authz_url_add(to, ANSWER_URL_MAX, &len,
	    "state", a->q.state) == -1) ||
	    authz_url_add(to, ANSWER_URL_MAX, &len, "iss", cfg->issuer) ==
	    -1) {
		sodium_memzero(to, ANSWER_URL_MAX);
		free(to);
		error_page(a, 400, "The request is too long to be answered.");
		return;
	}
	authz_free(a);
	(void)http_set_header(r, "Location", to);
	sodium_memzero(to, ANSWER_URL_MAX);
	free(to);
	http_no_store(r, false);
	http_reply_empty(r, 302);
}

static void
to_client_error(struct authz *a, const char *error, const char *description)
{
	to_client(a, "error", error, description);
}

/* 302 to the login page, which comes back here; frees a.  login_at: the
 * mark to carry (0: none). */
static void
to_login(struct authz *a, int64_t login_at)
{
	struct http_req	*r = a->r;
	char		 path[RETURN_URL_MAX + 1];
	char		 rd[3 * RETURN_URL_MAX + 1], login[sizeof(rd) + 16];
	char		 to[sizeof(login) + 1024];

	if (authz_request_path(&a->q, login_at, path, sizeof(path)) == -1 ||
	    authz_encode(path, rd, sizeof(rd)) == -1 ||
	    str_printf(login, sizeof(login), "/ui/login?rd=%s", rd) == -1 ||
	    cfg_url(cfg_of(a), login, to, sizeof(to)) == -1) {
		error_page(a, 400, "The request is too long to carry through "
		    "the sign-in page.");
		return;
	}
	authz_free(a);
	(void)http_set_header(r, "Location", to);
	http_no_store(r, false);
	http_reply_empty(r, 302);
}

/* The mark a login for a carries back: now when the request asks for a
 * fresh login (prompt=login, max_age), else none. */
static int64_t
login_mark(const struct authz *a)
{
	return (a->q.prompts & AUTHZ_PROMPT_LOGIN) || a->q.max_age_s >= 0 ?
	    a->now : 0;
}

/* ---- the code ---- */

static void
code_stored(enum store_status st, void *arg)
{
	struct authz	*a = arg;
	char		 code[SECRET_TOKEN_LEN + 1];

	if (st == STORE_NOT_FOUND) {
		/* The user changed (disabled, a new password) meanwhile. */
		to_login(a, login_mark(a));
		return;
	}
	if (st != STORE_OK) {
		struct http_req *r = a->r;

		authz_free(a);
		reply_db_failed(r, st, "code");
		return;
	}
	memcpy(code, a->code, sizeof(code));
	to_client(a, "code", code, NULL);
	sodium_memzero(code, sizeof(code));
}

static void
issue_code(struct authz *a)
{
	struct http_req	*r = a->r;
	struct codes_new n;

	if (secret_token_new(a->code, a->code_hash) == -1) {
		authz_free(a);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	memset(&n, 0, sizeof(n));
	n.hash = a->code_hash;
	n.client_id = a->c->client_id;
	n.user_id = a->s.user.id;
	n.token_version = a->s.user.token_version;
	n.redirect_uri = a->q.redirect_uri;
	n.scopes = a->scopes;
	n.nonce = a->q.nonce[0] != '\0' ? a->q.nonce : NULL;
	n.code_challenge = a->q.code_challenge;
	n.auth_time = a->s.auth_time;
	n.second_factor = a->s.second_factor;
	n.session_id = a->s.id;
	n.remote = r->remote;
	if (codes_insert(caller_of(r)->front->db, &n, code_stored, a) == -1) {
		authz_free(a);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* ---- consent ---- */

static const struct {
	unsigned	 bit;
	const char	*text;
} scope_texts[] = {
	{ OIDC_SCOPE_OPENID, "Know who you are: your account's identifier "
	    "here, and when you signed in" },
	{ OIDC_SCOPE_PROFILE, "See your profile: your username and full "
	    "name" },
	{ OIDC_SCOPE_EMAIL, "See your e-mail address and whether it is "
	    "verified" },
	{ OIDC_SCOPE_ROLES, "See your roles on this server" },
	{ OIDC_SCOPE_OFFLINE_ACCESS, "Stay connected: keep access while you "
	    "are away, until you sign out or revoke it" },
};

static void
consent_page(struct authz *a)
{
	struct http_req	*r = a->r;
	const char	*names[AUTHZ_NFIELDS], *values[AUTHZ_NFIELDS];
	char		 csrf[CSRF_TOKEN_LEN + 1];
	cJSON		*v, *list, *o;
	size_t		 n;
	bool		 ok;

	n = authz_request_fields(&a->q, names, values);
	ok = csrf_token(a->token, csrf) == 0 &&
	    (v = cJSON_CreateObject()) != NULL;
	if (!ok)
		v = NULL;
	ok = ok && cJSON_AddStringToObject(v, "title", "Allow access?") !=
	    NULL &&
	    cJSON_AddStringToObject(v, "client", a->c->name) != NULL &&
	    cJSON_AddStringToObject(v, "username", a->s.user.username) !=
	    NULL &&
	    cJSON_AddStringToObject(v, "csrf", csrf) != NULL &&
	    (list = cJSON_AddArrayToObject(v, "scopes")) != NULL;
	for (size_t i = 0; ok && i < sizeof(scope_texts) /
	    sizeof(scope_texts[0]); i++) {
		char name[OIDC_SCOPES_TEXT_MAX];

		if (!(a->scopes & scope_texts[i].bit))
			continue;
		oidc_scopes_text(scope_texts[i].bit, ' ', name);
		ok = (o = cJSON_CreateObject()) != NULL &&
		    cJSON_AddItemToArray(list, o) &&
		    cJSON_AddStringToObject(o, "name", name) != NULL &&
		    cJSON_AddStringToObject(o, "text", scope_texts[i].text) !=
		    NULL;
	}
	ok = ok && (list = cJSON_AddArrayToObject(v, "fields")) != NULL;
	for (size_t i = 0; ok && i < n; i++)
		ok = (o = cJSON_CreateObject()) != NULL &&
		    cJSON_AddItemToArray(list, o) &&
		    cJSON_AddStringToObject(o, "name", names[i]) != NULL &&
		    cJSON_AddStringToObject(o, "value", values[i]) != NULL;
	sodium_memzero(csrf, sizeof(csrf));
	authz_free(a);
	if (!ok) {
		cJSON_Delete(v);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	page_reply(r, 200, "consent", v);
}

static void
consent_found(enum store_status st, bool covered, void *arg)
{
	struct authz	*a = arg;

	if (st != STORE_OK) {
		struct http_req *r = a->r;

		authz_free(a);
		reply_db_failed(r, st, "consent");
		return;
	}
	if (covered) {
		issue_code(a);
		return;
	}
	if (a->q.prompts & AUTHZ_PROMPT_NONE) {
		to_client_error(a, "consent_required", "the user has not "
		    "granted these scopes to this client");
		return;
	}
	consent_page(a);
}

static void
consent_granted(enum store_status st, void *arg)
{
	struct authz	*a = arg;

	if (st == STORE_NOT_FOUND) {
		to_login(a, login_mark(a));
		return;
	}
	if (st != STORE_OK) {
		struct http_req *r = a->r;

		authz_free(a);
		reply_db_failed(r, st, "consent");
		return;
	}
	issue_code(a);
}

/* ---- the session ---- */

/* True when the session's login meets prompt=login and max_age. */
static bool
login_fresh(const struct authz *a)
{
	const struct authz_request *q = &a->q;
	bool	 marked = q->login_at_s > 0 &&
	    a->s.auth_time >= q->login_at_s &&
	    a->now - q->login_at_s <= LOGIN_WINDOW &&
	    q->login_at_s <= a->now;

	if ((q->prompts & AUTHZ_PROMPT_LOGIN) && !marked)
		return false;
	if (q->max_age_s >= 0 && a->now - a->s.auth_time > q->max_age_s &&
	    !marked)
		return false;
	return true;
}

/* The session is there: its login, then the consent. */
static void
with_session(struct authz *a)
{
	struct http_req	*r = a->r;
	struct front	*f = caller_of(r)->front;

	if (!login_fresh(a)) {
		if (a->q.prompts & AUTHZ_PROMPT_NONE)
			to_client_error(a, "login_required", "the sign-in is "
			    "older than max_age");
		else
			to_login(a, a->now);
		return;
	}
	if (a->consent_post) {
		if (!csrf_origin_ok(http_req_header(r, "Origin"),
		    http_req_header(r, "Referer"), f->cfg->public_url) ||
		    !csrf_check(a->token, a->csrf)) {
			error_page(a, 403, "This form has expired or did not "
			    "come from this site. Please try again.");
			return;
		}
		if (!a->allow) {
			to_client_error(a, "access_denied", "the user denied "
			    "the request");
			return;
		}
		if (consents_grant(f->db, a->s.user.id, a->c->client_id,
		    a->scopes, r->remote, consent_granted, a) == -1) {
			authz_free(a);
			problem_reply(r, PROBLEM_INTERNAL, NULL);
		}
		return;
	}
	if (a->q.prompts & AUTHZ_PROMPT_CONSENT) {
		consent_page(a);
		return;
	}
	if (a->c->skip_consent) {
		issue_code(a);
		return;
	}
	if (consents_check(f->db, a->s.user.id, a->c->client_id, a->scopes,
	    consent_found, a) == -1) {
		authz_free(a);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

static void
no_session(struct authz *a)
{
	if (a->consent_post) {
		error_page(a, 403, "Your session has ended. Please sign in "
		    "again from the application.");
		return;
	}
	if (a->q.prompts & AUTHZ_PROMPT_NONE) {
		to_client_error(a, "login_required", "the user is not signed "
		    "in");
		return;
	}
	to_login(a, login_mark(a));
}

static void
session_found(enum store_status st, const struct sessions_found *s,
    void *arg)
{
	struct authz	*a = arg;

	if (st == STORE_NOT_FOUND) {
		no_session(a);
		return;
	}
	if (st != STORE_OK) {
		struct http_req *r = a->r;

		authz_free(a);
		reply_db_failed(r, st, "session");
		return;
	}
	a->s = *s;
	with_session(a);
}

/* ---- the client ---- */

static void
client_found(enum store_status st, struct oauth_client *c, void *arg)
{
	struct authz	*a = arg;
	struct http_req	*r = a->r;
	struct front	*f = caller_of(r)->front;
	struct authz_error e;

	if (st == STORE_NOT_FOUND) {
		error_page(a, 400, "The application that sent you here is not "
		    "registered with this server (unknown client_id).");
		return;
	}
	if (st != STORE_OK) {
		authz_free(a);
		reply_db_failed(r, st, "client");
		return;
	}
	a->c = c;
	if (a->q.redirect_uri[0] == '\0' ||
	    !oauth_client_redirect_ok(c, a->q.redirect_uri)) {
		error_page(a, 400, "The address the application asked to be "
		    "answered at (redirect_uri) is not one it registered.");
		return;
	}
	/* From here on, faults are answered at the redirect URI. */
	if (authz_request_check(&a->q, c->scopes, &a->scopes, &e) == -1) {
		to_client_error(a, e.error, e.description);
		return;
	}
	if (session_cookie_get(http_req_header(r, "Cookie"),
	    f->cfg->public_url, f->cfg->session_domain, a->token) == -1 ||
	    secret_token_hash(a->token, strlen(a->token), a->hash) == -1) {
		no_session(a);
		return;
	}
	if (sessions_touch(f->db, a->hash, f->cfg->session_idle,
	    session_found, a) == -1) {
		authz_free(a);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* The consent form's own fields (csrf, decision) into a.  0, or -1 when
 * it is not a form (answered, a freed). */
static int
consent_form(struct authz *a, const char *in, size_t len)
{
	struct http_req	*r = a->r;
	char		 why[FORM_WHY_MAX];
	struct form	 f;
	const char	*v;
	int		 rc;

	if ((rc = form_parse(&f, in, len, why, sizeof(why))) != 0) {
		form_free(&f);
		if (rc == -2) {
			authz_free(a);
			problem_reply(r, PROBLEM_INTERNAL, NULL);
		} else
			error_page(a, 400, "The form could not be read.");
		return -1;
	}
	if ((v = form_get(&f, "csrf")) != NULL &&
	    strlen(v) < sizeof(a->csrf))
		(void)str_copy(a->csrf, v, sizeof(a->csrf));
	a->allow = (v = form_get(&f, "decision")) != NULL &&
	    strcmp(v, "allow") == 0;
	form_free(&f);
	return 0;
}

static void
authz_start(struct http_req *r, bool consent_post)
{
	struct front	*f = caller_of(r)->front;
	struct authz	*a;
	const char	*in;
	size_t		 len;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	a->r = r;
	a->consent_post = consent_post;
	a->now = (int64_t)time(NULL);
	if (r->method == EVHTTP_REQ_POST) {
		if (!body_is_form(r)) {
			error_page(a, 400, "The request could not be read.");
			return;
		}
		in = r->body;
		len = r->body_len;
	} else {
		in = r->query;
		len = in != NULL ? strlen(in) : 0;
	}
	authz_request_parse(in, len, &a->q);
	if (consent_post && consent_form(a, in, len) == -1)
		return;
	if (a->q.bad_target || !oidc_client_id_ok(a->q.client_id)) {
		error_page(a, 400, a->q.bad_target ? "The request's client_id "
		    "or redirect_uri is repeated or malformed." :
		    "The application that sent you here is not registered "
		    "with this server (unknown client_id).");
		return;
	}
	if (clients_find(f->db, a->q.client_id, client_found, a) == -1) {
		authz_free(a);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

void
h_oauth2_authorize(struct http_req *r)
{
	authz_start(r, false);
}

void
h_ui_consent(struct http_req *r)
{
	authz_start(r, true);
}
