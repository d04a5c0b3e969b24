/*
 * daemon/store/links.c and daemon/store/mfa.c against a real PostgreSQL
 * (DATABASE_URL), through the daemon's pool, without HTTP: one-time links
 * and the mail they queue, and the second factors' bookkeeping (a time
 * step or a recovery code accepted once, mfa tokens that die).
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
#include "store/links.h"
#include "store/mfa.h"
#include "store/users.h"
#include "util.h"

#define WAIT_MS		10000
#define REMOTE		"192.0.2.7"
#define HEX64(c)	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
			c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define H_A		"\\x" HEX64("a")
#define H_B		"\\x" HEX64("b")
#define H_C		"\\x" HEX64("c")
#define CODE_HASH(c)	HEX64(c)

static struct dbt_store s;

static struct got {
	int		 calls;
	enum store_status st;
	enum links_outcome out;
	struct user	 u;
	struct mfa_totp	 totp;
	struct mfa_pending pending;
} got;

static void
done_cb(enum store_status st, void *arg)
{
	got.calls++;
	got.st = st;
}

static void
verified_cb(enum store_status st, const char *user_id, void *arg)
{
	got.calls++;
	got.st = st;
	str_copy(got.u.id, user_id != NULL ? user_id : "",
	    sizeof(got.u.id));
}

static void
issued_cb(enum store_status st, enum links_outcome out, void *arg)
{
	got.calls++;
	got.st = st;
	got.out = out;
}

static void
user_cb(enum store_status st, const struct user *u, void *arg)
{
	got.calls++;
	got.st = st;
	if (u != NULL)
		got.u = *u;
}

static void
created_cb(enum store_status st, const struct user *u, enum users_taken t,
    void *arg)
{
	user_cb(st, u, arg);
}

static void
totp_cb(enum store_status st, const struct mfa_totp *t, void *arg)
{
	got.calls++;
	got.st = st;
	if (t != NULL)
		got.totp = *t;
}

static void
pending_cb(enum store_status st, const struct mfa_pending *p, void *arg)
{
	got.calls++;
	got.st = st;
	if (p != NULL)
		got.pending = *p;
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

static long
count(const char *sql, const char *id)
{
	const char *p[] = { id };

	return dbt_count(s.ctl, sql, id != NULL ? 1 : 0, id != NULL ? p : NULL);
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

static enum links_outcome
issue(enum links_purpose p, const char *id, const char *email,
    const char *hash, unsigned int rate)
{
	struct links_request q = { p, id, email,
	    { hash, "http://w.test/ui/x?token=T", 600, "10 minutes" }, rate,
	    REMOTE };

	assert_int_equal(answer(links_issue(s.pool, &q, issued_cb, NULL)),
	    STORE_OK);
	return got.out;
}

static int
setup(void **state)
{
	memset(&got, 0, sizeof(got));
	return dbt_store_clean(&s) ? 0 : -1;
}

static int
group_setup(void **state)
{
	return dbt_store_open(&s, "test_store_links", 2) ? 0 : -1;
}

static int
group_teardown(void **state)
{
	dbt_store_close(&s);
	return 0;
}

/* --- links ----------------------------------------------------------- */

static void
test_a_link_is_made_with_its_mail_and_audit(void **state)
{
	struct user u;

	make_user("alice", &u);
	assert_int_equal(issue(LINKS_VERIFY_EMAIL, u.id, NULL, H_A, 3),
	    LINKS_QUEUED);
	assert_int_equal(count("SELECT count(*) FROM mail_outbox WHERE "
	    "user_id = $1 AND template = 'verify_email' AND recipient = "
	    "'alice@example.test' AND params->>'link' LIKE 'http://w.test/%'",
	    u.id), 1);
	assert_int_equal(count("SELECT count(*) FROM audit_events WHERE "
	    "user_id = $1 AND event = 'verification_sent'", u.id), 1);
	assert_int_equal(count("SELECT count(*) FROM one_time_tokens WHERE "
	    "user_id = $1", u.id), 1);
}

static void
test_an_unknown_or_disabled_address_queues_nothing(void **state)
{
	struct user u;

	make_user("bob", &u);
	assert_int_equal(issue(LINKS_PASSWORD_RESET, NULL, "nobody@example.test",
	    H_A, 3), LINKS_NO_ACCOUNT);
	assert_int_equal(dbt_exec(s.ctl, "UPDATE users SET is_active = false"),
	    PGRES_COMMAND_OK);
	assert_int_equal(issue(LINKS_PASSWORD_RESET, NULL, "BOB@example.test",
	    H_B, 3), LINKS_NO_ACCOUNT);
	assert_int_equal(count("SELECT count(*) FROM mail_outbox", NULL), 0);
	assert_int_equal(count("SELECT count(*) FROM one_time_tokens", NULL), 0);
}

static void
test_the_rate_bounds_an_accounts_mails(void **state)
{
	struct user u;

	make_user("carol", &u);
	assert_int_equal(issue(LINKS_PASSWORD_RESET, NULL, "carol@example.test",
	    H_A, 2), LINKS_QUEUED);
	assert_int_equal(issue(LINKS_PASSWORD_RESET, NULL, "carol@example.test",
	    H_B, 2), LINKS_QUEUED);
	assert_int_equal(issue(LINKS_PASSWORD_RESET, NULL, "carol@example.test",
	    H_C, 2), LINKS_LIMITED);
	assert_int_equal(count("SELECT count(*) FROM mail_outbox", NULL), 2);
}

static void
test_a_new_link_replaces_the_old_and_a_link_works_once(void **state)
{
	struct user u;

	make_user("dave", &u);
	issue(LINKS_VERIFY_EMAIL, u.id, NULL, H_A, 3);
	issue(LINKS_VERIFY_EMAIL, u.id, NULL, H_B, 3);
	assert_int_equal(answer(links_verify_email(s.pool, H_A, REMOTE,
	    verified_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(answer(links_verify_email(s.pool, H_B, REMOTE,
	    verified_cb, NULL)), STORE_OK);
	/* The account verified is told, for the user cache to forget. */
	assert_string_equal(got.u.id, u.id);
	assert_int_equal(answer(links_verify_email(s.pool, H_B, REMOTE,
	    verified_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(count("SELECT count(*) FROM users WHERE id = $1 AND "
	    "email_verified", u.id), 1);
	assert_int_equal(issue(LINKS_VERIFY_EMAIL, u.id, NULL, H_C, 3),
	    LINKS_ALREADY_VERIFIED);
}

static void
test_an_expired_link_is_spent_and_verifies_nothing(void **state)
{
	struct user u;

	make_user("erin", &u);
	issue(LINKS_VERIFY_EMAIL, u.id, NULL, H_A, 3);
	assert_int_equal(dbt_exec(s.ctl, "UPDATE one_time_tokens SET "
	    "expires_at = now() - interval '1 second'"), PGRES_COMMAND_OK);
	assert_int_equal(answer(links_verify_email(s.pool, H_A, REMOTE,
	    verified_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(count("SELECT count(*) FROM one_time_tokens", NULL), 0);
}

static void
test_a_reset_ends_every_session_and_clears_the_lock(void **state)
{
	struct user u;

	make_user("frank", &u);
	issue(LINKS_PASSWORD_RESET, u.id, NULL, H_A, 3);
	issue(LINKS_VERIFY_EMAIL, u.id, NULL, H_B, 3);
	assert_int_equal(dbt_exec(s.ctl, "UPDATE users SET failed_logins = 9, "
	    "locked_until = now() + interval '1 hour'"), PGRES_COMMAND_OK);
	assert_int_equal(answer(links_reset_find(s.pool, H_A, user_cb, NULL)),
	    STORE_OK);
	assert_string_equal(got.u.id, u.id);
	assert_int_equal(answer(links_reset(s.pool, H_A, u.id, "hash-new",
	    REMOTE, done_cb, NULL)), STORE_OK);
	assert_int_equal(count("SELECT count(*) FROM users WHERE id = $1 AND "
	    "password_hash = 'hash-new' AND token_version = 1 AND "
	    "failed_logins = 0 AND locked_until IS NULL", u.id), 1);
	assert_int_equal(count("SELECT count(*) FROM one_time_tokens", NULL), 0);
	assert_int_equal(answer(links_reset(s.pool, H_A, u.id, "hash-again",
	    REMOTE, done_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(count("SELECT count(*) FROM audit_events WHERE "
	    "user_id = $1 AND event = 'password_reset'", u.id), 1);
}

static void
test_a_password_change_voids_the_links(void **state)
{
	struct user u;

	make_user("gina", &u);
	issue(LINKS_PASSWORD_RESET, u.id, NULL, H_A, 3);
	assert_int_equal(answer(users_set_password(s.pool, u.id, "hash-2",
	    "hash-x", REMOTE, done_cb, NULL)), STORE_OK);
	assert_int_equal(answer(links_reset_find(s.pool, H_A, user_cb, NULL)),
	    STORE_NOT_FOUND);
}

static void
test_a_new_address_voids_a_reset_link_and_an_old_verification(void **state)
{
	struct user u;
	struct users_patch p;

	make_user("hank", &u);
	issue(LINKS_PASSWORD_RESET, u.id, NULL, H_A, 3);
	issue(LINKS_VERIFY_EMAIL, u.id, NULL, H_B, 3);
	memset(&p, 0, sizeof(p));
	p.id = u.id;
	p.set_email = true;
	p.email = "hank2@example.test";
	p.remote = REMOTE;
	p.actor = u.id;
	p.notify_old = true;
	p.account_url = "http://w.test";
	assert_int_equal(answer(users_patch(s.pool, &p, user_cb, NULL)),
	    STORE_OK);
	assert_false(got.u.email_verified);
	assert_int_equal(answer(links_reset_find(s.pool, H_A, user_cb, NULL)),
	    STORE_NOT_FOUND);
	assert_int_equal(answer(links_verify_email(s.pool, H_B, REMOTE,
	    verified_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(count("SELECT count(*) FROM mail_outbox WHERE "
	    "template = 'email_changed' AND recipient = 'hank@example.test'",
	    NULL), 1);
}

/* --- second factors ---------------------------------------------------- */

static const char *const codes[MFA_CODES] = {
	CODE_HASH("0"), CODE_HASH("1"), CODE_HASH("2"), CODE_HASH("3"),
	CODE_HASH("4"), CODE_HASH("5"), CODE_HASH("6"), CODE_HASH("7"),
	CODE_HASH("8"), CODE_HASH("9"),
};

/* u with an active factor whose confirmation used step 100. */
static void
enrolled(const char *name, struct user *u)
{
	make_user(name, u);
	assert_int_equal(answer(mfa_totp_begin(s.pool, u->id, "$wtotp$x",
	    done_cb, NULL)), STORE_OK);
	assert_int_equal(answer(mfa_totp_confirm(s.pool, u->id, "$wtotp$x",
	    100, codes, MFA_CODES, REMOTE, done_cb, NULL)), STORE_OK);
}

static void
mfa_token(const struct user *u, const char *hash)
{
	struct mfa_token_new n = { hash, u->id, 0, NULL, "hash-x", NULL };

	assert_int_equal(answer(mfa_token_create(s.pool, &n, done_cb, NULL)),
	    STORE_OK);
}

static void
test_confirmation_activates_the_factor_once(void **state)
{
	struct user u;

	enrolled("ivy", &u);
	assert_int_equal(answer(mfa_totp_get(s.pool, u.id, totp_cb, NULL)),
	    STORE_OK);
	assert_true(got.totp.confirmed);
	assert_int_equal(got.totp.last_step, 100);
	assert_int_equal(answer(mfa_totp_confirm(s.pool, u.id, "$wtotp$x",
	    101, codes, MFA_CODES, REMOTE, done_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(answer(mfa_totp_begin(s.pool, u.id, "$wtotp$y",
	    done_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(count("SELECT count(*) FROM recovery_codes WHERE "
	    "user_id = $1", u.id), MFA_CODES);
}

static void
test_a_time_step_is_accepted_once(void **state)
{
	struct user u;

	enrolled("jack", &u);
	mfa_token(&u, H_A);
	/* The confirmation's step, then an older one: refused. */
	assert_int_equal(answer(mfa_token_spend(s.pool, H_A, 100, NULL, REMOTE,
	    done_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(answer(mfa_token_spend(s.pool, H_A, 99, NULL, REMOTE,
	    done_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(answer(mfa_token_spend(s.pool, H_A, 101, NULL, REMOTE,
	    done_cb, NULL)), STORE_OK);
	/* Spent with it. */
	assert_int_equal(answer(mfa_token_find(s.pool, H_A, pending_cb, NULL)),
	    STORE_NOT_FOUND);
	mfa_token(&u, H_B);
	assert_int_equal(answer(mfa_token_spend(s.pool, H_B, 101, NULL, REMOTE,
	    done_cb, NULL)), STORE_NOT_FOUND);
}

static void
test_a_recovery_code_is_accepted_once(void **state)
{
	struct user u;

	enrolled("kate", &u);
	mfa_token(&u, H_A);
	assert_int_equal(answer(mfa_token_spend(s.pool, H_A, 0, codes[3],
	    REMOTE, done_cb, NULL)), STORE_OK);
	mfa_token(&u, H_B);
	assert_int_equal(answer(mfa_token_spend(s.pool, H_B, 0, codes[3],
	    REMOTE, done_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(count("SELECT count(*) FROM audit_events WHERE "
	    "user_id = $1 AND event = 'recovery_code_used' AND "
	    "(detail->>'left')::int = 9", u.id), 1);
}

static void
test_five_failures_kill_an_mfa_token(void **state)
{
	struct user u;

	enrolled("liam", &u);
	mfa_token(&u, H_A);
	assert_int_equal(answer(mfa_token_find(s.pool, H_A, pending_cb, NULL)),
	    STORE_OK);
	assert_string_equal(got.pending.user.id, u.id);
	assert_string_equal(got.pending.sealed, "$wtotp$x");
	assert_int_equal(got.pending.last_step, 100);
	for (int i = 0; i < MFA_TOKEN_FAILURES; i++)
		assert_int_equal(answer(mfa_token_failed(s.pool, H_A, REMOTE,
		    done_cb, NULL)), STORE_OK);
	assert_int_equal(answer(mfa_token_find(s.pool, H_A, pending_cb, NULL)),
	    STORE_NOT_FOUND);
	assert_int_equal(answer(mfa_token_spend(s.pool, H_A, 0, codes[0],
	    REMOTE, done_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(count("SELECT count(*) FROM audit_events WHERE "
	    "user_id = $1 AND event = 'mfa_failed'", u.id), MFA_TOKEN_FAILURES);
}

static void
test_an_mfa_token_dies_with_a_new_token_version(void **state)
{
	struct user u;

	enrolled("mona", &u);
	mfa_token(&u, H_A);
	assert_int_equal(answer(users_end_sessions(s.pool, u.id, REMOTE,
	    done_cb, NULL)), STORE_OK);
	assert_int_equal(answer(mfa_token_find(s.pool, H_A, pending_cb, NULL)),
	    STORE_NOT_FOUND);
}

static void
test_removal_by_a_used_code_is_refused_and_by_a_fresh_one_done(void **state)
{
	struct user u;

	enrolled("nina", &u);
	assert_int_equal(answer(mfa_remove(s.pool, u.id, 100, NULL, REMOTE,
	    "self", done_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(answer(mfa_remove(s.pool, u.id, 0, CODE_HASH("f"),
	    REMOTE, "self", done_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(answer(mfa_remove(s.pool, u.id, 0, codes[5], REMOTE,
	    "self", done_cb, NULL)), STORE_OK);
	assert_int_equal(answer(mfa_totp_get(s.pool, u.id, totp_cb, NULL)),
	    STORE_NOT_FOUND);
	assert_int_equal(count("SELECT count(*) FROM recovery_codes WHERE "
	    "user_id = $1", u.id), 0);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup(f, setup)
	const struct CMUnitTest tests[] = {
		T(test_a_link_is_made_with_its_mail_and_audit),
		T(test_an_unknown_or_disabled_address_queues_nothing),
		T(test_the_rate_bounds_an_accounts_mails),
		T(test_a_new_link_replaces_the_old_and_a_link_works_once),
		T(test_an_expired_link_is_spent_and_verifies_nothing),
		T(test_a_reset_ends_every_session_and_clears_the_lock),
		T(test_a_password_change_voids_the_links),
		T(test_a_new_address_voids_a_reset_link_and_an_old_verification),
		T(test_confirmation_activates_the_factor_once),
		T(test_a_time_step_is_accepted_once),
		T(test_a_recovery_code_is_accepted_once),
		T(test_five_failures_kill_an_mfa_token),
		T(test_an_mfa_token_dies_with_a_new_token_version),
		T(test_removal_by_a_used_code_is_refused_and_by_a_fresh_one_done),
	};
#undef T

	dbt_require_url("test_store_links");
	/* mfa_token_find() holds the stored hash in sodium_malloc memory. */
	if (sodium_init() < 0)
		return 1;
	log_init("test_store_links", LOG_ERROR, false);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
