// Tests of the IP5306 simulator (host/sim/i2c/ip5306.mjs). Run:
//   node --import tsx --test test/sim-ip5306.test.mjs
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createClock } from '../host/runtime/clock.mjs';
import { createIp5306, IP5306_ADDRESS } from '../host/sim/i2c/ip5306.mjs';

describe('sim-ip5306.test.mjs', () => {
  /** a bus that only records attach() (the runtime's device.i2c has the same shape) */
  function setup(opts = {}) {
    const clock = createClock();
    const attached = new Map();
    const device = { i2c: { attach: (addr, dev) => attached.set(addr, dev) } };
    const chip = createIp5306({ clock, device, ...opts });
    const dev = attached.get(0x75);
    const cuts = [];
    chip.onPowerCut((why) => cuts.push({ t: clock.now(), why }));
    // the datasheet's read (IP5306-REG Figure 2): register address, no STOP, repeated START, read
    const readReg = (reg) => (dev.write([reg], { stop: false, restart: false }), dev.read(1, { stop: true, restart: true })[0]);
    const writeReg = (reg, v) => dev.write([reg, v], { stop: true, restart: false });
    return { clock, chip, dev, cuts, readReg, writeReg };
  }

  describe('IP5306 registers', () => {
    it('sits at 0x75; register pointer; SYS_CTL0 resets to the datasheet 0xBE', () => {
      const s = setup();
      assert.equal(IP5306_ADDRESS, 0x75);
      assert.ok(s.dev, 'attached at 0x75');
      assert.equal(s.readReg(0x00), 0xbe);
      assert.equal(s.readReg(0x01), 0x05);
      // a multi-byte read walks on from the pointer
      s.dev.write([0x00], { stop: false, restart: false });
      assert.deepEqual(s.dev.read(2, { stop: true, restart: true }), [0xbe, 0x05]);
    });

    it("a read is only the datasheet's (register address, repeated START, read); after a STOP there is no register: 0xFF", () => {
      const s = setup({ sysCtl0: 0xbc });
      // register address ended by a STOP, then a new START and the read: what `writeTo(0x75, reg)`
      // then `readFrom(0x75, 1)` does in Espruino
      s.dev.write([0x00], { stop: true, restart: false });
      assert.deepEqual(s.dev.read(1, { stop: true, restart: false }), [0xff]);
      // a read with no register address at all, or a restart after something else
      assert.deepEqual(s.dev.read(2, { stop: true, restart: false }), [0xff, 0xff]);
      s.dev.write([0x00, 0xbc], { stop: false, restart: false });
      assert.deepEqual(s.dev.read(1, { stop: true, restart: true }), [0xff], 'a restart after a data write is no register read');
      assert.equal(s.chip.stats.badReads, 3);
      // the register address written with a STOP changed nothing: the real value is still there
      assert.equal(s.readReg(0x00), 0xbc);
      assert.equal(s.chip.stats.badReads, 3);
      assert.equal(s.chip.stats.reservedWrites, 0);
    });

    it('keep-on by read-modify-write: only bit 1 changes, no reserved-bit write counted', () => {
      const s = setup({ sysCtl0: 0xbc });
      const v = s.readReg(0x00);
      s.writeReg(0x00, v | 0x02);
      assert.equal(s.readReg(0x00), 0xbe);
      assert.equal(s.chip.keepOn, true);
      assert.equal(s.chip.stats.reservedWrites, 0);
      s.writeReg(0x00, s.readReg(0x00) & ~0x02);
      assert.equal(s.chip.keepOn, false);
      assert.equal(s.chip.stats.reservedWrites, 0);
    });

    it("LilyGO's whole-byte writes 0x37 / 0x35 are accepted; reserved bits keep their value and are counted", () => {
      const s = setup();
      s.writeReg(0x00, 0x37);
      assert.equal(s.chip.keepOn, true);
      assert.equal(s.readReg(0x00), 0xbf, 'bits 7:6 and 3 stay 10 / 1; bit 0 (key-off) set as written');
      assert.equal(s.chip.stats.reservedWrites, 1);
      s.writeReg(0x00, 0x35);
      assert.equal(s.chip.keepOn, false);
      assert.equal(s.readReg(0x00), 0xbd);
    });

    it('battery level in 0x78 (high nibble): 100/75/50/25/0 %', () => {
      const s = setup();
      const table = [
        [100, 0x00],
        [75, 0x80],
        [50, 0xc0],
        [25, 0xe0],
      ];
      for (const [pct, reg] of table) {
        s.chip.setBatteryLevel(pct);
        assert.equal(s.readReg(0x78) & 0xf0, reg, `${pct} %`);
      }
      s.chip.setBatteryLevel(80);
      assert.equal(s.readReg(0x78) & 0xf0, 0x80, '80 % reads as the 75 % step');
      s.chip.setBatteryLevel(5);
      assert.ok(![0x00, 0x80, 0xc0, 0xe0].includes(s.readReg(0x78) & 0xf0), 'below 25 %: none of the known codes');
    });

    it('status: 0x70 bit3 charging, 0x71 bit3 full, 0x72 bit2 light load; 0x77 key flags write-1-to-clear', () => {
      const s = setup({ onUsb: true, batteryLevel: 50 });
      assert.equal(s.readReg(0x70) & 0x08, 0x08);
      assert.equal(s.readReg(0x71) & 0x08, 0);
      s.chip.setBatteryLevel(100);
      assert.equal(s.readReg(0x70) & 0x08, 0);
      assert.equal(s.readReg(0x71) & 0x08, 0x08);
      assert.equal(s.readReg(0x72) & 0x04, 0x04);
      s.chip.setLoad('heavy');
      assert.equal(s.readReg(0x72) & 0x04, 0);
      s.chip.pressKey('long');
      s.chip.pressKey('double');
      assert.equal(s.readReg(0x77) & 0x07, 0x06);
      s.writeReg(0x77, 0x02);
      assert.equal(s.readReg(0x77) & 0x07, 0x04);
    });
  });

  describe('IP5306 light-load shutdown', () => {
    it('on battery without keep-on the output is cut after the 0x02 delay (8 s default)', async () => {
      const s = setup({ sysCtl0: 0xbc });
      assert.equal(s.chip.lightLoadDelayMs, 8000);
      await s.clock.runFor(7900);
      assert.equal(s.chip.powered, true);
      await s.clock.runFor(200);
      assert.equal(s.chip.powered, false);
      assert.deepEqual(s.cuts, [{ t: 8000, why: 'light load' }]);
      assert.throws(() => s.readReg(0x00), /off/, 'nothing answers on the bus');
    });

    it('the delay follows 0x02 bits 3:2 (00 8 s, 01 32 s, 10 16 s, 11 64 s)', async () => {
      for (const [bits, ms] of [
        [0b01, 32000],
        [0b10, 16000],
        [0b11, 64000],
      ]) {
        const s = setup({ sysCtl0: 0xbc });
        s.writeReg(0x02, (s.readReg(0x02) & ~0x0c) | (bits << 2));
        await s.clock.runFor(ms - 100);
        assert.equal(s.chip.powered, true, `${ms}`);
        await s.clock.runFor(200);
        assert.equal(s.chip.powered, false, `${ms}`);
      }
    });

    it('keep-on set in time (RMW) keeps it on; a heavy load or USB does too', async () => {
      const s = setup({ sysCtl0: 0xbc });
      await s.clock.runFor(5000);
      s.writeReg(0x00, s.readReg(0x00) | 0x02);
      await s.clock.runFor(120000);
      assert.equal(s.chip.powered, true);
      assert.equal(s.cuts.length, 0);

      const h = setup({ sysCtl0: 0xbc });
      h.chip.setLoad('heavy');
      await h.clock.runFor(120000);
      assert.equal(h.chip.powered, true);
      h.chip.setLoad('light'); // e.g. modem off, ESP32 asleep: counts from now
      await h.clock.runFor(7000);
      assert.equal(h.chip.powered, true);
      await h.clock.runFor(1100);
      assert.equal(h.chip.powered, false);

      const u = setup({ sysCtl0: 0xbc, onUsb: true });
      await u.clock.runFor(120000);
      assert.equal(u.chip.powered, true);
    });

    it('keep-on cleared later starts the count then; boost disabled cannot light-load shut down', async () => {
      const s = setup(); // datasheet reset: keep-on set
      await s.clock.runFor(60000);
      assert.equal(s.chip.powered, true);
      s.writeReg(0x00, s.readReg(0x00) & ~0x02);
      await s.clock.runFor(7900);
      assert.equal(s.chip.powered, true);
      await s.clock.runFor(200);
      assert.equal(s.chip.powered, false);

      const b = setup({ sysCtl0: 0xbc & ~0x20 });
      await b.clock.runFor(120000);
      assert.equal(b.chip.powered, true);
    });

    it('a short key press powers it back on (onPowerOn); USB removal with 0x01 bit2 clear cuts', async () => {
      const s = setup({ sysCtl0: 0xbc });
      const ons = [];
      s.chip.onPowerOn((why) => ons.push(why));
      await s.clock.runFor(9000);
      assert.equal(s.chip.powered, false);
      s.chip.pressKey('short');
      assert.equal(s.chip.powered, true);
      assert.deepEqual(ons, ['key']);
      assert.equal(s.readReg(0x77) & 1, 1);

      const u = setup({ onUsb: true });
      u.writeReg(0x01, u.readReg(0x01) & ~0x04);
      u.chip.setUsb(false);
      assert.equal(u.chip.powered, false);
      assert.equal(u.cuts[0].why, 'vin removed');
    });
  });
});
