// The simulated modems' low-power states (host/sim/common/sleep.mjs) against what the manuals say:
// A76XX Sleep Mode AN V1.02 ch. 2-3, UART AN V1.02 §4.4, AT manual V1.09 §10.2.7/§10.2.10/§34.2.2;
// the SIMCom SIM800-family hardware design's "Sleep Mode 1" (see sleep.mjs for the quotes).
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createClock } from '../host/runtime/clock.mjs';
import { createA76xx } from '../host/sim/a76xx/index.mjs';
import { createSim800 } from '../host/sim/sim800/index.mjs';
import { timerSeconds } from '../host/sim/common/sleep.mjs';
import { createTestDevice, powerUp } from '../host/testing/test-device.mjs';
import { board as tA7670 } from '../boards/t-a7670x.ts';
import { board as tCall } from '../boards/t-call-sim800l.ts';

describe('sim-sleep.test.mjs', () => {
  const FINAL = /\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n$/;

  async function booted(kind, opts = {}) {
    const clock = createClock();
    const dev = createTestDevice(clock);
    // the modem drives RI (the test device's pins only take the firmware's levels)
    const driven = new Map();
    dev.pins.drive = (pin, level) => {
      driven.set(pin, level);
      dev.pins.set(pin, level);
    };
    const board = kind === 'A76xx' ? tA7670 : tCall;
    const modem =
      kind === 'A76xx' ? createA76xx({ clock, device: dev, board, ...opts }) : createSim800({ clock, device: dev, board, autobaud: false, ...opts });
    dev.pins.set(board.dtr, 0);
    await powerUp(clock, dev, board);
    await clock.runFor(kind === 'A76xx' ? 11100 + 15000 : 13000);
    dev.host.take();
    return { clock, dev, modem, board };
  }

  async function at(s, line, { timeoutMs = 10000 } = {}) {
    s.dev.host.write(line);
    const ok = await s.clock.runUntil(() => FINAL.test(s.dev.host.text()), { timeoutMs, stepMs: 5 });
    const out = s.dev.host.take();
    assert.ok(ok, `no answer to ${JSON.stringify(line)}; got ${JSON.stringify(out)}`);
    return out;
  }

  for (const [kind, enterMs, wakeMs] of [
    ['A76xx', 15000, 20],
    ['SIM800', 5000, 50],
  ]) {
    it(`${kind}: AT+CSCLK=1 + DTR high + idle → asleep after ${enterMs / 1000} s; input is lost while asleep; DTR low wakes it after ${wakeMs} ms`, async () => {
      const s = await booted(kind);
      await at(s, 'AT+CSCLK=1\r');
      // DTR still low: never sleeps
      await s.clock.runFor(enterMs * 3);
      assert.equal(s.modem.lowPower, 'awake', 'DTR low keeps it awake');
      s.dev.pins.set(s.board.dtr, 1);
      await s.clock.runFor(enterMs - 100);
      assert.equal(s.modem.lowPower, 'awake', 'not before the time to enter sleep');
      await s.clock.runFor(200);
      assert.equal(s.modem.lowPower, 'sleep');
      const before = s.modem.stats.sleepMs;
      await s.clock.runFor(60000);
      assert.ok(s.modem.stats.sleepMs - before >= 60000, `sleepMs counts: ${s.modem.stats.sleepMs}`);
      // a command with DTR high gets nothing: the serial port is not accessible
      s.dev.host.write('AT\r');
      await s.clock.runFor(1000);
      assert.equal(s.dev.host.take(), '', 'no answer while asleep');
      assert.equal(s.modem.lowPower, 'sleep');
      // DTR low, and a command sent before the wake time is lost too
      s.dev.pins.set(s.board.dtr, 0);
      await s.clock.runFor(wakeMs - 10);
      s.dev.host.write('AT\r');
      await s.clock.runFor(500);
      assert.equal(s.dev.host.take(), '', `lost: sent ${wakeMs - 10} ms after DTR went low`);
      assert.equal(s.modem.lowPower, 'awake');
      assert.match(await at(s, 'AT\r'), /OK/);
      // DTR low: stays awake however long
      await s.clock.runFor(enterMs * 4);
      assert.equal(s.modem.lowPower, 'awake');
    });

    it(`${kind}: asleep, a network event wakes it and its URC goes out, with an RI pulse under AT+CFGRI=1; then it sleeps again`, async () => {
      const s = await booted(kind);
      await at(s, 'AT+CSCLK=1\r');
      await at(s, 'AT+CFGRI=1\r');
      const ri = s.board.documented.ri;
      const riLevels = [];
      s.dev.pins.onChange(ri, (l) => riLevels.push(l));
      const riMs = [];
      s.dev.pins.onChange(ri, () => riMs.push(s.clock.now()));
      s.dev.pins.set(s.board.dtr, 1);
      await s.clock.runFor(enterMs + 1000);
      assert.equal(s.modem.lowPower, 'sleep');
      s.modem.urc(kind === 'A76xx' ? '+CMQTTRXSTART: 0,9,2' : '+CIPRXGET: 1,0');
      assert.equal(s.modem.lowPower, 'awake');
      assert.match(s.dev.host.take(), kind === 'A76xx' ? /\+CMQTTRXSTART: 0,9,2/ : /\+CIPRXGET: 1,0/);
      assert.equal(s.modem.stats.urcs > 0, true);
      await s.clock.runFor(enterMs + 1000);
      assert.equal(s.modem.lowPower, 'sleep', 'back to sleep: DTR still high, idle again');
      assert.equal(s.modem.stats.sleeps, 2);
      assert.deepEqual(riLevels, [0, 1], 'one RI pulse, for the URC');
      assert.equal(riMs[1] - riMs[0], kind === 'A76xx' ? 60 : 120, 'RI low for the URC time');
    });

    it(`${kind}: CSCLK is per boot: after a restart the modem stays awake with DTR high`, async () => {
      const s = await booted(kind);
      await at(s, 'AT+CSCLK=1\r');
      assert.ok(s.modem.reboot());
      s.dev.pins.set(s.board.dtr, 1);
      await s.clock.runFor(60000);
      assert.equal(s.modem.lowPower, 'awake');
    });
  }

  it('A76xx: AT+CFGRI forms as in §10.2.10 (read "+CFGRI: 0,60,120" by default)', async () => {
    const s = await booted('A76xx');
    assert.match(await at(s, 'AT+CFGRI?\r'), /\+CFGRI: 0,60,120/);
    assert.match(await at(s, 'AT+CFGRI=?\r'), /\+CFGRI: \(0-1\),\(10-6000\),\(20-6000\)/);
    assert.match(await at(s, 'AT+CFGRI=1,100\r'), /OK/);
    assert.match(await at(s, 'AT+CFGRI?\r'), /\+CFGRI: 1,100,120/);
    assert.match(await at(s, 'AT+CFGRI=2\r'), /ERROR/);
  });

  describe('PSM (A76xx)', () => {
    it('GPRS Timer 2/3 decoding: the AT manual\'s examples ("01101111" = 30 s T3412, "00001111" = 30 s T3324, "01000111" = 70 h, "00100100" = 4 min)', () => {
      assert.equal(timerSeconds('01101111', true), 30);
      assert.equal(timerSeconds('00001111', false), 30);
      assert.equal(timerSeconds('01000111', true), 70 * 3600);
      assert.equal(timerSeconds('00100100', false), 4 * 60);
      assert.equal(timerSeconds('11100000', true), null);
    });

    it('AT+CPSMS forms (§34.2.2), AUTO_SAVE; AT+CEREG=4 refused by default (the manual lists 0-2)', async () => {
      const s = await booted('A76xx', { psm: { grant: true } });
      assert.match(await at(s, 'AT+CPSMS=?\r'), /\+CPSMS: \(0-2\)/);
      assert.match(await at(s, 'AT+CPSMS=1,,,"01101111","00001111"\r'), /OK/);
      assert.match(await at(s, 'AT+CPSMS?\r'), /\+CPSMS: 1,,,01101111,00001111/);
      assert.match(await at(s, 'AT+CPSMS=1,,,"0110111","00001111"\r'), /ERROR/, 'not 8 bits');
      assert.match(await at(s, 'AT+CEREG=4\r'), /\+CME ERROR/);
      assert.match(await at(s, 'AT+CEDRXS=1,4,"0101"\r'), /ERROR/, 'not in the V1.09 manual');
      assert.ok(s.modem.reboot());
      await s.clock.runFor(30000);
      s.dev.host.take();
      assert.match(await at(s, 'AT+CPSMS?\r'), /\+CPSMS: 1,,,01101111,00001111/, 'kept across a restart');
    });

    it('granted: PSM after Active-Time of idle, UART dead, a URC waits; a PWRKEY pulse (Ton) wakes it and the URC comes out; the TAU wakes it too', async () => {
      const s = await booted('A76xx', { psm: { grant: true, cereg4: true } });
      await at(s, 'AT+CPSMS=1,,,"01100101","00000011"\r'); // TAU 10 s, active 6 s
      assert.match(await at(s, 'AT+CEREG=4\r'), /OK/);
      assert.match(await at(s, 'AT+CEREG?\r'), /\+CEREG: 4,1,,,7,,,"00000011","01100101"/);
      await s.clock.runFor(5000);
      assert.equal(s.modem.lowPower, 'awake');
      await s.clock.runFor(1500);
      assert.equal(s.modem.lowPower, 'psm');
      s.dev.host.write('AT\r');
      await s.clock.runFor(500);
      assert.equal(s.dev.host.take(), '', 'no answer in PSM');
      s.modem.urc('+CMQTTRXSTART: 0,9,2');
      assert.equal(s.dev.host.take(), '', 'held while in PSM');
      // PWRKEY pulse of the board's on-pulse (100 ms ≥ Ton): out of PSM, the URC comes
      const asserted = s.board.pwrkey.inverted ? 1 : 0;
      s.dev.pins.set(s.board.pwrkey.pin, asserted);
      await s.clock.runFor(s.board.pwrkey.onPulseMs);
      s.dev.pins.set(s.board.pwrkey.pin, 1 - asserted);
      assert.equal(s.modem.lowPower, 'awake');
      assert.equal(s.modem.power.state, 'on', 'a short pulse does not power it off');
      assert.match(s.dev.host.take(), /\+CMQTTRXSTART: 0,9,2/);
      assert.match(await at(s, 'AT\r'), /OK/);
      // back to PSM, then the periodic TAU (10 s) wakes it for another Active-Time
      const psmBefore = s.modem.stats.psmMs;
      await s.clock.runFor(7000);
      assert.equal(s.modem.lowPower, 'psm');
      await s.clock.runFor(10100);
      assert.equal(s.modem.lowPower, 'awake', 'TAU');
      assert.ok(s.modem.stats.psmMs - psmBefore >= 10000);
    });

    it('refused by the network: no PSM, and +CEREG: 4 carries no timers', async () => {
      const s = await booted('A76xx', { psm: { grant: false, cereg4: true } });
      await at(s, 'AT+CPSMS=1,,,"01100101","00000011"\r');
      await at(s, 'AT+CEREG=4\r');
      assert.match(await at(s, 'AT+CEREG?\r'), /\+CEREG: 4,1,,,7\r\n/);
      await s.clock.runFor(60000);
      assert.equal(s.modem.lowPower, 'awake');
    });
  });
});
