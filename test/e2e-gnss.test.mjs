// GNSS end to end on the T-SIM7670G-S3's virtual board: the built bundle (config sensors.gnss)
// powers the SIM7670G's GNSS and its antenna (host/sim/a76xx/gnss.mjs) and the readings that reach
// the broker carry the simulated position, or say why not.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { withRig } from './with-rig.mjs';

describe('e2e-gnss.test.mjs', () => {
  const board = 't-sim7670g-s3';
  const position = { lat: -33.8567844, lon: 151.2152967, alt: 58.37 };
  const config = (fixTimeoutSeconds) => ({ intervalSeconds: 120, sensors: { bme280: {}, gnss: { fixTimeoutSeconds } } });
  const readings = (rig) => rig.readings().map((m) => JSON.parse(m.text));

  it('a fix within the budget: lat, lon (6 decimals), alt (1 decimal) in the reading at the broker', async () => {
    await withRig({ board, config: config(90), modemOptions: { gnss: { ttffMs: 35000, position } } }, async (rig) => {
      const ok = await rig.until(() => rig.readings().length >= 2, 400000);
      assert.ok(ok, rig.explain('two readings'));
      const [r1, r2] = readings(rig);
      assert.equal(r1.lat, -33.856784);
      assert.equal(r1.lon, 151.215297);
      assert.equal(r1.alt, 58.4);
      assert.equal(r1.err, undefined);
      assert.ok(typeof r1.t === 'number', 'the BME280 reading is there too');
      assert.deepEqual([r2.lat, r2.lon, r2.alt], [r1.lat, r1.lon, r1.alt]);
      const log = rig.device.log.join('\n');
      // the antenna GPIO was powered before GNSS, once: the second fix needed no power-up
      assert.equal((log.match(/gnss: powered/g) || []).length, 1, log);
      const tx = rig.modem.transcript.text();
      const i = tx.indexOf('AT+CGDRT=4,1');
      assert.ok(i >= 0 && i < tx.indexOf('AT+CGSETV=4,1') && tx.indexOf('AT+CGSETV=4,1') < tx.indexOf('AT+CGNSSPWR=1'), 'antenna first');
    });
  });

  it('no fix within the budget: the reading is still sent, with err "gnss: no fix in 20 s"', async () => {
    await withRig({ board, config: config(20), modemOptions: { gnss: { neverFix: true } } }, async (rig) => {
      const ok = await rig.until(() => rig.readings().length >= 1, 200000);
      assert.ok(ok, rig.explain('a reading'));
      const [r] = readings(rig);
      assert.equal(r.err, 'gnss: no fix in 20 s');
      assert.equal(r.lat, undefined);
      assert.ok(typeof r.t === 'number');
      assert.equal(r.n, 1);
    });
  });

  it('a garbled CGNSSINFO line is logged and skipped; the next poll gives the position', async () => {
    await withRig({ board, config: config(60), modemOptions: { gnss: { ttffMs: 5000, garbled: 1, position } } }, async (rig) => {
      const ok = await rig.until(() => rig.readings().length >= 1, 200000);
      assert.ok(ok, rig.explain('a reading'));
      const [r] = readings(rig);
      assert.deepEqual([r.lat, r.lon, r.alt, r.err], [-33.856784, 151.215297, 58.4, undefined]);
      const skipped = rig.device.log.filter((l) => l.includes('gnss: line skipped, does not parse'));
      assert.equal(skipped.length, 1, rig.device.log.join('\n'));
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('duty cycle: the modem is off between uploads, so each upload takes one more reading once online, with the position; the readings between carry no GNSS error', async () => {
    const duty = { intervalSeconds: 60, power: { mode: 'duty-cycle', uploadEverySeconds: 180 }, sensors: { bme280: {}, gnss: { fixTimeoutSeconds: 90 } } };
    await withRig({ board, config: duty, modemOptions: { gnss: { ttffMs: 35000, position } } }, async (rig) => {
      const uploads = () => rig.device.log.filter((l) => /upload: done/.test(l)).length;
      const ok = await rig.until(() => uploads() >= 2, 1200000, 1000);
      assert.ok(ok, rig.explain('two uploads'));
      const r = readings(rig);
      assert.deepEqual(
        r.map((x) => x.n),
        r.map((_, i) => i + 1),
        'all in order',
      );
      const withPos = r.filter((x) => x.lat !== undefined);
      assert.equal(withPos.length, 2, JSON.stringify(r));
      for (const x of withPos) assert.deepEqual([x.lat, x.lon, x.alt], [-33.856784, 151.215297, 58.4]);
      assert.deepEqual(
        r.filter((x) => x.err),
        [],
        'no "modem off" errors on the readings between uploads',
      );
      assert.ok(r.length >= 5, `${r.length} readings`);
    });
  });
});
