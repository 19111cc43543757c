#!/usr/bin/env node
// The README's troubleshooting section, made from the same error table the firmware logs from
// (firmware/at/errors.ts), so the two never disagree:
//   node --import tsx buildlib/troubleshooting.mjs          prints the section
//   node --import tsx buildlib/troubleshooting.mjs --write  replaces it in README.md
// test/troubleshooting.test.mjs fails when README.md is out of date.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mqttTable, cmeTable } from '../firmware/at/error-texts.ts';

const README = fileURLToPath(new URL('../README.md', import.meta.url));
export const START = '<!-- troubleshooting: made by buildlib/troubleshooting.mjs from firmware/at/errors.ts; do not edit by hand -->';
export const END = '<!-- troubleshooting end -->';

const cell = (t) => t.replace(/\|/g, '\\|');

export function troubleshootingSection() {
  const rows = [];
  rows.push('How the device says it: `AT+CMQTTCONNECT: MQTT error 30 (connection refused: bad user name or password): check …`');
  rows.push("(the A76xx modem's MQTT errors), `AT+CPIN: CME error 10 (SIM not inserted): …` (the modem's");
  rows.push('general errors), `… -> timeout` (no answer). On the T-Call SIM800L a refused session reads');
  rows.push('`MQTT CONNECT: the broker refused the session (…)` with the same meanings as 27–31 below.');
  rows.push('');
  rows.push('| MQTT error | meaning | what to change |');
  rows.push('|---|---|---|');
  mqttTable().forEach((entry, code) => {
    if (!code) return;
    const [meaning, hint] = entry.split('|');
    rows.push(`| ${code} | ${cell(meaning)} | ${hint ? cell(hint) : 'nothing to change: cellpub retries by itself'} |`);
  });
  rows.push('');
  rows.push('| CME error | meaning | what to change |');
  rows.push('|---|---|---|');
  for (const [code, entry] of Object.entries(cmeTable())) {
    const [meaning, hint] = entry.split('|');
    rows.push(`| ${code} | ${cell(meaning)} | ${hint ? cell(hint) : 'nothing to change: cellpub retries by itself'} |`);
  }
  return `${START}\n${rows.join('\n')}\n${END}`;
}

/** README text with the section replaced (or an error if the markers are missing). */
export function withSection(readme) {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no troubleshooting markers (${START} … ${END})`);
  return readme.slice(0, a) + troubleshootingSection() + readme.slice(b + END.length);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--write')) {
    writeFileSync(README, withSection(readFileSync(README, 'utf8')));
    console.log('README.md: troubleshooting section written');
  } else console.log(troubleshootingSection());
}
