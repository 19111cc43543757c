// build.mjs as a user meets it: the CLI, its refusals, and what it writes (or does not).
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as acorn from 'acorn';
import * as acornWalk from 'acorn-walk';
import vm from 'node:vm';
import { build, finishBundle, knownBoards, loadBoard, BuildError } from '../build.mjs';
import { pinClashes } from '../buildlib/pins.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';

describe('build.test.mjs', () => {
  const ROOT = new URL('..', import.meta.url).pathname;
  const tmp = mkdtempSync(join(tmpdir(), 'cellpub-build-'));
  const goodConfig = { broker: { preset: 'hivemq-cloud', host: 'abc.s1.eu.hivemq.cloud', username: 'u', password: 'pw-not-in-logs' } };

  function cli(args) {
    try {
      return { code: 0, out: execFileSync(process.execPath, ['build.mjs', ...args], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' }) };
    } catch (err) {
      return { code: err.status, out: err.stdout + err.stderr };
    }
  }

  it('every board builds into one ES5 file that holds no secret and no PEM; those are Storage files', async () => {
    for (const board of knownBoards()) {
      const config =
        board === 't-call-sim800l'
          ? { broker: { host: 'b.example.org', username: 'u', password: 'pw-not-in-logs' }, simPin: '1234' }
          : { ...goodConfig, simPin: '1234' };
      const r = await build({ board, config, outFile: false });
      acorn.parse(r.code, { ecmaVersion: 5 });
      assert.ok(!r.code.includes('pw-not-in-logs'), `${board}: the password is in the bundle`);
      assert.ok(!r.code.includes('1234'), `${board}: the SIM PIN is in the bundle`);
      assert.ok(!r.code.includes('BEGIN CERTIFICATE'), `${board}: a PEM is in the bundle`);
      assert.deepEqual(JSON.parse(r.files['cp.secrets']), { password: 'pw-not-in-logs', simPin: '1234' });
      // the error texts (what a code means, what to change) are a Storage file, not code
      assert.ok(!r.code.includes('connection refused: bad user name or password'), `${board}: the error texts are in the bundle`);
      assert.match(r.files['cp.errs'], /\nm30 connection refused: bad user name or password\|check broker\.username/);
      assert.match(r.files['cp.errs'], /\nc10 SIM not inserted\|insert a SIM/);
      if (board !== 't-call-sim800l') {
        assert.match(r.files[`cp.${r.config.broker.caName}`], /^-----BEGIN CERTIFICATE-----/);
        assert.equal(Object.keys(r.files).length, 3);
        assert.match(r.files['cp.errs'], /\nm32 TLS handshake fail\|/);
      } else {
        assert.deepEqual(Object.keys(r.files).sort(), ['cp.errs', 'cp.secrets']);
        assert.doesNotMatch(r.files['cp.errs'], /\nm32 /, 'a SIM800 board gets only the CONNACK codes of the A76xx table');
      }
    }
  });

  it("cellpub's TLS is only in SIM800 bundles that use it: HiveMQ Cloud on the T-Call carries it, plain MQTT and the modem's TLS 1.0 do not", async () => {
    // E.convolve is the arithmetic of X25519 and RSA, 'extended master secret' a PRF label of the client
    const tls = (code) => /E\.convolve\(/.test(code) && /extended master secret/.test(code);
    const hive = await build({ board: 't-call-sim800l', config: goodConfig, outFile: false });
    assert.ok(tls(hive.code), 'the HiveMQ Cloud bundle has no TLS in it');
    assert.match(hive.files[`cp.${hive.config.broker.caName}`], /^-----BEGIN CERTIFICATE-----/, 'broker.ca (the anchors) goes to Storage');
    const plain = await build({ board: 't-call-sim800l', config: { broker: { host: 'b.example.org' } }, outFile: false });
    const modem = await build({ board: 't-call-sim800l', config: { broker: { host: 'b.example.org', tls: true, tlsStack: 'modem' } }, outFile: false });
    for (const r of [plain, modem]) assert.ok(!tls(r.code) && !/E\.convolve/.test(r.code), 'TLS code in a bundle that does not use it');
    assert.ok(hive.bytes > plain.bytes + 20000, `${hive.bytes} vs ${plain.bytes}`);
  });

  it('CLI: writes the bundle and prints its size', () => {
    const cfg = join(tmp, 'ok.json');
    const out = join(tmp, 'ok.js');
    writeFileSync(cfg, JSON.stringify(goodConfig));
    const r = cli(['--board', 't-a7670x', '--config', cfg, '--out', out]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /ok\.js: \d+ bytes \(LilyGO T-A7670X\)/);
    assert.ok(existsSync(out));
  });

  it('CLI: an unknown board lists the known ones and writes nothing', () => {
    const out = join(tmp, 'none.js');
    const r = cli(['--board', 't-nope', '--config', 'config/example.plain.json', '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.out, /unknown board "t-nope"; known boards: t-a7670x, t-call-a7670-v1_0, t-call-a7670-v1_1, t-call-sim800l, t-sim7670g-s3/);
    assert.ok(!existsSync(out));
  });

  it('CLI: a bad config stops the build, names the field, writes nothing, shows no secret', () => {
    const cfg = join(tmp, 'bad.json');
    const out = join(tmp, 'bad.js');
    writeFileSync(cfg, JSON.stringify({ broker: { ...goodConfig.broker, port: 8884 } }));
    const r = cli(['--board', 't-a7670x', '--config', cfg, '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.out, /broker\.port: 8884 is MQTT over secure WebSocket/);
    assert.ok(!r.out.includes('pw-not-in-logs'));
    assert.ok(!existsSync(out));
  });

  it('--print-config prints the config in its own field names, the preset and defaults filled in, secrets hidden', () => {
    const cfg = join(tmp, 'print.json');
    writeFileSync(cfg, JSON.stringify({ ...goodConfig, simPin: '4321' }));
    const r = cli(['--board', 't-a7670x', '--config', cfg, '--out', join(tmp, 'print.js'), '--print-config']);
    assert.equal(r.code, 0, r.out);
    const printed = JSON.parse(r.out.slice(0, r.out.lastIndexOf('}') + 1));
    assert.equal(printed.broker.password, '(hidden)');
    assert.equal(printed.simPin, '(hidden)');
    assert.ok(!r.out.includes('pw-not-in-logs') && !r.out.includes('4321'));
    // the user's names (intervalSeconds, not the firmware's intervalS), and what the preset decided
    assert.equal(printed.intervalSeconds, 60);
    assert.equal(printed.intervalS, undefined);
    assert.deepEqual([printed.broker.port, printed.broker.tls, printed.broker.sni, printed.broker.ca], [8883, true, true, 'isrg-root-x1']);
    assert.equal(printed.broker.clientId, 'cellpub-t-a7670x');
    assert.equal(printed.topics.telemetry, 'cellpub/cellpub-t-a7670x/readings');
    assert.equal(printed.broker.tokenSeconds, undefined, 'an Azure-only field is not shown for HiveMQ Cloud');
  });

  it('--print-config says which secret came from the environment, and never shows it', () => {
    const cfg = join(tmp, 'print-env.json');
    writeFileSync(cfg, JSON.stringify({ broker: { ...goodConfig.broker, password: '${CELLPUB_TEST_PW}' } }));
    const out = execFileSync(process.execPath, ['build.mjs', '--board', 't-a7670x', '--config', cfg, '--out', join(tmp, 'p.js'), '--print-config'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CELLPUB_TEST_PW: 'env-secret-pw-77' },
    });
    assert.match(out, /"password": "\(hidden, from the environment variable CELLPUB_TEST_PW\)"/);
    assert.ok(!out.includes('env-secret-pw-77'));
  });

  it('a bundle that fails a gate is not written, and an earlier one is left alone', () => {
    const file = join(tmp, 'gate.js');
    writeFileSync(file, 'previous bundle');
    assert.throws(
      () => finishBundle('f();function f(){}var m=new Map();', file),
      (err) => err instanceof BuildError && /Map/.test(err.message),
    );
    assert.equal(readFileSync(file, 'utf8'), 'previous bundle');
    assert.throws(() => finishBundle('var a = () => 1;', join(tmp, 'gate2.js')), BuildError);
    assert.ok(!existsSync(join(tmp, 'gate2.js')));
  });

  it('pin gate: no shipped board uses one GPIO for two roles (modem UART, power, RESET, PWRKEY, DTR, RI, LED, battery, I2C)', async () => {
    for (const id of knownBoards()) {
      const board = await loadBoard(id);
      assert.deepEqual(pinClashes(board), [], id);
    }
  });

  it("the bundle's board: power-up steps as [GPIO, level, ms] numbers, resolved from the pins the board file names once; no documented pins or source note", async () => {
    const want = {
      't-a7670x': [
        [12, 1, 0],
        [5, 0, 0],
        [25, 0, 0],
        [4, 0, 100],
        [4, 1, 100],
        [4, 0, 0],
      ],
      't-call-a7670-v1_0': [
        [27, 1, 0],
        [14, 0, 0],
        [4, 0, 100],
        [4, 1, 100],
        [4, 0, 0],
      ],
      't-call-a7670-v1_1': [
        [5, 1, 0],
        [32, 0, 0],
        [4, 0, 100],
        [4, 1, 100],
        [4, 0, 0],
      ],
      't-call-sim800l': [
        [5, 1, 0],
        [23, 1, 0],
        [4, 1, 100],
        [4, 0, 1000],
        [4, 1, 0],
      ],
      't-sim7670g-s3': [
        [17, 1, 0],
        [9, 0, 0],
        [18, 0, 100],
        [18, 1, 100],
        [18, 0, 0],
      ],
    };
    assert.deepEqual(knownBoards(), Object.keys(want));
    for (const id of knownBoards()) {
      const file = await loadBoard(id);
      const r = await build({ board: id, config: { broker: { host: 'h.example.org' } }, outFile: false });
      // the board object literal in the bundle: the one with a powerUp property
      let lit = null;
      acornWalk.simple(acorn.parse(r.code, { ecmaVersion: 5 }), {
        ObjectExpression(n) {
          if (n.properties.some((p) => p.key.name === 'powerUp')) lit = JSON.parse(JSON.stringify(vm.runInNewContext(`(${r.code.slice(n.start, n.end)})`)));
        },
      });
      assert.ok(lit, id);
      assert.deepEqual(lit.powerUp, want[id], id);
      assert.deepEqual(r.board.powerUp, want[id], `${id}: build() hands host tools the same steps`);
      assert.deepEqual(
        Object.keys(lit).filter((k) => !(k in file)),
        [],
        `${id}: nothing the board file lacks`,
      );
      for (const k of ['documented', 'source']) assert.ok(!(k in lit), `${id}: ${k} stays out of the bundle`);
      assert.deepEqual(r.board.documented, file.documented, `${id}: host tools still see the documented pins`);
    }
  });

  it('CLI: a config that puts the sensor on a modem pin stops the build, naming the pin and both roles', () => {
    const cfg = join(tmp, 'pins.json');
    writeFileSync(cfg, JSON.stringify({ ...goodConfig, sensors: { i2c: { sda: 3, scl: 1 } } }));
    const out = join(tmp, 'pins.js');
    const r = cli(['--board', 't-sim7670g-s3', '--config', cfg, '--out', out]);
    assert.equal(r.code, 1, r.out);
    assert.match(
      r.out,
      /GPIO3 has two roles on t-sim7670g-s3: the modem's RI \(ring\) \(documented\.ri in boards\/t-sim7670g-s3\.ts\) and the sensor I2C SDA \(sensors\.i2c\.sda in the config\)/,
    );
    assert.ok(!existsSync(out));
  });

  it("the bundle sets up the sensor bus on the board's pins, or on the config's sensors.i2c pins", async () => {
    for (const [id, sensors, want] of [
      ['t-sim7670g-s3', undefined, { sda: 2, scl: 1 }],
      ['t-sim7670g-s3', { i2c: { sda: 40, scl: 41 } }, { sda: 40, scl: 41 }],
      ['t-a7670x', { i2c: { sda: 13, scl: 14 } }, { sda: 13, scl: 14 }],
    ]) {
      const r = await build({ board: id, config: { ...goodConfig, sensors }, outFile: false });
      assert.deepEqual(r.board.i2c, want);
      const clock = createClock();
      const device = createEspruino({ clock, chip: id.endsWith('-s3') ? 'ESP32S3' : 'ESP32' });
      device.load(r.code, `${id}.js`);
      await clock.runFor(100);
      const setup = device.i2c.bus('I2C1').setup;
      assert.deepEqual({ sda: setup.sda, scl: setup.scl }, want, `${id} ${JSON.stringify(sensors)}`);
    }
  });
});
