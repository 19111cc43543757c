// GPIO of the simulated ESP32: the hardware (persists across boots, seen by outside parts) and the
// firmware's pin functions (src/jswrap_io.c, src/jspin.c, targets/esp32/jshardware.c).
//
// Levels: an output drives its register value; an input reads what an outside part drives
// (`drive`), else its pull (pull-up 1, pull-down/floating 0). Open-drain outputs release to the
// pull / outside driver when set to 1. D0 is NEGATED on the ESP32 board file (BTN1), so JS values
// are inverted there (jshardware.c jshPinSetValue/jshPinGetValue).
// Auto pin modes: digitalWrite makes a non-manual pin an output, digitalRead / setWatch make it an
// input (jspin.c jshPinOutput/jshPinInput) - reading back an output pin with digitalRead
// turns it into an input, as on the board.

export const CHIPS = {
  ESP32: {
    pinCount: 40, // boards/ESP32.py generate_pins(0,39)
    adc: new Set([32, 33, 34, 35, 36, 37, 38, 39]), // ADC1 only (ADC2 "not supported yet")
    negated: new Set([0]),
    buttons: new Set([0]), // BTN1: setWatch defaults edge 'rising', debounce 25 ms
    // jshardware.c jshPinDefaultPullup
    pullups: [0, 12, 13, 14, 15, 18, 19, 21, 22, 25, 26, 27, 34, 35, 36, 37, 38, 39],
    i2c: { I2C1: { sda: 21, scl: 22 }, I2C2: { sda: 17, scl: 16 } },
    uart: { Serial1: { tx: 1, rx: 3 }, Serial2: { tx: 4, rx: 5 }, Serial3: { tx: 17, rx: 16 } },
    board: 'ESP32',
  },
  ESP32S3: {
    pinCount: 49, // boards/ESP32S3_IDF4.py generate_pins(0,48)
    adc: new Set(), // no ADC functions in the S3 board file: analogRead gives NaN
    negated: new Set(),
    buttons: new Set(),
    pullups: [],
    i2c: { I2C1: { sda: 8, scl: 9 }, I2C2: { sda: 18, scl: 19 } },
    uart: { Serial1: { tx: 43, rx: 44 }, Serial2: { tx: 17, rx: 18 }, Serial3: { tx: 17, rx: 16 } },
    board: 'ESP32S3',
  },
};

const MODES = ['analog', 'input', 'input_pullup', 'input_pulldown', 'output', 'opendrain', 'opendrain_pullup', 'af_output', 'af_opendrain'];

export function createPinHardware({ clock, chip }) {
  const pins = [];
  const changeListeners = new Map(); // pin -> Set(fn)
  let sink = null; // firmware watch sink: (pin, physicalLevel, timeMs) => void
  const pulseTasks = new Map(); // pin -> [{ at, handle }]

  function valid(p) {
    return Number.isInteger(p) && p >= 0 && p < chip.pinCount;
  }
  function levelOf(s) {
    switch (s.mode) {
      case 'output':
      case 'af_output':
        return s.out;
      case 'opendrain':
      case 'af_opendrain':
        return s.out ? (s.ext !== undefined ? s.ext : 0) : 0;
      case 'opendrain_pullup':
        return s.out ? (s.ext !== undefined ? s.ext : 1) : 0;
      case 'input_pullup':
        return s.ext !== undefined ? s.ext : 1;
      default:
        return s.ext !== undefined ? s.ext : 0;
    }
  }
  function update(p, fn) {
    const s = pins[p];
    const before = s.level;
    fn(s);
    s.level = levelOf(s);
    if (s.level !== before) {
      const t = clock.now();
      const l = changeListeners.get(p);
      if (l) for (const f of [...l]) f(s.level, t);
      if (sink) sink(p, s.level, t);
    }
  }
  function reset() {
    for (const tasks of pulseTasks.values()) for (const t of tasks) clock.clearTimeout(t.handle);
    pulseTasks.clear();
    sink = null;
    for (let p = 0; p < chip.pinCount; p++) {
      if (!pins[p]) pins[p] = { mode: 'input', manual: false, out: 0, ext: undefined, analog: 0, level: 0 };
      update(p, (s) => {
        s.mode = chip.pullups.includes(p) ? 'input_pullup' : 'input';
        s.manual = false;
        s.out = 0;
      });
    }
  }
  reset();

  const hw = {
    chip,
    valid,
    state: (p) => pins[p],
    reset,
    setSink(fn) {
      sink = fn;
    },
    setMode(p, mode) {
      update(p, (s) => {
        s.mode = mode;
      });
    },
    setOut(p, physical) {
      update(p, (s) => {
        s.out = physical ? 1 : 0;
      });
    },
    pulseTasks,
    handle: {
      /** physical level now: 0/1 */
      level(pin) {
        const p = Number(pin);
        if (!valid(p)) throw new Error(`pins.level: no GPIO ${pin}`);
        return pins[p].level;
      },
      /** (level, timeMs) on every physical change; returns unsubscribe */
      onChange(pin, fn) {
        const p = Number(pin);
        if (!changeListeners.has(p)) changeListeners.set(p, new Set());
        changeListeners.get(p).add(fn);
        return () => changeListeners.get(p).delete(fn);
      },
      /** an outside part drives the pin (0/1), or releases it (null/undefined) */
      drive(pin, level) {
        const p = Number(pin);
        if (!valid(p)) throw new Error(`pins.drive: no GPIO ${pin}`);
        update(p, (s) => {
          s.ext = level === null || level === undefined ? undefined : level ? 1 : 0;
        });
      },
      /** volts-at-pin as a fraction of full scale, 0..1, for analogRead */
      setAnalog(pin, v) {
        const p = Number(pin);
        if (!valid(p)) throw new Error(`pins.setAnalog: no GPIO ${pin}`);
        pins[p].analog = Math.min(1, Math.max(0, Number(v)));
      },
      mode(pin) {
        return pins[Number(pin)].mode;
      },
    },
  };
  return hw;
}

/** Firmware side, per boot. api: { R, clock, sched, invoke, errors, nowSecs, define } */
export function installPins(g, hw, api) {
  const { R, clock, sched, invoke, errors, nowSecs } = api;
  const chip = hw.chip;

  // Pin objects: D0..Dn. On the board a Pin is a number-like value; here an object whose
  // valueOf is the GPIO number and whose toString is "D<n>".
  const Pin = R.Function('return function Pin(n){ this._n = n; }')();
  Object.defineProperty(Pin.prototype, '_n', { value: -1, writable: true, enumerable: false });
  const pinObjects = [];
  const isPin = (v) => v instanceof Pin;
  function pinNumber(v) {
    if (isPin(v)) return v._n;
    if (typeof v === 'number') return Number.isInteger(v) ? v : Math.trunc(v);
    if (typeof v === 'string') {
      const m = /^D(\d+)$/.exec(v);
      return m ? Number(m[1]) : undefined;
    }
    if (typeof v === 'boolean') return Number(v);
    return undefined;
  }
  function pinArg(v) {
    const p = pinNumber(v);
    if (!hw.valid(p)) throw errors.error('Invalid pin');
    return p;
  }
  const jsVal = (p) => hw.state(p).level ^ (chip.negated.has(p) ? 1 : 0);
  const physical = (p, v) => (v ? 1 : 0) ^ (chip.negated.has(p) ? 1 : 0);
  const isManual = (p) => hw.state(p).manual;

  function output(p, v) {
    hw.setOut(p, physical(p, v));
    if (!isManual(p)) hw.setMode(p, 'output');
  }
  function input(p) {
    if (!isManual(p)) hw.setMode(p, 'input');
    return jsVal(p);
  }

  const fns = {
    pinMode(pin, mode, automatic) {
      const p = pinArg(pin);
      if (typeof mode === 'string' && MODES.includes(mode)) {
        hw.state(p).manual = !automatic;
        hw.setMode(p, mode);
      } else {
        hw.state(p).manual = false;
        if (mode !== undefined && mode !== 'auto') throw errors.error('Unknown pin mode');
      }
    },
    getPinMode(pin) {
      return hw.state(pinArg(pin)).mode;
    },
    digitalWrite(pinVar, value) {
      let v = typeof value === 'boolean' ? (value ? 0xffffffff : 0) : Math.trunc(Number(value)) || 0;
      if (Array.isArray(pinVar)) {
        for (let i = pinVar.length - 1; i >= 0; i--) {
          output(pinArg(pinVar[i]), v & 1);
          v = v >>> 1;
        }
      } else if (pinVar !== null && typeof pinVar === 'object' && !isPin(pinVar)) {
        if (typeof pinVar.write !== 'function') throw errors.error('Invalid pin');
        pinVar.write(v);
      } else {
        output(pinArg(pinVar), v !== 0);
      }
    },
    digitalRead(pinVar) {
      if (Array.isArray(pinVar)) {
        let v = 0;
        for (const x of pinVar) v = (v << 1) | input(pinArg(x));
        return v;
      }
      if (pinVar !== null && typeof pinVar === 'object' && !isPin(pinVar)) {
        if (typeof pinVar.read !== 'function') throw errors.error('Invalid pin');
        return Math.trunc(Number(pinVar.read())) || 0;
      }
      return input(pinArg(pinVar));
    },
    // jswrap_io.c jswrap_io_digitalPulse: first edge now (unless pulses are still queued on the
    // pin, then it chains after them), each later edge at the running sum of the times, ending
    // at !value for a single time. Times of 0 would wait for the queue to empty (not simulated).
    digitalPulse(pin, value, times) {
      const p = pinNumber(pin);
      if (!hw.valid(p)) throw errors.error('Invalid pin');
      let v = !!value;
      const tasks = hw.pulseTasks.get(p) || [];
      hw.pulseTasks.set(p, tasks);
      const hasTimer = tasks.length > 0;
      let t = hasTimer ? tasks[tasks.length - 1].at : clock.now();
      if (!hasTimer) output(p, v);
      const schedule = (at, level) => {
        const task = { at, handle: null };
        task.handle = clock.setTimeout(() => {
          const i = tasks.indexOf(task);
          if (i >= 0) tasks.splice(i, 1);
          hw.setOut(p, physical(p, level)); // jstPinOutputAtTime: value only, mode unchanged
        }, at - clock.now());
        tasks.push(task);
      };
      if (typeof times === 'number' || typeof times === 'boolean' || isPin(times)) {
        const ms = Number(times);
        if (ms < 0 || Number.isNaN(ms)) throw errors.error('Pulse Time is less than 0 or not a number');
        if (ms > 0) schedule((t += ms), !v);
      } else if (times !== null && typeof times === 'object' && typeof times.length === 'number') {
        for (let i = 0; i < times.length; i++) {
          const ms = Number(times[i]);
          if (!Number.isNaN(ms) && ms > 0) schedule((t += ms), !v);
          v = !v;
        }
      } else {
        throw errors.error(`Expecting Number or Array, got ${times === undefined ? 'undefined' : typeof times}`);
      }
    },
    analogRead(pin) {
      const p = pinArg(pin);
      if (!chip.adc.has(p)) return NaN; // jshPinAnalog: JSH_ANALOG_NONE -> NaN
      const v = Math.min(4095, Math.floor(hw.state(p).analog * 4096)) / 4096; // 12-bit, /4096
      return chip.negated.has(p) ? 1 - v : v;
    },
    analogWrite(pin, value) {
      const p = pinArg(pin);
      output(p, Number(value) >= 0.5);
    },
  };

  // ------------------------------------------------------------------ setWatch / clearWatch
  let watches = []; // { id, pin, cb, recur, debounce, edge, state, lastTime, timeout }
  const shouldExec = (w, state) => w.edge === 0 || (w.edge > 0 && state) || (w.edge < 0 && !state);
  function runWatch(w, state, timeMs) {
    const time = nowSecs(timeMs);
    if (shouldExec(w, state)) {
      const data = new R.Object();
      data.state = state;
      data.lastTime = w.lastTime;
      data.time = time;
      data.pin = pinObjects[w.pin];
      invoke(w.cb, undefined, [data]);
      if (!w.recur) watches = watches.filter((x) => x !== w);
    }
    w.lastTime = time;
  }
  function onPinEvent(p, level, timeMs) {
    const state = !!(level ^ (chip.negated.has(p) ? 1 : 0));
    for (const w of watches.slice()) {
      if (w.pin !== p || !watches.includes(w)) continue;
      if (w.debounce <= 0) {
        w.state = state;
        runWatch(w, state, timeMs);
      } else if (w.timeout) {
        const timeoutTime = w.timeout.due;
        w.timeout.due = timeMs + w.debounce;
        w.timeout.state = state;
        if (timeMs > timeoutTime && state !== w.state) {
          // the timeout should have fired already: do it now with its old time
          w.state = state;
          sched.removeTimer(w.timeout);
          w.timeout = null;
          runWatch(w, state, timeoutTime - w.debounce);
        }
      } else if (state !== w.state) {
        const timer = {
          due: timeMs + w.debounce,
          intr: 0,
          state,
          watch: {
            fire(t) {
              w.timeout = null;
              const before = w.state;
              w.state = t.state;
              if (before !== t.state) runWatch(w, t.state, t.due - w.debounce);
            },
          },
        };
        w.timeout = timer;
        sched.addTimer(timer);
      }
    }
  }
  hw.setSink((p, level, t) => {
    if (!watches.some((w) => w.pin === p)) return;
    sched.pushIO(() => onPinEvent(p, level, t));
  });

  fns.setWatch = function (func, pin, opts) {
    const p = pinNumber(pin);
    if (!hw.valid(p)) {
      errors.log('ERROR: Invalid pin'); // jsError, not an exception (jswrap_io.c:766)
      return undefined;
    }
    let repeat = false;
    let debounce = 0;
    let edge = 0;
    if (chip.buttons.has(p)) {
      edge = 1;
      debounce = 25;
    }
    if (opts !== null && typeof opts === 'object') {
      if ('repeat' in opts) repeat = !!opts.repeat;
      if ('debounce' in opts) debounce = Number(opts.debounce);
      if (Number.isNaN(debounce) || debounce < 0) debounce = 0;
      const e = opts.edge;
      if (e !== undefined) {
        if (typeof e === 'number' || typeof e === 'boolean') edge = e > 0 ? 1 : e < 0 ? -1 : 0;
        else if (e === 'rising') edge = 1;
        else if (e === 'falling') edge = -1;
        else if (e === 'both') edge = 0;
        else throw errors.error("'edge' in setWatch should be 1, -1, 0, 'rising', 'falling' or 'both'", 'TypeError');
      }
    } else repeat = !!opts;
    if (typeof func !== 'function' && typeof func !== 'string') throw errors.error('Function or String not supplied!');
    const id = watches.length ? watches[watches.length - 1].id + 1 : 1;
    const state = !!input(p); // jshPinInput: makes a non-manual pin an input
    watches.push({ id, pin: p, cb: func, recur: repeat, debounce, edge, state, lastTime: undefined, timeout: null });
    return id;
  };
  fns.clearWatch = function () {
    if (arguments.length === 0) {
      for (const w of watches) if (w.timeout) sched.removeTimer(w.timeout);
      watches = [];
      return;
    }
    const id = arguments[0];
    if (id === undefined) throw errors.error('clearWatch(undefined) not allowed. Use clearWatch() instead');
    const w = watches.find((x) => String(x.id) === String(id));
    if (!w) throw errors.error(`Unknown Watch ${id}`);
    if (w.timeout) sched.removeTimer(w.timeout);
    watches = watches.filter((x) => x !== w);
  };

  for (const [name, fn] of Object.entries(fns)) api.define(name, fn);

  // Pin.prototype methods (jswrap_pin.c)
  const pm = {
    read() {
      return !!fns.digitalRead(this);
    },
    write(v) {
      fns.digitalWrite(this, v);
    },
    set() {
      fns.digitalWrite(this, 1);
    },
    reset() {
      fns.digitalWrite(this, 0);
    },
    toggle() {
      const v = !jsVal(this._n);
      fns.digitalWrite(this, v);
      return v;
    },
    mode(m) {
      fns.pinMode(this, m);
    },
    getMode() {
      return fns.getPinMode(this);
    },
    valueOf() {
      return this._n;
    },
    toString() {
      return 'D' + this._n;
    },
    toJSON() {
      return 'D' + this._n;
    },
  };
  for (const [k, fn] of Object.entries(pm)) {
    Object.defineProperty(Pin.prototype, k, {
      value: R.Function('f', `return function ${k}(){ return f.apply(this, arguments); };`)(fn),
      writable: true,
      configurable: true,
    });
  }
  for (let i = 0; i < chip.pinCount; i++) {
    const o = new Pin(i);
    pinObjects[i] = o;
    Object.defineProperty(g, 'D' + i, { value: o, writable: true, configurable: true });
  }
  Object.defineProperty(g, 'Pin', { value: Pin, writable: true, configurable: true });
  Object.defineProperty(g, 'HIGH', { value: 1, writable: true, configurable: true });
  Object.defineProperty(g, 'LOW', { value: 0, writable: true, configurable: true });
  Object.defineProperty(g, 'LED1', { value: chip.board === 'ESP32' ? pinObjects[2] : undefined, writable: true, configurable: true });
  Object.defineProperty(g, 'BTN1', { value: chip.board === 'ESP32' ? pinObjects[0] : undefined, writable: true, configurable: true });

  return { isPin, pinNumber, pinArg, watchCount: () => watches.length };
}
