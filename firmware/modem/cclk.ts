// The modem's clock line, the same on the A76xx and the SIM800: +CCLK: "yy/MM/dd,hh:mm:ss±zz".

import { At, answerLine } from '../at/engine';
import { log, setUtc } from '../log';

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
  const mo = n(3);
  const d = n(6);
  if (q < 0 || !(year >= 2025 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31)) return 0; // never set (the modem starts at 1980/2000/2004), or garbled
  const zone = parseInt(s.substr(17, 3), 10) || 0;
  const t = daysFromCivil(year, mo, d) * 86400 + n(9) * 3600 + n(12) * 60 + n(15) - zone * 900;
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
