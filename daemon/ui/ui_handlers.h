/*
 * The login portal's routes (/ui/...): a table of their own beside the
 * API's (api/handlers.h), which main.c serves together.  The pages are
 * HTML for people; the OpenAPI document describes the API alone.
 */
#ifndef WARDEN_UI_HANDLERS_H
#define WARDEN_UI_HANDLERS_H

#include <stddef.h>

#include "http/route.h"

extern const struct route	ui_routes[];
extern const size_t		ui_nroutes;

route_handler_fn	h_ui_login, h_ui_css;
/* h_login_post.c: the sign-in and sign-out forms */
route_handler_fn	h_ui_login_post, h_ui_login_totp, h_ui_logout;
/* account */
/* h_account.c: the account page and its forms */
route_handler_fn	h_ui_account, h_ui_account_password,
			h_ui_account_totp, h_ui_account_totp_confirm,
			h_ui_account_totp_delete, h_ui_account_recovery,
			h_ui_account_session_end, h_ui_account_identity_link,
			h_ui_account_identity_unlink;
/* h_upstream.c: signing in through an upstream identity provider */
route_handler_fn	h_ui_upstream_start, h_ui_upstream_callback;
/* h_authorize.c: the OpenID provider's authorization endpoint and its
 * consent form */
route_handler_fn	h_oauth2_authorize, h_ui_consent;
/* h_oidc_logout.c: RP-initiated logout */
route_handler_fn	h_oauth2_logout;
/* register, forgot, reset, verify */
/* h_accounts.c: the account pages, on api/account_flows.h */
route_handler_fn	h_ui_register, h_ui_register_post, h_ui_forgot,
			h_ui_forgot_post, h_ui_reset, h_ui_reset_post,
			h_ui_verify, h_ui_verify_post;

#endif
