// What host/tools/flash.mjs, its upload worker, the REPL stand-in and the capture tool share (host only).
//
// The console expressions the upload sends besides what EspruinoTools itself sends, how an
// Espruino error on the console is read, and how device output is cleaned of secrets before it
// is shown. CommonJS because the worker is CommonJS (the `espruino` package is).
'use strict';

const STORAGE_HEADER = 32; // jsflash.c: 4-byte size + 28-byte name before each file's data
const MAX_NAME = 28;

/** A JS string literal Espruino reads back exactly (ASCII only). */
function jsString(s) {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * Storage statistics plus the bytes already taken by the files about to be replaced (their space
 * becomes reusable when they are rewritten). getStats() exists since 2v05; on older firmware the
 * result has no totalBytes and the space check is skipped.
 */
function statsExpr(names) {
  return (
    '(function(S,n){var s=S.getStats?S.getStats():{},e=0;' +
    'n.forEach(function(f){var d=S.read(f);if(d!==undefined)e+=' +
    STORAGE_HEADER +
    '+((d.length+3)&~3);});' +
    's.replaced=e;return s;})(require("Storage"),' +
    jsString(names) +
    ')'
  );
}

/** [length, CRC32] of each named Storage file, or null where it is missing. */
function verifyExpr(names) {
  return (
    '(function(S,n){return n.map(function(f){var d=S.read(f);' +
    'return d===undefined?null:[d.length,E.CRC32?E.CRC32(d):-1];});})(require("Storage"),' +
    jsString(names) +
    ')'
  );
}

/** Bytes the files take in Storage: header + data rounded up to 4 (JSF_ALIGNMENT on the ESP32). */
function storageBytesNeeded(files) {
  return files.reduce((n, f) => n + STORAGE_HEADER + ((f.data.length + 3) & ~3), 0);
}

let crcTable = null;
/** CRC-32 (IEEE, as E.CRC32) of a Buffer. */
function crc32(buf) {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let c = -1;
  for (let i = 0; i < buf.length; i++) c = crcTable[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * The first Espruino error in console output: `Uncaught Error: Unable to find or create file`
 * → { type: 'Error', message: 'Unable to find or create file' }. Only that one line is kept:
 * the lines after it repeat the failing console line, which may carry a secret.
 */
function parseUncaught(text) {
  const m = /Uncaught ([A-Za-z]*Error|[A-Za-z]+)?:? ?([^\r\n]*)/.exec(text);
  if (!m) return null;
  return { type: m[1] || 'Error', message: m[2].replace(/\s+at line \d+.*$/, '').trim() };
}

/**
 * An error Espruino printed for a Storage.write line of the upload: `Uncaught …`, then within the
 * next lines the failing line itself (the console repeats it, with a caret). Same result shape
 * as parseUncaught, or null.
 */
function parseWriteError(text) {
  const re = /Uncaught [^\r\n]*(\r?\n[^\r\n]*){0,3}/g;
  let m;
  while ((m = re.exec(text))) {
    if (/Storage"\)\.write\(|Storage'\)\.write\(/.test(m[0])) return parseUncaught(m[0]);
  }
  return null;
}

/**
 * Secret strings to hide in anything shown to the user: each extra file's whole text and, for
 * JSON files, every string value of 4 characters or more (passwords, keys, PINs).
 */
function secretStrings(files) {
  const out = new Set();
  for (const f of files) {
    if (f.name === '.bootcde') continue;
    const text = Buffer.from(f.data).toString('latin1');
    if (text.length >= 4) out.add(text.trim());
    try {
      (function walk(v) {
        if (typeof v === 'string' && v.length >= 4) out.add(v);
        else if (v && typeof v === 'object') for (const k of Object.keys(v)) walk(v[k]);
      })(JSON.parse(Buffer.from(f.data).toString('utf8')));
    } catch {
      /* not JSON: the whole text is masked */
    }
    for (const line of text.split(/\r?\n/)) if (line.trim().length >= 16) out.add(line.trim());
  }
  return [...out].filter(Boolean).sort((a, b) => b.length - a.length);
}

/**
 * Cleans device/console text for display: the failing console line Espruino repeats after an error
 * (Storage.write lines carry file contents) is dropped, atob("…") payloads and long base64 runs are
 * cut, and every secret string is replaced by ***.
 */
function redact(text, secrets) {
  let s = String(text);
  s = s.replace(/[^\r\n]*(Storage"\)\.write\(|atob\(")[^\r\n]*/g, '[console line with file data hidden]');
  s = s.replace(/[A-Za-z0-9+/]{40,}={0,2}/g, '[…]');
  for (const sec of secrets || []) if (sec) s = s.split(sec).join('***');
  return s;
}

/**
 * What went wrong opening a serial port, from the error's text (serialport's, or EspruinoTools'
 * through it): 'permission', 'port-busy' (another program has it; "Access denied" is Windows' word
 * for that), 'wrong-port' (no such device), or null (something else). Permission and busy are
 * looked for first: serialport says "Error: <strerror>, cannot open <path>" for every failed open
 * and "Error <strerror> Cannot lock port" for a held one (@serialport/bindings-cpp
 * src/serialport_unix.cpp), so "cannot open" alone means only that the open failed.
 */
function serialErrorKind(message) {
  const m = String(message);
  if (/Permission denied|EACCES/i.test(m)) return 'permission';
  if (/lock|Resource temporarily unavailable|EBUSY|busy|Access denied/i.test(m)) return 'port-busy';
  if (/No such file|ENOENT|cannot open/i.test(m)) return 'wrong-port';
  return null;
}

/** Non-printable bytes as escapes, at most `max` characters: for "what did the port send". */
function printable(text, max = 80) {
  const s = String(text).replace(/[^\x20-\x7e]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')));
  return s.length > max ? s.slice(0, max) + '…' : s;
}

module.exports = {
  STORAGE_HEADER,
  MAX_NAME,
  jsString,
  statsExpr,
  verifyExpr,
  storageBytesNeeded,
  crc32,
  parseUncaught,
  parseWriteError,
  secretStrings,
  redact,
  printable,
  serialErrorKind,
};
