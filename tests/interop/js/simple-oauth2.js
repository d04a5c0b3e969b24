'use strict';
// simple-oauth2 (npm, 5.x): the resource owner password grant, refresh and
// revocation (RFC 7009) through a client that always sends client_id and
// client_secret, in the body or in Basic (RFC 6749 2.3.1).
const { main, describe, staged } = require('./common');
const { ResourceOwnerPassword } = require('simple-oauth2');

function clientOf(p) {
	return new ResourceOwnerPassword({
		client: { id: p.client_id || 'warden', secret: p.secret ?? '' },
		auth: {
			tokenHost: p.base,
			tokenPath: '/api/v1/auth/token',
			revokePath: '/api/v1/auth/revoke',
		},
		options: { authorizationMethod: p.method || 'body' },
	});
}

async function thrown(f) {
	try {
		await f();
		return null;
	} catch (e) {
		return describe(e);
	}
}

main({
	// {base, method, secret, username, password} -> getToken, refresh,
	// revoke of the refresh token (and a refresh with it), then revokeAll
	// of the rotated set (and a refresh with its refresh token).
	flow: (p) => staged(async (stage) => {
		const client = clientOf(p);
		stage('getToken');
		const first = await client.getToken({ username: p.username, password: p.password });
		stage('refresh');
		const second = await first.refresh();
		stage('refresh again');
		const third = await second.refresh();
		stage('revoke');
		const revoked = await second.revoke('refresh_token');
		const afterRevoke = await thrown(() => second.refresh());
		stage('revokeAll');
		await third.revokeAll();
		const afterRevokeAll = await thrown(() => third.refresh());
		return {
			first: first.token, second: second.token, third: third.token,
			expired: first.expired(),
			revoke_answer: revoked,
			refresh_after_revoke: afterRevoke,
			refresh_after_revoke_all: afterRevokeAll,
		};
	}),

	// {base, username, password} -> what getToken threw for a wrong password.
	async wrong_password(p) {
		return {
			thrown: await thrown(() => clientOf(p).getToken({
				username: p.username, password: `${p.password}-wrong`,
			})),
		};
	},
});
