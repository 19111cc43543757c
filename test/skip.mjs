// node:test's skips under mocha: the reason stays in the output (node:test printed
// "title # reason"), as the title of the pending test.
import { it } from 'mocha';

/** node:test's test(title, { skip: reason }, fn): pending, its title saying why, when reason is set; else it(title, fn) */
export function itUnless(reason, title, fn) {
  if (!reason) return it(title, fn);
  return it.skip(typeof reason === 'string' ? `${title} # ${reason}` : title, fn);
}

/** node:test's t.skip(reason) inside a running test: `ctx` is the test's `this` */
export function skipNow(ctx, reason) {
  if (reason) ctx.test.title += ` # ${reason}`;
  ctx.skip();
}
