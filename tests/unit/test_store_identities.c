/*
 * daemon/store/identities.c against a real PostgreSQL (DATABASE_URL),
 * through the daemon's pool: a sign-in's state serves once and only in
 * its browser; an identity finds its account, or the account of its
 * e-mail; a sign-up makes the account and its identity together with a
 * free username; an account without a password keeps its last identity.
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
#include "store/identities.h"
#include "store/users.h"
#include "util.h"

#define WAIT_MS		10000
#define REMOTE		"192.0.2.8"
#define HEX64(c)	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
			c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define H_STATE		"\\x" HEX64("a")
#define H_BIND		"\\x" HEX64("b")
#define H_OTHER		"\\x" HEX64("c")

static struct dbt_store s;

static struct got {
	int			 calls;
	enum store_status	 st;
	struct upstream_login	 l;
	enum identity_match	 m;
	struct user		 u;
	struct identity_row	 rows[IDENTITIES_LIST_MAX];
	size_t			 n;
	bool			 has_password;
} got;

static void
done_cb(enum store_status st, void *arg)
{
	got.calls++;
	got.st = st;
}

static void
login_cb(enum store_status st, const struct upstream_login *l, void *arg)
{
	got.calls++;
	got.st = st;
	memset(&got.l, 0, sizeof(got.l));
	if (l != NULL)
		got.l = *l;
}

static void
found_cb(enum store_status st, enum identity_match m, const struct user *u,
    void *arg)
{
	got.calls++;
	got.st = st;
	got.m = m;
	memset(&got.u, 0, sizeof(got.u));
	if (u != NULL)
		got.u = *u;
}

static void
user_cb(enum store_status st, const struct user *u, void *arg)
{
	got.calls++;
	got.st = st;
	memset(&got.u, 0, sizeof(got.u));
	if (u != NULL)
		got.u = *u;
}

static void
listed_cb(enum store_status st, const struct identity_row *rows, size_t n,
    bool has_password, void *arg)
{
	got.calls++;
	got.st = st;
	got.n = n;
	got.has_password = has_password;
	if (n > 0)
		memcpy(got.rows, rows, n * sizeof(*rows));
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
make_user(const char *name, const char *stored, struct user *u)
{
	char	 id[PROTO_UUID_LEN + 1], email[64];
	struct users_new n = { id, name, email, NULL, stored, REMOTE, NULL };

	uuid_random(id);
	snprintf(email, sizeof(email), "%s@example.test", name);
	assert_int_equal(answer(users_create(s.pool, &n, created_cb, NULL)),
	    STORE_OK);
	*u = got.u;
}

static long
count(const char *q)
{
	return dbt_count(s.ctl, q, 0, NULL);
}

static int
setup(void **state)
{
	memset(&got, 0, sizeof(got));
	return dbt_store_clean(&s) && dbt_exec(s.ctl, "TRUNCATE "
	    "upstream_logins") == PGRES_COMMAND_OK ? 0 : -1;
}

static int
group_setup(void **state)
{
	return dbt_store_open(&s, "test_store_identities", 2) ? 0 : -1;
}

static int
group_teardown(void **state)
{
	dbt_store_close(&s);
	return 0;
}

static void
start(const char *link_user)
{
	struct upstream_login l;

	memset(&l, 0, sizeof(l));
	str_copy(l.provider, "corp", sizeof(l.provider));
	str_copy(l.nonce, "n-0123456789", sizeof(l.nonce));
	str_copy(l.verifier, "v-0123456789012345678901234567890123456789",
	    sizeof(l.verifier));
	str_copy(l.return_to, "https://app.example.test/x", sizeof(l.return_to));
	str_copy(l.link_user_id, link_user != NULL ? link_user : "",
	    sizeof(l.link_user_id));
	assert_int_equal(answer(upstream_login_start(s.pool, H_STATE, H_BIND,
	    &l, done_cb, NULL)), STORE_OK);
}

static void
test_a_state_serves_once_in_its_browser(void **state)
{
	start(NULL);
	assert_int_equal(answer(upstream_login_take(s.pool, H_STATE, H_BIND,
	    login_cb, NULL)), STORE_OK);
	assert_true(got.l.bound);
	assert_string_equal(got.l.provider, "corp");
	assert_string_equal(got.l.nonce, "n-0123456789");
	assert_string_equal(got.l.return_to, "https://app.example.test/x");
	assert_string_equal(got.l.link_user_id, "");
	/* used: gone, a replayed callback finds nothing */
	assert_int_equal(answer(upstream_login_take(s.pool, H_STATE, H_BIND,
	    login_cb, NULL)), STORE_NOT_FOUND);
}

static void
test_another_browser_burns_the_state(void **state)
{
	start(NULL);
	assert_int_equal(answer(upstream_login_take(s.pool, H_STATE, H_OTHER,
	    login_cb, NULL)), STORE_OK);
	assert_false(got.l.bound);
	/* and the right browser cannot use it after that */
	assert_int_equal(answer(upstream_login_take(s.pool, H_STATE, H_BIND,
	    login_cb, NULL)), STORE_NOT_FOUND);
	start(NULL);
	assert_int_equal(answer(upstream_login_take(s.pool, H_STATE, NULL,
	    login_cb, NULL)), STORE_OK);
	assert_false(got.l.bound);
}

static void
test_an_expired_state_is_refused(void **state)
{
	start(NULL);
	assert_int_equal(dbt_exec(s.ctl, "UPDATE upstream_logins SET "
	    "expires_at = now() - interval '1 second'"), PGRES_COMMAND_OK);
	assert_int_equal(answer(upstream_login_take(s.pool, H_STATE, H_BIND,
	    login_cb, NULL)), STORE_NOT_FOUND);
}

static void
test_find_knows_a_link_then_an_email(void **state)
{
	struct user	 alice;
	struct identity_new n = { NULL, "corp", "sub-1", "alice@example.test",
	    REMOTE, "account" };

	make_user("alice", "hash-x", &alice);
	assert_int_equal(answer(identity_find(s.pool, "corp", "sub-1",
	    "ALICE@example.test", found_cb, NULL)), STORE_OK);
	assert_int_equal(got.m, IDENTITY_EMAIL);
	assert_string_equal(got.u.id, alice.id);
	assert_int_equal(answer(identity_find(s.pool, "corp", "sub-1", NULL,
	    found_cb, NULL)), STORE_OK);
	assert_int_equal(got.m, IDENTITY_NONE);
	n.user_id = alice.id;
	assert_int_equal(answer(identity_link(s.pool, &n, user_cb, NULL)),
	    STORE_OK);
	assert_string_equal(got.u.id, alice.id);
	assert_int_equal(answer(identity_find(s.pool, "corp", "sub-1",
	    "someone@else.test", found_cb, NULL)), STORE_OK);
	assert_int_equal(got.m, IDENTITY_KNOWN);
	assert_string_equal(got.u.id, alice.id);
	/* one identity, one account */
	assert_int_equal(answer(identity_link(s.pool, &n, user_cb, NULL)),
	    STORE_CONFLICT);
	assert_int_equal(count("SELECT count(*) FROM audit_events WHERE event"
	    " = 'identity_linked' AND detail->>'by' = 'account'"), 1);
}

static void
test_signup_makes_account_and_identity_with_a_free_username(void **state)
{
	struct user	 taken;
	struct identity_new n = { NULL, "corp", "sub-2", "bob@corp.test",
	    REMOTE, NULL };

	make_user("bob", "hash-x", &taken);
	assert_int_equal(answer(identity_signup(s.pool, &n, "bob", "Bob B",
	    true, user_cb, NULL)), STORE_OK);
	assert_string_equal(got.u.username, "bob-2");
	assert_true(got.u.email_verified);
	assert_int_equal(count("SELECT count(*) FROM users WHERE username ="
	    " 'bob-2' AND password_hash = '!'"), 1);
	assert_int_equal(count("SELECT count(*) FROM identities WHERE"
	    " subject = 'sub-2'"), 1);
	assert_int_equal(count("SELECT count(*) FROM audit_events WHERE"
	    " event = 'upstream_signup'"), 1);
	/* an e-mail address taken meanwhile: nothing half-made */
	n.subject = "sub-3";
	n.email = "BOB@example.test";
	assert_int_equal(answer(identity_signup(s.pool, &n, "bobby", NULL,
	    false, user_cb, NULL)), STORE_CONFLICT);
	assert_int_equal(count("SELECT count(*) FROM users"), 2);
	assert_int_equal(count("SELECT count(*) FROM identities"), 1);
}

static void
test_the_last_way_in_stays(void **state)
{
	struct identity_new n = { NULL, "corp", "sub-4", "carol@corp.test",
	    REMOTE, NULL };
	char	 first[PROTO_UUID_LEN + 1], uid[PROTO_UUID_LEN + 1];

	assert_int_equal(answer(identity_signup(s.pool, &n, "carol", NULL,
	    true, user_cb, NULL)), STORE_OK);
	str_copy(uid, got.u.id, sizeof(uid));
	assert_int_equal(answer(identities_list(s.pool, uid, listed_cb,
	    NULL)), STORE_OK);
	assert_int_equal(got.n, 1);
	assert_false(got.has_password);
	str_copy(first, got.rows[0].id, sizeof(first));
	assert_string_equal(got.rows[0].provider, "corp");
	assert_string_equal(got.rows[0].email, "carol@corp.test");
	assert_int_equal(answer(identity_unlink(s.pool, uid, first, REMOTE,
	    uid, done_cb, NULL)), STORE_REFUSED);
	/* a second identity: then the first may go, not the second */
	n.user_id = uid;
	n.provider = "github";
	n.subject = "583231";
	n.how = "account";
	assert_int_equal(answer(identity_link(s.pool, &n, user_cb, NULL)),
	    STORE_OK);
	assert_int_equal(answer(identity_unlink(s.pool, uid, first, REMOTE,
	    uid, done_cb, NULL)), STORE_OK);
	assert_int_equal(answer(identity_unlink(s.pool, uid, first, REMOTE,
	    uid, done_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(answer(identities_list(s.pool, uid, listed_cb,
	    NULL)), STORE_OK);
	assert_int_equal(got.n, 1);
	assert_int_equal(answer(identity_unlink(s.pool, uid, got.rows[0].id,
	    REMOTE, uid, done_cb, NULL)), STORE_REFUSED);
	/* with a password, the last identity may go */
	assert_int_equal(dbt_exec(s.ctl, "UPDATE users SET password_hash ="
	    " 'hash-y'"), PGRES_COMMAND_OK);
	assert_int_equal(answer(identity_unlink(s.pool, uid, got.rows[0].id,
	    REMOTE, uid, done_cb, NULL)), STORE_OK);
	assert_int_equal(answer(identities_list(s.pool, uid, listed_cb,
	    NULL)), STORE_OK);
	assert_int_equal(got.n, 0);
	assert_true(got.has_password);
	assert_int_equal(count("SELECT count(*) FROM audit_events WHERE"
	    " event = 'identity_unlinked'"), 2);
}

static void
test_list_of_nobody_is_not_found(void **state)
{
	assert_int_equal(answer(identities_list(s.pool,
	    "00000000-0000-4000-8000-000000000000", listed_cb, NULL)),
	    STORE_NOT_FOUND);
}

static void
test_audit_of_a_refusal_names_provider_and_reason(void **state)
{
	assert_int_equal(answer(upstream_audit(s.pool, NULL,
	    "upstream_login_failed", "corp", "bad_id_token", REMOTE, done_cb,
	    NULL)), STORE_OK);
	assert_int_equal(count("SELECT count(*) FROM audit_events WHERE"
	    " event = 'upstream_login_failed' AND user_id IS NULL AND"
	    " detail = '{\"provider\": \"corp\", \"reason\":"
	    " \"bad_id_token\"}'::jsonb"), 1);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup(f, setup)
	const struct CMUnitTest tests[] = {
		T(test_a_state_serves_once_in_its_browser),
		T(test_another_browser_burns_the_state),
		T(test_an_expired_state_is_refused),
		T(test_find_knows_a_link_then_an_email),
		T(test_signup_makes_account_and_identity_with_a_free_username),
		T(test_the_last_way_in_stays),
		T(test_list_of_nobody_is_not_found),
		T(test_audit_of_a_refusal_names_provider_and_reason),
	};

	log_init("test_store_identities", LOG_ERROR, false);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
