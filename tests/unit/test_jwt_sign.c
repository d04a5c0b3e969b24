/*
 * hasher/jwt_sign.c: the token's exact header, its claims and their
 * clamping, the signature (checked here with libsodium and independently
 * with PyJWT), and the refusal of every request field that breaks its rule.
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
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
