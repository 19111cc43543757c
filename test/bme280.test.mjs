// BME280 driver (firmware/telemetry/bme280.ts) against the simulator (host/sim/i2c/bme280.mjs).
// Run: node --import tsx --test test/bme280.test.mjs
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { bme280Init, bme280Read } from '../firmware/telemetry/bme280.ts';
import { createBme280, packCalibration, rawFromEnvironment, DATASHEET_CALIB, DATASHEET_RAW, REG } from '../host/sim/i2c/bme280.mjs';
import { createClock } from '../host/runtime/clock.mjs';

describe('bme280.test.mjs', () => {
  /** Espruino-style I2C object over simulated devices: writeTo(addr, ...data), readFrom(addr, n). */
  function fakeI2c(...devs) {
    const at = new Map(devs.map((d) => [d.address, d]));
    const log = [];
    const dev = (addr) => {
      const d = at.get(addr);
      if (!d) throw new Error('I2C Error: no ACK from 0x' + addr.toString(16)); // wording of the host runtime may differ
      return d;
    };
    return {
      log,
      writeTo(addr, ...data) {
        const bytes = data.flatMap((x) => (typeof x === 'number' ? [x] : Array.from(x)));
        log.push(['w', addr, bytes, performance.now()]);
        dev(addr).write(bytes);
      },
      readFrom(addr, n) {
        log.push(['r', addr, n]);
        return new Uint8Array(dev(addr).read(n));
      },
    };
  }

  const readP = (s) => new Promise((resolve, reject) => bme280Read(s, (err, r) => (err ? reject(err) : resolve(r))));

  // Independent implementations of the datasheet formulas (BST-BME280-DS002), written apart from
  // the driver: §4.2.3 32-bit integer humidity (with the integer t_fine of §4.2.3) and the §8.1
  // double humidity.
  function tFineInt32(c, adcT) {
    const v1 = (((adcT >> 3) - (c.T1 << 1)) * c.T2) >> 11;
    const v2 = (((((adcT >> 4) - c.T1) * ((adcT >> 4) - c.T1)) >> 12) * c.T3) >> 14;
    return v1 + v2;
  }
  function humidityInt32(c, tFine, adcH) {
    // returns %RH as Q22.10 / 1024; every intermediate fits in int32, as in the datasheet
    let v = tFine - 76800;
    v =
      (((adcH << 14) - (c.H4 << 20) - c.H5 * v + 16384) >> 15) *
      (((((((v * c.H6) >> 10) * (((v * c.H3) >> 11) + 32768)) >> 10) + 2097152) * c.H2 + 8192) >> 14);
    v = v - (((((v >> 15) * (v >> 15)) >> 7) * c.H1) >> 4);
    v = v < 0 ? 0 : v > 419430400 ? 419430400 : v;
    return (v >>> 12) / 1024;
  }
  function humidityDouble(c, tFine, adcH) {
    let h = tFine - 76800.0;
    h = (adcH - (c.H4 * 64.0 + (c.H5 / 16384.0) * h)) * ((c.H2 / 65536.0) * (1.0 + (c.H6 / 67108864.0) * h * (1.0 + (c.H3 / 67108864.0) * h)));
    h = h * (1.0 - (c.H1 * h) / 524288.0);
    return Math.min(100, Math.max(0, h));
  }
  function tFineDouble(c, adcT) {
    const a = (adcT / 16384.0 - c.T1 / 1024.0) * c.T2;
    const b = (adcT / 131072.0 - c.T1 / 8192.0) ** 2 * c.T3;
    return a + b;
  }

  it('datasheet worked example: T = 25.08 °C, p = 100653.27 Pa; humidity per the formula', async () => {
    const sim = createBme280(); // datasheet calibration and raw values
    const s = bme280Init(fakeI2c(sim), 0x76);
    const r = await readP(s);
    assert.equal(r.t.toFixed(2), '25.08');
    assert.equal(r.p.toFixed(2), '100653.27');
    const c = DATASHEET_CALIB;
    const { adcT, adcH } = DATASHEET_RAW;
    assert.ok(Math.abs(r.h - humidityDouble(c, tFineDouble(c, adcT), adcH)) < 1e-9, `h ${r.h}`);
    const hInt = humidityInt32(c, tFineInt32(c, adcT), adcH);
    assert.ok(Math.abs(r.h - hInt) < 0.01, `double ${r.h} vs int32 ${hInt}`);
    assert.ok(r.h > 54 && r.h < 55, `h ${r.h}`);
    assert.equal(sim.measurements, 1);
  });

  it('driver writes: sleep + filter off at init, then ctrl_hum x1 and forced ctrl_meas 0x25', async () => {
    const sim = createBme280();
    const bus = fakeI2c(sim);
    const s = bme280Init(bus, 0x76);
    assert.equal(sim.peek(REG.CONFIG) & 0x1c, 0, 'IIR filter off');
    const writes = () => bus.log.filter((e) => e[0] === 'w' && e[2].length === 2).map((e) => e[2]);
    assert.deepEqual(writes(), [
      [0xf4, 0x00],
      [0xf5, 0x00],
    ]);
    bus.log.length = 0;
    await readP(s);
    assert.deepEqual(writes(), [
      [0xf2, 0x01],
      [0xf4, 0x25],
    ]);
    assert.equal(sim.mode(), 0, 'forced mode ended in sleep');
  });

  it('real sensor calibration (12-bit dig_H4/H5 split) and another independent result', async () => {
    // KKoovalsky/BME280Driver tests/test_conversion.cpp, "room-like conditions": a real dump,
    // expected there 20.56 °C, 98456 Pa, 54.42 %RH. Calibration given as bytes, decoded here.
    const lo = [
      0x32, 0x70, 0xd0, 0x68, 0x32, 0x00, 0x3a, 0x8e, 0x1b, 0xd6, 0xd0, 0x0b, 0x15, 0x24, 0x64, 0xff, 0xf9, 0xff, 0x0c, 0x30, 0x20, 0xd1, 0x88, 0x13, 0x00,
      0x4b,
    ];
    const hi = [0x4c, 0x01, 0x00, 0x19, 0x20, 0x03, 0x1e];
    const s16 = (i) => ((lo[i] | (lo[i + 1] << 8)) << 16) >> 16;
    const calib = {
      T1: lo[0] | (lo[1] << 8),
      T2: s16(2),
      T3: s16(4),
      P1: lo[6] | (lo[7] << 8),
      P2: s16(8),
      P3: s16(10),
      P4: s16(12),
      P5: s16(14),
      P6: s16(16),
      P7: s16(18),
      P8: s16(20),
      P9: s16(22),
      H1: 75,
      H2: 332,
      H3: 0,
      H4: 400,
      H5: 50,
      H6: 30,
    };
    const packed = packCalibration(calib);
    assert.deepEqual(packed.lo, lo, 'sim packs 0x88..0xA1 like the real chip');
    assert.deepEqual(packed.hi, hi, 'sim packs 0xE1..0xE7 like the real chip');
    const d = [0x4e, 0xba, 0xc0, 0x7f, 0xe3, 0x00, 0x8e, 0x1a];
    const raw = { adcP: (d[0] << 12) | (d[1] << 4) | (d[2] >> 4), adcT: (d[3] << 12) | (d[4] << 4) | (d[5] >> 4), adcH: (d[6] << 8) | d[7] };
    const sim = createBme280({ address: 0x77, calib, raw });
    const r = await readP(bme280Init(fakeI2c(sim), 0x77));
    assert.equal(r.t.toFixed(2), '20.56');
    assert.ok(Math.abs(r.p - 98456.19) < 0.1, `p ${r.p}`);
    assert.equal(r.h.toFixed(2), '54.42');
    assert.ok(Math.abs(r.h - humidityInt32(calib, tFineInt32(calib, raw.adcT), raw.adcH)) < 0.01);
  });

  it('environment given to the simulator comes back through the driver', async () => {
    const env = { temperatureC: -7.25, pressurePa: 87654.3, humidity: 83.4 };
    const sim = createBme280({ env });
    const r = await readP(bme280Init(fakeI2c(sim)));
    assert.ok(Math.abs(r.t - env.temperatureC) < 0.01, `t ${r.t}`);
    assert.ok(Math.abs(r.p - env.pressurePa) < 2, `p ${r.p}`);
    assert.ok(Math.abs(r.h - env.humidity) < 0.05, `h ${r.h}`);
    // a change between reads is seen by the next forced measurement
    sim.set({ env: { temperatureC: 30, pressurePa: 101325, humidity: 20 } });
    const s = bme280Init(fakeI2c(sim));
    const r2 = await readP(s);
    assert.ok(Math.abs(r2.t - 30) < 0.01 && Math.abs(r2.p - 101325) < 2 && Math.abs(r2.h - 20) < 0.05, JSON.stringify(r2));
    // inverting the worked example's exact results gives its raw values back
    assert.deepEqual(rawFromEnvironment(DATASHEET_CALIB, { temperatureC: 25.0824779, pressurePa: 100653.2668, humidity: 54.6106 }), DATASHEET_RAW);
  });

  it('with a clock: status "measuring" during the conversion, driver polls until it ends', async () => {
    const clock = createClock({ mode: 'real' });
    // a slow sensor: every sim timer 2× longer (18.6 ms conversion), so the driver's first status
    // read at 10 ms finds bit 3 set and must poll
    const slow = { ...clock, setTimeout: (fn, ms) => clock.setTimeout(fn, ms * 2) };
    const sim = createBme280({ clock: slow });
    const bus = fakeI2c(sim);
    const s = bme280Init(bus);
    const t0 = performance.now();
    const p = readP(s);
    assert.equal(sim.peek(REG.STATUS) & 0x08, 0x08, 'measuring right after the forced write');
    assert.equal(sim.peek(REG.DATA + 3), 0x80, 'data still the reset value');
    const r = await p;
    assert.ok(performance.now() - t0 >= 18, 'waited for the conversion');
    assert.equal(r.t.toFixed(2), '25.08');
    const statusReads = bus.log.filter((e) => e[0] === 'w' && e[2][0] === REG.STATUS && e[2].length === 1);
    assert.ok(statusReads.length >= 2, `polled status ${statusReads.length}×`);
    // the first look comes after the nominal conversion time (9.3 ms max), not in a busy loop
    assert.ok(statusReads[0][3] - t0 >= 9.3, `first status read after ${statusReads[0][3] - t0} ms`);
    assert.equal(sim.mode(), 0);
  });

  it('wrong chip id: clear error naming address and id', () => {
    const bmp = createBme280({ chipId: 0x58 });
    assert.throws(() => bme280Init(fakeI2c(bmp), 0x76), {
      message: 'BME280 not found at 0x76: chip id 0x58 (that is a BMP280)',
    });
    const other = createBme280({ chipId: 0x33, address: 0x77 });
    assert.throws(() => bme280Init(fakeI2c(other), 0x77), { message: 'BME280 not found at 0x77: chip id 0x33' });
  });

  it('missing device: "no device at 0x76"', () => {
    const sim77 = createBme280({ address: 0x77 });
    assert.throws(() => bme280Init(fakeI2c(sim77), 0x76), /^Error: no device at 0x76 \(/);
    assert.throws(
      () => bme280Init(fakeI2c(), 0x76),
      (e) => e.message.startsWith('no device at 0x76'),
    );
    // a floating bus reading 0xff is no device either
    const ff = { address: 0x76, write() {}, read: (n) => new Array(n).fill(0xff) };
    assert.throws(() => bme280Init(fakeI2c(ff), 0x76), { message: 'no device at 0x76 (chip id 0xff)' });
  });

  it('device lost after init: error through the callback, not a throw', async () => {
    const sim = createBme280();
    const bus = fakeI2c(sim);
    const s = bme280Init(bus);
    bus.writeTo = () => {
      throw new Error('I2C Error: no ACK');
    };
    let sync = true;
    const p = readP(s).finally(() => assert.equal(sync, false, 'callback must not run synchronously'));
    sync = false;
    await assert.rejects(p, /^Error: BME280 at 0x76: I2C Error: no ACK/);
  });

  // ---- the simulator on its own ---------------------------------------------------------------

  it('sim: register map, reset, pair writes, burst reads, skipped measurements', () => {
    const sim = createBme280();
    const rd = (reg, n) => (sim.write([reg]), sim.read(n));
    assert.deepEqual(rd(REG.ID, 1), [0x60]);
    assert.deepEqual(rd(REG.DATA, 8), [0x80, 0, 0, 0x80, 0, 0, 0x80, 0], 'reset values');
    const cal = packCalibration(DATASHEET_CALIB);
    assert.deepEqual(rd(0x88, 26), cal.lo);
    assert.deepEqual(rd(0xe1, 7), cal.hi);
    assert.deepEqual(cal.lo.slice(0, 2), [27504 & 0xff, 27504 >> 8], 'dig_T1 little-endian');
    // E4/E5/E6: H4 = 400 = 0x190 → E4 0x19, E5 low 0x0; H5 = 50 = 0x032 → E5 high 0x2, E6 0x03
    assert.deepEqual(cal.hi.slice(3, 6), [0x19, 0x20, 0x03]);
    // reads continue from where the last one stopped
    sim.write([REG.CTRL_HUM]);
    sim.read(1);
    assert.deepEqual(sim.read(2), [0, 0], 'status, ctrl_meas');
    // pair writes: ctrl_hum then ctrl_meas in one transaction; humidity skipped → 0x8000
    sim.write([REG.CTRL_HUM, 0, REG.CTRL_MEAS, 0x25]);
    const d = rd(REG.DATA, 8);
    assert.equal((d[0] << 12) | (d[1] << 4) | (d[2] >> 4), DATASHEET_RAW.adcP);
    assert.equal((d[3] << 12) | (d[4] << 4) | (d[5] >> 4), DATASHEET_RAW.adcT);
    assert.deepEqual(d.slice(6), [0x80, 0x00], 'humidity skipped');
    assert.equal(sim.mode(), 0);
    // ctrl_hum alone changes nothing until ctrl_meas is written
    sim.write([REG.CTRL_HUM, 1]);
    assert.deepEqual(rd(REG.DATA + 6, 2), [0x80, 0x00]);
    sim.write([REG.CTRL_MEAS, 0x25]);
    assert.equal((rd(REG.DATA + 6, 2)[0] << 8) | rd(REG.DATA + 7, 1)[0], DATASHEET_RAW.adcH);
    // read-only registers ignore writes; soft reset restores defaults
    sim.write([REG.ID, 0x12]);
    assert.deepEqual(rd(REG.ID, 1), [0x60]);
    sim.write([REG.RESET, 0xb6]);
    assert.deepEqual(rd(REG.CTRL_HUM, 4), [0, 0, 0, 0]);
    assert.deepEqual(rd(REG.DATA, 3), [0x80, 0, 0]);
    assert.deepEqual(rd(REG.RESET, 1), [0]);
  });

  it('sim: normal mode measures periodically on the clock, IIR filter smooths T and P', async () => {
    const clock = createClock({ mode: 'virtual' });
    const sim = createBme280({ clock });
    sim.write([REG.CONFIG, (6 << 5) | (1 << 2)]); // t_sb 10 ms, filter coefficient 2
    sim.write([REG.CTRL_HUM, 1]); // with humidity: 9.3 ms conversion
    sim.write([REG.CTRL_MEAS, 0x27]); // x1 x1, normal
    await clock.runFor(9);
    assert.equal(sim.measurements, 0);
    assert.equal(sim.peek(REG.STATUS) & 8, 8);
    await clock.runFor(1);
    assert.equal(sim.measurements, 1);
    await clock.runFor(3 * (9.3 + 10));
    assert.equal(sim.measurements, 4);
    const adcT = () => (sim.peek(REG.DATA + 3) << 12) | (sim.peek(REG.DATA + 4) << 4) | (sim.peek(REG.DATA + 5) >> 4);
    assert.equal(adcT(), DATASHEET_RAW.adcT);
    sim.set({ raw: { adcT: DATASHEET_RAW.adcT + 1000 } });
    await clock.runFor(19.3);
    assert.equal(adcT(), DATASHEET_RAW.adcT + 500, 'coefficient 2: halfway after one sample');
    sim.write([REG.CTRL_MEAS, 0x24]); // sleep
    const n = sim.measurements;
    await clock.runFor(200);
    assert.equal(sim.measurements, n);
  });
});
