// createRig({ userConfig }): a user's own config, built unchanged, reaches a stand-in for its
// cloud (host/testing/rig.mjs userCloud). The stand-in accepts only what the config says (its user
// and password, its device and key), so a config that would fail against the real cloud fails here.

import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createRig } from '../host/testing/rig.mjs';

const HOST = 'f00d1234.s1.eu.hivemq.cloud';
/** As a user writes it (config/example.hivemq.json filled in), no test CA anywhere in it. */
const hivemqUser = (password = 'garden-secret-7') => ({
  board: 't-a7670x',
  apn: 'iot.example',
  broker: {
    preset: 'hivemq-cloud',
    host: HOST,
    username: 'garden-user',
    password,
    clientId: 'garden-station',
  },
  topics: { telemetry: 'garden/{clientId}/air', command: 'garden/{clientId}/cmd', status: 'garden/{clientId}/status' },
  intervalSeconds: 45,
});

const AZ_KEY = Buffer.from('a user key for the stand-in hub!!').toString('base64');
const azureUser = {
  board: 't-a7670x',
  apn: 'internet',
  broker: { preset: 'azure-iot-hub', hub: 'my-own-hub', deviceId: 'shed-2', deviceKey: AZ_KEY },
  intervalSeconds: 60,
};

async function withUserRig(raw, fn) {
  const rig = await createRig({ userConfig: { raw, configDir: process.cwd() } });
  try {
    rig.start();
    await fn(rig);
  } finally {
    await rig.close();
  }
}

describe('rig-user-config.test.mjs', function () {
  this.timeout(120000);

  it('a HiveMQ Cloud user config (its own host, user, client id, topics, interval) publishes on its topic, through the stand-in broker', async () => {
    await withUserRig(hivemqUser(), async (rig) => {
      assert.equal(rig.config.broker.host, HOST, 'the config is built as the user wrote it');
      assert.equal(rig.config.intervalS, 45);
      assert.ok(await rig.until(() => rig.readings().length >= 2, 600000), rig.explain('fewer than two readings'));
      const r = rig.readings();
      assert.ok(
        r.every((m) => m.topic === 'garden/garden-station/air'),
        r.map((m) => m.topic).join(),
      );
      const acc = rig.broker.events.find((e) => !e.internal && e.outcome === 'accepted');
      assert.ok(acc, rig.explain('no accepted connect'));
      assert.deepEqual([acc.clientId, acc.username, acc.servername], ['garden-station', 'garden-user', HOST]);
      // two readings 45 s apart (virtual time at the broker)
      const at = rig.broker.received.filter((m) => m.topic === 'garden/garden-station/air').map((m) => m.at);
      assert.ok(Math.abs(at[1] - at[0] - 45000) < 5000, `readings ${at[1] - at[0]} ms apart`);
      // the stand-ins are said: the broker, and the CA the modem trusts in place of ISRG Root X1
      assert.match(
        rig.standIn.join('\n'),
        new RegExp(`broker: ${HOST.replace(/\./g, '\\.')}:8883 → 127\\.0\\.0\\.1:\\d+ \\(local Aedes standing in for HiveMQ Cloud`),
      );
      assert.match(rig.standIn.join('\n'), /ca: the simulated modem trusts the rig's test CA/);
      const notes = rig.modem.transcript.notes.filter((n) => /stand-in/.test(n.text));
      assert.equal(notes.length, 1, 'the CA substitution is noted once');
      assert.match(rig.modem.transcript.text(), /# stand-in: ca-[0-9a-f]{8}\.pem/);
      assert.ok(!rig.standIn.join('\n').includes('garden-secret-7'), 'no password in the stand-in note');
    });
  });

  it('an Azure IoT Hub user config reaches the stand-in hub with its hub, device id and key', async () => {
    await withUserRig(azureUser, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 600000), rig.explain('no reading at the hub'));
      assert.equal(rig.broker.hostName, 'my-own-hub.azure-devices.net');
      const acc = rig.broker.events.find((e) => e.outcome === 'accepted');
      assert.ok(acc, rig.explain('no accepted connect'));
      assert.equal(acc.clientId, 'shed-2');
      assert.match(rig.readings()[0].topic, /^devices\/shed-2\/messages\/events\//);
      assert.match(rig.standIn.join('\n'), /Azure IoT Hub/);
    });
  });

  it("the stand-in refuses what the cloud would: a wrong password in the user's config gets no reading through", async () => {
    // the account's password is garden-secret-7 (the broker's users); the config has another
    const rig = await createRig({
      userConfig: { raw: hivemqUser('not-the-password'), configDir: process.cwd() },
      brokerOptions: { users: { 'garden-user': 'garden-secret-7' } },
    });
    try {
      rig.start();
      const refused = () => rig.broker.events.some((e) => !e.internal && e.outcome === 'bad-credentials');
      assert.ok(await rig.until(refused, 600000), rig.explain('the wrong password was not refused'));
      await rig.until(() => false, 120000);
      assert.equal(rig.readings().length, 0, 'no reading got through');
      assert.ok(!rig.broker.events.some((e) => !e.internal && e.outcome === 'accepted'));
    } finally {
      await rig.close();
    }
  });
});
