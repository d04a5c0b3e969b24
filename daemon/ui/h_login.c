/*
 * GET /ui/login: the sign-in form.  A browser that has no pre-login
 * cookie yet gets one, from which the form's CSRF token is derived
 * (csrf.h); rd, where forward-auth sends the user back afterwards, is
 * carried only when return_url_ok() accepts it, so the form never holds
 * an address of someone else's choosing.
 */
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "api/authz_request.h"
#include "api/front.h"
#include "api/mail_link.h"
#include "api/problem_reply.h"
#include "api/upstreams.h"
#include "config.h"
#include "csrf.h"
#include "http/form.h"
#include "http/http.h"
#include "login_page.h"
#include "page.h"
#include "http/return_url.h"
#include "ui_handlers.h"
#include "util.h"

/*
 * The pre-login secret of r: its cookie's, or a new one handed out with
 * Set-Cookie.  0, or -1 when no secret could be made.
 */
static int
pre_login_secret(struct http_req *r, const char *public_url,
    char secret[SECRET_TOKEN_LEN + 1])
{
	char set[CSRF_PRE_SET_COOKIE_MAX];

	if (csrf_pre_cookie_get(http_req_header(r, "Cookie"), public_url,
	    secret) == 0)
		return 0;
	if (csrf_pre_new(secret) == -1 ||
	    csrf_pre_cookie_set(set, sizeof(set), public_url, secret) == -1)
		return -1;
	return http_add_header(r, "Set-Cookie", set) == 0 ? 0 : -1;
}

/*
 * rd as a proxy without a URL encoder sends it (nginx's
 * "return 302 .../ui/login?rd=$scheme://$http_host$request_uri", the
 * Authelia pattern): the original URL verbatim, whose own "?" and "&"
 * would split it into parameters.  An rd whose value starts with
 * "http://" or "https://" as written (an encoded one starts "http%3A")
 * therefore takes the rest of the query, as it is: such an rd comes last.
 * The first rd= of the query, or NULL when it is encoded or absent.
 */
static const char *
query_raw_rd(const char *query)
{
	const char *p = query;

	for (;;) {
		if (strncmp(p, "rd=", 3) == 0) {
			p += 3;
			return strncmp(p, "http://", 7) == 0 ||
			    strncmp(p, "https://", 8) == 0 ? p : NULL;
		}
		if ((p = strchr(p, '&')) == NULL)
			return NULL;
		p++;
	}
}

int
ui_pre_csrf(struct http_req *r, char csrf[CSRF_TOKEN_LEN + 1])
{
	const struct cfg *cfg = caller_of(r)->front->cfg;
	char	 secret[SECRET_TOKEN_LEN + 1];
	int	 rc;

	rc = pre_login_secret(r, cfg->public_url, secret) == -1 ||
	    csrf_pre_token(secret, csrf) == -1 ? -1 : 0;
	sodium_memzero(secret, sizeof(secret));
	return rc;
}

/* The accepted rd of r's query into out ("" when absent or refused). */
static void
query_rd(struct http_req *r, const struct cfg *cfg, char *out,
    size_t outlen, enum login_notice *notice)
{
	char		 why[FORM_WHY_MAX];
	struct form	 q;
	const char	*rd, *n;

	out[0] = '\0';
	*notice = LOGIN_NOTICE_NONE;
	if (r->query == NULL)
		return;
	/* A raw rd comes last and takes the rest: no notice beside it. */
	if ((rd = query_raw_rd(r->query)) != NULL) {
		if (!return_url_ok(rd, cfg->public_url, cfg->session_domain,
		    out, outlen))
			out[0] = '\0';
		return;
	}
	if (form_parse(&q, r->query, strlen(r->query), why,
	    sizeof(why)) != 0)
		return;
	if ((rd = form_get(&q, "rd")) != NULL &&
	    !return_url_ok(rd, cfg->public_url, cfg->session_domain, out,
	    outlen))
		out[0] = '\0';
	if ((n = form_get(&q, "notice")) == NULL)
		;
	else if (strcmp(n, "created") == 0)
		*notice = LOGIN_NOTICE_CREATED;
	else if (strcmp(n, "reset") == 0)
		*notice = LOGIN_NOTICE_RESET;
	else if (strcmp(n, "verified") == 0)
		*notice = LOGIN_NOTICE_VERIFIED;
	form_free(&q);
}

/*
 * The login page's ways in beside the password: has_providers, providers
 * (name, display_name) and rd_q, rd encoded for their links' queries.
 * 0, or -1 when out of memory.
 */
static int
providers_view(struct http_req *r, cJSON *view, const char *rd)
{
	const struct upstreams *us = caller_of(r)->front->upstreams;
	const struct provider *p;
	char	 enc[3 * RETURN_URL_MAX + 1];
	cJSON	*list, *o;
	size_t	 i;

	if (upstreams_count(us) == 0)
		return 0;
	if (cJSON_AddTrueToObject(view, "has_providers") == NULL ||
	    (list = cJSON_AddArrayToObject(view, "providers")) == NULL)
		return -1;
	for (i = 0; (p = upstreams_at(us, i)) != NULL; i++)
		if ((o = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(list, o) ||
		    cJSON_AddStringToObject(o, "name", p->name) == NULL ||
		    cJSON_AddStringToObject(o, "display_name",
		    p->display_name) == NULL)
			return -1;
	if (rd != NULL && rd[0] != '\0' && authz_encode(rd, enc,
	    sizeof(enc)) == 0 && cJSON_AddStringToObject(view, "rd_q",
	    enc) == NULL)
		return -1;
	return 0;
}

/*
 * Replies status with template name: the common members (title, csrf,
 * rd, registration_open) and those of the page (username or mfa_token,
 * error, notice).
 */
static void
sign_in_reply(struct http_req *r, int status, const char *name,
    const char *rd, const char *username, const char *mfa_token,
    const char *error, const char *notice)
{
	struct caller	*c = caller_of(r);
	const struct cfg *cfg = c->front->cfg;
	char		 csrf[CSRF_TOKEN_LEN + 1];
	cJSON		*view;

	if (ui_pre_csrf(r, csrf) == -1) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	if ((view = cJSON_CreateObject()) == NULL ||
	    (notice != NULL && cJSON_AddStringToObject(view, "notice",
	    notice) == NULL) ||
	    cJSON_AddStringToObject(view, "title", mfa_token != NULL ?
	    "Second factor" : "Sign in") == NULL ||
	    cJSON_AddStringToObject(view, "csrf", csrf) == NULL ||
	    cJSON_AddStringToObject(view, "rd", rd != NULL ? rd : "") == NULL ||
	    cJSON_AddBoolToObject(view, "registration_open",
	    cfg->registration == CFG_REGISTRATION_OPEN) == NULL ||
	    (username != NULL && cJSON_AddStringToObject(view, "username",
	    username) == NULL) ||
	    (mfa_token != NULL && cJSON_AddStringToObject(view, "mfa_token",
	    mfa_token) == NULL) ||
	    (error != NULL && cJSON_AddStringToObject(view, "error",
	    error) == NULL) || (mfa_token == NULL && providers_view(r, view,
	    rd) == -1)) {
		cJSON_Delete(view);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	page_reply(r, status, name, view);
}

void
login_page_reply(struct http_req *r, int status, const char *rd,
    const char *username, const char *error)
{
	sign_in_reply(r, status, "login", rd, username, NULL, error, NULL);
}

void
login_totp_page_reply(struct http_req *r, int status, const char *rd,
    const char *mfa_token, const char *error)
{
	sign_in_reply(r, status, "login_totp", rd, NULL,
	    mfa_token != NULL ? mfa_token : "", error, NULL);
}

void
h_ui_login(struct http_req *r)
{
	const struct cfg *cfg = caller_of(r)->front->cfg;
	char		 rd[RETURN_URL_MAX + 1];
	enum login_notice notice;
	const char	*text = NULL;

	query_rd(r, cfg, rd, sizeof(rd), &notice);
	switch (notice) {
	case LOGIN_NOTICE_CREATED:
		text = mail_link_verifies(cfg) ? "Account created: check your "
		    "mail for the link that verifies your address." :
		    "Account created: you can sign in now.";
		break;
	case LOGIN_NOTICE_RESET:
		text = "Your password has been changed: sign in with the new "
		    "one.";
		break;
	case LOGIN_NOTICE_VERIFIED:
		text = "Your e-mail address is verified.";
		break;
	case LOGIN_NOTICE_NONE:
		break;
	}
	sign_in_reply(r, 200, "login", rd, NULL, NULL, NULL, text);
}
