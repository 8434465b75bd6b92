// wkd-get.mjs: look an address up with OpenPGP.js's WKD client and parse
// the answer with OpenPGP.js, for tests/interop/t_openpgpjs.sh.
//
//	node --use-openssl-ca wkd-get.mjs ADDRESS
//
// Prints one line of JSON on stdout:
//	{"found":true,"keys":[{"fingerprint":..,"revoked":..,"uids":[..]}],
//	 "requests":[{"url":..,"status":..}]}
// or {"found":false,"error":..,"requests":[..]}.  "requests" lists every
// HTTPS request the client made (status 0: no response, with "error").
// Exit status: 0 found, 2 not found (every request answered, none 200),
// 1 anything else (TLS, connection or parse error).
import WKD from '@openpgp/wkd-client';
import * as openpgp from 'openpgp';

const requests = [];
const realFetch = globalThis.fetch;

// Record what the client asks for; the client logic stays its own.
globalThis.fetch = async (url, opts) => {
	const r = { url: String(url), status: 0 };
	requests.push(r);
	try {
		const res = await realFetch(url, opts);
		r.status = res.status;
		return res;
	} catch (e) {
		r.error = String(e.cause ? e.cause.code || e.cause : e);
		throw e;
	}
};

function out(obj, code) {
	process.stdout.write(JSON.stringify(obj) + '\n');
	process.exitCode = code;
}

async function main(addr) {
	let bytes;
	try {
		bytes = await new WKD().lookup({ email: addr });
	} catch (e) {
		const answered = requests.length > 0 &&
		    requests.every((r) => r.status !== 0);
		out({ found: false, error: String(e.message || e), requests },
		    answered ? 2 : 1);
		return;
	}
	const keys = await openpgp.readKeys({ binaryKeys: bytes });
	const res = [];
	for (const k of keys) {
		res.push({
			fingerprint: k.getFingerprint().toUpperCase(),
			revoked: await k.isRevoked(),
			uids: k.getUserIDs(),
		});
	}
	out({ found: true, keys: res, requests }, 0);
}

if (process.argv.length !== 3) {
	process.stderr.write('usage: wkd-get.mjs ADDRESS\n');
	process.exit(1);
}
main(process.argv[2]).catch((e) => {
	out({ found: false, error: String(e.message || e), requests }, 1);
});
