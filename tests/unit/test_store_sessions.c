/*
 * daemon/store/sessions.c against a real PostgreSQL (DATABASE_URL),
 * through the daemon's pool, without HTTP: a browser session lives within
 * its two expiries, dies with a logout, an end by id, a new token version
 * or a disabled user, and is listed beside the refresh-token families.
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
#include "store/sessions.h"
#include "store/tokens.h"
#include "store/users.h"
#include "util.h"

#define WAIT_MS		10000
#define REMOTE		"192.0.2.7"
#define HEX64(c)	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
			c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define H_A		"\\x" HEX64("a")
#define H_B		"\\x" HEX64("b")
#define H_C		"\\x" HEX64("c")

static struct dbt_store s;

static struct got {
	int			 calls;
	enum store_status	 st;
	char			 id[PROTO_UUID_LEN + 1];
	struct sessions_found	 found;
	struct sessions_item	 items[SESSIONS_LIST_MAX];
	size_t			 n;
	struct user		 u;
} got;

static void
done_cb(enum store_status st, void *arg)
{
	got.calls++;
	got.st = st;
}

static void
made_cb(enum store_status st, const char *id, void *arg)
{
	got.calls++;
	got.st = st;
	str_copy(got.id, id != NULL ? id : "", sizeof(got.id));
}

static void
found_cb(enum store_status st, const struct sessions_found *f, void *arg)
{
	got.calls++;
	got.st = st;
	memset(&got.found, 0, sizeof(got.found));
	if (f != NULL)
		got.found = *f;
}

static void
listed_cb(enum store_status st, const struct sessions_item *items, size_t n,
    void *arg)
{
	got.calls++;
	got.st = st;
	got.n = n;
	if (n > 0)
		memcpy(got.items, items, n * sizeof(*items));
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

static enum store_status
start(const struct user *u, const char *hash, int64_t idle, int64_t max)
{
	struct sessions_new n = { u->id, hash, u->token_version, idle, max,
	    false, REMOTE, "Mozilla/5.0 (X11; Linux x86_64) Test" };

	return answer(sessions_create(s.pool, &n, made_cb, NULL));
}

static enum store_status
touch(const char *hash)
{
	return answer(sessions_touch(s.pool, hash, 3600, found_cb, NULL));
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
	return dbt_store_open(&s, "test_store_sessions", 2) ? 0 : -1;
}

static int
group_teardown(void **state)
{
	dbt_store_close(&s);
	return 0;
}

static void
test_a_session_finds_its_user_and_is_audited(void **state)
{
	struct user u;

	make_user("alice", &u);
	assert_int_equal(start(&u, H_A, 3600, 86400), STORE_OK);
	assert_true(field_is_uuid(got.id));
	assert_int_equal(touch(H_A), STORE_OK);
	assert_string_equal(got.found.id, got.id);
	assert_string_equal(got.found.user.id, u.id);
	assert_string_equal(got.found.user.username, "alice");
	assert_false(got.found.second_factor);
	assert_true(got.found.auth_time > 0);
	assert_int_equal(touch(H_B), STORE_NOT_FOUND);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM audit_events"
	    " WHERE event = 'session_started'", 0, NULL), 1);
}

static void
test_the_idle_expiry_moves_but_never_past_the_absolute_one(void **state)
{
	struct user u;

	make_user("bob", &u);
	assert_int_equal(start(&u, H_A, 3600, 7200), STORE_OK);
	sql("UPDATE browser_sessions SET idle_expires_at = now() - interval"
	    " '1 second'");
	assert_int_equal(touch(H_A), STORE_NOT_FOUND);	/* idle too long */
	assert_int_equal(start(&u, H_B, 3600, 7200), STORE_OK);
	sql("UPDATE browser_sessions SET expires_at = now() + interval"
	    " '10 seconds', idle_expires_at = now() + interval '5 seconds'"
	    " WHERE token_hash = '" H_B "'");
	assert_int_equal(touch(H_B), STORE_OK);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM"
	    " browser_sessions WHERE token_hash = '" H_B "' AND"
	    " idle_expires_at = expires_at", 0, NULL), 1);
	sql("UPDATE browser_sessions SET expires_at = now(),"
	    " idle_expires_at = now()");
	assert_int_equal(touch(H_B), STORE_NOT_FOUND);
	/* A new login drops the dead ones. */
	assert_int_equal(start(&u, H_C, 3600, 7200), STORE_OK);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM"
	    " browser_sessions", 0, NULL), 1);
}

static void
test_logout_ends_the_session_once(void **state)
{
	struct user u;

	make_user("carol", &u);
	assert_int_equal(start(&u, H_A, 3600, 86400), STORE_OK);
	assert_int_equal(answer(sessions_end(s.pool, H_A, REMOTE, done_cb,
	    NULL)), STORE_OK);
	assert_int_equal(touch(H_A), STORE_NOT_FOUND);
	assert_int_equal(answer(sessions_end(s.pool, H_A, REMOTE, done_cb,
	    NULL)), STORE_NOT_FOUND);
}

static void
test_a_new_token_version_or_disabling_ends_every_session(void **state)
{
	struct user u;

	make_user("dave", &u);
	assert_int_equal(start(&u, H_A, 3600, 86400), STORE_OK);
	assert_int_equal(start(&u, H_B, 3600, 86400), STORE_OK);
	sql("UPDATE users SET token_version = token_version + 1");
	assert_int_equal(touch(H_A), STORE_NOT_FOUND);
	assert_int_equal(touch(H_B), STORE_NOT_FOUND);
	/* A login that read the old version starts nothing. */
	assert_int_equal(start(&u, H_C, 3600, 86400), STORE_NOT_FOUND);
	u.token_version++;
	assert_int_equal(start(&u, H_C, 3600, 86400), STORE_OK);
	sql("UPDATE users SET is_active = false");
	assert_int_equal(touch(H_C), STORE_NOT_FOUND);
}

static void
test_the_list_shows_sessions_and_families_and_one_ends_by_id(void **state)
{
	struct user	 u, v;
	char		 fam[PROTO_UUID_LEN + 1], tok[PROTO_UUID_LEN + 1];
	char		 q[512], browser[PROTO_UUID_LEN + 1];
	size_t		 i;

	make_user("erin", &u);
	make_user("frank", &v);
	assert_int_equal(start(&u, H_A, 3600, 86400), STORE_OK);
	str_copy(browser, got.id, sizeof(browser));
	assert_int_equal(start(&v, H_B, 3600, 86400), STORE_OK);
	uuid_random(fam);
	uuid_random(tok);
	snprintf(q, sizeof(q), "INSERT INTO refresh_tokens (id, user_id,"
	    " family, token_hash, expires_at) VALUES ('%s', '%s', '%s', '"
	    H_C "', now() + interval '1 day')", tok, u.id, fam);
	sql(q);
	assert_int_equal(answer(sessions_list(s.pool, u.id, H_A, listed_cb,
	    NULL)), STORE_OK);
	assert_int_equal(got.n, 2);
	for (i = 0; i < got.n; i++) {
		if (got.items[i].browser) {
			assert_string_equal(got.items[i].id, browser);
			assert_true(got.items[i].current);
			assert_string_equal(got.items[i].remote, REMOTE);
			assert_non_null(strstr(got.items[i].agent, "Mozilla"));
		} else {
			assert_string_equal(got.items[i].id, fam);
			assert_false(got.items[i].current);
			assert_string_equal(got.items[i].agent, "");
		}
		assert_int_equal(strlen(got.items[i].created), 20);
	}
	/* Another user's session is not ours to end. */
	assert_int_equal(answer(sessions_end_one(s.pool, v.id, browser,
	    REMOTE, done_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(answer(sessions_end_one(s.pool, u.id, fam, REMOTE,
	    done_cb, NULL)), STORE_OK);
	assert_int_equal(answer(sessions_end_one(s.pool, u.id, browser,
	    REMOTE, done_cb, NULL)), STORE_OK);
	assert_int_equal(answer(sessions_list(s.pool, u.id, NULL, listed_cb,
	    NULL)), STORE_OK);
	assert_int_equal(got.n, 0);
	assert_int_equal(touch(H_A), STORE_NOT_FOUND);
	assert_int_equal(touch(H_B), STORE_OK);	/* frank's lives on */
	assert_int_equal(answer(sessions_end_one(s.pool, u.id, fam, REMOTE,
	    done_cb, NULL)), STORE_NOT_FOUND);
}

static void
test_a_long_user_agent_is_cut_to_valid_text(void **state)
{
	struct user		 u;
	char			 agent[400];
	struct sessions_new	 n;

	make_user("gina", &u);
	/* 'é' is two bytes: 256 falls inside one. */
	memset(agent, 'a', 1);
	for (size_t i = 1; i + 1 < 399; i += 2)
		memcpy(agent + i, "\xc3\xa9", 2);
	agent[399] = '\0';
	n = (struct sessions_new){ u.id, H_A, u.token_version, 60, 60, true,
	    REMOTE, agent };
	assert_int_equal(answer(sessions_create(s.pool, &n, made_cb, NULL)),
	    STORE_OK);
	assert_int_equal(dbt_count(s.ctl, "SELECT octet_length(user_agent)"
	    " FROM browser_sessions", 0, NULL), 255);
	assert_int_equal(touch(H_A), STORE_OK);
	assert_true(got.found.second_factor);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup(f, setup)
	const struct CMUnitTest tests[] = {
		T(test_a_session_finds_its_user_and_is_audited),
		T(test_the_idle_expiry_moves_but_never_past_the_absolute_one),
		T(test_logout_ends_the_session_once),
		T(test_a_new_token_version_or_disabling_ends_every_session),
		T(test_the_list_shows_sessions_and_families_and_one_ends_by_id),
		T(test_a_long_user_agent_is_cut_to_valid_text),
	};
#undef T

	dbt_require_url("test_store_sessions");
	if (sodium_init() < 0)
		return 1;
	log_init("test_store_sessions", LOG_ERROR, false);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
