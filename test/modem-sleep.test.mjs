// DTR sleep in always-on mode (config power.modem "dtr-sleep", firmware/modem/dtr-sleep.ts), end to
// end on the built bundle in the rig: between readings the simulated modem sleeps (it only can with
// AT+CSCLK=1 and DTR high, host/sim/common/sleep.mjs), every reading still arrives, nothing is
// written to it while it sleeps, and a command from the broker reaches a sleeping modem.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRig } from '../host/testing/rig.mjs';
import { build } from '../build.mjs';

describe('modem-sleep.test.mjs', () => {
  for (const board of ['t-a7670x', 't-call-sim800l']) {
    it(`${board}: the modem sleeps most of the time between readings, every reading arrives, and a command sent while it sleeps is handled`, async () => {
      const rig = await createRig({ board, config: { power: { modem: 'dtr-sleep' } } });
      try {
        rig.start();
        const ns = () => rig.readings().map((m) => JSON.parse(m.text).n);
        assert.ok(await rig.until(() => rig.readings().length >= 1, 120000), rig.explain('no first reading'));
        assert.ok(
          rig.device.log.some((l) => /modem: DTR sleep on/.test(l)),
          rig.explain('no AT+CSCLK=1'),
        );
        const t0 = rig.clock.now();
        const s0 = rig.modem.stats.sleepMs;
        assert.ok(await rig.until(() => rig.readings().length >= 6, 400000), rig.explain(`readings: ${ns().join(',')}`));
        const share = (rig.modem.stats.sleepMs - s0) / (rig.clock.now() - t0);
        assert.ok(share > 0.6, `asleep ${(share * 100).toFixed(0)} % of the time between readings`);
        assert.ok(rig.modem.stats.sleeps >= 5, `${rig.modem.stats.sleeps} sleeps`);
        assert.deepEqual(ns(), [1, 2, 3, 4, 5, 6], 'every reading, in order');
        assert.equal(rig.modem.stats.sleepLostBytes, 0, 'the firmware never wrote to a sleeping modem (it waits for the wake time)');

        // a command while the modem sleeps
        assert.ok(await rig.until(() => rig.modem.lowPower === 'sleep', 60000), 'asleep');
        const { command, status } = rig.config.topics;
        const statusMsgs = () => rig.subscriber.messages.filter((m) => m.topic === status).map((m) => m.text);
        const n = rig.readings().length;
        const sent = await rig.toModem(() => rig.subscriber.client.publishAsync(command, '{"cmd":"read"}', { qos: 1 }));
        await sent.result;
        assert.ok(await rig.until(() => rig.readings().length > n, 10000), rig.explain('the read command from a sleeping modem was not obeyed'));
        const sentI = await rig.toModem(() => rig.subscriber.client.publishAsync(command, '{"cmd":"interval","s":30}', { qos: 1 }));
        await sentI.result;
        assert.ok(await rig.until(() => statusMsgs().includes('{"ack":"interval","s":30}'), 10000), rig.explain('no ack'));
        assert.equal(rig.modem.stats.sleepLostBytes, 0);
        assert.deepEqual(rig.device.errors, []);
      } finally {
        await rig.close();
      }
    });
  }

  it('mutation: a firmware that writes at once after DTR low (no wake time) loses bytes to the sleeping modem, and this file notices', async () => {
    const wake = /digitalWrite\((\w+)\.dtr,0\),setTimeout\((\w+),20\)/;
    const rig = await createRig({
      board: 't-a7670x',
      config: { power: { modem: 'dtr-sleep' } },
      mutate: (code) => {
        assert.match(code, wake, 'the wake step as the bundle has it');
        return code.replace(wake, 'digitalWrite($1.dtr,0),setTimeout($2,0)');
      },
    });
    try {
      rig.start();
      await rig.until(() => rig.readings().length >= 3, 300000);
      assert.ok(rig.modem.stats.sleepLostBytes > 0, 'commands written before the modem woke are lost');
    } finally {
      await rig.close();
    }
  });

  it('bundles without dtr-sleep carry none of it (the flag drops it; "awake" is the same bundle as no power block), and the board file must have a DTR pin', async () => {
    const cfg = JSON.parse(readFileSync('config/example.hivemq.json', 'utf8'));
    delete cfg.board;
    const plain = await build({ board: 't-a7670x', config: cfg, configDir: 'config', outFile: false, allowPlaceholders: true });
    const awake = await build({
      board: 't-a7670x',
      config: { ...cfg, power: { modem: 'awake' } },
      configDir: 'config',
      outFile: false,
      allowPlaceholders: true,
    });
    const dtr = await build({
      board: 't-a7670x',
      config: { ...cfg, power: { modem: 'dtr-sleep' } },
      configDir: 'config',
      outFile: false,
      allowPlaceholders: true,
    });
    assert.equal(awake.code, plain.code);
    assert.doesNotMatch(plain.code, /CSCLK/);
    assert.doesNotMatch(plain.code, /dtr:/, 'the DTR pin stays out of the board data');
    assert.match(dtr.code, /AT\+CSCLK=1/);
    assert.match(dtr.code, /dtr:25/);
    assert.ok(dtr.bytes > plain.bytes);
    await assert.rejects(
      build({
        board: 't-a7670x',
        config: { ...cfg, power: { mode: 'duty-cycle', modem: 'dtr-sleep' } },
        configDir: 'config',
        outFile: false,
        allowPlaceholders: true,
      }),
      /power\.modem: "dtr-sleep" is not for power\.mode "duty-cycle".*"dtr-sleep" is for "always-on"/,
    );
  });
});
