/*
 * libFuzzer target of daemon/ui/tmpl.c, the portal's template engine.
 * The input is a template, then (after a NUL byte, if any) a JSON view.
 * The template is loaded beside two fixed partials and rendered twice:
 * as it is (memory safety, bounds), and with every byte that HTML gives a
 * meaning to (< > & " ' ` =) taken out of its text, when the output must
 * hold none of them but the entities of the escaper: whatever the view's
 * strings hold (<script> and the rest) never reaches the page raw.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>

#include "ui/tmpl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char default_view[] =
	"{\"x\":\"<script>alert(1)</script>\",\"y\":{\"z\":\"\\\"'`=&\"},"
	"\"l\":[\"<b>\",\"&amp;\",1,true,null,{\"x\":\"<i>\"},[\"<\"]],"
	"\"t\":true,\"n\":0,\"s\":\"<\",\"o\":{\"x\":\">\"}}";

static const char *const entities[] = {
	"&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#96;", "&#61;",
};

/* The output holds no raw < > " ' ` =, and every & starts an entity of
 * the escaper. */
static void
check_escaped(const char *p, size_t len)
{
	size_t	 i, k;

	for (i = 0; i < len; i++) {
		if (strchr("<>\"'`=", p[i]) != NULL && p[i] != '\0')
			abort();
		if (p[i] != '&')
			continue;
		for (k = 0; k < sizeof(entities) / sizeof(entities[0]); k++)
			if (len - i >= strlen(entities[k]) &&
			    memcmp(p + i, entities[k], strlen(entities[k])) == 0)
				break;
		if (k == sizeof(entities) / sizeof(entities[0]))
			abort();
	}
}

/* Loads text as "main" beside the partials and renders it with view. */
static void
run(const char *text, const cJSON *view, int strict)
{
	const char *names[3] = { "main", "p", "q" };
	const char *texts[3] = { text, "[{{x}}|{{#l}}{{.}},{{/l}}]",
	    "{{> p}}{{y.z}}{{^n}}{{o.x}}{{/n}}" };
	struct tmpl_set *s;
	struct evbuffer *out;
	char	 err[256];
	size_t	 len;

	err[0] = '\0';
	if ((s = tmpl_set_from(names, texts, 3, err, sizeof(err))) == NULL) {
		if (err[0] == '\0')
			abort();	/* every refusal says why */
		return;
	}
	if (!tmpl_set_has(s, "main") || (out = evbuffer_new()) == NULL)
		abort();
	if (tmpl_render(s, "main", view, out) == 0) {
		len = evbuffer_get_length(out);
		if (len > TMPL_OUTPUT_MAX)
			abort();
		if (strict && len > 0)
			check_escaped((const char *)evbuffer_pullup(out, -1),
			    len);
	} else if (evbuffer_get_length(out) != 0)
		abort();	/* a failure leaves out as it was */
	evbuffer_free(out);
	tmpl_set_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul;
	char	*text;
	cJSON	*view = NULL;
	size_t	 tlen, i;

	if (size > TMPL_FILE_MAX + 4096)
		return 0;
	nul = memchr(data, '\0', size);
	tlen = nul != NULL ? (size_t)(nul - data) : size;
	if (nul != NULL)
		view = cJSON_ParseWithLength((const char *)nul + 1,
		    size - tlen - 1);
	if (view == NULL)
		view = cJSON_Parse(default_view);
	if (view == NULL)
		return 0;
	if ((text = malloc(tlen + 1)) == NULL)
		abort();
	memcpy(text, data, tlen);
	text[tlen] = '\0';

	run(text, view, 0);
	for (i = 0; i < tlen; i++)
		if (strchr("<>&\"'`=", text[i]) != NULL)
			text[i] = '_';
	run(text, view, 1);

	free(text);
	cJSON_Delete(view);
	return 0;
}
