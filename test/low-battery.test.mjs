// Low battery on a duty-cycled station, end to end in the rig: the battery voltage falls (the
// A76xx board's BAT ADC pin through its divider; the T-Call's IP5306 charge level), the station
// first slows down (interval × slowFactor, readings "low": 1), then stops using the modem and
// sleeps long (readings "low": 2), and comes back when the voltage does; the readings taken
// meanwhile reach the broker at the next upload, carrying their "low" state.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createRig } from '../host/testing/rig.mjs';

describe('low-battery.test.mjs', function () {
  this.timeout(120000);
  const config = {
    intervalSeconds: 60,
    power: { mode: 'duty-cycle', uploadEverySeconds: 300, lowBattery: { slowBelowVolts: 3.5, slowFactor: 4, stopBelowVolts: 3.3, stopSleepSeconds: 900 } },
  };
  // [volts set, what the firmware reads]: the T-Call's IP5306 gives bands (firmware/sensors/battery.ts)
  const cases = {
    't-a7670x': { ok: [3.9, 3.9], slow: [3.42, 3.42], stop: [3.2, 3.2] },
    't-call-sim800l': { ok: [3.9, 3.87], slow: [3.45, 3.4], stop: [3.2, 3.0] },
  };

  for (const [board, v] of Object.entries(cases)) {
    it(`${board}: a falling voltage slows the station, then stops the modem; it recovers when the voltage is back`, async () => {
      const rig = await createRig({ board, config, batteryVolts: v.ok[0] });
      try {
        rig.start();
        const log = () => rig.device.log;
        const count = (re) => log().filter((l) => re.test(l)).length;
        const wakes = () => count(/\] wake: \d+ \(/);
        assert.ok(await rig.until(() => count(/upload: done/) >= 1 && count(/sleep: /) >= 1, 300000, 500), rig.explain('no first upload'));
        const normal = parsed(rig)[0];
        assert.equal(normal.bv, v.ok[1]);
        assert.equal(normal.low, undefined);

        // slow: the next wake reads it first, and sleeps four intervals
        rig.setBatteryVolts(v.slow[0]);
        const w1 = wakes();
        assert.ok(await rig.until(() => wakes() > w1 && count(/sleep: /) > w1, 200000, 500), rig.explain('no wake'));
        assert.ok(
          log().some((l) => l.includes(`battery: ${v.slow[1]} V, below 3.5 V: interval x 4`)),
          rig.explain('no slow line'),
        );
        const t0 = rig.clock.now();
        const w2 = wakes();
        assert.ok(await rig.until(() => wakes() > w2, 400000, 1000));
        const gap = (rig.clock.now() - t0) / 1000;
        assert.ok(gap > 230 && gap < 245, `slowed wake came after ${gap} s, not 4 × 60`);

        // stop: no modem at all in that wake, a long sleep
        rig.setBatteryVolts(v.stop[0]);
        const modemOns = count(/power: modem on/);
        const w3 = wakes();
        assert.ok(
          await rig.until(() => wakes() > w3 && log().some((l) => /sleep: \d+ s \(battery below 3.3 V\)/.test(l)), 400000, 1000),
          rig.explain('no stop'),
        );
        assert.ok(log().some((l) => l.includes(`battery: ${v.stop[1]} V, below 3.3 V: the modem stays off, sleeping 900 s`)));
        assert.ok(log().some((l) => /sleep: 900 s \(battery below 3.3 V\)/.test(l)));
        const t1 = rig.clock.now();
        const w4 = wakes();
        assert.ok(await rig.until(() => wakes() > w4, 1000000, 1000));
        assert.ok(Math.abs((rig.clock.now() - t1) / 1000 - 900) < 5, 'the stopped station sleeps stopSleepSeconds');
        assert.equal(count(/power: modem on/), modemOns, 'no modem while the battery is below stopBelowVolts');

        // back: normal interval, and the next upload delivers the low readings, in order
        rig.setBatteryVolts(v.ok[0]);
        assert.ok(await rig.until(() => log().some((l) => l.includes(`battery: ${v.ok[1]} V, back to normal`)), 1000000, 1000), rig.explain('no recovery'));
        assert.ok(
          await rig.until(() => parsed(rig).some((r) => r.low === 2) && !rig.modem.power.state.startsWith('on'), 400000, 1000),
          rig.explain('low readings not delivered'),
        );
        const r = parsed(rig);
        assert.deepEqual(
          r.map((x) => x.n),
          r.map((_, i) => i + 1),
        );
        const lows = r.map((x) => x.low || 0);
        // 0 … 1 … 2 … then 0 again, never out of order
        assert.ok(lows.includes(1) && lows.includes(2), JSON.stringify(lows));
        assert.ok(lows.indexOf(2) > lows.lastIndexOf(1) - 1 && lows.indexOf(1) > 0, JSON.stringify(lows));
        assert.equal(r.find((x) => x.low === 1).bv, v.slow[1]);
        assert.equal(r.find((x) => x.low === 2).bv, v.stop[1]);
        assert.deepEqual(rig.device.errors, []);
      } finally {
        await rig.close();
      }
    });
  }

  function parsed(rig) {
    return rig.readings().map((m) => JSON.parse(m.text));
  }
});
