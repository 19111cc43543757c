// Reading numbers (firmware/store/counter.ts): bundled as the firmware is, run in the host
// runtime on its Storage/NOR-flash model, including a power cut at every flash operation.
import { describe, it, before } from 'mocha';
import assert from 'node:assert/strict';
import { bundleModule } from '../build.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';

describe('counter.test.mjs', () => {
  let bundle;
  before(async () => {
    bundle = await bundleModule('firmware/store/counter.ts');
  });

  function boot() {
    const device = createEspruino({ clock: createClock({ mode: 'virtual' }), storageBytes: 64 * 4096 });
    device.load(bundle.code, 'counter.js');
    return device;
  }
  const open = (d) => d.eval('var c = openCounter("cpn")');
  const next = (d) => d.eval('c.next()');

  it('numbers go up by one, from 1, and carry on after a reboot', () => {
    const d = boot();
    open(d);
    assert.deepEqual([next(d), next(d), next(d)], [1, 2, 3]);
    d.reboot();
    open(d);
    assert.deepEqual([next(d), next(d)], [4, 5]);
  });

  it('past one file (4048 numbers) the other file takes over, and the full one is erased', () => {
    const d = boot();
    open(d);
    let last = 0;
    for (let i = 0; i < 4100; i++) last = next(d);
    assert.equal(last, 4100);
    assert.deepEqual(
      Object.keys(d.storage.files)
        .filter((f) => f.startsWith('cpn'))
        .sort(),
      ['cpn0'],
    );
    d.reboot();
    open(d);
    assert.equal(next(d), 4101);
    const { writes, erases } = d.storage.flash.stats;
    assert.ok(writes < 4101 * 2 + 20, `${writes} program ops for 4101 numbers`);
    assert.ok(erases < 5, `${erases} page erases`);
  });

  it('a power cut at any flash operation never repeats a number that was handed out, nor goes back', () => {
    // the sequence crosses a file switch (start at 4040) so the cut also lands inside it
    const prep = boot();
    open(prep);
    for (let i = 0; i < 4040; i++) next(prep);
    const image = Uint8Array.from(prep.storage.flash.mem);
    for (let cutAt = 0; cutAt < 30; cutAt++) {
      const d = boot();
      d.storage.flash.mem.set(image);
      open(d);
      const got = [];
      d.storage.failAfterWrites(cutAt);
      for (let i = 0; i < 20 && d.state === 'running'; i++) {
        const v = next(d);
        if (d.state === 'running' && v !== undefined) got.push(v);
      }
      d.storage.failAfterWrites(-1); // a cut planned past the sequence does not happen
      d.reboot();
      open(d);
      const after = next(d);
      const handedOut = got.length ? got[got.length - 1] : 4040;
      assert.ok(after > handedOut, `cut at op ${cutAt}: ${after} after ${handedOut} was handed out`);
      assert.ok(after <= handedOut + 2, `cut at op ${cutAt}: jumped from ${handedOut} to ${after}`);
    }
  });
});
