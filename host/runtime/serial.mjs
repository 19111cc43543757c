// The ESP32's UARTs as seen by Espruino (src/jswrap_serial.c, src/jsserial.c,
// targets/esp32/jshardwareUart.c) and by the parts wired to them (the host handle).
//
// RX: bytes written by the outside arrive at the baud rate (start + data + parity + stop bits per
// byte) and are handed to the firmware in chunks, like the ESP32 UART driver: a chunk closes when it
// reaches `uartChunk` bytes (the RX FIFO "full" threshold, 120 by default in ESP-IDF) or when the
// line has been idle for `idleBytes` character times (the RX timeout, 10 by default). Chunks that
// reach Espruino before the next idle pass are concatenated into one 'data' string, as
// jsiHandleIOEventForSerial does. Bytes arriving while the UART is not initialised are lost
// (pollSerialDevices only reads Serial2/3 once set up).
// TX: each write() is delivered to onTx listeners as one binary string when its last byte has left
// the wire at the configured baud rate (writes queue behind each other).

const DEFAULT_BAUD = 9600; // DEFAULT_BAUD_RATE, jshUSARTInitInfo (jshardware_common.c:21)
const STREAM_MAX_BUFFER_SIZE = 512; // jswrap_stream.h:21

export function createUart({ clock, name, defaultPins, uartChunk = 120, idleBytes = 10, console: isConsole = false }) {
  let config = null; // { baud, rx, tx, bytesize, parity, stopbits, implicit }
  const txListeners = new Set();
  let txFreeAt = 0;
  let rxFreeAt = 0;
  let open = null; // the chunk being filled: { bytes: [], lastAt, timer }
  let sink = null; // firmware side, set per boot: (binaryString) => void

  const bitsPerByte = () => {
    const c = config || { bytesize: 8, parity: 0, stopbits: 1 };
    return 1 + (c.bytesize || 8) + (c.parity ? 1 : 0) + (c.stopbits || 1);
  };
  const byteMs = () => (bitsPerByte() * 1000) / ((config && config.baud) || DEFAULT_BAUD);

  function deliver(bytes) {
    if (!config || !sink) return; // UART driver not installed: data is lost
    sink(String.fromCharCode.apply(null, bytes));
  }

  function closeOpen() {
    const c = open;
    open = null;
    return c;
  }

  function rxWrite(data) {
    const s = String(data);
    const bm = byteMs();
    const idleMs = idleBytes * bm;
    let t = Math.max(clock.now(), rxFreeAt);
    for (let i = 0; i < s.length; i++) {
      t += bm;
      if (open && t - open.lastAt > idleMs) closeOpen(); // its idle timer is already set
      if (!open) open = { bytes: [], lastAt: t, timer: null };
      open.bytes.push(s.charCodeAt(i) & 255);
      open.lastAt = t;
      if (open.bytes.length >= uartChunk) {
        const c = closeOpen();
        if (c.timer !== null) clock.clearTimeout(c.timer);
        clock.setTimeout(() => deliver(c.bytes), t - clock.now());
      }
    }
    rxFreeAt = t;
    if (open) {
      const c = open;
      if (c.timer !== null) clock.clearTimeout(c.timer);
      c.timer = clock.setTimeout(
        () => {
          if (open === c) open = null;
          deliver(c.bytes);
        },
        c.lastAt + idleMs - clock.now(),
      );
    }
  }

  function transmit(str) {
    if (!str.length) return;
    const done = Math.max(clock.now(), txFreeAt) + str.length * byteMs();
    txFreeAt = done;
    clock.setTimeout(() => {
      for (const fn of [...txListeners]) fn(str);
    }, done - clock.now());
  }

  const hw = {
    name,
    isConsole,
    get config() {
      return config;
    },
    setup(baud, opts) {
      config = {
        baud: baud > 0 ? baud : DEFAULT_BAUD,
        rx: opts.rx === undefined ? defaultPins.rx : opts.rx,
        tx: opts.tx === undefined ? defaultPins.tx : opts.tx,
        bytesize: opts.bytesize || 8,
        parity: opts.parity || 0,
        stopbits: opts.stopbits || 1,
        flow: opts.flow,
        implicit: !!opts.implicit,
      };
    },
    unsetup() {
      if (!isConsole) config = null;
    },
    transmit,
    setSink(fn) {
      sink = fn;
    },
    reset() {
      // chip reset: the driver is gone (Serial1 is re-initialised as the console at 115200)
      sink = null;
      config = isConsole ? { baud: 115200, rx: defaultPins.rx, tx: defaultPins.tx, bytesize: 8, parity: 0, stopbits: 1 } : null;
    },
    handle: {
      get setup() {
        return config ? { ...config } : null;
      },
      onTx(fn) {
        txListeners.add(fn);
        return () => txListeners.delete(fn);
      },
      rxWrite,
    },
  };
  hw.reset();
  return hw;
}

/**
 * Firmware side: the Serial class and Serial1..3 objects for one boot.
 * api: { R, bytes, emitter, sched, pinNumber, errorFlag, define }
 */
export function installSerial(g, uarts, api) {
  const { R, bytes, emitter, pinNumber, setErrorFlag } = api;
  const buffers = new WeakMap(); // Serial object -> buffered string (no 'data' listener)
  const hwOf = new WeakMap();

  const Serial = R.Function('return function Serial(){}')();
  const proto = Serial.prototype;
  const def = (k, fn) =>
    Object.defineProperty(proto, k, {
      value: R.Function('f', `return function ${k}(){ return f.apply(this, arguments); };`)(fn),
      writable: true,
      configurable: true,
    });

  function hwFor(obj) {
    return hwOf.get(obj);
  }
  function ensureInit(hw) {
    // jsserialGetSendFunction (jsserial.c:161): an uninitialised hardware UART is set up with
    // the defaults (9600 baud, default pins) on first write.
    if (!hw.config) hw.setup(DEFAULT_BAUD, { implicit: true });
  }

  def('setup', function (baud, options) {
    const hw = hwFor(this);
    if (!hw) return;
    const o = options && typeof options === 'object' ? options : {};
    const parity = o.parity === 'o' || o.parity === 'odd' || o.parity === 1 ? 1 : o.parity === 'e' || o.parity === 'even' || o.parity === 2 ? 2 : 0;
    hw.setup(Number(baud), {
      rx: o.rx === undefined ? undefined : pinNumber(o.rx),
      tx: o.tx === undefined ? undefined : pinNumber(o.tx),
      bytesize: o.bytesize,
      parity,
      stopbits: o.stopbits,
      flow: o.flow,
    });
  });
  def('unsetup', function () {
    const hw = hwFor(this);
    if (hw) hw.unsetup();
  });
  def('write', function () {
    const hw = hwFor(this);
    if (!hw) return;
    const s = bytes.toBinaryString(...arguments);
    ensureInit(hw);
    hw.transmit(s);
  });
  const printTo = (self, v, nl) => {
    const hw = hwFor(self);
    if (!hw) return;
    ensureInit(hw);
    hw.transmit(String(v).replace(/[^\x00-\xff]/g, (c) => String.fromCharCode(c.charCodeAt(0) & 255)) + (nl ? '\r\n' : ''));
  };
  def('print', function (v) {
    printTo(this, v, false);
  });
  def('println', function (v) {
    printTo(this, v, true);
  });
  def('available', function () {
    return (buffers.get(this) || '').length;
  });
  def('read', function (chars) {
    const buf = buffers.get(this) || '';
    const n = Number(chars) || 0;
    if (n <= 0 || n >= buf.length) {
      buffers.delete(this);
      return buf;
    }
    buffers.set(this, buf.slice(n));
    return buf.slice(0, n);
  });
  def('inject', function () {
    const hw = hwFor(this);
    if (hw) pushData(this, bytes.toBinaryString(...arguments));
  });
  def('isConnected', function () {
    const hw = hwFor(this);
    return !!(hw && hw.config);
  });
  def('flush', function () {});
  def('setConsole', function () {});

  // jswrap_stream_pushData (jswrap_stream.c): to the 'data' listeners, or into a 512-byte buffer
  function pushData(obj, str) {
    if (emitter.hasListeners(obj, 'data')) {
      emitter.emitNow(obj, 'data', [str]);
      return;
    }
    const buf = buffers.get(obj) || '';
    if (buf.length + str.length > STREAM_MAX_BUFFER_SIZE) setErrorFlag('BUFFER_FULL');
    buffers.set(obj, (buf + str).slice(0, STREAM_MAX_BUFFER_SIZE));
  }

  const objects = {};
  for (const [name, hw] of Object.entries(uarts)) {
    const obj = R.Object.create(proto);
    hwOf.set(obj, hw);
    objects[name] = obj;
    Object.defineProperty(g, name, { value: obj, writable: true, configurable: true });
    let pending = '';
    hw.setSink((str) => {
      if (hw.isConsole) return; // console input goes to the REPL, not to 'data' (not simulated)
      const first = pending === '';
      pending += str;
      if (first) {
        api.sched.pushIO(() => {
          const s = pending;
          pending = '';
          if (s) pushData(obj, s);
        });
      }
    });
  }
  Object.defineProperty(g, 'Serial', { value: Serial, writable: true, configurable: true });
  return { objects, pushData };
}
