#!/usr/bin/env node
// Figures for the flash queue (firmware/store/flash-queue.ts), printed, never asserted:
//   node --import tsx bench/flash-queue.mjs [--readings N]
// The bundled module runs in the host runtime on its model of Espruino Storage (jsflash.c layout,
// aligned writes, streaming compaction) over the ESP32's 224 × 4 KB Storage area, with the
// T-A7670X bundle's size (README: 19,891 bytes) stored first as .bootcde, as on the board.
//   1. bundle bytes of the module
//   2. flash program operations per reading and page erases per 1,000 readings, online (each
//      reading sent and acknowledged at once) and offline (queue full: each push drops one)
//   3. flash held by a full queue and how many days of readings it is, per maxReadings and interval,
//      and whether it fits the Storage area next to the firmware
// RAM is not measured here (the host cannot see values held in closures): the open queue keeps two
// segment records of 8 numbers and a dozen variables, whatever maxReadings is.
import { bundleModule } from '../build.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';
import { ESP32_STORAGE_BYTES, FLASH_PAGE_SIZE } from '../host/runtime/flash.mjs';

const N = Number(process.argv[process.argv.indexOf('--readings') + 1]) || 30000;
const BOOT = 19891;
const ENDURANCE = 100000; // erase cycles per sector, typical SPI NOR datasheet figure
const row = (k, v) => console.log(`${k.padEnd(62)} ${v}`);
// a reading as the firmware makes it (README): 86-88 bytes
const R = (i) => `{"ts":"2026-11-23T11:09:10Z","t":25.08,"p":1006.53,"h":45.21,"rssi":-67,"up":${i}}`;

const bundle = await bundleModule('firmware/store/flash-queue.ts');

function device() {
  const d = createEspruino({ clock: createClock({ mode: 'virtual' }) });
  d.load(bundle.code, 'flash-queue.js');
  d.storage.write('.bootcde', 'B'.repeat(BOOT));
  return d;
}

/** N readings through a queue of maxReadings; mode online: push+ack each; offline: fill, then every push drops one */
function run(maxReadings, mode) {
  const d = device();
  d.eval(`var q = openFlashQueue('q', ${maxReadings}); function R(i) { return ${JSON.stringify(R(0)).replace('"up":0}', '"up":\' + i + \'}')}; }`);
  if (mode === 'offline') d.eval(`for (var i = 0; i < ${maxReadings}; i++) q.push(R(i));`); // fill first, not counted
  const s0 = { ...d.storage.flash.stats };
  const l0 = d.log.length;
  d.eval(mode === 'online' ? `for (var i = 0; i < ${N}; i++) { q.push(R(i)); q.peek(); q.ack(); }` : `for (var i = 0; i < ${N}; i++) q.push(R(i));`);
  const s = d.storage.flash.stats;
  const pe = d.storage.flash.pageErases;
  return {
    writes: (s.writes - s0.writes) / N,
    erasesPerK: ((s.erases - s0.erases) / N) * 1000,
    compactions: d.log.slice(l0).filter((l) => l.includes('Compacting')).length,
    maxPage: Math.max(...pe),
    bootPages: Math.max(...Array.from(pe).slice(0, Math.ceil((BOOT + 32) / FLASH_PAGE_SIZE))),
    dropped: d.eval('q.dropped()'),
    d,
  };
}

console.log('== flash queue: module ==');
row('bundle bytes (minified ES5, gates passed)', bundle.bytes);
row('reading used for the figures', `${R(12345).length} bytes: ${R(12345)}`);

console.log(`\n== flash work per reading (${N} readings, ESP32 Storage, .bootcde ${BOOT} B first) ==`);
for (const [max, mode] of [
  [500, 'online'],
  [500, 'offline'],
  [2000, 'offline'],
  [5000, 'offline'],
  [8000, 'offline'],
]) {
  const r = run(max, mode);
  const label = `maxReadings ${max}, ${mode === 'online' ? 'online (push, ack)' : 'offline (full: push drops one)'}`;
  row(`${label}: program ops/reading`, r.writes.toFixed(3));
  row(`  page erases per 1000 readings (all from Storage compaction)`, `${r.erasesPerK.toFixed(1)} (${r.compactions} compactions)`);
  row(`  most erases of one page / of a .bootcde page`, `${r.maxPage} / ${r.bootPages}`);
  const perPage = r.erasesPerK / 1000 / (ESP32_STORAGE_BYTES / FLASH_PAGE_SIZE); // erases per page per reading
  row(`  readings until pages reach ${ENDURANCE} erases (on average)`, `${(ENDURANCE / perPage / 1e6).toFixed(0)} million`);
}

console.log('\n== flash held by a full queue (readings as above) ==');
const held = {};
for (const max of [500, 2000, 5000]) {
  const d = device();
  d.eval(`var q = openFlashQueue('q', ${max});`);
  for (let i = 0; i < max; i++) d.eval(`q.push(${JSON.stringify(R(i))})`);
  const files = Object.keys(d.storage.files).filter((n) => /^q~\d+$/.test(n));
  const segs = files.filter((n) => n !== 'q~0').length;
  const bytes = segs * FLASH_PAGE_SIZE + (files.includes('q~0') ? d.storage.files['q~0'].length + 32 : 0);
  held[max] = { segs, bytes };
  const free = ESP32_STORAGE_BYTES - (BOOT + 32) - bytes;
  row(`maxReadings ${max}: segments (4 KB pages) / bytes`, `${segs} / ${bytes} (${(bytes / max).toFixed(1)} B per reading)`);
  row(
    `  fits the ESP32 Storage (${ESP32_STORAGE_BYTES} B) with the firmware?`,
    free > 2 * FLASH_PAGE_SIZE ? `yes, ${free} B left for trash (a compaction every ~${Math.floor(free / (FLASH_PAGE_SIZE / (max / segs)))} readings)` : 'NO',
  );
}

console.log('\n== days of readings a full queue holds ==');
console.log(`${'maxReadings'.padEnd(14)}${[60, 300, 900].map((s) => `every ${s} s`.padStart(16)).join('')}${'flash'.padStart(14)}`);
for (const max of [500, 2000, 5000]) {
  const days = [60, 300, 900].map((s) => ((max * s) / 86400).toFixed(1).padStart(16)).join('');
  console.log(`${String(max).padEnd(14)}${days}${`${(held[max].bytes / 1024).toFixed(0)} KB`.padStart(14)}`);
}
const perSeg = 500 / held[500].segs;
const maxFit = Math.floor((ESP32_STORAGE_BYTES - (BOOT + 32) - 3 * FLASH_PAGE_SIZE) / FLASH_PAGE_SIZE) * Math.floor(perSeg);
row('\nlargest maxReadings the Storage area holds (these readings, 2 pages spare)', `${maxFit} (${((maxFit * 60) / 86400).toFixed(1)} days at 60 s)`);
row('readings per flash budget', `~${Math.floor(perSeg)} per 4 KB page, ~${Math.floor(perSeg) * 256} per MB`);
