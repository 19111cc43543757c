// The modem's clock line, the same on the A76xx and the SIM800: +CCLK: "yy/MM/dd,hh:mm:ss±zz".

import { At, answerLine } from '../at/engine';
import { log, setUtc } from '../log';

/** '+CCLK: "24/08/16,12:04:25+08"' → seconds since 1970 UTC (zone in quarter hours), or 0. */
export function parseCclk(line: string): number {
  const q = line.indexOf('"');
  const s = line.substr(q + 1, 20);
  const n = function (i: number) {
    return parseInt(s.substr(i, 2), 10);
  };
  const y = n(0); // 2000 + y
  const mo = n(3);
  const d = n(6);
  if (q < 0 || !(y >= 25 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31)) return 0; // never set (the modem starts at 1980/2000/2004), or garbled
  // days since 1970-01-01, with Espruino (no Date.UTC): the year counted from March, so that a leap
  // day is its last; 2000 + a is 2024..2099, where every fourth year is a leap year; 2000-03-01 is
  // day 11017, and a month's first day is (153 × months since March + 2) / 5 days after March's
  const a = y - (mo < 3 ? 1 : 0);
  const days = a * 365 + Math.floor(a / 4) + Math.floor((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5) + d + 11016;
  const t = days * 86400 + n(9) * 3600 + n(12) * 60 + n(15) - (parseInt(s.substr(17, 3), 10) || 0) * 900;
  return t > 0 ? t : 0; // NaN (a garbled field) is not > 0
}

/** Reads AT+CCLK? (A76XX AT manual §3.2.10: Max Response Time 9000 ms, the engine's default); a
 *  plausible time sets the RTC (and is logged). cb(true) if it did. */
export function readModemClock(at: At, cb: (ok: boolean) => void) {
  at.send({
    at: 'AT+CCLK?',
    cb: function (err, lines) {
      const utc = err ? 0 : parseCclk(answerLine(lines, '+CCLK:'));
      if (utc) {
        setUtc(utc);
        log('time: ' + new Date(utc * 1000).toISOString());
      }
      cb(utc > 0);
    },
  });
}
