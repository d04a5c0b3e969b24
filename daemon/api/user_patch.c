#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "body.h"
#include "config.h"
#include "fields.h"
#include "front.h"
#include "http/http.h"
#include "http/json_in.h"
#include "log.h"
#include "mail_link.h"
#include "problem_reply.h"
#include "ratelimit.h"
#include "reply.h"
#include "store/users.h"
#include "user_patch.h"
#include "util.h"
#include "validate.h"

static const struct json_in_member patch_members[] = {
	{ "email", JSON_IN_STRING, FIELD_EMAIL_MAX * 4, 0, false, false },
	{ "full_name", JSON_IN_STRING, FIELD_FULL_NAME_MAX * 4, 0, false, true },
	{ "roles", JSON_IN_STRING_ARRAY, PROTO_ROLE_MAX * 4, PROTO_ROLES_MAX,
	    false, false },
	{ "is_active", JSON_IN_BOOL, 0, 0, false, false },
};
enum { M_EMAIL, M_FULL_NAME, M_ROLES, M_IS_ACTIVE, M_COUNT };

static void
patched(enum store_status st, const struct user *u, void *arg)
{
	struct http_req *r = arg;

	switch (st) {
	case STORE_OK:
		http_no_store(r, false);
		http_reply_json(r, 200, user_to_json(u));
		break;
	case STORE_NOT_FOUND:
		problem_reply(r, PROBLEM_NOT_FOUND, "no such user");
		break;
	case STORE_CONFLICT:
		problem_reply(r, PROBLEM_CONFLICT,
		    "the e-mail address is already registered");
		break;
	default:
		reply_db_failed(r, st, "user update");
		break;
	}
}

/* Collects the roles array into roles (*n of them) and checks it. */
static bool
roles_collect(struct problem_fields *pf, const cJSON *array,
    const char *roles[PROTO_ROLES_MAX], size_t *np)
{
	const cJSON *item;
	char	 msg[VALIDATE_MSG_MAX];
	size_t	 n = 0;

	cJSON_ArrayForEach(item, array) {
		if (n == PROTO_ROLES_MAX) {
			problem_field_add(pf, "roles", "must hold at most "
			    STRINGIFY(PROTO_ROLES_MAX) " roles");
			return false;
		}
		roles[n++] = cJSON_GetStringValue(item);
	}
	if (!validate_roles(roles, n, msg)) {
		problem_field_add(pf, "roles", msg);
		return false;
	}
	*np = n;
	return true;
}

/*
 * A user's change of e-mail address tells whether the new one is taken
 * (409 or 200): each attempt counts against the user and the client
 * address (email_change_limit per email_change_window), so that no one
 * probes the registered addresses at speed.  True after replying 429.
 */
static bool
email_change_blocked(struct http_req *r, const char *user_id)
{
	struct ratelimit *rl = caller_of(r)->front->email_limit;
	time_t	 now = time(NULL);
	int64_t	 retry = 0, retry2 = 0;
	bool	 by_user = rl_blocked(rl, user_id, now, &retry),
		 by_addr = rl_blocked(rl, r->remote, now, &retry2);

	if (by_user || by_addr) {
		problem_retry(r, PROBLEM_RATE_LIMITED, (unsigned int)(retry >
		    retry2 ? retry : retry2), "too many e-mail address changes: "
		    "try again later");
		return true;
	}
	rl_fail(rl, user_id, now);
	rl_fail(rl, r->remote, now);
	return false;
}

static bool
roles_have(const char *const *roles, size_t n, const char *role)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(roles[i], role) == 0)
			return true;
	return false;
}

void
user_patch_handle(struct http_req *r, const char *target_id,
    const char *actor, bool admin)
{
	struct caller *c = caller_of(r);
	const struct cfg *cfg = c->front->cfg;
	struct mail_link link;
	struct json_in_value v[M_COUNT];
	struct problem_fields pf;
	struct users_patch p;
	const char *roles[PROTO_ROLES_MAX];
	size_t	 nroles = 0, nmembers = admin ? M_COUNT : M_ROLES;
	char	 msg[VALIDATE_MSG_MAX];
	cJSON	*o;

	if (body_json(r, c->front->cfg->json_max_depth, &o) == -1)
		return;
	memset(v, 0, sizeof(v));
	problem_fields_init(&pf);
	if (json_in_extract(o, patch_members, nmembers, v, &pf) > 0) {
		cJSON_Delete(o);
		problem_reply_validation(r, &pf);
		return;
	}
	if (v[M_EMAIL].present && !validate_email(v[M_EMAIL].str, msg))
		problem_field_add(&pf, "email", msg);
	if (v[M_FULL_NAME].present && !v[M_FULL_NAME].is_null &&
	    !validate_full_name(v[M_FULL_NAME].str, msg))
		problem_field_add(&pf, "full_name", msg);
	if (v[M_ROLES].present)
		(void)roles_collect(&pf, v[M_ROLES].array, roles, &nroles);
	if (problem_fields_count(&pf) > 0) {
		cJSON_Delete(o);
		problem_reply_validation(r, &pf);
		return;
	}
	problem_fields_free(&pf);
	if (!admin && v[M_EMAIL].present && email_change_blocked(r, actor)) {
		cJSON_Delete(o);
		return;
	}
	if (admin && strcmp(target_id, actor) == 0 &&
	    ((v[M_IS_ACTIVE].present && !v[M_IS_ACTIVE].b) ||
	    (v[M_ROLES].present && !roles_have(roles, nroles, "admin")))) {
		cJSON_Delete(o);
		problem_reply(r, PROBLEM_CONFLICT, "an admin cannot disable or "
		    "demote itself; another admin can");
		return;
	}

	memset(&p, 0, sizeof(p));
	p.id = target_id;
	p.set_email = v[M_EMAIL].present;
	p.email = v[M_EMAIL].str;
	p.set_full_name = v[M_FULL_NAME].present;
	p.full_name = v[M_FULL_NAME].is_null ? NULL : v[M_FULL_NAME].str;
	p.set_roles = v[M_ROLES].present;
	p.roles = roles;
	p.nroles = nroles;
	p.set_active = v[M_IS_ACTIVE].present;
	p.active = v[M_IS_ACTIVE].b;
	p.remote = r->remote;
	p.actor = actor;
	/* A new address is unverified: it gets a link, the old one a
	 * notice (the store decides whether the address changed). */
	memset(&link, 0, sizeof(link));
	if (p.set_email && mail_link_verifies(cfg)) {
		if (mail_link_make(&link, cfg, LINKS_VERIFY_EMAIL,
		    cfg->email_verification_ttl) == -1) {
			cJSON_Delete(o);
			problem_reply(r, PROBLEM_INTERNAL, NULL);
			return;
		}
		p.verify = &link.mail;
	}
	p.notify_old = p.set_email && mail_link_mail_on(cfg);
	p.account_url = cfg->public_url;
	/* The store copies the parameters: the tree may go now. */
	if (users_patch(c->front->db, &p, patched, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	mail_link_wipe(&link);
	cJSON_Delete(o);
}
