#!/usr/bin/env node
// A stand-in for the Azure CLI's IoT commands (`az iot hub …`, from the azure-iot extension), so
// the README's Azure walkthrough runs without an Azure account: test/readme.test.mjs puts a
// shim named `az` on PATH that runs this file. It takes the commands and options the README uses,
// with the spellings of the real CLI (long and short forms), refuses anything else the way the
// real CLI's argument parser does ("unrecognized arguments", exit 2), and acts on the local IoT
// Hub stand-in (host/broker/azure.mjs) through a small HTTP service (startHubService) that the test
// runs beside the hub. The registry (hubs, devices, keys) is a JSON file named by CELLPUB_AZ_STATE.
//
// Output follows the real CLI's shape where a user reads it: device-identity JSON with
// authentication.symmetricKey.primaryKey, --query as a dotted path, --output tsv as the bare
// value, monitor-events as {"event": {"origin", "payload"}} blocks. Host only.

import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

// ------------------------------------------------------------------ the service beside the hub

/**
 * HTTP endpoints for the stand-in CLI, over one Azure hub stand-in (startAzureHub's hub):
 *   GET  /events?device=ID&from=N  → { events: [{ origin, payload }], next }
 *   POST /twin   { device, desired } → the twin
 *   POST /method { device, method, payload, timeoutS } → { status, payload }
 * @returns {Promise<{url: string, close(): Promise<void>}>}
 */
export async function startHubService(hub) {
  const server = createServer(async (req, res) => {
    const send = (code, obj) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    try {
      const url = new URL(req.url, 'http://x');
      let body = '';
      for await (const c of req) body += c;
      const q = body ? JSON.parse(body) : {};
      if (req.method === 'GET' && url.pathname === '/events') {
        const device = url.searchParams.get('device');
        const from = Number(url.searchParams.get('from') || 0);
        const all = hub.telemetry.filter((m) => !device || m.deviceId === device);
        return send(200, { events: all.slice(from).map((m) => ({ origin: m.deviceId, payload: m.payload })), next: all.length });
      }
      if (req.method === 'POST' && url.pathname === '/twin') {
        hub.updateDesired(q.device, q.desired);
        return send(200, hub.twins[q.device] || {});
      }
      if (req.method === 'POST' && url.pathname === '/method') {
        const r = await hub.invokeMethod(q.device, q.method, q.payload ?? {}, { timeoutMs: (q.timeoutS ?? 30) * 1000 });
        return send(200, r);
      }
      send(404, { error: 'no such endpoint' });
    } catch (err) {
      send(500, { error: String(err && err.message ? err.message : err) });
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

// ------------------------------------------------------------------ the CLI

// subcommand → its options: name → [short form, takes a value, required]
const COMMANDS = {
  'extension add': { '--name': ['-n', true, true] },
  'iot hub create': { '--name': ['-n', true, true], '--resource-group': ['-g', true, true], '--sku': [null, true, false] },
  'iot hub device-identity create': { '--hub-name': ['-n', true, true], '--device-id': ['-d', true, true] },
  'iot hub device-identity show': { '--hub-name': ['-n', true, true], '--device-id': ['-d', true, true] },
  'iot hub monitor-events': { '--hub-name': ['-n', true, true], '--device-id': ['-d', true, false], '--timeout': ['-t', true, false] },
  'iot hub device-twin update': { '--hub-name': ['-n', true, true], '--device-id': ['-d', true, true], '--desired': [null, true, true] },
  'iot hub invoke-device-method': {
    '--hub-name': ['-n', true, true],
    '--device-id': ['-d', true, true],
    '--method-name': ['--mn', true, true],
    '--method-payload': ['--mp', true, false],
    '--timeout': ['--to', true, false],
  },
};
const GLOBAL = { '--query': [null, true, false], '--output': ['-o', true, false] };

class AzError extends Error {
  constructor(message, code = 1) {
    super(message);
    this.code = code;
  }
}

export function parseAz(argv) {
  const words = [];
  let i = 0;
  while (i < argv.length && !argv[i].startsWith('-')) words.push(argv[i++]);
  const name = words.join(' ');
  const spec = COMMANDS[name];
  if (!spec) throw new AzError(`az: '${name}' is not in the 'az' command group (this stand-in knows: ${Object.keys(COMMANDS).join('; ')})`, 2);
  const all = { ...spec, ...GLOBAL };
  const byShort = {};
  for (const [long, [short]] of Object.entries(all)) if (short) byShort[short] = long;
  const opts = {};
  const unknown = [];
  for (; i < argv.length; i++) {
    const a = argv[i];
    const long = all[a] ? a : byShort[a];
    if (!long) {
      unknown.push(a);
      continue;
    }
    if (i + 1 >= argv.length) throw new AzError(`az ${name}: error: argument ${a}: expected one argument`, 2);
    opts[long] = argv[++i];
  }
  if (unknown.length) throw new AzError(`az: error: unrecognized arguments: ${unknown.join(' ')}`, 2);
  const missing = Object.entries(spec)
    .filter(([long, [, , required]]) => required && opts[long] === undefined)
    .map(([long]) => long);
  if (missing.length) throw new AzError(`az ${name}: error: the following arguments are required: ${missing.join(', ')}`, 2);
  return { name, opts };
}

function loadState(file) {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { extensions: [], hubs: {} };
}

function hubOf(state, name) {
  const hub = state.hubs[name];
  if (!hub) throw new AzError(`ERROR: Target hub '${name}' not found`);
  return hub;
}

function deviceOf(hub, name, id) {
  const d = hub.devices[id];
  if (!d) throw new AzError(`ERROR: Device '${id}' not found in hub '${name}'`);
  return d;
}

function deviceJson(hubName, id, d) {
  return {
    authentication: {
      symmetricKey: { primaryKey: d.primaryKey, secondaryKey: d.secondaryKey },
      type: 'sas',
      x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
    },
    capabilities: { iotEdge: false },
    cloudToDeviceMessageCount: 0,
    connectionState: 'Disconnected',
    deviceId: id,
    hub: `${hubName}.azure-devices.net`,
    status: 'enabled',
  };
}

/** What the CLI prints for a result: --query (a dotted path), then --output json or tsv. */
function output(value, opts) {
  let v = value;
  if (opts['--query']) for (const k of opts['--query'].split('.')) v = v == null ? null : v[k];
  const fmt = opts['--output'] ?? 'json';
  if (fmt === 'tsv') return v !== null && typeof v === 'object' ? Object.values(v).join('\t') : String(v ?? '');
  if (fmt === 'json') return JSON.stringify(v, null, 2);
  throw new AzError(`az: error: argument --output/-o: invalid choice: '${fmt}' (choose from 'json', 'tsv')`, 2);
}

async function service(path, body) {
  const base = process.env.CELLPUB_AZ_SERVICE;
  if (!base) throw new AzError('ERROR: no IoT Hub stand-in is running (CELLPUB_AZ_SERVICE is not set)');
  const r = await fetch(base + path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const j = await r.json();
  if (r.status !== 200) throw new AzError(`ERROR: ${j.error}`);
  return j;
}

export async function az(argv, { out = (s) => process.stdout.write(s + '\n') } = {}) {
  const file = process.env.CELLPUB_AZ_STATE;
  if (!file) throw new AzError('ERROR: CELLPUB_AZ_STATE is not set (this is the test stand-in for az)');
  const { name, opts } = parseAz(argv);
  const state = loadState(file);
  const save = () => writeFileSync(file, JSON.stringify(state, null, 2));
  const hubName = opts['--hub-name'] ?? opts['--name'];
  if (name === 'extension add') {
    if (!state.extensions.includes(opts['--name'])) state.extensions.push(opts['--name']);
    return save();
  }
  // the IoT commands come with the extension, as in the real CLI
  if (!state.extensions.includes('azure-iot'))
    throw new AzError(
      `ERROR: '${name.split(' ').slice(0, 2).join(' ')}' is misspelled or not recognized by the system. Install the extension: az extension add --name azure-iot`,
      2,
    );
  if (name === 'iot hub create') {
    if (state.hubs[hubName]) throw new AzError(`ERROR: IoT hub name '${hubName}' is not available`);
    state.hubs[hubName] = { resourceGroup: opts['--resource-group'], sku: opts['--sku'] ?? 'S1', devices: {} };
    save();
    return out(
      output(
        {
          name: hubName,
          resourcegroup: opts['--resource-group'],
          properties: { hostName: `${hubName}.azure-devices.net` },
          sku: { name: state.hubs[hubName].sku },
        },
        opts,
      ),
    );
  }
  const hub = hubOf(state, hubName);
  const id = opts['--device-id'];
  if (name === 'iot hub device-identity create') {
    if (hub.devices[id]) throw new AzError(`ERROR: Device '${id}' already exists`);
    hub.devices[id] = { primaryKey: randomBytes(32).toString('base64'), secondaryKey: randomBytes(32).toString('base64') };
    save();
    return out(output(deviceJson(hubName, id, hub.devices[id]), opts));
  }
  if (name === 'iot hub device-identity show') return out(output(deviceJson(hubName, id, deviceOf(hub, hubName, id)), opts));
  if (id !== undefined) deviceOf(hub, hubName, id);
  if (name === 'iot hub device-twin update') {
    let desired;
    try {
      desired = JSON.parse(opts['--desired']);
    } catch {
      throw new AzError(`ERROR: --desired: not JSON: ${opts['--desired']}`);
    }
    return out(output(await service('/twin', { device: id, desired }), opts));
  }
  if (name === 'iot hub invoke-device-method') {
    const payload = opts['--method-payload'] === undefined ? {} : JSON.parse(opts['--method-payload']);
    const timeoutS = Number(opts['--timeout'] ?? 30);
    return out(output(await service('/method', { device: id, method: opts['--method-name'], payload, timeoutS }), opts));
  }
  if (name === 'iot hub monitor-events') {
    out(`Starting event monitor${id ? `, filtering on device: ${id}` : ''}, use ctrl-c to stop...`);
    const end = opts['--timeout'] ? Date.now() + Number(opts['--timeout']) * 1000 : Infinity;
    let from = (await service(`/events?device=${encodeURIComponent(id ?? '')}&from=0`)).next; // only new events, as the real one
    while (Date.now() < end) {
      const r = await service(`/events?device=${encodeURIComponent(id ?? '')}&from=${from}`);
      for (const e of r.events) {
        let payload = e.payload;
        try {
          payload = JSON.parse(e.payload);
        } catch {
          /* shown as text */
        }
        out(JSON.stringify({ event: { origin: e.origin, module: '', interface: '', component: '', payload } }, null, 4));
      }
      from = r.next;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  az(process.argv.slice(2)).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write((err instanceof AzError ? err.message : String(err && err.stack ? err.stack : err)) + '\n');
      process.exit(err instanceof AzError ? err.code : 1);
    },
  );
}
