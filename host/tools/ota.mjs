#!/usr/bin/env node
// npm run ota -- --config my.json --bundle dist/t-a7670x.js
//
// Sends a new bundle to a station over MQTT (config `ota`; the board's side is
// firmware/remote/ota.ts, the switch and the rollback are the boot guard's, buildlib/ota-guard.mjs).
// It connects to the config's broker as its own client (TLS with the config's CA and SNI, the
// config's user name and password) and publishes on the station's command topic, QoS 1, one
// message at a time, each after the board's answer on the status topic:
//   {"cmd":"ota","len":N,"crc":C,"n":K,"cs":S}   start (C: CRC-32 as E.CRC32 gives it, unsigned)
//   {"cmd":"ota","i":k,"d":"<base64 of S bytes>"} chunk k          → {"ota":"chunk","i":k}
//   {"cmd":"ota","ask":1}                          where were we? → {"ota":"need","i":m}
// The board writes each chunk to flash as it comes, so an update cut anywhere (connection, power)
// resumes where it stopped: the tool asks again when the board reconnects (its diagnostics
// message) or falls silent, and a second run of the same command carries on. After the last
// chunk the board checks length and CRC ({"ota":"ready"} or {"ota":"bad"}), reboots into the new
// code, and the tool waits for the outcome: {"ota":"ok","fw":…} from the new code once it reaches
// the broker, or {"ota":"rolled-back"} from the old code when it did not within rollbackSeconds.
// Host only; firmware/ never imports it.

import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { knownBoards, loadBoard } from '../../build.mjs';
import { resolveConfig, ConfigError } from '../../buildlib/config.mjs';
import { configUpdateMessage } from './config-update.mjs';

const P = createRequire(import.meta.url)('../espruino/upload-protocol.cjs');

/** Raw bytes per chunk: 1,024 characters of base64, a ~1.1 KB message the board holds a few
 *  times over while it parses it (test/ota.test.mjs measures the board's free memory). */
export const CHUNK_BYTES = 768;
/** What the tool adds to rollbackSeconds while it waits for the outcome (reboot, attach, connect). */
export const MARGIN_S = 300;

export const USAGE = `usage: npm run ota -- --config <file> --bundle <file> [options]
       npm run ota -- --config <file> --config-only [--was <file>]

Sends a new bundle to a station over the air, through its own MQTT broker. The station's code
must have been built with "ota": {} in its config and flashed once with npm run flash.

  --config <file>    the station's config (broker, credentials, topics, ota.rollbackSeconds)
  --bundle <file>    the new bundle (npm run build output, e.g. dist/t-a7670x.js)
  --board <id>       the station's board, if neither the config nor the bundle's name says
                     (${knownBoards().join(', ')})
  --chunk <bytes>    bytes per message (default ${CHUNK_BYTES}, 256 to 4096)
  --silence <s>      give up when the station has not answered for this long (default 900)
  --config-only      no new bundle: send the settings a station can change in place (interval,
                     topics, duty-cycle upload period and low-battery thresholds) from --config
  --was <file>       with --config-only: the config the station runs now, whose command topic it
                     still listens on (needed when the new config changes the topics)`;

export class OtaError extends Error {}

/** CRC-32 (IEEE, reflected, as E.CRC32: jswrap_espruino_CRC32), unsigned: the one `npm run flash`
 *  checks its files with (host/espruino/upload-protocol.cjs). */
export const crc32 = P.crc32;

/** The messages of one update: start and the chunks, as objects (JSON on the wire). */
export function otaMessages(bundle, chunkBytes = CHUNK_BYTES) {
  const buf = Buffer.isBuffer(bundle) ? bundle : Buffer.from(bundle, 'latin1');
  const bad = buf.findIndex((b) => b > 0x7e || (b < 0x20 && b !== 10 && b !== 13 && b !== 9));
  if (bad >= 0)
    throw new OtaError(
      `the bundle has a non-ASCII byte (0x${buf[bad].toString(16)}) at offset ${bad}; the board resumes an update by looking for unwritten flash (0xFF), so only ASCII bundles can go over the air. Use the bundle npm run build writes (terser's ascii_only)`,
    );
  if (!buf.length) throw new OtaError('the bundle is empty');
  const n = Math.ceil(buf.length / chunkBytes);
  const chunks = [];
  for (let i = 0; i < n; i++) chunks.push({ cmd: 'ota', i, d: buf.subarray(i * chunkBytes, (i + 1) * chunkBytes).toString('base64') });
  return { start: { cmd: 'ota', len: buf.length, crc: crc32(buf), n, cs: chunkBytes }, chunks };
}

const WHY = {
  start: 'the board refused the start message (a bug in this tool)',
  flash: 'the board has too little free flash for the update (it needs three times the bundle: the new code, a copy of the old one, and the switch)',
  guard: 'the board has no boot guard (.boot0): flash it once with npm run flash from a config with "ota": {}',
  crc: 'the board received the bundle with a wrong CRC; it erased it and keeps running its code. Run the command again',
  length: 'the board received a chunk or the whole bundle with the wrong length; it erased what it had and keeps running its code. Run the command again',
};

/**
 * Drives one update over a connected mqtt.js client: the flow control, resume and outcome.
 * @param {object} o
 * @param {import('mqtt').MqttClient} o.client connected (it may reconnect by itself)
 * @param {{command: string, status: string}} o.topics the station's topics
 * @param {Buffer|string} o.bundle the new bundle
 * @param {number} o.rollbackS the config's ota.rollbackSeconds (how long to wait for the outcome)
 * @param {number} [o.chunkBytes]
 * @param {(line: string) => void} [o.log] progress lines
 * @param {{setTimeout: Function, clearTimeout: Function}} [o.timers] (a virtual clock in tests)
 * @param {number} [o.askAfterMs] ask again after this long without an answer (default 60 s)
 * @param {number} [o.silenceMs] give up after this long without an answer (default 15 min)
 * @returns {Promise<{result: 'ok'|'rolled-back', fw?: string, why?: string, chunksSent: number}>}
 *   rejects with OtaError when the board refuses the update
 */
export function sendUpdate({
  client,
  topics,
  bundle,
  rollbackS,
  chunkBytes = CHUNK_BYTES,
  log = () => {},
  timers = globalThis,
  askAfterMs = 60000,
  silenceMs = 900000,
  marginS = MARGIN_S,
}) {
  const { start, chunks } = otaMessages(bundle, chunkBytes);
  const n = chunks.length;
  let phase = 'send'; // send → switch (the board checked it and reboots) → done
  let inFlight = -1; // the chunk sent and not yet answered
  let chunksSent = 0;
  let askTimer = null;
  let silenceTimer = null;
  let finalTimer = null;
  let lastPct = -1;
  return new Promise((resolvePromise, rejectPromise) => {
    function finish(err, value) {
      if (phase === 'done') return;
      phase = 'done';
      for (const t of [askTimer, silenceTimer, finalTimer]) if (t) timers.clearTimeout(t);
      client.removeListener('message', onMessage);
      client.removeListener('connect', onConnect);
      if (err) rejectPromise(err);
      else resolvePromise({ ...value, chunksSent });
    }
    function send(msg) {
      client.publish(topics.command, JSON.stringify(msg), { qos: 1 }, () => {});
    }
    function heard() {
      if (askTimer) timers.clearTimeout(askTimer);
      askTimer = phase === 'send' ? timers.setTimeout(ask, askAfterMs) : null;
      if (silenceTimer) timers.clearTimeout(silenceTimer);
      silenceTimer =
        phase === 'send'
          ? timers.setTimeout(
              () =>
                finish(
                  new OtaError(
                    `the station has not answered for ${Math.round(silenceMs / 1000)} s; what it received is kept in its flash: run the same command again to carry on`,
                  ),
                ),
              silenceMs,
            )
          : null;
    }
    function ask() {
      if (phase !== 'send') return;
      inFlight = -1;
      send({ cmd: 'ota', ask: 1 });
      if (askTimer) timers.clearTimeout(askTimer);
      askTimer = timers.setTimeout(ask, askAfterMs);
    }
    function sendChunk(i) {
      inFlight = i;
      chunksSent++;
      send(chunks[i]);
    }
    function progress(done) {
      const pct = Math.floor((done * 100) / n);
      if (done === 0 || (pct === lastPct && done < n)) return;
      lastPct = pct;
      log(`ota: chunk ${done}/${n} (${pct} %)`);
    }
    function onMessage(topic, payload) {
      if (topic !== topics.status || phase === 'done') return;
      let m;
      try {
        m = JSON.parse(payload.toString());
      } catch {
        return;
      }
      if (!m || typeof m !== 'object') return;
      if (m.error && /unknown command ota/.test(m.error))
        return finish(
          new OtaError(
            'the station\'s code cannot take updates over the air: it was built without "ota" in its config. Add "ota": {} to the config and flash the board once with npm run flash',
          ),
        );
      if (m.diag) {
        // the station (re)connected: after a power loss or a lost link it forgot the message in flight
        if (phase === 'send') {
          log('ota: the station is online again; asking where to carry on');
          heard();
          ask();
        }
        return;
      }
      if (typeof m.ota !== 'string') return;
      if (phase === 'switch') {
        if (m.ota === 'ok') return finish(null, { result: 'ok', fw: m.fw });
        if (m.ota === 'rolled-back') return finish(null, { result: 'rolled-back', fw: m.fw, why: m.why });
        return;
      }
      heard();
      if (m.ota === 'idle') return send(start);
      if (m.ota === 'need') {
        if (m.i === inFlight) return; // an answer to a repeated message: the chunk is on its way
        progress(m.i);
        return m.i < n ? sendChunk(m.i) : undefined;
      }
      if (m.ota === 'chunk') {
        progress(m.i + 1);
        inFlight = -1;
        if (m.i + 1 < n) sendChunk(m.i + 1);
        return;
      }
      if (m.ota === 'ready') {
        progress(n);
        phase = 'switch';
        heard();
        log(`ota: the station checked the new code (${start.len} bytes, CRC ${start.crc}) and reboots into it`);
        log(`ota: waiting for the new code to reach the broker (it goes back to the old code after ${rollbackS} s if not)`);
        finalTimer = timers.setTimeout(
          () =>
            finish(
              new OtaError(
                `no word from the station within ${rollbackS + marginS} s after the switch; look at its console (npm run monitor) or its status topic ${topics.status}`,
              ),
            ),
          (rollbackS + marginS) * 1000,
        );
        return;
      }
      if (m.ota === 'bad' || m.ota === 'error') {
        const why = WHY[m.why] || `the station said ${JSON.stringify(m)}`;
        return finish(new OtaError(m.why === 'flash' && m.free !== undefined ? `${why}; it has ${m.free} bytes free, needs ${3 * start.len + 4096}` : why));
      }
    }
    function onConnect() {
      // a clean session after a reconnect: subscribe again, then ask where the station is
      client.subscribe(topics.status, { qos: 1 }, () => {
        if (phase === 'send') ask();
      });
    }
    client.on('message', onMessage);
    client.on('connect', onConnect);
    client.subscribe(topics.status, { qos: 1 }, (err) => {
      if (err) return finish(new OtaError(`cannot subscribe to the status topic ${topics.status}: ${err.message}`));
      log(`ota: ${start.len} bytes in ${n} chunks of ${chunkBytes} to ${topics.command}`);
      heard();
      send(start);
    });
  });
}

export function parseArgs(argv) {
  const a = { chunk: CHUNK_BYTES, silence: 900 };
  const need = (i, name) => {
    if (i >= argv.length || argv[i].startsWith('--')) throw new OtaError(`${name} needs a value\n${USAGE}`);
    return argv[i];
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--config') a.config = need(++i, k);
    else if (k === '--bundle') a.bundle = need(++i, k);
    else if (k === '--board') a.board = need(++i, k);
    else if (k === '--chunk') a.chunk = Number(need(++i, k));
    else if (k === '--silence') a.silence = Number(need(++i, k));
    else if (k === '--config-only') a.configOnly = true;
    else if (k === '--was') a.was = need(++i, k);
    else if (k === '--help' || k === '-h') a.help = true;
    else throw new OtaError(`unknown argument ${k}\n${USAGE}`);
  }
  if (a.help) return a;
  if (a.configOnly) {
    if (!a.config) throw new OtaError(`--config is required\n${USAGE}`);
    if (a.bundle) throw new OtaError(`--config-only sends settings, not a bundle: leave --bundle out (or leave --config-only out to send a bundle)\n${USAGE}`);
    return a;
  }
  if (a.was) throw new OtaError(`--was goes with --config-only\n${USAGE}`);
  if (!a.config || !a.bundle) throw new OtaError(`--config and --bundle are required\n${USAGE}`);
  if (!Number.isInteger(a.chunk) || a.chunk < 256 || a.chunk > 4096) throw new OtaError('--chunk must be a whole number of bytes from 256 to 4096');
  if (!(a.silence > 0)) throw new OtaError('--silence must be a number of seconds');
  return a;
}

/** The station's resolved config and board, with the same messages as the build. */
export async function stationConfig(configPath, boardArg, bundlePath, { needOta = true } = {}) {
  let raw;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (err) {
    throw new OtaError(`cannot read the config ${configPath}: ${err.message}`);
  }
  if (raw && raw.broker && raw.broker.preset === 'azure-iot-hub')
    throw new OtaError(
      `${configPath} is an Azure IoT Hub station: updates over the air need your own MQTT broker (this tool publishes on the station's command topic, which IoT Hub does not have). Update it over USB instead: npm run flash -- --board <board> --port <port> --config ${configPath}`,
    );
  if (needOta && raw && typeof raw === 'object' && raw.ota === undefined)
    throw new OtaError(
      `${configPath} has no "ota" block, so the station's code cannot take an update over the air. Add "ota": {} to the config, flash the board once with npm run flash, then send updates with this command`,
    );
  const fromName = bundlePath ? basename(bundlePath).replace(/\.js$/, '') : '';
  const id = boardArg ?? (raw && raw.board) ?? (knownBoards().includes(fromName) ? fromName : null);
  if (!id) throw new OtaError(`which board is the station? give --board (${knownBoards().join(', ')})`);
  if (!knownBoards().includes(id)) throw new OtaError(`unknown board ${JSON.stringify(id)}; known boards: ${knownBoards().join(', ')}`);
  const board = await loadBoard(id);
  try {
    return { config: resolveConfig(raw, { board, baseDir: dirname(resolve(configPath)) }), board, raw };
  } catch (err) {
    if (err instanceof ConfigError) throw new OtaError(err.message);
    throw err;
  }
}

/** Connects to the config's broker as its own client, saying so first. */
async function connect(cfg, say) {
  const { default: mqtt } = await import('mqtt');
  const b = cfg.broker;
  say(`ota: connecting to ${b.host}:${b.port}${b.tls ? ' (TLS)' : ''} as ${b.username ?? '(no user)'}`);
  const url = `${b.tls ? 'mqtts' : 'mqtt'}://${b.host}:${b.port}`;
  const client = mqtt.connect(url, {
    clientId: `cellpub-ota-${process.pid}`,
    username: b.username,
    password: b.password,
    ca: b.caPem,
    servername: b.tls && b.sni ? b.host : undefined,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 3000,
    connectTimeout: 30000,
  });
  await new Promise((res, rej) => {
    client.once('connect', res);
    client.once('error', (err) => {
      client.end(true);
      const refused = /Not authorized|Bad username or password/i.test(err.message);
      rej(
        new OtaError(
          refused
            ? `the broker ${b.host}:${b.port} refused the config's user name / password (${err.message})`
            : `cannot connect to the broker ${url}: ${err.message}`,
        ),
      );
    });
  });
  client.on('error', () => {}); // later errors: mqtt.js reconnects by itself
  return client;
}

/** --config-only: the settings a station changes in place (host/tools/config-update.mjs), on the
 *  command topic it listens on now; waits for its answer on its status topic. */
async function configOnly(a, say) {
  const { config, board, raw } = await stationConfig(a.config, a.board, null, { needOta: false });
  const now = a.was ? (await stationConfig(a.was, a.board, null, { needOta: false })).config : config;
  const payload = configUpdateMessage(raw, { board, baseDir: dirname(resolve(a.config)) });
  const client = await connect(now, say);
  try {
    await new Promise((res, rej) => client.subscribe(now.topics.status, { qos: 1 }, (e) => (e ? rej(e) : res())));
    const answer = new Promise((res) => {
      client.on('message', (topic, msg) => {
        let m;
        try {
          m = JSON.parse(msg.toString());
        } catch {
          return;
        }
        if (m && (m.ack === 'config' || (typeof m.error === 'string' && /^[a-zA-Z.]+: /.test(m.error)))) res(m);
      });
    });
    await new Promise((res, rej) => client.publish(now.topics.command, payload, { qos: 1 }, (e) => (e ? rej(e) : res())));
    say(`ota: sent ${payload} to ${now.topics.command}; waiting for the station's answer on ${now.topics.status}`);
    const timeout = new Promise((res) => setTimeout(() => res(null), a.silence * 1000).unref());
    const m = await Promise.race([answer, timeout]);
    if (!m) {
      say(`ota: no answer in ${a.silence} s; the update waits at the broker until the station next connects (a duty-cycle station: its next upload)`);
      return 1;
    }
    if (m.error) {
      say(`ota: the station refused it, nothing changed: ${m.error}`);
      return 1;
    }
    say(`ota: done: the station took the settings${m.reboot ? ' and restarts to use its new topics' : ''}`);
    return 0;
  } finally {
    client.end(true);
  }
}

export async function main(argv = process.argv.slice(2), { out = process.stdout, err = process.stderr } = {}) {
  const say = (l) => out.write(l + '\n');
  let client;
  try {
    const a = parseArgs(argv);
    if (a.help) {
      say(USAGE);
      return 0;
    }
    if (a.configOnly) return await configOnly(a, say);
    const { config } = await stationConfig(a.config, a.board, a.bundle);
    let bundle;
    try {
      bundle = readFileSync(a.bundle);
    } catch (e) {
      throw new OtaError(`cannot read the bundle ${a.bundle}: ${e.message}; build it first: npm run build -- --board <board> --config ${a.config}`);
    }
    otaMessages(bundle, a.chunk); // refuses a bundle that cannot go before connecting
    client = await connect(config, say);
    const r = await sendUpdate({
      client,
      topics: config.topics,
      bundle,
      rollbackS: config.ota.rollbackS,
      chunkBytes: a.chunk,
      log: say,
      silenceMs: a.silence * 1000,
    });
    if (r.result === 'ok') {
      say(`ota: done: the station runs the new code (fw ${r.fw}) and reached the broker`);
      return 0;
    }
    say(`ota: the new code did not reach the broker (${r.why}); the station went back to its old code (fw ${r.fw}) and runs it`);
    return 1;
  } catch (e) {
    if (!(e instanceof OtaError)) throw e;
    err.write(`ota failed: ${e.message}\n`);
    return e.message.includes('usage:') ? 2 : 1;
  } finally {
    if (client) client.end(true);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      // not a mistake of the user's: say so without a stack trace
      process.stderr.write(`ota failed: ${e && e.message ? e.message : e}\n`);
      process.exit(1);
    },
  );
}
