/*
 * hasher/jwt_check.c: an ID token we signed is valid with any key we
 * hold, expired or not; a tampered one, another issuer's, an unknown
 * kid's, an access token and garbage are not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64url.h"
#include "jwt_check.h"
#include "jwt_sign.h"

#define SUB	"0b6f9e52-6a3c-4d7e-9a51-2f1c3b4d5e6f"
#define ISS	"https://auth.example.com"
#define NOW	((time_t)1795000000)

static const struct jwt_sign_params params = {
	.issuer = ISS, .audience = "https://api.example.com", .max_ttl = 900,
};
static char		dir1[64], dir2[64];
static struct keyset	ks, ks_old, ks_other;

static void
rm_dir(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[PATH_MAX];

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' && (size_t)snprintf(path,
			    sizeof(path), "%s/%s", dir, de->d_name) <
			    sizeof(path))
				unlink(path);
		closedir(d);
	}
	rmdir(dir);
}

static int
group_setup(void **state)
{
	char err[512];

	snprintf(dir1, sizeof(dir1), "/tmp/warden-jwtc-XXXXXX");
	snprintf(dir2, sizeof(dir2), "/tmp/warden-jwtc-XXXXXX");
	if (mkdtemp(dir1) == NULL || mkdtemp(dir2) == NULL ||
	    keys_generate(dir1, err, sizeof(err)) == -1 ||
	    keys_load(&ks_old, dir1, err, sizeof(err)) == -1 ||
	    keys_generate(dir1, err, sizeof(err)) == -1 ||
	    keys_load(&ks, dir1, err, sizeof(err)) == -1 ||
	    keys_generate(dir2, err, sizeof(err)) == -1 ||
	    keys_load(&ks_other, dir2, err, sizeof(err)) == -1) {
		fprintf(stderr, "key set-up: %s\n", err);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	keys_free(&ks);
	keys_free(&ks_old);
	keys_free(&ks_other);
	rm_dir(dir1);
	rm_dir(dir2);
	return 0;
}

static void
sign_id(const struct keyset *k, const struct jwt_sign_params *p, uint8_t alg,
    const char *sid, time_t now, char jwt[PROTO_JWT_MAX + 1])
{
	struct proto_sign_id_req r;
	struct proto_sign_id_ans a;
	char err[256];

	memset(&r, 0, sizeof(r));
	r.alg = alg;
	snprintf(r.sub, sizeof(r.sub), "%s", SUB);
	snprintf(r.aud, sizeof(r.aud), "%s", "rp-1");
	snprintf(r.sid, sizeof(r.sid), "%s", sid);
	if (jwt_sign_id(k, p, &r, now, &a, NULL, err, sizeof(err)) != 0)
		fail_msg("jwt_sign_id: %s", err);
	memcpy(jwt, a.jwt, PROTO_JWT_MAX + 1);
}

static void
check_valid(const char *jwt, const char *sid)
{
	struct proto_jwt_check_ans a;

	jwt_check(&ks, ISS, jwt, &a);
	assert_true(a.valid);
	assert_string_equal(a.sub, SUB);
	assert_string_equal(a.aud, "rp-1");
	assert_string_equal(a.sid, sid);
}

static void
check_invalid(const struct keyset *k, const char *iss, const char *jwt)
{
	struct proto_jwt_check_ans a, zero;

	memset(&zero, 0, sizeof(zero));
	memset(&a, 'x', sizeof(a));
	jwt_check(k, iss, jwt, &a);
	assert_false(a.valid);
	assert_memory_equal(&a, &zero, sizeof(a));
}

static void
test_good(void **state)
{
	char jwt[PROTO_JWT_MAX + 1];

	sign_id(&ks, &params, PROTO_ALG_RS256, "sess-1", NOW, jwt);
	check_valid(jwt, "sess-1");
	sign_id(&ks, &params, PROTO_ALG_EDDSA, "", NOW, jwt);
	check_valid(jwt, "");
	/* long expired: still ours (a logout hint may have expired) */
	sign_id(&ks, &params, PROTO_ALG_RS256, "s", 1000000000, jwt);
	check_valid(jwt, "s");
	/* signed by keys rotated out since, of either kind */
	sign_id(&ks_old, &params, PROTO_ALG_RS256, "s", NOW, jwt);
	check_valid(jwt, "s");
	sign_id(&ks_old, &params, PROTO_ALG_EDDSA, "s", NOW, jwt);
	check_valid(jwt, "s");
}

static void
test_tampered(void **state)
{
	char jwt[PROTO_JWT_MAX + 1], *p;
	uint8_t alg;

	for (alg = PROTO_ALG_EDDSA; alg <= PROTO_ALG_RS256; alg++) {
		/* the signature */
		sign_id(&ks, &params, alg, "s", NOW, jwt);
		p = jwt + strlen(jwt) - 5;
		*p = *p == 'A' ? 'B' : 'A';
		check_invalid(&ks, ISS, jwt);
		/* the claims */
		sign_id(&ks, &params, alg, "s", NOW, jwt);
		p = strchr(jwt, '.') + 3;
		*p = *p == 'A' ? 'B' : 'A';
		check_invalid(&ks, ISS, jwt);
		/* truncated */
		sign_id(&ks, &params, alg, "s", NOW, jwt);
		jwt[strlen(jwt) - 4] = '\0';
		check_invalid(&ks, ISS, jwt);
	}
}

static void
test_other_issuer_and_keys(void **state)
{
	static const struct jwt_sign_params other = {
		.issuer = "https://evil.example.com", .audience = "x",
		.max_ttl = 900,
	};
	char jwt[PROTO_JWT_MAX + 1];

	/* our key, another issuer */
	sign_id(&ks, &other, PROTO_ALG_RS256, "s", NOW, jwt);
	check_invalid(&ks, ISS, jwt);
	/* our issuer, a key we do not hold (unknown kid) */
	sign_id(&ks_other, &params, PROTO_ALG_RS256, "s", NOW, jwt);
	check_invalid(&ks, ISS, jwt);
	sign_id(&ks_other, &params, PROTO_ALG_EDDSA, "s", NOW, jwt);
	check_invalid(&ks, ISS, jwt);
}

/* A header swapped in: the kid of an RSA key claimed for EdDSA, alg none,
 * typ at+jwt (an access token is no ID token). */
static void
test_headers(void **state)
{
	static const char *const hdrs[][2] = {
		{ "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"", "\"}" },
		{ "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"", "\"}" },
		{ "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"", "\"}" },
		{ "{\"alg\":\"RS256\",\"kid\":\"", "\"}" },
		{ "[\"", "\"]" },
	};
	char jwt[PROTO_JWT_MAX + 1], hdr[256], b64[512], forged[PROTO_JWT_MAX + 1];
	struct proto_sign_req r;
	struct proto_sign_ans a;
	size_t i;

	sign_id(&ks, &params, PROTO_ALG_RS256, "s", NOW, jwt);
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		snprintf(hdr, sizeof(hdr), "%s%s%s", hdrs[i][0],
		    keys_rsa_current(&ks)->kid, hdrs[i][1]);
		assert_true(b64url_encode(b64, sizeof(b64), (const uint8_t *)hdr,
		    strlen(hdr)) > 0);
		snprintf(forged, sizeof(forged), "%s%s", b64, strchr(jwt, '.'));
		check_invalid(&ks, ISS, forged);
	}

	/* an access token, properly signed by us */
	memset(&r, 0, sizeof(r));
	snprintf(r.sub, sizeof(r.sub), "%s", SUB);
	snprintf(r.username, sizeof(r.username), "%s", "alice");
	snprintf(r.aud, sizeof(r.aud), "%s", "rp-1");
	assert_int_equal(jwt_sign(&ks, &params, &r, NOW, &a, hdr,
	    sizeof(hdr)), 0);
	check_invalid(&ks, ISS, a.jwt);
}

static void
test_garbage(void **state)
{
	static const char *const bad[] = {
		"", ".", "..", "...", "a.b.c", "a.b", "a.b.c.d",
		"eyJhbGciOiJSUzI1NiJ9..", ".eyJ9.c2ln", "!!!.???.***",
	};
	char big[PROTO_JWT_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_invalid(&ks, ISS, bad[i]);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[10] = big[20] = '.';
	check_invalid(&ks, ISS, big);
	check_invalid(NULL, ISS, "a.b.c");
	check_invalid(&ks, "", "a.b.c");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_other_issuer_and_keys),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
