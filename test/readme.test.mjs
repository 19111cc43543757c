// The README, followed as a newcomer follows it, on a fresh copy of the repository (the files git
// would clone; node_modules from this checkout, as `npm install` would have made it). Every
// command in README.md (each line of its ```sh blocks, and each inline command with options) is
// run here, in the README's order, and the last test fails if one was not: a command cannot drift.
//
// What stands in for what (each is named where it is used):
//   - the board: host/testing/console-board.mjs, a virtual board with an Espruino console on
//     tcp://; `--port /dev/ttyUSB0` (or /dev/ttyACM0) becomes its tcp:// address;
//   - the cloud: the local broker / IoT Hub stand-in the console board sets up for the config
//     (rig userConfig); host tools written in Node (npx mqtt, npm run ota) reach it through
//     host/testing/net-standin.mjs (NODE_OPTIONS), mosquitto_sub/pub with -h localhost, the local
//     port and the test CA in place of the host, 8883 and the OS's roots;
//   - the Azure CLI: host/testing/az-standin.mjs, with the real CLI's command and option names;
//   - esptool and a real ESP32: not here; their lines are checked against Espruino's flash layout.
// The commands of npm install and npm test are what .ci/run runs (npm ci on the same lockfile).
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { until } from './with-rig.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Every command in the README: { cmd, section, inline }. */
export function readmeCommands(md) {
  const out = [];
  let section = '';
  let inSh = false;
  let inFence = false;
  let pending = '';
  for (const raw of md.split('\n')) {
    const line = raw.trim();
    if (/^```/.test(line)) {
      if (!inFence) {
        inFence = true;
        inSh = line === '```sh';
      } else {
        inFence = false;
        inSh = false;
      }
      continue;
    }
    if (!inFence && /^#{2,3} /.test(line)) section = line.replace(/^#+ /, '');
    if (inSh) {
      if (!line || line.startsWith('#')) continue;
      const joined = pending + line;
      if (joined.endsWith('\\')) {
        pending = joined.slice(0, -1).trimEnd() + ' ';
        continue;
      }
      pending = '';
      out.push({ cmd: joined.replace(/\s{2,}#.*$/, '').trim(), section, inline: false });
    } else if (!inFence) {
      for (const m of raw.matchAll(/`([^`]+)`/g)) {
        if (/^(npm|npx|node|az|mosquitto_sub|mosquitto_pub|esptool\.py|esptool|cp) .* -/.test(m[1])) out.push({ cmd: m[1], section, inline: true });
      }
    }
  }
  return out;
}

/** The ```json block of a README section (the config a walkthrough writes). */
function jsonBlock(md, sectionTitle) {
  const at = md.indexOf(`## ${sectionTitle}`);
  assert.ok(at >= 0, `README has no section "${sectionTitle}"`);
  const m = /```json\n([\s\S]*?)```/.exec(md.slice(at));
  return JSON.parse(m[1]);
}

const ran = new Set();
// the console boards' modem boots in 2.5 s, not the A7670's 11 s: this test runs in real time
const FAST_MODEM = { bootMs: 2500, lateBannerMs: 3000 };
const commands = readmeCommands(README);
const find = (re, section) => {
  const hits = commands.filter((c) => re.test(c.cmd) && (!section || c.section.includes(section)));
  assert.ok(hits.length, `README: no command matching ${re}${section ? ` in "${section}"` : ''}`);
  return hits;
};

describe('readme.test.mjs', function () {
  this.timeout(0);
  let dir; // the fresh copy
  let bin; // the az shim
  const boards = []; // the console boards, closed at the end
  let service = null;
  const env = { ...process.env };
  const openChildren = new Set();

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cellpub-readme-'));
    // what a clone holds: the tracked files and new ones not ignored
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files) {
      if (!existsSync(join(ROOT, f))) continue;
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      cpSync(join(ROOT, f), join(dir, f));
    }
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    bin = join(dir, '.tmp-bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'az'), `#!/bin/sh\nexec "${process.execPath}" "${join(dir, 'host/testing/az-standin.mjs')}" "$@"\n`);
    chmodSync(join(bin, 'az'), 0o755);
    env.PATH = `${bin}:${process.env.PATH}`;
    env.CELLPUB_AZ_STATE = join(bin, 'az-state.json');
    delete env.NODE_OPTIONS;
  });

  after(async () => {
    for (const c of openChildren) killTree(c);
    for (const b of boards) await b.close();
    if (service) await service.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function killTree(child, signal = 'SIGKILL') {
    try {
      process.kill(-child.pid, signal);
    } catch {
      /* gone */
    }
  }

  /**
   * Runs a README command in the copy with `sh -c`, as a user's shell would. until: a RegExp on
   * the output; when it matches, the command is stopped (Ctrl-C: SIGINT to its process group).
   * Resolves { code, out, matched }.
   */
  function sh(cmd, { until, timeoutMs = 120000, extraEnv = {}, readme = cmd } = {}) {
    ran.add(readme);
    return new Promise((resolve) => {
      const child = spawn('sh', ['-c', cmd], { cwd: dir, env: { ...env, ...extraEnv }, detached: true });
      openChildren.add(child);
      let out = '';
      let matched = false;
      const check = () => {
        if (until && !matched && until.test(out)) {
          matched = true;
          killTree(child, 'SIGINT');
          setTimeout(() => killTree(child), 5000).unref();
        }
      };
      child.stdout.on('data', (b) => ((out += b), check()));
      child.stderr.on('data', (b) => ((out += b), check()));
      const timer = setTimeout(() => killTree(child), timeoutMs);
      // 'close': the process has ended and its output has all been read ('exit' can come first)
      child.on('close', (code) => {
        clearTimeout(timer);
        openChildren.delete(child);
        resolve({ code, out, matched });
      });
    });
  }

  /** `export NAME=…` as the README writes it: the value the shell gives it. */
  async function exportLine(c) {
    const name = /^export ([A-Z_]+)=/.exec(c.cmd)[1];
    const r = await sh(`${c.cmd}\nprintf '%s' "$${name}"`, { readme: c.cmd });
    assert.equal(r.code, 0, r.out);
    env[name] = r.out;
    return r.out;
  }

  /** The README's port for the board's tcp:// console; the cloud's host for the stand-in's. */
  const onBoard = (board, cmd) => cmd.replace(/--port \/dev\/tty(USB|ACM)0/, `--port ${board.url}`);
  function mosquitto(board, cmd, host) {
    const caFile = join(bin, 'test-ca.pem');
    writeFileSync(caFile, board.broker.pki.caPem);
    assert.match(cmd, new RegExp(`-h ${host.replace(/\./g, '\\.')} -p 8883 --tls-use-os-certs `));
    return cmd.replace(`-h ${host} -p 8883 --tls-use-os-certs`, `-h localhost -p ${board.broker.tlsPort} --cafile ${caFile} --insecure`);
  }
  function nodeStandIn(board, host) {
    const caFile = join(bin, 'test-ca.pem');
    writeFileSync(caFile, board.broker.pki.caPem);
    return {
      NODE_OPTIONS: `--import ${pathToFileURL(join(dir, 'host/testing/net-standin.mjs')).href}`,
      CELLPUB_NET_STANDIN: JSON.stringify({ [`${host}:8883`]: { port: board.broker.tlsPort, ca: caFile } }),
    };
  }

  it('finds the commands: a quick start with two, and both walkthroughs', () => {
    assert.deepEqual(
      commands.filter((c) => c.section === 'Quick start' && !c.inline).map((c) => c.cmd),
      ['npm install && npm start', 'npm test'],
    );
    assert.ok(find(/^npm run flash .*--port/, 'HiveMQ Cloud').length === 1);
    assert.ok(find(/^npm run flash .*--port/, 'Azure IoT Hub').length === 1);
  });

  // The quick start and the two walkthroughs run side by side (each with its own processes, console
  // board and stand-in cloud): they wait in real time, mostly for modems and readings.
  it('the quick start, and the HiveMQ Cloud and Azure IoT Hub walkthroughs, side by side', async () => {
    let hivemqOver;
    const hivemqEnded = new Promise((r) => (hivemqOver = r));
    await Promise.all([quickStart(), hivemq().finally(hivemqOver), azure(hivemqEnded)]);
  });

  /** Quick start: npm start shows readings arriving; npm start -- --help lists the options. */
  async function quickStart() {
    const [c] = find(/^npm install && npm start$/);
    // npm install: .ci/run's npm ci on the same lockfile made node_modules
    const started = sh('npm start', { until: /received +cellpub\/\S+\/readings +\{"/, readme: c.cmd });
    const [h] = find(/^npm start -- --help$/);
    const help = await sh(h.cmd);
    const r = await started;
    assert.ok(r.matched, r.out.slice(-3000));
    assert.match(r.out, /device +\[[\d.]+\] mqtt: connected/);
    assert.equal(help.code, 0);
    assert.match(help.out, /--config <file>/);
  }

  /** Your own board + HiveMQ Cloud: copy the example, fill it in, check it, try it, flash it, watch it, see the readings. */
  async function hivemq() {
    const host = jsonBlock(README, 'HiveMQ Cloud, step by step').broker.host;
    const list = await sh(find(/^npm run monitor -- --list$/)[0].cmd);
    assert.equal(list.code, 0, list.out);
    assert.match(list.out, /no serial ports found|\/dev\//);

    // step 3: the copy still holds placeholders, and the build says so as the README shows
    const cp = await sh(find(/^cp config\/example\.hivemq\.json my-station\.json$/)[0].cmd);
    assert.equal(cp.code, 0, cp.out);
    const [printCmd] = find(/^npm run flash -- .*--print-config$/);
    const refused = await sh(printCmd.cmd);
    assert.equal(refused.code, 1, refused.out);
    const shown = /```\nbuild failed: the config still has[\s\S]*?```/.exec(README)[0];
    for (const l of shown.split('\n').filter((x) => x.startsWith('  - ')))
      assert.ok(refused.out.includes(l.trim()), `README shows "${l.trim()}", the build says:\n${refused.out}`);

    // the user's edit: the walkthrough's config; the password from the environment
    writeFileSync(join(dir, 'my-station.json'), JSON.stringify(jsonBlock(README, 'HiveMQ Cloud, step by step'), null, 2));
    const [exp] = find(/^export HIVEMQ_PASSWORD=/);
    const password = await exportLine(exp);
    const printed = await sh(printCmd.cmd);
    assert.equal(printed.code, 0, printed.out);
    assert.match(printed.out, /"password": "\(hidden, from the environment variable HIVEMQ_PASSWORD\)"/);
    assert.ok(!printed.out.includes(password));

    // the virtual board with this config runs while the real one (the console board) is flashed
    const trying = sh(find(/^npm start -- --config my-station\.json$/)[0].cmd, { until: /received +cellpub\/field-station-1\/readings +\{"/ });

    // the board: blank Espruino on the desk; the monitor sees it (re)start
    const { startConsoleBoard } = await import(pathToFileURL(join(dir, 'host/testing/console-board.mjs')).href);
    process.env.HIVEMQ_PASSWORD = password; // the stand-in cloud is set up from the same config
    const board = await startConsoleBoard({ configFile: join(dir, 'my-station.json'), modemOptions: FAST_MODEM });
    boards.push(board);
    const [espMonitor] = find(/^npm run monitor -- --port \/dev\/ttyUSB0$/, 'Espruino');
    const sawRestart = sh(onBoard(board, espMonitor.cmd), { until: /monitor: reconnected/, timeoutMs: 30000, readme: espMonitor.cmd });
    await new Promise((r) => setTimeout(r, 2000));
    await board.reboot(); // "press RST"
    assert.ok((await sawRestart).matched);

    // step 6's subscribers start before the flash, as a user may watch the cluster first: they see
    // the first reading, sent right after the board connects
    const [sub] = find(/^mosquitto_sub /, 'HiveMQ Cloud');
    const getting = sh(mosquitto(board, sub.cmd, host), { until: /cellpub\/field-station-1\/readings \{"ts":/, timeoutMs: 120000, readme: sub.cmd });
    const [npx] = find(/^npx mqtt sub /, 'HiveMQ Cloud');
    const getting2 = sh(npx.cmd, { until: /cellpub\/field-station-1\/readings \{"ts":/, timeoutMs: 120000, extraEnv: nodeStandIn(board, host) });
    await new Promise((r) => setTimeout(r, 3000));

    const [flashCmd] = find(/^npm run flash -- --board t-a7670x --port \/dev\/ttyUSB0 --config my-station\.json$/, 'HiveMQ Cloud');
    const flashed = await sh(onBoard(board, flashCmd.cmd), { readme: flashCmd.cmd });
    assert.equal(flashed.code, 0, flashed.out);
    assert.match(flashed.out, /flash: done in [\d.]+ s: LilyGO T-A7670X runs the code from Storage/);
    assert.ok(!flashed.out.includes(password), 'flash printed the password');
    for (const c of find(/^npm run flash -- --board t-a7670x --port \/dev\/ttyUSB0 --config my-station\.json$/).filter((x) => x !== flashCmd)) ran.add(c.cmd);
    const tryIt = await trying;
    assert.ok(tryIt.matched, tryIt.out.slice(-3000));
    assert.match(tryIt.out, new RegExp(`broker: ${host.replace(/\./g, '\\.')}:8883 → 127\\.0\\.0\\.1:\\d+ \\(local Aedes standing in for HiveMQ Cloud`));
    assert.match(tryIt.out, /connect from field-station-1: accepted \(SNI \S+, MQTT 3\.1\.1\)/);
    assert.ok(!tryIt.out.includes(password), 'npm start printed the password');

    const [mon] = find(/^npm run monitor -- --port \/dev\/ttyUSB0$/, 'HiveMQ Cloud');
    const got = await getting;
    assert.ok(got.matched, got.out);
    const got2 = await getting2;
    assert.ok(got2.matched, got2.out);
    // the console: the board connected while flash still showed its output, so press RST
    const watching = sh(onBoard(board, mon.cmd), { until: /mqtt: connected/, timeoutMs: 90000, readme: mon.cmd });
    await new Promise((r) => setTimeout(r, 2000));
    await board.reboot();
    const watched = await watching;
    assert.ok(watched.matched, watched.out);
    for (const c of find(/^npm run monitor -- --port \/dev\/ttyUSB0$/).filter((x) => x.section === 'Your own board' || x.section.startsWith('5.')))
      ran.add(c.cmd);

    // a command: the last log lines come back on the status topic
    const listening = sh(mosquitto(board, sub.cmd, host), { until: /cellpub\/field-station-1\/status \{"log":\[/, timeoutMs: 60000, readme: sub.cmd });
    await new Promise((r) => setTimeout(r, 1500));
    const [pub] = find(/^mosquitto_pub .*\{"cmd":"log"\}/);
    const sent = await sh(mosquitto(board, pub.cmd, host), { readme: pub.cmd });
    assert.equal(sent.code, 0, sent.out);
    const reply = await listening;
    assert.ok(reply.matched, reply.out);
    assert.ok(!reply.out.includes(password));

    // later: a new interval without a new bundle, then a new bundle over the air
    const edited = JSON.parse(readFileSync(join(dir, 'my-station.json'), 'utf8'));
    edited.intervalSeconds = 30;
    writeFileSync(join(dir, 'my-station.json'), JSON.stringify(edited, null, 2));
    const [cfgOnly] = find(/^npm run ota -- --config my-station\.json --config-only$/);
    const took = await sh(cfgOnly.cmd, { extraEnv: nodeStandIn(board, host), timeoutMs: 120000 });
    assert.equal(took.code, 0, took.out);
    assert.match(took.out, /ota: done: the station took the settings/);
    assert.ok(await until(() => board.device.log.some((l) => /interval: 30 s/.test(l)), 10000), 'the station logs its new interval');

    const [buildCmd] = find(/^npm run build -- --board t-a7670x --config my-station\.json$/);
    const built = await sh(buildCmd.cmd);
    assert.equal(built.code, 0, built.out);
    assert.ok(existsSync(join(dir, 'dist/t-a7670x.js')));
    const [otaCmd] = find(/^npm run ota -- --config my-station\.json --bundle dist\/t-a7670x\.js$/);
    const updated = await sh(otaCmd.cmd, { extraEnv: nodeStandIn(board, host), until: /ota: done|ota failed|did not reach/, timeoutMs: 300000 });
    assert.match(updated.out, /ota: chunk \d+\/\d+ \(100 %\)/, updated.out);
    assert.match(
      updated.out,
      /ota: done: the station runs the new code \(fw [^)]+\) and reached the broker/,
      `${updated.out}\n--- board ---\n${board.device.log.slice(-30).join('\n')}`,
    );
    assert.equal(board.device.storage.read('.bootcde'), readFileSync(join(dir, 'dist/t-a7670x.js'), 'latin1'), 'the board runs the bundle that was sent');
    assert.ok(!updated.out.includes(password));
  }

  /** Azure IoT Hub: create the hub and device, flash with the key from the environment, watch events, change the interval, call a method. */
  async function azure(hivemqEnded) {
    for (const re of [/^az extension add /, /^az iot hub create /, /^az iot hub device-identity create /]) {
      const [c] = find(re, 'Azure IoT Hub');
      const r = await sh(c.cmd);
      assert.equal(r.code, 0, `${c.cmd}\n${r.out}`);
    }
    const key = await exportLine(find(/^export AZURE_DEVICE_KEY=/)[0]);
    assert.match(key, /^[A-Za-z0-9+/]{43}=$/, 'the key the README command gives');
    const cfg = jsonBlock(README, 'Azure IoT Hub, step by step');
    writeFileSync(join(dir, 'my-azure.json'), JSON.stringify(cfg, null, 2));

    const { startConsoleBoard } = await import(pathToFileURL(join(dir, 'host/testing/console-board.mjs')).href);
    const { startHubService } = await import(pathToFileURL(join(dir, 'host/testing/az-standin.mjs')).href);
    process.env.AZURE_DEVICE_KEY = key;
    const board = await startConsoleBoard({ configFile: join(dir, 'my-azure.json'), modemOptions: FAST_MODEM });
    boards.push(board);
    service = await startHubService(board.broker);
    env.CELLPUB_AZ_SERVICE = service.url;

    // the event monitor runs from before the flash: it shows the first reading
    const [events] = find(/^az iot hub monitor-events /);
    const seeing = sh(events.cmd, { until: /"origin": "field-station-1"[\s\S]*"t": /, timeoutMs: 120000 });
    await new Promise((r) => setTimeout(r, 2000));
    const [flashCmd] = find(/^npm run flash -- --board t-sim7670g-s3 /, 'Azure IoT Hub');
    const flashed = await sh(onBoard(board, flashCmd.cmd), { readme: flashCmd.cmd });
    assert.equal(flashed.code, 0, flashed.out);
    assert.ok(!flashed.out.includes(key), 'flash printed the device key');
    const [mon] = find(/^npm run monitor -- --port \/dev\/ttyACM0$/, 'Azure IoT Hub');
    const seen = await seeing;
    assert.ok(seen.matched, seen.out);
    const watching = sh(onBoard(board, mon.cmd), { until: /mqtt: connected/, timeoutMs: 90000, readme: mon.cmd });
    await new Promise((r) => setTimeout(r, 2000));
    await board.reboot(); // press RST
    const watched = await watching;
    assert.ok(watched.matched, watched.out);
    // both console boards run in this process: the twin and method steps wait until the other
    // board's over-the-air update (CRC, flash writes) is over, so a late answer is the firmware's
    // own, not a starved event loop's (a 30 s method timeout was missed once while they overlapped)
    await hivemqEnded;
    const [twin] = find(/^az iot hub device-twin update /);
    const t = await sh(twin.cmd);
    assert.equal(t.code, 0, t.out);
    assert.ok(await until(() => board.device.log.some((l) => /interval: 30 s/.test(l)), 30000), 'the device took the desired interval');
    const [method] = find(/^az iot hub invoke-device-method /);
    const m = await sh(method.cmd);
    assert.equal(m.code, 0, `${m.out}\n--- board ---\n${board.device.log.slice(-25).join('\n')}`);
    assert.match(m.out, /"status": 200/);
  }

  it('one test file, as the README runs it', async () => {
    const [c] = find(/^npx mocha test\/\S+\.test\.mjs$/);
    const r = await sh(c.cmd);
    assert.equal(r.code, 0, r.out.slice(-2000));
    assert.match(r.out, /\d+ passing/);
  });

  it("esptool's lines (no board here): the chip, offsets and files of Espruino's ESP32 and ESP32-S3 releases", () => {
    // targets/esp32/README_flash.txt, README_flash_S3.txt at Espruino c5ff787 (docs/measured.md)
    const layout = {
      esp32: '0x1000 bootloader.bin 0x8000 partitions_espruino.bin 0x10000 espruino_esp32.bin',
      esp32s3: '0x0 bootloader.bin 0x8000 partition-table.bin 0x10000 espruino-esp32s3.bin',
    };
    const lines = find(/^esptool\.py /);
    for (const chip of Object.keys(layout)) {
      const mine = lines.filter((c) => c.cmd.includes(`--chip ${chip} `));
      assert.ok(
        mine.some((c) => / erase_flash$/.test(c.cmd)),
        `${chip}: erase_flash`,
      );
      const w = mine.find((c) => / write_flash /.test(c.cmd));
      assert.ok(w && w.cmd.endsWith(layout[chip]), `${chip}: ${w && w.cmd}`);
      assert.match(w.cmd, chip === 'esp32' ? /--flash_freq 40m/ : /--flash_freq 80m/);
      for (const c of mine) ran.add(c.cmd);
    }
  });

  it('every command in the README was run above (or is what .ci/run runs)', () => {
    const ciRuns = ['npm test'];
    const missing = commands.filter((c) => !ran.has(c.cmd) && !ciRuns.includes(c.cmd)).map((c) => `${c.section}: ${c.cmd}`);
    assert.deepEqual(missing, [], 'README commands no test runs');
  });
});
