// The simulated ESP32 running Espruino: createEspruino({ clock, ... }) -> device.
// The firmware bundle runs unmodified in a fresh `vm` context per boot whose globals are
// Espruino's (see builtins.mjs for what is removed, the other files for what is added).
// Hardware (pins, UARTs, I2C devices, flash, RTC) lives outside the context and survives reboots.
import vm from 'node:vm';
import { createScheduler } from './scheduler.mjs';
import { stripBuiltins } from './builtins.mjs';
import { installEmitter } from './emitter.mjs';
import { promiseFactorySource } from './promise.mjs';
import { dateFactorySource } from './date.mjs';
import { createBytes } from './bytes.mjs';
import { CHIPS, createPinHardware, installPins } from './pins.mjs';
import { createUart, installSerial } from './serial.mjs';
import { createI2CHardware, installI2C } from './i2c.mjs';
import { createOneWireHardware, installOneWire } from './onewire.mjs';
import { createFlash, ESP32_STORAGE_BYTES, PowerCut } from './flash.mjs';
import { createJsf, createStorageModule } from './storage.mjs';
import { createCryptoModule } from './crypto.mjs';
import { formatArgs } from './format.mjs';
import { installSystem } from './system.mjs';
import { BASE_VARS, sizeOf, staticCodeVars } from './memory.mjs';

// Modules compiled into the ESP32 build that this runtime does not provide.
const UNSIMULATED_MODULES = [
  'net',
  'tls',
  'http',
  'Wifi',
  'NetworkJS',
  'heatshrink',
  'neopixel',
  'Flash',
  'fs',
  'Telnet',
  'Graphics',
  'Bluetooth',
  'ble_hid_keyboard',
];

class Halt {
  // thrown through the firmware's stack when it reboots or sleeps (the call never returns)
  constructor(reason) {
    this.reason = reason;
  }
}

export function createEspruino({
  clock,
  jsVarsTotal = 16383,
  storageBytes = ESP32_STORAGE_BYTES,
  uartChunk = 120,
  uartIdleBytes = 10,
  chip = 'ESP32',
  bootDelayMs = 0,
  seed = null, // a number: Math.random in the firmware is a seeded PRNG (deterministic soak runs)
  // The RTC slow clock's error in deep sleep, parts per million (+ = runs fast). In deep sleep the
  // ESP32 counts time on its ~150 kHz RC oscillator (RC_SLOW, ESP-IDF clk_tree docs: "less
  // accurate than a crystal and easily affected by the environment"), calibrated against the
  // crystal only while awake. The timer wakeup is a tick count, us / the calibrated tick period
  // (ESP-IDF sleep_modes.c: esp_sleep_enable_timer_wakeup → rtc_time_us_to_slowclk with the
  // saved calibration), and the time after wakeup is the ticks counted × that same period
  // (esp_rtc_get_time_us): an oscillator running fast by ppm wakes after us / (1 + ppm·1e-6) real
  // time while the clock moves on by the nominal us. Users report percent-level errors
  // (arduino-esp32 #7084: 20 min in 15 h, 2.2 %). While awake the time runs from the crystal.
  rtcDriftPpm = 0,
} = {}) {
  if (!clock) throw new Error('createEspruino: clock required');
  const chipInfo = CHIPS[chip];
  if (!chipInfo) throw new Error(`createEspruino: unknown chip ${chip}`);

  // mulberry32: one stream across reboots, so a seeded run is the same run every time
  let rngState = (seed ?? 0) >>> 0;
  function seededRandom() {
    rngState = (rngState + 0x6d2b79f5) >>> 0;
    let t = rngState;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  const log = [];
  const errors = [];
  const errorDetails = [];
  const resets = [];
  const logListeners = new Set();

  const flash = createFlash(storageBytes);
  const jsf = createJsf(flash, { log: (l) => print(l) });
  const pinHw = createPinHardware({ clock, chip: chipInfo });
  const uarts = {};
  for (const name of ['Serial1', 'Serial2', 'Serial3']) {
    uarts[name] = createUart({
      clock,
      name,
      defaultPins: chipInfo.uart[name],
      uartChunk,
      idleBytes: uartIdleBytes,
      console: name === 'Serial1',
    });
  }
  const i2cHw = createI2CHardware();
  const oneWireHw = createOneWireHardware();

  let rtcOffsetMs = 0; // RTC survives reboots and deep sleep
  let tzMinutes = 0;
  let wakeupCause = 0;
  let lastCode = null;
  let lastFilename = 'bundle.js';
  // true once the code comes from Storage (bootFromStorage(), or load() of it): every boot then
  // evaluates .boot0….boot3 and .bootcde as they are in flash at that moment, as the board does
  let fromStorage = false;
  let cur = null; // the running boot
  let state = 'off'; // off | running | sleeping
  let pendingBoot = null;

  function print(text) {
    const line = String(text);
    log.push(line);
    uarts.Serial1.transmit(line.replace(/\n/g, '\r\n') + '\r\n');
    for (const fn of [...logListeners]) fn(line);
  }

  // ---------------------------------------------------------------- boot / reset
  function stopCurrent() {
    if (!cur) return;
    cur.dead = true;
    cur.sched.stop();
    if (cur.wdtTimer !== null) clock.clearTimeout(cur.wdtTimer);
    cur = null;
  }

  function hardwareReset() {
    pinHw.reset();
    for (const u of Object.values(uarts)) u.reset();
    i2cHw.reset();
  }

  // a boot at once from outside (load, bootFromStorage, reboot): any boot still pending is dropped
  function bootNow(reason) {
    if (pendingBoot !== null) clock.clearTimeout(pendingBoot);
    pendingBoot = null;
    resets.push({ reason, timeMs: clock.now() });
    boot(reason);
  }

  function scheduleBoot(reason, delayMs) {
    if (pendingBoot !== null) clock.clearTimeout(pendingBoot);
    pendingBoot = clock.setTimeout(() => {
      pendingBoot = null;
      boot(reason);
    }, delayMs);
  }

  // Stops the firmware now (the current JS call is unwound with Halt) and starts it again later.
  function restart(reason, { kill = false, delayMs = bootDelayMs, cause = 0 } = {}) {
    const b = cur;
    if (b && kill) b.emitter.emitNow(b.E, 'kill', []);
    resets.push({ reason, timeMs: clock.now() });
    stopCurrent();
    hardwareReset();
    state = reason === 'deepSleep' ? 'sleeping' : 'off';
    wakeupCause = cause;
    if (delayMs > 0) scheduleBoot(reason, delayMs);
    else scheduleBoot(reason, 0);
    if (b) throw new Halt(reason);
  }

  function boot(reason) {
    stopCurrent();
    if (flash.powerCut) flash.restorePower();
    if (reason !== 'load-keep-hw') hardwareReset();
    state = 'running';
    if (fromStorage) return bootStorage();
    if (lastCode === null) return;
    cur = createBoot();
    const b = cur;
    b.staticVars = staticCodeVars(lastCode);
    b.run(() => vm.runInContext(lastCode, b.ctx, { filename: lastFilename }));
    if (b.dead) return;
    afterBootCode(b);
  }

  // jsfLoadBootCodeFromFlash (src/jsflash.c): .boot0, .boot1, .boot2, .boot3 if present, then the
  // boot code (.bootcde), each evaluated in the root scope with its own errors caught and printed
  // (jsiCheckErrors) before the next one runs. No .bootcde: the interpreter just idles.
  function bootStorage() {
    const read = (name) => {
      const f = jsf.readFile(name);
      return f === null ? null : Buffer.from(f).toString('latin1');
    };
    cur = createBoot();
    const b = cur;
    for (const name of ['.boot0', '.boot1', '.boot2', '.boot3']) {
      const text = read(name);
      if (text === null) continue;
      b.run(() => vm.runInContext(text, b.ctx, { filename: name }));
      if (b.dead) return;
    }
    // read after the .boot files ran: they may have written it (jsfGetBootCodeFromFlash comes last)
    const code = read('.bootcde');
    b.staticVars = code === null ? 0 : staticCodeVars(code);
    if (code !== null) b.run(() => vm.runInContext(code, b.ctx, { filename: 'boot code' }));
    if (b.dead) return;
    afterBootCode(b);
  }

  function afterBootCode(b) {
    // jsiSemiInit: E.on('init') handlers, then onInit() (jsinteractive.c ~565-575)
    b.run(() => b.emitter.emitNow(b.E, 'init', []));
    if (b.dead) return;
    const onInit = b.g.onInit;
    if (typeof onInit === 'function') b.run(() => onInit());
    if (!b.dead) b.sched.afterJs();
  }

  // ---------------------------------------------------------------- one boot's JS world
  function createBoot() {
    const ctx = vm.createContext({}, { name: 'espruino', codeGeneration: { strings: true, wasm: false } });
    const g = vm.runInContext('globalThis', ctx);
    const R = vm.runInContext(
      '({Object, Function, Array, Error, TypeError, SyntaxError, ReferenceError, Uint8Array, ArrayBuffer, DataView, JSON, Date, RegExp, String, Number, Math, eval})',
      ctx,
    );
    stripBuiltins(g, R);
    if (seed !== null) R.Math.random = seededRandom;

    const b = { ctx, g, R, dead: false, wdt: null, wdtTimer: null, errorFlags: new Set(), staticVars: 0 };
    const mkError = (msg, type = 'Error') => new (R[type] || R.Error)(msg);
    const errorsApi = { error: mkError, log: (l) => print(l) };
    const define = (name, fn) =>
      Object.defineProperty(g, name, {
        value: R.Function('f', `return function ${name}(){ return f.apply(this, arguments); };`)(fn),
        writable: true,
        configurable: true,
      });

    function guard() {
      if (b.dead) throw new Halt('dead');
    }
    function reportUncaught(e) {
      if (b.emitter.hasListeners(b.process, 'uncaughtException')) {
        b.emitter.emitNow(b.process, 'uncaughtException', [e]);
        return;
      }
      let text;
      try {
        text = String(e);
      } catch {
        text = Object.prototype.toString.call(e);
      }
      const line = `Uncaught ${text}`;
      errors.push(line);
      errorDetails.push({ line, error: e, stack: e && typeof e === 'object' ? e.stack : undefined, timeMs: clock.now() });
      print(line);
      if (b.system && b.system.flags.onErrorSave && !jsf.find('ERROR')) {
        try {
          const body = text + (e && e.stack ? '\n' + e.stack : '');
          jsf.writeFile('ERROR', Array.from(Buffer.from(body, 'latin1')), 0, 0, 0);
        } catch {
          /* storage full: nothing saved, as on the board */
        }
      }
    }
    b.reportUncaught = reportUncaught;
    function invoke(fn, thisArg, args) {
      if (b.dead) return;
      try {
        if (typeof fn === 'string') vm.runInContext(fn, ctx, { filename: 'event' });
        else if (typeof fn === 'function') fn.apply(thisArg, args);
      } catch (e) {
        if (e instanceof Halt) return;
        if (e instanceof PowerCut) return powerCut();
        if (b.dead) return;
        reportUncaught(e);
      }
    }
    b.run = (f) => invoke(f, undefined, []);

    b.sched = createScheduler({
      clock,
      invoke,
      onPassEnd: () => {
        if (b.wdt && b.wdt.auto) kick(); // jsiIdle: JSIS_WATCHDOG_AUTO
      },
    });
    b.emitter = installEmitter(R, {
      queueEvent: (fn) => b.sched.queueEvent(fn),
      invoke,
    });
    const nowSecs = (ms = clock.now()) => (ms + rtcOffsetMs) / 1000;
    const pinsApi = installPins(g, pinHw, { R, clock, sched: b.sched, invoke, errors: errorsApi, nowSecs, define });
    const bytes = createBytes(R, { isPin: pinsApi.isPin });
    installSerial(g, uarts, {
      R,
      bytes,
      emitter: b.emitter,
      sched: b.sched,
      pinNumber: pinsApi.pinNumber,
      setErrorFlag: (f) => setErrorFlag(f),
    });
    installI2C(g, i2cHw, { R, bytes, errors: errorsApi, pinNumber: pinsApi.pinNumber, chip: chipInfo });
    installOneWire(g, oneWireHw, { R, bytes, errors: errorsApi, pinNumber: pinsApi.pinNumber, pinHw, clock });

    // ---- watchdog (ESP32 task watchdog: timeout rounded to whole seconds, jshardware.c:487)
    function armWdt() {
      if (b.wdtTimer !== null) clock.clearTimeout(b.wdtTimer);
      b.wdtTimer = null;
      if (!b.wdt || b.wdt.auto) return;
      b.wdtTimer = clock.setTimeout(() => {
        b.wdtTimer = null;
        if (b.dead) return;
        print('E (task_wdt) Task watchdog got triggered. The following tasks did not reset the watchdog in time:');
        try {
          restart('watchdog');
        } catch (e) {
          if (!(e instanceof Halt)) throw e;
        }
      }, b.wdt.timeoutMs);
    }
    function kick() {
      if (b.wdt) armWdt();
    }
    function setErrorFlag(name) {
      if (b.errorFlags.has(name)) return;
      b.errorFlags.add(name);
      const arr = new R.Array();
      arr.push(name);
      b.sched.queueEvent(() => {
        b.emitter.emitNow(b.E, 'errorFlag', [arr]);
        print(`New interpreter error: ${name}`);
      });
    }

    const dev = {
      chip: chipInfo,
      storageBytes,
      jsVarsTotal,
      get wakeupCause() {
        return wakeupCause;
      },
      nowSecs: () => nowSecs(),
      setTime(t) {
        rtcOffsetMs = t * 1000 - clock.now();
      },
      setTimeZone(h) {
        tzMinutes = Math.round(h * 60);
      },
      print: (l) => print(l),
      enableWatchdog(t, auto) {
        b.wdt = { timeoutMs: Math.max(1, Math.floor(t + 0.5)) * 1000, auto };
        armWdt();
      },
      kickWatchdog() {
        guard();
        kick();
      },
      takeErrorFlags() {
        const f = [...b.errorFlags];
        b.errorFlags.clear();
        return f;
      },
      setBootCode(code) {
        jsf.writeFile('.bootcde', Array.from(Buffer.from(code, 'latin1')), 0, 0, 0);
      },
      reboot(reason, kill) {
        guard();
        restart(reason, { kill });
      },
      deepSleep(us) {
        guard();
        // the chip is off for `us` of its own slow clock, then boots again; the RTC keeps counting
        // (and gains what the slow clock gained: rtcDriftPpm above)
        const realMs = us / 1000 / (1 + rtcDriftPpm * 1e-6);
        rtcOffsetMs += us / 1000 - realMs;
        restart('deepSleep', { delayMs: realMs + bootDelayMs, cause: 4 });
      },
      estimateUsage() {
        return estimateUsage(b);
      },
    };
    b.system = installSystem(g, { R, bytes, errors: errorsApi, define }, dev);
    b.E = b.system.E;
    b.process = b.system.process;

    // ---- timers (jswrap_interactive.c:479-630)
    define('setTimeout', (fn, ms, ...args) => b.sched.setTimer(fn, ms, args, true, errorsApi));
    define('setInterval', (fn, ms, ...args) => b.sched.setTimer(fn, ms, args, false, errorsApi));
    define('clearTimeout', (...ids) => b.sched.clearTimer(ids, true, errorsApi));
    define('clearInterval', (...ids) => b.sched.clearTimer(ids, false, errorsApi));
    define('changeInterval', (id, ms) => b.sched.changeInterval(id, ms, errorsApi));

    // ---- console / print
    const out = (...args) => print(formatArgs(args, R));
    define('print', out);
    const cons = new R.Object();
    for (const k of ['log', 'debug', 'info', 'warn', 'error']) {
      cons[k] = R.Function('f', `return function ${k}(){ return f.apply(this, arguments); };`)(out);
    }
    Object.defineProperty(g, 'console', { value: cons, writable: true, configurable: true });

    // ---- btoa / atob on byte strings
    define('btoa', (s) => Buffer.from(Array.from(String(s), (c) => c.charCodeAt(0) & 255)).toString('base64'));
    define('atob', (s) => Buffer.from(String(s), 'base64').toString('latin1'));

    // ---- Date on the device RTC, Espruino's Promise
    const RealDate = R.Date;
    const DateCtor = vm.runInContext(dateFactorySource, ctx)(
      RealDate,
      () => clock.now() + rtcOffsetMs,
      () => tzMinutes,
    );
    Object.defineProperty(g, 'Date', { value: DateCtor, writable: true, configurable: true });
    const PromiseCtor = vm.runInContext(promiseFactorySource, ctx)(
      (fn) => b.sched.queueEvent(fn),
      (msg) => {
        b.sched.dropQueuedEvents();
        return new R.Error(msg);
      },
      (msg, type) => mkError(msg, type),
      WeakMap,
    );
    Object.defineProperty(g, 'Promise', { value: PromiseCtor, writable: true, configurable: true });

    // ---- require (jswrap_modules.c)
    const moduleCache = new Map();
    define('require', (name) => {
      if (typeof name !== 'string') throw mkError(`Expecting module name as a string, got ${typeof name}`, 'TypeError');
      if (moduleCache.has(name)) return moduleCache.get(name);
      let m;
      if (name === 'Storage') m = createStorageModule(jsf, { R, bytes, errors: errorsApi }).module;
      else if (name === 'crypto') m = createCryptoModule(R, bytes, errorsApi);
      else if (UNSIMULATED_MODULES.includes(name)) {
        throw mkError(`Module "${name}" is in the ESP32 build but not simulated by the host runtime`);
      } else if (name.length <= 28 && jsf.find(name)) {
        const code = Buffer.from(jsf.readFile(name)).toString('latin1');
        const fn = vm.runInContext(`(function(exports, module){${code}\n})`, ctx, { filename: name });
        const scope = new R.Object();
        scope.exports = new R.Object();
        scope.module = scope;
        fn.call(scope.exports, scope.exports, scope);
        m = scope.exports;
      } else throw mkError(`Module "${name}" not found`);
      moduleCache.set(name, m);
      return m;
    });

    // ---- load()/reset()/save()
    // load(): restart from Storage as at power-on (.boot0….boot3, then .bootcde): jsinteractive.c
    // at c5ff787, JSIS_TODO_FLASH_LOAD without a file name → jsiSoftInit → jsfLoadBootCodeFromFlash;
    // load(file): restart into that one file only (jsiSemiInit "don't autoload code", then the file)
    define('load', (file) => {
      guard();
      if (file === undefined) fromStorage = true;
      else {
        const f = jsf.readFile(String(file));
        if (f) {
          lastCode = Buffer.from(f).toString('latin1');
          lastFilename = String(file);
          fromStorage = false;
        }
      }
      restart('load', { kill: true, delayMs: 0 });
    });
    define('reset', () => {
      guard();
      lastCode = '';
      fromStorage = false; // "do not load a saved program from flash"
      restart('reset', { kill: true, delayMs: 0 });
    });
    define('save', () => {
      throw mkError('save() is not simulated by the host runtime (use Storage / E.setBootCode)');
    });

    b.builtinKeys = new Set(Object.getOwnPropertyNames(g));
    return b;
  }

  function estimateUsage(b) {
    const seen = new Set();
    let n = BASE_VARS + b.staticVars;
    for (const k of Object.getOwnPropertyNames(b.g)) {
      if (b.builtinKeys.has(k)) continue;
      const d = Object.getOwnPropertyDescriptor(b.g, k);
      n += 1 + (d && 'value' in d ? sizeOf(d.value, seen) : 0);
    }
    for (const t of b.sched.timersForMemory()) n += 3 + sizeOf(t.cb, seen) + (t.args ? sizeOf(t.args, seen) : 0);
    for (const o of [b.E, b.process, b.g.Serial1, b.g.Serial2, b.g.Serial3]) {
      const m = b.emitter.all(o);
      if (m) for (const l of m.values()) n += 1 + sizeOf(l, seen);
    }
    return n;
  }

  function powerCut() {
    // the flash refused an operation: the board lost power in the middle of it
    resets.push({ reason: 'powerCut', timeMs: clock.now() });
    stopCurrent();
    hardwareReset();
    state = 'off';
  }

  // ---------------------------------------------------------------- the device (host side)
  const storage = {
    /** { name: binaryString } of the live files */
    get files() {
      return jsf.snapshot();
    },
    read(name) {
      const f = jsf.readFile(name);
      return f === null ? undefined : Buffer.from(f).toString('latin1');
    },
    write(name, data) {
      jsf.writeFile(name, Array.from(Buffer.from(String(data), 'latin1')), 0, 0, 0);
    },
    stats: () => jsf.stats(),
    failAfterWrites: (n) => flash.failAfterWrites(n),
    get powerCut() {
      return flash.powerCut;
    },
    flash,
  };

  const device = {
    clock,
    log,
    errors,
    errorDetails,
    resets,
    storage,
    pins: pinHw.handle,
    i2c: i2cHw.handle,
    /** devices on a OneWire bus: attach(pin, { reset, writeBit, readBit }) (onewire.mjs) */
    oneWire: oneWireHw.handle,
    serial(name) {
      const u = uarts[name];
      if (!u) throw new Error(`no UART ${name} (Serial1..Serial3)`);
      return u.handle;
    },
    onLog(fn) {
      logListeners.add(fn);
      return () => logListeners.delete(fn);
    },
    /** runs `code` as the boot code (a fresh interpreter, like load() from Storage) */
    load(code, filename = 'bundle.js') {
      lastCode = String(code);
      lastFilename = filename;
      fromStorage = false;
      bootNow('load');
    },
    /** boots as the board does from then on (load() at the REPL, and every reset, power-on,
     *  E.reboot, watchdog or deep-sleep wake): .boot0….boot3, then .bootcde, read from Storage
     *  at each boot (so code written to Storage by the firmware runs at the next boot) */
    bootFromStorage() {
      fromStorage = true;
      bootNow('load');
    },
    /** hard reset (power cycle / reset button): no E.on('kill'), same flash, boot code runs again */
    reboot() {
      wakeupCause = 0;
      bootNow('reboot');
    },
    /** the supply is gone (a power chip switched off, the battery pulled): the firmware stops
     *  where it is, pins float, RAM is lost; flash and the RTC stay. Nothing runs until powerOn(). */
    powerOff() {
      if (pendingBoot !== null) clock.clearTimeout(pendingBoot);
      pendingBoot = null;
      resets.push({ reason: 'powerOff', timeMs: clock.now() });
      stopCurrent();
      hardwareReset();
      state = 'off';
    },
    /** the supply is back: a cold boot, the boot code runs again */
    powerOn() {
      if (state !== 'off') return;
      resets.push({ reason: 'powerOn', timeMs: clock.now() });
      wakeupCause = 0;
      boot('powerOn');
    },
    /** evaluates JS in the running firmware's global scope (like the REPL); its exceptions are thrown to the caller */
    eval(code) {
      if (!cur) throw new Error('device is not running');
      const b = cur;
      try {
        return vm.runInContext(code, b.ctx, { filename: 'repl' });
      } catch (e) {
        if (e instanceof Halt) return undefined;
        if (e instanceof PowerCut) {
          powerCut();
          return undefined;
        }
        throw e; // the caller sees the firmware's exception (the REPL would print "Uncaught ...")
      } finally {
        if (!b.dead) b.sched.afterJs();
      }
    },
    get state() {
      return state;
    },
    get global() {
      return cur ? cur.g : undefined;
    },
    get timeSecs() {
      return (clock.now() + rtcOffsetMs) / 1000;
    },
    get pendingTimers() {
      return cur ? cur.sched.timerCount : 0;
    },
  };
  return device;
}
