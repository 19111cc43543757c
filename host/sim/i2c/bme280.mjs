// BME280 on the simulated I2C bus (host only). Register map, calibration layout and compensation
// follow the Bosch BME280 datasheet BST-BME280-DS002:
//   §5.3 / Table 18 memory map; §4.2.2 Table 16 calibration words; §8.1 double-precision
//   compensation (used here for environment → raw inversion); §6.2 I2C protocol;
//   §9.1 (Appendix B) measurement time.
// Device interface (host/README.md): dev.write(bytes: number[]), dev.read(n) → number[].
//
// I2C behaviour (datasheet §6.2.1/§6.2.2):
//   - write [reg]: sets the register pointer (the first half of a register read);
//   - write [reg, data, reg2, data2, …]: register/data *pairs*, as the datasheet describes for
//     multi-byte writes (the chip does not auto-increment on writes); a trailing odd byte sets the
//     pointer. For the usual two-byte write this is the same as "write from the pointer".
//   - read(n): n bytes from the pointer, auto-incrementing (burst read).
//   - STOP or repeated START between the two halves makes no difference (§6.2.2: "first the
//     register address must be sent in write mode … Then either a stop or a repeated start
//     condition must be generated"), so the runtime's {stop, restart} flags are not looked at.
// Measurement: a write to ctrl_meas (0xF4) with mode 01/10 (forced) runs one conversion and then
// returns to sleep (mode reads back 00); mode 11 (normal) converts periodically (t_standby from
// config) when a clock is given. With a clock, status bit 3 "measuring" is set for the
// conversion time (t_measure,max of §9.1, or typical with { timing: 'typ' }) and the data
// registers change at its end; without a clock a conversion completes at once.
// ctrl_hum (0xF2) takes effect only at the next ctrl_meas write (§5.4.3). An oversampling of 0
// ("skipped") outputs 0x80000 (T, P) / 0x8000 (H), as after reset. The IIR filter (config
// bits 4:2) is applied to T and P. Approximations: output resolution is not reduced by the
// oversampling setting (raw values are delivered as given); no noise; the SPI interface and
// spi3w_en are not modelled; reading unmapped registers gives 0x00.

export const REG = {
  CALIB00: 0x88, // 0x88..0xA1 (dig_T1..dig_P9, 0xA0 unused, 0xA1 dig_H1)
  ID: 0xd0,
  RESET: 0xe0,
  CALIB26: 0xe1, // 0xE1..0xE7 (dig_H2..dig_H6)
  CTRL_HUM: 0xf2,
  STATUS: 0xf3,
  CTRL_MEAS: 0xf4,
  CONFIG: 0xf5,
  DATA: 0xf7, // press_msb, press_lsb, press_xlsb, temp_msb, temp_lsb, temp_xlsb, hum_msb, hum_lsb
};
export const CHIP_ID = 0x60;
export const RESET_WORD = 0xb6;

/**
 * Default calibration. T and P words: the worked example of the Bosch BMP280 datasheet
 * (BST-BMP280-DS001, §3.12 table "Compensation formula in floating point / 32 bit fixed point"),
 * which the BME280 shares bit for bit (same words, same formulas): with adc_T = 519888 and
 * adc_P = 415148 it gives T = 25.08 °C and p = 100653.27 Pa.
 * H words: a real BME280, the first calibration dump in KKoovalsky/BME280Driver
 * tests/test_conversion.cpp ("room-like conditions", commit 82c59973): bytes 0xA1 = 0x4B and
 * 0xE1..0xE7 = 4C 01 00 19 20 03 1E → H1 75, H2 332, H3 0, H4 400, H5 50, H6 30 (dig_H5 is
 * non-zero and straddles 0xE5/0xE6, so the 12-bit split is exercised).
 */
export const DATASHEET_CALIB = Object.freeze({
  T1: 27504,
  T2: 26435,
  T3: -1000,
  P1: 36477,
  P2: -10685,
  P3: 3024,
  P4: 2855,
  P5: 140,
  P6: -7,
  P7: 15500,
  P8: -14600,
  P9: 6000,
  H1: 75,
  H2: 332,
  H3: 0,
  H4: 400,
  H5: 50,
  H6: 30,
});

/**
 * Default raw readings: the datasheet example for T and P; adc_H = 0x8E1A = 36378, the raw
 * humidity of the same real sensor as the H calibration (KKoovalsky/BME280Driver test data),
 * which with these words and T = 25.08 °C compensates to 54.61 %RH.
 */
export const DATASHEET_RAW = Object.freeze({ adcT: 519888, adcP: 415148, adcH: 36378 });

const u16 = (v) => [v & 0xff, (v >> 8) & 0xff];

/**
 * Calibration words → register bytes (datasheet Table 16).
 * → { lo: 26 bytes for 0x88..0xA1, hi: 7 bytes for 0xE1..0xE7 }
 */
export function packCalibration(c) {
  const lo = [
    ...u16(c.T1),
    ...u16(c.T2),
    ...u16(c.T3),
    ...u16(c.P1),
    ...u16(c.P2),
    ...u16(c.P3),
    ...u16(c.P4),
    ...u16(c.P5),
    ...u16(c.P6),
    ...u16(c.P7),
    ...u16(c.P8),
    ...u16(c.P9),
    0x00, // 0xA0: not a calibration byte
    c.H1 & 0xff, // 0xA1
  ];
  const hi = [
    ...u16(c.H2), // 0xE1 lsb, 0xE2 msb
    c.H3 & 0xff, // 0xE3
    (c.H4 >> 4) & 0xff, // 0xE4: dig_H4 [11:4]
    (c.H4 & 0x0f) | ((c.H5 & 0x0f) << 4), // 0xE5: dig_H4 [3:0] in bits 3:0, dig_H5 [3:0] in bits 7:4
    (c.H5 >> 4) & 0xff, // 0xE6: dig_H5 [11:4]
    c.H6 & 0xff, // 0xE7
  ];
  return { lo, hi };
}

/**
 * The datasheet's double-precision compensation (§8.1). t_fine is kept as a double: the §8.1
 * code casts it to BME280_S32_t, but the worked example (BMP280 datasheet §3.12) carries it
 * unrounded, and only that gives its p = 100653.27 Pa (with the cast: 100653.258 Pa; the
 * difference is < 0.01 Pa and < 0.001 %RH). → { t: °C, p: Pa, h: %RH, tFine }
 */
export function compensate(c, { adcT, adcP, adcH }) {
  let v1 = (adcT / 16384 - c.T1 / 1024) * c.T2;
  let v2 = (adcT / 131072 - c.T1 / 8192) * (adcT / 131072 - c.T1 / 8192) * c.T3;
  const tFine = v1 + v2;
  const t = (v1 + v2) / 5120;

  let p;
  v1 = tFine / 2 - 64000;
  v2 = (v1 * v1 * c.P6) / 32768;
  v2 = v2 + v1 * c.P5 * 2;
  v2 = v2 / 4 + c.P4 * 65536;
  v1 = ((c.P3 * v1 * v1) / 524288 + c.P2 * v1) / 524288;
  v1 = (1 + v1 / 32768) * c.P1;
  if (v1 === 0) p = 0;
  else {
    p = 1048576 - adcP;
    p = ((p - v2 / 4096) * 6250) / v1;
    v1 = (c.P9 * p * p) / 2147483648;
    v2 = (p * c.P8) / 32768;
    p = p + (v1 + v2 + c.P7) / 16;
  }

  let h = tFine - 76800;
  h = (adcH - (c.H4 * 64 + (c.H5 / 16384) * h)) * ((c.H2 / 65536) * (1 + (c.H6 / 67108864) * h * (1 + (c.H3 / 67108864) * h)));
  h = h * (1 - (c.H1 * h) / 524288);
  h = Math.min(100, Math.max(0, h));
  return { t, p, h, tFine };
}

// Smallest-error integer in [lo, hi] for a monotonic f (increasing or decreasing).
function invert(f, target, lo, hi) {
  const inc = f(hi) > f(lo);
  let a = lo;
  let b = hi;
  while (b - a > 1) {
    const m = Math.floor((a + b) / 2);
    if (f(m) < target === inc) a = m;
    else b = m;
  }
  return Math.abs(f(a) - target) <= Math.abs(f(b) - target) ? a : b;
}

/**
 * Environment → raw ADC words through the compensation (nearest integer, so compensating the
 * result gives the environment back to the resolution of one ADC count).
 */
export function rawFromEnvironment(c, { temperatureC, pressurePa, humidity }) {
  const adcT = invert((x) => compensate(c, { adcT: x, adcP: 0, adcH: 0 }).t, temperatureC, 0, 0xfffff);
  const adcP = invert((x) => compensate(c, { adcT, adcP: x, adcH: 0 }).p, pressurePa, 0, 0xfffff);
  // humidity clamps at 0/100; search where it is still strictly monotonic
  const hOf = (x) => {
    const v1 = compensate(c, { adcT, adcP: 0, adcH: x });
    return v1.h;
  };
  const adcH = invert(hOf, Math.min(100, Math.max(0, humidity)), 0, 0xffff);
  return { adcT, adcP, adcH };
}

const OSRS = [0, 1, 2, 4, 8, 16, 16, 16];
const T_SB_MS = [0.5, 62.5, 125, 250, 500, 1000, 10, 20]; // BME280 (not BMP280) t_sb table
const FILTER = [0, 2, 4, 8, 16, 16, 16, 16]; // IIR coefficient (0 = off)

/** Conversion time in ms (datasheet §9.1): 'max' (default) or 'typ'. */
export function measurementTimeMs(osrsT, osrsP, osrsH, timing = 'max') {
  const [base, per, extra] = timing === 'typ' ? [1, 2, 0.5] : [1.25, 2.3, 0.575];
  const t = OSRS[osrsT & 7];
  const p = OSRS[osrsP & 7];
  const h = OSRS[osrsH & 7];
  return base + per * t + (p ? per * p + extra : 0) + (h ? per * h + extra : 0);
}

/**
 * createBme280({ address = 0x76, calib, raw: { adcT, adcP, adcH }, env: { temperatureC,
 *   pressurePa, humidity }, clock, timing = 'max', chipId = 0x60 })
 * → device { address, write, read, set({ raw } | { env }), reading(), mode(), measurements,
 *            peek(reg) }
 * `raw` wins over `env`; with neither, DATASHEET_RAW. `chipId` lets a test pose as another chip
 * (e.g. 0x58, a BMP280). `clock`: host/runtime/clock.mjs (now, setTimeout, clearTimeout…).
 */
export function createBme280({ address = 0x76, calib = DATASHEET_CALIB, raw, env, clock = null, timing = 'max', chipId = CHIP_ID } = {}) {
  const cal = { ...DATASHEET_CALIB, ...calib };
  const { lo, hi } = packCalibration(cal);
  const regs = new Uint8Array(256);
  let pointer = 0;
  let adc = { ...DATASHEET_RAW };
  let hum = 0; // ctrl_hum in effect (latched at ctrl_meas writes)
  let filtT = null;
  let filtP = null;
  let convTimer = null;
  let cycleTimer = null;
  let nvmTimer = null;
  const dev = { address, measurements: 0 };

  function setInputs(o = {}) {
    if (o.raw) adc = { ...adc, ...o.raw };
    else if (o.env) adc = rawFromEnvironment(cal, o.env);
  }
  setInputs(raw ? { raw } : env ? { env } : {});

  function powerOnReset() {
    regs.fill(0);
    regs.set(lo, REG.CALIB00);
    regs.set(hi, REG.CALIB26);
    regs[REG.ID] = chipId;
    regs.set([0x80, 0x00, 0x00, 0x80, 0x00, 0x00, 0x80, 0x00], REG.DATA);
    hum = 0;
    filtT = null;
    filtP = null;
    cancel();
  }

  function cancel() {
    if (clock) {
      if (convTimer != null) clock.clearTimeout(convTimer);
      if (cycleTimer != null) clock.clearTimeout(cycleTimer);
    }
    convTimer = null;
    cycleTimer = null;
    regs[REG.STATUS] &= ~0x08;
  }

  function iir(prev, x, coeff) {
    if (!coeff || prev == null) return x;
    return Math.floor((prev * (coeff - 1) + x) / coeff);
  }

  // One conversion finished: latch results into the data registers.
  function latch() {
    const meas = regs[REG.CTRL_MEAS];
    const osT = (meas >> 5) & 7;
    const osP = (meas >> 2) & 7;
    const coeff = FILTER[(regs[REG.CONFIG] >> 2) & 7];
    let t = 0x80000;
    let p = 0x80000;
    let h = 0x8000;
    if (osT) t = filtT = iir(filtT, adc.adcT & 0xfffff, coeff);
    if (osP) p = filtP = iir(filtP, adc.adcP & 0xfffff, coeff);
    if (hum & 7) h = adc.adcH & 0xffff;
    regs.set([(p >> 12) & 0xff, (p >> 4) & 0xff, (p & 0x0f) << 4, (t >> 12) & 0xff, (t >> 4) & 0xff, (t & 0x0f) << 4, h >> 8, h & 0xff], REG.DATA);
    dev.measurements++;
  }

  function convTime() {
    const meas = regs[REG.CTRL_MEAS];
    return measurementTimeMs((meas >> 5) & 7, (meas >> 2) & 7, hum & 7, timing);
  }

  function startConversion(then) {
    if (!clock) {
      latch();
      then();
      return;
    }
    regs[REG.STATUS] |= 0x08;
    convTimer = clock.setTimeout(() => {
      convTimer = null;
      latch();
      regs[REG.STATUS] &= ~0x08;
      then();
    }, convTime());
  }

  function normalCycle() {
    startConversion(() => {
      if (!clock || (regs[REG.CTRL_MEAS] & 3) !== 3) return;
      cycleTimer = clock.setTimeout(
        () => {
          cycleTimer = null;
          if ((regs[REG.CTRL_MEAS] & 3) === 3) normalCycle();
        },
        T_SB_MS[regs[REG.CONFIG] >> 5],
      );
    });
  }

  function writeReg(reg, v) {
    v &= 0xff;
    switch (reg) {
      case REG.RESET:
        if (v === RESET_WORD) {
          powerOnReset();
          if (clock) {
            // NVM data copied to the image registers during start-up (status bit 0, ~2 ms)
            regs[REG.STATUS] |= 0x01;
            if (nvmTimer != null) clock.clearTimeout(nvmTimer);
            nvmTimer = clock.setTimeout(() => {
              nvmTimer = null;
              regs[REG.STATUS] &= ~0x01;
            }, 2);
          }
        }
        return; // reads back 0x00
      case REG.CTRL_HUM:
        regs[reg] = v & 0x07;
        return;
      case REG.CONFIG:
        regs[reg] = v & 0xfd; // bit 1 reserved
        return;
      case REG.CTRL_MEAS: {
        regs[reg] = v;
        hum = regs[REG.CTRL_HUM]; // ctrl_hum becomes effective now (§5.4.3)
        cancel();
        const mode = v & 3;
        if (mode === 1 || mode === 2) {
          startConversion(() => {
            regs[REG.CTRL_MEAS] &= ~3; // forced mode: back to sleep
          });
        } else if (mode === 3) {
          normalCycle();
        }
        return;
      }
      default:
        return; // read-only (id, calibration, status, data) or unmapped
    }
  }

  dev.write = (bytes) => {
    const b = Array.from(bytes, (x) => x & 0xff);
    if (b.length === 0) return; // address-only probe
    if (b.length === 1) {
      pointer = b[0];
      return;
    }
    let i = 0;
    for (; i + 1 < b.length; i += 2) {
      writeReg(b[i], b[i + 1]);
      pointer = b[i];
    }
    if (i < b.length) pointer = b[i];
  };

  dev.read = (n) => {
    const out = [];
    for (let i = 0; i < n; i++) {
      out.push(regs[pointer]);
      pointer = (pointer + 1) & 0xff;
    }
    return out;
  };

  /** change what the sensor "feels": { raw: {adcT?, adcP?, adcH?} } or { env: {...} } */
  dev.set = (o) => setInputs(o);
  /** what a correct driver should report for the current inputs (double formulas) */
  dev.reading = () => compensate(cal, adc);
  dev.raw = () => ({ ...adc });
  dev.calib = cal;
  /** current mode bits of ctrl_meas: 0 sleep, 1/2 forced, 3 normal */
  dev.mode = () => regs[REG.CTRL_MEAS] & 3;
  dev.peek = (reg) => regs[reg & 0xff];

  powerOnReset();
  return dev;
}
