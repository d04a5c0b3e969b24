/*
 * daemon/store/users.c against a real PostgreSQL (DATABASE_URL), through
 * the daemon's pool, without HTTP: what each intent changes, records and
 * answers, and the invariants it keeps (unique names, sessions ended with
 * the password or the account, the account lock).
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
#include "store/devices.h"
#include "store/row.h"
#include "store/users.h"
#include "util.h"

#define WAIT_MS		10000
#define REMOTE		"192.0.2.1"

static struct dbt_store s;

/* What the last callback said. */
static struct got {
	int		 calls;
	enum store_status st;
	bool		 have_user;
	struct user	 u;
	enum users_taken taken;
	char		 stored[PROTO_STORED_MAX + 1];
	bool		 trusted;
	bool		 locked;
	unsigned int	 failed_logins;
	size_t		 n;
	bool		 more;
	int64_t		 last_us;
	char		 ids[USERS_PAGE_MAX][PROTO_UUID_LEN + 1];
} got;

static void
row_cb(enum store_status st, const struct user *u, void *arg)
{
	got.calls++;
	got.st = st;
	if ((got.have_user = u != NULL))
		got.u = *u;
}

static void
created_cb(enum store_status st, const struct user *u, enum users_taken taken,
    void *arg)
{
	row_cb(st, u, arg);
	got.taken = taken;
}

static void
done_cb(enum store_status st, void *arg)
{
	got.calls++;
	got.st = st;
}

static void
taken_cb(enum store_status st, enum users_taken taken, void *arg)
{
	got.calls++;
	got.st = st;
	got.taken = taken;
}

static void
hash_cb(enum store_status st, const char *stored, void *arg)
{
	got.calls++;
	got.st = st;
	str_copy(got.stored, stored != NULL ? stored : "", sizeof(got.stored));
}

static void
login_cb(enum store_status st, const struct users_login *l, void *arg)
{
	got.calls++;
	got.st = st;
	if ((got.have_user = l != NULL)) {
		got.u = l->user;
		str_copy(got.stored, l->stored, sizeof(got.stored));
		got.trusted = l->trusted;
		got.locked = l->locked;
		got.failed_logins = l->failed_logins;
	}
}

/* Device tokens' hashes (bytea literals) for the tests. */
#define DEV_A	"\\x" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DEV_B	"\\x" "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DEVICE_TTL	3600
#define LOCKOUT_MAX	60

/* Starts users_find_login for login from device (a hash, or NULL). */
static int
find_login_from(const char *login, const char *device)
{
	struct users_login_query q = { login, device, DEVICE_TTL,
	    LOCKOUT_MAX };

	return users_find_login(s.pool, &q, login_cb, NULL);
}

static int
find_login(const char *login)
{
	return find_login_from(login, NULL);
}

static void
page_cb(enum store_status st, const struct users_page *p, void *arg)
{
	got.calls++;
	got.st = st;
	if (p == NULL)
		return;
	got.n = p->n;
	got.more = p->more;
	got.last_us = p->last_us;
	for (size_t i = 0; i < p->n; i++)
		str_copy(got.ids[i], p->items[i].id, sizeof(got.ids[i]));
}

/* Waits for the answer of a call that returned rc. */
static enum store_status
answer(int rc)
{
	assert_int_equal(rc, 0);
	assert_true(dbt_wait(&s, &got.calls, 1, WAIT_MS));
	assert_int_equal(got.calls, 1);
	return got.st;
}

static void
reset(void)
{
	memset(&got, 0, sizeof(got));
}

/* Registers name (e-mail name@example.test, hash "hash-NAME") into *u. */
static void
make_user(const char *name, struct user *u)
{
	char	 id[PROTO_UUID_LEN + 1], email[64], stored[64];
	struct users_new n = { id, name, email, NULL, stored, REMOTE, NULL };

	uuid_random(id);
	snprintf(email, sizeof(email), "%s@example.test", name);
	snprintf(stored, sizeof(stored), "hash-%s", name);
	reset();
	assert_int_equal(answer(users_create(s.pool, &n, created_cb, NULL)),
	    STORE_OK);
	*u = got.u;
	reset();
}

/* Gives user id a live refresh token of a family of its own. */
static void
give_token(const char *id)
{
	const char *p[] = { id };

	assert_int_equal(dbt_count(s.ctl, "WITH t AS (INSERT INTO "
	    "refresh_tokens (user_id, family, token_hash, expires_at) "
	    "VALUES ($1, gen_random_uuid(), "
	    "sha256(gen_random_uuid()::text::bytea), "
	    "now() + interval '1 hour') RETURNING 1) SELECT count(*) FROM t",
	    1, p), 1);
}

static long
live_tokens(const char *id)
{
	const char *p[] = { id };

	return dbt_count(s.ctl, "SELECT count(*) FROM refresh_tokens "
	    "WHERE user_id = $1 AND revoked_at IS NULL", 1, p);
}

static long
events(const char *id, const char *event)
{
	const char *p[] = { id, event };

	return dbt_count(s.ctl, "SELECT count(*) FROM audit_events "
	    "WHERE user_id = $1 AND event = $2", 2, p);
}

static long
token_version(const char *id)
{
	const char *p[] = { id };

	return dbt_count(s.ctl, "SELECT token_version FROM users "
	    "WHERE id = $1", 1, p);
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
	return dbt_store_open(&s, "test_store_users", 2) ? 0 : -1;
}

static int
group_teardown(void **state)
{
	dbt_store_close(&s);
	return 0;
}

/* --- find and create ------------------------------------------------- */

static void
test_create_returns_the_row_and_records_registered(void **state)
{
	char	 id[PROTO_UUID_LEN + 1];
	struct users_new n = { id, "Alice", "Alice@Example.test", "Alice L.",
	    "hash-alice", REMOTE, NULL };

	uuid_random(id);
	assert_int_equal(answer(users_create(s.pool, &n, created_cb, NULL)),
	    STORE_OK);
	assert_true(got.have_user);
	assert_string_equal(got.u.id, id);
	assert_string_equal(got.u.username, "Alice");
	assert_string_equal(got.u.email, "Alice@Example.test");
	assert_true(got.u.has_full_name);
	assert_string_equal(got.u.full_name, "Alice L.");
	assert_int_equal(got.u.nroles, 0);
	assert_true(got.u.is_active);
	assert_int_equal(got.u.token_version, 0);
	assert_int_equal(strlen(got.u.created_at), 20);
	assert_int_equal(events(id, "registered"), 1);
}

static void
test_taken_username_is_a_conflict_on_the_username(void **state)
{
	struct user u;
	char	 id[PROTO_UUID_LEN + 1];
	struct users_new n = { id, "BOB", "other@example.test", NULL,
	    "hash-x", REMOTE, NULL };

	make_user("bob", &u);
	uuid_random(id);
	assert_int_equal(answer(users_create(s.pool, &n, created_cb, NULL)),
	    STORE_CONFLICT);
	assert_false(got.have_user);
	assert_int_equal(got.taken, USERS_TAKEN_USERNAME);
	assert_int_equal(events(id, "registered"), 0);
}

static void
test_taken_email_is_a_conflict_on_the_email(void **state)
{
	struct user u;
	char	 id[PROTO_UUID_LEN + 1];
	struct users_new n = { id, "carol2", "CAROL@example.test", NULL,
	    "hash-x", REMOTE, NULL };

	make_user("carol", &u);
	uuid_random(id);
	assert_int_equal(answer(users_create(s.pool, &n, created_cb, NULL)),
	    STORE_CONFLICT);
	assert_int_equal(got.taken, USERS_TAKEN_EMAIL);
}

static void
test_taken_names_are_told_in_any_case_the_username_first(void **state)
{
	struct user u;

	make_user("zoe", &u);
	assert_int_equal(answer(users_taken(s.pool, "ZOE", "ZOE@example.TEST",
	    taken_cb, NULL)), STORE_CONFLICT);
	assert_int_equal(got.taken, USERS_TAKEN_USERNAME);
	reset();
	assert_int_equal(answer(users_taken(s.pool, "zoe2", "Zoe@Example.test",
	    taken_cb, NULL)), STORE_CONFLICT);
	assert_int_equal(got.taken, USERS_TAKEN_EMAIL);
	reset();
	assert_int_equal(answer(users_taken(s.pool, "zoe2", "zoe2@example.test",
	    taken_cb, NULL)), STORE_OK);
	assert_int_equal(got.taken, USERS_TAKEN_NONE);
}

static void
test_find_returns_the_row_or_not_found(void **state)
{
	struct user u;
	char	 id[PROTO_UUID_LEN + 1];

	make_user("dave", &u);
	assert_int_equal(answer(users_find(s.pool, u.id, row_cb, NULL)),
	    STORE_OK);
	assert_string_equal(got.u.username, "dave");
	reset();
	uuid_random(id);
	assert_int_equal(answer(users_find(s.pool, id, row_cb, NULL)),
	    STORE_NOT_FOUND);
	assert_false(got.have_user);
}

static void
test_find_login_matches_username_or_email_in_any_case(void **state)
{
	struct user u;

	make_user("erin", &u);
	assert_int_equal(answer(find_login("ERIN")), STORE_OK);
	assert_string_equal(got.u.id, u.id);
	assert_string_equal(got.stored, "hash-erin");
	assert_false(got.locked);
	assert_int_equal(got.failed_logins, 0);
	reset();
	assert_int_equal(answer(find_login("Erin@EXAMPLE.test")), STORE_OK);
	assert_string_equal(got.u.id, u.id);
	reset();
	/* An '@' means an e-mail address: a username never matches it. */
	assert_int_equal(answer(find_login("erin@")), STORE_NOT_FOUND);
	reset();
	assert_int_equal(answer(find_login("nobody")), STORE_NOT_FOUND);
	assert_false(got.have_user);
}

static void
test_password_hash_is_read_or_not_found(void **state)
{
	struct user u;
	char	 id[PROTO_UUID_LEN + 1];

	make_user("frank", &u);
	assert_int_equal(answer(users_password_hash(s.pool, u.id, hash_cb,
	    NULL)), STORE_OK);
	assert_string_equal(got.stored, "hash-frank");
	reset();
	uuid_random(id);
	assert_int_equal(answer(users_password_hash(s.pool, id, hash_cb,
	    NULL)), STORE_NOT_FOUND);
}

/* --- changes --------------------------------------------------------- */

static void
test_patch_of_an_unknown_user_is_not_found(void **state)
{
	char	 id[PROTO_UUID_LEN + 1];
	struct users_patch p = { .id = id, .set_full_name = true,
	    .full_name = "X", .remote = REMOTE, .actor = "someone" };

	uuid_random(id);
	assert_int_equal(answer(users_patch(s.pool, &p, row_cb, NULL)),
	    STORE_NOT_FOUND);
}

static void
test_patch_to_a_taken_email_is_a_conflict(void **state)
{
	struct user a, b;
	struct users_patch p = { .set_email = true,
	    .email = "GINA@example.test", .remote = REMOTE };

	make_user("gina", &a);
	make_user("hank", &b);
	p.id = b.id;
	p.actor = b.id;
	assert_int_equal(answer(users_patch(s.pool, &p, row_cb, NULL)),
	    STORE_CONFLICT);
	assert_int_equal(events(b.id, "updated"), 0);
}

static void
test_patch_changes_what_it_sets_and_records_updated(void **state)
{
	struct user u;
	struct users_patch p = { .set_email = true, .email = "i2@example.test",
	    .set_full_name = true, .full_name = NULL, .remote = REMOTE };

	make_user("ida", &u);
	p.id = u.id;
	p.actor = u.id;
	assert_int_equal(answer(users_patch(s.pool, &p, row_cb, NULL)),
	    STORE_OK);
	assert_string_equal(got.u.email, "i2@example.test");
	assert_false(got.u.has_full_name);
	assert_string_equal(got.u.username, "ida");
	/* Neither roles nor activity changed: old access tokens stay good. */
	assert_int_equal(got.u.token_version, 0);
	assert_int_equal(events(u.id, "updated"), 1);
}

/* Sets u's roles ("admin" or none) and is_active; the store's status. */
static enum store_status
set_admin(const struct user *u, bool admin, bool active)
{
	const char *roles[] = { "admin" };
	struct users_patch p = { .id = u->id, .set_roles = true,
	    .roles = roles, .nroles = admin ? 1 : 0, .set_active = true,
	    .active = active, .remote = REMOTE, .actor = "admin-id" };

	reset();
	return answer(users_patch(s.pool, &p, row_cb, NULL));
}

static void
test_the_last_active_admin_stays(void **state)
{
	struct user a, b;

	make_user("alice", &a);
	make_user("bob", &b);
	assert_int_equal(set_admin(&a, true, true), STORE_OK);
	/* Demoted, disabled or deleted, alice would leave no admin. */
	assert_int_equal(set_admin(&a, false, true), STORE_REFUSED);
	assert_int_equal(set_admin(&a, true, false), STORE_REFUSED);
	reset();
	assert_int_equal(answer(users_delete(s.pool, a.id, NULL, REMOTE,
	    "admin-id", done_cb, NULL)), STORE_REFUSED);
	/* Nothing of it happened. */
	reset();
	assert_int_equal(answer(users_find(s.pool, a.id, row_cb, NULL)),
	    STORE_OK);
	assert_true(got.u.is_active);
	assert_int_equal(got.u.nroles, 1);
	/* With bob an admin too, alice may go; then bob is the last. */
	assert_int_equal(set_admin(&b, true, true), STORE_OK);
	assert_int_equal(set_admin(&a, false, true), STORE_OK);
	assert_int_equal(set_admin(&b, true, false), STORE_REFUSED);
	/* A disabled admin is no admin: re-enabling needs no check. */
	assert_int_equal(set_admin(&a, true, false), STORE_OK);
	assert_int_equal(set_admin(&a, true, true), STORE_OK);
}

static enum store_status race_st[2];
static int race_calls;

static void
race_cb(enum store_status st, const struct user *u, void *arg)
{
	race_st[(intptr_t)arg] = st;
	race_calls++;
}

/* Two admins demoting each other at once, on two connections: one
 * wins, the other is refused, and one admin is left. */
static void
test_two_admins_demoting_each_other_leave_one(void **state)
{
	const char *none[] = { NULL };
	struct user a, b;
	struct users_patch pa = { .set_roles = true, .roles = none,
	    .nroles = 0, .remote = REMOTE, .actor = "x" }, pb = pa;
	char	 n[16];

	make_user("alice", &a);
	make_user("bob", &b);
	assert_int_equal(set_admin(&a, true, true), STORE_OK);
	assert_int_equal(set_admin(&b, true, true), STORE_OK);
	pa.id = a.id;
	pb.id = b.id;
	race_calls = 0;
	assert_int_equal(users_patch(s.pool, &pa, race_cb, (void *)0), 0);
	assert_int_equal(users_patch(s.pool, &pb, race_cb, (void *)1), 0);
	assert_true(dbt_wait(&s, &race_calls, 2, WAIT_MS));
	assert_true((race_st[0] == STORE_OK && race_st[1] == STORE_REFUSED) ||
	    (race_st[0] == STORE_REFUSED && race_st[1] == STORE_OK));
	assert_true(dbt_value(s.ctl, "SELECT count(*) FROM users WHERE "
	    "is_active AND 'admin' = ANY (roles)", 0, NULL, n, sizeof(n)));
	assert_string_equal(n, "1");
}

static void
test_changing_roles_bumps_the_token_version(void **state)
{
	struct user u;
	const char *roles[] = { "admin", "null" };
	struct users_patch p = { .set_roles = true, .roles = roles,
	    .nroles = 2, .remote = REMOTE, .actor = "admin-id" };

	make_user("jack", &u);
	p.id = u.id;
	assert_int_equal(answer(users_patch(s.pool, &p, row_cb, NULL)),
	    STORE_OK);
	assert_int_equal(got.u.nroles, 2);
	assert_string_equal(got.u.roles[0], "admin");
	/* A role named "null" stays a string. */
	assert_string_equal(got.u.roles[1], "null");
	assert_int_equal(got.u.token_version, 1);
	assert_int_equal(events(u.id, "roles_changed"), 1);
	/* The same roles again change nothing. */
	reset();
	assert_int_equal(answer(users_patch(s.pool, &p, row_cb, NULL)),
	    STORE_OK);
	assert_int_equal(got.u.token_version, 1);
	assert_int_equal(events(u.id, "roles_changed"), 1);
}

static void
test_a_role_that_is_not_one_is_refused_before_the_database(void **state)
{
	const char *roles[] = { "Admin\"" };
	struct users_patch p = { .id = "00000000-0000-4000-8000-000000000000",
	    .set_roles = true, .roles = roles, .nroles = 1, .remote = REMOTE,
	    .actor = "x" };

	assert_int_equal(users_patch(s.pool, &p, row_cb, NULL), -1);
	assert_int_equal(got.calls, 0);
}

static void
test_disabling_revokes_the_refresh_tokens_and_bumps_the_version(void **state)
{
	struct user u, other;
	struct users_patch p = { .set_active = true, .active = false,
	    .remote = REMOTE, .actor = "admin-id" };

	make_user("kate", &u);
	make_user("liam", &other);
	give_token(u.id);
	give_token(u.id);
	give_token(other.id);
	p.id = u.id;
	assert_int_equal(answer(users_patch(s.pool, &p, row_cb, NULL)),
	    STORE_OK);
	assert_false(got.u.is_active);
	assert_int_equal(got.u.token_version, 1);
	assert_int_equal(live_tokens(u.id), 0);
	assert_int_equal(live_tokens(other.id), 1);
	assert_int_equal(events(u.id, "disabled"), 1);
	/* Enabling again is recorded, and revives nothing. */
	reset();
	p.active = true;
	assert_int_equal(answer(users_patch(s.pool, &p, row_cb, NULL)),
	    STORE_OK);
	assert_true(got.u.is_active);
	assert_int_equal(got.u.token_version, 1);
	assert_int_equal(live_tokens(u.id), 0);
	assert_int_equal(events(u.id, "enabled"), 1);
}

static void
test_set_password_ends_every_session(void **state)
{
	struct user u;

	make_user("mia", &u);
	give_token(u.id);
	give_token(u.id);
	assert_int_equal(answer(users_set_password(s.pool, u.id, "hash-new",
	    "hash-mia", REMOTE, done_cb, NULL)), STORE_OK);
	assert_int_equal(live_tokens(u.id), 0);
	assert_int_equal(token_version(u.id), 1);
	assert_int_equal(events(u.id, "password_changed"), 1);
	reset();
	assert_int_equal(answer(users_password_hash(s.pool, u.id, hash_cb,
	    NULL)), STORE_OK);
	assert_string_equal(got.stored, "hash-new");
}

static void
test_set_password_over_a_changed_hash_is_not_found(void **state)
{
	struct user u;

	make_user("nina", &u);
	give_token(u.id);
	assert_int_equal(answer(users_set_password(s.pool, u.id, "hash-new",
	    "hash-stale", REMOTE, done_cb, NULL)), STORE_NOT_FOUND);
	assert_int_equal(live_tokens(u.id), 1);
	assert_int_equal(token_version(u.id), 0);
	assert_int_equal(events(u.id, "password_changed"), 0);
}

static void
test_delete_over_a_changed_hash_deletes_nothing(void **state)
{
	struct user u;

	make_user("omar", &u);
	assert_int_equal(answer(users_delete(s.pool, u.id, "hash-stale",
	    REMOTE, "self", done_cb, NULL)), STORE_NOT_FOUND);
	reset();
	assert_int_equal(answer(users_find(s.pool, u.id, row_cb, NULL)),
	    STORE_OK);
}

static void
test_delete_takes_the_tokens_and_records_who(void **state)
{
	struct user u, v;
	const char *p[] = { u.id };

	make_user("pia", &u);
	make_user("quin", &v);
	give_token(u.id);
	assert_int_equal(answer(users_delete(s.pool, u.id, "hash-pia", REMOTE,
	    "self", done_cb, NULL)), STORE_OK);
	reset();
	assert_int_equal(answer(users_delete(s.pool, v.id, NULL, REMOTE,
	    u.id, done_cb, NULL)), STORE_OK);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM "
	    "refresh_tokens WHERE user_id = $1", 1, p), 0);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM audit_events "
	    "WHERE event = 'deleted' AND detail->>'by' = 'self'", 0, NULL), 1);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM audit_events "
	    "WHERE event = 'deleted' AND detail->>'by' = $1", 1, p), 1);
	reset();
	assert_int_equal(answer(users_delete(s.pool, v.id, NULL, REMOTE,
	    u.id, done_cb, NULL)), STORE_NOT_FOUND);
}

static void
test_end_sessions_revokes_every_family_and_bumps_the_version(void **state)
{
	struct user u, other;
	const char *p[] = { u.id };

	make_user("rosa", &u);
	make_user("sam", &other);
	give_token(u.id);
	give_token(u.id);
	give_token(other.id);
	assert_int_equal(answer(users_end_sessions(s.pool, u.id, REMOTE,
	    done_cb, NULL)), STORE_OK);
	assert_int_equal(live_tokens(u.id), 0);
	assert_int_equal(live_tokens(other.id), 1);
	assert_int_equal(token_version(u.id), 1);
	assert_int_equal(dbt_count(s.ctl, "SELECT (detail->>'revoked')::int "
	    "FROM audit_events WHERE user_id = $1 AND event = 'logout'", 1,
	    p), 2);
}

/* --- the login bookkeeping ------------------------------------------- */

static void
fail_login_from(const struct user *u, bool counts, const char *reason,
    const char *device)
{
	struct users_failure f = { u != NULL ? u->id : NULL, counts, 3,
	    LOCKOUT_MAX, REMOTE, reason, device };

	reset();
	assert_int_equal(answer(users_login_failed(s.pool, &f, done_cb, NULL)),
	    STORE_OK);
}

static void
fail_login(const struct user *u, bool counts, const char *reason)
{
	fail_login_from(u, counts, reason, NULL);
}

/* Looks login up (from device) and checks what applies to the client. */
static void
expect_login(const char *login, const char *device, bool trusted,
    bool locked, unsigned int failed)
{
	reset();
	assert_int_equal(answer(find_login_from(login, device)), STORE_OK);
	assert_int_equal(got.trusted, trusted);
	assert_int_equal(got.locked, locked);
	assert_int_equal(got.failed_logins, failed);
}

/* Makes dev a trusted device of user id, last used ago seconds ago. */
static void
give_device(const char *id, const char *dev, int ago)
{
	char	 q[512];
	const char *p[] = { id };

	snprintf(q, sizeof(q), "WITH d AS (INSERT INTO login_devices "
	    "(token_hash, user_id, last_used_at) VALUES ('%s'::bytea, $1, "
	    "now() - interval '%d seconds') RETURNING 1) SELECT count(*) "
	    "FROM d", dev, ago);
	assert_int_equal(dbt_count(s.ctl, q, 1, p), 1);
}

/* Seconds until the lock of the row (FROM what, $1 id) ends; -1: none. */
static long
locked_for(const char *what, const char *id)
{
	char	 q[256];
	const char *p[] = { id };

	snprintf(q, sizeof(q), "SELECT coalesce(round(extract(epoch FROM "
	    "locked_until - now()))::bigint, -1) FROM %s", what);
	return dbt_count(s.ctl, q, 1, p);
}

static void
test_wrong_passwords_lock_the_account_at_the_maximum(void **state)
{
	struct user u;

	make_user("tara", &u);
	fail_login(&u, true, "wrong_password");
	fail_login(&u, true, "wrong_password");
	reset();
	assert_int_equal(answer(find_login("tara")), STORE_OK);
	assert_int_equal(got.failed_logins, 2);
	assert_false(got.locked);
	fail_login(&u, true, "wrong_password");
	reset();
	assert_int_equal(answer(find_login("tara")), STORE_OK);
	assert_int_equal(got.failed_logins, 3);
	assert_true(got.locked);
	assert_int_equal(events(u.id, "login_failed"), 3);
	assert_int_equal(events(u.id, "locked"), 1);
}

static void
test_failures_that_do_not_count_are_only_audited(void **state)
{
	struct user u;

	make_user("uma", &u);
	fail_login(&u, false, "disabled");
	fail_login(NULL, false, "unknown_user");
	reset();
	assert_int_equal(answer(find_login("uma")), STORE_OK);
	assert_int_equal(got.failed_logins, 0);
	assert_int_equal(events(u.id, "login_failed"), 1);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM audit_events "
	    "WHERE user_id IS NULL AND detail->>'reason' = 'unknown_user'",
	    0, NULL), 1);
}

static void
test_failures_during_a_lock_neither_count_nor_extend_it(void **state)
{
	struct user u;
	const char *p[] = { NULL };
	char	 before[64], after[64];

	make_user("vera", &u);
	p[0] = u.id;
	for (int i = 0; i < 3; i++)
		fail_login(&u, true, "wrong_password");
	expect_login("vera", NULL, false, true, 3);
	assert_true(dbt_value(s.ctl, "SELECT locked_until::text FROM users "
	    "WHERE id = $1", 1, p, before, sizeof(before)));
	/* Guesses against the lock, even ones that began before it. */
	for (int i = 0; i < 5; i++)
		fail_login(&u, true, "wrong_password");
	assert_true(dbt_value(s.ctl, "SELECT locked_until::text FROM users "
	    "WHERE id = $1", 1, p, after, sizeof(after)));
	assert_string_equal(before, after);
	expect_login("vera", NULL, false, true, 3);
	assert_int_equal(events(u.id, "login_failed"), 8);
	assert_int_equal(events(u.id, "locked"), 1);
	/* Once it ends, the next failure locks again, twice as long. */
	(void)dbt_count(s.ctl, "WITH x AS (UPDATE users SET locked_until = "
	    "now() - interval '1 second' WHERE id = $1 RETURNING 1) "
	    "SELECT count(*) FROM x", 1, p);
	expect_login("vera", NULL, false, false, 3);
	fail_login(&u, true, "wrong_password");
	expect_login("vera", NULL, false, true, 4);
	assert_in_range(locked_for("users WHERE id = $1", u.id), 1, 2);
}

static void
test_the_lock_never_outgrows_the_maximum(void **state)
{
	struct user u;
	const char *p[] = { NULL };

	make_user("wanda", &u);
	p[0] = u.id;
	/* Forty locks in a row, each waited out. */
	for (int i = 0; i < 40; i++) {
		fail_login(&u, true, "wrong_password");
		(void)dbt_count(s.ctl, "WITH x AS (UPDATE users SET "
		    "locked_until = now() WHERE id = $1 AND locked_until > "
		    "now() RETURNING 1) SELECT count(*) FROM x", 1, p);
	}
	fail_login(&u, true, "wrong_password");
	assert_in_range(locked_for("users WHERE id = $1", u.id),
	    LOCKOUT_MAX - 2, LOCKOUT_MAX);
}

static void
test_failures_are_forgotten_after_a_quiet_lockout_max(void **state)
{
	struct user u;
	const char *p[] = { NULL };

	make_user("xena", &u);
	p[0] = u.id;
	fail_login(&u, true, "wrong_password");
	fail_login(&u, true, "wrong_password");
	expect_login("xena", NULL, false, false, 2);
	/* A quiet lockout_max later they no longer count... */
	(void)dbt_count(s.ctl, "WITH x AS (UPDATE users SET last_failed_at = "
	    "now() - interval '61 seconds' WHERE id = $1 RETURNING 1) "
	    "SELECT count(*) FROM x", 1, p);
	expect_login("xena", NULL, false, false, 0);
	/* ... and the count starts again from one. */
	fail_login(&u, true, "wrong_password");
	fail_login(&u, true, "wrong_password");
	expect_login("xena", NULL, false, false, 2);
	/* Nor do those of a lock that ended a quiet lockout_max ago. */
	fail_login(&u, true, "wrong_password");
	expect_login("xena", NULL, false, true, 3);
	(void)dbt_count(s.ctl, "WITH x AS (UPDATE users SET last_failed_at = "
	    "now() - interval '200 seconds', locked_until = now() - "
	    "interval '61 seconds' WHERE id = $1 RETURNING 1) "
	    "SELECT count(*) FROM x", 1, p);
	expect_login("xena", NULL, false, false, 0);
}

static void
test_a_trusted_device_has_a_count_and_lock_of_its_own(void **state)
{
	struct user u, other;
	const char *p[] = { NULL };

	make_user("yara", &u);
	make_user("yuri", &other);
	p[0] = u.id;
	give_device(u.id, DEV_A, 10);
	give_device(other.id, DEV_B, 10);
	/* Strangers lock the account... */
	for (int i = 0; i < 3; i++)
		fail_login(&u, true, "wrong_password");
	expect_login("yara", NULL, false, true, 3);
	/* ... not the user's device. */
	expect_login("yara", DEV_A, true, false, 0);
	expect_login("YARA@example.test", DEV_A, true, false, 0);
	/* Another user's device is a stranger here. */
	expect_login("yara", DEV_B, false, true, 3);
	/* The device's failures count on the device alone. */
	fail_login_from(&u, true, "wrong_password", DEV_A);
	fail_login_from(&u, true, "wrong_password", DEV_A);
	expect_login("yara", DEV_A, true, false, 2);
	fail_login_from(&u, true, "wrong_password", DEV_A);
	expect_login("yara", DEV_A, true, true, 3);
	expect_login("yara", NULL, false, true, 3);
	expect_login("yuri", DEV_B, true, false, 0);
	expect_login("yuri", NULL, false, false, 0);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM audit_events "
	    "WHERE user_id = $1 AND event = 'locked' AND "
	    "(detail->>'device')::bool", 1, p), 1);
	/* Guesses against the device's lock do not count either. */
	fail_login_from(&u, true, "wrong_password", DEV_A);
	expect_login("yara", DEV_A, true, true, 3);
}

static void
test_a_device_unused_for_its_ttl_is_not_trusted(void **state)
{
	struct user u;

	make_user("zack", &u);
	give_device(u.id, DEV_A, DEVICE_TTL + 10);
	expect_login("zack", DEV_A, false, false, 0);
	/* Its failures, then, are the account's. */
	fail_login(&u, true, "wrong_password");
	expect_login("zack", DEV_A, false, false, 1);
}

/* --- devices_login ---------------------------------------------------- */

/* A successful login of u from device dev; a refresh token of its own. */
static enum store_status
device_login(const struct user *u, const char *dev, bool trusted)
{
	char	 tid[PROTO_UUID_LEN + 1], fam[PROTO_UUID_LEN + 1];
	char	 stored[64], hash[80];
	struct devices_login d;
	static unsigned int n;

	uuid_random(tid);
	uuid_random(fam);
	snprintf(stored, sizeof(stored), "hash-%s", u->username);
	snprintf(hash, sizeof(hash), "\\x%064x", ++n);
	memset(&d, 0, sizeof(d));
	d.login.user_id = u->id;
	d.login.stored = stored;
	d.login.token_id = tid;
	d.login.family = fam;
	d.login.hash = hash;
	d.login.ttl = 3600;
	d.login.remote = REMOTE;
	d.device = dev;
	d.trusted = trusted;
	d.device_ttl = DEVICE_TTL;
	reset();
	return answer(devices_login(s.pool, &d, done_cb, NULL));
}

static long
devices_of(const char *id)
{
	const char *p[] = { id };

	return dbt_count(s.ctl, "SELECT count(*) FROM login_devices "
	    "WHERE user_id = $1", 1, p);
}

static void
test_a_login_from_a_new_device_trusts_it_and_clears_the_account(void **state)
{
	struct user u;
	const char *p[] = { NULL };

	make_user("adam", &u);
	p[0] = u.id;
	fail_login(&u, true, "wrong_password");
	fail_login(&u, true, "wrong_password");
	assert_int_equal(device_login(&u, DEV_A, false), STORE_OK);
	expect_login("adam", NULL, false, false, 0);
	expect_login("adam", DEV_A, true, false, 0);
	assert_int_equal(live_tokens(u.id), 1);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM audit_events "
	    "WHERE user_id = $1 AND event = 'login_ok' AND "
	    "detail->>'device' = 'new'", 1, p), 1);
}

/* The portal's login (h_login_post.c): recorded, no refresh token. */
static void
test_a_login_without_a_refresh_token_is_recorded_all_the_same(void **state)
{
	struct user u;
	struct devices_login d;
	char	 stored[64];
	const char *p[] = { NULL };

	make_user("portia", &u);
	p[0] = u.id;
	fail_login(&u, true, "wrong_password");
	snprintf(stored, sizeof(stored), "hash-%s", u.username);
	memset(&d, 0, sizeof(d));
	d.login.user_id = u.id;
	d.login.stored = stored;
	d.login.ttl = 3600;
	d.login.remote = REMOTE;
	d.device = DEV_A;
	d.device_ttl = DEVICE_TTL;
	reset();
	assert_int_equal(answer(devices_login(s.pool, &d, done_cb, NULL)),
	    STORE_OK);
	assert_int_equal(live_tokens(u.id), 0);
	expect_login("portia", NULL, false, false, 0);
	assert_int_equal(devices_of(u.id), 1);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM audit_events "
	    "WHERE user_id = $1 AND event = 'login_ok'", 1, p), 1);
	/* A changed password hash: NOT_FOUND, as with a token. */
	d.login.stored = "hash-other";
	reset();
	assert_int_equal(answer(devices_login(s.pool, &d, done_cb, NULL)),
	    STORE_NOT_FOUND);
}

static void
test_a_login_from_a_trusted_device_leaves_the_account_lock(void **state)
{
	struct user u;
	const char *p[] = { NULL };

	make_user("beth", &u);
	p[0] = u.id;
	give_device(u.id, DEV_A, 100);
	for (int i = 0; i < 3; i++)
		fail_login(&u, true, "wrong_password");
	fail_login_from(&u, true, "wrong_password", DEV_A);
	assert_int_equal(device_login(&u, DEV_A, true), STORE_OK);
	/* The device's own failures are cleared, the strangers' lock
	 * stays: the owner's logins give guessers no new tries. */
	expect_login("beth", DEV_A, true, false, 0);
	expect_login("beth", NULL, false, true, 3);
	assert_int_equal(devices_of(u.id), 1);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM login_devices "
	    "WHERE user_id = $1 AND last_used_at > now() - interval '5 s'",
	    1, p), 1);
}

static void
test_another_users_device_is_never_taken_over(void **state)
{
	struct user u, other;

	make_user("cleo", &u);
	make_user("cyd", &other);
	give_device(other.id, DEV_B, 10);
	/* Were the caller to pass it, the device stays the other's. */
	(void)device_login(&u, DEV_B, true);
	expect_login("cyd", DEV_B, true, false, 0);
	expect_login("cleo", DEV_B, false, false, 0);
}

static void
test_a_user_keeps_a_bounded_number_of_live_devices(void **state)
{
	struct user u;
	char	 dev[80];

	make_user("dora", &u);
	give_device(u.id, DEV_B, DEVICE_TTL + 5);	/* expired */
	for (int i = 0; i < DEVICES_PER_USER + 3; i++) {
		snprintf(dev, sizeof(dev), "\\x%064x", 0x100000 + i);
		assert_int_equal(device_login(&u, dev, false), STORE_OK);
	}
	assert_int_equal(devices_of(u.id), DEVICES_PER_USER);
	/* The last used stay, the oldest and the expired went. */
	expect_login("dora", dev, true, false, 0);
	expect_login("dora", DEV_B, false, false, 0);
	snprintf(dev, sizeof(dev), "\\x%064x", 0x100000);
	expect_login("dora", dev, false, false, 0);
}

/* --- the admin's list ------------------------------------------------ */

static void
test_list_pages_by_creation_and_resumes_after_the_last(void **state)
{
	struct user u[5];
	struct users_search q = { .prefix = "", .limit = 2 };
	char	 name[16];
	int64_t	 last_us;
	char	 last_id[PROTO_UUID_LEN + 1];

	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "page%d", i);
		make_user(name, &u[i]);
	}
	assert_int_equal(answer(users_list(s.pool, &q, page_cb, NULL)),
	    STORE_OK);
	assert_int_equal(got.n, 2);
	assert_true(got.more);
	assert_string_equal(got.ids[0], u[0].id);
	assert_string_equal(got.ids[1], u[1].id);
	last_us = got.last_us;
	str_copy(last_id, got.ids[1], sizeof(last_id));
	assert_true(last_us > 0);

	q.after = true;
	q.after_us = last_us;
	q.after_id = last_id;
	q.limit = 3;
	reset();
	assert_int_equal(answer(users_list(s.pool, &q, page_cb, NULL)),
	    STORE_OK);
	assert_int_equal(got.n, 3);
	assert_false(got.more);
	assert_string_equal(got.ids[0], u[2].id);
	assert_string_equal(got.ids[2], u[4].id);
}

static void
test_list_prefix_matches_username_or_email(void **state)
{
	struct user a, b, c;
	struct users_search q = { .prefix = "VI", .limit = 10 };
	char	 id[PROTO_UUID_LEN + 1];
	struct users_new n = { id, "zed", "vince@example.test", NULL, "h",
	    REMOTE, NULL };

	make_user("victor", &a);
	make_user("walt", &b);
	uuid_random(id);
	assert_int_equal(answer(users_create(s.pool, &n, created_cb, NULL)),
	    STORE_OK);
	c = got.u;
	reset();
	assert_int_equal(answer(users_list(s.pool, &q, page_cb, NULL)),
	    STORE_OK);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.ids[0], a.id);
	assert_string_equal(got.ids[1], c.id);
	assert_false(got.more);
}

static void
test_list_refuses_a_limit_out_of_range(void **state)
{
	struct users_search q = { .prefix = "", .limit = 0 };

	assert_int_equal(users_list(s.pool, &q, page_cb, NULL), -1);
	q.limit = USERS_PAGE_MAX + 1;
	assert_int_equal(users_list(s.pool, &q, page_cb, NULL), -1);
	assert_int_equal(got.calls, 0);
}

/* --- failures -------------------------------------------------------- */

static void
test_a_database_that_cannot_be_reached_is_unavailable(void **state)
{
	struct db_pool *down;
	char	 conninfo[2200];

	/* A database that does not exist: every connection fails (the
	 * last dbname of a conninfo string wins). */
	str_copy(conninfo, s.conninfo, sizeof(conninfo));
	dbt_conninfo_add(conninfo, sizeof(conninfo), "dbname",
	    "warden_no_such_database");
	assert_non_null(down = db_pool_new(s.base, conninfo, 1, 0));
	assert_int_equal(answer(users_find(down,
	    "00000000-0000-4000-8000-000000000000", row_cb, NULL)),
	    STORE_UNAVAILABLE);
	assert_false(got.have_user);
	db_pool_free(down);
}

static void
test_a_failed_statement_is_an_error(void **state)
{
	/* Not a uuid: PostgreSQL refuses the parameter (22P02). */
	assert_int_equal(answer(users_find(s.pool, "not-a-uuid", row_cb,
	    NULL)), STORE_ERROR);
	assert_false(got.have_user);
}

static void
test_a_server_that_cannot_do_it_now_is_unavailable(void **state)
{
	static const char *const states[] = { "disk_full", "out_of_memory",
	    "too_many_connections", "admin_shutdown", "query_canceled",
	    "lock_not_available", "connection_failure" };
	char	 sql[256];

	/* What a full disk, a shutdown or a timeout answers: 503 material. */
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		str_printf(sql, sizeof(sql), "DO $$ BEGIN RAISE EXCEPTION "
		    "'test' USING ERRCODE = '%s'; END $$", states[i]);
		reset();
		assert_int_equal(answer(row_exec(s.pool, "test", sql, 0, NULL,
		    false, done_cb, NULL)), STORE_UNAVAILABLE);
	}
	/* A statement that is wrong stays an error. */
	reset();
	assert_int_equal(answer(row_exec(s.pool, "test", "DO $$ BEGIN RAISE "
	    "EXCEPTION 'test' USING ERRCODE = 'check_violation'; END $$", 0,
	    NULL, false, done_cb, NULL)), STORE_ERROR);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup(f, setup)
	const struct CMUnitTest tests[] = {
		T(test_create_returns_the_row_and_records_registered),
		T(test_taken_username_is_a_conflict_on_the_username),
		T(test_taken_email_is_a_conflict_on_the_email),
		T(test_taken_names_are_told_in_any_case_the_username_first),
		T(test_find_returns_the_row_or_not_found),
		T(test_find_login_matches_username_or_email_in_any_case),
		T(test_password_hash_is_read_or_not_found),
		T(test_patch_of_an_unknown_user_is_not_found),
		T(test_patch_to_a_taken_email_is_a_conflict),
		T(test_patch_changes_what_it_sets_and_records_updated),
		T(test_changing_roles_bumps_the_token_version),
		T(test_the_last_active_admin_stays),
		T(test_two_admins_demoting_each_other_leave_one),
		T(test_a_role_that_is_not_one_is_refused_before_the_database),
		T(test_disabling_revokes_the_refresh_tokens_and_bumps_the_version),
		T(test_set_password_ends_every_session),
		T(test_set_password_over_a_changed_hash_is_not_found),
		T(test_delete_over_a_changed_hash_deletes_nothing),
		T(test_delete_takes_the_tokens_and_records_who),
		T(test_end_sessions_revokes_every_family_and_bumps_the_version),
		T(test_wrong_passwords_lock_the_account_at_the_maximum),
		T(test_failures_that_do_not_count_are_only_audited),
		T(test_failures_during_a_lock_neither_count_nor_extend_it),
		T(test_the_lock_never_outgrows_the_maximum),
		T(test_failures_are_forgotten_after_a_quiet_lockout_max),
		T(test_a_trusted_device_has_a_count_and_lock_of_its_own),
		T(test_a_device_unused_for_its_ttl_is_not_trusted),
		T(test_a_login_from_a_new_device_trusts_it_and_clears_the_account),
		T(test_a_login_without_a_refresh_token_is_recorded_all_the_same),
		T(test_a_login_from_a_trusted_device_leaves_the_account_lock),
		T(test_another_users_device_is_never_taken_over),
		T(test_a_user_keeps_a_bounded_number_of_live_devices),
		T(test_list_pages_by_creation_and_resumes_after_the_last),
		T(test_list_prefix_matches_username_or_email),
		T(test_list_refuses_a_limit_out_of_range),
		T(test_a_database_that_cannot_be_reached_is_unavailable),
		T(test_a_failed_statement_is_an_error),
		T(test_a_server_that_cannot_do_it_now_is_unavailable),
	};
#undef T

	dbt_require_url("test_store_users");
	log_init("test_store_users", LOG_ERROR, false);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
