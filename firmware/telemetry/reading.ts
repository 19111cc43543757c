// One reading: the sensors' fields (sensors.ts), the cellular signal, uptime and, on boards with a power
// chip, the battery, as compact JSON with a UTC timestamp from network time when the network gave
// it (the A76xx always sets it before the first reading; the SIM800 only if the network sends NITZ).

import { timeKnown } from '../log';

/** Whole-second ISO time: "2026-11-23T11:09:10Z". */
export function isoNow(): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().substr(0, 19) + 'Z';
}

/** Battery 0..100 % and charging 1/0, null where unknown (ip5306.ts). */
export interface Battery {
  pct: number | null;
  chg: number | null;
}

/** n: the reading's number (store/counter.ts): one more than the last, across reboots;
 *  fields: the sensors' values (sensors.ts), in the order they go into the JSON; errors: each
 *  failed sensor's "<name>: <why>", joined into err.
 *  duty, ts: the duty cycle's battery volts and low-battery rule (power/duty.ts), and its
 *  timestamp from the RTC kept through deep sleep (power/clock.ts; null: unknown) */
export function readingJson(
  n: number,
  fields: { [k: string]: any },
  errors: string[],
  dbm: number | null,
  uptimeS: number,
  bat?: Battery,
  duty?: { bv: number | null; low: number },
  ts?: string | null,
): string {
  const r: { [k: string]: any } = {};
  if (__DUTY__) {
    if (ts) r.ts = ts;
  } else if (timeKnown()) r.ts = isoNow();
  for (const k in fields) r[k] = fields[k];
  if (errors.length) r.err = errors.join('; ');
  if (dbm !== null) r.rssi = dbm;
  r.up = Math.floor(uptimeS);
  if (bat) {
    r.bat = bat.pct;
    r.chg = bat.chg;
  }
  if (__DUTY__ && duty) {
    if (duty.bv !== null) r.bv = duty.bv;
    if (duty.low) r.low = duty.low;
  }
  r.n = n;
  return JSON.stringify(r);
}
