// fault_same.js - a small Node program with deterministic output, for the
// "same output" fault test (tests/integration/test_faults.c): run with and
// without the shim it must print the same bytes and exit with the same
// status (4).  It blocks the loop (a busy loop, sync file I/O, execSync),
// and checks its own data file.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { execSync } = require('child_process');

const dir = process.argv[2] || '.';
const data = path.join(dir, 'same-js.dat');

function spin(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x++;
  return x > 0;
}

let n = 0;
function tick() {
  spin(60);
  fs.appendFileSync(data, Buffer.alloc(1024, n));
  console.log('tick', n);
  if (++n < 4) {
    setTimeout(tick, 5);
    return;
  }
  const out = execSync('echo child says hi').toString().trim();
  console.log('child', out);
  const buf = fs.readFileSync(data);
  const h = crypto.createHash('sha256').update(buf).digest('hex').slice(0, 16);
  console.log('data', buf.length, h);
  for (let i = 0; i < 200; i++) console.log('line', i, 'x'.repeat(i % 50));
  process.exitCode = 4;
}

try { fs.unlinkSync(data); } catch (e) { /* first run */ }
setTimeout(tick, 5);
