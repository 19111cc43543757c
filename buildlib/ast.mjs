// Shared AST helpers for the build passes: ES5 parsing and generic traversal.
import * as acorn from 'acorn';

/** Parse ES5 script code. Throws acorn's SyntaxError (with .pos and .loc). */
export function parseES5(code) {
  return acorn.parse(code, {
    ecmaVersion: 5,
    sourceType: 'script',
    locations: true,
    preserveParens: true, // keep `(a, b)` so text edits never drop parentheses
    allowReserved: true,
  });
}

const SKIP = new Set(['type', 'start', 'end', 'loc', 'range', 'regex', 'raw', 'parent', 'scope']);

/** Child nodes of an ESTree node, in source order. */
export function childNodes(node) {
  const out = [];
  for (const key of Object.keys(node)) {
    if (SKIP.has(key)) continue;
    const v = node[key];
    if (Array.isArray(v)) {
      for (const c of v) if (c && typeof c.type === 'string') out.push(c);
    } else if (v && typeof v.type === 'string') {
      out.push(v);
    }
  }
  out.sort((a, b) => a.start - b.start);
  return out;
}

/** Set `.parent` on every node (non-enumerable so traversal ignores it). */
export function linkParents(root) {
  const stack = [root];
  Object.defineProperty(root, 'parent', { value: null, writable: true, enumerable: false });
  while (stack.length) {
    const n = stack.pop();
    for (const c of childNodes(n)) {
      Object.defineProperty(c, 'parent', { value: n, writable: true, enumerable: false });
      stack.push(c);
    }
  }
  return root;
}

/** Depth-first pre-order visit: fn(node) — return false to skip the node's children. */
export function visit(root, fn) {
  const stack = [root];
  while (stack.length) {
    const n = stack.pop();
    if (fn(n) === false) continue;
    const kids = childNodes(n);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
  }
}

/** Strip ParenthesizedExpression wrappers. */
export function unparen(node) {
  while (node && node.type === 'ParenthesizedExpression') node = node.expression;
  return node;
}

/** Parent skipping ParenthesizedExpression wrappers. */
export function parentThroughParens(node) {
  let p = node.parent;
  while (p && p.type === 'ParenthesizedExpression') p = p.parent;
  return p;
}

export const isFunction = (n) => n && (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression');

/** Static property name of a MemberExpression (`a.b` or `a["b"]`), else null. */
export function memberName(m) {
  if (!m || m.type !== 'MemberExpression') return null;
  if (!m.computed) return m.property.name;
  const p = unparen(m.property);
  return p.type === 'Literal' && typeof p.value === 'string' ? p.value : null;
}

/**
 * Is this function expression run immediately where it stands?
 * `(function(){})()`, `!function(){}()`, `new function(){}`, `(function(){}).call(x)` / `.apply(x)`.
 */
export function isIIFE(fn) {
  if (fn.type !== 'FunctionExpression') return false;
  const p = parentThroughParens(fn);
  if (!p) return false;
  if ((p.type === 'CallExpression' || p.type === 'NewExpression') && unparen(p.callee) === fn) return true;
  if (p.type === 'MemberExpression' && unparen(p.object) === fn) {
    const name = memberName(p);
    const c = parentThroughParens(p);
    return (name === 'call' || name === 'apply') && c && c.type === 'CallExpression' && unparen(c.callee) === p;
  }
  return false;
}

/** Line/column (1-based line, 0-based column) of an offset, and a short snippet around it. */
export function locate(code, pos) {
  let line = 1,
    lineStart = 0;
  for (let i = 0; i < pos && i < code.length; i++) {
    if (code.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  let lineEnd = code.indexOf('\n', pos);
  if (lineEnd < 0) lineEnd = code.length;
  const from = Math.max(lineStart, pos - 40);
  const to = Math.min(lineEnd, pos + 40);
  const snippet = (from > lineStart ? '…' : '') + code.slice(from, to) + (to < lineEnd ? '…' : '');
  return { line, column: pos - lineStart, snippet };
}
