'use strict';
// openid-client (npm, panva/node-openid-client 5.x): a relying party that
// discovers warden (RFC 8414), logs in with the password grant, refreshes,
// revokes (RFC 7009) and reads errors (RFC 6749 5.2) as OPError; and an
// OpenID Connect relying party running the authorization code flow with
// PKCE (code_start, then code_finish once pytest has logged the user in).
const { main, describe, jwtParts, staged } = require('./common');
const { Issuer, errors, generators } = require('openid-client');

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

// A relying party of the OpenID Connect provider: the issuer discovered at
// {issuer}/.well-known/openid-configuration (OpenID Connect Discovery 1.0
// 4), the client as registered with wardenctl.
async function rpOf(p) {
	const issuer = await Issuer.discover(p.issuer);
	const meta = {
		client_id: p.client_id,
		redirect_uris: [p.redirect_uri],
		response_types: ['code'],
		id_token_signed_response_alg: p.alg || 'RS256',
		token_endpoint_auth_method: p.client_secret ? (p.method || 'client_secret_basic') : 'none',
	};
	if (p.client_secret) meta.client_secret = p.client_secret;
	if (p.post_logout_uri) meta.post_logout_redirect_uris = [p.post_logout_uri];
	return { issuer, client: new issuer.Client(meta) };
}

main({
	// {issuer, client_id, client_secret, redirect_uri, alg, scope} -> the
	// discovered metadata, and the authorization URL with a PKCE S256
	// challenge, a nonce and a state; the verifier, nonce and state, which
	// pytest hands back to code_finish.
	async code_start(p) {
		const { issuer, client } = await rpOf(p);
		const code_verifier = generators.codeVerifier();
		const nonce = generators.nonce();
		const state = generators.state();
		const url = client.authorizationUrl({
			scope: p.scope || 'openid profile email offline_access',
			code_challenge: generators.codeChallenge(code_verifier),
			code_challenge_method: 'S256',
			nonce, state,
		});
		return { metadata: issuer.metadata, url, code_verifier, nonce, state };
	},

	// {issuer, client_id, client_secret, redirect_uri, alg, post_logout_uri,
	// callback_url, code_verifier, nonce, state} -> callback() (the code
	// exchange, and the id_token checked by the library: signature from the
	// JWKS, iss, aud, exp, iat, nonce, at_hash), userinfo, refresh, revoke
	// of the new refresh token, what a refresh with it threw, a second
	// callback() with the same code (what it threw), and the end-session URL.
	code_finish: (p) => staged(async (stage) => {
		stage('discover');
		const { client } = await rpOf(p);
		stage('callback');
		const params = client.callbackParams(p.callback_url);
		const checks = { code_verifier: p.code_verifier, nonce: p.nonce, state: p.state };
		const first = await client.callback(p.redirect_uri, params, checks);
		const idHeader = jwtParts(first.id_token).header;
		stage('userinfo');
		const userinfo = await client.userinfo(first);
		stage('refresh');
		const second = first.refresh_token ? await client.refresh(first.refresh_token) : null;
		stage('revoke');
		let refreshRevoked = null;
		if (second && second.refresh_token) {
			await client.revoke(second.refresh_token, 'refresh_token');
			refreshRevoked = await thrown(() => client.refresh(second.refresh_token));
		}
		stage('code reuse');
		const reused = await thrown(() => client.callback(p.redirect_uri, params, checks));
		stage('endSessionUrl');
		const end_session_url = p.post_logout_uri ? client.endSessionUrl({
			id_token_hint: first.id_token,
			post_logout_redirect_uri: p.post_logout_uri,
			state: p.logout_state,
		}) : null;
		return {
			id_token: { header: idHeader, claims: first.claims() },
			first: { token_type: first.token_type, expires_in: first.expires_in,
				scope: first.scope, has_refresh: Boolean(first.refresh_token),
				access: jwtParts(first.access_token) },
			userinfo,
			second: second && { claims: second.id_token ? second.claims() : null,
				access: jwtParts(second.access_token),
				rotated: second.refresh_token !== first.refresh_token },
			refresh_revoked: refreshRevoked,
			code_reused: reused,
			end_session_url,
		};
	}),

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
