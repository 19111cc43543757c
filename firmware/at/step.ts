// One AT command as a step of a series(): next(null) on OK, next(error text) otherwise; or, with
// tolerant(), a command that may fail without stopping the sequence (cleanup, recovery).

import type { At, Cmd } from './engine';
import type { Next } from '../series';
import { errorText } from './errors';

export function cmd(at: At, c: Cmd): (next: Next) => void {
  return function (next) {
    const cb = c.cb;
    c.cb = function (err, lines) {
      if (cb) cb(err, lines);
      next(err ? errorText(err) : null);
    };
    at.send(c);
  };
}

/** A command whose failure is routine (cleanup, "already started", recovery): not logged, and the
 *  sequence goes on whatever it answers. */
export function tolerant(at: At, c: Cmd): (next: Next) => void {
  return function (next) {
    c.quiet = true;
    c.cb = function () {
      next();
    };
    at.send(c);
  };
}
