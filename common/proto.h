/*
 * The protocol between wardend and warden-hasher.
 *
 * A frame is a fixed 12-byte header in network byte order,
 *	uint32 payload length | uint32 request id | uint16 type | uint16 zero
 * then the payload: fields in a fixed order per type, each
 *	u8 / u32 (network order) / string or bytes (uint32 length + data).
 * Strings may not contain NUL; bytes may.  A frame whose payload exceeds
 * PROTO_MAX_PAYLOAD is refused before anything is allocated or read.
 *
 * The front speaks first: HELLO with PROTO_VERSION; the hasher answers
 * R_HELLO with its own and drops the connection on a mismatch.  Requests
 * carry an id that the answer echoes, so many may be in flight.
 *
 * Decoders copy into the bounded fields of the message structs below and
 * fail on a short read, an overlong or NUL-bearing string, or bytes left
 * over.  Structs holding secrets must be wiped with proto_wipe() or
 * sodium_memzero() once used.
 */
#ifndef WARDEN_PROTO_H
#define WARDEN_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields.h"

/*
 * 2: TOTP_NEW, TOTP_CHECK, RECOVERY_NEW and RECOVERY_HASH.  Nothing of
 * version 1 changed, but a front of version 2 talking to a hasher of
 * version 1 (split mode, upgraded out of step) would see the connection
 * dropped at its first TOTP request as an unknown type; the bump makes
 * the mismatch plain at HELLO instead.
 * 3: SIGN_ID and JWT_CHECK; SIGN gains aud and scope; R_PUBKEYS gains the
 * RSA keys.
 * 4: SIGN_ASSERTION (a private_key_jwt client assertion for an upstream
 * identity provider).
 */
#define PROTO_VERSION		4
#define PROTO_HEADER_SIZE	12
#define PROTO_MAX_PAYLOAD	(64 * 1024 - PROTO_HEADER_SIZE)

/*
 * The descriptor on which a spawned warden-hasher finds its connected
 * socket (the front's hasher_spawn() puts it there).
 */
#define WARDEN_HASHER_FD	3

/*
 * Bounds of the fields; a decoder refuses anything longer.  A field that
 * carries one of the API's fields (common/fields.h) takes that field's
 * bound, so the wire can carry every valid value and no other limit is
 * written twice; the rest are the protocol's own.
 */
#define PROTO_UUID_LEN		FIELD_UUID_LEN	/* lower-case hex */
#define PROTO_PASSWORD_MAX	FIELD_PASSWORD_MAX
#define PROTO_STORED_MAX	512
#define PROTO_USERNAME_MAX	FIELD_USERNAME_MAX
#define PROTO_ROLE_MAX		FIELD_ROLE_MAX
#define PROTO_ROLES_MAX		32
#define PROTO_JWT_MAX		4096
#define PROTO_KID_MAX		FIELD_KID_MAX
#define PROTO_KEYS_MAX		16
#define PROTO_ERRMSG_MAX	128
#define PROTO_PUBKEY_LEN	32	/* Ed25519 */
#define PROTO_SEALED_MAX	512	/* a sealed TOTP secret */
#define PROTO_TOTP_SECRET_B32_LEN 32	/* 160 bits, RFC 4648 base32, no '=' */
#define PROTO_TOTP_CODE_LEN	6	/* decimal digits */
#define PROTO_RECOVERY_CODES	10	/* codes in a set */
#define PROTO_RECOVERY_CODE_LEN	10	/* RFC 4648 base32 characters */
#define PROTO_RECOVERY_INPUT_MAX 32	/* a code as typed: blanks, '-' */
#define PROTO_RECOVERY_HASH_LEN	64	/* lower-case hex of 32 bytes */
#define PROTO_CLIENT_ID_MAX	FIELD_CLIENT_ID_MAX
#define PROTO_SCOPE_MAX		FIELD_SCOPE_MAX
#define PROTO_NONCE_MAX		FIELD_NONCE_MAX
#define PROTO_EMAIL_MAX		FIELD_EMAIL_MAX
#define PROTO_NAME_MAX		(4 * FIELD_FULL_NAME_MAX) /* UTF-8 bytes */
#define PROTO_AMR_MAX		4	/* amr values in an ID token */
#define PROTO_AMR_LEN		8	/* one value: "pwd", "otp", "mfa"... */
#define PROTO_ACR_MAX		64
#define PROTO_SID_MAX		64
#define PROTO_RSA_N_LEN		384	/* a 3072-bit modulus, big-endian */
#define PROTO_RSA_E_MAX		8	/* its public exponent, no leading 0 */
#define PROTO_ASSERTION_CLIENT_MAX 255	/* our client id at a provider */
#define PROTO_ASSERTION_AUD_MAX	512	/* the provider's token endpoint URL */

/*
 * Payload bounds of each request, from the field layouts of proto.c: a
 * u32 is 4 bytes, a string or bytes field its u32 length and at most its
 * bound.  The hasher's dispatch table refuses a request whose length lies
 * outside them before decoding it.
 */
#define PROTO_FIELD_MAX(n)	(4 + (n))
#define PROTO_HELLO_LEN		4
#define PROTO_HASH_MIN		(4 + 4)
#define PROTO_HASH_MAX		(PROTO_FIELD_MAX(PROTO_UUID_LEN) +	\
				 PROTO_FIELD_MAX(PROTO_PASSWORD_MAX))
#define PROTO_VERIFY_MIN	(4 + 4 + 4)
#define PROTO_VERIFY_MAX	(PROTO_HASH_MAX +			\
				 PROTO_FIELD_MAX(PROTO_STORED_MAX))
#define PROTO_SIGN_MIN		(4 + 4 + 4 + 4 + 4 + 1 + 4 + 4)
#define PROTO_SIGN_MAX		(PROTO_FIELD_MAX(PROTO_UUID_LEN) +	\
				 PROTO_FIELD_MAX(PROTO_USERNAME_MAX) + 4 + \
				 PROTO_ROLES_MAX *			\
				 PROTO_FIELD_MAX(PROTO_ROLE_MAX) + 4 + 4 + 1 + \
				 PROTO_FIELD_MAX(PROTO_CLIENT_ID_MAX) +	\
				 PROTO_FIELD_MAX(PROTO_SCOPE_MAX))
#define PROTO_SIGN_ID_MIN	(1 + 13 * 4 + 1 + 1)
#define PROTO_SIGN_ID_MAX	(1 + PROTO_FIELD_MAX(PROTO_UUID_LEN) +	\
				 PROTO_FIELD_MAX(PROTO_CLIENT_ID_MAX) +	\
				 PROTO_FIELD_MAX(PROTO_NONCE_MAX) + 4 + 4 + \
				 PROTO_AMR_MAX * PROTO_FIELD_MAX(PROTO_AMR_LEN) + \
				 PROTO_FIELD_MAX(PROTO_ACR_MAX) + 4 +	\
				 PROTO_FIELD_MAX(PROTO_SID_MAX) +	\
				 PROTO_FIELD_MAX(PROTO_USERNAME_MAX) +	\
				 PROTO_FIELD_MAX(PROTO_NAME_MAX) +	\
				 PROTO_FIELD_MAX(PROTO_EMAIL_MAX) + 1 + 1 + 4 + \
				 PROTO_ROLES_MAX *			\
				 PROTO_FIELD_MAX(PROTO_ROLE_MAX) +	\
				 PROTO_FIELD_MAX(PROTO_JWT_MAX))
#define PROTO_SIGN_ASSERTION_MIN (1 + 4 + 1 + 4 + 1)	/* both non-empty */
#define PROTO_SIGN_ASSERTION_MAX (1 +				\
				 PROTO_FIELD_MAX(PROTO_ASSERTION_CLIENT_MAX) + \
				 PROTO_FIELD_MAX(PROTO_ASSERTION_AUD_MAX))
#define PROTO_JWT_CHECK_MIN	4
#define PROTO_JWT_CHECK_MAX	PROTO_FIELD_MAX(PROTO_JWT_MAX)
/* The largest R_PUBKEYS: PROTO_KEYS_MAX keys of each kind. */
#define PROTO_PUBKEYS_ANS_MAX	(4 + PROTO_KEYS_MAX *			\
				 (PROTO_FIELD_MAX(PROTO_KID_MAX) +	\
				 PROTO_FIELD_MAX(PROTO_PUBKEY_LEN) + 1) + 4 + \
				 PROTO_KEYS_MAX *			\
				 (PROTO_FIELD_MAX(PROTO_KID_MAX) +	\
				 PROTO_FIELD_MAX(PROTO_RSA_N_LEN) +	\
				 PROTO_FIELD_MAX(PROTO_RSA_E_MAX) + 1))
#define PROTO_PUBKEYS_LEN	0
#define PROTO_TOTP_NEW_MIN	4
#define PROTO_TOTP_NEW_MAX	PROTO_FIELD_MAX(PROTO_UUID_LEN)
#define PROTO_TOTP_CHECK_MIN	(4 + 4 + 4 + 4)
#define PROTO_TOTP_CHECK_MAX	(PROTO_FIELD_MAX(PROTO_UUID_LEN) +	\
				 PROTO_FIELD_MAX(PROTO_SEALED_MAX) +	\
				 PROTO_FIELD_MAX(PROTO_TOTP_CODE_LEN) + 4)
#define PROTO_RECOVERY_NEW_MIN	4
#define PROTO_RECOVERY_NEW_MAX	PROTO_FIELD_MAX(PROTO_UUID_LEN)
#define PROTO_RECOVERY_HASH_MIN	(4 + 4)
#define PROTO_RECOVERY_HASH_MAX	(PROTO_FIELD_MAX(PROTO_UUID_LEN) +	\
				 PROTO_FIELD_MAX(PROTO_RECOVERY_INPUT_MAX))

_Static_assert(PROTO_VERIFY_MAX <= PROTO_MAX_PAYLOAD, "bounds fit a frame");
_Static_assert(PROTO_SIGN_MAX <= PROTO_MAX_PAYLOAD, "bounds fit a frame");
_Static_assert(PROTO_SIGN_ID_MAX <= PROTO_MAX_PAYLOAD, "bounds fit a frame");
_Static_assert(PROTO_JWT_CHECK_MAX <= PROTO_MAX_PAYLOAD, "bounds fit a frame");
_Static_assert(PROTO_SIGN_ASSERTION_MAX <= PROTO_MAX_PAYLOAD,
    "bounds fit a frame");
_Static_assert(PROTO_PUBKEYS_ANS_MAX <= PROTO_MAX_PAYLOAD,
    "every key of each kind fits one R_PUBKEYS");
_Static_assert(PROTO_TOTP_CHECK_MAX <= PROTO_MAX_PAYLOAD, "bounds fit a frame");
_Static_assert(PROTO_RECOVERY_HASH_MAX <= PROTO_MAX_PAYLOAD,
    "bounds fit a frame");

enum proto_type {
	/* requests, front -> hasher */
	PROTO_HELLO	= 0x0001,
	PROTO_HASH	= 0x0002,
	PROTO_VERIFY	= 0x0003,
	PROTO_SIGN	= 0x0004,
	PROTO_PUBKEYS	= 0x0005,
	PROTO_TOTP_NEW	= 0x0006,
	PROTO_TOTP_CHECK = 0x0007,
	PROTO_RECOVERY_NEW = 0x0008,
	PROTO_RECOVERY_HASH = 0x0009,
	PROTO_SIGN_ID	= 0x000a,
	PROTO_JWT_CHECK	= 0x000b,
	PROTO_SIGN_ASSERTION = 0x000c,
	/* answers, hasher -> front */
	PROTO_R_HELLO	= 0x8001,
	PROTO_R_HASH	= 0x8002,
	PROTO_R_VERIFY	= 0x8003,
	PROTO_R_SIGN	= 0x8004,
	PROTO_R_PUBKEYS	= 0x8005,
	PROTO_R_TOTP_NEW = 0x8006,
	PROTO_R_TOTP_CHECK = 0x8007,
	PROTO_R_RECOVERY_NEW = 0x8008,
	PROTO_R_RECOVERY_HASH = 0x8009,
	PROTO_R_SIGN_ID	= 0x800a,
	PROTO_R_JWT_CHECK = 0x800b,
	PROTO_R_SIGN_ASSERTION = 0x800c,
	PROTO_R_ERROR	= 0x80ff,
};

enum proto_error {
	PROTO_ERR_INVALID	= 1,	/* a field broke its rule */
	PROTO_ERR_INTERNAL	= 2,	/* the hasher failed; nothing to retry */
	PROTO_ERR_BUSY		= 3,	/* the hasher's own queue is full */
};

/* The JWS algorithm of an ID token (a u8 on the wire). */
enum proto_alg {
	PROTO_ALG_EDDSA		= 1,	/* Ed25519, RFC 8037 */
	PROTO_ALG_RS256		= 2,	/* RSASSA-PKCS1-v1_5 with SHA-256 */
};

struct proto_header {
	uint32_t	len;	/* payload bytes */
	uint32_t	id;
	uint16_t	type;
};

struct proto_hello {
	uint32_t	version;
};

struct proto_hash_req {
	char		user_id[PROTO_UUID_LEN + 1];
	size_t		password_len;
	uint8_t		password[PROTO_PASSWORD_MAX];	/* secret */
};

struct proto_hash_ans {
	char		stored[PROTO_STORED_MAX + 1];	/* secret */
};

/* An empty stored hash asks for a dummy verification that answers no. */
struct proto_verify_req {
	char		user_id[PROTO_UUID_LEN + 1];
	size_t		password_len;
	uint8_t		password[PROTO_PASSWORD_MAX];	/* secret */
	char		stored[PROTO_STORED_MAX + 1];	/* secret */
};

struct proto_verify_ans {
	bool		match;
	char		rehash[PROTO_STORED_MAX + 1];	/* "" = keep the stored one */
};

/*
 * SIGN: an access token.  aud and scope are "" for the API's own tokens
 * (aud is then the configured audience, and the token is what it always
 * was); an OAuth client's token carries its client id in aud, which makes
 * the claims aud and client_id (RFC 9068 2.2) that id, and scope its
 * granted scope.
 */
struct proto_sign_req {
	char		sub[PROTO_UUID_LEN + 1];
	char		username[PROTO_USERNAME_MAX + 1];
	size_t		nroles;
	char		roles[PROTO_ROLES_MAX][PROTO_ROLE_MAX + 1];
	uint32_t	ver;	/* token version */
	uint32_t	ttl;	/* seconds asked; the hasher clamps it */
	bool		email_verified;	/* the email_verified claim */
	char		aud[PROTO_CLIENT_ID_MAX + 1];	/* "" = none */
	char		scope[PROTO_SCOPE_MAX + 1];	/* "" = none */
};

struct proto_sign_ans {
	char		jwt[PROTO_JWT_MAX + 1];			/* secret */
	char		jti[PROTO_UUID_LEN + 1];
	uint32_t	exp;	/* seconds since the epoch */
};

struct proto_pubkey {
	char		kid[PROTO_KID_MAX + 1];
	uint8_t		pk[PROTO_PUBKEY_LEN];
	bool		current;	/* the one that signs */
};

/* An RSA public key (RS256): modulus and exponent, big-endian. */
struct proto_rsa_pubkey {
	char		kid[PROTO_KID_MAX + 1];
	uint8_t		n[PROTO_RSA_N_LEN];
	size_t		e_len;
	uint8_t		e[PROTO_RSA_E_MAX];
	bool		current;	/* the one that signs RS256 */
};

/* The Ed25519 keys, then the RSA keys (none for a key set made before
 * RSA keys existed). */
struct proto_pubkeys_ans {
	size_t		nkeys;
	struct proto_pubkey keys[PROTO_KEYS_MAX];
	size_t		nrsa;
	struct proto_rsa_pubkey rsa[PROTO_KEYS_MAX];
};

/*
 * SIGN_ID: an OpenID Connect ID token (OpenID Connect Core 1.0, 2) for
 * sub, to the client aud, signed with alg.  The hasher adds iss (its
 * issuer), iat, exp (ttl clamped to access_token_ttl) and the header's
 * kid, and checks every field: sub a UUID, aud a client id, nonce, acr
 * and sid visible ASCII, amr values from {pwd, otp, mfa, hwk, swk} without
 * repeats, the user claims by their API rules.  A "" string, namr 0 or
 * roles_claim false leaves its claim out; email_verified goes with email.
 * access_token, when set, makes at_hash (3.1.3.6: the left half of the
 * SHA-256, for RS256, or SHA-512, for EdDSA, of its ASCII).
 */
struct proto_sign_id_req {
	uint8_t		alg;		/* enum proto_alg */
	char		sub[PROTO_UUID_LEN + 1];
	char		aud[PROTO_CLIENT_ID_MAX + 1];
	char		nonce[PROTO_NONCE_MAX + 1];
	uint32_t	auth_time;	/* seconds since the epoch; 0 = none */
	size_t		namr;
	char		amr[PROTO_AMR_MAX][PROTO_AMR_LEN + 1];
	char		acr[PROTO_ACR_MAX + 1];
	uint32_t	ttl;		/* seconds asked; the hasher clamps it */
	char		sid[PROTO_SID_MAX + 1];
	char		preferred_username[PROTO_USERNAME_MAX + 1];
	char		name[PROTO_NAME_MAX + 1];
	char		email[PROTO_EMAIL_MAX + 1];
	bool		email_verified;
	bool		roles_claim;	/* the roles claim, even when empty */
	size_t		nroles;
	char		roles[PROTO_ROLES_MAX][PROTO_ROLE_MAX + 1];
	char		access_token[PROTO_JWT_MAX + 1];	/* secret */
};

struct proto_sign_id_ans {
	char		jwt[PROTO_JWT_MAX + 1];
	uint32_t	exp;	/* seconds since the epoch */
};

/*
 * JWT_CHECK(token): was token an ID token signed by this hasher (any key
 * it holds, RS256 or EdDSA) for its issuer?  exp is not checked: an
 * id_token_hint of RP-initiated logout may have expired.  valid false
 * leaves sub, aud and sid "".
 */
struct proto_jwt_check_req {
	char		token[PROTO_JWT_MAX + 1];
};

struct proto_jwt_check_ans {
	bool		valid;
	char		sub[PROTO_UUID_LEN + 1];
	char		aud[PROTO_CLIENT_ID_MAX + 1];
	char		sid[PROTO_SID_MAX + 1];		/* "" = none */
};

/*
 * SIGN_ASSERTION: a client assertion (RFC 7523 2.2, private_key_jwt of
 * OpenID Connect Core 9) with which warden authenticates, as client_id,
 * at the token endpoint aud of an upstream identity provider.  Both
 * strings are non-empty and printable ASCII (0x21..0x7e): the encoder and
 * the decoder refuse anything else.  The hasher also wants aud an http://
 * or https:// URL, and signs {iss, sub (both client_id), aud, jti, iat,
 * exp = iat + 60} with the current key of alg.
 */
struct proto_sign_assertion_req {
	uint8_t		alg;		/* enum proto_alg */
	char		client_id[PROTO_ASSERTION_CLIENT_MAX + 1];
	char		aud[PROTO_ASSERTION_AUD_MAX + 1];
};

struct proto_sign_assertion_ans {
	char		jwt[PROTO_JWT_MAX + 1];
};

/*
 * TOTP_NEW(user_id): the hasher makes a 160-bit secret and answers it in
 * base32 (shown to the user once, for the otpauth URI) and sealed with the
 * pepper for user_id (the front stores that, and nothing else of it).
 */
struct proto_totp_new_req {
	char		user_id[PROTO_UUID_LEN + 1];
};

struct proto_totp_new_ans {
	char		secret[PROTO_TOTP_SECRET_B32_LEN + 1];	/* secret */
	char		sealed[PROTO_SEALED_MAX + 1];
};

/*
 * TOTP_CHECK: is code right for the sealed secret of user_id at a time
 * step within one of the hasher's now, and later than after_step (the
 * last step accepted, 0 for none)?  The answer names the step matched.
 */
struct proto_totp_check_req {
	char		user_id[PROTO_UUID_LEN + 1];
	char		sealed[PROTO_SEALED_MAX + 1];
	char		code[PROTO_TOTP_CODE_LEN + 1];		/* secret */
	uint32_t	after_step;
};

struct proto_totp_check_ans {
	bool		match;
	uint32_t	step;	/* the matched step (unix time / 30); 0 if none */
};

/* RECOVERY_NEW(user_id): a fresh set of codes and the keyed hash of each,
 * in the same order. */
struct proto_recovery_new_req {
	char		user_id[PROTO_UUID_LEN + 1];
};

struct proto_recovery_new_ans {
	size_t		n;	/* PROTO_RECOVERY_CODES from the hasher */
	char		codes[PROTO_RECOVERY_CODES][PROTO_RECOVERY_CODE_LEN + 1];
	char		hashes[PROTO_RECOVERY_CODES][PROTO_RECOVERY_HASH_LEN + 1];
};

/* RECOVERY_HASH(user_id, code): the keyed hash of a code as typed (the
 * hasher drops blanks and '-' and upper-cases it first). */
struct proto_recovery_hash_req {
	char		user_id[PROTO_UUID_LEN + 1];
	char		code[PROTO_RECOVERY_INPUT_MAX + 1];	/* secret */
};

struct proto_recovery_hash_ans {
	char		hash[PROTO_RECOVERY_HASH_LEN + 1];
};

struct proto_error_ans {
	uint32_t	code;	/* enum proto_error */
	char		message[PROTO_ERRMSG_MAX + 1];
};

/*
 * A growable output buffer for encoding.  proto_buf_free() zeroes the
 * bytes before freeing them, and growing copies into a new block and
 * zeroes the old one rather than realloc() (frames carry passwords).
 * An all-zero struct is an empty buffer, as proto_buf_init() makes.
 */
struct proto_buf {
	uint8_t		*data;
	size_t		 len;
	size_t		 cap;
};

void	proto_buf_init(struct proto_buf *b);
void	proto_buf_reset(struct proto_buf *b);	/* zeroes, keeps capacity */
void	proto_buf_free(struct proto_buf *b);

/*
 * Parses a 12-byte header from buf.  Returns 0, or -1 when the payload
 * length exceeds PROTO_MAX_PAYLOAD or the reserved field is not zero.
 * The type is not checked here: the dispatch table does that.
 */
int	proto_header_decode(const uint8_t buf[PROTO_HEADER_SIZE],
	    struct proto_header *h);

/* Writes h into buf in network order, with the reserved field zero. */
void	proto_header_encode(uint8_t buf[PROTO_HEADER_SIZE],
	    const struct proto_header *h);

/*
 * Encoders append one whole frame (header and payload) to b.  Each returns
 * 0, or -1 when a field breaks its bound (the frame is then not appended)
 * or memory runs out.
 */
int	proto_encode_hello(struct proto_buf *b, uint32_t id, uint16_t type,
	    const struct proto_hello *m);	/* PROTO_HELLO or PROTO_R_HELLO */
int	proto_encode_hash_req(struct proto_buf *b, uint32_t id,
	    const struct proto_hash_req *m);
int	proto_encode_hash_ans(struct proto_buf *b, uint32_t id,
	    const struct proto_hash_ans *m);
int	proto_encode_verify_req(struct proto_buf *b, uint32_t id,
	    const struct proto_verify_req *m);
int	proto_encode_verify_ans(struct proto_buf *b, uint32_t id,
	    const struct proto_verify_ans *m);
int	proto_encode_sign_req(struct proto_buf *b, uint32_t id,
	    const struct proto_sign_req *m);
int	proto_encode_sign_ans(struct proto_buf *b, uint32_t id,
	    const struct proto_sign_ans *m);
int	proto_encode_sign_id_req(struct proto_buf *b, uint32_t id,
	    const struct proto_sign_id_req *m);
int	proto_encode_sign_id_ans(struct proto_buf *b, uint32_t id,
	    const struct proto_sign_id_ans *m);
int	proto_encode_sign_assertion_req(struct proto_buf *b, uint32_t id,
	    const struct proto_sign_assertion_req *m);
int	proto_encode_sign_assertion_ans(struct proto_buf *b, uint32_t id,
	    const struct proto_sign_assertion_ans *m);
int	proto_encode_jwt_check_req(struct proto_buf *b, uint32_t id,
	    const struct proto_jwt_check_req *m);
int	proto_encode_jwt_check_ans(struct proto_buf *b, uint32_t id,
	    const struct proto_jwt_check_ans *m);
int	proto_encode_pubkeys_req(struct proto_buf *b, uint32_t id);
int	proto_encode_pubkeys_ans(struct proto_buf *b, uint32_t id,
	    const struct proto_pubkeys_ans *m);
int	proto_encode_totp_new_req(struct proto_buf *b, uint32_t id,
	    const struct proto_totp_new_req *m);
int	proto_encode_totp_new_ans(struct proto_buf *b, uint32_t id,
	    const struct proto_totp_new_ans *m);
int	proto_encode_totp_check_req(struct proto_buf *b, uint32_t id,
	    const struct proto_totp_check_req *m);
int	proto_encode_totp_check_ans(struct proto_buf *b, uint32_t id,
	    const struct proto_totp_check_ans *m);
int	proto_encode_recovery_new_req(struct proto_buf *b, uint32_t id,
	    const struct proto_recovery_new_req *m);
int	proto_encode_recovery_new_ans(struct proto_buf *b, uint32_t id,
	    const struct proto_recovery_new_ans *m);	/* n <= CODES */
int	proto_encode_recovery_hash_req(struct proto_buf *b, uint32_t id,
	    const struct proto_recovery_hash_req *m);
int	proto_encode_recovery_hash_ans(struct proto_buf *b, uint32_t id,
	    const struct proto_recovery_hash_ans *m);
int	proto_encode_error_ans(struct proto_buf *b, uint32_t id,
	    const struct proto_error_ans *m);

/*
 * Decoders read one payload (without its header) into *m.  Each returns 0,
 * or -1 on a short read, a field past its bound, a NUL in a string, a u8
 * boolean other than 0 or 1, a count past PROTO_ROLES_MAX/PROTO_KEYS_MAX/
 * PROTO_RECOVERY_CODES/PROTO_AMR_MAX, a public key not exactly
 * PROTO_PUBKEY_LEN bytes, an RSA modulus not exactly PROTO_RSA_N_LEN
 * bytes or an empty exponent, an alg not of enum proto_alg, an empty or
 * not printable-ASCII SIGN_ASSERTION string, or bytes left
 * over; *m is then wiped.  On success the unused parts of *m
 * are zero.  Syntax only: the hasher still checks what the fields mean
 * (uuid form, role names, digits), and the front what the answers hold
 * (exact lengths, alphabets).
 */
int	proto_decode_hello(const uint8_t *p, size_t len, struct proto_hello *m);
int	proto_decode_hash_req(const uint8_t *p, size_t len,
	    struct proto_hash_req *m);
int	proto_decode_hash_ans(const uint8_t *p, size_t len,
	    struct proto_hash_ans *m);
int	proto_decode_verify_req(const uint8_t *p, size_t len,
	    struct proto_verify_req *m);
int	proto_decode_verify_ans(const uint8_t *p, size_t len,
	    struct proto_verify_ans *m);
int	proto_decode_sign_req(const uint8_t *p, size_t len,
	    struct proto_sign_req *m);
int	proto_decode_sign_ans(const uint8_t *p, size_t len,
	    struct proto_sign_ans *m);
int	proto_decode_sign_id_req(const uint8_t *p, size_t len,
	    struct proto_sign_id_req *m);
int	proto_decode_sign_id_ans(const uint8_t *p, size_t len,
	    struct proto_sign_id_ans *m);
int	proto_decode_sign_assertion_req(const uint8_t *p, size_t len,
	    struct proto_sign_assertion_req *m);
int	proto_decode_sign_assertion_ans(const uint8_t *p, size_t len,
	    struct proto_sign_assertion_ans *m);
int	proto_decode_jwt_check_req(const uint8_t *p, size_t len,
	    struct proto_jwt_check_req *m);
int	proto_decode_jwt_check_ans(const uint8_t *p, size_t len,
	    struct proto_jwt_check_ans *m);
int	proto_decode_pubkeys_req(const uint8_t *p, size_t len);
int	proto_decode_pubkeys_ans(const uint8_t *p, size_t len,
	    struct proto_pubkeys_ans *m);
int	proto_decode_totp_new_req(const uint8_t *p, size_t len,
	    struct proto_totp_new_req *m);
int	proto_decode_totp_new_ans(const uint8_t *p, size_t len,
	    struct proto_totp_new_ans *m);
int	proto_decode_totp_check_req(const uint8_t *p, size_t len,
	    struct proto_totp_check_req *m);
int	proto_decode_totp_check_ans(const uint8_t *p, size_t len,
	    struct proto_totp_check_ans *m);
int	proto_decode_recovery_new_req(const uint8_t *p, size_t len,
	    struct proto_recovery_new_req *m);
int	proto_decode_recovery_new_ans(const uint8_t *p, size_t len,
	    struct proto_recovery_new_ans *m);
int	proto_decode_recovery_hash_req(const uint8_t *p, size_t len,
	    struct proto_recovery_hash_req *m);
int	proto_decode_recovery_hash_ans(const uint8_t *p, size_t len,
	    struct proto_recovery_hash_ans *m);
int	proto_decode_error_ans(const uint8_t *p, size_t len,
	    struct proto_error_ans *m);

/* The name of a type for logs ("HASH", "R_SIGN"); "unknown" otherwise. */
const char *proto_type_name(uint16_t type);

/* Zeroes a message struct that held secrets. */
void	proto_wipe(void *m, size_t len);

#endif
