// Espruino's software OneWire master (src/jswrap_onewire.c), on the simulated GPIO.
//
// On the board each call bit-bangs the pin with busy-wait delays (OneWireReset: 500 µs low,
// release, sample at 80 µs, 420 µs more; a write slot 65 µs low for 0 / 10 µs for 1; a read slot
// 3 µs low, sample at 13 µs) and returns when done: JS does not run meanwhile. Here the same
// calls are made slot by slot on the devices wired to that pin, and virtual time stands still
// during the call as JS time does (a 9-byte read is ~5 ms on the board).
//
// A device on the bus (host/sim/sensors/ds18b20.mjs): { reset(timeMs) -> presence (bool),
// writeBit(bit, timeMs), readBit(timeMs) -> 0|1 }. Read slots are wired-AND: any device sending 0
// pulls the line low. With no device the pull-up answers 1 to every read and no presence pulse.
//
// What each call does, as jswrap_onewire.c:
//   new OneWire(pin)      an object with a `pin` child
//   reset()               OneWireReset: true when a device pulled the line low (presence);
//                         false (not undefined) for an invalid pin
//   select(rom)           rom must be a 16-character string, else TypeError "Invalid OneWire
//                         device address <rom>"; reset, 0x55, then the 64 ROM bits, the string's
//                         hex pairs as bytes 0..7, least significant bit first
//   skip()                writes 0xCC only (no reset: the caller resets first)
//   write(data, power)    every byte of data (a number, array, string...: jsvIterateCallback),
//                         8 bits each LSB first; power: the pin is left driven high (a strong
//                         pull-up for parasite-powered parts), else made an input
//   read()                one byte (8 read slots, LSB first) as a number; read(n) a Uint8Array(n)
//   search(cmd)           Maxim AN187's search with command cmd (0 or absent → 0xF0), every ROM
//                         found as 16 lowercase hex characters (itoch, src/jsutils.c), byte 0
//                         (the family code) first; ROMs whose byte 0 is 0 are not listed

export function createOneWireHardware() {
  const buses = new Map(); // pin -> [device]
  return {
    devicesOn: (pin) => buses.get(pin) || [],
    handle: {
      /** wires a device to the GPIO; returns detach */
      attach(pin, dev) {
        const p = Number(pin);
        if (!buses.has(p)) buses.set(p, []);
        buses.get(p).push(dev);
        return () => {
          const l = buses.get(p);
          const i = l.indexOf(dev);
          if (i >= 0) l.splice(i, 1);
        };
      },
    },
  };
}

/** api: { R, bytes, errors, pinNumber, pinHw, clock } */
export function installOneWire(g, hw, api) {
  const { R, bytes, errors, pinNumber, pinHw, clock } = api;
  const OneWire = R.Function('return function OneWire(pin){}')();
  const validPin = (p) => pinHw.valid(p);
  const pinOf = (o) => pinNumber(o.pin);

  function opendrain(pin) {
    pinHw.setMode(pin, 'opendrain_pullup'); // JSHPINSTATE_GPIO_OUT_OPENDRAIN_PULLUP
  }
  function reset(pin) {
    opendrain(pin);
    let present = false;
    for (const d of hw.devicesOn(pin)) if (d.reset(clock.now())) present = true;
    return present;
  }
  function writeBits(pin, bits, data) {
    opendrain(pin);
    for (let i = 0; i < bits; i++) {
      const bit = Number((BigInt(data) >> BigInt(i)) & 1n);
      for (const d of hw.devicesOn(pin)) d.writeBit(bit, clock.now());
    }
  }
  function readBits(pin, bits) {
    opendrain(pin);
    let result = 0;
    for (let i = 0; i < bits; i++) {
      let line = 1;
      for (const d of hw.devicesOn(pin)) if (!d.readBit(clock.now())) line = 0;
      if (line) result |= 1 << i;
    }
    return result;
  }

  const m = {
    reset() {
      const p = pinOf(this);
      if (!validPin(p)) return false;
      return reset(p);
    },
    select(rom) {
      const p = pinOf(this);
      if (!validPin(p)) return;
      if (typeof rom !== 'string' || rom.length !== 16) throw errors.error(`Invalid OneWire device address ${JSON.stringify(rom)}`, 'TypeError');
      reset(p);
      let romdata = 0n;
      for (let i = 0; i < 8; i++) romdata |= BigInt(parseInt(rom.substr(i * 2, 2), 16) & 255) << BigInt(i * 8);
      writeBits(p, 8, 0x55);
      writeBits(p, 64, romdata);
    },
    skip() {
      const p = pinOf(this);
      if (!validPin(p)) return;
      writeBits(p, 8, 0xcc);
    },
    write(data, power) {
      const p = pinOf(this);
      if (!validPin(p)) return;
      for (const b of bytes.toByteArray(data)) writeBits(p, 8, b);
      if (power) {
        pinHw.setOut(p, 1);
        pinHw.setMode(p, 'output');
      } else {
        pinHw.setMode(p, 'input');
        pinHw.setOut(p, 1);
      }
    },
    read(count) {
      const p = pinOf(this);
      if (!validPin(p)) return undefined;
      if (typeof count === 'number' || (typeof count === 'string' && count !== '' && !isNaN(Number(count)))) {
        const n = Math.max(0, Math.trunc(Number(count)));
        const out = [];
        for (let i = 0; i < n; i++) out.push(readBits(p, 8));
        return bytes.uint8(out);
      }
      return readBits(p, 8);
    },
    search(command) {
      const p = pinOf(this);
      if (!validPin(p)) return undefined;
      const array = new R.Array();
      let cmd = Number(command) | 0;
      if (cmd <= 0 || cmd > 255) cmd = 0xf0;
      const ROM = [0, 0, 0, 0, 0, 0, 0, 0];
      let lastDiscrepancy = 0;
      let lastDeviceFlag = false;
      let searchResult = true;
      while (searchResult) {
        let idBitNumber = 1;
        let lastZero = 0;
        let romByte = 0;
        let mask = 1;
        searchResult = false;
        if (!lastDeviceFlag) {
          if (!reset(p)) return array;
          writeBits(p, 8, cmd);
          do {
            const idBit = readBits(p, 1);
            const cmpBit = readBits(p, 1);
            if (idBit === 1 && cmpBit === 1) break;
            let dir;
            if (idBit !== cmpBit) dir = idBit;
            else {
              if (idBitNumber < lastDiscrepancy) dir = (ROM[romByte] & mask) > 0 ? 1 : 0;
              else dir = idBitNumber === lastDiscrepancy ? 1 : 0;
              if (dir === 0) lastZero = idBitNumber;
            }
            if (dir === 1) ROM[romByte] |= mask;
            else ROM[romByte] &= ~mask & 255;
            writeBits(p, 1, dir);
            idBitNumber++;
            mask = (mask << 1) & 255;
            if (mask === 0) {
              romByte++;
              mask = 1;
            }
          } while (romByte < 8);
          if (!(idBitNumber < 65)) {
            lastDiscrepancy = lastZero;
            if (lastDiscrepancy === 0) lastDeviceFlag = true;
            searchResult = true;
          }
        }
        if (!searchResult || !ROM[0]) {
          lastDiscrepancy = 0;
          lastDeviceFlag = false;
          searchResult = false;
        }
        if (searchResult) array.push(ROM.map((b) => (b >> 4).toString(16) + (b & 15).toString(16)).join(''));
      }
      return array;
    },
  };
  for (const [k, fn] of Object.entries(m)) {
    Object.defineProperty(OneWire.prototype, k, {
      value: R.Function('f', `return function ${k}(){ return f.apply(this, arguments); };`)(fn),
      writable: true,
      configurable: true,
    });
  }
  // jswrap_onewire_constructor: jspNewObject(0, "OneWire") with a `pin` child; called without
  // `new` it is still a constructor call in Espruino, so both give the object
  const ctor = R.Function(
    'proto',
    'pinOf',
    'return function OneWire(pin){ var o = Object.create(proto); o.pin = pinOf(pin); return o; };',
  )(OneWire.prototype, (pin) => {
    const n = pinNumber(pin);
    return pinHw.valid(n) ? g['D' + n] : undefined;
  });
  ctor.prototype = OneWire.prototype;
  Object.defineProperty(OneWire.prototype, 'constructor', { value: ctor, writable: true, configurable: true });
  Object.defineProperty(g, 'OneWire', { value: ctor, writable: true, configurable: true });
}
