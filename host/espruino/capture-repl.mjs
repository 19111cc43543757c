#!/usr/bin/env node
// Capture what the real Espruino console answers to what the upload sends (host only):
//
//   ESPRUINO_BIN=/path/to/espruino node host/espruino/capture-repl.mjs [--out host/espruino/repl-capture.json]
//
// Starts the Linux interpreter with `--telnet`, connects over TCP as EspruinoTools does, sends each
// step of CAPTURE_STEPS as one write and records the bytes that come back until the console has been
// quiet for a moment. The JSON written is the reference the REPL stand-in (repl-standin.mjs) is
// tested against (test/flash.test.mjs), so the stand-in answers what the real console answers,
// not what someone guessed. The steps are the lines EspruinoTools 0.1.67 and host/tools/flash.mjs send
// (getEspruinoPrompt's newline, the process.env query, reset, Storage writes in base64 chunks,
// the space and CRC checks, load()) plus the errors the upload must recognise.
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { startTelnetEspruino } from './telnet.mjs';

const require = createRequire(import.meta.url);
const { statsExpr, verifyExpr } = require('./upload-protocol.cjs');
const HERE = dirname(fileURLToPath(import.meta.url));
export const CAPTURE_FILE = join(HERE, 'repl-capture.json');

const DLE = '\x10';
const expr = (e) => `${DLE}print("<","<<",JSON.stringify(${e}),">>",">")\n`; // Utils.executeExpression
const b64 = (s) => Buffer.from(s, 'latin1').toString('base64');
const FILE_A = 'hello, Storage\n';
const CODE = 'console.log("booted from .bootcde");\n';

/** [name, bytes to send] in order; each is sent as one write. */
export const CAPTURE_STEPS = [
  ['connect', null],
  ['newline (getEspruinoPrompt)', '\n'],
  ['process.env (Env on connect)', expr('process.env')],
  ['space check', expr(statsExpr(['a.txt', '.bootcde']))],
  ['reset + print() (CodeWriter)', `${DLE}reset();\n`],
  [
    'print() then a Storage write in one write',
    `${DLE}print()\n${DLE}require("Storage").write("a.txt",atob("${b64(FILE_A.slice(0, 6))}"),0,${FILE_A.length})\n`,
  ],
  ['Storage write, next chunk', `${DLE}require("Storage").write("a.txt",atob("${b64(FILE_A.slice(6))}"),6)\n`],
  ['Storage write of the code', `${DLE}require("Storage").write(".bootcde",atob("${b64(CODE)}"),0,${CODE.length})\n`],
  ['verify (lengths and CRC32)', expr(verifyExpr(['a.txt', '.bootcde', 'missing']))],
  ['space check after writing', expr(statsExpr(['a.txt', '.bootcde']))],
  ['load()', `${DLE}load()\n`],
  ['a line typed with echo on', '1+1\n'],
  ['error: write at an offset of a file that does not exist', `${DLE}require("Storage").write("b.txt",atob("eHk="),5)\n`],
  ['error: no room for the file', `${DLE}require("Storage").write("big",atob("eA=="),0,2000000)\n`],
  ['a file reserved with its size', `${DLE}require("Storage").write("c.txt",atob("eHk="),0,4)\n`],
  ['error: chunk written over different data', `${DLE}require("Storage").write("c.txt",atob("enp6"),1)\n`],
  ['error: chunk beyond the reserved size', `${DLE}require("Storage").write("c.txt",atob("enp6"),2)\n`],
  ['error: a name that is not defined', `${DLE}nosuch()\n`],
  ['print() alone', `${DLE}print()\n`],
  ['a Storage write alone (nothing printed)', `${DLE}require("Storage").write("d.txt","xy")\n`],
];

/**
 * Send the steps to a console at host:port; resolves with [{name, sent, received}] (binary strings).
 * A step's answer is what arrives until `quietMs` pass without data (`firstMs` if nothing comes).
 * With `expect` (the answers of a reference capture), a step whose answer matches its reference
 * (after normalizeAnswer) ends as soon as it has been quiet for `quietMs`; one that does not match
 * yet keeps listening up to `maxMs`, so a slow console is not misread as a different one; if it
 * still differs, the remaining steps are not sent (received: null).
 */
export async function runCaptureSteps({ host = '127.0.0.1', port, steps = CAPTURE_STEPS, quietMs = 150, firstMs = 250, expect = null, maxMs = 3000 }) {
  const sock = net.connect(port, host);
  let rx = '';
  let last = 0;
  sock.on('data', (b) => {
    rx += b.toString('latin1');
    last = Date.now();
  });
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const settle = async (name, want) => {
    const t0 = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 10));
      const now = Date.now();
      const quiet = last ? now - last >= quietMs : now - t0 >= firstMs;
      if (want === undefined || want === null) {
        if (quiet) break;
      } else if (normalizeAnswer(name, rx) === normalizeAnswer(name, want)) {
        if (quiet || (!last && now - t0 >= firstMs)) break;
      } else if (now - t0 >= maxMs) {
        mismatch = true;
        break;
      }
    }
    const got = rx;
    rx = '';
    last = 0;
    return got;
  };
  const out = [];
  let mismatch = false;
  for (let i = 0; i < steps.length && !mismatch; i++) {
    const [name, send] = steps[i];
    if (send !== null) sock.write(Buffer.from(send, 'latin1'));
    out.push({ name, sent: send, received: await settle(name, expect ? expect[i] : undefined) });
  }
  // after a step that did not match, the rest is not sent (its answers would be misattributed)
  for (let i = out.length; i < steps.length; i++) out.push({ name: steps[i][0], sent: steps[i][1], received: null });
  sock.destroy();
  return out;
}

/**
 * Replace what legitimately differs between consoles: the process.env object (board, version,
 * serial, pointers) and the numbers of Storage statistics (sizes of the flash area).
 */
export function normalizeAnswer(name, text) {
  let s = text;
  if (name.startsWith('process.env')) s = s.replace(/< << \{.*\} >> >/, '< << {ENV} >> >');
  if (name.startsWith('space check')) s = s.replace(/"(totalBytes|freeBytes)":\d+/g, '"$1":N');
  return s;
}

async function main() {
  const outArg = process.argv.indexOf('--out');
  const file = outArg > 0 ? process.argv[outArg + 1] : CAPTURE_FILE;
  const esp = await startTelnetEspruino();
  try {
    const steps = await runCaptureSteps({ port: 2323 });
    const version = /\d+v\d+(\.\d+)?/.exec(esp.output())?.[0];
    writeFileSync(
      file,
      JSON.stringify(
        {
          what: 'Espruino console answers over telnet to the upload steps (host/espruino/capture-repl.mjs)',
          espruino: version,
          binary: 'Linux build (ESPRUINO_BIN), --telnet',
          steps,
        },
        null,
        1,
      ) + '\n',
    );
    for (const s of steps) console.log(`${s.name}\n  > ${JSON.stringify(s.sent)}\n  < ${JSON.stringify(s.received)}`);
    console.log(`written ${file}`);
  } finally {
    await esp.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e) => {
    console.error(e.stack);
    process.exit(1);
  });
}
