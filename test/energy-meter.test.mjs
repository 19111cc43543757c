// The energy meter (host/testing/energy-meter.mjs) on a whole virtual installation: it follows the
// modem's power states and the ESP32's deep sleep from outside the firmware, in virtual time.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createRig } from '../host/testing/rig.mjs';
import { attachEnergyMeter, modelState } from '../host/testing/energy-meter.mjs';

const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);

describe('energy-meter.test.mjs', function () {
  this.timeout(120000);

  it('T-A7670X boot → first publish: phases in order, the modem boot as long as the simulator says', async () => {
    const rig = await createRig({ config: { intervalSeconds: 60 }, modemOptions: { bootMs: 7000 } });
    try {
      const meter = attachEnergyMeter(rig);
      rig.start();
      assert.ok(await meter.until(() => meter.markAfter('published') !== null, 120000), rig.explain('no publish'));
      meter.flush();
      const [c] = meter.cycles();
      assert.equal(c.kind, 'boot');
      for (const k of ['powerUp', 'registration', 'connect', 'publish']) assert.ok(c[k] > 0, `${k}: ${c[k]}`);
      assert.equal(c.toUploaded, c.powerUp + c.registration + c.connect + c.publish + (meter.markAfter('modemOn') - c.start));
      // the simulator counts Ton(uart) (bootMs) from the PWRKEY edge and says 'booting' once the
      // key has been held Ton (50 ms): 6.95 s of booting; "power: modem on" → UART ready is ≥ 7 s
      const t = meter.timeIn();
      assert.ok(Math.abs(t['awake|booting'] - 6.95) < 0.001, `booting ${t['awake|booting']} s`);
      assert.ok(c.powerUp >= 7000 && c.powerUp < 7500, `powerUp ${c.powerUp} ms`);
      // the segments cover the whole run without gaps or overlaps
      assert.ok(Math.abs(sum(t) - rig.clock.now() / 1000) < 1e-6);
      for (let i = 1; i < meter.segments.length; i++) assert.equal(meter.segments[i].from, meter.segments[i - 1].to);
      assert.ok(t['awake|registering'] > 0 && t['awake|data'] > 0, JSON.stringify(t));
    } finally {
      await rig.close();
    }
  });

  it('a deep sleep is counted as sleep until the wake, the modem power state follows its pins', async () => {
    const rig = await createRig({ config: { intervalSeconds: 60 } });
    try {
      const meter = attachEnergyMeter(rig);
      rig.start();
      await meter.until(() => rig.modem.power.state === 'on', 60000);
      const sleptAt = rig.clock.now();
      rig.device.eval('ESP32.deepSleep(20e6)'); // 20 s, from the REPL: the firmware stops here
      await meter.until(() => rig.clock.now() >= sleptAt + 25000, 30000);
      meter.flush();
      const slept = meter.segments.filter((s) => s.mcu === 'sleeping');
      assert.ok(slept.length > 0, JSON.stringify(meter.segments.map((s) => [s.from, s.to, s.mcu, s.power])));
      assert.equal(slept[0].from, sleptAt);
      const total = slept.reduce((a, s) => a + (s.to - s.from), 0);
      assert.ok(total >= 20000 && total < 21000, `slept ${total} ms`);
      // after the wake the boot line comes again and the meter counts the ESP32 awake
      assert.equal(meter.marks.filter((m) => m.name === 'boot').length, 2);
      assert.equal(modelState(meter.segments[meter.segments.length - 1]).mcu, 'awake');
    } finally {
      await rig.close();
    }
  });
});
