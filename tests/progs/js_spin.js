// js_spin.js - a timer callback that spins the event loop for 350 ms.
// Run with node --perf-basic-prof under stallwatch: the cpu-stall site
// must name spinHard through the perf map the shim copies at exit.
'use strict';

function spinHard(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) {
    x = (x * 31 + 7) % 1000003;
  }
  return x;
}

setTimeout(function tick() {
  spinHard(350);
  setTimeout(() => {}, 20);
}, 30);
