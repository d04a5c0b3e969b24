/*
 * libFuzzer target of daemon/http/json_in.c, the parser of every JSON request
 * body.  Whatever it accepts must be one object that cJSON prints back and
 * that the strict parser accepts again; the member check must never fail
 * on an accepted tree.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http/json_in.h"
#include "http/problem.h"

#define DEPTH	32

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct json_in_member members[] = {
	{ "username", JSON_IN_STRING, 32, 0, true, false },
	{ "full_name", JSON_IN_STRING, 512, 0, false, true },
	{ "roles", JSON_IN_STRING_ARRAY, 32, 32, false, false },
	{ "is_active", JSON_IN_BOOL, 0, 0, false, false },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_in_value v[4];
	struct problem_fields pf;
	char	 why[JSON_IN_WHY_MAX], *body, *printed;
	cJSON	*o, *again;
	int	 rc;

	/* The server hands bodies over NUL-terminated. */
	if ((body = malloc(size + 1)) == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	rc = json_in_parse(body, size, DEPTH, &o, why, sizeof(why));
	if (rc == -1 && why[0] == '\0')
		abort();	/* every refusal says why */
	if (rc == 0) {
		if (!cJSON_IsObject(o))
			abort();
		printed = cJSON_PrintUnformatted(o);
		if (printed != NULL) {
			if (json_in_parse(printed, strlen(printed), DEPTH,
			    &again, why, sizeof(why)) != 0)
				abort();
			cJSON_Delete(again);
			free(printed);
		}
		memset(v, 0, sizeof(v));
		problem_fields_init(&pf);
		(void)json_in_extract(o, members, 4, v, &pf);
		problem_fields_free(&pf);
		cJSON_Delete(o);
	}
	free(body);
	return 0;
}
