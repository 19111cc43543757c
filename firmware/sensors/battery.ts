// The battery's voltage, where the board lets the ESP32 see it.
//
// A76xx boards: the battery through a divider to an ADC pin (board.battery: pin and ratio).
// Espruino's ESP32 analogRead is the raw 12-bit ADC1 value / 4096 (jshardware.c jshPinAnalog),
// with every channel at 11 dB attenuation (jshardwareAnalog.c initADC: ADC_ATTEN_DB_11), whose
// full scale is about 3.9 V (Vref 1.1 V × 3.55; the chip's own Vref varies 1.0-1.2 V and the top of
// the range bends, so this is a few per cent off without calibration: good enough for 0.1 V rules).
// Espruino's ESP32-S3 build has no ADC: analogRead gives NaN there, and this gives null.
//
// T-Call SIM800L: the IP5306 "has no voltage or current information inside; only an MCU with an
// ADC can manage the battery" (IP5306 REG V1.4, note 4), and the T-Call wires no battery ADC. Its
// undocumented level register (0x78, power-chip/ip5306.ts) reads like the chip's four charge LEDs:
// 100 = four lit (≥ 75 %), 75 = three (50-75 %), 50 = two (25-50 %), 25 = one (3-25 %), 0 = none
// (< 3 %, the chip's flashing-LED state before its 3.0 V cut-off). Each band is given as the
// voltage at its lower edge on a typical Li-ion discharge curve at light load [inferred], so a
// volts rule acts at the first band below it, never later.
import { board } from '../target';
import { ip5306Battery } from '../power-chip/ip5306';

const FULL_SCALE_V = 3.9;
// lower edge of each IP5306 band: 100, 75, 50, 25, 0 %
const BANDS = [3.87, 3.75, 3.65, 3.4, 3.0];

/** Volts (2 decimals), or null where the board cannot tell. */
export function batteryVolts(i2c: EspruinoI2C): number | null {
  let v: number;
  if (__IP5306__) {
    const pct = ip5306Battery(i2c).pct;
    if (pct === null) return null;
    v = BANDS[4 - Math.floor(pct / 25)];
  } else {
    const b = board.battery;
    if (!b) return null;
    v = analogRead(b.pin) * FULL_SCALE_V * b.divider;
    if (!(v > 0)) return null; // NaN (no ADC) or a pin that reads nothing
  }
  return Math.round(v * 100) / 100;
}
