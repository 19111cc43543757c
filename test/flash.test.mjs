// npm run flash (host/tools/flash.mjs): build gates first, then EspruinoTools (`espruino` from npm, in
// host/espruino/upload-worker.cjs) writes the Storage files and load()s the code.
//
// Without ESPRUINO_BIN everything runs against the REPL stand-in (host/espruino/repl-standin.mjs):
// the ESP32 host runtime behind a console that answers what the real console answered in
// host/espruino/repl-capture.json (checked here first). With ESPRUINO_BIN the real Linux
// interpreter is also used, through its `--telnet` console on tcp://127.0.0.1:2323 (the capture
// is checked against it live, and the real bundle is flashed into it and started, also after a
// restart: it runs at every boot).
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, BuildError } from '../build.mjs';
import { flash, FlashError, formatFailure, main, parseArgs, storageFiles, uploadFiles } from '../host/tools/flash.mjs';
import { startReplStandIn } from '../host/espruino/repl-standin.mjs';
import { CAPTURE_FILE, normalizeAnswer, runCaptureSteps } from '../host/espruino/capture-repl.mjs';
import { startTelnetEspruino } from '../host/espruino/telnet.mjs';
import { itUnless, skipNow } from './skip.mjs';

describe('flash.test.mjs', () => {
  const require = createRequire(import.meta.url);
  const BIN = process.env.ESPRUINO_BIN;
  const skipReal = BIN ? false : 'ESPRUINO_BIN is not set (path of a Linux build of Espruino)';
  const CONFIG_DIR = new URL('../config/', import.meta.url).pathname;
  const PASSWORD = 'flash-test-S3cret-pw-7f3a9c';
  const example = JSON.parse(readFileSync(join(CONFIG_DIR, 'example.hivemq.json'), 'utf8'));
  // what a user does with the example: their cluster's host and credentials in place of the placeholders
  const goodConfig = { ...example, broker: { ...example.broker, host: 'f1a2b3c4.s1.eu.hivemq.cloud', username: 'station', password: PASSWORD } };

  /** A writable stream stand-in that keeps the text. */
  function sink() {
    const s = { text: '', isTTY: false, write: (t) => ((s.text += t), true) };
    return s;
  }

  /** Everything shown must be free of the password, in clear or as base64 (any 12 characters of it). */
  function assertNoSecret(text) {
    assert.ok(!text.includes(PASSWORD), 'the password was printed');
    for (const enc of [Buffer.from(JSON.stringify({ password: PASSWORD })).toString('base64')]) {
      for (let i = 0; i + 12 <= enc.length; i += 4)
        assert.ok(!text.includes(enc.slice(i, i + 12)), `base64 of the secrets file was printed: ${enc.slice(i, i + 12)}`);
    }
  }

  let built; // the real bundle for t-a7670x + HiveMQ preset, and its Storage files
  let files;
  const tmp = mkdtempSync(join(tmpdir(), 'cellpub-flash-test-'));
  const goodConfigFile = join(tmp, 'station.json');
  writeFileSync(goodConfigFile, JSON.stringify(goodConfig));

  before(async () => {
    built = await build({ board: 't-a7670x', config: goodConfig, configDir: CONFIG_DIR, outFile: false });
    files = storageFiles(built);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('arguments and files', () => {
    it('parseArgs: board, port and config are required; defaults for the ESP32 console', () => {
      assert.deepEqual(parseArgs(['--board', 't-a7670x', '--port', '/dev/ttyUSB0', '--config', 'my.json']), {
        board: 't-a7670x',
        port: '/dev/ttyUSB0',
        config: 'my.json',
        baud: 115200,
        watchSeconds: 5,
        slow: false,
        verbose: false,
      });
      assert.throws(() => parseArgs(['--board', 't-a7670x', '--config', 'my.json']), /--port is required/);
      assert.throws(() => parseArgs(['--board', 't-a7670x', '--port', '/dev/ttyUSB0']), /--config is required: the station's config/);
      assert.throws(() => parseArgs(['--board', 't-a7670x']), /--config and --port are required/);
      assert.throws(() => parseArgs(['--port']), /needs a value/);
    });

    it("a port that will not open: serialport's own messages read as what to fix (monitor and flash read them alike)", () => {
      const kind = require('../host/espruino/upload-protocol.cjs').serialErrorKind;
      assert.equal(kind('Error: Permission denied, cannot open /dev/ttyUSB0'), 'permission');
      assert.equal(kind('Error Resource temporarily unavailable Cannot lock port'), 'port-busy');
      assert.equal(kind('Opening COM3: Access denied'), 'port-busy');
      assert.equal(kind('Error: No such file or directory, cannot open /dev/ttyUSB9'), 'wrong-port');
      assert.equal(kind('something else'), null);
    });

    it("storageFiles: the build's extra files first, .bootcde last, exact bytes", () => {
      assert.ok(Object.keys(built.files ?? {}).length >= 1, 'the build returns extra Storage files (secrets, CA)');
      assert.deepEqual(
        files.map((f) => f.name),
        [...Object.keys(built.files), '.bootcde'],
      );
      assert.ok(files.at(-1).data.equals(Buffer.from(built.code)));
      for (const [name, data] of Object.entries(built.files)) assert.ok(files.find((f) => f.name === name).data.equals(Buffer.from(data)));
      assert.ok(!built.code.includes(PASSWORD), 'the password is not in the bundle');
      assert.throws(() => storageFiles({ code: 'x', files: { ['n'.repeat(29)]: 'y' } }), /1 to 28 characters/);
      assert.throws(() => storageFiles({ code: 'x', files: { empty: '' } }), /empty/);
    });

    it("Espruino's errors for a Storage write are read from its answers; what is shown hides file data", () => {
      const P = require('../host/espruino/upload-protocol.cjs');
      const capture = JSON.parse(readFileSync(CAPTURE_FILE, 'utf8'));
      const answer = (name) => capture.steps.find((x) => x.name === name).received;
      assert.deepEqual(P.parseWriteError(answer('error: no room for the file')), { type: 'Error', message: 'Unable to find or create file' });
      assert.deepEqual(P.parseWriteError(answer('error: chunk written over different data')), {
        type: 'Error',
        message: 'File already written with different data',
      });
      assert.equal(P.parseWriteError(answer('error: a name that is not defined')), null, 'not an error of a Storage write');
      const secretFile = { name: 'cp.secrets', data: Buffer.from(JSON.stringify({ password: PASSWORD })) };
      const line =
        `Uncaught SyntaxError: Got ')'\r\nrequire("Storage").write("cp.secrets",atob("${secretFile.data.toString('base64')}"),0,45)\r\n^\r\n` +
        `[0.1] user ${PASSWORD} connected\r\n`;
      const shown = P.redact(line, P.secretStrings([secretFile, { name: '.bootcde', data: Buffer.from('x') }]));
      assertNoSecret(shown);
      assert.match(shown, /\[console line with file data hidden\]/);
      assert.match(shown, /user \*\*\* connected/);
      // the CRC-32 computed here is the one the real interpreter's E.CRC32 gave in the capture
      const verified = JSON.parse(/< << (.*) >> >/.exec(answer('verify (lengths and CRC32)'))[1]);
      assert.deepEqual(verified.slice(0, 2), [
        [15, P.crc32(Buffer.from('hello, Storage\n'))],
        [37, P.crc32(Buffer.from('console.log("booted from .bootcde");\n'))],
      ]);
    });
  });

  // The groups below wait on sockets and child processes much more than they compute: they run side
  // by side (the real interpreter's tests one after the other, since it has one fixed port).
  describe('flash', () => {
    it('the stand-in console answers what the real console answered (repl-capture.json)', async () => {
      const capture = JSON.parse(readFileSync(CAPTURE_FILE, 'utf8'));
      const s = await startReplStandIn({ storageBytes: 262144 }); // the Linux build's Storage size
      try {
        const got = await runCaptureSteps({
          port: s.port,
          steps: capture.steps.map((x) => [x.name, x.sent]),
          expect: capture.steps.map((x) => x.received),
          quietMs: 40,
          firstMs: 80,
        });
        for (let i = 0; i < capture.steps.length; i++) {
          const { name, received } = capture.steps[i];
          assert.equal(normalizeAnswer(name, got[i].received), normalizeAnswer(name, received), `step "${name}"`);
        }
      } finally {
        await s.close();
      }
    });

    describe('npm run flash against the stand-in', () => {
      it('a good upload lands .bootcde and the extra files with the exact bytes, then runs the code', async () => {
        const s = await startReplStandIn();
        const out = sink();
        const err = sink();
        try {
          const code = await main(['--board', 't-a7670x', '--port', s.url, '--config', goodConfigFile, '--watch', '0.5'], { out, err });
          assert.equal(code, 0, err.text + out.text);
          for (const f of files) assert.ok(s.read(f.name)?.equals(f.data), `${f.name} holds the exact bytes`);
          assert.ok(s.read('cp.secrets').toString().includes(PASSWORD), 'the secret went to Storage');
          assert.match(out.text, /\[1\/6\] connecting to tcp:/);
          assert.match(out.text, /Espruino 2v29\.\d+ on ESP32/);
          assert.match(out.text, /\[4\/6\] writing 4 files/); // cp.secrets, the CA, cp.errs, .bootcde
          assert.match(out.text, /: as sent/);
          assert.match(out.text, /board> \[0\.0\] cellpub \d+\.\d+\.\d+ on LilyGO T-A7670X/, 'the code started from .bootcde');
          assert.match(out.text, /runs the code from Storage \(\.bootcde\) at every boot/);
          assert.equal(err.text, '');
          assertNoSecret(out.text + err.text);
        } finally {
          await s.close();
        }
      });

      it('--secrets-only rotates the secrets without touching the code on the board', async () => {
        const s = await startReplStandIn();
        const out = sink();
        const err = sink();
        try {
          assert.equal(await main(['--board', 't-a7670x', '--port', s.url, '--config', goodConfigFile, '--watch', '0'], { out, err }), 0, err.text);
          const code = s.read('.bootcde');
          const rotated = join(tmp, 'rotated.json');
          writeFileSync(rotated, JSON.stringify({ ...goodConfig, broker: { ...goodConfig.broker, password: 'rotated-pw-42' } }));
          assert.equal(await main(['--board', 't-a7670x', '--port', s.url, '--config', rotated, '--secrets-only', '--watch', '0'], { out, err }), 0, err.text);
          assert.ok(s.read('cp.secrets').toString().includes('rotated-pw-42'), 'the new password is in Storage');
          assert.ok(s.read('.bootcde').equals(code), 'the code is the same bytes');
          assert.match(out.text, /writing 3 files/); // cp.secrets, the CA, cp.errs: not .bootcde
          assert.ok(!(out.text + err.text).includes('rotated-pw-42'), 'the new password is never printed');
        } finally {
          await s.close();
        }
      });

      it("a config the build refuses stops before any connection, with the build's message", async () => {
        const s = await startReplStandIn();
        try {
          const bad = { ...goodConfig, broker: { ...goodConfig.broker, port: 8884 } };
          const expected = await build({ board: 't-a7670x', config: bad, configDir: CONFIG_DIR, outFile: false }).then(
            () => assert.fail('the build should refuse port 8884'),
            (e) => (assert.ok(e instanceof BuildError), e.message),
          );
          await assert.rejects(flash({ board: 't-a7670x', port: s.url, config: bad, configDir: CONFIG_DIR }), (e) => {
            assert.ok(e instanceof FlashError);
            assert.equal(e.step, 'build');
            assert.equal(e.message, expected);
            assert.match(formatFailure(e), /nothing was uploaded/);
            return true;
          });
          const badFile = join(tmp, 'bad.json');
          writeFileSync(badFile, JSON.stringify(bad));
          const out = sink();
          const err = sink();
          assert.equal(await main(['--board', 't-a7670x', '--port', s.url, '--config', badFile], { out, err }), 1);
          assert.ok(err.text.includes(expected.split('\n')[0]), err.text);
          assert.equal(s.connections, 0, 'nothing connected to the board');
        } finally {
          await s.close();
        }
      });

      it('an unreachable port gives the "wrong port" message', async () => {
        const free = await new Promise((r) => {
          const srv = net.createServer().listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => r(port));
          });
        });
        for (const port of [`tcp://127.0.0.1:${free}`, '/dev/ttyCELLPUB-NOT-THERE']) {
          await assert.rejects(uploadFiles({ port, files }), (e) => {
            assert.equal(e.step, 'connect');
            assert.equal(e.kind, 'wrong-port');
            assert.match(formatFailure(e), /step "connect": cannot open .*wrong port/);
            assert.match(formatFailure(e), /try: check/);
            return true;
          });
        }
      });

      it('a port that answers nothing Espruino-like gives the "not running Espruino" message', async () => {
        // an ESP32 running some AT firmware: ERROR to every line
        const seen = [];
        const srv = net.createServer((c) => {
          c.on('data', (b) => {
            seen.push(b.toString('latin1'));
            c.write('\r\nERROR\r\n');
          });
          c.on('error', () => {});
        });
        await new Promise((r) => srv.listen(0, '127.0.0.1', r));
        try {
          // (it answers at once: the wait for an answer to process.env can be shorter than on a board)
          await assert.rejects(uploadFiles({ port: `tcp://127.0.0.1:${srv.address().port}`, files, timeouts: { answerS: 2 } }), (e) => {
            assert.equal(e.step, 'prompt');
            assert.equal(e.kind, 'not-espruino');
            const text = formatFailure(e);
            assert.match(text, /step "Espruino prompt": .*not like the Espruino console: the board is not running Espruino/);
            assert.match(text, /it sent: "\\r\\nERROR\\r\\n/);
            assert.match(text, /is Espruino flashed on the board\?/);
            return true;
          });
          assert.ok(!seen.join('').includes('Storage'), 'no file data was sent to it');
        } finally {
          srv.close();
        }
      });

      it('not enough Storage space stops before any file is written', async () => {
        const s = await startReplStandIn({ storageBytes: 4 * 4096 });
        try {
          await assert.rejects(uploadFiles({ port: s.url, files, startWaitMs: 0 }), (e) => {
            assert.equal(e.step, 'space');
            assert.equal(e.kind, 'no-space');
            assert.match(formatFailure(e), /not enough Storage on the board: \d\d,\d{3} bytes needed, 16,384 bytes free/);
            return true;
          });
          assert.deepEqual(s.list(), []);
        } finally {
          await s.close();
        }
      });

      it('a line damaged on the way: the failing step and what to try, and no secret in what is shown', async () => {
        // the opening quote of the secrets file's atob("…") is lost: the board echoes the broken line
        let damaged = false;
        const filterInput = (d) => {
          if (damaged || !d.includes('"cp.secrets",atob("')) return d;
          damaged = true;
          return d.replace('"cp.secrets",atob("', '"cp.secrets",atob(');
        };
        const s = await startReplStandIn({ filterInput });
        const out = sink();
        const err = sink();
        try {
          const code = await main(['--board', 't-a7670x', '--port', s.url, '--config', goodConfigFile, '--verbose'], { out, err });
          assert.equal(code, 1);
          assert.ok(damaged);
          assert.ok(s.sent.includes('Uncaught SyntaxError'), 'the board reported the damaged line (and echoed it)');
          assert.match(err.text, /flash failed at step "upload": the board refused a Storage write: SyntaxError/);
          assert.match(err.text, /try: bytes were lost or garbled/);
          assertNoSecret(out.text + err.text);
        } finally {
          await s.close();
        }
      });

      it('a serial port (a pty) with the pauses between Storage writes; a busy port says so', async function () {
        let SerialPort;
        try {
          ({ SerialPort } = require('serialport'));
        } catch {
          skipNow(this, 'serialport (optional dependency of espruino) is not installed');
          return;
        }
        const s = await startReplStandIn();
        try {
          const path = await s.serveOnPty();
          const tiny = [
            { name: 'cp.secrets', data: Buffer.from(JSON.stringify({ password: PASSWORD })) },
            { name: '.bootcde', data: Buffer.from('console.log("tiny app from flash");\n') },
          ];
          const events = [];
          const r = await uploadFiles({ port: path, files: tiny, startWaitMs: 300, onEvent: (m) => events.push(m) });
          for (const f of tiny) assert.ok(s.read(f.name)?.equals(f.data), f.name);
          assert.deepEqual(r.device, ['tiny app from flash']);
          assert.ok(events.some((m) => m.type === 'progress' && m.file === 'cp.secrets'));
          assert.ok(
            events.some((m) => m.type === 'progress' && m.done && m.ms >= 500),
            'pauses after Storage.write lines on a serial port',
          );
          // another program holds the port (serialport locks it, as EspruinoTools' own open does)
          const holder = new SerialPort({ path, baudRate: 115200 });
          await new Promise((res, rej) => holder.once('open', res).once('error', rej));
          try {
            await assert.rejects(uploadFiles({ port: path, files: tiny }), (e) => {
              assert.equal(e.kind, 'port-busy');
              assert.match(formatFailure(e), /step "connect": .* is busy: another program has it open/);
              return true;
            });
          } finally {
            await new Promise((res) => holder.close(res));
          }
        } finally {
          await s.close();
        }
      });
    });

    describe('the real interpreter (ESPRUINO_BIN), console on tcp://127.0.0.1:2323', () => {
      itUnless(skipReal, 'it still answers the captured steps as recorded', async () => {
        const capture = JSON.parse(readFileSync(CAPTURE_FILE, 'utf8'));
        const esp = await startTelnetEspruino();
        try {
          const got = await runCaptureSteps({
            port: 2323,
            steps: capture.steps.map((x) => [x.name, x.sent]),
            expect: capture.steps.map((x) => x.received),
            quietMs: 60,
            firstMs: 150,
            maxMs: 8000,
          });
          for (let i = 0; i < capture.steps.length; i++) {
            const { name, received } = capture.steps[i];
            assert.equal(normalizeAnswer(name, got[i].received), normalizeAnswer(name, received), `step "${name}"`);
          }
        } catch (e) {
          throw withConsole(e, esp);
        } finally {
          await esp.stop();
        }
      });

      itUnless(skipReal, 'the flashed bundle is in Storage byte for byte, runs from .bootcde, and again after a restart', async () => {
        const cwd = mkdtempSync(join(tmpdir(), 'cellpub-flash-real-'));
        try {
          let esp = await startTelnetEspruino({ cwd });
          let r;
          try {
            r = await uploadFiles({ port: esp.url, files, startWaitMs: 800 });
            assert.equal(r.env.BOARD, 'LINUX');
            assert.match(r.device[0] ?? '', /cellpub \d+\.\d+\.\d+ on LilyGO T-A7670X/, `first log line: ${r.device[0]}`);
            // read every file back over the console
            const back = await readBack(
              2323,
              files.map((f) => f.name),
            );
            for (const f of files) assert.ok(back[f.name].equals(f.data), `${f.name} read back`);
          } catch (e) {
            throw withConsole(e, esp);
          } finally {
            await esp.stop();
          }
          // power cycle: the same fake flash, the code runs at boot
          esp = await startTelnetEspruino({ cwd });
          try {
            assert.match(esp.output(), /cellpub \d+\.\d+\.\d+ on LilyGO T-A7670X/);
          } finally {
            await esp.stop();
          }
        } finally {
          rmSync(cwd, { recursive: true, force: true });
        }
      });
    });
  });

  /** A failing real-interpreter test shows how the interpreter ended and what it printed last. */
  function withConsole(e, esp) {
    e.message += `\n--- interpreter (exit ${esp.proc.exitCode ?? esp.proc.signalCode ?? 'still running'}) ---\n${esp.output().slice(-800)}`;
    return e;
  }

  /** Storage files read back through the console (base64 between markers). */
  async function readBack(port, names) {
    const sock = net.connect(port, '127.0.0.1');
    let rx = '';
    sock.on('data', (b) => (rx += b.toString('latin1')));
    await new Promise((r) => sock.once('connect', r));
    const out = {};
    try {
      for (const n of names) {
        const start = rx.length;
        sock.write(`\x10print("<<"+btoa(require("Storage").read(${JSON.stringify(n)}))+">>")\n`);
        const t0 = Date.now();
        while (!/<<([A-Za-z0-9+/=]*)>>/.test(rx.slice(start))) {
          if (Date.now() - t0 > 5000) throw new Error(`no answer reading ${n}: ${rx.slice(start, start + 200)}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        out[n] = Buffer.from(/<<([A-Za-z0-9+/=]*)>>/.exec(rx.slice(start))[1], 'base64');
      }
    } finally {
      sock.destroy();
    }
    return out;
  }
  after(() => {
    setTimeout(() => {
      for (const h of process._getActiveHandles())
        console.error('HANDLE', h.constructor.name, h._idleTimeout ?? '', h.pid ?? '', h.remotePort ?? '', h.localPort ?? '');
    }, 1000).unref();
  });
});
