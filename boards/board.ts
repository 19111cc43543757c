// The shape of a board file. One file per LilyGO variant; values from
// docs/modem-facts.md §C (LilyGO utilities.h, commit 7d8ce57, and the T-Call repo).
// Pins are ESP32 GPIO numbers. Everything the firmware does differently per board is data here,
// so the modem drivers never name a board.

/** One step of a power sequence: drive `pin` to `level`, then wait `ms` before the next step. */
export type PinStep = [pin: number, level: 0 | 1, ms: number];

export interface Board {
  /** file name without extension, used by `build.mjs --board` */
  id: string;
  title: string;
  /** which modem driver family runs on this board */
  modem: 'A76xx' | 'SIM800';
  /** the modem model the board ships with (what AT+SIMCOMATI / ATI prints as Model) */
  modemModel: string;
  /** ESP32 side: rx = the ESP32 pin that receives from the modem, tx = the one that sends to it */
  uart: { port: 'Serial2'; rx: number; tx: number; baud: number };
  /** MODEM_POWER_ON / BOARD_POWERON: HIGH powers the modem rail (absent where always powered) */
  powerOn?: number;
  /** powerOn feeds more than the modem and must go HIGH first thing at boot and stay so: the
   *  firmware never cuts it (its "cut the power" rung pulses RESET instead) */
  keepPowerOn?: boolean;
  /** RESET line and the GPIO level that asserts reset */
  reset?: { pin: number; activeLevel: 0 | 1 };
  /**
   * PWRKEY. `inverted`: the GPIO drives a transistor, so GPIO HIGH pulls the modem's PWRKEY low
   * (asserts it). `onPulseMs`/`offPulseMs`: how long the board holds it asserted.
   */
  pwrkey: { pin: number; inverted: boolean; onPulseMs: number; offPulseMs: number };
  /** GPIO steps from "board just booted" to "modem PWRKEY pulse done" (power chip handled apart) */
  powerUp: PinStep[];
  /** the modem's own time from PWRKEY to answering AT (manual), for timeouts only, never a sleep */
  bootMaxMs: number;
  dtr?: number;
  ri?: number;
  led?: { pin: number; onLevel: 0 | 1 };
  /** battery sense: ADC pin and the divider ratio (volts at battery = volts at pin × divider) */
  battery?: { pin: number; divider: number };
  i2c: { sda: number; scl: number };
  powerChip?: 'IP5306';
  /** where each value comes from */
  source: string;
}
