'use strict';
// openid-client (npm, panva/node-openid-client 5.x): a relying party that
// discovers warden (RFC 8414), logs in with the password grant, refreshes,
// revokes (RFC 7009) and reads errors (RFC 6749 5.2) as OPError.
const { main, describe, jwtParts, staged } = require('./common');
const { Issuer, errors } = require('openid-client');

const METADATA = '/.well-known/oauth-authorization-server';

// The issuer, discovered (RFC 8414 3) or written down by hand from the
// endpoints that the OpenAPI document names: the steps that are not about
// discovery do not depend on it.
async function issuerOf(p) {
	if (p.discover) return Issuer.discover(new URL(METADATA, p.base).href);
	return new Issuer({
		issuer: p.issuer,
		token_endpoint: new URL('/api/v1/auth/token', p.base).href,
		revocation_endpoint: new URL('/api/v1/auth/revoke', p.base).href,
		jwks_uri: new URL('/.well-known/jwks.json', p.base).href,
	});
}

async function clientOf(p) {
	const issuer = await issuerOf(p);
	const meta = {
		client_id: p.client_id || 'warden',
		token_endpoint_auth_method: p.method || 'none',
	};
	if (p.secret !== undefined) meta.client_secret = p.secret;
	return new issuer.Client(meta);
}

function tokenSetShape(ts) {
	return {
		access_token: ts.access_token,
		refresh_token: ts.refresh_token,
		token_type: ts.token_type,
		expires_in: ts.expires_in,
		expired: ts.expired(),
		header: jwtParts(ts.access_token).header,
		claims: jwtParts(ts.access_token).claims,
	};
}

// Runs f and returns what it threw, or null.
async function thrown(f) {
	try {
		await f();
		return null;
	} catch (e) {
		return { ...describe(e), op_error: e instanceof errors.OPError };
	}
}

main({
	// {base} -> the metadata as openid-client read it.
	async discover(p) {
		const issuer = await Issuer.discover(new URL(METADATA, p.base).href);
		return { metadata: issuer.metadata };
	},

	// {base, issuer, discover, method, secret, username, password, extra}
	// -> the password grant's token set (with EXTRA parameters in its body),
	// its refresh, the revocation of the new refresh token, and what a
	// refresh with the revoked and with the rotated-out token threw.
	flow: (p) => staged(async (stage) => {
		stage('discover');
		const client = await clientOf(p);
		stage('grant');
		const first = await client.grant({
			grant_type: 'password', username: p.username, password: p.password,
			...(p.extra || {}),
		});
		stage('refresh');
		const second = await client.refresh(first);
		stage('revoke');
		await client.revoke(second.refresh_token, 'refresh_token');
		return {
			first: tokenSetShape(first),
			second: tokenSetShape(second),
			refresh_revoked: await thrown(() => client.refresh(second.refresh_token)),
		};
	}),

	// {base, issuer, username, password, client_id, method, secret} ->
	// what the password grant threw (null when it did not).
	async grant_error(p) {
		const client = await clientOf(p);
		return {
			thrown: await thrown(() => client.grant({
				grant_type: 'password', username: p.username, password: p.password,
			})),
		};
	},
});
