/*
 * What an upstream provider answers over HTTPS, parsed once, at the edge,
 * into typed structs: its discovery document (OpenID Connect Discovery
 * 1.0), its token endpoint's answer (RFC 6749 5.1 and 5.2), and its
 * userinfo (OpenID Connect Core 5.3, or a plain OAuth 2.0 provider's
 * profile, such as GitHub's /user) through a claim mapping.  Every value
 * is bounded; a value that does not fit is an error, never cut.
 */
#ifndef WARDEN_UPSTREAM_ANSWERS_H
#define WARDEN_UPSTREAM_ANSWERS_H

#include <stdbool.h>
#include <stddef.h>

#include "id_token.h"
#include "providers.h"

#define UPSTREAM_TOKEN_MAX	4096	/* an access token's bytes */
#define UPSTREAM_ERROR_MAX	64	/* an error code's bytes */

struct upstream_discovery {
	char	 issuer[PROVIDER_URL_MAX + 1];
	char	 authorization_endpoint[PROVIDER_URL_MAX + 1];
	char	 token_endpoint[PROVIDER_URL_MAX + 1];
	char	 userinfo_endpoint[PROVIDER_URL_MAX + 1];	/* "" none */
	char	 jwks_uri[PROVIDER_URL_MAX + 1];
};

/*
 * Parses a discovery document (len bytes of JSON) into *d: issuer,
 * authorization_endpoint, token_endpoint and jwks_uri required,
 * userinfo_endpoint optional, each a string that fits (the caller checks
 * them as URLs it may fetch); the issuer must be expected_issuer exactly
 * (Discovery 4.3).  0, or -1 with the reason in err.
 */
int	upstream_discovery_parse(const char *json, size_t len,
	    const char *expected_issuer, struct upstream_discovery *d,
	    char *err, size_t errlen);

struct upstream_tokens {
	char	 access_token[UPSTREAM_TOKEN_MAX + 1];		/* secret */
	char	 id_token[ID_TOKEN_MAX + 1];	/* "" when none came */
	char	 error[UPSTREAM_ERROR_MAX + 1];	/* "" unless the provider
						 * refused the code */
};

/*
 * Parses the token endpoint's JSON answer (RFC 6749 5.1; GitHub answers
 * so when asked with "Accept: application/json") into *t.  An answer
 * with "error" (of RFC 6749's characters) fills t->error and is 0; else
 * access_token (and token_type bearer, case-insensitively, when given) is
 * required.  0, or -1 with the reason in err; *t is wiped then.
 */
int	upstream_tokens_parse(const char *body, size_t len,
	    struct upstream_tokens *t, char *err, size_t errlen);

/*
 * Maps a userinfo answer (JSON object) through p's claim_* names into
 * *out: the subject (a string, or an integer number written in decimal,
 * as GitHub's id) is required; e-mail, username and name are taken when
 * they are strings that fit, else left ""; email_verified only for JSON
 * true.  0, or -1 with the reason in err.
 */
int	upstream_userinfo_map(const char *json, size_t len,
	    const struct provider *p, struct id_token_claims *out, char *err,
	    size_t errlen);

#endif
