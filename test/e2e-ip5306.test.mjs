// The T-Call SIM800L's IP5306 power chip, end to end: the shipped bundle (build.mjs output,
// unmodified) on the Espruino-like runtime, whose I2C passes Espruino's STOP / repeated START
// (host/runtime/i2c.mjs), with the IP5306 model answering only the datasheet's register read
// (IP5306-REG Figure 2: register address, then "a restart bit and the slave address specify that
// a READ is generated"; host/sim/i2c/ip5306.mjs). The chip starts with keep-on clear, on battery,
// light load: the state in which a T-Call switches itself off unless the firmware sets keep-on.
// Run: node --import tsx --test test/e2e-ip5306.test.mjs
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createRig } from '../host/testing/rig.mjs';

describe('e2e-ip5306.test.mjs', () => {
  const SYS_CTL0 = 0x00;

  async function withRig(opts, fn, before) {
    const rig = await createRig({ board: 't-call-sim800l', ...opts });
    try {
      if (before) before(rig);
      rig.start();
      await fn(rig);
    } finally {
      await rig.close();
    }
  }

  const ctl0Writes = (rig) => rig.powerChip.stats.writes.filter((w) => w.reg === SYS_CTL0).map((w) => w.value);

  it('T-Call SIM800L: SYS_CTL0 is read with a repeated START, keep-on is set and every other bit kept, and the board stays on', async () => {
    await withRig({ powerChipOptions: { batteryLevel: 50 } }, async (rig) => {
      const ip = rig.powerChip;
      // long past the light-load delay (8 s): a first reading, or the board switched off
      await rig.until(() => rig.readings().length >= 1 || ip.stats.cuts > 0, 180000);
      assert.equal(ip.stats.cuts, 0, `the power chip switched the board off (SYS_CTL0 writes: ${JSON.stringify(ctl0Writes(rig))}, keep-on ${ip.keepOn})`);
      assert.equal(rig.readings().length, 1, rig.explain('no reading'));
      assert.deepEqual(ctl0Writes(rig), [0xbe], 'one write: the value read (0xBC) with keep-on (bit 1)');
      assert.equal(ip.registers[SYS_CTL0], 0xbe, 'boost (bit 5), charger (bit 4) and the reserved bits as they were');
      assert.equal(ip.stats.reservedWrites, 0);
      assert.equal(ip.keepOn, true);
      const log = rig.device.log;
      assert.ok(log.findIndex((l) => /keep-on set/.test(l)) < log.findIndex((l) => /power: modem on/.test(l)), 'before the modem was powered');
      const r = JSON.parse(rig.readings()[0].text);
      assert.deepEqual([r.bat, r.chg], [50, 0], '0x78 = 0xC0 → 50 %, 0x70 bit 3 clear: read with a repeated START too');
      assert.equal(ip.stats.badReads, 0, "every register read was the datasheet's (address, restart, read)");
      assert.deepEqual(rig.device.errors, []);
    });
  });

  // A read that comes back as nothing the chip's SYS_CTL0 can hold (a disturbed bus, a chip
  // variant): the firmware must not write it back, and falls back to LilyGO's value 0x37
  // (keep-on, boost, charger, auto-on). The read is disturbed here, in the test, on the rig's bus.
  for (const garbage of [0x00, 0xff, 0x4a]) {
    it(`T-Call SIM800L: a SYS_CTL0 read of 0x${garbage.toString(16).padStart(2, '0')} is not written back: LilyGO's 0x37 is, so boost and charger stay on and keep-on is set`, async () => {
      const before = (rig) => {
        const dev = rig.powerChip.device;
        const read = dev.read;
        let first = true;
        dev.read = (n, o) => {
          const real = read(n, o);
          if (!first) return real;
          first = false;
          return real.map(() => garbage);
        };
      };
      await withRig(
        {},
        async (rig) => {
          const ip = rig.powerChip;
          await rig.until(() => rig.device.log.some((l) => /power: (IP5306|modem on)/.test(l)), 5000);
          assert.deepEqual(ctl0Writes(rig), [0x37], "LilyGO's value, not the garbage read back");
          assert.equal(ip.registers[SYS_CTL0] & 0x30, 0x30, 'boost (bit 5) and charger (bit 4) enabled');
          assert.equal(ip.keepOn, true);
          await rig.until(() => false, 30000);
          assert.equal(ip.stats.cuts, 0, 'the board stays on');
          assert.deepEqual(rig.device.errors, []);
        },
        before,
      );
    });
  }
});
