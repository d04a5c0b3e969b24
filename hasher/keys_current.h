/*
 * The current file of a key directory: which key of each kind signs or
 * seals now, and which one takes over at an agreed instant.  Every host
 * that shares the directory reads the same instant from it, so they all
 * switch together whatever their own configuration says, and a key that
 * is only "next" is already published (PUBKEYS, the JWKS) by every host
 * that loaded the file.
 *
 *	sign <kid>			the current key of a kind: sign
 *	pepper <kid>			(Ed25519), pepper and rsa; sign and
 *	rsa <kid>			pepper are required, rsa is not (a
 *					set from before RSA keys)
 *	next sign <kid> <t>		the key of that kind from the instant
 *	next pepper <kid> <t>		t on (seconds since the epoch); at
 *	next rsa <kid> <t>		most one per kind
 *
 * A file of the first three lines only (as every keygen before "next"
 * wrote it) reads as before.  Order does not matter; each line ends with
 * a newline except perhaps the last.
 */
#ifndef WARDEN_HASHER_KEYS_CURRENT_H
#define WARDEN_HASHER_KEYS_CURRENT_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

enum keys_kind { KEYS_SIGN, KEYS_PEPPER, KEYS_RSA, KEYS_NKINDS };

/* An instant in a next line: from 0 to this (the year 33658). */
#define KEYS_FROM_MAX	999999999999LL

struct keys_current {
	char	cur[KEYS_NKINDS][PROTO_KID_MAX + 1];	/* "" = none */
	char	next[KEYS_NKINDS][PROTO_KID_MAX + 1];	/* "" = none */
	int64_t	from[KEYS_NKINDS];	/* next[k] signs or seals from then */
};

/* The word of a kind in the file and in --list-keys: sign, pepper, rsa. */
const char	*keys_kind_word(enum keys_kind kind);

/*
 * Parses text (changed in place) into *kc.  Refuses, with "where: line N:
 * reason" in err, an unknown first word or kind, a kid that is not
 * field_is_kid(), a kind named twice (current or next), a next line
 * without a valid instant or with more fields, a next key that is the
 * current one, and a file without a current sign or pepper line.
 */
int	keys_current_parse(char *text, const char *where,
	    struct keys_current *kc, char *err, size_t errlen);

/* Writes *kc as the file's text (the lines above, current ones first).
 * Returns 0, or -1 when it does not fit out. */
int	keys_current_format(const struct keys_current *kc, char *out,
	    size_t outlen);

/*
 * The kid that signs or seals with a kind at now: next[kind] once now has
 * reached from[kind], else cur[kind]; NULL when neither is set.
 */
const char	*keys_current_kid(const struct keys_current *kc,
		    enum keys_kind kind, int64_t now);

#endif
