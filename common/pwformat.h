/*
 * The formats of stored password hashes that warden can verify: warden's
 * own sealed Argon2id and the hashes of other systems that `wardenctl
 * import` brings in (replaced by a sealed hash at the user's first
 * login).  Syntax and cost bounds only: no crypto, no allocation, so that
 * the hasher (which verifies) and wardenctl (which refuses a bad hash
 * before storing it) share one definition.
 *
 * The bounds keep a hostile or mistaken row from making one verification
 * take gigabytes or minutes: bcrypt cost 4..16; Argon2 memory <= 256 MiB,
 * 1..16 passes and lanes; PBKDF2 1,000..2,000,000 iterations, salts of
 * 1..64 bytes and keys of 16..64; sha512-crypt 1,000..1,000,000 rounds;
 * yescrypt at most 256 MiB (128 * r * N); and an Argon2 string fits
 * libsodium's 127 characters.
 */
#ifndef WARDEN_PWFORMAT_H
#define WARDEN_PWFORMAT_H

enum pw_format {
	PWF_UNKNOWN = 0,
	PWF_WARDEN,			/* $warden$v=1$k=KID$... */
	PWF_ARGON2ID,			/* $argon2id$v=19$m=,t=,p=$salt$hash */
	PWF_ARGON2I,			/* $argon2i$v=19$... */
	PWF_BCRYPT,			/* $2a$ $2b$ $2y$ */
	PWF_DJANGO_PBKDF2_SHA256,	/* pbkdf2_sha256$iter$salt$b64 */
	PWF_PASSLIB_PBKDF2_SHA256,	/* $pbkdf2-sha256$iter$ab64$ab64 */
	PWF_PASSLIB_PBKDF2_SHA512,	/* $pbkdf2-sha512$iter$ab64$ab64 */
	PWF_SHA512_CRYPT,		/* $6$[rounds=N$]salt$hash */
	PWF_YESCRYPT,			/* $y$params$salt$hash */
};

#define PWF_ARGON2_MEMORY_MAX	(256U * 1024)	/* KiB */
#define PWF_ARGON2_PASSES_MAX	16U
#define PWF_ARGON2_LANES_MAX	16U
#define PWF_BCRYPT_COST_MIN	4
#define PWF_BCRYPT_COST_MAX	16
#define PWF_PBKDF2_ITER_MIN	1000UL
#define PWF_PBKDF2_ITER_MAX	2000000UL
#define PWF_PBKDF2_SALT_MAX	64	/* bytes */
#define PWF_PBKDF2_KEY_MIN	16	/* bytes */
#define PWF_PBKDF2_KEY_MAX	64
#define PWF_SHA512_ROUNDS_MIN	1000UL
#define PWF_SHA512_ROUNDS_MAX	1000000UL
#define PWF_YESCRYPT_MEMORY_MAX	(256ULL * 1024 * 1024)	/* bytes */

/* The format of stored when its syntax and cost bounds are sound, else
 * PWF_UNKNOWN.  NULL gives PWF_UNKNOWN. */
enum pw_format	 pwformat_of(const char *stored);

/* The format's name as the import file and the documentation spell it
 * ("bcrypt", "django_pbkdf2_sha256", ...), or NULL for PWF_UNKNOWN. */
const char	*pwformat_name(enum pw_format f);

/* The format of that name, or PWF_UNKNOWN. */
enum pw_format	 pwformat_by_name(const char *name);

/*
 * Why stored is not a hash warden can verify, for an operator ("bcrypt:
 * cost 20 is above 16", "unknown format"): a static string that never
 * quotes the hash, or NULL when pwformat_of(stored) knows it.
 */
const char	*pwformat_why(const char *stored);

#endif
