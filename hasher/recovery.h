/*
 * Recovery codes for the hasher: PROTO_RECOVERY_CODES random codes of
 * PROTO_RECOVERY_CODE_LEN RFC 4648 base32 characters (A-Z, 2-7), and the
 * keyed hash the front stores for each: BLAKE2b-256 (crypto_generichash)
 * of user_id || code, keyed with a subkey of the current pepper key
 * (crypto_kdf_derive_from_key, context "wrecover", id 1), in lower-case
 * hex.  A stolen database cannot test guesses without the pepper, and the
 * same code gives another hash for another user.  The hash is stable for
 * as long as the pepper key that was current stays current: a new pepper
 * key makes the outstanding sets unusable (see docs/architecture.md).
 * No shared state: the hasher's threads may call these concurrently.
 */
#ifndef WARDEN_HASHER_RECOVERY_H
#define WARDEN_HASHER_RECOVERY_H

#include "keys.h"
#include "proto.h"

/*
 * A fresh set for user_id into *ans (n = PROTO_RECOVERY_CODES).  Returns
 * 0, or -1 with *ans zeroed (no pepper key, bad arguments).
 */
int	recovery_new(const struct keyset *ks, const char *user_id,
	    struct proto_recovery_new_ans *ans);

/*
 * The hash of code as typed for user_id into hash (a char[
 * PROTO_RECOVERY_HASH_LEN + 1]): blanks and '-' are dropped and letters
 * upper-cased first.  Returns 0, or -1 (hash zeroed) when what remains is
 * not PROTO_RECOVERY_CODE_LEN base32 characters or there is no pepper key.
 */
int	recovery_hash(const struct keyset *ks, const char *user_id,
	    const char *code, char *hash);

/* code as typed, normalised as above into out (a char[
 * PROTO_RECOVERY_CODE_LEN + 1]).  0, or -1 (out zeroed) when it is not a
 * code. */
int	recovery_normalise(const char *code, char *out);

#endif
