/*
 * What users let clients know (table oauth_consents, migration 0009): per
 * user and client, the union of the scopes granted on consent pages.  The
 * authorize endpoint skips the page while the consent covers a request.
 * See store.h for the statuses and the calling rules.
 */
#ifndef WARDEN_STORE_CONSENTS_H
#define WARDEN_STORE_CONSENTS_H

#include <stdbool.h>

#include "oidc_client.h"
#include "store.h"

struct db_pool;

/* covered: when st is STORE_OK, whether the consent holds every scope
 * asked. */
typedef void	consents_found_cb(enum store_status st, bool covered,
		    void *arg);

/*
 * Whether user_id has granted client_id every scope of scopes (OIDC_SCOPE_*
 * bits).  OK with covered false when there is no consent at all.
 */
int	consents_check(struct db_pool *pool, const char *user_id,
	    const char *client_id, unsigned scopes, consents_found_cb *cb,
	    void *arg);

/*
 * Adds scopes to what user_id has granted client_id (a union: nothing
 * granted before is taken back) and records 'consent_granted' with
 * remote.  NOT_FOUND when the user or the client is gone.
 */
int	consents_grant(struct db_pool *pool, const char *user_id,
	    const char *client_id, unsigned scopes, const char *remote,
	    store_done_cb *cb, void *arg);

#endif
