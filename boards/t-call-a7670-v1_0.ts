import type { BoardFile } from './board';

// LilyGO T-Call-A7670 V1.0. LilyGO utilities.h `LILYGO_T_CALL_A7670_V1_0`.
export const board: BoardFile = {
  id: 't-call-a7670-v1_0',
  title: 'LilyGO T-Call-A7670 V1.0',
  modem: 'A76xx',
  modemModel: 'A7670E-LASE',
  uart: { port: 'Serial2', rx: 25, tx: 26, baud: 115200 },
  reset: { pin: 27, activeLevel: 0 },
  pwrkey: { pin: 4, inverted: true, onPulseMs: 100, offPulseMs: 3000 },
  powerUp: [
    ['reset', 1, 0], // RESET released (active low)
    ['dtr', 0, 0], // DTR low: modem stays awake
    ['pwrkey', 0, 100],
    ['pwrkey', 1, 100], // PWRKEY on pulse
    ['pwrkey', 0, 0],
  ],
  bootMaxMs: 30000,
  // [inferred] LilyGO names no I2C pins for the T-Call-A7670 (utilities.h `LILYGO_T_CALL_A7670_V1_x`
  // has no SDA/SCL and no SimShield block; the pin table in docs/en/esp32/t-call-a7670x/REAMDE.MD
  // lists only the modem pins and the LED): the ESP32's default Wire pins, which that table does
  // not use. The build's pin gate checks they clash with nothing; sensors.i2c moves them.
  dtr: 14, // the modem's DTR (LilyGO utilities.h MODEM_DTR_PIN)
  i2c: { sda: 21, scl: 22 },
  // the firmware never reads these as fields (see Documented in board.ts): out of the bundle
  documented: { ri: 13, led: { pin: 12, onLevel: 1 } },
  source: 'docs/modem-facts.md §C.3 and §A.2 (LilyGO utilities.h 7d8ce57)',
};
