// ES5 scope analysis: function/program scopes (var + function declarations, params),
// catch scopes, and every identifier reference resolved to the scope that declares it.
import { childNodes, linkParents, parentThroughParens, unparen, isIIFE, isFunction } from './ast.mjs';

/**
 * @typedef {{kind:'var'|'function'|'param'|'catch'|'fname'|'arguments', node:any, pos:number, region:[number,number]}} Decl
 * @typedef {{node:any, kind:'program'|'function'|'catch', parent:Scope|null, fnScope:Scope,
 *   decls:Map<string,Decl[]>, varNames:string[], varDeclarations:any[], funcDecls:any[], blockFuncs:any[]}} Scope
 */

function newScope(node, kind, parent, fnScope) {
  const s = { node, kind, parent, fnScope: null, decls: new Map(), varNames: [], varDeclarations: [], funcDecls: [], blockFuncs: [] };
  s.fnScope = fnScope || s;
  return s;
}

function declare(scope, name, decl) {
  let list = scope.decls.get(name);
  if (!list) scope.decls.set(name, (list = []));
  list.push(decl);
}

/** Region of the code in which a `var` declarator is certain to have run once its id is passed. */
function varRegion(declarator) {
  const decl = declarator.parent;
  let stmt = decl;
  const p = decl.parent;
  if (p.type === 'ForInStatement' && p.left === decl) return [p.start, p.end];
  if (p.type === 'ForStatement' && p.init === decl) stmt = p;
  const q = stmt.parent;
  if (q.type === 'Program' || q.type === 'BlockStatement' || q.type === 'SwitchCase') return [q.start, q.end];
  return [stmt.start, stmt.end];
}

/** The statement list a function declaration sits in must be its function's body (or the program). */
function isBodyLevel(fnDecl, fnScope) {
  const p = fnDecl.parent;
  const owner = fnScope.node;
  return owner.type === 'Program' ? p === owner : p === owner.body;
}

/**
 * Analyse an acorn ES5 AST (parents are linked here).
 * @returns {{program:Scope, scopes:Scope[], refs:Array<{id:any, scope:Scope, resolved:Scope|null,
 *   isWrite:boolean, isCall:boolean, inTypeof:boolean}>}}
 */
export function analyzeScopes(ast) {
  linkParents(ast);
  const scopes = [];
  const refs = [];
  const program = newScope(ast, 'program', null, null);
  scopes.push(program);

  function enterFunction(fn, lex) {
    const s = newScope(fn, 'function', lex, null);
    scopes.push(s);
    fn.scope = s;
    if (fn.type === 'FunctionExpression' && fn.id) declare(s, fn.id.name, { kind: 'fname', node: fn.id, pos: fn.start, region: [fn.start, fn.end] });
    for (const p of fn.params) declare(s, p.name, { kind: 'param', node: p, pos: fn.start, region: [fn.start, fn.end] });
    declare(s, 'arguments', { kind: 'arguments', node: fn, pos: fn.start, region: [fn.start, fn.end] });
    walk(fn.body, s, s);
  }

  function walk(node, fnScope, lex) {
    switch (node.type) {
      case 'FunctionDeclaration': {
        declare(fnScope, node.id.name, { kind: 'function', node, pos: node.start, region: [node.parent.start, node.parent.end] });
        (isBodyLevel(node, fnScope) ? fnScope.funcDecls : fnScope.blockFuncs).push(node);
        enterFunction(node, lex);
        return;
      }
      case 'FunctionExpression':
        enterFunction(node, lex);
        return;
      case 'VariableDeclaration':
        fnScope.varDeclarations.push(node);
        for (const d of node.declarations) {
          const name = d.id.name;
          if (!fnScope.decls.has(name) || !fnScope.decls.get(name).some((x) => x.kind === 'var')) fnScope.varNames.push(name);
          declare(fnScope, name, { kind: 'var', node: d, pos: d.id.end, region: varRegion(d) });
          if (d.init) walk(d.init, fnScope, lex);
        }
        return;
      case 'CatchClause': {
        const c = newScope(node, 'catch', lex, fnScope);
        scopes.push(c);
        node.scope = c;
        declare(c, node.param.name, { kind: 'catch', node: node.param, pos: node.start, region: [node.start, node.end] });
        walk(node.body, fnScope, c);
        return;
      }
      case 'MemberExpression':
        walk(node.object, fnScope, lex);
        if (node.computed) walk(node.property, fnScope, lex);
        return;
      case 'Property':
        if (node.computed) walk(node.key, fnScope, lex);
        walk(node.value, fnScope, lex);
        return;
      case 'LabeledStatement':
        walk(node.body, fnScope, lex);
        return;
      case 'BreakStatement':
      case 'ContinueStatement':
        return;
      case 'Identifier': {
        const p = parentThroughParens(node);
        const isWrite =
          (p.type === 'AssignmentExpression' && unparen(p.left) === node) ||
          p.type === 'UpdateExpression' ||
          (p.type === 'ForInStatement' && unparen(p.left) === node);
        const isCall = (p.type === 'CallExpression' || p.type === 'NewExpression') && unparen(p.callee) === node;
        const inTypeof = p.type === 'UnaryExpression' && p.operator === 'typeof';
        refs.push({ id: node, scope: lex, fnScope, resolved: null, isWrite, isCall, inTypeof });
        return;
      }
      default:
        for (const c of childNodes(node)) walk(c, fnScope, lex);
    }
  }

  ast.scope = program;
  for (const stmt of ast.body) walk(stmt, program, program);

  for (const r of refs) {
    let s = r.scope;
    while (s && !s.decls.has(r.id.name)) s = s.parent;
    r.resolved = s;
  }
  return { program, scopes, refs };
}

/** Innermost function (or Program) whose own code contains `node`. */
export function enclosingFunction(node) {
  let p = node.parent;
  while (p && !isFunction(p) && p.type !== 'Program') p = p.parent;
  return p;
}

/**
 * Does `node` run as part of `owner`'s straight-line code? True when every function between them
 * is invoked on the spot (IIFE); a function body that merely exists runs later, so false.
 */
export function runsInline(node, owner) {
  let f = enclosingFunction(node);
  while (f && f !== owner) {
    if (!isIIFE(f)) return false;
    f = enclosingFunction(f);
  }
  return f === owner;
}
