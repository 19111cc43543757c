// A whole virtual installation: the firmware bundle (built by build.mjs, unmodified) on the
// Espruino-like runtime, a simulated modem wired to the board's pins and UART, a BME280 on I2C,
// and a real broker on 127.0.0.1 with a HiveMQ-Cloud-like TLS listener. Used by the end-to-end
// tests, the benchmarks and `npm start`.

import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, loadBoard } from '../../build.mjs';
import { HIVEMQ_CLOUD } from '../../buildlib/config.mjs';
import { createClock } from '../runtime/clock.mjs';
import { createEspruino } from '../runtime/espruino.mjs';
import { createA76xx } from '../sim/a76xx/index.mjs';
import { createSim800 } from '../sim/sim800/index.mjs';
import { createIp5306 } from '../sim/i2c/ip5306.mjs';
import { createBme280 } from '../sim/i2c/bme280.mjs';
import { createDht } from '../sim/sensors/dht.mjs';
import { createDs18b20 } from '../sim/sensors/ds18b20.mjs';
import { createAnalog } from '../sim/sensors/analog.mjs';
import { makeTestPki, startBroker, subscribe } from '../broker/index.mjs';
import { startAzureHub } from '../broker/azure.mjs';

/** The cloud host name the virtual installation pretends to use; the modem's DNS maps it to 127.0.0.1. */
export const CLUSTER_HOST = 'c0ffee42.s1.eu.hivemq.cloud';
/** The self-hosted broker (plain MQTT on 1883) of `cloud: 'plain'`, the T-Call SIM800L's kind. */
export const PLAIN_HOST = 'mqtt.cellpub.test';
export const TEST_USER = { name: 'station', password: 'test-only-password' };
export const AZURE = { hub: 'cellpub-test', deviceId: 'station-1', key: Buffer.from('cellpub test-only device key, 32B').toString('base64') };
/** What the simulated network says the time is at virtual 0, unless a test says otherwise. */
export const DEFAULT_NETWORK_EPOCH = Date.UTC(2025, 0, 1);

const PKI_HOSTS = ['*.s1.eu.hivemq.cloud', '*.azure-devices.net'];
let pkiCache = null;
function testPki() {
  pkiCache ??= makeTestPki({ hosts: PKI_HOSTS });
  return pkiCache;
}

/** Does a certificate name (a DNS name, `*.` wildcard for one label) cover host? */
function nameCovers(name, host) {
  host = host.toLowerCase();
  if (!name.startsWith('*.')) return name === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === name.slice(2);
}

// names no test certificate is made for (a local broker has one already, and is called localhost)
const LOCAL_HOSTS = ['localhost', '127.0.0.1'];

/** The test PKI whose server certificate names `host` (the rig's own one when it already does). */
export function testPkiFor(host) {
  if (!host || LOCAL_HOSTS.includes(host) || PKI_HOSTS.some((n) => nameCovers(n, host))) return testPki();
  return makeTestPki({ hosts: [...PKI_HOSTS, host] });
}

/** A HiveMQ Cloud config pointed at the test broker's CA (a file, as a user would give it). */
export function testConfig(overrides = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cellpub-rig-'));
  const caFile = join(dir, 'test-ca.pem');
  writeFileSync(caFile, testPki().caPem);
  const { broker = {}, cloud = 'hivemq', ...rest } = overrides;
  const base =
    cloud === 'azure'
      ? { preset: 'azure-iot-hub', hub: AZURE.hub, deviceId: AZURE.deviceId, deviceKey: AZURE.key, ca: caFile }
      : cloud === 'plain'
        ? { preset: 'plain', host: PLAIN_HOST, port: 1883, username: TEST_USER.name, password: TEST_USER.password, clientId: 'station-1' }
        : { preset: 'hivemq-cloud', host: CLUSTER_HOST, username: TEST_USER.name, password: TEST_USER.password, ca: caFile, clientId: 'station-1' };
  return {
    config: {
      apn: 'internet',
      broker: { ...base, ...broker },
      intervalSeconds: 60,
      ...rest,
    },
    configDir: dir,
  };
}

/**
 * The stand-in cloud for a user's own config (createRig's userConfig): the config is built as the
 * user wrote it; a local broker (or Azure hub) takes the place of the one it names, the modem's DNS
 * sends the config's host name there, and the modem (A76xx: `caStandIn`) or, on SIM800 boards with
 * cellpub's own TLS, the build trusts the test CA in place of the config's CA. Nothing is accepted
 * that the real cloud would not: the broker knows only the config's user and password (the hub
 * only its device and key).
 */
async function userCloud({ board, sim800, userConfig, clock, modemOptions, brokerOptions }) {
  const { raw, configDir } = userConfig;
  if (!raw || typeof raw !== 'object') throw new Error('createRig: userConfig.raw must be the parsed config (an object)');
  const dir = configDir ?? process.cwd();
  let built = await build({ board, config: raw, configDir: dir, outFile: false });
  const b = built.config.broker;
  const pki = testPkiFor(b.host);
  const standIn = [];
  const modemOptionsOut = {};
  // cellpub's own TLS (SIM800) checks the certificate in the firmware: build with the test CA
  if (sim800 && b.tls && b.tlsStack === 'cellpub') {
    const caDir = mkdtempSync(join(tmpdir(), 'cellpub-standin-'));
    const caFile = join(caDir, 'test-ca.pem');
    writeFileSync(caFile, pki.caPem);
    built = await build({ board, config: { ...raw, broker: { ...raw.broker, ca: caFile } }, configDir: dir, outFile: false });
    standIn.push(
      `ca: the bundle is built with the rig's test CA in place of broker.ca ${JSON.stringify(raw.broker.ca ?? '')} (cellpub's own TLS checks the certificate on the board)`,
    );
  } else if (b.tls && b.caPem && !sim800) {
    modemOptionsOut.caStandIn = { replaces: b.caPem, trust: pki.caPem };
    standIn.push(`ca: the simulated modem trusts the rig's test CA where the config's CA file (${b.caName}) is named (a stand-in, not what a real modem does)`);
  }
  const cfg = built.config.broker;
  const epoch =
    typeof modemOptions.clockUtc === 'number'
      ? modemOptions.clockUtc
      : sim800 && cfg.tlsStack === 'cellpub'
        ? Date.now() // the test certificates are valid from about now; the firmware checks dates
        : DEFAULT_NETWORK_EPOCH;
  const networkNow = () => epoch + clock.now();
  let broker;
  let subscriber = null;
  let port;
  let cloud;
  if (cfg.azure) {
    cloud = 'azure';
    const hub = cfg.host.replace(/\.azure-devices\.net$/, '');
    const device = cfg.azure.key ? { primaryKey: cfg.azure.key } : { x509: true };
    broker = await startAzureHub({ pki, hub, devices: { [cfg.clientId]: device }, now: networkNow, ...brokerOptions });
    port = broker.tlsPort;
    standIn.push(`broker: ${cfg.host} → ${broker.host}:${port} (local IoT-Hub-like endpoint standing in for Azure IoT Hub; device ${cfg.clientId} only)`);
  } else {
    cloud = cfg.tls ? 'hivemq' : 'plain';
    const modemTls = sim800 && cfg.tls && cfg.tlsStack !== 'cellpub'; // the SIM800's TLS 1.0 without SNI
    broker = await startBroker({
      pki,
      users: cfg.username ? { [cfg.username]: cfg.password ?? '' } : undefined,
      plain: !cfg.tls,
      requireSni: cfg.tls ? !!cfg.sni : true,
      ...(modemTls ? { tlsMinVersion: 'TLSv1' } : {}),
      clock,
      ...brokerOptions,
    });
    // as the broker's first user, naming the config's host (testPkiFor's certificate covers it)
    subscriber = await subscribe(broker, '#', { servername: LOCAL_HOSTS.includes(cfg.host) ? 'localhost' : cfg.host });
    broker.onStart(() => subscriber.reconnect());
    port = cfg.tls ? broker.tlsPort : broker.plainPort;
    const what = HIVEMQ_CLOUD.test(cfg.host) ? 'HiveMQ Cloud' : `your broker (${cfg.tls ? 'TLS' : 'plain MQTT'})`;
    standIn.push(
      `broker: ${cfg.host}:${cfg.port} → ${broker.host}:${port} (local Aedes standing in for ${what}; ${cfg.username ? `user ${cfg.username} only` : 'no credentials, as the config'})`,
    );
  }
  return { built, broker, subscriber, hostName: cfg.host, port, epoch, networkNow, cloud, standIn, modemOptions: modemOptionsOut };
}

/**
 * @param {object} o
 * @param {string} [o.board] board id
 * @param {'virtual'|'real'} [o.mode] clock mode
 * @param {'hivemq'|'azure'|'plain'} [o.cloud] where the readings go; 'plain' (MQTT on 1883, the
 *   default on SIM800 boards, which cannot reach the TLS 1.2 clouds) uses the same broker's plain listener
 * @param {object} [o.powerChipOptions] passed to createIp5306 on boards with one (default: keep-on
 *   clear, on battery, light load: the state in which a T-Call switches itself off)
 * @param {object} [o.config] config overrides (see testConfig)
 * @param {{raw: object, configDir?: string}} [o.userConfig] a user's own config (the parsed JSON and
 *   the folder its file paths are relative to), built unchanged in place of testConfig: a local
 *   broker (hivemq-cloud / plain: only the config's username and password) or Azure hub (the
 *   config's hub, deviceId, deviceKey) stands in for its cloud, the modem's DNS sends the config's
 *   host there, and the test CA stands in for the config's CA (A76xx: modem option caStandIn;
 *   SIM800 with cellpub's TLS: built with the test CA). `config` and `cloud` are then ignored,
 *   `board` defaults to the config's; rig.standIn says what stands in for what.
 * @param {object} [o.brokerOptions] passed to startBroker (e.g. allowedProtocols)
 * @param {object} [o.modemOptions] passed to createA76xx (network, bootMs, …)
 * @param {number} [o.batteryVolts] the battery's voltage at the start (see setBatteryVolts)
 * @param {object} [o.deviceOptions] passed to createEspruino (e.g. seed: Math.random in the firmware
 *   becomes a seeded PRNG, for runs that repeat exactly)
 * @param {object} [o.sensorOptions] { dht, ds18b20, analog }: passed to that sensor's simulator
 *   (host/sim/sensors/), attached when the config has the sensor (e.g. { dht: { temperature: -5 } })
 * @param {(code: string) => string} [o.mutate] changes the bundle text: only for tests that show
 *   another test would catch a firmware mistake (mutation tests); never for claims about the firmware
 */
export async function createRig({
  board,
  mode = 'virtual',
  cloud,
  config = {},
  userConfig,
  brokerOptions = {},
  modemOptions = {},
  powerChipOptions = {},
  deviceOptions = {},
  batteryVolts,
  sensorOptions = {},
  mutate,
} = {}) {
  board ??= (userConfig && userConfig.raw && typeof userConfig.raw.board === 'string' && userConfig.raw.board) || 't-a7670x';
  const boardData = await loadBoard(board);
  const sim800 = boardData.modem === 'SIM800';
  const clock = createClock({ mode });
  /** human-readable sentences: what stands in for what (userConfig) */
  const standIn = [];
  let built;
  let broker;
  let subscriber = null;
  let hostName = CLUSTER_HOST;
  let port;
  let epoch;
  let networkNow;
  const extraModem = {};
  let raw; // the config as given to build(), and its folder
  let configDir;
  if (userConfig) {
    ({ raw, configDir } = userConfig);
    const u = await userCloud({ board, sim800, userConfig, clock, modemOptions, brokerOptions });
    ({ built, broker, subscriber, hostName, port, epoch, networkNow } = u);
    cloud = u.cloud;
    standIn.push(...u.standIn);
    Object.assign(extraModem, u.modemOptions);
  } else {
    cloud ??= sim800 ? 'plain' : 'hivemq';
    ({ config: raw, configDir } = testConfig({ ...config, cloud }));
    built = await build({ board, config: raw, configDir, outFile: false });
    epoch = typeof modemOptions.clockUtc === 'number' ? modemOptions.clockUtc : DEFAULT_NETWORK_EPOCH;
    networkNow = () => epoch + clock.now();
    if (cloud === 'azure') {
      broker = await startAzureHub({
        pki: testPki(),
        hub: AZURE.hub,
        devices: { [AZURE.deviceId]: { primaryKey: AZURE.key } },
        now: networkNow,
        ...brokerOptions,
      });
      hostName = broker.hostName;
    } else {
      broker = await startBroker({ pki: testPki(), users: { [TEST_USER.name]: TEST_USER.password }, plain: cloud === 'plain', clock, ...brokerOptions });
      subscriber = await subscribe(broker, '#', { servername: CLUSTER_HOST });
      // a broker restart (faults) cuts the subscriber too: subscribe again before time moves on
      broker.onStart(() => subscriber.reconnect());
      if (cloud === 'plain') hostName = PLAIN_HOST;
    }
    port = cloud === 'plain' && !built.config.broker.tls ? broker.plainPort : broker.tlsPort;
  }
  const code = mutate ? mutate(built.code) : built.code;
  const device = createEspruino({ clock, ...deviceOptions });
  const bme = createBme280({ clock, address: built.config.bme280 ? built.config.bme280.address : 0x76 });
  device.i2c.attach(bme.address, bme);
  // the sensors people wire, on the pins the config gives them
  const c = built.config;
  const sensors = {};
  if (c.dht) sensors.dht = createDht({ clock, device, pin: c.dht.pin, type: `DHT${c.dht.type}`, ...sensorOptions.dht });
  if (c.ds18b20) sensors.ds18b20 = createDs18b20({ clock, device, pin: c.ds18b20.pin, ...sensorOptions.ds18b20 });
  if (c.analog) sensors.analog = createAnalog({ device, pin: c.analog.pin, ...sensorOptions.analog });
  const modem = (sim800 ? createSim800 : createA76xx)({
    clock,
    device,
    board: built.board,
    dns: { [hostName]: { host: broker.host, port } },
    clockUtc: epoch,
    ...extraModem,
    ...modemOptions,
  });
  // The IP5306 feeds the whole board: when it switches off, the ESP32 stops and its pins float,
  // which drops the modem's POWER_ON rail too.
  let powerChip = null;
  if (built.board.powerChip === 'IP5306') {
    powerChip = createIp5306({ clock, device, sysCtl0: 0xbc, ...powerChipOptions });
    powerChip.onPowerCut(() => device.powerOff());
    powerChip.onPowerOn(() => device.powerOn());
  }
  // Power loss with flash kept (faults): the board's supply is gone, so the ESP32 stops (pins
  // float, RAM lost, flash and RTC kept) and the modem loses its supply whatever its POWER_ON pin
  // says (on the T-A7670X the ESP32's IO12, whose reset pull here is up, enables the modem's
  // supply from the same battery; on the T-Call the IP5306 feeds everything).
  let powerLost = false;
  function powerLoss() {
    if (powerLost) return false;
    powerLost = true;
    modem.cutSupply();
    if (powerChip) powerChip.loseSupply(); // its cut handler powers the device off
    if (device.state !== 'off') device.powerOff();
    return true;
  }
  function powerRestore() {
    if (!powerLost) return false;
    powerLost = false;
    modem.restoreSupply();
    if (powerChip) powerChip.restoreSupply(); // its power-on handler boots the device
    if (device.state === 'off') device.powerOn();
    return true;
  }

  // The battery as the firmware can see it (firmware/sensors/battery.ts): on a board with a BAT
  // ADC pin, volts / divider at the pin, as a fraction of the 11 dB full scale (3.9 V) that
  // analogRead reports; on the T-Call, the IP5306's charge-LED level for that voltage (the bands'
  // lower edges battery.ts gives: 3.87 V 100 %, 3.75 V 75 %, 3.65 V 50 %, 3.4 V 25 %, else 0 %).
  function setBatteryVolts(v) {
    const b = built.board.battery;
    if (b) device.pins.setAnalog(b.pin, v / b.divider / 3.9);
    if (powerChip) powerChip.setBatteryLevel(v >= 3.87 ? 100 : v >= 3.75 ? 75 : v >= 3.65 ? 50 : v >= 3.4 ? 25 : 0);
  }
  // unless a test says: 3.9 V at the ADC pin, and the IP5306 level powerChipOptions gave (100 %)
  if (batteryVolts !== undefined) setBatteryVolts(batteryVolts);
  else if (built.board.battery) device.pins.setAnalog(built.board.battery.pin, 1 / built.board.battery.divider);

  let closed = false;
  return {
    /** The battery's voltage from now on (ADC pin through the divider, or the IP5306's level). */
    setBatteryVolts,
    clock,
    device,
    modem,
    bme,
    /** the simulated DHT, DS18B20 and analog input the config has (host/sim/sensors/) */
    sensors,
    powerChip,
    broker,
    subscriber,
    board: built.board,
    config: built.config,
    /** with userConfig: what stands in for the user's cloud, one sentence each (empty otherwise) */
    standIn,
    code,
    bytes: built.bytes,
    networkNow,
    /** Storage files the flash tool writes next to the code (secrets, PEMs). */
    files: built.files,
    /** the config as given to build() and its folder (to build another bundle for the same station) */
    rawConfig: raw,
    configDir,
    /** Writes what `npm run flash` writes (the Storage files, then the bundle as .bootcde) and
     *  boots from Storage as the board does (.boot0….boot3 then .bootcde, at every boot). */
    start() {
      for (const [name, data] of Object.entries(built.files)) device.storage.write(name, data);
      device.storage.write('.bootcde', code);
      device.bootFromStorage();
    },
    /** The whole board loses power (ESP32, modem and power chip); flash and RTC survive. */
    powerLoss,
    /** Power is back: the power chip and the ESP32 start again (a cold boot); the modem waits for PWRKEY. */
    powerRestore,
    get powerLost() {
      return powerLost;
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
    /**
     * Something sent from the cloud side (a command, a twin update, a method call) travels to the
     * modem over real sockets: wait in real time until the modem has received it, so virtual time
     * does not run on without it. Returns what send() returned, wrapped, so a promise in it (a
     * method's answer, which needs virtual time) is not awaited here. Throws if nothing arrives.
     */
    async toModem(send) {
      // the A76xx counts MQTT messages; the SIM800 only sees bytes on its socket
      const received = () => modem.stats.rxMessages ?? modem.stats.rxBytes;
      const had = received();
      const result = send();
      const end = Date.now() + 5000;
      while (received() === had && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
      if (received() === had) throw new Error('the modem did not receive what was sent to it within 5 s');
      return { result };
    },
    /** A failure message with what happened: the device log, the broker's last events, the modem transcript. */
    explain(why) {
      return `${why}\n--- device log ---\n${device.log.join('\n')}\n--- broker events (last 8) ---\n${JSON.stringify(broker.events.slice(-8))}\n--- modem transcript (tail) ---\n${modem.transcript.text().slice(-4000)}`;
    },
    /** Readings that reached the cloud on the telemetry topic ({topic, text, …}). */
    readings() {
      if (cloud === 'azure') return broker.telemetry.filter((m) => /^\{"ts"/.test(m.payload)).map((m) => ({ ...m, text: m.payload }));
      return subscriber.messages.filter((m) => m.topic === built.config.topics.telemetry);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (modem.close) await modem.close();
      if (subscriber) await subscriber.close().catch(() => {});
      await broker.close();
    },
  };
}
