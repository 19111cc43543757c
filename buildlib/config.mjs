// The deployment config: schema, presets, and the rules that stop a build before anything is
// flashed. Every message names the field, what was given and what is allowed, and never quotes
// a secret. resolveConfig() returns the DeviceConfig the firmware gets (firmware/config.ts).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { caPem, knownCas, caBundles } from './cas.mjs';
import { pinClashes } from './pins.mjs';
import { BOARDS, chooseModem } from './energy.mjs';

export const SECRETS_FILE = 'cp.secrets'; // firmware/store/secrets.ts reads it

const SECRET_FIELDS = new Set(['broker.password', 'broker.deviceKey', 'simPin']);
const CA_NAMES = [...Object.keys(knownCas), ...Object.keys(caBundles)];

// A field: type, default, allowed values or range, and a note for the message.
const str = (o = {}) => ({ type: 'string', ...o });
const int = (min, max, o = {}) => ({ type: 'integer', min, max, ...o });
const bool = (o = {}) => ({ type: 'boolean', ...o });
const num = (min, max, o = {}) => ({ type: 'number', min, max, ...o });

const MODEMS = { 'always-on': ['auto', 'awake', 'dtr-sleep'], 'duty-cycle': ['auto', 'off', 'psm'] };

export const schema = {
  board: str({ optional: true, note: 'a board file name under boards/' }),
  apn: str({ default: '', note: 'your SIM\'s APN, or "" to use the network\'s default' }),
  simPin: str({ optional: true, pattern: /^[0-9]{4,8}$/, note: '4 to 8 digits' }),
  broker: {
    type: 'object',
    fields: {
      preset: str({ enum: ['hivemq-cloud', 'azure-iot-hub', 'plain'], default: 'plain' }),
      host: str({ optional: true, pattern: /^[A-Za-z0-9.-]+$/, note: 'a host name or IPv4 address, no scheme or port' }),
      // Azure IoT Hub (preset azure-iot-hub)
      hub: str({ optional: true, pattern: /^[A-Za-z0-9-]{3,50}$/, note: 'the IoT Hub name: the part before .azure-devices.net' }),
      deviceId: str({ optional: true, pattern: /^[A-Za-z0-9\-.%_*?!(),:=@$']{1,128}$/, note: 'the device id as registered in the hub' }),
      deviceKey: str({ optional: true, note: "the device's primary (or secondary) key, base64, from the hub" }),
      clientCert: str({ optional: true, note: 'path of the device certificate PEM (X.509 authentication instead of deviceKey)' }),
      clientKey: str({ optional: true, note: 'path of the device private key PEM (with clientCert)' }),
      tokenSeconds: int(300, 86400, { default: 3600, note: 'SAS token lifetime; the session is renewed before it ends' }),
      port: int(1, 65535, { optional: true }),
      tls: bool({ optional: true }),
      sni: bool({ default: true }),
      // SIM800 boards only: who speaks TLS. "cellpub": the firmware's own TLS 1.2 (SNI, checks the
      // server against broker.ca) over the modem's plain socket; "modem": AT+CIPSSL, TLS 1.0
      // without SNI or any check, for brokers that still take it.
      tlsStack: str({ optional: true, enum: ['cellpub', 'modem'], note: 'SIM800 boards only' }),
      allowUnknownTime: bool({
        default: false,
        note: "cellpub's TLS: connect before the network has given the time, without checking certificate dates",
      }),
      username: str({ optional: true }),
      password: str({ optional: true }),
      ca: str({ optional: true, note: `one of ${CA_NAMES.join(', ')}, or the path of a PEM file` }),
      clientId: str({ optional: true, pattern: /^[\x21-\x7e]{1,128}$/, note: '1 to 128 printable ASCII characters' }),
      keepalive: int(10, 64800, { default: 60 }),
      cleanSession: bool({ default: true }),
    },
  },
  topics: {
    type: 'object',
    optional: true,
    fields: {
      telemetry: str({ default: 'cellpub/{clientId}/readings' }),
      command: str({ default: 'cellpub/{clientId}/cmd' }),
      status: str({ default: 'cellpub/{clientId}/status' }),
    },
  },
  qos: int(0, 1, { default: 1, note: 'QoS 2 is not supported by Azure IoT Hub and not needed here' }),
  intervalSeconds: int(10, 86400, { default: 60 }),
  queueMax: int(1, 5000, { default: 2000, note: 'readings kept in flash while they cannot be sent; ~100 bytes of flash each' }),
  sensors: {
    type: 'object',
    optional: true,
    fields: {
      bme280: { type: 'object', optional: true, fields: { address: int(0x76, 0x77, { default: 0x76, note: '118 (0x76) or 119 (0x77)' }) } },
      // the sensor bus's pins, instead of the board file's i2c (build.mjs puts them in the board)
      i2c: {
        type: 'object',
        optional: true,
        fields: {
          sda: int(0, 48, { note: 'an ESP32 GPIO number the board leaves free' }),
          scl: int(0, 48, { note: 'an ESP32 GPIO number the board leaves free' }),
        },
      },
      // the position in each reading, on boards whose modem has GNSS (board file `gnss`)
      gnss: {
        type: 'object',
        optional: true,
        fields: { fixTimeoutSeconds: int(10, 600, { default: 90, note: 'how long a reading waits for a fix' }) },
      },
      dht: {
        type: 'object',
        optional: true,
        fields: { type: str({ enum: ['DHT11', 'DHT22'] }), pin: int(0, 48, { note: 'the GPIO of its data line' }) },
      },
      ds18b20: { type: 'object', optional: true, fields: { pin: int(0, 48, { note: 'the GPIO of its OneWire data line' }) } },
      analog: {
        type: 'object',
        optional: true,
        fields: {
          pin: int(0, 48, { note: 'an ADC1 GPIO (32 to 39) on the ESP32' }),
          name: str({
            default: 'analog',
            pattern: /^[a-z][a-z0-9_]{0,15}$/,
            note: 'its key in the reading: a lower-case letter, then up to 15 of a-z, 0-9, _',
          }),
          scale: num(-1e6, 1e6, { default: 1, note: 'the reading is analogRead (0..1 of full scale) × scale + offset' }),
          offset: num(-1e6, 1e6, { default: 0 }),
        },
      },
    },
  },
  power: {
    type: 'object',
    optional: true,
    fields: {
      mode: str({ enum: ['always-on', 'duty-cycle'], default: 'always-on' }),
      uploadEverySeconds: int(60, 86400, { default: 3600, note: 'duty-cycle: the modem comes up when this much time has passed since the last upload' }),
      modem: str({ enum: ['auto', 'awake', 'dtr-sleep', 'off', 'psm'], default: 'auto' }),
      lowBattery: {
        type: 'object',
        optional: true,
        fields: {
          slowBelowVolts: num(2.5, 4.5, { default: 3.5, note: 'below it the interval is multiplied by slowFactor' }),
          slowFactor: int(1, 100, { default: 4 }),
          stopBelowVolts: num(2.5, 4.5, { default: 3.3, note: 'below it the modem stays off and the station sleeps stopSleepSeconds' }),
          stopSleepSeconds: int(600, 604800, { default: 21600 }),
        },
      },
    },
  },
  // over-the-air updates (firmware/remote/ota.ts, host/tools/ota.mjs): only bundles with it carry the code
  ota: {
    type: 'object',
    optional: true,
    fields: {
      rollbackSeconds: int(60, 3600, {
        default: 600,
        note: 'after an update the new code must reach the broker within this time, or the board goes back to the code it had',
      }),
    },
  },
  ntpServer: str({ default: 'pool.ntp.org', pattern: /^[A-Za-z0-9.-]+$/ }),
  registerTimeoutSeconds: int(30, 3600, { default: 180 }),
};

export class ConfigError extends Error {
  constructor(problems) {
    super(`the config has ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n` + problems.map((p) => `  - ${p}`).join('\n'));
    this.problems = problems;
  }
}

function shown(path, v) {
  if (SECRET_FIELDS.has(path)) return '(hidden)';
  return JSON.stringify(v);
}

function check(spec, value, path, problems) {
  if (value === undefined) {
    if ('default' in spec) return typeof spec.default === 'object' ? structuredClone(spec.default) : spec.default;
    if (spec.type === 'object' && spec.optional) return undefined;
    if (!spec.optional) problems.push(`${path}: missing; ${describe(spec)}`);
    return undefined;
  }
  if (spec.type === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${path}: must be an object, got ${shown(path, value)}`);
      return undefined;
    }
    const out = {};
    for (const key of Object.keys(value)) {
      if (!(key in spec.fields)) problems.push(`${path ? path + '.' : ''}${key}: unknown setting; allowed here: ${Object.keys(spec.fields).join(', ')}`);
    }
    for (const [key, sub] of Object.entries(spec.fields)) {
      const v = check(sub, value[key], path ? `${path}.${key}` : key, problems);
      if (v !== undefined) out[key] = v;
    }
    return out;
  }
  const bad = () => problems.push(`${path}: ${describe(spec)}, got ${shown(path, value)}`);
  if (spec.type === 'string' && typeof value !== 'string') return bad();
  if (spec.type === 'boolean' && typeof value !== 'boolean') return bad();
  if (spec.type === 'integer') {
    if (!Number.isInteger(value) || value < spec.min || value > spec.max) return bad();
  }
  if (spec.type === 'number' && !(typeof value === 'number' && Number.isFinite(value) && value >= spec.min && value <= spec.max)) return bad();
  if (spec.enum && !spec.enum.includes(value)) return bad();
  if (spec.pattern && !spec.pattern.test(value)) return bad();
  return value;
}

function describe(spec) {
  if (spec.enum) return `must be one of ${spec.enum.map((e) => JSON.stringify(e)).join(', ')}`;
  if (spec.type === 'integer') return `must be a whole number from ${spec.min} to ${spec.max}${spec.note ? ` (${spec.note})` : ''}`;
  if (spec.type === 'number') return `must be a number from ${spec.min} to ${spec.max}${spec.note ? ` (${spec.note})` : ''}`;
  return `must be a ${spec.type}${spec.note ? ` (${spec.note})` : ''}`;
}

/** A HiveMQ Cloud cluster's host name (the rig names its stand-in by it too). */
export const HIVEMQ_CLOUD = /\.hivemq\.cloud$/i;
const AZURE_API_VERSION = '2021-04-12';
// Azure IoT Hub's server times out at 1.5 × keepalive, capped at 1767 s (modem-facts.md §D.2)
const AZURE_MAX_KEEPALIVE = 1177;

// Strings the firmware puts inside "…" of an AT command: a quote or a line end would end it.
function atSafe(path, v, problems) {
  if (typeof v === 'string' && /["\r\n]/.test(v)) problems.push(`${path}: must not contain double quotes or line breaks (it is sent inside an AT command)`);
}

/**
 * @param raw the parsed JSON config
 * @param opts.board the board object (boards/*.ts); opts.baseDir to resolve a CA file path
 * @param opts.gnssBoards ids of the boards with GNSS (named when a config asks for it elsewhere)
 * @returns the DeviceConfig the firmware is built with
 */
export function resolveConfig(raw, { board, baseDir = '.', version = '0.0.0', env = process.env, gnssBoards = [] }) {
  const problems = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(['the config must be a JSON object']);
  const envNames = {};
  raw = secretsFromEnv(raw, env, problems, envNames);
  if (problems.length) throw new ConfigError(problems);
  const c = check({ type: 'object', fields: schema }, raw, '', problems);
  if (problems.length) throw new ConfigError(problems);
  const b = c.broker;
  const azure = b.preset === 'azure-iot-hub';
  if (azure) applyAzure(b, raw, problems);
  else {
    for (const k of ['hub', 'deviceId', 'deviceKey', 'clientCert', 'clientKey']) {
      if (raw.broker[k] !== undefined) problems.push(`broker.${k}: only used with the azure-iot-hub preset`);
    }
    if (!b.host) problems.push('broker.host: missing; must be a string (a host name or IPv4 address, no scheme or port)');
  }
  if (problems.length) throw new ConfigError(problems);
  const hivemq = b.preset === 'hivemq-cloud' || HIVEMQ_CLOUD.test(b.host);

  if (board) pinRules(board, c.sensors || {}, problems);
  const gnss = c.sensors && c.sensors.gnss;
  if (gnss && board && !board.gnss)
    problems.push(
      `sensors.gnss: ${board.id}'s modem (${board.modemModel}) has no GNSS; ${gnssBoards.length ? `boards with GNSS: ${gnssBoards.join(', ')}` : 'no board file has GNSS'}. Leave sensors.gnss out`,
    );
  if (c.board && board && c.board !== board.id)
    problems.push(`board: the config is for "${c.board}" but the build was asked for "${board.id}"; make them match`);
  if (b.preset === 'hivemq-cloud') {
    b.port ??= 8883;
    b.tls ??= true;
    b.ca ??= 'isrg-root-x1';
  }
  b.port ??= b.tls ? 8883 : 1883;
  b.tls ??= b.port === 8883;
  if (b.port === 8884) {
    problems.push("broker.port: 8884 is MQTT over secure WebSocket (HiveMQ Cloud's wss:// port); the modem speaks MQTT over TLS: use 8883");
  }
  const sim800 = !!board && board.modem === 'SIM800';
  if (sim800) sim800Rules(board, b, raw, { hivemq, azure }, problems);
  else if (raw.broker.tlsStack !== undefined)
    problems.push(`broker.tlsStack: only for SIM800 boards; the ${board ? board.id : 'A76xx'}'s modem speaks TLS 1.2 itself`);
  if (raw.broker.allowUnknownTime !== undefined && b.tlsStack !== 'cellpub')
    problems.push("broker.allowUnknownTime: only for cellpub's TLS 1.2 on SIM800 boards; leave it out");
  if (hivemq && b.tlsStack !== 'modem') {
    if (!b.tls) problems.push('broker.tls: HiveMQ Cloud only accepts MQTT over TLS (there is no plain 1883); set it to true and use port 8883');
    else if (b.port !== 8883 && b.port !== 8884) problems.push(`broker.port: HiveMQ Cloud takes MQTT over TLS on 8883, got ${b.port}`);
    if (!b.sni) problems.push('broker.sni: HiveMQ Cloud needs the server name (SNI) to find your cluster; set it to true');
    if (!b.username || !b.password)
      problems.push("broker.username / broker.password: HiveMQ Cloud requires the credentials you created in the cluster's Access Management");
  }
  if (b.password && !b.username) problems.push('broker.password: MQTT sends a password only with a username; set broker.username');
  if (b.tls && b.port === 1883) problems.push('broker.port: 1883 is plain MQTT; TLS brokers listen on 8883. Set broker.tls to false or the port to 8883');
  if (!b.tls && b.ca) problems.push('broker.ca: a CA is only used with TLS; set broker.tls to true or remove broker.ca');

  if (b.clientId && azure && b.clientId !== b.deviceId) problems.push('broker.clientId: Azure IoT Hub takes the device id as client id; leave clientId out');
  const clientId = azure ? b.deviceId : (b.clientId ?? `cellpub-${board ? board.id : 'device'}`);
  for (const [path, v] of [
    ['apn', c.apn],
    ['broker.clientId', clientId],
    ['broker.username', b.username],
    ['broker.password', b.password],
  ])
    atSafe(path, v, problems);
  if (!sim800) a76xxLimits(b, azure, problems);

  if (azure && raw.topics) problems.push('topics: Azure IoT Hub fixes the topics (devices/{deviceId}/messages/events/ and friends); leave topics out');
  const topics = {};
  const topicSource = azure
    ? {
        telemetry: 'devices/{clientId}/messages/events/$.ct=application%2Fjson&$.ce=utf-8',
        command: 'devices/{clientId}/messages/devicebound/#',
        status: 'devices/{clientId}/messages/events/$.ct=application%2Fjson&$.ce=utf-8',
      }
    : (c.topics ?? check(schema.topics, {}, 'topics', problems));
  for (const [k, t] of Object.entries(topicSource)) {
    const v = t.split('{clientId}').join(clientId);
    if (!/^[\x20-\x7e]{1,1024}$/.test(v)) problems.push(`topics.${k}: must be 1 to 1024 printable ASCII characters, got ${JSON.stringify(v)}`);
    else if (/[+#]/.test(v) && !(azure && k === 'command'))
      problems.push(`topics.${k}: must not contain the wildcards + or # (it is a topic to ${k === 'command' ? 'subscribe to exactly' : 'publish to'})`);
    topics[k] = v;
  }

  let ca;
  if (b.tls && b.ca) {
    try {
      ca = CA_NAMES.includes(b.ca) ? caPem(b.ca) : readFileSync(resolve(baseDir, b.ca), 'utf8');
      if (!/-----BEGIN CERTIFICATE-----/.test(ca)) throw new Error('no PEM certificate in it');
      // one CCERTDOWN packet: "every packet data should be no larger than 3072 bytes" (A76XX AT manual §19.2.2)
      if (!sim800 && ca.replace(/\r\n/g, '\n').length > 3072)
        throw new Error(
          `${ca.replace(/\r\n/g, '\n').length} bytes; the modem takes at most 3072 in one upload: give only the root certificate your server's chain ends at`,
        );
    } catch (err) {
      problems.push(`broker.ca: cannot use ${JSON.stringify(b.ca)}: ${err.message}; give one of ${CA_NAMES.join(', ')} or the path of a PEM file`);
    }
  }
  const pems = {};
  for (const k of ['clientCert', 'clientKey']) {
    if (!b[k]) continue;
    try {
      pems[k] = readFileSync(resolve(baseDir, b[k]), 'utf8').replace(/\r\n/g, '\n');
      if (!/-----BEGIN [A-Z ]+-----/.test(pems[k])) throw new Error('no PEM block in it');
      if (pems[k].length > 3072) throw new Error(`${pems[k].length} bytes; the modem takes at most 3072 in one upload (A76XX AT manual §19.2.2)`);
    } catch (err) {
      problems.push(`broker.${k}: cannot use ${JSON.stringify(b[k])}: ${err.message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);

  const broker = {
    host: b.host,
    port: b.port,
    tls: b.tls,
    sni: b.sni,
    clientId,
    keepalive: b.keepalive,
    cleanSession: b.cleanSession,
  };
  if (b.tlsStack === 'cellpub') {
    broker.tlsStack = 'cellpub'; // build.mjs: the bundle gets firmware/tls/
    if (b.allowUnknownTime) broker.anyTime = true;
  }
  if (b.username) broker.username = b.username;
  if (b.password) broker.password = b.password;
  if (azure) {
    broker.azure = { resource: `${b.host}/devices/${b.deviceId}`, tokenS: b.tokenSeconds };
    if (b.deviceKey) broker.azure.key = b.deviceKey;
  }
  const pemName = (k, pem) => `${k === 'clientCert' ? 'dev' : 'key'}-${createHash('sha256').update(pem).digest('hex').slice(0, 8)}.pem`;
  if (pems.clientCert) {
    broker.clientCert = { name: pemName('clientCert', pems.clientCert), pem: pems.clientCert };
    broker.clientKey = { name: pemName('clientKey', pems.clientKey), pem: pems.clientKey };
  }
  if (ca) {
    broker.caPem = ca.replace(/\r\n/g, '\n');
    broker.caName = `ca-${createHash('sha256').update(broker.caPem).digest('hex').slice(0, 8)}.pem`;
  }
  const out = {
    version,
    apn: c.apn,
    broker,
    topics,
    qos: c.qos,
    intervalS: c.intervalSeconds,
    queueMax: c.queueMax,
    ntpServer: c.ntpServer,
    registerTimeoutS: c.registerTimeoutSeconds,
  };
  if (c.simPin) out.simPin = c.simPin;
  if (c.ota) {
    // npm run ota publishes the update on the command topic of the config's own broker; IoT Hub
    // takes messages for a device only through its service API, which the tool does not speak
    if (azure)
      problems.push(
        'ota: updates over the air need your own MQTT broker (HiveMQ Cloud or plain): npm run ota publishes on the command topic, which Azure IoT Hub does not have. Update an Azure station with npm run flash, and leave ota out',
      );
    out.ota = { rollbackS: c.ota.rollbackSeconds };
  }
  powerRules(c, raw, board, out, problems);
  if (problems.length) throw new ConfigError(problems);
  // for --print-config: the config in its own field names, defaults and presets filled in; not
  // enumerable, so never in the bundle
  const effBroker = {};
  for (const k of Object.keys(schema.broker.fields)) if (b[k] !== undefined) effBroker[k] = b[k];
  effBroker.clientId = clientId;
  if (!azure) delete effBroker.tokenSeconds; // the fields that do nothing here
  if (b.tlsStack !== 'cellpub') delete effBroker.allowUnknownTime;
  const effective = {};
  for (const k of Object.keys(schema)) {
    const v = k === 'broker' ? effBroker : k === 'topics' ? topics : c[k];
    if (v !== undefined) effective[k] = v;
  }
  if (c.power) effective.power = { ...c.power, modem: out.power ? out.power.modem : out.modemSleep || (c.power.modem === 'auto' ? 'awake' : c.power.modem) };
  if (c.power && raw.broker.cleanSession === undefined) effective.broker.cleanSession = out.broker.cleanSession;
  Object.defineProperty(out, 'effective', { value: effective });
  Object.defineProperty(out, 'fromEnv', { value: envNames });
  // no sensors: a BME280 at 0x76; sensors without bme280: none, unless it gives the sensor's pins
  const bme = !c.sensors ? { address: 0x76 } : c.sensors.bme280 || (c.sensors.i2c ? { address: 0x76 } : undefined);
  if (bme) out.bme280 = { address: bme.address ?? 0x76 };
  if (gnss) {
    out.gnss = { fixTimeoutS: gnss.fixTimeoutSeconds };
    if (board && board.gnssAntennaGpio !== undefined) out.gnss.ant = board.gnssAntennaGpio;
    // A76xx (ASR) firmware: "+CGNSSPWR: READY!" after the OK; SIM767X: a plain OK (modem-facts §A.9)
    if (board && !/^SIM767/.test(board.modemModel)) out.gnss.ready = 1;
  }
  const sn = c.sensors || {};
  if (sn.dht) out.dht = { type: sn.dht.type === 'DHT11' ? 11 : 22, pin: sn.dht.pin };
  if (sn.ds18b20) out.ds18b20 = { pin: sn.ds18b20.pin };
  if (sn.analog) out.analog = { pin: sn.analog.pin, name: sn.analog.name, scale: sn.analog.scale, offset: sn.analog.offset };
  return out;
}

/** What the modem does between publishes (always-on) or uploads (duty-cycle) when the config says
 *  "auto": the cheapest by the energy model (buildlib/energy.mjs chooseModem, from cited currents
 *  and the awake times measured on the virtual board) among what this board can do:
 *  - "psm" keeps the modem registered through the ESP32's deep sleep, but the modem's RESET line
 *    (and on the T-A7670X its supply, IO12) hangs on ESP32 pins that Espruino cannot hold through
 *    deep sleep (no gpio_hold in targets/esp32; LilyGO's own ModemSleep/DeepSleep examples hold
 *    them with gpio_hold_en): a floating RESET may restart the modem at every sleep, and cutting
 *    VBAT under a registered modem risks its flash (A7670 hardware manual §3.2). So "auto" never
 *    picks it; a user whose board keeps those lines still may ask for it (not on the T-A7670X);
 *  - "dtr-sleep" needs the board's DTR pin.
 *  Returns [modem, why]. */
export function autoModem(mode, board, c) {
  const plain = mode === 'duty-cycle' ? 'off' : 'awake';
  if (!board || !BOARDS[board.id]) return [plain, 'no energy model for this board'];
  const pick = chooseModem({ board: board.id, mode, intervalS: c.intervalSeconds, uploadEveryS: c.power && c.power.uploadEverySeconds });
  if (pick.modem === 'psm')
    return ['off', `${pick.why}; but ${board.id}'s modem RESET${board.keepPowerOn ? ' and supply' : ''} pins float in an Espruino deep sleep → off`];
  if (pick.modem === 'dtr-sleep' && board.dtr === undefined) return ['awake', `${pick.why}; but ${board.id} has no DTR pin → awake`];
  return [pick.modem, pick.why];
}

// power: always-on (today) or duty-cycle (firmware/power/). Checks what the schema cannot (one
// field against another, the board), and gives the firmware power (duty-cycle only) and modemSleep.
function powerRules(c, raw, board, out, problems) {
  const p = c.power;
  if (!p) return;
  const rawP = raw.power || {};
  if (!MODEMS[p.mode].includes(p.modem)) {
    const other = p.mode === 'duty-cycle' ? 'always-on' : 'duty-cycle';
    problems.push(
      `power.modem: ${JSON.stringify(p.modem)} is not for power.mode ${JSON.stringify(p.mode)}; allowed: ${MODEMS[p.mode].map((m) => JSON.stringify(m)).join(', ')}` +
        (MODEMS[other].includes(p.modem) ? ` (${JSON.stringify(p.modem)} is for ${JSON.stringify(other)})` : ''),
    );
  }
  const [modem, why] = p.modem === 'auto' ? autoModem(p.mode, board, c) : [p.modem, 'set in the config'];
  // for build.mjs to print; not enumerable, so not in the bundle
  Object.defineProperty(out, 'modemChoice', { value: `power.modem: ${modem} (${why})` });
  if (modem === 'psm' && board && board.keepPowerOn)
    problems.push(
      `power.modem: "psm" keeps the modem powered while the ESP32 deep-sleeps, but ${board.id} feeds its modem from ESP32 GPIO ${board.powerOn}, which Espruino cannot hold through deep sleep (it floats), and cutting a registered modem's supply risks its flash; use "off"`,
    );
  if (modem === 'dtr-sleep' && board && board.dtr === undefined)
    problems.push(`power.modem: "dtr-sleep" needs the modem's DTR pin, and boards/${board.id}.ts has none; use "awake"`);
  if (modem === 'psm' && board && board.modem === 'SIM800')
    problems.push('power.modem: "psm" is LTE power saving (AT+CPSMS), which the SIM800 (GSM) does not have; use "off"');
  if (p.mode === 'always-on') {
    for (const k of ['uploadEverySeconds', 'lowBattery']) {
      if (rawP[k] !== undefined) problems.push(`power.${k}: only used with power.mode "duty-cycle"; set the mode or leave ${k} out`);
    }
    if (modem === 'dtr-sleep') out.modemSleep = 'dtr-sleep';
    return;
  }
  if (p.uploadEverySeconds < c.intervalSeconds) {
    problems.push(
      `power.uploadEverySeconds: ${p.uploadEverySeconds} is shorter than intervalSeconds (${c.intervalSeconds}); uploads happen at a wake, so make it at least ${c.intervalSeconds}`,
    );
  }
  const lb = p.lowBattery ?? check(schema.power.fields.lowBattery, {}, 'power.lowBattery', problems);
  if (lb.stopBelowVolts >= lb.slowBelowVolts) {
    problems.push(
      `power.lowBattery.stopBelowVolts: ${lb.stopBelowVolts} V must be below slowBelowVolts (${lb.slowBelowVolts} V): the station slows down first, then stops`,
    );
  }
  // Espruino's ESP32-S3 build has no ADC (analogRead gives NaN): such a board cannot see its battery
  // (the S3 boards' ids end in -s3); the IP5306's level stands in for a voltage on the T-Call
  const measurable = !board || (!!board.battery && !/-s3$/.test(board.id)) || board.powerChip === 'IP5306';
  if (!measurable && rawP.lowBattery !== undefined) {
    problems.push(
      `power.lowBattery: ${board.id} cannot measure its battery (${board.battery ? "Espruino's ESP32-S3 build has no ADC: analogRead gives NaN" : 'the board file has no battery ADC pin'}), so these rules could never act; leave lowBattery out`,
    );
  }
  // a command sent while the station sleeps waits at the broker for its next upload (a persistent
  // session: the QoS 1 subscription and its queued messages survive the disconnect), unless the
  // config asks for clean sessions
  if (raw.broker.cleanSession === undefined) out.broker.cleanSession = false;
  out.power = {
    uploadEveryS: p.uploadEverySeconds,
    modem,
    // 0: no low-battery rules (the board cannot measure its battery)
    slowV: measurable ? lb.slowBelowVolts : 0,
    slowFactor: lb.slowFactor,
    stopV: measurable ? lb.stopBelowVolts : 0,
    stopSleepS: lb.stopSleepSeconds,
  };
}

/** The board the firmware is built for: the board file, with the config's sensors.i2c pins
 *  (validated by resolveConfig) in place of its own. The firmware reads board.i2c. */
export function configuredBoard(board, raw) {
  const i2c = raw && raw.sensors && raw.sensors.i2c;
  return i2c ? { ...board, i2c: { sda: i2c.sda, scl: i2c.scl } } : board;
}

// The reading keys the firmware writes itself (firmware/telemetry/reading.ts, sensors.ts): an
// analog input named like one of them would overwrite it.
const READING_KEYS = ['ts', 't', 'p', 'h', 'dht_t', 'dht_h', 'ds_t', 'bv', 'lat', 'lon', 'alt', 'low', 'err', 'rssi', 'up', 'bat', 'chg', 'n'];

function pinRules(board, sensors, problems) {
  const i2c = sensors.i2c;
  // the IP5306 sits on the board's own I2C pins and shares the bus (firmware/main.ts: one I2C1)
  if (i2c && board.powerChip && (i2c.sda !== board.i2c.sda || i2c.scl !== board.i2c.scl)) {
    problems.push(
      `sensors.i2c: on ${board.id} the ${board.powerChip} power chip is wired to SDA ${board.i2c.sda} / SCL ${board.i2c.scl} and shares the bus with the sensor; wire the sensor there and leave sensors.i2c out`,
    );
    return;
  }
  const from = i2c ? { 'i2c.sda': 'sensors.i2c.sda in the config', 'i2c.scl': 'sensors.i2c.scl in the config' } : {};
  const sensorPins = {};
  for (const k of ['dht', 'ds18b20', 'analog']) {
    if (!sensors[k]) continue;
    sensorPins[k] = sensors[k].pin;
    from[`sensorPins.${k}`] = `sensors.${k}.pin in the config`;
    const p = gpioProblem(board, k, sensors[k].pin);
    if (p) problems.push(`sensors.${k}.pin: ${p}`);
  }
  if (sensors.analog && READING_KEYS.includes(sensors.analog.name))
    problems.push(
      `sensors.analog.name: "${sensors.analog.name}" is already a key of the reading (${READING_KEYS.join(', ')}); choose another name, e.g. "soil"`,
    );
  for (const p of pinClashes({ ...configuredBoard(board, { sensors: { i2c } }), sensorPins }, { from })) problems.push(p);
}

// What Espruino gives each GPIO (boards/ESP32.py, boards/ESP32S3_IDF4.py): ESP32 GPIO 0..39, of
// which 6..11 are the SPI flash and 34..39 inputs only (no output driver: no DHT start pulse, no
// OneWire), and analogRead only on the ADC1 pins 32..39 ("ADC2 not supported yet"); the S3 board
// file gives GPIO 0..48 and no pin an ADC function (analogRead returns NaN).
function gpioProblem(board, kind, pin) {
  const s3 = /-s3$/.test(board.id);
  const chip = s3 ? 'ESP32-S3' : 'ESP32';
  if (pin > (s3 ? 48 : 39)) return `the ${chip} of ${board.id} has GPIO 0 to ${s3 ? 48 : 39}, got ${pin}`;
  if (!s3 && pin >= 6 && pin <= 11) return `GPIO${pin} is wired to the ESP32's SPI flash; use a pin the board leaves free`;
  if (kind === 'analog') {
    if (s3)
      return `Espruino's ESP32-S3 build reads no ADC (its board file gives no pin an analog function, analogRead returns NaN); an analog input needs an ESP32 board`;
    if (pin < 32) return `Espruino's ESP32 build reads only the ADC1 pins, GPIO 32 to 39 (ADC2 is not supported); got GPIO${pin}`;
  } else if (!s3 && pin >= 34) {
    return `GPIO${pin} is input only on the ESP32, and the ${kind === 'dht' ? 'DHT start pulse' : 'OneWire bus'} needs a pin that can drive the line; use another GPIO`;
  }
  return null;
}

// The A76xx's MQTT stack takes its strings as AT command arguments with fixed ranges (A76XX AT
// Command Manual V1.09 ch. 18): AT+CMQTTACCQ "<clientID> … The string length is from 1 to 128
// bytes" (§18.2.3; the schema's clientId pattern and the Azure deviceId pattern hold it);
// AT+CMQTTCONNECT "<server_addr> … The range of the string length is 9 to 256 bytes … must begin
// with "tcp://"", "<user_name> … The string length is from 1 to 256 bytes", "<pass_word> … The
// string length is from 1 to 256 bytes" (§18.2.2); topics (CMQTTTOPIC, CMQTTSUBTOPIC,
// CMQTTWILLTOPIC) "The range is from 1 to 1024 bytes" (checked for every board above) and the will
// message (CMQTTWILLMSG) 1 to 1024 bytes (the firmware's is a fixed 16). The SIM800 boards speak
// MQTT 3.1.1 themselves (strings up to 65535 bytes), so none of this applies to them.
const A76XX_MAX = { user: 256, pass: 256, server: 256 };
const CONNECT = "the A76xx modem's MQTT (AT+CMQTTCONNECT)";

function a76xxLimits(b, azure, problems) {
  const bytes = (v) => Buffer.byteLength(v, 'utf8');
  const server = `tcp://${b.host}:${b.port}`;
  if (bytes(server) > A76XX_MAX.server) {
    problems.push(
      `broker.host: ${JSON.stringify(server)} is ${bytes(server)} bytes; the A76xx modem's AT+CMQTTCONNECT takes a server address of 9 to ${A76XX_MAX.server} bytes; use a shorter host name`,
    );
  }
  if (b.username && bytes(b.username) > A76XX_MAX.user) {
    problems.push(`broker.username: ${bytes(b.username)} bytes; ${CONNECT} takes a user name of 1 to ${A76XX_MAX.user} bytes`);
  }
  if (b.password && bytes(b.password) > A76XX_MAX.pass) {
    problems.push(`broker.password: ${bytes(b.password)} bytes; ${CONNECT} takes a password of 1 to ${A76XX_MAX.pass} bytes`);
  }
  if (azure && b.deviceKey !== undefined) {
    const max = azureSasMaxBytes(b.host, b.deviceId);
    if (max > A76XX_MAX.pass) {
      problems.push(
        `broker.deviceId: with hub ${JSON.stringify(b.hub)} and this device id the SAS token the device sends as MQTT password can be ${max} bytes ` +
          `(its URL-encoded signature alone up to ${SAS_SIG_MAX}), and ${CONNECT} takes a password of 1 to ${A76XX_MAX.pass} bytes: ` +
          `shorten the hub name or device id by ${max - A76XX_MAX.pass} byte${max - A76XX_MAX.pass > 1 ? 's' : ''} (a character the token URL-encodes, e.g. : or @, counts 3), ` +
          'or authenticate with an X.509 certificate (broker.clientCert + broker.clientKey), which sends no password',
      );
    }
  }
}

// firmware/cloud/azure-sas.ts: 'SharedAccessSignature sr=' + enc(resource) + '&sig=' +
// enc(base64(HMAC-SHA256)) + '&se=' + expiry, enc = encodeURIComponent with ! ' ( ) * encoded too.
// The signature is 32 bytes: 43 base64 characters and one '='; URL-encoded, each of the 43 may be
// '+' or '/' (%2B, %2F: 3 bytes) and the '=' is %3D, so at most 43 × 3 + 3 = 132 bytes. The expiry
// is seconds since 1970: 10 digits from 2001 to 2286.
const SAS_SIG_MAX = 43 * 3 + 3;
const SAS_EXPIRY_DIGITS = 10;
const strictEnc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16));

/** The longest SAS token (bytes) the device can make for this hub host and device id. */
export function azureSasMaxBytes(host, deviceId) {
  const sr = strictEnc(`${host}/devices/${deviceId}`);
  return 'SharedAccessSignature sr='.length + sr.length + '&sig='.length + SAS_SIG_MAX + '&se='.length + SAS_EXPIRY_DIGITS;
}

// The SIM800's own TLS (AT+CIPSSL) is TLS 1.0 without SNI and without a CA check
// (modem-facts.md §B.3), so on SIM800 boards TLS is cellpub's own TLS 1.2 (firmware/tls/) by
// default, and the modem's only when broker.tlsStack says "modem". Azure IoT Hub stays on the
// A76xx boards: cellpub's TLS has been tested against HiveMQ-like brokers only.
const SIM800_INSTEAD = 'use an A76xx board (t-a7670x, t-call-a7670-v1_0, t-call-a7670-v1_1, t-sim7670g-s3)';
const MODEM_TLS = 'the SIM800\'s own TLS (broker.tlsStack "modem", AT+CIPSSL) is TLS 1.0 and sends no server name (SNI)';

function sim800Rules(board, b, raw, { hivemq, azure }, problems) {
  if (azure)
    return problems.push(
      `broker.preset: Azure IoT Hub on ${board.id} is not supported: ${MODEM_TLS}, and cellpub's own TLS 1.2 has not been tested with Azure yet; ${SIM800_INSTEAD}`,
    );
  if (!b.tls) {
    if (raw.broker.tlsStack !== undefined) problems.push('broker.tlsStack: only used with TLS; set broker.tls to true or leave tlsStack out');
    b.sni = false;
    return;
  }
  b.tlsStack ??= 'cellpub';
  if (b.tlsStack === 'modem') {
    if (hivemq)
      return problems.push(`broker: HiveMQ Cloud on ${board.id} needs TLS 1.2 with SNI, and ${MODEM_TLS}; leave broker.tlsStack out to use cellpub's TLS 1.2`);
    if (raw.broker.sni === true) problems.push(`broker.sni: ${MODEM_TLS}; set sni to false, or leave broker.tlsStack out for cellpub's TLS 1.2 with SNI`);
    if (b.ca)
      problems.push(`broker.ca: ${MODEM_TLS} and does not check the server against a CA; remove broker.ca, or leave broker.tlsStack out for cellpub's TLS 1.2`);
    b.sni = false;
    return;
  }
  // cellpub's TLS 1.2: SNI always for a host name (an IPv4 literal has none to send), and a CA to check the server with
  if (raw.broker.sni === false && !/^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/.test(b.host))
    problems.push("broker.sni: cellpub's TLS always sends the server name (brokers such as HiveMQ Cloud route by it); leave sni out");
  b.sni = true;
  if (!b.ca)
    problems.push(
      "broker.ca: cellpub's TLS 1.2 checks the server's certificate: give the root CA it chains to (isrg-root-x1 for Let's Encrypt, or a PEM file), or set broker.tlsStack to \"modem\" for the SIM800's TLS 1.0 without any check",
    );
}

function applyAzure(b, raw, problems) {
  if (!b.hub) problems.push('broker.hub: missing; the IoT Hub name (the part before .azure-devices.net)');
  if (!b.deviceId) problems.push('broker.deviceId: missing; the device id as registered in the hub');
  if (raw.broker.host !== undefined && raw.broker.host !== `${b.hub}.azure-devices.net`)
    problems.push('broker.host: set from broker.hub for Azure IoT Hub; leave host out');
  for (const k of ['username', 'password']) {
    if (raw.broker[k] !== undefined)
      problems.push(`broker.${k}: Azure IoT Hub credentials are made on the device from deviceKey (or clientCert); leave ${k} out`);
  }
  if (b.port !== undefined && b.port !== 8883)
    problems.push('broker.port: Azure IoT Hub takes MQTT over TLS on 8883 only (1883 is not supported, 443 is WebSocket)');
  if (raw.broker.tls === false) problems.push('broker.tls: Azure IoT Hub requires TLS 1.2');
  if (raw.broker.sni === false) problems.push('broker.sni: keep SNI on for Azure IoT Hub');
  if (b.keepalive > AZURE_MAX_KEEPALIVE)
    problems.push(
      `broker.keepalive: Azure IoT Hub drops a client after 1.5 × keepalive, capped at 1767 s, so at most ${AZURE_MAX_KEEPALIVE}; got ${b.keepalive}`,
    );
  const hasKey = b.deviceKey !== undefined;
  const hasCert = b.clientCert !== undefined || b.clientKey !== undefined;
  if (hasKey && hasCert) problems.push('broker.deviceKey / broker.clientCert: give one way to authenticate, a SAS key or an X.509 certificate, not both');
  else if (!hasKey && !hasCert) problems.push('broker.deviceKey: missing; give the device key (SAS) or broker.clientCert + broker.clientKey (X.509)');
  if (hasCert && (!b.clientCert || !b.clientKey)) problems.push('broker.clientCert / broker.clientKey: X.509 needs both the certificate and its private key');
  if (hasKey) {
    const raw64 = /^[A-Za-z0-9+/]+={0,2}$/.test(b.deviceKey) ? Buffer.from(b.deviceKey, 'base64') : null;
    if (!raw64 || raw64.length < 16 || raw64.toString('base64') !== b.deviceKey) {
      problems.push('broker.deviceKey: must be the base64 key shown in the hub (e.g. 44 characters ending in =), got (hidden)');
    }
  }
  if (problems.length) return;
  b.host = `${b.hub}.azure-devices.net`;
  b.port = 8883;
  b.tls = true;
  b.sni = true;
  b.ca ??= 'azure';
  b.username = `${b.host}/${b.deviceId}/?api-version=${AZURE_API_VERSION}`;
}

/** A secret may be given as "${NAME}": it is then taken from the environment variable NAME, so
 *  the config file itself can be shared or kept in git without it. */
function secretsFromEnv(raw, env, problems, names = {}) {
  const out = structuredClone(raw);
  for (const path of SECRET_FIELDS) {
    const [o, k] = fieldAt(out, path);
    const v = o ? o[k] : undefined;
    const m = typeof v === 'string' && /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(v);
    if (!m) continue;
    names[path] = m[1];
    if (env[m[1]] === undefined || env[m[1]] === '')
      problems.push(`${path}: the environment variable ${m[1]} is not set (the config asks for it with "\${${m[1]}}")`);
    else o[k] = env[m[1]];
  }
  return out;
}

/** Where a field ('broker.password') lives in a config: [the object holding it, its key]; the
 *  object is undefined when a level on the way is missing or not an object. */
function fieldAt(obj, path) {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o && typeof o === 'object' ? o[k] : undefined;
  return [o && typeof o === 'object' ? o : undefined, keys[keys.length - 1]];
}

/** Secrets and PEMs go to Storage files, not into the bundle (firmware/store/secrets.ts reads them):
 *  returns the config the bundle carries and the files `npm run flash` writes next to it. */
export function splitSecrets(cfg) {
  const device = structuredClone(cfg);
  const b = device.broker;
  const files = {};
  const secrets = {};
  if (b.password) secrets.password = b.password;
  if (b.azure && b.azure.key) secrets.deviceKey = b.azure.key;
  if (device.simPin) secrets.simPin = device.simPin;
  delete b.password;
  if (b.azure) delete b.azure.key;
  delete device.simPin;
  if (Object.keys(secrets).length) {
    files[SECRETS_FILE] = JSON.stringify(secrets);
    device.secrets = true;
  }
  if (b.caPem) files[`cp.${b.caName}`] = b.caPem;
  delete b.caPem;
  for (const k of ['clientCert', 'clientKey']) {
    if (!b[k]) continue;
    files[`cp.${b[k].name}`] = b[k].pem;
    b[k] = { name: b[k].name };
  }
  return { device, files };
}

/** The effective config (--print-config): the user's own field names, every default and preset
 *  filled in, secrets shown only as "(hidden)" (and where they came from). */
export function printableConfig(cfg) {
  const copy = structuredClone(cfg.effective);
  const hide = (path) => `(hidden${cfg.fromEnv[path] ? `, from the environment variable ${cfg.fromEnv[path]}` : ''})`;
  for (const path of SECRET_FIELDS) {
    const [o, k] = fieldAt(copy, path);
    if (o && o[k] !== undefined) o[k] = hide(path);
  }
  return copy;
}
