// A whole virtual installation: the firmware bundle (built by build.mjs, unmodified) on the
// Espruino-like runtime, a simulated modem wired to the board's pins and UART, a BME280 on I2C,
// and a real broker on 127.0.0.1 with a HiveMQ-Cloud-like TLS listener. Used by the end-to-end
// tests, the benchmarks and `npm start`.

import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../build.mjs';
import { createClock } from './runtime/clock.mjs';
import { createEspruino } from './runtime/espruino.mjs';
import { createA76xx } from './sim/a76xx/index.mjs';
import { createBme280 } from './sim/bme280.mjs';
import { makeTestPki, startBroker, subscribe } from './broker/index.mjs';

/** The cloud host name the virtual installation pretends to use; the modem's DNS maps it to 127.0.0.1. */
export const CLUSTER_HOST = 'c0ffee42.s1.eu.hivemq.cloud';
export const TEST_USER = { name: 'station', password: 'test-only-password' };

let pkiCache = null;
function testPki() {
  pkiCache ??= makeTestPki({ hosts: ['*.s1.eu.hivemq.cloud'] });
  return pkiCache;
}

/** A HiveMQ Cloud config pointed at the test broker's CA (a file, as a user would give it). */
export function testConfig(overrides = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cellpub-rig-'));
  const caFile = join(dir, 'test-ca.pem');
  writeFileSync(caFile, testPki().caPem);
  const { broker = {}, ...rest } = overrides;
  return {
    config: {
      apn: 'internet',
      broker: {
        preset: 'hivemq-cloud',
        host: CLUSTER_HOST,
        username: TEST_USER.name,
        password: TEST_USER.password,
        ca: caFile,
        clientId: 'station-1',
        ...broker,
      },
      intervalSeconds: 60,
      ...rest,
    },
    configDir: dir,
  };
}

/**
 * @param {object} o
 * @param {string} [o.board] board id
 * @param {'virtual'|'real'} [o.mode] clock mode
 * @param {object} [o.config] config overrides (see testConfig)
 * @param {object} [o.brokerOptions] passed to startBroker (e.g. allowedProtocols)
 * @param {object} [o.modemOptions] passed to createA76xx (network, bootMs, …)
 * @param {(code: string) => string} [o.mutate] changes the bundle text: only for tests that show
 *   another test would catch a firmware mistake (mutation tests); never for claims about the firmware
 */
export async function createRig({ board = 't-a7670x', mode = 'virtual', config = {}, brokerOptions = {}, modemOptions = {}, mutate } = {}) {
  const { config: raw, configDir } = testConfig(config);
  const built = await build({ board, config: raw, configDir, outFile: false });
  const code = mutate ? mutate(built.code) : built.code;
  const broker = await startBroker({ pki: testPki(), users: { [TEST_USER.name]: TEST_USER.password }, ...brokerOptions });
  const subscriber = await subscribe(broker, '#', { servername: CLUSTER_HOST });
  const clock = createClock({ mode });
  const device = createEspruino({ clock });
  const bme = createBme280({ clock, address: built.config.bme280 ? built.config.bme280.address : 0x76 });
  device.i2c.attach(bme.address, bme);
  const modem = createA76xx({
    clock,
    device,
    board: built.board,
    dns: { [CLUSTER_HOST]: { host: broker.host, port: broker.tlsPort } },
    ...modemOptions,
  });
  let closed = false;
  return {
    clock,
    device,
    modem,
    bme,
    broker,
    subscriber,
    board: built.board,
    config: built.config,
    code,
    bytes: built.bytes,
    /** Runs the bundle as the board does at boot. */
    start() {
      device.load(code, `${board}.js`);
    },
    /**
     * Virtual time passes until pred() holds (or timeoutMs of virtual time). Between steps real
     * time passes too (1 ms), so what travels over real sockets outside the modem's own holds
     * (broker → subscriber) arrives before the test judges.
     */
    async until(pred, timeoutMs = 120000, stepMs = 100) {
      const end = clock.now() + timeoutMs;
      while (!pred()) {
        if (clock.now() >= end) return false;
        await clock.runFor(Math.min(stepMs, end - clock.now()));
        await new Promise((r) => setTimeout(r, 1));
      }
      return true;
    },
    /** Readings the subscriber got on the telemetry topic. */
    readings() {
      return subscriber.messages.filter((m) => m.topic === built.config.topics.telemetry);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (modem.close) await modem.close();
      await subscriber.close().catch(() => {});
      await broker.close();
    },
  };
}
