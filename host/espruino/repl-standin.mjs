// A stand-in for an ESP32 running Espruino, reached over TCP the way EspruinoTools reaches a board
// (`tcp://127.0.0.1:<port>`): the console (REPL) in front of the host runtime (host/runtime), so
// Storage, process.env, E.CRC32, reset(), load() and the code loaded from `.bootcde` behave as in
// the rest of the host tests. For CI, where no real interpreter is available. Host only.
//
// The console follows src/jsinteractive.c of espruino/Espruino and was checked against what the
// real interpreter (Linux build, `--telnet`) answered, byte for byte: host/espruino/repl-capture.json
// holds that capture (made by capture-repl.mjs) and test/flash.test.mjs replays it against this.
//  - On connect the prompt `>` is shown.
//  - Characters are echoed while the prompt is shown; DLE (0x10) at the start of a line turns echo
//    off for that line (no echo, no `=result`).
//  - A line runs when its brackets balance (\r, \n, or \r\n); ESC LF adds a newline without running.
//  - Output from JS (print, console.log, errors) first removes the prompt: `\r` + ESC[J if the
//    prompt was shown with echo on, nothing when echo is off for the line; after a batch of input
//    is handled the prompt comes back as `>` (or silently when the next line's DLE has already
//    turned echo off, as the real console does when lines arrive together).
//  - An exception prints `Uncaught <Type>: <message>`, `    at REPL (:1:<col>)`, the line and a
//    caret (the column is approximate here: the call's closing bracket, or the undefined name).
//  - reset() prints the banner; load() runs `.bootcde` from Storage after the line has finished.
//  - Ctrl-C on an empty line prints nothing (the ESP32 build; the Linux one says "Press Ctrl-C
//    again to exit" and quits on the second).
// Not modelled: packet transfer (DLE SOH), the line editor's cursor keys and history, Ctrl-E.
import net from 'node:net';
import { createClock } from '../runtime/clock.mjs';
import { startPtyBridge } from './pty.mjs';
import { createEspruino } from '../runtime/espruino.mjs';
import { ESP32_STORAGE_BYTES } from '../runtime/flash.mjs';
import { VERSION } from '../runtime/system.mjs';

const BANNER =
  ' ____                 _ \n|  __|___ ___ ___ _ _|_|___ ___ \n|  __|_ -| . |  _| | | |   | . |\n' +
  '|____|___|  _|_| |___|_|_|_|___|\n         |_| espruino.com\n' +
  ` ${VERSION} (c) 2026 G.Williams\n\nEspruino is Open Source. Our work is supported\n` +
  'only by sales of official boards and donations:\nhttp://espruino.com/Donate\n';

/** One Espruino console (the REPL) in front of a host-runtime device. */
export class ReplConsole {
  constructor({ device, write, batchBytes = 64 }) {
    this.device = device;
    this.batchBytes = batchBytes;
    this._write = write;
    this.inputLine = '';
    this.removed = false; // inputLineRemoved
    this.echoOffForLine = false; // JSIS_ECHO_OFF_FOR_LINE
    this.state = 'none'; // none | dle | esc | csi | r
    this._afterLine = []; // deferred work (load, reset) done when the line has finished
    this._returnScheduled = false;
    this.lines = []; // every executed line, for tests
    device.onLog((line) => this.print(line));
  }

  get echo() {
    return !this.echoOffForLine;
  }

  get shown() {
    return this.echo && !this.removed;
  }

  /** A new console connection: the prompt is shown. */
  attach(write) {
    this._write = write;
    this.inputLine = '';
    this.echoOffForLine = false;
    this.state = 'none';
    this.removed = true;
    this.returnInputLine();
  }

  out(s) {
    if (this._write) this._write(s);
  }

  removeInputLine() {
    if (this.removed) return;
    this.removed = true;
    if (this.echo) this.out('\r\x1b[J');
  }

  returnInputLine() {
    if (!this.removed) return;
    this.removed = false;
    if (this.echo) this.out('>' + this.inputLine.replace(/\n/g, '\r\n:'));
  }

  /** Text printed by JS (console.log / print / errors): a whole line. */
  print(text) {
    this.removeInputLine();
    this.out(String(text).replace(/\n/g, '\r\n') + '\r\n');
    this._scheduleReturn();
  }

  _scheduleReturn() {
    if (this._returnScheduled) return;
    this._returnScheduled = true;
    setImmediate(() => {
      this._returnScheduled = false;
      this.returnInputLine();
    });
  }

  /**
   * Bytes from the host (a binary string or Buffer). Espruino takes console input in batches (the
   * telnet server reads 64 bytes per idle loop) and returns the prompt after each batch.
   */
  receive(data) {
    const s = Buffer.isBuffer(data) ? data.toString('latin1') : String(data);
    for (let i = 0; i < s.length; i += this.batchBytes) {
      for (const ch of s.slice(i, i + this.batchBytes)) this.handleChar(ch);
      this.returnInputLine();
    }
  }

  handleChar(ch) {
    const c = ch.charCodeAt(0);
    if (this.state === 'esc') {
      this.state = c === 91 ? 'csi' : 'none';
      if (c === 10) this.newLine(false);
      return;
    }
    if (this.state === 'csi') {
      if (!(c >= 48 && c <= 57)) this.state = 'none';
      return;
    }
    if (c === 0) {
      this.state = 'none';
      return;
    }
    if (c === 3) {
      this.ctrlC();
      return;
    }
    if (c === 16) {
      if (this.inputLine === '') this.echoOffForLine = true;
      this.state = 'dle';
      return;
    }
    if (c === 1 && this.state === 'dle') {
      this.state = 'none'; // packet transfer: not modelled
      return;
    }
    if (c === 27) {
      this.state = 'esc';
      return;
    }
    const wasR = this.state === 'r';
    this.state = 'none';
    if (c === 8 || c === 127) {
      if (this.inputLine.length && !this.inputLine.endsWith('\n')) {
        this.inputLine = this.inputLine.slice(0, -1);
        if (this.shown) this.out('\x08 \x08');
      }
    } else if (c === 10 && wasR) {
      // \r\n: handled on the \r
    } else if (c === 13 || c === 10) {
      if (c === 13) this.state = 'r';
      this.newLine(true);
    } else if (c >= 32 || c === 9) {
      const add = c === 9 ? '    ' : ch;
      this.inputLine += add;
      if (this.shown) this.out(add);
    }
  }

  ctrlC() {
    // jsiLoop on EMBEDDED: clear the input line (removing it from the terminal if it was shown)
    if (this.inputLine === '') return;
    this.removeInputLine();
    this.inputLine = '';
  }

  newLine(execute) {
    if (execute && countBrackets(this.inputLine) <= 0) {
      if (this.shown) this.out('\r\n');
      if (!this.echoOffForLine) this.removed = true;
      const line = this.inputLine.replace(/\s+$/, '');
      this.inputLine = '';
      this.execute(line);
      this.echoOffForLine = false;
      const after = this._afterLine.splice(0);
      for (const fn of after) fn();
    } else {
      if (this.shown) this.out('\r\n:');
      this.inputLine += '\n';
    }
  }

  execute(line) {
    this.lines.push(line);
    if (line === '') return;
    const resetsBefore = this.device.resets.length;
    let value;
    let error = null;
    try {
      value = this.device.eval(line);
    } catch (e) {
      error = e;
    }
    // reset() and load() stop the running code at once; their output comes when the line is done
    for (const r of this.device.resets.slice(resetsBefore)) {
      if (r.reason === 'reset') this._afterLine.push(() => this.doReset());
      if (r.reason === 'load') this._afterLine.push(() => this.doLoad());
    }
    if (error) {
      this.printError(error, line);
    } else if (this.echo) {
      this.out('=' + formatResult(value) + '\r\n');
    }
  }

  printError(e, line) {
    let type = 'Error';
    let message = String(e);
    if (e && typeof e === 'object' && typeof e.message === 'string') {
      type = (e.constructor && e.constructor.name) || 'Error';
      message = e.message;
    }
    let col;
    const undef = /^(\S+) is not defined$/.exec(message);
    if (type === 'ReferenceError' && undef) {
      message = `"${undef[1]}" is not defined`;
      col = line.indexOf(undef[1]) + 1;
    } else {
      col = line.lastIndexOf(')') + 1 || line.length;
    }
    this.print(`Uncaught ${type}: ${message}\n    at REPL (:1:${col})\n${line}\n${' '.repeat(Math.max(0, col - 1))}^`);
  }

  doReset() {
    this.device.load('', 'reset');
    this.removed = true;
    this.out('\r\n' + BANNER.replace(/\n/g, '\r\n') + '\r\n');
  }

  // load() at the prompt: a restart from Storage, the boot files (.boot0….boot3) and .bootcde
  doLoad() {
    this.device.bootFromStorage();
  }
}

function formatResult(v) {
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** jsiCountBracketsInInput: ({[ minus )}] outside strings and comments; unfinished comment = open. */
export function countBrackets(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < s.length && s[j] !== c) j += s[j] === '\\' ? 2 : 1;
      if (j >= s.length) return c === '`' ? 1000 : 0; // unfinished string: run it so it errors
      i = j;
    } else if (c === '/' && s[i + 1] === '/') {
      while (i < s.length && s[i] !== '\n') i++;
    } else if (c === '/' && s[i + 1] === '*') {
      const e = s.indexOf('*/', i + 2);
      if (e < 0) return 1000;
      i = e + 1;
    } else if ('([{'.includes(c)) n++;
    else if (')]}'.includes(c)) {
      n--;
      if (n < 0) return n;
    }
  }
  return n;
}

/**
 * Start the stand-in on 127.0.0.1 (a free port unless `port` is given).
 * @param {object} [opts]
 * @param {number} [opts.port] TCP port (0 = any free one)
 * @param {number} [opts.storageBytes] size of the Storage area (ESP32: 917504; a small one to test "full")
 * @param {Object<string,string|Buffer>} [opts.files] Storage files present before anyone connects
 * @param {(data: string) => string} [opts.filterInput] a fault on the line: rewrites each chunk of
 *   received bytes (binary string) before the console sees it (e.g. a lost byte)
 * @param {object} [opts.device] a device (createEspruino) to put the console in front of, already
 *   wired and booted by the caller (host/testing/console-board.mjs); it is left running on close()
 * @returns {Promise<{url: string, port: number, device: object, console: ReplConsole,
 *   connections: number, received: string, sent: string, read(name: string): Buffer|undefined,
 *   list(): string[], unplug(): Promise<void>, plug(): Promise<void>, close(): Promise<void>}>}
 *   unplug(): the port goes away (connections cut, nothing listens) until plug() opens it again on
 *   the same port, as a board's USB port does when it is unplugged or resets
 */
export async function startReplStandIn({ port = 0, storageBytes = ESP32_STORAGE_BYTES, files = {}, filterInput = null, device: given = null } = {}) {
  let device = given;
  if (!device) {
    const clock = createClock({ mode: 'real' });
    device = createEspruino({ clock, storageBytes });
  }
  for (const [name, data] of Object.entries(files)) {
    device.storage.write(name, Buffer.isBuffer(data) ? data.toString('latin1') : Buffer.from(data, 'utf8').toString('latin1'));
  }
  if (!given) device.load(device.storage.read('.bootcde') ?? '', '.bootcde'); // the board boots before anyone connects
  const sockets = new Set();
  const ptys = [];
  let current = null;
  const api = {
    url: '',
    port: 0,
    device,
    console: null,
    connections: 0,
    /** every byte the host sent / the stand-in answered (binary strings), over all connections */
    received: '',
    sent: '',
    read(name) {
      const s = device.storage.read(name);
      return s === undefined ? undefined : Buffer.from(s, 'latin1');
    },
    list() {
      return Object.keys(device.storage.files);
    },
    async unplug() {
      if (!listening) return;
      listening = false;
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(() => r()));
    },
    async plug() {
      if (listening) return;
      await listen(api.port);
    },
    async close() {
      for (const s of sockets) s.destroy();
      for (const py of ptys) py.stdin.end();
      if (listening) await new Promise((r) => server.close(() => r()));
      listening = false;
      if (!given) device.powerOff();
    },
  };
  let listening = false;
  const repl = new ReplConsole({ device, write: null });
  api.console = repl;
  const server = net.createServer((sock) => {
    api.connections++;
    sockets.add(sock);
    if (current) current.destroy(); // one console at a time, like Espruino's telnet server
    current = sock;
    sock.on('close', () => {
      sockets.delete(sock);
      if (current === sock) {
        current = null;
        repl._write = null;
      }
    });
    sock.on('error', () => {});
    const write = (s) => {
      api.sent += s;
      if (!sock.destroyed) sock.write(Buffer.from(s, 'latin1'));
    };
    repl.attach(write);
    sock.on('data', (buf) => {
      let data = buf.toString('latin1');
      if (filterInput) data = filterInput(data);
      api.received += data;
      repl.receive(data);
    });
  });
  const listen = (p) =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });
  await listen(port);
  api.port = server.address().port;
  api.url = `tcp://127.0.0.1:${api.port}`;

  /**
   * Also offer the console on a pseudo-terminal, as a USB-serial board appears (/dev/pts/N), through
   * pty-bridge.py. Resolves with the path. Whoever opened the port last has the console.
   */
  api.serveOnPty = async () => {
    const { py, path } = await startPtyBridge();
    const write = (s) => {
      api.sent += s;
      py.stdin.write(Buffer.from(s, 'latin1'));
    };
    // the pty exists before anyone opens it: the console moves to it on the first byte received
    py.stdout.on('data', (buf) => {
      if (repl._write !== write) {
        api.connections++;
        if (current) current.destroy();
        repl.attach(write);
      }
      api.received += buf.toString('latin1');
      repl.receive(buf);
    });
    ptys.push(py);
    return path;
  };
  return api;
}
