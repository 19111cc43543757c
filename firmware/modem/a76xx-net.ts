// A76xx / SIM7670G: from "answers AT" to "registered, with UTC time set".
// Commands and answers: A76XX AT manual ch. 3-6 (modem-facts.md §A.3).

import type { At, Cmd } from '../at/engine';
import type { DeviceConfig } from '../config';
import { errorText } from '../at/errors';
import { series, Next } from '../series';
import { log, setUtc } from '../log';

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

/** Registration stat from CREG/CEREG (3GPP 27.007): 1 home, 5 roaming, 6/7 SMS only, 3 denied. */
export function regStat(line: string): number {
  const f = line.substr(line.indexOf(':') + 1).split(',');
  // read form '+CEREG: <n>,<stat>[,…]'; the URC form '+CEREG: <stat>[,<tac>,…]' has a quoted tac
  return parseInt(f.length > 1 && f[1].charAt(0) != '"' ? f[1] : f[0], 10);
}

function waitSim(at: At, pin: string | undefined, next: Next) {
  let tries = 0;
  function check() {
    at.send({
      at: 'AT+CPIN?',
      ms: 9000,
      quiet: true, // "SIM busy/failure" right after boot is routine; real failures are reported below
      cb: function (err, lines) {
        const state = lines.length ? lines[0].substr(7) : '';
        if (!err && state == 'READY') return next();
        if (!err && state == 'SIM PIN') {
          if (!pin) return next('the SIM asks for a PIN: set simPin in the config');
          if (tries++) return next('the SIM still asks for its PIN after simPin was sent: check simPin');
          return at.send({ at: 'AT+CPIN="' + pin + '"', hide: true, ms: 9000, cb: function (e) {
            if (e) return next(errorText(e));
            setTimeout(check, 500);
          } });
        }
        if (!err) return next('the SIM is locked (' + state + '): unlock it in a phone');
        // +CME ERROR 13/14 right after boot: the SIM is still starting; +CPIN: READY will follow
        if ((err.code == 13 || err.code == 14) && tries++ < 20) return simReadyOrRetry(check);
        next(errorText(err));
      },
    });
  }
  let waiting: (() => void) | null = null;
  function simReadyOrRetry(fn: () => void) {
    waiting = fn;
    setTimeout(function () {
      if (waiting == fn) {
        waiting = null;
        fn();
      }
    }, 1000);
  }
  at.on('+CPIN: READY', function () {
    const fn = waiting;
    waiting = null;
    if (fn) fn();
  });
  check();
}

function describeReg(stat: number): string {
  return stat == 5 ? 'roaming' : stat == 1 ? 'home network' : 'stat ' + stat;
}

function waitRegistered(at: At, timeoutS: number, next: Next) {
  const until = getTime() + timeoutS;
  let lastBad = 0;
  let timer = 0;
  let done = false;
  let checking = false;
  let again = false; // a URC came while a check was running: its answers may predate it
  function check() {
    if (timer) clearTimeout(timer); // Espruino reuses ids: never clear one that has fired
    timer = 0;
    if (done) return;
    if (checking) {
      again = true;
      return;
    }
    checking = true;
    again = false;
    let eps = 0;
    let cs = 0;
    at.send({ at: 'AT+CEREG?', cb: function (e, l) { if (!e && l.length) eps = regStat(l[l.length - 1]); } });
    at.send({
      at: 'AT+CREG?',
      cb: function (e, l) {
        checking = false;
        if (!e && l.length) cs = regStat(l[l.length - 1]);
        // LTE data needs CEREG; some SIMs show CREG 6 "SMS only" on LTE while CEREG is 1
        const ok = eps == 1 || eps == 5 ? eps : cs == 1 || cs == 5 ? cs : 0;
        if (ok) {
          done = true;
          log('net: registered, ' + describeReg(ok));
          return next();
        }
        if (eps == 3 || cs == 3) lastBad = 3;
        else if (cs == 6 || cs == 7) lastBad = 6;
        if (getTime() > until) {
          done = true;
          return next(
            lastBad == 3
              ? 'the network denied registration: check that the SIM is active and allowed on this network'
              : lastBad == 6
                ? 'registered for SMS only: the SIM has no data service here'
                : 'not registered after ' + timeoutS + ' s: check the antenna, coverage and the SIM',
          );
        }
        timer = setTimeout(function () {
          timer = 0;
          check();
        }, again ? 0 : 5000);
      },
    });
  }
  // registration changes arrive as URCs (enabled with AT+CxREG=1): re-check at once
  at.on('+CEREG:', check);
  at.on('+CREG:', check);
  check();
}

/** Days since 1970-01-01 for a civil date (Espruino has no Date.UTC). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** '+CCLK: "24/08/16,12:04:25+08"' → seconds since 1970 UTC (zone in quarter hours), or 0. */
export function parseCclk(line: string): number {
  const q = line.indexOf('"');
  const s = line.substr(q + 1, 20);
  const n = function (i: number) {
    return parseInt(s.substr(i, 2), 10);
  };
  const year = 2000 + n(0);
  if (q < 0 || year < 2025) return 0; // never set (the modem starts at 1980/2000), or plainly wrong
  const zone = parseInt(s.substr(17, 3), 10) || 0;
  return (daysFromCivil(year, n(3), n(6)) * 86400 + n(9) * 3600 + n(12) * 60 + n(15)) - zone * 900;
}

function syncTime(at: At, ntp: string, next: Next) {
  let tried = false;
  function read() {
    at.send({
      at: 'AT+CCLK?',
      cb: function (err, lines) {
        const utc = !err && lines.length ? parseCclk(lines[0]) : 0;
        if (utc) {
          setUtc(utc);
          log('time: ' + new Date(utc * 1000).toISOString());
          return next();
        }
        if (tried) return next('the network gave no usable time (NITZ and NTP ' + ntp + ' failed)');
        tried = true;
        // timezone argument 0: CNTP's default is 32 quarter hours, i.e. UTC+8
        series([cmd(at, { at: 'AT+CNTP="' + ntp + '",0' }), cmd(at, { at: 'AT+CNTP', done: '+CNTP: ', doneMs: 65000 })], function (e) {
          if (e) return next('NTP time sync failed: ' + e);
          read();
        });
      },
    });
  }
  read();
}

/** ATE0 … registered with UTC time set. */
export function netUp(at: At, cfg: DeviceConfig, done: (err: string | null) => void) {
  // boot and bearer URCs we know and need not act on (A76xx banner, modem-facts.md §A.1)
  const quiet = function () {};
  at.on('+CGEV:', quiet);
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
    waitRegistered(at, cfg.registerTimeoutS, next);
  });
  steps.push(function (next: Next) {
    syncTime(at, cfg.ntpServer, next);
  });
  series(steps, done);
}
