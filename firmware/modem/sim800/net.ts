// SIM800: from "answers AT" (power.ts polls it through autobaud) to "GPRS up, socket stack ready",
// as one chat script in the order of the manual's TCP/IP flow (SIM800 AT manual ch. 8;
// docs/modem-facts.md §B.2). The commands, their times and sources: commands.ts.
//
//   AT+IPR? / AT+CLTS?   a factory SIM800 is in autobaud (prints no boot banner) and gives no
//                        network time; both are fixed once with AT+IPR=115200, AT+CLTS=1, AT&W
//   CIPSHUT … CIFSR      multi-link, quick-send, manual-receive TCP (what socket.ts expects)
//   CCLK?                network time (NITZ) when the network sends it; else readings carry
//                        uptime only, and *PSUTTZ later sets the clock
//
// RAM: nothing made here outlives netUp but the *PSUTTZ handler (clock() makes it, outside
// netUp's scope); the SIM and registration waits' handlers, which hold the script, are replaced
// by a no-op when it is done (they do nothing once their wait is over).

import type { At } from '../../at/engine';
import { answerLine } from '../../at/engine';
import type { DeviceConfig } from '../../config';
import { script } from '../../at/script';
import type { Next } from '../../series';
import { log, timeKnown } from '../../log';
import { waitSim, waitRegistered, ignore } from '../registration';
import { readModemClock } from '../cclk';
import {
  ECHO_OFF,
  BAUD,
  IPR_READ,
  IPR_SET,
  CLTS_READ,
  CLTS_ON,
  SAVE_PROFILE,
  CMEE,
  CREG_URCS,
  IDENT,
  cipShut,
  CIPMUX,
  CIPQSEND,
  CIPRXGET_MANUAL,
  cstt,
  ciicr,
  cifsr,
} from './commands';

/** Reads the modem's clock (then next), and again whenever *PSUTTZ says the network sent the
 *  time, until it is known. */
function clock(at: At, next?: Next) {
  at.on('*PSUTTZ:', function () {
    if (!timeKnown()) clock(at);
  });
  if (next && timeKnown()) return next();
  readModemClock(at, function (ok) {
    if (!ok) log('time: the network has not given the time yet; readings carry uptime only until it does');
    if (next) next();
  });
}

/** Recovery: every link and the PDP context dropped; netUp brings them up again. */
export function dataReset(at: At, done: () => void) {
  script(at, [cipShut(1)], done);
}

/** diagnostics.ts: identity, and the serving cell (none on the SIM800) */
export const identQueries = IDENT;
export const cellQuery = '';

export function netUp(at: At, cfg: DeviceConfig, done: (err: string | null) => void) {
  // boot, network-time and state URCs we know and need not act on (docs/modem-facts.md §B.1);
  // NITZ (*PSUTTZ) before the clock step is covered by that step's own read
  const known = ['+CFUN:', 'Call Ready', 'SMS Ready', 'DST:', '+CTZV:', '*PSNWID:', '+CIEV:', '*PSUTTZ:'];
  for (let i = 0; i < known.length; i++) at.on(known[i], ignore);
  let ipr = -1;
  let clts = -1;
  const num = function (l: string[], prefix: string) {
    const line = answerLine(l, prefix);
    return line ? parseInt(line.substr(prefix.length), 10) : -1;
  };
  script(
    at,
    [
      ECHO_OFF,
      // baud rate and network time, fixed once: AT&W keeps both across power cycles
      function (next: Next) {
        at.send({
          at: IPR_READ,
          cb: function (e, l) {
            if (!e) ipr = num(l, '+IPR:');
          },
        });
        at.send({
          at: CLTS_READ,
          cb: function (e, l) {
            if (!e) clts = num(l, '+CLTS:');
            if (ipr == BAUD && clts == 1) return next();
            log('modem: saving baud ' + BAUD + ' and network time in its profile (was ' + ipr + ', ' + clts + ')');
            script(at, [IPR_SET, CLTS_ON, SAVE_PROFILE], next);
          },
        });
      },
      CMEE,
      function (next: Next) {
        waitSim(at, cfg.simPin, next);
      },
      CREG_URCS,
      function (next: Next) {
        waitRegistered(at, cfg.registerTimeoutS, false, next);
      },
      // a fresh stack: links and the PDP context from before an ESP32 reboot are dropped
      cipShut(),
      CIPMUX,
      CIPQSEND,
      CIPRXGET_MANUAL,
      cstt(cfg.apn),
      function (next: Next) {
        log('net: bringing up GPRS (APN "' + cfg.apn + '")');
        next();
      },
      ciicr(),
      cifsr(function (err, lines) {
        if (!err) log('net: IP ' + lines[lines.length - 1]);
      }),
      function (next: Next) {
        clock(at, next);
      },
    ],
    function (err) {
      if (err && err.indexOf('AT+CIICR') == 0) err += ': check the APN (' + cfg.apn + ') and that the SIM has a data plan';
      done(err);
    },
  );
}
