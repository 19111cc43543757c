#!/usr/bin/env node
// npm run monitor -- --port <tty|tcp://host:port> [--baud 115200]
//
// Shows what the board prints on its Espruino console (the firmware's log lines), line by line,
// until Ctrl-C. Sends nothing to the board. When the port goes away (board reset, USB unplugged,
// the console board restarting) it says so and waits for the port to come back, then goes on.
//   npm run monitor -- --list      the serial ports, with a hint for the LilyGO boards' USB chips
// Serial ports through `serialport` (the espruino package's dependency); tcp:// for Espruino's
// telnet console and host/testing/console-board.mjs. Host only; firmware/ never imports it.
import net from 'node:net';
import { accessSync, constants, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const P = require('../espruino/upload-protocol.cjs');

/** serialport's SerialPort class, or null when the package is not installed (tcp:// still works). */
function serialPortClass() {
  try {
    return require('serialport').SerialPort;
  } catch {
    return null;
  }
}

export const USAGE = `usage: npm run monitor -- --port <port> [--baud <n>]
       npm run monitor -- --list

Shows the board's console output (the firmware's log lines) until Ctrl-C; reconnects when the
board resets or is unplugged and comes back.
  --port <port>   the board's serial port (/dev/ttyUSB0, /dev/ttyACM0, /dev/cu.usbserial-…, COM3)
                  or tcp://host:port (Espruino's telnet console, the console board)
  --baud <n>      serial speed (default 115200, the ESP32 Espruino console)
  --list          list the serial ports (path, maker, USB vid:pid) and which look like a LilyGO board
  --help          this text`;

export class MonitorError extends Error {
  constructor(message, hints = [], code = 1) {
    super(message);
    this.hints = hints;
    this.code = code;
  }
}

export function parseArgs(argv) {
  const a = { baud: 115200 };
  const need = (i, name) => {
    if (i >= argv.length || argv[i].startsWith('--')) throw new MonitorError(`${name} needs a value\n${USAGE}`, [], 2);
    return argv[i];
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--port' || k === '-p') a.port = need(++i, k);
    else if (k === '--baud' || k === '-b') a.baud = Number(need(++i, k));
    else if (k === '--list' || k === '-l') a.list = true;
    else if (k === '--help' || k === '-h') a.help = true;
    else throw new MonitorError(`unknown argument ${k}\n${USAGE}`, [], 2);
  }
  if (a.help || a.list) return a;
  if (!a.port) throw new MonitorError(`--port is required (npm run monitor -- --list shows the serial ports)\n${USAGE}`, [], 2);
  if (!Number.isInteger(a.baud) || a.baud <= 0) throw new MonitorError('--baud must be a positive whole number', [], 2);
  if (a.port.startsWith('tcp://') && !/^tcp:\/\/[^:/]+:\d+\/?$/.test(a.port))
    throw new MonitorError(`--port ${a.port}: a tcp port is written tcp://host:port (e.g. tcp://127.0.0.1:2323)`, [], 2);
  return a;
}

// ------------------------------------------------------------------ the USB chips on LilyGO boards
const USB_HINTS = [
  { vid: '1a86', hint: 'WCH CH9102/CH340 USB-serial: a LilyGO T-A7670X / T-Call (ESP32)' },
  { vid: '10c4', pid: 'ea60', hint: 'Silicon Labs CP210x USB-serial: an ESP32 board (some LilyGO T-Call)' },
  { vid: '303a', hint: 'ESP32-S3 native USB: a LilyGO T-SIM7670G-S3' },
];

export function usbHint(vid, pid) {
  const v = String(vid || '').toLowerCase();
  const p = String(pid || '').toLowerCase();
  const h = USB_HINTS.find((x) => x.vid === v && (!x.pid || x.pid === p));
  return h ? h.hint : '';
}

/** The serial ports: [{ path, manufacturer, vid, pid, hint }]; `note` when the OS could not describe them. */
export async function listPorts() {
  const SerialPort = serialPortClass();
  if (!SerialPort) return { ports: [], note: 'the serialport package is not installed (npm ci installs it with espruino); tcp:// ports still work' };
  try {
    const ports = await SerialPort.list();
    return {
      ports: ports.map((p) => ({
        path: p.path,
        manufacturer: p.manufacturer || '',
        vid: (p.vendorId || '').toLowerCase(),
        pid: (p.productId || '').toLowerCase(),
        hint: usbHint(p.vendorId, p.productId),
      })),
    };
  } catch (err) {
    // e.g. a Linux container without udevadm: fall back to the device names
    let names = [];
    try {
      names = readdirSync('/dev')
        .filter((n) => /^(ttyUSB|ttyACM|cu\.usb|cu\.wchusb|cu\.SLAB)/.test(n))
        .map((n) => `/dev/${n}`);
    } catch {
      // no /dev (Windows): nothing to add
    }
    return {
      ports: names.map((path) => ({ path, manufacturer: '', vid: '', pid: '', hint: '' })),
      note: `the OS could not describe the ports (${err.message})`,
    };
  }
}

export function formatList({ ports, note }) {
  const lines = [];
  if (!ports.length) lines.push('no serial ports found');
  for (const p of ports) {
    const id = p.vid ? `${p.vid}:${p.pid}` : '----:----';
    lines.push(`${p.path.padEnd(24)} ${id}  ${(p.manufacturer || '-').padEnd(20)}${p.hint ? `  ← ${p.hint}` : ''}`);
  }
  if (note) lines.push(`note: ${note}`);
  if (!ports.length)
    lines.push(
      'plug the board in with a data USB cable (some cables only charge); the LilyGO boards show up as 1a86:* (CH9102/CH340), 10c4:ea60 (CP210x) or 303a:* (ESP32-S3 native USB)',
    );
  return lines.join('\n');
}

// ------------------------------------------------------------------ console text → lines
/**
 * Splits the console's bytes into the lines a person reads: the prompt and the escape codes the
 * REPL uses to redraw it are dropped, a carriage return starts the line over (as a terminal
 * does). Lines that would echo a Storage write (file contents) are never shown.
 */
export function createLineSplitter(emit) {
  let pending = '';
  const clean = (line) => {
    line = line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]/g, '');
    const cr = line.lastIndexOf('\r');
    if (cr >= 0) line = line.slice(cr + 1) || line.slice(0, cr).split('\r').pop();
    return line.replace(/^>+/, '').replace(/\s+$/, '');
  };
  const out = (raw) => {
    const line = clean(raw);
    if (line === '' || line === ':') return;
    if (/Storage"?\)?\.write\(|\\x10|^\s*E\.setBootCode\(/.test(line)) return emit('(a Storage write: contents not shown)');
    emit(line);
  };
  return {
    push(data) {
      pending += data;
      const parts = pending.split('\n');
      pending = parts.pop();
      for (const p of parts) out(p);
    },
    /** a line without its end yet (shown after a pause, e.g. a prompt-less last line) */
    flush() {
      if (clean(pending) !== '') out(pending);
      pending = '';
    },
    get pending() {
      return pending;
    },
  };
}

// ------------------------------------------------------------------ the port
function openTcp(port) {
  const m = /^tcp:\/\/([^:/]+):(\d+)/.exec(port);
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: m[1], port: Number(m[2]) });
    s.once('connect', () => {
      s.off('error', reject);
      resolve({
        onData: (fn) => s.on('data', (b) => fn(b.toString('latin1'))),
        onClose: (fn) => {
          s.on('close', fn);
          s.on('error', () => {});
        },
        close: () => s.destroy(),
      });
    });
    s.once('error', (err) => reject(Object.assign(err, { kind: 'wrong-port' })));
  });
}

function openSerial(port, baud) {
  const SerialPort = serialPortClass();
  if (!SerialPort) return Promise.reject(Object.assign(new Error('no serialport package'), { kind: 'no-serialport' }));
  if (port.startsWith('/')) {
    try {
      accessSync(port, constants.R_OK | constants.W_OK);
    } catch (e) {
      return Promise.reject(
        Object.assign(new Error(e.code === 'ENOENT' ? 'no such device' : e.message), { kind: e.code === 'EACCES' ? 'permission' : 'wrong-port' }),
      );
    }
  }
  return new Promise((resolve, reject) => {
    const sp = new SerialPort({ path: port, baudRate: baud, autoOpen: false, hupcl: false });
    sp.open((err) => {
      if (err) {
        const msg = err.message || String(err);
        return reject(Object.assign(new Error(msg.replace(/^Error: /, '')), { kind: P.serialErrorKind(msg) || 'wrong-port' }));
      }
      resolve({
        onData: (fn) => sp.on('data', (b) => fn(b.toString('latin1'))),
        onClose: (fn) => {
          sp.on('close', fn);
          sp.on('error', () => {});
        },
        close: () => sp.isOpen && sp.close(() => {}),
      });
    });
  });
}

export function openPort(port, baud) {
  return port.startsWith('tcp://') ? openTcp(port) : openSerial(port, baud);
}

/** The tidy message for a port that cannot be opened: what happened, what to try (flash.mjs's words). */
export async function portProblem(err, { port, baud }) {
  // loaded only here: flash.mjs brings the whole build along, which a monitor does not need to start
  const { describeFailure } = await import('./flash.mjs');
  const f = describeFailure({ step: 'connect', kind: err.kind || 'wrong-port', error: err.message }, { port, baud });
  return new MonitorError(
    f.message,
    f.hints.map((h) => h.replace(/another npm run flash/, 'npm run flash')),
  );
}

/**
 * Monitors `port` until stop() (or, without reconnect, until the port goes away).
 * @param {object} o
 * @param {string} o.port @param {number} [o.baud]
 * @param {(line: string) => void} o.line each line the board printed
 * @param {(msg: string) => void} o.status the monitor's own messages
 * @param {number} [o.retryMs] how often to try a lost port again
 * @returns {Promise<{stop(): void, done: Promise<void>}>} rejects with a MonitorError when the port cannot be opened at all
 */
export async function monitor({ port, baud = 115200, line, status, retryMs = 500 }) {
  let conn;
  try {
    conn = await openPort(port, baud);
  } catch (err) {
    throw await portProblem(err, { port, baud });
  }
  status(`monitor: connected to ${port}${port.startsWith('tcp://') ? '' : ` at ${baud} baud`}; Ctrl-C to quit`);
  const split = createLineSplitter(line);
  let idle = null;
  let stopped = false;
  let finish;
  const done = new Promise((r) => (finish = r));
  const attach = (c) => {
    conn = c;
    c.onData((d) => {
      split.push(d);
      clearTimeout(idle);
      if (split.pending) idle = setTimeout(() => split.flush(), 300);
    });
    c.onClose(() => {
      if (stopped || conn !== c) return;
      split.flush();
      status(`monitor: ${port} lost; waiting for it to come back …`);
      retry();
    });
  };
  const retry = () => {
    if (stopped) return;
    setTimeout(async () => {
      if (stopped) return;
      try {
        const c = await openPort(port, baud);
        if (stopped) return c.close();
        status('monitor: reconnected');
        attach(c);
      } catch {
        retry();
      }
    }, retryMs);
  };
  attach(conn);
  return {
    stop() {
      stopped = true;
      clearTimeout(idle);
      split.flush();
      if (conn) conn.close();
      finish();
    },
    done,
  };
}

export async function main(argv = process.argv.slice(2), { out = process.stdout, err = process.stderr, signals = process } = {}) {
  let args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    err.write(`${e.message}\n`);
    return e.code ?? 2;
  }
  if (args.help) {
    out.write(USAGE + '\n');
    return 0;
  }
  if (args.list) {
    out.write(formatList(await listPorts()) + '\n');
    return 0;
  }
  let m;
  try {
    m = await monitor({ port: args.port, baud: args.baud, line: (l) => out.write(l + '\n'), status: (s) => out.write(s + '\n') });
  } catch (e) {
    if (!(e instanceof MonitorError)) throw e;
    err.write(`monitor: ${e.message}\n`);
    for (const h of e.hints) err.write(`  try: ${h}\n`);
    return e.code;
  }
  const stop = () => m.stop();
  signals.once('SIGINT', stop);
  signals.once('SIGTERM', stop);
  await m.done;
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`monitor: unexpected failure: ${e && e.message ? e.message : e}\n`);
      process.exit(1);
    },
  );
}
