/*
 * The OAuth 2.0 token endpoint (RFC 6749: password and refresh_token
 * grants) and revocation (RFC 7009).
 *
 * Password grant: look the user up, verify through the hasher (a dummy
 * verification of the same cost for an unknown user), then either record
 * the failure (per-account back-off, per-address limit, audit) or sign an
 * access token, start a refresh-token family and answer.  A wrong
 * password, an unknown user, a disabled user and a locked account all get
 * the same answer after the same work.
 *
 * The back-off is OWASP's device cookies (device.h, store/devices.h): a
 * client presenting a device token with which it logged the user in
 * before is judged by that device's failures and lock; every other client
 * by the account's, which only they build.  So guesses from elsewhere
 * never lock the user out of a device of theirs.  A failure while the
 * client's lock is on is not counted (the lock cannot be prolonged), and
 * failures are forgotten after a quiet login_lockout_max.
 *
 * The verification takes one of the client address's slots of the hasher
 * queue (hasher_share.h): past its share a client gets too_many_requests.
 *
 * Refresh grant: refresh.c rotates the token.  What both grants share
 * (the call, signing, the answer) is token.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "addr_limit.h"
#include "body.h"
#include "client_auth.h"
#include "config.h"
#include "device.h"
#include "fields.h"
#include "http/form.h"
#include "front.h"
#include "handlers.h"
#include "hasher_share.h"
#include "hc/hasher_client.h"
#include "http/http.h"
#include "http/json_in.h"
#include "log.h"
#include "mail_link.h"
#include "metrics.h"
#include "oidc_auth.h"
#include "oidc_token.h"
#include "problem_reply.h"
#include "ratelimit.h"
#include "refresh.h"
#include "reply.h"
#include "store/devices.h"
#include "store/links.h"
#include "store/mfa.h"
#include "store/tokens.h"
#include "store/users.h"
#include "token.h"
#include "util.h"

#define BAD_LOGIN	TOKEN_BAD_LOGIN
/* Stands in for the user id when verifying against no user at all. */
#define NOBODY_ID	"00000000-0000-4000-8000-000000000000"

/* ---- parsing ---- */

static int
copy_value(char *dst, size_t dstlen, const char *v, size_t len)
{
	if (v == NULL || len >= dstlen || len == 0)
		return -1;
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 0;
}

/*
 * Keeps the device token presented (device.h) when it is of the right
 * shape; any other is as good as none (a stale or foreign cookie must not
 * stop a login).
 */
static void
device_keep(struct token_req *req, const char *device)
{
	size_t	 len;

	if (device == NULL || req->device[0] != '\0')
		return;
	len = strlen(device);
	if (secret_token_hash(device, len, req->device_hash) == -1) {
		req->device_hash[0] = '\0';
		return;
	}
	memcpy(req->device, device, len + 1);
}

/* The named values of a token request, from a form or a JSON body. */
struct token_params {
	const char	*grant;
	const char	*user;
	const char	*pw;
	size_t		 pwlen;
	const char	*refresh;
	const char	*device;
	const char	*mfa_token;
	const char	*otp;
	const char	*recovery_code;
};

/*
 * Fills *req from the named values; replies and returns -1 on a missing
 * or unsupported parameter.
 */
static int
token_req_fill(struct http_req *r, struct token_req *req,
    const struct token_params *p)
{
	if (p->grant == NULL) {
		problem_oauth(r, OAUTH_INVALID_REQUEST,
		    "grant_type is required", 0);
		return -1;
	}
	if (strcmp(p->grant, "password") == 0) {
		if (p->user == NULL || p->pw == NULL || p->refresh != NULL) {
			problem_oauth(r, OAUTH_INVALID_REQUEST, "the password "
			    "grant takes username and password", 0);
			return -1;
		}
		req->grant = TOKEN_GRANT_PASSWORD;
		/* Too long to be anyone's: the same answer as a wrong one. */
		if (copy_value(req->username, sizeof(req->username), p->user,
		    strlen(p->user)) == -1)
			req->username[0] = '\0';
		req->pwlen = p->pwlen <= sizeof(req->password) ? p->pwlen : 0;
		memcpy(req->password, p->pw, req->pwlen);
		device_keep(req, p->device);
		return 0;
	}
	if (strcmp(p->grant, "refresh_token") == 0) {
		if (p->refresh == NULL || p->user != NULL || p->pw != NULL) {
			problem_oauth(r, OAUTH_INVALID_REQUEST, "the "
			    "refresh_token grant takes refresh_token", 0);
			return -1;
		}
		req->grant = TOKEN_GRANT_REFRESH;
		str_copy(req->refresh, p->refresh, sizeof(req->refresh));
		return 0;
	}
	if (strcmp(p->grant, TOKEN_GRANT_MFA_URN) == 0) {
		if (p->mfa_token == NULL ||
		    (p->otp == NULL) == (p->recovery_code == NULL)) {
			problem_oauth(r, OAUTH_INVALID_REQUEST, "the mfa grant "
			    "takes mfa_token and one of otp and "
			    "recovery_code", 0);
			return -1;
		}
		req->grant = TOKEN_GRANT_MFA;
		/* Of the wrong shape: refused as a wrong one, later. */
		(void)copy_value(req->mfa_token, sizeof(req->mfa_token),
		    p->mfa_token, strlen(p->mfa_token));
		req->recovery = p->recovery_code != NULL;
		(void)copy_value(req->code, sizeof(req->code),
		    req->recovery ? p->recovery_code : p->otp,
		    strlen(req->recovery ? p->recovery_code : p->otp));
		device_keep(req, p->device);
		return 0;
	}
	if (strcmp(p->grant, "authorization_code") == 0) {
		/* Codes go to registered clients alone (oidc_token.h). */
		problem_oauth(r, OAUTH_INVALID_CLIENT, "the authorization_code "
		    "grant needs a registered client", 0);
		return -1;
	}
	problem_oauth(r, OAUTH_UNSUPPORTED_GRANT_TYPE, "grant_type must be "
	    "password, refresh_token, authorization_code or "
	    TOKEN_GRANT_MFA_URN, 0);
	return -1;
}

/*
 * RFC 6749 3.2: "The authorization server MUST ignore unrecognized
 * request parameters" (resource, audience, state, scope, ... pass).
 * The client's own parameters go to client_auth.h.
 */
static int
parse_form(struct http_req *r, struct token_req *req)
{
	char	 why[FORM_WHY_MAX];
	const char *pw;
	struct client_claim cc;
	struct oidc_client_claim occ;
	struct token_params tp;
	struct form f;
	int	 rc;

	if ((rc = form_parse(&f, r->body, r->body_len, why, sizeof(why))) != 0) {
		form_free(&f);
		if (rc == -2)
			problem_reply(r, PROBLEM_INTERNAL, NULL);
		else
			problem_oauth(r, OAUTH_INVALID_REQUEST, why, 0);
		return -1;
	}
	/* A registered client's request is oidc_token.h's. */
	rc = oidc_auth_claim(r, caller_of(r)->front->cfg,
	    form_get(&f, "client_id"), form_get(&f, "client_secret"), &occ);
	if (rc == 1)
		oidc_token(r, &f, &occ);
	sodium_memzero(&occ, sizeof(occ));
	if (rc != 0) {
		form_free(&f);
		return -1;
	}
	cc.client_id = form_get(&f, "client_id");
	cc.has_secret = form_get(&f, "client_secret") != NULL;
	if (client_auth_check(r, caller_of(r)->front->cfg, &cc) == -1) {
		form_free(&f);
		return -1;
	}
	pw = form_get(&f, "password");
	tp.grant = form_get(&f, "grant_type");
	tp.user = form_get(&f, "username");
	tp.pw = pw;
	tp.pwlen = pw != NULL ? strlen(pw) : 0;
	tp.refresh = form_get(&f, "refresh_token");
	tp.device = form_get(&f, "device_token");
	tp.mfa_token = form_get(&f, "mfa_token");
	tp.otp = form_get(&f, "otp");
	tp.recovery_code = form_get(&f, "recovery_code");
	rc = token_req_fill(r, req, &tp);
	form_free(&f);
	return rc;
}

static const struct json_in_member token_members[] = {
	{ "grant_type", JSON_IN_STRING, 64, 0, false, false },
	{ "username", JSON_IN_STRING, FORM_VALUE_MAX, 0, false, false },
	{ "password", JSON_IN_STRING, FORM_VALUE_MAX, 0, false, false },
	{ "refresh_token", JSON_IN_STRING, FORM_VALUE_MAX, 0, false, false },
	{ "client_id", JSON_IN_STRING, FORM_VALUE_MAX, 0, false, false },
	{ "client_secret", JSON_IN_STRING, FORM_VALUE_MAX, 0, false, false },
	{ "device_token", JSON_IN_STRING, FORM_VALUE_MAX, 0, false, false },
	{ "mfa_token", JSON_IN_STRING, FORM_VALUE_MAX, 0, false, false },
	{ "otp", JSON_IN_STRING, FORM_VALUE_MAX, 0, false, false },
	{ "recovery_code", JSON_IN_STRING, FORM_VALUE_MAX, 0, false, false },
};
enum {
	J_GRANT, J_USERNAME, J_PASSWORD, J_REFRESH, J_CLIENT_ID, J_SECRET,
	J_DEVICE, J_MFA_TOKEN, J_OTP, J_RECOVERY,
};
#define NTOKEN_MEMBERS	(sizeof(token_members) / sizeof(token_members[0]))

/* RFC 6749 3.2 for a JSON body: the members no one here reads go. */
static void
drop_unknown_members(cJSON *o)
{
	cJSON	*it, *next;
	size_t	 i;

	for (it = o->child; it != NULL; it = next) {
		next = it->next;
		for (i = 0; i < NTOKEN_MEMBERS; i++)
			if (strcmp(it->string, token_members[i].name) == 0)
				break;
		if (i == NTOKEN_MEMBERS)
			cJSON_Delete(cJSON_DetachItemViaPointer(o, it));
	}
}

static int
parse_json(struct http_req *r, struct token_req *req,
    unsigned int max_depth)
{
	struct json_in_value v[NTOKEN_MEMBERS];
	struct token_params tp;
	struct client_claim cc;
	struct problem_fields pf;
	char	 why[JSON_IN_WHY_MAX];
	cJSON	*o;
	int	 rc;

	if ((rc = json_in_parse(r->body != NULL ? r->body : "", r->body_len,
	    max_depth, &o, why, sizeof(why))) != 0) {
		if (rc == -2)
			problem_reply(r, PROBLEM_INTERNAL, NULL);
		else
			problem_oauth(r, OAUTH_INVALID_REQUEST, why, 0);
		return -1;
	}
	memset(v, 0, sizeof(v));
	problem_fields_init(&pf);
	if (cJSON_IsObject(o))
		drop_unknown_members(o);
	if (json_in_extract(o, token_members, NTOKEN_MEMBERS, v, &pf) > 0) {
		problem_fields_free(&pf);
		problem_oauth(r, OAUTH_INVALID_REQUEST, "a member is of the "
		    "wrong type or too long", 0);
		rc = -1;
	} else {
		problem_fields_free(&pf);
		cc.client_id = v[J_CLIENT_ID].str;
		cc.has_secret = v[J_SECRET].present;
		rc = client_auth_check(r, caller_of(r)->front->cfg, &cc);
		tp.grant = v[J_GRANT].str;
		tp.user = v[J_USERNAME].str;
		tp.pw = v[J_PASSWORD].str;
		tp.pwlen = v[J_PASSWORD].len;
		tp.refresh = v[J_REFRESH].str;
		tp.device = v[J_DEVICE].str;
		tp.mfa_token = v[J_MFA_TOKEN].str;
		tp.otp = v[J_OTP].str;
		tp.recovery_code = v[J_RECOVERY].str;
		if (rc == 0)
			rc = token_req_fill(r, req, &tp);
	}
	/* Every secret: all but the grant type, username and client id. */
	for (size_t i = 0; i < NTOKEN_MEMBERS; i++) {
		if (i != J_GRANT && i != J_USERNAME && i != J_CLIENT_ID &&
		    v[i].str != NULL)
			sodium_memzero((void *)v[i].str, v[i].len);
	}
	cJSON_Delete(o);
	return rc;
}

/* ---- password grant ---- */

/* The cookie that hands t's device token to a browser (device.h); one
 * that cannot be set leaves the token in the answer's body. */
static void
set_device_cookie(struct token_call *t)
{
	const struct cfg *cfg = t->f->cfg;
	char	 v[DEVICE_SET_COOKIE_MAX];

	if (device_set_cookie(v, sizeof(v), t->device_out,
	    t->ops->device_cookie_path, cfg->login_device_ttl,
	    device_cookie_secure(cfg->public_url)) == 0)
		(void)http_add_header(t->r, "Set-Cookie", v);
	sodium_memzero(v, sizeof(v));
}

static void
login_written(enum store_status st, void *arg)
{
	struct token_call *t = arg;
	struct http_req *r = t->r;

	if (st != STORE_OK) {
		/* NOT_FOUND: deleted, disabled or given a new password
		 * between lookup and login, so no token. */
		if (st == STORE_NOT_FOUND)
			token_login_refused(t, 400, BAD_LOGIN, 0);
		else {
			token_call_free(t);
			reply_db_failed(r, st, "login");
		}
		return;
	}
	metrics_login(t->f->metrics, METRICS_LOGIN_OK);
	addr_limit_forgive(t->f, t->f->addr_limit, ADDR_LIMIT_LOGIN,
	    r->remote);
	set_device_cookie(t);
	t->ops->done(t);
}

/* Records t's verified login and its device (devices_login), with the
 * refresh family t->refresh_hash when the ops hand out tokens. */
static void
login_record(struct token_call *t)
{
	struct http_req *r = t->r;
	struct devices_login d;
	struct tokens_login *l = &d.login;

	/* A trusted device keeps its token; any other client gets a new
	 * one (never the one it presented: a token planted in a browser
	 * must not become trusted for the user who then logs in there). */
	if (t->trusted) {
		str_copy(t->device_out, t->req.device, sizeof(t->device_out));
		str_copy(t->device_out_hash, t->req.device_hash,
		    sizeof(t->device_out_hash));
	} else if (secret_token_new(t->device_out, t->device_out_hash) ==
	    -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	memset(&d, 0, sizeof(d));
	l->user_id = t->user.id;
	l->stored = t->stored;
	l->rehash = t->rehash[0] != '\0' ? t->rehash : NULL;
	if (t->ops->tokens) {
		l->token_id = t->new_id;
		l->family = t->family;
		l->hash = t->refresh_hash;
	}
	l->ttl = t->f->cfg->refresh_token_ttl;
	l->remote = r->remote;
	d.device = t->device_out_hash;
	d.trusted = t->trusted;
	d.device_ttl = t->f->cfg->login_device_ttl;
	if (devices_login(t->f->db, &d, login_written, t) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

static void
login_signed(enum hc_status st, const struct proto_sign_ans *ans, void *arg)
{
	struct token_call *t = arg;
	struct http_req *r = t->r;

	if (st != HC_OK) {
		token_call_free(t);
		token_signer_unavailable(r);
		return;
	}
	if (reply_too_late(r, "the login's write")) {
		token_call_free(t);
		http_req_abandon(r);
		return;
	}
	t->signed_token = *ans;
	uuid_random(t->family);
	uuid_random(t->new_id);
	if (secret_token_new(t->refresh, t->refresh_hash) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	login_record(t);
}

void
token_login_refused(struct token_call *t, int status, const char *why,
    unsigned int retry)
{
	t->ops->refused(t, status, why, retry);
}

static void
refuse(struct token_call *t)
{
	token_login_refused(t, 400, t->refusal != NULL ? t->refusal :
	    BAD_LOGIN, 0);
}

static void
link_resent(enum store_status st, enum links_outcome out, void *arg)
{
	(void)st;
	(void)out;	/* sent or not, the answer is the same */
	refuse(arg);
}

static void
failure_written(enum store_status st, void *arg)
{
	struct token_call *t = arg;
	struct http_req *r = t->r;
	struct links_request q;
	struct mail_link l;
	int	 rc;

	if (st != STORE_OK) {
		token_call_free(t);
		reply_db_failed(r, st, "login failure");
		return;
	}
	if (!t->resend || mail_link_make(&l, t->f->cfg, LINKS_VERIFY_EMAIL,
	    t->f->cfg->email_verification_ttl) == -1) {
		refuse(t);
		return;
	}
	memset(&q, 0, sizeof(q));
	q.purpose = LINKS_VERIFY_EMAIL;
	q.user_id = t->user.id;
	q.mail = l.mail;
	q.rate = t->f->cfg->mail_rate;
	q.remote = r->remote;
	rc = links_issue(t->f->db, &q, link_resent, t);
	mail_link_wipe(&l);
	if (rc == -1)
		refuse(t);
}

/* --- a second factor is needed: the mfa_token (mfa_grant.c) --- */

static void
mfa_token_written(enum store_status st, void *arg)
{
	struct token_call *t = arg;
	struct http_req *r = t->r;

	if (st != STORE_OK) {
		sodium_memzero(t->refresh, sizeof(t->refresh));
		/* NOT_FOUND: the account changed since the lookup. */
		if (st == STORE_NOT_FOUND)
			token_login_refused(t, 400, BAD_LOGIN, 0);
		else {
			token_call_free(t);
			reply_db_failed(r, st, "mfa token");
		}
		return;
	}
	addr_limit_forgive(t->f, t->f->addr_limit, ADDR_LIMIT_LOGIN,
	    r->remote);
	t->ops->mfa(t);
}

/* The password was right and the user has a second factor: hand out an
 * mfa_token (kept in t->refresh, a token of the same shape). */
static void
mfa_required(struct token_call *t)
{
	struct http_req *r = t->r;
	struct mfa_token_new n;

	if (secret_token_new(t->refresh, t->refresh_hash) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	n.hash = t->refresh_hash;
	n.user_id = t->user.id;
	n.token_version = t->user.token_version;
	n.device = t->trusted ? t->req.device_hash : NULL;
	n.stored = t->stored;
	n.rehash = t->rehash[0] != '\0' ? t->rehash : NULL;
	if (mfa_token_create(t->f->db, &n, mfa_token_written, t) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

/* Records a failed login (users_login_failed(): the count and lock of
 * the client's record, its trusted device's or else the account's, when
 * the password was wrong; the audit always). */
static void
record_failure(struct token_call *t, bool wrong_password, const char *reason)
{
	struct http_req *r = t->r;
	const struct cfg *cfg = t->f->cfg;
	struct users_failure uf;

	/* The address was charged when the attempt began (token_login_begin). */
	uf.id = t->found ? t->user.id : NULL;
	uf.counts = wrong_password;
	uf.max_failures = cfg->login_max_failures;
	uf.lockout_max = cfg->login_lockout_max;
	uf.remote = r->remote;
	uf.reason = reason;
	uf.device = t->trusted ? t->req.device_hash : NULL;
	if (users_login_failed(t->f->db, &uf, failure_written, t) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

void
token_login_refuse(struct token_call *t, bool counts, const char *reason,
    const char *why)
{
	t->refusal = why;
	record_failure(t, counts, reason);
}

void
token_login_finish(struct token_call *t)
{
	if (t->ops->tokens)
		token_sign(t, login_signed);
	else if (reply_too_late(t->r, "the login's write")) {
		struct http_req *r = t->r;

		token_call_free(t);
		http_req_abandon(r);
	} else
		login_record(t);
}

static void
login_verified(enum hc_status st, bool match, const char *rehash, void *arg)
{
	struct token_call *t = arg;
	struct http_req *r = t->r;

	hshare_give(&t->f->hasher_share, &t->slot);
	if (st != HC_OK) {
		token_call_free(t);
		reply_hasher_failed(r, st);
		return;
	}
	/* A locked account counts as failed whatever the password: a public
	 * counter must not tell a right guess, nor the lock itself.  Nor
	 * does a guess against a lock count toward it: the lock ends
	 * login_lockout_max after the last failure it counted at most. */
	if (!t->found || !match || !t->user.is_active || t->locked)
		metrics_login(t->f->metrics, METRICS_LOGIN_FAILED);
	if (!t->found)
		record_failure(t, false, "unknown_user");
	else if (t->locked)
		record_failure(t, false, "locked");
	else if (!match)
		record_failure(t, true, "wrong_password");
	else if (!t->user.is_active)
		record_failure(t, false, "disabled");
	else if (!t->user.email_verified && t->f->cfg->email_verification ==
	    CFG_EMAIL_VERIFICATION_REQUIRED) {
		/* Told only to whom knows the password; a new link goes
		 * out (within mail_rate), as the old one may be lost. */
		metrics_login(t->f->metrics, METRICS_LOGIN_FAILED);
		t->refusal = "e-mail address not verified";
		t->resend = mail_link_mail_on(t->f->cfg);
		record_failure(t, false, "email_not_verified");
	} else {
		str_copy(t->rehash, rehash, sizeof(t->rehash));
		if (t->user.totp)
			mfa_required(t);
		else
			token_login_finish(t);
	}
}

/*
 * True when attempts already running for this account could use up what
 * is left before the lock.  Failures are recorded only after the hash, so
 * without this a burst sent at once would all be verified; such an
 * attempt is answered as if the account were locked.  An attempt with
 * none running beside it is never held back (the lock decides).
 */
static bool
account_allowance_spent(struct token_call *t, unsigned int failed)
{
	unsigned int running;

	running = rl_failures(t->f->account_inflight, t->inflight_key,
	    time(NULL));
	if (running == 0)
		return false;
	return (unsigned long long)failed + running >=
	    t->f->cfg->login_max_failures;
}

static void
login_user_loaded(enum store_status st, const struct users_login *l,
    void *arg)
{
	struct token_call *t = arg;
	struct http_req *r = t->r;
	enum hc_status why;

	if (st != STORE_OK && st != STORE_NOT_FOUND) {
		token_call_free(t);
		reply_db_failed(r, st, "login lookup");
		return;
	}
	/* Answered 503 while the lookup waited: no hash, no count. */
	if (reply_too_late(r, "verifying")) {
		token_call_free(t);
		http_req_abandon(r);
		return;
	}
	if (st == STORE_OK) {
		t->user = l->user;
		str_copy(t->stored, l->stored, sizeof(t->stored));
		t->found = true;
		t->trusted = l->trusted;
		/* A trusted device's logins run on an allowance of their own,
		 * as its failures count on a record of their own. */
		if (t->trusted)
			str_printf(t->inflight_key, sizeof(t->inflight_key),
			    "%s.%.16s", t->user.id, t->req.device_hash + 2);
		else
			str_copy(t->inflight_key, t->user.id,
			    sizeof(t->inflight_key));
		t->locked = l->locked ||
		    account_allowance_spent(t, l->failed_logins);
		rl_fail(t->f->account_inflight, t->inflight_key, time(NULL));
		t->inflight = true;
	}
	if (!hshare_take(&t->f->hasher_share, &t->slot, r->remote,
	    hshare_limit(t->f->cfg->hasher_queue))) {
		/* Nothing was tried: the address is not charged for it. */
		metrics_login(t->f->metrics, METRICS_LOGIN_RATE_LIMITED);
		addr_limit_forgive(t->f, t->f->addr_limit, ADDR_LIMIT_LOGIN,
	    r->remote);
		token_login_refused(t, 429, "too many logins from this "
		    "address at once: try again", 1);
		return;
	}
	/* An unknown user costs a dummy verification all the same. */
	if (hc_verify(t->f->hc, t->found ? t->user.id : NOBODY_ID,
	    t->req.password, t->req.pwlen, t->found ? t->stored : "",
	    login_verified, t, &why) == NULL) {
		token_call_free(t);
		reply_hasher_failed(r, why);
	}
}

static void
login_charged(enum addr_verdict v, unsigned int retry, void *arg)
{
	struct token_call *t = arg;
	struct http_req *r = t->r;
	char	 cookie[SECRET_TOKEN_LEN + 1];

	if (v == ADDR_BLOCKED) {
		metrics_login(t->f->metrics, METRICS_LOGIN_RATE_LIMITED);
		token_login_refused(t, 429, "too many failed logins from "
		    "this address: try again later", retry);
		return;
	}
	if (v != ADDR_PASS) {
		token_call_free(t);
		addr_limit_refuse(r, v, retry, NULL);
		return;
	}
	/* Answered 503 while the count waited: nothing was tried. */
	if (reply_too_late(r, "the address's count")) {
		addr_limit_forgive(t->f, t->f->addr_limit, ADDR_LIMIT_LOGIN,
		    r->remote);
		token_call_free(t);
		http_req_abandon(r);
		return;
	}
	/* The parameter first, else the browser's cookie. */
	if (device_cookie_get(http_req_header(r, "Cookie"), DEVICE_COOKIE,
	    cookie, sizeof(cookie)) == 0)
		device_keep(&t->req, cookie);
	sodium_memzero(cookie, sizeof(cookie));
	t->begun(t);
}

void
token_login_begin(struct token_call *t, void (*begun)(struct token_call *))
{
	/* Charged now, in the count all hosts share, and forgiven on
	 * success: logins sent in parallel, to one host or to several,
	 * cannot all pass before any of them has failed. */
	t->begun = begun;
	addr_limit_charge(t->f, t->f->addr_limit, ADDR_LIMIT_LOGIN,
	    t->r->remote, login_charged, t);
}

static void
password_login_begun(struct token_call *t)
{
	struct http_req *r = t->r;
	const struct cfg *cfg = t->f->cfg;
	struct users_login_query q;

	q.login = t->req.username;
	q.device = t->req.device_hash[0] != '\0' ? t->req.device_hash : NULL;
	q.device_ttl = cfg->login_device_ttl;
	q.lockout_max = cfg->login_lockout_max;
	if (users_find_login(t->f->db, &q, login_user_loaded, t) == -1) {
		token_call_free(t);
		problem_reply(r, PROBLEM_INTERNAL, NULL);
	}
}

void
token_password_login(struct token_call *t)
{
	token_login_begin(t, password_login_begun);
}

/* ---- the token endpoint's answers (token_login_ops) ---- */

static void
endpoint_done(struct token_call *t)
{
	token_reply(t);
}

static void
endpoint_mfa(struct token_call *t)
{
	struct http_req *r = t->r;
	cJSON	*o;

	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "error", "mfa_required") == NULL ||
	    cJSON_AddStringToObject(o, "error_description", "a second factor "
	    "is required: use grant_type " TOKEN_GRANT_MFA_URN " with this "
	    "mfa_token and an otp or a recovery_code") == NULL ||
	    cJSON_AddStringToObject(o, "mfa_token", t->refresh) == NULL) {
		cJSON_Delete(o);
		o = NULL;
	}
	token_call_free(t);
	if (o == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	http_no_store(r, true);
	http_reply_json(r, 403, o);
}

static void
endpoint_refused(struct token_call *t, int status, const char *why,
    unsigned int retry)
{
	struct http_req *r = t->r;

	token_call_free(t);
	problem_oauth(r, status == 429 ? OAUTH_TOO_MANY_REQUESTS :
	    OAUTH_INVALID_GRANT, why, retry);
}

const struct token_login_ops token_endpoint_ops = {
	.tokens = true,
	.device_cookie_path = DEVICE_COOKIE_PATH,
	.done = endpoint_done,
	.mfa = endpoint_mfa,
	.refused = endpoint_refused,
	.ctx_free = NULL,
};

void
h_token(struct http_req *r)
{
	struct front *f = caller_of(r)->front;
	struct token_call *t;
	int	 rc;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		problem_reply(r, PROBLEM_INTERNAL, NULL);
		return;
	}
	t->r = r;
	t->f = f;
	t->ops = &token_endpoint_ops;
	if (body_is_form(r))
		rc = parse_form(r, &t->req);
	else if (body_is_json(r))
		rc = parse_json(r, &t->req, f->cfg->json_max_depth);
	else {
		problem_oauth_media_type(r, "the body must be "
		    "application/x-www-form-urlencoded or application/json");
		rc = -1;
	}
	if (rc == -1) {
		token_call_free(t);
		return;
	}
	if (t->req.grant == TOKEN_GRANT_PASSWORD)
		token_password_login(t);
	else if (t->req.grant == TOKEN_GRANT_MFA)
		mfa_grant(t);
	else
		refresh_grant(t);
}

/* ---- RFC 7009 revocation ---- */

/* 200 (RFC 7009 2.2), with an empty JSON object rather than no body: some
 * clients parse every answer of the endpoint as JSON. */
static void
revoke_answer(struct http_req *r)
{
	http_no_store(r, true);
	http_reply_raw(r, 200, "application/json", "{}", 2);
}

static void
revoked(enum store_status st, void *arg)
{
	struct http_req *r = arg;

	if (st != STORE_OK) {
		reply_db_failed(r, st, "revoke");
		return;
	}
	revoke_answer(r);
}

/*
 * POST /api/v1/auth/revoke (RFC 7009): form-encoded only (2.1).  Unknown
 * parameters are ignored (RFC 6749 3.2), the client's go to
 * client_auth.h, and a token that is unknown, malformed or an access
 * token answers 200 like a revoked one (2.2).
 */
void
h_revoke(struct http_req *r)
{
	struct front *f = caller_of(r)->front;
	char	 why[FORM_WHY_MAX], hash[SECRET_TOKEN_HASH_LITERAL];
	const char *token = NULL;
	struct client_claim cc;
	struct form fm;
	int	 rc;

	if (!body_is_form(r)) {
		problem_oauth_media_type(r, "the body must be "
		    "application/x-www-form-urlencoded");
		return;
	}
	rc = form_parse(&fm, r->body, r->body_len, why, sizeof(why));
	if (rc == 0 && (token = form_get(&fm, "token")) == NULL) {
		str_copy(why, "token is required", sizeof(why));
		rc = -1;
	}
	if (rc != 0) {
		form_free(&fm);
		if (rc == -2)
			problem_reply(r, PROBLEM_INTERNAL, NULL);
		else
			problem_oauth(r, OAUTH_INVALID_REQUEST, why, 0);
		return;
	}
	cc.client_id = form_get(&fm, "client_id");
	cc.has_secret = form_get(&fm, "client_secret") != NULL;
	if (client_auth_check(r, f->cfg, &cc) == -1) {
		form_free(&fm);
		return;
	}
	if (secret_token_hash(token, strlen(token), hash) == -1) {
		form_free(&fm);
		revoke_answer(r);
		return;
	}
	form_free(&fm);
	if (tokens_revoke(f->db, hash, r->remote, revoked, r) == -1)
		problem_reply(r, PROBLEM_INTERNAL, NULL);
}
