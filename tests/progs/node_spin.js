// node_spin.js - a timer callback that spins for 300 ms (CPU-stall test).
'use strict';
function spinInTimer(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x++;
  return x;
}
setTimeout(() => { spinInTimer(300); }, 50);
setTimeout(() => {}, 450);
