// cart.js - the code under test: busyTotal() burns 200 ms of CPU on the
// event loop before it answers.
'use strict';

function busy(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1); // BUSY-LINE
  return x;
}

function total(prices) {
  return prices.reduce((a, b) => a + b, 0);
}

function busyTotal(prices) {
  busy(200);
  return total(prices);
}

module.exports = { total, busyTotal };
