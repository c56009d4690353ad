// place_app.js MODE - a stall planted in a small Node service's own code,
// on Node's built-ins.  Run under `stallwatch run --js` by
// tests/integration/test_place_node.c, which looks for the planted lines
// through their `// LINE:` markers (V8's perf map gives a function's own
// line, so the functions are marked too).  Modes:
//   readfile   fs.readFileSync of a large file, again and again
//   pbkdf2     crypto.pbkdf2Sync with many iterations (CPU in C++)
//   gzip       zlib.gzipSync of a large buffer (CPU in C)
//   exec       child_process.execSync (a private loop)
//   stringify  JSON.stringify of a large object (CPU)
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const zlib = require('zlib');
const { execSync } = require('child_process');

const mode = process.argv[2];
const big = '/tmp/place_app.' + process.pid + '.dat';

function loadCatalog() { // LINE:fn_readfile
	const end = Date.now() + 300;
	while (Date.now() < end)
		fs.readFileSync(big); // LINE:readfile
}

function hashPassword() { // LINE:fn_pbkdf2
	// 0.3 s like the others: one call lasts about 100 ms here, too close
	// to a 100 ms gate
	const end = Date.now() + 300;
	while (Date.now() < end)
		crypto.pbkdf2Sync('secret', 'salt', 200000, 32, 'sha256'); // LINE:pbkdf2
}

function compressReport() { // LINE:fn_gzip
	const buf = crypto.randomBytes(1 << 20);
	const end = Date.now() + 300;
	while (Date.now() < end)
		zlib.gzipSync(buf, { level: 9 }); // LINE:gzip
}

function runBackup() { // LINE:fn_exec
	execSync('sleep 0.25'); // LINE:exec
}

function renderOrders(n, ms) { // LINE:fn_stringify
	const orders = [];
	for (let i = 0; i < n; i++)
		orders.push({ id: i, name: 'order ' + i, lines: [1, 2, 3] });
	const end = Date.now() + ms;
	while (Date.now() < end)
		JSON.stringify(orders); // LINE:stringify
}

const handlers = {
	readfile: loadCatalog,
	pbkdf2: hashPassword,
	gzip: compressReport,
	exec: runBackup,
	/* once small first: V8 then runs the long call through the
	 * function's own interpreter entry, which its perf map names */
	stringify: () => { renderOrders(10, 0); renderOrders(200000, 300); },
};

if (!handlers[mode]) {
	console.error('unknown mode ' + mode);
	process.exit(2);
}
if (mode === 'readfile')
	fs.writeFileSync(big, Buffer.alloc(64 << 20, 1));
setTimeout(() => {
	try {
		handlers[mode]();
	} finally {
		if (mode === 'readfile')
			fs.unlinkSync(big);
	}
}, 50);
setTimeout(() => {}, 500);
