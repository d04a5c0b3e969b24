/*
 * The blocklist as an open-addressing hash set of lower-cased strings.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "blocklist.h"
#include "util.h"

struct blocklist {
	char		**slots;	/* NULL = empty */
	size_t		  mask;		/* slots - 1, a power of two minus one */
	size_t		  count;
	uint8_t		  key[crypto_shorthash_KEYBYTES];
};

static uint64_t
slot_hash(const struct blocklist *bl, const char *s, size_t len)
{
	uint8_t	out[crypto_shorthash_BYTES];
	uint64_t h;

	crypto_shorthash(out, (const unsigned char *)s, len, bl->key);
	memcpy(&h, out, sizeof(h));
	return h;
}

static void
lower_copy(char *dst, const char *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[len] = '\0';
}

/* Finds the slot of s, or the empty slot where it would go. */
static size_t
slot_find(const struct blocklist *bl, const char *s, size_t len)
{
	size_t i = slot_hash(bl, s, len) & bl->mask;

	while (bl->slots[i] != NULL &&
	    (strlen(bl->slots[i]) != len || memcmp(bl->slots[i], s, len) != 0))
		i = (i + 1) & bl->mask;
	return i;
}

static int
grow(struct blocklist *bl)
{
	size_t	 nslots = (bl->mask + 1) * 2;
	char	**old = bl->slots;
	size_t	 oldn = bl->mask + 1;

	if ((bl->slots = calloc(nslots, sizeof(*bl->slots))) == NULL) {
		bl->slots = old;
		return -1;
	}
	bl->mask = nslots - 1;
	for (size_t i = 0; i < oldn; i++) {
		if (old[i] != NULL)
			bl->slots[slot_find(bl, old[i], strlen(old[i]))] = old[i];
	}
	free(old);
	return 0;
}

static int
insert(struct blocklist *bl, const char *line, size_t len)
{
	char	*s;
	size_t	 i;

	/* Keep the load factor at most one half so probes stay short. */
	if ((bl->count + 1) * 2 > bl->mask + 1 && grow(bl) == -1)
		return -1;
	if ((s = malloc(len + 1)) == NULL)
		return -1;
	lower_copy(s, line, len);
	i = slot_find(bl, s, len);
	if (bl->slots[i] != NULL) {
		free(s);	/* a duplicate, once case is ignored */
		return 0;
	}
	bl->slots[i] = s;
	bl->count++;
	return 0;
}

struct blocklist *
blocklist_load(const char *path, char *err, size_t errlen)
{
	struct blocklist *bl;
	FILE	*f = NULL;
	char	*line = NULL;
	size_t	 linecap = 0, lineno = 0;
	ssize_t	 n;

	if ((bl = calloc(1, sizeof(*bl))) == NULL ||
	    (bl->slots = calloc(1024, sizeof(*bl->slots))) == NULL) {
		str_printf(err, errlen, "out of memory");
		free(bl);
		return NULL;
	}
	bl->mask = 1023;
	crypto_shorthash_keygen(bl->key);
	if (path == NULL || *path == '\0')
		return bl;

	if ((f = fopen(path, "re")) == NULL) {
		str_printf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	while ((n = getline(&line, &linecap, f)) != -1) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n == 0 || strncmp(line, "#!comment:", 10) == 0)
			continue;
		if ((size_t)n > BLOCKLIST_MAX_LINE || memchr(line, '\0', n)) {
			str_printf(err, errlen, "%s:%zu: line too long or "
			    "holds a NUL byte", path, lineno);
			goto fail;
		}
		if (bl->count >= BLOCKLIST_MAX_ENTRIES) {
			str_printf(err, errlen, "%s:%zu: more than %u entries",
			    path, lineno, BLOCKLIST_MAX_ENTRIES);
			goto fail;
		}
		if (insert(bl, line, (size_t)n) == -1) {
			str_printf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (ferror(f)) {
		str_printf(err, errlen, "%s: read error", path);
		goto fail;
	}
	free(line);
	fclose(f);
	return bl;
fail:
	free(line);
	if (f != NULL)
		fclose(f);
	blocklist_free(bl);
	return NULL;
}

bool
blocklist_contains(const struct blocklist *bl, const char *pw, size_t len)
{
	char	 buf[BLOCKLIST_MAX_LINE + 1];
	bool	 found;

	if (bl == NULL || bl->count == 0 || len > BLOCKLIST_MAX_LINE)
		return false;
	lower_copy(buf, pw, len);
	found = bl->slots[slot_find(bl, buf, len)] != NULL;
	sodium_memzero(buf, sizeof(buf));
	return found;
}

size_t
blocklist_count(const struct blocklist *bl)
{
	return bl == NULL ? 0 : bl->count;
}

void
blocklist_free(struct blocklist *bl)
{
	if (bl == NULL)
		return;
	for (size_t i = 0; i <= bl->mask; i++)
		free(bl->slots[i]);
	free(bl->slots);
	free(bl);
}
