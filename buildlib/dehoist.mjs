// dehoist(code): rewrite ES5 code so nothing depends on hoisting (Espruino does not hoist).
// In every function scope and the program scope:
//   * every function declaration of the scope comes first (after any "use strict" prologue), in
//     source order, so a name declared twice still ends up bound to the last one, as in JS;
//     function statements only create bindings, so nothing they do needs the vars yet;
//   * then one line declares all `var` names of the scope: `var a,b,c;`, leaving out names that
//     are parameters, `arguments`, or function declarations of that scope. When the body's first
//     statement (function declarations aside) is a var statement, it becomes that line with the
//     other names put in front (`var a=1,b;…var c=2` -> `var c,a=1,b;…c=2`), so the common
//     minified shape costs nothing; names listed before any initialiser runs, so an initialiser
//     may read any var of the scope (undefined, as in JS);
//   * each original `var` statement becomes plain assignments (`var a=1,b` -> `a=1;`,
//     `for(var i=0;;)` -> `for(i=0;;)`, `for(var k in o)` -> `for(k in o)`).
// A function declaration inside a block (`if (x) { function f(){} }`) has no single ES5
// meaning, so it is rejected with an error rather than guessed at.
// The rewrite is done with text splices over acorn node ranges: no reprinting, the code stays
// as small as the minifier left it.
import { parseES5, locate } from './ast.mjs';
import { analyzeScopes } from './scopes.mjs';

export class DehoistError extends Error {}

function bodyOf(scope) {
  return scope.node.type === 'Program' ? scope.node.body : scope.node.body.body;
}

/** @param {string} code ES5 script. @returns {string} */
export function dehoist(code) {
  let ast;
  try {
    ast = parseES5(code);
  } catch (e) {
    throw new DehoistError(`dehoist: input is not ES5 (${e.message}); dehoist runs after tsc/esbuild/terser with ecma 5`);
  }
  const { scopes } = analyzeScopes(ast);
  const edits = [];

  for (const s of scopes) {
    if (s.kind === 'catch') continue;
    for (const f of s.blockFuncs) {
      const { line, column, snippet } = locate(code, f.start);
      throw new DehoistError(
        `dehoist: function declaration "${f.id.name}" inside a block at ${line}:${column} (${snippet}); ` +
          'its hoisting differs between engines — move it to the enclosing function body or write `var ' +
          f.id.name +
          ' = function () {…}`',
      );
    }
    const body = bodyOf(s);
    const fnNames = new Set(s.funcDecls.map((f) => f.id.name));
    const isParamLike = (n) => (s.decls.get(n) || []).some((d) => d.kind === 'param' || d.kind === 'arguments');
    const names = s.varNames.filter((n) => !fnNames.has(n) && !isParamLike(n));
    if (!names.length && !s.funcDecls.length && !s.varDeclarations.length) continue;

    // insertion point: after the directive prologue ("use strict")
    let at = s.node.type === 'Program' ? 0 : s.node.body.start + 1;
    let prefix = '';
    for (const st of body) {
      if (st.type !== 'ExpressionStatement' || typeof st.directive !== 'string') break;
      at = st.end;
      prefix = code[st.end - 1] === ';' ? '' : ';';
    }
    // The first var statement of the body (when nothing but function declarations precede it)
    // becomes the declaration line itself, so `var e=1,t;` stays that short.
    const lead = body.find((st) => st.type !== 'FunctionDeclaration' && !(st.type === 'ExpressionStatement' && typeof st.directive === 'string'));
    const merged = lead && lead.type === 'VariableDeclaration' ? lead : null;
    const inMerged = new Set(merged ? merged.declarations.map((d) => d.id.name) : []);
    const extra = names.filter((n) => !inMerged.has(n));
    const funcs = s.funcDecls;
    edits.push({
      start: at,
      end: at,
      insert: true,
      stmt: true,
      text: () => {
        const decl = extra.concat(merged ? merged.declarations.map((d) => (d.init ? d.id.name + '=' + renderNode(d.init) : d.id.name)) : []);
        const t = funcs.map((f) => renderNode(f)).join('') + (decl.length ? 'var ' + decl.join(',') + ';' : '');
        return t ? prefix + t : '';
      },
    });
    for (const f of funcs) edits.push({ start: f.start, end: f.end, stmt: true, text: (last, atBoundary) => statementGap(last, atBoundary) });
    for (const v of s.varDeclarations) {
      edits.push(v === merged ? { start: v.start, end: v.end, stmt: true, text: (last, atBoundary) => statementGap(last, atBoundary) } : varEdit(v));
    }
  }

  function varEdit(v) {
    const p = v.parent;
    const assigns = () => v.declarations.filter((d) => d.init).map((d) => d.id.name + '=' + renderNode(d.init));
    if (p.type === 'ForInStatement' && p.left === v) {
      const d = v.declarations[0];
      if (d.init) {
        const { line, column } = locate(code, v.start);
        throw new DehoistError(`dehoist: \`for (var ${d.id.name} = … in …)\` at ${line}:${column} is not supported; initialise the variable before the loop`);
      }
      return { start: v.start, end: v.end, text: () => d.id.name };
    }
    if (p.type === 'ForStatement' && p.init === v) return { start: v.start, end: v.end, text: () => assigns().join(',') };
    const inList = p.type === 'Program' || p.type === 'BlockStatement' || p.type === 'SwitchCase';
    return {
      start: v.start,
      end: v.end,
      stmt: inList,
      text: (last, atBoundary) => {
        const a = assigns();
        if (a.length) return a.join(',') + ';';
        return inList ? statementGap(last, atBoundary) : ';';
      },
    };
  }

  // A removed statement must not let its neighbours merge (`a()\nfunction f(){}\n(b)`):
  // emit `;` unless the output already ends at a statement boundary. `last` is the last
  // non-blank character emitted so far in the current render ('' at its start).
  function statementGap(last, atBoundary) {
    return atBoundary || last === '' || last === ';' || last === '{' ? '' : ';';
  }

  edits.sort((a, b) => a.start - b.start || (b.insert ? 1 : 0) - (a.insert ? 1 : 0) || b.end - a.end);

  function firstEditAt(pos) {
    let lo = 0,
      hi = edits.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edits[mid].start < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // Text of code[start, end) with every edit inside it applied (edits nested in an applied
  // edit are skipped here: the applied edit renders its own pieces).
  function render(start, end, inner) {
    const parts = [];
    let len = 0; // length of the output so far
    let last = ''; // its last non-blank character
    let lastAt = 0; // output length up to and including `last`
    let boundary = -1; // output length at the last statement boundary
    const emit = (t) => {
      if (!t) return;
      parts.push(t);
      let i = t.length;
      while (i > 0 && /\s/.test(t[i - 1])) i--;
      if (i > 0) {
        last = t[i - 1];
        lastAt = len + i;
      }
      len += t.length;
    };
    let pos = start;
    for (let i = firstEditAt(start); i < edits.length; i++) {
      const e = edits[i];
      if (e.start >= end) break;
      if (e.start < pos || e.end > end || (inner && e.start === start)) continue;
      emit(code.slice(pos, e.start));
      emit(e.text(last, boundary >= 0 && lastAt <= boundary));
      pos = e.end;
      if (e.stmt) boundary = len;
    }
    emit(code.slice(pos, end));
    return parts.join('');
  }

  // A node's own text with the edits inside it; edits at its very start belong to the
  // statement the node is being moved out of (its own removal, an outer insertion), never to it.
  function renderNode(n) {
    return render(n.start, n.end, true);
  }

  return render(0, code.length, false);
}
