// node_execsync.js - execSync in a timer: node waits on a private
// event loop (a second epoll fd) while the main loop is stuck.
'use strict';
const { execSync } = require('child_process');
setTimeout(() => { execSync('sleep 0.25'); }, 50);
setTimeout(() => {}, 450);
