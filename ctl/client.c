/*
 * wardenctl client add, list, show, remove and rotate-secret: the OpenID
 * Connect provider's registered clients (table oauth_clients, migration
 * 0009; the rules of common/oidc_client.h).  A confidential client's
 * secret is printed once, when it is made, and only its SHA-256 is
 * stored, as for refresh tokens.  Each change is an audit event naming
 * the operator and the client (no user).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "ctl.h"
#include "oidc_client.h"
#include "secret_token.h"
#include "table.h"
#include "util.h"

/* Room for OIDC_URIS_MAX URIs, space-separated as string_to_array reads
 * them (a valid URI holds no space). */
#define URIS_TEXT_MAX	(OIDC_URIS_MAX * (OIDC_URI_MAX + 1))

/* A client's row for list and show. */
#define CLIENT_COLS							\
	"client_id, name, public, array_to_string(redirect_uris, ' '),"	\
	" array_to_string(post_logout_redirect_uris, ' '),"		\
	" array_to_string(scopes, ' '), skip_consent,"			\
	" id_token_signed_response_alg, " CTL_TS("created_at") ","	\
	" " CTL_TS("secret_rotated_at")

/* The URIs given to one option, space-separated. */
struct uris {
	char	 text[URIS_TEXT_MAX];
	size_t	 n;
};

/* Adds uri to u unless it is there already: 0, or -1 after saying why
 * (a bad URI, too many). */
static int
uris_add(struct uris *u, const char *opt, const char *uri)
{
	const char	*p;
	size_t		 len = strlen(uri);

	if (!oidc_redirect_uri_ok(uri)) {
		fprintf(stderr, PROG ": client add: %s %s: a redirect URI is "
		    "absolute https, or http on 127.0.0.1, [::1] or "
		    "localhost; with a host, no user-info, no fragment, no "
		    "space, at most " STRINGIFY(OIDC_URI_MAX) " bytes\n", opt,
		    uri);
		return -1;
	}
	for (p = u->text; *p != '\0'; p += strspn(p, " ")) {
		if (strncmp(p, uri, len) == 0 && (p[len] == ' ' ||
		    p[len] == '\0'))
			return 0;
		p += strcspn(p, " ");
	}
	if (u->n == OIDC_URIS_MAX) {
		fprintf(stderr, PROG ": client add: at most "
		    STRINGIFY(OIDC_URIS_MAX) " URIs of %s\n", opt);
		return -1;
	}
	if (u->n > 0)
		strlcat(u->text, " ", sizeof(u->text));
	strlcat(u->text, uri, sizeof(u->text));
	u->n++;
	return 0;
}

/* Adds the words of s, a space-separated list, to json array a. */
static void
add_words(cJSON *o, const char *name, const char *s)
{
	cJSON		*a = cJSON_AddArrayToObject(o, name);
	const char	*p = s;
	char		 w[OIDC_URI_MAX + 1];
	size_t		 len;

	if (a == NULL || s == NULL)
		return;
	while (*p != '\0') {
		len = strcspn(p, " ");
		if (len > 0 && len < sizeof(w)) {
			memcpy(w, p, len);
			w[len] = '\0';
			cJSON_AddItemToArray(a, cJSON_CreateString(w));
		}
		p += len;
		if (*p == ' ')
			p++;
	}
}

/* Row i of a CLIENT_COLS result as a JSON object (NULL: no memory). */
static cJSON *
client_json(const PGresult *res, int i)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "client_id", ctl_col(res, i, 0));
	cJSON_AddStringToObject(o, "name", ctl_col(res, i, 1));
	cJSON_AddBoolToObject(o, "public", strcmp(ctl_col(res, i, 2), "t") ==
	    0);
	add_words(o, "redirect_uris", ctl_col(res, i, 3));
	add_words(o, "post_logout_redirect_uris", ctl_col(res, i, 4));
	add_words(o, "scopes", ctl_col(res, i, 5));
	cJSON_AddBoolToObject(o, "skip_consent",
	    strcmp(ctl_col(res, i, 6), "t") == 0);
	cJSON_AddStringToObject(o, "id_token_signed_response_alg",
	    ctl_col(res, i, 7));
	cJSON_AddStringToObject(o, "created_at", ctl_col(res, i, 8));
	table_json_string_or_null(o, "secret_rotated_at", ctl_col(res, i, 9));
	return o;
}

/* The detail of an audit event about client id named name, or NULL. */
static char *
detail_json(const char *id, const char *name)
{
	cJSON	*o = cJSON_CreateObject();
	char	*s = NULL;

	if (o != NULL && cJSON_AddStringToObject(o, "client_id", id) != NULL &&
	    (name == NULL || cJSON_AddStringToObject(o, "name", name) != NULL))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		fprintf(stderr, PROG ": out of memory\n");
	return s;
}

/* Prints the id and, for a confidential client, the secret of a new
 * client. */
static int
print_new(bool json, const char *id, const char *name, const char *secret)
{
	static const char *const keys[] = { "client_id", "client_secret" };
	const char	*values[] = { id, secret };
	cJSON		*o;

	if (json) {
		if ((o = cJSON_CreateObject()) != NULL) {
			cJSON_AddStringToObject(o, "client_id", id);
			cJSON_AddStringToObject(o, "name", name);
			cJSON_AddBoolToObject(o, "public", secret == NULL);
			table_json_string_or_null(o, "client_secret", secret);
		}
		return table_json_print(stdout, o);
	}
	if (table_pairs(stdout, secret != NULL ? 2 : 1, keys, values) == -1)
		return -1;
	if (secret != NULL)
		fprintf(stderr, PROG ": the secret is shown this once; only "
		    "its hash is stored\n");
	return 0;
}

int
cmd_client_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "redirect-uri", required_argument, NULL, 'r' },
		{ "post-logout-uri", required_argument, NULL, 'l' },
		{ "public", no_argument, NULL, 'p' },
		{ "scope", required_argument, NULL, 's' },
		{ "skip-consent", no_argument, NULL, 'k' },
		{ "id-token-alg", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char sql[] =
	    "INSERT INTO oauth_clients (client_id, name, secret_hash, public,"
	    " redirect_uris, post_logout_redirect_uris, scopes, skip_consent,"
	    " id_token_signed_response_alg) VALUES ($1, $2, $3::bytea,"
	    " $4::boolean, string_to_array($5, ' '),"
	    " coalesce(string_to_array($6, ' '), '{}'), $7::text[],"
	    " $8::boolean, $9)";
	struct uris	*redir = NULL, *post = NULL;
	char		 id[OIDC_CLIENT_ID_MIN + 1], scopes[OIDC_SCOPES_TEXT_MAX];
	char		 secret[SECRET_TOKEN_LEN + 1];
	char		 hash[SECRET_TOKEN_HASH_LITERAL], *detail = NULL;
	const char	*alg = "RS256", *name;
	unsigned	 bits = 0, b;
	bool		 public = false, skip = false, json = false;
	PGconn		*conn = NULL;
	int		 ch, rc = CTL_EXIT_USAGE;

	secret[0] = '\0';
	if ((redir = calloc(1, sizeof(*redir))) == NULL ||
	    (post = calloc(1, sizeof(*post))) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		rc = CTL_EXIT_FAIL;
		goto out;
	}
	while ((ch = getopt_long(argc, argv, "r:l:ps:ka:jh", opts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'r':
			if (uris_add(redir, "--redirect-uri", optarg) == -1)
				goto out;
			break;
		case 'l':
			if (uris_add(post, "--post-logout-uri", optarg) == -1)
				goto out;
			break;
		case 'p':
			public = true;
			break;
		case 's':
			if (oidc_scopes_parse(optarg, ' ', &b) == -1 ||
			    b == 0) {
				fprintf(stderr, PROG ": client add: --scope %s:"
				    " the scopes are openid, profile, email,"
				    " roles and offline_access\n", optarg);
				goto out;
			}
			bits |= b;
			break;
		case 'k':
			skip = true;
			break;
		case 'a':
			if (!oidc_alg_ok(optarg)) {
				fprintf(stderr, PROG ": client add: "
				    "--id-token-alg is RS256 or EdDSA\n");
				goto out;
			}
			alg = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			rc = ctl_help(ctl);
			goto out;
		default:
			rc = ctl_bad_option(ctl, argv);
			goto out;
		}
	}
	if (ctl_operands(ctl, argc - optind) == -1)
		goto out;
	name = argv[optind];
	if (!oidc_client_name_ok(name)) {
		fprintf(stderr, PROG ": client add: a name is 1 to "
		    STRINGIFY(OIDC_CLIENT_NAME_MAX) " characters, no control "
		    "character\n");
		goto out;
	}
	if (redir->n == 0) {
		fprintf(stderr, PROG ": client add: at least one "
		    "--redirect-uri is needed\n");
		rc = ctl_usage(ctl);
		goto out;
	}
	oidc_scopes_literal(bits != 0 ? bits : OIDC_SCOPES_DEFAULT, scopes);

	rc = CTL_EXIT_FAIL;
	oidc_client_id_new(id);
	if (!public && secret_token_new(secret, hash) == -1) {
		fprintf(stderr, PROG ": could not make a secret\n");
		goto out;
	}
	if ((detail = detail_json(id, name)) == NULL ||
	    (conn = ctl_connect(ctl)) == NULL || ctl_begin(conn) == -1)
		goto out;
	const char *v[] = { id, name, public ? NULL : hash,
	    public ? "t" : "f", redir->text, post->text, scopes,
	    skip ? "t" : "f", alg };
	if (ctl_exec(conn, sql, 9, v) == -1 ||
	    ctl_audit(conn, NULL, "client_created", detail) == -1 ||
	    ctl_commit(conn) == -1) {
		ctl_rollback(conn);
		goto out;
	}
	if (print_new(json, id, name, public ? NULL : secret) == 0)
		rc = CTL_EXIT_OK;
out:
	sodium_memzero(secret, sizeof(secret));
	cJSON_free(detail);
	free(redir);
	free(post);
	PQfinish(conn);
	return rc;
}

int
cmd_client_list(struct ctl *ctl, int argc, char **argv)
{
	static const char *const headers[] = {
		"CLIENT_ID", "NAME", "TYPE", "SCOPES", "CREATED",
		"REDIRECT_URIS",
	};
	struct table	*t = NULL;
	bool		 json = false, first;
	PGconn		*conn;
	PGresult	*res = NULL;
	int		 i, rc;

	if (ctl_getopt_json(ctl, argc, argv, &json, &rc) == -1)
		return rc;
	if ((conn = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_FAIL;
	rc = CTL_EXIT_FAIL;
	if ((res = ctl_query(conn, "SELECT " CLIENT_COLS " FROM oauth_clients"
	    " ORDER BY created_at, client_id", 0, NULL)) == NULL)
		goto out;
	if (json) {
		if (table_json_begin(stdout, &first) == -1)
			goto out;
		for (i = 0; i < PQntuples(res); i++)
			if (table_json_item(stdout, client_json(res, i),
			    &first) == -1)
				goto out;
		if (table_json_end(stdout) == -1)
			goto out;
	} else {
		if ((t = table_new(sizeof(headers) / sizeof(headers[0]),
		    headers)) == NULL)
			goto out;
		for (i = 0; i < PQntuples(res); i++) {
			const char *cells[] = {
				ctl_col(res, i, 0), ctl_col(res, i, 1),
				strcmp(ctl_col(res, i, 2), "t") == 0 ?
				    "public" : "confidential",
				ctl_col(res, i, 5), ctl_col(res, i, 8),
				ctl_col(res, i, 3),
			};
			if (table_add(t, cells) == -1)
				goto out;
		}
		if (table_print(t, stdout) == -1)
			goto out;
		if (PQntuples(res) == 0)
			fprintf(stderr, PROG ": no clients\n");
	}
	rc = CTL_EXIT_OK;
out:
	PQclear(res);
	table_free(t);
	PQfinish(conn);
	return rc;
}

static int
show_text(const PGresult *res)
{
	static const char *const keys[] = {
		"client_id", "name", "type", "redirect_uris",
		"post_logout_redirect_uris", "scopes", "skip_consent",
		"id_token_signed_response_alg", "created_at",
		"secret_rotated_at",
	};
	const char *values[] = {
		ctl_col(res, 0, 0), ctl_col(res, 0, 1),
		strcmp(ctl_col(res, 0, 2), "t") == 0 ? "public" :
		    "confidential",
		ctl_col(res, 0, 3), ctl_col(res, 0, 4), ctl_col(res, 0, 5),
		strcmp(ctl_col(res, 0, 6), "t") == 0 ? "yes" : "no",
		ctl_col(res, 0, 7), ctl_col(res, 0, 8), ctl_col(res, 0, 9),
	};

	return table_pairs(stdout, sizeof(keys) / sizeof(keys[0]), keys,
	    values);
}

/* Says "no such client" and returns CTL_EXIT_NOTFOUND. */
static int
no_such(const char *id)
{
	fprintf(stderr, PROG ": no such client: %s\n", id);
	return CTL_EXIT_NOTFOUND;
}

int
cmd_client_show(struct ctl *ctl, int argc, char **argv)
{
	bool		 json = false;
	PGconn		*conn;
	PGresult	*res;
	const char	*v[1];
	int		 rc;

	if (ctl_getopt_json(ctl, argc, argv, &json, &rc) == -1)
		return rc;
	v[0] = argv[optind];
	if (!oidc_client_id_ok(v[0]))
		return no_such(v[0]);
	if ((conn = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_FAIL;
	rc = CTL_EXIT_FAIL;
	if ((res = ctl_query(conn, "SELECT " CLIENT_COLS " FROM oauth_clients"
	    " WHERE client_id = $1", 1, v)) != NULL) {
		if (PQntuples(res) != 1)
			rc = no_such(v[0]);
		else if ((json ? table_json_print(stdout, client_json(res, 0)) :
		    show_text(res)) == 0)
			rc = CTL_EXIT_OK;
		PQclear(res);
	}
	PQfinish(conn);
	return rc;
}

int
cmd_client_remove(struct ctl *ctl, int argc, char **argv)
{
	PGconn		*conn;
	PGresult	*res;
	const char	*v[1];
	char		*detail = NULL;
	int		 rc;

	if (ctl_getopt_plain(ctl, argc, argv, &rc) == -1)
		return rc;
	v[0] = argv[optind];
	if (!oidc_client_id_ok(v[0]))
		return no_such(v[0]);
	if ((conn = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_FAIL;
	rc = CTL_EXIT_FAIL;
	if (ctl_begin(conn) == -1)
		goto out;
	/* Its codes and consents go with it (ON DELETE CASCADE). */
	if ((res = ctl_query(conn, "DELETE FROM oauth_clients"
	    " WHERE client_id = $1 RETURNING name", 1, v)) == NULL)
		goto fail;
	if (PQntuples(res) != 1)
		rc = no_such(v[0]);
	else
		detail = detail_json(v[0], PQgetvalue(res, 0, 0));
	PQclear(res);
	if (detail == NULL ||
	    ctl_audit(conn, NULL, "client_removed", detail) == -1 ||
	    ctl_commit(conn) == -1)
		goto fail;
	printf("client %s removed\n", v[0]);
	rc = CTL_EXIT_OK;
	goto out;
fail:
	ctl_rollback(conn);
out:
	cJSON_free(detail);
	PQfinish(conn);
	return rc;
}

int
cmd_client_rotate_secret(struct ctl *ctl, int argc, char **argv)
{
	char		 secret[SECRET_TOKEN_LEN + 1];
	char		 hash[SECRET_TOKEN_HASH_LITERAL], *detail = NULL;
	PGconn		*conn;
	PGresult	*res;
	const char	*v[2];
	int		 rc;

	if (ctl_getopt_plain(ctl, argc, argv, &rc) == -1)
		return rc;
	v[0] = argv[optind];
	if (!oidc_client_id_ok(v[0]))
		return no_such(v[0]);
	if ((conn = ctl_connect(ctl)) == NULL)
		return CTL_EXIT_FAIL;
	secret[0] = '\0';
	rc = CTL_EXIT_FAIL;
	if (ctl_begin(conn) == -1)
		goto out;
	if ((res = ctl_query(conn, "SELECT public FROM oauth_clients"
	    " WHERE client_id = $1 FOR UPDATE", 1, v)) == NULL)
		goto fail;
	if (PQntuples(res) != 1)
		rc = no_such(v[0]);
	else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		fprintf(stderr, PROG ": client %s is public: it has no secret "
		    "to rotate\n", v[0]);
	else if (secret_token_new(secret, hash) == -1)
		fprintf(stderr, PROG ": could not make a secret\n");
	else
		detail = detail_json(v[0], NULL);
	PQclear(res);
	v[1] = hash;
	if (detail == NULL || ctl_exec(conn, "UPDATE oauth_clients SET"
	    " secret_hash = $2::bytea, secret_rotated_at = now()"
	    " WHERE client_id = $1", 2, v) == -1 ||
	    ctl_audit(conn, NULL, "client_secret_rotated", detail) == -1 ||
	    ctl_commit(conn) == -1)
		goto fail;
	printf("%s\n", secret);
	fprintf(stderr, PROG ": the new secret of %s is shown this once; the "
	    "old one is refused from now\n", v[0]);
	rc = CTL_EXIT_OK;
	goto out;
fail:
	ctl_rollback(conn);
out:
	sodium_memzero(secret, sizeof(secret));
	cJSON_free(detail);
	PQfinish(conn);
	return rc;
}
