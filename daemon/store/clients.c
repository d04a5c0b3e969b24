/*
 * The oauth_clients table's statements (clients.h).
 */
#include <stdlib.h>
#include <string.h>

#include "clients.h"
#include "db.h"
#include "log.h"
#include "row.h"
#include "util.h"

#define TS(col)								\
	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

struct find {
	clients_found_cb	*cb;
	void			*arg;
};

/*
 * Splits the URIs of column col (separated by spaces, which a URI never
 * holds: the constraint) into uris, in place in buf.  The count, or -1
 * when there are more than OIDC_URIS_MAX or one is too long.
 */
static int
split_uris(char *buf, const char *uris[OIDC_URIS_MAX])
{
	char	*p = buf, *sp;
	int	 n = 0;

	if (*buf == '\0')
		return 0;
	for (;;) {
		if (n == OIDC_URIS_MAX)
			return -1;
		uris[n++] = p;
		if ((sp = strchr(p, ' ')) != NULL)
			*sp = '\0';
		if (strlen(p) > OIDC_URI_MAX || *p == '\0')
			return -1;
		if (sp == NULL)
			return n;
		p = sp + 1;
	}
}

/*
 * Row: client_id, name, secret hash literal or "", public, skip_consent,
 * scopes (comma-separated), alg, created, rotated or NULL, redirect URIs
 * and post-logout URIs (space-separated).
 */
static struct oauth_client *
read_client(const PGresult *res)
{
	struct oauth_client	*c;
	const char		*redir, *post;
	size_t			 lr, lp;
	char			*text;
	int			 n;

	redir = PQgetvalue(res, 0, 9);
	post = PQgetvalue(res, 0, 10);
	lr = strlen(redir);
	lp = strlen(post);
	if ((c = calloc(1, sizeof(*c) + lr + 1 + lp + 1)) == NULL)
		return NULL;
	text = (char *)(c + 1);
	memcpy(text, redir, lr + 1);
	memcpy(text + lr + 1, post, lp + 1);
	if (row_copy(c->client_id, sizeof(c->client_id), res, 0, 0) == -1 ||
	    row_copy(c->name, sizeof(c->name), res, 0, 1) == -1 ||
	    row_copy(c->secret_hash, sizeof(c->secret_hash), res, 0, 2) ==
	    -1 || oidc_scopes_parse(PQgetvalue(res, 0, 5), ',',
	    &c->scopes) == -1 ||
	    row_copy(c->id_token_alg, sizeof(c->id_token_alg), res, 0, 6) ==
	    -1 || row_copy(c->created_at, sizeof(c->created_at), res, 0, 7) ==
	    -1)
		goto bad;
	/* NULL: never rotated. */
	(void)row_copy(c->secret_rotated_at, sizeof(c->secret_rotated_at),
	    res, 0, 8);
	c->is_public = row_bool(res, 0, 3);
	c->skip_consent = row_bool(res, 0, 4);
	if ((n = split_uris(text, c->redirect_uris)) < 1)
		goto bad;
	c->n_redirect = (size_t)n;
	if ((n = split_uris(text + lr + 1, c->post_logout_uris)) < 0)
		goto bad;
	c->n_post_logout = (size_t)n;
	return c;
bad:
	log_error("clients_find: client %s breaks the bounds of its struct",
	    c->client_id);
	free(c);
	return NULL;
}

static void
found(const PGresult *res, void *arg)
{
	struct find		 f = *(struct find *)arg;
	struct oauth_client	*c = NULL;
	enum store_status	 st;

	free(arg);
	if ((st = row_status(res, "clients_find")) == STORE_OK) {
		if (PQntuples(res) == 0)
			st = STORE_NOT_FOUND;
		else if ((c = read_client(res)) == NULL)
			st = STORE_ERROR;
	}
	f.cb(st, c, f.arg);
}

int
clients_find(struct db_pool *pool, const char *client_id,
    clients_found_cb *cb, void *arg)
{
	const char	*params[] = { client_id };
	struct find	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	f->cb = cb;
	f->arg = arg;
	if (db_query(pool,
	    "SELECT client_id, name, coalesce('\\x' || encode(secret_hash,"
	    " 'hex'), ''), public, skip_consent, array_to_string(scopes, ','),"
	    " id_token_signed_response_alg, " TS("created_at") ","
	    " " TS("secret_rotated_at") ", array_to_string(redirect_uris, ' '),"
	    " array_to_string(post_logout_redirect_uris, ' ')"
	    " FROM oauth_clients WHERE client_id = $1", 1, params, found,
	    f) == NULL) {
		free(f);
		return -1;
	}
	return 0;
}

static bool
in_list(const char *const *list, size_t n, const char *uri)
{
	size_t	 i;

	if (uri == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(list[i], uri) == 0)
			return true;
	return false;
}

bool
oauth_client_redirect_ok(const struct oauth_client *c, const char *uri)
{
	return in_list(c->redirect_uris, c->n_redirect, uri);
}

bool
oauth_client_post_logout_ok(const struct oauth_client *c, const char *uri)
{
	return in_list(c->post_logout_uris, c->n_post_logout, uri);
}

bool
oauth_client_secret_ok(const struct oauth_client *c, const char *secret,
    size_t len)
{
	return !c->is_public && oidc_secret_ok(c->secret_hash, secret, len);
}
