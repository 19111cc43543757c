// One GPIO, one job: a build gate over the pins a board file (and the config's sensors.i2c) gives
// the firmware. A pin with two roles is a board that cannot work: e.g. the T-SIM7670G-S3 had the
// sensor's SDA on GPIO3, which LilyGO's pin table lists as the modem's RING (issue 10, finding 1),
// so the modem's ring line and the I2C bus would fight over one wire.

/** [path in the board object, what it is] for every pin-valued field of boards/board.ts */
const ROLES = [
  ['uart.rx', "the modem UART's ESP32 RX"],
  ['uart.tx', "the modem UART's ESP32 TX"],
  ['powerOn', "the modem's power enable"],
  ['reset.pin', "the modem's RESET"],
  ['pwrkey.pin', "the modem's PWRKEY"],
  ['dtr', "the modem's DTR"],
  ['ri', "the modem's RI (ring)"],
  ['led.pin', 'the LED'],
  ['battery.pin', 'the battery ADC'],
  ['i2c.sda', 'the sensor I2C SDA'],
  ['i2c.scl', 'the sensor I2C SCL'],
];

// what powerUp may drive: the modem's control lines
const POWER_UP_ROLES = new Set(['powerOn', 'reset.pin', 'pwrkey.pin', 'dtr']);

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
  for (const [pin] of board.powerUp || []) {
    const role = byPin.get(pin);
    if (!role) problems.push(`GPIO${pin} is driven by powerUp in ${file} but is none of the modem's control pins (powerOn, reset, pwrkey, dtr)`);
    else if (!POWER_UP_ROLES.has(role.path)) problems.push(`GPIO${pin} is driven by powerUp in ${file} but it is ${role.what} (${where(role.path)}), not a modem control pin`);
  }
  return problems;
}
