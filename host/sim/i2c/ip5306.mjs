// IP5306 power-bank chip (the custom "IP5306_I2C" part on the T-Call SIM800L) on the simulated
// I2C bus: 7-bit address 0x75 (the datasheet's 8-bit 0xEA/0xEB), register reads with a repeated START.
// Sources: IP5306-REG V1.4 (Injoinic's register manual, not in the repository: see the IP5306-REG
// row of docs/modem-facts.md) and docs/modem-facts.md §C.2.
//   write([reg, d0, d1, …]) writes d0 to reg, d1 to reg+1 …; read(n) returns n bytes from the
//   register on. Auto-increment is [inferred] (the datasheet shows single-byte transfers only).
//   A read is only what IP5306-REG §1 (Figure 2) shows: "First the master has to write the slave
//   address, followed by the register address. Then a restart bit and the slave address specify
//   that a READ is generated." So write([reg]) without a STOP, then a read that begins with a
//   repeated START (the runtime's {stop:false} / {restart:true}, host/runtime/i2c.mjs) reads reg.
//   A register address ended by a STOP is neither of the datasheet's sequences: the write form is
//   address, register, data, STOP ("All 8 bits data must be written before the register is
//   updated"), so it changes nothing, and no sequence keeps a register address for a later read.
//   A read that does not come with a restart right after its register address therefore has no
//   register to answer from: the chip ACKs its address but drives no data, and the bus's pull-up
//   reads 0xFF for each byte [inferred: the datasheet defines no answer; 0xFF is what an undriven
//   open-drain line reads]. Such reads are counted in stats.badReads. (0xFF looks like SYS_CTL0
//   with keep-on set, so a driver that reads with a STOP never sets keep-on.)
//   Reserved bits "must not be changed" (read-modify-write, IP5306-REG §2 item 2 and §3): a
//   write is accepted, reserved bits keep their value, and each write that tried to change them
//   is counted in stats.reservedWrites (so a test can see a driver that does not RMW).
//   0x00 SYS_CTL0 reset 0xBE per the datasheet bit table (7:6=10, boost 1, charger 1, bit3 1,
//     auto-on 1, keep-on 1, key-off 0). LilyGO writes 0x37/0x35 and calls 0x37 the default;
//     modem-facts notes the conflict. `sysCtl0` overrides the power-on value (e.g. 0xBC: keep-on
//     clear, the state that makes T-Call boards switch off under light load).
//   0x01 SYS_CTL1 reset 0x05 (bit2 boost on when VIN removed = 1, bit0 low-battery off = 1).
//   0x02 SYS_CTL2 bits 3:2 light-load shutdown delay 00=8 s 01=32 s 10=16 s 11=64 s; the reset
//     value is not given [inferred: 00 = 8 s, the shortest]; bits 1:0 R/W reserved.
//   0x70 bit3 charging, 0x71 bit3 full, 0x72 bit2 light load (1 light, 0 heavy): read-only.
//   0x77 key flags bit0 short, bit1 long, bit2 double press; write 1 to clear.
//   0x78 battery level, undocumented (M5Stack lineage, §C.2): high nibble 0x00 -> 100 %,
//     0x80 -> 75 %, 0xC0 -> 50 %, 0xE0 -> 25 %, else (0xF0 here) -> 0 %.
// Power behaviour: on battery, with boost enabled (0x00 bit5) and keep-on (0x00 bit1) clear, a
// light load switches the output off after the 0x02 delay ("without keep-on, the boost turns
// off when the load is light", §C.2). With boost disabled the chip cannot light-load shut down
// (0x00 bit5 note). USB (VIN) present: the board runs from VIN, no cut; VIN removed: boost takes
// over only if 0x01 bit2 is set, else the output goes off. A short key press turns it back on
// [inferred: the usual power-bank key behaviour]. Whether the load is light is the rig's call
// (setLoad), e.g. 'heavy' while the modem is powered, 'light' in deep sleep.
//
// Wiring into a rig: the runtime (host/runtime/espruino.mjs) has device.reboot() (hard reset,
// boots at once) but no powerOff(); a rig can onPowerCut(() => { stop the firmware; drop the
// modem's POWER_ON rail }) and onPowerOn(() => device.reboot()). Stopping the firmware without
// rebooting needs a powerOff() in the runtime (not there yet).

export const IP5306_ADDRESS = 0x75;
export const LIGHT_LOAD_DELAYS_MS = [8000, 32000, 16000, 64000]; // 0x02 bits 3:2 = 00, 01, 10, 11

const WRITABLE = { 0x00: 0x37, 0x01: 0xe7, 0x02: 0x0f, 0x20: 0x03, 0x21: 0xdc, 0x22: 0x0f, 0x23: 0x20, 0x24: 0x1f };
const BATTERY = [
  [100, 0x00],
  [75, 0x80],
  [50, 0xc0],
  [25, 0xe0],
  [0, 0xf0],
];

export function createIp5306({ clock, device, batteryLevel = 100, onUsb = false, load = 'light', sysCtl0 = 0xbe, attach = true } = {}) {
  const regs = new Uint8Array(256);
  function powerOnRegisters() {
    regs.fill(0);
    regs[0x00] = sysCtl0;
    regs[0x01] = 0x05;
    regs[0x02] = 0x00;
    regs[0x20] = 0x02; // Charger_CTL0 1:0 reset 10
    regs[0x21] = 0x54; // 7:6 = 01, 4:2 = 101
    regs[0x22] = 0x01;
    regs[0x23] = 0x20;
  }
  powerOnRegisters();
  let supplied = true; // battery or VIN behind the chip at all (loseSupply: neither)
  // the register address written without a STOP, waiting for the repeated START of its read
  let armed = null;
  let level = batteryLevel;
  let usb = onUsb;
  let ld = load;
  let powered = true;
  let cutTimer = null;
  let cutDue = null;
  const cutFns = [];
  const onFns = [];
  const stats = { writes: [], reads: 0, badReads: 0, reservedWrites: 0, cuts: 0 };

  const keepOn = () => (regs[0x00] & 0x02) !== 0;
  const boostEnabled = () => (regs[0x00] & 0x20) !== 0;
  const delayMs = () => LIGHT_LOAD_DELAYS_MS[(regs[0x02] >> 2) & 3];

  function status(reg) {
    if (reg === 0x70) return usb && level < 100 ? 0x08 : 0x00;
    if (reg === 0x71) return usb && level >= 100 ? 0x08 : 0x00;
    if (reg === 0x72) return ld === 'light' ? 0x04 : 0x00;
    if (reg === 0x78) return (BATTERY.find(([p]) => level >= p) || BATTERY[BATTERY.length - 1])[1];
    return regs[reg];
  }

  function cut(why) {
    if (!powered) return;
    powered = false;
    stats.cuts++;
    for (const f of cutFns) f(why);
  }
  function powerOn(why) {
    if (powered || !supplied) return;
    powered = true;
    for (const f of onFns) f(why);
    evaluate();
  }

  // (re)arms or cancels the light-load shutdown timer from the present conditions
  function evaluate() {
    const shouldCount = powered && !usb && boostEnabled() && !keepOn() && ld === 'light';
    if (!shouldCount) {
      if (cutTimer != null) clock.clearTimeout(cutTimer);
      cutTimer = null;
      cutDue = null;
      return;
    }
    const d = delayMs();
    if (cutTimer != null && cutDue != null && cutDue.delay === d) return; // already counting
    if (cutTimer != null) clock.clearTimeout(cutTimer);
    const since = cutDue ? cutDue.since : clock.now();
    cutDue = { since, delay: d };
    cutTimer = clock.setTimeout(
      () => {
        cutTimer = null;
        cutDue = null;
        cut('light load');
      },
      Math.max(0, since + d - clock.now()),
    );
  }

  const dev = {
    write(bytes, { stop = true } = {}) {
      if (!powered) throw new Error('IP5306 off'); // [inferred] nothing answers on a dead bus
      armed = null;
      if (!bytes.length) return;
      let pointer = bytes[0] & 0xff;
      if (bytes.length === 1) {
        if (!stop) armed = pointer; // the first half of a read (Figure 2)
        return;
      }
      for (const v of bytes.slice(1)) {
        const reg = pointer;
        const mask = WRITABLE[reg];
        stats.writes.push({ t: clock.now(), reg, value: v & 0xff });
        if (reg === 0x77)
          regs[0x77] &= ~(v & 0x07); // write 1 to clear
        else if (mask != null) {
          if (((v ^ regs[reg]) & ~mask & 0xff) !== 0) stats.reservedWrites++;
          regs[reg] = (regs[reg] & ~mask) | (v & mask);
        } else if (reg < 0x70) {
          stats.reservedWrites++; // a register the datasheet does not document: left alone
        }
        pointer = (pointer + 1) & 0xff;
      }
      evaluate();
    },
    read(n, { restart = false } = {}) {
      if (!powered) throw new Error('IP5306 off');
      stats.reads++;
      let reg = armed;
      armed = null;
      if (reg === null || !restart) {
        stats.badReads++;
        return new Array(n).fill(0xff);
      }
      const out = [];
      for (let i = 0; i < n; i++) {
        out.push(status(reg));
        reg = (reg + 1) & 0xff;
      }
      return out;
    },
  };

  if (attach && device && device.i2c) device.i2c.attach(IP5306_ADDRESS, dev);
  evaluate();

  return {
    address: IP5306_ADDRESS,
    device: dev,
    registers: regs,
    stats,
    get powered() {
      return powered;
    },
    get keepOn() {
      return keepOn();
    },
    get lightLoadDelayMs() {
      return delayMs();
    },
    /** ms until the light-load cut, or null when none is pending */
    get cutInMs() {
      return cutDue ? cutDue.since + cutDue.delay - clock.now() : null;
    },
    onPowerCut: (fn) => (cutFns.push(fn), () => cutFns.splice(cutFns.indexOf(fn), 1)),
    onPowerOn: (fn) => (onFns.push(fn), () => onFns.splice(onFns.indexOf(fn), 1)),
    setLoad(v) {
      if (v !== 'light' && v !== 'heavy') throw new Error(`setLoad: 'light' or 'heavy', not ${v}`);
      ld = v;
      if (v === 'heavy') cutDue = null;
      evaluate();
    },
    setBatteryLevel(p) {
      level = p;
    },
    setUsb(on) {
      usb = !!on;
      if (usb) powerOn('usb');
      else if (powered && !(regs[0x01] & 0x04)) cut('vin removed');
      evaluate();
    },
    /**
     * Power loss (faults): battery and VIN both gone. The output is off at once (onPowerCut) and
     * the chip forgets its registers (keep-on included) [inferred: the registers are volatile, the
     * datasheet gives only their reset values].
     */
    loseSupply() {
      supplied = false;
      cut('supply lost');
      evaluate();
    },
    /**
     * The supply is back: the chip starts with its power-on registers and switches the output on
     * (onPowerOn) [inferred: as with VIN plugged in; a battery alone may need a key press on the
     * T-Call (TCALL README FAQ), which pressKey('short') models].
     */
    restoreSupply({ key = true } = {}) {
      if (supplied) return;
      supplied = true;
      powerOnRegisters();
      armed = null;
      if (key || usb) powerOn('supply back');
      evaluate();
    },
    /** the key on the board: 'short' | 'long' | 'double' sets the 0x77 flag; short turns on */
    pressKey(kind = 'short') {
      regs[0x77] |= { short: 1, long: 2, double: 4 }[kind] || 0;
      if (kind === 'short') powerOn('key');
      else if (kind === 'double' && powered && !usb) cut('key'); // [inferred] double press = off (0x00 bit5 note)
    },
  };
}
