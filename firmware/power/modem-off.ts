// The modem switched off before the ESP32 sleeps, the clean way first: the modem deregisters and
// stores its data itself (A76XX AT manual §3.2.5 AT+CPOF: "The module will store user data and
// deactivate from network, and then shutdown", OK within 9 s; SIM800: AT+CPOWD=1, "NORMAL POWER
// DOWN" and no OK, docs/modem-facts.md §B.1). Then AT is polled until the modem no longer answers,
// so the board's rail (the T-Call's POWER_ON floats low in deep sleep) never drops under a modem
// still shutting down ("never just remove VBAT", §A). A modem that does not take the command, or
// still answers, goes off by PWRKEY (modem/power.ts).
import { board } from '../target';
import type { At } from '../at/engine';
import { log } from '../log';
import { powerDown } from '../modem/power';

const GONE_MS = 12000;

export function modemOff(at: At, answers: boolean, done: () => void) {
  if (!answers) return powerDown(board, false, done);
  at.send({
    at: __SIM800__ ? 'AT+CPOWD=1' : 'AT+CPOF',
    ms: 9000,
    fin: __SIM800__
      ? function (l: string) {
          return l == 'NORMAL POWER DOWN' ? 1 : 0;
        }
      : undefined,
    cb: function (err) {
      if (err) {
        log('power: the modem did not take the power-off command');
        return powerDown(board, false, done);
      }
      const until = getTime() * 1000 + GONE_MS;
      (function poll() {
        at.send({
          at: 'AT',
          ms: 500,
          quiet: true,
          cb: function (e) {
            if (e) return done(); // no answer: it is off
            if (getTime() * 1000 > until) return powerDown(board, false, done);
            setTimeout(poll, 500);
          },
        });
      })();
    },
  });
}
