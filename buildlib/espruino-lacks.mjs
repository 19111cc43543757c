// espruinoLacks: the one place that knows what the Espruino interpreter does not have.
// Source checked: espruino/Espruino at c5ff787 (github.com/espruino/Espruino), whose
// built-ins are all declared by `/*JSON{ "type":…, "class":…, "name":… }*/` blocks in
// src/jswrap_*.c (plus board libs, none of which define these names).
//
// Every entry has
//   reason — why it is listed (what the source shows), and what to write instead;
//   probe  — an ES5 expression that is TRUE while Espruino still lacks the thing and FALSE on a
//            complete engine (test/build-gates.test.mjs checks every probe is false in Node;
//            run the probes in the real interpreter to confirm the table: each should be true).
// `gate` says how es5-gate.mjs uses the entry ('global', 'static', 'call', 'arrayLiteralCall',
// 'none' = listed for completeness, not statically detectable without false alarms).

const noGlobal = (name) => ({ reason: `no global ${name} in Espruino (no jswrap_*.c declares it)`, probe: `typeof ${name} === "undefined"`, gate: 'global' });
const noStatic = (owner, name, instead) => ({
  reason:
    `${owner} has no static ${name} in Espruino (src/jswrap_${owner === 'Promise' ? 'promise' : owner.toLowerCase()}.c)` + (instead ? `; ${instead}` : ''),
  probe: `typeof ${owner}.${name} === "undefined"`,
  gate: 'static',
});
const noMethod = (receiver, cls, name, instead, gate = 'call') => ({
  reason: `${cls}.prototype.${name} does not exist in Espruino (src/jswrap_${cls.toLowerCase()}.c)` + (instead ? `; ${instead}` : ''),
  probe: `typeof (${receiver}).${name} === "undefined"`,
  gate,
});

export const espruinoLacks = {
  /** Global names: reading one throws ReferenceError (`typeof X` is safe). */
  globals: {
    Map: noGlobal('Map'),
    Set: noGlobal('Set'),
    WeakMap: noGlobal('WeakMap'),
    WeakSet: noGlobal('WeakSet'),
    WeakRef: noGlobal('WeakRef'),
    FinalizationRegistry: noGlobal('FinalizationRegistry'),
    Symbol: noGlobal('Symbol'),
    Reflect: noGlobal('Reflect'),
    Proxy: noGlobal('Proxy'),
    BigInt: noGlobal('BigInt'),
    BigInt64Array: noGlobal('BigInt64Array'),
    BigUint64Array: noGlobal('BigUint64Array'),
    RangeError: noGlobal('RangeError'),
    EvalError: noGlobal('EvalError'),
    URIError: noGlobal('URIError'),
    AggregateError: noGlobal('AggregateError'),
    Intl: noGlobal('Intl'),
    SharedArrayBuffer: noGlobal('SharedArrayBuffer'),
    Atomics: noGlobal('Atomics'),
    encodeURI: noGlobal('encodeURI'),
    decodeURI: noGlobal('decodeURI'),
    escape: noGlobal('escape'),
    unescape: noGlobal('unescape'),
    queueMicrotask: noGlobal('queueMicrotask'),
    setImmediate: noGlobal('setImmediate'),
    structuredClone: noGlobal('structuredClone'),
  },
  /** Static members of globals that do exist. Key: "Owner.name". */
  statics: {
    'Array.from': noStatic('Array', 'from', 'copy with a for loop or [].slice.call(x)'),
    'Array.of': noStatic('Array', 'of', 'use an array literal'),
    'Number.isFinite': noStatic('Number', 'isFinite', 'use typeof x === "number" && isFinite(x)'),
    'Number.isInteger': noStatic('Number', 'isInteger', 'use typeof x === "number" && Math.floor(x) === x'),
    'Number.isNaN': noStatic('Number', 'isNaN', 'use x !== x'),
    'Number.isSafeInteger': noStatic('Number', 'isSafeInteger'),
    'Number.parseFloat': noStatic('Number', 'parseFloat', 'use the global parseFloat'),
    'Number.parseInt': noStatic('Number', 'parseInt', 'use the global parseInt'),
    'Number.EPSILON': noStatic('Number', 'EPSILON', 'write the constant'),
    'Number.MAX_SAFE_INTEGER': noStatic('Number', 'MAX_SAFE_INTEGER', 'write 9007199254740991'),
    'Number.MIN_SAFE_INTEGER': noStatic('Number', 'MIN_SAFE_INTEGER', 'write -9007199254740991'),
    'Math.trunc': noStatic('Math', 'trunc', 'use x < 0 ? Math.ceil(x) : Math.floor(x)'),
    'Math.log2': noStatic('Math', 'log2', 'use Math.log(x) / Math.LN2'),
    'Math.log10': noStatic('Math', 'log10', 'use Math.log(x) / Math.LN10'),
    'Math.log1p': noStatic('Math', 'log1p'),
    'Math.expm1': noStatic('Math', 'expm1'),
    'Math.hypot': noStatic('Math', 'hypot', 'use Math.sqrt(a*a + b*b)'),
    'Math.cbrt': noStatic('Math', 'cbrt'),
    'Math.sinh': noStatic('Math', 'sinh'),
    'Math.cosh': noStatic('Math', 'cosh'),
    'Math.tanh': noStatic('Math', 'tanh'),
    'Math.asinh': noStatic('Math', 'asinh'),
    'Math.acosh': noStatic('Math', 'acosh'),
    'Math.atanh': noStatic('Math', 'atanh'),
    'Math.fround': noStatic('Math', 'fround'),
    'Math.imul': noStatic('Math', 'imul', 'use (a * b) | 0 for small operands'),
    'Math.clz32': noStatic('Math', 'clz32'),
    'Date.UTC': noStatic('Date', 'UTC', 'use new Date(isoString).getTime() or compute the epoch arithmetic'),
    'Object.freeze': noStatic('Object', 'freeze', 'drop it (objects stay mutable on the device)'),
    'Object.is': noStatic('Object', 'is', 'use === (plus x !== x for NaN)'),
    'Object.seal': noStatic('Object', 'seal'),
    'Object.isFrozen': noStatic('Object', 'isFrozen'),
    'Object.isSealed': noStatic('Object', 'isSealed'),
    'Object.preventExtensions': noStatic('Object', 'preventExtensions'),
    'Object.isExtensible': noStatic('Object', 'isExtensible'),
    'Object.getOwnPropertySymbols': noStatic('Object', 'getOwnPropertySymbols'),
    'Promise.race': noStatic('Promise', 'race', "settle a new Promise from each input's then/catch"),
    'Promise.allSettled': noStatic('Promise', 'allSettled', 'map each promise through .then(ok, fail) and Promise.all the results'),
    'Promise.any': noStatic('Promise', 'any'),
    'String.raw': noStatic('String', 'raw'),
    'String.fromCodePoint': noStatic('String', 'fromCodePoint', 'use String.fromCharCode'),
  },
  /** Instance methods, flagged on `x.name(…)` calls (gate 'call') or only on array literals. */
  methods: {
    finally: noMethod('Promise.resolve()', 'Promise', 'finally', 'use .then(f, f) (Promise has only then/catch: src/jswrap_promise.c:516-561)'),
    trimStart: noMethod('""', 'String', 'trimStart', 'use .replace(/^\\s+/, "") or .trim()'),
    trimEnd: noMethod('""', 'String', 'trimEnd', 'use .replace(/\\s+$/, "") or .trim()'),
    trimLeft: noMethod('""', 'String', 'trimLeft', 'use .replace(/^\\s+/, "")'),
    trimRight: noMethod('""', 'String', 'trimRight', 'use .replace(/\\s+$/, "")'),
    codePointAt: noMethod('""', 'String', 'codePointAt', 'use .charCodeAt'),
    localeCompare: noMethod('""', 'String', 'localeCompare', 'compare with < and >'),
    normalize: noMethod('""', 'String', 'normalize', 'drop it (strings are byte strings)'),
    matchAll: noMethod('""', 'String', 'matchAll', 'loop over .match / indexOf'),
    flat: noMethod('[]', 'Array', 'flat', 'concat in a loop: [].concat.apply([], a) for one level'),
    flatMap: noMethod('[]', 'Array', 'flatMap', 'map then concat in a loop'),
    findLast: noMethod('[]', 'Array', 'findLast', 'loop backwards'),
    findLastIndex: noMethod('[]', 'Array', 'findLastIndex', 'loop backwards'),
    reduceRight: noMethod('[]', 'Array', 'reduceRight', 'loop backwards'),
    copyWithin: noMethod('[]', 'Array', 'copyWithin', 'copy in a loop'),
    toPrecision: noMethod('1', 'Number', 'toPrecision', 'use toFixed (the only Number method: src/jswrap_number.c:127)'),
    toExponential: noMethod('1', 'Number', 'toExponential', 'use toFixed'),
    // String.prototype.lastIndexOf exists (src/jswrap_string.c:175); only arrays lack it, so a
    // call can only be judged when the receiver is visibly an array (an array literal).
    lastIndexOf: noMethod('[]', 'Array', 'lastIndexOf', 'loop backwards (strings do have lastIndexOf)', 'arrayLiteralCall'),
    keys: noMethod('[]', 'Array', 'keys', 'use an index loop (Object.keys exists)', 'arrayLiteralCall'),
    entries: noMethod('[]', 'Array', 'entries', 'use an index loop', 'arrayLiteralCall'),
    values: noMethod('[]', 'Array', 'values', 'use the array itself', 'arrayLiteralCall'),
    // `.at(` is also the modem driver's AT-command vocabulary: too many false alarms to gate.
    at: noMethod('[]', 'Array', 'at', 'use a[i] / a[a.length - 1]', 'none'),
    search: noMethod('""', 'String', 'search', 'use .match(re) and its index', 'none'),
  },
  /** Arguments Espruino ignores or refuses. */
  args: {
    'JSON.stringify replacer': {
      reason: 'JSON.stringify ignores its replacer (src/jswrap_json.c:40-60: "This value is ignored"); map the data first',
      probe: 'JSON.stringify({a:1}, function (k, v) { return k === "a" ? 2 : v; }) !== "{\\"a\\":2}"',
      gate: 'JSON.stringify(x, r)',
    },
    'JSON.parse reviver': {
      reason: 'JSON.parse takes one parameter (src/jswrap_json.c:174-180); post-process the result',
      probe: 'JSON.parse("{\\"a\\":1}", function (k, v) { return k === "a" ? 2 : v; }).a !== 2',
      gate: 'JSON.parse(x, r)',
    },
    'Object.create propertiesObject': {
      reason: 'Object.create throws "propertiesObject is not supported yet" (src/jswrap_object.c:409-426); create then assign/defineProperty',
      probe: '(function () { try { return Object.create({}, { a: { value: 1 } }).a !== 1; } catch (e) { return true; } })()',
      gate: 'Object.create(p, props)',
    },
    'String.split limit': {
      reason: 'String.prototype.split takes only the separator (src/jswrap_string.c:547-555); slice the result instead',
      probe: '"a,b,c".split(",", 1).length !== 1',
      gate: 'x.split(sep, limit)',
    },
  },
  /** Other behaviours. */
  other: {
    'Array.prototype methods': {
      reason:
        'X.prototype of a built-in is a fresh empty object (src/jsparse.c:966-975) and built-in methods are resolved per instance type (src/jsparse.c:938-943), so Array.prototype.slice etc. are undefined; read them off an instance: [].slice',
      probe: 'typeof Array.prototype.slice === "undefined"',
      gate: 'X.prototype.m',
    },
    'array length assignment': {
      reason: "an array's length is made constant when read as a name (src/jsparse.c:962-963); `a.length = n` throws — use a.splice(n)",
      probe: '(function () { try { var a = [1, 2]; a.length = 1; return a.length !== 1; } catch (e) { return true; } })()',
      gate: 'x.length = n',
    },
    'Function.name': { reason: 'functions have no name property', probe: '(function f() {}).name !== "f"', gate: 'x.constructor.name' },
    'Error().name': { reason: 'Error instances have no name property; set this.name yourself', probe: 'new Error("x").name !== "Error"', gate: 'none' },
    labels: {
      reason: 'labelled statements and break/continue label are not supported',
      probe: '(function () { try { return eval("var n = 0; a: for (;;) { for (;;) { n++; break a; } } n") !== 1; } catch (e) { return true; } })()',
      gate: 'LabeledStatement',
    },
    hoisting: {
      reason: 'function declarations and vars exist only once their statement has run (src/jsparse.c:2330-2380: `var` creates the name when executed)',
      probe: '(function () { try { return eval("(function () { return typeof g; function g() {} })()") !== "function"; } catch (e) { return true; } })()',
      gate: 'use-before-declaration',
    },
  },
  /** Regular-expression features (src/jswrap_regexp.c: matchhere/matchcharacter, lines 28-270). */
  regex: {
    '? quantifier': { reason: '`?` is matched as a literal character (matchhere knows only * and +)', probe: '!/^ab?c$/.test("ac")' },
    '{n,m} quantifier': { reason: 'numeric quantifiers are not implemented (`{` is literal)', probe: '!/^a{2}$/.test("aa")' },
    'lazy quantifier': { reason: '`*?`/`+?`: the `?` is a literal', probe: '!/^a+?$/.test("aa")' },
    '(?:) and lookaround': { reason: '`(?` opens an ordinary group and `?` is literal', probe: '!/^(?:a)$/.test("a")' },
    '\\b \\B': { reason: '\\b means backspace (0x08) in matchcharacter, not a word boundary', probe: '!/\\bx/.test("a x")' },
    backreference: {
      reason: 'matchcharacter throws "Backreferences not supported"',
      probe: '(function () { try { return !/^(a)\\1$/.test("aa"); } catch (e) { return true; } })()',
    },
    'quantified group': { reason: '* and + apply to the previous character/class only; after `)` they are literals', probe: '!/^(ab)+$/.test("abab")' },
    'nested group': {
      reason: '`)` closes the most recently opened group, so outer groups capture wrong spans',
      probe: '(/^((a)b)$/.exec("ab") || [])[1] !== "ab"',
    },
    'alternation in group': { reason: '`|` jumps to the next `|` of the whole pattern, ignoring groups', probe: '!/^x(a|b)$/.test("xb")' },
    'more than 9 groups': {
      reason: 'MAX_GROUPS is 9 (src/jswrap_regexp.c:28)',
      probe: '(/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)/.exec("abcdefghij") || [])[10] !== "j"',
    },
    'flags other than g i': { reason: "only hasFlag('g') and hasFlag('i') are consulted", probe: '!/^b/m.test("a\\nb")' },
    '\\u escape': { reason: 'not among matchcharacter\'s escapes: matches a literal "u"', probe: '!/\\u0041/.test("A")' },
  },
};

/** Instance forms to suggest for `X.prototype.m` reads. */
export const instanceFor = {
  Array: '[]',
  String: '""',
  Object: '({})',
  Function: '(function () {})',
  Number: '(0)',
  Boolean: '(!0)',
  Date: 'new Date()',
  RegExp: '/x/',
  Promise: 'Promise.resolve()',
  Error: 'new Error()',
};

/** Object methods Espruino finds on any object, so `Object.prototype.<m>` does resolve (src/jswrap_object.c). */
export const objectMethods = [
  'valueOf',
  'toString',
  'clone',
  'hasOwnProperty',
  'on',
  'addListener',
  'prependListener',
  'emit',
  'removeListener',
  'removeAllListeners',
];

/**
 * An ES5 script that evaluates every probe and prints one JSON object
 * `{ "globals.Map": true, … }` with console.log. Run it in the real interpreter
 * (e.g. `espruino probe.js` on Linux): every value should be `true`; a `false` means
 * Espruino has gained the feature and the entry can go. In Node every value is `false`.
 */
export function probeScript() {
  const lines = ['var r = {};'];
  for (const [cat, table] of Object.entries(espruinoLacks)) {
    for (const [name, e] of Object.entries(table)) {
      const key = JSON.stringify(`${cat}.${name}`);
      lines.push(`try { r[${key}] = !!(${e.probe}); } catch (e) { r[${key}] = "threw: " + e; }`);
    }
  }
  lines.push('console.log(JSON.stringify(r));');
  return lines.join('\n');
}
