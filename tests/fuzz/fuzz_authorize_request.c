/*
 * libFuzzer target of daemon/api/authz_request.c: the authorization
 * request of /oauth2/authorize, straight from a query string or a form
 * body.  Whatever it reads is then judged, written back as a path and
 * as form fields, and read again: the second reading must give the same
 * fields (the login page and the consent form carry a request so).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/authz_request.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char	path[3 * AUTHZ_INPUT_MAX + 64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct authz_request q, again;
	struct authz_error e;
	const char	*names[AUTHZ_NFIELDS], *values[AUTHZ_NFIELDS];
	unsigned	 scopes;
	size_t		 n;

	authz_request_parse((const char *)data, size, &q);
	if (q.bad_target && q.bad_param == NULL)
		abort();
	if (authz_request_check(&q, OIDC_SCOPES_ALL, &scopes, &e) == 0) {
		if (e.error != NULL || !(scopes & OIDC_SCOPE_OPENID) ||
		    strcmp(q.code_challenge_method, "S256") != 0 ||
		    strlen(q.code_challenge) != OIDC_CHALLENGE_LEN)
			abort();
	} else if (e.error == NULL || scopes != 0)
		abort();
	n = authz_request_fields(&q, names, values);
	if (n > AUTHZ_NFIELDS)
		abort();
	if (q.bad_param == NULL && !q.request_object &&
	    authz_request_path(&q, 0, path, sizeof(path)) == 0) {
		const char *qs = strchr(path, '?');

		authz_request_parse(qs != NULL ? qs + 1 : "",
		    qs != NULL ? strlen(qs + 1) : 0, &again);
		again.login_at[0] = q.login_at[0] = '\0';
		again.login_at_s = q.login_at_s = 0;
		if (memcmp(q.client_id, again.client_id, sizeof(q.client_id)) ||
		    strcmp(q.redirect_uri, again.redirect_uri) != 0 ||
		    strcmp(q.state, again.state) != 0 ||
		    strcmp(q.scope, again.scope) != 0 ||
		    strcmp(q.nonce, again.nonce) != 0 ||
		    strcmp(q.code_challenge, again.code_challenge) != 0 ||
		    strcmp(q.prompt, again.prompt) != 0 ||
		    again.bad_param != NULL)
			abort();
	}
	return 0;
}
