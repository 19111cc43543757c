#!/usr/bin/env node
// RSA PKCS#1 v1.5 verify (firmware/tls/rsa.ts) in the real interpreter:
//   node --import tsx bench/tls-rsa.mjs
// Native x86-64 Linux Espruino 2v29 (ESPRUINO64_BIN) for
// times: per-key setup (R² mod n), verify with key.m ready, verify with the setup, the longest
// slice; the ESP32-sized 32-bit interpreter under qemu (ESPRUINO_BIN) for JsVars during a verify. Keys are made by Node's crypto.
import { bundleModule } from '../build.mjs';
import { generateKeyPairSync, sign, createHash } from 'node:crypto';
import { ESP32_BIN, NATIVE_BIN, usable, runResult } from './interpreters.mjs';

const NATIVE = NATIVE_BIN;
const ESP32 = ESP32_BIN;
const row = (k, v) => console.log(`${k.padEnd(58)} ${v}`);

const { code, bytes } = await bundleModule('firmware/tls/rsa.ts');
row('firmware/tls/rsa.ts bundle (bundleModule, with bignum.ts and slices.ts)', `${bytes.toLocaleString('en')} B`);

const bin = (b) => Buffer.from(b).toString('latin1');
const lit = (s) => JSON.stringify(s);
function vector(bits, e = 65537, hash = 'sha256') {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: e });
  const n = bin(Buffer.from(publicKey.export({ format: 'jwk' }).n, 'base64url'));
  const msg = Buffer.from(`bench ${bits}`);
  return { n, e, hash: hash.toUpperCase(), sig: bin(sign(hash, msg, privateKey)), digest: bin(createHash(hash).update(msg).digest()) };
}

// Device-side harness: wraps setTimeout to time each slice (work() between two timers), runs the
// cases one after the other and prints one JSON line per case.
const harness = `
var cases = __CASES__, out = [], ci = 0;
var st = setTimeout, longest = 0;
var probe = false, peak = 0;
global.setTimeout = function (f, ms) {
  return st(function () {
    var t = getTime();
    f();
    var d = getTime() - t;
    if (d > longest) longest = d;
    if (probe) { var u = process.memory().usage; if (u > peak) peak = u; }
  }, ms);
};
function next() {
  if (ci >= cases.length) { print('RESULT ' + JSON.stringify(out)); quit(); return; }
  var c = cases[ci++], key = { n: c.n, e: c.e };
  if (c.prep) { var t0 = getTime(); rsaPrepare(key); c.setupMs = (getTime() - t0) * 1000; }
  var mem0 = process.memory().usage;
  peak = mem0;
  probe = !!c.mem;
  longest = 0;
  var t1 = getTime();
  rsaVerify(key, c.hash, c.digest, c.sig, function (ok) {
    var ms = (getTime() - t1) * 1000;
    probe = false;
    var r = { name: c.name, ok: ok, ms: ms, longest: longest * 1000, setupMs: c.setupMs };
    out.push(r);
    // after: once the verify's last slice has returned; the key (and its m) still held, then dropped
    st(function () {
      if (c.mem) { r.before = mem0; r.peak = peak; r.after = process.memory().usage; key = null; r.afterFree = process.memory().usage; }
      st(next, 0);
    }, 0);
  });
}
st(next, 0);
`;

/** cases through the harness in the interpreter at binPath (timeout in seconds) */
function run(binPath, cases, timeout) {
  return runResult(binPath, code + '\n' + harness.replace('__CASES__', JSON.stringify(cases)), timeout * 1000);
}

const k2048 = vector(2048);
const k4096 = vector(4096);
const k2048e3 = vector(2048, 3, 'sha384');
if (!usable(NATIVE)) {
  row('native interpreter', `absent (${NATIVE}): skipped`);
} else {
  const res = await run(
    NATIVE,
    [
      { name: 'RSA-2048 e=65537, setup at first use (lazy)', ...k2048 },
      { name: 'RSA-2048 e=65537, key.m ready (rsaPrepare)', ...k2048, prep: true },
      { name: 'RSA-2048 e=3 SHA384, key.m ready', ...k2048e3, prep: true },
      { name: 'RSA-4096 e=65537, setup at first use (lazy)', ...k4096 },
      { name: 'RSA-4096 e=65537, key.m ready (rsaPrepare)', ...k4096, prep: true },
    ],
    300,
  );
  console.log(`native x86-64 interpreter (${NATIVE}):`);
  for (const r of res) {
    row(`  ${r.name}: verify`, `${r.ms.toFixed(0)} ms (ok=${r.ok}), longest slice ${r.longest.toFixed(2)} ms`);
    if (r.setupMs !== undefined) row(`  ${r.name}: rsaPrepare (per-key setup, blocking)`, `${r.setupMs.toFixed(0)} ms`);
  }
}
if (process.argv.includes('--no-memory')) process.exit(0);
if (!usable(ESP32)) {
  row('ESP32-sized interpreter', `absent (${ESP32}): skipped`);
} else {
  const res = await run(
    ESP32,
    [
      { name: 'RSA-2048 lazy setup', ...k2048, mem: true },
      { name: 'RSA-2048 key.m ready', ...k2048, prep: true, mem: true },
    ],
    600,
  );
  console.log(`ESP32-sized 32-bit interpreter under qemu (${ESP32}), process.memory().usage in JsVars:`);
  for (const r of res) {
    row(
      `  ${r.name}: before / peak / after done / key dropped`,
      `${r.before} / ${r.peak} / ${r.after} / ${r.afterFree} (ok=${r.ok}, ${r.ms.toFixed(0)} ms under qemu)`,
    );
  }
}
