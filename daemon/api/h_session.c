/*
 * Forward-auth and logout.
 */
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <event2/http.h>
#include <sodium.h>
#include <time.h>

#include "auth.h"
#include "clock.h"
#include "config.h"
#include "fields.h"
#include "http/form.h"
#include "front.h"
#include "handlers.h"
#include "http/http.h"
#include "http/return_url.h"
#include "http/session_cookie.h"
#include "log.h"
#include "problem_reply.h"
#include "reply.h"
#include "revocations.h"
#include "secret_token.h"
#include "session_cache.h"
#include "store/sessions.h"
#include "store/users.h"
#include "util.h"

#define ROLES_HEADER_MAX	SESSION_CACHE_ROLES_MAX

static bool
claims_have_role(const struct jwt_claims *c, const char *role)
{
	for (size_t i = 0; i < c->nroles; i++) {
		if (strcmp(c->roles[i], role) == 0)
			return true;
	}
	return false;
}

/* True when the comma-separated list holds role. */
static bool
roles_hold(const char *list, const char *role)
{
	size_t len = strlen(role);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, role, len) == 0 &&
		    (p[len] == ',' || p[len] == '\0'))
			return true;
		if ((p = strchr(p, ',')) != NULL)
			p++;
	}
	return false;
}

/* The 204 of a verified session: who it is, if it holds role. */
static void
verify_answer(struct http_req *r, const char *user_id, const char *username,
    const char *roles, const char *role)
{
	if (role[0] != '\0' && !roles_hold(roles, role)) {
		problem_reply(r, PROBLEM_FORBIDDEN, "the user lacks the role");
		return;
	}
	http_set_header(r, "X-Auth-User-Id", user_id);
	http_set_header(r, "X-Auth-Username", username);
	http_set_header(r, "X-Auth-Roles", roles);
	http_no_store(r, false);
	http_reply_empty(r, 204);
}

/*
 * The original URL of a forward-auth request, from the headers Traefik's
 * forwardAuth sends (X-Forwarded-Proto, -Host and -Uri), into out when
 * return_url_ok() takes it: under public_url's host or session_domain.
 * These headers are the proxy's word, so a client that forges them
 * (through a proxy that passes its own) can only pick where a login it
 * makes itself lands, among the addresses rd would take anyway.
 */
static bool
forwarded_url(struct http_req *r, const struct cfg *cfg, char *out,
    size_t outlen)
{
	const char *proto = http_req_header(r, "X-Forwarded-Proto");
	const char *host = http_req_header(r, "X-Forwarded-Host");
	const char *uri = http_req_header(r, "X-Forwarded-Uri");
	char	 url[RETURN_URL_MAX + 1];

	if (proto == NULL || host == NULL || uri == NULL ||
	    (strcmp(proto, "https") != 0 && strcmp(proto, "http") != 0) ||
	    *host == '\0' || strpbrk(host, "/\\@?#") != NULL || uri[0] != '/' ||
	    str_printf(url, sizeof(url), "%s://%s%s", proto, host, uri) == -1)
		return false;
	return return_url_ok(url, cfg->public_url, cfg->session_domain, out,
	    outlen);
}

/*
 * The answer of verify?redirect=login to a browser without a live
 * session: 302 to the portal's login page, with rd the original URL when
 * the proxy told it (forwarded_url()).  Only for GET and HEAD: the
 * browser comes back to a page, not to a form it posted.
 */
static bool
login_redirect(struct http_req *r)
{
	const struct cfg *cfg = caller_of(r)->front->cfg;
	const char *method = http_req_header(r, "X-Forwarded-Method");
	char	 rd[RETURN_URL_MAX + 1], path[RETURN_URL_MAX * 3 + 16];
	char	 to[sizeof(path) + 1024];
	char	*enc = NULL;
	int	 rc;

	if (method != NULL && strcmp(method, "GET") != 0 &&
	    strcmp(method, "HEAD") != 0)
		return false;
	if (forwarded_url(r, cfg, rd, sizeof(rd)) &&
	    (enc = evhttp_uriencode(rd, -1, 0)) != NULL)
		rc = str_printf(path, sizeof(path), "/ui/login?rd=%s", enc);
	else
		rc = str_printf(path, sizeof(path), "/ui/login");
	free(enc);
	if (rc == 0)
		rc = cfg_url(cfg, path, to, sizeof(to));
	if (rc == -1)
		return false;
	http_set_header(r, "Location", to);
	http_no_store(r, false);
	http_reply_empty(r, 302);
	return true;
}

/* 401 for a cookie that is no live session: WWW-Authenticate names the
 * scheme a client could use instead (RFC 9110 11.6.1), as without one;
 * with ?redirect=login, the login page. */
static void
cookie_refuse(struct http_req *r, bool to_login)
{
	if (to_login && login_redirect(r))
		return;
	problem_bearer(r, BEARER_NO_TOKEN, "no live session has that cookie");
}

/* A cookie being checked against the database. */
struct cookie_check {
	struct http_req	*r;
	struct front	*front;
	uint8_t		 key[SESSION_CACHE_KEY_LEN];
	char		 role[FIELD_ROLE_MAX + 1];
	bool		 to_login;	/* ?redirect=login */
	uint64_t	 asked;		/* monotonic, when the query left */
	time_t		 asked_at;	/* the same, wall clock */
};

static void
cookie_checked(enum store_status st, const struct sessions_found *s,
    void *arg)
{
	struct cookie_check *k = arg;
	struct http_req *r = k->r;
	struct session_cache *cache = k->front->sessions;
	struct session_cache_entry e;

	if (st == STORE_NOT_FOUND) {
		if (cache != NULL)
			session_cache_forget(cache, k->key);
		cookie_refuse(r, k->to_login);
	} else if (st != STORE_OK)
		reply_db_failed(r, st, "session check");
	else {
		memset(&e, 0, sizeof(e));
		memcpy(e.key, k->key, sizeof(e.key));
		str_copy(e.user_id, s->user.id, sizeof(e.user_id));
		str_copy(e.username, s->user.username, sizeof(e.username));
		for (size_t i = 0; i < s->user.nroles; i++) {
			if (i > 0)
				strlcat(e.roles, ",", sizeof(e.roles));
			strlcat(e.roles, s->user.roles[i], sizeof(e.roles));
		}
		e.token_version = s->user.token_version;
		/* Confirmed as of when the query left: a change committed
		 * while it ran is seen within session_check of that. */
		e.confirmed = k->asked;
		e.confirmed_at = k->asked_at;
		if (cache != NULL && k->front->cfg->session_check > 0)
			session_cache_store(cache, &e);
		verify_answer(r, e.user_id, e.username, e.roles, k->role);
	}
	free(k);
}

/*
 * Forward-auth by the portal's session cookie value: from memory when the
 * database confirmed the session within session_check and revocations
 * have heard of no change to its user since; else from the database.
 */
static void
verify_cookie(struct http_req *r, const char *value, const char *role,
    bool to_login, time_t now)
{
	struct front *f = caller_of(r)->front;
	struct session_cache *cache = f->sessions;
	const struct session_cache_entry *e;
	struct cookie_check *k;
	char	 hash[SECRET_TOKEN_HASH_LITERAL];
	char	 user_id[PROTO_UUID_LEN + 1];
	uint8_t	 key[SESSION_CACHE_KEY_LEN];
	uint64_t check = (uint64_t)f->cfg->session_check * 1000000, mono;
	size_t	 klen;

	if (secret_token_hash(value, strlen(value), hash) == -1 ||
	    sodium_hex2bin(key, sizeof(key), hash + 2, strlen(hash + 2),
	    NULL, &klen, NULL) != 0 || klen != sizeof(key)) {
		cookie_refuse(r, to_login);
		return;
	}
	mono = clock_now_usec();
	if (cache != NULL && (e = session_cache_lookup(cache, key, mono,
	    check)) != NULL) {
		if (revocations_check_user(f->revocations, e->user_id,
		    e->token_version, (int64_t)e->confirmed_at, role,
		    now) == REV_PASS) {
			verify_answer(r, e->user_id, e->username, e->roles,
			    role);
			return;
		}
		/* The user changed since (or this host cannot tell yet):
		 * what it remembers of any session of the user is stale.
		 * The copy: forgetting wipes the entry e points into. */
		str_copy(user_id, e->user_id, sizeof(user_id));
		session_cache_forget_user(cache, user_id);
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	k->r = r;
	k->front = f;
	memcpy(k->key, key, sizeof(k->key));
	str_copy(k->role, role, sizeof(k->role));
	k->to_login = to_login;
	k->asked = mono;
	k->asked_at = now;
	if (sessions_touch(f->db, hash, f->cfg->session_idle, cookie_checked,
	    k) == -1) {
		free(k);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/*
 * GET /api/v1/auth/verify[?role=NAME][&redirect=login]: answers from the
 * token and the revocations this host has been told of (revocations.h),
 * so a proxy may call it on every request without touching the database.
 * Without a bearer token, the portal's session cookie: see
 * verify_cookie().  redirect=login is for proxies that pass a refusal
 * through as it is (Traefik): no credential, or a dead cookie, is then a
 * 302 to the login page (login_redirect()) instead of the 401.
 */
void
h_verify(struct http_req *r)
{
	struct caller *c = caller_of(r);
	static const char *const allowed[] = { "role", "redirect" };
	char	 role[FIELD_ROLE_MAX + 1] = "", roles[ROLES_HEADER_MAX] = "";
	char	 why[FORM_WHY_MAX], cookie[SECRET_TOKEN_LEN + 1];
	struct form q;
	const char *v, *authz, *cookies, *tok;
	size_t	 toklen;
	enum auth_presented how;
	bool	 to_login = false;
	time_t	 now = time(NULL);
	int	 rc;

	rc = form_parse(&q, r->query, r->query ? strlen(r->query) : 0, why,
	    sizeof(why));
	if (rc == 0 && form_unknown(&q, allowed, 2) != NULL) {
		str_copy(why, "unknown query parameter", sizeof(why));
		rc = -1;
	}
	if (rc == 0 && (v = form_get(&q, "role")) != NULL &&
	    (!field_is_role(v) || str_copy(role, v, sizeof(role)) == -1)) {
		str_copy(why, "role must be a role name", sizeof(why));
		rc = -1;
	}
	if (rc == 0 && (v = form_get(&q, "redirect")) != NULL) {
		if (strcmp(v, "login") == 0)
			to_login = true;
		else {
			str_copy(why, "redirect must be \"login\"", sizeof(why));
			rc = -1;
		}
	}
	form_free(&q);
	if (rc != 0) {
		problem_reply(r, rc == -2 ? PROBLEM_INTERNAL :
		    PROBLEM_MALFORMED, why);
		return;
	}
	/* A bearer token wins over a cookie: the request is judged by the
	 * Authorization header whenever it says "Bearer". */
	authz = http_req_header(r, "Authorization");
	if ((authz == NULL || auth_bearer_token(authz, &tok,
	    &toklen) == AUTH_NO_TOKEN) &&
	    (cookies = http_req_header(r, "Cookie")) != NULL &&
	    session_cookie_get(cookies, c->front->cfg->public_url,
	    c->front->cfg->session_domain, cookie) == 0) {
		verify_cookie(r, cookie, role, to_login, now);
		sodium_memzero(cookie, sizeof(cookie));
		return;
	}
	if (auth_verify_request(c->front, r, now, &c->claims,
	    &how) != JWT_OK) {
		/* A browser without a session goes to log in; a client that
		 * presented a token hears what is wrong with it. */
		if (how == AUTH_NO_TOKEN && to_login && login_redirect(r))
			return;
		auth_refuse(r, how);
		return;
	}
	if (role[0] != '\0' && !claims_have_role(&c->claims, role)) {
		problem_bearer(r, BEARER_INSUFFICIENT_SCOPE,
		    "the token lacks the role");
		return;
	}
	switch (revocations_check(c->front->revocations, &c->claims, role,
	    now)) {
	case REV_PASS:
		break;
	case REV_REVOKED:
		problem_bearer(r, BEARER_INVALID_TOKEN,
		    "the token has been revoked");
		return;
	case REV_NO_ROLE:
		problem_bearer(r, BEARER_INSUFFICIENT_SCOPE,
		    "the user no longer has the role");
		return;
	case REV_UNSYNCED:
		problem_retry(r, PROBLEM_UNAVAILABLE, 1,
		    "revocations are not known yet: try again");
		return;
	}
	for (size_t i = 0; i < c->claims.nroles; i++) {
		if (i > 0)
			strlcat(roles, ",", sizeof(roles));
		strlcat(roles, c->claims.roles[i], sizeof(roles));
	}
	http_set_header(r, "X-Auth-User-Id", c->claims.sub);
	http_set_header(r, "X-Auth-Username", c->claims.username);
	http_set_header(r, "X-Auth-Roles", roles);
	http_no_store(r, false);
	http_reply_empty(r, 204);
}

static void
logout_done(enum store_status st, void *arg)
{
	struct http_req *r = arg;

	if (st != STORE_OK) {
		reply_db_failed(r, st, "logout");
		return;
	}
	http_reply_empty(r, 204);
}

/*
 * POST /api/v1/auth/logout: every refresh token of the caller revoked and
 * every access token invalidated (token version bump), in one statement.
 */
void
h_logout(struct http_req *r)
{
	struct caller *c = caller_of(r);

	if (users_end_sessions(c->front->db, c->user.id, r->remote,
	    logout_done, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}
