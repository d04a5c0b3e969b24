/*
 * A request to the token endpoint on its way, and what its two grants
 * share: the password grant (h_token.c) and the refresh grant
 * (refresh.c) both end by signing an access token for the call's user
 * and answering with it and a new refresh token.
 *
 * Refresh tokens are secret tokens (secret_token.h): handed to the client
 * once; the database keeps only their SHA-256.
 */
#ifndef WARDEN_TOKEN_H
#define WARDEN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields.h"
#include "hasher_share.h"
#include "hc/hasher_client.h"
#include "http/form.h"
#include "proto.h"
#include "ratelimit.h"
#include "secret_token.h"
#include "store/users.h"

struct front;
struct http_req;

#define TOKEN_BAD_LOGIN		"the username or password is incorrect"
#define TOKEN_BAD_MFA_TOKEN	"the mfa_token is invalid or expired"
#define TOKEN_BAD_REFRESH	"the refresh token is invalid, expired or revoked"

enum token_grant { TOKEN_GRANT_PASSWORD, TOKEN_GRANT_REFRESH, TOKEN_GRANT_MFA };

/* The second step of a password grant for a user with a second factor
 * (ACCOUNTS.md; Auth0's MFA convention). */
#define TOKEN_GRANT_MFA_URN	"urn:warden:grant-type:mfa"
#define TOKEN_CODE_MAX		32	/* an otp or recovery_code, as typed */

/* The token request, parsed at the edge from a form or a JSON body. */
struct token_req {
	enum token_grant grant;
	char		 username[FIELD_EMAIL_MAX + 1];
	size_t		 pwlen;
	uint8_t		 password[FIELD_PASSWORD_MAX];		/* secret */
	char		 refresh[FORM_VALUE_MAX + 1];		/* secret */
	/* the password grant's device token (device.h), when one of the
	 * right shape was presented: else both "" */
	char		 device[SECRET_TOKEN_LEN + 1];		/* secret */
	char		 device_hash[SECRET_TOKEN_HASH_LITERAL];
	/* the mfa grant's */
	char		 mfa_token[SECRET_TOKEN_LEN + 1];	/* secret */
	bool		 recovery;	/* code is a recovery code, else otp */
	char		 code[TOKEN_CODE_MAX + 1];		/* secret */
};

struct token_call;

/*
 * Who asked for a login, and how its outcome is answered: the token
 * endpoint (token_endpoint_ops: JSON) or the portal (ui/: pages).  The
 * flow (the back-off, the limits, the hasher, the audit) is the same for
 * both; only these differ.  Each hook takes ownership of t and must free
 * it (token_call_free()) after answering.  Failures of the database or
 * the hasher are answered by the flow itself, as problem details.
 */
struct token_login_ops {
	/* true: a verified login signs an access token and starts a
	 * refresh-token family (the token endpoint); false: it is only
	 * recorded (login_ok, failures cleared, rehash, device) */
	bool	 tokens;
	/* Where a browser sends the device cookie back (device.h): the
	 * path of this login's form or endpoint. */
	const char *device_cookie_path;
	/* The login passed and was recorded: answer it (t->user; with
	 * tokens, t->signed_token and t->refresh). */
	void	(*done)(struct token_call *t);
	/* The password was right and the user has a second factor:
	 * t->refresh holds the mfa_token to hand out. */
	void	(*mfa)(struct token_call *t);
	/* Refused: status 400 with why (invalid_grant's text, the same for
	 * every wrong login), or 429 with retry seconds (Retry-After). */
	void	(*refused)(struct token_call *t, int status, const char *why,
		    unsigned int retry);
	/* Frees t->ctx, called by token_call_free() (NULL: nothing). */
	void	(*ctx_free)(void *ctx);
};

/* The token endpoint's answers (h_token.c). */
extern const struct token_login_ops token_endpoint_ops;

struct token_call {
	struct http_req	*r;
	struct front	*f;
	const struct token_login_ops *ops;	/* never NULL for a login */
	void		*ctx;		/* the ops' own, freed by ops->ctx_free */
	struct token_req req;
	/* the user, once looked up */
	bool		 found;
	bool		 locked;	/* the lock that applies to this client */
	bool		 trusted;	/* req.device is a trusted device of the
					 * user (store/devices.h) */
	bool		 inflight;	/* counted in account_inflight */
	char		 inflight_key[RL_ADDR_MAX + 1];	/* ... under this key:
					 * the user, or the user's device */
	struct hshare_slot slot;	/* while at the hasher */
	struct user	 user;
	char		 stored[PROTO_STORED_MAX + 1];		/* secret */
	char		 rehash[PROTO_STORED_MAX + 1];		/* secret */
	/* the refresh token presented, and the one to hand out */
	char		 old_id[PROTO_UUID_LEN + 1];
	char		 family[PROTO_UUID_LEN + 1];
	char		 new_id[PROTO_UUID_LEN + 1];
	char		 refresh[SECRET_TOKEN_LEN + 1];	/* secret */
	char		 refresh_hash[SECRET_TOKEN_HASH_LITERAL];
	/* the device token to hand out with the answer, or "" */
	char		 device_out[SECRET_TOKEN_LEN + 1];	/* secret */
	char		 device_out_hash[SECRET_TOKEN_HASH_LITERAL];
	struct proto_sign_ans signed_token;			/* secret */
	/* the mfa grant's token hash and the factor it checks */
	char		 mfa_hash[SECRET_TOKEN_HASH_LITERAL];
	char		 sealed[PROTO_STORED_MAX + 1];
	uint32_t	 last_step;
	const char	*refusal;	/* invalid_grant's text, or NULL */
	bool		 resend;	/* mail a verification link again */
	int64_t		 sign_asked;	/* time(NULL) when the signature was
					 * asked for */
	void		(*begun)(struct token_call *);	/* after the
					 * address's charge */
};

/* Wipes and frees t (forgiving its running login, if counted, and
 * giving back its hasher slot, if held). */
void	token_call_free(struct token_call *t);

/* Answers 200 with t's signed access token and refresh token (and its
 * device token, t->device_out, when there is one), and frees t. */
void	token_reply(struct token_call *t);

/* Asks the hasher to sign an access token for t->user, then calls next;
 * when it cannot ask, frees t and answers 503. */
void	token_sign(struct token_call *t, hc_sign_cb *next);

/*
 * The first step of both login grants (h_token.c): charges the client
 * address in the count all hosts share (api/addr_limit.h), takes the
 * device token of the browser's cookie when the request named none, and
 * calls begun(t).  Past addr_login_limit t goes to t->ops->refused (429);
 * when the count fails t is freed and the request answered 503.  Takes
 * ownership of t.
 */
void	token_login_begin(struct token_call *t,
	    void (*begun)(struct token_call *));

/*
 * The password grant of t->req (username, password, device): the
 * per-address limit, the lookup, the hasher's verification, the back-off;
 * the outcome goes to t->ops.  Takes ownership of t.
 */
void	token_password_login(struct token_call *t);

/* Hands t to t->ops->refused (status 400 or 429, see there). */
void	token_login_refused(struct token_call *t, int status, const char *why,
	    unsigned int retry);

/* Finishes a verified login (h_token.c): with t->ops->tokens signs for
 * t->user and starts the refresh family; records the login and the
 * device; then t->ops->done. */
void	token_login_finish(struct token_call *t);

/* Records a failed login of t->user (counts: on the back-off of the
 * client's record; reason: the audit's), then hands t to
 * t->ops->refused, 400 with why (NULL: the wrong-login text). */
void	token_login_refuse(struct token_call *t, bool counts,
	    const char *reason, const char *why);

/* The mfa grant (mfa_grant.c) of t->req (mfa_token, code); the outcome
 * goes to t->ops.  Takes ownership of t. */
void	mfa_grant(struct token_call *t);

/* Answers 503: the token signer is unavailable. */
void	token_signer_unavailable(struct http_req *r);

#endif
