import type { BoardFile } from './board';

// LilyGO T-Call SIM800L with the IP5306 power-bank chip (v1.3 "20190610", v1.4 "20200811").
export const board: BoardFile = {
  id: 't-call-sim800l',
  title: 'LilyGO T-Call SIM800L (IP5306)',
  modem: 'SIM800',
  modemModel: 'SIMCOM_SIM800L',
  uart: { port: 'Serial2', rx: 26, tx: 27, baud: 115200 },
  powerOn: 23,
  reset: { pin: 5, activeLevel: 0 },
  // PWRKEY is wired straight to the modem here (not inverted): LOW asserts it; > 1 s turns it on.
  // Off: SIM800L(MT6261) HW Design V1.01 §4.2.2.1 "pulling down the PWRKEY pin for at least 1.5
  // second and release", Figure 13 "1.5s<T1<33s": 1.5 s itself is the bound the text and the
  // figure disagree on, and the modem samples the pin with its own clock; 2 s is clear of it by
  // a third and far below 33 s (where the module powers up again).
  pwrkey: { pin: 4, inverted: false, onPulseMs: 1000, offPulseMs: 2000 },
  powerUp: [
    ['reset', 1, 0], // RESET released (active low)
    ['powerOn', 1, 0], // POWER_ON
    ['pwrkey', 1, 100], // PWRKEY idle high
    ['pwrkey', 0, 1000], // PWRKEY asserted > 1 s (SIM800L HW §3.2)
    ['pwrkey', 1, 0],
  ],
  bootMaxMs: 10000, // autobaud: no banner; poll AT after 2-3 s (SIM800L HW §3.2.1)
  dtr: 32, // the modem's DTR (LilyGO utilities.h MODEM_DTR_PIN)
  i2c: { sda: 21, scl: 22 },
  powerChip: 'IP5306',
  // the firmware never reads these as fields (see Documented in board.ts): out of the bundle
  documented: { ri: 33, led: { pin: 13, onLevel: 1 } },
  source: 'docs/modem-facts.md §C.1, §C.2 and §B.1 (T-Call repo 11db8bf utilities.h and Arduino_TinyGSM.ino)',
};
