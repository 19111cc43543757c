// Run a bundle in the real Linux build of Espruino (host only; never shipped to the board).
//
// The interpreter binary is NOT part of this repo: it is taken from the ESPRUINO_BIN environment
// variable (or the `bin` option). Callers must skip when `hasRealEspruino()` is false.
//
// How it drives the interpreter (targets/linux/main.c, jshardware.c of espruino/Espruino):
// - It starts the binary with no arguments (the REPL), in a fresh temporary working directory,
//   because the Linux build keeps its fake flash (Storage) in `./espruino.flash`.
// - stdin is a pipe that stays open for the whole run. The Linux input thread reads stdin and
//   every open serial device in the same loop; at EOF stdin keeps "reading" garbage that fills the
//   input queue, after which serial ports are never read again. Closing stdin is therefore not a
//   way to stop it; Ctrl-D (0x04) on stdin is (SIGTERM/SIGINT only interrupt running JS).
// - Console commands are sent as single lines starting with DLE (0x10), which turns echo off for
//   that line; results come back between STX (0x02) and ETX (0x03) markers printed with print()
//   (written as escapes in the command: a raw 0x03 typed on the console is Ctrl-C).
// - The bundle is loaded the way the board runs it (default `load: 'bootcde'`): written to Storage
//   as `.bootcde` in chunks (atob of base64, so the bytes are exact), then `load()`. Code run from
//   Storage keeps function bodies in (fake) flash, as on the ESP32.
// - Serial2 can be bridged to a pseudo-terminal made by pty-bridge.py (Python's pty module; no
//   native Node addon needed). Linux Espruino only opens a serial port when setup() is given
//   `{path}`; the board's bundle passes `{rx, tx}` instead, so a shim that adds the pty's path to
//   every `Serial2.setup()` call is stored as `.boot0`, which Espruino runs before `.bootcde` on
//   every load(). `.boot0` also registers an `E.on('init')` handler that prints a marker, so the
//   harness knows when `.bootcde` has run. (The real board has no `.boot0`: these cost a few
//   JsVars, which memory measurements should keep in mind.)
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPtyBridge } from './pty.mjs';

const DLE = '\x10';
const STX = '\x02';
const ETX = '\x03';
const CHUNK_BYTES = 768; // raw bytes per Storage.write line (~1 KB of base64 on the console)

/** True when an Espruino binary is configured (ESPRUINO_BIN, or `bin`) and executable. */
export function hasRealEspruino(bin = process.env.ESPRUINO_BIN) {
  if (!bin) return false;
  try {
    accessSync(bin, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Start the real interpreter and (optionally) load a bundle into it.
 *
 * @param {object} opts
 * @param {string} [opts.bin] path of the Linux `espruino` binary; default process.env.ESPRUINO_BIN
 * @param {string} [opts.code] bundle text to load; omit for a bare interpreter
 * @param {'bootcde'|'storage-eval'|'text'} [opts.load] how to load `code`:
 *   'bootcde' (default): Storage `.bootcde` + `load()` — as `espruino --config SAVE_ON_SEND=1` does;
 *   'storage-eval': Storage file `storageName` + `eval(require('Storage').read(storageName))`;
 *   'text': `eval(<code as a string literal>)` from the console (the code lives in RAM).
 * @param {string} [opts.storageName] Storage file for 'storage-eval' (default 'bundle.js')
 * @param {Object<string, string>} [opts.files] Storage files written before the code (build()'s
 *   `files`: secrets and PEMs, as `npm run flash` writes them)
 * @param {number} [opts.timeoutMs] limit for start-up, upload+load, and each eval() (default 10000)
 * @param {{onData?: (s: string) => void, encoding?: BufferEncoding}} [opts.serial2] bridge Serial2
 *   to a pty; onData gets what the interpreter writes, decoded with `encoding` (default 'latin1':
 *   a binary string, one char per byte, as Espruino's own strings are); write() encodes the same way
 * @param {(s: string) => void} [opts.onConsole] every chunk of console output (stdout+stderr)
 * @param {string} [opts.cwd] working directory (holds espruino.flash); default a fresh temp dir,
 *   removed by stop()
 * @returns {Promise<RealEspruino>}
 */
export async function runInRealEspruino(opts = {}) {
  const {
    bin = process.env.ESPRUINO_BIN,
    code,
    load = 'bootcde',
    storageName = 'bundle.js',
    files = {},
    timeoutMs = 10000,
    serial2,
    onConsole,
    cwd: givenCwd,
  } = opts;
  if (!hasRealEspruino(bin)) throw new Error('No Espruino binary: set ESPRUINO_BIN to the Linux build');
  if (!['bootcde', 'storage-eval', 'text'].includes(load)) throw new Error(`unknown load mode ${load}`);

  const cwd = givenCwd ?? mkdtempSync(join(tmpdir(), 'espruino-real-'));
  const ownCwd = !givenCwd;
  const esp = new RealEspruino({ bin, cwd, ownCwd, timeoutMs, onConsole });
  try {
    if (serial2) await esp._startPty(serial2);
    esp._start();
    // Wait until the REPL answers (banner printed, console ready).
    await esp.eval('1', { timeoutMs });
    if (esp.ptyPath) {
      esp._serialShim =
        '(function(P){var s=Serial2.setup;Serial2.setup=function(b,o){var n={},k;' +
        'if(o)for(k in o)n[k]=o[k];n.path=P;return s.call(this,b,n);};})(' +
        JSON.stringify(esp.ptyPath) +
        ');';
      await esp.writeStorage('.boot0', esp._serialShim, { timeoutMs });
      if (load !== 'bootcde' || code === undefined) await esp.eval(esp._serialShim, { timeoutMs });
    }
    for (const [name, data] of Object.entries(files)) await esp.writeStorage(name, data, { timeoutMs });
    if (code !== undefined) await esp.loadCode(code, { load, storageName, timeoutMs });
    return esp;
  } catch (e) {
    await esp.stop().catch(() => {});
    e.message += `\n--- Espruino console ---\n${esp.console}`;
    throw e;
  }
}

export class RealEspruino {
  constructor({ bin, cwd, ownCwd, timeoutMs, onConsole }) {
    this.bin = bin;
    this.cwd = cwd;
    this._ownCwd = ownCwd;
    this.timeoutMs = timeoutMs;
    this._onConsole = onConsole;
    /** Everything the interpreter printed (stdout and stderr), markers included. */
    this.console = '';
    /** Path of the pty slave that Serial2 is bridged to, or null. */
    this.ptyPath = null;
    /** Everything the interpreter wrote to Serial2 (binary string). */
    this.serial2Output = '';
    this._nextId = 1;
    this._pending = new Map(); // id -> {resolve, reject, timer}
    this._scanFrom = 0;
    this._serialListeners = [];
    this._serialShim = '';
    this._loads = new Map(); // load number -> resolve, for the marker .boot0 prints on E 'init'
    this.exited = null; // Promise<{code, signal}>
    this._exit = null;
  }

  _start() {
    const proc = spawn(this.bin, [], { cwd: this.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = proc;
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this._exit = { code, signal };
        for (const [, p] of this._pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`Espruino exited (code ${code}, signal ${signal}); console: ${this._lastWords()}`));
        }
        this._pending.clear();
        resolve(this._exit);
      });
    });
    proc.on('error', (e) => {
      for (const [, p] of this._pending) p.reject(e);
      this._pending.clear();
    });
    proc.stdin.on('error', () => {}); // EPIPE after exit
    const onOut = (buf) => {
      const s = buf.toString('latin1');
      this.console += s;
      if (this._onConsole) this._onConsole(s);
      this._scan();
    };
    proc.stdout.on('data', onOut);
    proc.stderr.on('data', onOut);
  }

  /** The interesting end of the console after a crash: a failed ASSERT line if any, and the tail. */
  _lastWords() {
    const a = this.console.lastIndexOf('ASSERT(');
    const assertLine = a >= 0 ? this.console.slice(a, this.console.indexOf('\n', a) + 1 || undefined).trim() : '';
    return (assertLine ? `${assertLine}\n...\n` : '\n') + this.console.slice(-400);
  }

  _scan() {
    // Results look like STX id SP json ETX (ok) or STX id ! json ETX (exception).
    for (;;) {
      const start = this.console.indexOf(STX, this._scanFrom);
      if (start < 0) return;
      const end = this.console.indexOf(ETX, start);
      if (end < 0) return;
      this._scanFrom = end + 1;
      const l = /^L(\d+)$/.exec(this.console.slice(start + 1, end));
      if (l && this._loads.has(Number(l[1]))) {
        this._loads.get(Number(l[1]))();
        this._loads.delete(Number(l[1]));
        continue;
      }
      const m = /^(\d+)([ !])([\s\S]*)$/.exec(this.console.slice(start + 1, end));
      if (!m) continue;
      const p = this._pending.get(Number(m[1]));
      if (!p) continue;
      this._pending.delete(Number(m[1]));
      clearTimeout(p.timer);
      let value;
      try {
        value = JSON.parse(m[3]);
      } catch {
        value = m[3];
      }
      if (m[2] === ' ') p.resolve(value);
      else p.reject(new Error(`Espruino: ${value}`));
    }
  }

  async _startPty({ onData, encoding = 'latin1' } = {}) {
    const { py, path } = await startPtyBridge();
    this.pty = py;
    this._ptyEncoding = encoding;
    if (onData) this._serialListeners.push(onData);
    py.stdout.on('data', (buf) => {
      const s = buf.toString(encoding);
      this.serial2Output += s;
      for (const fn of this._serialListeners) fn(s);
    });
    this.ptyPath = path;
  }

  /** Send bytes to the interpreter's Serial2 (as if the modem sent them). */
  write(data) {
    if (!this.pty) throw new Error('serial2 bridge not enabled (pass serial2: {...})');
    this.pty.stdin.write(typeof data === 'string' ? Buffer.from(data, this._ptyEncoding) : data);
  }

  /** Another listener for what the interpreter writes to Serial2; returns an unsubscribe fn. */
  onData(fn) {
    this._serialListeners.push(fn);
    return () => {
      this._serialListeners = this._serialListeners.filter((f) => f !== fn);
    };
  }

  /** Type raw text into the console (no DLE, no result handling). */
  sendRaw(text) {
    this.proc.stdin.write(Buffer.from(text, 'latin1'));
  }

  /**
   * Evaluate `js` at the console's top level (global scope) and resolve with the result as a
   * string: strings as they are, `undefined` as 'undefined', anything else through Espruino's
   * JSON.stringify. Rejects with the message if it throws, or on timeout.
   */
  eval(js, { timeoutMs = this.timeoutMs } = {}) {
    if (this._exit) return Promise.reject(new Error('Espruino has exited'));
    const id = this._nextId++;
    const line =
      `${DLE}try{global.__r=eval(${jsString(js)});` +
      `print("\\x02${id} "+JSON.stringify(typeof __r=="string"?__r:__r===undefined?"undefined":JSON.stringify(__r))+"\\x03")` +
      `}catch(__e){print("\\x02${id}!"+JSON.stringify(""+__e)+"\\x03")}\n`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new Error(`eval timed out after ${timeoutMs} ms: ${js.slice(0, 200)}`));
      }, timeoutMs);
      this._pending.set(id, { resolve, reject, timer });
      this.proc.stdin.write(Buffer.from(line, 'latin1'));
    });
  }

  /** `process.memory()` as an object (it runs a garbage collection first). */
  async memory() {
    return JSON.parse(await this.eval('process.memory()'));
  }

  /** Write a Storage file with exact bytes (string → UTF-8), in chunks; resolves when written. */
  async writeStorage(name, data, { timeoutMs = this.timeoutMs } = {}) {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
    const n = jsString(name);
    if (bytes.length === 0) {
      await this.eval(`require("Storage").write(${n},"")`, { timeoutMs });
      return;
    }
    for (let off = 0; off < bytes.length; off += CHUNK_BYTES) {
      const b64 = bytes.subarray(off, off + CHUNK_BYTES).toString('base64');
      const size = off === 0 ? `,0,${bytes.length}` : `,${off}`;
      // No result markers per chunk: the console runs lines in order; check once at the end.
      this.proc.stdin.write(`${DLE}require("Storage").write(${n},atob("${b64}")${size})\n`);
    }
    const len = Number(await this.eval(`require("Storage").read(${n}).length`, { timeoutMs }));
    if (len !== bytes.length) {
      throw new Error(`Storage file ${name} has ${len} bytes after writing ${bytes.length}`);
    }
  }

  /** Load a bundle (see runInRealEspruino's `load` option); resolves once its top level ran. */
  async loadCode(code, { load = 'bootcde', storageName = 'bundle.js', timeoutMs = this.timeoutMs } = {}) {
    if (load === 'bootcde') {
      await this.writeStorage('.bootcde', code, { timeoutMs });
      // load() is deferred to the idle loop, and a console line sent after it may still run
      // before it. So .boot0 (run before .bootcde) registers an E 'init' handler, which Espruino
      // calls after .bootcde has run, and that prints a marker.
      const n = this._nextId++;
      await this.writeStorage('.boot0', `${this._serialShim}E.on("init",function(){print("\\x02L${n}\\x03");});`, { timeoutMs });
      const loaded = new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          this._loads.delete(n);
          reject(new Error(`load() did not finish within ${timeoutMs} ms`));
        }, timeoutMs);
        this._loads.set(n, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.proc.stdin.write(`${DLE}load()\n`);
      await loaded;
      await this.eval('1', { timeoutMs });
    } else if (load === 'storage-eval') {
      await this.writeStorage(storageName, code, { timeoutMs });
      await this.eval(`eval(require("Storage").read(${jsString(storageName)})),undefined`, { timeoutMs });
    } else {
      await this.eval(`eval(${jsString(code)}),undefined`, { timeoutMs });
    }
  }

  /** Stop the interpreter (Ctrl-D, then SIGKILL) and the pty bridge; remove the temp dir. */
  async stop({ timeoutMs = 2000 } = {}) {
    const procs = [];
    if (this.proc && !this._exit) {
      // Ctrl-D on stdin makes the Linux input thread exit(0). (quit() would do too, but it is
      // added to the root scope only at start-up and is gone after load().)
      this.proc.stdin.write('\x04');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
      procs.push(this.exited.then(() => clearTimeout(t)));
    }
    if (this.pty && this.pty.exitCode === null && this.pty.signalCode === null) {
      const py = this.pty;
      const done = new Promise((r) => py.on('exit', r));
      py.stdin.end();
      const t = setTimeout(() => py.kill('SIGKILL'), timeoutMs);
      procs.push(done.then(() => clearTimeout(t)));
    }
    await Promise.all(procs);
    if (this._ownCwd) rmSync(this.cwd, { recursive: true, force: true });
    return this._exit;
  }
}

/** A JS string literal Espruino reads back exactly (ASCII only; \u escapes for the rest). */
function jsString(s) {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
