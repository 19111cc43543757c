// Tests of the Espruino host runtime (host/runtime/): each global behaves as the Espruino source says.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import fc from 'fast-check';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';

describe('runtime.test.mjs', () => {
  function boot(code, opts = {}) {
    const clock = createClock({ mode: 'virtual' });
    const device = createEspruino({ clock, ...opts });
    if (code !== undefined) device.load(code, 'test.js');
    return { clock, device };
  }
  // firmware source from a function body, so tests read like firmware
  const src = (fn) => `(${fn.toString()})();`;

  // ------------------------------------------------------------------ language / built-ins
  it('built-ins Espruino lacks are undefined in the context', () => {
    const { device } = boot('');
    const missing = device.eval(`[
    typeof Map, typeof Set, typeof WeakMap, typeof Symbol, typeof Reflect, typeof Proxy, typeof BigInt,
    typeof RangeError, typeof Array.from, typeof Array.of, typeof Number.isFinite, typeof Number.isInteger,
    typeof Number.isNaN, typeof Promise.prototype.finally, typeof Promise.race, typeof Promise.allSettled,
    typeof Object.freeze, typeof Object.is, typeof String.prototype.trimStart, typeof String.prototype.codePointAt,
    typeof String.prototype.localeCompare, typeof Math.trunc, typeof Math.log2, typeof Date.UTC,
    typeof [].lastIndexOf, typeof queueMicrotask
  ].join()`);
    assert.deepEqual(missing.split(','), new Array(26).fill('undefined'));
    const present = device.eval(`[typeof Promise.prototype.then, typeof Promise.all, typeof Object.assign,
    typeof [].includes, typeof "x".padStart, typeof JSON.stringify, typeof btoa, typeof E, typeof InternalError,
    typeof globalThis, typeof global].join()`);
    assert.deepEqual(present.split(','), [
      'function',
      'function',
      'function',
      'function',
      'function',
      'function',
      'function',
      'object',
      'function',
      'object',
      'object',
    ]);
  });

  it('Array.prototype.slice is undefined but [].slice.call and user additions work', () => {
    const { device } = boot('');
    assert.equal(device.eval('typeof Array.prototype.slice'), 'undefined');
    assert.equal(device.eval('typeof Array.prototype.map'), 'undefined');
    assert.equal(device.eval('(function(){ return [].slice.call(arguments, 1).join(); })(1,2,3)'), '2,3');
    assert.equal(device.eval('Array.prototype.last = function(){ return this[this.length-1]; }; [4,5].last()'), 5);
    assert.equal(device.eval('[] instanceof Array && Array.isArray([]) && new Array(3).length === 3'), true);
    assert.throws(() => device.eval('Array.prototype.slice.call([1,2])'), /TypeError/);
  });

  it('Object.create with properties and JSON replacer follow Espruino', () => {
    const { device } = boot('');
    assert.equal(device.eval('JSON.stringify({a:1,b:2}, ["a"])'), '{"a":1,"b":2}');
    device.eval('try { Object.create({}, {x:{value:1}}); } catch (e) { globalThis.msg = e.message; }');
    assert.equal(device.global.msg, 'propertiesObject is not supported yet');
    assert.equal(device.eval('"a,b,c".split(",", 1).length'), 3);
  });

  // ------------------------------------------------------------------ timers and the idle loop
  it('Promise callbacks run after an already queued setTimeout(..., 0)', async () => {
    const { clock, device } = boot(
      src(() => {
        globalThis.order = [];
        setTimeout(() => order.push('timeout'), 0);
        Promise.resolve(1)
          .then((v) => order.push('then' + v))
          .then(() => order.push('then2'));
        new Promise((resolve) => resolve('x')).then((v) => order.push(v));
        order.push('sync');
      }),
    );
    await clock.runFor(10);
    assert.deepEqual([...device.global.order], ['sync', 'timeout', 'then1', 'x', 'then2']);
  });

  it('Promise.all, rejection handling, and the late-catch quirk of jswrap_promise.c', async () => {
    const { clock, device } = boot(
      src(() => {
        globalThis.r = {};
        Promise.all([Promise.resolve(1), 2, new Promise((res) => setTimeout(() => res(3), 50))]).then((v) => {
          r.all = v.join();
        });
        Promise.reject(new Error('no')).catch((e) => {
          r.caught = e.message;
        });
        new Promise(() => {
          throw new Error('in executor');
        }).then(null, (e) => {
          r.exec = e.message;
        });
        const p = Promise.resolve(7);
        setTimeout(() => {
          // p is already fulfilled: then(undefined, fn) rejects the result with the value (isThen=false)
          p.catch(() => 0).then(
            (v) => {
              r.late = 'resolved ' + v;
            },
            (e) => {
              r.late = 'rejected ' + e;
            },
          );
        }, 10);
      }),
    );
    await clock.runFor(100);
    assert.equal(device.global.r.all, '1,2,3');
    assert.equal(device.global.r.caught, 'no');
    assert.equal(device.global.r.exec, 'in executor');
    assert.equal(device.global.r.late, 'rejected 7');
    assert.deepEqual(device.errors, []);
  });

  it('an unhandled rejection is reported as Espruino prints it', async () => {
    const { clock, device } = boot('Promise.reject(new Error("lost"));');
    await clock.runFor(5);
    assert.deepEqual(device.errors, ['Uncaught Error: Unhandled promise rejection: Error: lost']);
  });

  it('an exception in a callback is reported and later timers still run', async () => {
    const { clock, device } = boot(
      src(() => {
        globalThis.ticks = 0;
        setTimeout(() => {
          throw new Error('boom');
        }, 10);
        setInterval(() => {
          ticks++;
        }, 20);
      }),
    );
    await clock.runFor(100);
    assert.deepEqual(device.errors, ['Uncaught Error: boom']);
    assert.ok(device.log.includes('Uncaught Error: boom'));
    assert.equal(device.global.ticks, 5);
  });

  it("process.on('uncaughtException') takes the error instead of the console", async () => {
    const { clock, device } = boot(
      src(() => {
        process.on('uncaughtException', (e) => {
          globalThis.seen = e.message;
        });
        setTimeout(() => {
          throw new Error('handled');
        }, 1);
      }),
    );
    await clock.runFor(5);
    assert.equal(device.global.seen, 'handled');
    assert.deepEqual(device.errors, []);
  });

  it('timer ids, extra arguments, clearTimeout() and clearTimeout(undefined)', async () => {
    const { clock, device } = boot(
      src(() => {
        globalThis.r = { got: [] };
        r.a = setTimeout((x, y) => r.got.push(x + y), 5, 'a', 'b');
        r.b = setInterval(() => r.got.push('i'), 4);
        try {
          clearTimeout(undefined);
        } catch (e) {
          r.err = e.message;
        }
      }),
    );
    assert.equal(device.global.r.a, 1);
    assert.equal(device.global.r.b, 2);
    assert.equal(device.global.r.err, 'clearTimeout(undefined) not allowed. Use clearTimeout() instead');
    await clock.runFor(9);
    assert.deepEqual([...device.global.r.got], ['i', 'ab', 'i']);
    device.eval('clearTimeout()'); // no argument: every timer goes
    await clock.runFor(50);
    assert.equal(device.global.r.got.length, 3);
    // ids restart at 1 once the timer list is empty (jsvArrayAddToEnd)
    assert.equal(device.eval('setTimeout(function(){}, 1)'), 1);
    assert.equal(device.pendingTimers, 1);
  });

  it('virtual time: a 1-hour setInterval(1 s) finishes fast and getTime/Date follow the clock', async () => {
    const { clock, device } = boot(
      src(() => {
        globalThis.n = 0;
        setInterval(() => {
          n++;
          globalThis.t = getTime();
          globalThis.d = Date.now();
        }, 1000);
      }),
    );
    const t0 = performance.now();
    await clock.runFor(3600 * 1000);
    assert.ok(performance.now() - t0 < 5000, 'took too long in real time');
    assert.equal(device.global.n, 3600);
    assert.equal(device.global.t, 3600);
    assert.equal(device.global.d, 3600000);
    device.eval('setTime(1700000000)');
    assert.equal(device.eval('new Date().toISOString()'), '2023-11-14T22:13:20.000Z');
    await clock.runFor(1500);
    assert.equal(device.eval('Math.round(getTime()*1000)'), 1700000001500);
  });

  // ------------------------------------------------------------------ serial
  it('serial rx arrives paced by the baud rate in chunks of at most uartChunk bytes', async () => {
    const { clock, device } = boot(
      src(() => {
        globalThis.chunks = [];
        Serial2.setup(115200, { rx: D27, tx: D26 });
        Serial2.on('data', (d) => chunks.push([typeof d, d.length, getTime() * 1000]));
      }),
    );
    const s2 = device.serial('Serial2');
    assert.deepEqual({ baud: s2.setup.baud, rx: s2.setup.rx, tx: s2.setup.tx }, { baud: 115200, rx: 27, tx: 26 });
    const byteMs = 10000 / 115200;
    s2.rxWrite('x'.repeat(300));
    await clock.runFor(100);
    const c = [...device.global.chunks].map((x) => [...x]);
    assert.deepEqual(
      c.map((x) => x[0]),
      ['string', 'string', 'string'],
    );
    assert.deepEqual(
      c.map((x) => x[1]),
      [120, 120, 60],
    );
    assert.ok(Math.abs(c[0][2] - 120 * byteMs) < 1e-6);
    assert.ok(Math.abs(c[1][2] - 240 * byteMs) < 1e-6);
    assert.ok(Math.abs(c[2][2] - (300 + 10) * byteMs) < 1e-6); // line idle for 10 character times
    // two short bursts close together make one chunk, far apart two
    device.eval('chunks = []');
    s2.rxWrite('OK\r\n');
    await clock.runFor(0.2);
    s2.rxWrite('+X\r\n');
    await clock.runFor(20);
    s2.rxWrite('AB');
    await clock.runFor(20);
    assert.deepEqual(
      [...device.global.chunks].map((x) => x[1]),
      [8, 2],
    );
  });

  it('serial tx: write() takes numbers, strings and arrays; unset-up UART writes at 9600 and drops rx', async () => {
    const { clock, device } = boot(
      src(() => {
        globalThis.got = [];
        Serial3.on('data', (d) => got.push(d));
        Serial3.write('A', [66, 67], 10, { data: 'z', count: 2 });
      }),
    );
    const tx = [];
    device.serial('Serial3').onTx((s) => tx.push([s, clock.now()]));
    assert.equal(device.serial('Serial3').setup.baud, 9600);
    assert.equal(device.serial('Serial3').setup.implicit, true);
    await clock.runFor(20);
    assert.equal(tx[0][0], 'ABC\nzz');
    assert.ok(Math.abs(tx[0][1] - (6 * 10000) / 9600) < 1e-6);
    assert.throws(() => device.eval('Serial3.write(undefined)'), /Expecting Number or iterable, got undefined/);
    device.serial('Serial2').rxWrite('lost');
    device.eval('Serial2.on("data", function(d){ got.push(d); })');
    await clock.runFor(20);
    assert.deepEqual([...device.global.got], []);
  });

  // ------------------------------------------------------------------ pins
  it('digitalPulse produces the right level changes at the right virtual times', async () => {
    const { clock, device } = boot();
    const seen = [];
    device.pins.onChange(4, (level, t) => seen.push([level, t]));
    device.load(
      src(() => {
        digitalPulse(D4, 1, 100);
        // chained after the pending pulse: the first edge is *not* set (a timer task is pending), so the
        // edges at the running sums are !1, !0, !1 = 0 (no change) at 150, 1 at 170, 0 at 200
        digitalPulse(D4, 1, [50, 20, 30]);
      }),
    );
    await clock.runFor(500);
    assert.deepEqual(seen, [
      [1, 0],
      [0, 100],
      [1, 170],
      [0, 200],
    ]);
    assert.equal(device.pins.level(4), 0);
    assert.equal(device.eval('getPinMode(D4)'), 'output');
  });

  it('digitalWrite/digitalRead, pin arrays, auto pin modes, analogRead and invalid pins', () => {
    const { device } = boot('');
    device.eval('digitalWrite([D12, D13, D14], 5)');
    assert.deepEqual(
      [12, 13, 14].map((p) => device.pins.level(p)),
      [1, 0, 1],
    );
    assert.equal(device.eval('D12 + 0'), 12);
    assert.equal(device.eval('String(D12)'), 'D12');
    device.pins.drive(33, 1);
    assert.equal(device.eval('digitalRead(D33)'), 1);
    device.eval('digitalWrite(D25, 1)');
    assert.equal(device.eval('getPinMode(D25)'), 'output');
    // digitalRead made it a plain input (JSHPINSTATE_GPIO_IN, no pull): the 1 it drove is gone
    assert.equal(device.eval('digitalRead(D25)'), 0);
    assert.equal(device.eval('getPinMode(D25)'), 'input');
    device.pins.setAnalog(35, 0.5);
    assert.equal(device.eval('analogRead(D35)'), 0.5);
    device.pins.setAnalog(35, 1);
    assert.equal(device.eval('analogRead(D35)'), 4095 / 4096);
    assert.ok(Number.isNaN(device.eval('analogRead(D4)')));
    assert.throws(() => device.eval('digitalWrite(undefined, 1)'), /Invalid pin/);
    assert.throws(() => device.eval('pinMode(D4, "bogus")'), /Unknown pin mode/);
  });

  it('setWatch: edges, repeat and debounce on the virtual clock', async () => {
    const { clock, device } = boot(
      src(() => {
        globalThis.ev = [];
        setWatch((e) => ev.push(['r', e.state, Math.round(e.time * 1000)]), D33, { repeat: true, edge: 'rising', debounce: 10 });
        setWatch((e) => ev.push(['once', e.state]), D32, { edge: 'falling' });
      }),
    );
    const at = (ms, fn) => clock.setTimeout(fn, ms);
    at(5, () => device.pins.drive(33, 1));
    at(8, () => device.pins.drive(33, 0)); // bounce shorter than 10 ms: ignored
    at(9, () => device.pins.drive(33, 1));
    at(50, () => device.pins.drive(33, 0));
    at(70, () => device.pins.drive(33, 1));
    at(30, () => device.pins.drive(32, 1));
    at(31, () => device.pins.drive(32, 0));
    at(40, () => device.pins.drive(32, 1));
    at(41, () => device.pins.drive(32, 0));
    await clock.runFor(200);
    assert.deepEqual(
      [...device.global.ev].map((x) => [...x]),
      [
        ['r', true, 9],
        ['once', false],
        ['r', true, 70],
      ],
    );
  });

  // ------------------------------------------------------------------ I2C
  it('I2C: attached device answers, a missing one throws as the ESP32 driver does', () => {
    const { device } = boot('');
    const writes = [];
    let reg = 0;
    device.i2c.attach(0x76, {
      write(b) {
        writes.push([...b]);
        reg = b[0];
      },
      read(n) {
        return Array.from({ length: n }, (_, i) => reg + i);
      },
    });
    assert.throws(() => device.eval('I2C1.writeTo(0x76, 0xD0)'), /jshI2CWrite:, unknown error code 259/);
    device.eval('I2C1.setup({sda: D21, scl: D22})');
    assert.equal(device.eval('I2C1.readReg(0x76, 0xD0, 2).join()'), '208,209');
    assert.equal(device.eval('I2C1.readFrom(0x76, 3) instanceof Uint8Array'), true);
    device.eval('I2C1.writeTo({address: 0x76, stop: false}, [0xF4, 0x27])');
    assert.deepEqual(writes, [[0xd0], [0xf4, 0x27]]);
    device.eval('try { I2C1.writeTo(0x77, 1); } catch (e) { globalThis.err = e.message; }');
    assert.equal(device.global.err, "jshI2CWrite: slave doesn't ACK the transfer");
    assert.throws(() => device.eval('I2C1.readFrom(0x10, 1)'), /jshI2CRead: slave doesn't ACK the transfer/);
  });

  it('I2C: each transfer tells the device whether it ends with a STOP and whether it began with a repeated START after its own transfer', () => {
    const { device } = boot('');
    const seen = [];
    const dev = (name) => ({
      write: (b, o) => seen.push([name, 'w', [...b], o]),
      read: (n, o) => (seen.push([name, 'r', n, o]), Array(n).fill(0)),
    });
    device.i2c.attach(0x75, dev('A'));
    device.i2c.attach(0x76, dev('B'));
    device.eval('I2C1.setup({sda: D21, scl: D22})');
    device.eval('I2C1.writeTo(0x75, 0); I2C1.readFrom(0x75, 1)'); // STOP between: two plain transfers
    device.eval('I2C1.writeTo({address: 0x75, stop: false}, 0); I2C1.readFrom(0x75, 1)'); // repeated START
    device.eval('I2C1.readReg(0x75, 0x70, 1)'); // Espruino's readReg: the same as the line above
    device.eval('I2C1.writeTo({address: 0x75, stop: false}, 0); I2C1.readFrom(0x76, 1); I2C1.readFrom(0x75, 1)'); // another device between
    device.eval('I2C1.writeTo({address: 0x75, stop: undefined}, 0); I2C1.readFrom(0x75, 1)'); // a "stop" key that is falsy: no STOP (jsvGetBool)
    const S = { stop: true, restart: false };
    assert.deepEqual(seen, [
      ['A', 'w', [0], S],
      ['A', 'r', 1, S],
      ['A', 'w', [0], { stop: false, restart: false }],
      ['A', 'r', 1, { stop: true, restart: true }],
      ['A', 'w', [0x70], { stop: false, restart: false }],
      ['A', 'r', 1, { stop: true, restart: true }],
      ['A', 'w', [0], { stop: false, restart: false }],
      ['B', 'r', 1, S],
      ['A', 'r', 1, S],
      ['A', 'w', [0], { stop: false, restart: false }],
      ['A', 'r', 1, { stop: true, restart: true }],
    ]);
  });

  // ------------------------------------------------------------------ Storage
  it('Storage persists across reboot and truncates names to 28 characters', async () => {
    const code = src(() => {
      const s = require('Storage');
      const n = (s.readJSON('boots', 1) || 0) + 1;
      s.writeJSON('boots', n);
      globalThis.boots = n;
    });
    const { device } = boot(code);
    assert.equal(device.global.boots, 1);
    device.reboot();
    device.reboot();
    assert.equal(device.global.boots, 3);
    const long = 'a'.repeat(28);
    device.eval(`require('Storage').write('${long}XYZ', 'v1')`);
    assert.equal(device.eval(`require('Storage').read('${long}')`), 'v1');
    assert.equal(device.eval(`require('Storage').read('${long}QQ')`), 'v1');
    assert.ok(device.eval(`require('Storage').list().indexOf('${long}') >= 0`));
    assert.equal(device.storage.read('boots'), '3');
  });

  it('Storage: reserved files, flash rewrite rules, trash, compact, JSON formats', () => {
    const { device } = boot('');
    const S = (c) => device.eval(`(function(s){ return ${c}; })(require('Storage'))`);
    S(`s.write('a', 'Hello', 0, 14)`);
    assert.equal(S(`s.read('a')`), 'Hello' + '\xff'.repeat(9));
    S(`s.write('a', ' World', 5)`);
    assert.equal(S(`s.read('a', 0, 11)`), 'Hello World');
    assert.throws(() => S(`s.write('a', 'J', 0 + 1)`), /File already written with different data/);
    assert.throws(() => S(`s.write('a', 'too long for it', 5)`), /Too much data for file size/);
    const before = S('s.getStats()');
    S(`s.write('b', 'same')`);
    S(`s.write('b', 'same')`); // identical: nothing rewritten
    assert.equal(S('s.getStats().trashCount'), before.trashCount);
    S(`s.write('b', 'diff')`); // changed: old copy becomes trash
    assert.equal(S('s.getStats().trashCount'), before.trashCount + 1);
    assert.equal(S(`s.read('b')`), 'diff');
    S('s.compact()');
    assert.equal(S('s.getStats().trashCount'), 0);
    assert.equal(S(`s.read('b')`), 'diff');
    assert.equal(S('s.getFree()'), S('s.getStats().freeBytes'));
    S(`s.writeJSON('j', {a: 1, 'b-c': 'x', n: [1, 2]})`);
    assert.equal(S(`s.read('j')`), '{a:1,"b-c":"x",n:[1,2]}');
    assert.equal(S(`s.readJSON('j')['b-c']`), 'x');
    assert.throws(() => S(`JSON.parse(s.read('j'))`));
    assert.equal(S(`s.read('nope')`), undefined);
    S(`s.erase('b')`);
    assert.equal(S(`s.list(/^[ab]$/).join()`), 'a');
    assert.equal(S(`new Uint8Array(s.readArrayBuffer('a'))[0]`), 72);
    assert.throws(() => S(`s.write('z', '')`), /Can't create zero length file/);
  });

  it('StorageFile: append across chunks, read, readLine, getLength', () => {
    const { device } = boot('');
    device.eval(`var f = require('Storage').open('log', 'w');
    for (var i = 0; i < 600; i++) f.write('line ' + i + '\\n');`);
    const expected = Array.from({ length: 600 }, (_, i) => `line ${i}\n`).join('');
    assert.equal(device.eval(`require('Storage').open('log', 'r').getLength()`), expected.length);
    assert.ok(expected.length > 4064); // spans two chunks ("log\\1", "log\\2")
    assert.equal(device.eval(`require('Storage').list(undefined, {sf: true}).join()`), 'log');
    device.eval(`var g = require('Storage').open('log', 'a'); g.write('tail\\n');`);
    device.eval(`var r = require('Storage').open('log', 'r'); globalThis.l1 = r.readLine(); globalThis.l2 = r.readLine();
    var all = ''; var x; while ((x = r.read(100)) !== undefined) all += x; globalThis.rest = all;`);
    assert.equal(device.global.l1, 'line 0\n');
    assert.equal(device.global.l2, 'line 1\n');
    assert.equal(device.global.l1 + device.global.l2 + device.global.rest, expected + 'tail\n');
    assert.throws(() => device.eval(`require('Storage').open('log', 'x')`), /Invalid mode/);
  });

  it('a power cut during a Storage write leaves the old file readable after the reboot', () => {
    const { device } = boot('');
    device.eval(`require('Storage').write('cfg', 'old')`);
    device.storage.failAfterWrites(1); // the erase mark succeeds, the new header does not
    device.eval(`require('Storage').write('cfg', 'new!')`);
    assert.equal(device.state, 'off');
    device.reboot();
    // old copy already marked as erased, new one never written: the file is gone, flash is consistent
    assert.equal(device.eval(`require('Storage').read('cfg')`), undefined);
    device.eval(`require('Storage').write('cfg', 'again')`);
    assert.equal(device.eval(`require('Storage').read('cfg')`), 'again');
  });

  it('Storage data writes are split as jshFlashWriteAligned splits them (ops per write)', () => {
    const { device } = boot('');
    const f = device.storage.flash;
    const S = (c) => device.eval(`(function(s){ return ${c}; })(require('Storage'))`);
    S(`s.write('r', 'x', 0, 64)`); // reserved file: data starts 4-byte aligned
    const ops = (c) => {
      const w = f.stats.writes;
      S(c);
      return f.stats.writes - w;
    };
    assert.equal(ops(`s.write('r', 'abcde', 1)`), 2, 'unaligned start and end: two word writes');
    assert.equal(ops(`s.write('r', '01234567', 8)`), 1, 'aligned: one write');
    assert.equal(ops(`s.write('r', 'Q', 21)`), 1, 'one byte: one word write');
    assert.equal(ops(`s.write('r', 'xyz', 24)`), 1, 'aligned start, short: one word write');
    assert.equal(ops(`s.write('r', 'ABCDEFGHIJK', 30)`), 3, 'unaligned start, middle, unaligned end');
    assert.equal(S(`s.read('r', 0, 42)`), 'xabcde\xff\xff01234567\xff\xff\xff\xff\xffQ\xff\xffxyz\xff\xff\xffABCDEFGHIJK\xff');
  });

  it('flash power cuts can be torn: half a program (prefix or every other byte), half an erase', () => {
    const { device } = boot('');
    const f = device.storage.flash;
    f.failAfterWrites(0, { torn: 'prefix' });
    assert.throws(() => f.write(0, [0, 0, 0, 0, 0x10, 0x20, 0x30, 0x40]));
    assert.deepEqual([...f.read(0, 8)], [0, 0, 0, 0, 0x1f, 0xff, 0xff, 0xff]);
    device.reboot();
    f.failAfterWrites(0, { torn: 'scatter' });
    assert.throws(() => f.write(8, [1, 2, 3, 4]));
    assert.deepEqual([...f.read(8, 4)], [1, 0xff, 3, 0xff]);
    device.reboot();
    f.failAfterWrites(0, { torn: true });
    assert.throws(() => f.erasePage(0));
    assert.deepEqual([...f.read(0, 4)], [0xff, 0xff, 0xff, 0xff]);
    assert.equal(
      f.read(2048, 2048).every((b) => b === 0xff),
      true,
      'second half: nothing was there',
    );
    device.reboot();
    f.write(4096, [1, 2]);
    f.write(4096 + 4000, [3]);
    f.failAfterWrites(0, { torn: true });
    assert.throws(() => f.erasePage(4096));
    assert.deepEqual([...f.read(4096, 2)], [0xff, 0xff]);
    assert.deepEqual([...f.read(4096 + 4000, 1)], [3], 'second half keeps its old contents');
    device.reboot();
    const e = f.stats.erases;
    device.eval(`require('Storage').eraseAll()`);
    assert.equal(f.stats.erases - e, f.size / 4096, 'eraseAll erases every page (jshFlashErasePages)');
    assert.equal(f.pageErases[0], 1, 'the cut erase did not happen');
  });

  // jsfCompactInternal: files stream down through a swap buffer of a page + a header; a page is
  // erased only once the read pointer has left it, just before it is written.
  it('compact() streams files down and erases each page just before writing it', () => {
    const { device } = boot('');
    const f = device.storage.flash;
    const S = (c) => device.eval(`(function(s){ return ${c}; })(require('Storage'))`);
    const body = (ch) => ch.repeat(4064);
    // three whole-page files (32-byte header + 4064), the first erased
    for (const n of ['a', 'b', 'c']) S(`s.write('${n}', '${body(n)}')`);
    S(`s.erase('a')`);
    const log = [];
    const { write, erasePage } = f;
    f.write = (a, d) => (log.push(`w${a}+${d.length}`), write(a, d));
    f.erasePage = (a) => (log.push(`e${a}`), erasePage(a));
    S('s.compact()');
    Object.assign(f, { write, erasePage });
    // b (page 1) to page 0, c (page 2) to page 1, each header flushed first; then the pages up to
    // the one after the last file erased (jshFlashErasePages, empty or not)
    assert.deepEqual(log, ['e0', 'w0+32', 'w32+4064', 'e4096', 'w4096+32', 'w4128+4064', 'e8192', 'e12288']);
    assert.equal(S(`s.read('b')`), body('b'));
    assert.equal(S(`s.read('c')`), body('c'));
    assert.equal(S('s.getStats().trashCount'), 0);
    assert.ok(device.log.includes('Compacting...'));
  });

  it('a power cut inside compact(): a whole-page file is always whole somewhere, a straddling one may be lost', () => {
    // files f0, f1 … written in order, one erased, compacted with the power cut at op `cut`. After
    // the cut a file can exist twice: the copy (first, maybe short of its end) and the original;
    // erasing the first makes Storage find the original.
    const run = (sizes, erased, cut) => {
      const { device } = boot('');
      const S = (c) => device.eval(`(function(s){ return ${c}; })(require('Storage'))`);
      const want = (i) => String.fromCharCode(65 + i).repeat(sizes[i]);
      sizes.forEach((n, i) => S(`s.write('f${i}', '${want(i)}')`));
      S(`s.erase('f${erased}')`);
      device.storage.failAfterWrites(cut);
      S('s.compact()');
      const cutShort = device.state === 'off';
      device.reboot();
      let whole = true;
      for (let i = 0; i < sizes.length; i++) {
        if (i === erased || S(`s.read('f${i}')`) === want(i)) continue;
        S(`s.erase('f${i}')`);
        if (S(`s.read('f${i}')`) !== want(i)) whole = false;
      }
      return { cutShort, whole, S };
    };
    const P = 4064; // + the 32-byte header: one page
    let cuts = 0;
    for (let cut = 0; ; cut++, cuts++) {
      const r = run([P, P, P, P, P], 1, cut);
      assert.ok(r.whole, `whole pages, cut at op ${cut}`);
      if (!r.cutShort) break;
    }
    assert.ok(cuts >= 8);
    let lost = 0;
    for (let cut = 0; ; cut++) {
      const r = run([P, 100, 6000, 3000], 1, cut);
      if (!r.whole) lost++;
      if (!r.cutShort) break;
    }
    assert.ok(lost > 0, 'a cut after a page erase loses what was only in RAM (as on the board)');
    // jsfBankFindFile and the list stop at an invalid first header: with page 0 erased and the
    // power cut before it is written again, Storage looks empty (boot code included)
    const r = run([P, P, P], 0, 1);
    assert.equal(r.S('s.list().length'), 0);
    assert.equal(r.S(`s.read('f1')`), undefined);
  });

  // ------------------------------------------------------------------ modules, crypto, misc
  it('require: crypto hashes to ArrayBuffer, no HMAC, unknown modules throw', () => {
    const { device } = boot('');
    const hex = device.eval(`(function(){ var b = new Uint8Array(require('crypto').SHA256('abc')); var s='';
    for (var i=0;i<b.length;i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16); return s; })()`);
    assert.equal(hex, createHash('sha256').update('abc').digest('hex'));
    assert.equal(device.eval(`require('crypto').SHA1('abc') instanceof ArrayBuffer`), true);
    assert.equal(device.eval(`require('crypto').SHA512('abc').byteLength`), 64);
    assert.equal(device.eval(`typeof require('crypto').HMAC`), 'undefined');
    assert.throws(() => device.eval(`require('foo')`), /Module "foo" not found/);
    device.eval(`require('Storage').write('mymod', 'exports.x = 42;')`);
    assert.equal(device.eval(`require('mymod').x`), 42);
    assert.equal(device.eval(`btoa('\\xff\\x00A')`), '/wBB');
    assert.equal(device.eval(`atob('/wBB')`), '\xff\x00A');
    assert.equal(device.eval(`E.toString([72, 105], '!')`), 'Hi!');
    assert.equal(device.eval(`E.toUint8Array('ab', 3).join()`), '97,98,3');
  });

  // crypto.AES as jswrap_crypto_AEScrypt (libs/crypto/jswrap_crypto.c at c5ff787) on the ESP32 build
  const aesHex = (device, expr) =>
    device.eval(`(function(){ var r = ${expr}; if (r === undefined) return 'undefined'; var b = new Uint8Array(r), s = '';
    for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16); return s; })()`);
  const nodeAes = (alg, key, iv, data, dec) => {
    const c = (dec ? createDecipheriv : createCipheriv)(alg, key, iv);
    c.setAutoPadding(false);
    return Buffer.concat([c.update(data), c.final()]).toString('hex');
  };
  const jsBytes = (b) => `[${Array.from(b).join(',')}]`;
  it('crypto.AES ECB/CBC/CFB(8)/CTR encrypt and decrypt as Node for 128/192/256-bit keys', () => {
    const { device } = boot('');
    fc.assert(
      fc.property(
        fc.constantFrom(16, 24, 32),
        fc.nat(6),
        fc.nat(15),
        fc.uint8Array({ minLength: 112, maxLength: 112 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (kl, blocks, extra, data, keyAll, iv) => {
          const key = Buffer.from(keyAll.subarray(0, kl));
          const bits = kl * 8;
          const whole = Buffer.from(data.subarray(0, blocks * 16));
          const any = Buffer.from(data.subarray(0, blocks * 16 + extra));
          const A = (f, msg, mode) => aesHex(device, `require('crypto').AES.${f}(${jsBytes(msg)}, ${jsBytes(key)}, {mode: '${mode}', iv: ${jsBytes(iv)}})`);
          const iv0 = Buffer.alloc(16);
          assert.equal(A('encrypt', whole, 'ECB'), nodeAes(`aes-${bits}-ecb`, key, null, whole));
          assert.equal(A('decrypt', whole, 'ECB'), nodeAes(`aes-${bits}-ecb`, key, null, whole, true));
          assert.equal(A('encrypt', whole, 'CBC'), nodeAes(`aes-${bits}-cbc`, key, iv, whole));
          assert.equal(A('decrypt', whole, 'CBC'), nodeAes(`aes-${bits}-cbc`, key, iv, whole, true));
          assert.equal(A('encrypt', any, 'CFB'), nodeAes(`aes-${bits}-cfb8`, key, iv, any));
          assert.equal(A('decrypt', any, 'CFB'), nodeAes(`aes-${bits}-cfb8`, key, iv, any, true));
          // CTR: the C zeroes its own nonce_counter; the iv given is not used
          assert.equal(A('encrypt', any, 'CTR'), nodeAes(`aes-${bits}-ctr`, key, iv0, any));
          assert.equal(A('decrypt', any, 'CTR'), nodeAes(`aes-${bits}-ctr`, key, iv0, any));
        },
      ),
      { numRuns: 40 },
    );
  });
  it('crypto.AES: defaults, partial ECB blocks, OFB, unknown modes and bad input as the C reports them', () => {
    const { device } = boot('');
    const zero16 = Buffer.alloc(16);
    const ecb0 = nodeAes('aes-128-ecb', zero16, null, zero16);
    assert.equal(ecb0, '66e94bd4ef8a2c3b884cfa59ca342b2e'); // the real interpreter printed this too
    assert.equal(device.eval(`require('crypto').AES.encrypt('', new Uint8Array(16)) instanceof ArrayBuffer`), true);
    // no options: CBC with a zero iv; an iv shorter than 16 bytes is zero-filled, a longer one cut
    const msg = Buffer.from('0123456789abcdef0123456789ABCDEF');
    assert.equal(aesHex(device, `require('crypto').AES.encrypt('${msg}', new Uint8Array(16))`), nodeAes('aes-128-cbc', zero16, zero16, msg));
    const iv = Buffer.concat([Buffer.from('abc'), Buffer.alloc(13)]);
    assert.equal(aesHex(device, `require('crypto').AES.encrypt('${msg}', new Uint8Array(16), {iv: 'abc'})`), nodeAes('aes-128-cbc', zero16, iv, msg));
    const longIv = Buffer.from('0123456789abcdefXYZ');
    assert.equal(
      aesHex(device, `require('crypto').AES.encrypt('${msg}', new Uint8Array(16), {iv: '${longIv}'})`),
      nodeAes('aes-128-cbc', zero16, longIv.subarray(0, 16), msg),
    );
    // ECB: whole blocks only; the output keeps the message's length and a partial tail stays zero
    assert.equal(aesHex(device, `require('crypto').AES.encrypt(new Uint8Array(20), new Uint8Array(16), {mode: 'ECB'})`), ecb0 + '00000000');
    assert.equal(aesHex(device, `require('crypto').AES.encrypt(new Uint8Array(5), new Uint8Array(16), {mode: 'ECB'})`), '0000000000');
    // CTR ignores iv (checked in the real interpreter: iv 1..16 gave E(0) as the first block)
    assert.equal(
      aesHex(device, `require('crypto').AES.encrypt(new Uint8Array(16), new Uint8Array(16), {mode: 'CTR', iv: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]})`),
      ecb0,
    );
    // jsError (printed, undefined returned, no exception) for what mbedtls or the wrapper refuses
    const printed = (expr, line) => {
      const before = device.log.length;
      assert.equal(device.eval(`${expr} === undefined`), true);
      assert.deepEqual(device.log.slice(before), [line]);
    };
    printed(`require('crypto').AES.encrypt(new Uint8Array(16), new Uint8Array(16), {mode: 'OFB'})`, 'ERROR: Feature unavailable');
    printed(`require('crypto').AES.encrypt(new Uint8Array(17), new Uint8Array(16))`, 'ERROR: Invalid input length');
    printed(`require('crypto').AES.decrypt(new Uint8Array(17), new Uint8Array(16), {mode: 'CBC'})`, 'ERROR: Invalid input length');
    printed(`require('crypto').AES.encrypt(new Uint8Array(16), new Uint8Array(15), {mode: 'ECB'})`, 'ERROR: Unknown error: -0x20');
    printed(`require('crypto').AES.encrypt(new Uint8Array(16), new Uint8Array(16), null)`, "ERROR: 'options' must be undefined, or an Object");
    printed(`require('crypto').AES.encrypt(new Uint8Array(16), new Uint8Array(16), 5)`, "ERROR: 'options' must be undefined, or an Object");
    // message or key undefined: no pointer, nothing printed
    const before = device.log.length;
    assert.equal(device.eval(`require('crypto').AES.encrypt(undefined, new Uint8Array(16), {mode: 'ECB'})`), undefined);
    assert.equal(device.eval(`require('crypto').AES.encrypt(new Uint8Array(16), undefined, {mode: 'ECB'})`), undefined);
    assert.equal(device.log.length, before);
    // an unknown mode is an exception (jsExceptionHere), quoted with %q
    assert.throws(() => device.eval(`require('crypto').AES.encrypt(new Uint8Array(16), new Uint8Array(16), {mode: 'XYZ'})`), /Unknown Crypto mode "XYZ"/);
    assert.throws(() => device.eval(`require('crypto').AES.encrypt(new Uint8Array(16), new Uint8Array(16), {mode: 3})`), /Unknown Crypto mode "3"/);
  });

  it('E.enableWatchdog(…, false) reboots unless kicked; E.on("init") runs at boot', async () => {
    const code = src(() => {
      const s = require('Storage');
      s.write('n', String((Number(s.read('n')) || 0) + 1));
      E.on('init', () => {
        globalThis.inited = true;
      });
      E.enableWatchdog(2, false);
      globalThis.kicker = setInterval(() => E.kickWatchdog(), 1000);
    });
    const { clock, device } = boot(code);
    await clock.runFor(10000);
    assert.equal(device.storage.read('n'), '1');
    assert.equal(device.global.inited, true);
    device.eval('clearInterval(kicker)');
    await clock.runFor(2500);
    assert.equal(device.storage.read('n'), '2');
    assert.ok(device.resets.some((r) => r.reason === 'watchdog'));
  });

  it('ESP32.deepSleep restarts the device after the delay with wakeup cause 4', async () => {
    const code = src(() => {
      const s = require('Storage');
      const n = (Number(s.read('wakes')) || 0) + 1;
      s.write('wakes', String(n));
      globalThis.cause = ESP32.getWakeupCause();
      if (n === 1) setTimeout(() => ESP32.deepSleep(5e6), 100);
    });
    const { clock, device } = boot(code);
    assert.equal(device.global.cause, 0);
    await clock.runFor(3000);
    assert.equal(device.state, 'sleeping');
    await clock.runFor(3000);
    assert.equal(device.storage.read('wakes'), '2');
    assert.equal(device.global.cause, 4);
  });

  it('process.memory and process.env describe an ESP32 with 16383 JsVars', () => {
    const { device } = boot('');
    const m = device.eval('process.memory()');
    assert.equal(m.total, 16383);
    assert.equal(m.blocksize, 14);
    assert.equal(m.free + m.usage, 16383);
    device.eval('var big = []; for (var i = 0; i < 2000; i++) big.push({i: i});');
    assert.ok(device.eval('process.memory().usage') > m.usage + 2000);
    assert.equal(device.eval('process.env.BOARD'), 'ESP32');
    assert.match(device.eval('process.env.VERSION'), /^2v29/);
    assert.equal(device.eval('E.getSizeOf({a: 1})'), 2);
  });

  it('serial data without a listener is buffered (512 bytes) and flags BUFFER_FULL', async () => {
    const { clock, device } = boot(
      src(() => {
        Serial2.setup(115200);
        E.on('errorFlag', (f) => {
          globalThis.flag = f.join();
        });
      }),
    );
    device.serial('Serial2').rxWrite('y'.repeat(600));
    await clock.runFor(100);
    assert.equal(device.eval('Serial2.available()'), 512);
    assert.equal(device.eval('Serial2.read(2)'), 'yy');
    assert.equal(device.global.flag, 'BUFFER_FULL');
    assert.equal(device.eval('E.getErrorFlags().join()'), 'BUFFER_FULL');
  });
  it('E.convolve sums arr1[i] * arr2[(i + offset) % arr2.length] as jswrap_espruino_convolve does', () => {
    const { device } = boot('');
    assert.equal(device.eval('E.convolve([1, 2, 3], [10, 20, 30, 40], 1)'), 1 * 20 + 2 * 30 + 3 * 40);
    assert.equal(device.eval('E.convolve([1, 2, 3], [10, 20], -1)'), 1 * 20 + 2 * 10 + 3 * 20); // offset wraps like the C % then + l
    assert.equal(device.eval('E.convolve(new Float64Array([65535, 65535]), new Float64Array([65535 * 38, 1]), 0)'), 65535 * 65535 * 38 + 65535);
    assert.equal(device.eval('E.convolve("ab", new Uint8Array([1, 2]), 0)'), 97 + 98 * 2);
    assert.ok(Number.isNaN(device.eval('E.convolve([1, , 3], [1, 1, 1], 0)')));
    assert.throws(() => device.eval('E.convolve(1, [1], 0)'), /Expecting first 2 arguments to be iterable/);
  });

  it('a boot from Storage runs .boot0….boot3, each with its own errors caught, then .bootcde as they are in flash at each boot', async () => {
    const clock = createClock({ mode: 'virtual' });
    const device = createEspruino({ clock });
    device.storage.write('.boot0', 'print("b0");require("Storage").write(".bootcde","print(\'new code\')");');
    device.storage.write('.boot1', 'print("b1");throw new Error("in b1");');
    device.storage.write('.boot3', 'print("b3")');
    device.storage.write('.bootcde', 'print("old code");setTimeout(function(){E.reboot()},1000)');
    device.bootFromStorage();
    // .bootcde is read after the .boot files ran (jsfGetBootCodeFromFlash comes last)
    assert.deepEqual(device.log, ['b0', 'b1', 'Uncaught Error: in b1', 'b3', 'new code']);
    device.storage.write('.boot0', 'print("b0 again")');
    device.storage.write('.bootcde', 'print("third");setTimeout(function(){E.reboot()},1000)');
    device.reboot(); // a reset: the same files, read again
    assert.deepEqual(device.log.slice(5), ['b0 again', 'b1', 'Uncaught Error: in b1', 'b3', 'third']);
    device.storage.write('.bootcde', 'print("after E.reboot")');
    await clock.runFor(1500); // E.reboot from the code: a boot from Storage too
    assert.equal(device.log.at(-1), 'after E.reboot');
    device.powerOff();
    device.storage.write('.bootcde', 'print("power on")');
    device.powerOn();
    assert.equal(device.log.at(-1), 'power on');
    // code given to load() directly (the tests' way) is not read from Storage
    device.load('print("direct")');
    device.reboot();
    assert.deepEqual(device.log.slice(-2), ['direct', 'direct']);
  });
});
