// Names the ES2015+ constructs in code that failed to parse as ES5, so the gate can say
// what to change instead of only "Unexpected token".
import * as acorn from 'acorn';
import { visit } from './ast.mjs';

const LOWER = 'compile it away (tsc target ES5) or rewrite it in ES5';

function classify(n) {
  switch (n.type) {
    case 'VariableDeclaration':
      return n.kind !== 'var' ? [`\`${n.kind}\` declaration`, 'use var (tsc target ES5 does this)'] : null;
    case 'ArrowFunctionExpression':
      return ['arrow function', 'use function () {} (and capture `this` in a var)'];
    case 'ClassDeclaration':
    case 'ClassExpression':
      return ['class', 'use a constructor function and prototype (tsc target ES5)'];
    case 'TemplateLiteral':
      return n.parent && n.parent.type === 'TaggedTemplateExpression' ? null : ['template literal', 'use string concatenation'];
    case 'TaggedTemplateExpression':
      return ['tagged template', 'call the function with plain arguments'];
    case 'ObjectPattern':
    case 'ArrayPattern':
      return ['destructuring', 'read the properties one by one'];
    case 'SpreadElement':
      return ['spread `...`', 'use apply/concat'];
    case 'RestElement':
      return ['rest `...`', 'use arguments / [].slice.call(arguments, n)'];
    case 'AssignmentPattern':
      return ['default value', 'test for undefined in the body'];
    case 'ForOfStatement':
      return ['for…of', 'use an index loop'];
    case 'ChainExpression':
      return ['optional chaining `?.`', 'use explicit checks (a && a.b)'];
    case 'LogicalExpression':
      return n.operator === '??' ? ['nullish coalescing `??`', 'use (a != null ? a : b)'] : null;
    case 'BinaryExpression':
      return n.operator === '**' ? ['exponent operator `**`', 'use Math.pow'] : null;
    case 'AssignmentExpression':
      return /^(\*\*|\?\?|\|\||&&)=$/.test(n.operator) ? [`\`${n.operator}\` assignment`, 'write the long form'] : null;
    case 'Property':
      return n.computed
        ? ['computed property key', 'assign the property after creating the object']
        : n.method
          ? ['method shorthand', 'write key: function () {}']
          : n.shorthand
            ? ['shorthand property', 'write key: key']
            : null;
    case 'FunctionDeclaration':
    case 'FunctionExpression':
      return n.async ? ['async function', LOWER] : n.generator ? ['generator function', LOWER] : null;
    case 'AwaitExpression':
      return ['await', LOWER];
    case 'YieldExpression':
      return ['yield', LOWER];
    case 'MetaProperty':
      return [`${n.meta.name}.${n.property.name}`, LOWER];
    case 'ImportDeclaration':
    case 'ExportNamedDeclaration':
    case 'ExportDefaultDeclaration':
    case 'ExportAllDeclaration':
    case 'ImportExpression':
      return ['module syntax (import/export)', 'bundle to one IIFE script (esbuild format iife)'];
    case 'CatchClause':
      return n.param ? null : ['catch without a binding', 'write catch (e)'];
    case 'Literal':
      if (typeof n.bigint === 'string') return ['BigInt literal', 'use a number'];
      if (n.regex && /[^gim]/.test(n.regex.flags)) return [`regex flag(s) "${n.regex.flags}"`, 'Espruino knows only g and i'];
      if (typeof n.value === 'number' && /^0[bBoO]|_/.test(n.raw)) return ['ES2015+ number literal', 'write a plain decimal or hex number'];
      return null;
    default:
      return null;
  }
}

/**
 * @param {string} code
 * @returns {Array<{pos:number, message:string}>} one entry per ES2015+ construct, or the ES5
 *   parser's own message when none can be named.
 */
export function describeNonES5(code, es5Error) {
  let ast = null;
  for (const sourceType of ['script', 'module']) {
    try {
      ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType, allowReserved: true, allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true });
      break;
    } catch {
      /* try the next */
    }
  }
  const found = [];
  if (ast) {
    visit(ast, (n) => {
      // parent links for the TemplateLiteral case (cheap: only this walk uses them)
      for (const k of Object.keys(n)) {
        const v = n[k];
        if (Array.isArray(v))
          v.forEach((c) => {
            if (c && typeof c.type === 'string') c.parent = n;
          });
        else if (v && typeof v.type === 'string' && k !== 'parent') v.parent = n;
      }
      const hit = classify(n);
      if (hit) found.push({ pos: n.start, message: `ES2015+ syntax: ${hit[0]} — ${hit[1]}` });
    });
  }
  if (!found.length) {
    found.push({
      pos: es5Error && es5Error.pos != null ? es5Error.pos : 0,
      message: `not ES5: ${es5Error ? es5Error.message.replace(/ \(\d+:\d+\)$/, '') : 'parse failed'} — the bundle must be ES5 (tsc target ES5, terser ecma 5)`,
    });
  }
  return found;
}
