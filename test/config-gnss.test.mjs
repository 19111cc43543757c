// sensors.gnss in the config (buildlib/config.mjs) and what the build makes of it (build.mjs).
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { resolveConfig, ConfigError } from '../buildlib/config.mjs';
import { build, BuildError } from '../build.mjs';
import { board as s3 } from '../boards/t-sim7670g-s3.ts';
import { board as a7670 } from '../boards/t-a7670x.ts';

describe('config-gnss.test.mjs', () => {
  const base = { apn: 'internet', broker: { host: 'mqtt.example.com', port: 1883 } };
  const problems = (raw, board, opts = {}) => {
    try {
      resolveConfig(raw, { board, ...opts });
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
    return [];
  };

  it('default 90 s; the board file gives the antenna GPIO; SIM767X firmware: no READY! wait', () => {
    const c = resolveConfig({ ...base, sensors: { gnss: {} } }, { board: s3 });
    assert.deepEqual(c.gnss, { fixTimeoutS: 90, ant: 4 });
    const c2 = resolveConfig({ ...base, sensors: { gnss: { fixTimeoutSeconds: 240 } } }, { board: s3 });
    assert.equal(c2.gnss.fixTimeoutS, 240);
  });

  it('an A76xx-firmware board with GNSS gets ready: 1 (it announces +CGNSSPWR: READY!)', () => {
    const fase = { ...a7670, id: 't-a7670x-fase', modemModel: 'A7670E-FASE', gnss: true };
    assert.deepEqual(resolveConfig({ ...base, sensors: { gnss: {} } }, { board: fase }).gnss, { fixTimeoutS: 90, ready: 1 });
  });

  it('no sensors.gnss: no gnss in the device config', () => {
    assert.equal(resolveConfig(base, { board: s3 }).gnss, undefined);
  });

  it('fixTimeoutSeconds outside 10..600 or not whole: a message naming the field, the value and the range', () => {
    for (const v of [9, 601, 30.5, '90']) {
      const p = problems({ ...base, sensors: { gnss: { fixTimeoutSeconds: v } } }, s3);
      assert.equal(p.length, 1, JSON.stringify(p));
      assert.match(p[0], /sensors\.gnss\.fixTimeoutSeconds/);
      assert.ok(p[0].includes(JSON.stringify(v)), p[0]);
      assert.match(p[0], /10/);
      assert.match(p[0], /600/);
    }
  });

  it('sensors.gnss on a board without GNSS: refused, naming the boards that have it', () => {
    const p = problems({ ...base, sensors: { gnss: {} } }, a7670, { gnssBoards: ['t-sim7670g-s3'] });
    assert.deepEqual(p, ["sensors.gnss: t-a7670x's modem (A7670G-LLSE) has no GNSS; boards with GNSS: t-sim7670g-s3. Leave sensors.gnss out"]);
  });

  it('build: the list of boards with GNSS comes from the board files', async () => {
    await assert.rejects(
      build({ board: 't-call-sim800l', config: { ...base, sensors: { gnss: {} } }, outFile: false }),
      (e) => e instanceof BuildError && e.message.includes('boards with GNSS: t-sim7670g-s3.'),
    );
  });

  it('build: the GNSS fields stay out of the bundle board object; GNSS code only in gnss bundles', async () => {
    const without = await build({ board: 't-sim7670g-s3', config: base, outFile: false });
    const withGnss = await build({ board: 't-sim7670g-s3', config: { ...base, sensors: { bme280: {}, gnss: {} } }, outFile: false });
    assert.ok(!without.code.includes('CGNSS') && !without.code.includes('gnssAntennaGpio'));
    assert.ok(withGnss.code.includes('AT+CGNSSINFO') && !withGnss.code.includes('gnssAntennaGpio'));
  });
});
