/*
 * The login portal's sign-in pages as answers (h_login.c): the password
 * form (login.html) and the second step's (login_totp.html), each with a
 * fresh CSRF token from the browser's pre-login cookie (csrf.h; a new
 * cookie is handed out when the request has none).  Shared by GET
 * /ui/login and the POST handlers that render them again.
 */
#ifndef WARDEN_UI_LOGIN_PAGE_H
#define WARDEN_UI_LOGIN_PAGE_H

#include <stdbool.h>

#include "csrf.h"

struct http_req;

/* Which fixed notice the login page shows (?notice=...): never text of
 * the request's. */
enum login_notice {
	LOGIN_NOTICE_NONE,
	LOGIN_NOTICE_CREATED,	/* "created": after a registration */
	LOGIN_NOTICE_RESET,	/* "reset": after a password reset */
	LOGIN_NOTICE_VERIFIED,	/* "verified": after a verification */
};

/*
 * The CSRF token of r's pre-login cookie into csrf, handing a new cookie
 * out (Set-Cookie) when r has none.  0, or -1 when none could be made.
 */
int	ui_pre_csrf(struct http_req *r, char csrf[CSRF_TOKEN_LEN + 1]);

/* True when r's POST comes from our pages: Origin (or Referer), and csrf
 * is the token of its pre-login cookie. */
bool	ui_pre_form_ok(struct http_req *r, const char *csrf);

/*
 * Replies status with the login page: rd (an accepted return URL, or ""),
 * username (what was typed, or NULL) and error (a sentence, or NULL).
 * Answers the 500 problem when no CSRF token can be made.
 */
void	login_page_reply(struct http_req *r, int status, const char *rd,
	    const char *username, const char *error);

/*
 * Replies status with the second-factor page carrying mfa_token (the
 * password step's, store/mfa.h) in a hidden field, rd and error (or
 * NULL), as login_page_reply() does.
 */
void	login_totp_page_reply(struct http_req *r, int status, const char *rd,
	    const char *mfa_token, const char *error);

/* Adds the Set-Cookie header that makes the browser drop the session
 * cookie (session_cookie_clear()) to r's answer. */
void	ui_session_cookie_clear(struct http_req *r);

#endif
