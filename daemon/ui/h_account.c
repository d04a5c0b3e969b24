/*
 * GET /ui/account and its forms (OIDC.md, "The login portal"): the
 * signed-in user, password change, TOTP enrolment and removal, new
 * recovery codes, and the list of sessions with a way to end each.
 *
 * A page of a session: its cookie finds the session (sessions_touch());
 * none, or a dead one, sends the browser to /ui/login?rd=/ui/account.
 * Every POST passes csrf_origin_ok() and carries the CSRF token of the
 * session cookie, else 403 with the page and a message.
 *
 * The operations are the API's own (api/me_ops.h), run for the session's
 * user: the portal catches their JSON answer with http_reply_hook() and
 * turns it into a page (a problem into a message with role="alert").
 *
 * A password change bumps the token version, which ends every session of
 * the user, this browser's too.  The portal then starts a new session for
 * this browser, as a fresh login would (a new cookie, the old one's
 * second-factor mark kept, since the change itself proved the password):
 * the user stays signed in here and is signed out everywhere else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <sodium.h>

#include "api/body.h"
#include "api/front.h"
#include "api/me_ops.h"
#include "api/problem_reply.h"
#include "api/reply.h"
#include "config.h"
#include "fields.h"
#include "csrf.h"
#include "http/form.h"
#include "http/http.h"
#include "page.h"
#include "secret_token.h"
#include "http/session_cookie.h"
#include "api/upstreams.h"
#include "store/identities.h"
#include "store/sessions.h"
#include "store/users.h"
#include "ui_handlers.h"
#include "upstream_flow.h"
#include "util.h"

#define BAD_FORM	"This form has expired or did not come from this " \
			"site. Please try again."
#define UNREADABLE	"The form could not be read. Please try again."
#define MSG_MAX		512

enum acct_op {
	OP_SHOW,
	OP_PASSWORD,
	OP_TOTP,
	OP_TOTP_CONFIRM,
	OP_TOTP_DELETE,
	OP_RECOVERY,
	OP_SESSION_END,
	OP_IDENTITY_LINK,
	OP_IDENTITY_UNLINK,
};

/* One request of the account page, from the cookie to the reply. */
struct acct {
	struct http_req	*r;
	enum acct_op	 op;
	struct form	 f;		/* the POST's form (wiped when freed) */
	bool		 have_form;
	char		 token[SECRET_TOKEN_LEN + 1];		/* secret */
	char		 hash[SECRET_TOKEN_HASH_LITERAL];
	char		 sid[PROTO_UUID_LEN + 1];	/* this session's id */
	bool		 second_factor;
	char		 error[MSG_MAX];
	char		 notice[MSG_MAX];
	int		 status;
	struct identity_row *ids;	/* the user's identities */
	size_t		 nids;
	bool		 has_password;
};

static void
acct_free(struct acct *a)
{
	if (a->have_form)
		form_free(&a->f);
	free(a->ids);
	sodium_memzero(a, sizeof(*a));
	free(a);
}

/* 303 to the login page, which comes back here; frees a. */
static void
to_login(struct acct *a, bool clear)
{
	struct http_req	*r = a->r;
	const struct cfg *cfg = caller_of(r)->front->cfg;
	char		 to[2300], v[SESSION_SET_COOKIE_MAX];

	acct_free(a);
	cfg_url(cfg, "/ui/login?rd=%2Fui%2Faccount", to, sizeof(to));
	if (clear && session_cookie_clear(v, sizeof(v), cfg->public_url,
	    cfg->session_domain) == 0)
		(void)http_add_header(r, "Set-Cookie", v);
	(void)http_set_header(r, "Location", to);
	http_no_store(r, false);
	http_reply_empty(r, 303);
}

/* ---- the pages ---- */

/* The common members of a signed-in page; NULL when out of memory. */
static cJSON *
view_new(struct acct *a, const char *title)
{
	char	 csrf[CSRF_TOKEN_LEN + 1];
	cJSON	*v;

	if (csrf_token(a->token, csrf) == -1 ||
	    (v = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(v, "title", title) == NULL ||
	    cJSON_AddStringToObject(v, "csrf", csrf) == NULL ||
	    (a->error[0] != '\0' && cJSON_AddStringToObject(v, "error",
	    a->error) == NULL) ||
	    (a->notice[0] != '\0' && cJSON_AddStringToObject(v, "notice",
	    a->notice) == NULL)) {
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

/* Replies template name with view v at a->status; frees a. */
static void
acct_page(struct acct *a, const char *name, cJSON *v)
{
	struct http_req	*r = a->r;
	int		 status = a->status != 0 ? a->status : 200;

	acct_free(a);
	if (v == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	page_reply(r, status, name, v);
}

/*
 * The view's identities (id, provider, email, linked) and the providers an
 * identity may be linked at (name, display_name), with has_password and
 * can_unlink (false when the only identity is the only way in).
 */
static int
identities_view(struct acct *a, cJSON *v)
{
	const struct upstreams *us = caller_of(a->r)->front->upstreams;
	const struct provider *p;
	cJSON	*list, *o;
	size_t	 i;
	bool	 ok;

	ok = cJSON_AddBoolToObject(v, "has_password", a->has_password) !=
	    NULL && cJSON_AddBoolToObject(v, "show_identities", a->nids > 0 ||
	    upstreams_count(us) > 0) != NULL && cJSON_AddBoolToObject(v, "can_unlink", a->has_password ||
	    a->nids > 1) != NULL &&
	    (list = cJSON_AddArrayToObject(v, "identities")) != NULL;
	for (i = 0; ok && i < a->nids; i++) {
		p = upstreams_find(us, a->ids[i].provider);
		ok = (o = cJSON_CreateObject()) != NULL &&
		    cJSON_AddItemToArray(list, o) &&
		    cJSON_AddStringToObject(o, "id", a->ids[i].id) != NULL &&
		    cJSON_AddStringToObject(o, "provider", p != NULL ?
		    p->display_name : a->ids[i].provider) != NULL &&
		    (a->ids[i].email[0] == '\0' || cJSON_AddStringToObject(o,
		    "email", a->ids[i].email) != NULL) &&
		    cJSON_AddStringToObject(o, "linked", a->ids[i].linked_at) !=
		    NULL;
	}
	if (ok && upstreams_count(us) > 0)
		ok = (list = cJSON_AddArrayToObject(v, "providers")) != NULL;
	for (i = 0; ok && (p = upstreams_at(us, i)) != NULL; i++)
		ok = (o = cJSON_CreateObject()) != NULL &&
		    cJSON_AddItemToArray(list, o) &&
		    cJSON_AddStringToObject(o, "name", p->name) != NULL &&
		    cJSON_AddStringToObject(o, "display_name",
		    p->display_name) != NULL;
	return ok ? 0 : -1;
}

static void
listed(enum store_status st, const struct sessions_item *items, size_t n,
    void *arg)
{
	struct acct	*a = arg;
	struct http_req	*r = a->r;
	const struct user *u = &caller_of(r)->user;
	cJSON		*v, *list, *o;
	bool		 ok;

	if (st != STORE_OK) {
		acct_free(a);
		reply_db_failed(r, st, "sessions");
		return;
	}
	if ((v = view_new(a, "Your account")) == NULL) {
		acct_page(a, "account", NULL);
		return;
	}
	ok = cJSON_AddStringToObject(v, "username", u->username) != NULL &&
	    cJSON_AddStringToObject(v, "email", u->email) != NULL &&
	    cJSON_AddBoolToObject(v, "email_verified", u->email_verified) !=
	    NULL && (!u->has_full_name || u->full_name[0] == '\0' ||
	    cJSON_AddStringToObject(v, "full_name", u->full_name) != NULL) &&
	    cJSON_AddBoolToObject(v, "totp", u->totp) != NULL &&
	    identities_view(a, v) == 0 &&
	    (list = cJSON_AddArrayToObject(v, "sessions")) != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		ok = (o = cJSON_CreateObject()) != NULL &&
		    cJSON_AddItemToArray(list, o) &&
		    cJSON_AddStringToObject(o, "id", items[i].id) != NULL &&
		    cJSON_AddStringToObject(o, "kind", items[i].browser ?
		    "Browser" : "Application (refresh token)") != NULL &&
		    cJSON_AddStringToObject(o, "created", items[i].created) !=
		    NULL && cJSON_AddStringToObject(o, "last_seen",
		    items[i].last_seen) != NULL &&
		    cJSON_AddStringToObject(o, "remote", items[i].remote[0] !=
		    '\0' ? items[i].remote : "unknown") != NULL &&
		    cJSON_AddStringToObject(o, "agent", items[i].agent[0] !=
		    '\0' ? items[i].agent : "unknown") != NULL &&
		    cJSON_AddBoolToObject(o, "current", items[i].current) !=
		    NULL;
	}
	if (!ok) {
		cJSON_Delete(v);
		v = NULL;
	}
	acct_page(a, "account", v);
}

static void
ids_listed(enum store_status st, const struct identity_row *rows, size_t n,
    bool has_password, void *arg)
{
	struct acct	*a = arg;
	struct http_req	*r = a->r;
	struct caller	*c = caller_of(r);

	if (st != STORE_OK) {
		acct_free(a);
		reply_db_failed(r, st, "identities");
		return;
	}
	free(a->ids);
	a->ids = NULL;
	a->nids = 0;
	if (n > 0 && (a->ids = calloc(n, sizeof(*rows))) == NULL) {
		acct_free(a);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	if (n > 0)
		memcpy(a->ids, rows, n * sizeof(*rows));
	a->nids = n;
	a->has_password = has_password;
	if (sessions_list(c->front->db, c->user.id, a->hash, listed,
	    a) == -1) {
		acct_free(a);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* The account page, with a->error or a->notice, at a->status. */
static void
account_reply(struct acct *a)
{
	struct http_req	*r = a->r;
	struct caller	*c = caller_of(r);

	if (identities_list(c->front->db, c->user.id, ids_listed, a) == -1) {
		acct_free(a);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* ---- the API's answers as pages ---- */

static const struct {
	const char	*field;
	const char	*label;
} labels[] = {
	{ "current_password",	"Current password" },
	{ "new_password",	"New password" },
	{ "password",		"Password" },
	{ "code",		"Code" },
};

/* The message of a problem body (detail, or its first field's error) as a
 * sentence into a->error. */
static void
problem_message(struct acct *a, int status, const void *data, size_t len)
{
	cJSON		*o = NULL, *e;
	const char	*field = NULL, *msg = NULL, *label = NULL;
	char		 s[MSG_MAX];

	if (data != NULL && len > 0)
		o = cJSON_ParseWithLength(data, len);
	if ((e = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "errors"), 0)) !=
	    NULL) {
		field = cJSON_GetStringValue(cJSON_GetObjectItem(e, "field"));
		msg = cJSON_GetStringValue(cJSON_GetObjectItem(e, "message"));
	}
	if (msg == NULL)
		msg = cJSON_GetStringValue(cJSON_GetObjectItem(o, "detail"));
	for (size_t i = 0; field != NULL &&
	    i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(field, labels[i].field) == 0)
			label = labels[i].label;
	if (status >= 500 || msg == NULL)
		str_copy(s, "Something went wrong. Please try again.",
		    sizeof(s));
	else if (label != NULL)
		str_printf(s, sizeof(s), "%s %s.", label, msg);
	else {
		str_printf(s, sizeof(s), "%s.", msg);
		if (s[0] >= 'a' && s[0] <= 'z')
			s[0] = (char)(s[0] - 'a' + 'A');
	}
	str_copy(a->error, s, sizeof(a->error));
	a->status = status;
	cJSON_Delete(o);
}

/* The body of a 2xx JSON answer, parsed (wiped in place as it may hold
 * secrets: the caller's buffer is not ours, the copy is). */
static cJSON *
answer_json(const void *data, size_t len)
{
	return data != NULL && len > 0 ? cJSON_ParseWithLength(data, len) :
	    NULL;
}

/* Wipes and frees a parsed answer that held secrets. */
static void
answer_free(cJSON *o)
{
	cJSON	*e;

	if (o == NULL)
		return;
	cJSON_ArrayForEach(e, o) {
		if (cJSON_IsString(e))
			sodium_memzero(e->valuestring, strlen(e->valuestring));
		else if (cJSON_IsArray(e)) {
			cJSON *x;

			cJSON_ArrayForEach(x, e)
				if (cJSON_IsString(x))
					sodium_memzero(x->valuestring,
					    strlen(x->valuestring));
		}
	}
	cJSON_Delete(o);
}

static void
recovery_page(struct acct *a, cJSON *o)
{
	cJSON	*v = view_new(a, "Recovery codes"), *codes, *x;
	bool	 ok = v != NULL;

	codes = cJSON_GetObjectItem(o, "recovery_codes");
	if (ok && (x = cJSON_Duplicate(codes, true)) != NULL)
		ok = cJSON_AddItemToObject(v, "codes", x);
	else
		ok = false;
	answer_free(o);
	if (!ok) {
		cJSON_Delete(v);
		v = NULL;
	}
	acct_page(a, "recovery_codes", v);
}

static void
setup_page(struct acct *a, cJSON *o)
{
	const char *secret = cJSON_GetStringValue(cJSON_GetObjectItem(o,
	    "secret"));
	const char *svg = cJSON_GetStringValue(cJSON_GetObjectItem(o,
	    "qr_svg"));
	static const char pre[] = "data:image/svg+xml;base64,";
	cJSON	*v = view_new(a, "Set up two-factor authentication");
	char	*uri = NULL;
	size_t	 n, len;

	if (v != NULL && secret != NULL && svg != NULL) {
		len = strlen(svg);
		n = sizeof(pre) - 1 + sodium_base64_ENCODED_LEN(len,
		    sodium_base64_VARIANT_ORIGINAL);
		if ((uri = malloc(n)) != NULL) {
			memcpy(uri, pre, sizeof(pre) - 1);
			sodium_bin2base64(uri + sizeof(pre) - 1, n -
			    (sizeof(pre) - 1), (const unsigned char *)svg,
			    len, sodium_base64_VARIANT_ORIGINAL);
		}
	}
	if (uri == NULL || cJSON_AddStringToObject(v, "qr", uri) == NULL ||
	    cJSON_AddStringToObject(v, "secret", secret) == NULL) {
		cJSON_Delete(v);
		v = NULL;
	}
	if (uri != NULL) {
		sodium_memzero(uri, strlen(uri));
		free(uri);
	}
	answer_free(o);
	acct_page(a, "totp_setup", v);
}

/* ---- the new session after a password change ---- */

static void
new_session_made(enum store_status st, const char *id, void *arg)
{
	struct acct	*a = arg;
	struct http_req	*r = a->r;
	const struct cfg *cfg = caller_of(r)->front->cfg;
	char		 v[SESSION_SET_COOKIE_MAX];

	if (st != STORE_OK || session_cookie_set(v, sizeof(v),
	    cfg->public_url, cfg->session_domain, a->token,
	    cfg->session_max) == -1) {
		/* Changed again meanwhile: the login page says the rest. */
		to_login(a, true);
		return;
	}
	str_copy(a->sid, id, sizeof(a->sid));
	(void)http_add_header(r, "Set-Cookie", v);
	sodium_memzero(v, sizeof(v));
	str_copy(a->notice, "Password changed. You have been signed out "
	    "everywhere else; this browser stays signed in.",
	    sizeof(a->notice));
	account_reply(a);
}

static void
user_reloaded(enum store_status st, const struct user *u, void *arg)
{
	struct acct	*a = arg;
	struct http_req	*r = a->r;
	struct caller	*c = caller_of(r);
	struct sessions_new n;

	if (st != STORE_OK || secret_token_new(a->token, a->hash) == -1) {
		to_login(a, true);
		return;
	}
	c->user = *u;
	memset(&n, 0, sizeof(n));
	n.user_id = u->id;
	n.hash = a->hash;
	n.token_version = u->token_version;
	n.idle = c->front->cfg->session_idle;
	n.max = c->front->cfg->session_max;
	n.second_factor = a->second_factor;
	n.remote = r->remote;
	n.agent = http_req_header(r, "User-Agent");
	if (sessions_create(c->front->db, &n, new_session_made, a) == -1)
		to_login(a, true);
}

/* ---- the hook: the API operation's answer ---- */

static void
answered(struct http_req *r, int status, const char *ctype, const void *data,
    size_t len, void *arg)
{
	struct acct	*a = arg;
	struct caller	*c = caller_of(r);
	cJSON		*o;

	(void)ctype;
	if (status < 200 || status > 299) {
		problem_message(a, status, data, len);
		account_reply(a);
		return;
	}
	switch (a->op) {
	case OP_PASSWORD:
		if (users_find(c->front->db, c->user.id, user_reloaded,
		    a) == -1)
			to_login(a, true);
		return;
	case OP_TOTP:
		setup_page(a, answer_json(data, len));
		return;
	case OP_TOTP_CONFIRM:
		c->user.totp = true;
		recovery_page(a, answer_json(data, len));
		return;
	case OP_RECOVERY:
		recovery_page(a, answer_json(data, len));
		return;
	case OP_TOTP_DELETE:
		c->user.totp = false;
		str_copy(a->notice, "Two-factor authentication removed.",
		    sizeof(a->notice));
		account_reply(a);
		return;
	default:
		if ((o = answer_json(data, len)) != NULL)
			answer_free(o);
		account_reply(a);
		return;
	}
}

/* ---- sessions ---- */

static void
session_ended(enum store_status st, void *arg)
{
	struct acct	*a = arg;

	if (st == STORE_NOT_FOUND) {
		a->status = 404;
		str_copy(a->error, "That session has already ended.",
		    sizeof(a->error));
	} else if (st != STORE_OK) {
		a->status = 500;
		str_copy(a->error, "Something went wrong. Please try again.",
		    sizeof(a->error));
	} else
		str_copy(a->notice, "Session ended.", sizeof(a->notice));
	account_reply(a);
}

static void
own_ended(enum store_status st, void *arg)
{
	(void)st;	/* ended, or gone already: signed out all the same */
	to_login(arg, true);
}

/* ---- identities ---- */

static void
identity_unlinked(enum store_status st, void *arg)
{
	struct acct	*a = arg;

	if (st == STORE_OK)
		str_copy(a->notice, "Identity unlinked.", sizeof(a->notice));
	else if (st == STORE_REFUSED) {
		a->status = 409;
		str_copy(a->error, "This identity is the only way to sign in "
		    "to this account. Set a password first (Forgot your "
		    "password? on the sign-in page sends a link).",
		    sizeof(a->error));
	} else if (st == STORE_NOT_FOUND) {
		a->status = 404;
		str_copy(a->error, "That identity is not linked to this "
		    "account.", sizeof(a->error));
	} else {
		a->status = 500;
		str_copy(a->error, "Something went wrong. Please try again.",
		    sizeof(a->error));
	}
	account_reply(a);
}

/* Link: a sign-in at the provider, for this user; unlink: at once. */
static void
identity_op(struct acct *a)
{
	struct http_req	*r = a->r;
	struct caller	*c = caller_of(r);
	const struct provider *p;
	const char	*v;
	char		 uid[PROTO_UUID_LEN + 1];

	if (a->op == OP_IDENTITY_LINK) {
		v = form_get(&a->f, "provider");
		if (v == NULL || (p = upstreams_find(c->front->upstreams,
		    v)) == NULL) {
			a->status = 400;
			str_copy(a->error, "There is no such provider.",
			    sizeof(a->error));
			account_reply(a);
			return;
		}
		str_copy(uid, c->user.id, sizeof(uid));
		acct_free(a);
		upstream_begin(r, p, "", uid);
		return;
	}
	if ((v = form_get(&a->f, "id")) == NULL || !field_is_uuid(v)) {
		identity_unlinked(STORE_NOT_FOUND, a);
		return;
	}
	if (identity_unlink(c->front->db, c->user.id, v, r->remote,
	    c->user.id, identity_unlinked, a) == -1) {
		acct_free(a);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* ---- the forms ---- */

static size_t
len_of(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

/* Runs a->op for the session's user, its form checked. */
static void
run_op(struct acct *a)
{
	struct http_req	*r = a->r;
	struct caller	*c = caller_of(r);
	const char	*pw = form_get(&a->f, "password");
	const char	*code = form_get(&a->f, "code");
	const char	*npw, *again, *id;

	if (pw == NULL)
		pw = "";
	http_reply_hook(r, answered, a);
	switch (a->op) {
	case OP_PASSWORD:
		pw = form_get(&a->f, "current_password");
		npw = form_get(&a->f, "new_password");
		again = form_get(&a->f, "confirm_password");
		if (npw == NULL || again == NULL || strcmp(npw, again) != 0) {
			http_reply_hook(r, NULL, NULL);
			a->status = 400;
			str_copy(a->error, "The new passwords do not match.",
			    sizeof(a->error));
			account_reply(a);
			return;
		}
		me_password_change(r, pw != NULL ? pw : "", len_of(pw), npw,
		    strlen(npw));
		return;
	case OP_TOTP:
		me_totp_enrol(r, pw, strlen(pw));
		return;
	case OP_TOTP_CONFIRM:
		me_totp_confirm(r, code != NULL ? code : "");
		return;
	case OP_TOTP_DELETE:
		me_totp_remove(r, pw, strlen(pw), code != NULL ? code : "");
		return;
	case OP_RECOVERY:
		me_recovery_renew(r, pw, strlen(pw));
		return;
	case OP_IDENTITY_LINK:
	case OP_IDENTITY_UNLINK:
		http_reply_hook(r, NULL, NULL);
		identity_op(a);
		return;
	case OP_SESSION_END:
		http_reply_hook(r, NULL, NULL);
		id = form_get(&a->f, "id");
		if (id != NULL && strcmp(id, a->sid) == 0) {
			/* This browser's own: the same as signing out. */
			if (sessions_end(c->front->db, a->hash, r->remote,
			    own_ended, a) == -1) {
				acct_free(a);
				problem_reply(r, PROBLEM_INTERNAL, NULL);
			}
			return;
		}
		if (id == NULL || !field_is_uuid(id)) {
			/* No session of anyone has such an id. */
			session_ended(STORE_NOT_FOUND, a);
			return;
		}
		if (sessions_end_one(c->front->db, c->user.id, id, r->remote,
		    session_ended, a) == -1) {
			acct_free(a);
			problem_reply(r, PROBLEM_INTERNAL, NULL);
		}
		return;
	default:
		http_reply_hook(r, NULL, NULL);
		account_reply(a);
		return;
	}
}

static void
found(enum store_status st, const struct sessions_found *s, void *arg)
{
	struct acct	*a = arg;
	struct http_req	*r = a->r;
	struct caller	*c = caller_of(r);
	const struct cfg *cfg = c->front->cfg;

	if (st == STORE_NOT_FOUND) {
		to_login(a, true);
		return;
	}
	if (st != STORE_OK) {
		acct_free(a);
		reply_db_failed(r, st, "session");
		return;
	}
	c->user = s->user;
	str_copy(a->sid, s->id, sizeof(a->sid));
	a->second_factor = s->second_factor;
	if (a->op == OP_SHOW) {
		account_reply(a);
		return;
	}
	if (!a->have_form) {
		a->status = 400;
		str_copy(a->error, UNREADABLE, sizeof(a->error));
		account_reply(a);
		return;
	}
	if (!csrf_origin_ok(http_req_header(r, "Origin"),
	    http_req_header(r, "Referer"), cfg->public_url) ||
	    !csrf_check(a->token, form_get(&a->f, "csrf"))) {
		a->status = 403;
		str_copy(a->error, BAD_FORM, sizeof(a->error));
		account_reply(a);
		return;
	}
	run_op(a);
}

/* Finds r's session, then does op. */
static void
account_start(struct http_req *r, enum acct_op op)
{
	struct caller	*c = caller_of(r);
	const struct cfg *cfg = c->front->cfg;
	char		 why[FORM_WHY_MAX];
	struct acct	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	a->r = r;
	a->op = op;
	if (op != OP_SHOW && body_is_form(r)) {
		int rc = form_parse(&a->f, r->body != NULL ? r->body : "",
		    r->body_len, why, sizeof(why));

		if (rc == -2) {
			acct_free(a);
			problem_reply(r, PROBLEM_INTERNAL, NULL);
			return;
		}
		a->have_form = rc == 0;
	}
	if (session_cookie_get(http_req_header(r, "Cookie"), cfg->public_url,
	    cfg->session_domain, a->token) == -1 ||
	    secret_token_hash(a->token, strlen(a->token), a->hash) == -1) {
		to_login(a, false);
		return;
	}
	if (sessions_touch(c->front->db, a->hash, cfg->session_idle, found,
	    a) == -1) {
		acct_free(a);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

void
h_ui_account(struct http_req *r)
{
	account_start(r, OP_SHOW);
}

void
h_ui_account_password(struct http_req *r)
{
	account_start(r, OP_PASSWORD);
}

void
h_ui_account_totp(struct http_req *r)
{
	account_start(r, OP_TOTP);
}

void
h_ui_account_totp_confirm(struct http_req *r)
{
	account_start(r, OP_TOTP_CONFIRM);
}

void
h_ui_account_totp_delete(struct http_req *r)
{
	account_start(r, OP_TOTP_DELETE);
}

void
h_ui_account_recovery(struct http_req *r)
{
	account_start(r, OP_RECOVERY);
}

void
h_ui_account_session_end(struct http_req *r)
{
	account_start(r, OP_SESSION_END);
}

void
h_ui_account_identity_link(struct http_req *r)
{
	account_start(r, OP_IDENTITY_LINK);
}

void
h_ui_account_identity_unlink(struct http_req *r)
{
	account_start(r, OP_IDENTITY_UNLINK);
}
