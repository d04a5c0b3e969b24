/*
 * Forward-auth's table of revocations (api/revocations.h), without a loop
 * or a database: a changed user refuses while being looked up, then by its
 * state (version, active, deleted, roles); entries expire; a full table
 * refuses the tokens issued before it overflowed, never forgets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/revocations.h"

#define T0	1000000	/* "now" of the tests, seconds */
#define LIFE	960	/* an entry's life: ttl + slack */

static const char *const A = "0b6f3c1e-0000-4000-8000-00000000000a";
static const char *const B = "0b6f3c1e-0000-4000-8000-00000000000b";
static const char *const C = "0b6f3c1e-0000-4000-8000-00000000000c";

static struct jwt_claims
claims(const char *sub, uint32_t ver, int64_t iat)
{
	struct jwt_claims c;

	memset(&c, 0, sizeof(c));
	snprintf(c.sub, sizeof(c.sub), "%s", sub);
	c.ver = ver;
	c.iat = iat;
	c.exp = iat + 900;
	return c;
}

static struct user_state
state(const char *id, bool exists, bool active, uint32_t ver,
    const char *roles)
{
	struct user_state s;

	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", id);
	s.exists = exists;
	s.is_active = active;
	s.token_version = ver;
	snprintf(s.roles, sizeof(s.roles), "%s", roles);
	return s;
}

static void
unknown_users_pass(void **st)
{
	struct revtab *t = revtab_new(4);
	struct jwt_claims c = claims(A, 3, T0 - 10);

	assert_non_null(t);
	assert_int_equal(revtab_check(t, &c, NULL, T0), REV_PASS);
	assert_int_equal(revtab_check(t, &c, "admin", T0), REV_PASS);
	assert_int_equal(revtab_count(t), 0);
	revtab_free(t);
}

static void
changed_user_refuses_until_known_then_by_version(void **st)
{
	struct revtab *t = revtab_new(4);
	struct jwt_claims old = claims(A, 3, T0 - 10), fresh = claims(A, 4, T0);
	struct jwt_claims other = claims(B, 0, T0 - 10);
	struct user_state s = state(A, true, true, 4, "");
	struct rev_entry *e;

	assert_non_null(e = revtab_touch(t, A, T0, T0 + LIFE));
	/* Being looked up: fail closed, for that user only. */
	assert_int_equal(revtab_check(t, &old, NULL, T0), REV_REVOKED);
	assert_int_equal(revtab_check(t, &fresh, NULL, T0), REV_REVOKED);
	assert_int_equal(revtab_check(t, &other, NULL, T0), REV_PASS);
	assert_int_equal(revtab_set(e, &s), 0);
	/* Known: the old version is refused, the new one passes. */
	assert_int_equal(revtab_check(t, &old, NULL, T0 + 1), REV_REVOKED);
	assert_int_equal(revtab_check(t, &fresh, NULL, T0 + 1), REV_PASS);
	/* Another change: unknown again, the same entry. */
	assert_ptr_equal(revtab_touch(t, A, T0 + 5, T0 + 5 + LIFE), e);
	assert_int_equal(revtab_check(t, &fresh, NULL, T0 + 5), REV_REVOKED);
	assert_int_equal(revtab_count(t), 1);
	revtab_free(t);
}

static void
disabled_and_deleted_users_refuse_every_token(void **st)
{
	struct revtab *t = revtab_new(4);
	struct jwt_claims a = claims(A, 1, T0 + 1), b = claims(B, 0, T0 + 1);
	struct user_state sa = state(A, true, false, 1, "admin");
	struct user_state sb = state(B, false, false, 0, "");

	assert_int_equal(revtab_set(revtab_touch(t, A, T0, T0 + LIFE), &sa), 0);
	assert_int_equal(revtab_set(revtab_touch(t, B, T0, T0 + LIFE), &sb), 0);
	/* Even a token of the current version, even one issued after. */
	assert_int_equal(revtab_check(t, &a, NULL, T0 + 2), REV_REVOKED);
	assert_int_equal(revtab_check(t, &b, NULL, T0 + 2), REV_REVOKED);
	/* Enabled again: its current version passes. */
	sa.is_active = true;
	assert_int_equal(revtab_set(revtab_touch(t, A, T0 + 3, T0 + 3 + LIFE),
	    &sa), 0);
	assert_int_equal(revtab_check(t, &a, NULL, T0 + 3), REV_PASS);
	revtab_free(t);
}

static void
role_is_checked_against_the_current_roles(void **st)
{
	struct revtab *t = revtab_new(4);
	struct jwt_claims c = claims(A, 2, T0 - 1);
	struct user_state s = state(A, true, true, 2, "editor,reader");

	assert_int_equal(revtab_set(revtab_touch(t, A, T0, T0 + LIFE), &s), 0);
	assert_int_equal(revtab_check(t, &c, "editor", T0), REV_PASS);
	assert_int_equal(revtab_check(t, &c, "reader", T0), REV_PASS);
	assert_int_equal(revtab_check(t, &c, "", T0), REV_PASS);
	assert_int_equal(revtab_check(t, &c, NULL, T0), REV_PASS);
	/* Whole names only: no prefix, no suffix, no empty one. */
	assert_int_equal(revtab_check(t, &c, "edit", T0), REV_NO_ROLE);
	assert_int_equal(revtab_check(t, &c, "reade", T0), REV_NO_ROLE);
	assert_int_equal(revtab_check(t, &c, "admin", T0), REV_NO_ROLE);
	s = state(A, true, true, 2, "");
	assert_int_equal(revtab_set(revtab_touch(t, A, T0, T0 + LIFE), &s), 0);
	assert_int_equal(revtab_check(t, &c, "editor", T0), REV_NO_ROLE);
	assert_int_equal(revtab_check(t, &c, NULL, T0), REV_PASS);
	revtab_free(t);
}

/* A session cookie's memo (api/session_cache.h) is judged like a token
 * of its user, version and confirmation time. */
static void
a_confirmed_session_is_checked_by_user_version_and_time(void **st)
{
	struct revtab *t = revtab_new(4);
	struct user_state s = state(A, true, true, 3, "reader");

	assert_int_equal(revtab_check_user(t, A, 3, T0 - 1, "reader", T0),
	    REV_PASS);
	assert_non_null(revtab_touch(t, A, T0, T0 + LIFE));
	/* Being looked up: refused, whoever confirmed it. */
	assert_int_equal(revtab_check_user(t, A, 3, T0 - 1, NULL, T0),
	    REV_REVOKED);
	assert_int_equal(revtab_set(revtab_touch(t, A, T0, T0 + LIFE), &s), 0);
	assert_int_equal(revtab_check_user(t, A, 3, T0 - 1, "reader", T0),
	    REV_PASS);
	assert_int_equal(revtab_check_user(t, A, 2, T0 - 1, NULL, T0),
	    REV_REVOKED);
	assert_int_equal(revtab_check_user(t, A, 3, T0 - 1, "admin", T0),
	    REV_NO_ROLE);
	assert_int_equal(revtab_check_user(t, B, 0, T0 - 1, "admin", T0),
	    REV_PASS);
	s = state(A, true, false, 3, "reader");
	assert_int_equal(revtab_set(revtab_touch(t, A, T0, T0 + LIFE), &s), 0);
	assert_int_equal(revtab_check_user(t, A, 3, T0 + 1, NULL, T0 + 1),
	    REV_REVOKED);
	revtab_free(t);
}

static void
entries_expire_after_their_life(void **st)
{
	struct revtab *t = revtab_new(4);
	struct jwt_claims c = claims(A, 0, T0 - 1);
	struct user_state s = state(A, true, false, 1, "");

	assert_int_equal(revtab_set(revtab_touch(t, A, T0, T0 + LIFE), &s), 0);
	assert_int_equal(revtab_check(t, &c, NULL, T0 + LIFE - 1), REV_REVOKED);
	/* Every token issued before the change has expired by then. */
	assert_int_equal(revtab_check(t, &c, NULL, T0 + LIFE), REV_PASS);
	assert_null(revtab_find(t, A, T0 + LIFE));
	assert_int_equal(revtab_count(t), 1);
	revtab_sweep(t, T0 + LIFE, NULL, NULL);
	assert_int_equal(revtab_count(t), 0);
	/* A later change never shortens an entry's life. */
	assert_non_null(revtab_touch(t, B, T0, T0 + LIFE));
	assert_non_null(revtab_touch(t, B, T0 + 1, T0 + 10));
	assert_non_null(revtab_find(t, B, T0 + LIFE - 1));
	revtab_free(t);
}

static int npending;

static void
count_pending(struct rev_entry *e, void *arg)
{
	npending++;
	e->inflight = true;
}

static void
sweep_keeps_lookups_and_offers_unknown_entries(void **st)
{
	struct revtab *t = revtab_new(4);
	struct user_state s = state(A, true, true, 0, "");
	struct rev_entry *b;

	assert_int_equal(revtab_set(revtab_touch(t, A, T0, T0 + LIFE), &s), 0);
	assert_non_null(b = revtab_touch(t, B, T0, T0 + LIFE));
	npending = 0;
	revtab_sweep(t, T0 + 1, count_pending, NULL);
	assert_int_equal(npending, 1);		/* B only, A is known */
	assert_true(b->inflight);
	/* A look-up running holds its entry past its life. */
	revtab_sweep(t, T0 + LIFE + 1, count_pending, NULL);
	assert_int_equal(revtab_count(t), 1);
	assert_ptr_equal(revtab_touch(t, B, T0 + LIFE + 1, T0 + 2 * LIFE), b);
	b->inflight = false;
	revtab_sweep(t, T0 + 3 * LIFE, NULL, NULL);
	assert_int_equal(revtab_count(t), 0);
	revtab_free(t);
}

static void
full_table_refuses_tokens_issued_before_the_overflow(void **st)
{
	struct revtab *t = revtab_new(2);
	struct jwt_claims c_old = claims(C, 0, T0 - 100);
	struct jwt_claims c_after = claims(C, 0, T0 + 100);
	struct jwt_claims other_old = claims(
	    "0b6f3c1e-0000-4000-8000-00000000000d", 0, T0 - 100);

	assert_non_null(revtab_touch(t, A, T0 - 10, T0 - 10 + LIFE));
	assert_non_null(revtab_touch(t, B, T0 - 10, T0 - 10 + LIFE));
	assert_int_equal(revtab_overflows(t), 0);
	/* Full of live entries: C's change cannot be kept... */
	assert_null(revtab_touch(t, C, T0, T0 + LIFE));
	assert_int_equal(revtab_overflows(t), 1);
	/* ...so every token issued up to then is refused, anyone's... */
	assert_int_equal(revtab_check(t, &c_old, NULL, T0), REV_REVOKED);
	assert_int_equal(revtab_check(t, &other_old, NULL, T0 + 1),
	    REV_REVOKED);
	/* ...tokens issued later pass (past the clocks' leeway)... */
	assert_int_equal(revtab_check(t, &c_after, NULL, T0 + 100), REV_PASS);
	/* ...and once the old tokens have expired, the refusal ends. */
	assert_int_equal(revtab_check(t, &c_old, NULL, T0 + LIFE), REV_PASS);
	/* Expired entries make room before anything overflows. */
	assert_non_null(revtab_touch(t, C, T0 + LIFE, T0 + 2 * LIFE));
	assert_int_equal(revtab_overflows(t), 1);
	assert_int_equal(revtab_count(t), 1);
	revtab_free(t);
}

static void
many_users_share_buckets(void **st)
{
	struct revtab *t = revtab_new(1000);
	char	 id[PROTO_UUID_LEN + 1];
	struct user_state s;
	struct jwt_claims c;

	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "0b6f3c1e-0000-4000-8000-%012d", i);
		s = state(id, true, true, (uint32_t)i, "");
		assert_int_equal(revtab_set(revtab_touch(t, id, T0,
		    T0 + LIFE), &s), 0);
	}
	assert_int_equal(revtab_count(t), 1000);
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "0b6f3c1e-0000-4000-8000-%012d", i);
		c = claims(id, (uint32_t)i, T0 - 1);
		assert_int_equal(revtab_check(t, &c, NULL, T0), REV_PASS);
		c.ver++;
		assert_int_equal(revtab_check(t, &c, NULL, T0), REV_REVOKED);
	}
	revtab_free(t);
}

static void
payloads_are_read_strictly(void **st)
{
	struct user_state s;
	char	 buf[256];

	snprintf(buf, sizeof(buf), "%s 12 t admin,editor", A);
	assert_int_equal(revocations_parse(buf, &s), 0);
	assert_string_equal(s.id, A);
	assert_true(s.exists && s.is_active);
	assert_int_equal(s.token_version, 12);
	assert_string_equal(s.roles, "admin,editor");
	snprintf(buf, sizeof(buf), "%s 4294967295 f ", A);
	assert_int_equal(revocations_parse(buf, &s), 0);
	assert_true(s.exists && !s.is_active);
	assert_int_equal(s.token_version, UINT32_MAX);
	assert_string_equal(s.roles, "");
	snprintf(buf, sizeof(buf), "%s deleted", B);
	assert_int_equal(revocations_parse(buf, &s), 0);
	assert_string_equal(s.id, B);
	assert_false(s.exists);

	/* Not the form: refused, but the id is kept for a look-up. */
	static const char *const bad[] = {
		"", " 1 t  ", " 4294967296 t ", " -1 t ", " 1 x ", " 1 t",
		" 1 t a,", " 1 t ,a", " 1 t a,,b", " 1 t Admin", " 1  t ",
		" deleted ", " 1 t a b", "x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", A, bad[i]);
		assert_int_equal(revocations_parse(buf, &s), -1);
		assert_string_equal(s.id, bad[i][0] == 'x' ? "" : A);
	}
	/* An id is the whole first word, lower-case. */
	assert_int_equal(revocations_parse("0B6F3C1E-0000-4000-8000-"
	    "00000000000A 1 t ", &s), -1);
	assert_string_equal(s.id, "");
	assert_int_equal(revocations_parse("0b6f", &s), -1);
	assert_string_equal(s.id, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unknown_users_pass),
		cmocka_unit_test(changed_user_refuses_until_known_then_by_version),
		cmocka_unit_test(disabled_and_deleted_users_refuse_every_token),
		cmocka_unit_test(role_is_checked_against_the_current_roles),
		cmocka_unit_test(a_confirmed_session_is_checked_by_user_version_and_time),
		cmocka_unit_test(entries_expire_after_their_life),
		cmocka_unit_test(sweep_keeps_lookups_and_offers_unknown_entries),
		cmocka_unit_test(full_table_refuses_tokens_issued_before_the_overflow),
		cmocka_unit_test(many_users_share_buckets),
		cmocka_unit_test(payloads_are_read_strictly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
