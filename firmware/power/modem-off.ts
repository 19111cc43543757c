// The modem switched off before the ESP32 sleeps, the clean way first: the modem deregisters and
// stores its data itself (A76XX AT manual §3.2.5 AT+CPOF: "The module will store user data and
// deactivate from network, and then shutdown", OK within 9 s; SIM800: AT+CPOWD=1, "NORMAL POWER
// DOWN" and no OK, docs/modem-facts.md §B.1). The shutdown itself then takes about 2 s (SIM800:
// "the UART dies about 2 s later", §B.1; A7670: "then the shutdown takes ~2 s", §A.2), and the
// board's rail must not drop under a modem still shutting down ("never just remove VBAT", §A; the
// T-Call's POWER_ON floats low in deep sleep): so 2.5 s of waiting, then AT is polled until the
// modem no longer answers. A modem that does not take the command, or still answers, goes off by
// PWRKEY (modem/power.ts).
import { board } from '../target';
import type { At } from '../at/engine';
import { log } from '../log';
import { powerDown } from '../modem/power';

const SHUTDOWN_MS = 2500;
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
      setTimeout(function poll() {
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
      }, SHUTDOWN_MS);
    },
  });
}
