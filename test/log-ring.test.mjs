// firmware/log.ts: the RAM ring behind {"cmd":"log"} (remote/commands.ts). Bundled like the
// firmware and run on the host runtime: order, count, the cut, and what the full ring costs in
// JsVars (the runtime's E.getSizeOf estimate, host/runtime/memory.mjs).
import { describe, it, before } from 'mocha';
import assert from 'node:assert/strict';
import { bundleModule } from '../build.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';

describe('log-ring.test.mjs', () => {
  let bundle;
  before(async () => {
    bundle = await bundleModule('firmware/log.ts');
  });
  function boot() {
    const device = createEspruino({ clock: createClock({ mode: 'virtual' }) });
    device.load(bundle.code, 'log.js');
    return device;
  }
  const recent = (d, n) => JSON.parse(d.eval(`JSON.stringify(recentLog(${n === undefined ? '' : JSON.stringify(n)}))`));

  it('keeps the last 12 lines as printed, oldest first; n of them on request; any bad n gives all', () => {
    const d = boot();
    assert.deepEqual(recent(d), []);
    for (let i = 1; i <= 5; i++) d.eval(`log('line ${i}')`);
    assert.deepEqual(recent(d), d.log.slice(-5));
    assert.match(recent(d)[0], /^\[\d+\.\d\] line 1$/);
    for (let i = 6; i <= 30; i++) d.eval(`log('line ${i}')`);
    const all = recent(d);
    assert.equal(all.length, 12);
    assert.deepEqual(all, d.log.slice(-12));
    assert.match(all[0], /line 19$/);
    assert.match(all[11], /line 30$/);
    assert.deepEqual(recent(d, 3), all.slice(-3));
    assert.deepEqual(recent(d, 50), all);
    for (const bad of [0, -2, 'x', null]) assert.deepEqual(recent(d, bad), all, `n = ${JSON.stringify(bad)}`);
  });

  it('a long line is printed whole but kept cut to 96 characters; the full ring costs at most ~130 JsVars', () => {
    const d = boot();
    for (let i = 0; i < 20; i++) d.eval(`log('x'.repeat(200))`);
    assert.ok(
      d.log.every((l) => l.length > 200),
      'the console gets the whole line',
    );
    const r = recent(d);
    assert.equal(r.length, 12);
    assert.ok(r.every((l) => l.length === 96));
    const vars = d.eval('E.getSizeOf(recentLog())');
    console.log('#', `ring full of 96-character lines: ${vars} JsVars (E.getSizeOf estimate); log.ts bundle ${bundle.bytes} bytes`);
    assert.ok(vars <= 130, `${vars} JsVars`);
  });
});
