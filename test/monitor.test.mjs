// npm run monitor (host/tools/monitor.mjs): the board's console output line by line, against the
// console board (host/testing/console-board.mjs) over tcp://, through a reboot of the board (its
// port goes away and comes back); --list, --help and a port that does not exist.

import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startConsoleBoard } from '../host/testing/console-board.mjs';
import { createLineSplitter } from '../host/tools/monitor.mjs';
import { until } from './with-rig.mjs';

const FAST_MODEM = { bootMs: 2500, lateBannerMs: 3000 };
const USER = {
  raw: {
    board: 't-a7670x',
    apn: 'internet',
    broker: { preset: 'hivemq-cloud', host: 'd00d5555.s1.eu.hivemq.cloud', username: 'mon-user', password: 'mon-secret-3', clientId: 'mon-1' },
    intervalSeconds: 20,
  },
  configDir: process.cwd(),
};

/** The monitor CLI as a user runs it; out holds stdout and stderr as they come. */
function startMonitor(args) {
  const p = spawn(process.execPath, ['--import', 'tsx', 'host/tools/monitor.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const r = { p, out: '', err: '', code: null };
  p.stdout.on('data', (d) => (r.out += d));
  p.stderr.on('data', (d) => (r.err += d));
  r.exited = new Promise((resolve) => p.on('close', (code) => resolve((r.code = code))));
  return r;
}

describe('monitor.test.mjs', function () {
  this.timeout(90000);

  it("shows the firmware's lines from the console board, survives the board's port going away and coming back, exits on Ctrl-C", async () => {
    const board = await startConsoleBoard({ userConfig: USER, flashed: true, modemOptions: FAST_MODEM });
    const m = startMonitor(['--port', board.url]);
    try {
      assert.ok(await until(() => /mqtt: connected/.test(m.out), 30000), `no "mqtt: connected":\n${m.out}\n${m.err}`);
      assert.match(m.out, new RegExp(`^monitor: connected to ${board.url}; Ctrl-C to quit$`, 'm'));
      assert.match(m.out, /^\[[\d.]+\] mqtt: connecting to d00d5555\.s1\.eu\.hivemq\.cloud:8883 \(TLS\)$/m);
      assert.doesNotMatch(m.out, /^>|\x1b/m, 'no prompt, no escape codes');
      assert.ok(!m.out.includes('mon-secret-3'));
      // the board loses power: its port goes away, comes back when it boots again
      const before = m.out.length;
      // (USB replugged: the port is back 1.5 s before the board prints, so the boot lines are seen)
      await board.reboot({ downMs: 1500, bootAfterPlugMs: 1500 });
      assert.ok(await until(() => /monitor: reconnected/.test(m.out.slice(before)), 15000), m.out.slice(before));
      const after = m.out.slice(before);
      assert.match(after, new RegExp(`^monitor: ${board.url} lost; waiting for it to come back …\\nmonitor: reconnected$`, 'm'));
      const fromReconnect = () => m.out.slice(before + after.indexOf('monitor: reconnected'));
      assert.ok(await until(() => /\] mqtt: connected/.test(fromReconnect()), 30000), `no lines after the reconnect:\n${fromReconnect()}`);
      assert.match(fromReconnect(), /^\[[\d.]+\] cellpub 0\.1\.0 on LilyGO T-A7670X$/m);
      assert.match(fromReconnect(), /^\[[\d.]+\] boot: power-on, reset button or watchdog$/m);
      // Ctrl-C
      m.p.kill('SIGINT');
      assert.equal(await m.exited, 0);
      assert.equal(m.err, '');
    } finally {
      if (m.code === null) m.p.kill('SIGKILL');
      await board.close();
    }
  });

  it('--list lists the serial ports (or says there are none) and names the LilyGO USB chips', async () => {
    const m = startMonitor(['--list']);
    assert.equal(await m.exited, 0, m.err);
    assert.match(m.out, /no serial ports found|^\/dev\/|^COM\d/m);
    if (/no serial ports found/.test(m.out)) assert.match(m.out, /1a86:\* \(CH9102\/CH340\), 10c4:ea60 \(CP210x\) or 303a:\* \(ESP32-S3 native USB\)/);
  });

  it('a port that does not exist: exit code 1 and what to try, no stack trace', async () => {
    for (const port of ['/dev/ttyUSB-cellpub-none', 'tcp://127.0.0.1:1']) {
      const m = startMonitor(['--port', port]);
      assert.equal(await m.exited, 1, m.out + m.err);
      assert.match(m.err, new RegExp(`^monitor: cannot open ${port.replace(/[/.]/g, '\\$&')} .*wrong port, or the board is not connected$`, 'm'));
      assert.match(m.err, /^ {2}try: /m);
      assert.doesNotMatch(m.err, /^\s+at /m, 'no stack trace');
    }
    const h = startMonitor(['--help']);
    assert.equal(await h.exited, 0);
    assert.match(h.out, /usage: npm run monitor -- --port <port>/);
    const bad = startMonitor([]);
    assert.equal(await bad.exited, 2);
    assert.match(bad.err, /--port is required/);
  });

  it('console text → lines: the prompt and its redraw codes go, a Storage write is never shown', () => {
    const got = [];
    const s = createLineSplitter((l) => got.push(l));
    s.push('>\r\x1b[J[0.0] cellpub 0.1.0 on LilyGO T-A7670X\r\n>');
    s.push('\r\x1b[J[1.2] net: regi');
    s.push('stered, home network\r\n>');
    s.push('require("Storage").write("cp.secrets","{\\"password\\":\\"x\\"}",0,27)\r\n=true\r\n');
    s.flush();
    assert.deepEqual(got, ['[0.0] cellpub 0.1.0 on LilyGO T-A7670X', '[1.2] net: registered, home network', '(a Storage write: contents not shown)', '=true']);
  });
});
