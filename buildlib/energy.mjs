// The energy model: datasheet currents per part and state, the time spent in each state per cycle,
// and from those mAh per day and days on a cell. Host only (build time and benches), pure functions.
// Every current below has its source in docs/energy-facts.md under the same key; values marked
// `estimate: true` were not found in a document and are assumptions (the reason is in `note`).
//
// Conventions: currents in mA at the battery, times in s, charge in mA·s (mAs), 3600 mAs = 1 mAh.
// A board's "floor" is its measured whole-board current with the ESP32 in deep sleep and the modem
// off (LilyGO's own measurements); every other state adds its part's current on top of it.

/** Currents by source key (docs/energy-facts.md has the table with document, version, section). */
export const CURRENTS = {
  // ESP32 / ESP32-S3
  'esp32.active240': {
    mA: 68,
    cond: 'ESP32 Modem-sleep (radio off, CPU on), 240 MHz dual-core, upper bound of 30–68 mA',
    src: 'ESP32 Series Datasheet v3.5 Table 6',
  },
  'esp32.deepSleep': { mA: 0.01, cond: 'ESP32 Deep-sleep, RTC timer + RTC memory', src: 'ESP32 Series Datasheet v3.5 Table 6' },
  'esp32s3.active240': {
    mA: 68,
    cond: 'ESP32-S3 CPU on, radio off, 240 MHz',
    src: 'estimate: the ESP32 figure (S3 datasheet range 13.2–107.9 mA, secondary source)',
    estimate: true,
  },
  'esp32s3.deepSleep': {
    mA: 0.008,
    cond: 'ESP32-S3 Deep-sleep, RTC memory and peripherals on',
    src: 'ESP32-S3 datasheet via lucidar.me / deepbluembedded (8 µA)',
  },
  // Whole boards, ESP32 in deep sleep, modem off (measured by LilyGO or users)
  'board.t-a7670.floor': {
    mA: 0.157,
    cond: 'T-A7670-ESP32, deep sleep, modem off, 4.2 V',
    src: 'LilyGO-T-A76XX examples/DeepSleep/DeepSleep.ino header (7d8ce57)',
  },
  'board.t-sim7670g-s3.floor': {
    mA: 0.497,
    cond: 'T-SIM7670G-S3, deep sleep, modem off, 4.2 V',
    src: 'LilyGO-T-A76XX examples/DeepSleep/DeepSleep.ino header (7d8ce57)',
  },
  'board.t-call-a7670.floor': {
    mA: 0.157,
    cond: 'T-Call A7670 v1.0/v1.1, deep sleep, modem off',
    src: 'estimate: not measured by LilyGO; the T-A7670-ESP32 figure',
    estimate: true,
  },
  'board.t-call-sim800l.floor': {
    mA: 0.5,
    cond: 'T-Call SIM800L (IP5306, keep-on), deep sleep, modem off; 0.85 mA for the first ~40 s',
    src: 'LilyGo-T-Call-SIM800 issue #40 (user measurement, 2020-02-12)',
  },
  // A76xx (A7670 hardware design manual V1.06, Chinese, table 9 and table 40, VBAT 3.8 V)
  'a7670.off': { mA: 0.02, cond: 'power-off (AT+CPOF / PWRKEY), max', src: 'A7670 HD V1.06 table 9 (I VBAT(power-off))' },
  'a7670.sleep': { mA: 2, cond: 'LTE sleep (DTR/CSCLK=1) @ DRX 0.32 s, typ.', src: 'A7670 HD V1.06 table 40' },
  'a7670.idle': { mA: 23, cond: 'LTE idle @ DRX 0.32 s, typ. (registered, no data)', src: 'A7670 HD V1.06 table 40' },
  'a7670.txMax': { mA: 600, cond: 'LTE-FDD B1/B3 data at 23 dBm (B20: 540 mA)', src: 'A7670 HD V1.06 table 40' },
  'a7670.psm': {
    mA: 0.05,
    cond: 'PSM (registered, radio off)',
    src: 'estimate: the A7670 HD V1.06 gives no PSM current; between its 20 µA power-off and 2 mA sleep',
    estimate: true,
  },
  // SIM800L (SIM800H&SIM800L Hardware Design V2.02 §6.8 table 49, VBAT 3.8 V)
  'sim800.off': { mA: 0.15, cond: 'power down, typ. (max 200 µA)', src: 'SIM800H&SIM800L HD V2.02 §6.8 table 49' },
  'sim800.sleep': { mA: 1.14, cond: 'sleep, AT+CFUN=1, BS-PA-MFRMS=5 (1.04 @9, 1.57 @2)', src: 'SIM800H&SIM800L HD V2.02 §6.8 table 49' },
  'sim800.idle': { mA: 17.38, cond: 'idle, AT+CFUN=1 (all bands)', src: 'SIM800H&SIM800L HD V2.02 §6.8 table 49' },
  'sim800.txMax': { mA: 529.84, cond: 'GPRS data 1Rx/4Tx, EGSM900, PCL 5 (DCS1800: 333.16)', src: 'SIM800H&SIM800L HD V2.02 §6.8 table 49' },
  // IP5306 (datasheet v1.01 EN): listed for the record; the T-Call's measured floor includes it
  'ip5306.standby': { mA: 0.1, cond: 'standby (no load, boost off)', src: 'IP5306 datasheet v1.01 (EN) features: "<100 µA standby current"' },
  'ip5306.boostEff': {
    mA: 0.9,
    cond: 'boost efficiency used for loads behind the 5 V boost (ratio, not mA)',
    src: 'IP5306 datasheet: "up to 92%"/"up to 96%"; 0.9 assumed at these loads',
    estimate: true,
  },
};

/** Assumptions that are not currents (docs/energy-facts.md §Assumptions). */
export const ASSUMPTIONS = {
  /** fraction of a data/registration phase spent transmitting at full power; the rest at idle */
  txDuty: 0.1,
  /** usable fraction of a cell's rated capacity (cut-off above the modem's 3.4 V minimum, ageing, cold) */
  usable: 0.8,
  cellMah: 2600,
  /** battery volts for the T-Call's boost ratio */
  batteryV: 3.7,
  /** A76xx: time the modem stays idle after DTR goes high before it sleeps (modem-facts §A.8: 10–20 s) */
  dtrEnterS: 15,
  /** DTR low → UART answers (SIM800 HD: ~40 ms on SIM802; A76xx Sleep AN gives none): 0.1 s */
  dtrWakeS: 0.1,
  /** PSM: the network-granted active time T3324 the modem idles before PSM (requested small) */
  psmActiveS: 10,
  /** PSM: wake to a usable UART (PWRKEY/DTR), no registration needed */
  psmWakeS: 1,
  /** ESP32 ROM + second-stage bootloader + Espruino start before the bundle runs (not measured) */
  espBootS: 1,
};

/**
 * Per board: which currents apply, whether PSM is available, and the supply factor (loads behind
 * the T-Call's IP5306 5 V boost draw 5 V / (Vbat × efficiency) times their current from the cell).
 */
export const BOARDS = {
  't-a7670x': { mcu: 'esp32', modem: 'a7670', floor: 'board.t-a7670.floor', psm: true, boost: false },
  't-call-a7670-v1_0': { mcu: 'esp32', modem: 'a7670', floor: 'board.t-call-a7670.floor', psm: true, boost: false },
  't-call-a7670-v1_1': { mcu: 'esp32', modem: 'a7670', floor: 'board.t-call-a7670.floor', psm: true, boost: false },
  // SIM7670G: its hardware design (SIM7672X HD V1.02) was not readable here: the A7670 figures are used
  't-sim7670g-s3': { mcu: 'esp32s3', modem: 'a7670', floor: 'board.t-sim7670g-s3.floor', psm: true, boost: false },
  't-call-sim800l': { mcu: 'esp32', modem: 'sim800', floor: 'board.t-call-sim800l.floor', psm: false, boost: true },
};

const I = (key) => {
  const c = CURRENTS[key];
  if (!c) throw new Error(`energy: no current "${key}"`);
  return c.mA;
};

export function boardInfo(board) {
  const b = BOARDS[board];
  if (!b) throw new Error(`energy: unknown board "${board}" (known: ${Object.keys(BOARDS).join(', ')})`);
  return b;
}

/** The factor between a load's current and what it draws from the cell (1 without a boost converter). */
export function supplyFactor(board, a = ASSUMPTIONS) {
  return boardInfo(board).boost ? 5 / (a.batteryV * I('ip5306.boostEff')) : 1;
}

/**
 * Current (mA at the cell) of one part in one state.
 * part 'mcu': 'sleep' | 'awake'; part 'modem': 'off' | 'booting' | 'registering' | 'idle' |
 * 'dtr-sleep' | 'psm' | 'data' (connect/publish: idle plus txDuty of full-power transmit).
 * The floor (board asleep, modem off) is not in these: see stateCurrent.
 */
export function partCurrent(board, part, state, a = ASSUMPTIONS) {
  const b = boardInfo(board);
  const f = supplyFactor(board, a);
  if (part === 'mcu') {
    if (state === 'sleep') return 0; // in the measured floor
    if (state === 'awake') return I(`${b.mcu}.active240`) * f;
    throw new Error(`energy: no MCU state "${state}"`);
  }
  if (part === 'modem') {
    const m = b.modem;
    const idle = I(`${m}.idle`);
    switch (state) {
      case 'off':
        return 0; // in the measured floor
      case 'booting':
        return idle * f; // assumed: the radio is not up yet, idle is an upper bound
      case 'idle':
        return idle * f;
      case 'dtr-sleep':
        return I(`${m}.sleep`) * f;
      case 'psm':
        if (!b.psm) throw new Error(`energy: ${board}'s modem has no PSM`);
        return I(`${m}.psm`) * f;
      case 'registering':
      case 'data':
        return (idle + a.txDuty * (I(`${m}.txMax`) - idle)) * f;
      default:
        throw new Error(`energy: no modem state "${state}"`);
    }
  }
  throw new Error(`energy: no part "${part}"`);
}

/** Whole-board current in one combined state { mcu, modem }. */
export function stateCurrent(board, { mcu, modem }, a = ASSUMPTIONS) {
  return I(boardInfo(board).floor) + partCurrent(board, 'mcu', mcu, a) + partCurrent(board, 'modem', modem, a);
}

/** Charge (mAs) of segments [{ mcu, modem, s }]. */
export function charge(board, segments, a = ASSUMPTIONS) {
  let q = 0;
  for (const g of segments) q += stateCurrent(board, g, a) * g.s;
  return q;
}

/** mAh per day from the charge of a cycle of cycleS seconds. */
export function mAhPerDay(chargeMas, cycleS) {
  return (chargeMas / 3600) * (86400 / cycleS);
}

/** Days a cell lasts at mAhDay (capacity × usable fraction). */
export function daysOnCell(mAhDay, a = ASSUMPTIONS) {
  return (a.cellMah * a.usable) / mAhDay;
}

/**
 * Awake times per phase (s). Defaults: measured on the virtual board by bench/energy.mjs (T-A7670X +
 * HiveMQ and T-Call SIM800L plain, always-on firmware, rounded) plus the interpreter boot estimate.
 * `sensors` (0.1 s: a BME280 forced measurement is ≤ 10 ms plus I2C) and `powerDown` are estimates
 * until the duty-cycle firmware is measured.
 */
export const DEFAULT_AWAKE = {
  // boot: bundle run at ×50 (1.3 s incl. espBootS); powerUp/registration/connect/publish: the
  // virtual board (A7670 Ton(uart) 11.1 s); powerDown: PWRKEY Toff 2.5 s + 2 s shutdown (HD table 12)
  a7670: { boot: 1.3, sensors: 0.1, powerUp: 11.2, registration: 5.1, connect: 1.1, publish: 0.2, powerDown: 4.5 },
  // SIM800: PWRKEY held 1 s + STATUS 3 s → 3.1 s; power-down: the 2 s PWRKEY pulse + 2 s (HD §4.2.2.1)
  sim800: { boot: 1.5, sensors: 0.1, powerUp: 3.1, registration: 4.5, connect: 1.5, publish: 0.15, powerDown: 4 },
};

export function defaultAwake(board) {
  return DEFAULT_AWAKE[boardInfo(board).modem];
}

/**
 * One scenario's consumption.
 * @param {object} o
 * @param {string} o.board
 * @param {'always-on'|'duty-cycle'} o.mode
 * @param {number} o.intervalS reading interval
 * @param {number} [o.uploadEveryS] duty-cycle: upload when this much time has passed (≥ intervalS)
 * @param {'awake'|'dtr-sleep'|'off'|'psm'} o.modem the modem between publishes / uploads
 * @param {object} [o.awake] phase times (s), see DEFAULT_AWAKE
 * @returns {{ mAhPerDay, days, cycleS, segments, avgMa }}
 */
export function scenario({ board, mode, intervalS, uploadEveryS, modem, awake, assumptions = ASSUMPTIONS }) {
  const a = assumptions;
  const w = { ...defaultAwake(board), ...(awake || {}) };
  const segs = [];
  const add = (mcu, m, s) => {
    if (s > 0) segs.push({ mcu, modem: m, s });
  };
  let cycleS;
  if (mode === 'always-on') {
    // the ESP32 never sleeps (Espruino idles without light sleep); one reading per cycle
    cycleS = intervalS;
    if (modem === 'awake') {
      add('awake', 'data', w.publish);
      add('awake', 'idle', cycleS - w.publish);
    } else if (modem === 'dtr-sleep') {
      const wake = Math.min(a.dtrWakeS, cycleS);
      // after a publish the modem idles dtrEnterS before it sleeps: a shorter interval never sleeps
      const idle = Math.min(a.dtrEnterS, Math.max(0, cycleS - wake - w.publish));
      add('awake', 'idle', wake);
      add('awake', 'data', w.publish);
      add('awake', 'idle', idle);
      add('awake', 'dtr-sleep', cycleS - wake - w.publish - idle);
    } else throw new Error(`energy: always-on takes modem "awake" or "dtr-sleep", not "${modem}"`);
  } else if (mode === 'duty-cycle') {
    // a cycle = one upload: k wakes of which the last uploads the k readings
    const k = Math.max(1, Math.round((uploadEveryS || intervalS) / intervalS));
    cycleS = k * intervalS;
    const wakeS = w.boot + w.sensors;
    const between = modem === 'psm' ? 'psm' : 'off';
    if (modem !== 'off' && modem !== 'psm') throw new Error(`energy: duty-cycle takes modem "off" or "psm", not "${modem}"`);
    if (modem === 'psm' && !boardInfo(board).psm) throw new Error(`energy: ${board}'s modem has no PSM`);
    let upS;
    if (modem === 'off') {
      upS = w.powerUp + w.registration + w.connect + k * w.publish;
      add('awake', between, k * wakeS);
      add('awake', 'booting', w.powerUp);
      add('awake', 'registering', w.registration);
      add('awake', 'data', w.connect + k * w.publish);
      add('awake', 'idle', w.powerDown); // the modem shuts down (Toff) while the ESP32 waits for it
      add('sleep', 'off', cycleS - k * wakeS - upS - w.powerDown);
    } else {
      upS = a.psmWakeS + w.connect + k * w.publish;
      add('awake', between, k * wakeS);
      add('awake', 'idle', a.psmWakeS);
      add('awake', 'data', w.connect + k * w.publish);
      add('sleep', 'idle', a.psmActiveS); // T3324: the modem idles, the ESP32 already sleeps
      add('sleep', 'psm', cycleS - k * wakeS - upS - a.psmActiveS);
    }
  } else throw new Error(`energy: mode "${mode}" (always-on | duty-cycle)`);
  const total = segs.reduce((s, g) => s + g.s, 0);
  if (total > cycleS + 1e-9) {
    // the awake work does not fit in the interval: the station cannot keep this interval
    return { mAhPerDay: Infinity, days: 0, cycleS, segments: segs, avgMa: Infinity, fits: false };
  }
  const q = charge(board, segs, a);
  const day = mAhPerDay(q, cycleS);
  return { mAhPerDay: day, days: daysOnCell(day, a), cycleS, segments: segs, avgMa: q / cycleS, fits: true };
}

/**
 * The modem's state between publishes (always-on: 'awake' | 'dtr-sleep') or between uploads
 * (duty-cycle: 'off' | 'psm', psm only where the modem has it), the cheaper by the model.
 * @returns {{ modem: string, figures: { [candidate: string]: number }, why: string }} figures: mAh/day
 */
export function chooseModem({ board, mode, intervalS, uploadEveryS, awake, assumptions }) {
  const candidates = mode === 'always-on' ? ['awake', 'dtr-sleep'] : boardInfo(board).psm ? ['off', 'psm'] : ['off'];
  const figures = {};
  for (const c of candidates) figures[c] = scenario({ board, mode, intervalS, uploadEveryS, modem: c, awake, assumptions }).mAhPerDay;
  let best = candidates[0];
  for (const c of candidates) if (figures[c] < figures[best]) best = c;
  const shown = candidates.map((c) => `${c} ${Number.isFinite(figures[c]) ? figures[c].toFixed(1) : '∞'} mAh/day`).join(', ');
  const why =
    candidates.length === 1
      ? `${board}: only "${best}" (${shown})`
      : `${board}, ${mode}, reading every ${intervalS} s${mode === 'duty-cycle' ? `, upload every ${uploadEveryS} s` : ''}: ${shown} → ${best}`;
  return { modem: best, figures, why };
}
