// The example configs' placeholders: a board built from one would register and then fail at the
// broker, so build and flash refuse them, naming each field and where its real value comes from.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, BuildError } from '../build.mjs';
import { placeholderProblems } from '../buildlib/placeholders.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const example = (name) => JSON.parse(readFileSync(join(ROOT, 'config', `example.${name}.json`), 'utf8'));
const run = (args, env = {}) => {
  try {
    return { code: 0, out: execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, ...env } }) };
  } catch (err) {
    return { code: err.status, out: err.stdout + err.stderr };
  }
};

describe('placeholders.test.mjs', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cellpub-placeholders-'));

  it('each example config is refused by the build, with every placeholder field named', async () => {
    const expect = {
      hivemq: ['broker.host', 'broker.username', 'broker.password'],
      battery: ['broker.host', 'broker.username', 'broker.password'],
      azure: ['broker.hub', 'broker.deviceKey'],
      plain: ['broker.host'],
    };
    for (const [name, fields] of Object.entries(expect)) {
      const raw = example(name);
      const board = raw.board;
      await assert.rejects(
        build({ board, config: raw, configDir: join(ROOT, 'config'), outFile: false }),
        (err) => {
          assert.ok(err instanceof BuildError, String(err));
          for (const f of fields) assert.match(err.message, new RegExp(`\\n  - ${f.replace('.', '\\.')}: `), `${name}: ${f} not named`);
          assert.equal(err.message.split('\n  - ').length - 1, fields.length, `${name}: ${err.message}`);
          return true;
        },
        name,
      );
    }
  });

  it('says where the real value comes from, and never repeats a secret placeholder', () => {
    const [host, user, pw] = placeholderProblems(example('hivemq'));
    assert.match(host, /YOUR-CLUSTER-ID\.s1\.eu\.hivemq\.cloud.*Overview → URL/);
    assert.match(user, /Access Management/);
    assert.doesNotMatch(pw, /YOUR-HIVEMQ-PASSWORD/);
    const [hub, key] = placeholderProblems(example('azure'));
    assert.match(hub, /part before \.azure-devices\.net/);
    assert.match(key, /Primary key/);
    assert.doesNotMatch(key, new RegExp(example('azure').broker.deviceKey.slice(0, 12)));
  });

  it('a placeholder left inside an edited value still counts; real values and ${ENV} secrets do not', () => {
    const edited = { broker: { preset: 'hivemq-cloud', host: 'YOUR-CLUSTER-ID.s1.eu.hivemq.cloud', username: 'me', password: 'x' } };
    assert.equal(placeholderProblems(edited).length, 1);
    assert.deepEqual(
      placeholderProblems({ broker: { preset: 'hivemq-cloud', host: 'f1a2b3c4.s1.eu.hivemq.cloud', username: 'station', password: '${HIVEMQ_PASSWORD}' } }),
      [],
    );
    // the examples' ids are fine ids to keep
    assert.deepEqual(placeholderProblems({ broker: { preset: 'plain', host: 'mqtt.my-farm.net', clientId: 'field-station-1' } }), []);
  });

  it('the build CLI stops before writing anything; filled in, the same file builds', () => {
    const file = join(tmp, 'station.json');
    writeFileSync(file, JSON.stringify(example('hivemq')));
    const out = join(tmp, 'station.js');
    const refused = run(['build.mjs', '--board', 't-a7670x', '--config', file, '--out', out]);
    assert.equal(refused.code, 1);
    assert.match(refused.out, /build failed: the config still has the example's placeholders \(nothing was built\)/);
    assert.match(refused.out, /broker\.host: "YOUR-CLUSTER-ID/);
    assert.ok(!existsSync(out));
    const filled = example('hivemq');
    Object.assign(filled.broker, { host: 'f1a2b3c4.s1.eu.hivemq.cloud', username: 'station', password: 'a-real-password-1' });
    writeFileSync(file, JSON.stringify(filled));
    const ok = run(['build.mjs', '--board', 't-a7670x', '--config', file, '--out', out]);
    assert.equal(ok.code, 0, ok.out);
    assert.ok(existsSync(out));
  });

  it('npm run flash refuses it before opening any port, and says nothing was uploaded', () => {
    const file = join(tmp, 'azure.json');
    writeFileSync(file, JSON.stringify(example('azure')));
    // a port that would fail if it were opened: the refusal must come first
    const r = run(['--import', 'tsx', 'host/tools/flash.mjs', '--board', 't-sim7670g-s3', '--port', '/dev/cellpub-no-such-port', '--config', file]);
    assert.equal(r.code, 1);
    assert.match(r.out, /flash: the build refused it, nothing was uploaded/);
    assert.match(r.out, /broker\.hub: "YOUR-HUB-NAME" is the example's placeholder/);
    assert.doesNotMatch(r.out, /cellpub-no-such-port/);
  });

  it('npm run flash wants a config, and --print-config without a port prints it and uploads nothing', () => {
    const noConfig = run(['--import', 'tsx', 'host/tools/flash.mjs', '--board', 't-a7670x', '--port', '/dev/ttyUSB0']);
    assert.equal(noConfig.code, 2);
    assert.match(noConfig.out, /--config is required: the station's config: copy config\/example\.hivemq\.json/);
    const file = join(tmp, 'print.json');
    writeFileSync(
      file,
      JSON.stringify({ broker: { preset: 'hivemq-cloud', host: 'f1a2b3c4.s1.eu.hivemq.cloud', username: 'station', password: 'pw-never-shown-9' } }),
    );
    const printed = run(['--import', 'tsx', 'host/tools/flash.mjs', '--board', 't-a7670x', '--config', file, '--print-config']);
    assert.equal(printed.code, 0, printed.out);
    const cfg = JSON.parse(printed.out);
    assert.equal(cfg.broker.password, '(hidden)');
    assert.equal(cfg.broker.port, 8883);
    assert.ok(!printed.out.includes('pw-never-shown-9'));
  });
});
