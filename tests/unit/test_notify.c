/*
 * The database's side of forward-auth's revocations against a real
 * PostgreSQL (DATABASE_URL): the trigger of migration 0002 (which changes
 * notify and are recorded in user_changes, which are not), the LISTEN
 * connection of store/notify.h on a libevent loop (notifications, its
 * connection terminated and re-established), and the statements of
 * store/user_changes.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dbtest.h"
#include "store/notify.h"
#include "store/user_changes.h"

#define CHANNEL	"warden_user_changed"
#define WAIT_MS	10000	/* a safeguard against a hang, not a measure */

static struct dbt_store s;

static int	 nup, ndown, nevents;
static char	 last[2048];

static void
on_event(const char *payload, void *arg)
{
	nevents++;
	snprintf(last, sizeof(last), "%s", payload);
}

static void
on_up(void *arg)
{
	nup++;
}

static void
on_down(void *arg)
{
	ndown++;
}

static const struct notify_cbs cbs = { on_event, on_up, on_down };

/* The last payload was id then rest. */
static void
expect_payload(const char *id, const char *rest)
{
	char	 want[2048];

	snprintf(want, sizeof(want), "%s%s", id, rest);
	assert_string_equal(last, want);
}

/* A new user; its id in id. */
static void
new_user(char id[PROTO_UUID_LEN + 1])
{
	static int seq;
	char	 name[32], mail[64];
	const char *p[] = { name, mail };

	snprintf(name, sizeof(name), "user%d", ++seq);
	snprintf(mail, sizeof(mail), "user%d@example.test", seq);
	assert_true(dbt_value(s.ctl, "INSERT INTO users (username, email, "
	    "password_hash) VALUES ($1, $2, 'x') RETURNING id", 2, p, id,
	    PROTO_UUID_LEN + 1));
}

static void
exec_on(const char *sql, const char *id)
{
	PGresult *r = PQexecParams(s.ctl, sql, 1, NULL, &id, NULL, NULL, 0);

	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
}

/* Runs the loop until *counter reaches target. */
static void
wait_for(const int *counter, int target)
{
	assert_true(dbt_wait(&s, counter, target, WAIT_MS));
}

/* Runs the loop a little, for what should not come. */
static void
linger(void)
{
	struct timeval t0;

	gettimeofday(&t0, NULL);
	while (dbt_ms_since(&t0) < 300)
		event_base_loop(s.base, EVLOOP_ONCE);
}

static void
token_changes_notify_and_others_do_not(void **st)
{
	struct notify *n;
	char	 id[PROTO_UUID_LEN + 1];
	int	 before;

	nup = ndown = nevents = 0;
	assert_non_null(n = notify_new(s.base, s.conninfo, CHANNEL, &cbs,
	    NULL));
	assert_false(notify_listening(n));	/* connects from the loop */
	wait_for(&nup, 1);
	assert_true(notify_listening(n));
	new_user(id);
	linger();
	assert_int_equal(nevents, 0);	/* a registration revokes nothing */

	/* Logout and password change: the token version. */
	exec_on("UPDATE users SET token_version = token_version + 1 "
	    "WHERE id = $1", id);
	wait_for(&nevents, 1);
	/* The new state travels with it. */
	expect_payload(id, " 1 t ");
	/* Disable, roles. */
	exec_on("UPDATE users SET is_active = false WHERE id = $1", id);
	wait_for(&nevents, 2);
	expect_payload(id, " 1 f ");
	exec_on("UPDATE users SET roles = '{editor,admin}' WHERE id = $1", id);
	wait_for(&nevents, 3);
	expect_payload(id, " 1 f editor,admin");
	/* What no token carries: nothing. */
	before = nevents;
	exec_on("UPDATE users SET full_name = 'F', failed_logins = 3, "
	    "roles = '{editor,admin}', updated_at = now() WHERE id = $1", id);
	linger();
	assert_int_equal(nevents, before);
	/* A rolled back change tells nobody. */
	assert_int_equal(dbt_exec(s.ctl, "BEGIN"), PGRES_COMMAND_OK);
	exec_on("UPDATE users SET is_active = true WHERE id = $1", id);
	assert_int_equal(dbt_exec(s.ctl, "ROLLBACK"), PGRES_COMMAND_OK);
	linger();
	assert_int_equal(nevents, before);
	/* Deletion. */
	exec_on("DELETE FROM users WHERE id = $1", id);
	wait_for(&nevents, before + 1);
	expect_payload(id, " deleted");
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM user_changes "
	    "WHERE user_id = $1 AND changed_at > now() - interval '1 minute'",
	    1, (const char *const []){ id }), 1);
	assert_int_equal(ndown, 0);
	notify_free(n);
}

static void
listener_comes_back_after_its_connection_is_terminated(void **st)
{
	struct notify *n;
	char	 id[PROTO_UUID_LEN + 1];

	nup = ndown = nevents = 0;
	assert_non_null(n = notify_new(s.base, s.conninfo, CHANNEL, &cbs,
	    NULL));
	wait_for(&nup, 1);
	/* (The listener of the test before may linger a moment.) */
	assert_true(dbt_count(s.ctl, "SELECT count(*) FILTER (WHERE "
	    "pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
	    "WHERE application_name = 'wardend-listen'", 0, NULL) >= 1);
	wait_for(&ndown, 1);
	assert_false(notify_listening(n));
	assert_true(notify_failures(n) >= 1);
	/* Up again: the caller catches up here; and told again. */
	wait_for(&nup, 2);
	assert_true(notify_listening(n));
	new_user(id);
	exec_on("UPDATE users SET token_version = 7 WHERE id = $1", id);
	wait_for(&nevents, 1);
	expect_payload(id, " 7 t ");
	notify_free(n);
}

/* A first host that connects and says nothing (dbt_silent_first_host())
 * does not keep the listener from the real server, the second. */
static void
listener_passes_over_a_silent_first_host(void **st)
{
	struct notify *n;
	char	 url[4096];
	int	 fd;

	nup = ndown = nevents = 0;
	assert_true((fd = dbt_silent_first_host(s.conninfo, url,
	    sizeof(url))) >= 0);
	assert_non_null(n = notify_new(s.base, url, CHANNEL, &cbs, NULL));
	/* WAIT_MS: a safeguard; unbounded, the first attempt would wait
	 * for the silent host until TCP gives up. */
	wait_for(&nup, 1);
	assert_true(notify_listening(n));
	assert_true(notify_failures(n) >= 1);
	notify_free(n);
	close(fd);
}

/* The server's process freezes under the listener (SIGSTOP: no reset, the
 * kernel still acknowledges): the unanswered heartbeat drops it, and it
 * comes back once the server does. */
static void
listener_leaves_a_frozen_server(void **st)
{
	struct notify *n;

	nup = ndown = nevents = 0;
	assert_non_null(n = notify_new(s.base, s.conninfo, CHANNEL, &cbs,
	    NULL));
	wait_for(&nup, 1);
	assert_true(dbt_signal_backends(s.ctl, s.name, SIGSTOP) >= 1);
	/* A safeguard, not a measure: two heartbeats of 5 s. */
	assert_true(dbt_wait(&s, &ndown, 1, 20000));
	assert_false(notify_listening(n));
	(void)dbt_signal_backends(s.ctl, s.name, SIGCONT);
	assert_true(dbt_wait(&s, &nup, 2, 20000));
	assert_true(notify_listening(n));
	notify_free(n);
}

static void
bad_channel_is_refused(void **st)
{
	assert_null(notify_new(s.base, s.conninfo, "Bad;", &cbs, NULL));
	assert_null(notify_new(s.base, s.conninfo, "", &cbs, NULL));
	assert_null(notify_new(s.base, s.conninfo, "1abc", &cbs, NULL));
}

static int	 nanswers;
static enum store_status ans_st;
static struct user_state ans[8];
static size_t	 nans;

static void
answered(enum store_status st, const struct user_state *rows, size_t n,
    void *arg)
{
	nanswers++;
	ans_st = st;
	nans = n;
	memset(ans, 0, sizeof(ans));
	if (n > 0)
		memcpy(ans, rows, (n < 8 ? n : 8) * sizeof(*rows));
}

static const struct user_state *
find(const char *id)
{
	for (size_t i = 0; i < nans && i < 8; i++) {
		if (strcmp(ans[i].id, id) == 0)
			return &ans[i];
	}
	return NULL;
}

static void
user_states_are_read_also_of_deleted_users(void **st)
{
	char	 a[PROTO_UUID_LEN + 1], b[PROTO_UUID_LEN + 1];
	char	 c[PROTO_UUID_LEN + 1];
	const struct user_state *x;

	assert_int_equal(dbt_exec(s.ctl, "TRUNCATE user_changes"),
	    PGRES_COMMAND_OK);
	new_user(a);
	new_user(b);
	new_user(c);		/* never changed */
	exec_on("UPDATE users SET roles = '{admin,editor}', "
	    "token_version = 4 WHERE id = $1", a);
	exec_on("DELETE FROM users WHERE id = $1", b);
	nanswers = 0;
	assert_int_equal(user_changes_get(s.pool, a, answered, NULL), 0);
	wait_for(&nanswers, 1);
	assert_int_equal(ans_st, STORE_OK);
	assert_int_equal(nans, 1);
	assert_string_equal(ans[0].id, a);
	assert_true(ans[0].exists && ans[0].is_active);
	assert_int_equal(ans[0].token_version, 4);
	assert_string_equal(ans[0].roles, "admin,editor");
	assert_int_equal(user_changes_get(s.pool, b, answered, NULL), 0);
	wait_for(&nanswers, 2);
	assert_int_equal(ans_st, STORE_OK);
	assert_int_equal(nans, 1);
	assert_false(ans[0].exists);
	assert_int_equal(user_changes_get(s.pool, "not-a-uuid", answered,
	    NULL), -1);

	assert_int_equal(user_changes_since(s.pool, 60, answered, NULL), 0);
	wait_for(&nanswers, 3);
	assert_int_equal(ans_st, STORE_OK);
	assert_int_equal(nans, 2);
	assert_non_null(x = find(a));
	assert_true(x->exists);
	assert_true(x->changed_at > (int64_t)time(NULL) - 60);
	assert_non_null(x = find(b));
	assert_false(x->exists);
	assert_null(find(c));
	/* Older changes are out of the window. */
	assert_int_equal(dbt_exec(s.ctl, "UPDATE user_changes SET changed_at = "
	    "now() - interval '2 minutes'"), PGRES_COMMAND_OK);
	assert_int_equal(user_changes_since(s.pool, 60, answered, NULL), 0);
	wait_for(&nanswers, 4);
	assert_int_equal(ans_st, STORE_OK);
	assert_int_equal(nans, 0);
}

static void
old_changes_are_pruned_by_deletions(void **st)
{
	char	 a[PROTO_UUID_LEN + 1], b[PROTO_UUID_LEN + 1];

	new_user(a);
	new_user(b);
	exec_on("UPDATE users SET is_active = false WHERE id = $1", a);
	assert_int_equal(dbt_exec(s.ctl, "UPDATE user_changes SET changed_at = "
	    "now() - interval '3 days'"), PGRES_COMMAND_OK);
	exec_on("DELETE FROM users WHERE id = $1", b);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM user_changes",
	    0, NULL), 1);
	assert_int_equal(dbt_count(s.ctl, "SELECT count(*) FROM user_changes "
	    "WHERE user_id = $1", 1, (const char *const []){ b }), 1);
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(token_changes_notify_and_others_do_not),
		cmocka_unit_test(listener_comes_back_after_its_connection_is_terminated),
		cmocka_unit_test(listener_passes_over_a_silent_first_host),
		cmocka_unit_test(listener_leaves_a_frozen_server),
		cmocka_unit_test(bad_channel_is_refused),
		cmocka_unit_test(user_states_are_read_also_of_deleted_users),
		cmocka_unit_test(old_changes_are_pruned_by_deletions),
	};
	int	 rc;

	dbt_require_url(argv[0]);
	if (!dbt_store_open(&s, "test_notify", 2))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	dbt_store_close(&s);
	return rc;
}
