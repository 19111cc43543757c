#!/usr/bin/env node
// JsVars used by the same bundle loaded two ways, in the real interpreter (ESPRUINO_BIN; skipped
// without it):   ESPRUINO_BIN=… node --import tsx bench/load-method.mjs [--board t-a7670x] [--wait 2000]
//
//   from flash: written to Storage as `.bootcde`, then load(): what `npm run flash` does (and
//               EspruinoTools' "Save on Send: Direct to Flash", SAVE_ON_SEND=1). Function bodies
//               stay in flash; RAM holds only what the code creates.
//   as text:    the code typed into the console and run from RAM, as EspruinoTools' default "To
//               RAM" (SAVE_ON_SEND=0) sends it (`\x10reset();`, `\x10print()`, then the bundle,
//               which is one line, after a DLE): every function body is kept as text in JsVars,
//               and while it runs the whole line is in RAM too.
//   (also, for comparison: the same bytes in a Storage file run with
//    eval(require("Storage").read(f)), and the text as one eval() of a string literal.)
// The build's extra Storage files (secrets, CA) are written first in every case, as the flash tool
// does. `process.memory().usage` is read `--wait` ms after the code's top level ran (it collects
// garbage first). The Linux interpreter has no modem: the bundle starts, finds no modem on Serial2
// and keeps retrying, the same way in each case.
import { runInRealEspruino, hasRealEspruino } from '../host/espruino/real.mjs';
import { build } from '../build.mjs';

const arg = (name, dflt) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const boardId = arg('--board', 't-a7670x');
const waitMs = Number(arg('--wait', 2000));
if (!hasRealEspruino()) {
  console.log('ESPRUINO_BIN is not set (or not executable): skipped');
  process.exit(0);
}

const configFile = new URL(`../config/${boardId === 't-call-sim800l' ? 'example.plain.json' : 'example.hivemq.json'}`, import.meta.url);
const { readFileSync } = await import('node:fs');
const config = { ...JSON.parse(readFileSync(configFile, 'utf8')), board: boardId };
const built = await build({ board: boardId, config, configDir: new URL('../config/', import.meta.url).pathname, outFile: false, allowPlaceholders: true });
const extra = Object.entries(built.files ?? {});

async function measure(load) {
  const esp = await runInRealEspruino({ timeoutMs: 30000 });
  try {
    const before = await esp.memory();
    for (const [name, data] of extra) await esp.writeStorage(name, data);
    try {
      if (load === 'console') {
        // what EspruinoTools' CodeWriter sends with SAVE_ON_SEND=0 (reformatCode leaves a one-line
        // bundle as it is, behind a DLE)
        esp.sendRaw('\x10reset();\n');
        await new Promise((r) => setTimeout(r, 300));
        esp.sendRaw(`\x10print()\n\x10${built.code}\n`);
        await esp.eval('1');
      } else {
        await esp.loadCode(built.code, { load, storageName: 'app.js' });
      }
    } catch (e) {
      if (!/OUT OF MEMORY|LOW_MEMORY/.test(esp.console)) throw e;
    }
    await new Promise((r) => setTimeout(r, waitMs));
    const oom = /OUT OF MEMORY|LOW_MEMORY/.test(esp.console);
    const after = await esp.memory();
    return { before: before.usage, usage: after.usage, total: after.total, oom, started: /cellpub \d/.test(esp.console) };
  } finally {
    await esp.stop();
  }
}

const rows = [
  ['from flash (.bootcde + load())', 'bootcde'],
  ['as text (sent to the console, in RAM)', 'console'],
  ['Storage file + eval (for comparison)', 'storage-eval'],
  ['text in one eval("…") (for comparison)', 'text'],
];
console.log(
  `bundle: ${boardId}, ${built.bytes} bytes; extra Storage files: ${extra.map(([n, d]) => `${n} (${Buffer.byteLength(d)} bytes)`).join(', ') || 'none'}`,
);
console.log(`process.memory().usage ${waitMs} ms after the code started (JsVars of 14 bytes):\n`);
const results = {};
for (const [label, mode] of rows) {
  const r = await measure(mode);
  results[mode] = r;
  const note = r.oom ? '  OUT OF MEMORY: the code did not start' : r.started ? '' : '  (its first log line did not appear)';
  console.log(`  ${label.padEnd(42)} ${String(r.usage).padStart(6)} of ${r.total}  (empty interpreter: ${r.before})${note}`);
}
const d = results.console.usage - results.bootcde.usage;
console.log(
  `\nfrom flash uses ${d} JsVars (${Math.round((d * 14) / 1024)} KB of RAM) fewer than the text upload` +
    `${results.console.oom ? ', which ran out of memory' : ''}; npm run flash writes .bootcde.`,
);
