#!/usr/bin/env node
// Figures for the symmetric side of TLS 1.2 (firmware/tls/gcm.ts, hmac.ts, prf.ts), printed, never
// asserted:   node --import tsx bench/tls-gcm.mjs
// Times come from the native x86-64 Linux build of Espruino 2v29 (ESPRUINO64_BIN;
// skipped when absent). JsVars of one Gcm (its GHASH tables) come from
// the ESP32-sized 32-bit build under qemu (ESPRUINO_BIN;
// skipped when absent), whose JsVars are the board's size. The modules are bundled as the firmware
// is (bundleModule) and run together in one interpreter.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleModule } from '../build.mjs';
import { ESP32_BIN, NATIVE_BIN, usable } from './interpreters.mjs';

const row = (k, v) => console.log(`${k.padEnd(60)} ${v}`);

const mods = ['hmac', 'prf', 'gcm'];
const bundles = {};
console.log('== bundle bytes (bundleModule: tsc ES5 → esbuild → terser → dehoist; each alone) ==');
for (const m of mods) {
  bundles[m] = await bundleModule(`firmware/tls/${m}.ts`);
  row(`firmware/tls/${m}.ts`, `${bundles[m].bytes} bytes`);
}
const code = mods.map((m) => bundles[m].code).join('\n;\n');

/** run code + script in the interpreter, return what it printed up to the END marker */
function runScript(bin, script, timeoutMs) {
  const dir = mkdtempSync(join(tmpdir(), 'tls-gcm-'));
  const file = join(dir, 'bench.js');
  writeFileSync(file, `${code}\n;\n${script}\nprint('@@END');\n`, 'latin1');
  return new Promise((resolve) => {
    const p = spawn(bin, [file], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let outText = '';
    const finish = () => {
      clearTimeout(timer);
      p.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      resolve(outText);
    };
    const timer = setTimeout(finish, timeoutMs);
    p.stdout.on('data', (d) => {
      outText += d.toString('latin1');
      if (outText.includes('@@END')) finish();
    });
  });
}

const lines = (text) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('@'))
    .map((l) => l.slice(1).trim())
    .filter((l) => l !== '@END');

// times in ms per call, the least of 7 runs of n calls (the host is shared: other load only adds)
const TIMING = `
function rnd(n){ var s=''; for (var i=0;i<n;i++) s+=String.fromCharCode((i*73+41)&255); return s; }
function per(n, f){ var best=[]; for (var r=0;r<7;r++){ var t=getTime(); for (var i=0;i<n;i++) f(); best.push((getTime()-t)*1000/n); } best.sort(function(a,b){return a-b;}); return best[0]; }
function out(k, v){ print('@' + k + '|' + v.toFixed(3)); }
var key = rnd(16), nonce = rnd(12), aad = rnd(13), p100 = rnd(100), p1000 = rnd(1000), big = rnd(1600);
var t = getTime(); var g = createGcm(key); out('createGcm, first (H = E(K,0), nibble tables, reduction table)', (getTime()-t)*1000);
out('createGcm (H = E(K,0), nibble tables), least of 7', per(1, function(){ createGcm(key); }));
var s100 = g.seal(nonce, aad, p100), s1000 = g.seal(nonce, aad, p1000);
var a0 = per(3, function(){ g.open(nonce, '', s1000); }), a1 = per(3, function(){ g.open(nonce, big, s1000); });
out('GHASH per 16-byte block (1,600 bytes of AAD more, /100)', (a1 - a0) / 100);
out('seal 100-byte record (13-byte AAD)', per(10, function(){ g.seal(nonce, aad, p100); }));
out('open 100-byte record (13-byte AAD)', per(10, function(){ g.open(nonce, aad, s100); }));
out('seal 1,000-byte record (13-byte AAD)', per(3, function(){ g.seal(nonce, aad, p1000); }));
out('open 1,000-byte record (13-byte AAD)', per(3, function(){ g.open(nonce, aad, s1000); }));
var bad = s100.substr(0, 100) + 'xxxxxxxxxxxxxxxx';
out('open 100-byte record, wrong tag (null)', per(10, function(){ g.open(nonce, aad, bad); }));
var aesIn = rnd(16 * 64), zk = rnd(16), A = require('crypto').AES;
out('native AES-ECB, 64 blocks in one call', per(10, function(){ A.encrypt(aesIn, zk, {mode: 'ECB'}); }));
out('hmacSha256 (32-byte key, 100-byte message)', per(20, function(){ hmacSha256(rnd(32), p100); }) - per(20, function(){ rnd(32); }));
var pre = rnd(32), seed64 = rnd(64);
out('prf 48 bytes (master secret: 32-byte secret, 64-byte seed)', per(10, function(){ prf(pre, 'master secret', seed64, 48); }));
out('prf 40 bytes (key expansion for AES-128-GCM: 48-byte secret)', per(10, function(){ prf(rnd(48), 'key expansion', seed64, 40); }) - per(10, function(){ rnd(48); }));
out('prf 12 bytes (Finished verify_data)', per(10, function(){ prf(s100.substr(0, 48), 'client finished', rnd(32), 12); }));
out('loop rate: for(k=0;k<1000;k++){s+=k*3;}', per(3, function(){ var s=0; for (var k=0;k<1000;k++){s+=k*3;} }));
`;

const native = NATIVE_BIN;
console.log(`\n== times in the native interpreter (${native}; ms, least of 7 runs) ==`);
if (!usable(native)) console.log('skipped: no native interpreter (set ESPRUINO64_BIN)');
else {
  for (const l of lines(await runScript(native, TIMING, 120000))) {
    const [k, v] = l.split('|');
    row(k, `${v} ms`);
  }
}

const small = ESP32_BIN;
console.log(`\n== JsVars in the ESP32-sized interpreter (${small}, under qemu) ==`);
if (!usable(small)) console.log('skipped: no ESP32-sized interpreter (set ESPRUINO_BIN)');
else {
  const MEM = `
var m0 = process.memory().usage; var g1 = createGcm('0123456789abcdef'); var m1 = process.memory().usage;
var g2 = createGcm('fedcba9876543210'); var m2 = process.memory().usage;
print('@first Gcm (+ the shared reduction table and scratch block)|' + (m1 - m0));
print('@JsVars per Gcm (the second: key, 512 B of nibble tables)|' + (m2 - m1));
print('@both Gcm of a connection (client and server write keys)|' + (m2 - m0));
print('@JsVars in use / total after both|' + m2 + ' / ' + process.memory().total);
`;
  for (const l of lines(await runScript(small, MEM, 180000))) {
    const [k, v] = l.split('|');
    row(k, `${v} JsVars`);
  }
}
