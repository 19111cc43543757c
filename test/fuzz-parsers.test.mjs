// Property-based tests (fast-check, fixed seeds) of every parser that reads what a modem or a
// broker sends: the line reader, the AT engine, the small line parsers of the modem drivers, the
// error decoder, the A76xx CMQTTRX handling, and the MQTT packet parser. Fed random and
// adversarial bytes they must not throw, not hang, and not buffer without bound.
//
// The firmware modules are imported as TypeScript (like at-engine.test.mjs). Their Espruino
// globals (setTimeout, clearTimeout, getTime) are swapped, for the length of one synchronous run,
// for a virtual clock that jumps from timer to timer and numbers timers as Espruino does (the last
// id + 1, so ids are reused): node:test's mock timers move Date to the end of a tick before firing
// what is due, which is not how time passes on the board.
// Run: node --import tsx --test test/fuzz-parsers.test.mjs
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import ts from 'typescript';
import vm from 'node:vm';
import { readFileSync } from 'node:fs';
import { createLineReader } from '../firmware/at/reader.ts';
import { createAt, cmdName, lastNumber } from '../firmware/at/engine.ts';
import { atError, errorText } from '../firmware/at/errors.ts';
import { createParser, encodeLength, encodePublish } from '../firmware/mqtt-client/packet.ts';

// log.ts (imported by the drivers and readings.ts) reads getTime() when it loads: these come after
globalThis.getTime ??= () => Date.now() / 1000;
const { regStat, parseCclk } = await import('../firmware/modem/a76xx/net.ts');
const { mqttListen } = await import('../firmware/modem/a76xx/mqtt.ts');
const { csqToDbm } = await import('../firmware/modem/signal.ts');
const { linkEvent } = await import('../firmware/modem/sim800/socket.ts');

describe('fuzz-parsers.test.mjs', () => {
  const MAX_LINE = 1100; // the engine's line cap (engine.ts)
  const MAX_RAW = 10240; // the largest raw block the reader accepts by default (reader.ts)
  const seed = (n, numRuns = 200) => ({ seed: 0x5eed0000 + n, numRuns });

  // ---------------------------------------------------------------- generators
  const byte = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
  /** binary strings, one char per byte, as Espruino's serial port gives them */
  const bytes = (maxLength, minLength = 0) => fc.string({ unit: byte, minLength, maxLength });
  /** any JS string: every code point, control bytes, lone surrogates, CR/LF inside */
  const anyString = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    bytes(60),
    fc.string({ unit: fc.constantFrom('\r', '\n', '\x00', ' ', ',', ':', '"', '-', '+', '/', '0', '9', 'é', '\ud800'), maxLength: 30 }),
    fc.constantFrom('', ' ', '\r\n', ',', ':', '"', ',,,', '::', '"', '0,', 'x'.repeat(100000)),
  );
  /** a known prefix followed by anything */
  const after = (...prefixes) => fc.tuple(fc.constantFrom(...prefixes), anyString).map(([a, b]) => a + b);

  /** cut a string into chunks at the given points */
  function chunk(s, cuts) {
    const at = [...new Set(cuts.map((c) => c % (s.length + 1)))].sort((a, b) => a - b);
    const out = [];
    let prev = 0;
    for (const c of at) {
      out.push(s.slice(prev, c));
      prev = c;
    }
    out.push(s.slice(prev));
    return out;
  }
  const cuts = fc.array(fc.nat(), { maxLength: 12 });

  // ---------------------------------------------------------------- Espruino timers, virtual
  function espruinoClock() {
    let now = 0;
    let seq = 0;
    const timers = []; // creation order, as Espruino's timer array
    const clock = {
      setTimeout(fn, ms) {
        if (typeof fn !== 'function') throw new Error('Function or String not supplied!');
        const id = timers.length ? timers[timers.length - 1].id + 1 : 1;
        let d = Number(ms);
        if (!(d >= 0.1)) d = 0.1; // TIMER_MIN_INTERVAL
        timers.push({ id, due: now + d, fn, seq: seq++ });
        return id;
      },
      clearTimeout(id) {
        if (id === undefined) throw new Error('clearTimeout(undefined) not allowed. Use clearTimeout() instead');
        const i = timers.findIndex((t) => t.id === id);
        if (i >= 0) timers.splice(i, 1);
      },
      getTime: () => now / 1000,
      /** runs every timer due within ms, in time order, with now() at each one's time */
      advance(ms) {
        const end = now + ms;
        for (;;) {
          let next = null;
          for (const t of timers) if (t.due <= end && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
          if (!next) break;
          timers.splice(timers.indexOf(next), 1);
          now = Math.max(now, next.due);
          next.fn();
        }
        now = end;
      },
      pending: () => timers.length,
    };
    return clock;
  }

  /** fn(clock) with the Espruino timer globals replaced; synchronous, so nothing else sees them */
  function withClock(fn) {
    const saved = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout, getTime: globalThis.getTime };
    const clock = espruinoClock();
    Object.assign(globalThis, { setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, getTime: clock.getTime });
    try {
      return fn(clock);
    } finally {
      Object.assign(globalThis, saved);
    }
  }

  // ================================================================ line reader
  // A model of the reader over the whole stream at once: lines end at CR, LF or CRLF, are trimmed,
  // empty ones dropped, a line longer than maxLine is cut (and emitted as soon as it is longer,
  // before its end arrives); a line 'RAW n' makes the next n bytes one raw block (0 or more than
  // maxRaw: refused at once with ''). Chunking must not change what comes out.
  function modelReader(s, maxLine, maxRaw) {
    const out = [];
    let i = 0;
    while (i < s.length) {
      let j = i;
      while (j < s.length && s[j] !== '\r' && s[j] !== '\n') j++;
      const text = s.slice(i, j);
      const line = (text.length > maxLine ? text.slice(0, maxLine) : text).trim();
      if (j === s.length) {
        if (text.length > maxLine && line) out.push(line);
        break;
      }
      i = j + 1;
      if (s[j] === '\r' && s[i] === '\n') i++;
      if (!line) continue;
      out.push(line);
      const m = /^RAW (\d+)$/.exec(line);
      if (!m) continue;
      const n = Number(m[1]);
      if (!(n > 0 && n <= maxRaw)) out.push(['raw', '']);
      else if (i + n <= s.length) {
        out.push(['raw', s.slice(i, i + n)]);
        i += n;
      } else break; // the block is still arriving
    }
    return out;
  }

  function readerRun(chunks, maxLine, maxRaw) {
    const got = [];
    const r = createLineReader(
      (l) => {
        got.push(l);
        const m = /^RAW (\d+)$/.exec(l);
        if (m) r.readRaw(Number(m[1]), (d) => got.push(['raw', d]));
      },
      () => got.push('<prompt>'),
      maxLine,
      maxRaw,
    );
    for (const c of chunks) r.feed(c);
    return got;
  }

  const LINE_TOKENS = ['OK', 'ERROR', '+CSQ: 23,99', ' ', '  x ', '\t', 'é', '\x00', '\xff', '>', '> ', ',', '\r', '\n', '\r\n', '\n\r', '\r\r\n'];
  const readerSegment = fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.constantFrom(...LINE_TOKENS), { maxLength: 10 }).map((a) => a.join('')) },
    { weight: 2, arbitrary: bytes(40) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }).map((n) => 'L'.repeat(n)) },
    // a raw block: its header on a line of its own, then n bytes that may hold CR/LF (fewer when
    // the stream cuts it short, more than maxRaw when the announced length is garbage)
    {
      weight: 2,
      arbitrary: fc.tuple(fc.integer({ min: 0, max: 60 }), bytes(60), fc.constantFrom('\r\n', '\r', '\n')).map(([n, data, end]) => '\r\nRAW ' + n + end + data),
    },
  );

  describe('line reader', () => {
    it('any bytes in any chunking give the lines and raw blocks of the model', () => {
      fc.assert(
        fc.property(fc.array(readerSegment, { maxLength: 12 }), fc.integer({ min: 8, max: 48 }), cuts, (segs, maxLine, cs) => {
          const s = segs.join('');
          const maxRaw = 40;
          const want = modelReader(s, maxLine, maxRaw);
          assert.deepEqual(readerRun(chunk(s, cs), maxLine, maxRaw), want);
          assert.deepEqual(readerRun(s.split(''), maxLine, maxRaw), want, 'one byte at a time');
          for (const x of want) assert.ok(typeof x === 'string' ? x.length <= maxLine : x[1].length <= maxRaw);
        }),
        seed(1, 1000),
      );
    });

    it('1 MB without a line end: cut at maxLine at once (nothing more kept), the next line is intact', () => {
      for (const size of [2000, 65536, 1 << 20]) {
        const got = [];
        const r = createLineReader(
          (l) => got.push(l),
          () => {},
          MAX_LINE,
        );
        const noise = 'N'.repeat(size);
        r.feed(noise.slice(0, MAX_LINE + 1));
        assert.deepEqual(got, ['N'.repeat(MAX_LINE)], 'emitted as soon as it passed the cap');
        for (let i = MAX_LINE + 1; i < noise.length; i += size) r.feed(noise.slice(i, i + size));
        r.feed('\r\n+CSQ: 20,99\r\nOK\r\n');
        assert.deepEqual(got, ['N'.repeat(MAX_LINE), '+CSQ: 20,99', 'OK']);
      }
    });

    it('readRaw with any n: no hang, the block is never longer than the cap, the callback runs once, lines resume', () => {
      // Run as ES5 in a vm with a time limit, so that a loop that never ends fails instead of
      // hanging the run. Regression: readRaw(2.5) looped for ever in feed() (a fraction of a byte
      // was never used up); no caller passes a fraction today, the type allows it.
      const src = readFileSync(new URL('../firmware/at/reader.ts', import.meta.url), 'utf8');
      const es5 = ts.transpileModule(src, { compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.CommonJS } });
      const ctx = vm.createContext({ exports: {} });
      vm.runInContext(es5.outputText, ctx);
      const run = (k, chunks) => {
        ctx.input = { k, chunks };
        return JSON.parse(
          vm.runInContext(
            `(function () {
            var got = [], raws = [];
            var r = exports.createLineReader(function (l) { got.push(l); }, function () {}, 64, 40);
            r.readRaw(input.k, function (d) { raws.push(d); });
            for (var i = 0; i < input.chunks.length; i++) r.feed(input.chunks[i]);
            return JSON.stringify({ got: got, raws: raws });
          })()`,
            ctx,
            { timeout: 2000 },
          ),
        );
      };
      assert.deepEqual(run(2.5, ['ab', 'cdef\r\nOK\r\n']), { got: ['cdef', 'OK'], raws: ['ab'] }, 'regression example');
      const n = fc.oneof(
        fc.integer({ min: -5, max: 80 }),
        fc.integer({ min: -1e12, max: 1e12 }),
        fc.double(),
        fc.constantFrom(NaN, Infinity, -Infinity, 0.5, 2.5, 40.000001, 41),
      );
      fc.assert(
        fc.property(n, bytes(120), cuts, (k, data, cs) => {
          // enough filler for any block the reader may take, then a line
          const { got, raws } = run(k, chunk(data + 'z'.repeat(40) + '\r\nOK\r\n', cs));
          assert.equal(raws.length, 1, 'a block of at most 40 bytes is complete, anything else is refused');
          assert.equal(raws[0].length, Math.floor(k) > 0 && Math.floor(k) <= 40 ? Math.floor(k) : 0);
          assert.equal(got.at(-1), 'OK');
        }),
        seed(2),
      );
    });

    it('wantPrompt: after any garbage, a "\\r\\n>" at the end of a chunk is one prompt', () => {
      fc.assert(
        fc.property(
          fc.array(
            readerSegment.filter((s) => !s.includes('RAW')),
            { maxLength: 6 },
          ),
          cuts,
          fc.constantFrom('>', '> '),
          (segs, cs, p) => {
            let prompts = 0;
            const r = createLineReader(
              () => {},
              () => prompts++,
              32,
            );
            r.wantPrompt = true;
            for (const c of chunk(segs.join(''), cs)) r.feed(c);
            prompts = 0;
            r.feed('\r\n' + p);
            assert.equal(prompts, 1);
          },
        ),
        seed(3),
      );
    });
  });

  // ================================================================ AT engine
  // A scripted session: commands of every shape the drivers use are sent, random bytes arrive,
  // time passes. Afterwards every command must have had its callback exactly once, the command
  // lines must have gone out in order, one at a time, with each '>' answered at most once by that
  // command's own data, and a fresh AT answered OK must complete.

  const finLink = (ok, bad) => (line) => {
    const ev = linkEvent(line);
    return ev === ok ? 1 : ev === bad ? -1 : 0;
  };
  const CMD_SHAPES = [
    { at: 'AT' },
    { at: 'AT+CSQ' },
    { at: 'AT+CPIN?', quiet: true },
    { at: 'AT+CMQTTCONNECT=0,"tcp://h:8883",60,1,"user","pw-secret"', hide: true, done: '+CMQTTCONNECT: 0,' },
    { at: 'AT+CMQTTDISC=0,60', done: '+CMQTTDISC: 0,' },
    { at: 'AT+CMQTTSTART', done: '+CMQTTSTART: ', quiet: true },
    { at: 'AT+CMQTTTOPIC=0,5', data: true },
    { at: 'AT+CIPSTART=0,"TCP","h",1', holdOk: true, fin: finLink('CONNECT OK', 'CONNECT FAIL') },
    { at: 'AT+CIPSEND=0,3', data: true, fin: finLink('SEND OK', 'SEND FAIL') },
    {
      at: 'AT+CIPRXGET=2,0,1460',
      raw: (line) => {
        const f = line.split(',');
        return f.length >= 4 ? parseInt(f[2], 10) : 0;
      },
    },
  ];
  const AT_TOKENS = [
    '\r',
    '\n',
    '\r\n',
    '\r\n',
    '\r\n',
    'OK',
    'OK',
    'ERROR',
    '+CME ERROR: 13',
    '+CME ERROR: SIM busy',
    '+CMS ERROR: 500',
    '>',
    '> ',
    '+CSQ: 23,99',
    '+CPIN: READY',
    '+CMQTTCONNECT: 0,0',
    '+CMQTTCONNECT: 0,30',
    '+CMQTTCONNECT: 0,',
    '+CMQTTDISC: 0,0',
    '+CMQTTSTART: 0',
    '+CMQTTTOPIC: 0,11',
    '0, CONNECT OK',
    '0, CONNECT FAIL',
    '0, SEND OK',
    '0,SEND FAIL',
    '0, CLOSED',
    '+CIPRXGET: 2,0,4,0',
    '+CIPRXGET: 2,0,99999999,0',
    '+CIPRXGET: 2,0,-3,0',
    '+CIPRXGET: 1,0',
    '+CMQTTRXPAYLOAD: 0,4',
    '+CMQTTRXPAYLOAD: 0,4294967296',
    '+CMQTTRXPAYLOAD: 0,',
    'PB DONE',
    'AT',
    'AT+CSQ',
    ' ',
    ',',
    ':',
    '0',
    '7',
    'é',
    '\x00',
    '\xff',
  ];
  const atChunk = fc.oneof(
    { weight: 4, arbitrary: fc.array(fc.constantFrom(...AT_TOKENS), { maxLength: 12 }).map((a) => a.join('')) },
    { weight: 2, arbitrary: bytes(40) },
    { weight: 1, arbitrary: fc.constantFrom('x'.repeat(3000), '\r\n' + 'y'.repeat(MAX_LINE + 1) + '\r\n') },
  );
  const atAction = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        k: fc.constant('send'),
        shape: fc.nat(CMD_SHAPES.length - 1),
        ms: fc.option(fc.integer({ min: 1, max: 5000 })),
        doneMs: fc.option(fc.integer({ min: 1, max: 20000 })),
      }),
    },
    { weight: 3, arbitrary: fc.record({ k: fc.constant('feed'), data: atChunk }) },
    { weight: 3, arbitrary: fc.record({ k: fc.constant('tick'), ms: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 70000 })) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('expire'), shape: fc.nat(CMD_SHAPES.length - 1) }) },
  );
  // What the modem answers to each thing written (a command or its data), in turn: right or wrong
  // for that command, garbage, or nothing; soon, or late (after the command gave up).
  const ANSWERS = [
    '\r\nOK\r\n',
    'AT\r\r\nOK\r\n',
    '\r\n+CSQ: 23,99\r\n\r\nOK\r\n',
    '\r\n+CPIN: READY\r\n\r\nOK\r\n',
    '\r\n>',
    '\r\n> ',
    '\r\nOK\r\n\r\n+CMQTTCONNECT: 0,0\r\n',
    '\r\nOK\r\n\r\n+CMQTTCONNECT: 0,30\r\n',
    '\r\n+CMQTTCONNECT: 0,3\r\n\r\nERROR\r\n',
    '\r\n+CMQTTDISC: 0,0\r\n\r\nOK\r\n',
    '\r\nOK\r\n\r\n+CMQTTSTART: 0\r\n',
    '\r\nOK\r\n\r\n0, CONNECT OK\r\n',
    '\r\n0, CONNECT FAIL\r\n',
    '\r\n0, SEND OK\r\n',
    '\r\nDATA ACCEPT:0,3\r\n',
    '\r\n+CIPRXGET: 2,0,4,0\r\na\r\nb\r\nOK\r\n',
    '\r\n+CIPRXGET: 2,0,0,0\r\n\r\nOK\r\n',
    '\r\nERROR\r\n',
    '\r\n+CME ERROR: 10\r\n',
    '\r\n+CME ERROR: SIM busy\r\n',
    '\r\nPB DONE\r\n',
    '\r\n+CMQTTRXPAYLOAD: 0,4\r\nOK\r\n\r\n',
  ];
  const atAnswer = fc.tuple(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...ANSWERS) },
      { weight: 2, arbitrary: fc.constantFrom('\r\n>', '\r\n> ') },
      { weight: 1, arbitrary: atChunk },
      { weight: 2, arbitrary: fc.constant('') },
    ),
    fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 50 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 6000 }) }),
  );

  /** The engine with URC handlers as the drivers register them; records everything it does. */
  function engineRig(clock) {
    const rig = { writes: [], logs: [], urcLines: [], raws: [], sent: [], reply: null };
    const at = createAt(
      (d) => {
        rig.writes.push(d);
        const [answer, ms] = (rig.reply && rig.reply(d)) || [];
        if (answer) clock.setTimeout(() => at.feed(answer), ms); // the modem answers a moment later
      },
      (m) => rig.logs.push(m),
    );
    rig.at = at;
    const rawAfterComma = (l) => parseInt(l.substr(l.indexOf(',') + 1), 10);
    at.on('+CMQTTRXPAYLOAD:', (l) => {
      rig.urcLines.push(l);
      at.readRaw(rawAfterComma(l), (d) => rig.raws.push(d));
    });
    for (const p of ['PB DONE', '+CIPRXGET: 1,0', '0,', '+CPIN: READY']) at.on(p, (l) => rig.urcLines.push(l));
    rig.send = (shape, extra) => {
      const i = rig.sent.length;
      const c = { ...shape, ...extra };
      if (shape.data) c.data = '<data ' + i + '>';
      const rec = { at: c.at, data: c.data, calls: [] };
      rig.sent.push(rec);
      at.send({ ...c, cb: (err, lines) => rec.calls.push({ err, lines }) });
      return rec;
    };
    return rig;
  }

  /** the checks after any session: exactly-once callbacks, order, prompts, bounds, secrets */
  function checkSession(rig) {
    for (const [i, s] of rig.sent.entries()) assert.equal(s.calls.length, 1, `callback of command ${i} (${s.at}) called ${s.calls.length} times`);
    const cmdWrites = [];
    for (const [w, d] of rig.writes.entries()) {
      if (d.startsWith('<data ')) {
        const i = Number(d.slice(6, -1));
        assert.equal(cmdWrites.at(-1), i, `data of command ${i} written while command ${cmdWrites.at(-1)} was in flight`);
        assert.ok(!rig.writes.slice(w + 1).includes(d), `data of command ${i} written twice`);
      } else cmdWrites.push(cmdWrites.length);
    }
    assert.deepEqual(
      rig.writes.filter((d) => !d.startsWith('<data ')),
      rig.sent.map((s) => s.at + '\r'),
      'every command written once, in order',
    );
    for (const s of rig.sent) {
      const { err, lines } = s.calls[0];
      for (const l of lines) assert.ok(typeof l === 'string' && l.length <= MAX_RAW);
      if (err) {
        assert.equal(err.cmd, cmdName(s.at));
        assert.equal(typeof errorText(err), 'string');
        assert.equal(typeof err.code, 'number');
      }
    }
    for (const l of rig.urcLines) assert.ok(l.length <= MAX_LINE);
    for (const d of rig.raws) assert.ok(d.length <= MAX_RAW);
    assert.ok(!rig.logs.join('\n').includes('pw-secret'), 'a hidden command reaches the log by name only');
  }

  /** after any session: let the line end, time pass, then a fresh AT answered OK must complete */
  function checkFreshAt(rig, clock) {
    rig.at.feed('\r\n');
    clock.advance(60000);
    rig.reply = (d) => (d === 'AT\r' ? ['\r\nOK\r\n', 5] : null);
    const fresh = rig.send({ at: 'AT' });
    clock.advance(2000);
    assert.equal(fresh.calls.length, 1, 'the fresh AT completed');
    assert.equal(fresh.calls[0].err, null, 'the fresh AT got its OK');
    assert.equal(clock.pending(), 0, 'no timer left behind');
  }

  describe('AT engine', () => {
    it('random bytes with commands in flight: one callback each, in order, no hang, a fresh AT still works', () => {
      fc.assert(
        fc.property(fc.array(atAction, { maxLength: 60, size: 'medium' }), fc.array(atAnswer, { minLength: 1, maxLength: 20 }), (actions, answers) =>
          withClock((clock) => {
            const rig = engineRig(clock);
            let k = 0;
            rig.reply = () => answers[k++ % answers.length];
            for (const a of actions) {
              if (a.k === 'send') {
                const extra = {};
                if (a.ms !== null) extra.ms = a.ms;
                if (a.doneMs !== null) extra.doneMs = a.doneMs;
                rig.send(CMD_SHAPES[a.shape], extra);
              } else if (a.k === 'feed') rig.at.feed(a.data);
              else if (a.k === 'tick') clock.advance(a.ms);
              else rig.at.expire(CMD_SHAPES[a.shape].at);
            }
            // beyond every timeout: the longest command is 5 s + 30 s, then 1 s of settling
            clock.advance(rig.sent.length * 40000 + 60000);
            rig.reply = null;
            checkSession(rig);
            checkFreshAt(rig, clock);
            checkSession(rig);
          }),
        ),
        seed(4, 1500),
      );
    });

    it('a late answer to a command that timed out is never taken by the next one', () => {
      // the late answer comes within 100 ms (SETTLE_MS) of the timeout or of its own last byte, in
      // pieces; the next command goes out after it and gets its own answer
      fc.assert(
        fc.property(
          fc.array(
            fc.tuple(fc.constantFrom('\r\nOK\r\n', '\r\nERROR\r\n', '\r\n+CME ERROR: 14\r\n', '\r\n+CPIN: READY\r\n'), fc.integer({ min: 0, max: 98 })),
            { minLength: 1, maxLength: 8 }, // all within SETTLE_MAX_MS
          ),
          fc.integer({ min: 0, max: 3000 }),
          (late, sendAt) =>
            withClock((clock) => {
              const rig = engineRig(clock);
              const first = rig.send({ at: 'AT+CPIN?', ms: 1000 });
              clock.advance(1000);
              assert.equal(first.calls[0].err.kind, 'timeout');
              rig.reply = (d) => (d === 'AT+CSQ\r' ? ['\r\n+CSQ: 17,99\r\n\r\nOK\r\n', 5] : null);
              let second = null;
              clock.setTimeout(() => (second = rig.send({ at: 'AT+CSQ' })), sendAt);
              for (const [text, gap] of late) {
                clock.advance(gap);
                rig.at.feed(text);
              }
              clock.advance(5000);
              assert.deepEqual(second.calls, [{ err: null, lines: ['+CSQ: 17,99'] }]);
            }),
        ),
        seed(22),
      );
    });

    it('1 MB of line noise while a command waits: its answer is still read, every line under the cap', () => {
      withClock((clock) => {
        const rig = engineRig(clock);
        const c = rig.send({ at: 'AT+CSQ' });
        const noise = 'n'.repeat(1 << 20);
        for (let i = 0; i < noise.length; i += 4096) rig.at.feed(noise.slice(i, i + 4096));
        rig.at.feed('\r\n+CSQ: 20,99\r\nOK\r\n');
        assert.deepEqual(c.calls, [{ err: null, lines: ['n'.repeat(MAX_LINE), '+CSQ: 20,99'] }]);
        checkFreshAt(rig, clock);
      });
    });

    it('a raw block announced with a garbage length, or cut short, does not deafen the engine', () => {
      // regression examples: before, '+CMQTTRXPAYLOAD: 0,99999999' made every later byte (OK
      // included) raw payload, kept in memory, for ever; a block cut short ate the next answers
      const cases = [
        '\r\n+CMQTTRXPAYLOAD: 0,99999999\r\n',
        '\r\n+CMQTTRXPAYLOAD: 0,4294967296\r\nabc',
        '\r\n+CMQTTRXPAYLOAD: 0,60\r\nonly a few bytes arrived',
        '\r\n+CIPRXGET: 2,0,1460,0\r\n12345',
      ];
      for (const input of cases) {
        withClock((clock) => {
          const rig = engineRig(clock);
          if (input.includes('CIPRXGET')) rig.send(CMD_SHAPES[9]);
          rig.at.feed(input);
          clock.advance(60000);
          checkFreshAt(rig, clock);
          checkSession(rig);
        });
      }
      // a garbage length is refused at once: what follows it is read as lines, not taken as data
      withClock((clock) => {
        const rig = engineRig(clock);
        const c = rig.send({ at: 'AT+CSQ' });
        rig.at.feed('\r\n+CMQTTRXPAYLOAD: 0,99999999\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n');
        assert.deepEqual(c.calls, [{ err: null, lines: ['+CSQ: 20,99'] }]);
        assert.deepEqual(rig.raws, ['']);
      });
    });
  });

  // ================================================================ A76xx incoming messages
  // +CMQTTRXSTART, topic and payload in length-prefixed raw parts, +CMQTTRXEND (as the simulator and
  // the A76-MQTT-AN send them), mixed with garbage, corrupted headers and other URCs, while a
  // command waits for its answer. Every well-formed message that comes after the line has gone
  // quiet must arrive whole.

  function rxStream(topic, payload, tCuts, pCuts) {
    let t = `\r\n+CMQTTRXSTART: 0,${topic.length},${payload.length}\r\n`;
    for (const part of chunk(topic, tCuts)) if (part) t += `+CMQTTRXTOPIC: 0,${part.length}\r\n${part}\r\n`;
    if (payload) for (const part of chunk(payload, pCuts)) if (part) t += `+CMQTTRXPAYLOAD: 0,${part.length}\r\n${part}\r\n`;
    return t + '+CMQTTRXEND: 0\r\n';
  }
  const RX_GARBAGE = [
    '+CMQTTRXSTART: 0,3,3',
    '+CMQTTRXTOPIC: 0,3',
    '+CMQTTRXTOPIC: 0',
    '+CMQTTRXTOPIC: 0,-5',
    '+CMQTTRXTOPIC: 0,abc',
    '+CMQTTRXPAYLOAD: 0,99999999',
    '+CMQTTRXPAYLOAD: 0,2',
    '+CMQTTRXPAYLOAD:',
    '+CMQTTRXEND: 0',
    '+CMQTTCONNLOST: 0,3',
    '+CMQTTNONET',
    'OK',
    'ERROR',
    '\r\n',
    '\r',
    '\n',
    'abc',
    '\x00\xff',
  ];
  const goodRx = fc
    .record({
      topic: bytes(40, 1),
      payload: bytes(120),
      tCuts: cuts,
      pCuts: cuts,
      cs: cuts,
      gaps: fc.array(fc.integer({ min: 0, max: 900 }), { minLength: 1, maxLength: 4 }),
    })
    .map((m) => ({ ...m, kind: 'good' }));
  const badRx = fc
    .tuple(
      fc.oneof(
        fc.array(fc.constantFrom(...RX_GARBAGE), { maxLength: 10 }).map((a) => a.join('')),
        bytes(60),
        goodRx.chain((m) => fc.nat().map((n) => rxStream(m.topic, m.payload, m.tCuts, m.pCuts).slice(0, n % 200))), // cut short
      ),
      cuts,
    )
    .map(([data, cs]) => ({ kind: 'bad', data, cs }));

  describe('A76xx CMQTTRX handling (mqttListen) through the engine', () => {
    it('random URC sequences: no throw, strings out, every well-formed message after a quiet line arrives whole', () => {
      fc.assert(
        fc.property(fc.array(fc.oneof(goodRx, badRx), { maxLength: 10 }), fc.boolean(), (items, busy) =>
          withClock((clock) => {
            const rig = engineRig(clock);
            const got = [];
            const lost = [];
            mqttListen(
              rig.at,
              (t, p) => got.push([t, p]),
              (why) => lost.push(why),
            );
            if (busy) rig.send({ at: 'AT+CMQTTPUB=0,1,60', done: '+CMQTTPUB: 0,', doneMs: 65000 });
            for (const it of items) {
              if (it.kind === 'bad') {
                for (const c of chunk(it.data, it.cs)) rig.at.feed(c);
                rig.at.feed('\r\n');
                clock.advance(5000); // the line goes quiet
                continue;
              }
              const before = got.length;
              // UART chunks up to 0.9 s apart: a block whose bytes keep coming is never given up
              for (const [i, c] of chunk(rxStream(it.topic, it.payload, it.tCuts, it.pCuts), it.cs).entries()) {
                rig.at.feed(c);
                clock.advance(it.gaps[i % it.gaps.length]);
              }
              assert.equal(got.length, before + 1, 'one message');
              assert.deepEqual(got.at(-1), [it.topic, it.payload]);
            }
            for (const [t, p] of got) assert.ok(typeof t === 'string' && typeof p === 'string');
            for (const w of lost) assert.equal(typeof w, 'string');
            clock.advance(100000);
            checkSession(rig);
            checkFreshAt(rig, clock);
          }),
        ),
        seed(5, 500),
      );
    });

    it('a delivered message is never larger than the modem allows (payload 10240, topic 1024)', () => {
      withClock((clock) => {
        const rig = engineRig(clock);
        const got = [];
        mqttListen(
          rig.at,
          (t, p) => got.push([t, p]),
          () => {},
        );
        const part = `+CMQTTRXPAYLOAD: 0,${MAX_RAW}\r\n${'p'.repeat(MAX_RAW)}\r\n`;
        rig.at.feed(`\r\n+CMQTTRXSTART: 0,1,${MAX_RAW}\r\n+CMQTTRXTOPIC: 0,1\r\nt\r\n` + part + part + part + '+CMQTTRXEND: 0\r\n');
        assert.ok(
          got.every(([, p]) => p.length <= MAX_RAW),
          `payload of ${got.map(([, p]) => p.length)} bytes delivered`,
        );
      });
    });
  });

  // ================================================================ line parsers
  describe('line parsers: any string, no throw, the documented result type', () => {
    it('regStat: an integer or NaN; the stat of both CREG/CEREG forms', () => {
      fc.assert(
        fc.property(fc.oneof(anyString, after('+CEREG: ', '+CREG: ', '+CEREG: 1,', '+CREG: 0,"')), (s) => {
          const r = regStat(s);
          assert.ok(Number.isNaN(r) || Number.isInteger(r), String(r));
        }),
        seed(6),
      );
      fc.assert(
        fc.property(fc.constantFrom('+CEREG: ', '+CREG: '), fc.nat(2), fc.nat(11), fc.boolean(), (p, n, stat, more) => {
          assert.equal(regStat(p + n + ',' + stat + (more ? ',"1A2B","01A2B3C4",7' : '')), stat, 'read form');
          assert.equal(regStat(p + stat + (more ? ',"1A2B","01A2B3C4",7' : '')), stat, 'URC form');
        }),
        seed(7),
      );
    });

    const int = (min, max) => fc.integer({ min, max });
    const cclk = fc.record({ y: int(0, 99), mo: int(1, 12), d: int(1, 28), h: int(0, 23), mi: int(0, 59), s: int(0, 59), z: int(-48, 56) });
    const two = (n) => String(n).padStart(2, '0');
    const cclkLine = (c) => `+CCLK: "${two(c.y)}/${two(c.mo)}/${two(c.d)},${two(c.h)}:${two(c.mi)}:${two(c.s)}${c.z < 0 ? '-' : '+'}${two(Math.abs(c.z))}"`;

    it('parseCclk: a number for any string; UTC seconds for a valid time from 2025, else 0', () => {
      fc.assert(
        fc.property(fc.oneof(anyString, after('+CCLK: "', '+CCLK: "25/', '+CCLK: "30/01/01,')), (s) => {
          assert.equal(typeof parseCclk(s), 'number');
        }),
        seed(8),
      );
      fc.assert(
        fc.property(cclk, (c) => {
          const want = c.y < 25 ? 0 : Date.UTC(2000 + c.y, c.mo - 1, c.d, c.h, c.mi, c.s) / 1000 - c.z * 900;
          assert.equal(parseCclk(cclkLine(c)), want);
        }),
        seed(9),
      );
    });

    it('parseCclk: 0, never NaN, for a garbled time', () => {
      fc.assert(
        fc.property(fc.oneof(anyString, after('+CCLK: "25/', '+CCLK: "30/01/01,')), (s) => {
          assert.ok(!Number.isNaN(parseCclk(s)), JSON.stringify(s));
        }),
        seed(10),
      );
    });

    it('csqToDbm: null or an odd dBm in -113..-51; -113 + 2·rssi for rssi 0..31, null for 99', () => {
      fc.assert(
        fc.property(fc.oneof(anyString, after('+CSQ: ', '+CSQ: 3', '+CSQ: -')), (s) => {
          const r = csqToDbm(s);
          assert.ok(r === null || (Number.isInteger(r) && r >= -113 && r <= -51 && r % 2 !== 0), String(r));
        }),
        seed(11),
      );
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), (rssi, ber) => {
          assert.equal(csqToDbm(`+CSQ: ${rssi},${ber}`), rssi <= 31 ? -113 + 2 * rssi : null);
        }),
        seed(12),
      );
    });

    it('linkEvent: a string; the trimmed event for link 0, "" for anything else', () => {
      fc.assert(
        fc.property(fc.oneof(anyString, after('0,', '0, ', '1,')), (s) => {
          const r = linkEvent(s);
          assert.equal(r, s.startsWith('0,') ? s.slice(2).trim() : '');
        }),
        seed(13),
      );
    });

    it('lastNumber: an integer or NaN; the number after the last comma or colon', () => {
      fc.assert(
        fc.property(fc.oneof(anyString, after('+CMQTTPUB: 0,', '+CMQTTSTART: ', ',', ':')), (s) => {
          const r = lastNumber(s);
          assert.ok(Number.isNaN(r) || Number.isInteger(r), String(r));
        }),
        seed(14),
      );
      fc.assert(
        fc.property(fc.constantFrom('+CMQTTPUB: 0,', '+CMQTTCONNECT: 1,', '+CMQTTSTART: ', '+X: 1,2,'), fc.integer({ min: -1000, max: 100000 }), (p, n) => {
          assert.equal(lastNumber(p + n), n);
        }),
        seed(15),
      );
    });

    it('cmdName: a prefix of the command without its arguments', () => {
      fc.assert(
        fc.property(fc.oneof(anyString, after('AT+CMQTTCONNECT=', 'AT+CEREG?', 'AT', '=', '?')), (s) => {
          const r = cmdName(s);
          assert.ok(s.startsWith(r));
          assert.ok(!/[=?]/.test(r.slice(1)), r);
        }),
        seed(16),
      );
      fc.assert(
        fc.property(fc.stringMatching(/^AT\+[A-Z]{1,12}$/), fc.constantFrom('=', '?', '=?'), anyString, (name, sep, args) => {
          assert.equal(cmdName(name + sep + args), name);
        }),
        seed(17),
      );
    });

    it('errors: atError and errorText for any kind, code and text', () => {
      const code = fc.oneof(fc.integer({ min: -5, max: 200 }), fc.integer(), fc.double(), fc.constantFrom(NaN, Infinity, -0));
      const kind = fc.oneof(fc.constantFrom('mqtt', 'cme', 'timeout', 'error'), anyString);
      fc.assert(
        fc.property(anyString, kind, code, fc.option(anyString, { nil: undefined }), (cmd, k, c, text) => {
          const e = atError(cmd, k, c, text);
          assert.deepEqual(Object.keys(e), ['cmd', 'kind', 'code', 'msg', 'hint']);
          assert.ok(e.cmd === cmd && e.kind === k && Object.is(e.code, c));
          assert.ok(typeof e.msg === 'string' && e.msg.length > 0 && typeof e.hint === 'string', JSON.stringify(e));
          const t = errorText(e);
          assert.ok(t.startsWith(cmd + ': ') && t.includes(e.msg) && t.includes(e.hint));
          assert.ok(!t.includes('undefined') || cmd.includes('undefined') || (text || '').includes('undefined'), t);
        }),
        seed(18),
      );
      assert.match(errorText(atError('AT+CMQTTCONNECT', 'mqtt', 30)), /bad user name or password\): check broker/);
      assert.equal(atError('AT+CPIN', 'cme', 10).msg, 'SIM not inserted');
      assert.equal(atError('AT+X', 'mqtt', 36).msg, 'unknown MQTT error');
    });
  });

  // ================================================================ MQTT packet parser
  // Adversarial bytes, not just valid packets (mqtt-codec.test.mjs compares valid ones with
  // mqtt-packet): never throws, never holds more than one packet's worth, what it reports is
  // well-typed, chunking does not change it (up to a malformed length, after which the stream is
  // lost by design), and a declared length over the limit is refused at once, not buffered.

  const SERVER_TYPES = [2, 3, 4, 5, 6, 7, 9, 11, 13];
  function parseAll(chunks, cap) {
    const out = [];
    const p = createParser((err, x) => out.push(err === null ? x : { err }), cap);
    for (const c of chunks) {
      p.feed(c);
      assert.ok(p.buffered() <= cap + 5, `buffered ${p.buffered()} > ${cap} + 5`);
    }
    return out;
  }
  const upToMalformed = (out) => {
    const i = out.findIndex((x) => x.err === 'malformed remaining length');
    return i < 0 ? out : out.slice(0, i + 1);
  };
  const packetish = fc.oneof(
    bytes(30),
    // a header with any first byte and a length of 1 to 5 bytes, then some body
    fc.tuple(byte, fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 5 }), bytes(40)).map(([h, l, b]) => h + String.fromCharCode(...l) + b),
    fc
      .tuple(fc.constantFrom(...SERVER_TYPES.map((t) => t << 4), 0x32, 0x62), fc.nat(80), bytes(80))
      .map(([h, n, b]) => String.fromCharCode(h) + encodeLength(n) + b.slice(0, n)),
    fc.constantFrom('\xd0\x00', '\x20\x02\x00\x00', '\x40\x02\x00\x01', '\x30\xff\xff\xff\x7f'),
  );

  describe('MQTT packet parser on adversarial bytes', () => {
    it('any bytes in any chunking: no throw, bounded, well-typed, the same up to a malformed length', () => {
      fc.assert(
        fc.property(fc.array(packetish, { maxLength: 12 }), cuts, fc.constantFrom(16, 64, 4096), (parts, cs, cap) => {
          const s = parts.join('');
          const whole = parseAll([s], cap);
          for (const x of whole) {
            if ('err' in x) assert.ok(typeof x.err === 'string' && x.err.length > 0);
            else {
              assert.ok(SERVER_TYPES.includes(x.type), 'type ' + x.type);
              if (x.type === 3) assert.ok(typeof x.topic === 'string' && typeof x.payload === 'string' && [0, 1, 2].includes(x.qos));
              if ('id' in x) assert.ok(Number.isInteger(x.id) && x.id >= 0 && x.id <= 65535);
            }
          }
          assert.deepEqual(upToMalformed(parseAll(chunk(s, cs), cap)), upToMalformed(whole));
        }),
        seed(19),
      );
    });

    it("a callback that throws: the exception reaches feed's caller and the parser goes on where it was", () => {
      fc.assert(
        fc.property(fc.array(packetish, { maxLength: 10 }), cuts, fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), (parts, cs, throws) => {
          const s = parts.join('');
          const want = upToMalformed(parseAll([s], 64));
          const out = [];
          let calls = 0;
          const p = createParser((err, x) => {
            out.push(err === null ? x : { err });
            if (throws[calls++ % throws.length]) throw new Error('from the callback');
          }, 64);
          const feedCatching = (c) => {
            try {
              p.feed(c);
              return false;
            } catch (e) {
              assert.equal(e.message, 'from the callback');
              return true;
            }
          };
          for (let c of chunk(s, cs)) while (feedCatching(c)) c = ''; // what was left is parsed on the next feed
          assert.deepEqual(upToMalformed(out), want);
          assert.ok(p.buffered() <= 64 + 5);
        }),
        seed(23),
      );
    });

    it('not bytes at all (chars over 255): no throw, bounded', () => {
      fc.assert(
        fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 50 }), { maxLength: 10 }), (chunks) => {
          parseAll(chunks, 64);
        }),
        seed(20),
      );
    });

    it('a declared length over the limit is refused at once and its bytes skipped, not buffered', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 4096 }),
          fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 268435455 })),
          byte,
          cuts,
          (cap, over, h, cs) => {
            const len = Math.min(cap + over, 268435455);
            const out = [];
            const p = createParser((err, x) => out.push(err === null ? x : { err }), cap);
            p.feed(h + encodeLength(len));
            assert.deepEqual(out, [{ err: `packet of ${len} bytes is over the limit of ${cap}` }], 'refused on its header');
            assert.equal(p.buffered(), 0);
            const body = 'b'.repeat(Math.min(len, 6000));
            for (const c of chunk(body, cs)) {
              p.feed(c);
              assert.equal(p.buffered(), 0, 'nothing of it kept');
            }
            if (len <= body.length) {
              p.feed('\xd0\x00');
              assert.deepEqual(out.at(-1), { type: 13 }, 'the next packet decodes');
            }
            assert.equal(out.length, len <= body.length ? 2 : 1);
          },
        ),
        seed(21),
      );
    });

    it('a remaining length of 5 bytes is reported as malformed and the stream dropped, after good packets', () => {
      const good = fc.constantFrom('\xd0\x00', '\x40\x02\x00\x01', '\x20\x02\x00\x00', encodePublish('t', 'p\r\n', 1, 7));
      fc.assert(
        fc.property(
          fc.array(good, { maxLength: 5 }),
          byte,
          fc.array(fc.integer({ min: 128, max: 255 }), { minLength: 4, maxLength: 4 }),
          bytes(20),
          cuts,
          (before, h, cont, tail, cs) => {
            const out = parseAll(chunk(before.join('') + h + String.fromCharCode(...cont) + tail, cs), 4096);
            const i = out.findIndex((x) => x.err);
            assert.equal(i, before.length, 'the good packets decode');
            assert.deepEqual(out[i], { err: 'malformed remaining length' });
          },
        ),
        seed(24),
      );
    });

    it('a PUBLISH just under and just over the limit', () => {
      const cap = 100;
      const under = encodePublish('t', 'x'.repeat(cap - 3), 0, 0);
      const over = encodePublish('t', 'x'.repeat(cap - 2), 0, 0);
      assert.deepEqual(parseAll([under, over, '\xd0\x00'], cap), [
        { type: 3, topic: 't', payload: 'x'.repeat(cap - 3), qos: 0, retain: false, dup: false },
        { err: `packet of ${cap + 1} bytes is over the limit of ${cap}` },
        { type: 13 },
      ]);
    });
  });
});
