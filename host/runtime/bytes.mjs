// Turning firmware values into bytes the way jsvIterateCallback does (src/jsvariterator.c:28):
// numbers (and booleans, pins) are one byte each, strings one byte per char, ArrayBuffers/typed
// arrays element by element, arrays recursively, {data, count} repeats, {callback} calls; anything
// else throws "Expecting Number or iterable, got <type>". Strings are byte strings (charCode & 255).

export function typeName(v) {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'Array';
  if (typeof v === 'function') return 'Function';
  if (typeof v === 'object') return 'Object';
  return typeof v;
}

export function createBytes(R, { isPin }) {
  const TypedArray = Object.getPrototypeOf(R.Uint8Array);
  const isTyped = (v) => v instanceof TypedArray;
  const isAB = (v) => v instanceof R.ArrayBuffer || v instanceof ArrayBuffer;

  function each(v, out) {
    if (typeof v === 'number' || typeof v === 'boolean') out.push(Number(v) & 255);
    else if (isPin(v)) out.push(Number(v) & 255);
    else if (typeof v === 'string') for (let i = 0; i < v.length; i++) out.push(v.charCodeAt(i) & 255);
    else if (isAB(v)) {
      const u = new Uint8Array(v);
      for (let i = 0; i < u.length; i++) out.push(u[i]);
    } else if (isTyped(v) || ArrayBuffer.isView(v)) {
      for (let i = 0; i < v.length; i++) out.push(Math.trunc(Number(v[i])) & 255);
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) each(v[i], out);
    } else if (v !== null && typeof v === 'object') {
      if (typeof v.callback === 'function') {
        const r = v.callback();
        if (r !== undefined && r !== null) each(r, out);
        return;
      }
      if ('count' in v && 'data' in v && typeof v.count === 'number') {
        for (let n = v.count; n > 0; n--) each(v.data, out);
        return;
      }
      throw new R.TypeError(`If specifying an object, it must be of the form {data : ..., count : N} or {callback : fn} - got ${safeJson(v)}`);
    } else {
      throw new R.TypeError(`Expecting Number or iterable, got ${typeName(v)}`);
    }
  }

  return {
    /** all arguments flattened into one array of byte values */
    toByteArray(...args) {
      const out = [];
      for (const a of args) each(a, out);
      return out;
    },
    toBinaryString(...args) {
      const out = [];
      for (const a of args) each(a, out);
      return bytesToString(out);
    },
    uint8(bytes) {
      const u = new R.Uint8Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) u[i] = bytes[i];
      return u;
    },
    arrayBuffer(bytes) {
      const u = new R.Uint8Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) u[i] = bytes[i];
      return u.buffer;
    },
  };
}

export function bytesToString(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode.apply(null, bytes.slice(i, i + 8192));
  return s;
}

export function stringToBytes(s) {
  const out = new Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 255;
  return out;
}

function safeJson(v) {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
