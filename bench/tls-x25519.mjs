#!/usr/bin/env node
// X25519 figures (firmware/tls/x25519.ts), printed, never asserted:
//   node --import tsx bench/tls-x25519.mjs [--runs 5]
// 1. bundle bytes of the module (bundleModule: tsc ES5 → esbuild → terser → dehoist → gates)
// 2. native x86-64 Linux interpreter (ESPRUINO64_BIN):
//    one scalar multiplication (min and median of --runs), one field multiplication (fill + mulF),
//    the longest slice and the number of slices, and the radixes compared (same code pattern,
//    unrolled, for 16 × 16, 15 × 17 and 13 × 20 bits) besides a TweetNaCl-style interpreted loop
// 3. ESP32-sized interpreter (ESPRUINO_BIN: 32-bit, 16,383
//    JsVars, under qemu, so its times are not the board's): process.memory().usage before,
//    during (the peak seen at slice ends) and after one scalar multiplication
// The machine is shared: each native figure is the best of several runs (less disturbed).

import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { bundleModule } from '../build.mjs';
import { ESP32_BIN, NATIVE_BIN, usable, runResult } from './interpreters.mjs';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const row = (k, v) => console.log(`${k.padEnd(58)} ${v}`);
const dir = mkdtempSync(join(tmpdir(), 'bench-x25519-'));
/** runs `script` in the interpreter `bin`; resolves with the JSON after "RESULT " */
const run = (bin, script) => runResult(bin, script, 900000);
const ms = (s) => `${(s * 1000).toFixed(s < 0.01 ? 3 : 1)} ms`;
const us = (s) => `${(s * 1e6).toFixed(1)} µs`;

// the RFC 7748 §5.2 vector 1, whose answer the scripts check
const K = Buffer.from('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4', 'hex');
const U = Buffer.from('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c', 'hex');
const OUT = 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552';
// sanity of the vector against Node (so a typo here cannot make a wrong bundle look right)
{
  const { diffieHellman } = await import('node:crypto');
  const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), K]), format: 'der', type: 'pkcs8' });
  const pub = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), U]), format: 'der', type: 'spki' });
  if (diffieHellman({ privateKey: priv, publicKey: pub }).toString('hex') !== OUT) throw new Error('bench vector is wrong');
}

const x = await bundleModule('firmware/tls/x25519.ts');
const field = await bundleModule('firmware/tls/field25519.ts');
console.log('== X25519 (RFC 7748), firmware/tls/x25519.ts + field25519.ts ==');
row('bundle bytes of x25519.ts (with field25519.ts, slices.ts)', x.bytes);

// One scalar multiplication with every slice timed: setTimeout is wrapped so that each callback
// reports its own duration. The memory variant samples process.memory() at each slice's end.
const scalarScript = (memory) => `${x.code}
var sliceMax = 0, slices = 0, peak = 0, st = setTimeout;
global.setTimeout = function (f, t) {
  return st(function () {
    var t0 = getTime();
    f();
    var d = getTime() - t0;
    slices++;
    if (d > sliceMax) sliceMax = d;
    ${memory ? 'var m = process.memory().usage; if (m > peak) peak = m;' : ''}
  }, t);
};
var before = 0, total = 0, h = "";
st(function () {
  ${memory ? 'before = process.memory().usage;' : ''}
  var t0 = getTime();
  x25519(atob("${K.toString('base64')}"), atob("${U.toString('base64')}"), function (o) {
    total = getTime() - t0;
    h = o;
  });
}, 10);
(function wait() {
  if (!h) return st(wait, 50);
  global.setTimeout = st;
  var x = "";
  for (var i = 0; i < 32; i++) x += (256 + h.charCodeAt(i)).toString(16).substr(1);
  print("RESULT " + JSON.stringify({ ok: x === "${OUT}", total: total, sliceMax: sliceMax, slices: slices
    ${memory ? ', before: before, peak: peak, after: process.memory().usage' : ''} }));
  quit();
})();
`;

// Field multiplication in the bundled field25519.ts: fill (the spread of b) + mulF, and the
// additions, n times each, best of 5.
const fieldScript = `${field.code}
var a = new Float64Array(N), b = new Float64Array(N), o = new Float64Array(N), f = new Float64Array(2 * N), fo = new Float64Array(2 * N);
for (var i = 0; i < N; i++) { a[i] = 300001 - 46337 * i; b[i] = -262143 + 40503 * i; }
function best(fn, n) {
  var b = 1e9;
  for (var r = 0; r < 5; r++) { var t = getTime(); for (var k = 0; k < n; k++) fn(); var d = (getTime() - t) / n; if (d < b) b = d; }
  return b;
}
var empty = best(function () {}, 200);
print("RESULT " + JSON.stringify({
  mul: best(function () { fill(f, b); mulF(o, a, f); }, 200) - empty,
  mulF: best(function () { mulF(o, a, f); }, 200) - empty,
  fill: best(function () { fill(f, b); }, 200) - empty,
  mulFF: best(function () { mulFF(o, a, f, fo); }, 200) - empty,
  addF: best(function () { addF(o, a, b, f); }, 200) - empty,
  add: best(function () { add(o, a, b); }, 200) - empty,
  addMulF: best(function () { addMulF(o, a, b, 121665, f); }, 200) - empty
}));
quit();
`;

// The radixes compared: the same unrolled fill + convolve-and-carry as field25519.ts, generated
// here for n limbs of `bits` bits with fold factor 2^(n·bits) mod p; and a TweetNaCl-style
// interpreted multiplication (16 × 16 bits, the naive design) for reference.
function radixMul(n, bits, fold) {
  let fill = '';
  let conv = '';
  for (let i = 0; i < n; i++) fill += `v=b[${i}];f[${n - 1 - i}]=v;f[${2 * n - 1 - i}]=${fold}*v;`;
  for (let i = 0; i < n; i++) conv += `v=g(a,f,${n - 1 - i})+c;h=v+r-r;o[${i}]=v-h;c=h*q;`;
  return `function (o, a, b, f) { var g = E.convolve, r = 1.5 * 4503599627370496 * ${2 ** bits}, q = 1 / ${2 ** bits}, v, h, c = 0; ${fill} ${conv}
    v = o[0] + ${fold} * c; h = v + r - r; o[0] = v - h; v = o[1] + h * q; h = v + r - r; o[1] = v - h; o[2] += h * q; }`;
}
const radixScript = `
function best(fn, n, o, a, b, f) {
  var bb = 1e9;
  for (var r = 0; r < 5; r++) { var t = getTime(); for (var k = 0; k < n; k++) fn(o, a, b, f); var d = (getTime() - t) / n; if (d < bb) bb = d; }
  return bb;
}
function arrays(n, bits) {
  var a = new Float64Array(n), b = new Float64Array(n);
  for (var i = 0; i < n; i++) { a[i] = (i * 7919) % (1 << (bits - 1)); b[i] = (i * 104729) % (1 << (bits - 1)); }
  return [new Float64Array(n), a, b, new Float64Array(2 * n)];
}
function naive(o, a, b) { // TweetNaCl's M(): 256 interpreted multiply-adds, then two carry passes
  var t = naive.t, i, j, c, v;
  for (i = 0; i < 31; i++) t[i] = 0;
  for (i = 0; i < 16; i++) for (j = 0; j < 16; j++) t[i + j] += a[i] * b[j];
  for (i = 0; i < 15; i++) t[i] += 38 * t[i + 16];
  for (i = 0; i < 16; i++) o[i] = t[i];
  for (j = 0; j < 2; j++) { c = 1; for (i = 0; i < 16; i++) { v = o[i] + c + 65535; c = Math.floor(v / 65536); o[i] = v - c * 65536; } o[0] += c - 1 + 37 * (c - 1); }
}
naive.t = new Float64Array(31);
var empty = best(function () {}, 200, 0, 0, 0, 0);
var res = {}, A;
A = arrays(16, 16); res.r16 = best(${radixMul(16, 16, 38)}, 200, A[0], A[1], A[2], A[3]) - empty;
A = arrays(15, 17); res.r15 = best(${radixMul(15, 17, 19)}, 200, A[0], A[1], A[2], A[3]) - empty;
A = arrays(13, 20); res.r13 = best(${radixMul(13, 20, 608)}, 200, A[0], A[1], A[2], A[3]) - empty;
A = arrays(16, 16); res.naive = best(naive, 50, A[0], A[1], A[2], A[3]) - empty;
var s = 0, t0 = getTime(); for (var k = 0; k < 1000; k++) { s += k * 3; } res.loop = getTime() - t0;
print("RESULT " + JSON.stringify(res));
quit();
`;

const native = NATIVE_BIN;
if (!usable(native)) {
  console.log('\nESPRUINO64_BIN is not set (or not executable): native figures skipped');
} else {
  console.log(`\n== native x86-64 Linux interpreter (${native}); best of ${runs} where it says so ==`);
  const all = [];
  for (let i = 0; i < runs; i++) all.push(await run(native, scalarScript(false)));
  if (!all.every((r) => r.ok)) throw new Error('a run gave the wrong result');
  const totals = all.map((r) => r.total).sort((a, b) => a - b);
  row('one scalar multiplication (min / median)', `${ms(totals[0])} / ${ms(totals[totals.length >> 1])}`);
  const fastest = all.find((r) => r.total === totals[0]);
  row('slices (work() calls) in one multiplication', fastest.slices);
  row('longest slice (in the fastest run / least over the runs)', `${ms(fastest.sliceMax)} / ${ms(Math.min(...all.map((r) => r.sliceMax)))}`);
  const f = await run(native, fieldScript);
  row('field multiplication: fill + mulF (mulF alone, fill alone)', `${us(f.mul)} (${us(f.mulF)}, ${us(f.fill)})`);
  row('mulFF (mulF + spread of the product)', us(f.mulFF));
  row('addF (add + spread) / add / addMulF (carried + spread)', `${us(f.addF)} / ${us(f.add)} / ${us(f.addMulF)}`);
  const r = await run(native, radixScript);
  row('radix 16 × 16 bits, fold 38: fill + convolve mul', us(r.r16));
  row('radix 15 × 17 bits, fold 19: fill + convolve mul', us(r.r15));
  row('radix 13 × 20 bits, fold 608: fill + convolve mul (chosen)', us(r.r13));
  row('TweetNaCl-style interpreted mul (16 × 16 bits, loops)', us(r.naive));
  row('interpreter loop rate: for(k<1000) s+=k*3', ms(r.loop));
}

const small = ESP32_BIN;
if (!usable(small)) {
  console.log('\nESPRUINO_BIN is not set (or not executable): JsVars skipped');
} else {
  console.log(`\n== ESP32-sized interpreter (${small}): JsVars (process.memory().usage) ==`);
  const m = await run(small, scalarScript(true));
  if (!m.ok) throw new Error('the ESP32-sized interpreter gave the wrong result');
  row('before / peak during (at slice ends) / after', `${m.before} / ${m.peak} / ${m.after}`);
  row('JsVars the multiplication holds at its peak', m.peak - m.before);
  row('one scalar multiplication here (qemu: not a board figure)', ms(m.total));
}
rmSync(dir, { recursive: true, force: true });
