// IP5306 power-bank chip on the T-Call SIM800L (I2C 0x75; IP5306 register manual and
// docs/modem-facts.md §C.2). On battery it switches the board off after a while of light load unless
// "boost keep-on" (SYS_CTL0 bit 1) is set, so this runs before the modem is powered. The
// datasheet says read-modify-write: reserved bits must not change.
// A read is the datasheet's (IP5306-REG Figure 2): the register address, then "a restart bit and
// the slave address specify that a READ is generated", so the address goes without a STOP
// (Espruino: writeTo({address, stop:false}) leaves out i2c_master_stop, so the next readFrom
// starts with a repeated START; jswrap_spi_i2c.c, targets/esp32/jshardwareI2c.c). A read that
// still is not what SYS_CTL0 can hold is never written back: LilyGO's 0x37 is written instead.

const ADDRESS = 0x75;
const SYS_CTL0 = 0x00;
const KEEP_ON = 0x02;
// SYS_CTL0 bits 7:3 as the datasheet resets them: reserved 10, boost on, charger on, reserved 1.
// Only such a read is trusted for read-modify-write.
const SANE_MASK = 0xf8;
const SANE = 0xb8;
const LILYGO = 0x37; // LilyGO's setPowerBoostKeepOn: boost, charger, auto-on and keep-on enabled
const READ0 = 0x70; // bit 3: charging
const LEVEL = 0x78; // undocumented: high nibble 0x00 100 %, 0x80 75 %, 0xC0 50 %, 0xE0 25 %
const CHARGING = 0x08;

function readReg(i2c: EspruinoI2C, reg: number): number {
  i2c.writeTo({ address: ADDRESS, stop: false }, reg);
  return i2c.readFrom(ADDRESS, 1)[0];
}

/** Sets keep-on; an error text if the chip does not answer (the board then runs as before). */
export function ip5306KeepOn(i2c: EspruinoI2C): string | null {
  try {
    const v = readReg(i2c, SYS_CTL0);
    const sane = (v & SANE_MASK) == SANE;
    if (!sane || !(v & KEEP_ON)) i2c.writeTo(ADDRESS, [SYS_CTL0, sane ? v | KEEP_ON : LILYGO]);
    return null;
  } catch (e) {
    return 'power: the IP5306 power chip does not answer on I2C (' + (e as any).message + '); the board may switch off on battery under light load';
  }
}

/** Battery 0/25/50/75/100 % and charging 1/0; null for each when the chip cannot be read
 *  (on USB without a battery it may not answer). */
export function ip5306Battery(i2c: EspruinoI2C): { pct: number | null; chg: number | null } {
  try {
    const level = readReg(i2c, LEVEL) & 0xf0;
    const chg = readReg(i2c, READ0) & CHARGING ? 1 : 0;
    return { pct: level == 0 ? 100 : level == 0x80 ? 75 : level == 0xc0 ? 50 : level == 0xe0 ? 25 : 0, chg: chg };
  } catch (e) {
    return { pct: null, chg: null };
  }
}
