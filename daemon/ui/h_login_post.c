/*
 * POST /ui/login, POST /ui/login/totp and POST /ui/logout: the portal's
 * sign-in and sign-out (OIDC.md, "Browser sessions", "The login
 * portal").
 *
 * Every form passes csrf_origin_ok() and carries the CSRF token of the
 * browser's pre-login cookie (of its session cookie for logout), else
 * 403.  The login itself is the token endpoint's (token.h): the same
 * per-address limit, back-off, identical answers and audit, through
 * portal_ops, which answer with pages where the endpoint answers JSON.
 * A verified login starts a browser session under a cookie made new
 * here (never one the browser brought: no session fixation) and sends
 * the browser to rd, or to the account page.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/body.h"
#include "api/device.h"
#include "api/front.h"
#include "api/problem_reply.h"
#include "api/reply.h"
#include "api/token.h"
#include "config.h"
#include "csrf.h"
#include "http/form.h"
#include "http/http.h"
#include "login_page.h"
#include "http/return_url.h"
#include "secret_token.h"
#include "http/session_cookie.h"
#include "store/sessions.h"
#include "ui_handlers.h"
#include "util.h"

#define BAD_FORM	"This form has expired or did not come from this " \
			"site. Please try again."
#define UNREADABLE	"The form could not be read. Please try again."

/* What the portal keeps beside a login on its way (token_call's ctx). */
struct ui_login {
	char	 rd[RETURN_URL_MAX + 1];	/* accepted, or "" */
	char	 session[SECRET_TOKEN_LEN + 1];		/* secret */
	char	 hash[SECRET_TOKEN_HASH_LITERAL];
};

static void
ui_login_free(void *ctx)
{
	sodium_memzero(ctx, sizeof(struct ui_login));
	free(ctx);
}

/* The refusal's text as a sentence: its first letter up, a full stop. */
static void
sentence(char *out, size_t outlen, const char *why)
{
	str_printf(out, outlen, "%s.", why);
	out[0] = (char)toupper((unsigned char)out[0]);
}

static void
session_made(enum store_status st, const char *id, void *arg)
{
	struct token_call *t = arg;
	struct ui_login	*u = t->ctx;
	struct http_req	*r = t->r;
	const struct cfg *cfg = t->f->cfg;
	char		 v[SESSION_SET_COOKIE_MAX];
	char		 to[RETURN_URL_MAX + 1];

	(void)id;
	if (st == STORE_NOT_FOUND) {
		/* disabled or changed since the password was checked */
		token_login_refused(t, 400, TOKEN_BAD_LOGIN, 0);
		return;
	}
	if (st != STORE_OK || session_cookie_set(v, sizeof(v),
	    cfg->public_url, cfg->session_domain, u->session,
	    cfg->session_max) == -1) {
		token_call_free(t);
		reply_db_failed(r, st != STORE_OK ? st : STORE_ERROR,
		    "session");
		return;
	}
	if (u->rd[0] != '\0')
		str_copy(to, u->rd, sizeof(to));
	else
		cfg_url(cfg, "/ui/account", to, sizeof(to));
	token_call_free(t);
	(void)http_add_header(r, "Set-Cookie", v);
	sodium_memzero(v, sizeof(v));
	(void)http_set_header(r, "Location", to);
	http_no_store(r, false);
	http_reply_empty(r, 303);
}

/* The login passed (and was recorded): a new session for t->user. */
static void
portal_done(struct token_call *t)
{
	struct ui_login	*u = t->ctx;
	struct http_req	*r = t->r;
	const struct cfg *cfg = t->f->cfg;
	struct sessions_new n;

	if (secret_token_new(u->session, u->hash) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	memset(&n, 0, sizeof(n));
	n.user_id = t->user.id;
	n.hash = u->hash;
	n.token_version = t->user.token_version;
	n.idle = cfg->session_idle;
	n.max = cfg->session_max;
	n.second_factor = t->req.grant == TOKEN_GRANT_MFA;
	n.remote = r->remote;
	n.agent = http_req_header(r, "User-Agent");
	if (sessions_create(t->f->db, &n, session_made, t) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* The password was right; the second factor's page. */
static void
portal_mfa(struct token_call *t)
{
	struct ui_login	*u = t->ctx;

	login_totp_page_reply(t->r, 200, u->rd, t->refresh, NULL);
	token_call_free(t);
}

static void
portal_refused(struct token_call *t, int status, const char *why,
    unsigned int retry)
{
	struct ui_login	*u = t->ctx;
	struct http_req	*r = t->r;
	char		 msg[256], secs[16];

	sentence(msg, sizeof(msg), why);
	if (status == 429) {
		str_printf(secs, sizeof(secs), "%u", retry > 0 ? retry : 1);
		(void)http_set_header(r, "Retry-After", secs);
	}
	/* A wrong code may be typed again under the same mfa_token; a dead
	 * token sends the user back to the password. */
	if (t->req.grant == TOKEN_GRANT_MFA && status != 429 &&
	    strcmp(why, TOKEN_BAD_MFA_TOKEN) != 0)
		login_totp_page_reply(r, status, u->rd, t->req.mfa_token, msg);
	else if (t->req.grant == TOKEN_GRANT_MFA)
		login_page_reply(r, status, u->rd, NULL, status == 429 ? msg :
		    "The sign-in has expired. Please start again.");
	else
		login_page_reply(r, status, u->rd, t->req.username, msg);
	token_call_free(t);
}

static const struct token_login_ops portal_ops = {
	.tokens = false,
	.device_cookie_path = DEVICE_COOKIE_PATH_PORTAL,
	.done = portal_done,
	.mfa = portal_mfa,
	.refused = portal_refused,
	.ctx_free = ui_login_free,
};

/* ---- the forms ---- */

/*
 * Parses r's form body into *f.  Answers (400 login page, or 500) and
 * returns -1 when it is not one.
 */
static int
form_read(struct http_req *r, struct form *f)
{
	char	 why[FORM_WHY_MAX];
	int	 rc;

	if (!body_is_form(r)) {
		login_page_reply(r, 400, "", NULL, UNREADABLE);
		return -1;
	}
	if ((rc = form_parse(f, r->body != NULL ? r->body : "", r->body_len,
	    why, sizeof(why))) != 0) {
		form_free(f);
		if (rc == -2)
			problem_reply(r, PROBLEM_INTERNAL, NULL);
		else
			login_page_reply(r, 400, "", NULL, UNREADABLE);
		return -1;
	}
	return 0;
}

/* login_page.h: shared with the account pages (h_accounts.c). */
bool
ui_pre_form_ok(struct http_req *r, const char *csrf)
{
	const struct cfg *cfg = caller_of(r)->front->cfg;
	char	 secret[SECRET_TOKEN_LEN + 1];
	bool	 ok;

	if (!csrf_origin_ok(http_req_header(r, "Origin"),
	    http_req_header(r, "Referer"), cfg->public_url))
		return false;
	if (csrf_pre_cookie_get(http_req_header(r, "Cookie"), cfg->public_url,
	    secret) == -1)
		return false;
	ok = csrf_pre_check(secret, csrf);
	sodium_memzero(secret, sizeof(secret));
	return ok;
}

/* The form's rd, accepted, into u->rd ("" when absent or refused). */
static void
form_rd(const struct form *f, const struct cfg *cfg, struct ui_login *u)
{
	const char *rd = form_get(f, "rd");

	if (rd == NULL || rd[0] == '\0' || !return_url_ok(rd, cfg->public_url,
	    cfg->session_domain, u->rd, sizeof(u->rd)))
		u->rd[0] = '\0';
}

/* A new call of the portal's for r, with its ctx; NULL (answered 500)
 * when out of memory. */
static struct token_call *
call_new(struct http_req *r)
{
	struct token_call *t;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->ctx = calloc(1, sizeof(struct ui_login))) == NULL) {
		free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return NULL;
	}
	t->r = r;
	t->f = caller_of(r)->front;
	t->ops = &portal_ops;
	return t;
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

void
h_ui_login_post(struct http_req *r)
{
	const struct cfg *cfg = caller_of(r)->front->cfg;
	struct token_call *t;
	struct ui_login	*u;
	struct form	 f;
	const char	*pw;
	size_t		 pwlen;

	if (form_read(r, &f) == -1)
		return;
	if ((t = call_new(r)) == NULL) {
		form_free(&f);
		return;
	}
	u = t->ctx;
	form_rd(&f, cfg, u);
	t->req.grant = TOKEN_GRANT_PASSWORD;
	/* Too long to be anyone's: the same answer as a wrong one. */
	copy_if_fits(t->req.username, sizeof(t->req.username),
	    form_get(&f, "username"));
	if (!ui_pre_form_ok(r, form_get(&f, "csrf"))) {
		form_free(&f);
		login_page_reply(r, 403, u->rd, t->req.username, BAD_FORM);
		token_call_free(t);
		return;
	}
	pw = form_get(&f, "password");
	pwlen = pw != NULL ? strlen(pw) : 0;
	t->req.pwlen = pwlen <= sizeof(t->req.password) ? pwlen : 0;
	memcpy(t->req.password, pw != NULL ? pw : "", t->req.pwlen);
	form_free(&f);	/* wipes the password's copy (form.h) */
	token_password_login(t);
}

void
h_ui_login_totp(struct http_req *r)
{
	const struct cfg *cfg = caller_of(r)->front->cfg;
	struct token_call *t;
	struct ui_login	*u;
	struct form	 f;
	const char	*code;

	if (form_read(r, &f) == -1)
		return;
	if ((t = call_new(r)) == NULL) {
		form_free(&f);
		return;
	}
	u = t->ctx;
	form_rd(&f, cfg, u);
	if (!ui_pre_form_ok(r, form_get(&f, "csrf"))) {
		form_free(&f);
		login_page_reply(r, 403, u->rd, NULL, BAD_FORM);
		token_call_free(t);
		return;
	}
	t->req.grant = TOKEN_GRANT_MFA;
	/* The page's second form sends a recovery code instead of the
	 * authenticator's: the one it holds is the one judged. */
	if ((code = form_get(&f, "code")) == NULL &&
	    (code = form_get(&f, "recovery_code")) != NULL)
		t->req.recovery = true;
	else
		t->req.recovery = false;
	/* Of the wrong shape: refused as a wrong one, by mfa_grant(). */
	copy_if_fits(t->req.mfa_token, sizeof(t->req.mfa_token),
	    form_get(&f, "mfa_token"));
	copy_if_fits(t->req.code, sizeof(t->req.code), code);
	form_free(&f);
	mfa_grant(t);
}

/* ---- logout ---- */

/* login_page.h: shared with RP-initiated logout (h_oidc_logout.c). */
void
ui_session_cookie_clear(struct http_req *r)
{
	const struct cfg *cfg = caller_of(r)->front->cfg;
	char		 v[SESSION_SET_COOKIE_MAX];

	if (session_cookie_clear(v, sizeof(v), cfg->public_url,
	    cfg->session_domain) == 0)
		(void)http_add_header(r, "Set-Cookie", v);
}

static void
logged_out(enum store_status st, void *arg)
{
	struct http_req	*r = arg;
	const struct cfg *cfg = caller_of(r)->front->cfg;
	char		 to[RETURN_URL_MAX + 1];

	/* NOT_FOUND: ended already, or expired: logged out all the same. */
	if (st != STORE_OK && st != STORE_NOT_FOUND) {
		reply_db_failed(r, st, "logout");
		return;
	}
	cfg_url(cfg, "/ui/login", to, sizeof(to));
	ui_session_cookie_clear(r);
	(void)http_set_header(r, "Location", to);
	http_no_store(r, false);
	http_reply_empty(r, 303);
}

void
h_ui_logout(struct http_req *r)
{
	struct front	*fr = caller_of(r)->front;
	const struct cfg *cfg = fr->cfg;
	char		 token[SECRET_TOKEN_LEN + 1];
	char		 hash[SECRET_TOKEN_HASH_LITERAL];
	struct form	 f;
	bool		 ok;

	if (form_read(r, &f) == -1)
		return;
	if (session_cookie_get(http_req_header(r, "Cookie"), cfg->public_url,
	    cfg->session_domain, token) == -1) {
		/* No session to end: only the way back to the login. */
		form_free(&f);
		logged_out(STORE_NOT_FOUND, r);
		return;
	}
	ok = csrf_origin_ok(http_req_header(r, "Origin"),
	    http_req_header(r, "Referer"), cfg->public_url) &&
	    csrf_check(token, form_get(&f, "csrf"));
	form_free(&f);
	if (!ok || secret_token_hash(token, strlen(token), hash) == -1) {
		sodium_memzero(token, sizeof(token));
		login_page_reply(r, 403, "", NULL, BAD_FORM);
		return;
	}
	sodium_memzero(token, sizeof(token));
	if (sessions_end(fr->db, hash, r->remote, logged_out, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}
