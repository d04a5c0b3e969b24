/*
 * The login portal's sign-in pages as answers (h_login.c): the password
 * form (login.html) and the second step's (login_totp.html), each with a
 * fresh CSRF token from the browser's pre-login cookie (csrf.h; a new
 * cookie is handed out when the request has none).  Shared by GET
 * /ui/login and the POST handlers that render them again.
 */
#ifndef WARDEN_UI_LOGIN_PAGE_H
#define WARDEN_UI_LOGIN_PAGE_H

struct http_req;

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

#endif
