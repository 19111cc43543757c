// BME280 over I2C: forced-mode reads (oversampling x1, IIR filter off), datasheet compensation.
// Bosch BST-BME280-DS002: registers §5.3/§5.4, calibration words §4.2.2 Table 16, measurement
// time §9.1 (x1/x1/x1: 9.3 ms max), compensation: the double-precision formulas of §8.1
// (Espruino numbers are doubles; the 64-bit integer pressure formula would need BigInt, which
// Espruino lacks). t_fine is kept unrounded, as in the datasheet's worked example.
// Device code: ES5, no classes/closures beyond what is needed, small.

export interface Bme280 {
  /** I2C bus */
  i: EspruinoI2C;
  /** 7-bit address (0x76 with SDO low, 0x77 with SDO high) */
  a: number;
  /** calibration: T1 T2 T3 P1..P9 H1..H6 */
  c: Int32Array;
}

/** t: °C, p: Pa, h: %RH */
export interface Bme280Reading {
  t: number;
  p: number;
  h: number;
}

function hex(n: number): string {
  return '0x' + (n < 16 ? '0' : '') + n.toString(16);
}

function rd(s: Bme280, reg: number, n: number): Uint8Array {
  s.i.writeTo(s.a, reg);
  return s.i.readFrom(s.a, n);
}

function msg(e: any): string {
  return e && e.message ? e.message : '' + e;
}

function u16(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8);
}

/**
 * Checks the chip id, puts the sensor to sleep with the filter off and reads the calibration.
 * Throws "no device at 0x76 (…)" or "BME280 not found at 0x76: chip id 0x58 (that is a BMP280)".
 */
export function bme280Init(i2c: EspruinoI2C, addr?: number): Bme280 {
  var s: Bme280 = { i: i2c, a: addr || 0x76, c: new Int32Array(18) };
  var at = ' at ' + hex(s.a);
  var id: number;
  try {
    id = rd(s, 0xd0, 1)[0];
  } catch (e) {
    throw new Error('no device' + at + ' (' + msg(e) + ')');
  }
  // nothing answering on a pulled-up bus reads as 0xff (or nothing at all)
  if (id === undefined || id === 0xff || id === 0) throw new Error('no device' + at + ' (chip id ' + hex(id | 0) + ')');
  if (id !== 0x60) {
    var what = id > 0x55 && id < 0x59 ? 'BMP280' : id === 0x61 ? 'BME680' : id === 0x55 ? 'BMP180' : '';
    throw new Error('BME280 not found' + at + ': chip id ' + hex(id) + (what ? ' (that is a ' + what + ')' : ''));
  }
  // sleep first: config writes may be ignored in normal mode (§5.4.6); filter off, no SPI 3-wire
  s.i.writeTo(s.a, 0xf4, 0);
  s.i.writeTo(s.a, 0xf5, 0);
  var c = s.c;
  var b = rd(s, 0x88, 26);
  for (var k = 0; k < 12; k++) {
    var v = u16(b, 2 * k);
    // T1 and P1 are unsigned, the rest signed 16-bit
    c[k] = k === 0 || k === 3 ? v : (v << 16) >> 16;
  }
  c[12] = b[25]; // H1 (0xA1)
  b = rd(s, 0xe1, 7);
  c[13] = (u16(b, 0) << 16) >> 16; // H2
  c[14] = b[2]; // H3
  c[15] = ((b[3] << 24) >> 20) | (b[4] & 15); // H4: 0xE4 = bits 11:4 (signed), 0xE5 bits 3:0
  c[16] = ((b[5] << 24) >> 20) | (b[4] >> 4); // H5: 0xE6 = bits 11:4 (signed), 0xE5 bits 7:4
  c[17] = (b[6] << 24) >> 24; // H6 signed
  return s;
}

/** Compensation, datasheet §8.1 (double precision). d = the 8 data bytes from 0xF7. */
function comp(c: Int32Array, d: Uint8Array): Bme280Reading {
  var x = (d[3] << 12) | (d[4] << 4) | (d[5] >> 4); // adc_T
  var y = x / 131072 - c[0] / 8192;
  var f = (x / 16384 - c[0] / 1024) * c[1] + y * y * c[2]; // t_fine
  // pressure
  x = f / 2 - 64000;
  y = (x * x * c[8]) / 32768 + x * c[7] * 2;
  y = y / 4 + c[6] * 65536;
  x = (1 + ((c[5] * x * x) / 524288 + c[4] * x) / 524288 / 32768) * c[3];
  var p = 0;
  if (x) {
    p = ((1048576 - ((d[0] << 12) | (d[1] << 4) | (d[2] >> 4)) - y / 4096) * 6250) / x;
    p += ((c[11] * p * p) / 2147483648 + (p * c[10]) / 32768 + c[9]) / 16;
  }
  // humidity
  x = f - 76800;
  x = (((d[6] << 8) | d[7]) - (c[15] * 64 + (c[16] / 16384) * x)) * ((c[13] / 65536) * (1 + (c[17] / 67108864) * x * (1 + (c[14] / 67108864) * x)));
  x = x * (1 - (c[12] * x) / 524288);
  return { t: f / 5120, p: p, h: x > 100 ? 100 : x < 0 ? 0 : x };
}

/**
 * One forced measurement (T, P, H oversampling x1). cb(err) or cb(null, { t °C, p Pa, h %RH })
 * after ~10 ms; polls the "measuring" status bit a few more times if the sensor is slower.
 */
export function bme280Read(s: Bme280, cb: (err: Error | null, r?: Bme280Reading) => void): void {
  var tries = 0;
  function fail(e: any) {
    cb(new Error('BME280 at ' + hex(s.a) + ': ' + msg(e)));
  }
  function poll() {
    var d: Uint8Array;
    try {
      if (rd(s, 0xf3, 1)[0] & 8) {
        if (++tries > 10) fail('measurement does not end');
        else setTimeout(poll, 2);
        return;
      }
      d = rd(s, 0xf7, 8);
    } catch (e) {
      fail(e);
      return;
    }
    // 0x80000 in the temperature registers: no measurement done (reset value / skipped)
    if (d[3] === 0x80 && !d[4] && !(d[5] >> 4)) fail('no measurement');
    else cb(null, comp(s.c, d));
  }
  try {
    s.i.writeTo(s.a, 0xf2, 1); // ctrl_hum: osrs_h x1 (takes effect with the ctrl_meas write)
    s.i.writeTo(s.a, 0xf4, 0x25); // ctrl_meas: osrs_t x1, osrs_p x1, forced mode
  } catch (e) {
    setTimeout(function () {
      fail(e);
    }, 0);
    return;
  }
  setTimeout(poll, 10);
}
