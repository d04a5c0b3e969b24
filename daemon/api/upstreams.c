/*
 * The upstream providers at run time (upstreams.h): discovery and key sets
 * kept per provider, and the exchange of a code for an identity.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "authz_request.h"
#include "hc/hasher_client.h"
#include "log.h"
#include "net/https_client.h"
#include "upstream/answers.h"
#include "upstreams.h"
#include "util.h"

#define DISCOVERY_PATH	"/.well-known/openid-configuration"
#define ASSERTION_TYPE	"urn:ietf:params:oauth:client-assertion-type:" \
			"jwt-bearer"
#define FORM_MAX	(16 * 1024)

/* What is known of one provider. */
struct upstream {
	const struct provider	*p;
	struct https_client	*http;
	bool			 have_meta;
	time_t			 meta_at;
	struct upstream_discovery meta;
	struct jwk_set		*keys;
	time_t			 keys_at;
};

struct upstreams {
	struct providers	 ps;
	struct upstream		*v;	/* ps.n of them, in ps's order */
	struct hc		*hc;
};

/* One exchange on its way, or one look-up of an authorization endpoint. */
struct xchg {
	struct upstreams	*us;
	struct upstream		*u;
	upstream_identity_cb	*done;
	upstream_endpoint_cb	*endpoint;	/* a look-up only */
	void			*arg;
	char			*code;			/* secret */
	char			*verifier;		/* secret */
	char			*nonce;			/* secret */
	char			*redirect_uri;
	struct upstream_tokens	 tokens;		/* secret */
	struct id_token_claims	 who;	/* oidc: the verified id_token's */
	bool			 meta_fetched;	/* by this call */
	bool			 keys_fetched;	/* by this call */
};

static void	step_meta(struct xchg *x);
static void	step_token(struct xchg *x, const char *assertion);
static void	step_keys(struct xchg *x);
static void	step_verify(struct xchg *x);

static void
free_str(char *s)
{
	if (s != NULL)
		str_freezero(s);
}

static void
xchg_free(struct xchg *x)
{
	free_str(x->code);
	free_str(x->verifier);
	free_str(x->nonce);
	free(x->redirect_uri);
	sodium_memzero(x, sizeof(*x));
	free(x);
}

/* Ends x with res and why (a NULL why: ""); frees x. */
static void
finish(struct xchg *x, enum upstream_result res,
    const struct id_token_claims *who, const char *why)
{
	if (x->endpoint != NULL)
		x->endpoint(res, res == UPSTREAM_OK ?
		    x->u->meta.authorization_endpoint : NULL, why != NULL ?
		    why : "", x->arg);
	else
		x->done(res, res == UPSTREAM_OK ? who : NULL, why != NULL ?
		    why : "", x->arg);
	xchg_free(x);
}

/* The result of an answer that is no answer, or an error status. */
static enum upstream_result
transport_result(const struct https_answer *a, const char *what, char *why,
    size_t whylen)
{
	if (a->status == 0) {
		str_printf(why, whylen, "%s: %s", what, a->error);
		return a->timed_out ? UPSTREAM_TIMEOUT : UPSTREAM_UNREACHABLE;
	}
	str_printf(why, whylen, "%s answered %ld", what, a->status);
	return a->status >= 500 ? UPSTREAM_UNREACHABLE : UPSTREAM_BAD_ANSWER;
}

struct upstreams *
upstreams_new(struct event_base *base, struct providers *ps, struct hc *hc)
{
	struct upstreams *us;
	size_t		 i;

	if ((us = calloc(1, sizeof(*us))) == NULL)
		return NULL;
	us->hc = hc;
	if (ps->n > 0 && (us->v = calloc(ps->n, sizeof(*us->v))) == NULL) {
		free(us);
		return NULL;
	}
	us->ps = *ps;
	memset(ps, 0, sizeof(*ps));
	for (i = 0; i < us->ps.n; i++) {
		struct upstream		*u = &us->v[i];
		const struct provider	*p = &us->ps.v[i];

		u->p = p;
		if ((u->http = https_client_new(base, p->timeout, NULL)) ==
		    NULL) {
			upstreams_free(us);
			return NULL;
		}
		/* A plain OAuth 2.0 provider's file says it all. */
		if (p->kind == PROVIDER_OAUTH2) {
			str_copy(u->meta.authorization_endpoint,
			    p->authorization_endpoint,
			    sizeof(u->meta.authorization_endpoint));
			str_copy(u->meta.token_endpoint, p->token_endpoint,
			    sizeof(u->meta.token_endpoint));
			str_copy(u->meta.userinfo_endpoint,
			    p->userinfo_endpoint,
			    sizeof(u->meta.userinfo_endpoint));
			u->have_meta = true;
		}
	}
	return us;
}

void
upstreams_free(struct upstreams *us)
{
	size_t	 i;

	if (us == NULL)
		return;
	for (i = 0; us->v != NULL && i < us->ps.n; i++) {
		https_client_free(us->v[i].http);
		jwk_set_free(us->v[i].keys);
	}
	free(us->v);
	providers_free(&us->ps);
	free(us);
}

size_t
upstreams_count(const struct upstreams *us)
{
	return us != NULL ? us->ps.n : 0;
}

const struct provider *
upstreams_at(const struct upstreams *us, size_t i)
{
	return us != NULL && i < us->ps.n ? &us->ps.v[i] : NULL;
}

static struct upstream *
find(const struct upstreams *us, const struct provider *p)
{
	size_t	 i;

	for (i = 0; us != NULL && i < us->ps.n; i++)
		if (us->v[i].p == p)
			return &us->v[i];
	return NULL;
}

const struct provider *
upstreams_find(const struct upstreams *us, const char *name)
{
	return us != NULL ? providers_find(&us->ps, name) : NULL;
}

/* ---- discovery ---- */

/* The endpoints of the provider's file override discovery's. */
static void
meta_override(struct upstream *u, struct upstream_discovery *d)
{
	const struct provider *p = u->p;

	if (p->authorization_endpoint[0] != '\0')
		str_copy(d->authorization_endpoint, p->authorization_endpoint,
		    sizeof(d->authorization_endpoint));
	if (p->token_endpoint[0] != '\0')
		str_copy(d->token_endpoint, p->token_endpoint,
		    sizeof(d->token_endpoint));
	if (p->userinfo_endpoint[0] != '\0')
		str_copy(d->userinfo_endpoint, p->userinfo_endpoint,
		    sizeof(d->userinfo_endpoint));
	if (p->jwks_uri[0] != '\0')
		str_copy(d->jwks_uri, p->jwks_uri, sizeof(d->jwks_uri));
}

static void
meta_fetched(const struct https_answer *a, void *arg)
{
	struct xchg	*x = arg;
	struct upstream	*u = x->u;
	struct upstream_discovery d;
	char		 why[UPSTREAM_WHY_MAX], err[160];
	enum upstream_result res;

	if (a->status != 200) {
		res = transport_result(a, "discovery", why, sizeof(why));
		/* One that answered before still serves. */
		if (u->have_meta) {
			log_warn("provider %s: %s; the document of before "
			    "serves", u->p->name, why);
			step_meta(x);
			return;
		}
		finish(x, res, NULL, why);
		return;
	}
	if (upstream_discovery_parse(a->body, a->len, u->p->issuer, &d, err,
	    sizeof(err)) == -1) {
		str_printf(why, sizeof(why), "discovery: %s", err);
		finish(x, UPSTREAM_BAD_ANSWER, NULL, why);
		return;
	}
	meta_override(u, &d);
	if (!https_url_ok(d.authorization_endpoint) ||
	    !https_url_ok(d.token_endpoint) || !https_url_ok(d.jwks_uri) ||
	    (d.userinfo_endpoint[0] != '\0' &&
	    !https_url_ok(d.userinfo_endpoint))) {
		finish(x, UPSTREAM_BAD_ANSWER, NULL, "discovery: an endpoint "
		    "is not an https URL (or http on loopback)");
		return;
	}
	u->meta = d;
	u->have_meta = true;
	u->meta_at = time(NULL);
	step_meta(x);
}

/* Then the next step of x: the token endpoint, or the look-up's end. */
static void
meta_known(struct xchg *x)
{
	if (x->endpoint != NULL)
		finish(x, UPSTREAM_OK, NULL, NULL);
	else
		step_token(x, NULL);
}

/* Makes sure x's provider's endpoints are known and fresh. */
static void
step_meta(struct xchg *x)
{
	struct upstream	*u = x->u;
	char		 url[PROVIDER_URL_MAX + sizeof(DISCOVERY_PATH)];
	size_t		 len;
	time_t		 now = time(NULL);

	if (u->have_meta && (u->p->kind == PROVIDER_OAUTH2 ||
	    now - u->meta_at < UPSTREAM_CACHE_TTL ||
	    x->meta_fetched)) {
		meta_known(x);
		return;
	}
	x->meta_fetched = true;		/* one discovery per call */
	str_copy(url, u->p->issuer, sizeof(url));
	len = strlen(url);
	if (len > 0 && url[len - 1] == '/')
		url[len - 1] = '\0';
	str_printf(url + strlen(url), sizeof(url) - strlen(url), "%s",
	    DISCOVERY_PATH);
	if (https_get(u->http, url, NULL, meta_fetched, x) == NULL)
		finish(x, UPSTREAM_INTERNAL, NULL, "discovery not started");
}

int
upstreams_authorization_endpoint(struct upstreams *us, const struct provider *p,
    upstream_endpoint_cb *cb, void *arg)
{
	struct xchg	*x;
	struct upstream	*u;

	if ((u = find(us, p)) == NULL || (x = calloc(1, sizeof(*x))) == NULL)
		return -1;
	x->us = us;
	x->u = u;
	x->endpoint = cb;
	x->arg = arg;
	if (u->have_meta && (p->kind == PROVIDER_OAUTH2 ||
	    time(NULL) - u->meta_at < UPSTREAM_CACHE_TTL)) {
		/* Known: answered from the loop all the same would cost an
		 * event; the caller accepts an answer later or now. */
		cb(UPSTREAM_OK, u->meta.authorization_endpoint, "", arg);
		xchg_free(x);
		return 0;
	}
	step_meta(x);
	return 0;
}

/* ---- the token endpoint ---- */

/* Appends &name=value (percent-encoded) to form; -1 when it does not fit. */
static int
form_add(char *form, size_t formlen, const char *name, const char *value)
{
	char	 enc[FORM_MAX];
	size_t	 len = strlen(form);
	int	 rc;

	if (authz_encode(value, enc, sizeof(enc)) == -1)
		return -1;
	rc = str_printf(form + len, formlen - len, "%s%s=%s",
	    len > 0 ? "&" : "", name, enc);
	sodium_memzero(enc, sizeof(enc));	/* a code, a secret */
	return rc;
}

static void
token_answered(const struct https_answer *a, void *arg)
{
	struct xchg	*x = arg;
	char		 why[UPSTREAM_WHY_MAX], err[160];

	if (a->status == 0 || a->status >= 500) {
		enum upstream_result res = transport_result(a,
		    "token endpoint", why, sizeof(why));

		finish(x, res, NULL, why);
		return;
	}
	if (upstream_tokens_parse(a->body, a->len, &x->tokens, err,
	    sizeof(err)) == -1) {
		str_printf(why, sizeof(why), "token endpoint (%ld): %s",
		    a->status, err);
		finish(x, UPSTREAM_BAD_ANSWER, NULL, why);
		return;
	}
	if (x->tokens.error[0] != '\0' || a->status != 200) {
		str_printf(why, sizeof(why), "token endpoint refused the code "
		    "(%ld): %s", a->status, x->tokens.error[0] != '\0' ?
		    x->tokens.error : "no error code");
		finish(x, UPSTREAM_REFUSED, NULL, why);
		return;
	}
	if (x->u->p->kind == PROVIDER_OIDC) {
		if (x->tokens.id_token[0] == '\0') {
			finish(x, UPSTREAM_BAD_ANSWER, NULL, "token endpoint: "
			    "no id_token");
			return;
		}
		step_keys(x);
		return;
	}
	step_verify(x);
}

static void
assertion_signed(enum hc_status st, const struct proto_sign_assertion_ans *ans,
    void *arg)
{
	struct xchg	*x = arg;

	if (st != HC_OK) {
		finish(x, UPSTREAM_INTERNAL, NULL, "the hasher did not sign "
		    "the client assertion");
		return;
	}
	step_token(x, ans->jwt);
}

/* Posts the code to the token endpoint, with the assertion once signed. */
static void
step_token(struct xchg *x, const char *assertion)
{
	const struct provider *p = x->u->p;
	struct proto_sign_assertion_req q;
	enum hc_status	 why;
	char		*form;
	const char	*user = NULL, *pass = NULL;
	int		 rc;

	if (p->auth == PROVIDER_AUTH_PRIVATE_KEY_JWT && assertion == NULL) {
		memset(&q, 0, sizeof(q));
		q.alg = p->assertion_alg == PROVIDER_ALG_EDDSA ?
		    PROTO_ALG_EDDSA : PROTO_ALG_RS256;
		str_copy(q.client_id, p->client_id, sizeof(q.client_id));
		if (str_copy(q.aud, x->u->meta.token_endpoint,
		    sizeof(q.aud)) == -1 || hc_sign_assertion(x->us->hc, &q,
		    assertion_signed, x, &why) == NULL)
			finish(x, UPSTREAM_INTERNAL, NULL, "the client "
			    "assertion could not be asked for");
		return;
	}
	if ((form = calloc(1, FORM_MAX)) == NULL) {
		finish(x, UPSTREAM_INTERNAL, NULL, "out of memory");
		return;
	}
	rc = form_add(form, FORM_MAX, "grant_type", "authorization_code") |
	    form_add(form, FORM_MAX, "code", x->code) |
	    form_add(form, FORM_MAX, "redirect_uri", x->redirect_uri) |
	    form_add(form, FORM_MAX, "code_verifier", x->verifier);
	switch (p->auth) {
	case PROVIDER_AUTH_SECRET_BASIC:
		user = p->client_id;
		pass = p->client_secret;
		break;
	case PROVIDER_AUTH_SECRET_POST:
		rc |= form_add(form, FORM_MAX, "client_id", p->client_id) |
		    form_add(form, FORM_MAX, "client_secret",
		    p->client_secret != NULL ? p->client_secret : "");
		break;
	case PROVIDER_AUTH_PRIVATE_KEY_JWT:
		rc |= form_add(form, FORM_MAX, "client_id", p->client_id) |
		    form_add(form, FORM_MAX, "client_assertion_type",
		    ASSERTION_TYPE) | form_add(form, FORM_MAX,
		    "client_assertion", assertion);
		break;
	case PROVIDER_AUTH_NONE:
		rc |= form_add(form, FORM_MAX, "client_id", p->client_id);
		break;
	}
	if (rc != 0 || https_post_form(x->u->http, x->u->meta.token_endpoint,
	    form, user, pass, token_answered, x) == NULL) {
		str_freezero(form);
		finish(x, UPSTREAM_INTERNAL, NULL, "the token request could "
		    "not be made");
		return;
	}
	str_freezero(form);
}

/* ---- the identity ---- */

static void
keys_fetched(const struct https_answer *a, void *arg)
{
	struct xchg	*x = arg;
	struct upstream	*u = x->u;
	struct jwk_set	*ks;
	char		 why[UPSTREAM_WHY_MAX], err[160];

	if (a->status != 200) {
		enum upstream_result res = transport_result(a, "key set",
		    why, sizeof(why));

		if (u->keys != NULL) {
			/* The set of before judges the token. */
			log_warn("provider %s: %s", u->p->name, why);
			step_verify(x);
			return;
		}
		finish(x, res, NULL, why);
		return;
	}
	if ((ks = jwk_set_parse(a->body, a->len, err, sizeof(err))) == NULL) {
		str_printf(why, sizeof(why), "key set: %s", err);
		finish(x, UPSTREAM_BAD_ANSWER, NULL, why);
		return;
	}
	jwk_set_free(u->keys);
	u->keys = ks;
	u->keys_at = time(NULL);
	step_verify(x);
}

/* Makes sure the key set is there and fresh, then verifies. */
static void
step_keys(struct xchg *x)
{
	struct upstream	*u = x->u;

	if (u->keys != NULL && time(NULL) - u->keys_at < UPSTREAM_CACHE_TTL) {
		step_verify(x);
		return;
	}
	x->keys_fetched = true;
	if (https_get(u->http, u->meta.jwks_uri, NULL, keys_fetched, x) ==
	    NULL)
		finish(x, UPSTREAM_INTERNAL, NULL, "key set not fetched");
}

/*
 * The userinfo answer a through the provider's claim mapping into *who:
 * 0, or -1 with x finished (and freed) for a failure.
 */
static int
userinfo_read(struct xchg *x, const struct https_answer *a,
    struct id_token_claims *who)
{
	char	 why[UPSTREAM_WHY_MAX], err[160];

	if (a->status != 200) {
		enum upstream_result res = transport_result(a, "userinfo",
		    why, sizeof(why));

		finish(x, res, NULL, why);
		return -1;
	}
	if (upstream_userinfo_map(a->body, a->len, x->u->p, who, err,
	    sizeof(err)) == -1) {
		str_printf(why, sizeof(why), "userinfo: %s", err);
		finish(x, UPSTREAM_BAD_ANSWER, NULL, why);
		return -1;
	}
	return 0;
}

/* A plain OAuth 2.0 provider's user: its userinfo alone. */
static void
userinfo_answered(const struct https_answer *a, void *arg)
{
	struct xchg	*x = arg;
	struct id_token_claims who;

	if (userinfo_read(x, a, &who) == -1)
		return;
	finish(x, UPSTREAM_OK, &who, NULL);
	sodium_memzero(&who, sizeof(who));
}

/*
 * OpenID Connect Core 5.3.2: the userinfo of an id_token's user is the
 * same sub's, or nothing of it counts.  What the id_token did not say
 * (a provider may put the e-mail and names only here) is taken from it.
 */
static void
userinfo_merged(const struct https_answer *a, void *arg)
{
	struct xchg	*x = arg;
	struct id_token_claims more;

	if (userinfo_read(x, a, &more) == -1)
		return;
	if (strcmp(more.sub, x->who.sub) != 0) {
		finish(x, UPSTREAM_BAD_ANSWER, NULL, "userinfo: sub is not the "
		    "id_token's");
		return;
	}
	if (x->who.email[0] == '\0') {
		str_copy(x->who.email, more.email, sizeof(x->who.email));
		x->who.email_verified = more.email_verified;
	}
	if (x->who.preferred_username[0] == '\0')
		str_copy(x->who.preferred_username, more.preferred_username,
		    sizeof(x->who.preferred_username));
	if (x->who.name[0] == '\0')
		str_copy(x->who.name, more.name, sizeof(x->who.name));
	finish(x, UPSTREAM_OK, &x->who, NULL);
}

static void
step_verify(struct xchg *x)
{
	struct upstream	*u = x->u;
	struct id_token_expect e;
	struct id_token_claims who;
	enum id_token_result vr;
	char		 why[UPSTREAM_WHY_MAX], reason[160];

	if (u->p->kind == PROVIDER_OAUTH2) {
		if (u->meta.userinfo_endpoint[0] == '\0' ||
		    https_get(u->http, u->meta.userinfo_endpoint,
		    x->tokens.access_token, userinfo_answered, x) == NULL)
			finish(x, UPSTREAM_INTERNAL, NULL, "userinfo not "
			    "asked");
		return;
	}
	memset(&e, 0, sizeof(e));
	e.issuer = u->p->issuer;
	e.client_id = u->p->client_id;
	e.nonce = x->nonce;
	e.now = time(NULL);
	vr = id_token_verify(x->tokens.id_token, strlen(x->tokens.id_token),
	    u->keys, &e, &who, reason, sizeof(reason));
	if (vr == ID_TOKEN_UNKNOWN_KEY && !x->keys_fetched) {
		/* The provider may have rotated its keys: ask once. */
		x->keys_fetched = true;
		if (https_get(u->http, u->meta.jwks_uri, NULL, keys_fetched,
		    x) == NULL)
			finish(x, UPSTREAM_INTERNAL, NULL, "key set not "
			    "fetched");
		return;
	}
	if (vr != ID_TOKEN_OK) {
		str_printf(why, sizeof(why), "id_token: %s", reason);
		finish(x, UPSTREAM_BAD_TOKEN, NULL, why);
		return;
	}
	x->who = who;
	sodium_memzero(&who, sizeof(who));
	/* No e-mail in the id_token: the userinfo may have it. */
	if (x->who.email[0] == '\0' && u->meta.userinfo_endpoint[0] != '\0') {
		if (https_get(u->http, u->meta.userinfo_endpoint,
		    x->tokens.access_token, userinfo_merged, x) == NULL)
			finish(x, UPSTREAM_INTERNAL, NULL, "userinfo not "
			    "asked");
		return;
	}
	finish(x, UPSTREAM_OK, &x->who, NULL);
}

int
upstreams_exchange(struct upstreams *us, const struct provider *p,
    const struct upstream_code *c, upstream_identity_cb *cb, void *arg)
{
	struct upstream	*u;
	struct xchg	*x;

	if ((u = find(us, p)) == NULL || (x = calloc(1, sizeof(*x))) == NULL)
		return -1;
	x->us = us;
	x->u = u;
	x->done = cb;
	x->arg = arg;
	if ((x->code = strdup(c->code)) == NULL ||
	    (x->verifier = strdup(c->verifier)) == NULL ||
	    (x->nonce = strdup(c->nonce != NULL ? c->nonce : "")) == NULL ||
	    (x->redirect_uri = strdup(c->redirect_uri)) == NULL) {
		xchg_free(x);
		return -1;
	}
	step_meta(x);
	return 0;
}
