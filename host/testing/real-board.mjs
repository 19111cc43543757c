// The shipped bundle (build.mjs output, unmodified) in the REAL Espruino interpreter (ESPRUINO_BIN,
// host/espruino/real.mjs), its Serial2 a pty wired to the simulated modem, the modem's network to
// the test broker. Used by bench/espruino-memory.mjs and test/espruino-real-tls.test.mjs.
//
// The Linux interpreter has no GPIO to watch, so this harness presses the simulated modem's PWRKEY
// itself when the bundle starts; there is no BME280 either (readings carry the sensor error), and
// on the T-Call no IP5306 on I2C (the firmware logs that and reports the battery unknown).
// The simulated modem runs on real time (createClock 'real'); the network's UTC is the host's.
//
// cloud: 'hivemq' (A76xx: its own TLS to the test broker), 'azure' (A76xx, IoT-Hub-like endpoint),
// 'plain' (SIM800: MQTT on 1883), 'hivemq-tls' (SIM800 with preset hivemq-cloud: cellpub's own
// TLS 1.2 over the plain CIP socket, to the HiveMQ-like broker of host/testing/tls-servers.mjs:
// TLS 1.2 only, ECDHE-RSA only, SNI required, chain root RSA 4096 → intermediate → leaf; broker.ca
// is the root's PEM file).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInRealEspruino } from '../espruino/real.mjs';
import { build } from '../../build.mjs';
import { testConfig, CLUSTER_HOST, PLAIN_HOST, TEST_USER, AZURE } from './rig.mjs';
import { HIVEMQ_LIKE_TLS, tlsTestPki } from './tls-servers.mjs';
import { startAzureHub } from '../broker/azure.mjs';
import { createClock } from '../runtime/clock.mjs';
import { createA76xx } from '../sim/a76xx/index.mjs';
import { createSim800 } from '../sim/sim800/index.mjs';
import { createTestDevice } from './test-device.mjs';
import { makeTestPki, startBroker, subscribe } from '../broker/index.mjs';

/**
 * @param {object} o
 * @param {string} [o.board] 't-a7670x' | 't-call-sim800l'
 * @param {'hivemq'|'azure'|'plain'|'hivemq-tls'} o.cloud
 * @param {string} [o.bin] interpreter (default ESPRUINO_BIN)
 * @param {object} [o.config] more config (default: no sensors, one reading an hour)
 * @param {number} [o.timeoutMs] real.mjs's limit for start-up, upload and each eval
 */
export async function startRealBoard({ board: boardId = 't-a7670x', cloud, bin, config: extra = {}, timeoutMs = 20000 }) {
  const sim800 = boardId === 't-call-sim800l';
  const ownTls = cloud === 'hivemq-tls';
  const tlsPki = ownTls ? tlsTestPki() : null;
  const brokerConfig = {};
  if (ownTls) {
    const dir = mkdtempSync(join(tmpdir(), 'cellpub-real-tls-'));
    brokerConfig.ca = join(dir, 'test-root.pem');
    writeFileSync(brokerConfig.ca, tlsPki.rootPem);
  }
  const { config, configDir } = testConfig({
    sensors: {},
    intervalSeconds: 3600,
    ...extra,
    cloud: ownTls ? 'hivemq' : cloud,
    broker: { ...brokerConfig, ...(extra.broker || {}) },
  });
  const built = await build({ board: boardId, config, configDir, outFile: false });
  const clock = createClock({ mode: 'real' });
  const epoch = Date.now();
  let broker;
  let subscriber = null;
  let cloudHost = CLUSTER_HOST;
  if (cloud === 'azure') {
    const pki = makeTestPki({ hosts: ['*.s1.eu.hivemq.cloud', '*.azure-devices.net'] });
    broker = await startAzureHub({ pki, hub: AZURE.hub, devices: { [AZURE.deviceId]: { primaryKey: AZURE.key } }, now: () => epoch + clock.now() });
    cloudHost = broker.hostName;
  } else {
    const pki = ownTls ? { ...tlsPki, caPem: tlsPki.rootPem } : makeTestPki({ hosts: ['*.s1.eu.hivemq.cloud', '*.azure-devices.net'] });
    broker = await startBroker({ pki, users: { [TEST_USER.name]: TEST_USER.password }, plain: cloud === 'plain', ...(ownTls ? HIVEMQ_LIKE_TLS : {}) });
    subscriber = await subscribe(broker, '#', { servername: CLUSTER_HOST });
    if (cloud === 'plain') cloudHost = PLAIN_HOST;
  }
  const wiring = createTestDevice(clock);
  const board = built.board;
  const modem = (sim800 ? createSim800 : createA76xx)({
    clock,
    device: wiring,
    board,
    bootMs: 500, // the boot and network delays don't matter here; keep the run short
    network: { registrationMs: 200 },
    dns: { [cloudHost]: { host: broker.host, port: cloud === 'plain' ? broker.plainPort : broker.tlsPort } },
    clockUtc: epoch, // the network's time is the host's (the test chain is valid 2024-01-01 + 10 years)
  });
  const toModem = wiring.serial(board.uart.port);

  /** Console lines of the interpreter, each with the host's Date.now() when it arrived. */
  const lines = [];
  let partial = '';
  /** What the interpreter wrote to the modem: { t, s } chunks. */
  const uart = [];
  const esp = await runInRealEspruino({
    bin,
    code: built.code,
    files: built.files,
    timeoutMs,
    serial2: {
      onData: (s) => {
        uart.push({ t: Date.now(), s });
        toModem.write(s);
      },
    },
    onConsole: (s) => {
      const parts = (partial + s).split('\n');
      partial = parts.pop();
      const t = Date.now();
      for (const p of parts) lines.push({ t, text: p.replace(/\r$/, '') });
    },
  });
  // modem → interpreter
  const pump = setInterval(() => {
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
    cloud === 'azure' ? broker.telemetry.filter((m) => /^\{"ts"/.test(m.payload)) : subscriber.messages.filter((m) => m.topic === telemetry);

  return {
    esp,
    built,
    board,
    broker,
    subscriber,
    modem,
    lines,
    uart,
    cloudHost,
    /** The interpreter's console so far (for failure messages). */
    consoleText: () => lines.map((l) => l.text).join('\n') + '\n' + partial,
    /** The device's own log lines ('[uptime] …'), without the harness's console results. */
    deviceLog: () => lines.filter((l) => /\[\d+(\.\d+)?\] /.test(l.text)).map((l) => l.text.slice(l.text.search(/\[\d+(\.\d+)?\] /))),
    readings,
    askForReading: () =>
      cloud === 'azure'
        ? broker.sendC2D(AZURE.deviceId, '{"cmd":"read"}', {})
        : subscriber.client.publishAsync(built.config.topics.command, '{"cmd":"read"}', { qos: 1 }),
    /** Real time passes until pred() holds; throws (with the console's tail) after ms. */
    async waitFor(pred, ms, what) {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`${what} did not happen in ${ms} ms; device log:\n${this.deviceLog().join('\n').slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    /** The first console line matching re after index `from`, as { i, t, text, up } (up: the log's own seconds). */
    findLine(re, from = 0) {
      for (let i = from; i < lines.length; i++) {
        if (re.test(lines[i].text)) {
          const m = /\[(\d+(?:\.\d+)?)\] /.exec(lines[i].text);
          return { i, ...lines[i], up: m ? Number(m[1]) : null };
        }
      }
      return null;
    },
    /** When (host Date.now()) the interpreter finished writing the first match of `text` to the modem at or after time `from`, or null. */
    uartTime(text, from = 0) {
      const chunks = uart.filter((u) => u.t >= from);
      let all = '';
      for (const u of chunks) {
        all += u.s;
        if (all.includes(text)) return u.t;
      }
      return null;
    },
    async close() {
      clearInterval(pump);
      await esp.stop();
      if (subscriber) await subscriber.close().catch(() => {});
      await broker.close();
    },
  };
}
