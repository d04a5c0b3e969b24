/*
 * A set of strings that remembers where each was first seen: import's
 * check that no two lines of a file share a username or an e-mail
 * address.  Open addressing, doubled at half full.
 */
#ifndef WARDEN_CTL_SEEN_H
#define WARDEN_CTL_SEEN_H

#include <stddef.h>

struct seen;

/* An empty set, or NULL when out of memory. */
struct seen	*seen_new(void);

/* The line key was first seen at, or 0 when it was not. */
size_t		 seen_find(const struct seen *s, const char *key);

/*
 * Adds key (copied) seen at line (> 0).  Returns line when key is new,
 * the line it was first seen at when it is not, and 0 when out of memory.
 */
size_t		 seen_add(struct seen *s, const char *key, size_t line);

void		 seen_free(struct seen *s);

#endif
