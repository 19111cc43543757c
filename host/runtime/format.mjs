// console.log / print formatting, approximating Espruino's (jswrap_interactive.c print ->
// jsfGetJSON with JSON_SOME_NEWLINES|JSON_PRETTY|JSON_SHOW_DEVICES): strings raw, arguments joined
// by a space, objects as `{ "a": 1, "b": [ 1, 2 ] }`, typed arrays as `new Uint8Array([1, 2])`,
// functions as `function () { ... }`, errors as `Error: msg`.

export function formatArgs(args, R) {
  return Array.prototype.map.call(args, (a) => (typeof a === 'string' ? a : formatValue(a, R, 0, new Set()))).join(' ');
}

export function formatValue(v, R, depth, seen) {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'function') return `function ${v.name && v.name !== 'anonymous' ? v.name : ''}() { ... }`.replace('function  ', 'function ');
  if (seen.has(v) || depth > 8) return '...';
  seen.add(v);
  try {
    if (v instanceof R.Error || (typeof v.message === 'string' && typeof v.stack === 'string')) return String(v);
    const TA = Object.getPrototypeOf(R.Uint8Array);
    if (v instanceof TA) return `new ${v.constructor.name}([${Array.from(v).join(', ')}])`;
    if (v instanceof R.ArrayBuffer) return `new Uint8Array([${Array.from(new Uint8Array(v)).join(', ')}]).buffer`;
    if (v instanceof R.Date) return String(v);
    if (typeof v.valueOf === 'function' && v.constructor && v.constructor.name === 'Pin') return String(v);
    if (Array.isArray(v)) {
      if (!v.length) return '[  ]';
      return `[ ${v.map((x) => formatValue(x, R, depth + 1, seen)).join(', ')} ]`;
    }
    const keys = Object.keys(v);
    if (!keys.length) return '{  }';
    return `{ ${keys.map((k) => `${JSON.stringify(k)}: ${formatValue(v[k], R, depth + 1, seen)}`).join(', ')} }`;
  } finally {
    seen.delete(v);
  }
}
