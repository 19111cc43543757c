// The console board's CLI (host/testing/console-board.mjs): what a person starts to flash and
// watch a virtual board. `npm run flash` onto it, then readings at the stand-in broker: see
// test/readme.test.mjs, which does it for both walkthroughs.

import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './with-rig.mjs';

function userConfigFile(raw) {
  const dir = mkdtempSync(join(tmpdir(), 'cellpub-console-'));
  const file = join(dir, 'my-station.json');
  writeFileSync(file, JSON.stringify(raw, null, 2));
  return file;
}

describe('console-board.test.mjs', function () {
  this.timeout(90000);

  it('the CLI prints its console address first, then what stands in for the cloud', async () => {
    const file = userConfigFile({
      board: 't-a7670x',
      broker: { preset: 'hivemq-cloud', host: 'cafe0001.s1.eu.hivemq.cloud', username: 'u', password: 'cli-secret-9' },
    });
    const p = spawn(process.execPath, ['--import', 'tsx', 'host/testing/console-board.mjs', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    try {
      assert.ok(await until(() => /flash it with/.test(out), 30000), out);
      const lines = out.split('\n');
      assert.match(lines[0], /^tcp:\/\/127\.0\.0\.1:\d+$/);
      assert.match(
        out,
        /console-board: broker: cafe0001\.s1\.eu\.hivemq\.cloud:8883 → 127\.0\.0\.1:\d+ \(local Aedes standing in for HiveMQ Cloud; user u only\)/,
      );
      assert.ok(!out.includes('cli-secret-9'));
    } finally {
      p.kill('SIGINT');
      await new Promise((r) => p.on('close', r));
    }
  });
});
