// Over-the-air updates end to end: the shipped bundles (built with "ota" in the config,
// unmodified) on the rig, the host tool's sendUpdate() (host/tools/ota.mjs) publishing through the
// rig's real broker over TLS, virtual time. A whole update, an update cut by a power loss at every
// chunk, a bundle damaged on its way (rejected), a bundle that cannot reach the broker (rolled
// back); the boot guard (buildlib/ota-guard.mjs) under the build's gates; the CLI's own messages.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createRig, CLUSTER_HOST, TEST_USER } from '../host/testing/rig.mjs';
import { build, loadBoard } from '../build.mjs';
import { resolveConfig } from '../buildlib/config.mjs';
import { sendUpdate, otaMessages, crc32, OtaError } from '../host/tools/ota.mjs';
import { OTA_GUARD } from '../buildlib/ota-guard.mjs';
import { checkBundle } from '../buildlib/es5-gate.mjs';
import { stringVars } from '../host/runtime/memory.mjs';

const ROLLBACK_S = 60;
const numbers = (rig) => rig.readings().map((m) => JSON.parse(m.text).n);
const status = (rig) =>
  rig.subscriber.messages
    .filter((m) => m.topic === rig.config.topics.status)
    .map((m) => {
      try {
        return JSON.parse(m.text);
      } catch {
        return {};
      }
    });

async function otaRig(opts = {}) {
  const rig = await createRig({ config: { intervalSeconds: 30, ota: { rollbackSeconds: ROLLBACK_S } }, ...opts });
  rig.start();
  const up = await rig.until(() => rig.readings().length >= 2, 180000);
  assert.ok(up, rig.explain('the station did not come up'));
  return rig;
}

/** Another bundle for the same station (its config, with changes), as npm run build makes it. */
async function bundleFor(rig, { version, broker } = {}) {
  const raw = broker ? { ...rig.rawConfig, broker: { ...rig.rawConfig.broker, ...broker } } : rig.rawConfig;
  return (await build({ board: 't-a7670x', config: raw, configDir: rig.configDir, outFile: false, version })).code;
}

/** The tool's own MQTT client, on the rig's broker as on the cloud: TLS, SNI, the station's user. */
async function toolClient(rig) {
  const c = await mqtt.connectAsync({
    host: rig.broker.host,
    port: rig.broker.tlsPort,
    protocol: 'mqtts',
    ca: rig.broker.pki.caPem,
    servername: CLUSTER_HOST,
    protocolVersion: 4,
    clientId: 'cellpub-ota-test',
    username: TEST_USER.name,
    password: TEST_USER.password,
    reconnectPeriod: 0,
  });
  c.on('error', () => {});
  return c;
}

/** Runs sendUpdate on the rig's clock until it settles; returns {value} or {error}. */
async function update(rig, bundle, { client, chunkBytes, during, timeoutMs = 1800000 } = {}) {
  const c = client || (await toolClient(rig));
  const lines = [];
  let outcome = null;
  sendUpdate({ client: c, topics: rig.config.topics, bundle, rollbackS: ROLLBACK_S, chunkBytes, timers: rig.clock, log: (l) => lines.push(l) }).then(
    (value) => (outcome = { value }),
    (error) => (outcome = { error }),
  );
  const settled = await rig.until(() => {
    if (during) during();
    return outcome !== null;
  }, timeoutMs);
  if (!client) await c.endAsync(true);
  assert.ok(settled, rig.explain(`the update did not settle; tool said:\n${lines.join('\n')}`));
  return { ...outcome, lines };
}

describe('ota.test.mjs', function () {
  this.timeout(120000);

  it('the messages: CRC-32 as E.CRC32 (unsigned), chunks that add up to the bundle, ASCII only', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926); // the CRC-32 check value
    const text = 'x'.repeat(1000) + 'end';
    const { start, chunks } = otaMessages(text, 256);
    assert.deepEqual(start, { cmd: 'ota', len: 1003, crc: crc32(Buffer.from(text)), n: 4, cs: 256 });
    assert.equal(chunks.map((c) => Buffer.from(c.d, 'base64').toString('latin1')).join(''), text);
    assert.throws(
      () => otaMessages('var s="\xe9";'),
      (e) => e instanceof OtaError && /non-ASCII byte \(0xe9\) at offset 7/.test(e.message),
    );
  });

  it('the config: ota.rollbackSeconds 60..3600 (600), refused with Azure IoT Hub, what the firmware gets', async () => {
    const board = await loadBoard('t-a7670x');
    const hive = { broker: { preset: 'plain', host: 'mqtt.example.org' } };
    assert.deepEqual(resolveConfig({ ...hive, ota: {} }, { board }).ota, { rollbackS: 600 });
    assert.equal(resolveConfig(hive, { board }).ota, undefined);
    assert.throws(() => resolveConfig({ ...hive, ota: { rollbackSeconds: 30 } }, { board }), /ota\.rollbackSeconds: must be a whole number from 60 to 3600/);
    const azure = { broker: { preset: 'azure-iot-hub', hub: 'h1b', deviceId: 'd', deviceKey: Buffer.alloc(32, 7).toString('base64') }, ota: {} };
    assert.throws(
      () => resolveConfig(azure, { board }),
      /ota: updates over the air need your own MQTT broker .* Update an Azure station with npm run flash, and leave ota out/,
    );
  });

  it('the boot guard passes the build gates (ES5 Espruino runs) and is what the build writes as .boot0', async () => {
    assert.deepEqual(checkBundle(OTA_GUARD).errors, []);
    const rig = await createRig({ config: { ota: {} } });
    try {
      assert.equal(rig.files['.boot0'], OTA_GUARD);
    } finally {
      await rig.close();
    }
    const plain = await createRig({});
    try {
      assert.equal(plain.files['.boot0'], undefined, 'no ota in the config: no guard, and no ota code in the bundle');
      assert.ok(!plain.code.includes('cp.new'));
    } finally {
      await plain.close();
    }
  });

  it('a whole update: v1 → v2, the new code reports itself, readings go on with their numbers', async () => {
    const rig = await otaRig();
    try {
      const v2 = await bundleFor(rig, { version: '0.1.0-v2' });
      assert.notEqual(v2, rig.code);
      const before = numbers(rig).length;
      const freeBefore = rig.device.eval('process.memory().free');
      const r = await update(rig, v2);
      assert.ok(r.value, rig.explain(`update failed: ${r.error && r.error.message}\n${r.lines.join('\n')}`));
      assert.deepEqual(r.value.result, 'ok');
      assert.equal(r.value.fw, '0.1.0-v2', rig.device.log.filter((l) => /ota|cellpub|boot/.test(l)).join('\n'));
      assert.ok(r.lines.includes(`ota: chunk ${Math.ceil(v2.length / 768)}/${Math.ceil(v2.length / 768)} (100 %)`), r.lines.join('\n'));
      assert.ok(r.lines.some((l) => /^ota: chunk 1\/\d+ \(\d+ %\)$/.test(l)));
      // the board runs v2 from Storage, the update's files are gone, the guard stays for the next one
      const files = rig.device.storage.files;
      assert.equal(files['.bootcde'], v2);
      for (const f of ['cp.new', 'cp.old', 'cp.ota']) assert.equal(files[f], undefined, f);
      assert.ok(
        rig.device.log.some((l) => l.includes('cellpub 0.1.0-v2 on')),
        'v2 booted',
      );
      // readings go on after the update, numbered on from before it: none lost, none twice
      const k = numbers(rig).length;
      assert.ok(await rig.until(() => numbers(rig).length >= k + 3, 300000), rig.explain('no readings after the update'));
      const ns = numbers(rig);
      assert.ok(ns.length > before + 3);
      assert.deepEqual(
        [...new Set(ns)].sort((a, b) => a - b),
        Array.from({ length: Math.max(...ns) }, (_, i) => i + 1),
      );
      assert.deepEqual(rig.device.errors, []);
      // a chunk's cost in the board's RAM while it is handled, in JsVars (16 bytes; 16383 on an
      // ESP32), counted as Espruino stores strings (host/runtime/memory.mjs): the payload as the
      // A76xx driver assembles it (+= of the modem's blocks: two copies at the peak), the parsed
      // message's base64 and the decoded bytes, a dozen for the object and the calls
      const msg = JSON.stringify(otaMessages(v2).chunks[0]);
      const peak = 2 * stringVars(msg.length) + stringVars(1024) + stringVars(768) + 12;
      console.log(`      a ${msg.length}-byte chunk message: ~${peak} JsVars at its peak; ${freeBefore} free before the update`);
      assert.ok(peak < freeBefore / 20, `${peak} of ${freeBefore} free`);
    } finally {
      await rig.close();
    }
  });

  /** The tool's client with its outgoing messages passed through edit(msg) (a fault on the way). */
  async function editingClient(rig, edit) {
    const c = await toolClient(rig);
    const publish = c.publish.bind(c);
    c.publish = (topic, payload, opts, cb) => publish(topic, JSON.stringify(edit(JSON.parse(payload)) ?? JSON.parse(payload)), opts, cb);
    return c;
  }

  /** The board boots into working code: every boot since `from` printed a cellpub banner, nothing uncaught. */
  function bootedWorkingCode(rig, from = 0) {
    assert.deepEqual(rig.device.errors, [], rig.explain('uncaught errors'));
    const boots = rig.device.log.slice(from).filter((l) => /^\[0\.0\] cellpub /.test(l));
    return boots;
  }

  it("an update cut by a power loss at every chunk (half of them inside the chunk's flash write) resumes and completes", async () => {
    const rig = await otaRig();
    try {
      const v2 = await bundleFor(rig, { version: '0.1.0-v2' });
      const CS = 1536;
      const n = Math.ceil(v2.length / CS);
      const flash = rig.device.storage.flash;
      const cutFor = new Set();
      let cut = null; // {i, at, torn, off}
      let cuts = 0;
      const client = await editingClient(rig, (m) => {
        if (m.i !== undefined && !cutFor.has(m.i) && !cut) {
          cutFor.add(m.i);
          cut = { i: m.i, at: rig.clock.now(), torn: m.i % 2 === 0, off: null };
          if (cut.torn) flash.failAfterWrites(0, { torn: true }); // the next flash operation: the chunk's write
        }
      });
      const r = await update(rig, v2, {
        client,
        chunkBytes: CS,
        during: () => {
          if (!cut) return;
          const now = rig.clock.now();
          if (cut.off === null) {
            // (the last chunk is answered by "ready": the cut then falls before the switch)
            const acked = status(rig).some((m) => (m.ota === 'chunk' && m.i === cut.i) || m.ota === 'ready');
            // torn: the flash cut the power (the device is off); plain: once the chunk is acknowledged
            if ((cut.torn && rig.device.state === 'off') || (!cut.torn && acked) || now - cut.at > 30000) {
              if (cut.torn) flash.failAfterWrites(-1);
              rig.powerLoss();
              cuts++;
              cut.off = now;
            }
          } else if (now - cut.off >= 10000) {
            rig.powerRestore();
            cut = null;
          }
        },
      });
      await client.endAsync(true);
      assert.ok(r.value, rig.explain(`update failed: ${r.error && r.error.message}\n${r.lines.join('\n')}`));
      assert.equal(r.value.result, 'ok');
      assert.equal(r.value.fw, '0.1.0-v2');
      assert.equal(cuts, n, 'a power loss at every chunk');
      assert.ok(r.value.chunksSent > n, `chunks sent again after the cuts (${r.value.chunksSent} for ${n})`);
      assert.ok(r.lines.filter((l) => /online again/.test(l)).length >= n - 1, r.lines.join('\n'));
      assert.equal(rig.device.storage.files['.bootcde'], v2);
      // every boot (one per cut, and the switch) ran working code: old until the switch, then new
      const boots = bootedWorkingCode(rig);
      assert.ok(boots.length >= n + 2, boots.join('\n'));
      const firstNew = boots.findIndex((l) => l.includes('0.1.0-v2'));
      assert.ok(firstNew > n - 1 && boots.slice(firstNew).every((l) => l.includes('0.1.0-v2')), boots.join('\n'));
      const k = numbers(rig).length;
      assert.ok(await rig.until(() => numbers(rig).length >= k + 2, 300000), rig.explain('no readings after the update'));
    } finally {
      await rig.close();
    }
  });

  it('the switch cut by a power loss at each of its flash operations: the board comes up on the new code every time', async () => {
    const rig = await otaRig();
    try {
      const flash = rig.device.storage.flash;
      for (let j = 0; j < 12; j++) {
        rig.device.log.length = 0; // each round looks at its own lines
        const version = `0.1.0-s${j}`;
        const code = await bundleFor(rig, { version });
        let armed = false;
        let offAt = null;
        // armed the moment the board logs "ota: checked" (then come its reply "ready", its reboot
        // note and the guard's copies), not at the next step of virtual time: within one step
        // the board can already be past the switch when the reply's real socket I/O is quick
        const unwatch = rig.device.onLog((l) => {
          if (armed || !/ota: checked/.test(l)) return;
          armed = true;
          flash.failAfterWrites(j, { torn: j % 2 === 0 });
        });
        const r = await update(rig, code, {
          chunkBytes: 4096,
          during: () => {
            if (armed && offAt === null && rig.device.state === 'off') {
              rig.powerLoss();
              offAt = rig.clock.now();
            }
            if (offAt !== null && rig.powerLost && rig.clock.now() - offAt > 5000) rig.powerRestore();
          },
        });
        unwatch();
        flash.failAfterWrites(-1);
        assert.ok(offAt !== null, `round ${j}: the power was cut`);
        assert.ok(r.value, rig.explain(`cut at flash op ${j}: ${r.error && r.error.message}\n${r.lines.join('\n')}`));
        assert.equal(r.value.result, 'ok', `cut at flash op ${j}`);
        assert.equal(r.value.fw, version);
        assert.equal(rig.device.storage.files['.bootcde'], code);
        assert.deepEqual(rig.device.errors, []);
      }
    } finally {
      await rig.close();
    }
  });

  it('a bundle damaged on the way (one byte changed: CRC; a chunk cut short: length) is refused and the old code keeps running', async () => {
    const rig = await otaRig();
    try {
      const v2 = await bundleFor(rig, { version: '0.1.0-v2' });
      for (const [why, edit] of [
        ['crc', (d) => Buffer.concat([d.subarray(0, 100), Buffer.from([d[100] ^ 1]), d.subarray(101)])],
        ['length', (d) => d.subarray(1)],
      ]) {
        const client = await editingClient(rig, (m) => (m.i === 3 ? { ...m, d: edit(Buffer.from(m.d, 'base64')).toString('base64') } : m));
        const r = await update(rig, v2, { client });
        await client.endAsync(true);
        assert.ok(r.error instanceof OtaError, `${why}: ${r.value && JSON.stringify(r.value)}`);
        assert.match(r.error.message, why === 'crc' ? /wrong CRC; it erased it and keeps running its code/ : /wrong length; it erased what it had/);
        const files = rig.device.storage.files;
        assert.equal(files['.bootcde'], rig.code, 'the old code stays');
        assert.equal(files['cp.new'], undefined);
        assert.equal(files['cp.ota'], undefined);
        const k = numbers(rig).length;
        assert.ok(await rig.until(() => numbers(rig).length >= k + 2, 120000), rig.explain('readings stopped'));
      }
      assert.equal(bootedWorkingCode(rig).length, 1, 'no reboot');
    } finally {
      await rig.close();
    }
  });

  it('a bundle that cannot reach the broker (another user name) is rolled back after rollbackSeconds; the old code reports it', async () => {
    const rig = await otaRig();
    try {
      const bad = await bundleFor(rig, { version: '0.1.0-bad', broker: { username: 'someone-else' } });
      const t0 = rig.clock.now();
      const r = await update(rig, bad);
      assert.ok(r.value, rig.explain(`${r.error && r.error.message}\n${r.lines.join('\n')}`));
      assert.equal(r.value.result, 'rolled-back');
      assert.equal(r.value.fw, '0.1.0', 'reported by the old code');
      assert.match(r.value.why, /not online in 60 s/);
      const log = rig.device.log.join('\n');
      assert.match(log, /cellpub 0\.1\.0-bad on/);
      assert.match(log, /ota: back to the old code \(not online in 60 s\)/);
      const files = rig.device.storage.files;
      assert.equal(files['.bootcde'], rig.code);
      for (const f of ['cp.new', 'cp.old', 'cp.ota']) assert.equal(files[f], undefined, f);
      assert.ok(rig.clock.now() - t0 > ROLLBACK_S * 1000);
      const k = numbers(rig).length;
      assert.ok(await rig.until(() => numbers(rig).length >= k + 2, 300000), rig.explain('no readings after the rollback'));
      assert.deepEqual(rig.device.errors, []);
    } finally {
      await rig.close();
    }
  });

  describe('npm run ota (the CLI)', () => {
    const cli = (...args) => spawnSync(process.execPath, ['--import', 'tsx', 'host/tools/ota.mjs', ...args], { encoding: 'utf8', timeout: 60000 });
    const dir = mkdtempSync(join(tmpdir(), 'cellpub-ota-'));
    const file = (name, obj) => {
      const p = join(dir, name);
      writeFileSync(p, typeof obj === 'string' ? obj : JSON.stringify(obj));
      return p;
    };
    const noStack = (r) => assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /, 'no stack trace');

    it('--help; a bad argument; a config without ota, an Azure config, a config error, a non-ASCII bundle: tidy errors', function () {
      this.timeout(120000);
      let r = cli('--help');
      assert.equal(r.status, 0);
      assert.match(r.stdout, /^usage: npm run ota -- --config <file> --bundle <file>/);
      r = cli('--config', 'x.json', '--bundle', 'y.js', '--bogus');
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^ota failed: unknown argument --bogus\nusage:/);
      noStack(r);
      const bundle = file('t-a7670x.js', 'print(1);');
      const hive = { apn: 'internet', broker: { preset: 'hivemq-cloud', host: 'abc.s1.eu.hivemq.cloud', username: 'u', password: 'secret-pw' } };
      r = cli('--config', file('no-ota.json', hive), '--bundle', bundle);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /has no "ota" block, so the station's code cannot take an update over the air\. Add "ota": \{\} to the config, flash the board once/,
      );
      r = cli(
        '--config',
        file('azure.json', { broker: { preset: 'azure-iot-hub', hub: 'h1b', deviceId: 'd', deviceKey: 'a2V5' }, ota: {} }),
        '--bundle',
        bundle,
      );
      assert.equal(r.status, 1);
      assert.match(r.stderr, /Azure IoT Hub station: .* Update it over USB instead: npm run flash -- --board <board> --port <port> --config/);
      r = cli('--config', file('bad.json', { ...hive, ota: { rollbackSeconds: 5 } }), '--bundle', bundle);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /ota failed: the config has 1 problem:\n {2}- ota\.rollbackSeconds: must be a whole number from 60 to 3600/);
      r = cli('--config', file('ok.json', { ...hive, ota: {} }), '--bundle', file('t-a7670x.js', 'print("\u00e9");'));
      assert.equal(r.status, 1);
      assert.match(r.stderr, /non-ASCII byte \(0xc3\) at offset 7/);
      for (const x of [r]) noStack(x);
      assert.doesNotMatch(r.stderr + r.stdout, /secret-pw/);
    });
  });
});
