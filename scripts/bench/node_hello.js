// Node `http` hello-world for `make bench`: one process, loopback only.
// Usage: node node_hello.js PORT
'use strict';
const http = require('http');

const port = Number(process.argv[2]);
const server = http.createServer((req, res) => {
	res.writeHead(200, { 'Content-Type': 'text/plain' });
	res.end('Hello, world\n');
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
