/*
 * One-time links in mail (ACCOUNTS.md): e-mail verification and password
 * reset.  A link carries a token of 256 random bits; the table
 * one_time_tokens keeps only the bytea literal of its SHA-256, with its
 * purpose, user, expiry, the user's token version and the address it was
 * sent to.  One live token per user and purpose (a new one replaces the
 * old), spent on first use; a password change voids them all.  The mail
 * that carries a link is queued in mail_outbox by the same statement that
 * makes the token, so neither exists without the other.  See store.h for
 * the statuses and the calling rules.
 */
#ifndef WARDEN_STORE_LINKS_H
#define WARDEN_STORE_LINKS_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "user_row.h"

struct db_pool;

/* The purposes, and the mail template of each (etc/mail/<name>.txt). */
enum links_purpose { LINKS_VERIFY_EMAIL, LINKS_PASSWORD_RESET };

/* A link to mail: the token's hash, the URL with the token, how long it
 * lives (seconds) and the same in words for the template. */
struct links_mail {
	const char	*hash;		/* bytea literal of the SHA-256 */
	const char	*link;		/* secret: carries the token */
	int64_t		 ttl;
	const char	*expires_in;	/* "30 minutes" */
};

/* How a request for a link ended. */
enum links_outcome {
	LINKS_QUEUED,		/* the token is made and the mail queued */
	LINKS_NO_ACCOUNT,	/* no active account (by id or address) */
	LINKS_LIMITED,		/* mail_rate mails this hour already */
	LINKS_ALREADY_VERIFIED,	/* verification: nothing to verify */
};

typedef void	links_issued_cb(enum store_status st, enum links_outcome out,
		    void *arg);

struct links_request {
	enum links_purpose purpose;
	const char	*user_id;	/* the account by id, or */
	const char	*email;		/* by address (case-insensitive) */
	struct links_mail mail;
	unsigned int	 rate;		/* mail_rate: mails per account per
					 * hour */
	const char	*remote;	/* for the audit */
};

/*
 * Makes q's token for the active account q names (replacing its live one
 * of that purpose), queues its mail and records verification_sent or
 * password_reset_requested, unless the account has had q->rate mails in
 * the last hour or (verification) its address is verified.  The same
 * statement runs whether or not there is such an account.
 */
int	links_issue(struct db_pool *pool, const struct links_request *q,
	    links_issued_cb *cb, void *arg);

/*
 * Spends a verification token: when it is live and was sent to the
 * address the account still has, the address is verified and
 * email_verified recorded.  NOT_FOUND for any other token (unknown,
 * expired, spent, for an older address, a disabled account).
 * The id told is the account's.
 */
int	links_verify_email(struct db_pool *pool, const char *hash,
	    const char *remote, store_id_cb *cb, void *arg);

/* u: the account a live reset token belongs to, valid during the call. */
typedef void	links_user_cb(enum store_status st, const struct user *u,
		    void *arg);

/*
 * Finds the active account of a live reset token without spending it
 * (the new password is hashed for that account before the reset).
 * NOT_FOUND for an unknown, expired or void token.
 */
int	links_reset_find(struct db_pool *pool, const char *hash,
	    links_user_cb *cb, void *arg);

/*
 * Spends the reset token hash of user id and sets its password to stored:
 * every session ends (token version, refresh tokens), the login back-off
 * and the account's other one-time tokens and pending MFA logins go, and
 * password_reset is recorded.  NOT_FOUND when the token was spent,
 * expired or voided meanwhile.
 */
int	links_reset(struct db_pool *pool, const char *hash, const char *id,
	    const char *stored, const char *remote, store_done_cb *cb,
	    void *arg);

/* The template (and purpose) name: "verify_email", "password_reset". */
const char	*links_purpose_name(enum links_purpose p);

#endif
