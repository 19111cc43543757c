// I2C1/I2C2 of the ESP32 (src/jswrap_spi_i2c.c, targets/esp32/jshardwareI2c.c).
// Errors are the ESP32 driver's checkError() texts (jshardwareI2c.c:~35-58):
//   no ACK from the address  -> "jshI2CWrite: slave doesn't ACK the transfer" (or jshI2CRead)
//   bus never set up         -> i2c_master_cmd_begin returns ESP_ERR_INVALID_STATE (0x103) on a
//                               port without a driver (ESP-IDF), reported by the default branch:
//                               "jshI2CWrite:, unknown error code 259"
// Outside devices attach with an address and optionally the pins they sit on; a device whose
// pins do not match the bus setup does not answer.

export function createI2CHardware() {
  const devices = []; // { address, dev, sda, scl }
  const buses = { I2C1: { config: null }, I2C2: { config: null } };
  return {
    buses,
    devices,
    reset() {
      buses.I2C1.config = null;
      buses.I2C2.config = null;
    },
    find(bus, address) {
      const cfg = buses[bus].config;
      return devices.find(
        (d) => d.address === address && (d.sda === undefined || d.sda === cfg.sda) && (d.scl === undefined || d.scl === cfg.scl),
      );
    },
    handle: {
      /** dev: { write(bytes:number[], {stop}), read(n, {stop}) -> number[] }; opts: { sda, scl } */
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
        return { get setup() { return b.config ? { ...b.config } : null; } };
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
  function transfer(bus, kind, addr, run) {
    const b = hw.buses[bus];
    if (!b.config) throw errors.error(`jshI2C${kind}:, unknown error code 259`);
    const d = hw.find(bus, addr & 0x7f);
    if (!d) throw errors.error(`jshI2C${kind}: slave doesn't ACK the transfer`);
    return run(d.dev);
  }
  function readBytes(bus, addr, n, stop) {
    if (!(n > 0)) return undefined;
    return transfer(bus, 'Read', addr, (dev) => {
      const got = dev.read(n, { stop }) || [];
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
      transfer(bus, 'Write', addr, (dev) => dev.write(data, { stop }));
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
      transfer(bus, 'Write', a, (dev) => dev.write([Number(reg) & 255], { stop: false }));
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
