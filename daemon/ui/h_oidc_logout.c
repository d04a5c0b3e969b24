/*
 * GET|POST /oauth2/logout: RP-initiated logout (OpenID Connect
 * RP-Initiated Logout 1.0): id_token_hint, client_id,
 * post_logout_redirect_uri, state.
 *
 * An id_token_hint must be an ID token of ours (hc_jwt_check(): our
 * signature, expired or not), whose aud is client_id when both are
 * given; a post_logout_redirect_uri must be one the client registered,
 * byte for byte, and needs a client (from the hint or client_id).  Any
 * fault is a page of the portal and no redirect: an address that did not
 * pass is never followed.
 *
 * The browser's session ends at once when the hint names it (its sid is
 * the session's id, or it has none and its sub is the session's user).
 * Otherwise (no hint, or one of another session) the page asks first
 * (section 2: the OP SHOULD ask the user): a form that posts here again
 * with confirm and the session's CSRF token (csrf.h) beside the request,
 * which is judged again.  Ending is POST /ui/logout's: sessions_end() and
 * the cookie dropped (ui_session_cookie_clear()).  Then the browser goes
 * to post_logout_redirect_uri with state, or sees a "signed out" page.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "api/authz_request.h"
#include "api/body.h"
#include "api/front.h"
#include "api/problem_reply.h"
#include "api/reply.h"
#include "config.h"
#include "csrf.h"
#include "hc/hasher_client.h"
#include "http/form.h"
#include "http/http.h"
#include "http/session_cookie.h"
#include "login_page.h"
#include "page.h"
#include "secret_token.h"
#include "store/clients.h"
#include "store/sessions.h"
#include "ui_handlers.h"
#include "util.h"

#define LOGOUT_URL_MAX	(OIDC_URI_MAX + 3 * AUTHZ_STATE_MAX + 32)

struct logout {
	struct http_req	*r;
	char		 client_id[OIDC_CLIENT_ID_MAX + 1];
	char		 uri[OIDC_URI_MAX + 1];	/* post_logout_redirect_uri */
	char		 state[AUTHZ_STATE_MAX + 1];
	char		*hint;			/* id_token_hint, or NULL */
	bool		 confirm;		/* the confirmation's POST */
	char		 csrf[CSRF_TOKEN_LEN + 1];
	bool		 hint_valid;
	char		 hint_sub[PROTO_UUID_LEN + 1];
	char		 hint_sid[PROTO_SID_MAX + 1];
	char		 token[SECRET_TOKEN_LEN + 1];	/* secret */
	char		 hash[SECRET_TOKEN_HASH_LITERAL];
};

static void
logout_free(struct logout *l)
{
	str_freezero(l->hint);
	sodium_memzero(l, sizeof(*l));
	free(l);
}

/* A page of the portal: heading and a sentence (an alert when error);
 * frees l. */
static void
say(struct logout *l, int status, const char *heading, const char *text,
    bool error)
{
	struct http_req	*r = l->r;
	cJSON		*v;

	logout_free(l);
	if ((v = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(v, "title", heading) == NULL ||
	    cJSON_AddStringToObject(v, "heading", heading) == NULL ||
	    cJSON_AddStringToObject(v, error ? "error" : "text", text) ==
	    NULL ||
	    cJSON_AddStringToObject(v, "link_path", "/ui/login") == NULL ||
	    cJSON_AddStringToObject(v, "link_text", "Sign in") == NULL) {
		cJSON_Delete(v);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	page_reply(r, status, "message", v);
}

static void
refuse(struct logout *l, const char *text)
{
	say(l, 400, "Sign-out request refused", text, true);
}

/* The session is over (or there was none): where the browser goes. */
static void
signed_out(struct logout *l)
{
	struct http_req	*r = l->r;
	char		*to;
	size_t		 len;

	ui_session_cookie_clear(r);
	if (l->uri[0] == '\0') {
		say(l, 200, "Signed out", "You have been signed out.", false);
		return;
	}
	if ((to = malloc(LOGOUT_URL_MAX)) == NULL) {
		logout_free(l);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	(void)str_copy(to, l->uri, LOGOUT_URL_MAX);
	len = strlen(to);
	if (l->state[0] != '\0' && authz_url_add(to, LOGOUT_URL_MAX, &len,
	    "state", l->state) == -1)
		to[0] = '\0';
	logout_free(l);
	if (to[0] == '\0') {
		free(to);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	(void)http_set_header(r, "Location", to);
	free(to);
	http_no_store(r, false);
	http_reply_empty(r, 302);
}

static void
ended(enum store_status st, void *arg)
{
	struct logout	*l = arg;

	/* NOT_FOUND: ended already, or expired: signed out all the same. */
	if (st != STORE_OK && st != STORE_NOT_FOUND) {
		struct http_req *r = l->r;

		logout_free(l);
		reply_db_failed(r, st, "logout");
		return;
	}
	signed_out(l);
}

static void
end_session(struct logout *l)
{
	struct http_req	*r = l->r;

	if (sessions_end(caller_of(r)->front->db, l->hash, r->remote, ended,
	    l) == -1) {
		logout_free(l);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

static void
confirm_page(struct logout *l, const char *username)
{
	struct http_req	*r = l->r;
	char		 csrf[CSRF_TOKEN_LEN + 1];
	cJSON		*v;

	if (csrf_token(l->token, csrf) == -1 ||
	    (v = cJSON_CreateObject()) == NULL) {
		logout_free(l);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	if (cJSON_AddStringToObject(v, "title", "Sign out?") == NULL ||
	    cJSON_AddStringToObject(v, "username", username) == NULL ||
	    cJSON_AddStringToObject(v, "csrf", csrf) == NULL ||
	    cJSON_AddStringToObject(v, "client_id", l->client_id) == NULL ||
	    cJSON_AddStringToObject(v, "post_logout_redirect_uri", l->uri) ==
	    NULL ||
	    cJSON_AddStringToObject(v, "state", l->state) == NULL) {
		cJSON_Delete(v);
		v = NULL;
	}
	sodium_memzero(csrf, sizeof(csrf));
	logout_free(l);
	if (v == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	page_reply(r, 200, "logout_confirm", v);
}

static void
session_found(enum store_status st, const struct sessions_found *s,
    void *arg)
{
	struct logout	*l = arg;
	struct http_req	*r = l->r;
	const struct cfg *cfg = caller_of(r)->front->cfg;

	if (st == STORE_NOT_FOUND) {
		signed_out(l);
		return;
	}
	if (st != STORE_OK) {
		logout_free(l);
		reply_db_failed(r, st, "session");
		return;
	}
	if (l->confirm) {
		if (!csrf_origin_ok(http_req_header(r, "Origin"),
		    http_req_header(r, "Referer"), cfg->public_url) ||
		    !csrf_check(l->token, l->csrf)) {
			say(l, 403, "Not allowed", "This form has expired or "
			    "did not come from this site. Please try again.",
			    true);
			return;
		}
		end_session(l);
		return;
	}
	if (l->hint_valid && (l->hint_sid[0] != '\0' ?
	    strcmp(l->hint_sid, s->id) == 0 :
	    strcmp(l->hint_sub, s->user.id) == 0)) {
		end_session(l);
		return;
	}
	confirm_page(l, s->user.username);
}

/* The request is judged: the browser's session next. */
static void
to_session(struct logout *l)
{
	struct http_req	*r = l->r;
	struct front	*f = caller_of(r)->front;

	if (session_cookie_get(http_req_header(r, "Cookie"),
	    f->cfg->public_url, f->cfg->session_domain, l->token) == -1 ||
	    secret_token_hash(l->token, strlen(l->token), l->hash) == -1) {
		signed_out(l);
		return;
	}
	if (sessions_touch(f->db, l->hash, f->cfg->session_idle,
	    session_found, l) == -1) {
		logout_free(l);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

static void
client_found(enum store_status st, struct oauth_client *c, void *arg)
{
	struct logout	*l = arg;
	bool		 ok;

	if (st == STORE_NOT_FOUND) {
		refuse(l, "The application that sent you here is not "
		    "registered with this server.");
		return;
	}
	if (st != STORE_OK) {
		struct http_req *r = l->r;

		logout_free(l);
		reply_db_failed(r, st, "client");
		return;
	}
	ok = oauth_client_post_logout_ok(c, l->uri);
	free(c);
	if (!ok) {
		refuse(l, "The address the application asked to return to "
		    "after signing out (post_logout_redirect_uri) is not one "
		    "it registered.");
		return;
	}
	to_session(l);
}

/* The hint and the client are known: the return address next. */
static void
to_client(struct logout *l)
{
	struct http_req	*r = l->r;

	if (l->uri[0] == '\0') {
		to_session(l);
		return;
	}
	if (l->client_id[0] == '\0') {
		refuse(l, "A post_logout_redirect_uri needs an id_token_hint "
		    "or a client_id.");
		return;
	}
	if (!oidc_client_id_ok(l->client_id)) {
		client_found(STORE_NOT_FOUND, NULL, l);
		return;
	}
	if (clients_find(caller_of(r)->front->db, l->client_id, client_found,
	    l) == -1) {
		logout_free(l);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

static void
hint_checked(enum hc_status st, const struct proto_jwt_check_ans *ans,
    void *arg)
{
	struct logout	*l = arg;

	if (st == HC_INVALID || (st == HC_OK && !ans->valid)) {
		refuse(l, "The id_token_hint is not an ID token of this "
		    "server.");
		return;
	}
	if (st != HC_OK) {
		struct http_req *r = l->r;

		logout_free(l);
		reply_hasher_failed(r, st);
		return;
	}
	if (l->client_id[0] != '\0' && strcmp(l->client_id, ans->aud) != 0) {
		refuse(l, "The id_token_hint was not issued to this "
		    "client_id.");
		return;
	}
	(void)str_copy(l->client_id, ans->aud, sizeof(l->client_id));
	(void)str_copy(l->hint_sub, ans->sub, sizeof(l->hint_sub));
	(void)str_copy(l->hint_sid, ans->sid, sizeof(l->hint_sid));
	l->hint_valid = true;
	to_client(l);
}

/* Copies form f's name into dst; false when it does not fit. */
static bool
field(const struct form *f, const char *name, char *dst, size_t dstlen)
{
	const char *v = form_get(f, name);

	dst[0] = '\0';
	return v == NULL || str_copy(dst, v, dstlen) == 0;
}

void
h_oauth2_logout(struct http_req *r)
{
	struct front	*fr = caller_of(r)->front;
	char		 why[FORM_WHY_MAX];
	struct logout	*l;
	struct form	 f;
	const char	*in, *v;
	size_t		 len;
	enum hc_status	 hst;
	int		 rc;
	bool		 ok;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	l->r = r;
	if (r->method == EVHTTP_REQ_POST) {
		if (!body_is_form(r)) {
			refuse(l, "The request could not be read.");
			return;
		}
		in = r->body;
		len = r->body_len;
	} else {
		in = r->query;
		len = in != NULL ? strlen(in) : 0;
	}
	if ((rc = form_parse(&f, in, len, why, sizeof(why))) != 0) {
		form_free(&f);
		if (rc == -2) {
			logout_free(l);
			problem_reply(r, PROBLEM_INTERNAL, NULL);
		} else
			refuse(l, "The request could not be read: a parameter "
			    "is repeated or malformed.");
		return;
	}
	ok = field(&f, "client_id", l->client_id, sizeof(l->client_id)) &&
	    field(&f, "post_logout_redirect_uri", l->uri, sizeof(l->uri)) &&
	    field(&f, "state", l->state, sizeof(l->state)) &&
	    field(&f, "csrf", l->csrf, sizeof(l->csrf));
	l->confirm = r->method == EVHTTP_REQ_POST &&
	    form_get(&f, "confirm") != NULL;
	if (ok && (v = form_get(&f, "id_token_hint")) != NULL &&
	    v[0] != '\0' && (l->hint = strdup(v)) == NULL) {
		form_free(&f);
		logout_free(l);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	form_free(&f);
	if (!ok) {
		refuse(l, "The request could not be read: a parameter is too "
		    "long.");
		return;
	}
	if (l->hint == NULL) {
		to_client(l);
		return;
	}
	if (hc_jwt_check(fr->hc, l->hint, hint_checked, l, &hst) == NULL)
		hint_checked(hst, NULL, l);
}
