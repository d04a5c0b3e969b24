/*
 * config.c: every default, every value notation, every error path of the
 * file parser, the environment overrides, cfg_set(), cfg_dump(), and the
 * example etc/warden.conf with every keyword uncommented.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "config.h"
#include "log.h"

extern char **environ;

#define ERRLEN	512

static char	conf_path[64];

/* Removes every WARDEN_* variable and DATABASE_URL (make check runs the
 * tests under a throwaway PostgreSQL that sets it). */
static int
clear_env(void **state)
{
	char	 name[256];
	size_t	 n;
	int	 again = 1;

	while (again) {
		again = 0;
		for (char **e = environ; *e != NULL; e++) {
			if (strncmp(*e, "WARDEN_", 7) != 0 &&
			    strncmp(*e, "DATABASE_URL=", 13) != 0)
				continue;
			n = strcspn(*e, "=");
			if (n >= sizeof(name))
				continue;
			memcpy(name, *e, n);
			name[n] = '\0';
			unsetenv(name);
			again = 1;
			break;
		}
	}
	return 0;
}

static void
write_conf(const char *text, size_t len)
{
	FILE	*f;
	int	 fd;

	snprintf(conf_path, sizeof(conf_path), "/tmp/test_config.XXXXXX");
	fd = mkstemp(conf_path);
	assert_true(fd != -1);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Defaults, then the file holding len bytes of text, then the
 * environment; *c is the caller's to cfg_free(). */
static int
load_n(struct cfg *c, const char *text, size_t len, char *err)
{
	int	 r;

	write_conf(text, len);
	cfg_defaults(c);
	err[0] = '\0';
	r = cfg_load(c, conf_path, err, ERRLEN);
	unlink(conf_path);
	return r;
}

static int
load(struct cfg *c, const char *text, char *err)
{
	return load_n(c, text, strlen(text), err);
}

static void
load_ok(struct cfg *c, const char *text)
{
	char	 err[ERRLEN];

	if (load(c, text, err) != 0)
		fail_msg("unexpected error: %s", err);
}

/* The load fails with "path:line: ...want..."; nothing may leak. */
static void
expect_error_n(const char *text, size_t len, unsigned int line,
    const char *want)
{
	struct cfg	 c;
	char		 err[ERRLEN], prefix[128];

	if (load_n(&c, text, len, err) != -1)
		fail_msg("no error for \"%s\" (wanted %s)", text, want);
	snprintf(prefix, sizeof(prefix), "%s:%u: ", conf_path, line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, want) == NULL)
		fail_msg("for \"%s\": got \"%s\", wanted \"%s...%s\"", text,
		    err, prefix, want);
	cfg_free(&c);
}

static void
expect_error(const char *text, unsigned int line, const char *want)
{
	expect_error_n(text, strlen(text), line, want);
}

/* cfg_dump() into a string (caller frees). */
static char *
dump(const struct cfg *c)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	cfg_dump(c, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
check_defaults(const struct cfg *c)
{
	assert_int_equal(c->listen.n, 1);
	assert_string_equal(c->listen.v[0], "127.0.0.1:8080");
	assert_int_equal(c->listen_mode, 0660);
	assert_string_equal(c->metrics_listen, "");
	assert_string_equal(c->user, "warden");
	assert_string_equal(c->database_url, "postgresql:///warden");
	assert_int_equal(c->database_pool, 4);
	assert_int_equal(c->request_timeout, 30);
	assert_int_equal(c->read_timeout, 30);
	assert_int_equal(c->shutdown_timeout, 10);
	assert_int_equal(c->max_body_size, 64 * 1024);
	assert_int_equal(c->max_header_size, 8 * 1024);
	assert_int_equal(c->max_connections, 0);
	assert_int_equal(c->max_connections_per_address, 0);
	assert_int_equal(c->json_max_depth, 32);
	assert_int_equal(c->trusted_proxies.n, 0);
	assert_int_equal(c->registration, CFG_REGISTRATION_OPEN);

	/* Unset, the issuer is public_url once loaded (test_public_url). */
	assert_true(c->issuer[0] == '\0' ||
	    strcmp(c->issuer, c->public_url) == 0);
	assert_string_equal(c->audience, "warden");
	assert_int_equal(c->access_token_ttl, 15 * 60);
	assert_int_equal(c->refresh_token_ttl, 30 * 86400);
	assert_int_equal(c->refresh_grace, 10);

	assert_int_equal(c->password_min_length, 8);
	assert_string_equal(c->password_blocklist,
	    "/usr/share/john/password.lst");
	assert_int_equal(c->login_max_failures, 5);
	assert_int_equal(c->login_lockout_max, 15 * 60);
	assert_int_equal(c->login_device_ttl, 365LL * 24 * 3600);
	assert_int_equal(c->addr_login_limit, 20);
	assert_int_equal(c->addr_login_window, 60);

#ifdef WARDEN_HASHER_PATH
	assert_string_equal(c->hasher_path, WARDEN_HASHER_PATH);
#else
	assert_string_equal(c->hasher_path, "/usr/local/libexec/warden-hasher");
#endif
	assert_string_equal(c->hasher_socket, "");
	assert_string_equal(c->hasher_user, "warden-hasher");
	assert_string_equal(c->hasher_chroot, "/var/empty");
	assert_int_equal(c->hasher_workers, 0);
	assert_int_equal(c->hasher_queue, 256);
	assert_int_equal(c->hasher_timeout, 10);
#ifdef WARDEN_KEY_DIR
	assert_string_equal(c->key_dir, WARDEN_KEY_DIR);
#else
	assert_string_equal(c->key_dir, "/etc/warden/keys");
#endif
	assert_int_equal(c->argon2_memory, 19 * 1024 * 1024);
	assert_int_equal(c->argon2_iterations, 2);

	assert_int_equal(c->log_level, LOG_INFO);
	assert_int_equal(c->log_format, CFG_LOG_LOGFMT);
}

static void
test_defaults(void **state)
{
	struct cfg	 c;
	char		 err[ERRLEN];

	cfg_defaults(&c);
	check_defaults(&c);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), 0);
	check_defaults(&c);
	cfg_free(&c);
	/* cfg_free() leaves *c zeroed, and may run twice. */
	assert_null(c.user);
	assert_int_equal(c.listen.n, 0);
	cfg_free(&c);
}

static void
test_comments_and_blank_lines(void **state)
{
	struct cfg	 c;

	load_ok(&c, "");
	check_defaults(&c);
	cfg_free(&c);

	load_ok(&c, "\n   \n\t\n# a comment\n   # indented\n#user bob\n"
	    "user alice # after the value\n"
	    "issuer me#not-a-comment\n"
	    "audience \"#quoted\"\r\n"
	    "  key_dir\t/k  \t\n"
	    "hasher_chroot /c");	/* no final newline */
	assert_string_equal(c.user, "alice");
	assert_string_equal(c.issuer, "me#not-a-comment");
	assert_string_equal(c.audience, "#quoted");
	assert_string_equal(c.key_dir, "/k");
	assert_string_equal(c.hasher_chroot, "/c");
	cfg_free(&c);
}

static void
test_quoted_values(void **state)
{
	struct cfg	 c;

	load_ok(&c, "user \"a b\"\n"
	    "issuer \"say \\\"hi\\\" \\\\ \\n\"\n"
	    "metrics_listen \"\"\n"
	    "password_blocklist \"\"   # none\n"
	    "listen \"unix:/run/my dir/w.sock\"\n"
	    "database_pool \"7\"\n");
	assert_string_equal(c.user, "a b");
	assert_string_equal(c.issuer, "say \"hi\" \\ \\n");
	assert_string_equal(c.metrics_listen, "");
	assert_string_equal(c.password_blocklist, "");
	assert_int_equal(c.listen.n, 1);
	assert_string_equal(c.listen.v[0], "unix:/run/my dir/w.sock");
	assert_int_equal(c.database_pool, 7);
	cfg_free(&c);
}

static void
test_keyword_case(void **state)
{
	struct cfg	 c;

	load_ok(&c, "User bob\nDATABASE_POOL 3\n");
	assert_string_equal(c.user, "bob");
	assert_int_equal(c.database_pool, 3);
	cfg_free(&c);
}

static void
test_durations(void **state)
{
	struct cfg	 c;
	int64_t		 d;
	char		 err[ERRLEN];

	load_ok(&c, "request_timeout 45\nshutdown_timeout 0\n"
	    "access_token_ttl 2m\nrefresh_token_ttl 7d\n"
	    "login_lockout_max 1h\naddr_login_window 30s\n"
	    "hasher_timeout 5m\nrefresh_grace 0s\n");
	assert_int_equal(c.request_timeout, 45);
	assert_int_equal(c.shutdown_timeout, 0);
	assert_int_equal(c.access_token_ttl, 120);
	assert_int_equal(c.refresh_token_ttl, 7 * 86400);
	assert_int_equal(c.login_lockout_max, 3600);
	assert_int_equal(c.addr_login_window, 30);
	assert_int_equal(c.hasher_timeout, 300);
	assert_int_equal(c.refresh_grace, 0);
	cfg_free(&c);

	assert_int_equal(cfg_parse_duration("365d", 0, INT64_MAX, &d, err,
	    sizeof(err)), 0);
	assert_int_equal(d, 365 * 86400);
	assert_int_equal(cfg_parse_duration("5", 5, 5, &d, err, sizeof(err)),
	    0);
	assert_int_equal(d, 5);

	expect_error("request_timeout 5x\n", 1, "bad duration \"5x\" "
	    "(expected seconds or a number with s, m, h or d");
	expect_error("request_timeout 5ms\n", 1, "bad duration");
	expect_error("request_timeout 5M\n", 1, "bad duration");
	expect_error("request_timeout 1.5h\n", 1, "bad duration");
	expect_error("request_timeout -5\n", 1, "bad duration");
	expect_error("request_timeout m\n", 1, "bad duration");
	expect_error("request_timeout \"\"\n", 1, "bad duration");
	expect_error("request_timeout 2h\n", 1,
	    "request_timeout: duration 2h out of range (1s..1h)");
	expect_error("request_timeout 0\n", 1, "out of range (1s..1h)");
	expect_error("refresh_token_ttl 366d\n", 1, "out of range (1m..365d)");
	expect_error("shutdown_timeout 99999999999999999999\n", 1,
	    "out of range (0..10m)");
	expect_error("shutdown_timeout 9999999999999999d\n", 1,
	    "out of range (0..10m)");
	assert_int_equal(cfg_parse_duration("99999999999999999999s", 0,
	    INT64_MAX, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "out of range"));
}

static void
test_sizes(void **state)
{
	struct cfg	 c;
	size_t		 n;
	char		 err[ERRLEN];

	load_ok(&c, "max_body_size 1024\nmax_header_size 16k\n"
	    "argon2_memory 64M\n");
	assert_int_equal(c.max_body_size, 1024);
	assert_int_equal(c.max_header_size, 16 * 1024);
	assert_int_equal(c.argon2_memory, 64 * 1024 * 1024);
	cfg_free(&c);

	load_ok(&c, "max_body_size 16M\nmax_header_size 1K\n"
	    "argon2_memory 4096M\n");
	assert_int_equal(c.max_body_size, 16 * 1024 * 1024);
	assert_int_equal(c.max_header_size, 1024);
	assert_int_equal(c.argon2_memory, 4096ULL * 1024 * 1024);
	cfg_free(&c);

	assert_int_equal(cfg_parse_size("512", 0, SIZE_MAX, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 512);
	assert_int_equal(cfg_parse_size("2m", 0, SIZE_MAX, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 2 * 1024 * 1024);

	expect_error("max_body_size 64KB\n", 1, "bad size \"64KB\" (expected "
	    "bytes or a number with K or M");
	expect_error("max_body_size 1G\n", 1, "bad size");
	expect_error("max_body_size K\n", 1, "bad size");
	expect_error("max_body_size -1\n", 1, "bad size");
	expect_error("max_body_size 0x100\n", 1, "bad size");
	expect_error("max_body_size 16385K\n", 1,
	    "max_body_size: size 16385K out of range (1K..16M)");
	expect_error("max_body_size 1023\n", 1, "out of range (1K..16M)");
	expect_error("max_header_size 99999999999999999999\n", 1,
	    "out of range (1K..64K)");
	expect_error("max_header_size 99999999999999999M\n", 1,
	    "out of range (1K..64K)");
	expect_error("argon2_memory 4K\n", 1, "out of range (8K..4096M)");
	expect_error("argon2_memory 4097M\n", 1, "out of range (8K..4096M)");
}

static void
test_bools(void **state)
{
	static const char *const yes[] = { "yes", "true", "on", "YES", "True",
	    "oN" };
	static const char *const no[] = { "no", "false", "off", "NO", "False",
	    "OFF" };
	static const char *const bad[] = { "", "y", "1", "0", "enable",
	    "yes ", "nope" };
	char	 err[ERRLEN];
	bool	 b;
	size_t	 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		assert_int_equal(cfg_parse_bool(yes[i], &b, err, sizeof(err)),
		    0);
		assert_true(b);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = true;
		assert_int_equal(cfg_parse_bool(no[i], &b, err, sizeof(err)),
		    0);
		assert_false(b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = true;
		err[0] = '\0';
		assert_int_equal(cfg_parse_bool(bad[i], &b, err, sizeof(err)),
		    -1);
		assert_true(b);
		assert_non_null(strstr(err, "bad boolean"));
		assert_non_null(strstr(err, "expected yes, no, true, false, "
		    "on or off"));
	}
}

static void
test_enums_and_levels(void **state)
{
	struct cfg	 c;

	load_ok(&c, "registration closed\nlog_format json\n"
	    "log_level debug\n");
	assert_int_equal(c.registration, CFG_REGISTRATION_CLOSED);
	assert_int_equal(c.log_format, CFG_LOG_JSON);
	assert_int_equal(c.log_level, LOG_DEBUG);
	cfg_free(&c);

	load_ok(&c, "registration OPEN\nlog_format logfmt\nlog_level Error\n");
	assert_int_equal(c.registration, CFG_REGISTRATION_OPEN);
	assert_int_equal(c.log_format, CFG_LOG_LOGFMT);
	assert_int_equal(c.log_level, LOG_ERROR);
	cfg_free(&c);

	load_ok(&c, "log_level warn\n");
	assert_int_equal(c.log_level, LOG_WARN);
	cfg_free(&c);

	expect_error("registration maybe\n", 1,
	    "registration: bad value \"maybe\" (expected open or closed)");
	expect_error("log_format text\n", 1, "(expected logfmt or json)");
	expect_error("log_level fatal\n", 1, "bad log level \"fatal\" "
	    "(expected error, warn, info or debug)");
	expect_error("log_level verbose\n", 1, "bad log level");
	expect_error("log_level debugdebugdebugdebug\n", 1, "bad log level");
}

static void
test_modes(void **state)
{
	struct cfg	 c;

	load_ok(&c, "listen_mode 0600\n");
	assert_int_equal(c.listen_mode, 0600);
	cfg_free(&c);
	load_ok(&c, "listen_mode 666\n");
	assert_int_equal(c.listen_mode, 0666);
	cfg_free(&c);
	load_ok(&c, "listen_mode 0\n");
	assert_int_equal(c.listen_mode, 0);
	cfg_free(&c);

	expect_error("listen_mode 0800\n", 1, "bad mode \"0800\" (expected an "
	    "octal mode, e.g. 0660)");
	expect_error("listen_mode rw\n", 1, "bad mode");
	expect_error("listen_mode 0x1\n", 1, "bad mode");
	expect_error("listen_mode -1\n", 1, "bad mode");
	expect_error("listen_mode 01777\n", 1, "out of range (0000..0777)");
	expect_error("listen_mode 77777777777777777777777\n", 1,
	    "out of range");
}

static void
test_numbers(void **state)
{
	struct cfg	 c;

	load_ok(&c, "database_pool 64\njson_max_depth 1\nhasher_workers 0\n"
	    "hasher_queue 100000\npassword_min_length 1024\n"
	    "login_max_failures 1\naddr_login_limit 100000\n"
	    "argon2_iterations 64\n");
	assert_int_equal(c.database_pool, 64);
	assert_int_equal(c.json_max_depth, 1);
	assert_int_equal(c.hasher_workers, 0);
	assert_int_equal(c.hasher_queue, 100000);
	assert_int_equal(c.password_min_length, 1024);
	assert_int_equal(c.login_max_failures, 1);
	assert_int_equal(c.addr_login_limit, 100000);
	assert_int_equal(c.argon2_iterations, 64);
	cfg_free(&c);

	expect_error("database_pool abc\n", 1, "database_pool: bad number "
	    "\"abc\" (expected a whole number)");
	expect_error("database_pool 1.5\n", 1, "bad number");
	expect_error("database_pool +4\n", 1, "bad number");
	expect_error("database_pool 4k\n", 1, "bad number");
	expect_error("database_pool -1\n", 1, "bad number");
	expect_error("database_pool 0\n", 1, "0 out of range (1..64)");
	expect_error("database_pool 65\n", 1, "65 out of range (1..64)");
	expect_error("database_pool 99999999999999999999\n", 1,
	    "99999999999999999999 out of range (1..64)");
	expect_error("password_min_length 7\n", 1, "out of range (8..1024)");
	expect_error("hasher_workers 257\n", 1, "out of range (0..256)");

	load_ok(&c, "read_timeout 1s\n");
	assert_int_equal(c.read_timeout, 1);
	cfg_free(&c);
	expect_error("read_timeout 0\n", 1, "out of range (1s..1h)");

	/* 0: derived from the open-file limit by the server. */
	load_ok(&c, "max_connections 0\nmax_connections_per_address 1000000\n");
	assert_int_equal(c.max_connections, 0);
	assert_int_equal(c.max_connections_per_address, 1000000);
	cfg_free(&c);
	expect_error("max_connections 1000001\n", 1,
	    "out of range (0..1000000)");
	expect_error("max_connections_per_address -1\n", 1, "bad number");
}

static void
test_lists(void **state)
{
	struct cfg	 c;
	char		 text[64 * (CFG_MAX_LIST + 1)], err[ERRLEN];
	size_t		 i, off;

	/* The first line replaces the default, later ones append. */
	load_ok(&c, "listen [::1]:8080\nuser x\nlisten unix:/run/w.sock\n"
	    "trusted_proxies 10.0.0.0/8\ntrusted_proxies ::1\n");
	assert_int_equal(c.listen.n, 2);
	assert_string_equal(c.listen.v[0], "[::1]:8080");
	assert_string_equal(c.listen.v[1], "unix:/run/w.sock");
	assert_int_equal(c.trusted_proxies.n, 2);
	assert_string_equal(c.trusted_proxies.v[0], "10.0.0.0/8");
	assert_string_equal(c.trusted_proxies.v[1], "::1");
	cfg_free(&c);

	/* "" empties the list and adds nothing. */
	load_ok(&c, "listen \"\"\n");
	assert_int_equal(c.listen.n, 0);
	cfg_free(&c);
	load_ok(&c, "listen \"\"\nlisten a:1\nlisten \"\"\n");
	assert_int_equal(c.listen.n, 1);
	assert_string_equal(c.listen.v[0], "a:1");
	cfg_free(&c);

	for (i = off = 0; i < CFG_MAX_LIST; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "listen 127.0.0.1:%zu\n", 8000 + i);
	load_ok(&c, text);
	assert_int_equal(c.listen.n, CFG_MAX_LIST);
	assert_string_equal(c.listen.v[CFG_MAX_LIST - 1], "127.0.0.1:8031");
	cfg_free(&c);

	snprintf(text + off, sizeof(text) - off, "listen 127.0.0.1:9999\n");
	snprintf(err, sizeof(err), "too many values for listen (at most %d)",
	    CFG_MAX_LIST);
	expect_error(text, CFG_MAX_LIST + 1, err);
}

static void
test_syntax_errors(void **state)
{
	expect_error("frobnicate 1\n", 1, "unknown keyword \"frobnicate\"");
	expect_error("# c\n\nuser bob\nfrobnicate\n", 4,
	    "unknown keyword \"frobnicate\"");
	expect_error("\n\nuser\n", 3, "missing value for user");
	expect_error("user   \n", 1, "missing value");
	expect_error("user # comment\n", 1, "missing value");
	expect_error("database_pool\n", 1, "missing value");
	expect_error("user a b\n", 1, "trailing garbage \"b\"");
	expect_error("database_pool 4 5\n", 1, "trailing garbage \"5\"");
	expect_error("user \"a b\" c\n", 1, "trailing garbage");
	expect_error("user \"a b\n", 1, "bad quoting: no closing quote");
	expect_error("user \"a\"b\n", 1, "bad quoting");
	expect_error("user a\"b\"\n", 1, "bad quoting");
	expect_error("user \"a\\\"\n", 1, "bad quoting: no closing quote");
	expect_error("user a\x01z\n", 1, "control character 0x01");
	expect_error("user \"a\x1bz\"\n", 1, "control character");
	expect_error("user a\x7fz\n", 1, "control character");
	expect_error("user bob\nissuer x\nuser alice\n", 3,
	    "duplicate keyword user (first given on line 1)");
	expect_error("database_pool 4\ndatabase_pool 4\n", 2,
	    "duplicate keyword database_pool");
	expect_error("Database_Pool 4\ndatabase_pool 4\n", 2,
	    "duplicate keyword database_pool");
}

static void
test_line_limits(void **state)
{
	struct cfg	 c;
	char		*text, err[ERRLEN];
	size_t		 n;

	/* A line of exactly CFG_MAX_LINE bytes is fine. */
	text = malloc(CFG_MAX_LINE + 16);
	assert_non_null(text);
	memcpy(text, "user ", 5);
	memset(text + 5, 'a', CFG_MAX_LINE - 5);
	memcpy(text + CFG_MAX_LINE, "\n", 2);
	assert_int_equal(load(&c, text, err), 0);
	assert_int_equal(strlen(c.user), CFG_MAX_LINE - 5);
	cfg_free(&c);

	/* One more is not, even at the end of the file. */
	memset(text + 5, 'a', CFG_MAX_LINE - 4);
	memcpy(text + CFG_MAX_LINE + 1, "\n", 2);
	snprintf(err, sizeof(err), "line longer than %d bytes", CFG_MAX_LINE);
	expect_error(text, 1, err);
	text[CFG_MAX_LINE + 1] = '\0';
	expect_error(text, 1, err);
	free(text);

	/* Far longer: the rest of the line is not read as more lines. */
	n = 3 * CFG_MAX_LINE;
	text = malloc(n + 16);
	assert_non_null(text);
	memcpy(text, "# ok\nuser ", 10);
	memset(text + 10, 'a', n);
	memcpy(text + 10 + n, "\n", 2);
	expect_error(text, 2, err);
	free(text);

	expect_error_n("user a\0b\n", 9, 1, "NUL byte");
	expect_error_n("# ok\nuser bob\n\0\n", 16, 3, "NUL byte");
	expect_error_n("# c\0mment\n", 10, 1, "NUL byte");
}

/* An error after strings and lists were set must leave nothing behind
 * that cfg_free() does not release (the sanitizer build checks). */
static void
test_error_after_allocations(void **state)
{
	expect_error("user bob\ndatabase_url postgresql://u:p@h/d\n"
	    "listen a:1\nlisten b:2\ntrusted_proxies 10.0.0.1\n"
	    "user again\n", 6, "duplicate keyword");
	expect_error("listen a:1\nlisten b:2\nissuer x\nbogus 1\n", 4,
	    "unknown keyword");
}

static void
test_missing_file(void **state)
{
	struct cfg	 c;
	char		 err[ERRLEN];

	cfg_defaults(&c);
	assert_int_equal(cfg_load(&c, "/nonexistent/warden.conf", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/warden.conf: No such file or "
	    "directory");
	cfg_free(&c);
}

static void
test_env_overrides(void **state)
{
	struct cfg	 c;

	setenv("WARDEN_DATABASE_POOL", "8", 1);
	setenv("WARDEN_REQUEST_TIMEOUT", "2m", 1);
	setenv("WARDEN_USER", "", 1);
	setenv("WARDEN_LOG_FORMAT", "json", 1);
	setenv("WARDEN_LISTEN", "a:1, b:2 c:3,,", 1);
	setenv("WARDEN_TRUSTED_PROXIES", "", 1);
	setenv("WARDEN_MAX_BODY_SIZE", "1M", 1);
	setenv("WARDEN_LISTEN_MODE", "0600", 1);
	setenv("WARDEN_READ_TIMEOUT", "5s", 1);
	setenv("WARDEN_MAX_CONNECTIONS", "500", 1);
	setenv("WARDEN_MAX_CONNECTIONS_PER_ADDRESS", "20", 1);
	load_ok(&c, "database_pool 2\nuser bob\nlisten x:1\n"
	    "trusted_proxies 10.0.0.0/8\nissuer file\n");
	assert_int_equal(c.database_pool, 8);
	assert_int_equal(c.request_timeout, 120);
	assert_string_equal(c.user, "");
	assert_int_equal(c.log_format, CFG_LOG_JSON);
	assert_int_equal(c.listen.n, 3);
	assert_string_equal(c.listen.v[0], "a:1");
	assert_string_equal(c.listen.v[1], "b:2");
	assert_string_equal(c.listen.v[2], "c:3");
	assert_int_equal(c.trusted_proxies.n, 0);
	assert_int_equal(c.max_body_size, 1024 * 1024);
	assert_int_equal(c.listen_mode, 0600);
	assert_int_equal(c.read_timeout, 5);
	assert_int_equal(c.max_connections, 500);
	assert_int_equal(c.max_connections_per_address, 20);
	assert_string_equal(c.issuer, "file");
	cfg_free(&c);
}

static void
test_env_database_url(void **state)
{
	struct cfg	 c;
	char		 err[ERRLEN];

	setenv("DATABASE_URL", "postgresql://env/plain", 1);
	load_ok(&c, "database_url postgresql://file/db\n");
	assert_string_equal(c.database_url, "postgresql://env/plain");
	cfg_free(&c);

	setenv("WARDEN_DATABASE_URL", "postgresql://env/warden", 1);
	load_ok(&c, "database_url postgresql://file/db\n");
	assert_string_equal(c.database_url, "postgresql://env/warden");
	cfg_free(&c);

	unsetenv("DATABASE_URL");
	cfg_defaults(&c);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.database_url, "postgresql://env/warden");
	cfg_free(&c);
}

static void
test_env_errors(void **state)
{
	struct cfg	 c;
	char		 err[ERRLEN], list[64 * (CFG_MAX_LIST + 1)];
	size_t		 i, off;

	setenv("WARDEN_DATABASE_POOL", "many", 1);
	assert_int_equal(load(&c, "user bob\nlisten a:1\n", err), -1);
	assert_string_equal(err, "WARDEN_DATABASE_POOL: database_pool: bad "
	    "number \"many\" (expected a whole number)");
	cfg_free(&c);
	unsetenv("WARDEN_DATABASE_POOL");

	setenv("WARDEN_REFRESH_GRACE", "6m", 1);
	cfg_defaults(&c);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "WARDEN_REFRESH_GRACE: refresh_grace: "
	    "duration 6m out of range (0..5m)");
	cfg_free(&c);
	unsetenv("WARDEN_REFRESH_GRACE");

	setenv("WARDEN_ISSUER", "a\nb", 1);
	cfg_defaults(&c);
	assert_int_equal(cfg_load(&c, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "WARDEN_ISSUER: issuer: control character "
	    "in value");
	cfg_free(&c);
	unsetenv("WARDEN_ISSUER");

	for (i = off = 0; i <= CFG_MAX_LIST; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off,
		    "10.0.0.%zu,", i);
	setenv("WARDEN_TRUSTED_PROXIES", list, 1);
	assert_int_equal(load(&c, "trusted_proxies 10.1.0.0/16\n", err), -1);
	assert_non_null(strstr(err, "WARDEN_TRUSTED_PROXIES: "));
	assert_non_null(strstr(err, "too many values for trusted_proxies"));
	/* The list from the file is still whole. */
	assert_int_equal(c.trusted_proxies.n, 1);
	cfg_free(&c);
}

static void
test_cfg_set(void **state)
{
	struct cfg	 c;
	char		 err[ERRLEN];

	cfg_defaults(&c);
	assert_int_equal(cfg_set(&c, "database_pool", "9", err, sizeof(err)),
	    0);
	assert_int_equal(c.database_pool, 9);
	assert_int_equal(cfg_set(&c, "user", "a b", err, sizeof(err)), 0);
	assert_string_equal(c.user, "a b");
	assert_int_equal(cfg_set(&c, "listen", "a:1,b:2", err, sizeof(err)),
	    0);
	assert_int_equal(c.listen.n, 2);
	assert_string_equal(c.listen.v[1], "b:2");

	assert_int_equal(cfg_set(&c, "nope", "1", err, sizeof(err)), -1);
	assert_string_equal(err, "unknown keyword \"nope\"");
	assert_int_equal(cfg_set(&c, "database_pool", "x", err, sizeof(err)),
	    -1);
	assert_string_equal(err, "database_pool: bad number \"x\" (expected "
	    "a whole number)");
	assert_int_equal(c.database_pool, 9);
	assert_int_equal(cfg_set(&c, "user", NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "missing value for user");
	assert_string_equal(c.user, "a b");
	/* A tiny or absent error buffer is fine. */
	assert_int_equal(cfg_set(&c, "database_pool", "x", err, 4), -1);
	assert_string_equal(err, "dat");
	assert_int_equal(cfg_set(&c, "database_pool", "x", NULL, 0), -1);
	cfg_free(&c);
}

static void
test_dump_masks_password(void **state)
{
	struct cfg	 c;
	char		 err[ERRLEN], *out;

	cfg_defaults(&c);
	assert_int_equal(cfg_set(&c, "database_url", "postgresql://u:s3cret"
	    "@db.example:5432/w?sslmode=require&password=other", err,
	    sizeof(err)), 0);
	out = dump(&c);
	assert_non_null(strstr(out, "\ndatabase_url postgresql://u:*"
	    "@db.example:5432/w?sslmode=require&password=*\n"));
	assert_null(strstr(out, "s3cret"));
	assert_null(strstr(out, "other"));
	free(out);

	assert_int_equal(cfg_set(&c, "database_url", "host=db user=w "
	    "password='a b\\' c' dbname=w", err, sizeof(err)), 0);
	out = dump(&c);
	assert_non_null(strstr(out, "\ndatabase_url \"host=db user=w "
	    "password=* dbname=w\"\n"));
	assert_null(strstr(out, "a b"));
	free(out);

	assert_int_equal(cfg_set(&c, "database_url", "postgresql://u@h/d",
	    err, sizeof(err)), 0);
	out = dump(&c);
	assert_non_null(strstr(out, "\ndatabase_url postgresql://u@h/d\n"));
	free(out);
	cfg_free(&c);
}

/* public_url defaults to the first TCP listen address, and the issuer to
 * public_url (RFC 8414 2: the issuer is the server's URL). */
static void
test_public_url(void **state)
{
	static const struct {
		const char *text, *url, *issuer;
	} ok[] = {
		{ "", "http://127.0.0.1:8080", "http://127.0.0.1:8080" },
		{ "listen unix:/run/w.sock\nlisten [::1]:9\n", "http://[::1]:9",
		    "http://[::1]:9" },
		{ "listen 0.0.0.0:80\n", "http://localhost:80",
		    "http://localhost:80" },
		{ "listen unix:/run/w.sock\n", "http://localhost",
		    "http://localhost" },
		{ "public_url https://id.example.com/\n",
		    "https://id.example.com", "https://id.example.com" },
		{ "public_url https://x.test/auth\nissuer urn:x\n",
		    "https://x.test/auth", "urn:x" },
	};
	static const char *const bad[] = {
		"public_url id.example.com\n",
		"public_url https://x.test/?a=1\n",
		"public_url https://x.test/#f\n",
	};
	struct cfg	 c;
	char		 err[ERRLEN];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		load_ok(&c, ok[i].text);
		assert_string_equal(c.public_url, ok[i].url);
		assert_string_equal(c.issuer, ok[i].issuer);
		cfg_free(&c);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load_n(&c, bad[i], strlen(bad[i]), err), -1);
		assert_non_null(strstr(err, "public_url"));
		cfg_free(&c);
	}
}

/* session_domain names a cookie's Domain: a DNS name that an https
 * public_url's host is or lies below. */
static void
test_session_domain(void **state)
{
	static const char *const ok[] = {
		"public_url https://auth.example.com\nsession_domain example.com\n",
		"public_url https://example.com\nsession_domain example.com\n",
		"public_url https://a.b.example.co.uk:8443/x\n"
		    "session_domain b.example.co.uk\n",
		/* Development: the cookie stays on its host, rd may go on. */
		"public_url http://127.0.0.1:8080\nsession_domain app.test\n",
	};
	static const char *const bad[] = {
		"public_url https://auth.example.com\nsession_domain other.com\n",
		"public_url https://auth.badexample.com\n"
		    "session_domain example.com\n",
		"public_url https://auth.example.com\nsession_domain com\n",
		"public_url https://auth.example.com\n"
		    "session_domain .example.com\n",
		"public_url https://auth.example.com\n"
		    "session_domain Example.com\n",
		"public_url https://auth.example.com\n"
		    "session_domain \"example.com; Secure\"\n",
		"public_url https://auth.example.com\n"
		    "session_domain example..com\n",
		"public_url https://auth.example.com\n"
		    "session_domain -example.com\n",
		"public_url https://[::1]\nsession_domain example.com\n",
	};
	struct cfg	 c;
	char		 err[ERRLEN];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		load_ok(&c, ok[i]);
		cfg_free(&c);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load_n(&c, bad[i], strlen(bad[i]), err), -1);
		assert_non_null(strstr(err, "session_domain"));
		cfg_free(&c);
	}
}

static void
test_dump_round_trip(void **state)
{
	struct cfg	 c, d;
	char		*a, *b;

	load_ok(&c, "user \"a b \\\"c\\\" \\\\\"\nlisten a:1\nlisten b:2\n"
	    "trusted_proxies 10.0.0.0/8\nrequest_timeout 90\n"
	    "refresh_token_ttl 2d\nmax_body_size 1536\nlisten_mode 600\n"
	    "registration closed\nlog_level debug\nlog_format json\n"
	    "issuer \"#x\"\nmetrics_listen 127.0.0.1:9100\n");
	a = dump(&c);
	assert_non_null(strstr(a, "listen a:1\nlisten b:2\nlisten_mode 0600\n"
	    "listen_group \"\"\nmetrics_listen 127.0.0.1:9100\n"
	    "public_url http://a:1\nuser \"a b \\\"c\\\" \\\\\"\n"));
	assert_non_null(strstr(a, "\nrequest_timeout 90s\n"));
	assert_non_null(strstr(a, "\nshutdown_timeout 10s\n"));
	assert_non_null(strstr(a, "\nrefresh_token_ttl 2d\n"));
	assert_non_null(strstr(a, "\nrefresh_grace 10s\n"));
	assert_non_null(strstr(a, "\nmax_body_size 1536\n"));
	assert_non_null(strstr(a, "\nargon2_memory 19M\n"));
	assert_non_null(strstr(a, "\nissuer \"#x\"\n"));
	assert_non_null(strstr(a, "\nhasher_socket \"\"\n"));
	assert_non_null(strstr(a, "\nlog_level debug\nlog_format json\n"));

	load_ok(&d, a);
	b = dump(&d);
	assert_string_equal(a, b);
	free(a);
	free(b);
	cfg_free(&c);
	cfg_free(&d);

	/* The defaults read back as the defaults. */
	cfg_defaults(&c);
	a = dump(&c);
	load_ok(&d, a);
	check_defaults(&d);
	free(a);
	cfg_free(&c);
	cfg_free(&d);
}

/* etc/warden.conf, found from the source tree or from the binary's place
 * in build/<dir>/tests/. */
static char *
read_example(void)
{
	char	 path[PATH_MAX + 64], exe[PATH_MAX], *buf = NULL, *p;
	ssize_t	 n;
	size_t	 len = 0;
	FILE	*f = NULL, *m;
	int	 ch;

	if ((p = getenv("WARDEN_SRCDIR")) != NULL) {
		snprintf(path, sizeof(path), "%s/etc/warden.conf", p);
		f = fopen(path, "r");
	}
	if (f == NULL)
		f = fopen("etc/warden.conf", "r");
	if (f == NULL && (n = readlink("/proc/self/exe", exe,
	    sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		if ((p = strrchr(exe, '/')) != NULL)
			*p = '\0';
		snprintf(path, sizeof(path), "%s/../../../etc/warden.conf",
		    exe);
		f = fopen(path, "r");
	}
	if (f == NULL)
		fail_msg("etc/warden.conf not found (set WARDEN_SRCDIR)");
	m = open_memstream(&buf, &len);
	assert_non_null(m);
	while ((ch = getc(f)) != EOF)
		putc(ch, m);
	fclose(f);
	assert_int_equal(fclose(m), 0);
	return buf;
}

static void
test_example_config(void **state)
{
	struct cfg	 c, d;
	char		*text, *out, *def, *p, *q, *line, *save = NULL;
	char		 err[ERRLEN], want[128];
	size_t		 len = 0, kw;
	FILE		*m;

	/* Uncomment every "#keyword value" line. */
	text = read_example();
	m = open_memstream(&out, &len);
	assert_non_null(m);
	for (p = text; *p != '\0'; p = q) {
		q = p + strcspn(p, "\n");
		if (*q == '\n')
			q++;
		kw = p[0] == '#' ? strspn(p + 1,
		    "abcdefghijklmnopqrstuvwxyz_0123456789") : 0;
		if (kw > 0 && (p[1 + kw] == ' ' || p[1 + kw] == '\t'))
			p++;
		fwrite(p, 1, (size_t)(q - p), m);
	}
	assert_int_equal(fclose(m), 0);

	if (load(&c, out, err) != 0)
		fail_msg("etc/warden.conf uncommented: %s", err);

	/* Every keyword is there, with its default. */
	cfg_defaults(&d);
	def = dump(&d);
	for (line = strtok_r(def, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		kw = strcspn(line, " ");
		snprintf(want, sizeof(want), "\n%.*s ", (int)kw, line);
		if (strstr(out, want) == NULL)
			fail_msg("etc/warden.conf lacks %.*s", (int)kw, line);
		/* hasher_path and key_dir follow the build's libexecdir and
		 * sysconfdir. */
		if (strncmp(line, "hasher_path ", 12) == 0 ||
		    strncmp(line, "key_dir ", 8) == 0)
			continue;
		snprintf(want, sizeof(want), "\n%s\n", line);
		if (strstr(out, want) == NULL)
			fail_msg("etc/warden.conf: \"%s\" is not the default",
			    line);
	}
	free(def);
	/* Same values as the defaults (public_url and issuer resolved as in
	 * any load), hasher_path aside. */
	cfg_free(&d);
	cfg_defaults(&d);
	if (cfg_load(&d, NULL, err, sizeof(err)) != 0)
		fail_msg("defaults: %s", err);
	def = dump(&d);
	free(out);
	out = dump(&c);
	p = strstr(out, "\nhasher_path ");
	q = strstr(def, "\nhasher_path ");
	assert_non_null(p);
	assert_non_null(q);
	memmove(p + 1, strchr(p + 1, '\n') + 1, strlen(strchr(p + 1, '\n')));
	memmove(q + 1, strchr(q + 1, '\n') + 1, strlen(strchr(q + 1, '\n')));
	assert_string_equal(out, def);

	free(def);
	free(out);
	free(text);
	cfg_free(&c);
	cfg_free(&d);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, clear_env, clear_env)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_comments_and_blank_lines),
		T(test_quoted_values),
		T(test_keyword_case),
		T(test_durations),
		T(test_sizes),
		T(test_bools),
		T(test_enums_and_levels),
		T(test_modes),
		T(test_numbers),
		T(test_lists),
		T(test_syntax_errors),
		T(test_line_limits),
		T(test_error_after_allocations),
		T(test_missing_file),
		T(test_env_overrides),
		T(test_env_database_url),
		T(test_env_errors),
		T(test_cfg_set),
		T(test_dump_masks_password),
		T(test_public_url),
		T(test_session_domain),
		T(test_dump_round_trip),
		T(test_example_config),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
