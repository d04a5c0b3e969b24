#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "body.h"
#include "config.h"
#include "store/db.h"
#include "fields.h"
#include "front.h"
#include "http/http.h"
#include "http/json_in.h"
#include "log.h"
#include "problem_reply.h"
#include "reply.h"
#include "user_patch.h"
#include "util.h"
#include "validate.h"

/* A PostgreSQL array literal of roles: each quoted, so that a role named
 * "null" stays a string.  Role names hold no quote or backslash. */
#define ROLES_LITERAL_MAX	(2 + PROTO_ROLES_MAX * (PROTO_ROLE_MAX + 3))

static const struct json_in_member patch_members[] = {
	{ "email", JSON_IN_STRING, FIELD_EMAIL_MAX * 4, 0, false, false },
	{ "full_name", JSON_IN_STRING, FIELD_FULL_NAME_MAX * 4, 0, false, true },
	{ "roles", JSON_IN_STRING_ARRAY, PROTO_ROLE_MAX * 4, PROTO_ROLES_MAX,
	    false, false },
	{ "is_active", JSON_IN_BOOL, 0, 0, false, false },
};
enum { M_EMAIL, M_FULL_NAME, M_ROLES, M_IS_ACTIVE, M_COUNT };

/*
 * $1 id, $2/$3 email, $4/$5 full_name, $6/$7 roles, $8/$9 is_active (each
 * "given" flag and value), $10 remote address, $11 actor.
 */
static const char patch_sql[] =
    "WITH old AS (SELECT id, roles, is_active FROM users"
    "  WHERE id = $1 FOR UPDATE),"
    " u AS (UPDATE users SET"
    "  email = CASE WHEN $2::bool THEN $3 ELSE email END,"
    "  full_name = CASE WHEN $4::bool THEN $5 ELSE full_name END,"
    "  roles = CASE WHEN $6::bool THEN $7::text[] ELSE users.roles END,"
    "  is_active = CASE WHEN $8::bool THEN $9::bool ELSE users.is_active END,"
    "  token_version = token_version + CASE WHEN"
    "   ($6::bool AND $7::text[] IS DISTINCT FROM users.roles) OR"
    "   ($8::bool AND NOT $9::bool AND users.is_active) THEN 1 ELSE 0 END,"
    "  updated_at = now()"
    "  FROM old WHERE users.id = old.id"
    "  RETURNING users.*, old.roles AS old_roles,"
    "  old.is_active AS was_active),"
    " rv AS (UPDATE refresh_tokens SET revoked_at = now()"
    "  WHERE user_id IN (SELECT id FROM u WHERE was_active AND NOT is_active)"
    "  AND revoked_at IS NULL),"
    " ev AS (SELECT id, 'updated' AS event, NULL::jsonb AS detail FROM u"
    "   WHERE $2::bool OR $4::bool"
    "  UNION ALL SELECT id, 'roles_changed', jsonb_build_object("
    "   'from', old_roles, 'to', roles) FROM u"
    "   WHERE roles IS DISTINCT FROM old_roles"
    "  UNION ALL SELECT id, 'disabled', NULL FROM u"
    "   WHERE was_active AND NOT is_active"
    "  UNION ALL SELECT id, 'enabled', NULL FROM u"
    "   WHERE is_active AND NOT was_active),"
    " a AS (INSERT INTO audit_events (user_id, event, remote_addr, detail)"
    "  SELECT id, event, $10, coalesce(detail, '{}'::jsonb) ||"
    "  jsonb_build_object('by', $11::text) FROM ev)"
    " SELECT " USER_COLUMNS " FROM u";

static void
patched(const PGresult *res, void *arg)
{
	struct http_req *r = arg;
	struct user u;
	const char *state;

	if (!reply_db_ok(res)) {
		state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) :
		    NULL;
		if (state != NULL && strcmp(state, "23505") == 0)
			problem_reply(r, PROBLEM_CONFLICT,
			    "the e-mail address is already registered");
		else
			reply_db_failed(r, res, "user update");
		return;
	}
	if (PQntuples(res) == 0) {
		problem_reply(r, PROBLEM_NOT_FOUND, "no such user");
		return;
	}
	if (user_from_row(res, 0, 0, &u) == -1) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	http_no_store(r, false);
	http_reply_json(r, 200, user_to_json(&u));
}

/* Collects and checks the roles array; writes its array literal. */
static bool
roles_literal(struct problem_fields *pf, const cJSON *array, char *out,
    size_t outlen)
{
	const char *roles[PROTO_ROLES_MAX];
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
	str_copy(out, "{", outlen);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strlcat(out, ",", outlen);
		strlcat(out, "\"", outlen);
		strlcat(out, roles[i], outlen);
		strlcat(out, "\"", outlen);
	}
	strlcat(out, "}", outlen);
	return true;
}

void
user_patch_handle(struct http_req *r, const char *target_id,
    const char *actor, bool admin)
{
	struct caller *c = caller_of(r);
	struct json_in_value v[M_COUNT];
	struct problem_fields pf;
	char	 roles[ROLES_LITERAL_MAX] = "{}";
	size_t	 nmembers = admin ? M_COUNT : M_ROLES;
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
		(void)roles_literal(&pf, v[M_ROLES].array, roles,
		    sizeof(roles));
	if (problem_fields_count(&pf) > 0) {
		cJSON_Delete(o);
		problem_reply_validation(r, &pf);
		return;
	}
	problem_fields_free(&pf);

	const char *params[] = {
		target_id,
		v[M_EMAIL].present ? "t" : "f",
		v[M_EMAIL].present ? v[M_EMAIL].str : NULL,
		v[M_FULL_NAME].present ? "t" : "f",
		v[M_FULL_NAME].present && !v[M_FULL_NAME].is_null ?
		    v[M_FULL_NAME].str : NULL,
		v[M_ROLES].present ? "t" : "f",
		roles,
		v[M_IS_ACTIVE].present ? "t" : "f",
		v[M_IS_ACTIVE].b ? "t" : "f",
		r->remote,
		actor,
	};
	/* db_query copies the parameters: the tree may go now. */
	if (db_query(c->front->db, patch_sql, 11, params, patched, r) == NULL)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	cJSON_Delete(o);
}
