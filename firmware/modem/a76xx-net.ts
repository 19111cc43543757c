// A76xx / SIM7670G: from "answers AT" to "registered, with UTC time set".
// Commands and answers: A76XX AT manual ch. 3-6 (modem-facts.md §A.3).

import type { At } from '../at/engine';
import type { DeviceConfig } from '../config';
import { cmd, tolerant } from '../at/step';
import { series, Next } from '../series';
import { waitSim, waitRegistered } from './registration';
import { readModemClock } from './cclk';

export { regStat } from './registration';
export { parseCclk } from './cclk';

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

/** Recovery: the default PDN context down and up again (A76XX AT manual §5.2.4, AT+CGACT). */
export function dataReset(at: At, done: () => void) {
  series([tolerant(at, { at: 'AT+CGACT=0,1', ms: 40000 }), tolerant(at, { at: 'AT+CGACT=1,1', ms: 150000 })], done);
}

/** diagnostics.ts: identity, and the serving cell (A76XX AT manual §2.2, §6.2.1, §4.2) */
export const identQueries = ['AT+SIMCOMATI', 'AT+CICCID'];
export const cellQuery = 'AT+CPSI?';

/** ATE0 … registered with UTC time set. */
export function netUp(at: At, cfg: DeviceConfig, done: (err: string | null) => void) {
  // boot URCs we know and need not act on (A76xx banner, modem-facts.md §A.1); +CGEV is mqttListen's
  const quiet = function () {};
  at.on('PB DONE', quiet);
  at.on('SMS DONE', quiet);
  const steps = [
    cmd(at, { at: 'ATE0' }),
    cmd(at, { at: 'AT+CMEE=1' }),
    function (next: Next) {
      waitSim(at, cfg.simPin, next);
    },
    cmd(at, { at: 'AT+CTZU=1' }),
    cmd(at, { at: 'AT+CEREG=1' }),
    cmd(at, { at: 'AT+CREG=1' }),
  ];
  if (cfg.apn) steps.push(cmd(at, { at: 'AT+CGDCONT=1,"IP","' + cfg.apn + '"' }));
  steps.push(function (next: Next) {
    waitRegistered(at, cfg.registerTimeoutS, true, next);
  });
  steps.push(function (next: Next) {
    syncTime(at, cfg.ntpServer, next);
  });
  series(steps, done);
}
