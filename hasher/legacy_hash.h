/*
 * The verification of hashes other systems made (common/pwformat.h): plain
 * Argon2 (libsodium), bcrypt, sha512-crypt and yescrypt (libxcrypt's
 * crypt_rn), and PBKDF2 in Django's and passlib's forms (OpenSSL's
 * PKCS5_PBKDF2_HMAC).  Every match is to be replaced by a sealed Argon2id
 * hash (password.c does it).  No state: the hasher's workers call these
 * concurrently.
 */
#ifndef WARDEN_HASHER_LEGACY_HASH_H
#define WARDEN_HASHER_LEGACY_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pwformat.h"

/*
 * Loads what the verifications need from the file system (OpenSSL's
 * digests), before the sandbox forbids opening files.  0 or -1.
 */
int	legacy_hash_init(void);

/*
 * Checks password (password_len bytes; one with a NUL matches only an
 * Argon2 hash: crypt(3) reads a C string, and HMAC's zero padding would
 * make "pw" and "pw\0" one PBKDF2 password) against stored, whose format is f
 * (pwformat_of(stored), not PWF_WARDEN).  Returns 0 with *match, or -1
 * when stored cannot be checked.
 */
int	legacy_hash_verify(enum pw_format f, const char *stored,
	    const uint8_t *password, size_t password_len, bool *match);

#endif
