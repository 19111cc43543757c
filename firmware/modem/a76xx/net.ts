// A76xx / SIM7670G: from "answers AT" to "registered, with UTC time set", as a chat script.
// The commands, their times and manual sections: commands.ts (docs/modem-facts.md §A.3).

import { At, answerLine } from '../../at/engine';
import type { DeviceConfig } from '../../config';
import { script } from '../../at/script';
import type { Next } from '../../series';
import { waitSim, waitRegistered, cfun, ignore } from '../registration';
import { readModemClock } from '../cclk';
import { log } from '../../log';
import { echoOff, CMEE, CTZU, CEREG_ON, CREG_ON, CGDCONT_READ, cgdcont, cntpServer, cntp, cgattCycle, SIMCOMATI, CICCID, CPSI } from './commands';

export { regStat } from '../registration';
export { parseCclk } from '../cclk';

/** ATE0 … registered with UTC time set. */
export function netUp(at: At, cfg: DeviceConfig, done: (err: string | null) => void) {
  // boot URCs we know and need not act on (A76xx banner, docs/modem-facts.md §A.1); +CGEV is mqttListen's
  at.on('PB DONE', ignore);
  at.on('SMS DONE', ignore);
  script(
    at,
    [
      echoOff(),
      CMEE,
      function (next: Next) {
        waitSim(at, cfg.simPin, next);
      },
      CTZU,
      CEREG_ON,
      CREG_ON,
      /** On LTE the default bearer (cid 1) comes up with the attach, using the APN stored then
       *  (AUTO_SAVE, §5.2.5), before the firmware has said a word; a new APN written afterwards
       *  counts only from the next attach. So: the stored APN is read, and when it is not the
       *  config's, the radio goes off, the APN is written and the radio comes back on, attaching
       *  with it. Once: it stays stored. No APN in the config: the network's. */
      function (next: Next) {
        const apn = cfg.apn;
        if (!apn) return next();
        at.send({
          at: CGDCONT_READ,
          cb: function (err, lines) {
            // '+CGDCONT: 1,"IP","apn",…', or none ('')
            const stored = (err ? '' : answerLine(lines, '+CGDCONT: 1,')).split('"')[3] || '';
            if (stored.toLowerCase() == apn.toLowerCase()) return next();
            log('net: the modem has APN "' + stored + '" stored; setting "' + apn + '" (radio off and on)');
            script(at, [cfun(0), cgdcont(apn), cfun(1)], next);
          },
        });
      },
      function (next: Next) {
        waitRegistered(at, cfg.registerTimeoutS, true, next);
      },
      // the network's time (NITZ); without it, NTP once
      function (next: Next) {
        let tried = 0;
        function read() {
          readModemClock(at, function (ok) {
            if (ok || tried++) return next(ok ? null : 'the network gave no usable time (NITZ and NTP ' + cfg.ntpServer + ' failed)');
            script(at, [cntpServer(cfg.ntpServer), cntp()], function (e) {
              if (e) return next('NTP time sync failed: ' + e);
              read();
            });
          });
        }
        read();
      },
    ],
    done,
  );
}

/** Recovery: detach from the packet domain and attach again (AT+CGATT, §5.2.3), which takes the
 *  default bearer down and brings it up afresh. Not AT+CGACT on cid 1: "In LTE mode, it's
 *  prohibited to active or deactive default bearer(cid 1)" (§5.2.4). */
export function dataReset(at: At, done: () => void) {
  script(at, cgattCycle(), done);
}

/** diagnostics.ts: identity, and the serving cell */
export const identQueries = [SIMCOMATI, CICCID];
export const cellQuery = CPSI;
