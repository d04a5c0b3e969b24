/*
 * Password hashing for the hasher: Argon2id via crypto_pwhash_str, sealed
 * with the current pepper key by XChaCha20-Poly1305 (the user id as
 * associated data) as
 *	$warden$v=1$k=<kid>$<base64url(nonce || ciphertext)>
 * Verification also accepts plain $argon2id$ and bcrypt $2a$/$2b$/$2y$
 * (crypt_r) hashes, and asks for a rehash when a match used a legacy hash,
 * Argon2id parameters other than the policy's (libsodium's
 * crypto_pwhash_str_needs_rehash: a lowered policy converges too), or an
 * old pepper key.  Passwords are bytes with a length (NULs allowed; bcrypt
 * never matches one with a NUL).  user_id is bound as associated data; the
 * caller checks its form.  No shared state: the hasher's workers call these
 * concurrently.
 */
#ifndef WARDEN_HASHER_PASSWORD_H
#define WARDEN_HASHER_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

struct pw_policy {
	size_t		memory;		/* bytes, argon2_memory */
	unsigned int	iterations;	/* argon2_iterations */
};

/*
 * Hashes and seals password for user_id into out (outlen bytes, at least
 * PROTO_STORED_MAX + 1).  Returns 0, or -1 on failure (out is zeroed).
 */
int	pw_hash(const struct keyset *ks, const struct pw_policy *pol,
	    const char *user_id, const uint8_t *password, size_t password_len,
	    char *out, size_t outlen);

/*
 * Checks password against stored for user_id.  An empty stored, and "!"
 * (an account without a password, made by an upstream sign-in), run a
 * dummy verification of the same cost (Argon2id at the policy) and answer
 * no.  Sets *match; when it matched and the stored hash should be upgraded,
 * writes a fresh sealed hash to rehash (rehashlen > PROTO_STORED_MAX), else
 * rehash[0] = '\0'.  Returns 0, or -1 with *match false when stored cannot
 * be checked: not a format we know, a pepper kid we do not hold, a seal
 * that does not open for user_id (tampered, or copied from another user),
 * or an imported hash asking for more than 256 MiB / 16 passes (Argon2id,
 * or the policy's if higher) or bcrypt cost 16.
 */
int	pw_verify(const struct keyset *ks, const struct pw_policy *pol,
	    const char *user_id, const uint8_t *password, size_t password_len,
	    const char *stored, bool *match, char *rehash, size_t rehashlen);

/*
 * The Argon2id string an unknown user's verification checks the password
 * against: the policy's parameters, a fixed salt and a hash nothing
 * matches.  Into str (len bytes, crypto_pwhash_STRBYTES); -1 when it does
 * not fit.
 */
int	pw_dummy_str(const struct pw_policy *pol, char *str, size_t len);

#endif
