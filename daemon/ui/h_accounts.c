/*
 * The login portal's account pages (OIDC.md, "The login portal";
 * ACCOUNTS.md):
 *	GET/POST /ui/register		(only with registration open)
 *	GET/POST /ui/forgot
 *	GET/POST /ui/reset-password?token=...
 *	GET/POST /ui/verify-email?token=...
 *
 * Each POST passes csrf_origin_ok() and carries the CSRF token of the
 * browser's pre-login cookie (ui_pre_form_ok()), else 403 and the form
 * again.  The work is the API's own (api/account_flows.h): the same
 * limits, rules, messages and identical answers; only the answers are
 * pages here.  Opening a mailed link never spends its token: the GET
 * shows a form, and only its POST posts the token.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "api/account_flows.h"
#include "api/body.h"
#include "api/front.h"
#include "api/mail_link.h"
#include "api/problem_reply.h"
#include "api/reply.h"
#include "config.h"
#include "http/form.h"
#include "http/http.h"
#include "login_page.h"
#include "page.h"
#include "secret_token.h"
#include "ui_handlers.h"
#include "util.h"

#define BAD_FORM	"This form has expired or did not come from this " \
			"site. Please try again."
#define UNREADABLE	"The form could not be read. Please try again."
#define FIX_FIELDS	"Please correct the marked fields."
#define NO_MATCH	"The two passwords do not match."
#define BAD_LINK	"This link is invalid, expired or already used."
#define FORGOT_SENT	"If an account has this address, a mail is on its " \
			"way with a link to choose a new password."

/* ---- common ---- */

/* A validation message ("must be ...") as a sentence: "Must be ...". */
static void
sentence(char *out, size_t outlen, const char *why)
{
	str_printf(out, outlen, "%s.", why);
	out[0] = (char)toupper((unsigned char)out[0]);
}

/* Adds key: value to view unless value is NULL or "".  -1 when out of
 * memory. */
static int
add(cJSON *view, const char *key, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return 0;
	return cJSON_AddStringToObject(view, key, value) != NULL ? 0 : -1;
}

/* Adds key: the sentence of msg, unless msg is NULL or "". */
static int
add_msg(cJSON *view, const char *key, const char *msg)
{
	char	 s[VALIDATE_MSG_MAX + 2];

	if (msg == NULL || msg[0] == '\0')
		return 0;
	sentence(s, sizeof(s), msg);
	return add(view, key, s);
}

/* A new view with title and the pre-login cookie's CSRF token (a new
 * cookie when r has none); NULL (answered 500) on failure. */
static cJSON *
form_view(struct http_req *r, const char *title)
{
	char	 csrf[CSRF_TOKEN_LEN + 1];
	cJSON	*view;

	if (ui_pre_csrf(r, csrf) == -1 ||
	    (view = cJSON_CreateObject()) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return NULL;
	}
	if (add(view, "title", title) == -1 || add(view, "csrf", csrf) == -1) {
		cJSON_Delete(view);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return NULL;
	}
	return view;
}

/*
 * Replies status with the message page: heading (also the title), text
 * or error (a sentence: error is shown as an alert), and a link to
 * link_path of public_url (or none) saying link_text.
 */
static void
message_reply(struct http_req *r, int status, const char *heading,
    const char *text, const char *error, const char *link_path,
    const char *link_text)
{
	cJSON	*view;

	if ((view = cJSON_CreateObject()) == NULL ||
	    add(view, "title", heading) == -1 ||
	    add(view, "heading", heading) == -1 ||
	    add(view, "text", text) == -1 ||
	    add(view, "error", error) == -1 ||
	    add(view, "link_path", link_path) == -1 ||
	    add(view, "link_text", link_text) == -1) {
		cJSON_Delete(view);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	page_reply(r, status, "message", view);
}

static void
retry_after(struct http_req *r, int64_t secs)
{
	char	 v[24];

	str_printf(v, sizeof(v), "%lld", (long long)(secs > 0 ? secs : 1));
	(void)http_set_header(r, "Retry-After", v);
}

/* 303 to path (with its query) of public_url. */
static void
see_other(struct http_req *r, const char *path)
{
	char	 to[2048];

	cfg_url(caller_of(r)->front->cfg, path, to, sizeof(to));
	(void)http_set_header(r, "Location", to);
	http_no_store(r, false);
	http_reply_empty(r, 303);
}

/*
 * Parses r's form body into *f.  Answers 400 (or 500) and returns -1
 * when it is not one.
 */
static int
form_in(struct http_req *r, struct form *f)
{
	char	 why[FORM_WHY_MAX];
	int	 rc;

	if (!body_is_form(r)) {
		message_reply(r, 400, "Form not read", NULL, UNREADABLE,
		    NULL, NULL);
		return -1;
	}
	if ((rc = form_parse(f, r->body != NULL ? r->body : "", r->body_len,
	    why, sizeof(why))) != 0) {
		form_free(f);
		if (rc == -2)
			problem_reply(r, PROBLEM_INTERNAL, NULL);
		else
			message_reply(r, 400, "Form not read", NULL,
			    UNREADABLE, NULL, NULL);
		return -1;
	}
	return 0;
}

/* Copies v into dst when it fits (len < dstlen), else leaves "". */
static void
copy_if_fits(char *dst, size_t dstlen, const char *v)
{
	size_t	 len = v != NULL ? strlen(v) : 0;

	dst[0] = '\0';
	if (len > 0 && len < dstlen)
		memcpy(dst, v, len + 1);
}

/* The token of r's query (?token=...) into out ("" when none fits). */
static void
query_token(struct http_req *r, char out[SECRET_TOKEN_LEN + 1])
{
	char		 why[FORM_WHY_MAX];
	struct form	 q;

	out[0] = '\0';
	if (r->query == NULL || form_parse(&q, r->query, strlen(r->query),
	    why, sizeof(why)) != 0)
		return;
	copy_if_fits(out, SECRET_TOKEN_LEN + 1, form_get(&q, "token"));
	form_free(&q);
}

static const char *
field(const struct form *f, const char *name)
{
	const char *v = form_get(f, name);

	return v != NULL ? v : "";
}

/* ---- /ui/register ---- */

/* What the register form shows again: the values typed (never the
 * password) and the message of each field. */
struct reg_page {
	const char	*username, *email, *full_name;
	const char	*error;
	struct register_errors e;
	char		 password2[VALIDATE_MSG_MAX];
};

static void
register_page(struct http_req *r, int status, const struct reg_page *p)
{
	cJSON	*view;

	if ((view = form_view(r, "Create an account")) == NULL)
		return;
	if (p != NULL && (add(view, "username", p->username) == -1 ||
	    add(view, "email", p->email) == -1 ||
	    add(view, "full_name", p->full_name) == -1 ||
	    add(view, "error", p->error) == -1 ||
	    add_msg(view, "err_username", p->e.username) == -1 ||
	    add_msg(view, "err_email", p->e.email) == -1 ||
	    add_msg(view, "err_full_name", p->e.full_name) == -1 ||
	    add_msg(view, "err_password", p->e.password) == -1 ||
	    add(view, "err_password2", p->password2) == -1)) {
		cJSON_Delete(view);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	page_reply(r, status, "register", view);
}

static bool
registration_open(struct http_req *r)
{
	if (caller_of(r)->front->cfg->registration == CFG_REGISTRATION_OPEN)
		return true;
	message_reply(r, 404, "Page not found", NULL,
	    "There is no such page here.", "/ui/login", "Sign in");
	return false;
}

void
h_ui_register(struct http_req *r)
{
	if (registration_open(r))
		register_page(r, 200, NULL);
}

/* The values typed, kept while the store works (register_ops' ctx). */
struct reg_ctx {
	char	 username[FIELD_USERNAME_MAX + 1];
	char	 email[FIELD_EMAIL_MAX + 1];
	char	 full_name[FIELD_FULL_NAME_MAX * 4 + 1];
};

static void
reg_done(struct http_req *r, void *ctx, const struct user *u)
{
	(void)ctx;
	(void)u;
	see_other(r, "/ui/login?notice=created");
}

static void
reg_taken(struct http_req *r, void *ctx, enum users_taken taken)
{
	struct reg_ctx	*c = ctx;
	struct reg_page	 p;

	memset(&p, 0, sizeof(p));
	p.username = c->username;
	p.email = c->email;
	p.full_name = c->full_name;
	p.error = FIX_FIELDS;
	if (taken == USERS_TAKEN_EMAIL)
		str_copy(p.e.email, register_taken_text(taken),
		    sizeof(p.e.email));
	else
		str_copy(p.e.username, register_taken_text(taken),
		    sizeof(p.e.username));
	register_page(r, 409, &p);
}

static void
reg_free(void *ctx)
{
	free(ctx);
}

static const struct register_ops portal_register_ops = {
	.done = reg_done,
	.taken = reg_taken,
	.ctx_free = reg_free,
};

static void
ui_register_admitted(struct http_req *r, enum addr_verdict v,
    unsigned int retry)
{
	struct register_input in;
	struct reg_page	 p;
	struct reg_ctx	*c;
	struct form	 f;
	const char	*pw2, *fn;

	/* Read again: it was read and checked before the count. */
	if (form_in(r, &f) == -1)
		return;
	memset(&p, 0, sizeof(p));
	p.username = field(&f, "username");
	p.email = field(&f, "email");
	p.full_name = field(&f, "full_name");
	if (v == ADDR_UNAVAILABLE) {
		form_free(&f);
		addr_limit_refuse(r, v, retry, NULL);
		return;
	}
	if (v != ADDR_PASS) {
		retry_after(r, retry);
		p.error = "Too many registrations from this address. Please "
		    "try again later.";
		register_page(r, 429, &p);
		form_free(&f);
		return;
	}
	memset(&in, 0, sizeof(in));
	in.username = p.username;
	in.email = p.email;
	fn = p.full_name;
	in.full_name = fn[0] != '\0' ? fn : NULL;
	in.password = field(&f, "password");
	in.pwlen = strlen(in.password);
	pw2 = field(&f, "password2");
	register_validate(r, &in, &p.e);
	if (p.e.password[0] == '\0' && (strlen(pw2) != in.pwlen ||
	    sodium_memcmp(pw2, in.password, in.pwlen) != 0))
		str_copy(p.password2, NO_MATCH, sizeof(p.password2));
	if (p.e.username[0] != '\0' || p.e.email[0] != '\0' ||
	    p.e.full_name[0] != '\0' || p.e.password[0] != '\0' ||
	    p.password2[0] != '\0') {
		p.error = FIX_FIELDS;
		register_page(r, 422, &p);
		form_free(&f);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		form_free(&f);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	copy_if_fits(c->username, sizeof(c->username), in.username);
	copy_if_fits(c->email, sizeof(c->email), in.email);
	copy_if_fits(c->full_name, sizeof(c->full_name), fn);
	register_start(r, &in, &portal_register_ops, c);
	form_free(&f);	/* wipes the passwords' copies (form.h) */
}

void
h_ui_register_post(struct http_req *r)
{
	struct reg_page	 p;
	struct form	 f;

	if (!registration_open(r) || form_in(r, &f) == -1)
		return;
	if (!ui_pre_form_ok(r, form_get(&f, "csrf"))) {
		memset(&p, 0, sizeof(p));
		p.username = field(&f, "username");
		p.email = field(&f, "email");
		p.full_name = field(&f, "full_name");
		p.error = BAD_FORM;
		register_page(r, 403, &p);
		form_free(&f);
		return;
	}
	form_free(&f);
	register_admit(r, ui_register_admitted);
}

/* ---- /ui/forgot ---- */

static void
forgot_page(struct http_req *r, int status, const char *email,
    const char *error, const char *err_email)
{
	cJSON	*view;

	if ((view = form_view(r, "Forgot your password")) == NULL)
		return;
	if (add(view, "email", email) == -1 ||
	    add(view, "error", error) == -1 ||
	    add_msg(view, "err_email", err_email) == -1) {
		cJSON_Delete(view);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	page_reply(r, status, "forgot", view);
}

void
h_ui_forgot(struct http_req *r)
{
	forgot_page(r, 200, NULL, NULL, NULL);
}

static void
forgot_sent(enum store_status st, void *arg)
{
	struct http_req *r = arg;

	if (st != STORE_OK) {
		reply_db_failed(r, st, "password reset request");
		return;
	}
	message_reply(r, 200, "Check your mail", FORGOT_SENT, NULL,
	    "/ui/login", "Back to sign in");
}

void
h_ui_forgot_post(struct http_req *r)
{
	char		 msg[VALIDATE_MSG_MAX];
	struct form	 f;
	const char	*email;
	int64_t		 retry;

	if (form_in(r, &f) == -1)
		return;
	email = field(&f, "email");
	if (!ui_pre_form_ok(r, form_get(&f, "csrf"))) {
		forgot_page(r, 403, email, BAD_FORM, NULL);
		form_free(&f);
		return;
	}
	switch (password_forgot_gate(r, &retry)) {
	case FORGOT_NO_MAIL:
		retry_after(r, retry);
		message_reply(r, 503, "Not available", NULL, "This server "
		    "sends no mail: please ask an administrator.", "/ui/login",
		    "Back to sign in");
		form_free(&f);
		return;
	case FORGOT_LIMITED:
		retry_after(r, retry);
		forgot_page(r, 429, email, "Too many password reset requests "
		    "from this address. Please try again later.", NULL);
		form_free(&f);
		return;
	case FORGOT_OPEN:
		break;
	}
	if (!validate_email(email, msg)) {
		forgot_page(r, 422, email, FIX_FIELDS, msg);
		form_free(&f);
		return;
	}
	if (password_forgot_issue(r, email, forgot_sent, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	form_free(&f);
}

/* ---- /ui/reset-password ---- */

static void
bad_link(struct http_req *r, bool reset)
{
	if (reset)
		message_reply(r, 400, "Link not valid", NULL, BAD_LINK,
		    "/ui/forgot", "Ask for a new link");
	else
		message_reply(r, 400, "Link not valid", NULL, BAD_LINK,
		    "/ui/login", "Sign in");
}

static void
reset_page(struct http_req *r, int status, const char *token,
    const char *error, const char *err_password, const char *err_password2)
{
	cJSON	*view;

	if ((view = form_view(r, "Choose a new password")) == NULL)
		return;
	if (cJSON_AddStringToObject(view, "token", token) == NULL ||
	    add(view, "error", error) == -1 ||
	    add_msg(view, "err_password", err_password) == -1 ||
	    add(view, "err_password2", err_password2) == -1) {
		cJSON_Delete(view);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	page_reply(r, status, "reset_password", view);
}

/* The GET's look at its token: the form, or the bad link's page. */
struct reset_look {
	struct http_req	*r;
	char		 token[SECRET_TOKEN_LEN + 1];	/* secret */
};

static void
reset_looked(enum store_status st, void *arg)
{
	struct reset_look *l = arg;

	if (st == STORE_NOT_FOUND)
		bad_link(l->r, true);
	else if (st != STORE_OK)
		reply_db_failed(l->r, st, "password reset");
	else
		reset_page(l->r, 200, l->token, NULL, NULL, NULL);
	sodium_memzero(l, sizeof(*l));
	free(l);
}

void
h_ui_reset(struct http_req *r)
{
	struct reset_look *l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	l->r = r;
	query_token(r, l->token);
	if (password_reset_check(r, l->token, strlen(l->token), reset_looked,
	    l) == -1) {
		sodium_memzero(l, sizeof(*l));
		free(l);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

static void
rp_done(struct http_req *r, void *ctx)
{
	(void)ctx;
	see_other(r, "/ui/login?notice=reset");
}

static void
rp_bad_token(struct http_req *r, void *ctx)
{
	(void)ctx;
	bad_link(r, true);
}

static void
rp_bad_password(struct http_req *r, void *ctx, const char *msg)
{
	reset_page(r, 422, ctx, FIX_FIELDS, msg, NULL);
}

static void
rp_free(void *ctx)
{
	sodium_memzero(ctx, SECRET_TOKEN_LEN + 1);
	free(ctx);
}

static const struct reset_ops portal_reset_ops = {
	.done = rp_done,
	.bad_token = rp_bad_token,
	.bad_password = rp_bad_password,
	.ctx_free = rp_free,
};

void
h_ui_reset_post(struct http_req *r)
{
	struct form	 f;
	const char	*pw, *pw2;
	char		*token;

	if (form_in(r, &f) == -1)
		return;
	if ((token = calloc(1, SECRET_TOKEN_LEN + 1)) == NULL) {
		form_free(&f);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	copy_if_fits(token, SECRET_TOKEN_LEN + 1, form_get(&f, "token"));
	pw = field(&f, "password");
	pw2 = field(&f, "password2");
	if (!ui_pre_form_ok(r, form_get(&f, "csrf")))
		reset_page(r, 403, token, BAD_FORM, NULL, NULL);
	else if (strlen(pw2) != strlen(pw) ||
	    sodium_memcmp(pw, pw2, strlen(pw)) != 0)
		reset_page(r, 422, token, FIX_FIELDS, NULL, NO_MATCH);
	else {
		/* token goes to the flow, which frees it (rp_free) */
		password_reset_start(r, token, strlen(token), pw, strlen(pw),
		    &portal_reset_ops, token);
		token = NULL;
	}
	if (token != NULL)
		rp_free(token);
	form_free(&f);	/* wipes the passwords' copies */
}

/* ---- /ui/verify-email ---- */

static void
verify_page(struct http_req *r, int status, const char *token,
    const char *error)
{
	cJSON	*view;

	if ((view = form_view(r, "Verify your e-mail address")) == NULL)
		return;
	if (cJSON_AddStringToObject(view, "token", token) == NULL ||
	    add(view, "error", error) == -1) {
		cJSON_Delete(view);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	page_reply(r, status, "verify_email", view);
}

void
h_ui_verify(struct http_req *r)
{
	char	 token[SECRET_TOKEN_LEN + 1];

	query_token(r, token);
	if (token[0] == '\0')
		bad_link(r, false);
	else
		verify_page(r, 200, token, NULL);
	sodium_memzero(token, sizeof(token));
}

static void
verified(enum store_status st, void *arg)
{
	struct http_req *r = arg;

	if (st == STORE_NOT_FOUND)
		bad_link(r, false);
	else if (st != STORE_OK)
		reply_db_failed(r, st, "e-mail verification");
	else
		message_reply(r, 200, "Address verified", "Your e-mail "
		    "address is verified. Thank you.", NULL,
		    "/ui/login?notice=verified", "Sign in");
}

void
h_ui_verify_post(struct http_req *r)
{
	char		 token[SECRET_TOKEN_LEN + 1];
	struct form	 f;

	if (form_in(r, &f) == -1)
		return;
	copy_if_fits(token, sizeof(token), form_get(&f, "token"));
	if (!ui_pre_form_ok(r, form_get(&f, "csrf")))
		verify_page(r, 403, token, BAD_FORM);
	else if (email_verify_start(r, token, strlen(token), verified,
	    r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	sodium_memzero(token, sizeof(token));
	form_free(&f);
}
