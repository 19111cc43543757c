// LTE PSM on the A76xx (config power.modem "psm", firmware/modem/psm.ts): the timer octets of
// AT+CPSMS (3GPP TS 24.008 §10.5.7.4a GPRS Timer 3 = T3412 ext., §10.5.7.3 GPRS Timer 2 = T3324,
// as the A76XX AT manual V1.09 §34.2.2 gives them), and end to end: what the network granted, or
// that it refused, or that the modem does not say, in the device log.
import { describe, it, before } from 'mocha';
import assert from 'node:assert/strict';
import { timerSeconds } from '../host/sim/common/sleep.mjs';
import { createRig } from '../host/testing/rig.mjs';
import { resolveConfig } from '../buildlib/config.mjs';
import { loadBoard } from '../build.mjs';

describe('psm.test.mjs', () => {
  // firmware/modem/psm.ts, imported as TypeScript: its log.ts reads Espruino's getTime() at load
  let psmTimer, psmSeconds, psmGrant;
  before(async () => {
    globalThis.getTime ??= () => Date.now() / 1000;
    ({ psmTimer, psmSeconds, psmGrant } = await import('../firmware/modem/psm.ts'));
  });

  it("timer octets: the AT manual's examples, and the smallest encodable value at least as long as asked (all 256 octets searched)", () => {
    // A76XX AT manual V1.09 §34.2.2: AT+CPSMS=1,,,"01101111","00001111" = "t3412-ext time 30s, t3324 time 30s";
    // "01000111" equals 70 hours (T3412), "00100100" equals 4 minutes (T3324)
    assert.equal(psmSeconds('01101111', true), 30);
    assert.equal(psmSeconds('00001111', false), 30);
    assert.equal(psmSeconds('01000111', true), 70 * 3600);
    assert.equal(psmSeconds('00100100', false), 4 * 60);
    assert.equal(psmSeconds('11100000', true), -1, 'deactivated');
    assert.equal(psmSeconds('0110111', true), -1, 'not 8 bits');
    assert.equal(psmTimer(30, true), '01101111');
    assert.equal(psmTimer(1200, true), '00000010'); // 2 × 10 min
    assert.equal(psmTimer(10, false), '00000101'); // 5 × 2 s
    const octets = [...Array(256).keys()].map((i) => i.toString(2).padStart(8, '0'));
    for (const timer3 of [true, false]) {
      const all = octets.map((b) => timerSeconds(b, timer3)).filter((s) => s != null && s > 0);
      for (const s of [1, 2, 3, 59, 61, 119, 600, 1000, 3599, 7200, 86400, 172800, 30 * 86400]) {
        const got = psmTimer(s, timer3);
        assert.equal(psmSeconds(got, timer3), timerSeconds(got, timer3), 'firmware and simulator decode alike');
        const want = Math.min(...all.filter((x) => x >= s));
        assert.equal(psmSeconds(got, timer3), Number.isFinite(want) ? want : Math.max(...all), `${s} s (timer ${timer3 ? 3 : 2}) → ${got}`);
      }
    }
  });

  it('the grant in a "+CEREG: 4,…" read line (3GPP TS 27.007 §10.1.22 field order)', () => {
    assert.deepEqual(psmGrant('+CEREG: 4,1,"00C3","0A1B2C3D",7,,,"00000101","00000010"'), [10, 1200]);
    assert.deepEqual(psmGrant('+CEREG: 4,1,,,7'), [-1, -1]);
    assert.equal(psmGrant('+CEREG: 1,1'), null);
  });

  it('config: "psm" is for duty-cycle, and not on the SIM800', async () => {
    const problems = (raw, board) => {
      try {
        resolveConfig(raw, { board });
        return [];
      } catch (e) {
        return e.problems;
      }
    };
    const a = await loadBoard('t-call-a7670-v1_1');
    const x = await loadBoard('t-a7670x');
    const s = await loadBoard('t-call-sim800l');
    const ok = { broker: { host: 'h' }, power: { mode: 'duty-cycle', modem: 'psm', uploadEverySeconds: 900 } };
    assert.deepEqual(problems(ok, a), []);
    assert.equal(resolveConfig(ok, { board: a }).power.modem, 'psm');
    assert.match(problems(ok, s).join('\n'), /SIM800 \(GSM\) does not have/);
    assert.match(problems({ ...ok, power: { modem: 'psm' } }, a).join('\n'), /"psm" is for "duty-cycle"/);
    // the T-A7670X feeds its modem from IO12, which floats while the ESP32 deep-sleeps
    assert.match(problems(ok, x).join('\n'), /GPIO 12, which Espruino cannot hold through deep sleep/);
    // "auto" picks by the energy model: PSM where the board can keep it, else off
    const auto = { ...ok, intervalSeconds: 900, power: { mode: 'duty-cycle', uploadEverySeconds: 3600 } };
    // (auto never picks it: the modem's RESET floats in an Espruino deep sleep; config.mjs autoModem)
    assert.equal(resolveConfig(auto, { board: a }).power.modem, 'off');
    assert.equal(resolveConfig(auto, { board: x }).power.modem, 'off');
    assert.equal(resolveConfig(auto, { board: s }).power.modem, 'off');
  });

  const run = async (psm, until) => {
    const rig = await createRig({
      board: 't-call-a7670-v1_0',
      config: { power: { mode: 'duty-cycle', modem: 'psm', uploadEverySeconds: 600 } },
      modemOptions: { psm },
    });
    try {
      rig.start();
      assert.ok(await rig.until(() => rig.device.log.some((l) => /^\[[\d.]+\] psm: /.test(l)), 200000), rig.explain('no psm line'));
      const line = rig.device.log.find((l) => /psm: /.test(l));
      // the request, with T3412 ≥ two upload intervals (1200 s) and T3324 10 s
      assert.match(rig.modem.transcript.text(), /AT\+CPSMS=1,,,"00000010","00000101"/);
      const after = until ? await rig.until(() => until(rig), 60000) : true;
      return { line, after, log: rig.device.log.join('\n') };
    } finally {
      await rig.close();
    }
  };

  it('granted: logged in words, and the modem then goes into PSM', async () => {
    const r = await run({ grant: true, cereg4: true }, (rig) => rig.modem.lowPower === 'psm');
    assert.match(r.line, /psm: granted TAU 1200 s, active 10 s$/);
    assert.ok(r.after, 'in PSM after the active time');
    assert.match(r.log, /edrx: not supported by the modem/, 'AT+CEDRXS is not in the A76XX manual V1.09: refused, logged');
  });

  it('the network grants other timers than asked: those are logged', async () => {
    const r = await run({ grant: true, cereg4: true, tau: '00100001', active: '00000011' });
    assert.match(r.line, /psm: granted TAU 3600 s, active 6 s$/);
  });

  it('refused by the network: "psm: not granted by the network"', async () => {
    const r = await run({ grant: false, cereg4: true });
    assert.match(r.line, /psm: not granted by the network$/);
  });

  it('a modem that does not report the grant (AT+CEREG=4 refused, as the V1.09 manual lists n 0-2): says so', async () => {
    const r = await run({ grant: true });
    assert.match(r.line, /psm: requested TAU 1200 s, active 10 s; the modem does not say what was granted$/);
  });

  it("duty cycle with PSM granted: the modem stays registered, in PSM, through the ESP32's deep sleeps; each upload wakes it with the power-up pulse, no registration, every reading delivered in order", async () => {
    const rig = await createRig({
      board: 't-call-a7670-v1_0',
      config: { intervalSeconds: 60, power: { mode: 'duty-cycle', modem: 'psm', uploadEverySeconds: 180 } },
      modemOptions: { psm: { grant: true, cereg4: true } },
    });
    try {
      rig.start();
      const done = () => rig.device.log.filter((l) => /upload: done/.test(l)).length;
      assert.ok(await rig.until(() => done() >= 3, 900000, 1000), rig.explain('three uploads'));
      const n = rig.readings().map((m) => JSON.parse(m.text).n);
      assert.deepEqual(
        n,
        n.map((_, i) => i + 1),
      );
      // one cold boot of the modem; later uploads wake it from PSM
      assert.deepEqual(
        rig.modem.power.history.map((h) => h.state),
        ['booting', 'on'],
      );
      assert.ok(rig.modem.stats.psmMs > 200000, `${rig.modem.stats.psmMs} ms in PSM`);
      assert.equal(rig.device.log.filter((l) => /psm: the modem stays registered/.test(l)).length, 3);
      // a woken modem uploads in a few seconds (no boot, no registration): under 5 s from wake to sleep
      const times = rig.device.log.filter((l) => /\] (upload: start|sleep: .*upload done)/.test(l)).map((l) => +/^\[([\d.]+)\]/.exec(l)[1]);
      assert.ok(times[times.length - 1] < 5, rig.device.log.slice(-20).join('\n'));
    } finally {
      await rig.close();
    }
  });

  it('duty cycle with PSM not reported by the modem: it is switched off after each upload, as without PSM', async () => {
    const rig = await createRig({
      board: 't-call-a7670-v1_1',
      config: { intervalSeconds: 60, power: { mode: 'duty-cycle', modem: 'psm', uploadEverySeconds: 180 } },
      modemOptions: { psm: { grant: true } },
    });
    try {
      rig.start();
      assert.ok(await rig.until(() => rig.device.log.filter((l) => /upload: done/.test(l)).length >= 2, 900000, 1000), rig.explain('two uploads'));
      assert.ok(rig.modem.transcript.text().includes('AT+CPOF'));
      assert.equal(rig.modem.power.history.filter((h) => h.state === 'booting').length, 2);
    } finally {
      await rig.close();
    }
  });
});
