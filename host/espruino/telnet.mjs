// The real Linux Espruino with its console on TCP (`espruino --telnet`), for tools that talk to a
// board over a port: EspruinoTools reaches it as tcp://127.0.0.1:2323. Host only; the binary is
// ESPRUINO_BIN (see real.mjs), never part of this repository.
//
// libs/network/telnet/jswrap_telnet.c: the port is fixed (2323 on Linux), one client at a time;
// while a client is connected the console is on it, and it goes back to stdin when the client
// leaves. The fake flash (Storage) is ./espruino.flash in the working directory, so starting the
// binary again in the same directory is a reboot with the same Storage: `.bootcde` runs at start.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasRealEspruino } from './real.mjs';

export const TELNET_PORT = 2323;

/** Resolves true when nothing listens on 127.0.0.1:port (we could bind it ourselves). */
export function portIsFree(port = TELNET_PORT) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

/**
 * Start `ESPRUINO_BIN --telnet` in `cwd` (default: a fresh temp dir, removed by stop()).
 * Resolves once the banner is printed and the telnet port accepts connections.
 * @returns {Promise<{url: string, cwd: string, output: () => string, proc: object,
 *   waitForOutput: (re: RegExp, ms?: number) => Promise<string>, stop: () => Promise<void>}>}
 */
export async function startTelnetEspruino({ bin = process.env.ESPRUINO_BIN, cwd, timeoutMs = 10000 } = {}) {
  if (!hasRealEspruino(bin)) throw new Error('No Espruino binary: set ESPRUINO_BIN to the Linux build');
  // Wait a little for a previous interpreter's port to be released; never share it with a stranger.
  const t0 = Date.now();
  while (!(await portIsFree())) {
    if (Date.now() - t0 > 5000) throw new Error(`port ${TELNET_PORT} is in use: another Espruino --telnet (or something else) is running`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const ownCwd = !cwd;
  const dir = cwd ?? mkdtempSync(join(tmpdir(), 'espruino-telnet-'));
  // stdin stays an open pipe: at EOF the Linux input thread reads garbage forever (see real.mjs)
  const proc = spawn(bin, ['--telnet'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  proc.stdin.on('error', () => {});
  let out = '';
  const waiters = new Set();
  const onData = (b) => {
    out += b.toString('latin1');
    for (const w of [...waiters]) w();
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));

  function waitForOutput(re, ms = timeoutMs) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(out);
        if (m) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(m[0]);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`Espruino --telnet: no ${re} within ${ms} ms; output:\n${out.slice(-600)}`));
      }, ms);
      waiters.add(check);
      check();
    });
  }

  const api = {
    url: `tcp://127.0.0.1:${TELNET_PORT}`,
    cwd: dir,
    proc,
    output: () => out,
    waitForOutput,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.stdin.write('\x04'); // Ctrl-D: the Linux input thread exits
        const t = setTimeout(() => proc.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
      }
      if (ownCwd) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForOutput(/\n>/); // the banner (or, with .bootcde in Storage, what the code printed) then the prompt
    // the telnet server starts listening from the idle loop: wait until the port is taken
    const t1 = Date.now();
    while (await portIsFree()) {
      if (Date.now() - t1 > timeoutMs) throw new Error(`Espruino --telnet did not listen on ${TELNET_PORT}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (e) {
    await api.stop();
    throw e;
  }
  return api;
}
