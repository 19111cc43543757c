// One AT command as a step of a series(): next(null) on OK, next(error text) otherwise.

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
