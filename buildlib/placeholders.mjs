// The example configs (config/example.*.json) carry placeholders: a board built from one of them
// would power up, register and then fail at the broker with a message about credentials. So the
// build (and `npm run flash`, which builds) refuses a config that still holds one, and names the
// field and where the real value comes from.
//
// A placeholder is a string with YOUR- / YOUR_ in it (however edited around it), or a field whose
// value is exactly the one an example config gives it (broker.example.org, the example's Azure
// device key), for the fields a user must make their own.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', 'config');

// the fields each user must fill in, and where the real value is found
const WHERE = {
  'broker.host': {
    'hivemq-cloud':
      "your cluster's host name: HiveMQ Cloud console → your cluster → Overview → URL (e.g. 1a2b3c4d.s1.eu.hivemq.cloud, without mqtts:// or port)",
    other: "your broker's host name (no scheme, no port)",
  },
  'broker.username': {
    'hivemq-cloud': 'the user name of the credentials you created: HiveMQ Cloud console → your cluster → Access Management',
    other: 'a user name your broker accepts (or leave username and password out if it takes anonymous clients)',
  },
  'broker.password': {
    'hivemq-cloud': 'the password of those credentials (or "${HIVEMQ_PASSWORD}" to take it from the environment)',
    other: 'its password (or "${BROKER_PASSWORD}" to take it from the environment)',
  },
  'broker.hub': { other: "your IoT Hub's name: the part before .azure-devices.net (Azure portal → IoT Hub → Overview → Hostname)" },
  'broker.deviceId': { other: 'the device id you registered: Azure portal → IoT Hub → Devices' },
  'broker.deviceKey': {
    other:
      'the device\'s primary key: Azure portal → IoT Hub → Devices → your device → Primary key, or az iot hub device-identity show --hub-name <hub> --device-id <id> --query authentication.symmetricKey.primaryKey (or "${AZURE_DEVICE_KEY}" from the environment)',
  },
  apn: { other: 'your SIM\'s APN (from the operator), or "" for the network\'s default' },
  simPin: { other: "your SIM's PIN, or leave simPin out if the SIM has none" },
};
const SECRET = new Set(['broker.password', 'broker.deviceKey', 'simPin']);

let exampleValues = null;
/** field path → the values the example configs give it (the fields of WHERE only) */
function examples() {
  if (exampleValues) return exampleValues;
  exampleValues = {};
  for (const f of readdirSync(EXAMPLES).filter((n) => /^example\..*\.json$/.test(n))) {
    const raw = JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8'));
    for (const path of Object.keys(WHERE)) {
      const v = path.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), raw);
      // an example's id such as "field-station-1" is a fine id to keep: only the values no real
      // deployment can use count (a reserved example domain, a key that says "paste your key")
      if (typeof v === 'string' && isExampleOnly(path, v)) (exampleValues[path] ??= new Set()).add(v);
    }
  }
  return exampleValues;
}

function isExampleOnly(path, v) {
  if (/YOUR[-_]/i.test(v)) return true;
  if (path === 'broker.host') return /(^|\.)example\.(org|com|net)$/i.test(v);
  if (path === 'broker.deviceKey') return /your/i.test(Buffer.from(v, 'base64').toString('latin1'));
  return false;
}

/**
 * The placeholders left in a config (the parsed JSON, before secrets come from the environment).
 * @returns {string[]} one problem per field: the field, and what to put there
 */
export function placeholderProblems(raw) {
  const problems = [];
  if (!raw || typeof raw !== 'object') return problems;
  const preset = raw.broker && typeof raw.broker === 'object' ? raw.broker.preset : undefined;
  const known = examples();
  const walk = (o, path) => {
    for (const [k, v] of Object.entries(o)) {
      const p = path ? `${path}.${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v, p);
      else if (typeof v === 'string' && (/YOUR[-_]/i.test(v) || (known[p] && known[p].has(v)))) {
        const where = WHERE[p] ? WHERE[p][preset] || WHERE[p].other : 'your own value';
        const shown = SECRET.has(p) ? "still the example's placeholder (not shown)" : `${JSON.stringify(v)} is the example's placeholder`;
        problems.push(`${p}: ${shown}; put ${where}`);
      }
    }
  };
  walk(raw, '');
  return problems;
}
