// Store and forward (firmware/store/flash-queue.ts): the module bundled as the firmware is, run in the
// host runtime on its Storage model (host/runtime/storage.mjs: jsflash.c's layout, write rules,
// aligned writes and streaming compaction, on the NOR flash of flash.mjs with power cuts).
// With ESPRUINO_BIN set, the same operations also run in the real interpreter and must agree.
// Run: node --import tsx --test --test-concurrency=1 test/flash-queue.test.mjs
//      ESPRUINO_BIN=/path/to/espruino node --import tsx --test --test-concurrency=1 test/flash-queue.test.mjs
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import { bundleModule } from '../build.mjs';
import { checkBundle } from '../buildlib/es5-gate.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';
import { hasRealEspruino, runInRealEspruino } from '../host/espruino/real.mjs';
import { itUnless } from './skip.mjs';

describe('flash-queue.test.mjs', () => {
  const PAGE = 4096;
  const BOOT = 19891; // bytes of the T-A7670X bundle (README), stored as .bootcde before the queue

  let bundle;
  before(async () => {
    bundle = await bundleModule('firmware/store/flash-queue.ts');
  });

  /** a device running the bundle, with a boot-code file in Storage first (as on the board) */
  function boot({ pages = 224, code } = {}) {
    const device = createEspruino({ clock: createClock({ mode: 'virtual' }), storageBytes: pages * PAGE });
    device.load(code ?? bundle.code, 'flash-queue.js');
    device.storage.write('.bootcde', 'B'.repeat(BOOT));
    return device;
  }
  const open = (d, max, name = 'q') => d.eval(`var q = openFlashQueue(${JSON.stringify(name)}, ${max})`);
  const push = (d, r) => d.eval(`q.push(${JSON.stringify(r)})`);
  const size = (d) => d.eval('q.size()');
  const dropped = (d) => d.eval('q.dropped()');
  /** every waiting reading, oldest first, acknowledging them (the only way to see them all) */
  const drain = (d) => JSON.parse(d.eval('(function(){var a=[];while(q.size()){a.push(q.peek());q.ack();}return JSON.stringify(a)})()'));
  /** reading number i, JSON of about len bytes */
  function R(i, len = 100) {
    const head = `{"i":${i},"pad":"`;
    return head + 'abcdefghijklmnopqrstuvwxyz'.repeat(20).slice(0, Math.max(0, len - head.length - 2)) + '"}';
  }
  const segments = (d) => Object.keys(d.storage.files).filter((n) => /^q~\d+$/.test(n) && n !== 'q~0');
  /** [{name, addr, trash}] of the Storage chain, read from the flash as jsflash.c lays it out */
  function chain(flash) {
    const m = flash.mem;
    const u32 = (a) => (m[a] | (m[a + 1] << 8) | (m[a + 2] << 16) | (m[a + 3] << 24)) >>> 0;
    const out = [];
    for (let a = 0; a + 32 <= flash.size;) {
      const sz = u32(a);
      if (sz === 0xffffffff || sz === 0 || a + 32 + (sz & 0xffffff) > flash.size) {
        const np = a - (a % PAGE) + PAGE;
        if (np >= flash.size || u32(np) === 0xffffffff) break;
        a = np;
        continue;
      }
      let name = '';
      for (let i = 4; i < 32 && m[a + i]; i++) name += String.fromCharCode(m[a + i]);
      out.push({ name, addr: a, trash: u32(a + 4) === 0 });
      a = (a + 32 + (sz & 0xffffff) + 3) & ~3;
    }
    return out;
  }

  it('bundled like the firmware (tsc ES5 → esbuild → terser → dehoist), it passes the gates', () => {
    assert.deepEqual(bundle.exports, ['openFlashQueue']);
    assert.deepEqual(checkBundle(bundle.code).errors, []);
    assert.ok(!/[^\x00-\x7f]/.test(bundle.code), 'ASCII only: \\x escapes stay bytes even on Unicode builds');
    assert.ok(bundle.bytes < 3000, `small: ${bundle.bytes} bytes`);
    console.log('#', `flash-queue.ts bundle: ${bundle.bytes} bytes`);
  });

  it('FIFO across push/peek/ack, readings of 0 to 512 bytes, over many segments', () => {
    const d = boot();
    open(d, 1000);
    assert.equal(d.eval('q.peek()'), null);
    d.eval('q.ack()'); // nothing to acknowledge: no-op
    assert.equal(size(d), 0);
    const model = [];
    let n = 0;
    for (let round = 0; round < 40; round++) {
      for (let k = 0; k < 9; k++) {
        const r = R(n, [0, 1, 60, 120, 512, 300, 90, 75, 200][(n + round) % 9]).slice(0, [0, 1, 60, 120, 512, 300, 90, 75, 200][(n + round) % 9]);
        n++;
        push(d, r);
        model.push(r);
      }
      for (let k = 0; k < 5 + (round % 5); k++) {
        assert.equal(d.eval('q.peek()'), model[0] ?? null);
        d.eval('q.ack()');
        model.shift();
      }
      assert.equal(size(d), model.length);
    }
    assert.ok(segments(d).length >= 3 && segments(d).length <= 6, `segments: ${segments(d)}`);
    assert.deepEqual(drain(d), model);
    assert.equal(dropped(d), 0);
    assert.deepEqual(d.errors, []);
  });

  it('readings it cannot store are refused before anything is written; long names too', () => {
    const d = boot();
    open(d, 10);
    push(d, 'x'.repeat(512));
    const w = d.storage.flash.stats.writes;
    for (const bad of ['x'.repeat(513), 'a\x02b', 'a\x03b', 'a\xffb']) {
      assert.throws(() => push(d, bad), /bad reading/);
    }
    assert.equal(d.storage.flash.stats.writes, w);
    assert.throws(() => open(d, 10, 'n'.repeat(21)), /name too long/);
    open(d, 10, 'n'.repeat(20)); // 20 + "~" + up to 7 digits fits in Storage's 28
    assert.equal(size(d), 0);
    assert.deepEqual(drain(d), []);
  });

  it('bounded: the oldest is dropped first, and the count survives reboots and erased segments', () => {
    const d = boot();
    open(d, 20);
    for (let i = 0; i < 1000; i++) push(d, R(i));
    assert.equal(size(d), 20);
    assert.equal(dropped(d), 980);
    assert.equal(d.eval('q.peek()'), R(980));
    assert.ok(segments(d).length <= 3, 'dropped segments are erased');
    d.reboot();
    open(d, 20);
    assert.equal(dropped(d), 980);
    for (let i = 1000; i < 1005; i++) push(d, R(i));
    assert.equal(dropped(d), 985);
    // a smaller limit at the next boot: the surplus goes at the next push, counted
    d.reboot();
    open(d, 5);
    assert.equal(size(d), 20);
    push(d, R(1005));
    assert.equal(size(d), 5);
    assert.equal(dropped(d), 1001);
    assert.deepEqual(
      drain(d),
      [1001, 1002, 1003, 1004, 1005].map((i) => R(i)),
    );
    d.reboot();
    open(d, 5);
    assert.equal(size(d), 0);
    assert.equal(dropped(d), 1001);
    // a queue of another name is separate
    open(d, 5, 'other');
    assert.equal(dropped(d), 0);
  });

  it('open reads entries of the head and tail segments only: the others count from the headers', () => {
    const d = boot();
    open(d, 3000);
    for (let i = 0; i < 2000; i++) push(d, R(i));
    for (let i = 0; i < 100; i++) d.eval('q.ack()');
    d.reboot();
    // count the CRCs computed while opening (one per entry read, one per header)
    d.eval('var crcs = 0, C = E.CRC32; E.CRC32 = function (x) { crcs++; return C(x); };');
    open(d, 3000);
    const crcs = d.eval('crcs');
    assert.ok(crcs < 200, `${crcs} CRCs to open a queue of 1900 readings in ${segments(d).length} segments`);
    assert.equal(size(d), 1900);
    assert.deepEqual(
      drain(d),
      Array.from({ length: 1900 }, (_, i) => R(i + 100)),
    );
  });

  it('persistence: after a reboot anywhere in a segment the queue reads back and appends after it', () => {
    for (const [pushed, acked] of [
      [1, 0],
      [1, 1],
      [37, 12],
      [64, 64],
      [65, 3],
      [130, 129],
      [200, 0],
    ]) {
      const d = boot();
      open(d, 1000);
      for (let i = 0; i < pushed; i++) push(d, R(i, 40));
      for (let i = 0; i < acked; i++) d.eval('q.ack()');
      d.reboot();
      open(d, 1000);
      assert.equal(size(d), pushed - acked, `${pushed}/${acked}`);
      push(d, R(pushed, 40));
      d.reboot();
      open(d, 1000);
      const want = [];
      for (let i = acked; i <= pushed; i++) want.push(R(i, 40));
      assert.deepEqual(drain(d), want, `${pushed}/${acked}`);
      assert.deepEqual(d.errors, []);
    }
  });

  it('generation switch: the new segment is complete before the consumed one is erased; pages stay aligned', () => {
    const d = boot();
    open(d, 1000);
    for (let i = 0; i < 64; i++) push(d, R(i, 20)); // 64 short readings fill segment 1's marks
    assert.deepEqual(segments(d), ['q~1']);
    push(d, R(64, 20));
    assert.deepEqual(segments(d).sort(), ['q~1', 'q~2']);
    for (let i = 0; i < 64; i++) d.eval('q.ack()');
    assert.equal(d.eval('q.peek()'), R(64, 20));
    assert.deepEqual(segments(d).sort(), ['q~1', 'q~2'], 'consumed, not erased until the next segment exists');
    d.reboot(); // a consumed segment older than the head is recognised as such
    open(d, 1000);
    assert.equal(size(d), 1);
    for (let i = 65; i < 129; i++) push(d, R(i, 20));
    assert.deepEqual(segments(d).sort(), ['q~2', 'q~3']);
    // the pad file puts segment 1 on a page boundary, and every later one follows at whole pages
    const c = chain(d.storage.flash);
    assert.equal(c[0].name, '.bootcde');
    assert.equal(c[1].name, 'q~0');
    for (const f of c.slice(2)) assert.equal(f.addr % PAGE, 0, `${f.name} at ${f.addr}`);
  });

  it('many cycles: 20,000 readings through a 500-reading queue, online and offline, without running out', () => {
    const d = boot();
    const s0 = { ...d.storage.flash.stats };
    open(d, 500);
    // online stretches (push, send, ack) and offline ones (700 pushes, 200 of them dropping the oldest)
    const r = d.eval(`(function () {
    function R(i) { return '{"ts":"2026-11-23T11:09:10Z","t":25.08,"p":1006.53,"h":45.21,"rssi":-67,"up":' + i + '}'; }
    var bad = 0, sent = 0, pushed = 0, expect = 0, maxFiles = 0, files;
    function check() { if (q.peek() !== R(expect)) bad++; q.ack(); expect++; sent++; }
    while (pushed < 20000) {
      var offline = (pushed / 1000 | 0) % 4 == 3;
      for (var k = 0; k < (offline ? 700 : 1000) && pushed < 20000; k++) {
        q.push(R(pushed++));
        if (!offline) check();
      }
      if (offline) { expect = Math.max(expect, pushed - 500); while (q.size()) check(); }
      files = require('Storage').list(/^q~/).length;
      if (files > maxFiles) maxFiles = files;
    }
    return { bad: bad, sent: sent, size: q.size(), dropped: q.dropped(), maxFiles: maxFiles };
  })()`);
    const s = d.storage.flash.stats;
    assert.equal(r.bad, 0);
    assert.equal(r.size, 0);
    assert.equal(r.dropped, 20000 - r.sent);
    assert.ok(r.dropped > 0);
    // 500 readings of ~100 bytes: ~14 segments, + the tail, consumed ones not yet erased, the pad
    assert.ok(r.maxFiles <= 20, `files ${r.maxFiles}`);
    const compactions = d.log.filter((l) => l.includes('Compacting')).length;
    assert.ok(compactions >= 1, 'trash is reclaimed by Storage compaction');
    assert.equal(d.storage.read('.bootcde'), 'B'.repeat(BOOT), 'boot code intact');
    for (let p = 0; p * PAGE < BOOT + 32; p++) assert.equal(d.storage.flash.pageErases[p], 0, `boot code page ${p} never rewritten`);
    d.reboot();
    open(d, 500);
    assert.equal(size(d), 0);
    assert.equal(dropped(d), r.dropped);
    assert.deepEqual(d.errors, []);
    const perReading = (s.writes - s0.writes) / 20000;
    const erasesPerK = ((s.erases - s0.erases) / 20000) * 1000;
    console.log(
      '#',
      `${perReading.toFixed(3)} program ops/reading, ${erasesPerK.toFixed(1)} page erases/1000 readings, ${compactions} compactions, files ≤ ${r.maxFiles}`,
    );
  });

  it('flash wear: 1 program op per push and per ack, no erase outside compaction, none per reading', () => {
    const d = boot();
    open(d, 500);
    const f = d.storage.flash;
    const ops = () => f.stats.writes + f.stats.erases;
    push(d, R(0)); // the first push makes the pad and segment 1
    const counts = { push: [], ack: [] };
    for (let i = 1; i < 3000; i++) {
      let o = ops();
      const e = f.stats.erases;
      push(d, R(i));
      counts.push.push(ops() - o);
      o = ops();
      d.eval('q.ack()');
      counts.ack.push(ops() - o);
      if (!d.log.some((l) => l.includes('Compacting'))) assert.equal(f.stats.erases, e, 'erases only in compaction');
    }
    const hist = (a) => a.reduce((h, x) => ((h[x] = (h[x] || 0) + 1), h), {});
    // a push is 1 program op, 3 when it starts a segment (file header, our header, entry) + 1 per
    // consumed segment it erases; an ack is always 1
    assert.deepEqual(Object.keys(hist(counts.ack)), ['1']);
    const hp = hist(counts.push);
    assert.ok(hp[1] > 2900 && hp[4] > 50 && Object.keys(hp).every((k) => ['1', '3', '4'].includes(k)), JSON.stringify(hp));
    const perReading = counts.push.concat(counts.ack).reduce((a, b) => a + b, 0) / counts.ack.length;
    assert.ok(perReading < 2.15, `program ops per reading ${perReading}`);
    assert.ok(Math.max(...f.pageErases) <= 1);
  });

  // ---------------------------------------------------------------- power cuts
  const MAX = 8;
  /** pushes (dropping from the max+1th on), acks, a reboot, more pushes over segment boundaries, acks */
  function scenario(pushes, max = MAX) {
    const steps = [['open', max]];
    const r = (i) => R(i, 80 + ((i * 37) % 200));
    for (let i = 0; i < max + 4; i++) steps.push(['push', r(i)]);
    for (let i = 0; i < 3; i++) steps.push(['ack']);
    steps.push(['reopen']);
    for (let i = max + 4; i < max + 22; i++) steps.push(['push', r(i)]);
    for (let i = 0; i < 5; i++) steps.push(['ack']);
    for (let i = max + 22; i < pushes; i++) steps.push(['push', r(i)]);
    steps.push(['reopen']);
    for (let i = 0; i < max + 1; i++) steps.push(['ack']);
    return steps;
  }

  /**
   * Runs the steps with the power cut at flash operation `cut` (none if < 0). Returns the ops used
   * and, after a cut, the reboot's verdict: what the reopened queue holds against what may be there.
   */
  function runCut(steps, cut, { pages = 224, torn = false, code } = {}) {
    const MAX = steps[0][1];
    const d = boot({ pages, code });
    if (cut >= 0) d.storage.flash.failAfterWrites(cut, { torn });
    const ops0 = d.storage.flash.stats.writes + d.storage.flash.stats.erases;
    let model = [];
    let drops = 0;
    let at = null;
    const spans = []; // [first op, last op] of steps that compacted
    let maxSegs = 0;
    for (const [op, x] of steps) {
      const before = { model: model.slice(), drops };
      const l0 = d.log.length;
      const o0 = d.storage.flash.stats.writes + d.storage.flash.stats.erases - ops0;
      if (op === 'open') open(d, MAX);
      else if (op === 'reopen')
        open(d, MAX); // a new queue over the same flash: what a reboot gives it
      else if (op === 'push') push(d, x);
      else d.eval('q.ack()');
      const compacted = d.log.slice(l0).some((l) => l.includes('Compacting'));
      if (compacted) spans.push([o0, d.storage.flash.stats.writes + d.storage.flash.stats.erases - ops0]);
      if (d.state === 'off') {
        at = { op, x, before, compacted };
        break;
      }
      if (op === 'push') {
        if (model.length >= MAX) {
          model.shift();
          drops++;
        }
        model.push(x);
      }
      if (op === 'ack') model.shift();
      if (cut < 0) maxSegs = Math.max(maxSegs, segments(d).length);
    }
    const ops = d.storage.flash.stats.writes + d.storage.flash.stats.erases - ops0;
    if (!at) return { ops, model, drops, spans, maxSegs, d };
    // what may be there: before the step, or after it (for a push into a full queue: also the drop alone)
    const { before } = at;
    const may = [{ m: before.model, drops: before.drops }];
    if (at.op === 'push') {
      if (before.model.length >= MAX) {
        may.push({ m: before.model.slice(1), drops: before.drops + 1 });
        may.push({ m: before.model.slice(1).concat([at.x]), drops: before.drops + 1 });
      } else may.push({ m: before.model.concat([at.x]), drops: before.drops });
    }
    if (at.op === 'ack') may.push({ m: before.model.slice(1), drops: before.drops });
    d.reboot();
    const v = { at, may, d };
    open(d, MAX); // must not throw
    v.size = size(d);
    v.dropped = dropped(d);
    v.got = drain(d);
    v.boot = d.storage.read('.bootcde') === 'B'.repeat(BOOT);
    v.max = MAX;
    try {
      push(d, 'after');
      push(d, 'after2');
      v.after = drain(d);
    } catch (e) {
      v.after = String(e); // Storage itself broken (only after a torn write inside its compaction)
    }
    return v;
  }

  function checkVerdict(v, cut) {
    const where = `cut at op ${cut}, during ${v.at.op}`;
    assert.deepEqual(v.d.errors, [], where);
    assert.equal(v.size, v.got.length, where);
    const match = v.may.find((o) => JSON.stringify(o.m) === JSON.stringify(v.got));
    assert.ok(match, `${where}: holds ${v.got.map((r) => r.slice(0, 8))}, may hold ${v.may.map((o) => o.m.map((r) => r.slice(0, 8)).join(' ')).join(' | ')}`);
    assert.equal(v.dropped, match.drops, `${where}: dropped()`);
    assert.deepEqual(v.after, ['after', 'after2'], `${where}: keeps working`);
    assert.ok(v.boot, `${where}: boot code intact`);
  }

  const TORN = { false: 'the cut operation not done', prefix: 'torn: the first half of it done', scatter: 'torn: every other byte of it done' };
  for (const torn of [false, 'prefix', 'scatter']) {
    it(`power cut at every flash operation (${TORN[torn]}): nothing torn or lost, order kept`, () => {
      const steps = scenario(60);
      const dry = runCut(steps, -1);
      assert.deepEqual(dry.spans, [], 'no Storage compaction in this run (that is the next test)');
      assert.ok(dry.drops > 30, `drops ${dry.drops}`);
      assert.ok(dry.ops > 100);
      for (let n = 0; n < dry.ops; n++) checkVerdict(runCut(steps, n, { torn }), n);
      console.log('#', `${dry.ops} cut points`);
    });
  }

  it('power cut at every flash operation with many segments live (torn: every other byte)', () => {
    // maxReadings 40 of 80-280 bytes: up to 4 segments, the middle ones counted from the headers
    const steps = scenario(90, 40);
    const dry = runCut(steps, -1);
    assert.equal(dry.spans.length, 0);
    assert.ok(dry.maxSegs >= 3, `segments ${dry.maxSegs}`);
    assert.ok(dry.drops > 30, `drops ${dry.drops}`);
    for (let n = 0; n < dry.ops; n++) checkVerdict(runCut(steps, n, { torn: 'scatter' }), n);
    console.log('#', `${dry.ops} cut points`);
  });

  it('power cut inside Storage compaction: with whole-page segments every live page is moved before its erase', () => {
    // 12 pages: the boot file (5 pages), the pad, 2 live segments and trash: compaction runs often
    const steps = scenario(320);
    const dry = runCut(steps, -1, { pages: 12 });
    assert.ok(dry.spans.length >= 2, `compactions: ${dry.spans.length}`);
    let n = 0;
    for (const [a, b] of dry.spans) for (let cut = a; cut < b; cut++, n++) checkVerdict(runCut(steps, cut, { pages: 12 }), cut);
    console.log('#', `${n} cut points inside compaction`);
  });

  it('a torn write inside Storage compaction: never a garbled reading, never an exception at open', () => {
    // Storage's file headers have no checksum: a half-programmed one can leave a page that Storage
    // can neither skip nor reuse (then it refuses new files), or a copy short of its end
    const steps = scenario(320);
    const dry = runCut(steps, -1, { pages: 12 });
    const pushed = new Set(steps.filter((s) => s[0] === 'push').map((s) => s[1]));
    const tally = { points: 0, lost: 0, broken: 0 };
    for (const torn of ['prefix', 'scatter']) {
      for (const [a, b] of dry.spans) {
        for (let cut = a; cut < b; cut++, tally.points++) {
          const v = runCut(steps, cut, { pages: 12, torn });
          const where = `${torn} cut at op ${cut}`;
          assert.deepEqual(v.d.errors, [], where);
          assert.ok(
            v.got.every((r) => pushed.has(r)),
            `${where}: no garbled reading`,
          );
          const idx = v.got.map((r) => JSON.parse(r).i);
          assert.ok(
            idx.every((x, i) => i === 0 || x > idx[i - 1]),
            `${where}: in order`,
          );
          assert.ok(v.boot, `${where}: boot code intact`);
          if (!v.may.some((o) => JSON.stringify(o.m) === JSON.stringify(v.got) && o.drops === v.dropped)) tally.lost++;
          if (typeof v.after === 'string') tally.broken++;
          else assert.deepEqual(v.after, ['after', 'after2'], where);
        }
      }
    }
    assert.ok(tally.lost + tally.broken <= tally.points / 8, JSON.stringify(tally));
    console.log('#', `${tally.points} torn cut points inside compaction: readings lost at ${tally.lost}, Storage refusing new files at ${tally.broken}`);
  });

  it('mutations: without the CRC check, or with plain mark letters, the torn power-cut test fails (the unmutated bundle passes it above)', () => {
    const steps = scenario(60);
    const dry = runCut(steps, -1);
    const sweep = (code, torn) => {
      for (let n = 0; n < dry.ops; n++) {
        try {
          checkVerdict(runCut(steps, n, { torn, code }), n);
        } catch {
          return n;
        }
      }
      return -1;
    };
    const noCrc = bundle.code.replace(/(\w)\.substr\((\w)\+1,8\)==(\w)\((\w)\.substring\((\w)\+1,(\w)\)\)/, '1');
    assert.notEqual(noCrc, bundle.code, 'the CRC comparison was found in the bundle');
    assert.ok(sweep(noCrc, 'scatter') >= 0, 'a torn entry is returned without the CRC check');
    const letters = bundle.code
      .replace(/"\\x0f"/g, '"D"')
      .replace(/"\\xf0"/g, '"A"')
      .replace(/15&~(\w)\.charCodeAt\((\w)\)/, '68^$1.charCodeAt($2)');
    assert.notEqual(letters, bundle.code);
    assert.ok(sweep(letters, 'prefix') >= 0, 'a half-written "D" mark is miscounted');
  });

  // ---------------------------------------------------------------- the real interpreter
  // pushes over several segments with drops and acks, a second and a third queue opened over the
  // same flash, and the segments' bytes (CRC of each file): host and interpreter must agree exactly
  const REAL_SCENARIO = `(function(){
  var out = [], S = require('Storage');
  function R(i, n) { var s = '{"i":' + i + ',"p":"'; while (s.length < n) s += 'x'; return s + '"}'; }
  var q = openFlashQueue('rq', 30);
  for (var i = 0; i < 150; i++) { q.push(R(i, 60 + (i * 37) % 300)); if (i % 4 == 0) q.ack(); }
  out.push(q.size(), q.dropped(), q.peek());
  var q2 = openFlashQueue('rq', 30);
  out.push(q2.size(), q2.dropped(), q2.peek());
  var got = []; while (q2.size()) { got.push(JSON.parse(q2.peek()).i); q2.ack(); }
  out.push(got.join(' '));
  var q3 = openFlashQueue('rq', 30);
  out.push(q3.size(), q3.dropped(), q3.peek());
  q3.push('x'); out.push(q3.peek(), q3.size());
  S.list(/^rq~[1-9]/).forEach(function (f) { out.push(f, E.CRC32(S.read(f)) >>> 0); });
  return JSON.stringify(out);
})()`;

  describe('real Espruino interpreter (ESPRUINO_BIN)', () => {
    const skip = hasRealEspruino() ? false : 'ESPRUINO_BIN is not set (or not executable)';
    let esp;
    before(async () => {
      if (!skip) esp = await runInRealEspruino({ code: bundle.code, timeoutMs: 60000 });
    });
    after(async () => {
      if (esp) await esp.stop();
    });
    itUnless(skip, 'the bundled queue does what it does in the host runtime, to the byte', async () => {
      const d = createEspruino({ clock: createClock({ mode: 'virtual' }) });
      d.load(bundle.code, 'flash-queue.js');
      const host = JSON.parse(d.eval(REAL_SCENARIO));
      assert.equal(host[6], Array.from({ length: 30 }, (_, i) => 120 + i).join(' '));
      assert.deepEqual(JSON.parse(await esp.eval(REAL_SCENARIO, { timeoutMs: 60000 })), host);
    });
  });
});
