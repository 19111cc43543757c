import type { Board } from './board';

// LilyGO T-Call-A7670 V1.1: a different pin map from V1.0 (UART pins swapped, RESET on 5).
export const board: Board = {
  id: 't-call-a7670-v1_1',
  title: 'LilyGO T-Call-A7670 V1.1',
  modem: 'A76xx',
  modemModel: 'A7670E-LASE',
  uart: { port: 'Serial2', rx: 26, tx: 27, baud: 115200 },
  reset: { pin: 5, activeLevel: 0 },
  pwrkey: { pin: 4, inverted: true, onPulseMs: 100, offPulseMs: 3000 },
  powerUp: [
    [5, 1, 0], // RESET released (active low)
    [32, 0, 0], // DTR low: modem stays awake
    [4, 0, 100],
    [4, 1, 100], // PWRKEY on pulse
    [4, 0, 0],
  ],
  bootMaxMs: 30000,
  dtr: 32,
  ri: 33,
  led: { pin: 13, onLevel: 1 },
  i2c: { sda: 21, scl: 22 }, // [inferred: not in utilities.h]
  source: 'modem-facts.md §C.3 and §A.2 (LilyGO utilities.h 7d8ce57)',
};
