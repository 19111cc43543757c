// Tests for the Espruino build gates (buildlib/es5-gate.mjs), the dehoist pass
// (buildlib/dehoist.mjs) and the espruinoLacks table. Run:
//   node --import tsx --test test/build-gates.test.mjs
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import * as acorn from 'acorn';
import ts from 'typescript';
import * as esbuild from 'esbuild';
import { minify } from 'terser';
import { checkBundle, espruinoLacks, formatGateErrors } from '../buildlib/es5-gate.mjs';
import { dehoist, DehoistError } from '../buildlib/dehoist.mjs';
import { probeScript } from '../buildlib/espruino-lacks.mjs';
import { checkRegexSubset } from '../buildlib/regex-subset.mjs';

describe('build-gates.test.mjs', () => {
  const rules = (code) => checkBundle(code).errors.map((e) => e.rule);

  /** `bad` must produce an error of `rule`; `good` must produce no error at all. */
  function rule(name, { bad, good }) {
    describe(`rule ${name}`, () => {
      for (const code of bad) {
        it(`catches: ${code}`, () => {
          const { errors } = checkBundle(code);
          const hit = errors.find((e) => e.rule === name);
          assert.ok(hit, `expected a ${name} error, got ${JSON.stringify(errors)}`);
          assert.equal(typeof hit.message, 'string');
          assert.ok(hit.message.length > 20, 'message says what to change');
          assert.ok(hit.line >= 1 && hit.column >= 0 && typeof hit.snippet === 'string');
        });
      }
      for (const code of good) {
        it(`passes: ${code}`, () => {
          assert.deepEqual(checkBundle(code).errors, []);
        });
      }
    });
  }

  rule('es5-syntax', {
    bad: [
      'let x = 1;',
      'const y = 2;',
      'var f = (a) => a;',
      'class A {}',
      'var o = {a: 1}; var {a} = o;',
      'var [p, q] = [1, 2];',
      'var s = `t${1}`;',
      'f(...xs);',
      'function g(a = 1) { return a; }',
      'function h(...r) { return r; }',
      'for (var x of xs) {}',
      'var o = { m() {} };',
      'var k = "a"; var o = { [k]: 1 };',
      'var o = { k };',
      'async function a() {}',
      'function* gen() {}',
      'var z = a?.b;',
      'var n = a ?? b;',
      'var e = 2 ** 3;',
      'import x from "y";',
      'var b = 0b101;',
    ],
    good: ['var f = function (a) { return a + 1; }; var o = { get v() { return 1; }, "default": 2 }; o.default = f(1);'],
  });

  it('es5-syntax names the construct', () => {
    const [e] = checkBundle('var x = 1;\nvar f = (a) => a;').errors;
    assert.equal(e.rule, 'es5-syntax');
    assert.match(e.message, /arrow function/);
    assert.equal(e.line, 2);
    assert.equal(e.column, 8);
  });

  rule('label', {
    bad: ['outer: for (var i = 0; i < 3; i++) { for (;;) { break outer; } }', 'a: { b(); }'],
    good: ['var done = false; for (var i = 0; i < 3 && !done; i++) { for (;;) { done = true; break; } }'],
  });

  rule('regex', {
    bad: [
      'var r = /a?/;',
      'var r = /(?:x)/;',
      'var r = /\\bx/;',
      'var r = /x{2}/;',
      'var r = /x{2,}/;',
      'var r = /a*?/;',
      'var r = /a(?=b)/;',
      'var r = /(a)\\1/;',
      'var r = /x/m;',
      'var r = /^0, *(CONNECT OK|CLOSE OK)$/;',
      'var r = /(ab)+/;',
      'var r = /((a)b)/;',
      'var r = /(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)/;',
      'var r = /\\u0041/;',
      'var r = new RegExp("a?");',
      'var r = RegExp("x{2}", "g");',
      'var r = new RegExp("x", "m");',
    ],
    good: [
      'var r = /^\\+CSQ: (\\d+),(\\d+)$/; var s = /OK|ERROR/g; var t = /[a-z?{]+\\s*\\{/i; var u = new RegExp("^\\\\d+$", "g");',
      'var r = /^(\\d+)\\.(\\d+)$/; var q = /[\\b\\]]+/; var w = /\\x41\\w*\\S+\\D\\W/;',
      'var RegExp = function (s) { return s; }; RegExp("a?");',
    ],
  });

  it('regex subset: in-group alternation is rejected everywhere (documented safe rule)', () => {
    assert.equal(checkRegexSubset('(a|b)c').length, 1);
    assert.equal(checkRegexSubset('^x(a|b)$').length, 1);
    assert.deepEqual(checkRegexSubset('^a|^b$'), []);
  });

  rule('missing-global', {
    bad: [
      'var m = new Map();',
      'var it = Symbol.iterator;',
      'var s = new Set([1]);',
      'Reflect.apply(f, null, []);',
      'throw new RangeError("x");',
      'var w = new WeakMap();',
      'var p = new Proxy({}, {});',
      'var b = BigInt(1);',
      'function f() { return new Map(); }',
    ],
    good: [
      'var Map = function () {}; var m = new Map();',
      'function f(Map) { return new Map(); }',
      'var o = { Map: 1, Symbol: 2 }; o.Map = o.Symbol;',
      'var t = typeof Symbol === "function";',
      'try { x(); } catch (Set) { Set.y = 1; }',
      'var f = function Map() { return Map; };',
    ],
  });

  rule('builtin-prototype', {
    bad: [
      'var a = Array.prototype.slice.call(arguments);',
      'var t = String.prototype.trim.call(s);',
      'var b = Function.prototype.bind;',
      'var n = Number.prototype.toFixed;',
      'var m = Object.prototype.propertyIsEnumerable;',
    ],
    good: [
      'var a = [].slice.call(arguments);',
      'var h = Object.prototype.hasOwnProperty.call(o, "k");',
      'function Foo() {} Foo.prototype.bar = 1; var b = Foo.prototype.bar;',
      'Array.prototype.myHelper = function () {};',
      'var Array = { prototype: { slice: 1 } }; var s = Array.prototype.slice;',
    ],
  });

  rule('missing-static', {
    bad: [
      'var a = Array.from(x);',
      'var b = Number.isFinite(x);',
      'Object.freeze(o);',
      'var t = Date.UTC(2020, 0, 1);',
      'Promise.race(ps);',
      'Promise.allSettled(ps);',
      'var n = Math.trunc(1.5);',
      'var i = Number.isInteger(x);',
      'var s = Object.is(a, b);',
      'var f = Array.of;',
    ],
    good: [
      'var k = Object.keys(o); Promise.all(ps); var f = Math.floor(1.5); var d = Date.now(); var s = Math.sign(-1);',
      'var Promise = { race: function () {} }; Promise.race([]);',
      'var o = { from: function () {} }; o.from(x);',
    ],
  });

  rule('missing-method', {
    bad: [
      'p.finally(f);',
      'var s = t.trimStart();',
      'var c = t.codePointAt(0);',
      'var o = a.localeCompare(b);',
      'var f = a.flat();',
      'var i = [1, 2].lastIndexOf(1);',
      'fetch().then(f).finally(g);',
      'var k = [1].keys();',
    ],
    good: ['p.then(f).catch(g); var i = s.lastIndexOf("x"); var t = s.trim(); var j = a.indexOf(1); var k = Object.keys(o); var v = obj.finally;'],
  });

  rule('unsupported-argument', {
    bad: [
      'var s = JSON.stringify(x, f);',
      'var s = JSON.stringify(x, ["a"], 2);',
      'var o = JSON.parse(s, f);',
      'var o = Object.create(p, { a: { value: 1 } });',
      'var parts = s.split(",", 2);',
    ],
    good: [
      'var s = JSON.stringify(x, null, 2); var t = JSON.stringify(x, void 0, 2); var u = JSON.stringify(x); var o = JSON.parse(s); var c = Object.create(p); var d = Object.create(null); var q = s.split(",");',
    ],
  });

  rule('function-name', {
    bad: ['var n = this.constructor.name;'],
    good: ['var n = this.name; var c = this.constructor;'],
  });

  rule('length-assignment', {
    bad: ['a.length = 0;', 'a.length--;', 'a["length"] = 2;', 'a.length += 1;'],
    good: ['a.splice(0); var n = a.length; var m = a["length"];'],
  });

  rule('function-in-block', {
    bad: ['if (x) { function f() {} }', 'function g() { try { function h() {} } catch (e) {} }'],
    good: ['if (x) { var f = function () {}; }'],
  });

  rule('use-before-declaration', {
    bad: [
      'f(); function f() {}',
      'function g() { return f(); function f() { return 1; } }',
      'x = y; var y = 1;',
      'var r = z; var z = 2;',
      'if (0) { var z; } z;',
      'try { var t = 1; } catch (e) {} t;',
      'for (var k in o) {} k;',
      'while (c) { var w = 1; } w;',
      '(function () { g(); })(); function g() {}',
      '!function () { g(); }(); function g() {}',
      'function f(g) { g(); function g() {} }',
      'var A = (function (_super) { __extends(A, _super); function A() { _super.call(this); } return A; }(B));',
      'q = 1; var q;',
    ],
    good: [
      'function f() {} f();',
      'var y = 1; x = y;',
      'setTimeout(function () { h(); }); function h() {}',
      'var ns = ns || {};',
      'for (var i = 0; i < 1; i++) {} i;',
      'function f(p) { p; var p = 1; return p; }',
      'function f() { return arguments.length; }',
      'var z; if (0) { z = 1; } z;',
      'var f = function g() { return g; };',
      'try { x(); } catch (e) { e; var e; }',
      'function o() { function i() { return v; } var v = 1; return i(); }',
    ],
  });

  it('use-before-declaration reports each name once per scope', () => {
    assert.equal(rules('f(); f(); f(); function f() {}').filter((r) => r === 'use-before-declaration').length, 1);
  });

  describe('espruinoLacks table', () => {
    it('every entry has a reason and a probe, grouped by kind', () => {
      for (const cat of ['globals', 'statics', 'methods', 'args', 'other', 'regex']) {
        const t = espruinoLacks[cat];
        assert.ok(t && Object.keys(t).length, cat);
        for (const [k, e] of Object.entries(t)) {
          assert.equal(typeof e.reason, 'string', `${cat}.${k}`);
          assert.ok(e.reason.length > 10, `${cat}.${k}`);
          assert.equal(typeof e.probe, 'string', `${cat}.${k}`);
        }
      }
      for (const name of ['Map', 'Set', 'WeakMap', 'Symbol', 'Reflect', 'Proxy', 'BigInt', 'RangeError']) assert.ok(espruinoLacks.globals[name], name);
      for (const name of [
        'Array.from',
        'Array.of',
        'Number.isFinite',
        'Number.isInteger',
        'Number.isNaN',
        'Math.trunc',
        'Math.log2',
        'Date.UTC',
        'Object.freeze',
        'Object.is',
        'Promise.race',
        'Promise.allSettled',
      ])
        assert.ok(espruinoLacks.statics[name], name);
      for (const name of ['finally', 'trimStart', 'codePointAt', 'localeCompare', 'flat', 'lastIndexOf', 'keys', 'entries'])
        assert.ok(espruinoLacks.methods[name], name);
    });

    it('every probe is ES5 and false on a complete engine (Node), so true in Espruino means "still missing"', () => {
      const script = probeScript();
      acorn.parse(script, { ecmaVersion: 5 });
      let out;
      new Function('console', script)({
        log: (s) => {
          out = s;
        },
      });
      const res = JSON.parse(out);
      const count = Object.values(espruinoLacks).reduce((n, t) => n + Object.keys(t).length, 0);
      assert.equal(Object.keys(res).length, count);
      assert.deepEqual(
        Object.entries(res).filter(([, v]) => v !== false),
        [],
      );
    });

    it('the gate flags every gated global, static and method in the table', () => {
      for (const [name, e] of Object.entries(espruinoLacks.globals)) {
        assert.equal(e.gate, 'global');
        assert.ok(rules(`var v = ${name};`).includes('missing-global'), name);
      }
      for (const [key] of Object.entries(espruinoLacks.statics)) assert.ok(rules(`var v = ${key};`).includes('missing-static'), key);
      for (const [name, e] of Object.entries(espruinoLacks.methods)) {
        if (e.gate === 'call') assert.ok(rules(`x.${name}();`).includes('missing-method'), name);
        if (e.gate === 'arrayLiteralCall') {
          assert.ok(rules(`[1].${name}();`).includes('missing-method'), name);
          assert.deepEqual(rules(`x.${name}(1);`), [], name);
        }
        if (e.gate === 'none') assert.deepEqual(rules(`x.${name}(1);`), [], name);
      }
    });
  });

  /** Run code in a fresh Node context; returns the context's `result`, or the thrown error's message. */
  function run(code, extra = {}) {
    const ctx = vm.createContext({ ...extra });
    try {
      vm.runInContext(code, ctx);
      return { result: JSON.stringify(ctx.result) };
    } catch (e) {
      return { threw: String(e && e.message) };
    }
  }

  /** dehoist must keep behaviour, make the gate pass, and re-parse as ES5. */
  function sameAfterDehoist(code, extra) {
    const out = dehoist(code);
    acorn.parse(out, { ecmaVersion: 5 });
    assert.deepEqual(
      checkBundle(out).errors.filter((e) => e.rule === 'use-before-declaration' || e.rule === 'function-in-block'),
      [],
      formatGateErrors(checkBundle(out).errors),
    );
    const a = run(code, extra);
    const b = run(out, extra);
    assert.deepEqual(b, a);
    assert.ok(!a.threw, a.threw);
    return out;
  }

  describe('dehoist', () => {
    it('tsc ES5 class pattern: gate fails before, passes after, same result', () => {
      const code =
        'var __extends=function(d,b){function T(){this.constructor=d}d.prototype=b===null?Object.create(b):(T.prototype=b.prototype,new T)};' +
        'var B=(function(){function B(){this.b=1}B.prototype.m=function(){return this.b};return B}());' +
        'var A=(function(_super){__extends(A,_super);function A(){var _this=_super.call(this)||this;_this.a=2;return _this}' +
        'A.prototype.sum=function(){return this.a+this.m()};return A}(B));var result=[new A().sum(),new A() instanceof B];';
      assert.ok(rules(code).includes('use-before-declaration'));
      const out = sameAfterDehoist(code);
      assert.deepEqual(checkBundle(out).errors, []);
      assert.equal(run(out).result, '[3,true]');
    });

    it('f(); function f(){} at top level and inside a function', () => {
      const top = 'var result = f(); function f() { return 42; }';
      assert.ok(rules(top).includes('use-before-declaration'));
      assert.equal(dehoist('f();function f(){}'), 'function f(){}f();');
      sameAfterDehoist(top);
      const inner = 'function outer() { var a = g(1); return a + g(2); function g(x) { return x * 10; } } var result = outer();';
      assert.ok(rules(inner).includes('use-before-declaration'));
      sameAfterDehoist(inner);
    });

    it('vars are declared first; var in a branch that did not run; reads before the var', () => {
      const code =
        'var result = []; result.push(typeof y); x = y; var y = 1; if (0) { var z = 3; } result.push(z, x, y);' +
        'for (var i = 0; i < 2; i++) { var k = i; } for (var p in { q: 1 }) {} result.push(i, k, p);';
      assert.ok(rules(code).includes('use-before-declaration'));
      const out = sameAfterDehoist(code);
      assert.match(out, /^var y,z,i,k,p,result=\[\];/);
    });

    it('a function declared twice: the last one wins, as in JS', () => {
      const out = sameAfterDehoist('var result = [f()]; function f() { return 1; } result.push(f()); function f() { return 2; }');
      assert.equal(run(out).result, '[2,2]');
    });

    it('names that are parameters, function declarations, arguments or catch params', () => {
      sameAfterDehoist(
        'function g(a) { var a; return a; } function h(a) { var a = a + 1; return a; }' +
          'var t0 = typeof f; var f = 1; function f() {} var result = [g(5), h(5), t0, f];',
      );
      sameAfterDehoist('function k() { var arguments; return arguments.length; } var result = [k(1, 2)];');
      sameAfterDehoist('function c() { var r = [];try { throw 1; } catch (e) { var e = 2; r.push(e); } r.push(typeof e); return r; } var result = c();');
      sameAfterDehoist('var f = function g() { var g; return typeof g; }; var result = f();');
    });

    it('keeps "use strict" first and stays small', () => {
      const code = 'function s() { "use strict"; return [typeof this, t()]; function t() { return 1; } } var result = s();';
      const out = sameAfterDehoist(code);
      assert.match(out, /function s\(\) \{ "use strict";function t\(\)/);
      const minified = 'function a(){var e=1,t=2;return n(e+t);function n(r){return r*2}}var result=a();';
      const d = sameAfterDehoist(minified);
      assert.ok(d.length <= minified.length, d);
    });

    it('removed statements never let neighbours merge (ASI)', () => {
      const code =
        'var calls = [];\nfunction a() { calls.push("a"); return function () { calls.push("called"); }; }\nvar b = 1\na()\nfunction f(){}\n(b)\nvar result = calls;';
      sameAfterDehoist(code);
    });

    it('exact output: functions first, then one var line without params or function names', () => {
      assert.equal(dehoist('function g(a){x();var a=1,b;function x(){}}'), 'function g(a){function x(){}var b;x();a=1;}');
      assert.equal(dehoist('var t0=typeof f;var f=1;function f(){}'), 'function f(){}var t0=typeof f;f=1;');
      assert.equal(
        dehoist('function h(){"use strict";if(c)var v=1;for(var i in o);return v}'),
        'function h(){"use strict";var v,i;if(c)v=1;for(i in o);return v}',
      );
      assert.equal(dehoist('function m(){var e=1,t;n();var r=2;function n(){}}'), 'function m(){function n(){}var r,e=1,t;n();r=2;}');
    });

    it('is idempotent', () => {
      const code = 'x = y; var y = 1, w; f(); function f() { var q = 1; g(); function g() {} } if (y) var v = 2;';
      const once = dehoist(code);
      assert.equal(dehoist(once), once);
    });

    it('rejects a function declaration inside a block', () => {
      assert.throws(
        () => dehoist('if (x) { function f() {} }'),
        (e) => e instanceof DehoistError && /inside a block/.test(e.message),
      );
      assert.throws(() => dehoist('var x = () => 1;'), DehoistError);
    });

    it('terser-minified ES5 program: dehoist then gate passes, behaviour unchanged', async () => {
      const src = `
      var result = main();
      function main() {
        var out = [];
        for (var i = 0; i < 3; i++) { out.push(square(i)); }
        if (out.length > 2) { var extra = describe(out); }
        out.push(extra, typeof later, counter.next(), counter.next());
        return out;
      }
      function square(n) { return n * n; }
      function describe(xs) { return xs.join('-'); }
      var counter = (function () {
        var n = 0;
        return { next: next };
        function next() { n += step(); return n; }
        function step() { return 2; }
      })();
      function later() {}
    `;
      const { code } = await minify(src, { ecma: 5, compress: { passes: 2 }, mangle: true, toplevel: false });
      // terser keeps `main()` above `function main` and moves a var into an if: hoisting needed
      assert.ok(rules(code).includes('use-before-declaration'), code);
      const out = dehoist(code);
      assert.deepEqual(checkBundle(out).errors, [], formatGateErrors(checkBundle(out).errors));
      assert.deepEqual(run(out), run(src));
      assert.deepEqual(run(out), run(code));
    });

    it('tsc (ES5) -> esbuild (IIFE) -> terser (ecma 5) -> dehoist -> gate passes, same result', async () => {
      const ts5 = ts.transpileModule(
        `
      class Base { constructor(public n: number) {} get twice() { return this.n * 2; } }
      class Derived extends Base {
        constructor(n: number, public k = 3) { super(n); }
        sum(...xs: number[]) { let t = 0; for (let i = 0; i < xs.length; i++) t += xs[i]; return t + this.twice + this.k; }
      }
      enum Color { Red, Green }
      namespace NS { export const v = 7; }
      const d = new Derived(2);
      const o = { a: 1, b: 2 };
      const { a, b } = o;
      function later() { return helper(a) + b; }
      function helper(x: number) { return x * 10; }
      (globalThis as any).result = [d.sum(1, 2, 3), later(), Color.Green, NS.v, \`t\${a}\`];
    `,
        { compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.ES2015 } },
      ).outputText;
      const bundled = (await esbuild.transform(ts5, { format: 'iife', loader: 'js', target: 'es5' })).code;
      const { code } = await minify(bundled, { ecma: 5, compress: { passes: 2 }, mangle: true });
      const out = dehoist(code);
      assert.deepEqual(checkBundle(out).errors, [], formatGateErrors(checkBundle(out).errors));
      const r1 = run(ts5, {}),
        r2 = run(out, {});
      assert.deepEqual(r2, r1);
      assert.equal(r2.result, '[13,12,1,7,"t1"]');
    });
  });
});
