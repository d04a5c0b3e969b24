/*
 * daemon/store/clients.c, codes.c and consents.c against a real
 * PostgreSQL (DATABASE_URL), through the daemon's pool, without HTTP: a
 * client is found with its URIs and checks its secret; a code is spent
 * once, a replay revokes what the first exchange issued, an expired one
 * is unknown; removing a client takes its codes and consents along; a
 * consent grows as a union.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "dbtest.h"
#include "log.h"
#include "oidc_client.h"
#include "secret_token.h"
#include "store/clients.h"
#include "store/codes.h"
#include "store/consents.h"
#include "store/users.h"
#include "util.h"

#define WAIT_MS		10000
#define REMOTE		"192.0.2.9"
#define HEX64(c)	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
			c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define H_A		"\\x" HEX64("a")
#define H_B		"\\x" HEX64("b")
#define H_C		"\\x" HEX64("c")
#define CHALLENGE	"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define CB_URI		"https://app.example.test/cb"

static struct dbt_store s;

static struct got {
	int			 calls;
	enum store_status	 st;
	struct oauth_client	*client;
	struct oauth_code	 code;
	bool			 covered;
	struct user		 u;
} got;

static void
done_cb(enum store_status st, void *arg)
{
	got.calls++;
	got.st = st;
}

static void
client_cb(enum store_status st, struct oauth_client *c, void *arg)
{
	got.calls++;
	got.st = st;
	free(got.client);
	got.client = c;
}

static void
code_cb(enum store_status st, const struct oauth_code *c, void *arg)
{
	got.calls++;
	got.st = st;
	memset(&got.code, 0, sizeof(got.code));
	if (c != NULL)
		got.code = *c;
}

static void
consent_cb(enum store_status st, bool covered, void *arg)
{
	got.calls++;
	got.st = st;
	got.covered = covered;
}

static void
created_cb(enum store_status st, const struct user *u, enum users_taken t,
    void *arg)
{
	got.calls++;
	got.st = st;
	if (u != NULL)
		got.u = *u;
}

static enum store_status
answer(int rc)
{
	assert_int_equal(rc, 0);
	assert_true(dbt_wait(&s, &got.calls, 1, WAIT_MS));
	assert_int_equal(got.calls, 1);
	got.calls = 0;
	return got.st;
}

static void
sql(const char *q)
{
	assert_int_equal(dbt_exec(s.ctl, q), PGRES_COMMAND_OK);
}

static void
sqlp(const char *q, int n, const char *const *p)
{
	PGresult *r = PQexecParams(s.ctl, q, n, NULL, p, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQerrorMessage(s.ctl));
	PQclear(r);
}

static void
make_user(const char *name, struct user *u)
{
	char	 id[PROTO_UUID_LEN + 1], email[64];
	struct users_new n = { id, name, email, NULL, "hash-x", REMOTE, NULL };

	uuid_random(id);
	snprintf(email, sizeof(email), "%s@example.test", name);
	assert_int_equal(answer(users_create(s.pool, &n, created_cb, NULL)),
	    STORE_OK);
	*u = got.u;
}

/* Registers a client as wardenctl does; its secret into secret (NULL:
 * public). */
static void
make_client(char id[OIDC_CLIENT_ID_MIN + 1],
    char secret[SECRET_TOKEN_LEN + 1])
{
	char	 hash[SECRET_TOKEN_HASH_LITERAL];

	oidc_client_id_new(id);
	if (secret != NULL)
		assert_int_equal(secret_token_new(secret, hash), 0);
	const char *p[] = { id, secret != NULL ? hash : NULL,
	    secret != NULL ? "f" : "t" };
	sqlp("INSERT INTO oauth_clients (client_id, name, secret_hash, public,"
	    " redirect_uris, post_logout_redirect_uris, scopes,"
	    " id_token_signed_response_alg) VALUES ($1, 'Tést app',"
	    " $2::bytea, $3::boolean, '{" CB_URI ",http://127.0.0.1:8080/cb}',"
	    " '{https://app.example.test/bye}',"
	    " '{openid,email,offline_access}', 'EdDSA')", 3, p);
}

static enum store_status
issue(const char *client, const struct user *u, const char *hash)
{
	struct codes_new n = { hash, client, u->id, u->token_version, CB_URI,
	    OIDC_SCOPE_OPENID | OIDC_SCOPE_OFFLINE_ACCESS, "n-0S6_WzA2Mj",
	    CHALLENGE, 1700000000, true, NULL, REMOTE };

	return answer(codes_insert(s.pool, &n, done_cb, NULL));
}

static enum store_status
redeem(const char *client, const char *hash)
{
	return answer(codes_redeem(s.pool, hash, client, REMOTE, code_cb,
	    NULL));
}

static int
setup(void **state)
{
	memset(&got, 0, sizeof(got));
	return dbt_store_clean(&s) && dbt_exec(s.ctl, "TRUNCATE oauth_clients"
	    " CASCADE") == PGRES_COMMAND_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	free(got.client);
	got.client = NULL;
	return 0;
}

static int
group_setup(void **state)
{
	return dbt_store_open(&s, "test_store_clients", 2) ? 0 : -1;
}

static int
group_teardown(void **state)
{
	dbt_store_close(&s);
	return 0;
}

static void
test_a_client_is_found_with_its_uris_and_checks_its_secret(void **state)
{
	char	 id[OIDC_CLIENT_ID_MIN + 1], secret[SECRET_TOKEN_LEN + 1];
	const struct oauth_client *c;

	make_client(id, secret);
	assert_int_equal(answer(clients_find(s.pool, id, client_cb, NULL)),
	    STORE_OK);
	c = got.client;
	assert_non_null(c);
	assert_string_equal(c->client_id, id);
	assert_string_equal(c->name, "Tést app");
	assert_false(c->is_public);
	assert_false(c->skip_consent);
	assert_string_equal(c->id_token_alg, "EdDSA");
	assert_int_equal(c->scopes, OIDC_SCOPE_OPENID | OIDC_SCOPE_EMAIL |
	    OIDC_SCOPE_OFFLINE_ACCESS);
	assert_int_equal(c->n_redirect, 2);
	assert_string_equal(c->redirect_uris[1], "http://127.0.0.1:8080/cb");
	assert_int_equal(c->n_post_logout, 1);
	assert_int_equal(strlen(c->created_at), 20);
	assert_string_equal(c->secret_rotated_at, "");

	assert_true(oauth_client_redirect_ok(c, CB_URI));
	assert_false(oauth_client_redirect_ok(c, CB_URI "/"));
	assert_false(oauth_client_redirect_ok(c, "https://APP.example.test/cb"));
	assert_true(oauth_client_post_logout_ok(c,
	    "https://app.example.test/bye"));
	assert_false(oauth_client_post_logout_ok(c, CB_URI));

	assert_true(oauth_client_secret_ok(c, secret, strlen(secret)));
	secret[5] ^= 1;
	assert_false(oauth_client_secret_ok(c, secret, strlen(secret)));
	assert_false(oauth_client_secret_ok(c, secret, strlen(secret) - 1));
	assert_false(oauth_client_secret_ok(c, "", 0));

	assert_int_equal(answer(clients_find(s.pool, "AAAAAAAAAAAAAAAAAAAAAA",
	    client_cb, NULL)), STORE_NOT_FOUND);
	assert_null(got.client);
}

static void
test_a_public_client_has_no_secret_to_match(void **state)
{
	char	 id[OIDC_CLIENT_ID_MIN + 1];

	make_client(id, NULL);
	assert_int_equal(answer(clients_find(s.pool, id, client_cb, NULL)),
	    STORE_OK);
	assert_true(got.client->is_public);
	assert_string_equal(got.client->secret_hash, "");
	assert_false(oauth_client_secret_ok(got.client, "", 0));
}

static void
test_a_code_is_spent_once(void **state)
{
	char		 id[OIDC_CLIENT_ID_MIN + 1], other[OIDC_CLIENT_ID_MIN + 1];
	struct user	 u;

	make_client(id, NULL);
	make_client(other, NULL);
	make_user("alice", &u);
	assert_int_equal(issue(id, &u, H_A), STORE_OK);
	assert_int_equal(issue(id, &u, H_A), STORE_CONFLICT);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM audit_events"
	    " WHERE event = 'code_issued'", 0, NULL), 1);
	/* Another client cannot spend it, nor burn it. */
	assert_int_equal(redeem(other, H_A), STORE_NOT_FOUND);
	assert_int_equal(redeem(id, H_A), STORE_OK);
	assert_false(got.code.reused);
	assert_string_equal(got.code.client_id, id);
	assert_string_equal(got.code.redirect_uri, CB_URI);
	assert_int_equal(got.code.scopes, OIDC_SCOPE_OPENID |
	    OIDC_SCOPE_OFFLINE_ACCESS);
	assert_true(got.code.has_nonce);
	assert_string_equal(got.code.nonce, "n-0S6_WzA2Mj");
	assert_string_equal(got.code.code_challenge, CHALLENGE);
	assert_int_equal(got.code.auth_time, 1700000000);
	assert_true(got.code.second_factor);
	assert_string_equal(got.code.session_id, "");
	assert_string_equal(got.code.user.id, u.id);
	assert_string_equal(got.code.user.username, "alice");
	assert_int_equal(redeem(id, H_B), STORE_NOT_FOUND);
}

static void
test_a_replay_revokes_what_the_first_exchange_issued(void **state)
{
	char		 id[OIDC_CLIENT_ID_MIN + 1], fam[PROTO_UUID_LEN + 1];
	char		 jti[PROTO_UUID_LEN + 1], q[512];
	struct user	 u;

	make_client(id, NULL);
	make_user("bob", &u);
	uuid_random(fam);
	uuid_random(jti);
	assert_int_equal(issue(id, &u, H_A), STORE_OK);
	assert_int_equal(redeem(id, H_A), STORE_OK);
	snprintf(q, sizeof(q), "INSERT INTO refresh_tokens (user_id, family,"
	    " token_hash, expires_at) VALUES ('%s', '%s', '" H_C "',"
	    " now() + interval '1 day')", u.id, fam);
	sql(q);
	assert_int_equal(answer(codes_issued(s.pool, H_A, fam, jti, done_cb,
	    NULL)), STORE_OK);
	/* Nothing recorded for a code never spent. */
	assert_int_equal(issue(id, &u, H_B), STORE_OK);
	assert_int_equal(answer(codes_issued(s.pool, H_B, fam, jti, done_cb,
	    NULL)), STORE_NOT_FOUND);

	assert_int_equal(redeem(id, H_A), STORE_OK);
	assert_true(got.code.reused);
	assert_string_equal(got.code.refresh_family, fam);
	assert_string_equal(got.code.access_jti, jti);
	assert_int_equal(got.code.revoked, 1);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM refresh_tokens"
	    " WHERE revoked_at IS NOT NULL", 0, NULL), 1);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM audit_events"
	    " WHERE event = 'code_reused' AND detail->>'revoked' = '1'", 0,
	    NULL), 1);
	/* A replay long after the expiry still revokes, within the hour. */
	sql("UPDATE oauth_codes SET created_at = now() - interval '10 minutes',"
	    " expires_at = now() - interval '9 minutes'");
	assert_int_equal(redeem(id, H_A), STORE_OK);
	assert_true(got.code.reused);
	assert_int_equal(got.code.revoked, 0);
}

static void
test_a_replay_before_the_record_makes_the_record_revoke(void **state)
{
	char		 id[OIDC_CLIENT_ID_MIN + 1], fam[PROTO_UUID_LEN + 1];
	char		 jti[PROTO_UUID_LEN + 1], q[512];
	struct user	 u;

	make_client(id, NULL);
	make_user("carol", &u);
	uuid_random(fam);
	uuid_random(jti);
	assert_int_equal(issue(id, &u, H_A), STORE_OK);
	assert_int_equal(redeem(id, H_A), STORE_OK);
	assert_int_equal(redeem(id, H_A), STORE_OK);
	assert_true(got.code.reused);
	assert_string_equal(got.code.refresh_family, "");
	snprintf(q, sizeof(q), "INSERT INTO refresh_tokens (user_id, family,"
	    " token_hash, expires_at) VALUES ('%s', '%s', '" H_C "',"
	    " now() + interval '1 day')", u.id, fam);
	sql(q);
	assert_int_equal(answer(codes_issued(s.pool, H_A, fam, jti, done_cb,
	    NULL)), STORE_REFUSED);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM refresh_tokens"
	    " WHERE revoked_at IS NULL", 0, NULL), 0);
}

static void
test_an_expired_code_or_a_changed_user_is_unknown(void **state)
{
	char		 id[OIDC_CLIENT_ID_MIN + 1];
	struct user	 u;

	make_client(id, NULL);
	make_user("dave", &u);
	assert_int_equal(issue(id, &u, H_A), STORE_OK);
	assert_int_equal(dbt_count(s.ctl, "SELECT extract(epoch FROM"
	    " expires_at - created_at)::int FROM oauth_codes", 0, NULL),
	    OIDC_CODE_TTL);
	sql("UPDATE oauth_codes SET created_at = now() - interval '2 minutes',"
	    " expires_at = now() - interval '1 minute'");
	assert_int_equal(redeem(id, H_A), STORE_NOT_FOUND);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM oauth_codes"
	    " WHERE used_at IS NULL", 0, NULL), 1);

	assert_int_equal(issue(id, &u, H_B), STORE_OK);
	sql("UPDATE users SET token_version = token_version + 1");
	assert_int_equal(redeem(id, H_B), STORE_NOT_FOUND);
	/* Nor is a code issued for the old version. */
	assert_int_equal(issue(id, &u, H_C), STORE_NOT_FOUND);
	/* Nor for a client that does not exist. */
	u.token_version++;
	assert_int_equal(issue("AAAAAAAAAAAAAAAAAAAAAA", &u, H_C),
	    STORE_NOT_FOUND);
}

static void
test_old_codes_are_pruned_by_new_ones(void **state)
{
	char		 id[OIDC_CLIENT_ID_MIN + 1];
	struct user	 u;

	make_client(id, NULL);
	make_user("erin", &u);
	assert_int_equal(issue(id, &u, H_A), STORE_OK);
	sql("UPDATE oauth_codes SET created_at = now() - interval '2 hours',"
	    " expires_at = now() - interval '2 hours' + interval '1 minute'");
	assert_int_equal(issue(id, &u, H_B), STORE_OK);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM oauth_codes",
	    0, NULL), 1);
}

static void
test_removing_a_client_takes_its_codes_and_consents(void **state)
{
	char		 id[OIDC_CLIENT_ID_MIN + 1], keep[OIDC_CLIENT_ID_MIN + 1];
	struct user	 u;

	make_client(id, NULL);
	make_client(keep, NULL);
	make_user("frank", &u);
	assert_int_equal(issue(id, &u, H_A), STORE_OK);
	assert_int_equal(issue(keep, &u, H_B), STORE_OK);
	assert_int_equal(answer(consents_grant(s.pool, u.id, id,
	    OIDC_SCOPE_OPENID, REMOTE, done_cb, NULL)), STORE_OK);
	assert_int_equal(answer(consents_grant(s.pool, u.id, keep,
	    OIDC_SCOPE_OPENID, REMOTE, done_cb, NULL)), STORE_OK);
	const char *p[] = { id };
	sqlp("DELETE FROM oauth_clients WHERE client_id = $1", 1, p);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM oauth_codes",
	    0, NULL), 1);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM"
	    " oauth_consents", 0, NULL), 1);
	assert_int_equal(redeem(id, H_A), STORE_NOT_FOUND);
	assert_int_equal(answer(consents_grant(s.pool, u.id, id,
	    OIDC_SCOPE_OPENID, REMOTE, done_cb, NULL)), STORE_NOT_FOUND);
	/* And a deleted user takes its own. */
	sql("DELETE FROM users");
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM oauth_codes",
	    0, NULL), 0);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM"
	    " oauth_consents", 0, NULL), 0);
}

static void
test_a_consent_grows_as_a_union(void **state)
{
	char		 id[OIDC_CLIENT_ID_MIN + 1];
	struct user	 u;

	make_client(id, NULL);
	make_user("gina", &u);
	assert_int_equal(answer(consents_check(s.pool, u.id, id,
	    OIDC_SCOPE_OPENID, consent_cb, NULL)), STORE_OK);
	assert_false(got.covered);
	assert_int_equal(answer(consents_grant(s.pool, u.id, id,
	    OIDC_SCOPE_OPENID | OIDC_SCOPE_EMAIL, REMOTE, done_cb, NULL)),
	    STORE_OK);
	assert_int_equal(answer(consents_grant(s.pool, u.id, id,
	    OIDC_SCOPE_OPENID | OIDC_SCOPE_PROFILE, REMOTE, done_cb, NULL)),
	    STORE_OK);
	assert_int_equal(answer(consents_check(s.pool, u.id, id,
	    OIDC_SCOPE_OPENID | OIDC_SCOPE_EMAIL | OIDC_SCOPE_PROFILE,
	    consent_cb, NULL)), STORE_OK);
	assert_true(got.covered);
	assert_int_equal(answer(consents_check(s.pool, u.id, id,
	    OIDC_SCOPE_OPENID | OIDC_SCOPE_ROLES, consent_cb, NULL)),
	    STORE_OK);
	assert_false(got.covered);
	assert_int_equal(dbt_count(s.ctl, "SELECT cardinality(scopes) FROM"
	    " oauth_consents", 0, NULL), 3);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM audit_events"
	    " WHERE event = 'consent_granted'", 0, NULL), 2);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_a_client_is_found_with_its_uris_and_checks_its_secret),
		T(test_a_public_client_has_no_secret_to_match),
		T(test_a_code_is_spent_once),
		T(test_a_replay_revokes_what_the_first_exchange_issued),
		T(test_a_replay_before_the_record_makes_the_record_revoke),
		T(test_an_expired_code_or_a_changed_user_is_unknown),
		T(test_old_codes_are_pruned_by_new_ones),
		T(test_removing_a_client_takes_its_codes_and_consents),
		T(test_a_consent_grows_as_a_union),
	};
#undef T

	dbt_require_url("test_store_clients");
	if (sodium_init() < 0)
		return 1;
	log_init("test_store_clients", LOG_ERROR, false);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
