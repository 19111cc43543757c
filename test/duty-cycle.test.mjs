// Duty cycle end to end (power.mode "duty-cycle"): the built bundle, unmodified, in the rig: it
// wakes, takes a reading, deep-sleeps, brings the modem up every uploadEverySeconds to send what
// was queued, switches it off, sleeps again; a power cut in the middle of an upload loses nothing;
// a drifting sleep clock is measured at each upload and the readings' timestamps corrected.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createRig } from '../host/testing/rig.mjs';

describe('duty-cycle.test.mjs', function () {
  this.timeout(120000);
  const duty = (o = {}) => ({ intervalSeconds: 60, power: { mode: 'duty-cycle', uploadEverySeconds: 300, ...o } });

  async function withRig(opts, fn) {
    const rig = await createRig(opts);
    try {
      rig.start();
      await fn(rig);
    } finally {
      await rig.close();
    }
  }
  const parsed = (rig) => rig.readings().map((m) => JSON.parse(m.text));
  const lines = (rig, re) => rig.device.log.filter((l) => re.test(l));
  /** the numbers of the readings delivered, first delivery of each, in delivery order */
  const firstSeen = (rig) => {
    const seen = new Set();
    return parsed(rig)
      .map((r) => r.n)
      .filter((n) => !seen.has(n) && seen.add(n));
  };
  const oneToN = (k) => Array.from({ length: k }, (_, i) => i + 1);

  for (const board of ['t-a7670x', 't-call-sim800l']) {
    it(`${board}: wakes every interval, deep-sleeps between, uploads every 5th wake, all readings in order with their numbers`, async () => {
      await withRig({ board, config: duty() }, async (rig) => {
        // the modem's state whenever the ESP32 goes to sleep: off (never a rail dropped under it)
        const modemAtSleep = [];
        rig.device.onLog((l) => {
          if (/\] sleep: /.test(l)) modemAtSleep.push(rig.modem.power.state);
        });
        assert.ok(await rig.until(() => lines(rig, /upload: done/).length >= 3, 1200000, 1000), rig.explain('fewer than three uploads'));
        const r = parsed(rig);
        assert.deepEqual(
          r.map((x) => x.n),
          oneToN(r.length),
          'every reading once, in order',
        );
        assert.ok(r.length >= 11, `${r.length} readings`);
        // a deep sleep between wakes, and one boot per wake
        const sleeps = rig.device.resets.filter((x) => x.reason === 'deepSleep');
        const wakes = lines(rig, /\] wake: \d+ \(/);
        assert.ok(sleeps.length >= r.length - 1, `${sleeps.length} deep sleeps for ${r.length} readings`);
        assert.ok(wakes.length - sleeps.length <= 1, `${wakes.length} wakes, ${sleeps.length} sleeps`);
        assert.match(wakes[1], /wake: 2 \(timer\)/);
        // readings one interval apart (the RTC, not the modem: the modem is off when they are taken)
        const ts = r.filter((x) => x.ts).map((x) => Date.parse(x.ts) / 1000);
        for (let i = 1; i < ts.length; i++) assert.ok(Math.abs(ts[i] - ts[i - 1] - 60) <= 1, `readings ${ts[i] - ts[i - 1]} s apart`);
        // the modem only at uploads: the first wake, then every 5th (uploadEverySeconds 300 / 60)
        const starts = rig.device.log.map((l, i) => [l, i]).filter(([l]) => /upload: start/.test(l));
        const wakeNo = (i) =>
          +/wake: (\d+)/.exec(
            rig.device.log
              .slice(0, i)
              .filter((l) => /\] wake: /.test(l))
              .pop(),
          )[1];
        assert.deepEqual(
          starts.map(([, i]) => wakeNo(i)),
          [1, 6, 11],
        );
        assert.equal(lines(rig, /power: modem on/).length, 3, 'the modem is powered only to upload');
        assert.ok(lines(rig, /upload: done, 5 sent/).length >= 2, lines(rig, /upload: done/).join('\n'));
        // no signal figure (the modem is off at the reading), the battery's volts instead
        assert.equal(r[2].rssi, undefined);
        assert.equal(typeof r[2].bv, 'number');
        // the modem was switched off by command, and answered no more before the ESP32 slept
        assert.ok(rig.modem.transcript.text().includes(board === 't-a7670x' ? 'AT+CPOF' : 'AT+CPOWD=1'));
        assert.deepEqual([...new Set(modemAtSleep)], ['off']);
        // a clean MQTT disconnect before the modem goes off: no will ("online": false), and the
        // diagnostics message after the cold boot only
        await new Promise((r) => setTimeout(r, 200));
        const status = rig.subscriber.messages.filter((m) => m.topic === rig.config.topics.status).map((m) => Object.keys(JSON.parse(m.text))[0]);
        assert.deepEqual(status, ['diag']);
        assert.equal(rig.modem.stats.powerCuts, 0);
        assert.deepEqual(rig.device.errors, []);
      });
    });
  }

  it('t-a7670x: a power cut in the middle of an upload loses no reading and keeps the order', async () => {
    await withRig({ board: 't-a7670x', config: duty() }, async (rig) => {
      // the second upload (wake 6: five readings queued) is cut after its first publish
      assert.ok(
        await rig.until(() => lines(rig, /upload: start \(5 waiting\)/).length >= 1 && rig.readings().length >= 2, 900000, 200),
        rig.explain('no second upload'),
      );
      assert.ok(rig.powerLoss());
      const had = rig.readings().length;
      assert.ok(had < 6, `${had} delivered before the cut: the cut came too late to test anything`);
      await rig.clock.runFor(30000);
      assert.ok(rig.powerRestore());
      assert.ok(await rig.until(() => lines(rig, /upload: done/).length >= 3, 900000, 1000), rig.explain('no upload after the cut'));
      const firsts = firstSeen(rig);
      assert.deepEqual(firsts, oneToN(firsts.length), 'every number, in order');
      assert.ok(firsts.length >= 7);
      // the boot after the cut is a cold one, and it uploads what the cut upload left
      assert.ok(lines(rig, /wake: \d+ \(power-on/).length >= 2);
      assert.ok(rig.device.resets.some((x) => x.reason === 'powerOff'));
    });
  });

  it('t-a7670x: a sleep clock 2 % fast is measured at each upload and the timestamps corrected', async () => {
    const ppm = 20000;
    await withRig({ board: 't-a7670x', config: duty(), deviceOptions: { rtcDriftPpm: ppm } }, async (rig) => {
      // the true time each reading was taken: the network's time at its wake
      const wakeAt = [];
      wakeAt[1] = rig.networkNow() - rig.clock.now(); // wake 1: the load, at virtual 0 (withRig started it)
      rig.device.onLog((l) => {
        const m = /\] wake: (\d+) \(/.exec(l);
        if (m) wakeAt[+m[1]] = rig.networkNow();
      });
      assert.ok(await rig.until(() => lines(rig, /upload: done/).length >= 4, 1500000, 1000), rig.explain('fewer than four uploads'));
      // the drift shows: the RTC gained ~2 % of each 5-minute window
      const off = lines(rig, /clock: [-+][0-9.]+ s off the network time after/).map((l) => +/clock: ([-+][0-9.]+)/.exec(l)[1]);
      assert.ok(off.length >= 3, lines(rig, /clock:/).join('\n'));
      assert.ok(off[0] < -3, `first offset ${off[0]} s: the sleep clock ran fast, the RTC is ahead`);
      const r = parsed(rig).filter((x) => x.ts);
      assert.ok(r.length >= 12);
      let worst = 0;
      for (const x of r) worst = Math.max(worst, Math.abs(Date.parse(x.ts) - wakeAt[x.n]) / 1000);
      // whole-second timestamps and a whole-second network clock: within 2 s, where 2 % of the
      // 5-minute window would be up to 6 s uncorrected
      assert.ok(worst <= 2, `a timestamp ${worst} s off its true take time`);
      // learned: the wakes land on time (60 s of network time apart), not 2 % early
      const gaps = wakeAt.slice(-4).map((t, i, a) => (i ? (t - a[i - 1]) / 1000 : 60));
      assert.equal(gaps.length, 4);
      for (const g of gaps) assert.ok(Math.abs(g - 60) < 0.6, `wakes ${g} s apart`);
    });
  });

  it('t-call-sim800l: a command sent while the station sleeps waits at the broker and is carried out at the next upload', async () => {
    await withRig({ board: 't-call-sim800l', config: duty() }, async (rig) => {
      assert.equal(rig.config.broker.cleanSession, false, 'duty-cycle: a persistent session by default');
      assert.ok(
        await rig.until(() => lines(rig, /upload: done/).length >= 1 && lines(rig, /sleep: /).length >= 2, 300000, 500),
        rig.explain('no first upload'),
      );
      await rig.subscriber.client.publishAsync(rig.config.topics.command, '{"cmd":"interval","s":120}', { qos: 1 });
      assert.ok(await rig.until(() => lines(rig, /interval: 120 s/).length >= 1, 600000, 1000), rig.explain('the command never arrived'));
      // from then on a wake every 120 s
      const t0 = rig.clock.now();
      const w = lines(rig, /\] wake: /).length;
      assert.ok(await rig.until(() => lines(rig, /\] wake: /).length >= w + 2, 600000, 1000));
      const per = (rig.clock.now() - t0) / 1000;
      assert.ok(per > 125 && per < 245, `${per} s for the next two wakes`);
      assert.ok(lines(rig, /sleep: 120 s \(next reading\)/).length >= 1, lines(rig, /sleep: /).join('\n'));
    });
  });

  it('t-a7670x: without a network an upload gives up within its budget, keeps the readings, retries at the next wake, then only after an upload period', async () => {
    await withRig({ board: 't-a7670x', config: { ...duty(), registerTimeoutSeconds: 30 } }, async (rig) => {
      assert.ok(
        await rig.until(() => lines(rig, /upload: done/).length >= 1 && lines(rig, /sleep: /).length >= 1, 300000, 500),
        rig.explain('no first upload'),
      );
      rig.modem.loseNetwork();
      // budget: 2 × 30 s boot + 30 s registration + 220 s + 5 s per queued reading (5)
      assert.ok(await rig.until(() => lines(rig, /upload: failed/).length >= 2, 1500000, 1000), rig.explain('no failed uploads'));
      const failed = lines(rig, /upload: failed/);
      assert.match(failed[0], /upload: failed, 5 kept \(not done within 335 s, link down\)/);
      assert.match(failed[1], /upload: failed, 6 kept/); // the very next wake tried again
      // then not at every wake: the third attempt waits for the upload period
      const wakesBefore = lines(rig, /\] wake: /).length;
      assert.ok(await rig.until(() => lines(rig, /upload: start/).length >= 4 || lines(rig, /\] wake: /).length >= wakesBefore + 3, 900000, 1000));
      assert.equal(lines(rig, /upload: start/).length, 3, 'no upload attempt at the wakes right after the second failure');
      // the modem went off after each failure, and the board slept
      assert.equal(rig.modem.power.state, 'off');
      rig.modem.restoreNetwork();
      assert.ok(await rig.until(() => lines(rig, /upload: done/).length >= 2, 1500000, 1000), rig.explain('no upload after the network came back'));
      const firsts = firstSeen(rig);
      assert.deepEqual(firsts, oneToN(firsts.length));
      assert.ok(firsts.length >= 9, `${firsts.length} delivered`);
    });
  });
});
