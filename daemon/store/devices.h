/*
 * Trusted devices (table login_devices): a client that logged a user in
 * with the right password is given a device token (256 random bits; the
 * database keeps only the bytea literal of its SHA-256) and, presenting it
 * later, is judged by its own failures rather than by the account's lock
 * that strangers' guesses build (users.h: users_find_login,
 * users_login_failed).  OWASP, "Slow Down Online Guessing Attacks with
 * Device Cookies".  A token is trusted for the one user it was issued to,
 * until it goes unused for login_device_ttl; a user keeps at most
 * DEVICES_PER_USER, the least recently used going first.  See store.h for
 * the statuses and the calling rules.
 */
#ifndef WARDEN_STORE_DEVICES_H
#define WARDEN_STORE_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "tokens.h"

struct db_pool;

#define DEVICES_PER_USER	32

/* A successful password login, and the device it came from. */
struct devices_login {
	struct tokens_login login;	/* the login itself (tokens.h) */
	const char	*device;	/* the device token's hash */
	bool		 trusted;	/* device is the user's trusted device
					 * that was presented */
	int64_t		 device_ttl;	/* login_device_ttl, seconds */
};

/*
 * Issues the first refresh token of a new family for a login, only while
 * the user row still holds the verified hash and is active, writes back
 * the rehash and records 'login_ok' (with "device": "known" or "new"),
 * like tokens_issue(); and remembers the device: a trusted one is
 * refreshed (last used now, its failures cleared), any other is added as
 * a new trusted device of the user, and only then are the account's
 * failures cleared (a login from a trusted device leaves the lock that
 * untrusted clients built as it is).  With login.hash NULL (the portal's
 * login, which starts a browser session instead) no refresh token is
 * issued; token_id and family may then be NULL too.  The user's devices unused for
 * device_ttl and those past DEVICES_PER_USER go.  NOT_FOUND when the row
 * is gone, changed or disabled.
 */
int	devices_login(struct db_pool *pool, const struct devices_login *d,
	    store_done_cb *cb, void *arg);

#endif
