// `npm start` as a newcomer meets it: --help, tidy refusals (never a stack trace), and a user's
// own config running on the virtual board against the local stand-in for its cloud.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const START = ['--import', 'tsx', 'host/tools/virtual-board.mjs'];
const run = (args) => spawnSync(process.execPath, [...START, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });

describe('virtual-board.test.mjs', function () {
  this.timeout(120000);
  const tmp = mkdtempSync(join(tmpdir(), 'cellpub-start-'));

  it('--help lists the options and exits 0', () => {
    const r = run(['--help']);
    assert.equal(r.status, 0, r.stderr);
    for (const o of ['--board', '--config', '--cloud', '--interval']) assert.match(r.stdout, new RegExp(`\\n  ${o} `));
  });

  it('bad options get one line saying what to change, the usage, exit 2, and no stack trace', () => {
    const cases = [
      [['--bogus'], /npm start: unknown option --bogus/],
      [['--interval', '5'], /--interval: a whole number of seconds from 10 to 86400, got "5"/],
      [['--board', 't-nope'], /--board: unknown board "t-nope"; known boards: t-a7670x/],
      [['--cloud', 'aws'], /--cloud: "aws" is not one of hivemq, azure, plain/],
      [['--config', join(tmp, 'missing.json')], /--config: cannot read .*missing\.json: no such file/],
      [['--cloud', 'azure', '--board', 't-call-sim800l'], /cannot reach Azure IoT Hub/],
      [['--config'], /--config needs a value/],
    ];
    for (const [args, want] of cases) {
      const r = run(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, want);
      assert.match(r.stderr, /usage: npm start/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace');
    }
  });

  it("a config the build refuses (the example's placeholders) stops it with the build's message, exit 1", () => {
    const file = join(tmp, 'example.json');
    writeFileSync(file, JSON.stringify({ broker: { preset: 'hivemq-cloud', host: 'YOUR-CLUSTER-ID.s1.eu.hivemq.cloud', username: 'u', password: 'p' } }));
    const r = run(['--config', file]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /npm start: the build refused it:\n  the config still has the example's placeholder/);
    assert.match(r.stderr, /broker\.host: "YOUR-CLUSTER-ID/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it("--config runs the user's own config: its host, client id and topic, against the local stand-in; Ctrl-C stops it cleanly", async () => {
    const file = join(tmp, 'my-station.json');
    const password = 'start-test-pw-5d1e';
    writeFileSync(
      file,
      JSON.stringify({
        board: 't-a7670x',
        apn: 'internet',
        broker: { preset: 'hivemq-cloud', host: 'a1b2c3d4.s1.eu.hivemq.cloud', username: 'station', password, clientId: 'field-station-9' },
        topics: { telemetry: 'farm/{clientId}/t' },
        intervalSeconds: 20,
      }),
    );
    const child = spawn(process.execPath, [...START, '--config', file], { cwd: ROOT });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    const exited = new Promise((r) => child.on('exit', (code) => r(code)));
    const end = Date.now() + 90000;
    while (!/received farm\/field-station-9\/t  \{/.test(out) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGINT');
    const code = await exited;
    assert.match(out, /received farm\/field-station-9\/t  \{"ts":"[^"]+","t":/, out);
    assert.match(out, /broker: a1b2c3d4\.s1\.eu\.hivemq\.cloud:8883 → 127\.0\.0\.1:\d+ \(local Aedes standing in for HiveMQ Cloud/);
    assert.match(out, /connect from field-station-9: accepted \(SNI a1b2c3d4\.s1\.eu\.hivemq\.cloud, MQTT 3\.1\.1\)/);
    assert.match(out, /board +stopping/);
    assert.equal(code, 0);
    assert.ok(!out.includes(password), 'the password was printed');
  });
});
