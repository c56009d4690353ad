/* page.js - the HTML report's script: the flame graph (zoom, search,
 * tooltips), the stall timeline and the site table, drawn from the data
 * out_html.c writes into the page as D. */
(function () {
'use strict';
/* Every string in D came from a trace file: it only ever reaches the page
 * through textContent or an attribute set with setAttribute on a fixed
 * name, never parsed as markup. */
var D = JSON.parse(document.getElementById('sw-data').textContent);
var drawn = { flame: 0, timeline: 0 };
var ROW = 18;

function mark() {
	document.body.setAttribute('data-ok', 'flame:' + drawn.flame + ' timeline:' +
		drawn.timeline + ' errors:' + (window.swErrors || 0));
}
window.addEventListener('error', function () { setTimeout(mark, 0); });

function el(tag, cls, text) {
	var e = document.createElement(tag);
	if (cls) e.className = cls;
	if (text !== undefined && text !== null) e.textContent = String(text);
	return e;
}
function add(parent, tag, cls, text) {
	var e = el(tag, cls, text);
	parent.appendChild(e);
	return e;
}
function fmtNs(ns) {
	if (ns === null || ns === undefined) return '\u2013';
	if (ns >= 1e10) return (ns / 1e9).toFixed(2) + ' s';
	if (ns >= 1e6) return (ns / 1e6).toFixed(1) + ' ms';
	if (ns >= 1e3) return (ns / 1e3).toFixed(1) + ' \u00b5s';
	return ns + ' ns';
}
function fmtMs(ms) { return ms >= 1000 ? (ms / 1000).toFixed(3) + ' s' : ms.toFixed(1) + ' ms'; }
function pct(a, b) { return b ? (100 * a / b).toFixed(1) + '%' : '\u2013'; }
function kindClass(kind) {
	return ['blocking-call', 'cpu-stall', 'private-loop', 'gil-wait'].indexOf(kind) >= 0 ? 'k-' + kind : 'k-none';
}
function procName(p) { return 'pid ' + p.pid + ' ' + (p.command || p.comm || '?'); }
function frameWhere(f) {
	var w = '';
	if (f.file) w = f.file + (f.line ? ':' + f.line : '');
	if (f.module && f.lang !== 'python') w += (w ? '  ' : '') + '[' + f.module + ']';
	return w;
}

var tip = document.getElementById('tip');
function showTip(ev, lines) {
	while (tip.firstChild) tip.removeChild(tip.firstChild);
	lines.forEach(function (l, i) { if (l) add(tip, 'div', i === 0 ? 't1' : 't2', l); });
	tip.style.display = 'block';
	var x = ev.clientX + 14, y = ev.clientY + 14;
	var w = tip.offsetWidth, h = tip.offsetHeight;
	if (x + w > window.innerWidth - 8) x = Math.max(8, ev.clientX - w - 14);
	if (y + h > window.innerHeight - 8) y = Math.max(8, ev.clientY - h - 14);
	tip.style.left = x + 'px';
	tip.style.top = y + 'px';
}
function hideTip() { tip.style.display = 'none'; }

/* ---- header and summary ---- */
function summary() {
	var loops = 0, stalls = D.stalls.length, blocked = 0;
	D.processes.forEach(function (p) { loops += p.loops.length; });
	D.sites.forEach(function (s) { blocked += s.total_ns; });
	document.getElementById('sub').textContent = D.processes.length + ' process' +
		(D.processes.length === 1 ? '' : 'es') + ', ' + loops + ' event loop' + (loops === 1 ? '' : 's') +
		', ' + stalls + ' stall' + (stalls === 1 ? '' : 's') + ', ' + D.sites.length + ' site' +
		(D.sites.length === 1 ? '' : 's') + ', ' + fmtNs(blocked) + ' blocked or stalled';
	var v = document.getElementById('verdict');
	if (!stalls) add(v, 'div', 'ok', 'No stall: no event loop turn went over its threshold.');
	else {
		var worst = D.stalls.reduce(function (a, b) { return b.dur_ns > a.dur_ns ? b : a; });
		var top = worst.sites.length ? D.sites[worst.sites[0]] : null;
		add(v, 'div', 'bad', 'Longest stall ' + fmtNs(worst.dur_ns) + (top ? ': ' + top.place : ''));
	}
	var tb = document.getElementById('procs'), quiet = [];
	D.processes.forEach(function (p) {
		/* shells and helpers a service runs: one line for all of them */
		if (!p.loops.length) {
			quiet.push(p);
			return;
		}
		p.loops.forEach(function (l) {
			var r = add(tb, 'tr');
			add(r, 'td', 'wrap', procName(p));
			add(r, 'td', null, 'thread ' + l.tid + ' ' + (l.thread_name || '') + ' (loop ' + l.loop_id + ')');
			add(r, 'td', 'num', l.turns);
			add(r, 'td', 'num', (100 * l.utilisation).toFixed(1) + '%');
			add(r, 'td', 'num', fmtNs(l.lag_p50_ns));
			add(r, 'td', 'num', fmtNs(l.lag_p99_ns));
			add(r, 'td', 'num', fmtNs(l.lag_max_ns));
			add(r, 'td', 'num' + (l.stalls ? ' bad' : ''), l.stalls);
			add(r, 'td', 'num', fmtNs(p.threshold_ns));
		});
	});
	if (quiet.length)
		document.getElementById('noloop').textContent = quiet.length + ' process' + (quiet.length === 1 ? '' : 'es') +
			' without an event loop: ' + quiet.slice(0, 12).map(function (p) { return (p.comm || '?') + '[' + p.pid + ']'; }).join(' ') +
			(quiet.length > 12 ? ' \u2026' : '');
}

/* ---- flame graph (icicle: callers on top) ---- */
var flameRoot = null, flameZoom = null, flameDepth = 0, query = '', appOnly = true;
function buildFlame() {
	flameDepth = 0;
	var root = { label: 'all', value: 0, kids: new Map(), parent: null, depth: 0, f: null, count: 0 };
	/* one path per raw stack of a site where the page has it, else the
	 * site's heaviest stack for all of its time */
	function stacksOf(s) {
		var v = s.variants || [], out = [], given = 0;
		v.forEach(function (x, i) {
			var frames = i === 0 ? s.frames : x.frames;
			if (!frames) return;
			out.push({ frames: frames, ns: x.total_ns, count: x.count });
			given += x.total_ns;
		});
		if (!out.length) return [{ frames: s.frames, ns: s.total_ns, count: s.count }];
		if (s.total_ns > given) out[0].ns += s.total_ns - given;
		return out;
	}
	D.sites.forEach(function (s) {
		if (!s.total_ns) return;
		stacksOf(s).forEach(function (st) {
			/* the program's own frames; a stack with none keeps the
			 * site's place */
			var path = st.frames.filter(function (f) { return !appOnly || f.app; });
			if (!path.length && st.frames.length) path = [st.frames[Math.max(0, st.frames.findIndex(function (f) { return f.function === s.func; }))]];
			path = path.slice().reverse();
			path.push({ label: s.kind === 'cpu-stall' ? '[cpu-stall]' : '[' + s.kind + ': ' + (s.call || '?') + ']', lang: 'leaf', kind: s.kind });
			var node = root;
			root.value += st.ns;
			root.count += st.count;
			path.forEach(function (f) {
				var key = String(f.label);
				var c = node.kids.get(key);
				if (!c) {
					c = { label: key, value: 0, kids: new Map(), parent: node, depth: node.depth + 1, f: f, count: 0 };
					node.kids.set(key, c);
				}
				c.value += st.ns;
				c.count += st.count;
				node = c;
				if (node.depth > flameDepth) flameDepth = node.depth;
			});
		});
	});
	(function place(n, x) {
		n.x = x;
		n.list = Array.from(n.kids.values()).sort(function (a, b) { return b.value - a.value; });
		n.list.forEach(function (c) { place(c, x); x += c.value; });
	})(root, 0);
	return root;
}
function hue(label) {
	var h = 0;
	for (var i = 0; i < label.length && i < 40; i++) h = (h * 31 + label.charCodeAt(i)) >>> 0;
	return h;
}
function color(n) {
	var f = n.f, h = hue(n.label);
	if (!f) return '#c9d1d9';
	if (f.lang === 'leaf') return f.kind === 'cpu-stall' ? '#f2b134' : f.kind === 'blocking-call' ? '#e8684a' : f.kind === 'private-loop' ? '#9d6fd6' : '#4aa3df';
	if (f.lang === 'python') return 'hsl(' + (200 + h % 30) + ',62%,' + (68 + h % 12) + '%)';
	if (f.lang === 'js') return 'hsl(' + (48 + h % 12) + ',80%,' + (62 + h % 12) + '%)';
	return 'hsl(' + (26 + h % 22) + ',80%,' + (64 + h % 12) + '%)';
}
function matches(n) { return query && n.label.toLowerCase().indexOf(query) >= 0; }
function drawFlame() {
	var box = document.getElementById('flame');
	while (box.firstChild) box.removeChild(box.firstChild);
	drawn.flame = 0;
	if (!flameRoot.value) {
		add(box, 'div', 'empty', 'No blocked or stalled time was recorded.');
		return;
	}
	var z = flameZoom || flameRoot;
	box.style.height = ((flameDepth + 1) * ROW + 2) + 'px';
	var min = z.value / 1000;
	function node(n, left, width, anc) {
		var d = el('div', 'fn' + (anc ? ' anc' : '') + (matches(n) ? ' hit' : ''), n.label);
		d.style.left = left + '%';
		d.style.width = width + '%';
		d.style.top = (n.depth * ROW) + 'px';
		d.style.background = color(n);
		d.addEventListener('click', function () { flameZoom = n === flameZoom ? n.parent : n; drawFlame(); });
		d.addEventListener('mousemove', function (ev) {
			var f = n.f || {};
			showTip(ev, [n.label, f.lang === 'leaf' ? null : frameWhere(f),
				fmtNs(n.value) + ' (' + pct(n.value, flameRoot.value) + ' of all, ' + n.count + ' occurrence' + (n.count === 1 ? '' : 's') + ')']);
		});
		d.addEventListener('mouseleave', hideTip);
		box.appendChild(d);
		drawn.flame++;
	}
	for (var a = z.parent; a; a = a.parent) node(a, 0, 100, true);
	(function walk(n) {
		if (n.value < min) return;
		node(n, 100 * (n.x - z.x) / z.value, 100 * n.value / z.value, false);
		n.list.forEach(walk);
	})(z);
	var info = document.getElementById('flame-info');
	info.textContent = z === flameRoot ? 'click a frame to zoom in' : 'zoomed to ' + z.label + ' (' + fmtNs(z.value) + '); click it again to zoom out';
	searchInfo();
}
function searchInfo() {
	var total = 0;
	(function walk(n) {
		if (matches(n)) { total += n.value; return; }
		n.list.forEach(walk);
	})(flameRoot);
	document.getElementById('search-info').textContent = query ? 'matched ' + fmtNs(total) + ' (' + pct(total, flameRoot.value) + ')' : '';
}

/* ---- details: a stall or a site with its stacks ---- */
var detail = document.getElementById('detail');
function clearDetail(title) {
	while (detail.firstChild) detail.removeChild(detail.firstChild);
	add(detail, 'h3', null, title);
}
function stackList(parent, frames, full) {
	var ol = add(parent, 'ol', 'stack');
	frames.forEach(function (f) {
		if (!full && !f.app) return;
		var li = add(ol, 'li', (f.lang === 'python' ? 'py' : f.lang === 'js' ? 'js' : '') + (f.app ? ' app' : ''));
		add(li, 'span', null, f.function || f.label);
		var w = frameWhere(f);
		if (w) add(li, 'span', 'loc', '  ' + w);
	});
	return ol;
}
function siteBlock(parent, si, extra) {
	var s = D.sites[si];
	if (!s) return;
	var b = add(parent, 'div', 'site');
	add(b, 'div', 'hd', s.place + ' \u2014 ' + fmtNs(s.total_ns) + ' in ' + s.count + ' occurrence' +
		(s.count === 1 ? '' : 's') + ', worst ' + fmtNs(s.max_ns) + (extra || ''));
	if (s.loc) add(b, 'div', 'mono', 'at ' + s.loc);
	if (s.src) add(b, 'div', 'mono src', s.src);
	if (s.test) add(b, 'div', 'sub', 'in test ' + s.test);
	if (s.variants && s.variants.length > 1)
		add(b, 'div', 'sub', s.variants.length + ' distinct stacks; the heaviest (' + fmtNs(s.variants[0].total_ns) + '):');
	/* the program's own frames first; the whole stack one click away */
	var app = s.frames.some(function (f) { return f.app; });
	var box = add(b, 'div');
	stackList(box, s.frames, !app);
	if (app) {
		var btn = add(b, 'button', 'full', 'full stack');
		btn.setAttribute('type', 'button');
		btn.addEventListener('click', function () {
			var full = btn.textContent === 'full stack';
			while (box.firstChild) box.removeChild(box.firstChild);
			stackList(box, s.frames, full);
			btn.textContent = full ? 'program frames only' : 'full stack';
		});
	}
	if (!s.frames.length) add(b, 'div', 'loc', '(no stack)');
}
function showStall(si) {
	var st = D.stalls[si], p = D.processes[st.p];
	clearDetail('Stall of ' + fmtNs(st.dur_ns) + ' at ' + fmtMs(st.start_ms) + ' \u2014 ' + procName(p) + ', thread ' + st.tid);
	if (st.test) add(detail, 'div', 'sub', 'in test ' + st.test);
	add(detail, 'div', 'sub', 'blocked ' + fmtNs(st.blocked_ns) + ', on CPU ' + fmtNs(st.cpu_ns) +
		(st.off_cpu_ns ? ', off CPU ' + fmtNs(st.off_cpu_ns) + ' (waiting for a core, or in a call no wrapper saw)' : '') +
		(st.sites.length ? '' : '; no stack explains it'));
	var calls = D.events.filter(function (e) { return e.stall === si; });
	if (calls.length) {
		var ul = add(detail, 'ul');
		calls.slice(0, 50).forEach(function (e) {
			var s = D.sites[e.site];
			add(ul, 'li', 'mono', (s ? s.place : '?') + ' took ' + fmtNs(e.dur_ns) + ' at ' + fmtMs(e.start_ms) + (e.count > 1 ? ' (\u00d7' + e.count + ')' : ''));
		});
	}
	st.sites.forEach(function (x) { siteBlock(detail, x); });
}
function showSite(si) {
	clearDetail('Place #' + (si + 1));
	siteBlock(detail, si);
}

/* ---- timeline: one track per loop thread, a bar per stall, one time axis for all ---- */
function timeline() {
	var box = document.getElementById('timeline');
	var tracks = [], t0 = Infinity, t1 = -Infinity;
	D.processes.forEach(function (p, pi) {
		p.loops.forEach(function (l, li) {
			var mine = [];
			D.stalls.forEach(function (st, si) { if (st.p === pi && st.loop === li) mine.push(si); });
			t0 = Math.min(t0, l.born_ms);
			t1 = Math.max(t1, l.last_ms);
			mine.forEach(function (si) {
				var st = D.stalls[si];
				t0 = Math.min(t0, st.start_ms);
				t1 = Math.max(t1, st.start_ms + st.dur_ns / 1e6);
			});
			tracks.push({ p: p, pi: pi, l: l, mine: mine });
		});
	});
	if (!tracks.length) {
		add(box, 'div', 'empty', 'No event loop was seen.');
		return;
	}
	if (!(t1 > t0)) t1 = t0 + 1;
	tracks.forEach(function (tr) {
		var p = tr.p, pi = tr.pi, l = tr.l, mine = tr.mine;
		var row = add(box, 'div', 'tl-row');
		var lab = add(row, 'div', 'tl-label', procName(p) + ' \u00b7 thread ' + l.tid + ' ' + (l.thread_name || '') +
			' \u00b7 ' + mine.length + ' stall' + (mine.length === 1 ? '' : 's'));
		lab.setAttribute('title', lab.textContent);
		var track = add(row, 'div', 'tl-track');
		D.events.forEach(function (e) {
			if (e.p !== pi || e.tid !== l.tid || e.stall >= 0 || e.start_ms < t0 || e.start_ms > t1) return;
			var t = add(track, 'div', 'tick');
			t.style.left = (100 * (e.start_ms - t0) / (t1 - t0)) + '%';
		});
		mine.forEach(function (si) {
			var st = D.stalls[si];
			var top = st.sites.length ? D.sites[st.sites[0]] : null;
			var bar = add(track, 'div', 'bar ' + kindClass(top ? top.kind : ''));
			bar.style.left = (100 * (st.start_ms - t0) / (t1 - t0)) + '%';
			bar.style.width = (100 * (st.dur_ns / 1e6) / (t1 - t0)) + '%';
			bar.addEventListener('click', function () {
				Array.prototype.forEach.call(document.querySelectorAll('.bar.sel'), function (b) { b.classList.remove('sel'); });
				bar.classList.add('sel');
				showStall(si);
			});
			bar.addEventListener('mousemove', function (ev) {
				showTip(ev, ['stall ' + fmtNs(st.dur_ns) + ' at ' + fmtMs(st.start_ms), top ? top.place : 'no stack',
					top && top.src ? top.src : null, 'click for its stacks']);
			});
			bar.addEventListener('mouseleave', hideTip);
			drawn.timeline++;
		});
	});
	var row = add(box, 'div', 'tl-row');
	add(row, 'div', 'tl-label sub', 'time since the first process started');
	var axis = add(row, 'div', 'tl-axis');
	for (var k = 0; k <= 4; k++) add(axis, 'span', null, fmtMs(t0 + (t1 - t0) * k / 4));
}

/* ---- places: one row each ---- */
function sites() {
	var tb = document.getElementById('sites');
	D.sites.slice(0, 100).forEach(function (s, i) {
		var r = add(tb, 'tr', 'click');
		add(r, 'td', 'num', i + 1);
		add(r, 'td', null, s.kind + (s.strict_only ? ' (strict)' : ''));
		add(r, 'td', 'mono wrap' + (s.app ? '' : ' lib'), s.place || '\u2013');
		add(r, 'td', 'num', s.count);
		add(r, 'td', 'num', fmtNs(s.total_ns));
		add(r, 'td', 'num', fmtNs(s.max_ns));
		var src = add(r, 'td', 'mono wrap');
		if (s.loc) add(src, 'div', 'loc', s.loc);
		if (s.src) add(src, 'div', 'src', s.src);
		add(r, 'td', 'wrap', s.test || '');
		r.addEventListener('click', function () { showSite(i); detail.scrollIntoView({ block: 'nearest' }); });
	});
	if (!D.sites.length) {
		var r = add(tb, 'tr');
		var td = add(r, 'td', 'empty', 'No places: nothing blocked or stalled an event loop.');
		td.setAttribute('colspan', '8');
	}
}

function notes() {
	var ul = document.getElementById('notes');
	(D.notes || []).forEach(function (n) { add(ul, 'li', null, n); });
	var box = document.getElementById('notes-box');
	if (!(D.notes || []).length) box.parentNode.removeChild(box);
}

summary();
timeline();
sites();
flameRoot = buildFlame();
drawFlame();
document.getElementById('search').addEventListener('input', function (ev) {
	query = ev.target.value.toLowerCase();
	drawFlame();
});
document.getElementById('reset').addEventListener('click', function () { flameZoom = null; drawFlame(); });
document.getElementById('apponly').addEventListener('change', function (ev) {
	appOnly = ev.target.checked;
	flameZoom = null;
	flameRoot = buildFlame();
	drawFlame();
});
notes();
mark();
})();
