/*
 * The account flows of ACCOUNTS.md behind both their callers: the API's
 * JSON handlers (h_register.c, h_reset.c, h_email.c) and the login
 * portal's pages (ui/h_accounts.c).  The limits, the validation, the
 * identical answers, the hasher and the store calls live here once; each
 * caller only says how an outcome is answered, through ops as
 * token_login_ops does for logins.  Failures of the database or the
 * hasher (and the hasher queue's per-address share) are answered by the
 * flow itself, as problem details.
 */
#ifndef WARDEN_ACCOUNT_FLOWS_H
#define WARDEN_ACCOUNT_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr_limit.h"
#include "store/links.h"
#include "store/users.h"
#include "validate.h"

struct http_req;

/* ---- registration (h_register.c) ---- */

struct register_input {
	const char	*username;
	const char	*email;
	const char	*full_name;	/* NULL when not given */
	const char	*password;
	size_t		 pwlen;
};

/* The message of each field that fails its rule ("" when it passes). */
struct register_errors {
	char	 username[VALIDATE_MSG_MAX];
	char	 email[VALIDATE_MSG_MAX];
	char	 full_name[VALIDATE_MSG_MAX];
	char	 password[VALIDATE_MSG_MAX];
};

/*
 * Counts an attempt of r's client address (every attempt counts, bad
 * ones too) in the count all hosts share (addr_limit.h), then calls
 * cb(r, verdict, retry): ADDR_PASS to go on; else the address is over
 * its limit (ADDR_BLOCKED) or the count failed (ADDR_UNAVAILABLE), and
 * cb answers with Retry-After retry and does nothing else.  cb is not
 * called when r was answered meanwhile (the request timeout).
 */
typedef void	register_admitted_cb(struct http_req *r, enum addr_verdict v,
		    unsigned int retry);
void	register_admit(struct http_req *r, register_admitted_cb *cb);

/* The API's field rules for in: the number of fields that fail, each with
 * its message in *e. */
int	register_validate(struct http_req *r, const struct register_input *in,
	    struct register_errors *e);

struct register_ops {
	/* The account exists (with its verification mail when on). */
	void	(*done)(struct http_req *r, void *ctx, const struct user *u);
	/* The username or the e-mail address is taken. */
	void	(*taken)(struct http_req *r, void *ctx,
		    enum users_taken taken);
	/* Frees ctx after any answer (NULL: nothing to free). */
	void	(*ctx_free)(void *ctx);
};

/*
 * Registers in (validated by register_validate(); the strings are copied,
 * the caller wipes its password): the cheap look for taken names, the
 * hash, the insertion with its mail.  Answers through ops.
 */
void	register_start(struct http_req *r, const struct register_input *in,
	    const struct register_ops *ops, void *ctx);

/* The text of a taken field's refusal. */
const char *register_taken_text(enum users_taken taken);

/* ---- password reset (h_reset.c) ---- */

#define RESET_BAD_TOKEN	"the link is invalid, expired or already used"

enum forgot_gate {
	FORGOT_OPEN,
	FORGOT_NO_MAIL,		/* mail_transport off: 503 */
	FORGOT_LIMITED,		/* the address's addr_reset_limit: 429 */
};

/* Whether r's address may ask for a reset link now (*retry: seconds). */
enum forgot_gate password_forgot_gate(struct http_req *r, int64_t *retry);

/*
 * Charges r's address and issues a reset link for email (validated
 * already): the same work whether or not an active account has it.
 * cb(st, arg) follows; the outcome is the same to every caller, so it is
 * not told.  Returns 0, or -1 (nothing started, no answer given).
 */
int	password_forgot_issue(struct http_req *r, const char *email,
	    store_done_cb *cb, void *arg);

struct reset_ops {
	/* The password is set, the token spent, every session ended. */
	void	(*done)(struct http_req *r, void *ctx);
	/* The token is invalid, expired or spent (RESET_BAD_TOKEN). */
	void	(*bad_token)(struct http_req *r, void *ctx);
	/* The new password breaks a rule: msg says which. */
	void	(*bad_password)(struct http_req *r, void *ctx,
		    const char *msg);
	void	(*ctx_free)(void *ctx);
};

/*
 * Resets the password of token's account to pw (both copied; the caller
 * wipes its own): finds the account without spending the token, applies
 * the password rules, hashes, then spends the token and sets the
 * password.  Answers through ops.
 */
void	password_reset_start(struct http_req *r, const char *token,
	    size_t tokenlen, const char *pw, size_t pwlen,
	    const struct reset_ops *ops, void *ctx);

/*
 * Whether token is a live reset token (not spent by asking): cb(st, arg)
 * with OK or NOT_FOUND.  Returns 0, or -1 (nothing started).
 */
int	password_reset_check(struct http_req *r, const char *token,
	    size_t tokenlen, store_done_cb *cb, void *arg);

/* ---- e-mail verification (h_email.c) ---- */

/*
 * Spends the verification token: cb(st, arg) with OK, NOT_FOUND (an
 * invalid, expired or spent token, also one of the wrong shape, told at
 * once) or a failure.  Returns 0, or -1 (nothing started).
 */
int	email_verify_start(struct http_req *r, const char *token,
	    size_t tokenlen, store_done_cb *cb, void *arg);

#endif
