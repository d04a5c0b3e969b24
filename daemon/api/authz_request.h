/*
 * The authorization request of /oauth2/authorize (RFC 6749 4.1.1, RFC 7636
 * 4.3, OpenID Connect Core 3.1.2.1), read once from the query string of a
 * GET or the form body of a POST into a typed struct with bounded fields,
 * and the answers' URLs.  Pure string work, no allocation.
 *
 * Reading: pairs split on '&', name and value on the first '=', '+' a
 * space, %XX a byte.  Parameters of other names are ignored (OpenID
 * Connect Core 3.1.2.1: "the Authorization Server MUST ignore" unknown
 * ones), except request and request_uri, which are noted.  A parameter of
 * ours that comes twice, is malformed (a bad escape, %00, a control
 * character, invalid UTF-8) or is longer than its field is noted as the
 * request's first fault; an empty value counts as absent (RFC 6749 3.1).
 */
#ifndef WARDEN_API_AUTHZ_REQUEST_H
#define WARDEN_API_AUTHZ_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oidc_client.h"

#define AUTHZ_INPUT_MAX		16384	/* bytes of a query or body read */
#define AUTHZ_WORD_MAX		64	/* response_type, prompt, ... */
#define AUTHZ_SCOPE_MAX		512
#define AUTHZ_STATE_MAX		1024
#define AUTHZ_CHALLENGE_MAX	128	/* RFC 7636 4.2 */
#define AUTHZ_HINT_MAX		256	/* login_hint */
#define AUTHZ_ERROR_DESC_MAX	160

/* prompt values (OpenID Connect Core 3.1.2.1) as bits. */
#define AUTHZ_PROMPT_NONE	0x01u
#define AUTHZ_PROMPT_LOGIN	0x02u
#define AUTHZ_PROMPT_CONSENT	0x04u
#define AUTHZ_PROMPT_SELECT	0x08u	/* select_account: one account */

/* The parameters the portal adds to carry a request through the login:
 * the Unix time at which the login was asked for. */
#define AUTHZ_LOGIN_AT		"warden_login_at"

struct authz_request {
	char	 client_id[OIDC_CLIENT_ID_MAX + 1];
	char	 redirect_uri[OIDC_URI_MAX + 1];
	char	 response_type[AUTHZ_WORD_MAX + 1];
	char	 response_mode[AUTHZ_WORD_MAX + 1];
	char	 scope[AUTHZ_SCOPE_MAX + 1];
	char	 state[AUTHZ_STATE_MAX + 1];
	char	 nonce[OIDC_NONCE_MAX + 1];
	char	 code_challenge[AUTHZ_CHALLENGE_MAX + 1];
	char	 code_challenge_method[AUTHZ_WORD_MAX + 1];
	char	 prompt[AUTHZ_WORD_MAX + 1];
	char	 max_age[AUTHZ_WORD_MAX + 1];	/* as given; see max_age_s */
	char	 login_hint[AUTHZ_HINT_MAX + 1];
	char	 login_at[AUTHZ_WORD_MAX + 1];	/* AUTHZ_LOGIN_AT, as given */

	/* Derived by authz_request_parse() from the fields above. */
	int64_t	 max_age_s;	/* -1 when absent or not a number */
	int64_t	 login_at_s;	/* 0 when absent or not a number */
	unsigned prompts;	/* AUTHZ_PROMPT_* */
	bool	 prompt_bad;	/* a value not of the list */
	bool	 max_age_bad;	/* present and not 0..2^31-1 */
	bool	 request_object; /* request was given */
	bool	 request_uri;	/* request_uri was given */

	/*
	 * The first fault of a parameter of ours (see above), or NULL: its
	 * name, a static string.  Its field is then "".  bad_target: the
	 * fault is of client_id or redirect_uri, so the request has no
	 * address it may be answered at.
	 */
	const char *bad_param;
	bool	 bad_target;
};

/* Reads the len bytes of s (a query string without '?', or a form body)
 * into *q; never fails: faults are noted in *q.  len is capped at
 * AUTHZ_INPUT_MAX (what is beyond is a fault of its own: bad_target). */
void	authz_request_parse(const char *s, size_t len, struct authz_request *q);

/* The error of a request that has a client and a redirect_uri it may be
 * answered at (RFC 6749 4.1.2.1). */
struct authz_error {
	const char	*error;		/* NULL: none */
	char		 description[AUTHZ_ERROR_DESC_MAX];
};

/*
 * Judges q for a client allowed client_scopes (OIDC_SCOPE_* bits), the
 * client and its redirect_uri being already accepted: 0 with the scope
 * bits asked in *scopes, or -1 with the error in *e (invalid_request,
 * request_not_supported, unsupported_response_type, invalid_scope).
 */
int	authz_request_check(const struct authz_request *q,
	    unsigned client_scopes, unsigned *scopes, struct authz_error *e);

/*
 * Appends name=value to the URL in out (whose length is *len), percent-
 * encoded (only RFC 3986 unreserved bytes stay), after '?' when out has no
 * query yet, else after '&'.  0, or -1 when it does not fit outlen (out
 * is then cut back to its length before).
 */
int	authz_url_add(char *out, size_t outlen, size_t *len, const char *name,
	    const char *value);

/*
 * Writes q as the path and query of a new authorization request,
 * "/oauth2/authorize?..." (its fields of non-empty values, and
 * AUTHZ_LOGIN_AT login_at when login_at > 0) into out.  0, or -1 when it
 * does not fit.
 */
int	authz_request_path(const struct authz_request *q, int64_t login_at,
	    char *out, size_t outlen);

/* The names and values of q's non-empty fields (AUTHZ_LOGIN_AT among
 * them), at most AUTHZ_NFIELDS, into the caller's arrays: what a form
 * carries to ask again.  The count. */
#define AUTHZ_NFIELDS	13
size_t	authz_request_fields(const struct authz_request *q,
	    const char *names[AUTHZ_NFIELDS],
	    const char *values[AUTHZ_NFIELDS]);

/* Percent-encodes s as authz_url_add() does into out.  0, or -1 when it
 * does not fit. */
int	authz_encode(const char *s, char *out, size_t outlen);

#endif
