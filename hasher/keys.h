/*
 * The hasher's key set: Ed25519 signing keys, RSA-3072 signing keys (RS256,
 * for ID tokens) and pepper keys, each with an id, one of each current.
 * Loaded once at start-up from key_dir (or $CREDENTIALS_DIRECTORY); the
 * Ed25519 and pepper bytes live in sodium_malloc'd, mlock'd memory and are
 * zeroed by keys_free().  An RSA key file is read into sodium_malloc'd
 * memory, parsed by OpenSSL into an EVP_PKEY (which holds its own copy,
 * cleared by EVP_PKEY_free()) and the file's bytes wiped.
 *
 * On disk, one file per key, mode 0600, owned by the reading user:
 *	sign-<kid>.key     64-byte Ed25519 secret key (libsodium layout)
 *	rsa-<kid>.key      RSA-3072 private key, DER (PKCS#1 RSAPrivateKey)
 *	pepper-<kid>.key   32-byte XChaCha20-Poly1305 key
 *	current            lines "sign <kid>", "pepper <kid>" and, when the
 *			   set has RSA keys, "rsa <kid>"; and "next <kind>
 *			   <kid> <t>" for a key that takes over at the
 *			   instant t (keys_current.h)
 * A kid obeys field_is_kid() (1..PROTO_KID_MAX of [A-Za-z0-9_-]);
 * keys_generate makes 16 random lower-case hex digits.  Other file names
 * are ignored.  A set made before RSA keys existed (no rsa- file, no rsa
 * line) still loads: it has no current RSA key, so RS256 is refused until
 * the next keygen, which adds one.
 *
 * Publication before use: a next key is in the set (PUBKEYS, and so the
 * JWKS) as soon as it is loaded, but signs or seals only from its instant
 * on; keys_*_current() choose at the time of each call, so no reload is
 * needed at that instant.  keygen on a set in use adds next keys
 * (keys_generate_next) that far ahead; every host must load them before.
 */
#ifndef WARDEN_HASHER_KEYS_H
#define WARDEN_HASHER_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys_current.h"
#include "proto.h"

#define KEYS_MAX	PROTO_KEYS_MAX

struct sign_key {
	char		kid[PROTO_KID_MAX + 1];
	uint8_t		pk[PROTO_PUBKEY_LEN];
	uint8_t		*sk;		/* 64 bytes, sodium_malloc */
};

struct evp_pkey_st;	/* OpenSSL's EVP_PKEY */

struct rsa_key {
	char		kid[PROTO_KID_MAX + 1];
	uint8_t		n[PROTO_RSA_N_LEN];	/* public modulus */
	size_t		e_len;
	uint8_t		e[PROTO_RSA_E_MAX];	/* public exponent */
	struct evp_pkey_st *pkey;		/* private key, OpenSSL's */
};

#define KEYS_RSA_BITS	3072

struct pepper_key {
	char		kid[PROTO_KID_MAX + 1];
	uint8_t		*key;		/* 32 bytes, sodium_malloc */
};

/* The key that takes over from the current one of a kind at an instant. */
struct key_next {
	bool			set;	/* false: none (a zeroed set has none) */
	size_t			idx;	/* index into the kind's array */
	int64_t			from;	/* seconds since the epoch */
};

struct keyset {
	struct sign_key		sign[KEYS_MAX];
	size_t			nsign;
	size_t			sign_current;	/* index into sign[] */
	struct key_next		sign_next;
	struct rsa_key		rsa[KEYS_MAX];
	size_t			nrsa;
	size_t			rsa_current;	/* index; nrsa = none */
	struct key_next		rsa_next;
	struct pepper_key	pepper[KEYS_MAX];
	size_t			npepper;
	size_t			pepper_current;	/* index into pepper[] */
	struct key_next		pepper_next;
};

/*
 * Calls sodium_init() and loads every key of dir into *ks (ordered by kid;
 * read-only afterwards, so threads may share it).  Refuses (returns -1
 * with "dir/file: reason" in err, *ks empty) a key file or current that is
 * a symbolic link or not a regular file, is readable, writable or
 * executable by group or others, is owned by another uid than the
 * effective one, has the wrong size, or a signing key whose public half
 * does not match its seed; an RSA key that does not parse, is not of
 * KEYS_RSA_BITS bits or fails a sign-and-verify test; a set without a
 * current file, or whose current names a key that is not there; more
 * than KEYS_MAX keys of a kind; a current file that keys_current_parse()
 * refuses or whose next line names a key that is not there.
 */
int	keys_load(struct keyset *ks, const char *dir, char *err, size_t errlen);

/*
 * keys_load() for files whose names carry prefix: systemd's LoadCredential=
 * of a directory names each file "<id>_<file>", so the unit's "keys"
 * credential gives "keys_current", "keys_sign-<kid>.key" and so on.  Files
 * without the prefix are ignored.
 */
#define KEYS_CREDENTIAL_PREFIX	"keys_"
int	keys_load_named(struct keyset *ks, const char *dir, const char *prefix,
	    char *err, size_t errlen);

/*
 * Creates dir (0700, one level) when missing and writes a new Ed25519
 * signing key, a new RSA-3072 signing key and a new pepper key (O_EXCL,
 * mode 0600 whatever the umask, fresh random kids), then replaces current
 * atomically to mark all three current; older keys stay for verification
 * and unsealing.  Refuses when dir already holds KEYS_MAX keys of a kind.
 * Returns 0 or -1 with err (nothing new left).
 */
int	keys_generate(const char *dir, char *err, size_t errlen);

/* What keys_generate_next() is to do, and what it did. */
struct keys_gen {
	int64_t		now;		/* seconds since the epoch */
	int64_t		delay;		/* key_publish_delay; 0: at once */
};

struct keys_gen_out {
	struct keys_current cur;	/* the current file as written */
	bool		promoted;	/* a due next set became current */
	bool		at_once;	/* the new keys are current already */
};

/*
 * keys_generate() for a set in use by several hosts.  On a directory
 * without a current file, or with g->delay 0, the new keys are current at
 * once (a pending next set is then dropped: it stays on disk, retired).
 * Otherwise a next set whose instant has come is made current first, and
 * the new keys become next from g->now + g->delay; while a next set is
 * still pending, refuses (err names its instant) and writes nothing.
 */
int	keys_generate_next(const char *dir, const struct keys_gen *g,
	    struct keys_gen_out *out, char *err, size_t errlen);

/*
 * The key of a kind that signs or seals at now (the next one once now has
 * reached its instant, else the current one), or at time(NULL); or the
 * one with kid.  NULL when none.
 */
const struct sign_key	*keys_sign_current_at(const struct keyset *ks,
			    int64_t now);
const struct rsa_key	*keys_rsa_current_at(const struct keyset *ks,
			    int64_t now);
const struct pepper_key	*keys_pepper_current_at(const struct keyset *ks,
			    int64_t now);
const struct sign_key	*keys_sign_current(const struct keyset *ks);
const struct sign_key	*keys_sign_find(const struct keyset *ks, const char *kid);
const struct rsa_key	*keys_rsa_current(const struct keyset *ks);
const struct rsa_key	*keys_rsa_find(const struct keyset *ks, const char *kid);
const struct pepper_key	*keys_pepper_current(const struct keyset *ks);
const struct pepper_key	*keys_pepper_find(const struct keyset *ks,
			    const char *kid);

/* Zeroes and frees every key and leaves *ks empty (twice is harmless). */
void	keys_free(struct keyset *ks);

#endif
