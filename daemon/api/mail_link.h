/*
 * The one-time links that mail carries (ACCOUNTS.md): a token of 256
 * random bits (secret_token.h) in a URL of the login
 * portal, {public_url}/ui/verify-email?token=... or
 * /ui/reset-password?token=...; the store keeps only its hash (store/links.h).
 * Opening a link never spends it: only the page's form posts the token.
 */
#ifndef WARDEN_MAIL_LINK_H
#define WARDEN_MAIL_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "secret_token.h"
#include "store/links.h"

struct cfg;

#define MAIL_LINK_URL_MAX	640	/* public_url, page and token */
#define MAIL_LINK_WORDS_MAX	32	/* "30 minutes" */

struct mail_link {
	char		 token[SECRET_TOKEN_LEN + 1];		/* secret */
	char		 hash[SECRET_TOKEN_HASH_LITERAL];
	char		 url[MAIL_LINK_URL_MAX];		/* secret */
	char		 expires_in[MAIL_LINK_WORDS_MAX];
	struct links_mail mail;		/* points into the above */
};

/* True when mail can be sent (mail_transport is not "off"). */
bool	mail_link_mail_on(const struct cfg *cfg);

/* True when new and changed addresses get a verification mail. */
bool	mail_link_verifies(const struct cfg *cfg);

/*
 * Makes a new token and its link to the portal's page for purpose, living
 * ttl seconds.  Returns 0, or -1 (no randomness, a URL too long).
 */
int	mail_link_make(struct mail_link *l, const struct cfg *cfg,
	    enum links_purpose purpose, int64_t ttl);

/* Wipes l (it holds the token). */
void	mail_link_wipe(struct mail_link *l);

/* Writes a duration in words: "30 minutes", "1 hour", "2 days". */
void	mail_link_words(char *buf, size_t len, int64_t seconds);

#endif
