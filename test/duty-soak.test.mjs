// Duty cycle over days (issue 13): the shipped bundle with power.mode "duty-cycle" on the virtual
// board, its sleep clock 2 % fast, the power cut in the middle of every 5th upload. Bars: every
// reading arrives, once, in order; timestamps corrected to within a few seconds where the raw RTC
// would be a minute off; Storage use does not grow. DUTY_SOAK_DAYS (default 3) sets the length;
// bench/soak-duty.mjs prints the 30-day run. Under 3 days the first quarter is still Storage filling
// up to its working size (the first day), so the growth bar needs at least 3.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { runDutySoak, analyse } from '../host/testing/duty-soak.mjs';

describe('duty-soak.test.mjs', function () {
  const DAYS = Number(process.env.DUTY_SOAK_DAYS || 3);
  this.timeout(300000 + DAYS * 60000);

  it('the arithmetic on made-up data: missing, out of order, duplicates, timestamp errors, storage growth', () => {
    const MIN = 60000;
    const epoch = Date.UTC(2025, 0, 1);
    const takes = [1, 2, 3, 4, 5].map((k) => k * 15 * MIN);
    const msg = (n, errS) => ({
      topic: 't',
      clientId: 'c',
      payload: Buffer.from(JSON.stringify({ ts: new Date(epoch + takes[n - 1] + errS * 1000).toISOString().slice(0, 19) + 'Z', n })),
    });
    const r = analyse({
      received: [msg(1, 0), msg(3, 2), msg(2, -1), msg(3, 2), msg(5, 0)],
      takes,
      epoch,
      telemetry: 't',
      clientId: 'c',
      devLog: [{ t: 30 * MIN, line: '[1.0] clock: -36.0 s off the network time after 0.5 h' }],
      storage: [{ fileBytes: 100 }, { fileBytes: 100 }, { fileBytes: 100 }, { fileBytes: 900 }],
      cuts: [],
      driftPpm: 20000,
    });
    assert.deepEqual(r.missing, [4]);
    assert.equal(r.outOfOrder, 1, 'n=2 after n=3');
    assert.equal(r.duplicates, 1);
    assert.equal(r.delivered, 4);
    assert.equal(r.maxTsErrS, 2);
    // the raw RTC: 2 % of the time since the sync at 30 min, worst for n=5 (75 min - 30 min)
    assert.equal(r.maxRawErrS, 54);
    assert.equal(r.storageFirstBytes, 100);
    assert.equal(r.storageLastBytes, 900);
  });

  for (const board of ['t-a7670x', 't-call-sim800l']) {
    it(`${board}: ${DAYS} days of 15-minute readings, hourly uploads, a fast sleep clock and cut uploads: all delivered in order, timestamps corrected, Storage flat`, async () => {
      const r = await runDutySoak({ board, days: DAYS, intervalS: 900, uploadEveryS: 3600, driftPpm: 20000, cutEvery: 5 });
      const why = JSON.stringify({ ...r, clockLines: r.clockLines.slice(-3) }, null, 1);
      assert.ok(r.taken >= DAYS * 96, why);
      assert.ok(r.cuts >= Math.floor((DAYS * 24) / 5) - 1, why);
      // readings taken while the last upload drained arrive too: at least every one taken before the end
      assert.ok(r.delivered >= r.taken - r.takesCutShort, why);
      assert.deepEqual(r.missing, [], why);
      assert.equal(r.outOfOrder, 0, why);
      assert.equal(r.unparsable, 0, why);
      assert.equal(r.uploadsFailed, 0, why);
      assert.deepEqual(r.errors, [], why);
      // the correction is what keeps the timestamps right: uncorrected they would be a minute off
      assert.ok(r.maxRawErrS > 60, why);
      assert.ok(Math.abs(r.maxTsErrS) <= 5, why);
      // no ts: the first reading, and one after each cut (a cold boot: the time is not trusted until the next sync)
      assert.ok(r.withTs >= r.delivered - r.cuts - 1, why);
      assert.ok(r.storageLastBytes <= r.storageFirstBytes + 2048, why);
    });
  }
});
