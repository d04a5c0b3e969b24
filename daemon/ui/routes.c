/*
 * The portal's route table (ui_handlers.h).  No route needs a bearer
 * token: a page finds its user by the session cookie itself.
 */
#include "ui_handlers.h"

#define GET	EVHTTP_REQ_GET
#define POST	EVHTTP_REQ_POST
#define NONE	ROUTE_AUTH_NONE

const struct route ui_routes[] = {
	{ GET,	"/ui/login",		h_ui_login,	NONE },
	{ POST,	"/ui/login",		h_ui_login_post, NONE },
	{ POST,	"/ui/login/totp",	h_ui_login_totp, NONE },
	{ POST,	"/ui/logout",		h_ui_logout,	NONE },
	/* upstream identity providers (h_upstream.c) */
	{ GET,	"/ui/login/{provider}",	h_ui_upstream_start, NONE },
	{ GET,	"/ui/login/{provider}/callback", h_ui_upstream_callback, NONE },
	{ GET,	"/ui/static/warden.css", h_ui_css,	NONE },
	/* account */
	{ GET,	"/ui/account",		h_ui_account,	NONE },
	{ POST,	"/ui/account/password",	h_ui_account_password, NONE },
	{ POST,	"/ui/account/totp",	h_ui_account_totp, NONE },
	{ POST,	"/ui/account/totp/confirm", h_ui_account_totp_confirm, NONE },
	{ POST,	"/ui/account/totp/delete", h_ui_account_totp_delete, NONE },
	{ POST,	"/ui/account/recovery-codes", h_ui_account_recovery, NONE },
	{ POST,	"/ui/account/sessions/end", h_ui_account_session_end, NONE },
	{ POST,	"/ui/account/identities/link", h_ui_account_identity_link,
								NONE },
	{ POST,	"/ui/account/identities/unlink",
				h_ui_account_identity_unlink, NONE },
	/* the OpenID provider's browser side (h_authorize.c, h_oidc_logout.c) */
	{ GET,	"/oauth2/authorize",	h_oauth2_authorize, NONE },
	{ POST,	"/oauth2/authorize",	h_oauth2_authorize, NONE },
	{ POST,	"/ui/consent",		h_ui_consent,	NONE },
	{ GET,	"/oauth2/logout",	h_oauth2_logout, NONE },
	{ POST,	"/oauth2/logout",	h_oauth2_logout, NONE },
	/* register, forgot, reset, verify */
	{ GET,	"/ui/register",		h_ui_register,	NONE },
	{ POST,	"/ui/register",		h_ui_register_post, NONE },
	{ GET,	"/ui/forgot",		h_ui_forgot,	NONE },
	{ POST,	"/ui/forgot",		h_ui_forgot_post, NONE },
	{ GET,	"/ui/reset-password",	h_ui_reset,	NONE },
	{ POST,	"/ui/reset-password",	h_ui_reset_post, NONE },
	{ GET,	"/ui/verify-email",	h_ui_verify,	NONE },
	{ POST,	"/ui/verify-email",	h_ui_verify_post, NONE },
};

const size_t ui_nroutes = sizeof(ui_routes) / sizeof(ui_routes[0]);
