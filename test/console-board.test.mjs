// The console board (host/testing/console-board.mjs): `npm run flash` (the CLI, as a user runs it)
// onto a blank virtual board over tcp://, then the flashed bundle runs and its readings reach the
// stand-in broker on the config's telemetry topic. Real time: the modem boots faster than a real
// A7670 (bootMs) so the file stays short.

import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startConsoleBoard } from '../host/testing/console-board.mjs';
import { until } from './with-rig.mjs';

const FAST_MODEM = { bootMs: 2500, lateBannerMs: 3000 };

function userConfigFile(raw) {
  const dir = mkdtempSync(join(tmpdir(), 'cellpub-console-'));
  const file = join(dir, 'my-station.json');
  writeFileSync(file, JSON.stringify(raw, null, 2));
  return file;
}

/** Runs a CLI as a user would; resolves { code, out, err }. */
function run(args, timeoutMs = 60000) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}

describe('console-board.test.mjs', function () {
  this.timeout(90000);

  it('npm run flash (CLI) onto the blank console board: the flashed bundle runs and its readings reach the stand-in broker on the config topic', async () => {
    const file = userConfigFile({
      board: 't-a7670x',
      apn: 'internet',
      broker: { preset: 'hivemq-cloud', host: 'beef4242.s1.eu.hivemq.cloud', username: 'walk-user', password: 'walk-pass-1', clientId: 'walk-1' },
      topics: { telemetry: 'walk/{clientId}/readings' },
      intervalSeconds: 10,
    });
    const board = await startConsoleBoard({ configFile: file, modemOptions: FAST_MODEM });
    try {
      assert.equal(board.device.storage.read('.bootcde'), undefined, 'the board starts blank');
      assert.match(board.url, /^tcp:\/\/127\.0\.0\.1:\d+$/);
      const r = await run(['host/tools/flash.mjs', '--board', 't-a7670x', '--port', board.url, '--config', file, '--watch', '1']);
      assert.equal(r.code, 0, `flash failed:\n${r.out}\n${r.err}`);
      assert.match(r.out, /board> \[[\d.]+\] cellpub 0\.1\.0 on LilyGO T-A7670X/);
      assert.ok(!r.out.includes('walk-pass-1'), 'the password is not printed');
      assert.ok(await until(() => board.readings().length >= 1, 45000), board.rig.explain('no reading after flashing'));
      const got = board.readings();
      assert.ok(
        got.every((m) => m.topic === 'walk/walk-1/readings'),
        got.map((m) => m.topic).join(),
      );
      const acc = board.broker.events.find((e) => !e.internal && e.outcome === 'accepted');
      assert.deepEqual([acc.clientId, acc.username, acc.servername], ['walk-1', 'walk-user', 'beef4242.s1.eu.hivemq.cloud']);
      // what ran is what was flashed: the Storage files the flash tool wrote
      assert.equal(board.device.storage.read('.bootcde'), board.rig.code);
    } finally {
      await board.close();
    }
  });

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
