// GNSS in the A76xx simulator (host/sim/a76xx/gnss.mjs) against the A76XX AT manual V1.09 ch. 24,
// LilyGO's code and issues (cited in gnss.mjs) and the real capture
// test/fixtures/transcripts/a76xx-gnss-sms-capture.log (LilyGO-T-A76XX examples/SendLocationFromSMS/README.MD).
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createClock } from '../host/runtime/clock.mjs';
import { createA76xx } from '../host/sim/a76xx/index.mjs';
import { createTestDevice, powerUp } from '../host/testing/test-device.mjs';
import { board as tA7670 } from '../boards/t-a7670x.ts';
import { board as tSim7670 } from '../boards/t-sim7670g-s3.ts';

const CAPTURE = readFileSync(new URL('./fixtures/transcripts/a76xx-gnss-sms-capture.log', import.meta.url), 'utf8').split(/\r?\n/);
const CAPTURED_NOFIX = CAPTURE.find((l) => l.startsWith('+CGNSSINFO: ,'));
const CAPTURED_FIX = CAPTURE.find((l) => /^\+CGNSSINFO: \d/.test(l));
// the capture's fix was taken at 23 Aug 2024 06:39:56 UTC (its date and time fields)
const FIX_UTC = Date.UTC(2024, 7, 23, 6, 39, 56);

describe('sim-gnss.test.mjs', () => {
  async function booted(opts = {}, board = tA7670) {
    const clock = createClock();
    const dev = createTestDevice(clock);
    const modem = createA76xx({ clock, device: dev, board, ...opts });
    await powerUp(clock, dev, board);
    await clock.runFor(11100 + 15000);
    dev.host.take();
    const s = { clock, dev, modem };
    await at(s, 'ATE0\r');
    return s;
  }
  async function at(s, line) {
    s.dev.host.write(line);
    const until = /\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n$/;
    const ok = await s.clock.runUntil(() => until.test(s.dev.host.text()), { timeoutMs: 30000, stepMs: 5 });
    const out = s.dev.host.take();
    assert.ok(ok, `no answer to ${JSON.stringify(line)}; got ${JSON.stringify(out)}`);
    return out;
  }
  const infoOf = (out) => out.split('\r\n').find((l) => l.startsWith('+CGNSSINFO:'));

  it('the capture holds what these tests compare with', () => {
    assert.equal(CAPTURED_NOFIX, '+CGNSSINFO: ,,,,,,,,');
    assert.equal(CAPTURED_FIX.split(',').length, 18);
  });

  describe('A76xx firmware with GNSS (A7670E-FASE)', () => {
    const opts = { model: 'A7670E-FASE', clockUtc: () => FIX_UTC, gnss: { ttffMs: 40000 } };

    it('CGNSSINFO before power: ERROR; CGNSSPWR=1: OK, then READY! ~9 s later; ERROR until READY!', async () => {
      const s = await booted(opts);
      assert.equal(await at(s, 'AT+CGNSSINFO\r'), '\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CGNSSPWR=1\r'), '\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CGNSSINFO\r'), '\r\nERROR\r\n', 'valid only after READY! (A76-ATM §24.2.12)');
      const t0 = s.clock.now();
      const ok = await s.clock.runUntil(() => s.dev.host.text().includes('+CGNSSPWR: READY!'), { timeoutMs: 20000, stepMs: 5 });
      assert.ok(ok);
      assert.equal(s.dev.host.take(), '\r\n+CGNSSPWR: READY!\r\n');
      const dt = s.clock.now() - t0;
      assert.ok(dt > 8000 && dt < 10000, `READY! after ${dt} ms`);
      assert.equal(await at(s, 'AT+CGNSSPWR?\r'), '\r\n+CGNSSPWR: 1,0,1\r\n\r\nOK\r\n');
    });

    it('no fix: the captured empty line; after the time to first fix: the captured 18-field line', async () => {
      const s = await booted(opts);
      await at(s, 'AT+CGNSSPWR=1\r');
      await s.clock.runFor(9500);
      s.dev.host.take();
      assert.equal(infoOf(await at(s, 'AT+CGNSSINFO\r')), CAPTURED_NOFIX);
      await s.clock.runFor(30000); // 30 s of 40: still none
      assert.equal(infoOf(await at(s, 'AT+CGNSSINFO\r')), CAPTURED_NOFIX);
      await s.clock.runFor(10000);
      assert.equal(infoOf(await at(s, 'AT+CGNSSINFO\r')), CAPTURED_FIX, 'default position = the capture, same fields and order');
    });

    it('southern and western positions carry S and W; CGPSINFO gives ddmm.mmmmmm', async () => {
      const s = await booted({ ...opts, gnss: { ttffMs: 1000, position: { lat: -33.8567844, lon: -70.6482671, alt: 540.25 } } });
      await at(s, 'AT+CGNSSPWR=1\r');
      await s.clock.runFor(11000);
      s.dev.host.take();
      const f = infoOf(await at(s, 'AT+CGNSSINFO\r'))
        .slice(12)
        .split(',');
      assert.deepEqual(f.slice(5, 9), ['33.8567844', 'S', '70.6482671', 'W']);
      assert.equal(f[11], '540.3');
      const g = (await at(s, 'AT+CGPSINFO\r')).split('\r\n').find((l) => l.startsWith('+CGPSINFO:'));
      // 33° 51.407064' S, 70° 38.896026' W
      assert.equal(g, '+CGPSINFO: 3351.407064,S,07038.896026,W,230824,063956.0,540.3,0.0,0');
    });

    it('CGNSSPWR=0 and a modem restart switch GNSS off (CGNSSINFO: ERROR again)', async () => {
      const s = await booted({ ...opts, gnss: { ttffMs: 1000 } });
      await at(s, 'AT+CGNSSPWR=1\r');
      await s.clock.runFor(11000);
      assert.match(infoOf(await at(s, 'AT+CGNSSINFO\r')), /^\+CGNSSINFO: 3,/);
      assert.equal(await at(s, 'AT+CGNSSPWR=0\r'), '\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CGNSSINFO\r'), '\r\nERROR\r\n');
      await at(s, 'AT+CGNSSPWR=1\r');
      await s.clock.runFor(11000);
      assert.match(infoOf(await at(s, 'AT+CGNSSINFO\r')), /^\+CGNSSINFO: 3,/);
      await at(s, 'AT+CRESET\r');
      await s.clock.runFor(30000);
      s.dev.host.take();
      await at(s, 'ATE0\r');
      assert.equal(await at(s, 'AT+CGNSSINFO\r'), '\r\nERROR\r\n');
    });

    it('periodic reports: AT+CGNSSINFO=<time> then a line every <time> s, 0 stops them', async () => {
      const s = await booted(opts);
      await at(s, 'AT+CGNSSPWR=1\r');
      await s.clock.runFor(9500);
      s.dev.host.take();
      assert.equal(await at(s, 'AT+CGNSSINFO=5\r'), '\r\nOK\r\n');
      await s.clock.runFor(10100);
      assert.equal(s.dev.host.take(), `\r\n${CAPTURED_NOFIX}\r\n`.repeat(2));
      await at(s, 'AT+CGNSSINFO=0\r');
      await s.clock.runFor(20000);
      assert.equal(s.dev.host.take(), '');
    });
  });

  describe('SIM7670G (SIM767X firmware) on the T-SIM7670G-S3', () => {
    const opts = { clockUtc: () => FIX_UTC, gnss: { ttffMs: 30000 } };

    it('CGNSSPWR=1: a plain OK, no READY! URC; read form "+CGNSSPWR: 1"; no fix is 18 empty fields', async () => {
      const s = await booted(opts, tSim7670);
      assert.equal(await at(s, 'AT+CGNSSPWR=1\r'), '\r\nOK\r\n');
      await s.clock.runFor(20000);
      assert.equal(s.dev.host.take(), '', 'no URC');
      assert.equal(await at(s, 'AT+CGNSSPWR?\r'), '\r\n+CGNSSPWR: 1\r\n\r\nOK\r\n');
      const line = infoOf(await at(s, 'AT+CGNSSINFO\r'));
      assert.equal(line, '+CGNSSINFO: ' + ','.repeat(17));
    });

    it('never a fix without the antenna powered (AT+CGDRT=4,1, AT+CGSETV=4,1); then one ttff later', async () => {
      const s = await booted(opts, tSim7670);
      await at(s, 'AT+CGNSSPWR=1\r');
      await s.clock.runFor(300000);
      assert.equal(infoOf(await at(s, 'AT+CGNSSINFO\r')), '+CGNSSINFO: ' + ','.repeat(17), 'five minutes, antenna off: no fix');
      assert.equal(await at(s, 'AT+CGSETV=4,1\r'), '\r\nERROR\r\n', 'CGSETV before CGDRT sets OUT: error (A76-ATM §11.2.13)');
      assert.equal(await at(s, 'AT+CGDRT=4,1\r'), '\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CGDRT=4\r'), '\r\n+CGDRT: 4,1\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CGSETV=4,1\r'), '\r\nOK\r\n');
      await s.clock.runFor(29000);
      assert.equal(infoOf(await at(s, 'AT+CGNSSINFO\r')), '+CGNSSINFO: ' + ','.repeat(17));
      await s.clock.runFor(1500);
      const f = infoOf(await at(s, 'AT+CGNSSINFO\r'))
        .slice(12)
        .split(',');
      assert.equal(f.length, 18);
      // SIM767X order: mode,GPS,GLONASS,GALILEO,BEIDOU,lat,N/S,lon,E/W,date,time,alt,...
      assert.deepEqual(f.slice(5, 12), ['22.6550274', 'N', '114.0600586', 'E', '230824', '063956.00', '83.9']);
      // the antenna off again: the fix is lost
      await at(s, 'AT+CGSETV=4,0\r');
      assert.equal(infoOf(await at(s, 'AT+CGNSSINFO\r')), '+CGNSSINFO: ' + ','.repeat(17));
    });

    it('neverFix: no fix however long', async () => {
      const s = await booted({ ...opts, gnss: { neverFix: true } }, tSim7670);
      for (const c of ['AT+CGDRT=4,1\r', 'AT+CGSETV=4,1\r', 'AT+CGNSSPWR=1\r']) await at(s, c);
      await s.clock.runFor(600000);
      assert.equal(infoOf(await at(s, 'AT+CGNSSINFO\r')), '+CGNSSINFO: ' + ','.repeat(17));
    });

    it('garbled: the first fix answer is damaged on the line, the next is whole', async () => {
      const s = await booted({ ...opts, gnss: { ttffMs: 1000, garbled: 1 } }, tSim7670);
      for (const c of ['AT+CGDRT=4,1\r', 'AT+CGSETV=4,1\r', 'AT+CGNSSPWR=1\r']) await at(s, c);
      await s.clock.runFor(2000);
      const bad = infoOf(await at(s, 'AT+CGNSSINFO\r'));
      assert.ok(bad.includes('\x7f') && bad.split(',').length < 18, JSON.stringify(bad));
      assert.equal(infoOf(await at(s, 'AT+CGNSSINFO\r')).split(',').length, 18);
    });
  });

  describe('A7670G (no GNSS)', () => {
    it('GNSS commands answer ERROR (LilyGo-Modem-Series #73: "AT+CGNSSPWR=1 returns ERROR")', async () => {
      const s = await booted({}, tA7670); // model A7670G-LLSE
      assert.equal(await at(s, 'AT+CGNSSPWR=1\r'), '\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CGNSSINFO\r'), '\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CGPSINFO\r'), '\r\nERROR\r\n');
      assert.equal(s.modem.state.gnss.present, false);
    });
  });
});
