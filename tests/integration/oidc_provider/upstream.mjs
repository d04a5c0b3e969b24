// An independent OpenID provider for the social-login tests: panva's
// oidc-provider (npm, pinned in tests/interop/package-lock.json, installed
// by tests/interop/npm-install), with its development interactions (its
// own login and consent forms) and accounts made up from the login name.
//
//   node upstream.mjs CONFIG_JSON
//
// CONFIG_JSON (one argument):
//   port        the port on 127.0.0.1; the issuer is http://127.0.0.1:PORT
//   modules     the node_modules folder that holds oidc-provider
//   clients     oidc-provider client metadata, each e.g.
//                 {client_id, client_secret, redirect_uris,
//                  token_endpoint_auth_method: client_secret_basic}
//               or {client_id, redirect_uris, jwks_uri,
//                  token_endpoint_auth_method: private_key_jwt,
//                  token_endpoint_auth_signing_alg: RS256 | EdDSA}
//               id_token_signed_response_alg: ES256 | EdDSA (RS256)
//   conform     true: oidc-provider's default, the scopes' claims only at
//               userinfo; false (default here): in the ID token too
//
// Any login name L (the password is not checked) is the account
//   sub L-sub, email L@example.test, preferred_username L, name "L Example",
//   email_verified true, unless L starts with "unverified"; a login that is
//   an e-mail address N@D is that e-mail, preferred_username N.
// The code flow only, PKCE S256 required, scopes openid email profile.
// Prints "listening PORT" on standard output once it serves; logs each
// request and every server-side error on standard error.
import { generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// Node 18 (Debian 12's) has no globalThis.crypto unless told.
if (!globalThis.crypto) globalThis.crypto = webcrypto;

const conf = JSON.parse(process.argv[2] || '{}');
if (!conf.port || !conf.modules || !Array.isArray(conf.clients)) {
	console.error('usage: node upstream.mjs \'{"port":N,"modules":DIR,"clients":[...]}\'');
	process.exit(2);
}

// oidc-provider is an ES module, and ESM does not read NODE_PATH: import
// it by its path.
const dir = join(conf.modules, 'oidc-provider');
const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const { default: Provider } = await import(pathToFileURL(join(dir, pkg.main || 'lib/index.js')).href);

const issuer = `http://127.0.0.1:${conf.port}`;

function account(login) {
	const at = login.indexOf('@');
	return {
		sub: `${login}-sub`,
		email: at > 0 ? login : `${login}@example.test`,
		email_verified: !login.startsWith('unverified'),
		preferred_username: at > 0 ? login.slice(0, at) : login,
		name: `${login} Example`,
	};
}

// The ID tokens' keys, fresh each run, their kids too (a restart is a key
// rotation): RS256 signs unless a client asks for ES256 or EdDSA
// (id_token_signed_response_alg).
const tag = randomBytes(4).toString('hex');
const jwk = (kp, alg) => ({ ...kp.privateKey.export({ format: 'jwk' }),
	kid: `${alg.toLowerCase()}-${tag}`, use: 'sig', alg });
const keys = [
	jwk(generateKeyPairSync('rsa', { modulusLength: 2048 }), 'RS256'),
	jwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'ES256'),
	jwk(generateKeyPairSync('ed25519'), 'EdDSA'),
];

const provider = new Provider(issuer, {
	clients: conf.clients.map((c) => ({
		response_types: ['code'],
		grant_types: ['authorization_code'],
		...c,
	})),
	jwks: { keys },
	cookies: { keys: ['upstream-test-cookie-key-' + conf.port] },
	pkce: { methods: ['S256'], required: () => true },
	ttl: {
		AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600,
		Interaction: 600, Session: 3600,
	},
	scopes: ['openid', 'email', 'profile'],
	claims: {
		openid: ['sub'],
		email: ['email', 'email_verified'],
		profile: ['preferred_username', 'name'],
	},
	conformIdTokenClaims: conf.conform === true,
	features: {
		devInteractions: { enabled: true },
		userinfo: { enabled: true },
	},
	clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
	enabledJWA: {
		clientAuthSigningAlgValues: ['RS256', 'EdDSA', 'ES256'],
		idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
	},
	// The session a login leaves is kept by the browser's cookie: a
	// second sign-in of the same browser needs no login form.
	async findAccount(ctx, id) {
		// The session's account is the login name; the subject is the
		// account's own (a different string: warden must key on sub).
		const claims = account(id);
		return { accountId: id, async claims() { return { ...claims }; } };
	},
});

provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.on('grant.error', (ctx, err) => console.error('grant.error', err.message,
	err.error_description || ''));
provider.on('authorization.error', (ctx, err) => console.error('authorization.error',
	err.message, err.error_description || ''));
provider.on('userinfo.error', (ctx, err) => console.error('userinfo.error', err.message));
provider.use(async (ctx, next) => {
	await next();
	console.error(`${ctx.method} ${ctx.path} -> ${ctx.status}`);
});

const server = provider.listen(conf.port, '127.0.0.1', () => {
	console.log(`listening ${conf.port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
	process.on(sig, () => server.close(() => process.exit(0)));
}
