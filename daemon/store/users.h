/*
 * The users table: every intent on it (find, create, change, delete,
 * list, the login bookkeeping), answering with struct user (user_row.h).
 * Each writing intent records its audit event in the same statement.  See
 * store.h for the statuses and the calling rules.
 */
#ifndef WARDEN_STORE_USERS_H
#define WARDEN_STORE_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "links.h"
#include "proto.h"
#include "store.h"
#include "user_row.h"

struct db_pool;

#define USERS_PAGE_MAX	200	/* rows of one users_list() page */

/* Which unique field a registration or an e-mail change collides with. */
enum users_taken {
	USERS_TAKEN_NONE = 0,
	USERS_TAKEN_USERNAME,
	USERS_TAKEN_EMAIL,
};

/* u: the row when st is STORE_OK, else NULL; valid during the call. */
typedef void	users_row_cb(enum store_status st, const struct user *u,
		    void *arg);

/*
 * Finds the user with id (a uuid).  NOT_FOUND when there is none.
 */
int	users_find(struct db_pool *pool, const char *id, users_row_cb *cb,
	    void *arg);

/* --- registration --- */

struct users_new {
	const char	*id;		/* made by the caller: the hash is
					 * bound to it */
	const char	*username;
	const char	*email;
	const char	*full_name;	/* NULL when not given */
	const char	*stored;	/* the sealed password hash */
	const char	*remote;	/* the client address, for the audit */
	const struct links_mail *verify; /* a verification link to mail, or
					 * NULL */
};

/* taken: on CONFLICT, the field that is taken (the username when the
 * database does not say). */
typedef void	users_created_cb(enum store_status st, const struct user *u,
		    enum users_taken taken, void *arg);

/* taken: on CONFLICT, the field that is taken. */
typedef void	users_taken_cb(enum store_status st, enum users_taken taken,
		    void *arg);

/*
 * Tells whether username or email is taken, case-insensitively: OK when
 * neither is, CONFLICT with the field (the username first, as the
 * insertion reports it) when one is.  A cheap look before the costly
 * hash of a registration; users_create() still decides a race.
 */
int	users_taken(struct db_pool *pool, const char *username,
	    const char *email, users_taken_cb *cb, void *arg);

/*
 * Inserts the user *n with its 'registered' audit event, and with
 * n->verify its verification token and mail (links.h).  CONFLICT (with
 * the field) when its username or e-mail address is taken,
 * case-insensitively.  The strings are copied before this returns.
 */
int	users_create(struct db_pool *pool, const struct users_new *n,
	    users_created_cb *cb, void *arg);

/* --- changes --- */

struct users_patch {
	const char	*id;		/* the user to change */
	bool		 set_email;
	const char	*email;
	bool		 set_full_name;
	const char	*full_name;	/* NULL clears it */
	bool		 set_roles;
	const char	*const *roles;	/* nroles role names (validated) */
	size_t		 nroles;
	bool		 set_active;
	bool		 active;
	const char	*remote;	/* for the audit */
	const char	*actor;		/* the id of who asks, for the audit */
	/* On a change of address (other than of case): the new address's
	 * verification link, or NULL; and whether to tell the old one. */
	const struct links_mail *verify;
	bool		 notify_old;
	const char	*account_url;	/* the notice's link: where to act
					 * if the change was not theirs */
};

/*
 * Changes what *p sets, in one statement: the token version goes up when
 * the roles change or the user is disabled (old access tokens stop
 * working), a disabled user's refresh tokens are revoked, and each change
 * is an audit event (updated, roles_changed, disabled, enabled).  A new
 * address (not only of case) is unverified; with p->verify its
 * verification link is mailed to it, with p->notify_old the old address is
 * told of the change.  The
 * callback gets the changed row; NOT_FOUND when there is no such user,
 * CONFLICT when the new e-mail address is taken.  -1 also for a role
 * name that is not one (fields.h).
 */
int	users_patch(struct db_pool *pool, const struct users_patch *p,
	    users_row_cb *cb, void *arg);

/*
 * Replaces the password hash of user id with stored, only while the row
 * still holds old (the hash the caller verified): ends every session (the
 * token version goes up, every refresh token is revoked), clears the
 * failed logins, voids the one-time links (links.h) and records
 * password_changed.  NOT_FOUND when the row is
 * gone or its hash changed meanwhile.
 */
int	users_set_password(struct db_pool *pool, const char *id,
	    const char *stored, const char *old, const char *remote,
	    store_done_cb *cb, void *arg);

/*
 * Deletes user id (its refresh tokens go with it) and records 'deleted'
 * with by (the actor's id, or "self").  With stored not NULL, only while
 * the row still holds that hash.  NOT_FOUND when no row was deleted.
 */
int	users_delete(struct db_pool *pool, const char *id, const char *stored,
	    const char *remote, const char *by, store_done_cb *cb, void *arg);

/*
 * Logout: bumps user id's token version (its access tokens stop working)
 * and revokes all its refresh tokens, recording 'logout' with how many.
 * OK also when the row is gone.
 */
int	users_end_sessions(struct db_pool *pool, const char *id,
	    const char *remote, store_done_cb *cb, void *arg);

/* --- passwords and logins --- */

/* stored: the hash when st is STORE_OK, wiped right after the call. */
typedef void	users_hash_cb(enum store_status st, const char *stored,
		    void *arg);

/* Reads the password hash of user id.  NOT_FOUND when the row is gone. */
int	users_password_hash(struct db_pool *pool, const char *id,
	    users_hash_cb *cb, void *arg);

/*
 * The row a password login decides on, for the client that asks.  A
 * client that presents a trusted device of the user (a device token it
 * was given when it logged this user in, still live: devices.h) is judged
 * by that device's own failures and lock; any other client by the
 * account's, which only such clients build.  So a stranger's guesses lock
 * out strangers, never the user's own devices (OWASP's device cookies).
 */
struct users_login {
	struct user	 user;
	char		 stored[PROTO_STORED_MAX + 1];	/* secret */
	bool		 trusted;	/* the device presented is the user's */
	bool		 locked;	/* this client's lock is on */
	unsigned int	 failed_logins;	/* this client's failures that still
					 * count (see users_login_failed) */
};

/* l: when st is STORE_OK, wiped right after the call. */
typedef void	users_login_cb(enum store_status st,
		    const struct users_login *l, void *arg);

struct users_login_query {
	const char	*login;		/* username, or e-mail address */
	const char	*device;	/* the bytea literal of the SHA-256 of
					 * the device token presented, or
					 * NULL */
	int64_t		 device_ttl;	/* login_device_ttl, seconds: a device
					 * unused this long is not trusted */
	int64_t		 lockout_max;	/* login_lockout_max, seconds */
};

/*
 * Finds the user whose username, or e-mail address when q->login holds an
 * '@', is q->login, case-insensitively, with the count and lock that apply
 * to the client (trusted when q->device is one of the user's live
 * devices).  NOT_FOUND when there is none.
 */
int	users_find_login(struct db_pool *pool,
	    const struct users_login_query *q, users_login_cb *cb, void *arg);

struct users_failure {
	const char	*id;		/* the user; NULL for an unknown one */
	bool		 counts;	/* a wrong password: count it */
	unsigned int	 max_failures;	/* login_max_failures */
	int64_t		 lockout_max;	/* login_lockout_max, seconds */
	const char	*remote;
	const char	*reason;	/* the audit's reason */
	const char	*device;	/* the trusted device the attempt came
					 * from (hash literal), or NULL */
};

/*
 * Records a failed login: 'login_failed' with its reason, and when it
 * counts, one more failure on the client's record: the device's when
 * f->device is given, else the account's (that of every untrusted
 * client).  From max_failures on the record locks for 2^(failures - max)
 * seconds, at most lockout_max, and 'locked' is recorded (with "device":
 * true for a device's lock).  A failure made while the record is locked
 * is not counted (the lock is never extended by guesses against it), and
 * failures are forgotten once lockout_max has passed since the last
 * counted one and the end of its lock.
 */
int	users_login_failed(struct db_pool *pool, const struct users_failure *f,
	    store_done_cb *cb, void *arg);

/* --- the admin's list --- */

struct users_search {
	bool		 after;		/* resume after (after_us, after_id) */
	int64_t		 after_us;	/* created_at, microseconds */
	const char	*after_id;
	const char	*prefix;	/* of the username or e-mail address,
					 * case-insensitive; "" for all */
	unsigned int	 limit;		/* rows wanted, 1..USERS_PAGE_MAX */
};

struct users_page {
	const struct user *items;	/* n of them, by creation */
	size_t		 n;
	bool		 more;		/* another page follows */
	int64_t		 last_us;	/* created_at of items[n - 1] */
};

/* page: when st is STORE_OK, valid during the call. */
typedef void	users_page_cb(enum store_status st,
		    const struct users_page *page, void *arg);

/*
 * Lists users by (created_at, id), keyset-paginated (no OFFSET): up to
 * s->limit rows after the given key that match the prefix.
 */
int	users_list(struct db_pool *pool, const struct users_search *s,
	    users_page_cb *cb, void *arg);

#endif
