/*
 * daemon/mail: mail_transport parsed (and every malformed one refused),
 * templates read and filled, and messages built with no way to inject a
 * header.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "mail/message.h"
#include "mail/template.h"
#include "mail/transport.h"

static void
test_transport_good(void **state)
{
	struct mail_transport t;
	char	 err[256];

	assert_int_equal(mail_transport_parse("off", &t, err, sizeof(err)), 0);
	assert_int_equal(t.kind, MAIL_OFF);
	assert_int_equal(mail_transport_parse("smtp://mail.example.com", &t,
	    err, sizeof(err)), 0);
	assert_int_equal(t.kind, MAIL_SMTP);
	assert_string_equal(t.host, "mail.example.com");
	assert_int_equal(t.port, 25);
	assert_int_equal(mail_transport_parse("smtp://127.0.0.1:2525", &t,
	    err, sizeof(err)), 0);
	assert_string_equal(t.host, "127.0.0.1");
	assert_int_equal(t.port, 2525);
	assert_int_equal(mail_transport_parse("smtps://relay.example.com", &t,
	    err, sizeof(err)), 0);
	assert_int_equal(t.kind, MAIL_SMTPS);
	assert_int_equal(t.port, 465);
	assert_int_equal(mail_transport_parse("smtps://[::1]:4650", &t, err,
	    sizeof(err)), 0);
	assert_string_equal(t.host, "[::1]");
	assert_int_equal(t.port, 4650);
	assert_int_equal(mail_transport_parse("dir:/var/mail/warden", &t, err,
	    sizeof(err)), 0);
	assert_int_equal(t.kind, MAIL_DIR);
	assert_string_equal(t.dir, "/var/mail/warden");
	assert_false(mail_transport_enabled("off"));
	assert_false(mail_transport_enabled(""));
	assert_true(mail_transport_enabled("dir:/x"));
}

static void
test_transport_bad(void **state)
{
	static const char *const bad[] = {
		"", "on", "OFF", "smtp://", "smtp://:25", "smtp://host:",
		"smtp://host:0", "smtp://host:65536", "smtp://host:25x",
		"smtp://host:-1", "smtp://user@host", "smtp://host/path",
		"smtp://host?x", "smtp://ho st", "smtp://-host",
		"smtp://host-", "smtp://a..b", "smtp://[::1", "smtp://[::1]x",
		"smtp://[zz]", "smtps:/host", "http://host", "dir:",
		"dir:relative", "dir:/a\nb", "smtp://host\r\n",
	};
	struct mail_transport t;
	char	 err[256];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (mail_transport_parse(bad[i], &t, err, sizeof(err)) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(t.kind, MAIL_OFF);
		assert_true(err[0] != '\0');
	}
}

static void
parse_ok(const char *text, struct mail_template *t)
{
	char	 err[256];

	if (mail_template_parse(text, strlen(text), t, err,
	    sizeof(err)) != 0)
		fail_msg("refused: %s", err);
}

static void
test_template_parse(void **state)
{
	struct mail_template t;
	char	 err[256];
	static const char *const bad[] = {
		"", "no header\n\nbody\n", "Subject: x\n", "Subject: x\n\n",
		"Subject:\n\nbody\n", "Subject: x\nBcc: a@b.c\n\nbody\n",
		"Subject: x\n\n{{token}}\n", "Subject: {{nope}}\n\nbody\n",
		"Subject: a\x01" "b\n\nbody\n", "Subject: x\n\nbell\x07\n",
	};
	size_t	 i;

	parse_ok("Subject:  Hello {{username}}  \r\n\r\nLine {{link}}\r\n"
	    "Second\r\n\r\n\r\n", &t);
	assert_string_equal(t.subject, "Hello {{username}}");
	assert_string_equal(t.body, "Line {{link}}\nSecond\n");
	mail_template_clear(&t);
	assert_null(t.subject);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mail_template_parse(bad[i], strlen(bad[i]), &t, err,
		    sizeof(err)) != -1)
			fail_msg("accepted template %zu", i);
	/* A NUL inside. */
	assert_int_equal(mail_template_parse("Subject: a\n\nb\0c\n", 15, &t,
	    err, sizeof(err)), -1);
	assert_int_equal(mail_tpl_lookup("verify_email"),
	    MAIL_TPL_VERIFY_EMAIL);
	assert_int_equal(mail_tpl_lookup("password_reset"),
	    MAIL_TPL_PASSWORD_RESET);
	assert_int_equal(mail_tpl_lookup("email_changed"),
	    MAIL_TPL_EMAIL_CHANGED);
	assert_int_equal(mail_tpl_lookup("other"), -1);
}

/* The shipped templates (etc/mail) all parse. */
static void
test_templates_shipped(void **state)
{
	struct mail_templates *ts;
	char	 err[512];

	ts = mail_templates_load("etc/mail", err, sizeof(err));
	if (ts == NULL)
		fail_msg("%s", err);
	assert_non_null(strstr(ts->t[MAIL_TPL_VERIFY_EMAIL].body, "{{link}}"));
	assert_non_null(strstr(ts->t[MAIL_TPL_PASSWORD_RESET].body,
	    "{{link}}"));
	mail_templates_free(ts);
	assert_null(mail_templates_load("/nonexistent", err, sizeof(err)));
}

static void
test_substitute(void **state)
{
	struct mail_params p = { "https://x.test/?t=1", "al{{link}}ice", "1h" };
	char	*s;

	s = mail_substitute("{{username}}: {{link}} ({{expires_in}}) {{", &p);
	assert_non_null(s);
	/* A value is never read as a placeholder. */
	assert_string_equal(s, "al{{link}}ice: https://x.test/?t=1 (1h) {{");
	free(s);
	p.username = "evil\r\nBcc: x@y.z";
	assert_null(mail_substitute("{{username}}", &p));
	p.username = "tab\tok";
	s = mail_substitute("{{username}}", &p);
	assert_non_null(s);
	free(s);
}

static char *
build(const char *tpl, const struct mail_params *p, const char *to,
    size_t *len)
{
	struct mail_template t;
	struct mail_head h = { "warden@example.test", to, 86400 * 365 };
	char	 err[256], *msg;

	parse_ok(tpl, &t);
	msg = mail_message_build(&t, p, &h, len, err, sizeof(err));
	mail_template_clear(&t);
	return msg;
}

static void
test_message(void **state)
{
	struct mail_params p = { "https://id.example.test/ui/verify-email?"
	    "token=abc", "alice", "1 day" };
	size_t	 len;
	char	*m, *body;

	m = build("Subject: Welcome, {{username}}\n\nOpen {{link}}\n.\n"
	    "Valid {{expires_in}}.\n", &p, "alice@example.test", &len);
	assert_non_null(m);
	assert_int_equal(strlen(m), len);
	assert_non_null(strstr(m, "From: warden@example.test\r\n"));
	assert_non_null(strstr(m, "\r\nTo: alice@example.test\r\n"));
	assert_non_null(strstr(m, "\r\nSubject: Welcome, alice\r\n"));
	assert_non_null(strstr(m, "\r\nDate: Fri, 01 Jan 1971 00:00:00 "
	    "+0000\r\n"));
	assert_non_null(strstr(m, "\r\nMessage-ID: <"));
	assert_non_null(strstr(m, "@example.test>\r\n"));
	assert_non_null(strstr(m, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(m, "\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\n"));
	assert_non_null(strstr(m, "\r\nContent-Transfer-Encoding: 8bit\r\n"));
	body = strstr(m, "\r\n\r\n");
	assert_non_null(body);
	assert_string_equal(body + 4, "Open https://id.example.test/ui/"
	    "verify-email?token=abc\r\n.\r\nValid 1 day.\r\n");
	free(m);

	/* A subject that is not ASCII: RFC 2047, folded. */
	p.username = "J\xc3\xbcrgen M\xc3\xbcller-L\xc3\xbc"
	    "denscheid von und zu Gro\xc3\x9f";
	m = build("Subject: Willkommen {{username}}\n\nx\n", &p,
	    "j@example.test", &len);
	assert_non_null(m);
	assert_non_null(strstr(m, "\r\nSubject: =?UTF-8?B?"));
	assert_non_null(strstr(m, "?=\r\n =?UTF-8?B?"));
	free(m);
}

static void
test_message_injection_refused(void **state)
{
	struct mail_params p = { "https://x.test/", "alice", "1h" };
	static const char *const bad_to[] = {
		"a@b.c\r\nBcc: evil@x.y", "a@b.c\nBcc: evil@x.y", "a b@c.d",
		"<a@b.c>", "a@b.c,d@e.f", "ab", "@b.c", "a@", "a@b@c",
		"a@b.c\r", "\"a\"@b.c",
	};
	size_t	 i, len;

	for (i = 0; i < sizeof(bad_to) / sizeof(bad_to[0]); i++)
		if (build("Subject: x\n\ny\n", &p, bad_to[i], &len) != NULL)
			fail_msg("accepted recipient %zu", i);
	p.username = "alice\r\nBcc: evil@example.test";
	assert_null(build("Subject: Hi {{username}}\n\ny\n", &p,
	    "a@b.test", &len));
	assert_null(build("Subject: Hi\n\n{{username}}\n", &p, "a@b.test",
	    &len));
	p.username = "alice";
	p.link = "https://x.test/\nBcc: evil@example.test";
	assert_null(build("Subject: Hi\n\n{{link}}\n", &p, "a@b.test",
	    &len));
}

static void
test_message_limits(void **state)
{
	struct mail_params p = { NULL, NULL, NULL };
	char	 tpl[1200], *long_name;
	size_t	 len;

	long_name = malloc(MAIL_SUBJECT_MAX + 2);
	assert_non_null(long_name);
	memset(long_name, 'n', MAIL_SUBJECT_MAX + 1);
	long_name[MAIL_SUBJECT_MAX + 1] = '\0';
	p.username = long_name;
	assert_null(build("Subject: {{username}}\n\nx\n", &p, "a@b.test",
	    &len));
	free(long_name);
	p.username = NULL;
	memcpy(tpl, "Subject: x\n\n", 12);
	memset(tpl + 12, 'y', 999);
	memcpy(tpl + 12 + 999, "\n", 2);
	assert_null(build(tpl, &p, "a@b.test", &len));
}

static void
test_default_from(void **state)
{
	char	 from[MAIL_ADDR_MAX + 1];

	assert_int_equal(mail_default_from("https://id.example.com", from,
	    sizeof(from)), 0);
	assert_string_equal(from, "warden@id.example.com");
	assert_int_equal(mail_default_from("http://127.0.0.1:8080/base", from,
	    sizeof(from)), 0);
	assert_string_equal(from, "warden@127.0.0.1");
	assert_int_equal(mail_default_from("no-scheme", from, sizeof(from)),
	    -1);
	assert_int_equal(mail_default_from("https://", from, sizeof(from)), -1);
	assert_true(mail_addr_ok("warden@id.example.com"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transport_good),
		cmocka_unit_test(test_transport_bad),
		cmocka_unit_test(test_template_parse),
		cmocka_unit_test(test_templates_shipped),
		cmocka_unit_test(test_substitute),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_message_injection_refused),
		cmocka_unit_test(test_message_limits),
		cmocka_unit_test(test_default_from),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
