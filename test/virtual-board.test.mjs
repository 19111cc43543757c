// `npm start` as a newcomer meets it: --help, tidy refusals (never a stack trace), and a user's
// own config running on the virtual board against the local stand-in for its cloud.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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

  it('bad options get one line saying what to change (parseArgs), and the CLI shows it with the usage, exit 2, no stack trace', async () => {
    const { parseArgs, UsageError } = await import('../host/tools/virtual-board.mjs');
    const cases = [
      [['--bogus'], /^unknown option --bogus$/],
      [['--interval', '5'], /^--interval: a whole number of seconds from 10 to 86400, got "5"$/],
      [['--board', 't-nope'], /^--board: unknown board "t-nope"; known boards: t-a7670x/],
      [['--cloud', 'aws'], /^--cloud: "aws" is not one of hivemq, azure, plain$/],
      [['--config', join(tmp, 'missing.json')], /^--config: cannot read .*missing\.json: no such file$/],
      [['--cloud', 'azure', '--board', 't-call-sim800l'], /cannot reach Azure IoT Hub/],
      [['--config'], /^--config needs a value$/],
      [['--cloud', 'azure', '--config', 'x.json'], /--cloud and --config together/],
    ];
    for (const [args, want] of cases)
      assert.throws(
        () => parseArgs(args),
        (e) => e instanceof UsageError && want.test(e.message),
        args.join(' '),
      );
    assert.deepEqual(parseArgs(['--board', 't-call-sim800l', '--interval', '30']), { board: 't-call-sim800l', interval: 30 });
    const r = run(['--interval', '5']);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^npm start: --interval: a whole number of seconds from 10 to 86400, got "5"\n\nusage: npm start/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace');
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
  // --config against the stand-in cloud, and --cloud: test/readme.test.mjs runs them as the README shows them
});
