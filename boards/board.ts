// The shape of a board file. One file per LilyGO variant; values from
// docs/modem-facts.md §C (LilyGO utilities.h, commit 7d8ce57, and the T-Call repo).
// Pins are ESP32 GPIO numbers, each written once per board: the power-up names its pins by role
// and the build puts the numbers in (buildlib/pins.mjs, which also checks every step names a pin
// the board has). Everything the firmware does differently per board is data here, so the modem
// drivers never name a board.

/** One step of a power sequence as the firmware runs it: drive `pin` to `level`, then wait `ms`. */
export type PinStep = [pin: number, level: 0 | 1, ms: number];

/** The modem control lines a power-up step may drive, by their name in the board file:
 *  powerOn, reset (reset.pin), pwrkey (pwrkey.pin), dtr (dtr). */
export type ControlPin = 'powerOn' | 'reset' | 'pwrkey' | 'dtr';

/** One step of a board file's power-up: drive the pin named `pin` to `level`, then wait `ms`.
 *  The build turns it into a PinStep with the GPIO number the board gives that pin. */
export type PowerUpStep = [pin: ControlPin, level: 0 | 1, ms: number];

/** Pins the firmware never reads as fields: kept as the board's documentation, checked by the
 *  pin gate (no GPIO with two roles), and left out of the bundle like `source`. */
export interface Documented {
  /** the modem's RI (ring) */
  ri?: number;
  led?: { pin: number; onLevel: 0 | 1 };
}

/** What a board file (boards/*.ts) says. */
export interface BoardFile {
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
  /** the modem's DTR: power-up steps naming 'dtr' hold it low (modem awake); with DTR sleep
   *  (config power.modem "dtr-sleep", firmware/modem/dtr-sleep.ts) the firmware drives it high
   *  while no command is pending. The build leaves it out of bundles without DTR sleep. */
  dtr?: number;
  /** RESET line and the GPIO level that asserts reset */
  reset?: { pin: number; activeLevel: 0 | 1 };
  /**
   * PWRKEY. `inverted`: the GPIO drives a transistor, so GPIO HIGH pulls the modem's PWRKEY low
   * (asserts it). `onPulseMs`/`offPulseMs`: how long the board holds it asserted.
   */
  pwrkey: { pin: number; inverted: boolean; onPulseMs: number; offPulseMs: number };
  /** steps from "board just booted" to "modem PWRKEY pulse done" (power chip handled apart),
   *  each naming its pin by role */
  powerUp: PowerUpStep[];
  /** the modem's own time from PWRKEY to answering AT (manual), for timeouts only, never a sleep */
  bootMaxMs: number;
  i2c: { sda: number; scl: number };
  powerChip?: 'IP5306';
  /** battery sense: ADC pin and the divider ratio (volts at battery = volts at pin × divider);
   *  in the bundle only when the config uses it (build.mjs) */
  battery?: { pin: number; divider: number };
  /** the modem has GNSS and the board its antenna: the config may ask for sensors.gnss */
  gnss?: boolean;
  /** the modem GPIO that powers the board's active GNSS antenna (AT+CGDRT / AT+CGSETV; LilyGO
   *  MODEM_GPS_ENABLE_GPIO, level 1); the build hands it to the firmware in config.gnss.ant */
  gnssAntennaGpio?: number;
  /** documentation only (see Documented): not in the bundle */
  documented?: Documented;
  /** where each value comes from (documentation only: not in the bundle) */
  source: string;
}

/** What the firmware receives (build.mjs): the board file with the power-up resolved to GPIO
 *  numbers, without `documented`, `source` and the GNSS fields (config.gnss carries what it needs). */
export interface Board extends Omit<BoardFile, 'powerUp' | 'documented' | 'source' | 'gnss' | 'gnssAntennaGpio'> {
  powerUp: PinStep[];
}
