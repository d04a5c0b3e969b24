/*
 * The route handlers of wardend and the table that maps the API onto them
 * (routes.c).  Each handler follows the reply rules of http.h: it replies
 * exactly once, now or from the callback of the work it started, and the
 * request context stays valid until then.  r->caller is a struct caller
 * (front.h); for bearer and admin routes caller->user is the caller's row.
 */
#ifndef WARDEN_HANDLERS_H
#define WARDEN_HANDLERS_H

#include <stddef.h>

#include "http/route.h"

extern const struct route	handlers_routes[];
/* The patterns of handlers_routes whose resources answer other origins
 * (CORS, http/cors.h): what a browser application calls. */
extern const char *const	handlers_cors_patterns[];
extern const size_t		handlers_ncors_patterns;
extern const size_t		handlers_nroutes;

/* h_meta.c */
route_handler_fn	h_healthz, h_readyz, h_jwks, h_openapi, h_as_metadata;
/* h_register.c */
route_handler_fn	h_register;
/* h_token.c */
route_handler_fn	h_token, h_revoke;
/* h_oauth2.c */
route_handler_fn	h_userinfo, h_introspect, h_oauth2_revoke;
/* h_session.c */
route_handler_fn	h_logout, h_verify;
/* h_me.c */
route_handler_fn	h_me_get, h_me_patch, h_me_password, h_me_delete;
route_handler_fn	h_me_sessions, h_me_session_delete;
/* h_identities.c: identities at upstream providers */
route_handler_fn	h_me_identities, h_me_identity_delete, h_admin_identities,
			h_admin_identity_delete;
/* h_email.c */
route_handler_fn	h_email_verify, h_me_email_verification;
/* h_reset.c */
route_handler_fn	h_password_forgot, h_password_reset;
/* h_mfa.c */
route_handler_fn	h_me_totp_enrol, h_me_totp_confirm, h_me_totp_delete,
			h_me_recovery_codes, h_admin_mfa_delete;
/* h_metrics.c */
route_handler_fn	h_metrics;
/* h_admin.c */
route_handler_fn	h_admin_list, h_admin_get, h_admin_patch,
			h_admin_delete;

#endif
