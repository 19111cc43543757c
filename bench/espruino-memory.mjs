#!/usr/bin/env node
// JsVars in the real interpreter: ESPRUINO_BIN=… npm run bench:memory [-- --publishes 1000]
//
// The T-A7670X bundle (built by build.mjs, unmodified) runs in the Linux Espruino, loaded from
// Storage as on the board. Its Serial2 is a pty wired to the simulated A7670G, which connects over
// TLS to the test broker. The Linux interpreter has no GPIO to watch, so this harness presses the
// simulated modem's PWRKEY itself when the bundle starts; there is no BME280 either (the reading
// carries the sensor error instead of t/p/h). Readings are requested with {"cmd":"read"} so a
// thousand publishes take ten minutes, not three hours.
// Prints process.memory() after connect (at the first reading, and at rest 4 s later) and after N
// publishes (issue 11 targets after connect: T-A7670X ≤ 1,500, SIM800L ≤ 2,000; no growth).
// Options: --publishes N (default 1000); --cloud azure (the Azure preset against the IoT-Hub-like
// endpoint: the SAS token is made by the real interpreter, readings are asked for with C2D
// messages, and one direct method is called); --board t-call-sim800l (the SIM800L simulator,
// factory autobaud, and the firmware's own MQTT client over plain MQTT on 1883; the Linux
// interpreter has no IP5306 on I2C, so the firmware logs that and reports the battery unknown).

import { runInRealEspruino, hasRealEspruino } from '../host/espruino/real.mjs';
import { build } from '../build.mjs';
import { testConfig, CLUSTER_HOST, PLAIN_HOST, TEST_USER, AZURE } from '../host/testing/rig.mjs';
import { startAzureHub } from '../host/broker/azure.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createA76xx } from '../host/sim/a76xx/index.mjs';
import { createSim800 } from '../host/sim/sim800/index.mjs';
import { createTestDevice } from '../host/testing/test-device.mjs';
import { makeTestPki, startBroker, subscribe } from '../host/broker/index.mjs';

const publishes = Number(process.argv[process.argv.indexOf('--publishes') + 1]) || 1000;
const azure = process.argv.includes('--cloud') && process.argv[process.argv.indexOf('--cloud') + 1] === 'azure';
const boardId = process.argv.includes('--board') ? process.argv[process.argv.indexOf('--board') + 1] : 't-a7670x';
const sim800 = boardId === 't-call-sim800l';
const row = (k, v) => console.log(`${k.padEnd(58)} ${v}`);
if (!hasRealEspruino()) {
  console.log('ESPRUINO_BIN is not set (or not executable): skipped');
  process.exit(0);
}

const { config, configDir } = testConfig({ sensors: {}, intervalSeconds: 3600, cloud: azure ? 'azure' : sim800 ? 'plain' : 'hivemq' });
const built = await build({ board: boardId, config, configDir, outFile: false });
const pki = makeTestPki({ hosts: ['*.s1.eu.hivemq.cloud', '*.azure-devices.net'] });
const clock = createClock({ mode: 'real' });
const epoch = Date.now();
let broker;
let subscriber = null;
let cloudHost = CLUSTER_HOST;
if (azure) {
  broker = await startAzureHub({ pki, hub: AZURE.hub, devices: { [AZURE.deviceId]: { primaryKey: AZURE.key } }, now: () => epoch + clock.now() });
  cloudHost = broker.hostName;
} else {
  broker = await startBroker({ pki, users: { [TEST_USER.name]: TEST_USER.password }, plain: sim800 });
  subscriber = await subscribe(broker, '#', { servername: CLUSTER_HOST });
  if (sim800) cloudHost = PLAIN_HOST;
}
const wiring = createTestDevice(clock);
const board = built.board;
const modem = (sim800 ? createSim800 : createA76xx)({
  clock,
  device: wiring,
  board,
  bootMs: 500, // the boot and network delays don't matter for memory; keep the run short
  network: { registrationMs: 200 },
  dns: { [cloudHost]: { host: broker.host, port: sim800 ? broker.plainPort : broker.tlsPort } },
  clockUtc: epoch,
});
const toModem = wiring.serial(board.uart.port);

const consoleLines = [];
const esp = await runInRealEspruino({
  code: built.code,
  files: built.files,
  timeoutMs: 20000,
  serial2: { onData: (s) => toModem.write(s) },
  onConsole: (s) => consoleLines.push(s),
});
// modem → interpreter
setInterval(() => {
  const out = toModem.take();
  if (out) esp.write(out);
}, 2);
// the board would do this through its GPIOs
if (board.reset) wiring.pins.set(board.reset.pin, 1 - board.reset.activeLevel);
wiring.pins.set(board.powerOn, 1);
if (!board.pwrkey.inverted) wiring.pins.set(board.pwrkey.pin, 1); // idle high before the pulse
wiring.pins.set(board.pwrkey.pin, board.pwrkey.inverted ? 1 : 0);
setTimeout(() => wiring.pins.set(board.pwrkey.pin, board.pwrkey.inverted ? 0 : 1), board.pwrkey.onPulseMs);

const telemetry = built.config.topics.telemetry;
const readings = () =>
  azure ? broker.telemetry.filter((m) => /^\{"ts"/.test(m.payload)).length : subscriber.messages.filter((m) => m.topic === telemetry).length;
row('board', `${board.title}: bundle ${built.bytes} bytes`);
const askForReading = () =>
  azure ? broker.sendC2D(AZURE.deviceId, '{"cmd":"read"}', {}) : subscriber.client.publishAsync(built.config.topics.command, '{"cmd":"read"}', { qos: 1 });
async function waitFor(pred, ms, what) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`${what} did not happen in ${ms} ms; console:\n${consoleLines.join('').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

try {
  await waitFor(() => readings() >= 1, 60000, 'the first reading');
  const mem0 = JSON.parse(await esp.eval('JSON.stringify(process.memory())'));
  row('JsVars in use after connect and one publish', `${mem0.usage} of ${mem0.total} (free ${mem0.free})`);
  // the same moment carries the work of the connect still in flight (the diagnostics report
  // being read and published, the publish's commands): a few seconds later only what stays is left
  await new Promise((r) => setTimeout(r, 4000));
  const rest = JSON.parse(await esp.eval('JSON.stringify(process.memory())'));
  row('JsVars in use at rest, 4 s later (nothing in flight)', `${rest.usage}`);
  const t0 = Date.now();
  for (let i = 0; i < publishes; i++) {
    const n = readings();
    await askForReading();
    await waitFor(() => readings() > n, 10000, `reading ${i + 2}`);
  }
  const mem1 = JSON.parse(await esp.eval('JSON.stringify(process.memory())'));
  row(`JsVars in use after ${publishes} more publishes`, `${mem1.usage} (growth ${mem1.usage - mem0.usage})`);
  row(`  ${publishes} publishes took`, `${((Date.now() - t0) / 1000).toFixed(1)} s real`);
  if (azure) {
    const r = await broker.invokeMethod(AZURE.deviceId, 'interval', { s: 30 }, { timeoutMs: 10000 });
    row('direct method "interval" answered by the real interpreter', `${r.status} ${JSON.stringify(r.payload)}`);
    const sessions = broker.events.filter((e) => e.kind === 'connect' && e.outcome === 'accepted').length;
    row('sessions accepted by the hub (SAS made on the device)', `${sessions}`);
  }
  const errors = consoleLines.join('').match(/Uncaught[^\n]*/g) || [];
  row('uncaught errors in the interpreter', `${errors.length}${errors.length ? ': ' + errors[0] : ''}`);
} finally {
  await esp.stop();
  if (subscriber) await subscriber.close();
  await broker.close();
  process.exit(0);
}
