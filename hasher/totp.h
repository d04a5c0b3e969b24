/*
 * TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps from the epoch) for
 * the hasher: 160-bit secrets made here, sealed with the pepper key by
 * XChaCha20-Poly1305 ("totp\0" || user_id as associated data) as
 *	$wtotp$v=1$k=<kid>$<base64url(nonce || ciphertext)>
 * and checked here; the front stores the sealed string only.  The code
 * arithmetic is liboath's (oath_totp_generate); call oath_init() once
 * before these (hasher/main.c does, before the sandbox).  No shared
 * state: the callers pass the time, so tests pick it.
 */
#ifndef WARDEN_HASHER_TOTP_H
#define WARDEN_HASHER_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "keys.h"
#include "proto.h"

#define TOTP_SECRET_LEN	20	/* bytes: 160 bits */
#define TOTP_STEP	30	/* seconds */
#define TOTP_DIGITS	PROTO_TOTP_CODE_LEN
#define TOTP_DRIFT	1	/* steps accepted either side of now */

/*
 * Makes a secret for user_id: its base32 into secret_b32 (a char[
 * PROTO_TOTP_SECRET_B32_LEN + 1]) and it sealed with the current pepper
 * key into sealed (a char[PROTO_SEALED_MAX + 1]).  Returns 0, or -1 (both
 * zeroed) when there is no pepper key or the arguments are wrong.
 */
int	totp_new(const struct keyset *ks, const char *user_id,
	    char *secret_b32, char *sealed);

/*
 * Seals the TOTP_SECRET_LEN bytes of secret for user_id with pepper key
 * k into sealed (a char[PROTO_SEALED_MAX + 1]).  totp_new() uses it;
 * tests seal known secrets with it.  Returns 0, or -1 (sealed zeroed).
 */
int	totp_seal(const struct pepper_key *k, const char *user_id,
	    const uint8_t secret[TOTP_SECRET_LEN], char *sealed);

/*
 * Checks code (exactly TOTP_DIGITS decimal digits) against the secret
 * that sealed holds for user_id, at the steps of now - 1, now and now + 1,
 * and takes only a step later than after_step (a step is never accepted
 * twice).  Returns 0 with *match and *step (the earliest such step that
 * matched; 0 with no match); -1 when the code is not 6 digits, or sealed
 * is malformed, names a pepper key we do not hold, or does not open for
 * user_id (tampered, or another user's).
 */
int	totp_check(const struct keyset *ks, const char *user_id,
	    const char *sealed, const char *code, uint32_t after_step,
	    time_t now, bool *match, uint32_t *step);

/* Writes the RFC 4648 base32 of the n bytes of in (no padding) and a NUL
 * to out (outlen bytes, at least (8 * n + 4) / 5 + 1).  0 or -1. */
int	totp_base32(char *out, size_t outlen, const uint8_t *in, size_t n);

#endif
