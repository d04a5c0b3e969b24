/*
 * The schema of daemon/store/migrations against a real PostgreSQL (DATABASE_URL):
 * the CHECK constraints refuse what the field rules refuse, the unique
 * indexes ignore case, and deleting a user takes its refresh tokens along.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <cmocka.h>
#include <libpq-fe.h>

#include "dbtest.h"
#include "log.h"
#include "store/migrate.h"

#define CHECK_VIOLATION		"23514"
#define UNIQUE_VIOLATION	"23505"
#define NOT_NULL_VIOLATION	"23502"

static char	db_name[64];
static PGconn	*conn;

static int
group_setup(void **state)
{
	char conninfo[2048], err[512];

	if (!dbt_create_db("test_schema", db_name, sizeof(db_name), conninfo,
	    sizeof(conninfo)) || (conn = dbt_connect(conninfo)) == NULL)
		return -1;
	if (migrate_run(conn, err, sizeof(err)) < 0) {
		fprintf(stderr, "migrate: %s\n", err);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	PQfinish(conn);
	dbt_drop_db(db_name);
	return 0;
}

/* Each test starts with empty tables. */
static int
clean(void **state)
{
	return dbt_exec(conn, "TRUNCATE users, refresh_tokens, audit_events "
	    "CASCADE") == PGRES_COMMAND_OK ? 0 : -1;
}

/* Runs sql with params; returns "" on success or the SQLSTATE (static). */
static const char *
run(const char *sql, int n, const char *const *params)
{
	static char state[8];
	PGresult *r = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	const char *s;

	state[0] = '\0';
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		snprintf(state, sizeof(state), "%s", s != NULL ? s : "?????");
	}
	PQclear(r);
	return state;
}

#define INSERT_USER \
	"INSERT INTO users (username, email, full_name, password_hash, roles) " \
	"VALUES ($1, $2, $3, 'x', coalesce($4::text[], '{}'))"

/* Inserts a user; "" or the SQLSTATE. */
static const char *
insert_user(const char *username, const char *email, const char *full_name,
    const char *roles)
{
	const char *p[4] = { username, email, full_name, roles };

	return run(INSERT_USER, 4, p);
}

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
test_good_user(void **state)
{
	char v[256];

	assert_string_equal(insert_user("alice", "alice@example.com",
	    "Alice Liddell", "{admin,ops-1,x_y}"), "");
	assert_string_equal(insert_user("B0b.the-builder_2", "b@x.io", NULL,
	    NULL), "");
	/* Defaults. */
	assert_true(dbt_value(conn, "SELECT roles = '{}' AND is_active AND "
	    "token_version = 0 AND failed_logins = 0 AND locked_until IS NULL "
	    "AND created_at = updated_at AND id::text ~ '^[0-9a-f-]{36}$' "
	    "FROM users WHERE username = 'B0b.the-builder_2'", 0, NULL, v,
	    sizeof(v)));
	assert_string_equal(v, "t");
	/* Stored as given. */
	assert_true(dbt_value(conn, "SELECT email FROM users WHERE "
	    "lower(username) = 'alice'", 0, NULL, v, sizeof(v)));
	assert_string_equal(v, "alice@example.com");
}

static void
test_username_rules(void **state)
{
	static const char *const bad[] = {
		"ab", "_abc", ".abc", "-abc", "a b", "al!ce", "", "al\xc3\xa9",
		"alice@", "ali/ce",
	};
	char *s32 = repeat('a', 32), *s33 = repeat('a', 33);
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_string_equal(insert_user(bad[i], "u@example.com", NULL,
		    NULL), CHECK_VIOLATION);
	assert_string_equal(insert_user(s33, "u@example.com", NULL, NULL),
	    CHECK_VIOLATION);
	assert_string_equal(insert_user(NULL, "u@example.com", NULL, NULL),
	    NOT_NULL_VIOLATION);
	assert_string_equal(insert_user(s32, "u@example.com", NULL, NULL), "");
	assert_string_equal(insert_user("abc", "v@example.com", NULL, NULL), "");
	assert_string_equal(insert_user("9a.", "w@example.com", NULL, NULL), "");
	free(s32);
	free(s33);
}

static void
test_email_rules(void **state)
{
	static const char *const bad[] = {
		"noat", "a@b", "@example.com", "a@@example.com",
		"a@b@example.com", "a b@example.com", "a@exa mple.com",
		"a@example..com", "a@.example.com", "a@example.com.",
		"a@-example.com", "a@example-.com", "a@exa_mple.com",
		"a\t@example.com", "\xc3\xa9@example.com", "a@ex\xc3\xa9.com",
		"",
	};
	char local64[80], local65[80], long254[300], long255[300];
	char *l63 = repeat('l', 63), *l64 = repeat('l', 64);
	char *u;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[16];

		snprintf(name, sizeof(name), "user%zu", i);
		assert_string_equal(insert_user(name, bad[i], NULL, NULL),
		    CHECK_VIOLATION);
	}
	assert_string_equal(insert_user("user", NULL, NULL, NULL),
	    NOT_NULL_VIOLATION);

	/* The local part: 64 bytes at most. */
	u = repeat('x', 64);
	snprintf(local64, sizeof(local64), "%s@example.com", u);
	free(u);
	u = repeat('x', 65);
	snprintf(local65, sizeof(local65), "%s@example.com", u);
	free(u);
	assert_string_equal(insert_user("l65", local65, NULL, NULL),
	    CHECK_VIOLATION);
	assert_string_equal(insert_user("l64", local64, NULL, NULL), "");

	/* The whole: 254 bytes at most (labels of 63 and fewer). */
	snprintf(long254, sizeof(long254), "a@%s.%s.%s.%s", l63, l63, l63,
	    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefgh");
	assert_int_equal(strlen(long254), 254);
	snprintf(long255, sizeof(long255), "ab@%s.%s.%s.%s", l63, l63, l63,
	    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefgh");
	assert_string_equal(insert_user("long255", long255, NULL, NULL),
	    CHECK_VIOLATION);
	assert_string_equal(insert_user("long254", long254, NULL, NULL), "");
	/* A label of 64 is too long. */
	snprintf(long255, sizeof(long255), "a@%s.com", l64);
	assert_string_equal(insert_user("label64", long255, NULL, NULL),
	    CHECK_VIOLATION);

	assert_string_equal(insert_user("ok1", "A.B+tag!#$%&'*/=?^_`{|}~@Sub-1.Example.COM",
	    NULL, NULL), "");
	assert_string_equal(insert_user("ok2", "x@a.b.c.d", NULL, NULL), "");
	free(l63);
	free(l64);
}

static void
test_full_name_rules(void **state)
{
	char name[1024];
	size_t i;

	/* 128 characters of two bytes each pass; 129 do not. */
	name[0] = '\0';
	for (i = 0; i < 128; i++)
		strlcat(name, "\xc3\xa9", sizeof(name));
	assert_string_equal(insert_user("fn128", "fn128@example.com", name,
	    NULL), "");
	strlcat(name, "e", sizeof(name));
	assert_string_equal(insert_user("fn129", "fn129@example.com", name,
	    NULL), CHECK_VIOLATION);
	assert_string_equal(insert_user("fnlf", "fnlf@example.com", "a\nb",
	    NULL), CHECK_VIOLATION);
	assert_string_equal(insert_user("fndel", "fndel@example.com", "a\x7f",
	    NULL), CHECK_VIOLATION);
	/* U+0085 (NEL), a C1 control. */
	assert_string_equal(insert_user("fnc1", "fnc1@example.com",
	    "a\xc2\x85", NULL), CHECK_VIOLATION);
	assert_string_equal(insert_user("fnok", "fnok@example.com",
	    "Ma\xc3\xaft\xc3\xa9 O'Brien-\xe6\x9d\x8e \xf0\x9f\x98\x80",
	    NULL), "");
	assert_string_equal(insert_user("fnnull", "fnnull@example.com", NULL,
	    NULL), "");
}

static void
test_role_rules(void **state)
{
	static const char *const bad[] = {
		"{Admin}", "{\"\"}", "{\"a b\"}", "{NULL}", "{admin,NULL}",
		"{{a},{b}}", "{r\xc3\xa9le}", "{a.b}",
		"{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}",	/* 33 */
	};
	char many[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[16];

		snprintf(name, sizeof(name), "role%zu", i);
		assert_string_equal(insert_user(name, "r@example.com", NULL,
		    bad[i]), CHECK_VIOLATION);
	}
	/* 32 roles pass, 33 do not. */
	snprintf(many, sizeof(many), "{");
	for (i = 0; i < 32; i++) {
		char r[8];

		snprintf(r, sizeof(r), "%sr%zu", i > 0 ? "," : "", i);
		strlcat(many, r, sizeof(many));
	}
	strlcat(many, "}", sizeof(many));
	assert_string_equal(insert_user("roles32", "r32@example.com", NULL,
	    many), "");
	many[strlen(many) - 1] = '\0';
	strlcat(many, ",r32}", sizeof(many));
	assert_string_equal(insert_user("roles33", "r33@example.com", NULL,
	    many), CHECK_VIOLATION);
	assert_string_equal(insert_user("rolemax", "rmax@example.com", NULL,
	    "{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,0-_z}"), "");
	/* An update is held to the same rule. */
	assert_string_equal(run("UPDATE users SET roles = '{BAD}' WHERE "
	    "username = 'rolemax'", 0, NULL), CHECK_VIOLATION);
	assert_string_equal(run("UPDATE users SET roles = NULL WHERE "
	    "username = 'rolemax'", 0, NULL), NOT_NULL_VIOLATION);
}

static void
test_unique_ignores_case(void **state)
{
	const char *p[4] = { NULL, NULL, NULL, NULL };
	PGresult *r;

	assert_string_equal(insert_user("alice", "alice@example.com", NULL,
	    NULL), "");
	p[0] = "Alice";
	p[1] = "other@example.com";
	r = PQexecParams(conn, INSERT_USER, 4, NULL, p, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
	assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE),
	    UNIQUE_VIOLATION);
	/* The handlers tell the fields apart by the constraint's name. */
	assert_string_equal(PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME),
	    "users_username_lower_key");
	PQclear(r);

	p[0] = "bob";
	p[1] = "ALICE@Example.com";
	r = PQexecParams(conn, INSERT_USER, 4, NULL, p, NULL, NULL, 0);
	assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE),
	    UNIQUE_VIOLATION);
	assert_string_equal(PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME),
	    "users_email_lower_key");
	PQclear(r);

	assert_string_equal(insert_user("ALICE2", "alice2@example.com", NULL,
	    NULL), "");
	assert_string_equal(run("UPDATE users SET username = 'aLiCe' WHERE "
	    "username = 'ALICE2'", 0, NULL), UNIQUE_VIOLATION);
}

#define INSERT_TOKEN \
	"INSERT INTO refresh_tokens (user_id, family, token_hash, expires_at) " \
	"SELECT id, gen_random_uuid(), sha256($2::bytea), now() + interval '1 day' " \
	"FROM users WHERE username = $1"

static void
test_refresh_tokens(void **state)
{
	const char *p[2];
	char v[64];

	assert_string_equal(insert_user("carol", "carol@example.com", NULL,
	    NULL), "");
	assert_string_equal(insert_user("dave", "dave@example.com", NULL,
	    NULL), "");
	p[0] = "carol";
	p[1] = "t1";
	assert_string_equal(run(INSERT_TOKEN, 2, p), "");
	p[1] = "t2";
	assert_string_equal(run(INSERT_TOKEN, 2, p), "");
	p[0] = "dave";
	p[1] = "t3";
	assert_string_equal(run(INSERT_TOKEN, 2, p), "");
	/* The same hash twice is refused. */
	assert_string_equal(run(INSERT_TOKEN, 2, p), UNIQUE_VIOLATION);
	/* Only SHA-256 digests: 32 bytes. */
	assert_string_equal(run("INSERT INTO refresh_tokens (user_id, family, "
	    "token_hash, expires_at) SELECT id, gen_random_uuid(), "
	    "'\\x0102'::bytea, now() FROM users WHERE username = 'dave'", 0,
	    NULL), CHECK_VIOLATION);
	/* A token belongs to an existing user. */
	assert_string_equal(run("INSERT INTO refresh_tokens (user_id, family, "
	    "token_hash, expires_at) VALUES (gen_random_uuid(), "
	    "gen_random_uuid(), sha256('x'), now())", 0, NULL), "23503");

	/* Deleting a user deletes its tokens, and only its. */
	assert_string_equal(run("DELETE FROM users WHERE username = 'carol'", 0,
	    NULL), "");
	assert_true(dbt_value(conn, "SELECT count(*) FROM refresh_tokens", 0,
	    NULL, v, sizeof(v)));
	assert_string_equal(v, "1");
}

static void
test_audit_events(void **state)
{
	static const char *const events[] = {
		"login_ok", "login_failed", "locked", "registered",
		"password_changed", "roles_changed", "disabled", "enabled",
		"updated", "deleted", "refresh_reuse", "logout", "revoked",
	};
	const char *p[2];
	char v[64];
	size_t i;

	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		p[0] = events[i];
		p[1] = "{\"why\": \"test\"}";
		/* No foreign key: events outlive their users. */
		assert_string_equal(run("INSERT INTO audit_events (user_id, "
		    "event, remote_addr, detail) VALUES (gen_random_uuid(), $1, "
		    "'192.0.2.1', $2::jsonb)", 2, p), "");
	}
	p[0] = "bogus";
	assert_string_equal(run("INSERT INTO audit_events (event) VALUES ($1)",
	    1, p), CHECK_VIOLATION);
	assert_string_equal(run("INSERT INTO audit_events (event) VALUES "
	    "(NULL)", 0, NULL), NOT_NULL_VIOLATION);
	assert_true(dbt_value(conn, "SELECT count(*) FILTER (WHERE at <= now() "
	    "AND id > 0) FROM audit_events", 0, NULL, v, sizeof(v)));
	assert_int_equal(strtol(v, NULL, 10), (long)(sizeof(events) /
	    sizeof(events[0])));
}

static void
test_keyset_index(void **state)
{
	char v[64];

	/* The pagination index exists on (created_at, id). */
	assert_true(dbt_value(conn, "SELECT pg_get_indexdef("
	    "'users_created_at_id_idx'::regclass) ~ '\\(created_at, id\\)'",
	    0, NULL, v, sizeof(v)));
	assert_string_equal(v, "t");
}

/* The provider's clients: a secret exactly when confidential, redirect
 * URIs absolute https or loopback http, scopes of ours, a known alg. */
static void
test_oauth_clients(void **state)
{
#define CLIENT_INSERT \
	"INSERT INTO oauth_clients (client_id, name, secret_hash, public, " \
	"redirect_uris, scopes, id_token_signed_response_alg) VALUES " \
	"($1, 'App', $2::bytea, $3::boolean, $4::text[], " \
	"coalesce($5::text[], '{openid}'), coalesce($6, 'RS256'))"
	static const char *h = "\\x0000000000000000000000000000000000000000"
	    "000000000000000000000000";
	static const char *id = "abcdefghijklmnopqrstuv";
	const char *good[] = { id, h, "f", "{https://a.example/cb}", NULL,
	    NULL };
	const char *pub[] = { "abcdefghijklmnopqrstuw", NULL, "t",
	    "{http://127.0.0.1:9/cb,http://[::1]/x,http://localhost}", NULL,
	    "EdDSA" };
	static const char *const bad_uris[] = {
		"{}", "{http://a.example/cb}", "{https://a.example/cb#f}",
		"{https://u@a.example/cb}", "{/cb}", "{\"https://a b/\"}",
		"{http://127.0.0.1.evil.example/}",
	};
	size_t i;

	assert_string_equal(run(CLIENT_INSERT, 6, good), "");
	assert_string_equal(run(CLIENT_INSERT, 6, pub), "");
	for (i = 0; i < sizeof(bad_uris) / sizeof(bad_uris[0]); i++) {
		const char *p[] = { "zbcdefghijklmnopqrstuv", h, "f",
		    bad_uris[i], NULL, NULL };

		assert_string_equal(run(CLIENT_INSERT, 6, p), CHECK_VIOLATION);
	}
	{
		const char *nosecret[] = { "zbcdefghijklmnopqrstuv", NULL, "f",
		    "{https://a.example/cb}", NULL, NULL };
		const char *pubsecret[] = { "zbcdefghijklmnopqrstuv", h, "t",
		    "{https://a.example/cb}", NULL, NULL };
		const char *scope[] = { "zbcdefghijklmnopqrstuv", h, "f",
		    "{https://a.example/cb}", "{openid,admin}", NULL };
		const char *alg[] = { "zbcdefghijklmnopqrstuv", h, "f",
		    "{https://a.example/cb}", NULL, "HS256" };
		const char *shortid[] = { "short", h, "f",
		    "{https://a.example/cb}", NULL, NULL };

		assert_string_equal(run(CLIENT_INSERT, 6, nosecret),
		    CHECK_VIOLATION);
		assert_string_equal(run(CLIENT_INSERT, 6, pubsecret),
		    CHECK_VIOLATION);
		assert_string_equal(run(CLIENT_INSERT, 6, scope),
		    CHECK_VIOLATION);
		assert_string_equal(run(CLIENT_INSERT, 6, alg),
		    CHECK_VIOLATION);
		assert_string_equal(run(CLIENT_INSERT, 6, shortid),
		    CHECK_VIOLATION);
	}
	assert_string_equal(run("DELETE FROM oauth_clients", 0, NULL), "");
#undef CLIENT_INSERT
}

/*
 * 0010_refresh_clients.sql: a refresh-token family is either first-party
 * (no client, scopes, auth_time or amr) or a client's, with all four and
 * scopes a one-dimensional list of the provider's scopes without NULLs;
 * a client's families go with the client.
 */
static void
test_refresh_clients(void **state)
{
#define FAMILY_INSERT \
	"INSERT INTO refresh_tokens (user_id, family, token_hash, " \
	"expires_at, client_id, scopes, auth_time, amr) SELECT id, " \
	"gen_random_uuid(), sha256($1::bytea), now() + interval '1 day', " \
	"$2, $3::text[], $4::timestamptz, $5::text[] FROM users " \
	"WHERE username = 'erin'"
	static const char *h = "\\x0000000000000000000000000000000000000000"
	    "000000000000000000000000";
	const char *client[] = { "abcdefghijklmnopqrstuv", h, "f",
	    "{https://a.example/cb}", NULL, NULL };
	static const char *cid = "abcdefghijklmnopqrstuv";
#define AT "2030-01-01T00:00:00Z"
	const char *at = AT;
	/* token, client_id, scopes, auth_time, amr: each refused */
	static const char *const bad[][5] = {
		/* a client's family missing one of the four */
		{ "b1", "abcdefghijklmnopqrstuv", NULL, AT, "{pwd}" },
		{ "b2", "abcdefghijklmnopqrstuv", "{openid}", NULL, "{pwd}" },
		{ "b3", "abcdefghijklmnopqrstuv", "{openid}", AT, NULL },
		/* a first-party family with one of them */
		{ "b4", NULL, "{openid}", NULL, NULL },
		{ "b5", NULL, NULL, AT, NULL },
		{ "b6", NULL, NULL, NULL, "{pwd}" },
		/* scopes: unknown, NULL inside, two dimensions */
		{ "b7", "abcdefghijklmnopqrstuv", "{openid,admin}", AT,
		    "{pwd}" },
		{ "b8", "abcdefghijklmnopqrstuv", "{openid,NULL}", AT,
		    "{pwd}" },
		{ "b9", "abcdefghijklmnopqrstuv", "{{openid},{email}}", AT,
		    "{pwd}" },
		{ "b10", "abcdefghijklmnopqrstuv", "{OpenID}", AT, "{pwd}" },
	};
	char v[64];
	size_t i;

	assert_string_equal(insert_user("erin", "erin@example.com", NULL,
	    NULL), "");
	assert_string_equal(run("INSERT INTO oauth_clients (client_id, name, "
	    "secret_hash, public, redirect_uris) VALUES ($1, 'App', "
	    "$2::bytea, $3::boolean, $4::text[])", 4, client), "");
	{
		const char *first[] = { "g1", NULL, NULL, NULL, NULL };
		const char *all[] = { "g2", cid,
		    "{openid,profile,email,roles,offline_access}", at,
		    "{pwd,otp,mfa}" };
		const char *empty_amr[] = { "g3", cid, "{openid}", at, "{}" };

		assert_string_equal(run(FAMILY_INSERT, 5, first), "");
		assert_string_equal(run(FAMILY_INSERT, 5, all), "");
		assert_string_equal(run(FAMILY_INSERT, 5, empty_amr), "");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *st = run(FAMILY_INSERT, 5, bad[i]);

		if (strcmp(st, CHECK_VIOLATION) != 0)
			fail_msg("row %s: want %s, got '%s'", bad[i][0],
			    CHECK_VIOLATION, st);
	}
	{
		/* A client that does not exist. */
		const char *ghost[] = { "b11", "zzzzzzzzzzzzzzzzzzzzzz",
		    "{openid}", at, "{pwd}" };

		assert_string_equal(run(FAMILY_INSERT, 5, ghost), "23503");
	}
	/* Removing the client removes its families, not the first-party
	 * one. */
	assert_string_equal(run("DELETE FROM oauth_clients", 0, NULL), "");
	assert_true(dbt_value(conn, "SELECT count(*) FROM refresh_tokens "
	    "WHERE client_id IS NULL", 0, NULL, v, sizeof(v)));
	assert_string_equal(v, "1");
	assert_true(dbt_value(conn, "SELECT count(*) FROM refresh_tokens", 0,
	    NULL, v, sizeof(v)));
	assert_string_equal(v, "1");
#undef AT
#undef FAMILY_INSERT
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_good_user, clean),
		cmocka_unit_test_setup(test_username_rules, clean),
		cmocka_unit_test_setup(test_email_rules, clean),
		cmocka_unit_test_setup(test_full_name_rules, clean),
		cmocka_unit_test_setup(test_role_rules, clean),
		cmocka_unit_test_setup(test_unique_ignores_case, clean),
		cmocka_unit_test_setup(test_refresh_tokens, clean),
		cmocka_unit_test_setup(test_audit_events, clean),
		cmocka_unit_test_setup(test_keyset_index, clean),
		cmocka_unit_test_setup(test_oauth_clients, clean),
		cmocka_unit_test_setup(test_refresh_clients, clean),
	};

	dbt_require_url("test_schema");
	log_init("test_schema", LOG_WARN, false);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
