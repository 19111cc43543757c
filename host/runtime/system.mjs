// E (src/jswrap_espruino.c), process (src/jswrap_process.c) and ESP32 (targets/esp32/jswrap_esp32.c)
// for one boot. `dev` is the device's internal interface (watchdog, reboot, deep sleep, memory...).
import { sizeOf, blockSize } from './memory.mjs';
import { espruinoStringify } from './ejson.mjs';
import { stringToBytes } from './bytes.mjs';

export const VERSION = '2v29.277'; // the build espruino-facts.md was observed with (JS_VERSION "2v29." BUILDNUMBER)

const ERROR_FLAG_NAMES = ['FIFO_FULL', 'BUFFER_FULL', 'CALLBACK', 'LOW_MEMORY', 'MEMORY', 'MEMORY_BUSY', 'UART_OVERFLOW'];

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0; // unsigned, as jswrap_espruino_CRC32 returns (jsvNewFromLongInteger(~crc) of a uint32_t)
}

export function installSystem(g, api, dev) {
  const { R, bytes, errors, define } = api;
  const fnIn = (name, f) => R.Function('f', `return function ${name}(){ return f.apply(this, arguments); };`)(f);
  const put = (obj, name, f) => Object.defineProperty(obj, name, { value: fnIn(name, f), writable: true, enumerable: true, configurable: true });

  // ------------------------------------------------------------------ E
  const E = new R.Object();
  const flags = { deepSleep: 0, pretokenise: 0, unsafeFlash: 0, unsyncFiles: 0, jitDebug: 0, onErrorSave: 0, onErrorFlash: 0 };
  const eFns = {
    enableWatchdog(timeout, isAuto) {
      let t = Number(timeout);
      if (t < 0 || Number.isNaN(t)) t = 1;
      dev.enableWatchdog(t, isAuto === undefined || !!isAuto);
    },
    kickWatchdog() {
      dev.kickWatchdog();
    },
    getErrorFlags() {
      const a = new R.Array();
      for (const f of dev.takeErrorFlags()) a.push(f);
      return a;
    },
    getFlags() {
      const o = new R.Object();
      Object.assign(o, flags);
      return o;
    },
    setFlags(f) {
      if (f && typeof f === 'object') for (const k of Object.keys(f)) if (k in flags) flags[k] = f[k] ? 1 : 0;
    },
    getSizeOf(v, depth) {
      return sizeOf(v, new Set(), depth === undefined || depth === 0 ? Infinity : Number(depth));
    },
    toString() {
      return bytes.toBinaryString(...arguments);
    },
    toUint8Array() {
      return bytes.uint8(bytes.toByteArray(...arguments));
    },
    toArrayBuffer(str) {
      return bytes.arrayBuffer(stringToBytes(String(str)));
    },
    toJS(v) {
      return espruinoStringify(v, (x) => x instanceof Object.getPrototypeOf(R.Uint8Array));
    },
    // jswrap_espruino_convolve: v=0; for (i in arr1) v += arr1[i] * arr2[(i+offset) % arr2.length],
    // summed in doubles in that order (so the host's result is bit-for-bit the board's). Elements
    // read as jsvIteratorGetFloatValue does: numbers of arrays and typed arrays, a string's char
    // codes, an ArrayBuffer's bytes; a hole in an array reads NaN.
    convolve(arr1, arr2, offset) {
      const seq = (a) => {
        if (typeof a === 'string') return { n: a.length, at: (i) => a.charCodeAt(i) & 255 };
        if (a instanceof R.ArrayBuffer || a instanceof ArrayBuffer) {
          const u = new Uint8Array(a);
          return { n: u.length, at: (i) => u[i] };
        }
        if (a !== null && typeof a === 'object' && typeof a.length === 'number') return { n: a.length, at: (i) => (i in a ? Number(a[i]) : NaN) };
        return null;
      };
      const s1 = seq(arr1);
      const s2 = seq(arr2);
      if (!s1 || !s2) throw errors.error(`Expecting first 2 arguments to be iterable, not ${typeof arr1} and ${typeof arr2}`);
      let off = Math.trunc(Number(offset)) | 0;
      const l = s2.n;
      off = off % l;
      if (off < 0) off += l;
      let v = 0;
      let j = off;
      for (let i = 0; i < s1.n; i++) {
        v += s1.at(i) * s2.at(j);
        if (++j >= l) j = 0;
      }
      return v;
    },
    CRC32(data) {
      return crc32(bytes.toByteArray(data));
    },
    hwRand() {
      return (Math.random() * 0x100000000) | 0;
    },
    setTimeZone(h) {
      dev.setTimeZone(Number(h) || 0);
    },
    getConsole() {
      return 'Serial1';
    },
    setConsole() {},
    setBootCode(code) {
      dev.setBootCode(String(code === undefined ? '' : code));
    },
    reboot() {
      dev.reboot('E.reboot', true);
    },
  };
  for (const [k, f] of Object.entries(eFns)) put(E, k, f);
  Object.defineProperty(g, 'E', { value: E, writable: true, configurable: true });

  // ------------------------------------------------------------------ process
  const proc = new R.Object();
  Object.defineProperty(proc, 'version', { value: VERSION, enumerable: true, configurable: true });
  Object.defineProperty(proc, 'env', {
    enumerable: true,
    configurable: true,
    get: fnIn('env', () => {
      const o = new R.Object();
      Object.assign(o, {
        VERSION,
        BOARD: dev.chip.board,
        RAM: 520 * 1024,
        FLASH: 0,
        STORAGE: dev.storageBytes,
        SERIAL: '00000000-00000000',
        CONSOLE: 'Serial1',
        MODULES: 'Storage,crypto',
        EXPTR: 0,
      });
      return o;
    }),
  });
  put(proc, 'memory', function (gc) {
    const total = dev.jsVarsTotal;
    const usage = Math.min(total, dev.estimateUsage());
    const o = new R.Object();
    Object.assign(o, { free: total - usage, usage, total, history: 0 });
    if (gc === undefined || gc) Object.assign(o, { gc: 0, gctime: 0.1 });
    o.blocksize = blockSize(total);
    const rx = new R.Object();
    Object.assign(rx, { used: 0, total: 4096 }); // io_buffer_size 4096 (boards/ESP32.py)
    const tx = new R.Object();
    Object.assign(tx, { used: 0, total: 256 });
    o.rx = rx;
    o.tx = tx;
    return o;
  });
  Object.defineProperty(g, 'process', { value: proc, writable: true, configurable: true });

  // ------------------------------------------------------------------ ESP32
  const ESP32 = R.Function('return function ESP32(){}')();
  const espFns = {
    deepSleep(us) {
      dev.deepSleep(Number(us) || 0);
    },
    deepSleepExt0() {
      throw errors.error('ESP32.deepSleepExt0 is not simulated by the host runtime');
    },
    deepSleepExt1() {
      throw errors.error('ESP32.deepSleepExt1 is not simulated by the host runtime');
    },
    getWakeupCause() {
      return dev.wakeupCause;
    },
    setAtten(pin, atten) {
      dev.print(`Atten:${Number(atten) | 0}`); // printf to UART0 (the console), jswrap_esp32.c:71
    },
    reboot() {
      dev.reboot('ESP32.reboot', false);
    },
    getState() {
      const o = new R.Object();
      Object.assign(o, { sdkVersion: 'v4.4.8', freeHeap: 100000, BLE: false, Wifi: false, minHeap: 90000 });
      return o;
    },
    setBLE_Debug() {},
    enableBLE() {},
    enableWifi() {},
    setOTAValid() {},
  };
  for (const [k, f] of Object.entries(espFns)) put(ESP32, k, f);
  Object.defineProperty(g, 'ESP32', { value: ESP32, writable: true, configurable: true });

  define('getTime', () => dev.nowSecs());
  define('setTime', (t) => dev.setTime(Number(t)));
  define('getSerial', () => '00000000-00000000');

  return { E, process: proc, flags, ERROR_FLAG_NAMES };
}
