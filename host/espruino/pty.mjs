// A pseudo-terminal through pty-bridge.py: a /dev/pts/N that behaves like a USB-serial port, with
// the bridge's stdin/stdout as the other end. Used by real.mjs (the interpreter's Serial2) and
// repl-standin.mjs (a console on a "serial port").

import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Starts the bridge; resolves with { py, path } once it has printed its pty's path. */
export async function startPtyBridge() {
  const py = spawn(process.env.PYTHON || 'python3', [join(HERE, 'pty-bridge.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
  py.stdin.on('error', () => {});
  const path = await new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`pty-bridge.py gave no pty: ${err}`)), 5000);
    py.stderr.on('data', (b) => {
      err += b.toString();
      const m = /^PTY (\S+)$/m.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    py.on('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`pty-bridge.py exited (${c}): ${err}`));
    });
  });
  return { py, path };
}
