/*
 * log.c: line shapes in both formats, escaping of client bytes, level
 * filtering, truncation, fatal(), and whole lines under threads.  stderr
 * is redirected to a temporary file to read what was written.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "log.h"

static int	saved_stderr = -1;
static int	capture_fd = -1;

static void
capture_begin(void)
{
	char	 path[] = "/tmp/test_log.XXXXXX";

	capture_fd = mkstemp(path);
	assert_true(capture_fd != -1);
	unlink(path);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr != -1);
	assert_true(dup2(capture_fd, STDERR_FILENO) != -1);
}

/* Restores stderr and returns what was written (caller frees). */
static char *
capture_end(void)
{
	off_t	 len;
	char	*buf;

	assert_true(dup2(saved_stderr, STDERR_FILENO) != -1);
	close(saved_stderr);
	len = lseek(capture_fd, 0, SEEK_END);
	assert_true(len >= 0);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(pread(capture_fd, buf, (size_t)len, 0), len);
	close(capture_fd);
	return buf;
}

static size_t
count_char(const char *s, char c)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		n += *s == c;
	return n;
}

static int
setup(void **state)
{
	log_init("wardend", LOG_INFO, false);
	return 0;
}

/* ts=YYYY-MM-DDTHH:MM:SS.mmmZ, then the rest. */
static const char *
skip_ts(const char *line, bool json)
{
	const char	*p = line;
	const char	*shape = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t		 i;

	if (json) {
		assert_memory_equal(p, "{\"ts\":\"", 7);
		p += 7;
	} else {
		assert_memory_equal(p, "ts=", 3);
		p += 3;
	}
	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd')
			assert_true(p[i] >= '0' && p[i] <= '9');
		else
			assert_int_equal(p[i], shape[i]);
	}
	p += i;
	if (json) {
		assert_int_equal(*p, '"');
		p++;
	}
	return p;
}

static void
test_logfmt_shape(void **state)
{
	char	*out;

	capture_begin();
	log_info("hello %s", "world");
	log_info("plain");
	log_warn("w");
	log_error("e");
	out = capture_end();
	assert_int_equal(count_char(out, '\n'), 4);
	assert_memory_equal(skip_ts(out, false),
	    " level=info prog=wardend msg=\"hello world\"\nts=",
	    sizeof(" level=info prog=wardend msg=\"hello world\"\nts=") - 1);
	assert_non_null(strstr(out, " level=info prog=wardend msg=plain\n"));
	assert_non_null(strstr(out, " level=warn prog=wardend msg=w\n"));
	assert_non_null(strstr(out, " level=error prog=wardend msg=e\n"));
	/* No func= below debug. */
	assert_null(strstr(out, "func="));
	free(out);
}

static void
test_logfmt_debug_func(void **state)
{
	char	*out;

	log_set_level(LOG_DEBUG);
	capture_begin();
	log_debug("x=%d", 1);
	out = capture_end();
	log_set_level(LOG_INFO);
	assert_string_equal(skip_ts(out, false),
	    " level=debug prog=wardend func=test_logfmt_debug_func "
	    "msg=\"x=1\"\n");
	free(out);
}

static void
test_logfmt_event_quoting(void **state)
{
	char	*out;

	capture_begin();
	log_event(LOG_INFO, "access", "request_id", "abc-1", "path", "/a b",
	    "q", "k=v", "quote", "say \"hi\"", "empty", "", "bs", "a\\b",
	    NULL);
	out = capture_end();
	assert_string_equal(skip_ts(out, false),
	    " level=info prog=wardend msg=access request_id=abc-1 "
	    "path=\"/a b\" q=\"k=v\" quote=\"say \\\"hi\\\"\" empty=\"\" "
	    "bs=\"a\\\\b\"\n");
	free(out);
}

static void
test_logfmt_prog_basename(void **state)
{
	char	*out;

	log_init("/usr/local/libexec/warden-hasher", LOG_INFO, false);
	capture_begin();
	log_info("x");
	out = capture_end();
	log_init("wardend", LOG_INFO, false);
	assert_non_null(strstr(out, " prog=warden-hasher "));
	free(out);
}

static void
test_escape_logfmt(void **state)
{
	char	*out;

	capture_begin();
	/* A client trying to forge a second line. */
	log_info("user %s", "bob\nts=2026-01-01T00:00:00.000Z level=info "
	    "msg=forged\r\x01\x7f\xff\t\"");
	log_event(LOG_WARN, "bad\nevent", "ua", "x\r\ny", "k\nx", "v", NULL);
	out = capture_end();
	assert_int_equal(count_char(out, '\n'), 2);
	assert_null(strchr(out, '\r'));
	assert_non_null(strstr(out, "msg=\"user bob\\nts=2026-01-01T00:00:00"
	    ".000Z level=info msg=forged\\r\\x01\\x7f\\xff\\t\\\"\"\n"));
	assert_non_null(strstr(out, " level=warn prog=wardend "
	    "msg=\"bad\\nevent\" ua=\"x\\r\\ny\" k_x=v\n"));
	free(out);
}

static void
test_json_shape(void **state)
{
	char	*out, *nl;
	cJSON	*j;

	log_set_json(true);
	log_set_level(LOG_DEBUG);
	capture_begin();
	log_info("hello %s", "world");
	log_debug("dbg");
	log_event(LOG_INFO, "access", "status", "200", "path", "/x", NULL);
	out = capture_end();
	log_set_json(false);
	log_set_level(LOG_INFO);

	assert_int_equal(count_char(out, '\n'), 3);
	skip_ts(out, true);
	assert_non_null(strstr(out, "\",\"level\":\"info\",\"prog\":\"wardend"
	    "\",\"func\":\"test_json_shape\",\"msg\":\"hello world\"}\n"));

	nl = strchr(out, '\n');
	*nl = '\0';
	j = cJSON_Parse(out);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring,
	    "info");
	assert_string_equal(cJSON_GetObjectItem(j, "msg")->valuestring,
	    "hello world");
	cJSON_Delete(j);

	j = cJSON_Parse(nl + 1);	/* stops at the newline */
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring,
	    "debug");
	assert_string_equal(cJSON_GetObjectItem(j, "func")->valuestring,
	    "test_json_shape");
	cJSON_Delete(j);

	nl = strchr(nl + 1, '\n');
	assert_string_equal(skip_ts(nl + 1, true),
	    ",\"level\":\"info\",\"prog\":\"wardend\",\"msg\":\"access\","
	    "\"status\":\"200\",\"path\":\"/x\"}\n");
	free(out);
}

static void
test_escape_json(void **state)
{
	char	*out;
	cJSON	*j;

	log_set_json(true);
	capture_begin();
	log_event(LOG_INFO, "ev\"}", "ua", "a\nb\r\"\\\x01\xc3\xa9", NULL);
	out = capture_end();
	log_set_json(false);

	assert_int_equal(count_char(out, '\n'), 1);
	j = cJSON_Parse(out);
	assert_non_null(j);
	/* The JSON string holds log_escape()'s text: printable ASCII. */
	assert_string_equal(cJSON_GetObjectItem(j, "msg")->valuestring,
	    "ev\\\"}");
	assert_string_equal(cJSON_GetObjectItem(j, "ua")->valuestring,
	    "a\\nb\\r\\\"\\\\\\x01\\xc3\\xa9");
	cJSON_Delete(j);
	free(out);
}

static void
test_log_escape(void **state)
{
	char	 buf[64];
	size_t	 n;

	n = log_escape(buf, sizeof(buf), "ab\n\r\t\"\\\x00\x1b\x7f\x80z", 12);
	assert_string_equal(buf, "ab\\n\\r\\t\\\"\\\\\\x00\\x1b\\x7f\\x80z");
	assert_int_equal(n, strlen(buf));

	/* Truncation: reports the full length, never half an escape. */
	n = log_escape(buf, 4, "ab\ncd", 5);
	assert_int_equal(n, 6);
	assert_string_equal(buf, "ab");
	n = log_escape(buf, 5, "ab\ncd", 5);
	assert_string_equal(buf, "ab\\n");
	n = log_escape(buf, 3, "\xff", 1);
	assert_int_equal(n, 4);
	assert_string_equal(buf, "");

	n = log_escape(buf, sizeof(buf), "", 0);
	assert_int_equal(n, 0);
	assert_string_equal(buf, "");
	assert_int_equal(log_escape(NULL, 0, "abc", 3), 3);
}

static int	evaluated;

static const char *
side_effect(void)
{
	evaluated++;
	return "x";
}

static void
test_level_filter(void **state)
{
	char	*out;

	log_set_level(LOG_WARN);
	assert_int_equal(log_get_level(), LOG_WARN);
	evaluated = 0;
	capture_begin();
	log_info("not %s", side_effect());
	log_debug("not %s", side_effect());
	log_event(LOG_INFO, "not", "k", "v", NULL);
	log_msg(LOG_DEBUG, __func__, "not");
	log_warn("yes %s", side_effect());
	log_error("yes");
	out = capture_end();
	log_set_level(LOG_INFO);

	assert_int_equal(evaluated, 1);
	assert_int_equal(count_char(out, '\n'), 2);
	assert_null(strstr(out, "not"));
	assert_non_null(strstr(out, "level=warn prog=wardend msg=\"yes x\""));
	assert_non_null(strstr(out, "level=error prog=wardend msg=yes"));
	free(out);

	log_set_level(LOG_ERROR);
	capture_begin();
	log_warn("no");
	log_error("yes");
	out = capture_end();
	log_set_level(LOG_INFO);
	assert_int_equal(count_char(out, '\n'), 1);
	free(out);
}

static void
test_level_names(void **state)
{
	assert_int_equal(log_level_from_name("error"), LOG_ERROR);
	assert_int_equal(log_level_from_name("warn"), LOG_WARN);
	assert_int_equal(log_level_from_name("info"), LOG_INFO);
	assert_int_equal(log_level_from_name("debug"), LOG_DEBUG);
	assert_int_equal(log_level_from_name("fatal"), -1);
	assert_int_equal(log_level_from_name("verbose"), -1);
	assert_int_equal(log_level_from_name(""), -1);
	assert_int_equal(log_level_from_name(NULL), -1);
}

static void
test_truncate_logfmt(void **state)
{
	char	*big, *out, *line;
	size_t	 len;

	big = malloc(3 * LOG_LINE_MAX);
	assert_non_null(big);
	memset(big, 'a', 3 * LOG_LINE_MAX - 1);
	big[3 * LOG_LINE_MAX - 1] = '\0';
	capture_begin();
	log_info("%s", big);
	/* Every byte escapes to four: the cut must not split one. */
	memset(big, '\x01', 3 * LOG_LINE_MAX - 1);
	log_event(LOG_INFO, "long", "v", big, "after", "lost", NULL);
	out = capture_end();

	assert_int_equal(count_char(out, '\n'), 2);
	line = out;
	len = strcspn(line, "\n");
	assert_true(len + 1 <= LOG_LINE_MAX);
	assert_true(len > LOG_LINE_MAX - 64);
	assert_memory_equal(line + len - 16, "a truncated=true\n", 17);

	line += len + 1;
	len = strcspn(line, "\n");
	assert_true(len + 1 <= LOG_LINE_MAX);
	assert_true(len > LOG_LINE_MAX - 64);
	assert_null(strstr(line, "after"));
	/* The value is closed after a whole escape. */
	assert_string_equal(line + len - 20, "\\x01\" truncated=true\n");
	free(out);
	free(big);
}

static void
test_truncate_json(void **state)
{
	char	*big, *out;
	cJSON	*j;

	big = malloc(2 * LOG_LINE_MAX);
	assert_non_null(big);
	memset(big, '\n', 2 * LOG_LINE_MAX - 1);
	big[2 * LOG_LINE_MAX - 1] = '\0';
	log_set_json(true);
	capture_begin();
	log_info("%s", big);
	log_event(LOG_INFO, "long", "v", big, NULL);
	out = capture_end();
	log_set_json(false);

	assert_int_equal(count_char(out, '\n'), 2);
	assert_true(strcspn(out, "\n") + 1 <= LOG_LINE_MAX);
	j = cJSON_Parse(out);
	assert_non_null(j);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "truncated")));
	assert_true(strlen(cJSON_GetObjectItem(j, "msg")->valuestring) >
	    LOG_LINE_MAX / 2);
	cJSON_Delete(j);
	j = cJSON_Parse(strchr(out, '\n') + 1);
	assert_non_null(j);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "truncated")));
	cJSON_Delete(j);
	free(out);
	free(big);
}

static void
test_fatal_exits(void **state)
{
	int	 p[2], status;
	pid_t	 pid;
	char	 buf[1024];
	ssize_t	 n;
	size_t	 len = 0;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		log_set_level(LOG_ERROR);
		fatal_f("boom %d", 42);
	}
	close(p[1]);
	while ((n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_string_equal(skip_ts(buf, false), " level=fatal prog=wardend "
	    "func=test_fatal_exits msg=\"boom 42\"\n");
}

static void
test_errno_kept(void **state)
{
	char	*out;

	capture_begin();
	errno = ENOENT;
	log_info("open: %m");
	assert_int_equal(errno, ENOENT);
	log_event(LOG_INFO, "x", NULL);
	assert_int_equal(errno, ENOENT);
	out = capture_end();
	assert_non_null(strstr(out, "msg=\"open: No such file or directory\""));
	free(out);
}

#define THREADS		8
#define PER_THREAD	200

static void *
thread_main(void *arg)
{
	char	 v[600];
	int	 i;

	memset(v, 'a' + (int)(intptr_t)arg, sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	for (i = 0; i < PER_THREAD; i++)
		log_event(LOG_INFO, "t", "v", v, NULL);
	return NULL;
}

static void
test_threads_whole_lines(void **state)
{
	pthread_t	 t[THREADS];
	char		*out, *line, *save = NULL;
	size_t		 i, lines = 0;

	capture_begin();
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_main,
		    (void *)(intptr_t)i), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	out = capture_end();

	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		const char *p = skip_ts(line, false);
		const char *v;
		size_t	 n;

		assert_memory_equal(p, " level=info prog=wardend msg=t v=", 33);
		v = p + 33;
		n = strspn(v, "abcdefgh");
		assert_int_equal(n, 599);
		assert_int_equal(strspn(v, (char[]){ v[0], '\0' }), 599);
		assert_int_equal(v[n], '\0');
		lines++;
	}
	assert_int_equal(lines, THREADS * PER_THREAD);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_logfmt_shape, setup),
		cmocka_unit_test_setup(test_logfmt_debug_func, setup),
		cmocka_unit_test_setup(test_logfmt_event_quoting, setup),
		cmocka_unit_test_setup(test_logfmt_prog_basename, setup),
		cmocka_unit_test_setup(test_escape_logfmt, setup),
		cmocka_unit_test_setup(test_json_shape, setup),
		cmocka_unit_test_setup(test_escape_json, setup),
		cmocka_unit_test_setup(test_log_escape, setup),
		cmocka_unit_test_setup(test_level_filter, setup),
		cmocka_unit_test_setup(test_level_names, setup),
		cmocka_unit_test_setup(test_truncate_logfmt, setup),
		cmocka_unit_test_setup(test_truncate_json, setup),
		cmocka_unit_test_setup(test_fatal_exits, setup),
		cmocka_unit_test_setup(test_errno_kept, setup),
		cmocka_unit_test_setup(test_threads_whole_lines, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
