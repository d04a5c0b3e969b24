/*
 * hasher/jwt_sign.c: the token's exact header, its claims and their
 * clamping, the signature (checked here with libsodium and independently
 * with PyJWT), and the refusal of every request field that breaks its rule;
 * a client's access token (aud, client_id, scope); ID tokens, RS256
 * checked with OpenSSL from the published n and e alone, EdDSA with
 * libsodium, their claims compared byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "jwt_sign.h"
#include "b64url.h"
#include "fields.h"

#define SUB	"0b6f9e52-6a3c-4d7e-9a51-2f1c3b4d5e6f"
#define ISS	"https://auth.example.com"
#define AUD	"https://api.example.com"
#define CLIENT_ID	"spa-client"
#define NOW	((time_t)1795000000)	/* 2026-11 */
#define MAX_TTL	900U
#define PYTHON	"/usr/bin/python3"

extern char **environ;

static const struct jwt_sign_params params = {
	.issuer = ISS, .audience = AUD, .client_id = CLIENT_ID, .max_ttl = MAX_TTL,
};
static char		keydir[64];
static struct keyset	ks;		/* two generations */
static struct keyset	ks_old;		/* the first alone */

static int
group_setup(void **state)
{
	char err[512];

	snprintf(keydir, sizeof(keydir), "/tmp/warden-jwt-XXXXXX");
	if (mkdtemp(keydir) == NULL ||
	    keys_generate(keydir, err, sizeof(err)) == -1 ||
	    keys_load(&ks_old, keydir, err, sizeof(err)) == -1 ||
	    keys_generate(keydir, err, sizeof(err)) == -1 ||
	    keys_load(&ks, keydir, err, sizeof(err)) == -1) {
		fprintf(stderr, "key set-up: %s\n", err);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[PATH_MAX];

	keys_free(&ks);
	keys_free(&ks_old);
	if ((d = opendir(keydir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' && (size_t)snprintf(path,
			    sizeof(path), "%s/%s", keydir, de->d_name) <
			    sizeof(path))
				unlink(path);
		closedir(d);
	}
	rmdir(keydir);
	return 0;
}

static void
req_init(struct proto_sign_req *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->sub, sizeof(r->sub), "%s", SUB);
	snprintf(r->username, sizeof(r->username), "%s", "alice.l-1_x");
	snprintf(r->roles[0], sizeof(r->roles[0]), "%s", "admin");
	snprintf(r->roles[1], sizeof(r->roles[1]), "%s", "billing_ro");
	r->nroles = 2;
	r->ver = 7;
	r->ttl = 300;
}

/* The three dot-separated parts of a JWT, each a pointer and a length. */
struct parts {
	const char	*p[3];
	size_t		 len[3];
};

static void
split(const char *jwt, struct parts *out)
{
	const char	*d1 = strchr(jwt, '.'), *d2;

	assert_non_null(d1);
	d2 = strchr(d1 + 1, '.');
	assert_non_null(d2);
	assert_null(strchr(d2 + 1, '.'));
	out->p[0] = jwt;
	out->len[0] = (size_t)(d1 - jwt);
	out->p[1] = d1 + 1;
	out->len[1] = (size_t)(d2 - d1 - 1);
	out->p[2] = d2 + 1;
	out->len[2] = strlen(d2 + 1);
}

/* Decodes part i to a NUL-terminated string in out. */
static void
decode_part(const struct parts *pt, int i, char *out, size_t outlen)
{
	ssize_t n = b64url_decode((uint8_t *)out, outlen - 1, pt->p[i],
	    pt->len[i]);

	assert_true(n >= 0);
	out[n] = '\0';
}

static void
sign_ok(const struct proto_sign_req *r, time_t now, struct proto_sign_ans *a)
{
	char err[256] = "";

	if (jwt_sign(&ks, &params, r, now, a, err, sizeof(err)) != 0)
		fail_msg("jwt_sign: %s", err);
	assert_string_equal(err, "");
	assert_true(strlen(a->jwt) <= PROTO_JWT_MAX);
}

static cJSON *
claims_of(const struct proto_sign_ans *a)
{
	struct parts	 pt;
	char		 json[PROTO_JWT_MAX];
	cJSON		*c;

	split(a->jwt, &pt);
	decode_part(&pt, 1, json, sizeof(json));
	assert_non_null(c = cJSON_Parse(json));
	return c;
}

static double
num_claim(const cJSON *c, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static const char *
str_claim(const cJSON *c, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static void
test_three_parts_and_header(void **state)
{
	struct proto_sign_req	 r;
	struct proto_sign_ans	 a;
	struct parts		 pt;
	char			 hdr[256], want[256];
	size_t			 i;

	req_init(&r);
	sign_ok(&r, NOW, &a);
	split(a.jwt, &pt);
	for (i = 0; i < 3; i++)
		assert_true(pt.len[i] > 0);
	/* base64url without padding: no '=', '+' or '/' anywhere */
	assert_int_equal(strspn(a.jwt, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
	    "opqrstuvwxyz0123456789-_."), strlen(a.jwt));

	decode_part(&pt, 0, hdr, sizeof(hdr));
	snprintf(want, sizeof(want),
	    "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}",
	    keys_sign_current(&ks)->kid);
	assert_string_equal(hdr, want);
	assert_int_equal(pt.len[2], 86);	/* 64 bytes */
}

static void
test_claims(void **state)
{
	struct proto_sign_req	 r;
	struct proto_sign_ans	 a, b;
	cJSON			*c, *roles, *item;
	int			 n = 0;

	req_init(&r);
	sign_ok(&r, NOW, &a);
	assert_non_null(c = claims_of(&a));
	assert_string_equal(str_claim(c, "iss"), ISS);
	assert_string_equal(str_claim(c, "aud"), AUD);
	assert_string_equal(str_claim(c, "sub"), SUB);
	/* RFC 9068 2.2: the client the token was issued to. */
	assert_string_equal(str_claim(c, "client_id"), CLIENT_ID);
	assert_string_equal(str_claim(c, "username"), "alice.l-1_x");
	assert_string_equal(str_claim(c, "jti"), a.jti);
	assert_true(field_is_uuid(a.jti));
	assert_true(num_claim(c, "iat") == (double)NOW);
	assert_true(num_claim(c, "exp") == (double)(NOW + 300));
	assert_int_equal(a.exp, (uint32_t)(NOW + 300));
	assert_true(num_claim(c, "ver") == 7.0);
	/* The front's word on the address, as a boolean (OIDC Core 5.1). */
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c,
	    "email_verified")));
	roles = cJSON_GetObjectItemCaseSensitive(c, "roles");
	assert_true(cJSON_IsArray(roles));
	assert_int_equal(cJSON_GetArraySize(roles), 2);
	assert_string_equal(cJSON_GetArrayItem(roles, 0)->valuestring, "admin");
	assert_string_equal(cJSON_GetArrayItem(roles, 1)->valuestring,
	    "billing_ro");
	cJSON_ArrayForEach(item, c)
		n++;
	assert_int_equal(n, 11);		/* nothing else */
	cJSON_Delete(c);

	/* no roles: an empty array; a ver past 2^31 prints exactly */
	r.nroles = 0;
	r.ver = UINT32_MAX;
	sign_ok(&r, NOW, &b);
	assert_string_not_equal(a.jti, b.jti);
	assert_non_null(c = claims_of(&b));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c,
	    "roles")), 0);
	assert_true(num_claim(c, "ver") == 4294967295.0);
	cJSON_Delete(c);
}

static void
test_exp_clamped(void **state)
{
	static const struct {
		uint32_t ask, want;
	} cases[] = {
		{ 0, MAX_TTL }, { 1, 1 }, { 60, 60 }, { MAX_TTL, MAX_TTL },
		{ MAX_TTL + 1, MAX_TTL }, { 86400, MAX_TTL },
		{ UINT32_MAX, MAX_TTL },
	};
	struct proto_sign_req	 r;
	struct proto_sign_ans	 a;
	cJSON			*c;
	size_t			 i;

	req_init(&r);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r.ttl = cases[i].ask;
		sign_ok(&r, NOW, &a);
		assert_int_equal(a.exp, (uint32_t)NOW + cases[i].want);
		assert_non_null(c = claims_of(&a));
		assert_true(num_claim(c, "exp") == (double)(NOW + cases[i].want));
		cJSON_Delete(c);
	}
}

static void
test_signature_verifies(void **state)
{
	struct proto_sign_req	 r;
	struct proto_sign_ans	 a;
	struct parts		 pt;
	uint8_t			 sig[64];
	size_t			 signed_len;

	req_init(&r);
	sign_ok(&r, NOW, &a);
	split(a.jwt, &pt);
	assert_int_equal(b64url_decode(sig, sizeof(sig), pt.p[2], pt.len[2]),
	    64);
	signed_len = pt.len[0] + 1 + pt.len[1];
	assert_int_equal(crypto_sign_verify_detached(sig,
	    (const uint8_t *)a.jwt, signed_len, keys_sign_current(&ks)->pk), 0);
	/* not by the retired key, and not over anything else */
	assert_int_equal(crypto_sign_verify_detached(sig,
	    (const uint8_t *)a.jwt, signed_len, keys_sign_current(&ks_old)->pk),
	    -1);
	a.jwt[pt.len[0] + 3] ^= 1;
	assert_int_equal(crypto_sign_verify_detached(sig,
	    (const uint8_t *)a.jwt, signed_len, keys_sign_current(&ks)->pk), -1);

	/* the old key set still signs with its own (current) key */
	{
		char err[128];

		assert_int_equal(jwt_sign(&ks_old, &params, &r, NOW, &a, err,
		    sizeof(err)), 0);
		split(a.jwt, &pt);
		assert_int_equal(b64url_decode(sig, sizeof(sig), pt.p[2],
		    pt.len[2]), 64);
		assert_int_equal(crypto_sign_verify_detached(sig,
		    (const uint8_t *)a.jwt, pt.len[0] + 1 + pt.len[1],
		    keys_sign_current(&ks_old)->pk), 0);
	}
}

/* Runs the PyJWT verifier with fixed arguments and returns its exit
 * status; a missing interpreter, module or script fails the test. */
static int
pyjwt_verify(const char *jwt, const uint8_t pk[32], const char *aud,
    const char *iss)
{
	char	 script[PATH_MAX], pkb64[64];
	char	*argv[7];
	pid_t	 pid;
	int	 status, rc;

	/* __FILE__ is tests/unit/test_jwt_sign.c: tests run from the top. */
	assert_true((size_t)snprintf(script, sizeof(script), "%.*s/%s",
	    (int)(strrchr(__FILE__, '/') - __FILE__), __FILE__,
	    "jwt_verify_pyjwt.py") < sizeof(script));
	if (access(PYTHON, X_OK) != 0)
		fail_msg("%s is missing: the PyJWT check needs python3, "
		    "python3-jwt and python3-cryptography (scripts/deps check)",
		    PYTHON);
	if (access(script, R_OK) != 0)
		fail_msg("%s: %s (run the tests from the top of the tree)",
		    script, strerror(errno));
	assert_true(b64url_encode(pkb64, sizeof(pkb64), pk, 32) == 43);
	argv[0] = (char *)"python3";
	argv[1] = script;
	argv[2] = (char *)jwt;
	argv[3] = pkb64;
	argv[4] = (char *)aud;
	argv[5] = (char *)iss;
	argv[6] = NULL;
	rc = posix_spawn(&pid, PYTHON, NULL, NULL, argv, environ);
	if (rc != 0)
		fail_msg("posix_spawn %s: %s", PYTHON, strerror(rc));
	while (waitpid(pid, &status, 0) == -1)
		assert_int_equal(errno, EINTR);
	if (!WIFEXITED(status))
		fail_msg("the PyJWT verifier died (status %d)", status);
	if (WEXITSTATUS(status) == 2)
		fail_msg("the PyJWT verifier could not run: python3-jwt and "
		    "python3-cryptography are needed (scripts/deps check)");
	return WEXITSTATUS(status);
}

static void
test_pyjwt_verifies(void **state)
{
	struct proto_sign_req	 r;
	struct proto_sign_ans	 a;
	struct parts		 pt;
	const uint8_t		*pk = keys_sign_current(&ks)->pk;
	size_t			 mid;
	char			 bad[PROTO_JWT_MAX + 1];

	req_init(&r);
	/* PyJWT checks exp and iat against its own clock */
	sign_ok(&r, time(NULL), &a);
	assert_int_equal(pyjwt_verify(a.jwt, pk, AUD, ISS), 0);

	/* one payload byte flipped */
	split(a.jwt, &pt);
	mid = (size_t)(pt.p[1] - a.jwt) + pt.len[1] / 2;
	memcpy(bad, a.jwt, sizeof(bad));
	bad[mid] = bad[mid] == 'A' ? 'B' : 'A';
	assert_int_equal(pyjwt_verify(bad, pk, AUD, ISS), 1);

	/* another key, another audience */
	assert_int_equal(pyjwt_verify(a.jwt, keys_sign_current(&ks_old)->pk,
	    AUD, ISS), 1);
	assert_int_equal(pyjwt_verify(a.jwt, pk, "https://other.example", ISS),
	    1);
}

/* jwt_sign must refuse r, say why, and leave nothing in a. */
static void
sign_refused(const struct proto_sign_req *r, const char *why)
{
	struct proto_sign_ans	a;
	char			err[256] = "";
	static const uint8_t	zero[sizeof(a)];

	memset(&a, 'x', sizeof(a));
	if (jwt_sign(&ks, &params, r, NOW, &a, err, sizeof(err)) != -1)
		fail_msg("signed sub \"%.*s\" username \"%.*s\" (%s)",
		    (int)sizeof(r->sub), r->sub, (int)sizeof(r->username),
		    r->username, why);
	if (strstr(err, why) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, why);
	assert_memory_equal(&a, zero, sizeof(a));
}

static void
test_rejects_bad_fields(void **state)
{
	static const char *bad_subs[] = {
		"", "0B6F9E52-6A3C-4D7E-9A51-2F1C3B4D5E6F",
		"0b6f9e52-6a3c-4d7e-9a51-2f1c3b4d5e6",
		"0b6f9e526a3c4d7e9a512f1c3b4d5e6f",
		"0b6f9e52-6a3c-4d7e-9a51-2f1c3b4d5e6g",
		"{0b6f9e52-6a3c-4d7e-9a51-2f1c3b4d5e6}",
	};
	static const char *bad_names[] = {
		"", "ab", "-alice", ".alice", "al ice", "alice\"", "alice\\",
		"ali\xc3\xa9", "alice\n",
	};
	static const char *bad_roles[] = {
		"", "Admin", "a b", "role\"", "r\xc3\xb4le", "a.b", "a\n",
	};
	struct proto_sign_req	r;
	size_t			i;

	for (i = 0; i < sizeof(bad_subs) / sizeof(bad_subs[0]); i++) {
		req_init(&r);
		snprintf(r.sub, sizeof(r.sub), "%s", bad_subs[i]);
		sign_refused(&r, "sub");
	}
	req_init(&r);
	memset(r.sub, 'a', sizeof(r.sub));	/* no NUL in the field */
	sign_refused(&r, "sub");

	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		req_init(&r);
		snprintf(r.username, sizeof(r.username), "%s", bad_names[i]);
		sign_refused(&r, "username");
	}
	/* 33 characters: only a field without its NUL can hold them */
	req_init(&r);
	memset(r.username, 'a', sizeof(r.username));
	sign_refused(&r, "username");

	for (i = 0; i < sizeof(bad_roles) / sizeof(bad_roles[0]); i++) {
		req_init(&r);
		snprintf(r.roles[1], sizeof(r.roles[1]), "%s", bad_roles[i]);
		sign_refused(&r, "role 1");
	}
	req_init(&r);
	memset(r.roles[0], 'a', sizeof(r.roles[0]));
	sign_refused(&r, "role 0");

	/* duplicates, adjacent or not */
	req_init(&r);
	snprintf(r.roles[1], sizeof(r.roles[1]), "%s", "admin");
	sign_refused(&r, "repeats");
	req_init(&r);
	snprintf(r.roles[2], sizeof(r.roles[2]), "%s", "ops");
	snprintf(r.roles[3], sizeof(r.roles[3]), "%s", "billing_ro");
	r.nroles = 4;
	sign_refused(&r, "role 3 repeats role 1");

	/* too many */
	req_init(&r);
	for (i = 0; i < PROTO_ROLES_MAX; i++)
		snprintf(r.roles[i], sizeof(r.roles[i]), "r%zu", i);
	r.nroles = PROTO_ROLES_MAX + 1;
	sign_refused(&r, "more than 32 roles");
	r.nroles = (size_t)-1;
	sign_refused(&r, "more than 32 roles");
}

static void
test_largest_request_fits(void **state)
{
	struct proto_sign_req	 r;
	struct proto_sign_ans	 a;
	cJSON			*c;
	size_t			 i;

	req_init(&r);
	memset(r.username, 'u', PROTO_USERNAME_MAX);
	r.username[PROTO_USERNAME_MAX] = '\0';
	for (i = 0; i < PROTO_ROLES_MAX; i++) {
		memset(r.roles[i], 'a', PROTO_ROLE_MAX);
		snprintf(r.roles[i] + PROTO_ROLE_MAX - 2, 3, "%02zu", i);
	}
	r.nroles = PROTO_ROLES_MAX;
	r.ver = UINT32_MAX;
	sign_ok(&r, NOW, &a);
	assert_non_null(c = claims_of(&a));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c,
	    "roles")), PROTO_ROLES_MAX);
	cJSON_Delete(c);
}

static void
test_too_long_fails_cleanly(void **state)
{
	struct jwt_sign_params	 p = params;
	struct proto_sign_req	 r;
	struct proto_sign_ans	 a;
	static const uint8_t	 zero[sizeof(a)];
	char			 iss[3100], err[256];
	size_t			 n;

	req_init(&r);
	/* around the bound, one character at a time: either it fits and
	 * verifies, or it fails with nothing left behind */
	for (n = 2900; n < sizeof(iss); n += 7) {
		memset(iss, 'i', n);
		iss[n] = '\0';
		p.issuer = iss;
		memset(&a, 'x', sizeof(a));
		if (jwt_sign(&ks, &p, &r, NOW, &a, err, sizeof(err)) == 0) {
			assert_true(strlen(a.jwt) <= PROTO_JWT_MAX);
			continue;
		}
		assert_non_null(strstr(err, "longer than 4096"));
		assert_memory_equal(&a, zero, sizeof(a));
	}
	/* and the longest surely fails */
	assert_int_equal(jwt_sign(&ks, &p, &r, NOW, &a, err, sizeof(err)), -1);
}

static void
test_bad_params(void **state)
{
	struct jwt_sign_params	 p;
	struct proto_sign_req	 r;
	struct proto_sign_ans	 a;
	struct keyset		 empty;
	char			 err[256];

	req_init(&r);
	p = params;
	p.max_ttl = 0;
	assert_int_equal(jwt_sign(&ks, &p, &r, NOW, &a, err, sizeof(err)), -1);
	p = params;
	p.issuer = "";
	assert_int_equal(jwt_sign(&ks, &p, &r, NOW, &a, err, sizeof(err)), -1);
	p = params;
	p.audience = NULL;
	assert_int_equal(jwt_sign(&ks, &p, &r, NOW, &a, err, sizeof(err)), -1);

	memset(&empty, 0, sizeof(empty));
	assert_int_equal(jwt_sign(&empty, &params, &r, NOW, &a, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no current signing key"));

	/* exp must fit the answer's uint32 */
	assert_int_equal(jwt_sign(&ks, &params, &r, (time_t)UINT32_MAX - 100,
	    &a, err, sizeof(err)), -1);
	assert_int_equal(jwt_sign(&ks, &params, &r, (time_t)-1, &a, err,
	    sizeof(err)), -1);
	r.ttl = 100;
	assert_int_equal(jwt_sign(&ks, &params, &r, (time_t)UINT32_MAX - 100,
	    &a, err, sizeof(err)), 0);
	assert_int_equal(a.exp, UINT32_MAX);
}

/* ---- a client's access token ---- */

static void
claims_text(const char *jwt, char *out, size_t outlen)
{
	struct parts pt;

	split(jwt, &pt);
	decode_part(&pt, 1, out, outlen);
}

static void
test_client_access_token(void **state)
{
	struct proto_sign_req	 r;
	struct proto_sign_ans	 a;
	char			 got[PROTO_JWT_MAX], want[1024], err[256];

	/* without aud: exactly the claims of before */
	req_init(&r);
	sign_ok(&r, NOW, &a);
	claims_text(a.jwt, got, sizeof(got));
	snprintf(want, sizeof(want), "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
	    "\",\"sub\":\"" SUB "\",\"client_id\":\"" CLIENT_ID "\","
	    "\"iat\":1795000000,\"exp\":1795000300,\"jti\":\"%s\","
	    "\"username\":\"alice.l-1_x\",\"roles\":[\"admin\","
	    "\"billing_ro\"],\"ver\":7,\"email_verified\":false}", a.jti);
	assert_string_equal(got, want);

	/* a client's: aud and client_id are the client, scope follows; no
	 * username, roles or email_verified (userinfo answers by scope) */
	snprintf(r.aud, sizeof(r.aud), "%s", "rp-1");
	snprintf(r.scope, sizeof(r.scope), "%s", "openid profile email");
	sign_ok(&r, NOW, &a);
	claims_text(a.jwt, got, sizeof(got));
	snprintf(want, sizeof(want), "{\"iss\":\"" ISS "\",\"aud\":\"rp-1\","
	    "\"sub\":\"" SUB "\",\"client_id\":\"rp-1\",\"scope\":\"openid "
	    "profile email\",\"iat\":1795000000,\"exp\":1795000300,"
	    "\"jti\":\"%s\",\"ver\":7}", a.jti);
	assert_string_equal(got, want);

	/* bad aud or scope: refused */
	snprintf(r.aud, sizeof(r.aud), "%s", "rp 1");
	assert_int_equal(jwt_sign(&ks, &params, &r, NOW, &a, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "aud"));
	snprintf(r.aud, sizeof(r.aud), "%s", "rp-1");
	snprintf(r.scope, sizeof(r.scope), "%s", "openid  profile");
	assert_int_equal(jwt_sign(&ks, &params, &r, NOW, &a, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "scope"));
	snprintf(r.scope, sizeof(r.scope), "%s", "openid\"");
	assert_int_equal(jwt_sign(&ks, &params, &r, NOW, &a, err,
	    sizeof(err)), -1);
	assert_string_equal(a.jwt, "");
}

/* ---- ID tokens ---- */

#define ATOKEN	"eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln"

static void
id_init(struct proto_sign_id_req *r, uint8_t alg)
{
	memset(r, 0, sizeof(*r));
	r->alg = alg;
	snprintf(r->sub, sizeof(r->sub), "%s", SUB);
	snprintf(r->aud, sizeof(r->aud), "%s", "rp-1");
	snprintf(r->nonce, sizeof(r->nonce), "%s", "n-0S6_WzA2Mj <x>");
	r->auth_time = (uint32_t)NOW - 60;
	r->namr = 2;
	snprintf(r->amr[0], sizeof(r->amr[0]), "%s", "pwd");
	snprintf(r->amr[1], sizeof(r->amr[1]), "%s", "otp");
	snprintf(r->acr, sizeof(r->acr), "%s", "urn:warden:mfa");
	r->ttl = 300;
	snprintf(r->sid, sizeof(r->sid), "%s", "sess-1");
	snprintf(r->preferred_username, sizeof(r->preferred_username), "%s",
	    "alice");
	snprintf(r->name, sizeof(r->name), "%s", "Alice \xc3\x89lise");
	snprintf(r->email, sizeof(r->email), "%s", "alice@example.org");
	r->email_verified = true;
	r->roles_claim = true;
	r->nroles = 1;
	snprintf(r->roles[0], sizeof(r->roles[0]), "%s", "admin");
	snprintf(r->access_token, sizeof(r->access_token), "%s", ATOKEN);
}

static void
id_ok(const struct keyset *k, const struct proto_sign_id_req *r,
    struct proto_sign_id_ans *a)
{
	char		 err[256] = "";
	const char	*kid = NULL;

	if (jwt_sign_id(k, &params, r, NOW, a, &kid, err, sizeof(err)) != 0)
		fail_msg("jwt_sign_id: %s", err);
	assert_non_null(kid);
	assert_true(strlen(a->jwt) <= PROTO_JWT_MAX);
}

/* base64url of the left half of SHA-256 or SHA-512 of s. */
static void
half_hash(bool sha256, const char *s, char *out, size_t outlen)
{
	uint8_t d[crypto_hash_sha512_BYTES];
	size_t n;

	if (sha256) {
		crypto_hash_sha256(d, (const uint8_t *)s, strlen(s));
		n = 16;
	} else {
		crypto_hash_sha512(d, (const uint8_t *)s, strlen(s));
		n = 32;
	}
	assert_true(b64url_encode(out, outlen, d, n) > 0);
}

/* An OpenSSL public key from the published modulus and exponent. */
static EVP_PKEY *
rsa_from_public(const struct rsa_key *k)
{
	OSSL_PARAM_BLD	*bld;
	OSSL_PARAM	*prm;
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pk = NULL;
	BIGNUM		*n, *e;

	assert_non_null(n = BN_bin2bn(k->n, PROTO_RSA_N_LEN, NULL));
	assert_non_null(e = BN_bin2bn(k->e, (int)k->e_len, NULL));
	assert_non_null(bld = OSSL_PARAM_BLD_new());
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n));
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e));
	assert_non_null(prm = OSSL_PARAM_BLD_to_param(bld));
	assert_non_null(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL));
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, prm),
	    1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(prm);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pk;
}

static bool
rs256_verifies(const struct rsa_key *k, const char *jwt)
{
	struct parts	 pt;
	uint8_t		 sig[PROTO_RSA_N_LEN + 2];
	ssize_t		 n;
	EVP_PKEY	*pk = rsa_from_public(k);
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	bool		 ok;

	split(jwt, &pt);
	n = b64url_decode(sig, sizeof(sig), pt.p[2], pt.len[2]);
	ok = n == PROTO_RSA_N_LEN &&
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestVerify(ctx, sig, (size_t)n, (const uint8_t *)jwt,
	    (size_t)(pt.p[2] - 1 - jwt)) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return ok;
}

static void
test_id_token_rs256(void **state)
{
	struct proto_sign_id_req r;
	struct proto_sign_id_ans a;
	const struct rsa_key	*k = keys_rsa_current(&ks);
	struct parts		 pt;
	char			 hdr[256], want[2048], got[PROTO_JWT_MAX];
	char			 ath[64], *bad;

	id_init(&r, PROTO_ALG_RS256);
	id_ok(&ks, &r, &a);
	assert_int_equal(a.exp, (uint32_t)NOW + 300);
	split(a.jwt, &pt);
	decode_part(&pt, 0, hdr, sizeof(hdr));
	snprintf(want, sizeof(want),
	    "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", k->kid);
	assert_string_equal(hdr, want);
	assert_int_equal(pt.len[2], 512);	/* 384 bytes */

	half_hash(true, ATOKEN, ath, sizeof(ath));
	decode_part(&pt, 1, got, sizeof(got));
	snprintf(want, sizeof(want), "{\"iss\":\"" ISS "\",\"sub\":\"" SUB
	    "\",\"aud\":\"rp-1\",\"exp\":1795000300,\"iat\":1795000000,"
	    "\"auth_time\":1794999940,\"nonce\":\"n-0S6_WzA2Mj <x>\","
	    "\"acr\":\"urn:warden:mfa\",\"amr\":[\"pwd\",\"otp\"],"
	    "\"sid\":\"sess-1\",\"at_hash\":\"%s\","
	    "\"preferred_username\":\"alice\",\"name\":\"Alice \xc3\x89lise\","
	    "\"email\":\"alice@example.org\",\"email_verified\":true,"
	    "\"roles\":[\"admin\"]}", ath);
	assert_string_equal(got, want);

	/* OpenSSL, from n and e alone, verifies it; not once tampered */
	assert_true(rs256_verifies(k, a.jwt));
	bad = strrchr(a.jwt, '.') - 2;
	*bad = *bad == 'A' ? 'B' : 'A';
	assert_false(rs256_verifies(k, a.jwt));
}

static void
test_id_token_eddsa_minimal(void **state)
{
	struct proto_sign_id_req r;
	struct proto_sign_id_ans a;
	const struct sign_key	*k = keys_sign_current(&ks);
	struct parts		 pt;
	char			 hdr[256], want[1024], got[PROTO_JWT_MAX];
	char			 ath[64];
	uint8_t			 sig[crypto_sign_BYTES + 2];

	/* only what every ID token has */
	memset(&r, 0, sizeof(r));
	r.alg = PROTO_ALG_EDDSA;
	snprintf(r.sub, sizeof(r.sub), "%s", SUB);
	snprintf(r.aud, sizeof(r.aud), "%s", "rp-1");
	r.ttl = 100000;		/* clamped to max_ttl */
	id_ok(&ks, &r, &a);
	assert_int_equal(a.exp, (uint32_t)NOW + MAX_TTL);
	split(a.jwt, &pt);
	decode_part(&pt, 0, hdr, sizeof(hdr));
	snprintf(want, sizeof(want),
	    "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\"}", k->kid);
	assert_string_equal(hdr, want);
	decode_part(&pt, 1, got, sizeof(got));
	assert_string_equal(got, "{\"iss\":\"" ISS "\",\"sub\":\"" SUB "\","
	    "\"aud\":\"rp-1\",\"exp\":1795000900,\"iat\":1795000000}");
	assert_int_equal(b64url_decode(sig, sizeof(sig), pt.p[2], pt.len[2]),
	    crypto_sign_BYTES);
	assert_int_equal(crypto_sign_verify_detached(sig,
	    (const uint8_t *)a.jwt, (size_t)(pt.p[2] - 1 - a.jwt), k->pk), 0);

	/* EdDSA's at_hash is the left half of SHA-512; roles may be [] */
	id_init(&r, PROTO_ALG_EDDSA);
	r.nroles = 0;
	id_ok(&ks, &r, &a);
	half_hash(false, ATOKEN, ath, sizeof(ath));
	assert_int_equal(strlen(ath), 43);
	split(a.jwt, &pt);
	decode_part(&pt, 1, got, sizeof(got));
	snprintf(want, sizeof(want), "\"at_hash\":\"%s\"", ath);
	assert_non_null(strstr(got, want));
	assert_non_null(strstr(got, "\"roles\":[]}"));
}

/* id_init() with one field broken, and the words the refusal must hold. */
static void
id_fails(void (*breakit)(struct proto_sign_id_req *), const char *why)
{
	struct proto_sign_id_req r;
	struct proto_sign_id_ans a;
	char err[256] = "";

	id_init(&r, PROTO_ALG_RS256);
	breakit(&r);
	memset(&a, 'x', sizeof(a));
	assert_int_equal(jwt_sign_id(&ks, &params, &r, NOW, &a, NULL, err,
	    sizeof(err)), -1);
	if (strstr(err, why) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, why);
	assert_string_equal(a.jwt, "");
	assert_int_equal(a.exp, 0);
}

#define BREAK(name, stmt) \
	static void name(struct proto_sign_id_req *r) { stmt; }
BREAK(b_alg0, r->alg = 0)
BREAK(b_alg3, r->alg = 3)
BREAK(b_sub, r->sub[0] = 'G')
BREAK(b_sub_unterminated, memset(r->sub, 'a', sizeof(r->sub)))
BREAK(b_aud_empty, r->aud[0] = '\0')
BREAK(b_aud_space, snprintf(r->aud, sizeof(r->aud), "rp 1"))
BREAK(b_nonce_ctl, snprintf(r->nonce, sizeof(r->nonce), "a\nb"))
BREAK(b_nonce_del, snprintf(r->nonce, sizeof(r->nonce), "a\x7f"))
BREAK(b_nonce_8bit, snprintf(r->nonce, sizeof(r->nonce), "\xc3\xa9"))
BREAK(b_nonce_long, memset(r->nonce, 'n', sizeof(r->nonce)))
BREAK(b_amr_unknown, snprintf(r->amr[1], sizeof(r->amr[1]), "face"))
BREAK(b_amr_repeat, snprintf(r->amr[1], sizeof(r->amr[1]), "pwd"))
BREAK(b_amr_many, r->namr = PROTO_AMR_MAX + 1)
BREAK(b_acr_space, snprintf(r->acr, sizeof(r->acr), "a b"))
BREAK(b_sid_ctl, snprintf(r->sid, sizeof(r->sid), "s\t1"))
BREAK(b_username, snprintf(r->preferred_username,
    sizeof(r->preferred_username), "a"))
BREAK(b_name_ctl, snprintf(r->name, sizeof(r->name), "A\x01"))
BREAK(b_name_utf8, snprintf(r->name, sizeof(r->name), "A\xc3"))
BREAK(b_email, snprintf(r->email, sizeof(r->email), "alice"))
BREAK(b_roles_many, r->nroles = PROTO_ROLES_MAX + 1)
BREAK(b_role_bad, snprintf(r->roles[0], sizeof(r->roles[0]), "Admin"))
BREAK(b_roles_unasked, r->roles_claim = false)
BREAK(b_at_chars, snprintf(r->access_token, sizeof(r->access_token),
    "a.b\"c"))

static void
test_id_token_refusals(void **state)
{
	id_fails(b_alg0, "alg");
	id_fails(b_alg3, "alg");
	id_fails(b_sub, "sub");
	id_fails(b_sub_unterminated, "sub");
	id_fails(b_aud_empty, "aud");
	id_fails(b_aud_space, "aud");
	id_fails(b_nonce_ctl, "nonce");
	id_fails(b_nonce_del, "nonce");
	id_fails(b_nonce_8bit, "nonce");
	id_fails(b_nonce_long, "nonce");
	id_fails(b_amr_unknown, "amr 1");
	id_fails(b_amr_repeat, "repeats");
	id_fails(b_amr_many, "amr");
	id_fails(b_acr_space, "acr");
	id_fails(b_sid_ctl, "sid");
	id_fails(b_username, "preferred_username");
	id_fails(b_name_ctl, "name");
	id_fails(b_name_utf8, "name");
	id_fails(b_email, "email");
	id_fails(b_roles_many, "roles");
	id_fails(b_role_bad, "role 0");
	id_fails(b_roles_unasked, "roles");
	id_fails(b_at_chars, "access_token");
}

/* A key set from before RSA keys: RS256 refused with what to do,
 * EdDSA still signed. */
static void
test_id_token_without_rsa_key(void **state)
{
	struct proto_sign_id_req r;
	struct proto_sign_id_ans a;
	struct keyset	 old = ks;	/* a shallow copy, not freed */
	char		 err[256] = "";

	old.rsa_current = old.nrsa;	/* as when current names none */
	id_init(&r, PROTO_ALG_RS256);
	assert_int_equal(jwt_sign_id(&old, &params, &r, NOW, &a, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "wardenctl keygen"));
	r.alg = PROTO_ALG_EDDSA;
	id_ok(&old, &r, &a);

	/* every field at its bound: past PROTO_JWT_MAX, refused cleanly */
	id_init(&r, PROTO_ALG_RS256);
	memset(r.access_token, 'a', PROTO_JWT_MAX);
	r.access_token[PROTO_JWT_MAX] = '\0';
	r.nroles = PROTO_ROLES_MAX;
	{
		size_t i;

		for (i = 0; i < PROTO_ROLES_MAX; i++) {
			memset(r.roles[i], 'r', PROTO_ROLE_MAX);
			r.roles[i][0] = (char)('a' + i % 26);
			r.roles[i][1] = (char)('a' + i / 26);
			r.roles[i][PROTO_ROLE_MAX] = '\0';
		}
		for (i = 0; i < FIELD_FULL_NAME_MAX; i++)
			memcpy(r.name + 4 * i, "\xf0\x9f\x98\x80", 4);
		r.name[4 * FIELD_FULL_NAME_MAX] = '\0';
	}
	memset(r.nonce, 'n', PROTO_NONCE_MAX);
	r.nonce[PROTO_NONCE_MAX] = '\0';
	memset(r.acr, 'a', PROTO_ACR_MAX);
	r.acr[PROTO_ACR_MAX] = '\0';
	memset(r.sid, 's', PROTO_SID_MAX);
	r.sid[PROTO_SID_MAX] = '\0';
	memset(r.aud, 'c', PROTO_CLIENT_ID_MAX);
	r.aud[PROTO_CLIENT_ID_MAX] = '\0';
	snprintf(r.email, sizeof(r.email), "%.64s@%.63s.%.63s.%.61s",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
	    "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
	assert_int_equal(strlen(r.email), PROTO_EMAIL_MAX);
	memset(r.preferred_username, 'u', PROTO_USERNAME_MAX);
	r.preferred_username[PROTO_USERNAME_MAX] = '\0';
	assert_int_equal(jwt_sign_id(&ks, &params, &r, NOW, &a, NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	assert_string_equal(a.jwt, "");
	/* without the longest name it fits, and verifies */
	r.name[0] = '\0';
	id_ok(&ks, &r, &a);
	assert_true(rs256_verifies(keys_rsa_current(&ks), a.jwt));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_parts_and_header),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_exp_clamped),
		cmocka_unit_test(test_signature_verifies),
		cmocka_unit_test(test_pyjwt_verifies),
		cmocka_unit_test(test_rejects_bad_fields),
		cmocka_unit_test(test_largest_request_fits),
		cmocka_unit_test(test_too_long_fails_cleanly),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_client_access_token),
		cmocka_unit_test(test_id_token_rs256),
		cmocka_unit_test(test_id_token_eddsa_minimal),
		cmocka_unit_test(test_id_token_refusals),
		cmocka_unit_test(test_id_token_without_rsa_key),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
