// I2C1/I2C2 of the ESP32 (src/jswrap_spi_i2c.c, targets/esp32/jshardwareI2c.c).
// Errors are the ESP32 driver's checkError() texts (jshardwareI2c.c:~35-58):
//   no ACK from the address  -> "jshI2CWrite: slave doesn't ACK the transfer" (or jshI2CRead)
//   bus never set up         -> i2c_master_cmd_begin returns ESP_ERR_INVALID_STATE (0x103) on a
//                               port without a driver (ESP-IDF), reported by the default branch:
//                               "jshI2CWrite:, unknown error code 259"
// Outside devices attach with an address and optionally the pins they sit on; a device whose
// pins do not match the bus setup does not answer.
//
// STOP and repeated START, as Espruino passes them (src/jswrap_spi_i2c.c i2c_get_address: an
// address `{address, stop:false}` clears sendStop; jshI2CWrite/jshI2CRead in
// targets/esp32/jshardwareI2c.c queue i2c_master_start, the address byte and the data, and
// i2c_master_stop only `if ( sendStop )`). A transfer without STOP leaves the bus held, so the
// next transfer's i2c_master_start is a repeated START. Each device call gets
// { stop, restart }: stop = this transfer ends with a STOP; restart = it began with a repeated
// START right after this same device's previous transfer (no STOP, no other transfer between).
// A register read needs that for devices whose datasheet reads only with a restart (IP5306);
// readReg() is writeTo({address, stop:false}, reg) + readFrom(address, n) (jswrap_i2c_readReg).

export function createI2CHardware() {
  const devices = []; // { address, dev, sda, scl }
  // held: the address whose transfer ended without a STOP (the bus is still taken), else null
  const buses = { I2C1: { config: null, held: null }, I2C2: { config: null, held: null } };
  return {
    buses,
    devices,
    reset() {
      buses.I2C1.config = null;
      buses.I2C2.config = null;
      buses.I2C1.held = null;
      buses.I2C2.held = null;
    },
    find(bus, address) {
      const cfg = buses[bus].config;
      return devices.find((d) => d.address === address && (d.sda === undefined || d.sda === cfg.sda) && (d.scl === undefined || d.scl === cfg.scl));
    },
    handle: {
      /** dev: { write(bytes:number[], {stop, restart}), read(n, {stop, restart}) -> number[] }; opts: { sda, scl } */
      attach(address, dev, opts = {}) {
        const entry = { address: Number(address), dev, sda: opts.sda, scl: opts.scl };
        devices.push(entry);
        return () => {
          const i = devices.indexOf(entry);
          if (i >= 0) devices.splice(i, 1);
        };
      },
      bus(name) {
        const b = buses[name];
        return {
          get setup() {
            return b.config ? { ...b.config } : null;
          },
        };
      },
    },
  };
}

/** api: { R, bytes, errors, pinNumber, chip } */
export function installI2C(g, hw, api) {
  const { R, bytes, errors, pinNumber, chip } = api;
  const I2C = R.Function('return function I2C(){}')();
  const busOf = new WeakMap();

  function address(a) {
    if (a !== null && typeof a === 'object') return { addr: Number(a.address) | 0, stop: 'stop' in a ? !!a.stop : true };
    return { addr: Number(a) | 0, stop: true };
  }
  function transfer(bus, kind, addr, stop, run) {
    const b = hw.buses[bus];
    if (!b.config) throw errors.error(`jshI2C${kind}:, unknown error code 259`);
    const restart = b.held === (addr & 0x7f);
    const d = hw.find(bus, addr & 0x7f);
    // [inferred] a transfer nobody ACKs ends the held bus (the driver gives up the command link)
    b.held = null;
    if (!d) throw errors.error(`jshI2C${kind}: slave doesn't ACK the transfer`);
    const out = run(d.dev, { stop, restart });
    b.held = stop ? null : addr & 0x7f;
    return out;
  }
  function readBytes(bus, addr, n, stop) {
    if (!(n > 0)) return undefined;
    return transfer(bus, 'Read', addr, stop, (dev, o) => {
      const got = dev.read(n, o) || [];
      const out = [];
      for (let i = 0; i < n; i++) out.push((got[i] === undefined ? 0xff : Number(got[i])) & 255);
      return bytes.uint8(out);
    });
  }
  const m = {
    setup(options) {
      const bus = busOf.get(this);
      if (!bus) return;
      const o = options && typeof options === 'object' ? options : {};
      const def = chip.i2c[bus];
      hw.buses[bus].config = {
        sda: o.sda === undefined ? def.sda : pinNumber(o.sda),
        scl: o.scl === undefined ? def.scl : pinNumber(o.scl),
        bitrate: o.bitrate === undefined ? 100000 : Number(o.bitrate),
      };
    },
    writeTo(addrVar) {
      const bus = busOf.get(this);
      if (!bus) return;
      const { addr, stop } = address(addrVar);
      const data = bytes.toByteArray(...Array.prototype.slice.call(arguments, 1));
      if (!data.length) return; // jswrap_i2c_writeTo: nothing sent for no data
      transfer(bus, 'Write', addr, stop, (dev, o) => dev.write(data, o));
    },
    readFrom(addrVar, quantity) {
      const bus = busOf.get(this);
      if (!bus) return undefined;
      const { addr, stop } = address(addrVar);
      return readBytes(bus, addr, Number(quantity) | 0, stop);
    },
    readReg(addr, reg, quantity) {
      const bus = busOf.get(this);
      if (!bus) return undefined;
      const a = Number(addr) | 0;
      transfer(bus, 'Write', a, false, (dev, o) => dev.write([Number(reg) & 255], o));
      return readBytes(bus, a, Number(quantity) | 0, true);
    },
  };
  for (const [k, fn] of Object.entries(m)) {
    Object.defineProperty(I2C.prototype, k, {
      value: R.Function('f', `return function ${k}(){ return f.apply(this, arguments); };`)(fn),
      writable: true,
      configurable: true,
    });
  }
  for (const name of ['I2C1', 'I2C2']) {
    const o = R.Object.create(I2C.prototype);
    busOf.set(o, name);
    Object.defineProperty(g, name, { value: o, writable: true, configurable: true });
  }
  Object.defineProperty(g, 'I2C', { value: I2C, writable: true, configurable: true });
}
