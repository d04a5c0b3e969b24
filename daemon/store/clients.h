/*
 * The OpenID Connect provider's registered clients (table oauth_clients,
 * migration 0009), as the authorize, token, introspection, revocation and
 * logout endpoints read them; wardenctl writes them.  The field rules and
 * bounds are common/oidc_client.h.  See store.h for the statuses and the
 * calling rules.
 */
#ifndef WARDEN_STORE_CLIENTS_H
#define WARDEN_STORE_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "oidc_client.h"
#include "secret_token.h"
#include "store.h"

struct db_pool;

#define CLIENTS_TIME_LEN	20	/* "2026-12-04T12:00:00Z" */

/*
 * A client.  One allocation (free() it): the URI pointers point into the
 * same block.
 */
struct oauth_client {
	char		 client_id[OIDC_CLIENT_ID_MAX + 1];
	char		 name[OIDC_CLIENT_NAME_BYTES + 1];
	/* The literal of the secret's SHA-256 ("\x" and 64 hex digits);
	 * "" for a public client.  Check a secret with
	 * oauth_client_secret_ok(). */
	char		 secret_hash[SECRET_TOKEN_HASH_LITERAL];
	bool		 is_public;
	bool		 skip_consent;
	unsigned	 scopes;	/* OIDC_SCOPE_* bits it may ask for */
	char		 id_token_alg[OIDC_ALG_MAX + 1]; /* "RS256", "EdDSA" */
	size_t		 n_redirect;	/* 1..OIDC_URIS_MAX */
	const char	*redirect_uris[OIDC_URIS_MAX];
	size_t		 n_post_logout;	/* 0..OIDC_URIS_MAX */
	const char	*post_logout_uris[OIDC_URIS_MAX];
	char		 created_at[CLIENTS_TIME_LEN + 1];
	char		 secret_rotated_at[CLIENTS_TIME_LEN + 1]; /* "" never */
};

/*
 * c: when st is STORE_OK, the callee's to keep, and to free() (one
 * allocation); else NULL.
 */
typedef void	clients_found_cb(enum store_status st, struct oauth_client *c,
		    void *arg);

/*
 * Finds the client client_id.  NOT_FOUND when there is none.  Check a
 * presented id with oidc_client_id_ok() first: one that fails it is
 * unknown without asking.
 */
int	clients_find(struct db_pool *pool, const char *client_id,
	    clients_found_cb *cb, void *arg);

/* True when uri is one of c's redirect URIs, byte for byte (OpenID
 * Connect Core 3.1.2.1: simple string comparison). */
bool	oauth_client_redirect_ok(const struct oauth_client *c,
	    const char *uri);

/* True when uri is one of c's post-logout redirect URIs, byte for byte. */
bool	oauth_client_post_logout_ok(const struct oauth_client *c,
	    const char *uri);

/*
 * True when the len bytes of secret are c's secret (client_secret_basic
 * or client_secret_post), compared in constant time; false for a public
 * client, which has none.
 */
bool	oauth_client_secret_ok(const struct oauth_client *c,
	    const char *secret, size_t len);

#endif
