// The GNSS driver (firmware/modem/a76xx/gnss.ts), bundled as the firmware is and run in the host
// runtime: its CGNSSINFO parser on the lines the manuals and the real capture show, and gnssFix
// with the firmware's AT engine (firmware/at/engine.ts) against the simulated SIM7670G and A76xx.
import { describe, it, before } from 'mocha';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { bundleModule } from '../build.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';
import { createA76xx } from '../host/sim/a76xx/index.mjs';
import { board as tSim7670 } from '../boards/t-sim7670g-s3.ts';
import { board as tA7670 } from '../boards/t-a7670x.ts';

const CAPTURE = readFileSync(new URL('./fixtures/transcripts/a76xx-gnss-sms-capture.log', import.meta.url), 'utf8').split(/\r?\n/);

describe('gnss.test.mjs', () => {
  let gnss, engine;
  before(async () => {
    gnss = await bundleModule('firmware/modem/a76xx/gnss.ts');
    engine = await bundleModule('firmware/at/engine.ts');
  });

  function device() {
    const d = createEspruino({ clock: createClock({ mode: 'virtual' }) });
    d.load(gnss.code, 'gnss.js');
    return d;
  }

  describe('parseGnss', () => {
    let d;
    before(() => (d = device()));
    const parse = (line) => d.eval(`JSON.stringify(parseGnss(${JSON.stringify(line)}))`);

    it('the capture: no fix (9 empty fields) and its 18-field fix (A76xx foreign order, decimal degrees)', () => {
      assert.equal(parse(CAPTURE.find((l) => l.startsWith('+CGNSSINFO: ,'))), 'null');
      const fix = CAPTURE.find((l) => /^\+CGNSSINFO: \d/.test(l));
      assert.deepEqual(JSON.parse(parse(fix)), { lat: 22.6550274, lon: 114.0600586, alt: 83.9 });
    });

    it('no fix however many empty fields (the manual: 16 fields; SIM767X: 18); no space after the colon', () => {
      for (const n of [8, 15, 17]) assert.equal(parse('+CGNSSINFO: ' + ','.repeat(n)), 'null', `${n} commas`);
      assert.equal(parse('+CGNSSINFO:,,,,,,,,,,,,,,,'), 'null');
    });

    it('the manual order (mode,GPS,GLONASS,BEIDOU,lat,…) with ddmm.mmmmmm (A76-ATM §24.2.12 example, GNSS AN §5.3)', () => {
      const p = JSON.parse(parse('+CGNSSINFO: 2,09,05,00,3113.330650,N,12121.262554,E,131117,091918.00,32.9,0.0,255.0,1.1,0.8,0.7'));
      assert.ok(Math.abs(p.lat - (31 + 13.33065 / 60)) < 1e-9, p.lat);
      assert.ok(Math.abs(p.lon - (121 + 21.262554 / 60)) < 1e-9, p.lon);
      assert.equal(p.alt, 32.9);
    });

    it('the domestic order (mode,GPS,BEIDOU,lat,…,VDOP,valid-SVs) and S/W signs', () => {
      const p = JSON.parse(parse('+CGNSSINFO: 3,07,04,33.8567844,S,70.6482671,W,230824,063956.00,540.2,0.0,,1.2,0.9,0.8,11'));
      assert.deepEqual(p, { lat: -33.8567844, lon: -70.6482671, alt: 540.2 });
    });

    it('SIM767X order with an empty altitude: alt null', () => {
      const p = JSON.parse(parse('+CGNSSINFO: 2,05,00,00,01,51.5007292,N,0.1246254,W,010125,120000.00,,0.0,,2.0,1.5,1.3,5'));
      assert.deepEqual(p, { lat: 51.5007292, lon: -0.1246254, alt: null });
    });

    it('lines that do not parse: undefined (the caller logs and skips them)', () => {
      for (const l of [
        '+CGNSSINFO: 3,09,,03,00,22.65\x7f50274,N,114.0600586,E,230824', // noise in a number
        '+CGNSSINFO: 3,09,,03,00,2265502745,000053.00,83.9', // fields lost
        '+CGNSSINFO: 3,09,,03,00,95.1,N,114.06,E,230824,063956.00,83.9', // latitude out of range
        '+CGNSSINFO: 3,09,,03,00,22.6,N,181.5,E,230824,063956.00,83.9', // longitude out of range
        '+CGNSSINFO: 3,09,,03,00,22.6.5,N,114.06,E,230824,063956.00,83.9', // two points
        '+CGNSSINFO: 3',
      ])
        assert.equal(d.eval(`typeof parseGnss(${JSON.stringify(l)})`), 'undefined', JSON.stringify(l));
    });
  });

  describe('gnssFix against the simulated modem', () => {
    // the firmware's engine on Serial2 of the simulated board, the modem powered by its pins
    async function rig(board, modemOptions, g) {
      const clock = createClock({ mode: 'virtual' });
      const d = createEspruino({ clock });
      const modem = createA76xx({ clock, device: d, board, clockUtc: Date.UTC(2025, 0, 1), ...modemOptions });
      d.load(engine.code + '\n' + gnss.code, 'engine+gnss.js');
      d.eval(`var S = Serial2; S.setup(115200, {rx: ${board.uart.rx}, tx: ${board.uart.tx}});
        var at = createAt(function (x) { S.write(x); }, function (m) { console.log(m); });
        S.on('data', at.feed);`);
      // the board's power-up (boards/*.ts): reset released, DTR low, PWRKEY pulse
      if (board.powerOn != null) d.eval(`digitalWrite(${board.powerOn}, 1)`);
      d.eval(`digitalWrite(${board.reset.pin}, ${1 - board.reset.activeLevel}); digitalWrite(${board.pwrkey.pin}, ${board.pwrkey.inverted ? 1 : 0});
        setTimeout(function () { digitalWrite(${board.pwrkey.pin}, ${board.pwrkey.inverted ? 0 : 1}); }, ${board.pwrkey.onPulseMs});`);
      await clock.runFor(30000);
      assert.equal(modem.state.power, 'on');
      const fix = async (budgetMs, waitMs = budgetMs + 20000) => {
        d.eval(`R = null; gnssFix(at, ${JSON.stringify(g)}, ${budgetMs}, function (e, p) { R = JSON.stringify([e, p]); });`);
        const t0 = clock.now();
        const ok = await clock.runUntil(() => d.eval('R') !== null, { timeoutMs: waitMs, stepMs: 50 });
        assert.ok(ok, 'gnssFix never called back\n' + d.log.join('\n'));
        return { r: JSON.parse(d.eval('R')), ms: clock.now() - t0 };
      };
      return { clock, d, modem, fix };
    }

    it('SIM7670G: antenna GPIO and GNSS powered, the position as soon as the fix comes', async () => {
      const s = await rig(tSim7670, { gnss: { ttffMs: 25000, position: { lat: 47.3769, lon: 8.5417, alt: 408 } } }, { fixTimeoutS: 60, ant: 4 });
      const { r, ms } = await s.fix(60000);
      assert.deepEqual(r, [null, { lat: 47.3769, lon: 8.5417, alt: 408 }]);
      assert.ok(ms >= 25000 && ms < 25000 + 3500, `fix after ${ms} ms: one poll interval at most after the fix`);
      const tx = s.modem.transcript.text();
      assert.ok(tx.indexOf('AT+CGDRT=4,1') < tx.indexOf('AT+CGSETV=4,1') && tx.indexOf('AT+CGSETV=4,1') < tx.indexOf('AT+CGNSSPWR=1'));
      // GNSS stays on: the next fix is one poll, without powering again
      const again = await s.fix(60000);
      assert.equal(again.r[0], null);
      assert.ok(again.ms < 1000, `${again.ms} ms`);
      assert.equal(s.d.log.filter((l) => l.includes('gnss: powered')).length, 1);
    });

    it('no antenna GPIO in the config on the SIM7670G: never a fix, "gnss: no fix in 40 s" when the budget ends', async () => {
      const s = await rig(tSim7670, { gnss: { ttffMs: 5000 } }, { fixTimeoutS: 40 });
      const { r, ms } = await s.fix(40000);
      assert.deepEqual(r, ['gnss: no fix in 40 s', null]);
      assert.ok(ms >= 40000 && ms < 41000, `${ms} ms`);
    });

    it('A76xx firmware (READY!): no CGNSSINFO before READY!, then the fix', async () => {
      const s = await rig(tA7670, { model: 'A7670E-FASE', gnss: { ttffMs: 10000 } }, { fixTimeoutS: 60, ready: 1 });
      const { r } = await s.fix(60000);
      assert.deepEqual(r, [null, { lat: 22.6550274, lon: 114.0600586, alt: 83.9 }]);
      const tx = s.modem.transcript.text();
      assert.ok(tx.indexOf('AT+CGNSSINFO') > tx.indexOf('+CGNSSPWR: READY!'), 'first poll after READY!');
      assert.ok(!/AT\+CGNSSINFO\r\r?\n*\r\nERROR/.test(tx), 'no poll answered ERROR');
    });

    it('the modem restarts: GNSS is off again (CGNSSINFO ERROR), the driver powers it again', async () => {
      const s = await rig(tSim7670, { gnss: { ttffMs: 2000 } }, { fixTimeoutS: 60, ant: 4 });
      assert.equal((await s.fix(60000)).r[0], null);
      s.d.eval('at.send({at: "AT+CRESET"})');
      await s.clock.runFor(30000);
      const { r } = await s.fix(60000);
      assert.equal(r[0], null, JSON.stringify(r) + '\n' + s.d.log.join('\n'));
      assert.equal(s.d.log.filter((l) => l.includes('gnss: powered')).length, 2);
    });

    it('A7670G (no GNSS): AT+CGNSSPWR=1 refused, reported at once', async () => {
      const s = await rig(tA7670, {}, { fixTimeoutS: 60, ready: 1 });
      const { r, ms } = await s.fix(60000);
      assert.deepEqual(r, ['gnss: AT+CGNSSPWR=1 refused (error)', null]);
      assert.ok(ms < 1000);
    });

    it('a second fix while one is under way is refused, not run twice', async () => {
      const s = await rig(tSim7670, { gnss: { neverFix: true } }, { fixTimeoutS: 30, ant: 4 });
      s.d.eval('R2 = null; gnssFix(at, {fixTimeoutS: 30, ant: 4}, 30000, function (e) { R2 = e; });');
      const { r } = await s.fix(30000, 5000);
      assert.deepEqual(r, ['gnss: a fix is under way', null]);
      await s.clock.runFor(31000);
      assert.equal(s.d.eval('R2'), 'gnss: no fix in 30 s');
    });
  });
});
