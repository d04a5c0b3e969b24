/*
 * A request to the token endpoint on its way, and what its two grants
 * share: the password grant (h_token.c) and the refresh grant
 * (refresh.c) both end by signing an access token for the call's user
 * and answering with it and a new refresh token.
 *
 * Refresh tokens: 256 random bits, base64url (43 characters), handed to
 * the client once; the database keeps only their SHA-256.
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
#include "store/users.h"

struct front;
struct http_req;

#define TOKEN_BAD_REFRESH	"the refresh token is invalid, expired or revoked"

#define TOKEN_REFRESH_BYTES	32
#define TOKEN_REFRESH_LEN	43	/* base64url of 32 bytes, no padding */
/* SHA-256 as a bytea literal in hex format: "\x" and 64 hex digits. */
#define TOKEN_REFRESH_HASH_LITERAL	(2 + 64 + 1)

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
	char		 device[TOKEN_REFRESH_LEN + 1];		/* secret */
	char		 device_hash[TOKEN_REFRESH_HASH_LITERAL];
	/* the mfa grant's */
	char		 mfa_token[TOKEN_REFRESH_LEN + 1];	/* secret */
	bool		 recovery;	/* code is a recovery code, else otp */
	char		 code[TOKEN_CODE_MAX + 1];		/* secret */
};

struct token_call {
	struct http_req	*r;
	struct front	*f;
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
	char		 refresh[TOKEN_REFRESH_LEN + 1];	/* secret */
	char		 refresh_hash[TOKEN_REFRESH_HASH_LITERAL];
	/* the device token to hand out with the answer, or "" */
	char		 device_out[TOKEN_REFRESH_LEN + 1];	/* secret */
	char		 device_out_hash[TOKEN_REFRESH_HASH_LITERAL];
	struct proto_sign_ans signed_token;			/* secret */
	/* the mfa grant's token hash and the factor it checks */
	char		 mfa_hash[TOKEN_REFRESH_HASH_LITERAL];
	char		 sealed[PROTO_STORED_MAX + 1];
	uint32_t	 last_step;
	const char	*refusal;	/* invalid_grant's text, or NULL */
	bool		 resend;	/* mail a verification link again */
	int64_t		 sign_asked;	/* time(NULL) when the signature was
					 * asked for */
};

/*
 * Makes a new refresh token into token and the bytea literal of its hash
 * into hash.  Returns 0, or -1 on failure.
 */
int	token_refresh_new(char token[TOKEN_REFRESH_LEN + 1],
	    char hash[TOKEN_REFRESH_HASH_LITERAL]);

/*
 * Writes the bytea literal of the hash of the len bytes of token.  Returns
 * 0, or -1 when token cannot be one of ours (wrong length or alphabet):
 * the caller answers invalid_grant without asking the database.
 */
int	token_refresh_hash(const char *token, size_t len,
	    char hash[TOKEN_REFRESH_HASH_LITERAL]);

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
 * address (too_many_requests past addr_login_limit: t is freed and -1
 * returned) and takes the device token of the browser's cookie when the
 * request named none.
 */
int	token_login_begin(struct token_call *t);

/* Signs for t->user and finishes the login (h_token.c): the refresh
 * family, the device, the answer. */
void	token_login_finish(struct token_call *t);

/* Records a failed login of t->user (counts: on the back-off of the
 * client's record; reason: the audit's) and answers invalid_grant with
 * why (NULL: the wrong-login text); frees t. */
void	token_login_refuse(struct token_call *t, bool counts,
	    const char *reason, const char *why);

/* The mfa grant (mfa_grant.c). */
void	mfa_grant(struct token_call *t);

/* Answers 503: the token signer is unavailable. */
void	token_signer_unavailable(struct http_req *r);

#endif
