/*
 * The caller's own account operations, at the level of their values: the
 * API's handlers (h_me.c, h_mfa.c) parse their JSON bodies into these,
 * and the portal's account page (ui/h_account.c) its forms, so that both
 * run one code path: the same checks, proof of the password through the
 * hasher, rate limits, audit and store calls.  Each acts for
 * caller_of(r)->user and ends in exactly one reply of r, the API's (204,
 * 200 JSON or a problem); the portal catches it with http_reply_hook().
 * Secrets are copied (and wiped when done); the caller wipes its own.
 */
#ifndef WARDEN_ME_OPS_H
#define WARDEN_ME_OPS_H

#include <stddef.h>

struct http_req;

/* Checks pw, then sets newpw (validated as at registration): 204, which
 * bumps the token version (every session and refresh token ends). */
void	me_password_change(struct http_req *r, const char *pw, size_t pwlen,
	    const char *newpw, size_t newlen);

/* Checks pw, then starts a TOTP enrolment: 200 {"secret", "otpauth_uri",
 * "qr_svg"}; 409 when TOTP is active. */
void	me_totp_enrol(struct http_req *r, const char *pw, size_t pwlen);

/* Confirms the pending enrolment with a current code: 200
 * {"recovery_codes": [...]}; 422 on a wrong code, 409 when none pends. */
void	me_totp_confirm(struct http_req *r, const char *code);

/* Checks pw, then removes the factor (code: a TOTP or recovery code;
 * a pending enrolment goes without): 204. */
void	me_totp_remove(struct http_req *r, const char *pw, size_t pwlen,
	    const char *code);

/* Checks pw, then replaces the recovery codes: 200 {"recovery_codes"}. */
void	me_recovery_renew(struct http_req *r, const char *pw, size_t pwlen);

#endif
