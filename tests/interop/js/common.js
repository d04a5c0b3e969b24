'use strict';
// What every client script shares: run one named step with the JSON
// parameters that pytest passes, and print one JSON object (the last line
// of stdout, read by conftest.run_node).  A step that throws prints
// {"ok": false, "thrown": {...}} and exits 0, so that the test shows what
// the library said; a wrong invocation exits 2.
//
//   node js/SCRIPT STEP '{"base": "http://127.0.0.1:port", ...}'
//
// The packages are in NODE_PATH (INTEROP_DIR/node_modules).  ES modules do
// not look there, so esm() imports a package by its path.

const path = require('node:path');
const fs = require('node:fs');
const { pathToFileURL } = require('node:url');

// Node 18 (Debian 12's) has Web Crypto as require('node:crypto').webcrypto
// but not as globalThis.crypto without --experimental-global-webcrypto;
// oauth4webapi and jose's browser paths look for the global.
if (!globalThis.crypto) {
	globalThis.crypto = require('node:crypto').webcrypto;
}

function packageDir(name) {
	const roots = (process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean);
	for (const r of roots) {
		const d = path.join(r, name);
		if (fs.existsSync(path.join(d, 'package.json'))) return d;
	}
	throw new Error(`package ${name} not found in NODE_PATH=${process.env.NODE_PATH}` +
		' (tests/interop/npm-install installs it)');
}

// The ES module entry of an installed package: exports["."] (its import
// or default condition), else module, else main.
async function esm(name) {
	const dir = packageDir(name);
	const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
	let e = pkg.exports && (typeof pkg.exports === 'string' ? pkg.exports : pkg.exports['.']);
	while (e && typeof e === 'object') e = e.import || e.node || e.default;
	const entry = e || pkg.module || pkg.main || 'index.js';
	return import(pathToFileURL(path.join(dir, entry)).href);
}

// What a thrown error carries, whichever library threw it: the OAuth
// error members (openid-client's OPError, oauth4webapi's OAuth2Error),
// and the HTTP answer (simple-oauth2's Boom errors carry it in data).
function describe(e) {
	if (e === null || typeof e !== 'object') return { value: String(e) };
	const d = { name: e.name || e.constructor?.name, message: e.message };
	for (const k of ['stage', 'code', 'error', 'error_description', 'claim', 'reason']) {
		if (e[k] !== undefined) d[k] = e[k];
	}
	if (e.response) {
		d.status = e.response.statusCode ?? e.response.status;
		const b = e.response.body;
		if (b !== undefined && typeof b !== 'function') {
			d.body = Buffer.isBuffer(b) || typeof b !== 'object' ? String(b) : b;
		}
	}
	if (e.isBoom) {
		d.status = e.output?.statusCode;
		const p = e.data?.payload;
		d.payload = Buffer.isBuffer(p) ? p.toString() : p;
		d.headers = e.data?.res?.headers;
	}
	return d;
}

// Runs the async f(stage) and marks what it throws with the name of the
// last stage it entered (stage('refresh')), so that a failure says which
// call of a flow failed.
async function staged(f) {
	let at = 'start';
	try {
		return await f((name) => { at = name; });
	} catch (e) {
		if (e && typeof e === 'object') e.stage = at;
		throw e;
	}
}

// A JWT's parts, undecoded signature aside, for the tests to look at.
function jwtParts(token) {
	const [h, p] = token.split('.');
	const dec = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
	return { header: dec(h), claims: dec(p) };
}

function main(steps) {
	const [step, arg] = process.argv.slice(2);
	if (!step || !Object.hasOwn(steps, step)) {
		process.stderr.write(`usage: node ${path.basename(process.argv[1])} ` +
			`{${Object.keys(steps).join('|')}} JSON\n`);
		process.exit(2);
	}
	let params;
	try {
		params = JSON.parse(arg || '{}');
	} catch (e) {
		process.stderr.write(`bad JSON parameters: ${e.message}\n`);
		process.exit(2);
	}
	Promise.resolve()
		.then(() => steps[step](params))
		.then((result) => ({ ok: true, ...result }),
			(e) => ({ ok: false, thrown: describe(e), stack: String(e && e.stack) }))
		.then((out) => {
			process.stdout.write(JSON.stringify(out) + '\n');
		});
}

module.exports = { main, esm, describe, jwtParts, staged };
