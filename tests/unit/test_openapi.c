/*
 * Unit tests of the compiled-in OpenAPI document (daemon/api/openapi.h): it
 * parses, is OpenAPI 3.1, describes every route of handlers_routes[] (and
 * nothing the table lacks but /metrics), and every $ref in it resolves.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "util.h"

#include "api/handlers.h"
#include "api/openapi.h"
#include "http/route.h"

/* Operations served outside the route table (the metrics listener). */
static const char *const extra_ops[] = { "get /metrics" };

static cJSON	*doc;

static int
setup(void **state)
{
	doc = cJSON_ParseWithLength(openapi_json, openapi_json_len);
	return doc == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	cJSON_Delete(doc);
	doc = NULL;
	return 0;
}

/* The OpenAPI form of a route pattern: "{id:uuid}" becomes "{id}". */
static void
openapi_path(const char *pattern, char *out, size_t outlen)
{
	size_t	 o = 0;
	bool	 in_param = false, skip = false;

	for (const char *p = pattern; *p != '\0'; p++) {
		if (*p == '{')
			in_param = true;
		else if (*p == '}')
			in_param = skip = false;
		else if (*p == ':' && in_param)
			skip = true;
		if (skip)
			continue;
		assert_true(o + 1 < outlen);
		out[o++] = *p;
	}
	out[o] = '\0';
}

static void
lower(const char *s, char *out, size_t outlen)
{
	size_t	 i;

	for (i = 0; s[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}

/* The operation for method ("get") and path, or NULL. */
static cJSON *
operation(const char *method, const char *path)
{
	cJSON	*item;

	item = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "paths"), path);
	return cJSON_GetObjectItemCaseSensitive(item, method);
}

/* The node that a local JSON pointer ("#/a/b~1c") names, or NULL. */
static cJSON *
resolve(const char *ref)
{
	char	 tok[256];
	cJSON	*node = doc;
	const char *p;
	size_t	 n;

	if (strncmp(ref, "#/", 2) != 0)
		return NULL;
	p = ref + 1;
	while (*p == '/' && node != NULL) {
		p++;
		n = 0;
		while (*p != '\0' && *p != '/') {
			if (n + 1 >= sizeof(tok))
				return NULL;
			if (p[0] == '~' && p[1] == '1') {
				tok[n++] = '/';
				p += 2;
			} else if (p[0] == '~' && p[1] == '0') {
				tok[n++] = '~';
				p += 2;
			} else if (p[0] == '~') {
				return NULL;
			} else
				tok[n++] = *p++;
		}
		tok[n] = '\0';
		node = cJSON_GetObjectItemCaseSensitive(node, tok);
	}
	return *p == '\0' ? node : NULL;
}

/* A node, or the node its $ref names. */
static cJSON *
deref(cJSON *node)
{
	cJSON	*ref = cJSON_GetObjectItemCaseSensitive(node, "$ref");

	return cJSON_IsString(ref) ? resolve(ref->valuestring) : node;
}

/* Counts the $refs under node that do not resolve, printing each. */
static size_t
bad_refs(const cJSON *node, size_t *nrefs)
{
	const cJSON	*child;
	size_t		 bad = 0;

	if (cJSON_IsObject(node)) {
		child = cJSON_GetObjectItemCaseSensitive(node, "$ref");
		if (child != NULL) {
			(*nrefs)++;
			if (!cJSON_IsString(child) ||
			    resolve(child->valuestring) == NULL) {
				print_error("unresolved $ref %s\n",
				    cJSON_IsString(child) ?
				    child->valuestring : "(not a string)");
				bad++;
			}
		}
	}
	cJSON_ArrayForEach(child, node)
		bad += bad_refs(child, nrefs);
	return bad;
}

static void
test_version(void **state)
{
	cJSON	*v = cJSON_GetObjectItemCaseSensitive(doc, "openapi");

	assert_int_equal(openapi_json_len, strlen(openapi_json));
	assert_true(cJSON_IsObject(doc));
	assert_true(cJSON_IsString(v));
	assert_true(strncmp(v->valuestring, "3.1.", 4) == 0);
	assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc,
	    "info")));
	assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc,
	    "paths")));
}

/* Every route of the table has an operation with responses, security
 * that matches its auth, and a path parameter for each {name}. */
static void
test_every_route(void **state)
{
	char	 path[ROUTE_PATH_MAX], method[16];
	size_t	 i;

	assert_true(handlers_nroutes > 0);
	for (i = 0; i < handlers_nroutes; i++) {
		const struct route *rt = &handlers_routes[i];
		cJSON	*op, *resp, *sec, *pi, *params;

		openapi_path(rt->pattern, path, sizeof(path));
		lower(route_method_name(rt->method), method, sizeof(method));
		op = operation(method, path);
		if (op == NULL)
			fail_msg("no operation for %s %s", method, path);
		resp = cJSON_GetObjectItemCaseSensitive(op, "responses");
		assert_true(cJSON_IsObject(resp));
		assert_true(cJSON_GetArraySize(resp) > 0);
		assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(op,
		    "operationId")));

		sec = cJSON_GetObjectItemCaseSensitive(op, "security");
		if (rt->auth != ROUTE_AUTH_NONE) {
			cJSON	*req = cJSON_GetArrayItem(sec, 0), *scopes;

			scopes = cJSON_GetObjectItemCaseSensitive(req,
			    "bearerAuth");
			if (!cJSON_IsArray(scopes))
				fail_msg("%s %s lacks bearer security", method,
				    path);
			if (rt->auth == ROUTE_AUTH_ADMIN) {
				cJSON	*s0 = cJSON_GetArrayItem(scopes, 0);

				assert_true(cJSON_IsString(s0));
				assert_string_equal(s0->valuestring, "admin");
			}
			assert_non_null(cJSON_GetObjectItemCaseSensitive(resp,
			    "401"));
		}

		/* Each {name} of the path is a required path parameter,
		 * declared on the path item or the operation. */
		pi = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(doc, "paths"), path);
		for (const char *p = strchr(path, '{'); p != NULL;
		    p = strchr(p + 1, '{')) {
			char	 name[ROUTE_NAME_MAX + 1];
			size_t	 n = strcspn(p + 1, "}");
			bool	 found = false;

			assert_true(n > 0 && n < sizeof(name));
			memcpy(name, p + 1, n);
			name[n] = '\0';
			for (int k = 0; k < 2 && !found; k++) {
				cJSON	*prm;

				params = cJSON_GetObjectItemCaseSensitive(
				    k == 0 ? pi : op, "parameters");
				cJSON_ArrayForEach(prm, params) {
					cJSON	*d = deref(prm), *nm, *in, *rq;

					nm = cJSON_GetObjectItemCaseSensitive(d,
					    "name");
					in = cJSON_GetObjectItemCaseSensitive(d,
					    "in");
					rq = cJSON_GetObjectItemCaseSensitive(d,
					    "required");
					if (cJSON_IsString(nm) &&
					    cJSON_IsString(in) &&
					    strcmp(nm->valuestring, name) == 0 &&
					    strcmp(in->valuestring, "path") == 0 &&
					    cJSON_IsTrue(rq))
						found = true;
				}
			}
			if (!found)
				fail_msg("%s: no path parameter %s", path,
				    name);
		}
	}
}

/* Every operation of the document is a route of the table (or served
 * outside it), with responses; operationIds are unique. */
static void
test_no_stray_operation(void **state)
{
	static const char *const methods[] = { "get", "put", "post",
	    "delete", "options", "head", "patch", "trace" };
	cJSON	*pi, *ids = cJSON_CreateObject();
	char	 path[ROUTE_PATH_MAX], m[16], key[ROUTE_PATH_MAX + 16];
	size_t	 nops = 0;

	assert_non_null(ids);
	cJSON_ArrayForEach(pi, cJSON_GetObjectItemCaseSensitive(doc, "paths")) {
		for (size_t j = 0; j < sizeof(methods) / sizeof(methods[0]);
		    j++) {
			cJSON	*op, *id, *resp;
			bool	 known = false;

			op = cJSON_GetObjectItemCaseSensitive(pi, methods[j]);
			if (op == NULL)
				continue;
			nops++;
			resp = cJSON_GetObjectItemCaseSensitive(op,
			    "responses");
			assert_true(cJSON_IsObject(resp) &&
			    cJSON_GetArraySize(resp) > 0);
			id = cJSON_GetObjectItemCaseSensitive(op,
			    "operationId");
			assert_true(cJSON_IsString(id));
			if (cJSON_GetObjectItemCaseSensitive(ids,
			    id->valuestring) != NULL)
				fail_msg("duplicate operationId %s",
				    id->valuestring);
			cJSON_AddTrueToObject(ids, id->valuestring);

			for (size_t i = 0; i < handlers_nroutes && !known;
			    i++) {
				openapi_path(handlers_routes[i].pattern, path,
				    sizeof(path));
				lower(route_method_name(
				    handlers_routes[i].method), m, sizeof(m));
				known = strcmp(path, pi->string) == 0 &&
				    strcmp(m, methods[j]) == 0;
			}
			assert_int_equal(str_printf(key, sizeof(key), "%s %s",
			    methods[j], pi->string), 0);
			for (size_t i = 0; i < sizeof(extra_ops) /
			    sizeof(extra_ops[0]) && !known; i++)
				known = strcmp(key, extra_ops[i]) == 0;
			if (!known)
				fail_msg("operation %s is no route", key);
		}
	}
	assert_true(nops >= handlers_nroutes);
	cJSON_Delete(ids);
}

static void
test_refs_resolve(void **state)
{
	size_t	 nrefs = 0;

	assert_int_equal(bad_refs(doc, &nrefs), 0);
	assert_true(nrefs > 0);
	/* The resolver itself: a miss, an escape, a non-local ref. */
	assert_null(resolve("#/components/schemas/NoSuchThing"));
	assert_null(resolve("other.json#/a"));
	assert_non_null(resolve("#/paths/~1healthz"));
	assert_null(resolve("#/paths/~2healthz"));
}

/* Every problem response names its urn:warden:problem: type. */
static void
test_problem_responses(void **state)
{
	cJSON	*r, *resps;
	size_t	 n = 0;

	resps = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "components"), "responses");
	cJSON_ArrayForEach(r, resps) {
		cJSON	*mt, *all, *part, *type;
		bool	 named = false;

		mt = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(r, "content"),
		    "application/problem+json");
		if (mt == NULL)
			continue;
		n++;
		all = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(mt, "schema"), "allOf");
		cJSON_ArrayForEach(part, all) {
			type = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(part,
			    "properties"), "type"), "const");
			if (cJSON_IsString(type) && strncmp(type->valuestring,
			    "urn:warden:problem:", 19) == 0)
				named = true;
		}
		if (!named)
			fail_msg("response %s names no problem type",
			    r->string);
	}
	assert_true(n >= 12);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_every_route),
		cmocka_unit_test(test_no_stray_operation),
		cmocka_unit_test(test_refs_resolve),
		cmocka_unit_test(test_problem_responses),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
