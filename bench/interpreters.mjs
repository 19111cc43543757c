// The Linux builds of Espruino the benches run firmware code in (built from Espruino's own source,
// never part of this repository). Without them the benches print "skipped".
//   ESPRUINO_BIN    the ESP32-sized build (32-bit, 16,383 JsVars of 14 bytes; under qemu-i386 where
//                   the kernel runs no 32-bit programs): memory figures (process.memory())
//   ESPRUINO64_BIN  a native build (x86-64): timing figures, scaled to the board in the printout

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasRealEspruino } from '../host/espruino/real.mjs';

export const ESP32_BIN = process.env.ESPRUINO_BIN || '';
export const NATIVE_BIN = process.env.ESPRUINO64_BIN || '';

/** True when bin is set and executable (host/espruino/real.mjs's check). */
export const usable = (bin) => hasRealEspruino(bin || '');

/**
 * Runs script in bin and resolves with the JSON it prints after "RESULT ". stdin is a pipe that
 * stays open and silent: at EOF the REPL reads garbage into its input line, and process.memory()
 * then seems to grow without bound (docs/espruino-tls-facts.md).
 */
export function runResult(bin, script, timeoutMs) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-espruino-'));
  const file = join(dir, 'bench.js');
  writeFileSync(file, script + '\n');
  return new Promise((resolve, reject) => {
    const p = spawn(bin, [file], { cwd: dir, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    const finish = (err, value) => {
      clearTimeout(t);
      p.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      if (err) reject(err);
      else resolve(value);
    };
    const t = setTimeout(() => finish(new Error(`no RESULT from ${bin} within ${timeoutMs / 1000} s:\n${out.slice(-2000)}`)), timeoutMs);
    p.stdout.on('data', (d) => {
      out += d.toString('latin1');
      const at = out.indexOf('RESULT ');
      const end = at >= 0 ? out.indexOf('\n', at) : -1;
      if (end > 0) finish(null, JSON.parse(out.slice(at + 7, end)));
    });
    p.on('exit', () => {
      if (!out.includes('RESULT ')) finish(new Error(`${bin} ended without RESULT:\n${out.slice(-2000)}`));
    });
  });
}
