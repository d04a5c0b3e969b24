/*
 * The upstream identity providers users may sign in with (social login),
 * one file each under providers_dir (warden.conf(5)): NAME.conf, NAME of
 * [a-z0-9-], 1..PROVIDER_NAME_MAX bytes, in the "keyword value" syntax of
 * warden.conf.  Parsed once, at start-up, into typed structs; past the
 * parser nothing reads the files again.
 *
 *	preset		google | microsoft | gitlab | github	(fills what
 *			the provider is known to need; later lines override)
 *	kind		oidc (default) | oauth2
 *	display_name	what the login button says ("Sign in with X")
 *	issuer		oidc: the issuer; discovery at
 *			issuer/.well-known/openid-configuration
 *	tenant		microsoft: the Entra ID tenant (a UUID or domain)
 *	authorization_endpoint, token_endpoint, userinfo_endpoint, jwks_uri
 *			oauth2: the first three required; oidc: override
 *			what discovery says
 *	client_id	as registered with the provider (required)
 *	client_auth	client_secret_basic | client_secret_post |
 *			private_key_jwt | none (default: client_secret_basic
 *			with a client_secret_file, else private_key_jwt)
 *	client_secret_file
 *			a file holding the secret (systemd LoadCredential=);
 *			required by client_secret_*, refused by the others
 *	assertion_alg	private_key_jwt: RS256 (default) | EdDSA
 *	scopes		space-separated (oidc default "openid email
 *			profile"; must hold openid)
 *	claim_subject, claim_email, claim_email_verified, claim_username,
 *	claim_name	oauth2: the userinfo members that carry each (default
 *			sub, email, email_verified, preferred_username,
 *			name; github preset: id, email, -, login, name); "-"
 *			for none (email_verified then counts as false)
 *	link_by_email	yes | no (default no): a first sign-in whose
 *			provider asserts email_verified links to the account
 *			that has that e-mail
 *	signup		yes (default) | no: a first sign-in may create an
 *			account (when registration is open)
 *	timeout		seconds for one call to the provider (default 10)
 *
 * URLs must be https://, or http:// to a loopback host (https_url_ok()).
 */
#ifndef WARDEN_PROVIDERS_H
#define WARDEN_PROVIDERS_H

#include <stdbool.h>
#include <stddef.h>

#define PROVIDER_NAME_MAX	32
#define PROVIDER_DISPLAY_MAX	64
#define PROVIDER_URL_MAX	512
#define PROVIDER_CLIENT_ID_MAX	255
#define PROVIDER_SCOPES_MAX	255
#define PROVIDER_CLAIM_MAX	64
#define PROVIDER_SECRET_MAX	1024
#define PROVIDERS_MAX		32
#define PROVIDER_FILE_MAX	(64 * 1024)	/* bytes of one file */

enum provider_kind { PROVIDER_OIDC, PROVIDER_OAUTH2 };

enum provider_auth {
	PROVIDER_AUTH_SECRET_BASIC,
	PROVIDER_AUTH_SECRET_POST,
	PROVIDER_AUTH_PRIVATE_KEY_JWT,	/* assertion signed by the hasher */
	PROVIDER_AUTH_NONE,		/* a public client: PKCE alone */
};

enum provider_alg { PROVIDER_ALG_RS256, PROVIDER_ALG_EDDSA };

struct provider {
	char		 name[PROVIDER_NAME_MAX + 1];
	char		 display_name[PROVIDER_DISPLAY_MAX + 1];
	enum provider_kind kind;
	char		 issuer[PROVIDER_URL_MAX + 1];	/* oidc; "" oauth2 */
	char		 authorization_endpoint[PROVIDER_URL_MAX + 1];
	char		 token_endpoint[PROVIDER_URL_MAX + 1];
	char		 userinfo_endpoint[PROVIDER_URL_MAX + 1];
	char		 jwks_uri[PROVIDER_URL_MAX + 1];
					/* oidc: "" = from discovery */
	char		 client_id[PROVIDER_CLIENT_ID_MAX + 1];
	enum provider_auth auth;
	enum provider_alg assertion_alg;
	char		 client_secret_file[PROVIDER_URL_MAX + 1];
	char		*client_secret;	/* sodium_malloc'd, NUL-terminated;
					 * NULL unless client_secret_* */
	char		 scopes[PROVIDER_SCOPES_MAX + 1];
	char		 claim_subject[PROVIDER_CLAIM_MAX + 1];
	char		 claim_email[PROVIDER_CLAIM_MAX + 1];
	char		 claim_email_verified[PROVIDER_CLAIM_MAX + 1];
	char		 claim_username[PROVIDER_CLAIM_MAX + 1];
	char		 claim_name[PROVIDER_CLAIM_MAX + 1];
	bool		 link_by_email;
	bool		 signup;
	unsigned int	 timeout;	/* seconds, 1..300 */
};

struct providers {
	struct provider	*v;		/* n of them, sorted by name */
	size_t		 n;
};

/*
 * Parses one provider file's text (len bytes, not NUL-terminated) for the
 * provider called name into *p.  Does not read client_secret_file (p->
 * client_secret stays NULL).  Returns 0, or -1 with the reason (the
 * keyword and line, never a value) in err.
 */
int	provider_parse(const char *name, const char *text, size_t len,
	    struct provider *p, char *err, size_t errlen);

/*
 * Loads every NAME.conf of dir into *out (other files are ignored, as are
 * names that are not provider names: a reason is logged), reading each
 * client_secret_file (call it before privileges are dropped).  A missing
 * dir is no providers.  Returns 0, or -1 with "FILE: reason" in err and
 * *out empty.
 */
int	providers_load(const char *dir, struct providers *out, char *err,
	    size_t errlen);

/* Frees what out holds (wiping the secrets); out is then empty. */
void	providers_free(struct providers *out);

/* The provider called name, or NULL. */
const struct provider *providers_find(const struct providers *ps,
	    const char *name);

#endif
