#!/usr/bin/env node
// Figures for the firmware, printed, never asserted: `npm run bench`.
//   1. bundle bytes per board                  (target ≤ 20 KB; T-Call SIM800L ≤ 30 KB)
//   2. UART bytes for one QoS 1 publish of a reading vs the minimum the commands need (≤ 1.3×)
//   3. firmware-induced delay to the first publish, in virtual time, the modem's own delays
//      (boot, SIM start, network search, broker round trips) subtracted    (≤ 0.5 s)
//   4. memory: the host runtime's estimate after connect and after 1,000 publishes; with
//      ESPRUINO_BIN set, the real interpreter's process.memory() (bench/espruino-memory.mjs)
//   5. cellpub's TLS 1.2 (T-Call SIM800L + HiveMQ Cloud): handshake times split by operation in the
//      native interpreter, the board estimate, JsVars in the ESP32-sized one, bundle and UART bytes
//      (bench/tls.mjs; runs when the interpreter binaries are present)
//   6. energy: the currents used, awake time per phase, mAh/day and days on a cell (bench/energy.mjs)
// Options: --publishes N (default 1000)

import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { build, knownBoards } from '../build.mjs';
import { createRig } from '../host/testing/rig.mjs';
import { ESP32_BIN, NATIVE_BIN, usable } from './interpreters.mjs';

const publishes = Number(process.argv[process.argv.indexOf('--publishes') + 1]) || 1000;
const row = (k, v) => console.log(`${k.padEnd(58)} ${v}`);

console.log('== bundle size (minified ES5; the example configs: HiveMQ Cloud (ISRG Root X1), Azure (two roots);');
console.log('   the T-Call SIM800L cannot reach either, so it is built with the plain-MQTT example) ==');
for (const board of knownBoards()) {
  const sim800 = board === 't-call-sim800l';
  for (const preset of sim800 ? ['plain'] : ['hivemq', 'azure']) {
    const config = JSON.parse(readFileSync(new URL(`../config/example.${preset}.json`, import.meta.url), 'utf8'));
    delete config.board;
    const r = await build({ board, config, outFile: false, allowPlaceholders: true });
    row(
      `${board} + ${preset} bytes`,
      `${r.bytes}${r.config.broker.caPem ? ` (+ ${r.config.broker.caPem.length} bytes of CA PEM in Storage, not in the bundle)` : ''}`,
    );
  }
}

console.log('\n== one installation in virtual time (T-A7670X, simulated A7670G, real broker) ==');
const rig = await createRig({ config: { intervalSeconds: 10 } });
rig.start();
let idleAtFirstPub = null;
let firstPubAt = null;
const telemetry = rig.config.topics.telemetry;
const sawFirstPub = () => {
  if (firstPubAt === null && rig.modem.transcript.input().includes('AT+CMQTTPUB=')) {
    firstPubAt = rig.clock.now();
    idleAtFirstPub = rig.modem.stats.idleGapMs;
  }
  return rig.readings().length >= 1;
};
if (!(await rig.until(sawFirstPub, 120000))) throw new Error('no reading arrived:\n' + rig.device.log.join('\n'));
row('virtual time to the first publish command', `${(firstPubAt / 1000).toFixed(2)} s`);
row('  of which the firmware kept the modem waiting (idle gaps)', `${idleAtFirstPub.toFixed(0)} ms`);
row('modem boot (PWRKEY to *ATREADY), simulated per the manual', '11.1 s (A7670 Ton(uart))');

const mem0 = rig.device.global.process.memory();
row('JsVars after connect (host estimate, not the interpreter)', `${mem0.usage} of ${mem0.total}`);
const t0 = Date.now();
const target = rig.readings().length + publishes;
if (!(await rig.until(() => rig.readings().length >= target, publishes * 10000 + 60000, 1000))) {
  row('publishes', `only ${rig.readings().length} of ${target}`);
}
// UART bytes of the first telemetry publish: from AT+CMQTTTOPIC to its +CMQTTPUB result
const entries = rig.modem.transcript.entries;
const start = entries.findIndex((e) => e.dir === 'in' && e.data.startsWith(`AT+CMQTTTOPIC=0,${telemetry.length}\r`));
let bytes = 0;
let payload = '';
for (let i = start; i < entries.length; i++) {
  const e = entries[i];
  bytes += e.data.length;
  if (e.dir === 'in' && e.data.startsWith('{"ts"')) payload = e.data;
  if (e.dir === 'out' && e.data.includes('+CMQTTPUB: 0,0')) break;
}
const minimum = [
  `AT+CMQTTTOPIC=0,${telemetry.length}\r`,
  '\r\n>',
  telemetry,
  '\r\nOK\r\n',
  `AT+CMQTTPAYLOAD=0,${payload.length}\r`,
  '\r\n>',
  payload,
  '\r\nOK\r\n',
  'AT+CMQTTPUB=0,1,60\r',
  '\r\nOK\r\n',
  '\r\n+CMQTTPUB: 0,0\r\n',
].join('').length;
row(`UART bytes, one QoS 1 publish (${payload.length}-byte reading, ${telemetry.length}-byte topic)`, `${bytes}`);
row('  minimum the three commands need (echo off)', `${minimum}  → ${(bytes / minimum).toFixed(3)}×`);
row('  plus the signal query per reading (AT+CSQ and its answer)', `${'AT+CSQ\r'.length + '\r\n+CSQ: 20,99\r\n\r\nOK\r\n'.length}`);

const mem1 = rig.device.global.process.memory();
row(`JsVars after ${publishes} more publishes (host estimate)`, `${mem1.usage} (growth ${mem1.usage - mem0.usage})`);
row(`  ${publishes} publishes took`, `${((Date.now() - t0) / 1000).toFixed(1)} s real for ${((publishes * 10) / 3600).toFixed(1)} h virtual`);
row('uncaught errors on the device', `${rig.device.errors.length}`);
await rig.close();

console.log('\n== T-Call SIM800L in virtual time (simulated SIM800L in factory autobaud, IP5306, plain MQTT) ==');
const tcall = await createRig({ board: 't-call-sim800l', config: { intervalSeconds: 10 } });
tcall.start();
let tcallFirst = null;
let tcallIdle = null;
const tcallSaw = () => {
  if (tcallFirst === null && tcall.readings().length >= 1) {
    tcallFirst = tcall.clock.now();
    tcallIdle = tcall.modem.stats.idleGapMs;
  }
  return tcallFirst !== null;
};
if (!(await tcall.until(tcallSaw, 180000))) throw new Error('no T-Call reading arrived:\n' + tcall.device.log.join('\n'));
row('virtual time to the first reading at the broker', `${(tcallFirst / 1000).toFixed(2)} s`);
row('  of which the firmware kept the modem waiting (idle gaps)', `${tcallIdle.toFixed(0)} ms`);
const tmem0 = tcall.device.global.process.memory();
row('JsVars after connect (host estimate, not the interpreter)', `${tmem0.usage} of ${tmem0.total}`);
const tcallTarget = tcall.readings().length + 100;
await tcall.until(() => tcall.readings().length >= tcallTarget, 100 * 10000 + 60000, 1000);
const tmem1 = tcall.device.global.process.memory();
row('JsVars after 100 more publishes (host estimate)', `${tmem1.usage} (growth ${tmem1.usage - tmem0.usage})`);
row('IP5306 power cuts', `${tcall.powerChip.stats.cuts}`);
row('uncaught errors on the device', `${tcall.device.errors.length}`);
await tcall.close();
if (!process.env.ESPRUINO_BIN) console.log('\n(ESPRUINO_BIN not set: real-interpreter memory figures skipped)');

if (usable(NATIVE_BIN) || usable(ESP32_BIN)) {
  console.log('\n== cellpub TLS 1.2 (bench/tls.mjs) ==');
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./tls.mjs', import.meta.url))], { stdio: 'inherit' });
  if (r.status) console.log(`(bench/tls.mjs ended with status ${r.status})`);
} else console.log('\n(neither ESPRUINO64_BIN nor ESPRUINO_BIN is set: TLS handshake figures skipped)');

console.log('\n== energy: currents, awake time per phase, mAh/day and days on a cell (bench/energy.mjs) ==');
const energy = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./energy.mjs', import.meta.url))], { stdio: 'inherit' });
if (energy.status) console.log(`(bench/energy.mjs ended with status ${energy.status})`);
process.exit(0);
