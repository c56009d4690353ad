// place_checkout.test.js - a test for Node's test runner whose code under
// test blocks the loop; run as `node --test` under `stallwatch run --js` by
// tests/integration/test_place_node.c, which expects the stall to be
// reported in this test (the callback on the LINE:test marker).
'use strict';
const test = require('node:test');
const { execSync } = require('child_process');

function chargeCard() {
	execSync('sleep 0.2'); // LINE:charge
}

test('checkout is fast', async () => { // LINE:test
	for (let i = 0; i < 5; i++)
		await new Promise((r) => setTimeout(r, 10));
	chargeCard();
});
