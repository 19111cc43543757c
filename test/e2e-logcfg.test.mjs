// Remote log ({"cmd":"log"}) and config-only updates ({"cmd":"config"}) end to end: the shipped
// bundle on the rig (virtual time), commands published through the broker as a user's client
// would, the update made from a config file by host/tools/config-update.mjs.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createRig, testConfig, TEST_USER, AZURE } from '../host/testing/rig.mjs';
import { configUpdateMessage, CONFIG_RESET } from '../host/tools/config-update.mjs';
import { loadBoard } from '../build.mjs';
import { withRig } from './with-rig.mjs';

describe('e2e-logcfg.test.mjs', () => {
  /** Talks to the station as a user's MQTT client: send on a command topic, read a status topic. */
  function client(rig) {
    const t = { command: rig.config.topics.command, status: rig.config.topics.status };
    return {
      t,
      send: async (text, topic = t.command) => (await rig.toModem(() => rig.subscriber.client.publishAsync(topic, text, { qos: 1 }))).result,
      replies: (topic = t.status) =>
        rig.subscriber.messages
          .filter((m) => m.topic === topic)
          .map((m) => JSON.parse(m.text))
          .filter((m) => !m.diag && m.online === undefined),
      on: (topic) => rig.subscriber.messages.filter((m) => m.topic === topic),
    };
  }
  const ups = (msgs) => msgs.map((m) => JSON.parse(m.text).up);
  const gaps = (u) => u.slice(1).map((x, i) => x - u[i]);
  /** The update made from the user's config file: the one the rig built (test CA, test broker), edited. */
  const update = async (edits) => {
    const { config, configDir } = testConfig({ intervalSeconds: 30, ...edits });
    return configUpdateMessage(config, { board: await loadBoard('t-a7670x'), baseDir: configDir });
  };

  it('log: the last lines, oldest first, as the console printed them (cut to 96 characters), n of them on request, no secret', async () => {
    await withRig({}, async (rig) => {
      const c = client(rig);
      assert.ok(await rig.until(() => rig.readings().length >= 1, 90000), rig.explain('no first reading'));
      await c.send('{"cmd":"log"}');
      assert.ok(await rig.until(() => c.replies().some((r) => r.log), 10000), rig.explain('no log reply'));
      const lines = c.replies().find((r) => r.log).log;
      assert.equal(lines.length, 12, lines.join('\n'));
      assert.match(lines[11], /^\[\d+\.\d\] command: log$/);
      // the same lines, in the same order, as the console's last ones before the reply
      const con = rig.device.log;
      const at = con.lastIndexOf(lines[11]);
      assert.ok(at >= 11, `the console has ${lines[11]}`);
      assert.deepEqual(
        lines,
        con.slice(at - 11, at + 1).map((l) => l.substr(0, 96)),
      );
      const times = lines.map((l) => parseFloat(l.slice(1)));
      assert.deepEqual(
        [...times].sort((a, b) => a - b),
        times,
        'oldest first',
      );
      const all = JSON.stringify(c.replies());
      assert.ok(!all.includes(TEST_USER.password), 'the password never in a log reply');
      await c.send('{"cmd":"log","n":3}');
      assert.ok(await rig.until(() => c.replies().filter((r) => r.log).length >= 2, 10000), rig.explain('no second log reply'));
      const three = c.replies().filter((r) => r.log)[1].log;
      assert.equal(three.length, 3);
      assert.match(three[2], /command: log$/);
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it("config: the interval from the user's edited config file applies at once, is kept in cp.cfg and survives a power loss", async () => {
    await withRig({}, async (rig) => {
      const c = client(rig);
      assert.ok(await rig.until(() => rig.readings().length >= 1, 90000), rig.explain('no first reading'));
      await c.send(await update({ intervalSeconds: 20 }));
      assert.ok(await rig.until(() => c.replies().some((r) => r.ack === 'config'), 10000), rig.explain('no config ack'));
      assert.deepEqual(
        c.replies().find((r) => r.ack === 'config'),
        { ack: 'config', reboot: false },
      );
      assert.deepEqual(JSON.parse(rig.device.storage.read('cp.cfg')).intervalS, 20);
      const n = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length >= n + 3, 70000), rig.explain('readings after the update'));
      assert.deepEqual(gaps(ups(rig.readings().slice(n))).slice(0, 2), [20, 20]);
      // power off and on: a cold boot, the overlay merged before anything reads config
      rig.powerLoss();
      await rig.until(() => false, 5000);
      rig.powerRestore();
      // readings of the new boot (those queued before the power loss may arrive first: higher uptimes)
      const m = rig.readings().length;
      const fresh = () => {
        const u = ups(rig.readings().slice(m));
        const k = u.findIndex((x, i) => i > 0 && x < u[i - 1]);
        return k < 0 ? u : u.slice(k);
      };
      assert.ok(await rig.until(() => fresh().length >= 3, 150000), rig.explain('readings after power came back'));
      assert.deepEqual(gaps(fresh()).slice(0, 2), [20, 20], `uptimes ${ups(rig.readings().slice(m))}`);
      assert.match(rig.device.log.join('\n'), /config: cp\.cfg applied/);
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('config: new topics apply after the station restarts itself: readings and replies on the new topics', async () => {
    await withRig({}, async (rig) => {
      const c = client(rig);
      assert.ok(await rig.until(() => rig.readings().length >= 1, 90000), rig.explain('no first reading'));
      const topics = { telemetry: 'farm/{clientId}/data', command: 'farm/{clientId}/in', status: 'farm/{clientId}/out' };
      const resets = rig.device.resets.length;
      await c.send(await update({ topics }));
      assert.ok(await rig.until(() => c.replies().some((r) => r.ack === 'config'), 10000), rig.explain('no config ack'));
      assert.deepEqual(
        c.replies().find((r) => r.ack === 'config'),
        { ack: 'config', reboot: true },
        'the ack on the old status topic',
      );
      assert.ok(await rig.until(() => rig.device.resets.length > resets, 5000), 'the station restarted');
      assert.ok(await rig.until(() => c.on('farm/station-1/data').length >= 1, 120000), rig.explain('no reading on the new telemetry topic'));
      await c.send('{"cmd":"log","n":2}', 'farm/station-1/in');
      assert.ok(await rig.until(() => c.replies('farm/station-1/out').some((r) => r.log), 10000), rig.explain('no reply on the new status topic'));
      const n = rig.readings().length; // the old telemetry topic
      await rig.until(() => false, 40000);
      assert.equal(rig.readings().length, n, 'nothing more on the old telemetry topic');
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it("config: a bad value is refused naming the user's field, and changes nothing; reset erases cp.cfg", async () => {
    await withRig({}, async (rig) => {
      const c = client(rig);
      assert.ok(await rig.until(() => rig.readings().length >= 1, 90000), rig.explain('no first reading'));
      const errors = () =>
        c
          .replies()
          .filter((r) => r.error)
          .map((r) => r.error);
      await c.send('{"cmd":"config","set":{"intervalS":5}}');
      await c.send('{"cmd":"config","set":{"intervalS":20,"topics":{"telemetry":"a/#"}}}');
      await c.send('{"cmd":"config","set":{"broker":{"host":"x"}}}');
      await c.send('{"cmd":"config","set":{"power":{"uploadEveryS":600}}}');
      assert.ok(await rig.until(() => errors().length >= 4, 10000), rig.explain(`errors: ${errors()}`));
      assert.deepEqual(errors(), [
        'intervalSeconds: must be a whole number from 10 to 86400, got 5',
        'topics.telemetry: must be 1 to 1024 printable ASCII characters, no + or #',
        'broker: not changeable without a new bundle',
        'power: not changeable without a new bundle',
      ]);
      assert.equal(rig.device.storage.read('cp.cfg'), undefined, 'nothing stored');
      const n = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length >= n + 2, 70000));
      assert.deepEqual(gaps(ups(rig.readings().slice(n - 1))).slice(0, 2), [30, 30], 'the interval did not change (not even to the valid 20)');
      // the interval command goes through cp.cfg too; reset erases it and restarts
      await c.send('{"cmd":"interval","s":40}');
      assert.ok(await rig.until(() => c.replies().some((r) => r.ack === 'interval'), 10000));
      assert.equal(rig.device.storage.read('cp.cfg'), '{"intervalS":40}');
      const resets = rig.device.resets.length;
      await c.send(CONFIG_RESET);
      assert.ok(await rig.until(() => c.replies().some((r) => r.reset), 10000), rig.explain('no reset ack'));
      assert.deepEqual(
        c.replies().find((r) => r.reset),
        { ack: 'config', reset: true, reboot: true },
      );
      assert.equal(rig.device.storage.read('cp.cfg'), undefined);
      assert.ok(await rig.until(() => rig.device.resets.length > resets, 5000), 'restarted');
      const m = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length >= m + 3, 150000));
      assert.deepEqual(gaps(ups(rig.readings().slice(m))).slice(0, 2), [30, 30], "back to the bundle's 30 s");
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('config: a corrupt cp.cfg (torn write, garbage) is logged and ignored; one with a bad value too; the station publishes', async () => {
    for (const [content, why] of [
      ['\xff\xff{"intervalS":2', /config: cp\.cfg ignored \(not JSON\)/],
      ['{"intervalS":3}', /config: cp\.cfg ignored \(intervalSeconds: must be a whole number from 10 to 86400, got 3\)/],
    ]) {
      await withRig(
        {},
        async (rig) => {
          assert.ok(await rig.until(() => rig.readings().length >= 2, 120000), rig.explain('no readings'));
          assert.match(rig.device.log.join('\n'), why);
          assert.deepEqual(gaps(ups(rig.readings())).slice(0, 1), [30]);
          assert.deepEqual(rig.device.errors, []);
        },
        (rig) => rig.device.storage.write('cp.cfg', content),
      );
    }
  });

  it('config on a duty-cycle station: upload period and low-battery rules, taken at the next upload, in force from the next wake; a rule that contradicts another is refused', async () => {
    const power = { mode: 'duty-cycle', uploadEverySeconds: 300 };
    await withRig({ config: { intervalSeconds: 60, power }, batteryVolts: 3.9 }, async (rig) => {
      const lines = (re) => rig.device.log.filter((l) => re.test(l));
      assert.ok(await rig.until(() => lines(/upload: done/).length >= 1 && lines(/sleep: /).length >= 2, 300000, 500), rig.explain('no first upload'));
      const { config, configDir } = testConfig({
        intervalSeconds: 60,
        power: { ...power, uploadEverySeconds: 600, lowBattery: { slowBelowVolts: 4, slowFactor: 2 } },
      });
      const payload = configUpdateMessage(config, { board: await loadBoard('t-a7670x'), baseDir: configDir });
      assert.deepEqual(JSON.parse(payload).set.power, { uploadEveryS: 600, slowV: 4, slowFactor: 2, stopV: 3.3, stopSleepS: 21600 });
      // the station sleeps: the commands wait at the broker (persistent session) for its next upload
      await rig.subscriber.client.publishAsync(rig.config.topics.command, '{"cmd":"config","set":{"power":{"stopV":3.6}}}', { qos: 1 });
      await rig.subscriber.client.publishAsync(rig.config.topics.command, payload, { qos: 1 });
      const replies = () => rig.subscriber.messages.filter((m) => m.topic === rig.config.topics.status).map((m) => JSON.parse(m.text));
      assert.ok(await rig.until(() => replies().some((r) => r.ack === 'config'), 600000, 1000), rig.explain('no config ack'));
      assert.deepEqual(
        replies().filter((r) => r.ack || r.error),
        [{ error: 'power.lowBattery.stopBelowVolts: must be below slowBelowVolts (3.5)' }, { ack: 'config', reboot: false }],
      );
      assert.deepEqual(JSON.parse(rig.device.storage.read('cp.cfg')), JSON.parse(payload).set);
      // the next wake: 3.9 V is below the new 4 V, so the interval doubles
      assert.ok(await rig.until(() => lines(/battery: 3\.9 V, below 4 V: interval x 2/).length >= 1, 300000, 1000), rig.explain('the new rule not in force'));
      assert.ok(lines(/config: cp\.cfg applied/).length >= 1);
      assert.ok(await rig.until(() => lines(/sleep: 120 s \(next reading\)/).length >= 1, 300000, 1000), lines(/sleep: /).join('\n'));
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('Azure: log by cloud-to-device message (reply as a device-to-cloud message) and by direct method; topics cannot be set', async () => {
    await withRig({ cloud: 'azure' }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 90000), rig.explain('no telemetry'));
      const replies = () => rig.broker.telemetry.filter((m) => !/^\{"(ts|diag)"/.test(m.payload)).map((m) => JSON.parse(m.payload));
      await rig.toModem(() => rig.broker.sendC2D(AZURE.deviceId, '{"cmd":"log","n":4}', {}));
      assert.ok(await rig.until(() => replies().some((r) => r.log), 10000), rig.explain('no log reply'));
      const lines = replies().find((r) => r.log).log;
      assert.equal(lines.length, 4);
      assert.match(lines[3], /command: log$/);
      let r;
      const settle = (p) => p.then((v) => (r = v));
      settle((await rig.toModem(() => rig.broker.invokeMethod(AZURE.deviceId, 'log', { n: 2 }, { timeoutMs: 20000 }))).result);
      assert.ok(await rig.until(() => r, 20000), rig.explain('no method answer'));
      assert.equal(r.status, 200);
      assert.equal(r.payload.log.length, 2);
      assert.match(r.payload.log[1], /method: log$/);
      await rig.toModem(() => rig.broker.sendC2D(AZURE.deviceId, '{"cmd":"config","set":{"topics":{"telemetry":"x"}}}', {}));
      assert.ok(await rig.until(() => replies().some((x) => x.error), 10000), rig.explain('no error reply'));
      assert.equal(replies().find((x) => x.error).error, 'topics: not changeable without a new bundle');
      assert.ok(!JSON.stringify(replies()).includes(AZURE.key));
    });
  });

  it('T-Call SIM800L (plain MQTT, its own client): the log command', async () => {
    await withRig({ board: 't-call-sim800l', cloud: 'plain' }, async (rig) => {
      const c = client(rig);
      assert.ok(await rig.until(() => rig.readings().length >= 1, 120000), rig.explain('no first reading'));
      await c.send('{"cmd":"log"}');
      assert.ok(await rig.until(() => c.replies().some((r) => r.log), 10000), rig.explain('no log reply'));
      const lines = c.replies().find((r) => r.log).log;
      assert.equal(lines.length, 12);
      assert.match(lines[11], /command: log$/);
      const con = rig.device.log;
      const at = con.lastIndexOf(lines[11]);
      assert.deepEqual(
        lines,
        con.slice(at - 11, at + 1).map((l) => l.substr(0, 96)),
      );
      assert.ok(!JSON.stringify(lines).includes(TEST_USER.password));
    });
  });
});
