// One GPIO, one job: a build gate over the pins a board file (and the config's sensors.i2c) gives
// the firmware. A pin with two roles is a board that cannot work: e.g. the T-SIM7670G-S3 had the
// sensor's SDA on GPIO3, which LilyGO's pin table lists as the modem's RING (issue 10, finding 1),
// so the modem's ring line and the I2C bus would fight over one wire.
// And one GPIO number per pin: the board's power-up names its pins by role ('powerOn', 'reset',
// 'pwrkey', 'dtr'), the gate checks each role is a pin the board has, and resolveBoard puts the
// numbers in for the firmware, which runs [pin, level, ms] steps.

/** [path in the board object, what it is] for every pin-valued field of boards/board.ts */
const ROLES = [
  ['uart.rx', "the modem UART's ESP32 RX"],
  ['uart.tx', "the modem UART's ESP32 TX"],
  ['powerOn', "the modem's power enable"],
  ['reset.pin', "the modem's RESET"],
  ['pwrkey.pin', "the modem's PWRKEY"],
  ['dtr', "the modem's DTR"],
  ['documented.ri', "the modem's RI (ring)"],
  ['documented.led.pin', 'the LED'],
  ['battery.pin', 'the battery ADC'],
  ['i2c.sda', 'the sensor I2C SDA'],
  ['i2c.scl', 'the sensor I2C SCL'],
  ['sensorPins.dht', "the DHT's data line"],
  ['sensorPins.ds18b20', "the DS18B20's OneWire line"],
  ['sensorPins.analog', 'the analog input'],
];

/** what a powerUp step may name (the modem's control lines) → where the board file has its GPIO */
export const CONTROL_PINS = { powerOn: 'powerOn', reset: 'reset.pin', pwrkey: 'pwrkey.pin', dtr: 'dtr' };

function get(o, path) {
  for (const k of path.split('.')) o = o == null ? undefined : o[k];
  return o;
}

/**
 * The problems with a board's pins, one sentence each naming the GPIO and both roles.
 * @param board a board object (boards/*.ts), with the config's sensor pins already applied
 * @param {{from?: Object<string, string>}} [o] from: role path → where it was set, for roles that
 *   do not come from the board file (e.g. {'i2c.sda': 'sensors.i2c.sda in the config'})
 * @returns {string[]}
 */
export function pinClashes(board, { from = {} } = {}) {
  const file = `boards/${board.id}.ts`;
  const where = (path) => from[path] || `${path} in ${file}`;
  const problems = [];
  const byPin = new Map();
  for (const [path, what] of ROLES) {
    const pin = get(board, path);
    if (pin === undefined) continue;
    if (!Number.isInteger(pin) || pin < 0) {
      problems.push(`${where(path)}: ${what} must be a GPIO number, got ${JSON.stringify(pin)}`);
      continue;
    }
    const had = byPin.get(pin);
    if (had) {
      // the config's role second, so the sentence ends with what the user can change
      const [a, b] = from[had.path] && !from[path] ? [{ path, what }, had] : [had, { path, what }];
      const fix = from[b.path]
        ? `move ${from[b.path].split(' ')[0]} to a pin the board leaves free`
        : b.path.startsWith('i2c.')
          ? `fix ${file}, or put the sensor on free pins with sensors.i2c in the config`
          : `fix ${file}`;
      problems.push(`GPIO${pin} has two roles on ${board.id}: ${a.what} (${where(a.path)}) and ${b.what} (${where(b.path)}); ${fix}`);
    } else byPin.set(pin, { path, what });
  }
  problems.push(...powerUpProblems(board));
  return problems;
}

/**
 * The problems with a board's power-up steps, one sentence each naming the board file, the step
 * and what to change: each step is [role, level, ms] with role one of CONTROL_PINS that the board
 * has, level 0 or 1, ms a whole number.
 * @returns {string[]}
 */
export function powerUpProblems(board) {
  const file = `boards/${board.id}.ts`;
  const roles = Object.keys(CONTROL_PINS)
    .map((r) => `'${r}'`)
    .join(', ');
  if (board.powerUp === undefined) return []; // a partial board (tests); tsc requires it in boards/*.ts
  if (!Array.isArray(board.powerUp)) return [`powerUp in ${file}: must be a list of [pin, level, ms] steps, each pin named by its role (${roles})`];
  const problems = [];
  board.powerUp.forEach((step, i) => {
    const at = `powerUp step ${i + 1} ${JSON.stringify(step)} in ${file}`;
    if (!Array.isArray(step) || step.length !== 3) return problems.push(`${at}: must be [pin, level, ms], the pin named by its role (${roles})`);
    const [role, level, ms] = step;
    if (typeof role === 'number') {
      const same = Object.keys(CONTROL_PINS).find((r) => get(board, CONTROL_PINS[r]) === role);
      problems.push(
        `${at}: names GPIO${role} by its number; name the pin by its role (${same ? `'${same}'` : roles}) so its number is written once, in ${same ? CONTROL_PINS[same] : 'the board file'}`,
      );
    } else if (!Object.hasOwn(CONTROL_PINS, role)) {
      problems.push(`${at}: ${JSON.stringify(role)} is not a modem control pin a power-up may drive; use one of ${roles}`);
    } else if (get(board, CONTROL_PINS[role]) === undefined) {
      problems.push(
        `${at}: names '${role}', but ${file} has no ${CONTROL_PINS[role]}; add ${CONTROL_PINS[role]} (its GPIO number) to the board, or remove the step`,
      );
    }
    if (level !== 0 && level !== 1) problems.push(`${at}: the level must be 0 or 1`);
    if (!Number.isInteger(ms) || ms < 0) problems.push(`${at}: the wait must be a whole number of milliseconds, 0 or more`);
  });
  return problems;
}

/**
 * The board with its power-up steps as the firmware runs them: [GPIO number, level, ms]. The
 * steps must have passed powerUpProblems (resolveConfig runs it through pinClashes); a step that
 * has not throws here with the same sentence.
 */
export function resolveBoard(board) {
  const problems = powerUpProblems(board);
  if (problems.length) throw new Error(problems.join('\n'));
  return { ...board, powerUp: board.powerUp.map(([role, level, ms]) => [get(board, CONTROL_PINS[role]), level, ms]) };
}
