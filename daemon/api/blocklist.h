/*
 * The common-password blocklist (password_blocklist, by default John the
 * Ripper's password.lst): loaded once into a hash set keyed by SipHash with
 * a random key, so that lookups cost the same whatever the list holds and
 * no chosen input can degrade them.  Matching ignores ASCII case.
 */
#ifndef WARDEN_BLOCKLIST_H
#define WARDEN_BLOCKLIST_H

#include <stdbool.h>
#include <stddef.h>

#define BLOCKLIST_MAX_ENTRIES	(4u * 1024 * 1024)
#define BLOCKLIST_MAX_LINE	1024

struct blocklist;

/*
 * Reads path: one password per line, "#!comment:" lines and blank lines
 * skipped, trailing CR tolerated.  An empty path gives an empty list.
 * Returns the list, or NULL with the reason in err (unreadable file, line
 * too long, more than BLOCKLIST_MAX_ENTRIES).  Blocking: start-up and
 * reload only.
 */
struct blocklist *blocklist_load(const char *path, char *err, size_t errlen);

/* True when the len bytes of pw are on the list (ASCII case ignored). */
bool	blocklist_contains(const struct blocklist *bl, const char *pw,
	    size_t len);

/* How many distinct entries the list holds. */
size_t	blocklist_count(const struct blocklist *bl);

/* Frees the list; NULL is fine. */
void	blocklist_free(struct blocklist *bl);

#endif
