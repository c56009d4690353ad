// cart.test.js - two tests for node --test and Jest alike; only
// "checkout computes total" stalls the loop (cart.busyTotal).
'use strict';

const { total, busyTotal } = require('./cart.js');
const runner = typeof it === 'function' ? { test: it } : require('node:test');
const assert = require('node:assert');

runner.test('adds prices', async () => {
  await new Promise((r) => setTimeout(r, 10));
  assert.strictEqual(total([1, 2]), 3);
});

runner.test('checkout computes total', async () => {
  await new Promise((r) => setTimeout(r, 10));
  assert.strictEqual(busyTotal([1, 2, 3]), 6); // TEST-LINE
});
