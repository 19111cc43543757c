#!/usr/bin/env node
// A virtual board on a console port: what `npm run flash` and `npm run monitor` talk to when no
// board is attached. The Espruino console (host/espruino/repl-standin.mjs, the REPL that answers
// as the real interpreter does) listens on tcp://127.0.0.1:<port>, in front of a device wired like
// the rig's (host/testing/rig.mjs, real time): the simulated modem on the board's UART and pins, a
// BME280 on I2C, the IP5306 on the T-Call. The board starts blank (Storage empty, nothing running)
// unless `flashed`; `npm run flash` writes Storage and load()s, and the flashed bundle then runs
// and reaches a stand-in for the cloud its config names.
//
// The board learns the config only from what is flashed, so it is given the same config file at
// start (userConfig): that sets up the stand-in broker or Azure hub (rig userConfig: only the
// config's credentials are accepted, the config's host name leads there, the test CA stands in
// for the config's CA). It needs one: a config with the examples' placeholders is refused, as
// `npm run flash` refuses it.
//
//   node --import tsx host/testing/console-board.mjs --board t-a7670x --config my-station.json
//   tcp://127.0.0.1:40123                           (first line: the port to flash / monitor)
//   console-board: broker: …                       (what stands in for what)
//   received garden/garden-station/air {"ts":…}    (each reading the stand-in broker receives)
//
// Host only; firmware/ never imports it.

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRig } from './rig.mjs';
import { startReplStandIn } from '../espruino/repl-standin.mjs';
import { knownBoards } from '../../build.mjs';

/** A config file as `npm run flash -- --config <file>` reads it: { raw, configDir }. */
export function readUserConfig(file) {
  const path = resolve(file);
  let raw;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the config ${file}: ${err.message}`);
  }
  return { raw, configDir: dirname(path) };
}

/**
 * startConsoleBoard(options) → Promise<board>
 * @param {object} [o]
 * @param {string} [o.board] board id (default: the config's `board`, else t-a7670x)
 * @param {{raw: object, configDir?: string}} [o.userConfig] the config the user flashes (parsed, and
 *   the folder its paths are relative to): the stand-in cloud is set up for it (rig userConfig)
 * @param {string} [o.configFile] the same, as a path (read like `npm run flash -- --config`)
 * @param {number} [o.port] TCP port of the console (default: a free one)
 * @param {boolean} [o.flashed] Storage already holds the bundle and files for the config (a board
 *   flashed before): it boots them at start. Default false: a blank board.
 * @param {object} [o.modemOptions] [o.brokerOptions] [o.deviceOptions] passed to createRig
 * @returns {Promise<{url: string, port: number, rig: object, device: object, broker: object,
 *   standIn: string[], readings(): object[], onReading(fn): () => void, console: object,
 *   unplug(): Promise<void>, plug(): Promise<void>, reboot(o?: {downMs?: number}): Promise<void>,
 *   close(): Promise<void>}>}
 *   readings(): what the stand-in received on the config's telemetry topic ({topic, text});
 *   onReading(fn): fn({topic, text}) for each new one (polled); unplug()/plug(): the console port
 *   goes away / comes back on the same port (USB unplugged); reboot(): the board loses power (port
 *   gone, ESP32 and modem off), and after downMs (default 500) boots again from Storage, the port
 *   back at the same time, or (bootAfterPlugMs) that long before the board boots (USB replugged: the
 *   USB-serial chip is back before the ESP32 prints its first line).
 */
export async function startConsoleBoard({
  board,
  userConfig,
  configFile,
  port = 0,
  flashed = false,
  modemOptions = {},
  brokerOptions = {},
  deviceOptions = {},
} = {}) {
  if (!userConfig && configFile) userConfig = readUserConfig(configFile);
  board ??= (userConfig && typeof userConfig.raw.board === 'string' && userConfig.raw.board) || 't-a7670x';
  if (!userConfig) throw new Error('startConsoleBoard: give userConfig or configFile (the config you flash: the stand-in cloud is set up for it)');
  // real time; the simulated network tells the time as it really is
  const rig = await createRig({
    board,
    mode: 'real',
    userConfig,
    modemOptions: { clockUtc: Date.now(), ...modemOptions },
    brokerOptions,
    deviceOptions,
  });
  const { device } = rig;
  if (flashed) rig.start();
  else device.bootFromStorage(); // as at power-on; a blank board has nothing to run: the console only
  let repl;
  try {
    repl = await startReplStandIn({ device, port });
  } catch (err) {
    await rig.close();
    throw err;
  }
  const listeners = new Set();
  let seen = 0;
  const poll = setInterval(() => {
    const r = rig.readings();
    for (; seen < r.length; seen++) for (const fn of listeners) fn(r[seen]);
  }, 100);
  let closed = false;
  return {
    url: repl.url,
    port: repl.port,
    rig,
    device,
    broker: rig.broker,
    standIn: rig.standIn,
    console: repl,
    readings: () => rig.readings(),
    onReading(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    unplug: () => repl.unplug(),
    plug: () => repl.plug(),
    async reboot({ downMs = 500, bootAfterPlugMs = 0 } = {}) {
      await repl.unplug();
      rig.powerLoss();
      await new Promise((r) => setTimeout(r, downMs));
      // the USB chip may be back (the port open again) before the ESP32 starts printing
      if (bootAfterPlugMs > 0) {
        await repl.plug();
        await new Promise((r) => setTimeout(r, bootAfterPlugMs));
        rig.powerRestore();
      } else {
        rig.powerRestore();
        await repl.plug();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(poll);
      await repl.close();
      device.powerOff();
      await rig.close();
    },
  };
}

const USAGE = `usage: node --import tsx host/testing/console-board.mjs --config <file> [--board <id>] [--port <n>] [--flashed]

A virtual board with its Espruino console on tcp://127.0.0.1:<port>, for npm run flash / npm run monitor
without hardware. Prints the console's address first, then each reading the stand-in broker receives.
  --board <id>     ${knownBoards().join(', ')} (default: the config's board, else t-a7670x)
  --config <file>  the config you flash (sets up the stand-in broker for its cloud)
  --port <n>       the console's TCP port (default: a free one)
  --flashed        start as a board flashed before with that config (no need to run npm run flash)`;

async function cli(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) throw new Error(`${k} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (k === '--board') o.board = val();
    else if (k === '--config') o.configFile = val();
    else if (k === '--port') o.port = Number(val());
    else if (k === '--flashed') o.flashed = true;
    else if (k === '--help' || k === '-h') return console.log(USAGE);
    else throw new Error(`unknown argument ${k}\n${USAGE}`);
  }
  const b = await startConsoleBoard(o);
  console.log(b.url);
  for (const s of b.standIn) console.log(`console-board: ${s}`);
  console.log(
    `console-board: ${b.rig.board.title}, ${b.device.storage.read('.bootcde') ? 'flashed' : 'blank'}; flash it with: npm run flash -- --board ${b.rig.board.id} --port ${b.url}${o.configFile ? ` --config ${o.configFile}` : ''}`,
  );
  b.onReading((m) => console.log(`received ${m.topic} ${m.text}`));
  const stop = async () => {
    await b.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  cli(process.argv.slice(2)).catch((err) => {
    console.error(`console-board: ${err.message}`);
    process.exit(2);
  });
}
