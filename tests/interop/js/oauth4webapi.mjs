// oauth4webapi (npm, panva/oauth4webapi 2.x, an ES module): discovery
// (RFC 8414), the password grant through its generic token endpoint
// request, RFC 9068 access token validation, refresh, revocation
// (RFC 7009), and RFC 6750 3 challenges read from WWW-Authenticate.
import common from './common.js';

const { main, describe, jwtParts, staged } = common;
// After common.js: it gives Node 18 the globalThis.crypto this library uses.
const oauth = await common.esm('oauth4webapi');

// The authorization server: discovered and processed (RFC 8414 3.3 checks
// the issuer), or written down from the endpoints the OpenAPI document
// names, so that the steps not about discovery do not depend on it.
async function asOf(p) {
	if (p.discover) {
		const issuer = new URL(p.issuer);
		const res = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2' });
		return oauth.processDiscoveryResponse(issuer, res);
	}
	return {
		issuer: p.issuer,
		token_endpoint: new URL('/api/v1/auth/token', p.base).href,
		revocation_endpoint: new URL('/api/v1/auth/revoke', p.base).href,
		jwks_uri: new URL('/.well-known/jwks.json', p.base).href,
	};
}

const client = { client_id: 'warden', token_endpoint_auth_method: 'none' };

// processRefreshTokenResponse is 2.x's processing of any token endpoint
// answer (RFC 6749 5.1 and 5.2); an error comes back as an object.
async function tokenResult(as, res) {
	const r = await oauth.processRefreshTokenResponse(as, client, res);
	if (oauth.isOAuth2Error(r)) return { oauth_error: r };
	return { tokens: r };
}

function challenges(res) {
	return (oauth.parseWwwAuthenticateChallenges(res) || []).map((c) => ({
		scheme: c.scheme, parameters: c.parameters,
	}));
}

main({
	// {base, issuer} -> the processed metadata.
	async discover(p) {
		return { metadata: await asOf({ ...p, discover: true }) };
	},

	// {base, issuer, audience, discover, username, password} -> the
	// password grant, the access token validated as RFC 9068 says, a call
	// to /users/me with it, the refresh, the revocation, and the refresh
	// of the revoked token.
	flow: (p) => staged(async (stage) => {
		stage('discover');
		const as = await asOf(p);
		stage('password grant');
		const g = await tokenResult(as, await oauth.genericTokenEndpointRequest(
			as, client, 'password', { username: p.username, password: p.password }));
		if (g.oauth_error) return { stage: 'password grant', ...g };
		const first = g.tokens;
		stage('validateJwtAccessToken');
		const req = new Request(new URL('/api/v1/users/me', p.base), {
			headers: { authorization: `Bearer ${first.access_token}` },
		});
		const claims = await oauth.validateJwtAccessToken(as, req, p.audience);
		stage('protectedResourceRequest');
		const me = await oauth.protectedResourceRequest(first.access_token, 'GET',
			new URL('/api/v1/users/me', p.base));
		const meBody = await me.json();
		stage('refresh');
		const r = await tokenResult(as, await oauth.refreshTokenGrantRequest(
			as, client, first.refresh_token));
		if (r.oauth_error) return { stage: 'refresh', ...r };
		const second = r.tokens;
		stage('revoke');
		const rev = await oauth.revocationRequest(as, client, second.refresh_token,
			{ additionalParameters: { token_type_hint: 'refresh_token' } });
		const revStatus = rev.status;
		const revType = rev.headers.get('content-type');
		const revoked = await oauth.processRevocationResponse(rev);
		stage('refresh after revoke');
		const again = await tokenResult(as, await oauth.refreshTokenGrantRequest(
			as, client, second.refresh_token));
		return {
			first: { ...first, header: jwtParts(first.access_token).header },
			claims,
			me: { status: me.status, body: meBody },
			second,
			revoke: { status: revStatus, content_type: revType, error: revoked ?? null },
			refresh_revoked: again,
		};
	}),

	// {base, issuer, username, password, access_token} -> the errors a
	// client reads: a wrong password's (RFC 6749 5.2), and the challenges
	// of a bearer route met without a usable token (RFC 6750 3).
	async errors(p) {
		const as = await asOf(p);
		const wrong = await tokenResult(as, await oauth.genericTokenEndpointRequest(
			as, client, 'password', { username: p.username, password: `${p.password}-wrong` }));
		const me = new URL('/api/v1/users/me', p.base);
		const bad = await oauth.protectedResourceRequest(`${p.access_token}x`, 'GET', me);
		const basic = await fetch(me, {
			headers: { authorization: `Basic ${Buffer.from('warden:x').toString('base64')}` },
		});
		const malformed = await fetch(me, { headers: { authorization: 'Bearer a b' } });
		const admin = await oauth.protectedResourceRequest(p.access_token, 'GET',
			new URL('/api/v1/users', p.base));
		return {
			wrong_password: wrong.oauth_error ?? { unexpected: wrong },
			bad_token: { status: bad.status, challenges: challenges(bad) },
			basic: { status: basic.status, challenges: challenges(basic) },
			malformed: { status: malformed.status, challenges: challenges(malformed) },
			not_admin: { status: admin.status, challenges: challenges(admin) },
		};
	},
});
