/*
 * Social login's rows (migration 0013): the identities at upstream
 * providers that accounts are linked to, and the sign-ins on their way
 * through a provider (upstream_logins).
 *
 * A user created by an upstream sign-in has no password: its stored hash
 * is IDENTITIES_NO_PASSWORD, which no password ever matches (the hasher
 * verifies it as it verifies an unknown user's).  Such an account keeps
 * at least one identity: identities_unlink() refuses the last one
 * (STORE_REFUSED) until the user has set a password (a reset link).
 */
#ifndef WARDEN_STORE_IDENTITIES_H
#define WARDEN_STORE_IDENTITIES_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "user_row.h"

struct db_pool;

#define IDENTITIES_NO_PASSWORD	"!"
#define IDENTITY_PROVIDER_MAX	32
#define IDENTITY_SUBJECT_MAX	255
#define IDENTITY_EMAIL_MAX	254
#define IDENTITIES_LIST_MAX	64	/* identities of one user shown */
#define UPSTREAM_LOGIN_TTL	600	/* seconds a sign-in may take */
#define UPSTREAM_NONCE_MAX	64
#define UPSTREAM_VERIFIER_MAX	128
#define UPSTREAM_RETURN_MAX	2048

/* --- sign-ins on their way --- */

struct upstream_login {
	bool	 bound;			/* take: the browser's binding matched */
	char	 provider[IDENTITY_PROVIDER_MAX + 1];
	char	 nonce[UPSTREAM_NONCE_MAX + 1];			/* secret */
	char	 verifier[UPSTREAM_VERIFIER_MAX + 1];		/* secret */
	char	 return_to[UPSTREAM_RETURN_MAX + 1];		/* "" none */
	char	 link_user_id[37];				/* "" none */
};

/* Hashes are bytea literals ("\x" and 64 hex digits, secret_token.h):
 * the state's, and the binding cookie's.  link_user_id and return_to may
 * be "" (none).  Deletes a few expired rows on the way. */
int	upstream_login_start(struct db_pool *pool, const char *state_hash,
	    const char *binding_hash, const struct upstream_login *l,
	    store_done_cb *cb, void *arg);

typedef void	upstream_login_cb(enum store_status st,
		    const struct upstream_login *l, void *arg);

/* Deletes and returns the live row of state_hash, l->bound telling
 * whether binding_hash (NULL: the browser brought no cookie) is the one
 * it was made for: a state serves once, in whichever browser.  NOT_FOUND
 * when there is none (never made, expired, or used already). */
int	upstream_login_take(struct db_pool *pool, const char *state_hash,
	    const char *binding_hash, upstream_login_cb *cb, void *arg);

/* --- identities --- */

enum identity_match {
	IDENTITY_NONE,		/* no account has it, nor its e-mail */
	IDENTITY_KNOWN,		/* linked: u is its account */
	IDENTITY_EMAIL,		/* not linked; u has its e-mail address */
};

typedef void	identity_found_cb(enum store_status st, enum identity_match m,
		    const struct user *u, void *arg);

/* Looks up (provider, subject), then, when it is not linked and email is
 * not NULL, the account of that e-mail (case-insensitively). */
int	identity_find(struct db_pool *pool, const char *provider,
	    const char *subject, const char *email, identity_found_cb *cb,
	    void *arg);

struct identity_new {
	const char	*user_id;	/* identity_link: the account */
	const char	*provider;
	const char	*subject;
	const char	*email;		/* NULL: the provider gave none */
	const char	*remote;	/* for the audit */
	const char	*how;		/* identity_link: the audit's reason
					 * ("account", "email") */
};

typedef void	identity_user_cb(enum store_status st, const struct user *u,
		    void *arg);

/* Links n->user_id (an active user) to the identity, with its
 * 'identity_linked' event; answers the user.  CONFLICT when the identity
 * is linked already; NOT_FOUND when the user is gone or disabled. */
int	identity_link(struct db_pool *pool, const struct identity_new *n,
	    identity_user_cb *cb, void *arg);

/*
 * Creates an account without a password for the identity: username the
 * first free of base, base-2 ... base-99 (base already of the username
 * rules, at most 28 bytes), e-mail n->email (required) verified as
 * email_verified says, full_name (may be NULL), and the identity, with
 * its 'upstream_signup' event; answers the new user.  CONFLICT when the
 * e-mail address (or the identity) was taken meanwhile, or no username
 * of the series was free.
 */
int	identity_signup(struct db_pool *pool, const struct identity_new *n,
	    const char *base, const char *full_name, bool email_verified,
	    identity_user_cb *cb, void *arg);

struct identity_row {
	char	 id[37];
	char	 provider[IDENTITY_PROVIDER_MAX + 1];
	char	 subject[IDENTITY_SUBJECT_MAX + 1];
	char	 email[IDENTITY_EMAIL_MAX + 1];		/* "" none */
	char	 linked_at[32];				/* RFC 3339, UTC */
};

/* rows: n of them, oldest link first; has_password: whether the user
 * has one (else its last identity cannot go). */
typedef void	identities_listed_cb(enum store_status st,
		    const struct identity_row *rows, size_t n,
		    bool has_password, void *arg);

/* The identities of user_id (NOT_FOUND: no such user). */
int	identities_list(struct db_pool *pool, const char *user_id,
	    identities_listed_cb *cb, void *arg);

/*
 * Unlinks identity id of user_id, with its 'identity_unlinked' event
 * (actor: who asked, the user's own id or an admin's).  NOT_FOUND when
 * the user has no such identity; REFUSED when it is the account's last
 * way to sign in (no password and no other identity).
 */
int	identity_unlink(struct db_pool *pool, const char *user_id,
	    const char *id, const char *remote, const char *actor,
	    store_done_cb *cb, void *arg);

/*
 * Records an upstream sign-in's outcome: 'upstream_login' for user_id, or
 * 'upstream_login_failed' (user_id NULL unless known) with reason, each
 * naming the provider.
 */
int	upstream_audit(struct db_pool *pool, const char *user_id,
	    const char *event, const char *provider, const char *reason,
	    const char *remote, store_done_cb *cb, void *arg);

#endif
