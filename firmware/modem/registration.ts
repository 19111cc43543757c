// SIM and network registration, shared by the A76xx and SIM800 drivers (3GPP 27.007 CPIN, CREG,
// CEREG; A76XX AT manual ch. 3-6, docs/modem-facts.md §A.3 and §B).

// The commands, as in the families' command tables (a76xx/commands.ts):
//   AT+CPIN?, AT+CPIN="<pin>"  SIM state, PIN entry: Max Response Time 9000 ms (§6.2.2)
//   AT+CEREG?, AT+CREG?        registration state (§5.2.2, §4.2.1): the engine's 9000 ms
//   AT+CFUN=<fun>              below

import { At, Cmd, answerLine } from '../at/engine';
import { errorText } from '../at/errors';
import { script } from '../at/script';
import type { Next } from '../series';
import { log } from '../log';

/** AT+CFUN=<fun>, 0 radio off, 1 on: the manual's 9 s (A76XX AT manual §3.2.1) with a margin for
 *  the radio switching. A fresh Cmd for a script line each time. */
export function cfun(fun: number): Cmd {
  return { at: 'AT+CFUN=' + fun, ms: 15000 };
}

/** Recovery: the radio off and on again (AT+CFUN=0, =1), which deregisters and registers afresh. */
export function radioReset(at: At, done: (err?: any) => void) {
  script(at, [cfun(0), cfun(1)], done);
}

/** The URC handler for lines that need no action but must not be logged as unexpected: one
 *  function for them all. A handler whose job is over is replaced by it, so that the closure (and
 *  all it holds) is not kept alive after connect. */
export function ignore() {}

/** Registration stat from CREG/CEREG (3GPP 27.007): 1 home, 5 roaming, 6/7 SMS only, 3 denied. */
export function regStat(line: string): number {
  const f = line.substr(line.indexOf(':') + 1).split(',');
  // read form '+CEREG: <n>,<stat>[,…]'; the URC form '+CEREG: <stat>[,<tac>,…]' has a quoted tac
  return parseInt(f.length > 1 && f[1].charAt(0) != '"' ? f[1] : f[0], 10);
}

export function waitSim(at: At, pin: string | undefined, done: Next) {
  let tries = 0;
  let waiting = false; // a re-check is due in a second; +CPIN: READY brings it forward
  function next(err?: string) {
    at.on('+CPIN: READY', ignore);
    done(err);
  }
  function check() {
    waiting = false;
    at.send({
      at: 'AT+CPIN?',
      ms: 9000,
      quiet: true, // "SIM busy/failure" right after boot is routine; real failures are reported below
      cb: function (err, lines) {
        const state = err ? '' : answerLine(lines, '+CPIN: ').substr(7);
        if (state == 'READY') return next();
        if (state == 'SIM PIN') {
          if (!pin) return next('the SIM asks for a PIN: set simPin in the config');
          if (tries++) return next('the SIM still asks for its PIN after simPin was sent: check simPin');
          return at.send({
            at: 'AT+CPIN="' + pin + '"',
            hide: true,
            ms: 9000,
            cb: function (e) {
              if (e) return next(errorText(e));
              setTimeout(check, 500);
            },
          });
        }
        if (state) return next('the SIM is locked (' + state + '): unlock it in a phone');
        // OK without a +CPIN line (lost on the UART) is asked again, as a SIM still starting is
        // +CME ERROR 13/14 right after boot: the SIM is still starting; +CPIN: READY will follow
        if ((!err || err.code == 13 || err.code == 14) && tries++ < 20) {
          waiting = true;
          return setTimeout(function () {
            if (waiting) check();
          }, 1000);
        }
        next(err ? errorText(err) : 'the SIM does not say whether it is ready (AT+CPIN?)');
      },
    });
  }
  at.on('+CPIN: READY', function () {
    if (waiting) check();
  });
  check();
}

/** lte: also ask CEREG (the A76xx is LTE; the SIM800 is GSM only and answers CEREG with ERROR). */
export function waitRegistered(at: At, timeoutS: number, lte: boolean, done: Next) {
  const until = getTime() + timeoutS;
  let bad = ''; // what the last answers said that was not "registered", for the timeout's error
  let timer = 0;
  let checking = false;
  let again = false; // a URC came while a check was running: its answers may predate it
  function check() {
    if (timer) clearTimeout(timer); // Espruino reuses ids: never clear one that has fired
    timer = 0;
    if (checking) {
      again = true;
      return;
    }
    checking = true;
    again = false;
    let eps = 0;
    let cs = 0;
    if (lte)
      at.send({
        at: 'AT+CEREG?',
        cb: function (e, l) {
          if (!e) eps = regStat(answerLine(l, '+CEREG:'));
        },
      });
    at.send({
      at: 'AT+CREG?',
      cb: function (e, l) {
        checking = false;
        if (!e) cs = regStat(answerLine(l, '+CREG:'));
        // LTE data needs CEREG; some SIMs show CREG 6 "SMS only" on LTE while CEREG is 1
        const ok = eps == 1 || eps == 5 ? eps : cs == 1 || cs == 5 ? cs : 0;
        if (ok) {
          log('net: registered, ' + (ok == 5 ? 'roaming' : 'home network'));
          return next();
        }
        if (eps == 3 || cs == 3) bad = 'the network denied registration: check that the SIM is active and allowed on this network';
        else if (cs == 6 || cs == 7) bad = 'registered for SMS only: the SIM has no data service here';
        if (getTime() > until) return next(bad || 'not registered after ' + timeoutS + ' s: check the antenna, coverage and the SIM');
        timer = setTimeout(
          function () {
            timer = 0;
            check();
          },
          again ? 0 : 5000,
        );
      },
    });
  }
  // registration changes arrive as URCs (enabled with AT+CxREG=1): re-check at once, until done
  // (no check is under way or due then: the handlers that are left are ignore)
  function on(fn: (line: string) => void) {
    if (lte) at.on('+CEREG:', fn);
    at.on('+CREG:', fn);
  }
  function next(err?: string) {
    on(ignore);
    done(err);
  }
  on(check);
  check();
}
