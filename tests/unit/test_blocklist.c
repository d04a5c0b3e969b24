#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "api/blocklist.h"

static char *
write_list(const char *text)
{
	static char path[] = "/tmp/warden-blocklist-XXXXXX";
	char	*p = strdup(path);
	int	 fd = mkstemp(p);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return p;
}

static void
listed_passwords_match_ignoring_case(void **state)
{
	char	*p = write_list("#!comment: a header\n\npassword\r\nLetMeIn\n"
	    "password\n");
	char	 err[256];
	struct blocklist *bl = blocklist_load(p, err, sizeof(err));

	assert_non_null(bl);
	assert_int_equal(blocklist_count(bl), 2);
	assert_true(blocklist_contains(bl, "password", 8));
	assert_true(blocklist_contains(bl, "PassWord", 8));
	assert_true(blocklist_contains(bl, "letmein", 7));
	assert_false(blocklist_contains(bl, "passwor", 7));
	assert_false(blocklist_contains(bl, "password1", 9));
	assert_false(blocklist_contains(bl, "#!comment: a header", 19));
	blocklist_free(bl);
	unlink(p);
	free(p);
}

static void
password_with_nul_byte_is_not_a_prefix_match(void **state)
{
	char	*p = write_list("secret\n");
	char	 err[256];
	struct blocklist *bl = blocklist_load(p, err, sizeof(err));

	assert_false(blocklist_contains(bl, "secret\0xx", 9));
	blocklist_free(bl);
	unlink(p);
	free(p);
}

static void
many_entries_grow_the_table(void **state)
{
	char	*text = calloc(20000, 12), *w = text, err[256];
	char	 pw[16];

	for (int i = 0; i < 20000; i++)
		w += snprintf(w, 12, "pw%08d\n", i);
	char *p = write_list(text);
	struct blocklist *bl = blocklist_load(p, err, sizeof(err));

	assert_int_equal(blocklist_count(bl), 20000);
	for (int i = 0; i < 20000; i += 997) {
		snprintf(pw, sizeof(pw), "pw%08d", i);
		assert_true(blocklist_contains(bl, pw, strlen(pw)));
	}
	assert_false(blocklist_contains(bl, "pw00020000", 10));
	blocklist_free(bl);
	unlink(p);
	free(p);
	free(text);
}

static void
missing_file_is_an_error_naming_it(void **state)
{
	char	 err[256];

	assert_null(blocklist_load("/nonexistent/list", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/list"));
}

static void
overlong_line_is_an_error_with_its_line_number(void **state)
{
	char	*text = malloc(BLOCKLIST_MAX_LINE + 20), err[256];

	/* "ok", then one line a byte too long */
	memcpy(text, "ok\n", 3);
	memset(text + 3, 'x', BLOCKLIST_MAX_LINE + 1);
	memcpy(text + 3 + BLOCKLIST_MAX_LINE + 1, "\n", 2);
	char *p = write_list(text);

	assert_null(blocklist_load(p, err, sizeof(err)));
	assert_non_null(strstr(err, ":2:"));
	unlink(p);
	free(p);
	free(text);
}

static void
empty_path_gives_an_empty_list(void **state)
{
	char	 err[256];
	struct blocklist *bl = blocklist_load("", err, sizeof(err));

	assert_non_null(bl);
	assert_int_equal(blocklist_count(bl), 0);
	assert_false(blocklist_contains(bl, "password", 8));
	blocklist_free(bl);
}

static void
john_list_loads_when_installed(void **state)
{
	char	 err[256];
	struct blocklist *bl = blocklist_load("/usr/share/john/password.lst",
	    err, sizeof(err));

	if (bl == NULL)
		fail_msg("%s (scripts/deps installs john-data)", err);
	assert_true(blocklist_count(bl) > 3000);
	assert_true(blocklist_contains(bl, "123456", 6));
	assert_true(blocklist_contains(bl, "password", 8));
	blocklist_free(bl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(listed_passwords_match_ignoring_case),
		cmocka_unit_test(password_with_nul_byte_is_not_a_prefix_match),
		cmocka_unit_test(many_entries_grow_the_table),
		cmocka_unit_test(missing_file_is_an_error_naming_it),
		cmocka_unit_test(overlong_line_is_an_error_with_its_line_number),
		cmocka_unit_test(empty_path_gives_an_empty_list),
		cmocka_unit_test(john_list_loads_when_installed),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
