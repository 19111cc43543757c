// Upload worker for host/tools/flash.mjs (host only): runs in its own Node process (child_process.fork)
// and uses EspruinoTools, the `espruino` package from npm, to write Storage files to a board and
// start them. One job per process: the library keeps its connection and board data in globals.
//
// Protocol (IPC): the parent sends one message
//   { port, baud, files: [{name, b64}], storageDelays, startWaitMs, timeouts: {connect, prompt},
//     verbose }
// (file contents travel over the IPC channel, never on a command line or in a temp file), and the
// worker answers with messages { type: 'step' | 'progress' | 'device' | 'log' | 'fail' | 'done', … }
// and exits. Nothing the library prints reaches the terminal: it logs everything it sends, file
// contents included, so its output is kept here and only passed on, redacted, with `verbose`.
//
// What goes over the wire is EspruinoTools' own: getEspruinoPrompt (a newline, Ctrl-C if no `>`),
// executeExpression (`\x10print("<","<<",JSON.stringify(expr),">>",">")`) for process.env (what
// its "Request board details on connect" does), CodeWriter.writeToEspruino (`\x10reset();`,
// `\x10print()`, every line prefixed with DLE so the board does not echo it, a 250 ms pause after
// each Storage.write line unless delays are off) with the lines Utils.getUploadFileCode makes
// (`require("Storage").write(name,atob("…"),offset[,size])`, 384 bytes per line, which is what the
// CLI's `--storage name:file` sends). The code is written as `.bootcde` followed by `load()`:
// the same result as the CLI's `--config SAVE_ON_SEND=1` ("Direct to Flash (execute code at
// boot)"), but base64 keeps every byte exact. Added here: a Storage space check before writing,
// and a length + CRC32 check of every file before load().
'use strict';

const fs = require('fs');
const P = require('./upload-protocol.cjs');

let secrets = [];
let verbose = false;
let rxAll = ''; // everything the port sent (binary string)
let sentSecrets = false; // once file data went out, device output may echo it: never show it raw
let currentStep = 'start';
let finished = false;
let onSocketError = null;

function send(msg, cb) {
  if (process.send && process.connected) process.send(msg, cb);
  else if (cb) cb();
}

// ---- keep the library quiet: its logs include the data it sends
function libLog(kind, args) {
  let text = args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' ');
  if (/^RECEIVE ERROR:/.test(text) && onSocketError) onSocketError(text);
  if (!verbose) return;
  // lines that carry data sent or received (in pieces, which redact() could not recognise) are
  // shown by size only
  const data = /^(serial: (Sending|--->) |Got |Received |No result found|serial: Port)/.exec(text);
  const q = text.indexOf('"');
  if (data && q >= 0) text = `${text.slice(0, q).trim()} [${text.length - q} characters not shown]`;
  send({ type: 'log', text: P.redact(text, secrets).slice(0, 400) });
}
function safeJson(a) {
  try {
    return a instanceof Error ? String(a) : JSON.stringify(a);
  } catch {
    return String(a);
  }
}
for (const k of ['log', 'info', 'warn', 'error', 'debug', 'trace']) console[k] = (...args) => libLog(k, args);

function fail(kind, detail = {}) {
  if (finished) return;
  finished = true;
  const msg = { type: 'fail', step: currentStep, kind, ...detail };
  // what the port sent is shown only before any file data went out (it may repeat a failing line)
  if (!sentSecrets && msg.received === undefined) msg.received = P.printable(rxAll.slice(-160), 160);
  if (msg.received !== undefined) msg.received = P.redact(msg.received, secrets);
  send(msg, () => closeAndExit(1));
}

/** Close the port, give the close a moment, exit (after the last IPC message was sent). */
function closeAndExit(code) {
  try {
    if (global.Espruino && Espruino.Core.Serial.isConnected()) Espruino.Core.Serial.close();
  } catch {
    /* already closed */
  }
  setTimeout(() => process.exit(code), 200);
}

process.on('uncaughtException', (e) => {
  const m = String((e && e.message) || e);
  const kind = currentStep === 'connect' && P.serialErrorKind(m);
  if (kind) return fail(kind, { error: m });
  fail('internal', { error: P.redact(m, secrets) });
});
process.on('disconnect', () => {
  if (!finished) process.exit(2); // the parent went away
});

function step(name, info = {}) {
  currentStep = name;
  send({ type: 'step', step: name, ...info });
}

function withTimeout(ms, kind, what, fn) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(Object.assign(new Error(what), { kind })), ms);
    fn(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

function initTools() {
  return new Promise((resolve) => require('espruino').init(resolve));
}

function expression(expr, opts) {
  return new Promise((resolve) => Espruino.Core.Utils.executeExpression(expr, resolve, opts));
}

/** serial_node_socket.js logs `RECEIVE ERROR: {"code":"ECONNREFUSED",…}`: keep the code. */
function socketErrorCode(text) {
  const body = text.replace(/^RECEIVE ERROR:\s*/, '');
  const e = parseJson(body);
  return (e && e.code) || body;
}

function parseJson(s) {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

async function run(job) {
  verbose = !!job.verbose;
  const files = job.files.map((f) => ({ name: f.name, data: Buffer.from(f.b64, 'base64') }));
  secrets = P.secretStrings(files);
  const port = job.port;
  const isTcp = port.startsWith('tcp://');
  // connect/prompt: ms for the step; answerS: how long executeExpression waits for the answer to
  // process.env when nothing comes back (EspruinoTools' default is 2 s; a loaded PC needs more)
  const t = { connect: 8000, prompt: 10000, answerS: 4, ...(job.timeouts || {}) };

  step('connect', { port, baud: job.baud });
  if (!isTcp && port.startsWith('/')) {
    // (a Windows COM port is no path to check)
    try {
      fs.accessSync(port, fs.constants.R_OK | fs.constants.W_OK);
    } catch (e) {
      return fail(e.code === 'ENOENT' ? 'wrong-port' : e.code === 'EACCES' ? 'permission' : 'wrong-port', { error: e.message });
    }
  }
  await initTools();
  const C = Espruino.Config;
  C.BAUD_RATE = job.baud;
  C.BLUETOOTH_LOW_ENERGY = false; // the CLI's --no-ble: never load noble/dbus
  C.BLUETOOTH_LOW_ENERGY_DBUS = false;
  C.ENV_ON_CONNECT = false; // process.env is asked below, without the board-JSON download it triggers
  C.SAVE_ON_SEND = 1; // "Direct to Flash (execute code at boot)"; also keeps line numbers off
  C.STORE_LINE_NUMBERS = false;
  C.RESET_BEFORE_SEND = true;
  C.SET_TIME_ON_WRITE = false;
  C.STORAGE_UPLOAD_METHOD = job.storageDelays ? 0 : 1;
  C.SERIAL_TCPIP = isTcp ? [port] : [];
  Espruino.Core.Status = { setStatus() {}, hasProgress: () => false, incrementProgress() {} };

  const devices = Espruino.Core.Serial.devices;
  if (!isTcp) {
    const nodeSerial = devices.find((d) => d.name === 'Node Serial');
    if (!nodeSerial) return fail('no-serialport');
    // serialport.list() misses ports udev does not describe (ptys, containers without udevadm):
    // offer the requested path anyway so open() is tried on it
    const list = nodeSerial.getPorts;
    nodeSerial.getPorts = (cb) =>
      list((ports, instant) => {
        const a = ports || [];
        if (!a.some((p) => p.path === port)) a.push({ path: port, description: 'requested port' });
        cb(a, instant);
      });
  }

  // everything received goes through here (the library's helpers hand it back when they finish)
  const base = (data) => {
    rxAll += typeof data === 'string' ? data : Buffer.from(new Uint8Array(data)).toString('latin1');
  };
  Espruino.Core.Serial.startListening(base);

  let disconnected = false;
  const opened = withTimeout(t.connect, 'wrong-port', 'no connection', (resolve, reject) => {
    onSocketError = (text) => reject(Object.assign(new Error(socketErrorCode(text)), { kind: 'wrong-port' }));
    Espruino.Core.Serial.open(
      port,
      (status) => {
        if (status === undefined || status === null || (typeof status === 'object' && status.code)) {
          reject(Object.assign(new Error(status && status.code ? status.code : 'could not open'), { kind: 'wrong-port' }));
        } else resolve(status);
      },
      () => {
        disconnected = true;
        if (!finished && currentStep !== 'connect' && currentStep !== 'done') fail('connection-lost');
      },
    );
  });
  try {
    await opened;
  } catch (e) {
    return fail(e.kind || 'wrong-port', { error: e.message });
  }
  onSocketError = (text) => fail('connection-lost', { error: socketErrorCode(text) });

  // ---- is it Espruino?
  step('prompt');
  // Opening a USB-serial port can reset an ESP32 (DTR/RTS auto-reset): while its boot messages or
  // the Espruino banner are still coming, ask again until the prompt timeout.
  const promptStart = Date.now();
  let env;
  for (;;) {
    const rxFrom = rxAll.length;
    const envText = await withTimeout(t.prompt, 'not-espruino', 'no answer', (resolve) =>
      expression('process.env', { minTimeout: t.answerS }).then(resolve),
    ).catch(() => undefined);
    env = parseJson(envText);
    if (env && env.VERSION) break;
    const booting = /rst:0x|ets [A-Z][a-z]{2} |ESP-ROM|espruino\.com|Donate/.test(rxAll.slice(rxFrom));
    if (!booting || Date.now() - promptStart > t.prompt || disconnected) break;
    send({ type: 'booting' });
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (!env || !env.VERSION) {
    return fail('not-espruino', { prompt: /(^|[\r\n])>$/.test(rxAll) || rxAll.includes('\n>'), bytes: rxAll.length });
  }
  const envData = Espruino.Core.Env.getData();
  for (const k of Object.keys(env)) envData[k] = env[k];
  Espruino.Core.Env.setFirmwareVersion(env.VERSION);
  // as EspruinoTools' versionChecker does for firmware newer than 1v43
  if (envData.VERSION_MAJOR > 1 || envData.VERSION_MINOR > 43) Espruino.Core.Serial.setSlowWrite(false);
  send({ type: 'board', env: { VERSION: env.VERSION, BOARD: env.BOARD, CONSOLE: env.CONSOLE } });

  // ---- room in Storage?
  step('space');
  const names = files.map((f) => f.name);
  const stats = parseJson(await expression(P.statsExpr(names), { minTimeout: 5 }));
  const needed = P.storageBytesNeeded(files);
  if (stats && typeof stats.totalBytes === 'number') {
    const available = (stats.freeBytes || 0) + (stats.trashBytes || 0) + (stats.replaced || 0);
    send({ type: 'space', needed, available, total: stats.totalBytes });
    if (needed > available) return fail('no-space', { needed, available, total: stats.totalBytes });
  } else {
    send({ type: 'space', needed, available: null });
  }

  // ---- write the files (the code last), then check them
  step('upload');
  const U = Espruino.Core.Utils;
  const segments = files.map((f) => U.getUploadFileCode(f.name, f.data.toString('latin1')));
  const code = segments.join('\n');
  const reformat = Espruino.Core.CodeWriter.reformatCode;
  const bounds = [];
  for (let i = 0; i < segments.length; i++) bounds.push(reformat(segments.slice(0, i + 1).join('\n')).length);
  const total = bounds[bounds.length - 1];
  const lines = code.split('\n').length;
  send({ type: 'upload', total, lines, files: files.map((f, i) => ({ name: f.name, bytes: f.data.length, wireEnd: bounds[i] })) });

  // Progress: bytes handed to the port, counted from the moment CodeWriter issues its one big
  // write (its prefix `\x10reset();\n\x10print()\n` included, so the count is exact).
  const S = Espruino.Core.Serial;
  const conn = S.connection;
  const lowLevel = conn.writeLowLevel;
  const serialWrite = S.write;
  let wire = null; // { total, prefix }
  let sent = 0;
  let lastReport = 0;
  let allSent = null;
  const allSentP = new Promise((r) => (allSent = r));
  S.write = function (data, showStatus, cb) {
    if (!wire && typeof data === 'string' && data.length >= total) {
      wire = { total: data.length, prefix: data.length - total };
      send({ type: 'progress', sent: 0, total: wire.total, file: files[0].name });
    }
    return serialWrite.apply(this, arguments);
  };
  conn.writeLowLevel = (data) =>
    lowLevel(data).then((r) => {
      if (!wire) return r;
      sent += data.length;
      const now = Date.now();
      if (now - lastReport > 100 || sent >= wire.total) {
        lastReport = now;
        const s = Math.min(sent, wire.total);
        let fi = bounds.findIndex((b) => s < b + wire.prefix);
        if (fi < 0) fi = files.length - 1;
        send({ type: 'progress', sent: s, total: wire.total, file: files[fi].name });
      }
      if (sent >= wire.total) allSent();
      return r;
    });
  const rxBefore = rxAll.length;
  sentSecrets = true;
  const t0 = Date.now();
  // CodeWriter's callback comes only when the whole write is longer than one block (512 bytes in
  // EspruinoTools 0.1.67, serial.js writeSerialWorker): for a small upload the byte count says
  // when it is done. After the last byte, the pause it adds after a Storage.write line.
  await Promise.race([
    new Promise((resolve) => Espruino.Core.CodeWriter.writeToEspruino(code, resolve)),
    allSentP.then(() => new Promise((r) => setTimeout(r, job.storageDelays ? 300 : 50))),
  ]);
  S.write = serialWrite;
  conn.writeLowLevel = lowLevel;
  send({
    type: 'progress',
    sent: wire ? wire.total : total,
    total: wire ? wire.total : total,
    file: files[files.length - 1].name,
    done: true,
    ms: Date.now() - t0,
  });

  step('verify');
  const checks = parseJson(await expression(P.verifyExpr(names), { minTimeout: 15, maxTimeout: 60 }));
  // an error Espruino printed for one of the Storage.write lines (it repeats the line after it);
  // other errors (the old code, still running until reset()) are not the upload's
  const uncaught = P.parseWriteError(rxAll.slice(rxBefore));
  if (uncaught) {
    currentStep = 'upload'; // the verify answer came after every line ran: one of them failed
    return fail('write-error', { error: `${uncaught.type}: ${uncaught.message}` });
  }
  if (!Array.isArray(checks) || checks.length !== files.length) {
    return fail(disconnected ? 'connection-lost' : 'upload-timeout');
  }
  const bad = [];
  files.forEach((f, i) => {
    const c = checks[i];
    const want = [f.data.length, P.crc32(f.data)];
    if (!c) bad.push({ name: f.name, problem: 'missing' });
    else if (c[0] !== want[0]) bad.push({ name: f.name, problem: `${c[0]} bytes instead of ${want[0]}` });
    else if (c[1] !== -1 && c[1] >>> 0 !== want[1]) bad.push({ name: f.name, problem: 'different bytes (CRC32)' });
  });
  if (bad.length) return fail('verify-mismatch', { files: bad });
  send({ type: 'verified', files: files.map((f) => ({ name: f.name, bytes: f.data.length, crc32: P.crc32(f.data) })) });

  // ---- run it: load() runs .bootcde, as every boot will
  step('start');
  const rxStart = rxAll.length;
  // (Serial.write calls back only for writes longer than one block: use the connection's promise)
  await Espruino.Core.Serial.connection.write('\x10load()\n');
  const deadline = Date.now() + (job.startWaitMs ?? 3000);
  let shown = 0;
  let pending = '';
  while (Date.now() < deadline && !disconnected) {
    await new Promise((r) => setTimeout(r, 50));
    pending += rxAll.slice(rxStart + shown);
    shown = rxAll.length - rxStart;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending
        .slice(0, nl)
        .replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')
        .replace(/\r/g, '')
        .replace(/^>+/, '');
      pending = pending.slice(nl + 1);
      if (line.trim()) send({ type: 'device', line: P.redact(line, secrets) });
    }
  }
  const crashed = P.parseUncaught(rxAll.slice(rxStart));
  currentStep = 'done';
  finished = true;
  send({ type: 'done', uncaught: crashed ? `${crashed.type}: ${P.redact(crashed.message, secrets)}` : null }, () => closeAndExit(0));
}

process.once('message', (job) => {
  run(job).catch((e) => fail(e.kind || 'internal', { error: P.redact(String((e && e.stack) || e), secrets) }));
});
