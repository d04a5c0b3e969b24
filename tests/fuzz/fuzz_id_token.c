/*
 * libFuzzer target of daemon/upstream/id_token.c: an upstream provider's
 * ID token, checked against a fixed key set of one RSA, one P-256 and one
 * Ed25519 public key whose private halves nobody holds.  No input may
 * ever verify, and a refusal always leaves the claims empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/id_token.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char keys_json[] =
    "{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"r1\", \"use\": \"sig\", \"alg\": \"RS256\", \"n\": \"zubcVQ4GVZ_YzXeJ8W5_yNl5lACdddunCj5eDdAnIGP8c3g5ywj_-BhwcfMx_B2Sg-As3KoOUAuJ1rx3uZbAfttPKpN9SM2C7ELxoiwRdOjBAELEkoPXlqGlHmUJb1ocMH_GM8xG1vJkl5tGaP6ceyUCdyZJg0-556n8ZoeFe5hEi6iRVbB5Hp2PW5jc82UByg2jDKCGYuVkzVq-VbBfU1WUBp5Ym2XnKTBk71LRSqst34jiky8nsOB7Csi9yfrElRs-cbFi2r8UZPuaaJJ1ADf01HR0I8P2Wf6kKm2YQ2hjK6_HNvIkyZTfQfsmbLtB_DaO9C3cL7eMKJEQmS6fLw\", \"e\": \"AQAB\"}, {\"kty\": \"EC\", \"kid\": \"e1\", \"crv\": \"P-256\", \"x\": \"CeB-wZeIMcStpGR9iFub6kiwWCvtKiSryPJRKxY63sc\", \"y\": \"07HGTA82QHf36ydkiL4Qpl2zuUiQwewqDMqLMLeDHsI\"}, {\"kty\": \"OKP\", \"kid\": \"o1\", \"crv\": \"Ed25519\", \"x\": \"ZwuVnipMsKbdDt_WRtojqVMSLcEJLKEENgjGHUw2Pf4\"}]}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jwk_set *keys;
	struct id_token_expect e = { "https://issuer.example", "client",
	    "nonce", 1700000000 };
	struct id_token_claims c;
	char	 why[160], err[160];

	if (keys == NULL && (keys = jwk_set_parse(keys_json,
	    sizeof(keys_json) - 1, err, sizeof(err))) == NULL)
		abort();
	if (id_token_verify((const char *)data, size, keys, &e, &c, why,
	    sizeof(why)) == ID_TOKEN_OK)
		abort();
	if (c.sub[0] != '\0' || c.email[0] != '\0' || memchr(why, '\0',
	    sizeof(why)) == NULL)
		abort();
	return 0;
}
