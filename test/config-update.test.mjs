// host/tools/config-update.mjs: the config-only update command made from the user's own config
// file, checked as the build checks it. (The station's side: test/e2e-logcfg.test.mjs.)
import { describe, it, before } from 'mocha';
import assert from 'node:assert/strict';
import { configUpdateMessage, CONFIG_RESET } from '../host/tools/config-update.mjs';
import { ConfigError } from '../buildlib/config.mjs';
import { loadBoard } from '../build.mjs';

describe('config-update.test.mjs', () => {
  const boards = {};
  before(async () => {
    for (const id of ['t-a7670x', 't-call-sim800l', 't-call-a7670-v1_0']) boards[id] = await loadBoard(id);
  });
  const plain = { apn: 'internet', broker: { preset: 'plain', host: 'broker.example.org', clientId: 'st-7' } };
  const msg = (raw, board = 't-a7670x') => JSON.parse(configUpdateMessage(raw, { board: boards[board] }));
  function refused(raw, board = 't-a7670x') {
    try {
      configUpdateMessage(raw, { board: boards[board] });
    } catch (err) {
      assert.ok(err instanceof ConfigError, err.stack);
      return err.message;
    }
    assert.fail('the config was accepted');
  }

  it('always-on: the interval and the three topics ({clientId} filled in), in the firmware names', () => {
    assert.deepEqual(msg({ ...plain, intervalSeconds: 120, topics: { telemetry: 'farm/{clientId}/r' } }), {
      cmd: 'config',
      set: { intervalS: 120, topics: { telemetry: 'farm/st-7/r', command: 'cellpub/st-7/cmd', status: 'cellpub/st-7/status' } },
    });
  });

  it('duty-cycle: the upload period and the low-battery rules too; none where the board cannot measure its battery', () => {
    const power = { mode: 'duty-cycle', uploadEverySeconds: 1800, lowBattery: { slowBelowVolts: 3.6, slowFactor: 3, stopBelowVolts: 3.35 } };
    const m = msg({ ...plain, intervalSeconds: 600, power });
    assert.deepEqual(m.set.power, { uploadEveryS: 1800, slowV: 3.6, slowFactor: 3, stopV: 3.35, stopSleepS: 21600 });
    assert.equal(m.set.intervalS, 600);
    // the T-Call A7670 v1.0 has no battery divider: the build refuses lowBattery there, and the
    // update carries only the upload period
    const { lowBattery, ...noRules } = power;
    assert.deepEqual(msg({ ...plain, intervalSeconds: 600, power: noRules }, 't-call-a7670-v1_0').set.power, { uploadEveryS: 1800 });
    assert.match(refused({ ...plain, power }, 't-call-a7670-v1_0'), /power\.lowBattery: t-call-a7670-v1_0 cannot measure its battery/);
  });

  it('Azure: no topics (the hub fixes them)', () => {
    const raw = {
      apn: 'internet',
      intervalSeconds: 300,
      broker: { preset: 'azure-iot-hub', hub: 'cellpub-hub', deviceId: 'dev-1', deviceKey: Buffer.alloc(32, 7).toString('base64') },
    };
    assert.deepEqual(msg(raw), { cmd: 'config', set: { intervalS: 300 } });
  });

  it("errors are the build's, naming the user's fields; secrets are not shown", () => {
    assert.match(refused({ ...plain, intervalSeconds: 5 }), /intervalSeconds: must be a whole number from 10 to 86400, got 5/);
    assert.match(refused({ ...plain, topics: { command: 'a/#' } }), /topics\.command: must not contain the wildcards \+ or #/);
    assert.match(
      refused({ ...plain, intervalSeconds: 900, power: { mode: 'duty-cycle', uploadEverySeconds: 600 } }),
      /power\.uploadEverySeconds: 600 is shorter than intervalSeconds \(900\)/,
    );
    assert.match(
      refused({ ...plain, power: { mode: 'duty-cycle', lowBattery: { slowBelowVolts: 3.2 } } }),
      /power\.lowBattery\.stopBelowVolts: 3\.3 V must be below slowBelowVolts/,
    );
    const bad = refused({ ...plain, broker: { ...plain.broker, username: 'u', password: 'pw-secret-9', port: 'x' } });
    assert.match(bad, /broker\.port/);
    assert.ok(!bad.includes('pw-secret-9'));
  });

  it('a board object is required (the low-battery rules depend on it); the reset command is fixed', () => {
    assert.throws(() => configUpdateMessage(plain, { board: 't-a7670x' }), /opts\.board must be the board object/);
    assert.deepEqual(JSON.parse(CONFIG_RESET), { cmd: 'config', reset: true });
  });
});
