/*
 * daemon/store/tokens.c against a real PostgreSQL (DATABASE_URL), through
 * the daemon's pool, without HTTP: a login starts a family only over the
 * hash it verified, a rotation spends its token exactly once, and
 * revocation takes whole families: a family with any revoked member is
 * revoked, whatever the state of the member presented.
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

#include "dbtest.h"
#include "log.h"
#include "store/tokens.h"
#include "store/users.h"
#include "util.h"

#define WAIT_MS		10000
#define REMOTE		"192.0.2.7"
#define TTL		3600
#define GRACE		3600
#define HASH_LEN	(2 + 64 + 1)	/* "\x" and 64 hex digits */

static struct dbt_store s;

static struct got {
	int		 calls;
	enum store_status st;
	bool		 have;
	struct tokens_presented t;
} got;

/* Answers of calls made together, in the order they came. */
static struct {
	int		 calls;
	enum store_status st[8];
} many;

static void
done_cb(enum store_status st, void *arg)
{
	got.calls++;
	got.st = st;
}

static void
many_cb(enum store_status st, void *arg)
{
	many.st[many.calls++] = st;
}

static void
found_cb(enum store_status st, const struct tokens_presented *t, void *arg)
{
	got.calls++;
	got.st = st;
	if ((got.have = t != NULL))
		got.t = *t;
}

static void
created_cb(enum store_status st, const struct user *u, enum users_taken taken,
    void *arg)
{
	got.calls++;
	got.st = st;
}

static void
reset(void)
{
	memset(&got, 0, sizeof(got));
	memset(&many, 0, sizeof(many));
}

static enum store_status
answer(int rc)
{
	assert_int_equal(rc, 0);
	assert_true(dbt_wait(&s, &got.calls, 1, WAIT_MS));
	assert_int_equal(got.calls, 1);
	return got.st;
}

/* A token hash literal, distinct for each n. */
static void
hash_of(unsigned int n, char out[HASH_LEN])
{
	snprintf(out, HASH_LEN, "\\x%064x", n);
}

/* Registers name with the stored hash "hash-NAME"; its id into id. */
static void
make_user(const char *name, char id[PROTO_UUID_LEN + 1])
{
	char	 email[64], stored[64];
	struct users_new n = { id, name, email, NULL, stored, REMOTE, NULL };

	uuid_random(id);
	snprintf(email, sizeof(email), "%s@example.test", name);
	snprintf(stored, sizeof(stored), "hash-%s", name);
	reset();
	assert_int_equal(answer(users_create(s.pool, &n, created_cb, NULL)),
	    STORE_OK);
	reset();
}

/* A login of user id (stored "hash-NAME") that starts family with the
 * token (token_id, hash n); returns the status. */
static enum store_status
login(const char *id, const char *name, char family[PROTO_UUID_LEN + 1],
    char token_id[PROTO_UUID_LEN + 1], unsigned int n, const char *rehash)
{
	char	 stored[64], hash[HASH_LEN];
	struct tokens_login l = { id, stored, rehash, token_id, family, hash,
	    TTL, REMOTE };

	snprintf(stored, sizeof(stored), "hash-%s", name);
	uuid_random(family);
	uuid_random(token_id);
	hash_of(n, hash);
	reset();
	return answer(tokens_issue(s.pool, &l, done_cb, NULL));
}

static enum store_status
find(unsigned int n, int64_t grace)
{
	char	 hash[HASH_LEN];

	hash_of(n, hash);
	reset();
	return answer(tokens_find(s.pool, hash, grace, found_cb, NULL));
}

/* Rotates token old_id into new_id with hash n. */
static enum store_status
rotate(const char *old_id, char new_id[PROTO_UUID_LEN + 1], unsigned int n)
{
	char	 hash[HASH_LEN];

	uuid_random(new_id);
	hash_of(n, hash);
	reset();
	return answer(tokens_rotate(s.pool, old_id, new_id, hash, TTL, done_cb,
	    NULL));
}

static long
count(const char *sql, const char *arg)
{
	const char *p[] = { arg };

	return dbt_count(s.ctl, sql, arg != NULL ? 1 : 0, p);
}

static int
setup(void **state)
{
	reset();
	return dbt_store_clean(&s) ? 0 : -1;
}

static int
group_setup(void **state)
{
	return dbt_store_open(&s, "test_store_tokens", 2) ? 0 : -1;
}

static int
group_teardown(void **state)
{
	dbt_store_close(&s);
	return 0;
}

/* --- issue ----------------------------------------------------------- */

static void
test_login_starts_a_family_and_clears_the_failures(void **state)
{
	char	 id[PROTO_UUID_LEN + 1], fam[PROTO_UUID_LEN + 1];
	char	 tok[PROTO_UUID_LEN + 1];

	make_user("alice", id);
	assert_int_equal(dbt_exec(s.ctl, "UPDATE users SET failed_logins = 2, "
	    "locked_until = now() - interval '1 second'"), PGRES_COMMAND_OK);
	assert_int_equal(login(id, "alice", fam, tok, 1, NULL), STORE_OK);
	assert_int_equal(count("SELECT count(*) FROM refresh_tokens WHERE "
	    "family = $1 AND revoked_at IS NULL AND used_at IS NULL", fam), 1);
	assert_int_equal(count("SELECT failed_logins FROM users WHERE id = $1",
	    id), 0);
	assert_int_equal(count("SELECT count(*) FROM users WHERE id = $1 AND "
	    "locked_until IS NULL", id), 1);
	assert_int_equal(count("SELECT count(*) FROM audit_events WHERE "
	    "user_id = $1 AND event = 'login_ok' AND "
	    "detail->>'rehashed' = 'false'", id), 1);
	assert_int_equal(find(1, GRACE), STORE_OK);
	assert_string_equal(got.t.id, tok);
	assert_string_equal(got.t.family, fam);
	assert_string_equal(got.t.user.id, id);
	assert_false(got.t.used || got.t.revoked || got.t.expired);
}

static void
test_login_writes_the_rehash_back(void **state)
{
	char	 id[PROTO_UUID_LEN + 1], fam[PROTO_UUID_LEN + 1];
	char	 tok[PROTO_UUID_LEN + 1];

	make_user("bob", id);
	assert_int_equal(login(id, "bob", fam, tok, 2, "hash-rehashed"),
	    STORE_OK);
	assert_int_equal(count("SELECT count(*) FROM users WHERE id = $1 AND "
	    "password_hash = 'hash-rehashed'", id), 1);
	assert_int_equal(count("SELECT count(*) FROM audit_events WHERE "
	    "user_id = $1 AND detail->>'rehashed' = 'true'", id), 1);
}

static void
test_login_over_a_changed_hash_issues_nothing(void **state)
{
	char	 id[PROTO_UUID_LEN + 1], fam[PROTO_UUID_LEN + 1];
	char	 tok[PROTO_UUID_LEN + 1];

	make_user("carol", id);
	assert_int_equal(dbt_exec(s.ctl, "UPDATE users SET password_hash = "
	    "'hash-changed'"), PGRES_COMMAND_OK);
	assert_int_equal(login(id, "carol", fam, tok, 3, NULL),
	    STORE_NOT_FOUND);
	assert_int_equal(count("SELECT count(*) FROM refresh_tokens", NULL),
	    0);
	assert_int_equal(count("SELECT count(*) FROM audit_events WHERE "
	    "event = 'login_ok'", NULL), 0);
}

static void
test_login_of_a_disabled_user_issues_nothing(void **state)
{
	char	 id[PROTO_UUID_LEN + 1], fam[PROTO_UUID_LEN + 1];
	char	 tok[PROTO_UUID_LEN + 1];

	make_user("dave", id);
	assert_int_equal(dbt_exec(s.ctl, "UPDATE users SET is_active = false"),
	    PGRES_COMMAND_OK);
	assert_int_equal(login(id, "dave", fam, tok, 4, NULL),
	    STORE_NOT_FOUND);
	assert_int_equal(count("SELECT count(*) FROM refresh_tokens", NULL),
	    0);
}

/* --- find and rotate ------------------------------------------------- */

static void
test_an_unknown_hash_is_not_found(void **state)
{
	assert_int_equal(find(99, GRACE), STORE_NOT_FOUND);
	assert_false(got.have);
}

static void
test_rotation_spends_the_token_and_issues_the_next_of_its_family(void **state)
{
	char	 id[PROTO_UUID_LEN + 1], fam[PROTO_UUID_LEN + 1];
	char	 tok[PROTO_UUID_LEN + 1], next[PROTO_UUID_LEN + 1];

	make_user("erin", id);
	assert_int_equal(login(id, "erin", fam, tok, 10, NULL), STORE_OK);
	assert_int_equal(rotate(tok, next, 11), STORE_OK);
	assert_int_equal(find(10, GRACE), STORE_OK);
	assert_true(got.t.used);
	assert_true(got.t.in_grace);
	assert_false(got.t.revoked);
	assert_int_equal(find(11, GRACE), STORE_OK);
	assert_string_equal(got.t.id, next);
	assert_string_equal(got.t.family, fam);
	assert_false(got.t.used);
	assert_int_equal(count("SELECT count(*) FROM refresh_tokens WHERE "
	    "replaced_by = $1", next), 1);
}

static void
test_a_spent_token_cannot_be_rotated_again(void **state)
{
	char	 id[PROTO_UUID_LEN + 1], fam[PROTO_UUID_LEN + 1];
	char	 tok[PROTO_UUID_LEN + 1], next[PROTO_UUID_LEN + 1];

	make_user("frank", id);
	assert_int_equal(login(id, "frank", fam, tok, 20, NULL), STORE_OK);
	assert_int_equal(rotate(tok, next, 21), STORE_OK);
	assert_int_equal(rotate(tok, next, 22), STORE_NOT_FOUND);
	assert_int_equal(find(22, GRACE), STORE_NOT_FOUND);
}

static void
test_of_concurrent_rotations_of_one_token_exactly_one_wins(void **state)
{
	char	 id[PROTO_UUID_LEN + 1], fam[PROTO_UUID_LEN + 1];
	char	 tok[PROTO_UUID_LEN + 1], next[4][PROTO_UUID_LEN + 1];
	char	 hash[HASH_LEN];
	int	 ok = 0, lost = 0;

	make_user("gina", id);
	assert_int_equal(login(id, "gina", fam, tok, 30, NULL), STORE_OK);
	reset();
	/* Sent together on a pool of two connections. */
	for (unsigned int i = 0; i < 4; i++) {
		uuid_random(next[i]);
		hash_of(31 + i, hash);
		assert_int_equal(tokens_rotate(s.pool, tok, next[i], hash, TTL,
		    many_cb, NULL), 0);
	}
	assert_true(dbt_wait(&s, &many.calls, 4, WAIT_MS));
	for (int i = 0; i < 4; i++) {
		if (many.st[i] == STORE_OK)
			ok++;
		else if (many.st[i] == STORE_NOT_FOUND)
			lost++;
	}
	assert_int_equal(ok, 1);
	assert_int_equal(lost, 3);
	assert_int_equal(count("SELECT count(*) FROM refresh_tokens WHERE "
	    "family = $1", fam), 2);
}

static void
test_a_spend_older_than_the_grace_window_is_not_in_grace(void **state)
{
	char	 id[PROTO_UUID_LEN + 1], fam[PROTO_UUID_LEN + 1];
	char	 tok[PROTO_UUID_LEN + 1], next[PROTO_UUID_LEN + 1];

	make_user("hank", id);
	assert_int_equal(login(id, "hank", fam, tok, 40, NULL), STORE_OK);
	assert_int_equal(rotate(tok, next, 41), STORE_OK);
	assert_int_equal(dbt_exec(s.ctl, "UPDATE refresh_tokens SET used_at = "
	    "now() - interval '1 minute' WHERE used_at IS NOT NULL"),
	    PGRES_COMMAND_OK);
	assert_int_equal(find(40, 30), STORE_OK);
	assert_true(got.t.used);
	assert_false(got.t.in_grace);
	assert_int_equal(find(40, 120), STORE_OK);
	assert_true(got.t.in_grace);
}

static void
test_an_expired_token_is_expired_and_cannot_be_rotated(void **state)
{
	char	 id[PROTO_UUID_LEN + 1], fam[PROTO_UUID_LEN + 1];
	char	 tok[PROTO_UUID_LEN + 1], next[PROTO_UUID_LEN + 1];

	make_user("ida", id);
	assert_int_equal(login(id, "ida", fam, tok, 50, NULL), STORE_OK);
	assert_int_equal(dbt_exec(s.ctl, "UPDATE refresh_tokens SET "
	    "expires_at = now() - interval '1 second'"), PGRES_COMMAND_OK);
	assert_int_equal(find(50, GRACE), STORE_OK);
	assert_true(got.t.expired);
	assert_int_equal(rotate(tok, next, 51), STORE_NOT_FOUND);
}

/* --- families -------------------------------------------------------- */

static void
test_reuse_revokes_every_member_of_the_family_only(void **state)
{
	char	 id[PROTO_UUID_LEN + 1], fam[PROTO_UUID_LEN + 1];
	char	 other[PROTO_UUID_LEN + 1], tok[PROTO_UUID_LEN + 1];
	char	 t2[PROTO_UUID_LEN + 1], t3[PROTO_UUID_LEN + 1];

	make_user("jack", id);
	assert_int_equal(login(id, "jack", fam, tok, 60, NULL), STORE_OK);
	assert_int_equal(rotate(tok, t2, 61), STORE_OK);
	assert_int_equal(rotate(t2, t3, 62), STORE_OK);
	/* Another session of the same user. */
	assert_int_equal(login(id, "jack", other, tok, 63, NULL), STORE_OK);
	reset();
	assert_int_equal(answer(tokens_revoke_reused(s.pool, fam, id, REMOTE,
	    done_cb, NULL)), STORE_OK);
	assert_int_equal(count("SELECT count(*) FROM refresh_tokens WHERE "
	    "family = $1 AND revoked_at IS NULL", fam), 0);
	assert_int_equal(count("SELECT count(*) FROM refresh_tokens WHERE "
	    "family = $1 AND revoked_at IS NULL", other), 1);
	assert_int_equal(count("SELECT (detail->>'revoked')::int FROM "
	    "audit_events WHERE event = 'refresh_reuse' AND "
	    "detail->>'family' = $1", fam), 3);
	/* The newest, never used, member is dead too. */
	assert_int_equal(find(62, GRACE), STORE_OK);
	assert_true(got.t.revoked);
	assert_int_equal(rotate(t3, t2, 64), STORE_NOT_FOUND);
	assert_int_equal(find(63, GRACE), STORE_OK);
	assert_false(got.t.revoked);
}

static void
test_a_family_with_any_revoked_member_is_revoked(void **state)
{
	char	 id[PROTO_UUID_LEN + 1], fam[PROTO_UUID_LEN + 1];
	char	 tok[PROTO_UUID_LEN + 1], t2[PROTO_UUID_LEN + 1];
	char	 t3[PROTO_UUID_LEN + 1];

	make_user("kate", id);
	assert_int_equal(login(id, "kate", fam, tok, 70, NULL), STORE_OK);
	assert_int_equal(rotate(tok, t2, 71), STORE_OK);
	/* Only the spent first member is revoked, as when a rotation
	 * inserted t2 after a revoking statement took its snapshot. */
	assert_int_equal(count("WITH r AS (UPDATE refresh_tokens SET "
	    "revoked_at = now() WHERE id = $1 RETURNING 1) "
	    "SELECT count(*) FROM r", tok), 1);
	assert_int_equal(find(71, GRACE), STORE_OK);
	assert_false(got.t.used);
	assert_true(got.t.revoked);
	assert_int_equal(rotate(t2, t3, 72), STORE_NOT_FOUND);
	assert_int_equal(count("SELECT count(*) FROM refresh_tokens WHERE "
	    "family = $1", fam), 2);
}

static void
test_revocation_by_token_takes_its_family(void **state)
{
	char	 id[PROTO_UUID_LEN + 1], fam[PROTO_UUID_LEN + 1];
	char	 other[PROTO_UUID_LEN + 1], tok[PROTO_UUID_LEN + 1];
	char	 t2[PROTO_UUID_LEN + 1], hash[HASH_LEN];

	make_user("liam", id);
	assert_int_equal(login(id, "liam", fam, tok, 80, NULL), STORE_OK);
	assert_int_equal(rotate(tok, t2, 81), STORE_OK);
	assert_int_equal(login(id, "liam", other, tok, 82, NULL), STORE_OK);
	/* The spent member names the family as well as the live one. */
	hash_of(80, hash);
	reset();
	assert_int_equal(answer(tokens_revoke(s.pool, hash, REMOTE, done_cb,
	    NULL)), STORE_OK);
	assert_int_equal(count("SELECT count(*) FROM refresh_tokens WHERE "
	    "family = $1 AND revoked_at IS NULL", fam), 0);
	assert_int_equal(count("SELECT count(*) FROM refresh_tokens WHERE "
	    "family = $1 AND revoked_at IS NULL", other), 1);
	assert_int_equal(count("SELECT (detail->>'tokens')::int FROM "
	    "audit_events WHERE user_id = $1 AND event = 'revoked'", id), 2);
}

static void
test_revoking_an_unknown_token_is_ok_and_records_nothing(void **state)
{
	char	 hash[HASH_LEN];

	hash_of(90, hash);
	assert_int_equal(answer(tokens_revoke(s.pool, hash, REMOTE, done_cb,
	    NULL)), STORE_OK);
	assert_int_equal(count("SELECT count(*) FROM audit_events", NULL), 0);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup(f, setup)
	const struct CMUnitTest tests[] = {
		T(test_login_starts_a_family_and_clears_the_failures),
		T(test_login_writes_the_rehash_back),
		T(test_login_over_a_changed_hash_issues_nothing),
		T(test_login_of_a_disabled_user_issues_nothing),
		T(test_an_unknown_hash_is_not_found),
		T(test_rotation_spends_the_token_and_issues_the_next_of_its_family),
		T(test_a_spent_token_cannot_be_rotated_again),
		T(test_of_concurrent_rotations_of_one_token_exactly_one_wins),
		T(test_a_spend_older_than_the_grace_window_is_not_in_grace),
		T(test_an_expired_token_is_expired_and_cannot_be_rotated),
		T(test_reuse_revokes_every_member_of_the_family_only),
		T(test_a_family_with_any_revoked_member_is_revoked),
		T(test_revocation_by_token_takes_its_family),
		T(test_revoking_an_unknown_token_is_ok_and_records_nothing),
	};
#undef T

	dbt_require_url("test_store_tokens");
	log_init("test_store_tokens", LOG_ERROR, false);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
