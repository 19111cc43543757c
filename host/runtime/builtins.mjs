// Trims a fresh vm context's built-ins down to what Espruino 2v29 (ESP32 build) has.
// The lists are the JSON blocks of src/jswrap_*.c at c5ff787 (ESP32 defines none of
// SAVE_ON_FLASH / SAVE_ON_FLASH_EXTREME): anything V8 has beyond them is removed, so firmware
// that relies on it fails in tests as it would on the board (espruino-facts.md "Missing built-ins").

// Globals Espruino defines (jswrap_interactive.c, jswrap_json.c, ... "type":"function"/"class").
// Everything else V8 puts on a context's global object is deleted.
const KEEP_GLOBALS = new Set([
  'Object',
  'Function',
  'Array',
  'Number',
  'Boolean',
  'String',
  'Date',
  'RegExp',
  'JSON',
  'Math',
  'Error',
  'TypeError',
  'SyntaxError',
  'ReferenceError', // InternalError is added (not in V8)
  'ArrayBuffer',
  'DataView',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'parseInt',
  'parseFloat',
  'isFinite',
  'isNaN',
  'eval',
  'encodeURIComponent',
  'decodeURIComponent',
  'NaN',
  'Infinity',
  'undefined',
  'globalThis',
]);

const KEEP = {
  // jswrap_array.c
  'Array.prototype': [
    'toString',
    'length',
    'indexOf',
    'includes',
    'join',
    'push',
    'pop',
    'map',
    'forEach',
    'filter',
    'find',
    'findIndex',
    'some',
    'every',
    'reduce',
    'splice',
    'shift',
    'unshift',
    'slice',
    'sort',
    'concat',
    'fill',
    'reverse',
  ],
  Array: ['isArray'],
  // jswrap_object.c (on/emit/... are added by emitter.mjs)
  'Object.prototype': ['valueOf', 'toString', 'hasOwnProperty', '__proto__'],
  Object: [
    'keys',
    'getOwnPropertyNames',
    'values',
    'entries',
    'fromEntries',
    'create',
    'getOwnPropertyDescriptor',
    'getOwnPropertyDescriptors',
    'defineProperty',
    'defineProperties',
    'getPrototypeOf',
    'setPrototypeOf',
    'assign',
  ],
  // jswrap_string.c
  'String.prototype': [
    'length',
    'charAt',
    'charCodeAt',
    'indexOf',
    'lastIndexOf',
    'match',
    'replace',
    'replaceAll',
    'substring',
    'substr',
    'slice',
    'split',
    'toLowerCase',
    'toUpperCase',
    'trim',
    'concat',
    'startsWith',
    'endsWith',
    'includes',
    'repeat',
    'padStart',
    'padEnd',
    'toString',
    'valueOf',
  ],
  String: ['fromCharCode'],
  // jswrap_number.c
  'Number.prototype': ['toFixed', 'toString', 'valueOf'],
  Number: ['NaN', 'MAX_VALUE', 'MIN_VALUE', 'NEGATIVE_INFINITY', 'POSITIVE_INFINITY'],
  // jswrap_math.c
  Math: [
    'E',
    'PI',
    'LN2',
    'LN10',
    'LOG2E',
    'LOG10E',
    'SQRT2',
    'SQRT1_2',
    'abs',
    'acos',
    'asin',
    'atan',
    'atan2',
    'cos',
    'pow',
    'random',
    'round',
    'sin',
    'tan',
    'sqrt',
    'ceil',
    'floor',
    'exp',
    'log',
    'min',
    'max',
    'sign',
  ],
  // jswrap_json.c
  JSON: ['stringify', 'parse'],
  // jswrap_object.c (Function)
  'Function.prototype': ['call', 'apply', 'bind', 'toString', 'length', 'name'],
  // jswrap_arraybuffer.c (ArrayBufferView = %TypedArray%.prototype)
  'TypedArray.prototype': [
    'buffer',
    'byteLength',
    'byteOffset',
    'length',
    'set',
    'map',
    'subarray',
    'indexOf',
    'includes',
    'join',
    'sort',
    'forEach',
    'reduce',
    'fill',
    'filter',
    'find',
    'findIndex',
    'reverse',
    'slice',
    'some',
    'every',
    'toString',
  ],
  'ArrayBuffer.prototype': ['byteLength', 'slice'],
  ArrayBuffer: ['isView'],
  // jswrap_regexp.c
  'RegExp.prototype': [
    'exec',
    'test',
    'toString',
    'source',
    'flags',
    'global',
    'ignoreCase',
    'lastIndex',
    'multiline', // read by String.prototype.match/replace/split internally
    'sticky',
    'unicode',
    'dotAll',
    'hasIndices',
    'unicodeSets',
  ],
  // jswrap_error.c
  'Error.prototype': ['toString', 'message', 'name'],
  Error: [],
};

// V8 needs these (String.prototype.replace/split/match call them): keep the symbol-keyed ones.
function stripObject(obj, keep, extraKeep = []) {
  const allowed = new Set([...keep, ...extraKeep, 'constructor', 'prototype', 'length', 'name']);
  for (const key of Object.getOwnPropertyNames(obj)) {
    if (allowed.has(key)) continue;
    const d = Object.getOwnPropertyDescriptor(obj, key);
    if (d && d.configurable) delete obj[key];
  }
}

/**
 * Strips `g` (the context's global object) in place. Returns { ArrayProtoView } etc. for the caller.
 * `R` holds the context's own intrinsics captured before stripping.
 */
export function stripBuiltins(g, R) {
  for (const key of Object.getOwnPropertyNames(g)) {
    if (KEEP_GLOBALS.has(key)) continue;
    const d = Object.getOwnPropertyDescriptor(g, key);
    if (d && d.configurable) delete g[key];
  }
  const TypedArray = Object.getPrototypeOf(R.Uint8Array);
  const targets = {
    'Object.prototype': R.Object.prototype,
    Object: R.Object,
    'String.prototype': R.String.prototype,
    String: R.String,
    'Number.prototype': R.Number.prototype,
    Number: R.Number,
    Math: R.Math,
    JSON: R.JSON,
    'Function.prototype': R.Function.prototype,
    'TypedArray.prototype': TypedArray.prototype,
    'ArrayBuffer.prototype': R.ArrayBuffer.prototype,
    ArrayBuffer: R.ArrayBuffer,
    'RegExp.prototype': R.RegExp.prototype,
    'Error.prototype': R.Error.prototype,
  };
  for (const [name, obj] of Object.entries(targets)) stripObject(obj, KEEP[name]);
  // %TypedArray% statics (from/of) and each concrete typed array's own statics
  stripObject(TypedArray, []);
  for (const n of ['Uint8Array', 'Uint8ClampedArray', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array'])
    stripObject(g[n], ['BYTES_PER_ELEMENT']);
  stripObject(R.RegExp, []);
  stripObject(R.Error, ['stackTraceLimit']); // captureStackTrace goes; V8 needs stackTraceLimit for e.stack

  // Array: statics, and Array.prototype as *seen through the name Array* (below).
  stripObject(R.Array, KEEP.Array);

  // Object.create(proto, props): "propertiesObject is not supported yet" (jswrap_object.c:426)
  const realCreate = R.Object.create;
  const create = function create(proto, props) {
    if (props !== undefined) throw new R.Error('propertiesObject is not supported yet');
    return realCreate(proto);
  };
  Object.defineProperty(R.Object, 'create', { value: create, writable: true, configurable: true });

  // JSON: the replacer argument "is ignored" (jswrap_json.c:44), parse has no reviver.
  const realStringify = R.JSON.stringify;
  const realParse = R.JSON.parse;
  Object.defineProperty(R.JSON, 'stringify', {
    value: function stringify(data, replacer, space) {
      return realStringify(data, null, space);
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(R.JSON, 'parse', {
    value: function parse(text) {
      return realParse(text);
    },
    writable: true,
    configurable: true,
  });

  // String.prototype.split: no limit argument (espruino-facts.md)
  const realSplit = R.String.prototype.split;
  Object.defineProperty(R.String.prototype, 'split', {
    value: function split(sep) {
      return realSplit.call(this, sep);
    },
    writable: true,
    configurable: true,
  });

  // InternalError (jswrap_error.c): not in V8
  const InternalError = R.eval(
    '(function(){function InternalError(m){if(!(this instanceof InternalError))return new InternalError(m);' +
      'this.message=m===undefined?"":String(m);}InternalError.prototype=Object.create(Error.prototype);' +
      'InternalError.prototype.constructor=InternalError;InternalError.prototype.name="InternalError";' +
      'return InternalError;})()',
  );
  Object.defineProperty(g, 'InternalError', { value: InternalError, writable: true, configurable: true });
  Object.defineProperty(g, 'global', { value: g, writable: true, configurable: true });

  installArrayView(g, R);
}

// On the board `Array.prototype.slice` is undefined while `[].slice` works: built-in methods are
// not properties of the prototype object (espruino-facts.md). The context's `Array` is therefore a
// stand-in constructor whose `.prototype` is a view of the real Array.prototype that hides the
// built-in methods (but shows and accepts user additions, which real arrays then inherit).
// `[] instanceof Array`, `Array.isArray` and `new Array(n)` keep working; `[].constructor === Array`
// is false (documented limitation).
function installArrayView(g, R) {
  const RealArray = R.Array;
  const realProto = RealArray.prototype;
  stripObject(realProto, KEEP['Array.prototype']);
  const builtin = new Map();
  for (const k of Object.getOwnPropertyNames(realProto)) builtin.set(k, realProto[k]);
  const hidden = (k) => typeof k === 'string' && builtin.has(k) && k !== 'length' && k !== 'constructor' && realProto[k] === builtin.get(k);
  const view = new Proxy(realProto, {
    get(t, k, r) {
      if (hidden(k)) return undefined;
      return Reflect.get(t, k);
    },
    has(t, k) {
      if (hidden(k)) return false;
      return Reflect.has(t, k);
    },
    getOwnPropertyDescriptor(t, k) {
      if (hidden(k)) return undefined;
      return Reflect.getOwnPropertyDescriptor(t, k);
    },
    ownKeys(t) {
      return Reflect.ownKeys(t).filter((k) => !hidden(k));
    },
    set(t, k, v) {
      return Reflect.set(t, k, v);
    },
    defineProperty(t, k, d) {
      return Reflect.defineProperty(t, k, d);
    },
  });
  const ArrayCtor = R.eval('(function(RealArray){return function Array(){' + 'return RealArray.apply(undefined, arguments);};})')(RealArray);
  Object.defineProperty(ArrayCtor, 'prototype', { value: view, writable: false });
  ArrayCtor.isArray = RealArray.isArray;
  // `x instanceof Array`: V8 consults the well-known symbol even though `Symbol` is gone
  Object.defineProperty(ArrayCtor, Symbol.hasInstance, {
    value: (x) => RealArray.isArray(x) || (x !== null && typeof x === 'object' && Object.prototype.isPrototypeOf.call(realProto, x)),
  });
  Object.defineProperty(g, 'Array', { value: ArrayCtor, writable: true, configurable: true });
}
