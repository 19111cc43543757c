#!/usr/bin/env node
// `npm start`: a board on the desk, in real time, with no hardware. The real firmware bundle runs
// on the Espruino-like runtime and drives a simulated modem by its pins; the modem connects to a
// real broker on 127.0.0.1 standing in for the cloud, and each reading is printed as it arrives.
// Ctrl-C stops it. `npm start -- --help` lists the options.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BuildError, knownBoards } from '../../build.mjs';

export const USAGE = `usage: npm start [-- options]

Runs the firmware on a virtual board: a simulated modem and sensor, and a broker on 127.0.0.1
standing in for the cloud. Every reading the broker receives is printed. Ctrl-C stops it.

  --board <id>        ${knownBoards().join(', ')}
                      (default: the config's "board", else t-a7670x)
  --config <file>     your station's config: its broker host, credentials, topics and interval,
                      with the local broker in the cloud's place (nothing leaves this machine)
  --cloud <name>      without --config: hivemq (default; TLS, SNI, user/password like HiveMQ
                      Cloud), azure (a local stand-in for Azure IoT Hub, SAS tokens made on the
                      device) or plain (MQTT on 1883, the default on t-call-sim800l)
  --interval <s>      seconds between readings, 10 to 86400 (default 15; with --config: the config's)
  --help              this text

examples:
  npm start
  npm start -- --config my-station.json
  npm start -- --cloud azure --board t-sim7670g-s3
  npm start -- --board t-call-sim800l`;

export class UsageError extends Error {}

/** The options, checked: throws UsageError with what to change. */
export function parseArgs(argv) {
  const a = {};
  const value = (i, name) => {
    if (i >= argv.length || argv[i].startsWith('--')) throw new UsageError(`${name} needs a value`);
    return argv[i];
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--help' || k === '-h') a.help = true;
    else if (k === '--board') a.board = value(++i, k);
    else if (k === '--config') a.config = value(++i, k);
    else if (k === '--cloud') a.cloud = value(++i, k);
    else if (k === '--interval') a.interval = value(++i, k);
    else throw new UsageError(`unknown option ${k}`);
  }
  if (a.help) return a;
  if (a.board !== undefined && !knownBoards().includes(a.board))
    throw new UsageError(`--board: unknown board ${JSON.stringify(a.board)}; known boards: ${knownBoards().join(', ')}`);
  if (a.cloud !== undefined && !['hivemq', 'azure', 'plain'].includes(a.cloud))
    throw new UsageError(`--cloud: ${JSON.stringify(a.cloud)} is not one of hivemq, azure, plain`);
  if (a.cloud !== undefined && a.config !== undefined)
    throw new UsageError("--cloud and --config together: the config's broker decides the cloud; leave --cloud out");
  if (a.interval !== undefined) {
    const n = Number(a.interval);
    if (!Number.isInteger(n) || n < 10 || n > 86400)
      throw new UsageError(`--interval: a whole number of seconds from 10 to 86400, got ${JSON.stringify(a.interval)}`);
    a.interval = n;
  }
  if (a.config !== undefined) {
    const file = resolve(a.config);
    try {
      a.raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new UsageError(`--config: cannot read ${a.config}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    }
    if (!a.raw || typeof a.raw !== 'object' || Array.isArray(a.raw)) throw new UsageError(`--config: ${a.config} must hold a JSON object`);
    a.configDir = dirname(file);
    if (a.board === undefined && typeof a.raw.board === 'string') a.board = a.raw.board;
  }
  a.board ??= 't-a7670x';
  if (a.cloud === 'azure' && a.board === 't-call-sim800l')
    throw new UsageError('--cloud azure: the T-Call SIM800L cannot reach Azure IoT Hub (see README); use an A76xx board, e.g. --board t-sim7670g-s3');
  return a;
}

export async function main(argv = process.argv.slice(2)) {
  let args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`npm start: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const { createRig, CLUSTER_HOST, PLAIN_HOST } = await import('../testing/rig.mjs');
  const t0 = Date.now();
  const stamp = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`;
  const say = (who, msg) => console.log(`${stamp()}  ${who.padEnd(8)} ${msg}`);

  say('board', `building the firmware for ${args.board}${args.config ? ` with ${args.config}` : ''} …`);
  let rig;
  try {
    // the simulated network tells the time as it really is
    const common = { board: args.board, mode: 'real', modemOptions: { clockUtc: Date.now() } };
    if (args.raw) {
      const raw = args.interval ? { ...args.raw, intervalSeconds: args.interval } : args.raw;
      rig = await createRig({ ...common, userConfig: { raw, configDir: args.configDir } });
    } else {
      rig = await createRig({ ...common, cloud: args.cloud, config: { intervalSeconds: args.interval ?? 15 } });
    }
  } catch (err) {
    if (!(err instanceof BuildError)) throw err;
    console.error(`npm start: the build refused it:\n  ${err.message.split('\n').join('\n  ')}`);
    return 1;
  }
  const t1 = Date.now();
  const weather = setInterval(() => {
    const h = (Date.now() - t1) / 3.6e6;
    rig.bme.set({ env: { temperatureC: 18 + 4 * Math.sin(h * 20), pressurePa: 101200 + 300 * Math.sin(h * 7), humidity: 55 + 15 * Math.cos(h * 13) } });
  }, 1000);
  say('board', `bundle ${rig.bytes} bytes for ${rig.board.title}`);
  if (rig.standIn && rig.standIn.length) for (const line of rig.standIn) say('board', line);
  else if (rig.board.modem === 'SIM800') say('board', `broker on ${rig.broker.host}:${rig.broker.plainPort} (plain MQTT) posing as ${PLAIN_HOST}`);
  else if (args.cloud === 'azure') say('board', `a stand-in for Azure IoT Hub on ${rig.broker.host}:${rig.broker.tlsPort} posing as ${rig.broker.hostName}`);
  else say('board', `broker on ${rig.broker.host}:${rig.broker.tlsPort} (TLS, SNI required) posing as ${CLUSTER_HOST}`);
  say(
    'board',
    rig.board.modem === 'SIM800'
      ? 'the SIM800L boots in ~3 s in autobaud (no banner) and registers a few seconds later'
      : 'the modem takes ~11 s to boot and a few more to register, as a real A7670 does',
  );

  rig.device.onLog((line) => say('device', line));
  let lastPower = '';
  const powerWatch = setInterval(() => {
    const p = rig.modem.state.power;
    if (p !== lastPower) {
      lastPower = p;
      say('modem', `power ${p}`);
    }
  }, 50);
  let seenEvents = 0;
  let seenMessages = 0;
  const brokerWatch = setInterval(() => {
    for (; seenEvents < rig.broker.events.length; seenEvents++) {
      const e = rig.broker.events[seenEvents];
      if (e.internal || (e.kind && e.kind !== 'connect')) continue;
      const how = e.transport === 'plain' ? 'plain TCP' : `SNI ${e.servername || 'none'}`;
      say('broker', `connect from ${e.clientId ?? '?'}: ${e.outcome} (${how}, MQTT ${e.protocolVersion === 4 ? '3.1.1' : e.protocolVersion})`);
    }
    // the subscriber's messages (HiveMQ-like, plain), or the hub's device-to-cloud ones (Azure)
    const all = rig.subscriber ? rig.subscriber.messages : rig.broker.telemetry;
    for (; seenMessages < all.length; seenMessages++) {
      const m = all[seenMessages];
      say('received', rig.subscriber ? `${m.topic}  ${m.text}` : `${m.topic.split('/$')[0]}  ${m.payload}`);
    }
  }, 50);

  rig.start();
  await new Promise((done) => {
    const stop = async () => {
      clearInterval(powerWatch);
      clearInterval(brokerWatch);
      clearInterval(weather);
      say('board', 'stopping');
      await rig.close();
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`npm start failed: ${err && err.stack ? err.stack : err}`);
      process.exit(1);
    },
  );
}
