// Real-hardware fidelity (issue 10) on the shipped A76xx bundles: what the SIMCom manuals and
// LilyGO's own code say a board does, with the simulator answering as the manual says. Each test
// here failed on the firmware before its fix (the closing note of issue 10 shows the failures).
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createRig } from '../host/testing/rig.mjs';
import { withRig, numbers } from './with-rig.mjs';
import { createFlash } from '../host/sim/a76xx/index.mjs';

describe('e2e-fidelity.test.mjs', () => {
  const firstArrivals = (ns) => ns.filter((n, i) => ns.indexOf(n) === i);
  const linkFailures = (rig) => rig.device.log.filter((l) => /link: attempt failed/.test(l)).length;

  // Finding 2. The manual gives data commands no response time; LilyGO waits 10 s for the '>'.
  it('a late > prompt (5 s) for CMQTTPAYLOAD is waited for: readings go out, nothing times out', async () => {
    const latencyMs = { default: 10, '+CMQTTPAYLOAD': 5000 };
    await withRig({ modemOptions: { latencyMs } }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 3, 300000), rig.explain('no readings with a slow prompt'));
      assert.deepEqual(firstArrivals(numbers(rig)), [1, 2, 3]);
      assert.doesNotMatch(rig.device.log.join('\n'), /-> timeout/);
    });
  });

  // Finding 2, past the limit: the modem prints '>' after the firmware gave up. It then takes the
  // next <len> bytes as the payload, whatever they are, so the firmware must send what it owes.
  it('a prompt later than the firmware waits gets its owed bytes: no AT command is eaten as payload', async () => {
    const latencyMs = { default: 10 };
    await withRig({ modemOptions: { latencyMs } }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 120000), rig.explain('no first reading'));
      latencyMs['+CMQTTPAYLOAD'] = 12500;
      assert.ok(await rig.until(() => rig.device.log.some((l) => /AT\+CMQTTPAYLOAD.*-> timeout/.test(l)), 200000), rig.explain('the payload never timed out'));
      latencyMs['+CMQTTPAYLOAD'] = 10;
      const had = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length >= had + 3, 600000), rig.explain('no readings after the late prompt'));
      assert.ok(
        rig.device.log.some((l) => /at: late prompt; sending the \d+ bytes it waits for/.test(l)),
        rig.explain('the late prompt was not answered'),
      );
      for (const m of rig.subscriber.messages) assert.doesNotMatch(m.text, /AT\+/, `an AT command went out as a message: ${m.text}`);
      const ns = firstArrivals(numbers(rig));
      assert.deepEqual(
        ns,
        ns.map((_, i) => i + 1),
        'readings in order, none lost',
      );
    });
  });

  // Finding 5. A76XX AT manual §5.2.4: "In LTE mode, it's prohibited to active or deactive default
  // bearer(cid 1)". The network drops the bearer (+CGEV: NW PDN DEACT 1).
  it('LTE: after the network drops the default bearer, the reattach rung detaches and attaches (CGATT), not CGACT on cid 1', async () => {
    await withRig({}, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 2, 120000), rig.explain('no first readings'));
      const from = rig.modem.transcript.text().length;
      const t0 = rig.clock.now();
      rig.modem.pdnDeact(1);
      const had = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length > had, 300000), rig.explain('no reading after the bearer was dropped'));
      const after = rig.modem.transcript.text().slice(from);
      assert.doesNotMatch(after, /AT\+CGACT=[01],1/, 'CGACT on the LTE default bearer');
      assert.match(after, /AT\+CGATT=0[\s\S]*AT\+CGATT=1[\s\S]*\+CGEV: EPS PDN ACT 1/);
      assert.match(rig.device.log.join('\n'), /link: will reattach the data connection/);
      assert.ok(rig.clock.now() - t0 < 90000, `recovery took ${(rig.clock.now() - t0) / 1000} s`);
    });
  });

  // Finding 12. The LTE default bearer comes up at attach with the APN stored then (CGDCONT is
  // AUTO_SAVE); a modem that last served another SIM has that SIM's APN stored.
  it('an APN other than the stored one is written with the radio off, so the first attempt connects', async () => {
    const flash = createFlash({ cgdcont: [[1, { type: 'IP', apn: 'old.apn' }]] });
    await withRig({ config: { apn: 'internet', intervalSeconds: 30 }, modemOptions: { flash, network: { dataApn: 'internet' } } }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 180000), rig.explain('no first reading'));
      assert.equal(linkFailures(rig), 0, rig.explain('the first attempt failed'));
      assert.equal(flash.cgdcont.get(1).apn, 'internet');
      assert.match(rig.modem.transcript.text(), /AT\+CFUN=0[\s\S]*AT\+CGDCONT=1,"IP","internet"[\s\S]*AT\+CFUN=1/);
    });
    // the next boot finds it stored: no radio cycle
    const again = createFlash({ cgdcont: [[1, { type: 'IP', apn: 'internet' }]] });
    await withRig({ config: { apn: 'internet', intervalSeconds: 30 }, modemOptions: { flash: again, network: { dataApn: 'internet' } } }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 180000), rig.explain('no first reading'));
      assert.doesNotMatch(rig.modem.transcript.text(), /AT\+CFUN=0/);
    });
  });

  // Finding 13. 9000 ms is the manual's "Max Response Time" of these commands (A76XX AT manual
  // §3.2.2 CSQ, §3.2.10 CCLK, §4.2.1 CREG, §5.2.2 CEREG, §6.2.2 CPIN, §3.2.11 CMEE, §4.2.12 CTZU).
  it("answers that take 6 s, within the manual's 9 s, are waited for", async () => {
    const slow = 6000;
    const latencyMs = { default: 10, '+CPIN': slow, '+CREG': slow, '+CEREG': slow, '+CCLK': slow, '+CSQ': slow, '+CMEE': slow, '+CTZU': slow };
    await withRig({ modemOptions: { latencyMs } }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 2, 300000), rig.explain('no readings from a slow modem'));
      // (readings taken before the link was up carry no signal or time: the last one has both)
      const last = rig.readings()[rig.readings().length - 1].text;
      const r = JSON.parse(last);
      assert.equal(typeof r.rssi, 'number', `the signal: ${last}`);
      assert.ok(r.ts, `the network time: ${last}`);
      assert.doesNotMatch(rig.device.log.join('\n'), /-> timeout/);
    });
  });

  // Finding 16. URCs land inside answers (PB DONE between CMQTTCONNECT and its OK in the A7670G
  // capture); a RING or a new-SMS notice is not the answer.
  it('a RING or +CMTI inside the answers to CPIN?, CREG?, CCLK? and CSQ is not taken for the answer', async () => {
    await withRig({}, async (rig) => {
      for (let i = 0; i < 3; i++) rig.modem.inject('\r\nRING\r\n', { into: '+CPIN', at: 'start' });
      for (let i = 0; i < 3; i++) rig.modem.inject('\r\n+CMTI: "SM",1\r\n', { into: '+CCLK', at: 'start' });
      rig.modem.inject('\r\nRING\r\n', { into: '+CREG', at: 'before-final' });
      rig.modem.inject('\r\nRING\r\n', { into: '+CSQ', at: 'start' });
      assert.ok(await rig.until(() => rig.readings().length >= 1, 180000), rig.explain('no first reading'));
      const r = JSON.parse(rig.readings()[0].text);
      assert.equal(typeof r.rssi, 'number', `signal read past the RING: ${rig.readings()[0].text}`);
      assert.equal(linkFailures(rig), 0, rig.explain('an attempt failed on a URC inside an answer'));
      assert.doesNotMatch(rig.device.log.join('\n'), /NTP/, 'the network time was read past the +CMTI');
    });
  });

  // Finding 11. A modem whose firmware is stuck does not carry out PWRKEY's power-off; on a board
  // with no switchable modem rail the last rung must pulse RESET (LilyGO: 2.6 s).
  it('T-Call-A7670 V1.1 (no POWER_ON rail): a modem hung past PWRKEY is reset through its RESET pin', async () => {
    await withRig({ board: 't-call-a7670-v1_1' }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 120000), rig.explain('no first reading'));
      rig.modem.hang(Infinity, { hard: true });
      const had = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length > had, 900000), rig.explain('never recovered from the hang'));
      const resets = rig.modem.power.pulses.filter((p) => p.pin === 'RESET' && p.effect === 'reset');
      assert.equal(resets.length, 1, JSON.stringify(rig.modem.power.pulses));
      assert.ok(resets[0].lengthMs >= 2500 && resets[0].lengthMs <= 3000, `RESET held ${resets[0].lengthMs} ms`);
      assert.match(rig.device.log.join('\n'), /power: resetting the modem \(RESET pin\)/);
    });
  });

  // Finding 14. LilyGO: IO12 must go HIGH right after the ESP32 starts (the T-A7670X v1.2 resets on
  // battery otherwise), and switching the modem's supply on again browns the board out on battery.
  it('T-A7670X: IO12 goes HIGH before anything else and stays HIGH through every rung, RESET stands in for the cut', async () => {
    let atFirstLog = null;
    let lows = 0;
    const rig = await createRig({ config: { intervalSeconds: 30 } });
    // (the ESP32's own pull-up holds IO12 high until the firmware drives it, so the mode tells)
    rig.device.onLog(() => {
      atFirstLog ??= { mode: rig.device.pins.mode(12), level: rig.device.pins.level(12) };
    });
    const off = rig.device.pins.onChange(12, (level) => {
      if (level === 0) lows++;
    });
    try {
      rig.start();
      assert.ok(await rig.until(() => rig.readings().length >= 1, 120000), rig.explain('no first reading'));
      rig.modem.hang(Infinity, { hard: true });
      const had = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length > had, 900000), rig.explain('never recovered from the hang'));
      assert.match(rig.device.log.join('\n'), /power: resetting the modem \(RESET pin\)/);
    } finally {
      off();
      await rig.close();
    }
    assert.deepEqual(atFirstLog, { mode: 'output', level: 1 }, "IO12 driven HIGH before the firmware's first log line");
    assert.equal(lows, 0, 'IO12 went LOW during recovery');
  });
});
