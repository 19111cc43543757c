// A76xx / SIM7670G: from "answers AT" to "registered, with UTC time set".
// Commands and answers: A76XX AT manual ch. 3-6 (docs/modem-facts.md §A.3).

import { At, answerLine } from '../../at/engine';
import type { DeviceConfig } from '../../config';
import { cmd, tolerant } from '../../at/step';
import { series, Next } from '../../series';
import { waitSim, waitRegistered, cfun } from '../registration';
import { readModemClock } from '../cclk';
import { log } from '../../log';

export { regStat } from '../registration';
export { parseCclk } from '../cclk';

function syncTime(at: At, ntp: string, next: Next) {
  let tried = false;
  function read() {
    readModemClock(at, function (ok) {
      if (ok) return next();
      if (tried) return next('the network gave no usable time (NITZ and NTP ' + ntp + ' failed)');
      tried = true;
      // timezone argument 0: CNTP's default is 32 quarter hours, i.e. UTC+8
      series([cmd(at, { at: 'AT+CNTP="' + ntp + '",0' }), cmd(at, { at: 'AT+CNTP', done: '+CNTP: ', doneMs: 65000 })], function (e) {
        if (e) return next('NTP time sync failed: ' + e);
        read();
      });
    });
  }
  read();
}

/** Recovery: detach from the packet domain and attach again (AT+CGATT, A76XX AT manual §5.2.3,
 *  9 s each), which takes the default bearer down and brings it up afresh. Not AT+CGACT on cid 1:
 *  "In LTE mode, it's prohibited to active or deactive default bearer(cid 1)" (§5.2.4). */
export function dataReset(at: At, done: () => void) {
  series([tolerant(at, { at: 'AT+CGATT=0' }), tolerant(at, { at: 'AT+CGATT=1' })], done);
}

/** The APN the modem has stored for cid 1 ('+CGDCONT: 1,"IP","apn",…'), or null if it says none. */
function storedApn(lines: string[]): string | null {
  const f = answerLine(lines, '+CGDCONT: 1,').split('"');
  return f.length >= 4 ? f[3] : null;
}

/** On LTE the default bearer (cid 1) comes up with the attach, using the APN stored then (AUTO_SAVE,
 *  §5.2.5), before the firmware has said a word; a new APN written afterwards counts only from the
 *  next attach. So: the stored APN is read, and when it is not the config's, the radio goes off,
 *  the APN is written and the radio comes back on, attaching with it. Once: it stays stored. */
function setApn(at: At, apn: string, next: Next) {
  at.send({
    at: 'AT+CGDCONT?',
    cb: function (err, lines) {
      const stored = err ? null : storedApn(lines);
      if (stored !== null && stored.toLowerCase() == apn.toLowerCase()) return next();
      log('net: the modem has APN "' + stored + '" stored; setting "' + apn + '" (radio off and on)');
      series([
        cfun(at, 0),
        cmd(at, { at: 'AT+CGDCONT=1,"IP","' + apn + '"' }),
        cfun(at, 1),
      ], next);
    },
  });
}

/** diagnostics.ts: identity, and the serving cell (A76XX AT manual §2.2, §6.2.1, §4.2) */
export const identQueries = ['AT+SIMCOMATI', 'AT+CICCID'];
export const cellQuery = 'AT+CPSI?';

/** ATE0 … registered with UTC time set. */
export function netUp(at: At, cfg: DeviceConfig, done: (err: string | null) => void) {
  // boot URCs we know and need not act on (A76xx banner, docs/modem-facts.md §A.1); +CGEV is mqttListen's
  const quiet = function () {};
  at.on('PB DONE', quiet);
  at.on('SMS DONE', quiet);
  const steps = [
    cmd(at, { at: 'ATE0', ms: 120000 }), // max response 120 s (A76XX AT manual §2.2.8)
    cmd(at, { at: 'AT+CMEE=1' }),
    function (next: Next) {
      waitSim(at, cfg.simPin, next);
    },
    cmd(at, { at: 'AT+CTZU=1' }),
    cmd(at, { at: 'AT+CEREG=1' }),
    cmd(at, { at: 'AT+CREG=1' }),
  ];
  if (cfg.apn) {
    steps.push(function (next: Next) {
      setApn(at, cfg.apn, next);
    });
  }
  steps.push(function (next: Next) {
    waitRegistered(at, cfg.registerTimeoutS, true, next);
  });
  steps.push(function (next: Next) {
    syncTime(at, cfg.ntpServer, next);
  });
  series(steps, done);
}
