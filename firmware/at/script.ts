// A chat script, as Zephyr's modem_chat runs them: lines sent one after another, each waiting for
// its answer; the first failure stops the script and goes to done with its error text.
//   'AT+CMEE=1'                        a command: OK within the engine's default time
//   { at: 'ATE0', ms: 120000 }         a command with its own times, result URC or data (Cmd)
//   { at: 'AT+CGATT=0', mayFail: 1 }   its failure is routine (cleanup, recovery): not logged,
//                                      and the script goes on whatever it answers
//   function (next) { … }              anything that is not one command (a poll, a choice)
// The runner sets each Cmd's cb, so a script's Cmd objects are made with the script, never shared.

import type { At, Cmd } from './engine';
import { errorText } from './errors';
import type { Step } from '../series';

export type Line = string | Cmd | Step;

export function script(at: At, lines: Line[], done: (err: string | null) => void) {
  let i = 0;
  function next(err?: any) {
    if (err || i == lines.length) return done(err || null);
    const line = lines[i++];
    if (typeof line == 'function') return line(next);
    const c: Cmd = typeof line == 'string' ? { at: line } : line;
    const cb = c.cb;
    if (c.mayFail) c.quiet = true;
    c.cb = function (e, got) {
      if (cb) cb(e, got);
      next(e && !c.mayFail ? errorText(e) : null);
    };
    at.send(c);
  }
  next();
}
