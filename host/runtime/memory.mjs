// process.memory() / E.getSizeOf: Node cannot count Espruino JsVars, so this is an *estimate*:
//   usage = BASE (interpreter's own vars after boot, assumed)
//         + code: per function 3 vars (function, code reference in flash, scope) + 1 per parameter,
//           + 1 per declared variable (counted with acorn when the bundle is loaded; code run from
//           Storage keeps function bodies in flash, espruino-facts.md "Memory")
//         + data reachable from the global object, timers, watches and listeners, counted like
//           Espruino stores it: 1 var per object/array/function, 1 per property (name + small value),
//           strings 1 block per 12 chars beyond the first 4, typed arrays 2 + bytes/14.
// Values held only in closures are invisible to the host and are not counted.
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';

export const BASE_VARS = 150;

export function staticCodeVars(code) {
  let vars = 0;
  try {
    const ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true, allowReturnOutsideFunction: true });
    walk.full(ast, (node) => {
      if (node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression') {
        vars += 3 + node.params.length;
      } else if (node.type === 'VariableDeclarator') vars += 1;
    });
  } catch {
    vars = Math.ceil(code.length / 20); // unparsable: rough guess
  }
  return vars;
}

export function stringVars(len) {
  return len <= 4 ? 0 : Math.ceil((len - 4) / 12);
}

export function sizeOf(root, seen = new Set(), depth = Infinity) {
  let n = 0;
  const stack = [[root, 0]];
  while (stack.length) {
    const [v, d] = stack.pop();
    if (v === null || v === undefined) continue;
    if (typeof v === 'string') {
      n += 1 + stringVars(v.length);
      continue;
    }
    if (typeof v !== 'object' && typeof v !== 'function') {
      n += 1;
      continue;
    }
    if (seen.has(v)) continue;
    seen.add(v);
    if (ArrayBuffer.isView(v) || Object.prototype.toString.call(v) === '[object ArrayBuffer]') {
      n += 2 + Math.ceil((v.byteLength || 0) / 14);
      continue;
    }
    n += 1;
    if (d >= depth) continue;
    let keys;
    try {
      keys = Object.getOwnPropertyNames(v);
    } catch {
      continue;
    }
    for (const k of keys) {
      if (typeof v === 'function' && (k === 'length' || k === 'name' || k === 'prototype' || k === 'arguments' || k === 'caller')) continue;
      let val;
      try {
        const desc = Object.getOwnPropertyDescriptor(v, k);
        if (!desc || !('value' in desc)) continue;
        val = desc.value;
      } catch {
        continue;
      }
      n += stringVars(k.length); // the name var itself is counted with the value
      if (val !== null && (typeof val === 'object' || typeof val === 'function' || (typeof val === 'string' && val.length > 4))) {
        n += 1;
        stack.push([val, d + 1]);
      } else n += 1;
    }
  }
  return n;
}

export function blockSize(total) {
  // boards/ESP32.py table: 4095 -> 13, 8191 -> 13, 16383 -> 14, 65535 -> 16 bytes per JsVar
  if (total <= 8191) return 13;
  if (total <= 16383) return 14;
  return 16;
}
