'use strict';
// jose (panva/jose 5.x, CommonJS build): a resource server verifying
// warden's access tokens from its JWKS, as RFC 9068 4 describes.
const { main, describe } = require('./common');
const jose = require('jose');

function jwks(base) {
	return jose.createRemoteJWKSet(new URL('/.well-known/jwks.json', base));
}

function verifyOptions(p) {
	return {
		issuer: p.issuer,
		audience: p.audience,
		typ: 'at+jwt',
		algorithms: ['EdDSA'],
		requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'],
	};
}

main({
	// {base, token, issuer, audience} -> the verified header and claims,
	// and the JWKS as jose reads it.
	async verify(p) {
		const { payload, protectedHeader } = await jose.jwtVerify(p.token, jwks(p.base),
			verifyOptions(p));
		const set = await (await fetch(new URL('/.well-known/jwks.json', p.base))).json();
		const keys = [];
		for (const k of set.keys) {
			const key = await jose.importJWK(k, k.alg || 'EdDSA');
			keys.push({ kid: k.kid, kty: k.kty, crv: k.crv, alg: k.alg, use: k.use,
				type: key.type, private: 'd' in k });
		}
		return { header: protectedHeader, claims: payload, keys };
	},

	// {base, token, issuer, audience} -> what jose says of tokens that must
	// be refused: each case's error code, or null when it was accepted.
	async refused(p) {
		const [h, c, s] = p.token.split('.');
		const claims = JSON.parse(Buffer.from(c, 'base64url').toString());
		const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
		const sig = Buffer.from(s, 'base64url');
		sig[0] ^= 1;
		const cases = {
			// Another subject under the same signature.
			claims_changed: `${h}.${enc({ ...claims, sub: '00000000-0000-0000-0000-000000000000' })}.${s}`,
			signature_changed: `${h}.${c}.${sig.toString('base64url')}`,
			alg_none: `${enc({ alg: 'none', typ: 'at+jwt' })}.${c}.`,
			// The right signature, checked against another audience or
			// issuer.
			wrong_audience: p.token,
			wrong_issuer: p.token,
		};
		const out = {};
		for (const [name, token] of Object.entries(cases)) {
			const opts = verifyOptions(p);
			if (name === 'wrong_audience') opts.audience = 'someone-else';
			if (name === 'wrong_issuer') opts.issuer = 'https://issuer.invalid';
			try {
				await jose.jwtVerify(token, jwks(p.base), opts);
				out[name] = null;
			} catch (e) {
				out[name] = describe(e).code || describe(e).name;
			}
		}
		return { refused: out };
	},
});
