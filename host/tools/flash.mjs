#!/usr/bin/env node
// npm run flash -- --board <board> --port <tty|tcp://host:port> [--config <file>]
//
// Builds the bundle for the board (build.mjs, every gate: a config the build refuses stops here,
// before any port is opened) and writes it to the board's Storage as `.bootcde`, next to the
// Storage files the build returns (secrets, CA PEMs), with EspruinoTools (`espruino` on npm), then
// load()s it: the code runs from flash, now and at every boot. Host only; firmware/ never imports it.
//
// The upload itself runs in host/espruino/upload-worker.cjs (a child process: the library keeps
// its state in globals and prints everything it sends). Steps, each reported as it happens:
//   build → connect → prompt (is it Espruino? process.env) → space (Storage) → upload (each file,
//   with progress) → verify (length + CRC32 of every file on the board) → start (load(), the
//   first lines the code prints).
// File contents are never printed: progress and errors name files and sizes only, and what the
// board prints is shown with secret strings masked.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, BuildError, knownBoards } from '../../build.mjs';
import { printableConfig } from '../../buildlib/config.mjs';

const require = createRequire(import.meta.url);
const P = require('../espruino/upload-protocol.cjs');
const HERE = dirname(fileURLToPath(import.meta.url));
const WORKER = join(HERE, '..', 'espruino', 'upload-worker.cjs');

export const STEPS = ['connect', 'prompt', 'space', 'upload', 'verify', 'start'];
const STEP_TITLES = {
  build: 'build',
  connect: 'connect',
  prompt: 'Espruino prompt',
  space: 'Storage space',
  upload: 'upload',
  verify: 'verify',
  start: 'start',
};

export const USAGE = `usage: npm run flash -- --board <board> --port <port> --config <file> [options]

  --board <id>       ${knownBoards().join(', ')}
  --port <port>      the board's serial port (/dev/ttyUSB0, /dev/ttyACM0, /dev/cu.usbserial-…, COM3)
                     or tcp://host:port (Espruino's telnet console, e.g. the Linux build's --telnet)
  --config <file>    the station's config (start from config/example.hivemq.json; see README.md)
  --print-config     print the config as the board gets it (defaults filled in, secrets hidden);
                     without --port, print it and upload nothing
  --baud <n>         serial speed (default 115200, the ESP32 Espruino console)
  --watch <s>        seconds of the board's output to show after it starts (default 5)
  --secrets-only     write only the secrets and PEM files (rotate a password or key without
                     reflashing the code); the code on the board restarts to read them
  --slow             pause after every Storage write line even on tcp:// (always on serial ports)
  --verbose          show what EspruinoTools logs (file data and secrets masked)`;

export class FlashError extends Error {
  /** @param {string} step @param {string} kind @param {string} message @param {string[]} [hints] */
  constructor(step, kind, message, hints = []) {
    super(message);
    this.step = step;
    this.kind = kind;
    this.hints = hints;
  }
}

export function parseArgs(argv) {
  const a = { baud: 115200, watchSeconds: 5, slow: false, verbose: false };
  const need = (i, name) => {
    if (i >= argv.length || argv[i].startsWith('--')) throw new FlashError('args', 'usage', `${name} needs a value\n${USAGE}`);
    return argv[i];
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--board') a.board = need(++i, k);
    else if (k === '--port' || k === '-p') a.port = need(++i, k);
    else if (k === '--config') a.config = need(++i, k);
    else if (k === '--baud' || k === '-b') a.baud = Number(need(++i, k));
    else if (k === '--watch') a.watchSeconds = Number(need(++i, k));
    else if (k === '--slow') a.slow = true;
    else if (k === '--secrets-only') a.secretsOnly = true;
    else if (k === '--print-config') a.printConfig = true;
    else if (k === '--verbose' || k === '-v') a.verbose = true;
    else if (k === '--help' || k === '-h') a.help = true;
    else throw new FlashError('args', 'usage', `unknown argument ${k}\n${USAGE}`);
  }
  if (a.help) return a;
  const missing = ['board', 'config'].concat(a.printConfig ? [] : ['port']).filter((k) => !a[k]);
  if (missing.length)
    throw new FlashError(
      'args',
      'usage',
      `${missing.map((k) => `--${k}`).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required` +
        (missing.includes('config')
          ? ": the station's config: copy config/example.hivemq.json (or example.azure.json) to my-station.json and put your own values in it"
          : '') +
        `\n${USAGE}`,
    );
  if (!Number.isInteger(a.baud) || a.baud <= 0) throw new FlashError('args', 'usage', `--baud must be a positive whole number`);
  if (!(a.watchSeconds >= 0)) throw new FlashError('args', 'usage', `--watch must be a number of seconds`);
  return a;
}

/**
 * The Storage files to write, in order: the build's extra files (secrets, PEMs) first, the code
 * (`.bootcde`) last, so a board whose upload was cut off keeps its old code as long as possible.
 * Strings are written as UTF-8, Buffers/Uint8Arrays as they are.
 * @param {{code: string, files?: Object<string, string|Uint8Array>}} built
 * @returns {{name: string, data: Buffer, secret: boolean}[]}
 */
export function storageFiles(built, { secretsOnly = false } = {}) {
  const toBuf = (v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v));
  const out = [];
  for (const [name, data] of Object.entries(built.files ?? {})) {
    if (name === '.bootcde') throw new FlashError('build', 'files', 'the build returned an extra file named .bootcde');
    // the secrets file and a client's private key are not shown; CA and certificate PEMs, the
    // error texts (cp.errs) and the OTA boot guard (.boot0) are public
    out.push({ name, data: toBuf(data), secret: name === 'cp.secrets' || /^cp\.key-/.test(name) });
  }
  if (!secretsOnly) out.push({ name: '.bootcde', data: toBuf(built.code), secret: false });
  else if (!out.length) throw new FlashError('build', 'files', 'this config has no secrets or PEM files to write');
  for (const f of out) {
    if (!f.name || f.name.length > P.MAX_NAME)
      throw new FlashError('build', 'files', `Storage file name ${JSON.stringify(f.name)}: 1 to ${P.MAX_NAME} characters`);
    if (!f.data.length) throw new FlashError('build', 'files', `Storage file ${f.name} is empty (Espruino cannot create a zero-length file)`);
  }
  return out;
}

/** build() with its gates; a refused config becomes a FlashError at step "build". */
export async function buildForFlash({ board, config, configDir }) {
  try {
    return await build({ board, config, configDir, outFile: false });
  } catch (e) {
    if (e instanceof BuildError)
      throw new FlashError('build', 'config', e.message, ['fix the config (or the board name) and run the command again; nothing was uploaded']);
    throw e;
  }
}

/** What to tell the user for each kind of failure. */
export function describeFailure(m, { port, baud }) {
  const isTcp = port.startsWith('tcp://');
  const what = {
    'wrong-port': [
      `cannot open ${port}${m.error ? ` (${m.error})` : ''}: wrong port, or the board is not connected`,
      isTcp
        ? ["check host and port (Espruino's telnet console: port 2323 for the Linux build's --telnet, 23 on boards that have it)"]
        : [
            'check the port name: Linux /dev/ttyUSB0 or /dev/ttyACM0 (ls /dev/ttyUSB* /dev/ttyACM*), macOS /dev/cu.usbserial-* or /dev/cu.wchusbserial*, Windows COM3…',
            "plug the board in with a data USB cable (some cables only charge); on Windows and older macOS the board's USB-serial chip may need its driver (CP210x or CH34x/CH9102)",
          ],
    ],
    'port-busy': [
      `${port} is busy: another program has it open${m.error ? ` (${m.error})` : ''}`,
      ['close the serial monitor, Espruino Web IDE, screen/minicom/picocom, or another npm run flash (on Linux: fuser -v ' + port + ')'],
    ],
    permission: [`no permission to open ${port}`, ['on Linux add yourself to the dialout group (sudo usermod -aG dialout $USER) and log in again']],
    'no-serialport': [
      'serial ports need the serialport package (an optional dependency of espruino), which is not installed',
      ['run npm ci again (serialport ships prebuilt binaries for Linux, macOS and Windows), or use a tcp:// port'],
    ],
    'not-espruino': [
      m.bytes
        ? `${port} answered, but not like the Espruino console: the board is not running Espruino, or not at this speed (no answer to process.env)${m.received ? `; it sent: "${m.received}"` : ''}`
        : `${port} opened but nothing answered: no Espruino prompt (the board is not running Espruino, or is busy)`,
      [
        'is Espruino flashed on the board? See "Flashing a board" in README.md (esptool and the ESP32 / ESP32-S3 release files)',
        isTcp
          ? 'is it really the Espruino console on that port?'
          : `the ESP32 Espruino console runs at 115200 baud (this try: ${baud}); unreadable characters mean a wrong baud rate`,
        'text like "rst:0x… boot:0x…" or "ets …" means the ESP32 is rebooting over and over: power (battery connected?) or a missing/partial Espruino flash',
        "code already running may keep the console busy: press the board's RST/EN button and run the command again within a few seconds",
      ],
    ],
    'connection-lost': [
      `the connection to ${port} was lost during ${STEP_TITLES[m.step] ?? m.step}${m.error ? ` (${m.error})` : ''}`,
      ['the board reset or was unplugged: a modem powering up can brown out the board on USB alone; connect the battery and try again'],
    ],
    'no-space': [
      `not enough Storage on the board: ${fmtBytes(m.needed)} needed, ${fmtBytes(m.available)} free (of ${fmtBytes(m.total)})`,
      [
        'erase files you no longer need: connect with the Espruino Web IDE (or npx espruino -p <port> -b 115200) and run require("Storage").list(), then require("Storage").erase(name); require("Storage").eraseAll() wipes everything',
      ],
    ],
    'upload-timeout': [
      `the board stopped answering during ${STEP_TITLES[m.step] ?? m.step}`,
      [
        'run the command again; if it keeps failing, press RST first (running code can starve the console) and try a shorter USB cable or another USB port',
        isTcp
          ? 'a busy network link: try --slow'
          : 'lost bytes on the serial line: the ESP32 console has no flow control; a powered hub or a direct port helps',
      ],
    ],
    'write-error': [
      `the board refused a Storage write: ${m.error}`,
      /Unable to find or create file/.test(m.error ?? '')
        ? ['Storage is full (or too fragmented): erase files you do not need (require("Storage").erase(name)) or require("Storage").compact()']
        : ['bytes were lost or garbled on the way (the line arrived damaged): run the command again; press RST first if code was running'],
    ],
    'verify-mismatch': [
      `the board does not hold what was sent: ${(m.files || []).map((f) => `${f.name}: ${f.problem}`).join('; ')}`,
      ['bytes were lost on the line: run the command again (the files are rewritten from the start); press RST first if code was running'],
    ],
    internal: [`the upload tool failed: ${m.error}`, ['run with --verbose and report what it prints (file data and secrets are masked)']],
    timeout: [`no progress for too long during ${STEP_TITLES[m.step] ?? m.step}`, ['run the command again; press RST on the board first']],
  }[m.kind] ?? [`${m.kind}${m.error ? `: ${m.error}` : ''}`, []];
  return new FlashError(m.step, m.kind, what[0], what[1]);
}

function fmtBytes(n) {
  return n === null || n === undefined ? '?' : `${Number(n).toLocaleString('en-US')} bytes`;
}

/**
 * Upload files to the board at `port` with EspruinoTools (in a worker process) and start the code.
 * @param {object} o
 * @param {string} o.port
 * @param {{name: string, data: Buffer}[]} o.files
 * @param {number} [o.baud]
 * @param {boolean} [o.storageDelays] pause 250 ms after each Storage.write line (default: serial
 *   ports yes, tcp:// no: TCP has flow control, a UART without it needs the pauses)
 * @param {number} [o.startWaitMs] how long to collect the board's output after load()
 * @param {(ev: object) => void} [o.onEvent] every message of the worker (step, progress, device…)
 * @param {number} [o.stallMs] fail if the worker reports nothing for this long (verify: ×3)
 * @param {{connect?: number, prompt?: number, answerS?: number}} [o.timeouts] ms to open the port,
 *   ms to get an Espruino answer (boot retries included), s to wait for the answer to process.env
 * @param {boolean} [o.verbose] pass EspruinoTools' own log on (redacted) as {type: 'log'} events
 * @returns {Promise<{env: object, space: object, verified: object[], device: string[], uncaught: string|null}>}
 */
export function uploadFiles({ port, files, baud = 115200, storageDelays, startWaitMs = 5000, onEvent = () => {}, stallMs = 30000, verbose = false, timeouts }) {
  const delays = storageDelays ?? !port.startsWith('tcp://');
  return new Promise((resolvePromise, reject) => {
    const child = fork(WORKER, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let stderr = '';
    child.stdout.on('data', () => {});
    child.stderr.on('data', (b) => {
      stderr = (stderr + b.toString()).slice(-2000);
    });
    const result = { env: null, space: null, verified: null, device: [], uncaught: null };
    let step = 'connect';
    let settled = false;
    let stall = null;
    const secrets = P.secretStrings(files);
    const arm = () => {
      clearTimeout(stall);
      const ms = step === 'verify' ? stallMs * 3 : step === 'start' ? stallMs + startWaitMs : stallMs;
      stall = setTimeout(() => {
        settle(describeFailure({ step, kind: step === 'connect' ? 'wrong-port' : step === 'prompt' ? 'not-espruino' : 'upload-timeout' }, { port, baud }));
        child.kill('SIGKILL');
      }, ms);
    };
    // the answer is given once the worker has exited, so the port is free again when it comes
    let exited = false;
    let outcome = null;
    const finish = () => {
      if (settled || !outcome || !exited) return;
      settled = true;
      clearTimeout(stall);
      if (outcome.err) reject(outcome.err);
      else resolvePromise(outcome.value);
    };
    const settle = (err, value) => {
      if (outcome) return;
      outcome = { err, value };
      clearTimeout(stall);
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      finish();
    };
    child.on('message', (m) => {
      if (!outcome) arm();
      if (m.type === 'step') step = m.step;
      if (m.type === 'board') result.env = m.env;
      if (m.type === 'space') result.space = { needed: m.needed, available: m.available, total: m.total };
      if (m.type === 'verified') result.verified = m.files;
      if (m.type === 'device') result.device.push(m.line);
      if (m.type === 'done') result.uncaught = m.uncaught;
      try {
        onEvent(m);
      } catch {
        /* a display problem must not break the upload */
      }
      if (m.type === 'fail') settle(describeFailure(m, { port, baud }));
      if (m.type === 'done') settle(null, result);
    });
    child.on('exit', (code, signal) => {
      exited = true;
      if (!outcome) {
        settle(
          new FlashError(
            step,
            'internal',
            `the upload worker stopped (${signal ?? `exit code ${code}`})${stderr ? `: ${P.redact(stderr.trim().split('\n').slice(-3).join(' | '), secrets)}` : ''}`,
            ['run with --verbose and report what it prints'],
          ),
        );
      }
      finish();
    });
    arm();
    child.send({
      port,
      baud,
      files: files.map((f) => ({ name: f.name, b64: f.data.toString('base64') })),
      storageDelays: delays,
      startWaitMs,
      timeouts,
      verbose,
    });
  });
}

/**
 * Build, then upload and start. Returns what happened; throws FlashError (step, kind, hints).
 * `log(line)` gets the progress lines, `progress(text)` the in-place progress (or undefined),
 * `onBuilt(built)` the build once it passed (--print-config prints its config there).
 */
export async function flash({
  board,
  port,
  config,
  configDir,
  baud = 115200,
  watchSeconds = 5,
  slow = false,
  verbose = false,
  secretsOnly = false,
  log = () => {},
  progress,
  stallMs,
  timeouts,
  onBuilt = () => {},
}) {
  const t0 = Date.now();
  log(`building ${board}${typeof config === 'string' ? ` with ${relative(process.cwd(), config) || config}` : ''} …`);
  const built = await buildForFlash({ board, config, configDir });
  onBuilt(built);
  const files = storageFiles(built, { secretsOnly });
  log(
    `built ${fmtBytes(built.bytes)} for ${built.board.title}; Storage files: ${files.map((f) => `${f.name} (${fmtBytes(f.data.length)}${f.secret ? ', contents not shown' : ''})`).join(', ')}`,
  );
  const n = STEPS.length;
  const stepNo = (s) => `[${STEPS.indexOf(s) + 1}/${n}]`;
  let lastFile = null;
  const onEvent = (m) => {
    if (m.type === 'step') {
      if (m.step === 'connect') log(`${stepNo('connect')} connecting to ${port}${port.startsWith('tcp://') ? '' : ` at ${baud} baud`} …`);
      if (m.step === 'prompt') log(`${stepNo('prompt')} waiting for the Espruino prompt …`);
      if (m.step === 'space') log(`${stepNo('space')} checking Storage space …`);
      if (m.step === 'verify') {
        if (progress) progress(undefined);
        log(`${stepNo('verify')} checking the files on the board (length and CRC32) …`);
      }
      if (m.step === 'start') log(`${stepNo('start')} load(): starting the code from Storage (.bootcde) …`);
    } else if (m.type === 'booting') {
      log('      the board is starting up (opening the port can reset an ESP32); asking again …');
    } else if (m.type === 'board') {
      log(`      Espruino ${m.env.VERSION} on ${m.env.BOARD}`);
    } else if (m.type === 'space') {
      log(
        m.available === null
          ? `      ${fmtBytes(m.needed)} needed (this firmware cannot report free space)`
          : `      ${fmtBytes(m.needed)} needed, ${fmtBytes(m.available)} available`,
      );
    } else if (m.type === 'upload') {
      const bytes = m.files.reduce((n, f) => n + f.bytes, 0);
      log(`${stepNo('upload')} writing ${m.files.length} file${m.files.length > 1 ? 's' : ''} (${fmtBytes(bytes)}, ${m.lines} Storage.write lines) …`);
    } else if (m.type === 'progress') {
      const pct = Math.floor((100 * m.sent) / m.total);
      const text = `      ${m.file.padEnd(20)} ${String(pct).padStart(3)} %  ${(m.sent / 1024).toFixed(1)} / ${(m.total / 1024).toFixed(1)} KB`;
      if (progress && !m.done) progress(text);
      else if (!progress && m.file !== lastFile && !m.done) log(`      ${m.file} …`);
      lastFile = m.file;
      if (m.done) {
        if (progress) progress(undefined);
        log(`      ${(m.total / 1024).toFixed(1)} KB sent in ${(m.ms / 1000).toFixed(1)} s`);
      }
    } else if (m.type === 'verified') {
      log(`      ${m.files.map((f) => `${f.name} ${f.bytes} bytes crc32 ${f.crc32.toString(16).padStart(8, '0')}`).join(', ')}: as sent`);
    } else if (m.type === 'device') {
      log(`board> ${m.line}`);
    } else if (m.type === 'log') {
      log(`espruino-tools: ${m.text}`);
    }
  };
  const result = await uploadFiles({
    port,
    files,
    baud,
    storageDelays: slow ? true : undefined,
    startWaitMs: watchSeconds * 1000,
    onEvent,
    verbose,
    stallMs,
    timeouts,
  });
  if (result.uncaught) log(`the code started but reported an error: ${result.uncaught}`);
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${built.board.title} runs the code from Storage (.bootcde) at every boot`);
  return { built: { bytes: built.bytes, board: built.board.id }, files: files.map((f) => ({ name: f.name, bytes: f.data.length })), ...result };
}

/** Text for a failure: which step, what happened, what to try. */
export function formatFailure(e) {
  if (!(e instanceof FlashError)) return `flash failed: ${e && e.stack ? e.stack : e}`;
  if (e.step === 'args') return e.message;
  if (e.step === 'build') return `flash: the build refused it, nothing was uploaded:\n  ${e.message.split('\n').join('\n  ')}`;
  const lines = [`flash failed at step "${STEP_TITLES[e.step] ?? e.step}": ${e.message}`];
  for (const h of e.hints) lines.push(`  try: ${h}`);
  return lines.join('\n');
}

export async function main(argv = process.argv.slice(2), { out = process.stdout, err = process.stderr } = {}) {
  let args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    err.write(formatFailure(e) + '\n');
    return 2;
  }
  if (args.help) {
    out.write(USAGE + '\n');
    return 0;
  }
  const config = resolve(args.config);
  const printConfig = (built) => out.write(JSON.stringify(printableConfig(built.config), null, 2) + '\n');
  if (args.printConfig && !args.port) {
    try {
      printConfig(await buildForFlash({ board: args.board, config }));
      return 0;
    } catch (e) {
      err.write(formatFailure(e) + '\n');
      return 1;
    }
  }
  const tty = !!out.isTTY;
  let shown = false;
  const progress = tty
    ? (text) => {
        if (text === undefined) {
          if (shown) out.write('\n');
          shown = false;
        } else {
          out.write(`\r${text}\x1b[K`);
          shown = true;
        }
      }
    : undefined;
  const log = (line) => {
    if (shown) {
      out.write('\n');
      shown = false;
    }
    out.write(`${line.startsWith('board>') ? '' : 'flash: '}${line}\n`);
  };
  try {
    await flash({ ...args, config, log, progress, onBuilt: args.printConfig ? printConfig : undefined });
    return 0;
  } catch (e) {
    if (shown) out.write('\n');
    err.write(formatFailure(e) + '\n');
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then((code) => process.exit(code));
}
