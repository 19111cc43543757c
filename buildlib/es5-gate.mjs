// checkBundle(code): static gates for a bundle that must run in Espruino. Each error says
// what to change. Rules:
//   es5-syntax             parses as ES5 script (acorn ecmaVersion 5); ES2015+ constructs named
//   label                  no labelled statements (Espruino ignores labels)
//   regex                  regex literals and RegExp("literal") stay in Espruino's subset
//                          (see regex-subset.mjs; all in-group alternation is rejected)
//   missing-global         no reads of globals Espruino lacks (`typeof X` is allowed)
//   missing-static         no Array.from, Number.isFinite, Promise.race, … (espruinoLacks.statics)
//   builtin-prototype      no Array.prototype.slice-style reads (undefined in Espruino)
//   missing-method         no .finally( .trimStart( .flat( … calls; array-only methods
//                          (lastIndexOf, keys, entries, values) only when the receiver is an
//                          array literal, since strings have lastIndexOf
//   unsupported-argument   no JSON.stringify replacer, JSON.parse reviver, Object.create
//                          properties, split limit
//   function-name          no x.constructor.name (functions have no name)
//   length-assignment      no `x.length = n` / `x.length++` (throws on arrays)
//   function-in-block      no function declaration inside a block
//   use-before-declaration in a scope's straight-line code (its own body plus bodies of
//                          functions invoked on the spot), no reference to a var/function of that
//                          scope before its declaration has run
import { parseES5, visit, unparen, memberName, locate } from './ast.mjs';
import { analyzeScopes, runsInline } from './scopes.mjs';
import { checkRegexSubset } from './regex-subset.mjs';
import { describeNonES5 } from './es5-syntax.mjs';
import { espruinoLacks, instanceFor, objectMethods } from './espruino-lacks.mjs';

export { espruinoLacks };

const isVoid = (n) => {
  n = unparen(n);
  return (
    (n.type === 'Literal' && n.value === null) || (n.type === 'Identifier' && n.name === 'undefined') || (n.type === 'UnaryExpression' && n.operator === 'void')
  );
};

/**
 * @param {string} code ES5 bundle
 * @returns {{errors: Array<{rule:string, message:string, line:number, column:number, snippet:string}>}}
 */
export function checkBundle(code) {
  const errors = [];
  const report = (rule, pos, message) => errors.push({ rule, message, ...locate(code, pos) });

  let ast;
  try {
    ast = parseES5(code);
  } catch (e) {
    for (const f of describeNonES5(code, e)) report('es5-syntax', f.pos, f.message);
    return { errors };
  }

  const { scopes, refs } = analyzeScopes(ast);
  const refOf = new Map(refs.map((r) => [r.id, r]));
  const globalName = (n) => {
    n = unparen(n);
    if (!n || n.type !== 'Identifier') return null;
    const r = refOf.get(n);
    return r && !r.resolved ? n.name : null;
  };

  const checkRegex = (pos, pattern, flags, what) => {
    for (const p of checkRegexSubset(pattern, flags)) {
      report('regex', p.offset < 0 ? pos : pos + 1 + p.offset, `${what} /${pattern}/${flags}: ${p.message}`);
    }
  };

  visit(ast, (n) => {
    switch (n.type) {
      case 'LabeledStatement':
        report(
          'label',
          n.start,
          `labelled statement "${n.label.name}:" — Espruino does not support labels; use a flag variable or move the loops into a function and return`,
        );
        break;
      case 'Literal':
        if (n.regex) checkRegex(n.start, n.regex.pattern, n.regex.flags, 'regex');
        break;
      case 'NewExpression':
      case 'CallExpression': {
        if (globalName(n.callee) === 'RegExp' && n.arguments.length) {
          const a = unparen(n.arguments[0]);
          const f = n.arguments[1] && unparen(n.arguments[1]);
          const flags = f && f.type === 'Literal' && typeof f.value === 'string' ? f.value : '';
          if (a.type === 'Literal' && typeof a.value === 'string') checkRegex(a.start, a.value, flags, 'RegExp');
          else if (flags) checkRegex(f.start, '', flags, 'RegExp flags');
        }
        if (n.type === 'CallExpression') checkCall(n);
        break;
      }
      case 'MemberExpression':
        checkMember(n);
        break;
      case 'AssignmentExpression':
      case 'UpdateExpression': {
        const t = unparen(n.type === 'AssignmentExpression' ? n.left : n.argument);
        if (memberName(t) === 'length') {
          report(
            'length-assignment',
            n.start,
            "assignment to .length — Espruino makes an array's length read-only (it throws); use a.splice(n) to truncate (or rename the property if this is not an array)",
          );
        }
        break;
      }
      default:
    }
  });

  function checkMember(n) {
    const name = memberName(n);
    if (name == null) return;
    const owner = globalName(n.object);
    if (owner && espruinoLacks.statics[`${owner}.${name}`]) {
      report('missing-static', n.start, `${owner}.${name}: ${espruinoLacks.statics[`${owner}.${name}`].reason}`);
    }
    const obj = unparen(n.object);
    if (obj.type === 'MemberExpression' && memberName(obj) === 'prototype') {
      const ctor = globalName(obj.object);
      const p = n.parent;
      const isTarget = p && p.type === 'AssignmentExpression' && unparen(p.left) === n;
      if (ctor && instanceFor[ctor] && !isTarget && !(ctor === 'Object' && objectMethods.includes(name))) {
        report(
          'builtin-prototype',
          n.start,
          `${ctor}.prototype.${name} is undefined in Espruino (a built-in's prototype is an empty object; methods are found on instances): use ${instanceFor[ctor]}.${name}` +
            (ctor === 'Array' ? ` (e.g. [].${name}.call(arguments))` : ''),
        );
      }
    }
    if (name === 'name' && memberName(obj) === 'constructor') {
      report('function-name', n.start, '.constructor.name: functions have no name property in Espruino; store the name yourself (e.g. a static string field)');
    }
  }

  function checkCall(n) {
    const callee = unparen(n.callee);
    const name = memberName(callee);
    if (name == null) return;
    const owner = globalName(callee.object);
    const recv = unparen(callee.object);
    const m = Object.prototype.hasOwnProperty.call(espruinoLacks.methods, name) ? espruinoLacks.methods[name] : null;
    if (m) {
      if (m.gate === 'call' || (m.gate === 'arrayLiteralCall' && recv.type === 'ArrayExpression')) {
        report('missing-method', callee.property.start, `.${name}(…): ${m.reason}`);
      }
    }
    const args = n.arguments;
    if (owner === 'JSON' && name === 'stringify' && args.length >= 2 && !isVoid(args[1])) {
      report(
        'unsupported-argument',
        args[1].start,
        `JSON.stringify(x, replacer): ${espruinoLacks.args['JSON.stringify replacer'].reason}; pass null as the second argument if you need the indent`,
      );
    }
    if (owner === 'JSON' && name === 'parse' && args.length >= 2) {
      report('unsupported-argument', args[1].start, `JSON.parse(x, reviver): ${espruinoLacks.args['JSON.parse reviver'].reason}`);
    }
    if (owner === 'Object' && name === 'create' && args.length >= 2 && !isVoid(args[1])) {
      report('unsupported-argument', args[1].start, `Object.create(proto, properties): ${espruinoLacks.args['Object.create propertiesObject'].reason}`);
    }
    if (name === 'split' && args.length >= 2) {
      report(
        'unsupported-argument',
        args[1].start,
        `.split(separator, limit): ${espruinoLacks.args['String.split limit'].reason} (x.split(sep).slice(0, limit))`,
      );
    }
  }

  for (const s of scopes) {
    for (const f of s.blockFuncs) {
      report(
        'function-in-block',
        f.start,
        `function declaration "${f.id.name}" inside a block: its hoisting differs between engines and dehoist rejects it — move it to the function body or use var ${f.id.name} = function () {…}`,
      );
    }
  }

  const seen = new Set();
  for (const r of refs) {
    const name = r.id.name;
    if (!r.resolved) {
      const g = espruinoLacks.globals[name];
      if (g && !r.inTypeof && Object.prototype.hasOwnProperty.call(espruinoLacks.globals, name)) {
        report(
          'missing-global',
          r.id.start,
          `${name}: ${g.reason}; reading it throws ReferenceError — use plain objects/arrays or a small helper instead (typeof ${name} is safe)`,
        );
      }
      continue;
    }
    const s = r.resolved;
    if (s.kind === 'catch') continue;
    const problem = useBeforeDeclaration(r, s);
    if (!problem) continue;
    const key = `${s.node.start}:${name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    report('use-before-declaration', r.id.start, problem);
  }

  function useBeforeDeclaration(r, s) {
    const name = r.id.name;
    const decls = s.decls.get(name);
    if (!runsInline(r.id, s.node)) return null; // inside a function that runs later
    const at = (d) => {
      const l = locate(code, d.node.start);
      return `${l.line}:${l.column}`;
    };
    const funcs = decls.filter((d) => d.kind === 'function');
    if (funcs.length) {
      if (funcs.some((d) => d.node.start < r.id.start)) return null;
      return `${r.isCall ? `${name}() is called` : `"${name}" is used`} before \`function ${name}\` (declared at ${at(funcs[0])}); Espruino creates a function only when its declaration statement runs — run buildlib/dehoist.mjs on the bundle or move the declaration up`;
    }
    if (decls.some((d) => d.kind === 'param' || d.kind === 'fname' || d.kind === 'arguments')) return null;
    const vars = decls.filter((d) => d.kind === 'var');
    const pos = r.id.start;
    if (vars.some((d) => d.pos <= pos && d.region[0] <= pos && r.id.end <= d.region[1])) return null;
    const earlier = vars.find((d) => d.pos <= pos);
    if (earlier) {
      return `"${name}" is used outside the block whose \`var ${name}\` (at ${at(earlier)}) may not have run; Espruino declares a var only when its statement runs — declare it at the top of the function (dehoist does)`;
    }
    return `"${name}" is ${r.isWrite ? 'assigned' : 'read'} before its \`var ${name}\` (at ${at(vars[0])}); Espruino does not hoist vars (reading throws ReferenceError, assigning makes a global) — run buildlib/dehoist.mjs or move the declaration up`;
  }

  errors.sort((a, b) => a.line - b.line || a.column - b.column);
  return { errors };
}

/** Human-readable lines for a build log. */
export function formatGateErrors(errors) {
  return errors.map((e) => `${e.line}:${e.column} [${e.rule}] ${e.message}\n    ${e.snippet}`).join('\n');
}
