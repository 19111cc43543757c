// Checks against the REAL Espruino interpreter (a Linux build), through host/espruino/real.mjs.
// Every test skips (each one, so the runner counts them as skipped) unless ESPRUINO_BIN names the
// binary; the binary is never part of this repo.
//   ESPRUINO_BIN=/path/to/espruino node --import tsx --test test/espruino-real.test.mjs
// A binary that is named but cannot be run fails the tests instead of skipping them.
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import { hasRealEspruino, runInRealEspruino } from '../host/espruino/real.mjs';
import { espruinoLacks } from '../buildlib/es5-gate.mjs';
import { itUnless } from './skip.mjs';

describe('espruino-real.test.mjs', () => {
  const BIN = process.env.ESPRUINO_BIN;
  const skip = BIN ? false : 'ESPRUINO_BIN is not set (path of a Linux build of Espruino)';
  const TIMEOUT = 20000;

  const waitFor = async (pred, ms, what) => {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  describe('real Espruino interpreter', () => {
    /** One interpreter for the console-level checks. */
    let esp;
    before(async () => {
      if (skip) return;
      assert.ok(hasRealEspruino(BIN), `ESPRUINO_BIN=${BIN} is not an executable file`);
      esp = await runInRealEspruino({ timeoutMs: TIMEOUT });
    });
    after(async () => {
      if (esp) await esp.stop();
    });

    describe('(a) lacks everything in buildlib espruinoLacks', () => {
      // All probes in one console command; each entry is then its own test.
      let results;
      const entries = [];
      for (const [cat, table] of Object.entries(espruinoLacks)) {
        for (const [name, e] of Object.entries(table)) entries.push({ key: `${cat}.${name}`, ...e });
      }
      before(async () => {
        if (skip) return;
        const body = entries.map((e) => `try{r[${JSON.stringify(e.key)}]=!!(${e.probe});}catch(x){r[${JSON.stringify(e.key)}]="threw: "+x;}`).join('');
        results = JSON.parse(await esp.eval(`(function(){var r={};${body}return r;})()`));
      });
      for (const e of entries) {
        itUnless(skip, `${e.key}: ${e.probe}`, () => {
          assert.equal(results[e.key], true, `${e.key}: probe gave ${JSON.stringify(results[e.key])} (${e.reason})`);
        });
      }
      itUnless(skip, 'the globals are really absent (reading them throws ReferenceError)', async () => {
        for (const name of Object.keys(espruinoLacks.globals)) {
          const r = await esp.eval(`(function(){try{${name};return "present"}catch(e){return e instanceof ReferenceError?"ReferenceError":""+e}})()`);
          assert.equal(r, 'ReferenceError', name);
        }
      });
    });

    itUnless(skip, '(b) no hoisting: calling a function before its declaration throws ReferenceError', async () => {
      const r = await esp.eval(
        '(function(){try{eval("f1(); function f1(){}");return "called"}catch(e){return (e instanceof ReferenceError)+" "+e.message}})()',
      );
      assert.equal(r, 'true "f1" is not defined');
      const inFn = await esp.eval('(function(){try{(function(){g1(); function g1(){}})();return "called"}catch(e){return ""+e}})()');
      assert.match(inFn, /^ReferenceError: "g1" is not defined/);
    });

    itUnless(skip, '(b) no hoisting in a bundle loaded from Storage either (.bootcde + load())', async () => {
      const b = await runInRealEspruino({ code: 'var before = 1;\nh1();\nfunction h1() {}\nvar after = 1;\n', timeoutMs: TIMEOUT });
      try {
        assert.match(b.console, /Uncaught ReferenceError: "h1" is not defined/);
        assert.equal(await b.eval('typeof before'), 'number');
        assert.equal(await b.eval('typeof after'), 'undefined', 'the bundle stopped at the call');
      } finally {
        await b.stop();
      }
    });

    itUnless(skip, '(c) a regex with ? silently never matches', async () => {
      const r = JSON.parse(
        await esp.eval('[/^ab?c$/.test("abc"), /^ab?c$/.test("ac"), /colou?r/.test("color"), /colou?r/.test("colour"), "x".replace(/x?/, "y")]'),
      );
      assert.deepEqual(r, [false, false, false, false, 'x'], 'no match and no exception');
      // The same patterns without ? do match, so it is the ? that kills them.
      assert.equal(await esp.eval('/^abc$/.test("abc") && /colour/.test("colour")'), 'true');
    });

    itUnless(skip, '(e) process.memory() is readable', async () => {
      const m = await esp.memory();
      for (const k of ['free', 'usage', 'total', 'blocksize']) assert.equal(typeof m[k], 'number', k);
      assert.ok(m.total > 0 && m.usage > 0 && m.free > 0 && m.usage + m.free <= m.total, JSON.stringify(m));
      console.log('#', `process.memory(): ${JSON.stringify(m)}`);
      assert.ok(Number(await esp.eval('E.getSizeOf({a:1,b:"xy"})')) > 0);
    });

    itUnless(skip, '(d) Serial2 over a pty carries bytes both ways (bundle echoes what it receives)', async () => {
      let got = '';
      // The board's bundle passes pins, not a path: real.mjs's .boot0 shim adds the pty path.
      const code = [
        'var n = 0;',
        'Serial2.setup(115200, { rx: 26, tx: 27 });',
        'Serial2.on("data", function (d) { n += d.length; Serial2.write("<" + d + ">"); });',
        'Serial2.write("READY\\r\\n");',
      ].join('\n');
      const b = await runInRealEspruino({
        code,
        serial2: {
          onData: (s) => {
            got += s;
          },
        },
        timeoutMs: TIMEOUT,
      });
      try {
        await waitFor(() => got.includes('READY\r\n'), 5000, 'READY from the bundle');
        got = '';
        b.write('AT\r\n');
        await waitFor(() => got.includes('>'), 5000, 'the echo');
        assert.equal(got, '<AT\r\n>');
        // A longer burst (more than the 32-byte reads of the Linux port) arrives intact and in
        // order, possibly split into several 'data' events.
        got = '';
        const burst = Array.from({ length: 20 }, (_, i) => `+CMQTTRXPAYLOAD: 0,${i}\r\n`).join('');
        b.write(burst);
        await waitFor(() => got.replace(/[<>]/g, '').length >= burst.length, 5000, 'the burst echo');
        assert.equal(got.replace(/[<>]/g, ''), burst);
        assert.equal(Number(await b.eval('n')), 4 + burst.length);
        // Binary bytes pass unchanged (the pty is raw).
        got = '';
        const bin = '\x00\x01\x7f\x80\xff\r\n';
        b.write(bin);
        await waitFor(() => got.replace(/[<>]/g, '').length >= bin.length, 5000, 'the binary echo');
        assert.equal(got.replace(/[<>]/g, ''), bin);
      } finally {
        await b.stop();
      }
    });

    itUnless(skip, 'each load mode runs a bundle: bootcde, storage-eval, text', async () => {
      for (const load of ['bootcde', 'storage-eval', 'text']) {
        const b = await runInRealEspruino({ code: 'var loadedBy = "x" + [1, 2].map(function (v) { return v * 2; }).join("");', load, timeoutMs: TIMEOUT });
        try {
          assert.equal(await b.eval('loadedBy'), 'x24', load);
        } finally {
          await b.stop();
        }
      }
    });
  });
});
