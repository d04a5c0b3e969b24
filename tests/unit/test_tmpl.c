/*
 * daemon/ui/tmpl.c: every construct of the portal's Mustache subset,
 * every escape, every load error with its file and line, partials that
 * recurse refused, the bounds of a rendering, the shipped templates of
 * etc/ui/, and a realistic login page compared byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <event2/buffer.h>

#include "testdir.h"
#include "ui/tmpl.h"

/* A set of templates given as name, text, name, text, ..., NULL. */
static struct tmpl_set *
set_of(const char *first, ...)
{
	const char *names[16], *texts[16];
	struct tmpl_set *s;
	char	 err[256];
	size_t	 n = 0;
	va_list	 ap;
	const char *name;

	va_start(ap, first);
	for (name = first; name != NULL; name = va_arg(ap, const char *)) {
		assert_true(n < 16);
		names[n] = name;
		texts[n++] = va_arg(ap, const char *);
	}
	va_end(ap);
	s = tmpl_set_from(names, texts, n, err, sizeof(err));
	if (s == NULL)
		fail_msg("load: %s", err);
	return s;
}

/* What template name of s makes of view (JSON text, or NULL): a new
 * string, or NULL when the rendering failed. */
static char *
render(const struct tmpl_set *s, const char *name, const char *json)
{
	struct evbuffer *out;
	cJSON	*view = NULL;
	char	*text = NULL;
	size_t	 len;

	if (json != NULL)
		assert_non_null(view = cJSON_Parse(json));
	assert_non_null(out = evbuffer_new());
	if (tmpl_render(s, name, view, out) == 0) {
		len = evbuffer_get_length(out);
		assert_non_null(text = malloc(len + 1));
		assert_int_equal(evbuffer_remove(out, text, len), (int)len);
		text[len] = '\0';
	} else
		assert_int_equal(evbuffer_get_length(out), 0);
	evbuffer_free(out);
	cJSON_Delete(view);
	return text;
}

/* Template text rendered alone with view gives want. */
static void
check(const char *text, const char *json, const char *want)
{
	struct tmpl_set *s = set_of("t", text, NULL);
	char	*got = render(s, "t", json);

	if (got == NULL)
		fail_msg("\"%s\" did not render", text);
	if (strcmp(got, want) != 0)
		fail_msg("\"%s\" with %s:\n got \"%s\"\nwant \"%s\"", text,
		    json != NULL ? json : "no view", got, want);
	free(got);
	tmpl_set_free(s);
}

static void
test_values(void **state)
{
	check("", NULL, "");
	check("plain text, no tags\n", NULL, "plain text, no tags\n");
	check("Hello, {{name}}!", "{\"name\":\"Ann\"}", "Hello, Ann!");
	check("[{{ name }}]", "{\"name\":\"Ann\"}", "[Ann]");
	check("{{a.b.c}}", "{\"a\":{\"b\":{\"c\":\"deep\"}}}", "deep");
	check("[{{a.b.x}}][{{a.x.c}}][{{a.b}}]", "{\"a\":{\"b\":{\"c\":1}}}",
	    "[][][]");
	check("[{{missing}}]", "{}", "[]");
	check("[{{missing}}]", NULL, "[]");
	check("{{i}} {{n}} {{f}} {{big}} {{z}}",
	    "{\"i\":42,\"n\":-7,\"f\":1.5,\"big\":1e300,\"z\":0}",
	    "42 -7 1.5 1e+300 0");
	check("{{t}}|{{f}}|{{n}}|{{o}}|{{a}}",
	    "{\"t\":true,\"f\":false,\"n\":null,\"o\":{\"x\":1},\"a\":[1,2]}",
	    "true||||");
	check("{{.}}", "{\"x\":1}", "");
	check("{{x}}{{x}}", "{\"x\":\"é€😀\"}", "é€😀é€😀");
	/* Names are case-sensitive. */
	check("[{{Name}}]", "{\"name\":\"Ann\"}", "[]");
}

static void
test_escapes(void **state)
{
	check("{{v}}", "{\"v\":\"&\"}", "&amp;");
	check("{{v}}", "{\"v\":\"<\"}", "&lt;");
	check("{{v}}", "{\"v\":\">\"}", "&gt;");
	check("{{v}}", "{\"v\":\"\\\"\"}", "&quot;");
	check("{{v}}", "{\"v\":\"'\"}", "&#39;");
	check("{{v}}", "{\"v\":\"`\"}", "&#96;");
	check("{{v}}", "{\"v\":\"=\"}", "&#61;");
	check("<a title=\"{{v}}\">", "{\"v\":\"\\\"><script>alert('x')</script>\"}",
	    "<a title=\"&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;\">");
	check("{{v}}", "{\"v\":\"a&amp;b\"}", "a&amp;amp;b");
	/* Template text is never escaped. */
	check("<p class=\"x\">&nbsp;{{v}}</p>", "{\"v\":\"ok\"}",
	    "<p class=\"x\">&nbsp;ok</p>");
	/* Nor are the elements of an array of strings. */
	check("{{#l}}{{.}};{{/l}}", "{\"l\":[\"<b>\",\"&\"]}",
	    "&lt;b&gt;;&amp;;");
}

static void
test_sections(void **state)
{
	static const char *const empty[] = {
		"{}", "{\"s\":false}", "{\"s\":null}", "{\"s\":\"\"}",
		"{\"s\":0}", "{\"s\":[]}",
	};
	size_t	 i;

	for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		check("[{{#s}}yes{{/s}}]", empty[i], "[]");
		check("[{{^s}}no{{/s}}]", empty[i], "[no]");
	}
	/* Scalars render once with the same context. */
	check("[{{#s}}{{s}}/{{x}}{{/s}}]", "{\"s\":true,\"x\":1}", "[true/1]");
	check("[{{#s}}{{s}}{{/s}}]", "{\"s\":\"str\"}", "[str]");
	check("[{{#s}}{{s}}{{/s}}]", "{\"s\":3}", "[3]");
	check("[{{^s}}no{{/s}}]", "{\"s\":\"x\"}", "[]");
	/* An object is pushed: its names first, then the outer ones. */
	check("{{#u}}{{name}} of {{org}}, {{x}}{{/u}}",
	    "{\"u\":{\"name\":\"Ann\",\"x\":\"inner\"},\"org\":\"ACME\","
	    "\"x\":\"outer\"}", "Ann of ACME, inner");
	check("[{{#o}}in{{/o}}]", "{\"o\":{}}", "[in]");
	check("[{{^o}}no{{/o}}]", "{\"o\":{}}", "[]");
	/* Arrays of objects and of strings. */
	check("{{#users}}<li>{{name}} ({{role}})</li>{{/users}}",
	    "{\"role\":\"user\",\"users\":[{\"name\":\"a\"},"
	    "{\"name\":\"b\",\"role\":\"admin\"}]}",
	    "<li>a (user)</li><li>b (admin)</li>");
	check("{{#tags}}<i>{{.}}</i>{{/tags}}", "{\"tags\":[\"x\",\"y\",\"z\"]}",
	    "<i>x</i><i>y</i><i>z</i>");
	check("{{#n}}{{.}},{{/n}}", "{\"n\":[1,2.5,true,null,\"s\"]}",
	    "1,2.5,true,,s,");
	check("{{#m}}[{{#.}}{{.}}{{/.}}]{{/m}}", "{\"m\":[[1,2],[3]]}",
	    "[12][3]");
	/* Dotted section names, and nesting. */
	check("{{#a.b}}{{c}}{{/a.b}}", "{\"a\":{\"b\":{\"c\":\"ok\"}}}", "ok");
	check("{{#a}}{{#b}}{{#c}}{{d}}{{/c}}{{/b}}{{/a}}",
	    "{\"a\":{\"b\":{\"c\":{\"d\":\"deep\"}}}}", "deep");
	/* A dotted name is resolved from its first segment only. */
	check("[{{#a}}{{b.c}}{{/a}}]", "{\"a\":{\"b\":{}},\"b\":{\"c\":1}}",
	    "[]");
	check("{{^list}}none{{/list}}{{#list}}{{.}}{{/list}}",
	    "{\"list\":[]}", "none");
}

static void
test_standalone_and_comments(void **state)
{
	check("a{{! a comment }}b", NULL, "ab");
	check("a{{!\nover\nlines\n}}b", NULL, "ab");
	check("one\n{{! gone with its line }}\ntwo\n", NULL, "one\ntwo\n");
	check("<ul>\n  {{#l}}\n  <li>{{.}}</li>\n  {{/l}}\n</ul>\n",
	    "{\"l\":[\"a\",\"b\"]}", "<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>\n");
	check("x\r\n{{#s}}\r\ny\r\n{{/s}}\r\n", "{\"s\":true}", "x\r\ny\r\n");
	check("{{#s}}\nonly\n{{/s}}", "{\"s\":true}", "only\n");
	/* Not alone on its line: everything stays. */
	check(" {{#s}}y{{/s}} \n", "{\"s\":true}", " y \n");
	check("a {{#s}}\nb\n{{/s}}", "{\"s\":true}", "a \nb\n");
	/* A value tag never takes its line. */
	check("{{v}}\n", "{}", "\n");
}

static void
test_partials(void **state)
{
	struct tmpl_set *s;
	char	*got;

	s = set_of("page", "<{{> inner}}|{{#u}}{{> inner}}{{/u}}>",
	    "inner", "{{name}}", NULL);
	assert_true(tmpl_set_has(s, "page"));
	assert_true(tmpl_set_has(s, "inner"));
	assert_false(tmpl_set_has(s, "other"));
	assert_false(tmpl_set_has(s, "pag"));
	got = render(s, "page", "{\"name\":\"top\",\"u\":[{\"name\":\"a\"},"
	    "{\"name\":\"b\"}]}");
	assert_non_null(got);
	assert_string_equal(got, "<top|ab>");
	free(got);
	assert_null(render(s, "missing", "{}"));
	assert_null(render(s, "", "{}"));
	tmpl_set_free(s);
	tmpl_set_free(NULL);

	/* A chain of TMPL_DEPTH_MAX partials is fine. */
	s = set_of("p0", "0{{>p1}}", "p1", "1{{>p2}}", "p2", "2{{>p3}}",
	    "p3", "3{{>p4}}", "p4", "4{{>p5}}", "p5", "5{{>p6}}",
	    "p6", "6{{>p7}}", "p7", "7{{>p8}}", "p8", "8", NULL);
	got = render(s, "p0", NULL);
	assert_non_null(got);
	assert_string_equal(got, "012345678");
	free(got);
	tmpl_set_free(s);
}

/* Appends s to buf (size bytes), which must hold it. */
static void
append(char *buf, size_t size, const char *s)
{
	size_t	 len = strlen(buf);

	assert_true(len + strlen(s) < size);
	memcpy(buf + len, s, strlen(s) + 1);
}

/* Loading texts (NULL-terminated pairs) fails with an error that
 * contains want. */
static void
load_fails(const char *const *names, const char *const *texts, size_t n,
    const char *want)
{
	struct tmpl_set *s;
	char	 err[256] = "";

	s = tmpl_set_from(names, texts, n, err, sizeof(err));
	if (s != NULL)
		fail_msg("accepted, wanted \"%s\"", want);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void
test_load_errors(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} bad[] = {
		{ "a\nb {{x", "t.html:2: a tag opened with {{ is never closed" },
		{ "{{x}\n}", "t.html:1: a tag opened" },
		{ "\n\n{{#s}}\n", "t.html:3: {{#s}} is never closed" },
		{ "{{^s}}{{#t}}{{/t}}", "t.html:1: {{^s}} is never closed" },
		{ "x\n{{/s}}", "t.html:2: {{/s}} closes no section" },
		{ "{{#a}}\n{{#b}}\n{{/a}}\n{{/b}}",
		    "t.html:3: {{/a}} does not close {{#b}} of line 2" },
		{ "\n{{{x}}}", "t.html:2: unescaped output" },
		{ "\n\n{{& x}}", "t.html:3: unescaped output" },
		{ "{{=<% %>=}}", "t.html:1: set-delimiter tags are not" },
		{ "{{}}", "t.html:1: a name is" },
		{ "{{ }}", "t.html:1: a name is" },
		{ "{{#}}{{/}}", "t.html:1: a name is" },
		{ "{{a b}}", "t.html:1: a name is" },
		{ "{{a-b}}", "t.html:1: a name is" },
		{ "{{a..b}}", "t.html:1: a name is" },
		{ "{{.a}}", "t.html:1: a name is" },
		{ "{{a.}}", "t.html:1: a name is" },
		{ "{{..}}", "t.html:1: a name is" },
		{ "{{a\nb}}", "t.html:1: a name is" },
		{ "{{é}}", "t.html:1: a name is" },
		{ "{{x12345678901234567890123456789012345678901234567890"
		    "12345678901234}}", "t.html:1: a name is" },
		{ "x\n{{> Bad}}", "t.html:2: a partial's name" },
		{ "{{>}}", "t.html:1: a partial's name" },
		{ "{{> a.b}}", "t.html:1: a partial's name" },
		{ "\n\n\n{{> nothere}}",
		    "t.html:4: {{> nothere}}: there is no template nothere.html" },
		{ "ok\n\xc3\x28\n", "t.html:2: invalid UTF-8" },
		{ "\xc0\xaf", "t.html:1: invalid UTF-8" },
		{ "\xed\xa0\x80", "t.html:1: invalid UTF-8" },
		{ "\n\n\xf4\x90\x80\x80", "t.html:3: invalid UTF-8" },
		{ "a\nb\n\xe2\x82", "t.html:3: invalid UTF-8" },
	};
	const char *names[1] = { "t" };
	char	 deep[1024], *big;
	size_t	 i;
	int	 k;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		load_fails(names, &bad[i].text, 1, bad[i].want);

	/* 16 sections deep is fine, 17 is not. */
	deep[0] = '\0';
	for (k = 0; k < 16; k++)
		append(deep, sizeof(deep), "{{#s}}\n");
	for (k = 0; k < 16; k++)
		append(deep, sizeof(deep), "{{/s}}");
	check(deep, "{\"s\":true}", "");
	deep[0] = '\0';
	for (k = 0; k < 17; k++)
		append(deep, sizeof(deep), "{{#s}}\n");
	for (k = 0; k < 17; k++)
		append(deep, sizeof(deep), "{{/s}}");
	{
		const char *text = deep;

		load_fails(names, &text, 1,
		    "t.html:17: sections nested deeper than 16");
	}

	/* A file of 64 KiB is fine, one byte more is not. */
	assert_non_null(big = malloc(TMPL_FILE_MAX + 2));
	memset(big, 'x', TMPL_FILE_MAX + 1);
	big[100] = '\n';
	big[TMPL_FILE_MAX] = '\0';
	check(big, NULL, big);
	big[TMPL_FILE_MAX] = 'x';
	big[TMPL_FILE_MAX + 1] = '\0';
	{
		const char *text = big;

		load_fails(names, &text, 1,
		    "t.html:2: the file is larger than 65536 bytes");
	}
	free(big);

	/* Names of templates, and how many. */
	{
		const char *n2[2] = { "t", "t" }, *t2[2] = { "a", "b" };
		const char *bn[1] = { "Bad" }, *bt[1] = { "x" };
		const char *many[TMPL_FILES_MAX + 1];

		load_fails(n2, t2, 2, "t.html: the name is given twice");
		load_fails(bn, bt, 1, "Bad.html: a template's name");
		for (i = 0; i <= TMPL_FILES_MAX; i++)
			many[i] = "x";
		load_fails(many, many, TMPL_FILES_MAX + 1, "more than 64");
	}
}

static void
test_partial_recursion(void **state)
{
	const char *n1[1] = { "self" }, *t1[1] = { "x\n{{> self}}" };
	const char *n2[2] = { "a", "b" }, *t2[2] = { "{{> b}}",
	    "{{#s}}\n\n{{> a}}{{/s}}" };
	const char *n3[3] = { "top", "a", "b" };
	const char *t3[3] = { "{{> a}}", "{{> b}}", "b\n{{> a}}" };
	const char *n10[10] = { "p0", "p1", "p2", "p3", "p4", "p5", "p6",
	    "p7", "p8", "p9" };
	const char *t10[10] = { "{{>p1}}", "{{>p2}}", "{{>p3}}", "{{>p4}}",
	    "{{>p5}}", "{{>p6}}", "{{>p7}}", "{{>p8}}", "{{>p9}}", "9" };

	load_fails(n1, t1, 1,
	    "self.html:2: {{> self}} recurses: self includes self again");
	load_fails(n2, t2, 2, "b.html:3: {{> a}} recurses: a includes b again");
	load_fails(n3, t3, 3, "b.html:2: {{> a}} recurses: a includes b again");
	load_fails(n10, t10, 10, "p0.html:1: {{> p1}} nests partials deeper "
	    "than 8");
}

static void
test_bounds(void **state)
{
	struct tmpl_set *s;
	struct evbuffer *out;
	cJSON	*view;
	char	*half, deep[512];
	int	 k;

	/* TMPL_OUTPUT_MAX bytes exactly are fine, one more is not, and a
	 * failed rendering leaves out as it was. */
	assert_non_null(half = malloc(TMPL_OUTPUT_MAX / 2 + 1));
	memset(half, 'a', TMPL_OUTPUT_MAX / 2);
	half[TMPL_OUTPUT_MAX / 2] = '\0';
	assert_non_null(view = cJSON_CreateObject());
	assert_non_null(cJSON_AddStringToObject(view, "h", half));
	s = set_of("two", "{{h}}{{h}}", "more", "{{h}}{{h}}!", NULL);
	assert_non_null(out = evbuffer_new());
	assert_int_equal(evbuffer_add(out, "kept", 4), 0);
	assert_int_equal(tmpl_render(s, "two", view, out), 0);
	assert_int_equal(evbuffer_get_length(out), 4 + TMPL_OUTPUT_MAX);
	assert_int_equal(evbuffer_drain(out, evbuffer_get_length(out)), 0);
	assert_int_equal(evbuffer_add(out, "kept", 4), 0);
	assert_int_equal(tmpl_render(s, "more", view, out), -1);
	assert_int_equal(evbuffer_get_length(out), 4);
	/* Escaping counts its entities. */
	half[0] = '<';
	cJSON_ReplaceItemInObject(view, "h", cJSON_CreateString(half));
	assert_int_equal(tmpl_render(s, "two", view, out), -1);
	assert_int_equal(evbuffer_get_length(out), 4);
	free(half);
	cJSON_Delete(view);
	tmpl_set_free(s);

	/* Sections over arrays that print nothing stop too. */
	deep[0] = '\0';
	for (k = 0; k < 16; k++)
		append(deep, sizeof(deep), "{{#a}}");
	for (k = 0; k < 16; k++)
		append(deep, sizeof(deep), "{{/a}}");
	s = set_of("t", deep, NULL);
	assert_null(render(s, "t", "{\"a\":[1,2,3,4,5,6,7,8,9,10]}"));
	tmpl_set_free(s);
	evbuffer_free(out);
}

static const char login_top[] =
	"<!doctype html>\n"
	"<html lang=\"en\">\n"
	"<head>\n"
	"<meta charset=\"utf-8\">\n"
	"<title>{{title}} · {{product}}</title>\n"
	"<link rel=\"stylesheet\" href=\"{{base}}/ui/static/warden.css\">\n"
	"</head>\n"
	"<body>\n"
	"<main>\n";
static const char login_bottom[] =
	"</main>\n"
	"</body>\n"
	"</html>\n";
static const char login_page[] =
	"{{> layout_top}}\n"
	"<h1>{{title}}</h1>\n"
	"{{#error_list}}\n"
	"<ul class=\"errors\" role=\"alert\">\n"
	"  {{#items}}\n"
	"  <li>{{.}}</li>\n"
	"  {{/items}}\n"
	"</ul>\n"
	"{{/error_list}}\n"
	"<form method=\"post\" action=\"{{base}}/ui/login\">\n"
	"  <input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">\n"
	"  <input type=\"hidden\" name=\"rd\" value=\"{{rd}}\">\n"
	"  <label for=\"username\">Username or e-mail</label>\n"
	"  <input id=\"username\" name=\"username\" value=\"{{username}}\">\n"
	"  {{! never a value for the password }}\n"
	"  <label for=\"password\">Password</label>\n"
	"  <input id=\"password\" name=\"password\" type=\"password\">\n"
	"  <button>Sign in</button>\n"
	"</form>\n"
	"{{^registration_open}}\n"
	"<p>Registration is closed.</p>\n"
	"{{/registration_open}}\n"
	"{{> layout_bottom}}\n";

static void
test_login_page(void **state)
{
	struct tmpl_set *s;
	char	*got;

	s = set_of("layout_top", login_top, "layout_bottom", login_bottom,
	    "login", login_page, NULL);
	got = render(s, "login",
	    "{\"title\":\"Sign in\",\"product\":\"Warden & Co\","
	    "\"base\":\"https://id.example.com\",\"csrf\":\"q8+/Zw=\","
	    "\"rd\":\"https://app.example.com/x?a=1&b=2\","
	    "\"username\":\"<bob>\",\"registration_open\":false,"
	    "\"error_list\":{\"items\":[\"Wrong username or password.\","
	    "\"Say \\\"please\\\"\"]}}");
	assert_non_null(got);
	assert_string_equal(got,
	    "<!doctype html>\n"
	    "<html lang=\"en\">\n"
	    "<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<title>Sign in · Warden &amp; Co</title>\n"
	    "<link rel=\"stylesheet\" "
	    "href=\"https://id.example.com/ui/static/warden.css\">\n"
	    "</head>\n"
	    "<body>\n"
	    "<main>\n"
	    "<h1>Sign in</h1>\n"
	    "<ul class=\"errors\" role=\"alert\">\n"
	    "  <li>Wrong username or password.</li>\n"
	    "  <li>Say &quot;please&quot;</li>\n"
	    "</ul>\n"
	    "<form method=\"post\" action=\"https://id.example.com/ui/login\">\n"
	    "  <input type=\"hidden\" name=\"csrf\" value=\"q8+/Zw&#61;\">\n"
	    "  <input type=\"hidden\" name=\"rd\" "
	    "value=\"https://app.example.com/x?a&#61;1&amp;b&#61;2\">\n"
	    "  <label for=\"username\">Username or e-mail</label>\n"
	    "  <input id=\"username\" name=\"username\" value=\"&lt;bob&gt;\">\n"
	    "  <label for=\"password\">Password</label>\n"
	    "  <input id=\"password\" name=\"password\" type=\"password\">\n"
	    "  <button>Sign in</button>\n"
	    "</form>\n"
	    "<p>Registration is closed.</p>\n"
	    "</main>\n"
	    "</body>\n"
	    "</html>\n");
	free(got);

	/* No errors, registration open, nothing typed yet. */
	got = render(s, "login", "{\"title\":\"Sign in\",\"product\":\"W\","
	    "\"base\":\"\",\"csrf\":\"t\",\"registration_open\":true}");
	assert_non_null(got);
	assert_null(strstr(got, "errors"));
	assert_null(strstr(got, "closed"));
	assert_non_null(strstr(got, "<h1>Sign in</h1>\n<form method=\"post\" "
	    "action=\"/ui/login\">\n"));
	assert_non_null(strstr(got, "name=\"rd\" value=\"\">"));
	assert_non_null(strstr(got, "</form>\n</main>\n"));
	free(got);
	tmpl_set_free(s);
}

/* Writes len bytes of text to dir/name. */
static void
put(const char *dir, const char *name, const char *text, size_t len)
{
	char	 path[512];
	FILE	*f;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
test_load_dir(void **state)
{
	char	 dir[] = "/tmp/test_tmpl.XXXXXX", err[512], want[512], path[600];
	struct tmpl_set *s;
	char	*got;

	assert_non_null(mkdtemp(dir));
	put(dir, "page.html", "<p>{{> part}}</p>\n", 18);
	put(dir, "part.html", "{{x}}", 5);
	/* Not templates: ignored. */
	put(dir, "README", "{{", 2);
	put(dir, "Upper.html", "{{", 2);
	put(dir, "page.html~", "{{", 2);
	put(dir, ".html", "{{", 2);
	(void)snprintf(path, sizeof(path), "%s/static", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	s = tmpl_set_load(dir, err, sizeof(err));
	if (s == NULL)
		fail_msg("%s", err);
	assert_false(tmpl_set_has(s, "Upper"));
	assert_false(tmpl_set_has(s, "README"));
	got = render(s, "page", "{\"x\":\"<y>\"}");
	assert_non_null(got);
	assert_string_equal(got, "<p>&lt;y&gt;</p>\n");
	free(got);
	tmpl_set_free(s);

	/* A NUL byte, with its file and line. */
	put(dir, "part.html", "a\nb\0c", 5);
	assert_null(tmpl_set_load(dir, err, sizeof(err)));
	(void)snprintf(want, sizeof(want), "%s/part.html:2: a NUL byte", dir);
	assert_string_equal(err, want);

	/* Too large. */
	{
		char	*big = malloc(TMPL_FILE_MAX + 1);

		assert_non_null(big);
		memset(big, 'x', TMPL_FILE_MAX + 1);
		put(dir, "part.html", big, TMPL_FILE_MAX + 1);
		free(big);
	}
	assert_null(tmpl_set_load(dir, err, sizeof(err)));
	(void)snprintf(want, sizeof(want), "%s/part.html:1: the file is "
	    "larger than 65536 bytes", dir);
	assert_string_equal(err, want);

	/* A partial that is not there. */
	(void)snprintf(path, sizeof(path), "%s/part.html", dir);
	assert_int_equal(unlink(path), 0);
	assert_null(tmpl_set_load(dir, err, sizeof(err)));
	(void)snprintf(want, sizeof(want), "%s/page.html:1: {{> part}}: "
	    "there is no template part.html", dir);
	assert_string_equal(err, want);

	/* A link is not followed. */
	assert_int_equal(symlink("page.html", path), 0);
	assert_null(tmpl_set_load(dir, err, sizeof(err)));
	assert_non_null(strstr(err, "part.html: "));
	rm_tree(dir);

	assert_null(tmpl_set_load(dir, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
}

/* The templates of etc/ui/ load, and the login page renders with every
 * input labelled and its values escaped. */
static void
test_shipped(void **state)
{
	struct tmpl_set *s;
	char	 err[512], *got;

	s = tmpl_set_load("etc/ui", err, sizeof(err));
	if (s == NULL)
		fail_msg("%s", err);
	assert_true(tmpl_set_has(s, "head"));
	assert_true(tmpl_set_has(s, "foot"));
	assert_true(tmpl_set_has(s, "login"));
	got = render(s, "login", "{\"title\":\"Sign in\",\"product\":\"Warden\","
	    "\"base\":\"https://id.example.com\",\"csrf\":\"c<s>rf\","
	    "\"rd\":\"https://app.example.com/?a=1&b=2\",\"username\":\"bo\\\"b\","
	    "\"error\":\"<script>alert(1)</script>\",\"registration_open\":true}");
	assert_non_null(got);
	assert_true(strncmp(got, "<!doctype html>\n<html lang=\"en\">\n", 33) == 0);
	assert_non_null(strstr(got, "<title>Sign in · Warden</title>"));
	assert_non_null(strstr(got, "<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">"));
	assert_non_null(strstr(got, "href=\"https://id.example.com/ui/static/"
	    "warden.css\""));
	assert_non_null(strstr(got, "<form method=\"post\" "
	    "action=\"https://id.example.com/ui/login\">"));
	assert_non_null(strstr(got, "<input type=\"hidden\" name=\"csrf\" "
	    "value=\"c&lt;s&gt;rf\">"));
	assert_non_null(strstr(got, "<input type=\"hidden\" name=\"rd\" "
	    "value=\"https://app.example.com/?a&#61;1&amp;b&#61;2\">"));
	assert_non_null(strstr(got, "role=\"alert\">&lt;script&gt;alert(1)"
	    "&lt;/script&gt;</p>"));
	assert_null(strstr(got, "<script"));
	assert_non_null(strstr(got, "value=\"bo&quot;b\""));
	assert_non_null(strstr(got, "<label for=\"username\">"));
	assert_non_null(strstr(got, "<input id=\"username\""));
	assert_non_null(strstr(got, "<label for=\"password\">"));
	assert_non_null(strstr(got, "<input id=\"password\""));
	assert_non_null(strstr(got, "/ui/register\""));
	assert_non_null(strstr(got, "/ui/forgot\""));
	assert_true(strlen(got) > 8 &&
	    strcmp(got + strlen(got) - 8, "</html>\n") == 0);
	free(got);

	got = render(s, "login", "{\"title\":\"Sign in\",\"product\":\"W\","
	    "\"base\":\"\",\"csrf\":\"c\",\"rd\":\"\"}");
	assert_non_null(got);
	assert_null(strstr(got, "register"));
	assert_null(strstr(got, "role=\"alert\""));
	assert_null(strstr(got, "aria-describedby"));
	free(got);
	tmpl_set_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_standalone_and_comments),
		cmocka_unit_test(test_partials),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_partial_recursion),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_login_page),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_shipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
