// GNSS position for readings (SIM7670G on the T-SIM7670G-S3; A76xx models with GNSS), by AT
// command: docs/modem-facts.md §A.9, A76XX AT Command Manual V1.09 ch. 24, LilyGO's TinyGSM fork
// (TinyGsmClientSIM7672.h / TinyGsmClientA76xx.h enableGPSImpl). Only in bundles whose config
// has sensors.gnss (__GNSS__).
//
// Power, once per modem boot, at the first fix asked for: the board's active antenna hangs on a
// modem GPIO (config.gnss.ant, from the board file: AT+CGDRT=<gpio>,1 then AT+CGSETV=<gpio>,1,
// A76-ATM §11.2.12-13), then AT+CGNSSPWR=1 (§24.2.1). SIM767X firmware answers a plain OK; the
// A76xx (ASR) firmware answers OK and "+CGNSSPWR: READY!" about 9 s later, and GNSS commands are
// "valid after the URC reports READY!" (§24.2.12). A modem that restarts has GNSS off again: its
// AT+CGNSSINFO then answers ERROR, and the next poll powers it again.
//
// A fix: AT+CGNSSINFO every POLL_MS until a line with a position or the time budget ends.
// What differs per board and modem comes in config.gnss (GnssConfig, from the board file by the build).

import type { At } from '../../at/engine';
import type { GnssConfig } from '../../config';
import { log, uptime } from '../../log';

export interface Position {
  lat: number;
  lon: number;
  alt: number | null;
}

const POLL_MS = 3000;
/** A76xx: how long to wait for READY! before polling anyway (the manual: about 9 s; LilyGO waits 30) */
const READY_S = 15;

/** 0 off (as after a modem restart), 1 powered and waiting for READY!, 2 on */
let on = 0;
let since = 0;
let fixing = false;

/** 'dd.dddd' (the manual's Defined Values) or 'ddmm.mmmm' (its examples and the GNSS application
 *  note §5.3): more than `d` digits before the point = degrees and minutes. NaN if not a number. */
function degrees(s: string, d: number): number {
  if (!/^\d+$|^\d+\.\d+$/.test(s)) return NaN;
  const p = s.indexOf('.');
  const whole = p < 0 ? s.length : p;
  if (whole <= d) return parseFloat(s);
  return parseInt(s.substr(0, whole - 2), 10) + parseFloat(s.substr(whole - 2)) / 60;
}

/**
 * '+CGNSSINFO: …' → the position, null for "no fix" (first field empty, whatever the number of
 * fields: the capture shows 9, the manuals 16 and 18), undefined when the line does not parse.
 * The field order differs between firmwares (SIM767X: mode,GPS,GLONASS,GALILEO,BEIDOU,lat,…;
 * A76xx: mode,GPS,GLONASS,BEIDOU,lat,… or mode,GPS,BEIDOU,GLONASS,GALILEO,lat,…; domestic:
 * mode,GPS,BEIDOU,lat,…): the latitude is the field before the first N/S whose field + 2 is E/W,
 * then lon, E/W, date, time, alt in that order in all of them.
 */
export function parseGnss(line: string): Position | null | undefined {
  const f = line.substr(line.indexOf(':') + 1).split(',');
  f[0] = f[0].trim();
  if (f[0] == '') return null;
  for (let i = 1; i + 2 < f.length; i++) {
    const ns = f[i];
    const ew = f[i + 2];
    if ((ns == 'N' || ns == 'S') && (ew == 'E' || ew == 'W')) {
      const lat = degrees(f[i - 1], 2);
      const lon = degrees(f[i + 1], 3);
      if (!(lat <= 90 && lon <= 180)) return undefined; // NaN too
      const alt = parseFloat(f[i + 5]);
      return { lat: ns == 'S' ? -lat : lat, lon: ew == 'W' ? -lon : lon, alt: isNaN(alt) ? null : alt };
    }
  }
  return undefined;
}

function power(at: At, g: GnssConfig, cb: (err: string | null) => void) {
  const ant = g.ant;
  at.on('+CGNSSPWR: READY!', function () {
    if (on == 1) on = 2;
  });
  if (ant !== undefined) {
    at.send({ at: 'AT+CGDRT=' + ant + ',1' });
    at.send({ at: 'AT+CGSETV=' + ant + ',1' });
  }
  at.send({
    at: 'AT+CGNSSPWR=1',
    cb: function (err) {
      if (err) return cb('gnss: AT+CGNSSPWR=1 refused (' + err.kind + ')');
      on = g.ready ? 1 : 2;
      since = uptime();
      log('gnss: powered');
      cb(null);
    },
  });
}

/** A position within budgetMs, or the reason there is none ("gnss: no fix in <s> s"). */
export function gnssFix(at: At, g: GnssConfig, budgetMs: number, done: (err: string | null, pos: Position | null) => void) {
  if (fixing) return done('gnss: a fix is under way', null);
  fixing = true;
  const end = uptime() + budgetMs / 1000;
  const finish = function (err: string | null, pos: Position | null) {
    fixing = false;
    done(err, pos);
  };
  const next = function () {
    const left = end - uptime();
    if (left <= 0) return finish('gnss: no fix in ' + Math.round(budgetMs / 1000) + ' s', null);
    setTimeout(step, Math.min(POLL_MS, left * 1000));
  };
  const step = function () {
    if (!on)
      return power(at, g, function (err) {
        if (err) finish(err, null);
        else next();
      });
    if (on == 1 && uptime() - since < READY_S) return next();
    at.send({
      at: 'AT+CGNSSINFO',
      quiet: true,
      cb: function (err, lines) {
        if (err)
          on = 0; // GNSS is off: the modem restarted
        else
          for (let i = 0; i < lines.length; i++) {
            if (lines[i].indexOf('+CGNSSINFO:') != 0) continue;
            const p = parseGnss(lines[i]);
            if (p) return finish(null, p);
            if (p === undefined) log('gnss: line skipped, does not parse: ' + JSON.stringify(lines[i]));
          }
        next();
      },
    });
  };
  step();
}

function round(v: number, places: number): number {
  const f = Math.pow(10, places);
  return Math.round(v * f) / f;
}

/**
 * For telemetry.ts takeReading: the fix while the modem answers (none while it is off: a reading
 * in a duty-cycle sleep), then go(more), more(json) adding lat, lon (6 decimals), alt (m, 1
 * decimal) or the reason to the reading's JSON.
 */
export function gnssReading(at: At, g: GnssConfig, modemUp: boolean, go: (more: (json: string) => string) => void) {
  const more = function (err: string | null, pos: Position | null) {
    return function (json: string) {
      const r = JSON.parse(json);
      if (pos) {
        r.lat = round(pos.lat, 6);
        r.lon = round(pos.lon, 6);
        if (pos.alt !== null) r.alt = round(pos.alt, 1);
      }
      if (err) r.err = r.err ? r.err + '; ' + err : err;
      return JSON.stringify(r);
    };
  };
  // duty cycle: the modem is off between uploads; the upload's own reading has the position
  if (!modemUp) return go(more(__DUTY__ ? null : 'gnss: modem off', null));
  gnssFix(at, g, g.fixTimeoutS * 1000, function (err, pos) {
    go(more(err, pos));
  });
}
