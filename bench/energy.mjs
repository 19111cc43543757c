#!/usr/bin/env node
// Energy figures, printed, never asserted: `npm run bench:energy` (also part of `npm run bench`).
//   1. the currents used (buildlib/energy.mjs CURRENTS; sources in docs/energy-facts.md)
//   2. the interpreter's boot of each bundle (parse and run to the first log line, and to the end of
//      the top-level code) in the real Espruino builds (bench/interpreters.mjs), and the board
//      estimate (native × 50, docs/espruino-tls-facts.md; plus ASSUMPTIONS.espBootS for the ROM,
//      bootloader and Espruino's own start)
//   3. awake time per phase on the virtual board (host/testing/energy-meter.mjs), per board: boot →
//      first publish for the always-on firmware; with the duty-cycle firmware (config `power`),
//      boot → reading stored and boot → upload done per wake
//   4. mAh/day and days on a 2,600 mAh cell per board for 1-minute, 15-minute and 1-hour readings,
//      always-on (modem awake / DTR sleep) and duty-cycle (modem off / PSM), and the model's choice
// Options: --no-duty (skip the duty-cycle run), --quick (no interpreter runs)

import { build, knownBoards } from '../build.mjs';
import { createRig, testConfig } from '../host/testing/rig.mjs';
import { attachEnergyMeter } from '../host/testing/energy-meter.mjs';
import { ASSUMPTIONS, CURRENTS, BOARDS, DEFAULT_AWAKE, scenario, chooseModem, stateCurrent } from '../buildlib/energy.mjs';
import { ESP32_BIN, NATIVE_BIN, usable, runResult } from './interpreters.mjs';

const args = process.argv.slice(2);
const BOARD_SCALE = 50; // native → board, docs/espruino-tls-facts.md / bench/tls.mjs
const row = (k, v) => console.log(`${k.padEnd(58)} ${v}`);
const s = (ms) => (ms == null ? '–' : `${(ms / 1000).toFixed(2)} s`);

// ---- 1. currents ---------------------------------------------------------------------------------
console.log('== currents used (mA at the cell; sources: docs/energy-facts.md, same keys) ==');
for (const [k, c] of Object.entries(CURRENTS)) {
  console.log(`${k.padEnd(28)} ${String(c.mA).padStart(8)}  ${c.estimate ? '[estimate] ' : ''}${c.cond}  (${c.src})`);
}
console.log('assumptions:', JSON.stringify(ASSUMPTIONS));

// the configurations measured: [label, board, cloud, modemOptions]
const RUNS = [
  ['T-A7670X + HiveMQ (modem MQTT/TLS)', 't-a7670x', 'hivemq', {}],
  ['T-SIM7670G-S3 + HiveMQ (modem MQTT/TLS)', 't-sim7670g-s3', 'hivemq', {}],
  ['T-Call SIM800L + plain MQTT', 't-call-sim800l', 'plain', {}],
  // cellpub's TLS checks certificate dates: the network time is now (the test PKI is made today)
  ['T-Call SIM800L + HiveMQ (cellpub TLS 1.2)', 't-call-sim800l', 'hivemq', { clockUtc: Date.now() }],
];

// ---- 2. interpreter boot -------------------------------------------------------------------------
const PRE = 'var __t0=getTime();var __f=-1;var __cl=console.log;console.log=function(){if(__f<0)__f=(getTime()-__t0)*1000;};\n';
const POST = "\n;print('RESULT '+JSON.stringify({first:__f,end:(getTime()-__t0)*1000}));\n";
const bootS = {}; // run label → board estimate of the bundle's boot (s), without espBootS
console.log('\n== interpreter boot of each bundle: parse/run to the first log line, and to the end of the top-level code ==');
if (args.includes('--quick') || !(usable(NATIVE_BIN) || usable(ESP32_BIN))) {
  console.log('(ESPRUINO64_BIN / ESPRUINO_BIN not set or --quick: skipped; the model uses DEFAULT_AWAKE.boot)');
} else {
  for (const [label, board, cloud] of RUNS) {
    const { config, configDir } = testConfig({ cloud });
    const r = await build({ board, config, configDir, outFile: false });
    const res = {};
    for (const [name, bin] of [
      ['native', NATIVE_BIN],
      ['esp32-sized (qemu)', ESP32_BIN],
    ]) {
      if (!usable(bin)) continue;
      const best = { first: Infinity, end: Infinity };
      for (let i = 0; i < 3; i++) {
        try {
          const x = await runResult(bin, PRE + r.code + POST, 120000);
          best.first = Math.min(best.first, x.first);
          best.end = Math.min(best.end, x.end);
        } catch (e) {
          best.error = /OUT OF MEMORY/.test(e.message)
            ? 'out of memory: this harness runs the bundle as a file held in JsVars; the board runs it from flash (Storage)'
            : e.message.split('\n')[0];
          break;
        }
      }
      res[name] = best;
    }
    const n = res.native;
    const fmt = (b) => (!b ? '–' : b.error ? `failed: ${b.error}` : `${b.first.toFixed(1)} ms / ${b.end.toFixed(1)} ms`);
    row(`${label} (${r.bytes} B)`, '');
    row('  native: first log line / end of top level', fmt(n));
    row('  ESP32-sized under qemu (not a speed reference)', fmt(res['esp32-sized (qemu)']));
    if (n && !n.error) {
      bootS[label] = (n.end * BOARD_SCALE) / 1000;
      row(
        `  board estimate (native end × ${BOARD_SCALE}) + ${ASSUMPTIONS.espBootS} s ESP32/Espruino start`,
        `${(bootS[label] + ASSUMPTIONS.espBootS).toFixed(2)} s`,
      );
    }
  }
}

// ---- 3. awake time per phase on the virtual board -------------------------------------------------
async function measureAlwaysOn(board, cloud, modemOptions) {
  const rig = await createRig({ board, cloud, config: { intervalSeconds: 60 }, modemOptions });
  const meter = attachEnergyMeter(rig);
  rig.start();
  const ok = await meter.until(() => meter.markAfter('published') !== null, 900000);
  meter.flush();
  const c = meter.cycles()[0];
  const time = meter.timeIn();
  await rig.close();
  return { ok, c, time, log: ok ? null : rig.device.log.slice(-20).join('\n') };
}

/** The duty-cycle firmware, if present (config `power`): a few wakes and one upload. */
async function measureDuty(board, cloud, modemOptions) {
  const power = { mode: 'duty-cycle', uploadEverySeconds: 180 };
  let rig;
  try {
    rig = await createRig({ board, cloud, config: { intervalSeconds: 60, power }, modemOptions });
  } catch (e) {
    return { absent: e.message.replace(/\s*\n\s*/g, ' ') };
  }
  const meter = attachEnergyMeter(rig);
  rig.start();
  // until the second upload's modem is off and the ESP32 asleep (its power-down phase measured)
  const secondUploadSlept = () => {
    const done = meter.marks.filter((m) => m.name === 'uploadDone');
    return done.length >= 2 && meter.marks.some((m) => m.name === 'sleep' && m.t > done[1].t);
  };
  await meter.until(secondUploadSlept, 900000, 250);
  meter.flush();
  const cycles = meter.cycles();
  await rig.close();
  return { cycles };
}

const measured = {}; // label → phases (s) for the model
console.log('\n== awake time per phase on the virtual board (virtual time; always-on firmware: boot → first publish) ==');
console.log('   the virtual board boots the bundle instantly: "boot" is the interpreter estimate above.');
console.log('   publish = "mqtt: connected" → "publish: ok" (the first reading is taken there: sensors, AT+CSQ).');
console.log("   registration and connect are the simulators' timings (their network answers, not a real cell).");
for (const [label, board, cloud, mo] of RUNS) {
  const m = await measureAlwaysOn(board, cloud, mo);
  if (!m.ok) {
    row(label, 'no publish within 900 s of virtual time');
    console.log(m.log);
    continue;
  }
  const c = m.c;
  row(label, `boot → first publish ${s(c.toUploaded)}`);
  row('  modem power-up ("power: modem on" → UART ready)', s(c.powerUp));
  row('  registration (→ "net: registered")', s(c.registration));
  row('  connect, incl. PDP/GPRS, CA upload, TLS, MQTT (→ "mqtt: connected")', s(c.connect));
  row('  reading + publish (→ "publish: ok")', s(c.publish));
  const modemKind = BOARDS[board].modem;
  measured[label] = {
    board,
    boot: (bootS[label] ?? DEFAULT_AWAKE[modemKind].boot - ASSUMPTIONS.espBootS) + ASSUMPTIONS.espBootS,
    sensors: DEFAULT_AWAKE[modemKind].sensors,
    powerUp: c.powerUp / 1000,
    registration: c.registration / 1000,
    connect: c.connect / 1000,
    publish: c.publish / 1000,
    powerDown: DEFAULT_AWAKE[modemKind].powerDown,
  };
  if (cloud === 'hivemq' && board === 't-call-sim800l') {
    // the virtual board runs cellpub's TLS on the host, instantly: add the board's compute time
    // (README / bench/tls.mjs at ×50): a resumed handshake 0.7 s per upload after a deep sleep (the
    // session ticket is in Storage), and this boot's X25519 key pair (0.7 s native → 35 s), made
    // while the modem powers up and registers
    const key = 35;
    const extra = 0.7 + Math.max(0, key - measured[label].powerUp - measured[label].registration);
    measured[label].connect += extra;
    measured[label].tlsExtra = extra;
    row('  + cellpub TLS on the board (estimate: resumed 0.7 s, X25519 key pair 35 s', `+${extra.toFixed(1)} s per upload)`);
  }
}

if (!args.includes('--no-duty')) {
  console.log('\n== duty-cycle firmware (config power: { mode: "duty-cycle", uploadEverySeconds: 180 }, reading every 60 s) ==');
  for (const [label, board, cloud, mo] of RUNS) {
    const d = await measureDuty(board, cloud, mo);
    if (d.absent) {
      row(label, 'not measured (no duty-cycle firmware yet):');
      console.log(`    ${d.absent.slice(0, 200)}`);
      continue;
    }
    const wakes = d.cycles.filter((c) => c.kind === 'wake');
    if (!wakes.length) {
      row(label, 'no "wake:" line seen (duty-cycle log lines absent)');
      continue;
    }
    const stored = wakes.filter((c) => c.toStored != null && c.toUploaded == null);
    const uploads = wakes.filter((c) => c.toUploaded != null && c.powerUp != null);
    row(label, `${wakes.length} wakes, ${uploads.length} with an upload`);
    if (stored.length) row('  boot → reading stored (virtual, + boot estimate)', s(stored[0].toStored));
    if (uploads.length) {
      const u = uploads[uploads.length - 1];
      row('  boot → upload done', s(u.toUploaded));
      row(
        '    sensors / power-up / registration / connect / publish / power-down',
        [u.sensors, u.powerUp, u.registration, u.connect, u.publish, u.powerDown].map(s).join(' / '),
      );
      const m = measured[label];
      if (m) {
        for (const k of ['sensors', 'powerUp', 'registration', 'connect', 'powerDown']) if (u[k] != null) m[k] = u[k] / 1000;
        m.connect += m.tlsExtra || 0;
        m.dutyMeasured = true;
      }
    }
  }
}

// ---- 4. the table -----------------------------------------------------------------------------------
const PAIRS = [
  [60, 900, '1 min readings, upload every 15 min'],
  [900, 3600, '15 min readings, upload every 1 h'],
  [3600, 3600, '1 h readings, upload every 1 h'],
];
const f = (x) => (!Number.isFinite(x) ? '  n/a' : x >= 100 ? x.toFixed(0).padStart(5) : x.toFixed(1).padStart(5));
const cell = (r) => `${f(r.mAhPerDay)} mAh/d ${f(r.days)} d`;
console.log(`\n== mAh per day and days on a ${ASSUMPTIONS.cellMah} mAh cell (${ASSUMPTIONS.usable * 100}% usable) ==`);
console.log('   phases: measured above (duty-cycle ones from the duty-cycle run where it ran, else estimates: DEFAULT_AWAKE)');
const TABLE = [
  ['T-A7670X + HiveMQ (modem MQTT/TLS)', 't-a7670x'],
  ['T-A7670X + HiveMQ (modem MQTT/TLS)', 't-call-a7670-v1_1'],
  ['T-SIM7670G-S3 + HiveMQ (modem MQTT/TLS)', 't-sim7670g-s3'],
  ['T-Call SIM800L + plain MQTT', 't-call-sim800l'],
  ['T-Call SIM800L + HiveMQ (cellpub TLS 1.2)', 't-call-sim800l'],
];
for (const [label, board] of TABLE) {
  const awake = measured[label] || undefined;
  const name = board === 't-call-a7670-v1_1' ? 'T-Call A7670 v1.0/v1.1 (phases of the T-A7670X)' : label;
  console.log(`\n${name}${awake && awake.dutyMeasured ? '' : awake ? ' [duty-cycle phases partly estimated]' : ' [phases: defaults]'}`);
  console.log(
    `  floor ${stateCurrent(board, { mcu: 'sleep', modem: 'off' }).toFixed(3)} mA; awake+idle ${stateCurrent(board, { mcu: 'awake', modem: 'idle' }).toFixed(1)} mA`,
  );
  const psm = BOARDS[board].psm;
  console.log(
    `  ${'interval'.padEnd(38)} ${'always-on, modem awake'.padEnd(22)} ${'always-on, DTR sleep'.padEnd(22)} ${'duty, modem off'.padEnd(22)} ${(psm ? 'duty, PSM' : '').padEnd(22)} the model picks`,
  );
  for (const [intervalS, uploadEveryS, what] of PAIRS) {
    const base = { board, intervalS, uploadEveryS, awake };
    const aw = scenario({ ...base, mode: 'always-on', modem: 'awake' });
    const dtr = scenario({ ...base, mode: 'always-on', modem: 'dtr-sleep' });
    const off = scenario({ ...base, mode: 'duty-cycle', modem: 'off' });
    const ps = psm ? scenario({ ...base, mode: 'duty-cycle', modem: 'psm' }) : null;
    const autoOn = chooseModem({ ...base, mode: 'always-on' }).modem;
    const autoDuty = chooseModem({ ...base, mode: 'duty-cycle' }).modem;
    console.log(`  ${what.padEnd(38)} ${cell(aw)} ${cell(dtr)} ${cell(off)} ${ps ? cell(ps) : ''.padEnd(22)} always-on: ${autoOn}, duty: ${autoDuty}`);
  }
}
console.log('\n"the model picks": chooseModem in buildlib/energy.mjs. The config\'s power.modem "auto" takes it, except PSM: the modem\'s RESET (and the');
console.log('T-A7670X\'s supply, IO12) float in an Espruino deep sleep (no gpio_hold), so "auto" gives "off" there (buildlib/config.mjs autoModem).');
console.log('\nEstimates, not citations: PSM current, the ESP32-S3 active current, the T-Call A7670 floor, the IP5306 boost');
console.log('efficiency, txDuty (share of data/registration time at full transmit power), the DTR enter/wake times, PSM');
console.log('active time and wake, the ESP32/Espruino start, the board scale ×50, sensors and power-down times where the');
console.log('duty-cycle firmware was not measured. docs/energy-facts.md says why each was chosen.');
process.exit(0);
