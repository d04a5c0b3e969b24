/*
 * Forward-auth and logout.
 */
#include <string.h>

#include <bsd/string.h>
#include <time.h>

#include "auth.h"
#include "fields.h"
#include "http/form.h"
#include "front.h"
#include "handlers.h"
#include "http/http.h"
#include "log.h"
#include "problem_reply.h"
#include "reply.h"
#include "revocations.h"
#include "store/users.h"
#include "util.h"

#define ROLES_HEADER_MAX	(PROTO_ROLES_MAX * (PROTO_ROLE_MAX + 1))

static bool
claims_have_role(const struct jwt_claims *c, const char *role)
{
	for (size_t i = 0; i < c->nroles; i++) {
		if (strcmp(c->roles[i], role) == 0)
			return true;
	}
	return false;
}

/*
 * GET /api/v1/auth/verify[?role=NAME]: answers from the token and the
 * revocations this host has been told of (revocations.h), so a proxy may
 * call it on every request without touching the database.
 */
void
h_verify(struct http_req *r)
{
	struct caller *c = caller_of(r);
	static const char *const allowed[] = { "role" };
	char	 role[FIELD_ROLE_MAX + 1] = "", roles[ROLES_HEADER_MAX] = "";
	char	 why[FORM_WHY_MAX];
	struct form q;
	const char *v;
	enum auth_presented how;
	time_t	 now = time(NULL);
	int	 rc;

	rc = form_parse(&q, r->query, r->query ? strlen(r->query) : 0, why,
	    sizeof(why));
	if (rc == 0 && form_unknown(&q, allowed, 1) != NULL) {
		str_copy(why, "unknown query parameter", sizeof(why));
		rc = -1;
	}
	if (rc == 0 && (v = form_get(&q, "role")) != NULL &&
	    (!field_is_role(v) || str_copy(role, v, sizeof(role)) == -1)) {
		str_copy(why, "role must be a role name", sizeof(why));
		rc = -1;
	}
	form_free(&q);
	if (rc != 0) {
		problem_reply(r, rc == -2 ? PROBLEM_INTERNAL :
		    PROBLEM_MALFORMED, why);
		return;
	}
	if (auth_verify_request(c->front, r, now, &c->claims,
	    &how) != JWT_OK) {
		auth_refuse(r, how);
		return;
	}
	if (role[0] != '\0' && !claims_have_role(&c->claims, role)) {
		problem_bearer(r, BEARER_INSUFFICIENT_SCOPE,
		    "the token lacks the role");
		return;
	}
	switch (revocations_check(c->front->revocations, &c->claims, role,
	    now)) {
	case REV_PASS:
		break;
	case REV_REVOKED:
		problem_bearer(r, BEARER_INVALID_TOKEN,
		    "the token has been revoked");
		return;
	case REV_NO_ROLE:
		problem_bearer(r, BEARER_INSUFFICIENT_SCOPE,
		    "the user no longer has the role");
		return;
	case REV_UNSYNCED:
		problem_retry(r, PROBLEM_UNAVAILABLE, 1,
		    "revocations are not known yet: try again");
		return;
	}
	for (size_t i = 0; i < c->claims.nroles; i++) {
		if (i > 0)
			strlcat(roles, ",", sizeof(roles));
		strlcat(roles, c->claims.roles[i], sizeof(roles));
	}
	http_set_header(r, "X-Auth-User-Id", c->claims.sub);
	http_set_header(r, "X-Auth-Username", c->claims.username);
	http_set_header(r, "X-Auth-Roles", roles);
	http_no_store(r, false);
	http_reply_empty(r, 204);
}

static void
logout_done(enum store_status st, void *arg)
{
	struct http_req *r = arg;

	if (st != STORE_OK) {
		reply_db_failed(r, st, "logout");
		return;
	}
	http_reply_empty(r, 204);
}

/*
 * POST /api/v1/auth/logout: every refresh token of the caller revoked and
 * every access token invalidated (token version bump), in one statement.
 */
void
h_logout(struct http_req *r)
{
	struct caller *c = caller_of(r);

	if (users_end_sessions(c->front->db, c->user.id, r->remote,
	    logout_done, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}
