#!/usr/bin/env node
// Builds one ES5 bundle for one board + one config:  node build.mjs --board t-a7670x --config my.json
//
//   config check → tsc 5.9.3 (ES5, ES2015 modules) → esbuild (one IIFE, board + config and the
//   board's modem driver inlined)
//   → terser (ecma 5) → dehoist (Espruino does not hoist) → gates (ES5 syntax, Espruino APIs,
//   regex subset, use before declaration) → dist/<board>.js
//
// Everything happens in memory; a bundle is written only when every step passed.

import { readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import * as esbuild from 'esbuild';
import { minify } from 'terser';
import { resolveConfig, ConfigError, printableConfig, splitSecrets, configuredBoard } from './buildlib/config.mjs';
import { dehoist, DehoistError } from './buildlib/dehoist.mjs';
import { checkBundle } from './buildlib/es5-gate.mjs';
import { resolveBoard } from './buildlib/pins.mjs';
import { placeholderProblems } from './buildlib/placeholders.mjs';
import { OTA_GUARD, OTA_GUARD_FILE } from './buildlib/ota-guard.mjs';

const ROOT = dirname(fileURLToPath(import.meta.url));
// esbuild only joins tsc's ES5 output into one IIFE (it cannot lower to ES5 itself, so never has to)
const ESBUILD_IIFE = { bundle: true, format: 'iife', target: 'es5', write: false, logLevel: 'silent' };
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

export class BuildError extends Error {}

/** board.modem → the file under firmware/modem/<family>/ that implements driver.ts for it */
const DRIVERS = { A76xx: 'a76xx/driver', SIM800: 'sim800/driver' };

export function knownBoards() {
  return readdirSync(join(ROOT, 'boards'))
    .filter((f) => f.endsWith('.ts') && f !== 'board.ts')
    .map((f) => f.slice(0, -3))
    .sort();
}

/** The board file's data, for the build and for host tools. */
export async function loadBoard(id) {
  const known = knownBoards();
  if (!known.includes(id)) throw new BuildError(`unknown board ${JSON.stringify(id)}; known boards: ${known.join(', ')}`);
  const out = await esbuild.build({ entryPoints: [join(ROOT, 'boards', id + '.ts')], bundle: true, format: 'esm', write: false, logLevel: 'silent' });
  const mod = await import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'));
  return mod.board;
}

/** The boards with GNSS, for the message to a config that asks for it on another (only then loaded). */
async function gnssBoards(raw) {
  if (!(raw && raw.sensors && raw.sensors.gnss)) return [];
  const boards = await Promise.all(knownBoards().map(loadBoard));
  return boards.filter((b) => b.gnss).map((b) => b.id);
}

// tsc over firmware/ and boards/ with tsconfig.json, emitted into memory. Type errors stop the build.
// The result depends only on the sources, so one process (a test run) compiles once.
let compiled = null;
function compileFirmware() {
  compiled ??= compileFirmwareNow();
  return compiled;
}

function readTsconfig() {
  const configPath = join(ROOT, 'tsconfig.json');
  return ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, ROOT);
}

/** tsc into memory: { program, files: Map<absolute .js path, text> }; type errors throw. */
function compile(rootNames, options) {
  const program = ts.createProgram(rootNames, options);
  const files = new Map();
  const emit = program.emit(undefined, (name, text) => files.set(resolve(name), text));
  const diags = ts.getPreEmitDiagnostics(program).concat(emit.diagnostics);
  if (diags.length) {
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' };
    throw new BuildError('TypeScript errors:\n' + ts.formatDiagnostics(diags, host));
  }
  return { program, files };
}

function compileFirmwareNow() {
  const parsed = readTsconfig();
  return { files: compile(parsed.fileNames, parsed.options).files, outDir: resolve(parsed.options.outDir) };
}

// esbuild reads tsc's output from memory; firmware/target is replaced by the board and config.
async function bundle({ files, outDir }, board, config) {
  // the board's `source` note and its `documented` pins are documentation: they stay out of the
  // device's RAM (boards/board.ts: Board is what the firmware gets)
  // the DTR pin too, unless the config uses DTR sleep (modem/dtr-sleep.ts)
  const { source, documented, gnss, gnssAntennaGpio, dtr, ...boardData } = board;
  if (config.modemSleep === 'dtr-sleep') boardData.dtr = dtr;
  // the battery pin is read only by duty-cycle bundles (firmware/sensors/battery.ts)
  if (!config.power) delete boardData.battery;
  const target = `export var board = ${JSON.stringify(boardData)};\nexport var config = ${JSON.stringify(config)};\n`;
  const plugin = {
    name: 'memory',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const base = args.importer ? dirname(args.importer) : outDir;
        let p = resolve(base, args.path);
        if (!p.endsWith('.js')) p += '.js';
        if (p === join(outDir, 'firmware', 'target.js')) return { path: p, namespace: 'target' };
        // the board's modem driver stands in for the declarations of firmware/modem/driver.ts
        if (p === join(outDir, 'firmware', 'modem', 'driver.js')) p = join(outDir, 'firmware', 'modem', DRIVERS[board.modem] + '.js');
        // the error texts stay out of the code: the board reads them from Storage (cp.errs)
        if (p === join(outDir, 'firmware', 'at', 'error-texts.js')) p = join(outDir, 'firmware', 'at', 'error-file.js');
        if (!files.has(p)) return { errors: [{ text: `cannot resolve ${args.path} from ${args.importer}` }] };
        return { path: p, namespace: 'memory' };
      });
      b.onLoad({ filter: /.*/, namespace: 'target' }, () => ({ contents: target, loader: 'js' }));
      b.onLoad({ filter: /.*/, namespace: 'memory' }, (args) => ({ contents: files.get(args.path), loader: 'js', resolveDir: dirname(args.path) }));
    },
  };
  const out = await esbuild.build({
    ...ESBUILD_IIFE,
    entryPoints: [join(outDir, 'firmware', 'main.js')],
    plugins: [plugin],
    define: {
      __AZURE__: String(!!config.broker.azure),
      __IP5306__: String(board.powerChip === 'IP5306'),
      __SIM800__: String(board.modem === 'SIM800'),
      __TLS__: String(config.broker.tlsStack === 'cellpub'),
      __DUTY__: String(!!config.power),
      __GNSS__: String(!!config.gnss),
      __DHT__: String(!!config.dht),
      __DS18B20__: String(!!config.ds18b20),
      __ANALOG__: String(!!config.analog),
      __DTR_SLEEP__: String(config.modemSleep === 'dtr-sleep'),
      __PSM__: String(!!config.power && config.power.modem === 'psm'),
      __OTA__: String(!!config.ota),
    },
  });
  return out.outputFiles[0].text;
}

/** The Storage file cp.errs (firmware/at/error-file.ts reads it): the error texts of
 *  firmware/at/error-texts.ts, from tsc's output like the bundle (so plain node runs the build). */
async function errorFile({ files, outDir }, board) {
  const js = files.get(join(outDir, 'firmware', 'at', 'error-texts.js'));
  const mod = await import('data:text/javascript;base64,' + Buffer.from(js).toString('base64'));
  return mod.errorFileText(board.modem === 'SIM800');
}

// terser for every bundle: ES5 out, no reordering of function declarations (dehoist follows)
const TERSER_OPTIONS = {
  ecma: 5,
  toplevel: true,
  compress: { passes: 2, unsafe_arrows: false, hoist_funs: false },
  mangle: true,
  format: { ascii_only: true },
};

/**
 * Dehoist, gate, and only then write. Returns the final code and the file written (or null).
 * A gate failure throws and leaves any earlier bundle at `file` untouched.
 */
export function finishBundle(minified, file) {
  let code;
  try {
    code = dehoist(minified);
  } catch (err) {
    if (err instanceof DehoistError) throw new BuildError(`the bundle is not plain ES5, so it cannot be made safe for Espruino: ${err.message}`);
    throw err;
  }
  const { errors } = checkBundle(code);
  if (errors.length) {
    throw new BuildError(
      `the bundle would not run on Espruino (${errors.length} problem${errors.length > 1 ? 's' : ''}):\n` +
        errors.map((e) => `  - [${e.rule}] line ${e.line}:${e.column}: ${e.message}${e.snippet ? `\n      ${e.snippet}` : ''}`).join('\n'),
    );
  }
  if (file) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, code);
  }
  return { code, file };
}

/**
 * @param {{board: string, config: string|object, outFile?: string|false, configDir?: string,
 *   allowPlaceholders?: boolean, version?: string}} opts
 *   config: a path to a JSON file, or the parsed object (tests); outFile false = don't write;
 *   allowPlaceholders: build an example config as it is (benchmarks and tests measure those);
 *   version: the firmware version the bundle reports (default: package.json's)
 * @returns {{code: string, bytes: number, file: string|null, board: object, config: object,
 *   files: Object<string, string>}} config: the whole resolved config (secrets included: never
 *   print it unmasked); files: Storage files to write next to the bundle (secrets, PEMs, the
 *   error texts cp.errs)
 */
export async function build({ board: boardId, config, outFile, configDir, allowPlaceholders = false, version = VERSION }) {
  const boardFile = await loadBoard(boardId);
  let raw = config;
  let baseDir = configDir ?? ROOT;
  if (typeof config === 'string') {
    try {
      raw = JSON.parse(readFileSync(config, 'utf8'));
    } catch (err) {
      throw new BuildError(`cannot read the config ${config}: ${err.message}`);
    }
    baseDir = dirname(resolve(config));
  }
  const placeholders = allowPlaceholders ? [] : placeholderProblems(raw);
  if (placeholders.length)
    throw new BuildError(
      `the config still has the example's placeholder${placeholders.length > 1 ? 's' : ''} (nothing was built):\n` +
        placeholders.map((p) => `  - ${p}`).join('\n'),
    );
  let cfg;
  try {
    // also the pin gate: no GPIO with two roles on the board with the config's sensor pins
    cfg = resolveConfig(raw, { board: boardFile, baseDir, version, gnssBoards: await gnssBoards(raw) });
  } catch (err) {
    if (err instanceof ConfigError) throw new BuildError(err.message);
    throw err;
  }
  // the config's sensors.i2c replaces the board file's i2c pins: the firmware reads board.i2c;
  // the power-up steps name their pins by role: the firmware gets [GPIO, level, ms]
  const board = resolveBoard(configuredBoard(boardFile, raw));
  // secrets and PEMs stay out of the bundle: they are Storage files written next to it
  const { device, files } = splitSecrets(cfg);
  files['cp.errs'] = await errorFile(compileFirmware(), board);
  // over-the-air updates: the boot guard that switches to a new bundle and rolls it back
  if (device.ota) files[OTA_GUARD_FILE] = OTA_GUARD;
  const bundled = await bundle(compileFirmware(), board, device);
  const min = await minify(bundled, TERSER_OPTIONS);
  const { code, file } = finishBundle(min.code, outFile === false ? null : resolve(outFile ?? join(ROOT, 'dist', `${board.id}.js`)));
  return { code, bytes: Buffer.byteLength(code), file, board, config: cfg, files };
}

/**
 * One firmware module bundled the way build() bundles the firmware (tsc ES5 over just that module,
 * its imports and the firmware's .d.ts files → esbuild IIFE → terser → dehoist → gates), with its
 * exports assigned to globals of the same names: for tests, and to measure a module on its own.
 * @param {string} entry a .ts file under firmware/ (absolute, or relative to the repo)
 * @returns {Promise<{code: string, bytes: number, exports: string[]}>}
 */
export async function bundleModule(entry) {
  const src = resolve(ROOT, entry);
  const parsed = readTsconfig();
  const roots = [src].concat(parsed.fileNames.filter((f) => f.endsWith('.d.ts')));
  // rootDir: the same paths under outDir as build() (which compiles firmware/ and boards/)
  const { program, files } = compile(roots, { ...parsed.options, rootDir: ROOT });
  const checker = program.getTypeChecker();
  const exports = checker
    .getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(src)))
    .filter((s) => s.flags & ts.SymbolFlags.Value)
    .map((s) => s.name);
  const outDir = resolve(parsed.options.outDir);
  const compiled = join(outDir, relative(ROOT, src)).replace(/\.ts$/, '.js');
  const plugin = {
    name: 'memory',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        let p = resolve(args.resolveDir || dirname(args.importer), args.path);
        if (!p.endsWith('.js')) p += '.js';
        if (!files.has(p)) return { errors: [{ text: `cannot resolve ${args.path} from ${args.importer}` }] };
        return { path: p, namespace: 'memory' };
      });
      b.onLoad({ filter: /.*/, namespace: 'memory' }, (args) => ({ contents: files.get(args.path), loader: 'js', resolveDir: dirname(args.path) }));
    },
  };
  const out = await esbuild.build({
    stdin: {
      contents: `import { ${exports.join(', ')} } from ${JSON.stringify(compiled)};\n` + exports.map((n) => `globalThis.${n} = ${n};\n`).join(''),
      resolveDir: dirname(compiled),
      loader: 'js',
    },
    ...ESBUILD_IIFE,
    plugins: [plugin],
  });
  const min = await minify(out.outputFiles[0].text, TERSER_OPTIONS);
  const { code } = finishBundle(min.code, null);
  return { code, bytes: Buffer.byteLength(code), exports };
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--board') args.board = argv[++i];
    else if (a === '--config') args.config = argv[++i];
    else if (a === '--out') args.outFile = argv[++i];
    else if (a === '--print-config') args.print = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else throw new BuildError(`unknown argument ${a}; usage: node build.mjs --board <board> --config <file> [--out <file>] [--print-config]`);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help || !args.board || !args.config) {
    console.log(`usage: node build.mjs --board <board> --config <file> [--out <file>] [--print-config]\nboards: ${knownBoards().join(', ')}`);
    process.exit(args.help ? 0 : 2);
  }
  const r = await build(args);
  if (args.print) console.log(JSON.stringify(printableConfig(r.config), null, 2));
  console.log(`${relative(process.cwd(), r.file)}: ${r.bytes} bytes (${r.board.title})`);
  if (r.config.modemChoice) console.log(r.config.modemChoice);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(`build failed: ${err instanceof BuildError ? err.message : err.stack}`);
    process.exit(1);
  });
}
