/*
 * The API of daemon/api/openapi.json as one table: one table per dispatch,
 * so that an unknown method or path is refused in one place (http/route.c).
 */
#include "handlers.h"

#define GET	EVHTTP_REQ_GET
#define POST	EVHTTP_REQ_POST
#define PATCH	EVHTTP_REQ_PATCH
#define DELETE	EVHTTP_REQ_DELETE
#define NONE	ROUTE_AUTH_NONE
#define BEARER	ROUTE_AUTH_BEARER
#define ADMIN	ROUTE_AUTH_ADMIN

const struct route handlers_routes[] = {
	{ POST,   "/api/v1/users",		h_register,	NONE },
	{ POST,   "/api/v1/auth/token",		h_token,	NONE },
	{ POST,   "/api/v1/auth/revoke",	h_revoke,	NONE },
	/* The OpenID Connect provider's (OIDC.md): the token endpoint
	 * again, and what registered clients call with their tokens. */
	{ POST,   "/oauth2/token",		h_token,	NONE },
	{ GET,    "/oauth2/userinfo",		h_userinfo,	NONE },
	{ POST,   "/oauth2/userinfo",		h_userinfo,	NONE },
	{ POST,   "/oauth2/introspect",		h_introspect,	NONE },
	{ POST,   "/oauth2/revoke",		h_oauth2_revoke, NONE },
	{ POST,   "/api/v1/auth/logout",	h_logout,	BEARER },
	{ POST,   "/api/v1/auth/email/verify",	h_email_verify,	NONE },
	{ POST,   "/api/v1/auth/password/forgot", h_password_forgot, NONE },
	{ POST,   "/api/v1/auth/password/reset", h_password_reset, NONE },
	/* Forward-auth checks the token alone: no database round trip. */
	{ GET,    "/api/v1/auth/verify",	h_verify,	NONE },
	{ GET,    "/api/v1/users/me",		h_me_get,	BEARER },
	{ PATCH,  "/api/v1/users/me",		h_me_patch,	BEARER },
	{ DELETE, "/api/v1/users/me",		h_me_delete,	BEARER },
	{ POST,   "/api/v1/users/me/password",	h_me_password,	BEARER },
	{ POST,   "/api/v1/users/me/email/verification",
					h_me_email_verification, BEARER },
	{ POST,   "/api/v1/users/me/mfa/totp",	h_me_totp_enrol, BEARER },
	{ POST,   "/api/v1/users/me/mfa/totp/confirm",
					h_me_totp_confirm, BEARER },
	{ DELETE, "/api/v1/users/me/mfa/totp",	h_me_totp_delete, BEARER },
	{ POST,   "/api/v1/users/me/mfa/recovery-codes",
					h_me_recovery_codes, BEARER },
	{ GET,    "/api/v1/users/me/sessions",	h_me_sessions,	BEARER },
	{ DELETE, "/api/v1/users/me/sessions/{id:uuid}",
					h_me_session_delete, BEARER },
	{ GET,    "/api/v1/users",		h_admin_list,	ADMIN },
	{ GET,    "/api/v1/users/{id:uuid}",	h_admin_get,	ADMIN },
	{ PATCH,  "/api/v1/users/{id:uuid}",	h_admin_patch,	ADMIN },
	{ DELETE, "/api/v1/users/{id:uuid}",	h_admin_delete,	ADMIN },
	{ DELETE, "/api/v1/users/{id:uuid}/mfa", h_admin_mfa_delete, ADMIN },
	{ GET,    "/api/v1/users/me/identities", h_me_identities, BEARER },
	{ DELETE, "/api/v1/users/me/identities/{id:uuid}",
					h_me_identity_delete, BEARER },
	{ GET,    "/api/v1/users/{id:uuid}/identities", h_admin_identities,
								ADMIN },
	{ DELETE, "/api/v1/users/{id:uuid}/identities/{identity:uuid}",
					h_admin_identity_delete, ADMIN },
	{ GET,    "/.well-known/jwks.json",	h_jwks,		NONE },
	{ GET,    "/.well-known/oauth-authorization-server",
						h_as_metadata,	NONE },
	{ GET,    "/.well-known/openid-configuration",
						h_as_metadata,	NONE },
	{ GET,    "/openapi.json",		h_openapi,	NONE },
	{ GET,    "/healthz",			h_healthz,	NONE },
	{ GET,    "/readyz",			h_readyz,	NONE },
	{ GET,    "/metrics",			h_metrics,	NONE },
};

const size_t handlers_nroutes = sizeof(handlers_routes) /
    sizeof(handlers_routes[0]);

const char *const handlers_cors_patterns[] = {
	"/api/v1/users",
	"/api/v1/auth/token",
	"/api/v1/auth/revoke",
	"/api/v1/auth/logout",
	"/oauth2/token",
	"/oauth2/userinfo",
	"/oauth2/revoke",
	"/api/v1/users/me",
	"/api/v1/users/me/password",
	"/api/v1/users/me/email/verification",
	"/api/v1/users/me/mfa/totp",
	"/api/v1/users/me/mfa/totp/confirm",
	"/api/v1/users/me/mfa/recovery-codes",
	"/api/v1/users/me/sessions",
	"/api/v1/users/me/sessions/{id:uuid}",
	"/api/v1/auth/email/verify",
	"/api/v1/auth/password/forgot",
	"/api/v1/auth/password/reset",
	"/api/v1/users/{id:uuid}",
	"/api/v1/users/{id:uuid}/mfa",
	"/api/v1/users/me/identities",
	"/api/v1/users/me/identities/{id:uuid}",
	"/api/v1/users/{id:uuid}/identities",
	"/api/v1/users/{id:uuid}/identities/{identity:uuid}",
	"/.well-known/jwks.json",
	"/.well-known/oauth-authorization-server",
	"/.well-known/openid-configuration",
	"/openapi.json",
};

const size_t handlers_ncors_patterns = sizeof(handlers_cors_patterns) /
    sizeof(handlers_cors_patterns[0]);
