#!/usr/bin/env node
// JsVars in the real interpreter: ESPRUINO_BIN=… npm run bench:memory [-- --publishes 1000]
//
// The board's bundle (built by build.mjs, unmodified) runs in the Linux Espruino, loaded from
// Storage as on the board (host/testing/real-board.mjs: Serial2 is a pty wired to the simulated
// modem; the harness presses PWRKEY itself; no BME280, so readings carry the sensor error).
// Readings are requested with {"cmd":"read"} so a thousand publishes take ten minutes, not three
// hours.
// Prints process.memory() after connect (at the first reading, and at rest 4 s later) and after N
// publishes (issue 11 targets after connect: T-A7670X ≤ 1,500, SIM800L ≤ 2,000; no growth).
// Options: --publishes N (default 1000); --cloud azure (the Azure preset against the IoT-Hub-like
// endpoint: the SAS token is made by the real interpreter, readings are asked for with C2D
// messages, and one direct method is called); --board t-call-sim800l (the SIM800L simulator,
// factory autobaud, and the firmware's own MQTT client over plain MQTT on 1883; the Linux
// interpreter has no IP5306 on I2C, so the firmware logs that and reports the battery unknown).
// --board t-call-sim800l --cloud hivemq (issue 12): the HiveMQ Cloud preset with cellpub's own
// TLS 1.2 over the SIM800's plain socket, to the HiveMQ-like broker (TLS 1.2 only, SNI required,
// chain root RSA 4096 → intermediate → leaf; broker.ca = the root). Prints besides:
//   - the PEAK JsVars during the full handshake: the harness samples process.memory() (which
//     garbage-collects first, so it is what is live) through the console every 100 ms while the
//     handshake runs; each sample is taken between two of the interpreter's tasks (timers, UART
//     input), i.e. between TLS slices, so garbage inside one slice is not seen; the sampling
//     command itself (~20 JsVars while it runs) is included;
//   - the handshake's wall time: from the device log's own timestamps ('mqtt: connecting …' to
//     'tls <host>: TLS 1.2 handshake done'), and as the harness saw it (AT+CIPSTART written on
//     Serial2 to that log line arriving);
//   - after the publishes, a reconnect: the harness drops the client at the broker, and the
//     firmware's next connect resumes the TLS session ('TLS 1.2 session resumed'): its time the
//     same two ways, and its peak JsVars.

import { hasRealEspruino } from '../host/espruino/real.mjs';
import { startRealBoard } from '../host/testing/real-board.mjs';
import { AZURE } from '../host/testing/rig.mjs';

const arg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const publishes = Number(arg('--publishes')) || 1000;
const boardId = arg('--board') || 't-a7670x';
const sim800 = boardId === 't-call-sim800l';
const azure = arg('--cloud') === 'azure';
const ownTls = sim800 && arg('--cloud') === 'hivemq';
const row = (k, v) => console.log(`${k.padEnd(58)} ${v}`);
if (!hasRealEspruino()) {
  console.log('ESPRUINO_BIN is not set (or not executable): skipped');
  process.exit(0);
}

const rb = await startRealBoard({ board: boardId, cloud: azure ? 'azure' : ownTls ? 'hivemq-tls' : sim800 ? 'plain' : 'hivemq', timeoutMs: 60000 });
const { esp, built, broker, readings, askForReading } = rb;
const waitFor = (pred, ms, what) => rb.waitFor(pred, ms, what);
row('board', `${built.board.title}: bundle ${built.bytes} bytes`);
row('interpreter', process.env.ESPRUINO_BIN);

// process.memory() sampled through the console while the TLS handshakes run
const samples = [];
let sampling = ownTls;
const sampler = (async () => {
  while (sampling) {
    try {
      const m = await esp.memory();
      samples.push({ t: Date.now(), usage: m.usage, free: m.free, total: m.total });
    } catch {
      // the interpreter is stopping
    }
    await new Promise((r) => setTimeout(r, 100));
  }
})();
/** The handshake that ends with the log line `re` after console line `from`: its times and peak. */
function handshake(re, from, uartFrom) {
  const done = rb.findLine(re, from);
  let connecting = null;
  for (let c = rb.findLine(/mqtt: connecting to/, from); c && c.i < done.i; c = rb.findLine(/mqtt: connecting to/, c.i + 1)) connecting = c;
  const at = rb.uartTime('AT+CIPSTART', uartFrom);
  const cipstart = at && at <= done.t ? { t: at } : null;
  const during = samples.filter((s) => s.t >= (cipstart ? cipstart.t : connecting.t) && s.t <= done.t);
  const peak = during.reduce((p, s) => (!p || s.usage > p.usage ? s : p), null);
  return { done, connecting, cipstart, during, peak };
}
function printHandshake(what, h) {
  row(
    `${what}: device log 'mqtt: connecting' → '${/resumed/.test(h.done.text) ? 'session resumed' : 'handshake done'}'`,
    `${(h.done.up - h.connecting.up).toFixed(1)} s (log at ${h.connecting.up} and ${h.done.up})`,
  );
  if (h.cipstart) row(`${what}: AT+CIPSTART on Serial2 → that log line (harness)`, `${((h.done.t - h.cipstart.t) / 1000).toFixed(2)} s`);
  if (h.peak) row(`${what}: PEAK JsVars in use (${h.during.length} samples)`, `${h.peak.usage} of ${h.peak.total} (free ${h.peak.free})`);
  else row(`${what}: PEAK JsVars in use`, 'no sample fell inside the handshake');
}

try {
  await waitFor(() => readings().length >= 1, ownTls ? 900000 : 60000, 'the first reading');
  const mem0 = await esp.memory();
  row('JsVars in use after connect and one publish', `${mem0.usage} of ${mem0.total} (free ${mem0.free})`);
  // the same moment carries the work of the connect still in flight (the diagnostics report
  // being read and published, the publish's commands): a few seconds later only what stays is left
  await new Promise((r) => setTimeout(r, 4000));
  const rest = await esp.memory();
  row('JsVars in use at rest, 4 s later (nothing in flight)', `${rest.usage}`);
  if (ownTls) {
    const ev = broker.events.find((e) => !e.internal && e.outcome === 'accepted');
    row('broker: accepted', `${ev.tlsVersion} ${ev.cipher} SNI ${ev.servername} resumed ${ev.resumed}`);
    printHandshake('full handshake', handshake(/TLS 1\.2 handshake done/, 0, 0));
  }
  const t0 = Date.now();
  for (let i = 0; i < publishes; i++) {
    const n = readings().length;
    await askForReading();
    await waitFor(() => readings().length > n, ownTls ? 60000 : 10000, `reading ${i + 2}`);
  }
  const mem1 = await esp.memory();
  row(`JsVars in use after ${publishes} more publishes`, `${mem1.usage} (growth ${mem1.usage - mem0.usage})`);
  row(`  ${publishes} publishes took`, `${((Date.now() - t0) / 1000).toFixed(1)} s real`);
  if (ownTls) {
    // the broker drops the client: the firmware reconnects and resumes the TLS session
    const from = rb.lines.length;
    const tDrop = Date.now();
    broker.aedes.clients['station-1'].close();
    await waitFor(() => rb.findLine(/TLS 1\.2 (session resumed|handshake done)/, from), 600000, 'the reconnect');
    const resumed = rb.findLine(/TLS 1\.2 session resumed/, from);
    if (!resumed) row('reconnect after the broker dropped the client', `NOT resumed: ${rb.findLine(/TLS 1\.2 handshake done/, from).text}`);
    else printHandshake('resumed handshake', handshake(/TLS 1\.2 session resumed/, from, tDrop));
    // a command sent before the new session has subscribed is lost (clean session): ask until one comes
    const n = readings().length;
    for (let k = 0; k < 12 && readings().length <= n; k++) {
      await askForReading();
      await waitFor(() => readings().length > n, 10000, 'a reading after the reconnect').catch((e) => (k == 11 ? Promise.reject(e) : null));
    }
    const ev = broker.events.filter((e) => !e.internal && e.outcome === 'accepted').pop();
    row('broker: accepted after the drop', `${ev.tlsVersion} ${ev.cipher} SNI ${ev.servername} resumed ${ev.resumed}`);
    await new Promise((r) => setTimeout(r, 4000));
    const mem2 = await esp.memory();
    row('JsVars in use at rest after the reconnect', `${mem2.usage} (free ${mem2.free})`);
  }
  if (azure) {
    const r = await broker.invokeMethod(AZURE.deviceId, 'interval', { s: 30 }, { timeoutMs: 10000 });
    row('direct method "interval" answered by the real interpreter', `${r.status} ${JSON.stringify(r.payload)}`);
    const sessions = broker.events.filter((e) => e.kind === 'connect' && e.outcome === 'accepted').length;
    row('sessions accepted by the hub (SAS made on the device)', `${sessions}`);
  }
  const errors = rb.consoleText().match(/Uncaught[^\n]*/g) || [];
  row('uncaught errors in the interpreter', `${errors.length}${errors.length ? ': ' + errors[0] : ''}`);
} catch (e) {
  console.log(`FAILED: ${e.message}`);
  process.exitCode = 1;
} finally {
  sampling = false;
  await sampler;
  await rb.close();
  process.exit(process.exitCode || 0);
}
