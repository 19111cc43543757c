// Recovery on the shipped bundles, one fault at a time and told in full (the soak in
// soak.test.mjs throws hundreds of them at random): what the supervisor does, which rung of the
// ladder mends what, and that the watchdog steps in only when the firmware itself is stuck.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { withRig, numbers } from './with-rig.mjs';

describe('e2e-recovery.test.mjs', () => {
  /** every number from 1 to the highest, at least once, first arrivals in order */
  function assertContiguous(ns, why) {
    const firsts = ns.filter((n, i) => ns.indexOf(n) === i);
    assert.deepEqual(
      firsts,
      firsts.map((_, i) => i + 1),
      `${why}: ${ns.join(',')}`,
    );
  }
  const watchdogResets = (rig) => rig.device.resets.filter((r) => r.reason === 'watchdog').length;

  it('A76xx: a modem that stops answering is power-cycled (AT silence skips the cheap rungs); no reading is lost', async () => {
    await withRig({}, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 2, 120000), rig.explain('no first readings'));
      rig.modem.hang(Infinity); // only a reset or a power transition ends it
      const n = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length >= n + 6, 600000), rig.explain('no readings after the hang'));
      const log = rig.device.log.join('\n');
      assert.match(log, /link: power-cycle the modem \(PWRKEY\)/);
      assert.doesNotMatch(log, /link: switch the radio off and on/, 'a deaf modem is not sent AT+CFUN');
      assertContiguous(numbers(rig), 'readings');
      assert.equal(watchdogResets(rig), 0);
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('SIM800: after +PDP: DEACT the data context is brought up again (CIPSHUT … CIICR) at once, not after failed reconnects', async () => {
    await withRig({ board: 't-call-sim800l' }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 2, 120000), rig.explain('no first readings'));
      const shutsBefore = (rig.modem.transcript.text().match(/AT\+CIPSHUT/g) || []).length;
      const t0 = rig.clock.now();
      rig.modem.pdpDeact();
      const n = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length > n, 120000), rig.explain('no reading after PDP DEACT'));
      assert.ok(rig.clock.now() - t0 < 60000, `took ${(rig.clock.now() - t0) / 1000} s`);
      const log = rig.device.log.join('\n');
      assert.match(log, /link: will reattach the data connection in/);
      assert.equal((rig.modem.transcript.text().match(/AT\+CIPSHUT/g) || []).length, shutsBefore + 2, 'dataReset and netUp each shut the stack once');
      assertContiguous(numbers(rig), 'readings');
    });
  });

  it('readings taken while the network is gone wait in flash, survive a power loss, and arrive in order afterwards', async () => {
    await withRig({}, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 120000), rig.explain('no first reading'));
      rig.modem.loseNetwork();
      await rig.until(() => false, 300000); // ~10 readings taken offline
      rig.powerLoss();
      await rig.until(() => false, 60000);
      rig.powerRestore();
      rig.modem.restoreNetwork();
      assert.ok(await rig.until(() => numbers(rig).length >= 14, 300000), rig.explain('backlog not delivered'));
      assert.match(rig.device.log.join('\n'), /queue: \d+ reading\(s\) kept from before/);
      assertContiguous(numbers(rig), 'readings');
    });
  });

  it('mutation: with AT commands that never time out, a hung modem wedges the firmware and the watchdog restarts the ESP32', async () => {
    let mutated = false;
    // the engine's per-command timeout: without it, a command the modem never answers blocks all
    const mutate = (code) => code.replace(/(\w+)=setTimeout\(function\(\)\{\1=0,\w+\("timeout",-1\)\},\w+\)/, (m, v) => ((mutated = true), `${v}=0`));
    await withRig({ mutate }, async (rig) => {
      assert.ok(mutated, 'the mutation found the AT timeout');
      assert.ok(await rig.until(() => rig.readings().length >= 1, 120000), rig.explain('no first reading'));
      rig.modem.hang(Infinity);
      assert.ok(await rig.until(() => watchdogResets(rig) > 0, 1800000), rig.explain('the watchdog never fired'));
      const r = rig.device.resets.find((x) => x.reason === 'watchdog');
      assert.ok(r.timeMs > 900000, `watchdog after ${r.timeMs / 1000} s: only once nothing progressed for 15 min`);
    });
  });

  it('a board that boots without coverage takes its readings anyway; they arrive, in order, once the network is there', async () => {
    await withRig({}, async (rig) => {
      rig.modem.loseNetwork(); // before the modem has even registered
      await rig.until(() => false, 300000);
      assert.equal(rig.readings().length, 0);
      rig.modem.restoreNetwork();
      assert.ok(await rig.until(() => rig.readings().length >= 10, 300000), rig.explain('the offline readings did not arrive'));
      const first = rig.readings().map((m) => JSON.parse(m.text));
      assertContiguous(
        first.map((r) => r.n),
        'readings',
      );
      assert.ok(first[0].up < 60, `the first reading was taken at ${first[0].up} s, not after the network came`);
      assert.equal(first[0].rssi, undefined, 'taken while the modem was not up yet: no signal figure');
    });
  });

  // ---------- issue 10 #9/#10: +CGEV events and the MQTT stack on the deeper rungs ----------

  it('A76xx: +CGEV: NW PDN DEACT 8 (not the data path) changes nothing; +CGEV: NW DETACH and ME DETACH start a reattach', async () => {
    await withRig({}, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 2, 120000), rig.explain('no first readings'));
      let at = rig.device.log.length;
      rig.modem.pdnDeact(8);
      const n = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length >= n + 2, 120000), rig.explain('no readings after cid 8 went'));
      assert.deepEqual(
        rig.device.log.slice(at).filter((l) => /\] link:/.test(l)),
        [],
        "cid 8 is not the MQTT stack's bearer",
      );
      for (const ev of ['NW DETACH', 'ME DETACH']) {
        at = rig.device.log.length;
        rig.modem.urc(`+CGEV: ${ev}`); // the event alone, before the MQTT stack has noticed anything
        assert.ok(
          await rig.until(() => rig.device.log.slice(at).some((l) => /link: will reattach the data connection/.test(l)), 30000),
          rig.explain(`no reattach after +CGEV: ${ev}`),
        );
        const m = rig.readings().length;
        assert.ok(await rig.until(() => rig.readings().length > m, 300000), rig.explain(`no reading after +CGEV: ${ev}`));
      }
      assertContiguous(numbers(rig), 'readings');
    });
  });

  it('A76xx: the reattach rung also restarts the MQTT stack (DISC, wait, REL, STOP, START) and connects in one attempt', async () => {
    await withRig({}, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 2, 120000), rig.explain('no first readings'));
      rig.modem.transcript.clear();
      const at = rig.device.log.length;
      rig.modem.urc('+CGEV: NW PDN DEACT 1'); // the default bearer: the event alone, the stack still up
      const n = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length >= n + 2, 300000), rig.explain('no readings after PDN DEACT 1'));
      const log = rig.device.log.slice(at).join('\n');
      assert.match(log, /link: reattach the data connection/);
      assert.doesNotMatch(log, /attempt failed/, log);
      const sent = rig.modem.transcript.input();
      const order = ['AT+CMQTTDISC=0', 'AT+CMQTTREL=0', 'AT+CMQTTSTOP', 'AT+CMQTTSTART'].map((c) => sent.indexOf(c));
      assert.ok(
        order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])),
        `DISC, REL, STOP, START in order: ${order}`,
      );
      // (the reattach itself, CGATT=0, already took the stack down with +CMQTTNONET, so the STOP may
      // find it stopped; what counts is that it was started afresh)
      assert.match(rig.modem.transcript.output(), /\+CMQTTSTART: 0/, 'the stack was started again');
    });
  });
});
