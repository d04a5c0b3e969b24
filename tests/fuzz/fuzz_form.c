/*
 * libFuzzer target of daemon/http/form.c, the parser of form bodies (the token
 * endpoints) and query strings.  An accepted input holds at most
 * FORM_MAX_PARAMS distinct, bounded, NUL-free names and values.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const allowed[] = { "grant_type", "username" };
	struct form f;
	char	 why[FORM_WHY_MAX];
	long long n;

	if (form_parse(&f, (const char *)data, size, why, sizeof(why)) == 0) {
		if (f.n > FORM_MAX_PARAMS)
			abort();
		for (size_t i = 0; i < f.n; i++) {
			size_t nl = strlen(f.v[i].name);

			if (nl == 0 || nl > FORM_NAME_MAX ||
			    f.v[i].value_len > FORM_VALUE_MAX ||
			    strlen(f.v[i].value) != f.v[i].value_len)
				abort();
			for (size_t j = 0; j < i; j++)
				if (strcmp(f.v[i].name, f.v[j].name) == 0)
					abort();	/* duplicates refused */
			if (form_get(&f, f.v[i].name) != f.v[i].value)
				abort();
		}
		(void)form_unknown(&f, allowed, 2);
		(void)form_get_int(&f, "limit", 1, 200, 50, &n);
	}
	form_free(&f);
	return 0;
}
