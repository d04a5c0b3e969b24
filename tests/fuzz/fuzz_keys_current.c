/*
 * libFuzzer target of hasher/keys_current.c: any bytes as a key
 * directory's current file.  A file that parses names a current sign and
 * pepper key, formats back to text that parses to the same, and chooses a
 * key of each kind at any instant that is its current or its next one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../hasher/keys_current.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keys_current	 kc, back;
	char			 text[1025], out[1025], err[256];
	const char		*kid;
	int			 k;

	/* keys.c reads at most 1023 bytes and refuses a NUL. */
	if (size >= sizeof(text) - 1 || memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (keys_current_parse(text, "fuzz/current", &kc, err,
	    sizeof(err)) == -1) {
		if (strlen(err) >= sizeof(err) - 1 || err[0] == '\0')
			abort();
		return 0;
	}
	if (kc.cur[KEYS_SIGN][0] == '\0' || kc.cur[KEYS_PEPPER][0] == '\0')
		abort();
	if (keys_current_format(&kc, out, sizeof(out)) == -1)
		abort();	/* at most a newline longer than what parsed */
	if (keys_current_parse(out, "fuzz/current", &back, err,
	    sizeof(err)) == -1 || memcmp(&kc, &back, sizeof(kc)) != 0)
		abort();
	for (k = 0; k < KEYS_NKINDS; k++) {
		kid = keys_current_kid(&kc, (enum keys_kind)k, kc.from[k]);
		if (kc.next[k][0] != '\0' && (kid == NULL ||
		    strcmp(kid, kc.next[k]) != 0))
			abort();
		kid = keys_current_kid(&kc, (enum keys_kind)k, -1);
		if (kc.cur[k][0] != '\0' && (kid == NULL ||
		    strcmp(kid, kc.cur[k]) != 0))
			abort();
	}
	return 0;
}
