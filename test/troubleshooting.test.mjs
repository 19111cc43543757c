// The README's troubleshooting section is made from the firmware's own error table and must be
// up to date with it (regenerate: node --import tsx buildlib/troubleshooting.mjs --write).
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { troubleshootingSection, START, END } from '../buildlib/troubleshooting.mjs';
import { atError, errorText } from '../firmware/at/errors.ts';

describe('troubleshooting.test.mjs', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  it('README.md carries the troubleshooting section exactly as the error table makes it', () => {
    const a = readme.indexOf(START);
    const b = readme.indexOf(END);
    assert.ok(a >= 0 && b > a, 'the markers are in README.md');
    assert.equal(readme.slice(a, b + END.length), troubleshootingSection(), 'run: node --import tsx buildlib/troubleshooting.mjs --write');
  });

  it('each row says what the device logs for that code', () => {
    const section = troubleshootingSection();
    for (const [kind, code] of [
      ['mqtt', 30],
      ['mqtt', 32],
      ['cme', 10],
      ['cme', 16],
    ]) {
      const e = atError('AT+X', kind, code);
      assert.ok(section.includes(`| ${code} | ${e.msg} | ${e.hint} |`), `${kind} ${code}`);
      assert.ok(errorText(e).includes(e.hint));
    }
  });
});
